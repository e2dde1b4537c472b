//! Routing and control flow: IF, Filter, Switch, Merge, Loop Over Items, Compare Datasets, Wait,
//! Stop and Error.

mod compare_datasets;
pub(crate) mod conditions;
mod filter;
mod if_node;
mod merge;
mod split_in_batches;
mod stop_and_error;
mod switch;
mod wait;

use sluice_engine::NodeSpec;

pub fn specs() -> Vec<NodeSpec> {
    vec![
        if_node::SPEC,
        filter::SPEC,
        switch::SPEC,
        stop_and_error::SPEC,
        wait::SPEC,
        merge::SPEC,
        split_in_batches::SPEC,
        compare_datasets::SPEC,
    ]
}
