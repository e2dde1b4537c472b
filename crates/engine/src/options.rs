//! How one execution runs: the clock, files, mode, trigger items, limits and the host that
//! started it. Set by whoever starts an execution; read by the scheduler and by running nodes.

use crate::host::Host;
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
        }
    }
}
