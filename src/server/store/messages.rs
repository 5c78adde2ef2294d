//! SQL for messages. The key is `(conversation_sid, idx)`: pages are range
//! scans of the primary key; an index comes from the conversation's
//! `next_index` counter in the same transaction as the insert.

use super::db::{Connection, OptionalExtension, Result, params};

use super::rows::MessageRow;
use crate::server::paging::Window;

/// A fresh message SID (`IM` + 32 hex, as Twilio's). The hex starts with the
/// time (48 bits of milliseconds, as in a v7 UUID) and ends with 80 random
/// bits: new SIDs land at the right edge of the SID index instead of on a
/// random page, so a commit writes a few pages, not one per message.
pub fn new_message_sid() -> String {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let random = uuid::Uuid::new_v4().as_u128() & ((1u128 << 80) - 1);
    format!("{}{:012x}{random:020x}", crate::api::sid::prefix::MESSAGE, millis & 0xffff_ffff_ffff)
}

/// By SID, or (our extension, handy for clients holding indexes) by index.
pub fn get(conn: &Connection, conversation_sid: &str, sid_or_index: &str) -> Result<Option<MessageRow>> {
    if let Ok(index) = sid_or_index.parse::<i64>() {
        let sql =
            format!("SELECT {} FROM messages m WHERE m.conversation_sid = ?1 AND m.idx = ?2", MessageRow::COLUMNS);
        return conn.prepare_cached(&sql)?.query_row(params![conversation_sid, index], MessageRow::from_row).optional();
    }
    let sql = format!("SELECT {} FROM messages m WHERE m.sid = ?1 AND m.conversation_sid = ?2", MessageRow::COLUMNS);
    conn.prepare_cached(&sql)?.query_row([sid_or_index, conversation_sid], MessageRow::from_row).optional()
}

/// Allocates the next index of the conversation (never reused) and inserts the
/// message under it; keeps the conversation's count and last message current.
pub fn insert(conn: &Connection, m: &mut MessageRow) -> Result<()> {
    m.idx = conn
        .prepare_cached(
            "UPDATE conversations SET next_index = next_index + 1, messages_count = messages_count + 1, \
             last_message_index = next_index, last_message_date = ?2 WHERE sid = ?1 RETURNING next_index - 1",
        )?
        .query_row(params![m.conversation_sid, m.date_created], |r| r.get(0))?;
    conn.prepare_cached(
        "INSERT INTO messages (conversation_sid, idx, sid, author, body, attributes, participant_sid, date_created, \
         date_updated, media, content_sid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        m.conversation_sid,
        m.idx,
        m.sid,
        m.author,
        m.body,
        m.attributes,
        m.participant_sid,
        m.date_created,
        m.date_updated,
        m.media,
        m.content_sid
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, m: &MessageRow) -> Result<()> {
    conn.prepare_cached(
        "UPDATE messages SET author = ?3, body = ?4, attributes = ?5, date_created = ?6, date_updated = ?7 \
         WHERE conversation_sid = ?1 AND idx = ?2",
    )?
    .execute(params![
        m.conversation_sid,
        m.idx,
        m.author,
        m.body,
        m.attributes,
        m.date_created,
        m.date_updated
    ])?;
    Ok(())
}

/// Deletes a message; the conversation's count drops and its last message is
/// recomputed from the key (one index probe), while `next_index` stays put.
pub fn delete(conn: &Connection, m: &MessageRow) -> Result<()> {
    conn.prepare_cached("DELETE FROM messages WHERE conversation_sid = ?1 AND idx = ?2")?
        .execute(params![m.conversation_sid, m.idx])?;
    conn.prepare_cached("INSERT INTO deleted_messages (conversation_sid, idx) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
        .execute(params![m.conversation_sid, m.idx])?;
    conn.prepare_cached(
        "UPDATE conversations SET messages_count = messages_count - 1, \
         last_message_index = (SELECT idx FROM messages WHERE conversation_sid = ?1 ORDER BY idx DESC LIMIT 1), \
         last_message_date = (SELECT date_created FROM messages WHERE conversation_sid = ?1 ORDER BY idx DESC LIMIT 1) \
         WHERE sid = ?1",
    )?
    .execute([&m.conversation_sid])?;
    Ok(())
}

pub fn scan(conn: &Connection, conversation_sid: &str, w: Window) -> Result<Vec<(i64, MessageRow)>> {
    let order = if w.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {} FROM messages m WHERE m.conversation_sid = ?1 AND m.idx > ?2 AND m.idx < ?3 \
         ORDER BY m.idx {order} LIMIT ?4",
        MessageRow::COLUMNS
    );
    conn.prepare_cached(&sql)?
        .query_map(params![conversation_sid, w.lo, w.hi, w.limit], |r| MessageRow::from_row(r).map(|m| (m.idx, m)))?
        .collect()
}

/// The newest `limit` indexes of deleted messages of a conversation.
pub fn deleted_indexes(conn: &Connection, conversation_sid: &str, limit: i64) -> Result<Vec<i64>> {
    conn.prepare_cached("SELECT idx FROM deleted_messages WHERE conversation_sid = ?1 ORDER BY idx DESC LIMIT ?2")?
        .query_map(params![conversation_sid, limit], |r| r.get(0))?
        .collect()
}

/// Messages after `horizon`, without walking them: the indexes handed out
/// after it (indexes are dense but for deletes) less the deleted ones.
pub fn count_after(conn: &Connection, conversation_sid: &str, horizon: i64) -> Result<i64> {
    let next_index: i64 = conn
        .prepare_cached("SELECT next_index FROM conversations WHERE sid = ?1")?
        .query_row([conversation_sid], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let handed_out = (next_index - 1 - horizon).max(0);
    if handed_out == 0 {
        return Ok(0);
    }
    let deleted: i64 = conn
        .prepare_cached("SELECT count(*) FROM deleted_messages WHERE conversation_sid = ?1 AND idx > ?2")?
        .query_row(params![conversation_sid, horizon], |r| r.get(0))?;
    Ok((handed_out - deleted).max(0))
}

/// The message a caller's Idempotency-Key made within 24 h: `Some(None)`
/// when the key was used but its message has since been deleted.
pub fn idempotent_message(conn: &Connection, caller: &str, key: &str, now: i64) -> Result<Option<Option<MessageRow>>> {
    let sid: Option<String> = conn
        .prepare_cached("SELECT message_sid FROM idempotency_keys WHERE caller = ?1 AND key = ?2 AND created > ?3")?
        .query_row(params![caller, key, now - 24 * 3600], |r| r.get(0))
        .optional()?;
    let Some(sid) = sid else { return Ok(None) };
    let sql = format!("SELECT {} FROM messages m WHERE m.sid = ?1", MessageRow::COLUMNS);
    conn.prepare_cached(&sql)?.query_row([sid], MessageRow::from_row).optional().map(Some)
}

pub fn remember_key(conn: &Connection, caller: &str, key: &str, message_sid: &str, now: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO idempotency_keys (caller, key, message_sid, created) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (caller, key) DO UPDATE SET message_sid = excluded.message_sid, created = excluded.created",
    )?
    .execute(params![caller, key, message_sid, now])?;
    Ok(())
}

/// Forgets keys older than 24 h.
pub fn expire_keys(conn: &Connection, now: i64) -> Result<usize> {
    conn.prepare_cached("DELETE FROM idempotency_keys WHERE created <= ?1")?.execute([now - 24 * 3600])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_sids_have_twilio_shape_and_grow_with_time() {
        let a = new_message_sid();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_message_sid();
        assert!(crate::api::sid::is_sid("IM", &a) && crate::api::sid::is_sid("IM", &b), "{a} {b}");
        assert!(a < b, "{a} then {b}");
    }

    fn plan(conn: &rusqlite::Connection, sql: &str) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(std::result::Result::unwrap).collect::<Vec<_>>().join(" | ")
    }

    /// The cost of a page must not grow with its depth: every page query is a
    /// range search of the (conversation_sid, idx) key, with no sort step.
    #[test]
    fn pages_and_unread_counts_are_key_range_searches() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(include_str!("schema.sql")).unwrap();
        for descending in [false, true] {
            let order = if descending { "DESC" } else { "ASC" };
            let sql = format!(
                "SELECT {} FROM messages m WHERE m.conversation_sid = 'CH1' AND m.idx > 5 AND m.idx < 1000000 \
                 ORDER BY m.idx {order} LIMIT 51",
                MessageRow::COLUMNS
            );
            let p = plan(&conn, &sql);
            assert!(p.contains("SEARCH m USING PRIMARY KEY (conversation_sid=? AND idx>? AND idx<?)"), "{p}");
            assert!(!p.contains("TEMP B-TREE"), "{p}");
        }
        let p = plan(&conn, "SELECT count(*) FROM deleted_messages WHERE conversation_sid = 'CH1' AND idx > 5");
        assert!(p.contains("SEARCH deleted_messages USING PRIMARY KEY"), "{p}");
    }
}
