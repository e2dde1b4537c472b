//! Merge, `n8n-nodes-base.merge` v1, v2, v2.1 and v3–3.2: joins the items of several inputs.
//! v1 has its legacy modes (append, key matches, by index/key, multiplex, pass-through, wait);
//! v2+ appends, combines (by matching fields, by position, all combinations) or chooses a
//! branch; v3 takes 2–10 inputs. SQL mode (v3 `combineBySql`) is refused at build time.
//!
//! The engine runs a waiting Merge with partial inputs once the rest of the graph is idle;
//! [`Node::required_inputs`] says how many it needs (choose branch and wait: inputs 1 and 2).

mod clash;
mod combine;
mod config;
mod legacy;

use config::{MergeConfig, Parsed};
use sluice_engine::{
    ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param, RequiredInputs,
};
use sluice_model::{Item, NodeDef};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.merge",
    versions: &[1.0, 2.0, 2.1, 3.0, 3.1, 3.2],
    kind: NodeKind::Regular,
    factory: build,
};

struct Merge {
    parsed: Parsed,
}

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Merge {
        parsed: config::parse(def.version(), params)?,
    }))
}

/// One empty item paired to every item of `inputs` (choose branch "empty", v1 "wait").
fn empty_item(inputs: &[&[Item]]) -> Item {
    Item {
        paired_item: inputs
            .iter()
            .flat_map(|items| items.iter().flat_map(|item| item.paired_item.iter()))
            .collect(),
        ..Item::default()
    }
}

#[async_trait::async_trait]
impl Node for Merge {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let count = self.parsed.inputs;
        let inputs: Vec<&[Item]> = (0..count).map(|i| ctx.input(i)).collect();
        let (in1, in2) = (inputs[0], inputs[1]);
        let empty_inputs = self.parsed.empty_inputs;
        let items = match &self.parsed.config {
            MergeConfig::Legacy(mode) => mode.run(in1, in2),
            MergeConfig::Append => inputs.concat(),
            MergeConfig::ChooseBranch(Some(input)) => ctx.input(*input).to_vec(),
            MergeConfig::ChooseBranch(None) => vec![empty_item(&inputs)],
            MergeConfig::ByFields(by_fields) => by_fields.run(empty_inputs, in1, in2),
            MergeConfig::ByPosition {
                clash,
                include_unpaired,
            } => combine::pass_other(empty_inputs, in1, in2)
                .unwrap_or_else(|| combine::by_position(clash, *include_unpaired, &inputs)),
            MergeConfig::All { clash } => combine::pass_other(empty_inputs, in1, in2)
                .unwrap_or_else(|| combine::all(clash, in1, in2)),
        };
        Ok(vec![items])
    }

    fn inputs(&self) -> usize {
        self.parsed.inputs
    }

    fn required_inputs(&self) -> RequiredInputs {
        match self.parsed.config {
            MergeConfig::ChooseBranch(_) | MergeConfig::Legacy(config::Legacy::Wait) => {
                RequiredInputs::These(vec![0, 1])
            }
            _ => RequiredInputs::Count(1),
        }
    }
}
