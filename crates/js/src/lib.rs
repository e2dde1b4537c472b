//! JavaScript for the Code node (and legacy Function nodes): user code runs in QuickJS, sandboxed.
//!
//! One QuickJS runtime per thread, created on first use with luxon and Sluice's prelude loaded;
//! each distinct code string is compiled once and cached. The sandbox has no file system, network
//! or process access (QuickJS has none unless added; `require` only knows `luxon`), a memory limit
//! and a CPU-time limit per run. The runtime is shared by every run on its thread, so its built-ins
//! are frozen and each run's added globals and queued promise callbacks are cleared after it
//! (`harden.js`). Data crosses the boundary as values, never as JSON text (`convert`), and input
//! items are converted only when the code reads them (`payload`).

pub mod convert;
mod engine;
mod payload;

pub use engine::{
    check_code, check_expression, engines_built, eval_expression, run_code, CodeMode, CodeRequest,
    ExpressionValue, JsError, Limits, Rendering,
};
pub use payload::{CodeOutput, NodeData, OutputItem, Payload, PayloadItem};
