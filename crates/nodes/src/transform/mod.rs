//! Item-list transforms: Edit Fields (Set), Split Out, Aggregate, Limit, Sort, Remove Duplicates,
//! Summarize, Rename Keys, Item Lists.

pub(crate) mod set;

mod aggregate;
mod item_lists;
mod limit;
mod remove_duplicates;
mod rename_keys;
mod sort;
mod split_out;
mod summarize;

use sluice_engine::NodeSpec;

pub fn specs() -> Vec<NodeSpec> {
    vec![
        set::SPEC,
        split_out::SPEC,
        aggregate::SPEC,
        limit::SPEC,
        sort::SPEC,
        remove_duplicates::SPEC,
        summarize::SPEC,
        rename_keys::SPEC,
        item_lists::SPEC,
    ]
}
