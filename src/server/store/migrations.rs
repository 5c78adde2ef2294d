//! Versioned schema migrations, one list per store: each runs once, in its own
//! transaction, recorded in `schema_migrations`; PostgreSQL instances starting
//! together take turns under an advisory lock.

use super::db::{Connection, Kind, Result, params};

/// (version, SQL) in order. SQLite's first one is the schema as it was before
/// versions were kept (all `IF NOT EXISTS`), so old files migrate cleanly.
const SQLITE: &[(i64, &str)] = &[
    (1, include_str!("schema.sql")),
    (2, include_str!("webhooks.sql")),
    (3, include_str!("media.sql")),
    (4, include_str!("search.sql")),
    (5, include_str!("presence.sql")),
];
const POSTGRES: &[(i64, &str)] = &[
    (1, include_str!("schema_pg.sql")),
    (2, include_str!("eventlog_pg.sql")),
    (3, include_str!("roles_webhooks_pg.sql")),
    (4, include_str!("media_pg.sql")),
    (5, include_str!("search_pg.sql")),
    (6, include_str!("presence.sql")),
];

/// Any number that is ours alone among advisory locks on the database.
const MIGRATION_LOCK: i64 = 0x636f_6e76_6f01;

/// Brings the schema up to the newest version.
pub fn migrate(conn: &Connection) -> Result<()> {
    let (list, lock, unlock) = match conn.kind() {
        Kind::Sqlite => (SQLITE, None, None),
        Kind::Postgres => (
            POSTGRES,
            Some(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")),
            Some(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")),
        ),
    };
    if let Some(sql) = &lock {
        conn.execute_batch(sql)?;
    }
    let result = apply(conn, list);
    if let Some(sql) = &unlock {
        conn.execute_batch(sql)?;
    }
    result
}

fn apply(conn: &Connection, list: &[(i64, &str)]) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied BIGINT NOT NULL)",
    )?;
    let done: Vec<i64> = conn
        .prepare_cached("SELECT version FROM schema_migrations")?
        .query_map(params![], |r| r.get(0))?
        .collect::<Result<_>>()?;
    for (version, sql) in list.iter().filter(|(v, _)| !done.contains(v)) {
        conn.execute_batch("BEGIN")?;
        let step = conn.execute_batch(sql).and_then(|()| {
            conn.execute(
                "INSERT INTO schema_migrations (version, applied) VALUES (?1, ?2)",
                params![version, crate::api::time::now_unix()],
            )
        });
        match step {
            Ok(_) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
        tracing::info!("store schema migrated to version {version}");
    }
    Ok(())
}
