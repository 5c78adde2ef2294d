//! Storage: one SQLite file in WAL mode. Writes go through the single writer
//! thread (group commit, see `writer`); reads run on a small pool of their own
//! connections in `spawn_blocking`, so readers never wait behind a write batch.
//!
//! The SQL for each resource lives in its own file and takes a plain
//! `&Connection`, so the same query serves reads and the checks inside writes.

pub mod configuration;
pub mod conversations;
pub mod messages;
pub mod outbox;
pub mod participants;
pub mod roles;
pub mod rows;
pub mod users;
pub mod webhooks;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::api::sid::{new_sid, prefix};
use crate::server::error::ApiError;
use crate::server::hub::{Effect, Hub};
use crate::server::webhooks::tap::Tap;
pub use writer::Writer;

const SCHEMA: &str = include_str!("schema.sql");
const DB_FILE: &str = "convo.sqlite3";

/// The store: the writer handle, the reader pool, and the service SID.
pub struct Store {
    writer: Writer,
    readers: Arc<Readers>,
    /// The one chat service (`IS…`), made on first start and kept in `meta`.
    pub service_sid: String,
    /// When the service was made (Unix seconds).
    pub service_created: i64,
    /// Shared with the writer: whether webhooks may fire, and the delivery bell.
    pub webhooks: Arc<Tap>,
    /// Dropping this stops the checkpointer thread.
    _checkpoints: std::sync::mpsc::Sender<()>,
}

/// How often the checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Starts a thread that runs passive checkpoints on its own connection, so
/// their fsync never stalls the writer. It stops when the returned sender drops.
fn checkpointer(path: &Path) -> anyhow::Result<std::sync::mpsc::Sender<()>> {
    let conn = Connection::open(path)?;
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

struct Readers {
    path: PathBuf,
    pool: Mutex<Vec<Connection>>,
}

impl Readers {
    fn take(&self) -> rusqlite::Result<Connection> {
        if let Some(c) = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(c);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(128);
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < 16 {
            pool.push(conn);
        }
    }
}

fn open_writer(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // WAL + synchronous=NORMAL: a commit is in the WAL file before we answer, so
    // it survives a killed process (not a power cut, which is the documented trade).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Checkpoints (which fsync) run on their own thread (`checkpointer`); the
    // writer checkpoints only if the WAL grows past this, e.g. under writes so
    // constant that a passive checkpoint never catches up.
    conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(128);
    conn.execute_batch(SCHEMA)?;
    conn.execute_batch(webhooks::SCHEMA)?;
    Ok(conn)
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir`, starts the writer
    /// thread, and seeds the hub's membership map.
    pub fn open(
        data_dir: &Path,
        hub: Arc<Hub>,
        account_sid: &str,
    ) -> anyhow::Result<(Self, std::thread::JoinHandle<()>)> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(DB_FILE);
        let conn = open_writer(&path)?;
        let meta = |key: &str, make: &dyn Fn() -> String| -> rusqlite::Result<String> {
            let found = conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?;
            match found {
                Some(v) => Ok(v),
                None => {
                    let v = make();
                    conn.execute("INSERT INTO meta(key, value) VALUES (?1, ?2)", [key, &v])?;
                    Ok(v)
                }
            }
        };
        let service_sid = meta("service_sid", &|| new_sid(prefix::SERVICE))?;
        let service_created =
            meta("service_created", &|| crate::api::time::now_unix().to_string())?.parse().unwrap_or(0);
        let mut stmt =
            conn.prepare("SELECT conversation_sid, identity FROM participants WHERE identity IS NOT NULL")?;
        let pairs = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        hub.load_members(pairs);
        let tap = Arc::new(Tap::new(account_sid.to_owned(), service_sid.clone(), webhooks::any_configured(&conn)?));
        let (writer, handle) = Writer::spawn(conn, hub, tap.clone())?;
        let checkpoints = checkpointer(&path)?;
        let readers = Arc::new(Readers { path, pool: Mutex::new(Vec::new()) });
        Ok((Self { writer, readers, service_sid, service_created, webhooks: tap, _checkpoints: checkpoints }, handle))
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
