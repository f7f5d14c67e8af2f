//! `GetSchema` with nothing cached: a second server on PostgreSQL with its cache off,
//! over a seeded data set (the store benchmark's, smaller), and pgbench running the
//! store's own statement for the same lookup at the same concurrency.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use ovsr_proto::v1::GetSchemaRequest;
use ovsr_server::{RunningServer, ServeConfig};
use tonic::transport::Channel;

use crate::cache::metrics::metrics_text;
use crate::store::calls::exact_requests;
use crate::store::dataset::{SeededRng, Shape};
use crate::store::pgbench::{Pgbench, PgbenchScript};
use crate::store::scripts::{PageCursor, script_for};
use crate::store::{StoreWorkload, database, load};

/// The load benchmark's own database, apart from the store benchmark's.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/ovsr_bench_load";
/// How long the search index may take over a freshly loaded data set.
const INDEXING_LIMIT: Duration = Duration::from_secs(600);
/// The gauge of the oldest change not yet indexed, in the server's metrics.
const INDEXING_LAG: &str = "ovsr_search_indexing_lag_seconds";

/// Requests drawn; callers take them in turn.
const REQUESTS: usize = 65_536;
/// Mixed into the seed for the keys, apart from the data set's own stream.
const KEY_STREAM: u64 = 0x636f_6c64;

/// The cold server and what both sides of the pair send.
#[derive(Debug)]
pub struct ColdStore {
    /// The server on PostgreSQL, cache off.
    pub server: RunningServer,
    /// Connections to it.
    pub channels: Vec<Channel>,
    /// Random versions of the data set, by name and version.
    pub requests: Vec<GetSchemaRequest>,
    /// pgbench against the same database.
    pub pgbench: Pgbench,
    /// The store's statement for a version by name, keys drawn as the requests are.
    pub script: PgbenchScript,
    /// The data set.
    pub shape: Shape,
}

/// How the cold side is set up.
#[derive(Debug, Clone)]
pub struct ColdSettings {
    /// The database; created if missing, loaded unless it holds the data set.
    pub database_url: String,
    /// Versions in the data set.
    pub versions: u64,
    /// Seed of the data set and of the keys drawn.
    pub seed: u64,
    /// pgbench clients, and the server's pool: one connection per caller.
    pub clients: usize,
    /// HTTP/2 connections to the server.
    pub connections: usize,
}

/// Creates and loads the database as needed and starts the cold server on it, with
/// its own data folder under `data_dir`. Call on the servers' runtime: the server
/// runs where it starts.
pub async fn start_server(settings: &ColdSettings, data_dir: &Path) -> Result<RunningServer> {
    let url = settings.database_url.as_str();
    if database::create_database_if_missing(url).await? {
        eprintln!("created database {}", database::describe_target(url));
    }
    let mut config = ServeConfig::new(data_dir);
    config.database_url = Some(url.to_owned());
    config.database_pool_size = u32::try_from(settings.clients)?;
    // No memory cache and no Redis: every read goes to PostgreSQL.
    config.cache_bytes = 0;
    config.cache_warm_schemas = 0;
    config.shutdown_grace = Duration::from_secs(1);
    crate::start_server(config).await
}

/// Loads the data set through `server` unless the database holds it, and prepares
/// both sides' calls. `scratch` holds pgbench's script and logs.
pub async fn prepare(
    settings: &ColdSettings,
    server: RunningServer,
    scratch: &Path,
) -> Result<ColdStore> {
    let addr = server.local_addr();
    let channels = crate::connect_all(addr, settings.connections.max(1)).await?;
    let url = settings.database_url.as_str();
    let admin = database::connect(url).await?;
    let shape = Shape::new(settings.versions);
    let loaded = load::ensure_data_set(&admin, &channels[0], &shape, settings.seed)
        .await
        .context("loading the cold data set")?;
    if loaded.loaded {
        // The search index takes in what was just loaded in the background; it
        // must be done before anything is timed.
        wait_indexed(addr).await?;
    }
    let mut rng = SeededRng::new(settings.seed ^ KEY_STREAM);
    let requests = exact_requests(&shape, &mut rng, REQUESTS);
    let pgbench = Pgbench::locate(url, scratch, settings.clients)?;
    let source = script_for(StoreWorkload::GetExact, &shape, &PageCursor::default());
    let script = pgbench.write_script("load-get-exact", &source.text, source.defines)?;
    Ok(ColdStore {
        server,
        channels,
        requests,
        pgbench,
        script,
        shape,
    })
}

/// Waits until the server at `addr` reports no change waiting to be indexed, so no
/// indexing runs in the background of what is timed next.
pub async fn wait_indexed(addr: SocketAddr) -> Result<()> {
    let started = Instant::now();
    eprintln!("waiting for the search index to take in the data set");
    loop {
        let text = metrics_text(addr).await?;
        if indexing_lag(&text) == Some(0.0) {
            eprintln!("indexed in {:.1?}", started.elapsed());
            return Ok(());
        }
        if started.elapsed() > INDEXING_LIMIT {
            bail!("the search index still lags after {INDEXING_LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The indexing lag in `metrics`, in seconds.
fn indexing_lag(metrics: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(INDEXING_LAG)?.strip_prefix(' ')?;
        value.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lag_is_read_from_its_own_line() {
        let text = "# HELP ovsr_search_indexing_lag_seconds Age\n\
                    ovsr_search_indexing_lag_seconds 2.5\n\
                    ovsr_search_indexing_lag_seconds_total 9\n";
        assert_eq!(indexing_lag(text), Some(2.5));
        assert_eq!(
            indexing_lag("ovsr_search_indexing_lag_seconds 0.0"),
            Some(0.0)
        );
        assert_eq!(indexing_lag("other 1"), None);
    }
}
