//! `sluice run`: execute one workflow in-process.

use crate::input::{load_credentials, load_items, load_workflow, BAD_INPUT};
use crate::progress::RunProgress;
use crate::{profile, ProfileFormat};
use sluice_engine::{
    CompiledWorkflow, Credentials, EngineError, ExecutionOptions, RunOutcome, RunStatus, Streaming,
};
use sluice_runtime::BinaryDataMode;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Exit code for a workflow that failed while running.
pub const WORKFLOW_FAILED: u8 = 1;

/// What `sluice run` was given.
#[derive(Clone, Copy)]
pub struct RunArgs<'a> {
    pub workflow: &'a Path,
    pub input: Option<&'a Path>,
    pub run_data: Option<&'a Path>,
    pub profile: Option<ProfileFormat>,
    pub credentials: Option<&'a Path>,
}

/// Load, check and run the workflow `args` names; on failure to get that far, the message is
/// printed and the exit code returned.
pub async fn execute(args: &RunArgs<'_>) -> Result<RunOutcome, u8> {
    let RunArgs {
        workflow: workflow_path,
        input,
        credentials,
        ..
    } = *args;
    let settings = ExecutionOptions::run_data_max_items_from_env()
        .and_then(|max| Ok((max, Streaming::from_env()?)));
    let (run_data_max_items, streaming) = match settings {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("error: {message}");
            return Err(BAD_INPUT);
        }
    };
    let prepared = async {
        let loaded = load_workflow(workflow_path)?;
        let trigger_items = input.map(load_items).transpose()?;
        let credentials = credentials
            .map(|path| load_credentials(path).map(|set| Credentials(Arc::new(set))))
            .transpose()?;
        let compiled = CompiledWorkflow::build(loaded.workflow, &sluice_nodes::registry())
            .map_err(|e| format!("{}: {e}", workflow_path.display()))?;
        for warning in loaded.warnings.iter().chain(compiled.warnings()) {
            eprintln!("warning: {}: {warning}", workflow_path.display());
        }
        compiled
            .check_credentials(credentials.as_ref())
            .await
            .map_err(|e| format!("{}: {e}", workflow_path.display()))?;
        // In memory unless N8N_DEFAULT_BINARY_DATA_MODE=filesystem (files under SLUICE_DATA_DIR).
        let binary_data = crate::admin::binary_data(
            std::env::var_os("SLUICE_DATA_DIR").map(Into::into),
            BinaryDataMode::Memory,
        )?;
        let memory_budget_mb = ExecutionOptions::memory_budget_mb_from_env()?;
        Ok::<_, String>((
            compiled,
            trigger_items,
            credentials,
            binary_data,
            memory_budget_mb,
        ))
    };
    let (compiled, trigger_items, credentials, binary_data, memory_budget_mb) = match prepared.await
    {
        Ok(p) => p,
        Err(message) => {
            eprintln!("error: {message}");
            return Err(BAD_INPUT);
        }
    };
    // `sluice run` keeps no execution, so binary files it writes (in filesystem mode, under an
    // id of their own) go when the run ends.
    let execution_id = match binary_data.mode() {
        BinaryDataMode::Memory => ExecutionOptions::default().execution_id,
        BinaryDataMode::Filesystem => format!("run-{}", std::process::id()),
    };
    let progress = RunProgress::on_terminal();
    let options = ExecutionOptions {
        trigger_items,
        allow_env_access: env_access_allowed(),
        credentials,
        binary_data: binary_data.clone(),
        execution_id: execution_id.clone(),
        run_data_max_items,
        streaming,
        memory_budget_mb,
        progress: progress.as_ref().map(RunProgress::observer),
        ..ExecutionOptions::default()
    };
    let result = compiled.run(options).await;
    if let Some(progress) = progress {
        progress.finish();
    }
    if let Err(e) = binary_data.delete_execution(&execution_id) {
        eprintln!("warning: cannot remove the run's binary data: {e}");
    }
    match result {
        Ok(outcome) => Ok(outcome),
        Err(e @ EngineError::NoStartNode) => {
            eprintln!("error: {}: {e}", workflow_path.display());
            Err(BAD_INPUT)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(WORKFLOW_FAILED)
        }
    }
}

pub async fn run(args: RunArgs<'_>) -> u8 {
    let outcome = match execute(&args).await {
        Ok(outcome) => outcome,
        Err(code) => return code,
    };
    let RunArgs {
        run_data,
        profile: profile_format,
        ..
    } = args;
    for (node, line) in &outcome.logs {
        eprintln!("[{node}] {line}");
    }
    if let Some(path) = run_data {
        let written = std::fs::File::create(path).and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            outcome.write_n8n_json_pretty(&mut out)?;
            out.flush()
        });
        if let Err(e) = written {
            eprintln!("error: {}: cannot write run data: {e}", path.display());
            return BAD_INPUT;
        }
    }
    if let Some(format) = profile_format {
        profile::print(&outcome, format);
    }
    if outcome.status == RunStatus::Error {
        if let Some(e) = &outcome.error {
            eprintln!("error: {e}");
        }
        return WORKFLOW_FAILED;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let jsons: Vec<_> = outcome.last_output().iter().map(|i| &*i.json).collect();
    serde_json::to_writer_pretty(&mut out, &jsons).expect("stdout");
    writeln!(out).expect("stdout");
    0
}

/// `$env` access: allowed by SLUICE_ALLOW_ENV_ACCESS=true or N8N_BLOCK_ENV_ACCESS_IN_NODE=false.
pub fn env_access_allowed() -> bool {
    let is =
        |name: &str, value: &str| std::env::var(name).is_ok_and(|v| v.eq_ignore_ascii_case(value));
    is("SLUICE_ALLOW_ENV_ACCESS", "true") || is("N8N_BLOCK_ENV_ACCESS_IN_NODE", "false")
}
