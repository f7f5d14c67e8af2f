//! The `ovsr` command.

use std::net::SocketAddr;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use ovsr_server::ServeConfig;
use ovsr_server::import::{self, ImportConfig};
use tokio::net::TcpListener;
use tracing::info;
use tracing_subscriber::EnvFilter;

// Parsing and validating a document allocates many small values; mimalloc serves
// them faster than the system allocator under concurrency.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// OVSR, the Open Verifiable Schema Registry.
#[derive(Debug, Parser)]
#[command(name = "ovsr", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the registry: gRPC and HTTP on one port, embedded store by default.
    Serve(Box<ServeCommand>),
    /// Loads a folder of schema documents into a running registry.
    Import(ImportConfig),
    /// Rebuilds the search index in the data directory from the store.
    ///
    /// Run it while no server uses the data directory: a running server holds the
    /// index's lock, and the command then stops with an error saying so.
    Reindex(Box<ReindexCommand>),
}

#[derive(Debug, clap::Args)]
struct ServeCommand {
    /// Address to listen on for gRPC and HTTP.
    #[arg(long, env = "OVSR_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// Log filter, in tracing's EnvFilter syntax (for example `info,ovsr_server=debug`).
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    log: String,

    #[command(flatten)]
    config: ServeConfig,
}

#[derive(Debug, clap::Args)]
struct ReindexCommand {
    /// Log filter, in tracing's EnvFilter syntax.
    #[arg(long, env = "RUST_LOG", default_value = "warn")]
    log: String,

    /// The store and data directory, given as to `ovsr serve`.
    #[command(flatten)]
    config: ServeConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(serve) => run_serve(*serve).await,
        Command::Import(import) => run_import(import).await,
        Command::Reindex(reindex) => run_reindex(*reindex).await,
    }
}

async fn run_reindex(command: ReindexCommand) -> anyhow::Result<()> {
    init_logs(&command.log)?;
    let summary = ovsr_server::reindex(&command.config).await?;
    print!("{summary}");
    Ok(())
}

fn init_logs(filter: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter).context("parsing --log")?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    Ok(())
}

/// Prints the summary; fails (exit status 1) when any file was refused.
async fn run_import(config: ImportConfig) -> anyhow::Result<()> {
    let summary = import::run(&config).await?;
    print!("{summary}");
    if !summary.failed.is_empty() {
        bail!(
            "{} of {} files were not imported",
            summary.failed.len(),
            summary.files
        );
    }
    Ok(())
}

async fn run_serve(command: ServeCommand) -> anyhow::Result<()> {
    init_logs(&command.log)?;
    info!(version = env!("CARGO_PKG_VERSION"), listen = %command.listen, "starting ovsr");

    let listener = TcpListener::bind(command.listen)
        .await
        .with_context(|| format!("binding {}", command.listen))?;
    let server = ovsr_server::start(command.config, listener).await?;

    wait_for_stop_signal().await?;
    server.shutdown().await
}

/// Waits for SIGTERM (orchestrators) or Ctrl-C (people).
async fn wait_for_stop_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    tokio::select! {
        _ = terminate.recv() => info!(signal = "SIGTERM", "stop requested"),
        result = tokio::signal::ctrl_c() => {
            result.context("waiting for Ctrl-C")?;
            info!(signal = "SIGINT", "stop requested");
        }
    }
    Ok(())
}
