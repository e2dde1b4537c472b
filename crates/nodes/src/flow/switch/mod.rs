//! Switch (`n8n-nodes-base.switch`): routes each item to one (or, with v3's
//! `allMatchingOutputs`, several) of its outputs, by rules or by an expression giving the
//! output index. v1/v2 compare one `value1` with each rule's `value2` (legacy operations);
//! v3–3.4 give each rule a filter. Items no rule matches go to the fallback output, if any.
//! Under continueOnFail an item that fails to route becomes an error item on output 0.

mod config;

use crate::flow::conditions::timezone;
use config::{as_index, Config, Routing};
use sluice_engine::{
    ExecuteContext, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_expr::json_js::to_js_string;
use sluice_model::{Item, NodeDef};
use smallvec::{smallvec, SmallVec};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.switch",
    versions: &[1.0, 2.0, 3.0, 3.1, 3.2, 3.3, 3.4],
    kind: NodeKind::Regular,
    factory: build,
};

struct Switch {
    config: Config,
}

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Switch {
        config: config::parse(def, params)?,
    }))
}

/// The outputs one item goes to.
type Targets = SmallVec<[usize; 1]>;

impl Switch {
    fn route(&self, ctx: &ExecuteContext<'_>, item_index: usize) -> Result<Targets, NodeError> {
        match &self.config.routing {
            Routing::Expression { output } => {
                let value = ctx.resolve(output, item_index)?;
                match as_index(&value) {
                    Some(n) if n < self.config.outputs => Ok(smallvec![n]),
                    _ => Err(NodeError::new(format!(
                        "The output {} is not allowed. It has to be between 0 and {}!",
                        to_js_string(&value),
                        self.config.outputs.saturating_sub(1)
                    ))
                    .with_parameter("output")),
                }
            }
            Routing::Legacy {
                data_type,
                value1,
                rules,
                fallback,
            } => {
                let tz = timezone(ctx);
                let value1 = ctx.resolve(value1, item_index)?;
                for (i, rule) in rules.iter().enumerate() {
                    let value2 = ctx.resolve(&rule.value2, item_index)?;
                    let matched =
                        rule.op
                            .compare(*data_type, &value1, &value2, tz)
                            .map_err(|m| {
                                NodeError::new(m).with_parameter(format!("rules.rules[{i}]"))
                            })?;
                    if matched {
                        return Ok(smallvec![rule.output]);
                    }
                }
                Ok(fallback.iter().copied().collect())
            }
            Routing::Rules {
                rules,
                fallback,
                all_matching,
            } => {
                let mut targets = Targets::new();
                for (i, rule) in rules.iter().enumerate() {
                    if rule.evaluate(ctx, item_index)? {
                        targets.push(i);
                        if !all_matching {
                            break;
                        }
                    }
                }
                if targets.is_empty() {
                    targets.extend(fallback.iter().copied());
                }
                Ok(targets)
            }
        }
    }
}

#[async_trait::async_trait]
impl Node for Switch {
    fn item_wise(&self) -> ItemWise {
        ItemWise::Yes
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let mut outputs: Vec<Vec<Item>> = vec![Vec::new(); self.config.outputs.max(1)];
        for (i, item) in ctx.main_input().iter().enumerate() {
            match self.route(ctx, i) {
                Ok(targets) => {
                    for target in targets {
                        outputs[target].push(item.clone());
                    }
                }
                Err(e) if ctx.continue_on_fail() => outputs[0].push(ctx.error_item(&e, i)),
                Err(e) => return Err(e.with_item(i)),
            }
        }
        Ok(outputs)
    }

    fn outputs(&self) -> usize {
        self.config.outputs
    }
}
