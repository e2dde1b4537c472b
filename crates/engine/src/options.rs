//! How one execution runs: the clock, files, mode, trigger items, limits and the host that
//! started it. Set by whoever starts an execution; read by the scheduler and by running nodes.

use crate::host::Host;
use crate::progress::ProgressObserver;
use crate::Credentials;
use sluice_model::{Item, JsonObject};
use sluice_runtime::{BinaryData, Clock, Files};

/// How one execution runs.
#[derive(Clone, Debug)]
pub struct ExecutionOptions {
    pub clock: Clock,
    /// File access for nodes that read files.
    pub files: Files,
    /// Where nodes keep the bytes of binary properties (memory or files on disk).
    pub binary_data: BinaryData,
    pub execution_id: String,
    /// n8n's execution mode: `manual`, `trigger`, `webhook`, ...
    pub mode: String,
    /// `$env` is blocked unless this is set (SLUICE_ALLOW_ENV_ACCESS / N8N_BLOCK_ENV_ACCESS_IN_NODE=false).
    pub allow_env_access: bool,
    pub vars: Option<JsonObject>,
    /// Items the start node emits (default: one empty item).
    pub trigger_items: Option<Vec<Item>>,
    /// Pinned nodes output their pinned items instead of running (true for `sluice run`).
    pub use_pin_data: bool,
    /// Time zone when the workflow sets none.
    pub default_timezone: String,
    /// Guard against endless loops: the most node runs one execution may make.
    pub max_node_runs: usize,
    /// The trigger node the execution starts from (default:
    /// [`crate::CompiledWorkflow::start_node`]).
    pub start_node: Option<String>,
    /// The process that started the execution, for nodes that talk back to it (see [`Host`]).
    pub host: Option<Host>,
    /// Where nodes' credentials come from (a file under `sluice run`, the store under `serve`).
    pub credentials: Option<Credentials>,
    /// The workflow's static data (n8n's `staticData`: `global` and `node:<name>` keys) as the
    /// execution starts; `None` = the workflow file's `staticData` field.
    pub static_data: Option<JsonObject>,
    /// Whether chains of item-wise nodes run as pipelines of chunks (default: the environment,
    /// [`Streaming::from_env`]).
    pub streaming: Streaming,
    /// The most items of each node output the run data keeps (the first ones; counts and
    /// timings are always whole); `None` keeps every item, n8n's shape (the default).
    pub run_data_max_items: Option<usize>,
    /// The most megabytes of items the execution may hold at once (`SLUICE_EXECUTION_MEMORY_MB`,
    /// see [`ExecutionOptions::memory_budget_mb_from_env`]): past it, the node whose output
    /// went over fails the execution. `None` (the default): no budget.
    pub memory_budget_mb: Option<u64>,
    /// Told as node runs start and end and as chunks of streamed runs go through their nodes.
    pub progress: Option<ProgressObserver>,
}

impl ExecutionOptions {
    /// `SLUICE_RUN_DATA_MAX_ITEMS` for [`ExecutionOptions::run_data_max_items`]: a whole
    /// number, or `all` to keep every item; absent or empty, 10,000.
    pub fn run_data_max_items_from_env() -> Result<Option<usize>, String> {
        let Ok(value) = std::env::var("SLUICE_RUN_DATA_MAX_ITEMS") else {
            return Ok(Some(DEFAULT_RUN_DATA_MAX_ITEMS));
        };
        match value.trim() {
            "" => Ok(Some(DEFAULT_RUN_DATA_MAX_ITEMS)),
            all if all.eq_ignore_ascii_case("all") => Ok(None),
            n => n.parse().map(Some).map_err(|_| {
                format!(
                    "SLUICE_RUN_DATA_MAX_ITEMS: expected a whole number or 'all', got '{value}'"
                )
            }),
        }
    }

    /// `SLUICE_EXECUTION_MEMORY_MB` for [`ExecutionOptions::memory_budget_mb`]: a whole number
    /// of megabytes; absent, empty or 0 means no budget.
    pub fn memory_budget_mb_from_env() -> Result<Option<u64>, String> {
        let Ok(value) = std::env::var(MEMORY_BUDGET_VAR) else {
            return Ok(None);
        };
        match value.trim() {
            "" => Ok(None),
            mb => mb
                .parse::<u64>()
                .map(|mb| (mb > 0).then_some(mb))
                .map_err(|_| {
                    format!(
                        "{MEMORY_BUDGET_VAR}: expected a whole number of megabytes, got '{value}'"
                    )
                }),
        }
    }
}

/// The environment variable of the execution memory budget.
pub(crate) const MEMORY_BUDGET_VAR: &str = "SLUICE_EXECUTION_MEMORY_MB";

/// What `sluice run` keeps of each node output in its run data unless told otherwise.
const DEFAULT_RUN_DATA_MAX_ITEMS: usize = 10_000;

/// When a chain of item-wise nodes (see [`crate::ItemWise`]) runs as a pipeline of chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamMode {
    /// When the chain's first node gets more than one chunk of items.
    Auto,
    /// Always (tests use it to stream small inputs).
    On,
    Off,
}

/// Streaming execution settings: `SLUICE_STREAM` (auto, on, off),
/// `SLUICE_STREAM_CHUNK_ITEMS` (items per chunk, default 1000) and `SLUICE_SORT_MEMORY_MB`
/// (default 64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Streaming {
    pub mode: StreamMode,
    pub chunk_items: usize,
    /// The most bytes of items (estimated as the execution memory budget counts them) a
    /// reordering sink ([`crate::ItemWise::Reorder`]: Sort) of a streamed chain holds; past it,
    /// it writes them to a temporary file as a sorted run, merged with the others at the end.
    pub sort_memory_bytes: u64,
}

impl Streaming {
    pub const DEFAULT_CHUNK_ITEMS: usize = 1000;
    pub const DEFAULT_SORT_MEMORY_BYTES: u64 = 64 * 1024 * 1024;

    /// The settings in `SLUICE_STREAM`, `SLUICE_STREAM_CHUNK_ITEMS` and
    /// `SLUICE_SORT_MEMORY_MB` (a whole number of megabytes, at least 1); what is absent or not
    /// understood is the default (auto, 1000, 64).
    pub fn from_env() -> Self {
        let mode = match std::env::var("SLUICE_STREAM").as_deref() {
            Ok("on" | "true" | "1") => StreamMode::On,
            Ok("off" | "false" | "0") => StreamMode::Off,
            _ => StreamMode::Auto,
        };
        let chunk_items = std::env::var("SLUICE_STREAM_CHUNK_ITEMS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(Self::DEFAULT_CHUNK_ITEMS);
        let sort_memory_bytes = std::env::var("SLUICE_SORT_MEMORY_MB")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|mb| *mb > 0)
            .map_or(Self::DEFAULT_SORT_MEMORY_BYTES, |mb| {
                mb.saturating_mul(1024 * 1024)
            });
        Streaming {
            mode,
            chunk_items,
            sort_memory_bytes,
        }
    }
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        ExecutionOptions {
            clock: Clock::system(),
            files: Files::default(),
            binary_data: BinaryData::memory(),
            execution_id: "1".into(),
            mode: "manual".into(),
            allow_env_access: false,
            vars: None,
            trigger_items: None,
            use_pin_data: true,
            default_timezone: "UTC".into(),
            max_node_runs: 1_000_000,
            start_node: None,
            host: None,
            credentials: None,
            static_data: None,
            streaming: Streaming::from_env(),
            run_data_max_items: None,
            memory_budget_mb: None,
            progress: None,
        }
    }
}
