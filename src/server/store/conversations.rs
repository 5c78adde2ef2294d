//! SQL for conversations. Look-ups accept a SID or a unique name (unique names
//! may not look like CH SIDs, so the two never collide).

use super::db::{Connection, OptionalExtension, Result, ToValue, params};

use super::rows::ConversationRow;
use crate::api::sid::{is_sid, prefix};
use crate::server::paging::Window;

pub fn get(conn: &Connection, sid_or_name: &str) -> Result<Option<ConversationRow>> {
    let column = if is_sid(prefix::CONVERSATION, sid_or_name) { "sid" } else { "unique_name" };
    let sql = format!("SELECT {} FROM conversations c WHERE c.{column} = ?1", ConversationRow::COLUMNS);
    conn.prepare_cached(&sql)?.query_row([sid_or_name], ConversationRow::from_row).optional()
}

pub fn unique_name_taken(conn: &Connection, name: &str, except_sid: &str) -> Result<bool> {
    conn.prepare_cached("SELECT 1 FROM conversations WHERE unique_name = ?1 AND sid != ?2")?
        .exists(params![name, except_sid])
}

pub fn insert(conn: &Connection, c: &ConversationRow) -> Result<i64> {
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
pub fn update(conn: &Connection, c: &ConversationRow) -> Result<()> {
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
pub fn delete(conn: &Connection, sid: &str) -> Result<()> {
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

pub fn scan(conn: &Connection, f: &Filter, w: Window) -> Result<Vec<(i64, ConversationRow)>> {
    // Slots ?1 and ?2 are the window; each filter present takes the next one.
    let mut values: Vec<&dyn ToValue> = vec![&w.lo, &w.hi];
    let from = match &f.member {
        Some(m) => {
            values.push(m);
            format!(
                "participants p JOIN conversations c ON c.sid = p.conversation_sid AND p.identity = ?{}",
                values.len()
            )
        }
        None => "conversations c".to_owned(),
    };
    let mut sql = format!("SELECT {} FROM {from} WHERE c.id > ?1 AND c.id < ?2", ConversationRow::COLUMNS);
    if let Some(s) = &f.state {
        values.push(s);
        sql.push_str(&format!(" AND c.state = ?{}", values.len()));
    }
    if let Some(s) = &f.start {
        values.push(s);
        sql.push_str(&format!(" AND c.date_created >= ?{}", values.len()));
    }
    if let Some(e) = &f.end {
        values.push(e);
        sql.push_str(&format!(" AND c.date_created <= ?{}", values.len()));
    }
    values.push(&w.limit);
    let order = if w.descending { "DESC" } else { "ASC" };
    sql.push_str(&format!(" ORDER BY c.id {order} LIMIT ?{}", values.len()));
    conn.prepare_cached(&sql)?
        .query_map(values.as_slice(), |r| ConversationRow::from_row(r).map(|c| (c.id, c)))?
        .collect()
}
