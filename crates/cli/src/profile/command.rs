//! `sluice profile`: the profile of one execution (stored by `sluice serve` / a worker, by id), of
//! a run-data file (`sluice run --run-data`), or of a workflow file run for the purpose; printed
//! as a table (or JSON) with hints, and optionally written as an HTML timeline.

use super::{hints, timeline, Report};
use crate::admin::StoreArgs;
use crate::input::{read_text, BAD_INPUT};
use crate::run::{execute, RunArgs};
use crate::ProfileFormat;
use clap::Args;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ProfileArgs {
    /// An execution id (from the store), a run-data file, or a workflow file to run.
    target: String,
    /// The workflow a run-data file came from (for the hints that read node types).
    #[arg(long)]
    workflow: Option<PathBuf>,
    /// Input items when running a workflow file.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Credentials when running a workflow file.
    #[arg(long)]
    credentials: Option<PathBuf>,
    /// Write the timeline, table and hints as a self-contained HTML page.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Print a table (default) or JSON.
    #[arg(long, default_value = "table")]
    format: ProfileFormat,
    #[command(flatten)]
    store: StoreArgs,
}

/// What was profiled: the report, the workflow when known, a title.
struct Profiled {
    report: Report,
    workflow: Option<Value>,
    title: String,
}

fn read_json(path: &Path) -> Result<Value, String> {
    serde_json::from_str(&read_text(path)?).map_err(|e| {
        format!(
            "{}: invalid JSON at line {}:{}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

async fn from_execution(args: &ProfileArgs, id: i64) -> Result<Profiled, String> {
    let store = args.store.open().await?;
    let record = store
        .get_execution(id, true)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("execution {id} not found"))?;
    let data = record
        .data
        .as_ref()
        .filter(|d| d.get("resultData").is_some());
    let data = data.ok_or_else(|| {
        format!(
            "execution {id} has no run data ({}; successful executions are kept only with \
             EXECUTIONS_DATA_SAVE_ON_SUCCESS=all)",
            record.status
        )
    })?;
    let total_ns = record
        .stopped_at
        .map(|end| (end - record.started_at).max(0) as u64 * 1_000_000);
    let workflow = match &args.workflow {
        Some(path) => Some(read_json(path)?),
        None => store
            .get_workflow(&record.workflow_id)
            .await
            .map_err(|e| e.to_string())?
            .map(|w| w.data),
    };
    Ok(Profiled {
        report: Report::from_document(data, total_ns)?,
        workflow,
        title: format!("execution {id} of workflow {}", record.workflow_id),
    })
}

async fn from_file(args: &ProfileArgs, path: &Path) -> Result<Profiled, u8> {
    let doc = read_json(path).map_err(|e| {
        eprintln!("error: {e}");
        BAD_INPUT
    })?;
    if doc.get("nodes").is_some() {
        let run = RunArgs {
            workflow: path,
            input: args.input.as_deref(),
            run_data: None,
            profile: None,
            credentials: args.credentials.as_deref(),
        };
        let outcome = execute(&run).await?;
        if let Some(e) = &outcome.error {
            eprintln!("error: {e}");
        }
        return Ok(Profiled {
            report: Report::from_outcome(&outcome),
            workflow: Some(doc),
            title: format!("run of {}", path.display()),
        });
    }
    let workflow = args.workflow.as_deref().map(read_json).transpose();
    let profiled = workflow.and_then(|workflow| {
        Ok(Profiled {
            report: Report::from_document(&doc, None)
                .map_err(|e| format!("{}: {e}", path.display()))?,
            workflow,
            title: format!("run data {}", path.display()),
        })
    });
    profiled.map_err(|e| {
        eprintln!("error: {e}");
        BAD_INPUT
    })
}

pub async fn profile(args: ProfileArgs) -> u8 {
    let path = Path::new(&args.target);
    let profiled = match args.target.parse::<i64>() {
        Ok(id) if !path.exists() => from_execution(&args, id).await.map_err(|e| {
            eprintln!("error: {e}");
            BAD_INPUT
        }),
        _ => from_file(&args, path).await,
    };
    let Profiled {
        report,
        workflow,
        title,
    } = match profiled {
        Ok(p) => p,
        Err(code) => return code,
    };
    let hints = hints::find(&report, workflow.as_ref());
    match args.format {
        ProfileFormat::Table => {
            print!("{}", report.table());
            for hint in &hints {
                println!("hint: {}: {}", hint.node, hint.message);
            }
        }
        ProfileFormat::Json => {
            let mut doc = report.to_json();
            doc["advice"] = hints
                .iter()
                .map(|h| serde_json::json!({"kind": h.kind, "node": h.node, "message": h.message}))
                .collect();
            println!("{doc}");
        }
    }
    if let Some(path) = &args.html {
        if let Err(e) = std::fs::write(path, timeline::html(&report, &hints, &title)) {
            eprintln!("error: {}: cannot write: {e}", path.display());
            return BAD_INPUT;
        }
    }
    0
}
