//! SQL for presence: per-instance leases and the (identity, instance) rows of
//! open streams. The rules that use them are in `server::presence`.

use super::db::{Connection, Result, params};

/// Renews `instance`'s lease to `until`; false when it had no lease row (first
/// start, or another instance swept it after it lapsed): a new one is made.
pub fn renew_lease(conn: &Connection, instance: &str, until: i64) -> Result<bool> {
    let renewed = conn
        .prepare_cached("UPDATE presence_instances SET lease_until = ?2 WHERE instance = ?1")?
        .execute(params![instance, until])?;
    if renewed > 0 {
        return Ok(true);
    }
    conn.prepare_cached("INSERT INTO presence_instances (instance, lease_until) VALUES (?1, ?2)")?
        .execute(params![instance, until])?;
    Ok(false)
}

/// Records that `instance` holds a stream of `identity` (kept if already there).
pub fn insert(conn: &Connection, instance: &str, identity: &str) -> Result<()> {
    conn.prepare_cached("INSERT INTO presence (identity, instance) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
        .execute(params![identity, instance])?;
    Ok(())
}

/// `instance` holds no stream of `identity` any more.
pub fn delete(conn: &Connection, instance: &str, identity: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM presence WHERE identity = ?1 AND instance = ?2")?
        .execute(params![identity, instance])?;
    Ok(())
}

/// Whether any presence row of `identity` exists, whatever its instance's lease
/// (what the streams were last told: rows go only through a sweep that tells).
pub fn any_row(conn: &Connection, identity: &str) -> Result<bool> {
    conn.prepare_cached("SELECT 1 FROM presence WHERE identity = ?1 LIMIT 1")?.exists([identity])
}

/// Whether `identity` has a stream open on an instance whose lease runs at `now`.
pub fn is_online(conn: &Connection, identity: &str, now: i64) -> Result<bool> {
    conn.prepare_cached(
        "SELECT 1 FROM presence p JOIN presence_instances i ON i.instance = p.instance \
         WHERE p.identity = ?1 AND i.lease_until >= ?2 LIMIT 1",
    )?
    .exists(params![identity, now])
}

/// The identities with rows on instances whose lease ended before `now`, or
/// on no instance at all.
pub fn lapsed(conn: &Connection, now: i64) -> Result<Vec<String>> {
    conn.prepare_cached(
        "SELECT DISTINCT p.identity FROM presence p LEFT JOIN presence_instances i ON i.instance = p.instance \
         WHERE i.instance IS NULL OR i.lease_until < ?1",
    )?
    .query_map(params![now], |r| r.get(0))?
    .collect()
}

/// Deletes the rows and leases of instances whose lease ended before `now`.
pub fn sweep(conn: &Connection, now: i64) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM presence WHERE instance NOT IN \
         (SELECT instance FROM presence_instances WHERE lease_until >= ?1)",
    )?
    .execute(params![now])?;
    conn.prepare_cached("DELETE FROM presence_instances WHERE lease_until < ?1")?.execute(params![now])?;
    Ok(())
}

/// The identities `instance` holds rows for.
pub fn of_instance(conn: &Connection, instance: &str) -> Result<Vec<String>> {
    conn.prepare_cached("SELECT identity FROM presence WHERE instance = ?1")?
        .query_map([instance], |r| r.get(0))?
        .collect()
}

/// Removes `instance` (a graceful stop): its lease and its rows.
pub fn drop_instance(conn: &Connection, instance: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM presence WHERE instance = ?1")?.execute([instance])?;
    conn.prepare_cached("DELETE FROM presence_instances WHERE instance = ?1")?.execute([instance])?;
    Ok(())
}
