//! Item-list transforms: Edit Fields (Set), Split Out, Aggregate, Limit, Sort, Remove Duplicates,
//! Summarize, Rename Keys, Item Lists.

use sluice_engine::NodeSpec;

pub fn specs() -> Vec<NodeSpec> {
    vec![]
}
