//! `sluice serve` and `sluice webhook`: open the store and run the server until SIGINT/SIGTERM,
//! on a multi-threaded runtime (the rest of the CLI runs single-threaded); in queue mode
//! (`EXECUTIONS_MODE=queue`) with the Redis queue the workers read. `sluice webhook` is the
//! webhook-only process of queue mode.

use crate::admin::StoreArgs;
use crate::input::BAD_INPUT;
use clap::Args;

#[derive(Args)]
pub struct ServeArgs {
    /// Port to listen on.
    #[arg(long, env = "N8N_PORT", default_value_t = 5678)]
    port: u16,
    /// Address to listen on.
    #[arg(long, env = "N8N_LISTEN_ADDRESS", default_value = "0.0.0.0")]
    listen: String,
    #[command(flatten)]
    store: StoreArgs,
}

/// Log to stderr at `SLUICE_LOG` (default `info`).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SLUICE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
}

/// Run a long-lived process (`serve`, `worker`) on a multi-threaded runtime with logging on; an
/// error ends it with one line on stderr and exit code 2.
pub fn run_process(process: impl std::future::Future<Output = Result<(), String>>) -> u8 {
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(process) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            BAD_INPUT
        }
    }
}

pub fn serve(args: ServeArgs) -> u8 {
    run_process(async {
        let queue_mode = crate::queue_mode::enabled()?;
        let (listener, store, config) = open(&args).await?;
        let queue = match queue_mode {
            true => Some(crate::queue_mode::connect(&store).await?),
            false => None,
        };
        if queue.is_some() {
            eprintln!("queue mode: executions are enqueued for `sluice worker` processes");
        }
        sluice_server::serve_with(listener, store, config, queue, shutdown_signal()).await
    })
}

/// `sluice webhook`: production webhooks only, in queue mode (see
/// `sluice_server::serve_webhooks`).
pub fn webhook(args: ServeArgs) -> u8 {
    run_process(async {
        if !crate::queue_mode::enabled()? {
            return Err("sluice webhook runs in queue mode only: set EXECUTIONS_MODE=queue".into());
        }
        let (listener, store, config) = open(&args).await?;
        let queue = crate::queue_mode::connect(&store).await?;
        eprintln!("webhook process: serving /webhook/* only; executions go to the queue");
        sluice_server::serve_webhooks(listener, store, config, queue, shutdown_signal()).await
    })
}

/// The settings, the store and the listening socket of a server process.
async fn open(
    args: &ServeArgs,
) -> Result<
    (
        tokio::net::TcpListener,
        std::sync::Arc<sluice_store::Store>,
        sluice_server::ServerConfig,
    ),
    String,
> {
    let mut config = sluice_server::ServerConfig::from_env(args.port)?;
    config.binary_data = args.store.binary_data()?;
    let store = args.store.open().await?;
    let listener = tokio::net::TcpListener::bind((args.listen.as_str(), args.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", args.listen, args.port))?;
    eprintln!(
        "sluice listening on http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    Ok((listener, store, config))
}

pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
