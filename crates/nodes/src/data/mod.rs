//! Data-format nodes: Date & Time, Crypto, XML, HTML (and the legacy HTML Extract), Markdown.

mod crypto;
mod date_time;
mod html;
mod markdown;
mod xml;

use sluice_engine::NodeSpec;

pub fn specs() -> Vec<NodeSpec> {
    vec![
        date_time::SPEC,
        crypto::SPEC,
        xml::SPEC,
        html::SPEC,
        html::EXTRACT_SPEC,
        markdown::SPEC,
    ]
}
