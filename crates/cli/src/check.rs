//! `sluice check`: can these n8n workflows move to Sluice today? Validates without running.

use crate::input::{load_workflow, workflow_files, BAD_INPUT};
use sluice_engine::{CompiledWorkflow, EngineError};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

pub fn check(paths: &[PathBuf]) -> u8 {
    let files = match workflow_files(paths) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return BAD_INPUT;
        }
    };
    let registry = sluice_nodes::registry();
    // "type version" -> files using it
    let mut unsupported: BTreeMap<String, BTreeSet<PathBuf>> = BTreeMap::new();
    let mut failed = 0usize;
    let mut warned = 0usize;
    for file in &files {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        match load_workflow(file) {
            Err(e) => problems.push(e),
            Ok(loaded) => {
                warnings.extend(loaded.warnings.iter().map(ToString::to_string));
                for node in &loaded.workflow.nodes {
                    let version = node
                        .type_version
                        .or_else(|| registry.default_version(&node.node_type));
                    let supported = version.and_then(|v| registry.get(&node.node_type, v));
                    if let Some(why) = registry.excluded_by(&node.node_type) {
                        let excluded = EngineError::ExcludedNode {
                            node: node.name.clone(),
                            node_type: node.node_type.clone(),
                            why,
                        };
                        problems.push(excluded.to_string());
                    } else if supported.is_none() {
                        let what = match version {
                            Some(v) if registry.knows_type(&node.node_type) => {
                                format!("{} version {v}", node.node_type)
                            }
                            _ => node.node_type.clone(),
                        };
                        problems.push(format!(
                            "node '{}': unsupported node type {what}",
                            node.name
                        ));
                        unsupported.entry(what).or_default().insert(file.clone());
                    }
                }
                if problems.is_empty() {
                    match CompiledWorkflow::build(loaded.workflow, &registry) {
                        Ok(compiled) => {
                            warnings.extend(compiled.warnings().iter().map(ToString::to_string))
                        }
                        Err(e) => problems.push(e.to_string()),
                    }
                }
            }
        }
        if problems.is_empty() {
            println!("OK   {}", file.display());
        } else {
            failed += 1;
            println!("FAIL {}", file.display());
            for p in problems {
                println!("     - {p}");
            }
        }
        warned += usize::from(!warnings.is_empty());
        for w in warnings {
            println!("     warning: {w}");
        }
    }
    if !unsupported.is_empty() {
        println!();
        println!("{:<60} {:>6}", "unsupported node type", "files");
        let mut rows: Vec<_> = unsupported.iter().collect();
        rows.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        for (what, files) in rows {
            println!("{what:<60} {:>6}", files.len());
        }
    }
    println!(
        "{} of {} workflow files can run on Sluice ({warned} with warnings)",
        files.len() - failed,
        files.len()
    );
    u8::from(failed > 0)
}
