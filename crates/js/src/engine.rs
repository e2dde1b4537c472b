//! The per-thread QuickJS runtime, the compile cache and one Code-node run.

use crate::convert::{from_js, ConvertError};
use crate::payload::{CodeOutput, OutputError, Payload};
use chrono::Offset;
use rquickjs::context::EvalOptions;
use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Function, Object, Persistent, Promise, Runtime,
    Value,
};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const INTL: &str = include_str!("intl.js");
const LUXON: &str = include_str!("../vendor/luxon/luxon.min.js");
const PRELUDE: &str = include_str!("prelude.js");
const HARDEN: &str = include_str!("harden.js");
/// Name QuickJS reports in stack traces for user code.
const CODE_FILE: &str = "code";
/// Message of a thrown `null`.
const THROWN_NULL: &str = "null";
/// Lines of the wrapper before the user's first line.
const WRAPPER_LINES: usize = 1;

/// Resource limits for one run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub memory_bytes: usize,
    pub cpu_time: Duration,
}

impl Default for Limits {
    /// 128 MB and 60 s.
    fn default() -> Self {
        Limits {
            memory_bytes: 128 * 1024 * 1024,
            cpu_time: Duration::from_secs(60),
        }
    }
}

/// n8n's Code node modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeMode {
    /// `runOnceForAllItems`: the code sees `$input.all()` / `items` and returns all output items.
    AllItems,
    /// `runOnceForEachItem`: the code runs per item with `$json` / `$input.item`, returns one item.
    EachItem,
}

/// One run of user code.
pub struct CodeRequest<'a> {
    pub code: &'a str,
    pub mode: CodeMode,
    /// The variables the code sees.
    pub payload: Payload,
    /// Per-item mode only: a failing item becomes `{error}` instead of failing the run.
    pub continue_on_fail: bool,
    pub limits: Limits,
}

/// What an expression chunk evaluated to.
#[derive(Clone, Debug, PartialEq)]
pub enum ExpressionValue {
    Undefined,
    /// `NaN` or `±Infinity`, which JSON cannot hold (nested ones are `null`, as in
    /// `JSON.stringify`).
    NonFinite(f64),
    Json(serde_json::Value),
}

/// How the caller uses an expression chunk's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rendering {
    /// The raw value: the chunk is the whole parameter.
    Value,
    /// Text: the chunk sits in text, so the value is rendered as JavaScript's `String()` does,
    /// inside QuickJS where the value still is what it was (a RegExp, a Map, an object with its
    /// own `toString`); `null`, `undefined` and functions render as nothing (`undefined`).
    Text,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JsError {
    /// The code threw (or did not compile); `line` is the user's line, `item` the item index in
    /// per-item mode.
    #[error("{message}{}", location(*line, *item))]
    Thrown {
        message: String,
        line: Option<usize>,
        item: Option<usize>,
    },
    #[error("Code ran longer than the limit of {0} s and was stopped")]
    Timeout(u64),
    #[error("Code used more than the memory limit of {0} MB and was stopped")]
    OutOfMemory(usize),
}

fn location(line: Option<usize>, item: Option<usize>) -> String {
    match (line, item) {
        (Some(l), Some(i)) => format!(" [line {l}, for item {i}]"),
        (Some(l), None) => format!(" [line {l}]"),
        (None, Some(i)) => format!(" [item {i}]"),
        (None, None) => String::new(),
    }
}

/// Fields drop in order: compiled functions, then the context, then the runtime.
struct Engine {
    compiled: HashMap<String, Persistent<Function<'static>>>,
    context: Context,
    runtime: Runtime,
    /// Deadline as nanoseconds after `epoch`; 0 = none.
    deadline: Arc<AtomicU64>,
    epoch: Instant,
    /// A promise of this run was rejected for lack of memory (a promise callback that runs out
    /// of memory rejects its promise instead of failing the run).
    rejected_out_of_memory: Rc<Cell<bool>>,
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
    static ENGINES_BUILT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many runtimes this thread has built. Building one (loading luxon and the prelude,
/// freezing the built-ins) costs milliseconds, so a thread builds one and keeps it; it is
/// replaced only after a run hit a limit or left globals it cannot remove.
pub fn engines_built() -> u64 {
    ENGINES_BUILT.with(std::cell::Cell::get)
}

impl Engine {
    fn new() -> Result<Engine, JsError> {
        let runtime = Runtime::new().map_err(internal)?;
        let context = Context::full(&runtime).map_err(internal)?;
        let deadline = Arc::new(AtomicU64::new(0));
        let epoch = Instant::now();
        let watched = deadline.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let d = watched.load(Ordering::Relaxed);
            d != 0 && epoch.elapsed().as_nanos() as u64 > d
        })));
        let rejected_out_of_memory = Rc::new(Cell::new(false));
        let flag = rejected_out_of_memory.clone();
        runtime.set_host_promise_rejection_tracker(Some(Box::new(
            move |_ctx, _promise, reason: Value, handled| {
                if !handled && is_out_of_memory(&reason) {
                    flag.set(true);
                }
            },
        )));
        context.with(|ctx| -> Result<(), JsError> {
            let globals = ctx.globals();
            globals
                .set(
                    "__sluiceTzOffset",
                    Function::new(ctx.clone(), tz_offset_minutes),
                )
                .map_err(internal)?;
            globals
                .set("__sluiceTzValid", Function::new(ctx.clone(), tz_valid))
                .map_err(internal)?;
            ctx.eval::<(), _>(INTL)
                .catch(&ctx)
                .map_err(|e| thrown(e, None))?;
            ctx.eval::<(), _>(LUXON)
                .catch(&ctx)
                .map_err(|e| thrown(e, None))?;
            for script in [PRELUDE, HARDEN] {
                ctx.eval::<(), _>(script)
                    .catch(&ctx)
                    .map_err(|e| thrown(e, None))?;
            }
            Ok(())
        })?;
        Ok(Engine {
            runtime,
            context,
            deadline,
            epoch,
            rejected_out_of_memory,
            compiled: HashMap::new(),
        })
    }

    /// Apply the memory limit and start the CPU-time clock.
    fn arm(&mut self, limits: Limits) {
        self.runtime.set_memory_limit(limits.memory_bytes);
        // Collect only when a run has allocated a good share of its limit: collecting every
        // few hundred KB rescans the whole growing heap while code builds large outputs.
        self.runtime.set_gc_threshold(limits.memory_bytes / 4);
        self.rejected_out_of_memory.set(false);
        let deadline = self.epoch.elapsed() + limits.cpu_time;
        self.deadline
            .store(deadline.as_nanos() as u64, Ordering::Relaxed);
    }

    fn run(&mut self, request: CodeRequest) -> Result<CodeOutput, JsError> {
        let mode = match request.mode {
            CodeMode::AllItems => "all",
            CodeMode::EachItem => "each",
        };
        let compiled = &mut self.compiled;
        self.context.with(|ctx| {
            let user = compile(&ctx, compiled, "async function", request.code, "")?;
            let run: Function = ctx.globals().get("__sluiceRun").map_err(internal)?;
            let payload = payload_to_js(&ctx, request.payload)?;
            let promise: Promise = run
                .call((user, payload, mode, request.continue_on_fail))
                .catch(&ctx)
                .map_err(|e| thrown(e, None))?;
            let result: Object = promise.finish().catch(&ctx).map_err(|e| thrown(e, None))?;
            CodeOutput::from_js(result).map_err(|e| match e {
                OutputError::Convert(e) => conversion_failed(&ctx, e),
                OutputError::Shape(message) => internal(message),
            })
        })
    }

    fn eval(
        &mut self,
        source: &str,
        payload: Payload,
        item_index: usize,
        rendering: Rendering,
    ) -> Result<ExpressionValue, JsError> {
        let compiled = &mut self.compiled;
        self.context.with(|ctx| {
            let f = compile(
                &ctx,
                compiled,
                "function",
                &expression_body(source),
                "expr:",
            )?;
            let eval: Function = ctx.globals().get("__sluiceEval").map_err(internal)?;
            let payload = payload_to_js(&ctx, payload)?;
            let value: Value = eval
                .call((f, payload, item_index, rendering == Rendering::Text))
                .catch(&ctx)
                .map_err(|e| thrown(e, None))?;
            if let Some(f) = value.as_float().filter(|f| !f.is_finite()) {
                return Ok(ExpressionValue::NonFinite(f));
            }
            Ok(
                match from_js(value).map_err(|e| conversion_failed(&ctx, e))? {
                    None => ExpressionValue::Undefined,
                    Some(json) => ExpressionValue::Json(json),
                },
            )
        })
    }

    /// Leave nothing of a run for the next one: run the promise callbacks it left queued (under
    /// its limits, so an endless chain of them is a timeout or out of memory) and remove the
    /// globals it added. False when the runtime could not be cleaned and must be replaced.
    fn settle(&self) -> Result<bool, JsError> {
        while self.runtime.is_job_pending() {
            let deadline = self.deadline.load(Ordering::Relaxed);
            if self.epoch.elapsed().as_nanos() as u64 > deadline {
                return Err(JsError::Thrown {
                    message: "interrupted".into(),
                    line: None,
                    item: None,
                });
            }
            if let Err(job) = self.runtime.execute_pending_job() {
                // Promise jobs catch what code throws: a job fails only on a limit.
                return job.0.with(|ctx| Err(caught_exception(&ctx)));
            }
        }
        if self.rejected_out_of_memory.get() {
            return Err(JsError::Thrown {
                message: "out of memory in a promise callback".into(),
                line: None,
                item: None,
            });
        }
        self.context.with(|ctx| {
            let reset: Function = ctx.globals().get("__sluiceReset").map_err(internal)?;
            reset.call::<_, bool>(()).map_err(internal)
        })
    }

    /// Turn QuickJS's interrupt and allocation failures into limit errors. When the heap is
    /// full QuickJS may not even manage to build its "out of memory" error and throws `null`
    /// instead (so a user's own `throw null` also reads as out of memory).
    fn classify(&self, error: JsError, limits: Limits) -> JsError {
        let JsError::Thrown { message, .. } = &error else {
            return error;
        };
        if message.contains("interrupted") {
            JsError::Timeout(limits.cpu_time.as_secs())
        } else if message.contains("out of memory") || message == THROWN_NULL {
            JsError::OutOfMemory(limits.memory_bytes / (1024 * 1024))
        } else {
            error
        }
    }
}

/// The names user code and expressions can use, destructured from the prelude's context.
const CONTEXT_NAMES: [&str; 27] = [
    "$input",
    "items",
    "$json",
    "$binary",
    "$",
    "$node",
    "$items",
    "$workflow",
    "$execution",
    "$runIndex",
    "$itemIndex",
    "$prevNode",
    "$vars",
    "$env",
    "$now",
    "$today",
    "$if",
    "$ifEmpty",
    "$min",
    "$max",
    "DateTime",
    "Duration",
    "Interval",
    "console",
    "require",
    "item",
    "$getWorkflowStaticData",
];

/// The context names `body` may use (a textual check, so it may bind a few too many; never too
/// few). Binding only these keeps unused variables, such as `$now`, from being built per call.
fn names_used(body: &str) -> String {
    CONTEXT_NAMES
        .iter()
        .filter(|name| match **name {
            "$" => body.contains("$("),
            name => body.contains(name),
        })
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compile `body` as `(KIND ({...context names it uses}) { body })` once per distinct body.
fn compile<'js>(
    ctx: &rquickjs::Ctx<'js>,
    cache: &mut HashMap<String, Persistent<Function<'static>>>,
    kind: &str,
    body: &str,
    key_prefix: &str,
) -> Result<Function<'js>, JsError> {
    let key = format!("{key_prefix}{body}");
    if let Some(f) = cache.get(&key) {
        return f.clone().restore(ctx).map_err(internal);
    }
    let source = format!("({kind} ({{ {} }}) {{\n{body}\n}})", names_used(body));
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = false;
    options.filename = Some(CODE_FILE.into());
    let f: Function = ctx
        .eval_with_options(source, options)
        .catch(ctx)
        .map_err(|e| thrown(e, None))?;
    cache.insert(key, Persistent::save(ctx, f.clone()));
    Ok(f)
}

fn payload_to_js<'js>(ctx: &Ctx<'js>, payload: Payload) -> Result<Object<'js>, JsError> {
    payload.into_js(ctx).map_err(|e| conversion_failed(ctx, e))
}

/// A value that could not cross: what a getter or `toJSON` threw, or why the value cannot be
/// JSON (circular, too deep).
fn conversion_failed(ctx: &Ctx<'_>, error: ConvertError) -> JsError {
    match error {
        ConvertError::Js(rquickjs::Error::Exception) => caught_exception(ctx),
        ConvertError::Js(e) => internal(e),
        other => JsError::Thrown {
            message: other.to_string(),
            line: None,
            item: None,
        },
    }
}

/// QuickJS's allocation failure: its "out of memory" error, or `null` when the heap was too full
/// to build even that.
fn is_out_of_memory(reason: &Value<'_>) -> bool {
    reason.is_null()
        || reason
            .as_object()
            .and_then(|error| error.get::<_, String>("message").ok())
            .is_some_and(|message| message.contains("out of memory"))
}

/// The exception pending on `ctx`.
fn caught_exception(ctx: &Ctx<'_>) -> JsError {
    match Err::<(), _>(rquickjs::Error::Exception).catch(ctx) {
        Err(caught) => thrown(caught, None),
        Ok(()) => internal("exception without a value"),
    }
}

fn internal(e: impl std::fmt::Display) -> JsError {
    JsError::Thrown {
        message: format!("internal JavaScript error: {e}"),
        line: None,
        item: None,
    }
}

/// An exception as n8n reports it: message plus the user's line number (and item index).
fn thrown(error: CaughtError<'_>, item: Option<usize>) -> JsError {
    match error {
        CaughtError::Exception(e) => {
            let message = e.message().unwrap_or_else(|| "Unknown error".into());
            let line = e.stack().as_deref().and_then(user_line);
            let item = item.or_else(|| {
                e.get::<_, Option<f64>>("__sluiceItem")
                    .ok()
                    .flatten()
                    .map(|i| i as usize)
            });
            JsError::Thrown {
                message,
                line,
                item,
            }
        }
        CaughtError::Value(v) => JsError::Thrown {
            message: if v.is_null() {
                THROWN_NULL.to_string()
            } else {
                v.as_string()
                    .and_then(|s| s.to_string().ok())
                    .unwrap_or_else(|| format!("{v:?}"))
            },
            line: None,
            item,
        },
        CaughtError::Error(e) => JsError::Thrown {
            message: e.to_string(),
            line: None,
            item,
        },
    }
}

/// The first `code:LINE` frame of a stack trace, as a line of the user's code.
fn user_line(stack: &str) -> Option<usize> {
    let marker = format!("{CODE_FILE}:");
    stack.lines().find_map(|frame| {
        let at = frame.find(&marker)? + marker.len();
        let digits: String = frame[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let line: usize = digits.parse().ok()?;
        line.checked_sub(WRAPPER_LINES)
    })
}

/// Check that `source` is a valid JavaScript expression (compiling and caching it).
pub fn check_expression(source: &str) -> Result<(), JsError> {
    with_engine(Limits::default(), false, |engine| {
        let compiled = &mut engine.compiled;
        engine.context.with(|ctx| {
            compile(
                &ctx,
                compiled,
                "function",
                &expression_body(source),
                "expr:",
            )
            .map(drop)
        })
    })
}

/// Check that `code` compiles as a Code node's body. Catches the early errors a native parser
/// may not look for: a `let` declared twice, a `break` outside a loop, ... The scripts checked
/// here are those the native evaluator runs, so the check compiles in a runtime of its own with
/// QuickJS's built-ins only, dropped afterwards: a process whose scripts all run natively never
/// loads luxon and the prelude (~4 MB resident and ~10 ms). A run that falls back to QuickJS
/// compiles the script on this thread's engine then.
pub fn check_code(code: &str) -> Result<(), JsError> {
    let runtime = Runtime::new().map_err(internal)?;
    let context = Context::full(&runtime).map_err(internal)?;
    context.with(|ctx| compile(&ctx, &mut HashMap::new(), "async function", code, "").map(drop))
}

/// The function body that evaluates an expression chunk with n8n's TypeError rule.
fn expression_body(source: &str) -> String {
    format!("try {{ return ({source}\n); }} catch (e) {{ if (e instanceof TypeError) return undefined; throw e; }}")
}

/// Evaluate one expression chunk (JavaScript source) for item `item_index` of the payload's items
/// (the same payload as [`CodeRequest::payload`]), used as `rendering` says. A `TypeError`
/// yields `undefined`, as in n8n.
pub fn eval_expression(
    source: &str,
    payload: Payload,
    item_index: usize,
    rendering: Rendering,
    limits: Limits,
) -> Result<ExpressionValue, JsError> {
    with_engine(limits, false, |engine| {
        engine.eval(source, payload, item_index, rendering)
    })
}

/// Run user code on this thread's QuickJS runtime. A runtime that hit a limit is replaced.
pub fn run_code(request: CodeRequest) -> Result<CodeOutput, JsError> {
    let limits = request.limits;
    with_engine(limits, true, |engine| engine.run(request))
}

/// How long a Code run must take for a full garbage collection after it (see [`with_engine`]).
const COLLECT_AFTER: Duration = Duration::from_millis(5);

/// Run `f` on this thread's engine under `limits`; a runtime that hit a limit is replaced.
/// `collect` runs the garbage collector afterwards when the run took [`COLLECT_AFTER`] or more
/// (after Code runs, which may leave large garbage; not after each expression, where a full
/// collection would cost more than the work). A full collection walks the whole heap, luxon
/// included (~0.2 ms): after every short run it was most of a small Code node's time, and the
/// little garbage short runs leave is collected by QuickJS's own allocation threshold.
fn with_engine<T>(
    limits: Limits,
    collect: bool,
    f: impl FnOnce(&mut Engine) -> Result<T, JsError>,
) -> Result<T, JsError> {
    ENGINE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Engine::new()?);
            ENGINES_BUILT.with(|built| built.set(built.get() + 1));
        }
        let engine = slot.as_mut().expect("engine");
        let started = Instant::now();
        engine.arm(limits);
        let outcome = f(engine);
        let clean = engine.settle();
        let result = outcome
            .and_then(|value| clean.as_ref().map(|_| value).map_err(Clone::clone))
            .map_err(|e| engine.classify(e, limits));
        engine.deadline.store(0, Ordering::Relaxed);
        if collect && started.elapsed() >= COLLECT_AFTER {
            engine.runtime.run_gc();
        }
        if clean != Ok(true) || matches!(result, Err(JsError::Timeout(_) | JsError::OutOfMemory(_)))
        {
            *slot = None;
        }
        result
    })
}

/// Offset of IANA zone `zone` from UTC at `epoch_ms`, in minutes (0 for unknown zones).
fn tz_offset_minutes(zone: String, epoch_ms: f64) -> f64 {
    let Ok(tz) = zone.parse::<chrono_tz::Tz>() else {
        return 0.0;
    };
    let Some(at) = chrono::DateTime::from_timestamp_millis(epoch_ms as i64) else {
        return 0.0;
    };
    f64::from(at.with_timezone(&tz).offset().fix().local_minus_utc()) / 60.0
}

fn tz_valid(zone: String) -> bool {
    zone.parse::<chrono_tz::Tz>().is_ok()
}
