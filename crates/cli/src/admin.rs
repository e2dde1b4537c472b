//! `sluice apikey|workflow|credential|execution`: manage the store `sluice serve` uses (same data
//! directory and database settings) from the command line.

use crate::input::{load_credentials, load_workflow, read_text, BAD_INPUT};
use clap::{Args, Subcommand};
use sluice_runtime::{BinaryData, BinaryDataMode};
use sluice_store::{ExecutionFilter, Store, StoreConfig, WorkflowFilter};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the store is: `--data-dir` / `SLUICE_DATA_DIR` (default `~/.sluice`), plus n8n's
/// `DB_TYPE` / `DB_POSTGRESDB_*` and `N8N_ENCRYPTION_KEY` from the environment.
#[derive(Args, Clone)]
pub struct StoreArgs {
    #[arg(long, env = "SLUICE_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
}

impl StoreArgs {
    pub async fn open(&self) -> Result<Arc<Store>, String> {
        let config =
            StoreConfig::from_env(data_dir(self.data_dir.clone())).map_err(|e| e.to_string())?;
        Store::open(config).await.map_err(|e| e.to_string())
    }

    /// The binary data store of processes using this store: files under the data directory
    /// unless `N8N_DEFAULT_BINARY_DATA_MODE` says otherwise.
    pub fn binary_data(&self) -> Result<BinaryData, String> {
        binary_data(self.data_dir.clone(), BinaryDataMode::Filesystem)
    }
}

/// The data directory: the one given, else `~/.sluice`.
fn data_dir(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(".sluice")
    })
}

/// The binary data store `N8N_DEFAULT_BINARY_DATA_MODE` asks for (`fallback` when unset), with
/// files under the data directory.
pub fn binary_data(
    given_dir: Option<PathBuf>,
    fallback: BinaryDataMode,
) -> Result<BinaryData, String> {
    let mode = BinaryDataMode::from_env(fallback)?;
    Ok(BinaryData::for_mode(mode, &data_dir(given_dir)))
}

#[derive(Args)]
pub struct ApikeyArgs {
    #[command(subcommand)]
    command: ApikeyCommand,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create an API key for the REST API (`X-N8N-API-KEY`) and print it.
    Create {
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

#[derive(Args)]
pub struct WorkflowArgs {
    #[command(subcommand)]
    command: WorkflowCommand,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Subcommand)]
enum WorkflowCommand {
    /// Import an n8n workflow file (keeps its id when it has one; replaces that workflow).
    Import {
        file: PathBuf,
        /// Activate it too (running servers pick it up within their workflow sync interval).
        #[arg(long)]
        activate: bool,
    },
    /// List stored workflows: id, active, name.
    List,
}

#[derive(Args)]
pub struct CredentialArgs {
    #[command(subcommand)]
    command: CredentialCommand,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Subcommand)]
enum CredentialCommand {
    /// Import credentials exported by `n8n export:credentials --decrypted` (a JSON array of
    /// `{id, name, type, data}`), encrypted into the store; a credential with the same id is
    /// replaced. Prints `id<TAB>type<TAB>name` per credential.
    Import { file: PathBuf },
}

#[derive(Args)]
pub struct ExecutionArgs {
    #[command(subcommand)]
    command: ExecutionCommand,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
struct ExecutionFilterArgs {
    #[arg(long)]
    status: Option<String>,
    #[arg(long = "workflow")]
    workflow_id: Option<String>,
}

impl From<ExecutionFilterArgs> for ExecutionFilter {
    fn from(a: ExecutionFilterArgs) -> Self {
        ExecutionFilter {
            status: a.status,
            workflow_id: a.workflow_id,
        }
    }
}

#[derive(Subcommand)]
enum ExecutionCommand {
    /// List executions, newest first: id, status, mode, workflow, started.
    List {
        #[command(flatten)]
        filter: ExecutionFilterArgs,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Count executions.
    Count {
        #[command(flatten)]
        filter: ExecutionFilterArgs,
    },
    /// Print one execution with its run data as JSON.
    Show { id: i64 },
    /// Stop a queued or running execution (queue mode: through the queue; a worker running it
    /// stops at its next lease extension); prints `id<TAB>status` once it ended.
    Stop { id: i64 },
}

/// Open the store, run `f`, close the store; errors become one line and exit code 2.
async fn with_store<F, Fut>(store: &StoreArgs, f: F) -> u8
where
    F: FnOnce(Arc<Store>) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let store = match store.open().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return BAD_INPUT;
        }
    };
    let result = f(store.clone()).await;
    store.close().await;
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            BAD_INPUT
        }
    }
}

pub async fn apikey(args: ApikeyArgs) -> u8 {
    let ApikeyCommand::Create { label } = args.command;
    with_store(&args.store, |s| async move {
        println!(
            "{}",
            s.create_api_key(&label).await.map_err(|e| e.to_string())?
        );
        Ok(())
    })
    .await
}

pub async fn workflow(args: WorkflowArgs) -> u8 {
    with_store(&args.store, |s| async move {
        match args.command {
            WorkflowCommand::Import { file, activate } => {
                for warning in load_workflow(&file)?.warnings {
                    eprintln!("warning: {}: {warning}", file.display());
                }
                let json: serde_json::Value = serde_json::from_str(&read_text(&file)?)
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                let id = match &json["id"] {
                    serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                };
                let record = s
                    .put_workflow(id.as_deref(), json)
                    .await
                    .map_err(|e| e.to_string())?;
                if activate {
                    s.set_workflow_active(&record.id, true)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                println!("{}", record.id);
            }
            WorkflowCommand::List => {
                let mut cursor = None;
                loop {
                    let page = s
                        .list_workflows(&WorkflowFilter::default(), cursor.as_deref(), 250)
                        .await
                        .map_err(|e| e.to_string())?;
                    for w in &page.data {
                        println!(
                            "{}\t{}\t{}",
                            w.id,
                            if w.active { "active" } else { "inactive" },
                            w.name
                        );
                    }
                    cursor = page.next_cursor;
                    if cursor.is_none() {
                        break;
                    }
                }
            }
        }
        Ok(())
    })
    .await
}

pub async fn credential(args: CredentialArgs) -> u8 {
    let CredentialCommand::Import { file } = args.command;
    let set = match load_credentials(&file) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("error: {e}");
            return BAD_INPUT;
        }
    };
    with_store(&args.store, |s| async move {
        for credential in set.credentials() {
            s.import_credential(credential)
                .await
                .map_err(|e| format!("credential {}: {e}", credential.id))?;
            println!(
                "{}\t{}\t{}",
                credential.id, credential.kind, credential.name
            );
        }
        Ok(())
    })
    .await
}

pub async fn execution(args: ExecutionArgs) -> u8 {
    with_store(&args.store, |s| async move {
        match args.command {
            ExecutionCommand::List { filter, limit } => {
                let page = s
                    .list_executions(&filter.into(), None, limit, false)
                    .await
                    .map_err(|e| e.to_string())?;
                for e in &page.data {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        e.id,
                        e.status,
                        e.mode,
                        e.workflow_id,
                        sluice_store::iso(e.started_at)
                    );
                }
            }
            ExecutionCommand::Count { filter } => {
                println!(
                    "{}",
                    s.count_executions(&filter.into())
                        .await
                        .map_err(|e| e.to_string())?
                );
            }
            ExecutionCommand::Show { id } => {
                let record = s
                    .get_execution(id, true)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("execution {id} not found"))?;
                println!(
                    "{}",
                    serde_json::to_string_pretty(&record.to_json()).expect("json")
                );
            }
            ExecutionCommand::Stop { id } => {
                let queue = match crate::queue_mode::enabled()? {
                    true => Some(crate::queue_mode::connect(&s).await?),
                    false => None,
                };
                let record = sluice_server::stop_execution(&s, queue.as_deref(), id)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{}\t{}", record.id, record.status);
            }
        }
        Ok(())
    })
    .await
}
