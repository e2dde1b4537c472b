//! `sluice`: run, test and check n8n workflows from the command line.
//!
//! Exit codes: 0 success, 1 a workflow (or test) failed, 2 bad input (missing file, invalid JSON,
//! not a workflow, unsupported node).

mod admin;
mod check;
mod compare;
mod fixture;
mod input;
mod profile;
mod progress;
mod queue_cmd;
mod queue_mode;
mod run;
mod serve;
mod test_cmd;
mod worker;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "sluice", version, about = "Run n8n workflows, fast")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProfileFormat {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Execute a workflow in-process and print the last node's output items as JSON.
    Run {
        /// Workflow JSON file (as exported from n8n).
        workflow: PathBuf,
        /// JSON array of objects to feed as the trigger's output items.
        #[arg(long)]
        input: Option<PathBuf>,
        /// Write the full run data (n8n's shape) to this file.
        #[arg(long)]
        run_data: Option<PathBuf>,
        /// Print the per-node profile to stderr (table, or json).
        #[arg(long, num_args = 0..=1, default_missing_value = "table")]
        profile: Option<ProfileFormat>,
        /// Credentials for the nodes, as `n8n export:credentials --decrypted` writes them.
        #[arg(long)]
        credentials: Option<PathBuf>,
    },
    /// Run workflow files with pinned data as tests, the way n8n's node test harness does.
    Test {
        /// Workflow files or directories of them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Credentials for the nodes, as `n8n export:credentials --decrypted` writes them.
        #[arg(long)]
        credentials: Option<PathBuf>,
    },
    /// Validate workflow files without running them; list unsupported node types.
    Check {
        /// Workflow files or directories of them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Run the server: REST API, webhooks, schedules, execution history.
    Serve(serve::ServeArgs),
    /// Serve production webhooks only and enqueue their executions (EXECUTIONS_MODE=queue).
    Webhook(serve::ServeArgs),
    /// Run queue mode's executions (EXECUTIONS_MODE=queue) enqueued by `sluice serve`.
    Worker(worker::WorkerArgs),
    /// Queue mode's queue: stats and the dead-letter queue.
    Queue(queue_cmd::QueueArgs),
    /// Manage REST API keys.
    Apikey(admin::ApikeyArgs),
    /// Import and list stored workflows.
    Workflow(admin::WorkflowArgs),
    /// Import credentials into the store `sluice serve` uses (encrypted).
    Credential(admin::CredentialArgs),
    /// List, count and show stored executions.
    Execution(admin::ExecutionArgs),
    /// Where an execution's time went: per-node table, hints, HTML timeline (`--html`).
    Profile(Box<profile::ProfileArgs>),
    /// Load a webhook with requests and report throughput, latency, errors and process usage.
    Bench(Box<sluice_devtools::BenchArgs>),
    /// Development tools: `dev upstream` serves stand-in external APIs.
    Dev(sluice_devtools::DevArgs),
}

/// Whether the command named `name` (the first argument; the commands take no options before
/// it) runs a long-lived process.
fn long_running(name: &[u8]) -> bool {
    matches!(name, b"serve" | b"webhook" | b"worker" | b"dev")
}

/// Memory settings, made before `main` because the allocator's first allocation (parsing the
/// arguments) already touches memory.
///
/// Transparent huge pages are off while the process starts: with them, the first allocations
/// left ~6 MB of 2 MiB pages resident that held a few KB each (an idle `sluice serve` took
/// 23.7 MB instead of 18.1 MB). The long-running processes keep them off: with them over half of
/// a busy queue worker's heap was in partly used 2 MiB pages and its RSS ~30 MB higher, for no
/// measurable speed. Batch commands turn them back on once started ([`huge_pages_for_batch`]):
/// `sluice run` of cli-100k spends 0.61 s of CPU with 4 KiB pages, 0.37 s with huge ones.
///
/// Freed memory goes back to the system after 10 ms in the long-running processes instead of
/// mimalloc's 1 s: a queue worker's peak RSS under the orders example's load drops by ~5 MB
/// (56 -> 51 MB), for the same CPU. Batch commands give it back at once: a Code node's script
/// values, freed as they become items, otherwise stay resident next to the items (cli-100k peaks
/// at 108 MB instead of 83 MB, for the same CPU time). `MIMALLOC_PURGE_DELAY`, when set, wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[used]
#[link_section = ".init_array"]
static TUNE_MEMORY: extern "C" fn(
    libc::c_int,
    *const *const libc::c_char,
    *const *const libc::c_char,
) = tune_memory;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" fn tune_memory(
    argc: libc::c_int,
    argv: *const *const libc::c_char,
    _env: *const *const libc::c_char,
) {
    // SAFETY: glibc calls a program's constructors with its argc and argv, whose entries are
    // C strings; prctl with integer arguments sets a flag of this process only; getenv reads
    // the environment before any thread could change it; mimalloc's options may be set at any
    // time.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        let long_running =
            argc > 1 && long_running(std::ffi::CStr::from_ptr(*argv.add(1)).to_bytes());
        if libc::getenv(c"MIMALLOC_PURGE_DELAY".as_ptr()).is_null() {
            let delay_ms = if long_running { 10 } else { 0 };
            mimalloc_options::mi_option_set(mimalloc_options::PURGE_DELAY, delay_ms);
        }
    }
}

/// Huge pages back on for a batch command, now that it has started (see [`TUNE_MEMORY`]).
fn huge_pages_for_batch() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let command = std::env::args_os().nth(1).unwrap_or_default();
        if !long_running(command.as_encoded_bytes()) {
            // SAFETY: prctl with integer arguments sets a flag of this process only.
            unsafe {
                libc::prctl(libc::PR_SET_THP_DISABLE, 0, 0, 0, 0);
            }
        }
    }
}

/// mimalloc's option API (`mimalloc.h`), which the `mimalloc` crate does not wrap; the
/// functions are in the library it links.
mod mimalloc_options {
    /// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (milliseconds before freed memory
    /// goes back to the system; 1000 by default).
    pub const PURGE_DELAY: libc::c_int = 15;

    extern "C" {
        pub fn mi_option_set(option: libc::c_int, value: libc::c_long);
        #[cfg(test)]
        pub fn mi_option_get(option: libc::c_int) -> libc::c_long;
    }
}

/// A command whose output goes to a pipe ends quietly when the reader goes away (`sluice
/// execution list | head`), as Unix tools do, instead of panicking on the next print. The
/// long-running processes keep Rust's default (the signal ignored): a client that hangs up is an
/// error on its socket, never the end of the process. Sockets are written with `MSG_NOSIGNAL`,
/// so this affects standard output and error only.
fn end_quietly_when_stdout_closes() {
    let command = std::env::args_os().nth(1).unwrap_or_default();
    if !long_running(command.as_encoded_bytes()) {
        // SAFETY: restoring a signal's default disposition before any thread is started.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    end_quietly_when_stdout_closes();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    huge_pages_for_batch();
    let code = match cli.command {
        Command::Run {
            workflow,
            input,
            run_data,
            profile,
            credentials,
        } => runtime.block_on(run::run(run::RunArgs {
            workflow: &workflow,
            input: input.as_deref(),
            run_data: run_data.as_deref(),
            profile,
            credentials: credentials.as_deref(),
        })),
        Command::Test { paths, credentials } => {
            runtime.block_on(test_cmd::test(&paths, credentials.as_deref()))
        }
        Command::Check { paths } => check::check(&paths),
        Command::Serve(args) => serve::serve(args),
        Command::Webhook(args) => serve::webhook(args),
        Command::Worker(args) => worker::worker(args),
        Command::Queue(args) => runtime.block_on(queue_cmd::queue(args)),
        Command::Apikey(args) => runtime.block_on(admin::apikey(args)),
        Command::Workflow(args) => runtime.block_on(admin::workflow(args)),
        Command::Credential(args) => runtime.block_on(admin::credential(args)),
        Command::Execution(args) => runtime.block_on(admin::execution(args)),
        Command::Profile(args) => runtime.block_on(profile::profile(*args)),
        Command::Bench(args) => sluice_devtools::bench(*args),
        Command::Dev(args) => sluice_devtools::dev(args),
    };
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::mimalloc_options::{mi_option_get, PURGE_DELAY};

    /// The option set before `main` is mimalloc's purge delay, which a batch process such as
    /// this test binary sets to 0 (mimalloc's default is 1000): an upgrade that renumbers the
    /// options fails here rather than quietly setting another one.
    #[test]
    fn the_option_set_before_main_is_the_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: reads an option of the allocator this test binary runs on.
            assert_eq!(unsafe { mi_option_get(PURGE_DELAY) }, 0);
        }
    }
}
