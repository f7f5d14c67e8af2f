//! Connection pools: one per server, each connection carrying its own cache of
//! prepared statements.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bb8::{ErrorSink, ManageConnection, RunError};
use bb8_postgres::PostgresConnectionManager;
use tokio_postgres::{Client, Config, GenericClient, NoTls, Statement};

use super::failure::Failure;
use crate::StoreError;

/// A pooled connection, owned so it can move into the future that uses it.
pub(super) type PgConn = bb8::PooledConnection<'static, CachingManager>;

// Dead peers are noticed by keepalives within about 30 s instead of TCP's minutes.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(15);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const KEEPALIVE_RETRIES: u32 = 3;

/// A pool of connections to one server (the primary or one replica).
#[derive(Debug, Clone)]
pub(super) struct PgPool {
    pool: bb8::Pool<CachingManager>,
    target: Arc<str>,
    acquire_timeout: Duration,
    connect_errors: LastConnectError,
}

/// What a pool needs to know beyond the server's URL.
#[derive(Debug, Clone, Copy)]
pub(super) struct PoolSettings {
    pub(super) size: u32,
    pub(super) acquire_timeout: Duration,
    pub(super) statement_timeout: Duration,
}

impl PgPool {
    /// Builds the pool without connecting: connections open on first use, so a server
    /// that is down does not stop the store from starting.
    pub(super) fn new(url: &str, settings: PoolSettings) -> Result<Self, StoreError> {
        if settings.size == 0 || settings.acquire_timeout.is_zero() {
            return Err(StoreError::Internal(
                "postgres pool size and acquire timeout must be positive".to_owned(),
            ));
        }
        // Connecting gives up before the acquire does, so a timed-out acquire can tell a
        // server that never answers from a pool that is merely busy.
        let handshake_timeout = settings.acquire_timeout * 3 / 4;
        let config = pool_config(url, settings.statement_timeout, handshake_timeout)?;
        let target: Arc<str> = describe_target(&config).into();
        let connect_errors = LastConnectError::default();
        let manager = CachingManager {
            inner: PostgresConnectionManager::new(config, NoTls),
            handshake_timeout,
        };

        let pool = bb8::Pool::builder()
            .max_size(settings.size)
            .connection_timeout(settings.acquire_timeout)
            .error_sink(Box::new(connect_errors.clone()))
            .build_unchecked(manager);
        Ok(Self {
            pool,
            target,
            acquire_timeout: settings.acquire_timeout,
            connect_errors,
        })
    }

    /// Where this pool connects, without credentials: `host:port/dbname`.
    pub(super) fn target(&self) -> &str {
        &self.target
    }

    /// The longest [`PgPool::get`] waits.
    pub(super) fn acquire_timeout(&self) -> Duration {
        self.acquire_timeout
    }

    /// A connection, or [`Failure::Unreachable`] when none could be had in time
    /// because connecting failed; a pool merely saturated is unavailable, not down.
    pub(super) async fn get(&self) -> Result<PgConn, Failure> {
        self.get_within(self.acquire_timeout).await
    }

    /// As [`PgPool::get`], waiting at most `limit` (and never past the pool's own
    /// acquire timeout).
    pub(super) async fn get_within(&self, limit: Duration) -> Result<PgConn, Failure> {
        let started = Instant::now();
        let acquired = tokio::time::timeout(limit, self.pool.get_owned()).await;
        match acquired {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(RunError::User(failure))) => Err(failure),
            Ok(Err(RunError::TimedOut)) | Err(_) => Err(self.timed_out(started)),
        }
    }

    fn timed_out(&self, started: Instant) -> Failure {
        match self.connect_errors.since(started) {
            Some(reason) => {
                Failure::Unreachable(format!("cannot connect to {}: {reason}", self.target))
            }
            None => Failure::Store(StoreError::Unavailable(format!(
                "no connection to {} within the acquire timeout",
                self.target
            ))),
        }
    }
}

/// A connection with the statements it has prepared, keyed by their text.
pub(super) struct CachedClient {
    client: Client,
    statements: StatementCache,
}

impl CachedClient {
    /// The prepared form of `sql` on this connection, outside any transaction.
    pub(super) async fn prepare_cached(
        &mut self,
        sql: &'static str,
    ) -> Result<Statement, tokio_postgres::Error> {
        self.statements.prepare_cached(&self.client, sql).await
    }

    /// The client, for running prepared statements.
    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    /// The client and its cache apart, so a transaction can borrow the client while
    /// statements are prepared through it.
    pub(super) fn split(&mut self) -> (&mut Client, &mut StatementCache) {
        (&mut self.client, &mut self.statements)
    }
}

impl fmt::Debug for CachedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedClient")
            .field("statements", &self.statements.0.len())
            .finish_non_exhaustive()
    }
}

/// Statements prepared on one connection. Prepared statements outlive transactions, so
/// one prepared inside a transaction serves every later call on the connection.
#[derive(Default)]
pub(super) struct StatementCache(HashMap<&'static str, Statement>);

impl StatementCache {
    /// The prepared form of `sql`, preparing it on first use.
    pub(super) async fn prepare_cached<C: GenericClient>(
        &mut self,
        client: &C,
        sql: &'static str,
    ) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.0.get(sql) {
            return Ok(statement.clone());
        }
        let statement = client.prepare(sql).await?;
        self.0.insert(sql, statement.clone());
        Ok(statement)
    }
}

/// bb8-postgres's manager, wrapped so each connection carries a statement cache and a
/// server that accepts but never answers cannot hold a pool slot forever
/// (tokio-postgres bounds only the TCP connect, not the startup handshake).
#[derive(Debug)]
pub(super) struct CachingManager {
    inner: PostgresConnectionManager<NoTls>,
    handshake_timeout: Duration,
}

impl ManageConnection for CachingManager {
    type Connection = CachedClient;
    type Error = Failure;

    async fn connect(&self) -> Result<CachedClient, Failure> {
        let connecting = self.inner.connect();
        let client = tokio::time::timeout(self.handshake_timeout, connecting)
            .await
            .map_err(|_| Failure::Unreachable("no answer to the startup handshake".to_owned()))??;
        Ok(CachedClient {
            client,
            statements: StatementCache::default(),
        })
    }

    /// Checked on every checkout, so it makes no round trip (bb8-postgres's own
    /// check sends an empty query, doubling the round trips of a read): a connection
    /// whose socket the server closed, as a restart does, is refused and replaced;
    /// one that fails later fails its call as unavailable and is dropped.
    async fn is_valid(&self, conn: &mut CachedClient) -> Result<(), Failure> {
        if conn.client.is_closed() {
            return Err(Failure::Unreachable(
                "connection closed by the server".to_owned(),
            ));
        }
        Ok(())
    }

    fn has_broken(&self, conn: &mut CachedClient) -> bool {
        self.inner.has_broken(&mut conn.client)
    }
}

/// The last error a pool met while opening connections in the background, so a
/// timed-out acquire can say why instead of only "timed out".
#[derive(Debug, Clone, Default)]
struct LastConnectError(Arc<Mutex<Option<(Instant, String)>>>);

impl LastConnectError {
    /// The last error, if it happened at or after `started`.
    fn since(&self, started: Instant) -> Option<String> {
        let slot = self.0.lock().ok()?;
        let (at, reason) = slot.as_ref()?;
        (*at >= started).then(|| reason.clone())
    }
}

impl ErrorSink<Failure> for LastConnectError {
    fn sink(&self, failure: Failure) {
        let reason = failure.into_reason();
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some((Instant::now(), reason));
        }
    }

    fn boxed_clone(&self) -> Box<dyn ErrorSink<Failure>> {
        Box::new(self.clone())
    }
}

/// Parses a URL (or key=value string) into a client config, reporting a bad one as
/// internal: it is the operator's configuration, not the caller's input.
pub(super) fn parse_config(url: &str) -> Result<Config, StoreError> {
    Config::from_str(url)
        .map_err(|err| StoreError::Internal(format!("invalid postgres url: {err}")))
}

/// `host:port/dbname` of a config, for logs and errors; never the password.
pub(super) fn describe_target(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let dbname = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("{host}:{port}/{dbname}")
}

fn pool_config(
    url: &str,
    statement_timeout: Duration,
    connect_timeout: Duration,
) -> Result<Config, StoreError> {
    let mut config = parse_config(url)?;
    // The timeout travels in the startup packet, so it holds from the first statement
    // without a round trip per connection (see the PgBouncer notes on PgSchemaStore).
    let timeout = format!("-c statement_timeout={}", statement_timeout.as_millis());
    let options = match config.get_options() {
        Some(given) if !given.is_empty() => format!("{given} {timeout}"),
        _ => timeout,
    };
    config.options(options);
    if config.get_application_name().is_none() {
        config.application_name("ovsr");
    }
    config
        .connect_timeout(connect_timeout)
        .keepalives_idle(KEEPALIVE_IDLE)
        .keepalives_interval(KEEPALIVE_INTERVAL)
        .keepalives_retries(KEEPALIVE_RETRIES);
    Ok(config)
}
