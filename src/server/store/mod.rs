//! Storage behind one interface, two implementations: SQLite (one file in WAL
//! mode, the default) or PostgreSQL (`--database postgres://…`, any number of
//! instances on one database). Writes go through the single writer thread
//! (group commit, see `writer`); reads run on a small pool of their own
//! connections in `spawn_blocking`, so readers never wait behind a write batch.
//!
//! The SQL for each resource lives in its own file, written once for both
//! (see `db`), and takes a plain `&Connection`, so the same query serves reads
//! and the checks inside writes. On PostgreSQL, `eventlog` carries every
//! committed change to the other instances.

mod batch;
pub mod configuration;
pub mod conversations;
pub mod db;
mod eventlog;
pub mod media;
pub mod messages;
mod migrations;
pub mod outbox;
pub mod participants;
pub mod presence;
pub mod roles;
pub mod rows;
pub mod search;
pub mod users;
pub mod webhooks;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::OpenFlags;

use crate::api::sid::{new_sid, prefix};
use crate::server::error::ApiError;
use crate::server::hub::{Effect, Hub};
use crate::server::webhooks::tap::Tap;
pub use db::{Connection, Kind};
use db::{OptionalExtension, PgConn, params};
pub use writer::Writer;

const DB_FILE: &str = "convo.sqlite3";
/// How long a PostgreSQL connection attempt may take before start-up (or a
/// request during an outage) gives up.
const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Typing renewals shared with other instances at most this often per typist.
const SHARE_RENEWALS_EVERY: Duration = Duration::from_secs(1);

/// The store: the writer handle, the reader pool, and the service SID.
pub struct Store {
    writer: Writer,
    readers: Arc<Readers>,
    /// The one chat service (`IS…`), made on first start and kept in `meta`.
    pub service_sid: String,
    /// When the service was made (Unix seconds).
    pub service_created: i64,
    /// Which database, for `/healthz` and logs (a password shown as `***`).
    pub database: String,
    /// This server's name among the instances on the database (`NI…`, new
    /// at every start): the event log's `origin`, the presence rows' owner.
    pub instance: String,
    /// Typing renewals last shared with the cluster (PostgreSQL only).
    shared_typing: Mutex<HashMap<(String, String), Instant>>,
    /// Shared with the writer: whether webhooks may fire, and the delivery bell.
    pub webhooks: Arc<Tap>,
    /// Dropping this stops the checkpointer thread (SQLite).
    _checkpoints: Option<std::sync::mpsc::Sender<()>>,
}

/// How often the checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// The SQLite publisher: a task on the server's runtime that applies each
/// committed batch's effects to the hub, then answers its callers. A runtime
/// task, not a thread: the stream tasks it wakes (one per subscriber) then go
/// to this worker's run queue, to be picked up at once by it and by idle
/// workers stealing, rather than all into the runtime's shared injection queue
/// (where a wake from a foreign thread puts them), which added a scheduling
/// delay that grew with the number of subscribers (see README "Performance").
fn sqlite_publisher(hub: Arc<Hub>) -> anyhow::Result<writer::Publish> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| anyhow::anyhow!("the store must be opened on the server's tokio runtime"))?;
    let (publish, mut published) = tokio::sync::mpsc::unbounded_channel::<writer::Committed>();
    runtime.spawn(async move {
        while let Some(batch) = published.recv().await {
            hub.apply(batch.effects);
            batch.answers.into_iter().for_each(|answer| answer());
        }
    });
    Ok(Box::new(move |batch| drop(publish.send(batch))))
}

/// Starts a thread that runs passive checkpoints on its own connection, so
/// their fsync never stalls the writer. It stops when the returned sender drops.
fn checkpointer(path: &Path) -> anyhow::Result<std::sync::mpsc::Sender<()>> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new().name("store-checkpoint".into()).spawn(move || {
        use std::sync::mpsc::RecvTimeoutError;
        loop {
            let last = matches!(stopped.recv_timeout(CHECKPOINT_EVERY), Err(RecvTimeoutError::Disconnected));
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!("checkpoint: {e}");
            }
            if last {
                break;
            }
        }
    })?;
    Ok(stop)
}

/// Where read connections come from (one per store: sizes do not matter).
#[allow(clippy::large_enum_variant)]
enum Source {
    Sqlite(PathBuf),
    Pg(postgres::Config),
}

struct Readers {
    source: Source,
    pool: Mutex<Vec<Connection>>,
}

impl Readers {
    fn take(&self) -> Result<Connection, ApiError> {
        if let Some(c) = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(c);
        }
        match &self.source {
            Source::Sqlite(path) => {
                let conn = rusqlite::Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
                )
                .map_err(db::Error::from)?;
                conn.busy_timeout(Duration::from_secs(5)).map_err(db::Error::from)?;
                conn.set_prepared_statement_cache_capacity(128);
                Ok(Connection::Sqlite(conn))
            }
            Source::Pg(config) => {
                Ok(Connection::Pg(PgConn::new(config.connect(postgres::NoTls).map_err(db::Error::from)?)))
            }
        }
    }

    fn give_back(&self, conn: Connection) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < 16 && !conn.is_closed() {
            pool.push(conn);
        }
    }
}

/// The sync PostgreSQL client closes itself by blocking on its own runtime,
/// which must not happen on an async worker (where the last `Store` handle may
/// drop): pooled connections are closed on a thread of their own.
impl Drop for Readers {
    fn drop(&mut self) {
        let pool = std::mem::take(self.pool.get_mut().unwrap_or_else(|p| p.into_inner()));
        if matches!(self.source, Source::Pg(_)) && !pool.is_empty() {
            let closing = std::thread::Builder::new().name("store-close".into()).spawn(move || drop(pool));
            if let Err(e) = closing {
                tracing::warn!("cannot close read connections: {e}");
            }
        }
    }
}

fn open_sqlite_writer(path: &Path) -> anyhow::Result<Connection> {
    let conn = rusqlite::Connection::open(path)?;
    // WAL + synchronous=NORMAL: a commit is in the WAL file before we answer, so
    // it survives a killed process (not a power cut, which is the documented trade).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Checkpoints (which fsync) run on their own thread (`checkpointer`); the
    // writer checkpoints only if the WAL grows past this, e.g. under writes so
    // constant that a passive checkpoint never catches up.
    conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(Connection::Sqlite(conn))
}

/// `postgres://user:secret@host/db` shown as `postgres://user:***@host/db`
/// (and `password=secret` in key=value form as `password=***`).
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, tail) = rest.split_once('/').map_or((rest, None), |(a, t)| (a, Some(t)));
        let authority = match authority.rsplit_once('@') {
            Some((user, host)) => match user.split_once(':') {
                Some((name, _)) => format!("{name}:***@{host}"),
                None => format!("{user}@{host}"),
            },
            None => authority.to_owned(),
        };
        let tail = tail.map(|t| format!("/{}", redact_keys(t, '&'))).unwrap_or_default();
        return format!("{scheme}://{authority}{tail}");
    }
    redact_keys(url, ' ')
}

fn redact_keys(s: &str, sep: char) -> String {
    s.split(sep)
        .map(|part| if part.starts_with("password=") { "password=***".to_owned() } else { part.to_owned() })
        .collect::<Vec<_>>()
        .join(&sep.to_string())
}

fn pg_config(url: &str) -> anyhow::Result<postgres::Config> {
    let mut config: postgres::Config =
        url.parse().map_err(|e| anyhow::anyhow!("{} is not a PostgreSQL URL: {e}", redact(url)))?;
    config.connect_timeout(PG_CONNECT_TIMEOUT);
    config.application_name("convo-tui");
    Ok(config)
}

fn pg_connect(config: &postgres::Config) -> Result<Connection, db::Error> {
    Ok(Connection::Pg(PgConn::new(config.connect(postgres::NoTls)?)))
}

/// The `meta` value under `key`, made by `make` on first start (kept if
/// another instance made it first).
fn meta(conn: &Connection, key: &str, make: &dyn Fn() -> String) -> db::Result<String> {
    let get = || conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional();
    if let Some(v) = get()? {
        return Ok(v);
    }
    conn.execute("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![key, make()])?;
    get()?.ok_or(db::Error::NoRows)
}

impl Store {
    /// Opens (creating and migrating if needed) the database: PostgreSQL at
    /// `database` when given, else SQLite in `data_dir`; starts the writer
    /// thread (and on PostgreSQL the event-log follower), and seeds the hub's
    /// membership map. An unreachable database is an error naming it.
    pub fn open(
        data_dir: &Path,
        database: Option<&str>,
        hub: Arc<Hub>,
        account_sid: &str,
    ) -> anyhow::Result<(Self, std::thread::JoinHandle<()>)> {
        let (conn, source, shown) = match database {
            Some(url) => {
                let config = pg_config(url)?;
                let shown = redact(url);
                let conn = pg_connect(&config).map_err(|e| anyhow::anyhow!("cannot use the database {shown}: {e}"))?;
                (conn, Source::Pg(config), shown)
            }
            None => {
                std::fs::create_dir_all(data_dir)?;
                let path = data_dir.join(DB_FILE);
                let shown = format!("sqlite:{}", path.display());
                (open_sqlite_writer(&path)?, Source::Sqlite(path), shown)
            }
        };
        migrations::migrate(&conn).map_err(|e| anyhow::anyhow!("cannot migrate the database {shown}: {e}"))?;
        let service_sid = meta(&conn, "service_sid", &|| new_sid(prefix::SERVICE))?;
        let service_created =
            meta(&conn, "service_created", &|| crate::api::time::now_unix().to_string())?.parse().unwrap_or(0);
        // The log's head before the members: whatever commits in between is replayed.
        let head = match conn.kind() {
            Kind::Postgres => Some(eventlog::head(&conn)?),
            Kind::Sqlite => None,
        };
        let pairs = conn
            .prepare("SELECT conversation_sid, identity FROM participants WHERE identity IS NOT NULL")?
            .query_map(params![], |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))?
            .collect::<db::Result<Vec<_>>>()?;
        hub.load_members(pairs);
        // Another instance may configure a webhook at any time, so on PostgreSQL
        // every write looks (skipping that work until one is configured is for
        // a store with one writer process).
        let configured = conn.kind() == Kind::Postgres || webhooks::any_configured(&conn)?;
        let tap = Arc::new(Tap::new(account_sid.to_owned(), service_sid.clone(), configured));
        let instance = new_sid("NI"); // this instance, in the log's `origin` column
        let (writer, handle, checkpoints) = match (&source, head) {
            (Source::Pg(config), Some(head)) => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                let follow: tokio_postgres::Config =
                    database.unwrap_or_default().parse().map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
                eventlog::Follower::spawn(follow, hub, head, rx);
                let config = config.clone();
                let reconnect: writer::Reconnect = Box::new(move || Ok(pg_connect(&config)?));
                let publish: writer::Publish = Box::new(move |batch| drop(tx.send(batch)));
                let (w, h) = Writer::spawn(conn, Some(reconnect), instance.clone(), publish, tap.clone())?;
                (w, h, None)
            }
            (Source::Sqlite(path), _) => {
                let (w, h) = Writer::spawn(conn, None, instance.clone(), sqlite_publisher(hub)?, tap.clone())?;
                (w, h, Some(checkpointer(path)?))
            }
            (Source::Pg(_), None) => anyhow::bail!("no event log head"),
        };
        let readers = Arc::new(Readers { source, pool: Mutex::new(Vec::new()) });
        let store = Self {
            writer,
            readers,
            service_sid,
            service_created,
            database: shown,
            instance,
            webhooks: tap,
            shared_typing: Mutex::new(HashMap::new()),
            _checkpoints: checkpoints,
        };
        Ok((store, handle))
    }

    pub fn kind(&self) -> Kind {
        match self.readers.source {
            Source::Sqlite(_) => Kind::Sqlite,
            Source::Pg(_) => Kind::Postgres,
        }
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<(), ApiError> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", params![], |_| Ok(()))?)).await
    }

    /// Tells the other instances (PostgreSQL) that `identity` types in
    /// `conversation`: a start with the participant's JSON, or a renewal
    /// (shared at most once a second). Nothing to do on SQLite.
    pub async fn share_typing(&self, conversation: &str, identity: &str, participant: Option<serde_json::Value>) {
        if self.kind() != Kind::Postgres {
            return;
        }
        let key = (conversation.to_owned(), identity.to_owned());
        {
            let mut shared = self.shared_typing.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            if participant.is_none() && shared.get(&key).is_some_and(|t| now.duration_since(*t) < SHARE_RENEWALS_EVERY)
            {
                return;
            }
            shared.retain(|_, t| now.duration_since(*t) < SHARE_RENEWALS_EVERY);
            shared.insert(key.clone(), now);
        }
        let (conversation, identity) = key;
        let effect = Effect::Typing { conversation, identity, participant };
        if let Err(e) = self.write(move |_| Ok(((), vec![effect]))).await {
            tracing::debug!("sharing typing failed: {}", e.0.message);
        }
    }

    /// Runs a read on a pooled read connection, off the async threads.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, ApiError> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = readers.take()?;
            let result = f(&conn);
            readers.give_back(conn);
            result
        })
        .await
        .map_err(|_| ApiError::internal("a read task failed"))?
    }

    /// Runs `f` inside the next write transaction; see [`Writer::write`].
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<(T, Vec<Effect>), ApiError> + Send + 'static,
    {
        self.writer.write(f).await
    }
}
