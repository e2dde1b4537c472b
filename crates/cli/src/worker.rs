//! `sluice worker`: run queue mode's executions (see `sluice_server::run_worker`) until
//! SIGINT/SIGTERM, on a multi-threaded runtime.

use crate::admin::StoreArgs;
use crate::serve::{run_process, shutdown_signal};
use clap::Args;

#[derive(Args)]
pub struct WorkerArgs {
    /// Executions run at once (`N8N_CONCURRENCY_PRODUCTION_LIMIT` wins when set).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Address of the health server (`QUEUE_HEALTH_CHECK_ACTIVE`).
    #[arg(long, env = "N8N_LISTEN_ADDRESS", default_value = "0.0.0.0")]
    listen: String,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn worker(args: WorkerArgs) -> u8 {
    run_process(async {
        if !crate::queue_mode::enabled()? {
            return Err("sluice worker runs in queue mode only: set EXECUTIONS_MODE=queue".into());
        }
        let lookup = |name: &str| std::env::var(name).ok();
        let config = sluice_server::WorkerConfig::from_lookup(args.concurrency, lookup)?;
        let mut server = sluice_server::ServerConfig::from_env(5678)?;
        server.binary_data = args.store.binary_data()?;
        let store = args.store.open().await?;
        let queue = crate::queue_mode::connect(&store).await?;
        let health = match config.health_port {
            Some(port) => Some(
                tokio::net::TcpListener::bind((args.listen.as_str(), port))
                    .await
                    .map_err(|e| format!("health server: cannot listen on port {port}: {e}"))?,
            ),
            None => None,
        };
        sluice_server::run_worker(store, queue, server, config, health, shutdown_signal()).await
    })
}
