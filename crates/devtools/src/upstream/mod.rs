//! `sluice dev upstream`: a local HTTP server standing in for the order system's external APIs,
//! so examples, tests and benchmarks run without the internet and with the faults real APIs
//! have: a customers API (`GET /customers/{id}`, `GET /customers?page=N`) and a notifications
//! sink (`POST /notifications`), both behind injected latency, a rate limit answering 429 with
//! `Retry-After`, and an error rate answering 500/503; `GET /stats` counts what happened.

mod customers;
mod faults;
mod stats;

use crate::args::parse_fraction;
use axum::routing::{get, post};
use axum::Router;
use clap::{Args, Parser, Subcommand};
use faults::{Faults, RateLimit};
use stats::Stats;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// `sluice dev ...`: tools for developing and measuring workflows.
#[derive(Args)]
pub struct DevArgs {
    #[command(subcommand)]
    command: DevCommand,
}

#[derive(Subcommand)]
enum DevCommand {
    /// Serve stand-in external APIs (customers, notifications) with latency, rate limit and errors.
    Upstream(UpstreamArgs),
}

/// Flags of `sluice dev upstream`.
#[derive(Parser, Clone, Debug)]
pub struct UpstreamArgs {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 5679)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub listen: String,
    /// Delay added to every API answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of API requests answered 500 or 503 (0.01 or 1%).
    #[arg(long, default_value = "0", value_parser = parse_fraction)]
    pub error_rate: f64,
    /// Requests per second the APIs accept before answering 429 (`100/s`, `600/m`).
    #[arg(long, value_parser = RateLimit::parse)]
    pub rate_limit: Option<RateLimit>,
    /// Number of customers (ids 1..=N).
    #[arg(long, default_value_t = 1000)]
    pub customers: u64,
    /// Customers per page of `GET /customers?page=N`.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub page_size: u64,
    /// Seed for the injected errors: the same seed fails the same requests (by arrival order).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// What every handler shares: the settings, the fault injector and the counters.
struct Upstream {
    args: UpstreamArgs,
    base_url: String,
    faults: Faults,
    stats: Stats,
}

/// A bound stand-in upstream, ready to serve.
pub struct UpstreamServer {
    listener: TcpListener,
    router: Router,
}

impl UpstreamServer {
    /// Bind to `args.listen:args.port` (port 0 picks a free one).
    pub async fn bind(args: UpstreamArgs) -> Result<Self, String> {
        let listener = TcpListener::bind((args.listen.as_str(), args.port))
            .await
            .map_err(|e| format!("cannot listen on {}:{}: {e}", args.listen, args.port))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let upstream = Arc::new(Upstream {
            base_url: format!("http://{addr}"),
            faults: Faults::new(&args),
            stats: Stats::default(),
            args,
        });
        let apis = Router::new()
            .route("/customers", get(customers::page))
            .route("/customers/{id}", get(customers::one))
            .route("/notifications", post(stats::notifications))
            .layer(axum::middleware::from_fn_with_state(
                upstream.clone(),
                faults::inject,
            ));
        let router = apis
            .route("/stats", get(stats::snapshot))
            .with_state(upstream);
        Ok(UpstreamServer { listener, router })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// Serve until the process ends.
    pub async fn serve(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.router).await
    }
}

/// Run `sluice dev ...`; returns the exit code.
pub fn dev(args: DevArgs) -> u8 {
    let DevCommand::Upstream(args) = args.command;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        let server = UpstreamServer::bind(args).await?;
        println!("http://{}", server.local_addr());
        eprintln!(
            "stand-in upstream: GET /customers/{{id}}, GET /customers?page=N, POST /notifications, GET /stats"
        );
        server.serve().await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            crate::BAD_INPUT
        }
    }
}
