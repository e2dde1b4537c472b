//! Data-format nodes: Date & Time, Crypto, XML, HTML, Markdown, Read Binary Files.

use sluice_engine::NodeSpec;

pub fn specs() -> Vec<NodeSpec> {
    vec![]
}
