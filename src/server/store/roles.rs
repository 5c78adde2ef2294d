//! SQL for roles, and for the role columns of participants and users.

use super::db::{Connection, OptionalExtension, Result, params};

use super::rows::RoleRow;
use crate::server::paging::Window;

pub fn get(conn: &Connection, sid: &str) -> Result<Option<RoleRow>> {
    let sql = format!("SELECT {} FROM roles r WHERE r.sid = ?1", RoleRow::COLUMNS);
    conn.prepare_cached(&sql)?.query_row([sid], RoleRow::from_row).optional()
}

pub fn insert(conn: &Connection, r: &RoleRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO roles (sid, friendly_name, type, permissions, date_created, date_updated) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![r.sid, r.friendly_name, r.role_type, r.permissions, r.date_created, r.date_updated])?;
    Ok(())
}

pub fn update_permissions(conn: &Connection, r: &RoleRow) -> Result<()> {
    conn.prepare_cached("UPDATE roles SET permissions = ?2, date_updated = ?3 WHERE sid = ?1")?.execute(params![
        r.sid,
        r.permissions,
        r.date_updated
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, sid: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM roles WHERE sid = ?1")?.execute([sid])?;
    Ok(())
}

pub fn scan(conn: &Connection, w: Window) -> Result<Vec<(i64, RoleRow)>> {
    let order = if w.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {} FROM roles r WHERE r.id > ?1 AND r.id < ?2 ORDER BY r.id {order} LIMIT ?3",
        RoleRow::COLUMNS
    );
    conn.prepare_cached(&sql)?
        .query_map(params![w.lo, w.hi, w.limit], |r| RoleRow::from_row(r).map(|row| (row.id, row)))?
        .collect()
}

/// Whether any participant or user holds the role.
pub fn assigned(conn: &Connection, sid: &str) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT 1 FROM participants WHERE role_sid = ?1")?.exists([sid])?
        || conn.prepare_cached("SELECT 1 FROM users WHERE role_sid = ?1")?.exists([sid])?)
}

/// The permissions (JSON text) of the conversation role `conversation_role`
/// and of the service role of user `identity`, in one look-up. A role not set
/// (or a user without a row) falls back to the service's default role; `None`
/// where there is no role at all.
pub fn permissions_of(
    conn: &Connection,
    conversation_role: Option<&str>,
    identity: &str,
) -> Result<(Option<String>, Option<String>)> {
    conn.prepare_cached(
        "SELECT (SELECT r.permissions FROM roles r WHERE r.sid = \
           COALESCE(?1, (SELECT default_conversation_role_sid FROM service_configuration))), \
         (SELECT r.permissions FROM roles r WHERE r.sid = \
           COALESCE((SELECT role_sid FROM users WHERE identity = ?2), \
                    (SELECT default_chat_service_role_sid FROM service_configuration)))",
    )?
    .query_row(params![conversation_role, identity], |r| Ok((r.get(0)?, r.get(1)?)))
}

/// Gives every participant and user without a role one: the creator role to
/// each conversation's creator, `conversation_role` to other participants and
/// `service_role` to users (databases from before roles existed).
pub fn assign_missing(
    conn: &Connection,
    creator_role: &str,
    conversation_role: &str,
    service_role: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE participants SET role_sid = ?1 WHERE role_sid IS NULL AND identity IS NOT NULL \
         AND identity = (SELECT c.created_by FROM conversations c WHERE c.sid = participants.conversation_sid)",
        [creator_role],
    )?;
    conn.execute("UPDATE participants SET role_sid = ?1 WHERE role_sid IS NULL", [conversation_role])?;
    conn.execute("UPDATE users SET role_sid = ?1 WHERE role_sid IS NULL", [service_role])?;
    Ok(())
}
