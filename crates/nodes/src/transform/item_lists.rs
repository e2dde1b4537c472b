//! Item Lists (`itemLists` v1–3.1): n8n's older all-in-one list node. Each operation is built by
//! the standalone node that replaced it (Split Out, Aggregate, Limit, Remove Duplicates, Sort,
//! Summarize), with the behaviour of the Item Lists version at hand.

use crate::transform::{aggregate, limit, remove_duplicates, sort, split_out, summarize};
use crate::util::params::unsupported;
use sluice_engine::{Node, NodeError, NodeKind, NodeSpec, Param};
use sluice_model::NodeDef;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.itemLists",
    versions: &[1.0, 2.0, 2.1, 2.2, 3.0, 3.1],
    kind: NodeKind::Regular,
    factory: build,
};

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let version = def.version();
    let operation = match params.at("operation") {
        Param::Literal(sluice_model::Value::Null) => "splitOutItems",
        op => op.literal_str().ok_or_else(|| {
            NodeError::new("the operation must be fixed, not an expression")
                .with_parameter("operation")
        })?,
    };
    match operation {
        "splitOutItems" => split_out::node(def, params, split_out::Compat::for_item_lists(version)),
        "aggregateItems" | "concatenateItems" => aggregate::node(def, params, version < 2.1),
        "limit" => limit::node(def, params),
        "removeDuplicates" => remove_duplicates::node(def, params, false),
        "sort" => sort::node(def, params),
        "summarize" => summarize::node(
            def,
            params,
            summarize::Compat {
                missing_is_error: version < 2.1,
                typed_groups: false,
            },
        ),
        other => Err(unsupported("operation", other)),
    }
}
