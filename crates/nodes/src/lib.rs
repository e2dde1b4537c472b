//! Sluice's built-in nodes, one module per node family. Each node is built once per workflow from
//! its compiled parameters and registered under its n8n type name and typeVersions.

pub mod code;
pub mod core;
pub mod data;
pub mod email_send;
pub mod execute_command;
pub mod files;
pub mod flow;
pub mod http;
pub mod postgres;
pub mod redis;
pub mod transform;
pub mod trigger;
mod util;

use sluice_engine::Registry;

/// The built-in nodes this deployment allows (`NodeFilter::from_env`).
pub fn registry() -> Registry {
    registry_with(&NodeFilter::from_env())
}

/// Which node types a deployment loads, as n8n's `NODES_INCLUDE` and `NODES_EXCLUDE` say.
#[derive(Clone, Debug, Default)]
pub struct NodeFilter {
    /// Only these types, when set.
    include: Option<Vec<String>>,
    exclude: Vec<String>,
}

/// What n8n 2.x excludes when `NODES_EXCLUDE` is not set: nodes that reach the host.
const EXCLUDED_BY_DEFAULT: [&str; 2] = [
    "n8n-nodes-base.executeCommand",
    "n8n-nodes-base.localFileTrigger",
];

impl NodeFilter {
    /// Every node.
    pub fn all() -> NodeFilter {
        NodeFilter::default()
    }

    /// n8n 2.x's default: every node but Execute Command and Local File Trigger.
    pub fn n8n_default() -> NodeFilter {
        NodeFilter {
            include: None,
            exclude: EXCLUDED_BY_DEFAULT.map(String::from).to_vec(),
        }
    }

    /// From `NODES_INCLUDE` and `NODES_EXCLUDE` (JSON lists of type names, or names separated
    /// by commas). Without `NODES_EXCLUDE`, n8n 2.x's default: Execute Command and Local File
    /// Trigger are left out; `NODES_EXCLUDE=[]` allows them.
    pub fn from_env() -> NodeFilter {
        let list = |name: &str| std::env::var(name).ok().map(|text| parse_type_list(&text));
        NodeFilter {
            include: list("NODES_INCLUDE").filter(|types| !types.is_empty()),
            exclude: list("NODES_EXCLUDE").unwrap_or(NodeFilter::n8n_default().exclude),
        }
    }
}

/// `["a", "b"]` or `a, b`.
fn parse_type_list(text: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(text).unwrap_or_else(|_| {
        text.split(',')
            .map(|name| name.trim().trim_matches(['[', ']', '"', '\'']).to_string())
            .filter(|name| !name.is_empty())
            .collect()
    })
}

/// A registry holding the built-in nodes `filter` allows; the others fail a workflow's build
/// with the setting that left them out.
pub fn registry_with(filter: &NodeFilter) -> Registry {
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
        .chain([
            postgres::SPEC,
            redis::SPEC,
            execute_command::SPEC,
            email_send::SPEC,
        ])
    {
        let included = filter
            .include
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == spec.node_type));
        registry.register(spec);
        if !included {
            registry.exclude(spec.node_type, "NODES_INCLUDE does not list it");
        }
    }
    for node_type in &filter.exclude {
        registry.exclude(
            node_type,
            "NODES_EXCLUDE lists it (by default Execute Command is excluded, as in n8n 2.x; \
             NODES_EXCLUDE=[] allows every node)",
        );
    }
    registry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_lists_read_as_json_or_separated_by_commas() {
        let both = [
            "n8n-nodes-base.executeCommand",
            "n8n-nodes-base.readWriteFile",
        ];
        assert_eq!(
            parse_type_list(r#"["n8n-nodes-base.executeCommand", "n8n-nodes-base.readWriteFile"]"#),
            both
        );
        assert_eq!(
            parse_type_list("n8n-nodes-base.executeCommand, n8n-nodes-base.readWriteFile"),
            both
        );
        assert!(parse_type_list("[]").is_empty());
        assert!(parse_type_list("").is_empty());
    }

    #[test]
    fn excluded_and_not_included_types_say_why() {
        let command = "n8n-nodes-base.executeCommand";
        let registry = registry_with(&NodeFilter::n8n_default());
        assert!(registry.get(command, 1.0).is_none());
        assert!(registry
            .excluded_by(command)
            .unwrap()
            .starts_with("NODES_EXCLUDE"));
        assert!(registry_with(&NodeFilter::all())
            .get(command, 1.0)
            .is_some());

        let only_set = NodeFilter {
            include: Some(vec!["n8n-nodes-base.set".into()]),
            exclude: Vec::new(),
        };
        let registry = registry_with(&only_set);
        assert!(registry.get("n8n-nodes-base.set", 3.4).is_some());
        assert_eq!(
            registry.excluded_by("n8n-nodes-base.if"),
            Some("NODES_INCLUDE does not list it")
        );
        // A type Sluice does not have stays unsupported, not excluded.
        assert_eq!(
            registry.excluded_by("n8n-nodes-base.localFileTrigger"),
            None
        );
    }
}
