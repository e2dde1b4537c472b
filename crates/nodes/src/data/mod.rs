//! Data-format nodes: Date & Time, Crypto, XML, HTML (and the legacy HTML Extract), Markdown,
//! and RSS Read and the RSS Feed Trigger (a feed's XML as items).

mod crypto;
mod date_time;
mod html;
mod markdown;
mod rss_read;

pub use rss_read::poll;
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
        rss_read::SPEC,
        rss_read::TRIGGER_SPEC,
    ]
}
