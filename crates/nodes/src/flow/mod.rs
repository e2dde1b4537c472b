//! Routing and control flow: IF, Filter, Switch, Merge, Loop Over Items, Compare Datasets, Wait,
//! Stop and Error.

use sluice_engine::NodeSpec;

pub fn specs() -> Vec<NodeSpec> {
    vec![]
}
