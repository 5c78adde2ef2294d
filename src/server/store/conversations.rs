//! SQL for conversations. Look-ups accept a SID or a unique name (unique names
//! may not look like CH SIDs, so the two never collide).

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::ConversationRow;
use crate::api::sid::{is_sid, prefix};
use crate::server::paging::Window;

pub fn get(conn: &Connection, sid_or_name: &str) -> rusqlite::Result<Option<ConversationRow>> {
    let column = if is_sid(prefix::CONVERSATION, sid_or_name) { "sid" } else { "unique_name" };
    let sql = format!("SELECT {} FROM conversations c WHERE c.{column} = ?1", ConversationRow::COLUMNS);
    conn.prepare_cached(&sql)?.query_row([sid_or_name], ConversationRow::from_row).optional()
}

pub fn unique_name_taken(conn: &Connection, name: &str, except_sid: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM conversations WHERE unique_name = ?1 AND sid != ?2")?
        .exists(params![name, except_sid])
}

pub fn insert(conn: &Connection, c: &ConversationRow) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO conversations (sid, unique_name, friendly_name, attributes, state, messaging_service_sid, \
         date_created, date_updated, date_inactive, date_closed, bindings, created_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        c.sid,
        c.unique_name,
        c.friendly_name,
        c.attributes,
        c.state,
        c.messaging_service_sid,
        c.date_created,
        c.date_updated,
        c.date_inactive,
        c.date_closed,
        c.bindings,
        c.created_by
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Writes the user-editable fields back (counters are kept by their own statements).
pub fn update(conn: &Connection, c: &ConversationRow) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE conversations SET unique_name = ?2, friendly_name = ?3, attributes = ?4, state = ?5, \
         messaging_service_sid = ?6, date_created = ?7, date_updated = ?8, date_inactive = ?9, date_closed = ?10, \
         bindings = ?11 WHERE sid = ?1",
    )?
    .execute(params![
        c.sid,
        c.unique_name,
        c.friendly_name,
        c.attributes,
        c.state,
        c.messaging_service_sid,
        c.date_created,
        c.date_updated,
        c.date_inactive,
        c.date_closed,
        c.bindings
    ])?;
    Ok(())
}

/// Deletes the conversation with its messages and participants.
pub fn delete(conn: &Connection, sid: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM messages WHERE conversation_sid = ?1")?.execute([sid])?;
    conn.prepare_cached("DELETE FROM deleted_messages WHERE conversation_sid = ?1")?.execute([sid])?;
    conn.prepare_cached("DELETE FROM participants WHERE conversation_sid = ?1")?.execute([sid])?;
    conn.prepare_cached("DELETE FROM conversations WHERE sid = ?1")?.execute([sid])?;
    Ok(())
}

/// Filters of the conversation list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<String>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    /// Only conversations this identity participates in (a person's view).
    pub member: Option<String>,
}

pub fn scan(conn: &Connection, f: &Filter, w: Window) -> rusqlite::Result<Vec<(i64, ConversationRow)>> {
    let from = if f.member.is_some() {
        "participants p JOIN conversations c ON c.sid = p.conversation_sid AND p.identity = :member"
    } else {
        "conversations c"
    };
    let mut sql = format!("SELECT {} FROM {from} WHERE c.id > :lo AND c.id < :hi", ConversationRow::COLUMNS);
    if f.state.is_some() {
        sql.push_str(" AND c.state = :state");
    }
    if f.start.is_some() {
        sql.push_str(" AND c.date_created >= :start");
    }
    if f.end.is_some() {
        sql.push_str(" AND c.date_created <= :end");
    }
    sql.push_str(if w.descending { " ORDER BY c.id DESC LIMIT :limit" } else { " ORDER BY c.id ASC LIMIT :limit" });
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut named: Vec<(&str, &dyn rusqlite::ToSql)> = vec![(":lo", &w.lo), (":hi", &w.hi), (":limit", &w.limit)];
    if let Some(m) = &f.member {
        named.push((":member", m));
    }
    if let Some(s) = &f.state {
        named.push((":state", s));
    }
    if let Some(s) = &f.start {
        named.push((":start", s));
    }
    if let Some(e) = &f.end {
        named.push((":end", e));
    }
    stmt.query_map(named.as_slice(), |r| ConversationRow::from_row(r).map(|c| (c.id, c)))?.collect()
}
