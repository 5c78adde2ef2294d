//! SQL for users. A user is addressed by SID or identity (identities may not
//! look like US SIDs); one is made implicitly when an identity first appears.

use super::db::{Connection, OptionalExtension, Result, params};

use super::rows::UserRow;
use crate::api::sid::{is_sid, new_sid, prefix};
use crate::server::paging::Window;

pub fn get(conn: &Connection, sid_or_identity: &str) -> Result<Option<UserRow>> {
    let column = if is_sid(prefix::USER, sid_or_identity) { "sid" } else { "identity" };
    let sql = format!("SELECT {} FROM users u WHERE u.{column} = ?1", UserRow::COLUMNS);
    conn.prepare_cached(&sql)?.query_row([sid_or_identity], UserRow::from_row).optional()
}

pub fn insert(conn: &Connection, u: &UserRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO users (sid, identity, friendly_name, attributes, role_sid, date_created, date_updated) \
         VALUES (?1, ?2, ?3, ?4, COALESCE(?5, (SELECT default_chat_service_role_sid FROM service_configuration)), \
         ?6, ?7)",
    )?
    .execute(params![
        u.sid,
        u.identity,
        u.friendly_name,
        u.attributes,
        u.role_sid,
        u.date_created,
        u.date_updated
    ])?;
    Ok(())
}

/// The user with this identity, created if it does not exist yet. The flag says whether it was created.
pub fn ensure(conn: &Connection, identity: &str, now: i64) -> Result<(UserRow, bool)> {
    if let Some(u) = get(conn, identity)? {
        return Ok((u, false));
    }
    let u = UserRow {
        id: 0,
        sid: new_sid(prefix::USER),
        identity: identity.to_owned(),
        friendly_name: None,
        attributes: "{}".into(),
        role_sid: None,
        date_created: now,
        date_updated: now,
    };
    insert(conn, &u)?;
    Ok((UserRow { id: conn.last_insert_rowid(), ..u }, true))
}

pub fn update(conn: &Connection, u: &UserRow) -> Result<()> {
    conn.prepare_cached(
        "UPDATE users SET friendly_name = ?2, attributes = ?3, role_sid = ?4, date_updated = ?5 WHERE sid = ?1",
    )?
    .execute(params![u.sid, u.friendly_name, u.attributes, u.role_sid, u.date_updated])?;
    Ok(())
}

pub fn delete(conn: &Connection, sid: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM users WHERE sid = ?1")?.execute([sid])?;
    Ok(())
}

/// All users, or (for a person) those sharing a conversation with `visible_to`, and themselves.
pub fn scan(conn: &Connection, visible_to: Option<&str>, w: Window) -> Result<Vec<(i64, UserRow)>> {
    let order = if w.descending { "DESC" } else { "ASC" };
    let filter = if visible_to.is_some() {
        "AND (u.identity = ?4 OR u.identity IN (SELECT o.identity FROM participants me \
         JOIN participants o ON o.conversation_sid = me.conversation_sid WHERE me.identity = ?4))"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {} FROM users u WHERE u.id > ?1 AND u.id < ?2 {filter} ORDER BY u.id {order} LIMIT ?3",
        UserRow::COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = match visible_to {
        Some(me) => stmt.query_map(params![w.lo, w.hi, w.limit, me], |r| UserRow::from_row(r).map(|u| (u.id, u)))?,
        None => stmt.query_map(params![w.lo, w.hi, w.limit], |r| UserRow::from_row(r).map(|u| (u.id, u)))?,
    };
    rows.collect()
}

/// Whether two identities share at least one conversation.
pub fn share_a_conversation(conn: &Connection, a: &str, b: &str) -> Result<bool> {
    conn.prepare_cached(
        "SELECT 1 FROM participants x JOIN participants y ON y.conversation_sid = x.conversation_sid \
         WHERE x.identity = ?1 AND y.identity = ?2 LIMIT 1",
    )?
    .exists([a, b])
}

/// The identities of everyone in a conversation with `identity` (themselves included, once each).
pub fn co_participants(conn: &Connection, identity: &str) -> Result<Vec<String>> {
    conn.prepare_cached(
        "SELECT DISTINCT o.identity FROM participants me JOIN participants o \
         ON o.conversation_sid = me.conversation_sid WHERE me.identity = ?1 AND o.identity IS NOT NULL",
    )?
    .query_map([identity], |r| r.get(0))?
    .collect()
}
