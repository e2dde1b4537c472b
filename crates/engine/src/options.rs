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
    /// Whether chains of item-wise nodes run as pipelines of chunks (default: auto; the
    /// commands take it from the environment once, [`Streaming::from_env`]).
    pub streaming: Streaming,
    /// The most items of each node output the run data keeps (the first ones; counts and
    /// timings are always whole; outputs that a later node reads by name are kept whole);
    /// `None` keeps every item, n8n's shape (the default).
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
        const VAR: &str = "SLUICE_RUN_DATA_MAX_ITEMS";
        if std::env::var(VAR).is_ok_and(|v| v.trim().eq_ignore_ascii_case("all")) {
            return Ok(None);
        }
        let max = whole_number_var(VAR, "a whole number or 'all'")?;
        Ok(Some(max.map_or(DEFAULT_RUN_DATA_MAX_ITEMS, |n| n as usize)))
    }

    /// `SLUICE_EXECUTION_MEMORY_MB` for [`ExecutionOptions::memory_budget_mb`]: a whole number
    /// of megabytes; absent, empty or 0 means no budget.
    pub fn memory_budget_mb_from_env() -> Result<Option<u64>, String> {
        let mb = whole_number_var(MEMORY_BUDGET_VAR, "a whole number of megabytes")?;
        Ok(mb.filter(|mb| *mb > 0))
    }
}

/// The whole number in environment variable `var` (`None` when it is absent or empty); any
/// other text is an error saying the variable expects `expected`.
fn whole_number_var(var: &str, expected: &str) -> Result<Option<u64>, String> {
    let Ok(value) = std::env::var(var) else {
        return Ok(None);
    };
    match value.trim() {
        "" => Ok(None),
        n => n
            .parse()
            .map(Some)
            .map_err(|_| format!("{var}: expected {expected}, got '{value}'")),
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

    /// The settings in `SLUICE_STREAM` (`auto`, `on`/`true`/`1`, `off`/`false`/`0`),
    /// `SLUICE_STREAM_CHUNK_ITEMS` and `SLUICE_SORT_MEMORY_MB` (whole numbers, at least 1);
    /// absent or empty, the default (auto, 1000, 64). Read once per process (`run`, `serve`,
    /// `worker`, `test`); anything else is an error naming the variable.
    pub fn from_env() -> Result<Self, String> {
        let mode = match std::env::var("SLUICE_STREAM").unwrap_or_default().trim() {
            "" | "auto" => StreamMode::Auto,
            "on" | "true" | "1" => StreamMode::On,
            "off" | "false" | "0" => StreamMode::Off,
            other => {
                return Err(format!(
                    "SLUICE_STREAM: expected auto, on or off, got '{other}'"
                ))
            }
        };
        let positive = |var| match whole_number_var(var, "a whole number of at least 1")? {
            Some(0) => Err(format!(
                "{var}: expected a whole number of at least 1, got '0'"
            )),
            n => Ok(n),
        };
        let chunk_items = positive("SLUICE_STREAM_CHUNK_ITEMS")?;
        let sort_mb = positive("SLUICE_SORT_MEMORY_MB")?;
        Ok(Streaming {
            mode,
            chunk_items: chunk_items.map_or(Self::DEFAULT_CHUNK_ITEMS, |n| n as usize),
            sort_memory_bytes: sort_mb.map_or(Self::DEFAULT_SORT_MEMORY_BYTES, |mb| {
                mb.saturating_mul(1024 * 1024)
            }),
        })
    }
}

impl Default for Streaming {
    /// Auto, 1000 items per chunk, 64 MB for a sort.
    fn default() -> Self {
        Streaming {
            mode: StreamMode::Auto,
            chunk_items: Self::DEFAULT_CHUNK_ITEMS,
            sort_memory_bytes: Self::DEFAULT_SORT_MEMORY_BYTES,
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
            streaming: Streaming::default(),
            run_data_max_items: None,
            memory_budget_mb: None,
            progress: None,
        }
    }
}
