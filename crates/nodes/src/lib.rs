//! Sluice's built-in nodes, one module per node family. Each node is built once per workflow from
//! its compiled parameters and registered under its n8n type name and typeVersions.

pub mod code;
pub mod core;
pub mod data;
pub mod files;
pub mod flow;
pub mod http;
pub mod postgres;
pub mod redis;
pub mod transform;
pub mod trigger;
mod util;

use sluice_engine::Registry;

/// A registry holding every built-in node.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    for spec in core::specs()
        .into_iter()
        .chain(flow::specs())
        .chain(transform::specs())
        .chain(data::specs())
        .chain(files::specs())
        .chain(code::specs())
        .chain(http::specs())
        .chain(trigger::specs())
        .chain([postgres::SPEC, redis::SPEC])
    {
        registry.register(spec);
    }
    registry
}
