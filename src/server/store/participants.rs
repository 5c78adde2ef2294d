//! SQL for participants, and for the memberships built on them (User
//! Conversations, ParticipantConversations): a participant row carries the
//! user's per-conversation state (read horizon, notification level).

use super::db::{Connection, OptionalExtension, Result, Row, params};

use super::messages;
use super::rows::{ConversationRow, MembershipRow, ParticipantRow};
use crate::api::sid::{is_sid, prefix};
use crate::server::paging::Window;

/// By SID, or by identity within the conversation.
pub fn get(conn: &Connection, conversation_sid: &str, sid_or_identity: &str) -> Result<Option<ParticipantRow>> {
    let column = if is_sid(prefix::PARTICIPANT, sid_or_identity) { "sid" } else { "identity" };
    let sql = format!(
        "SELECT {} FROM participants p WHERE p.conversation_sid = ?1 AND p.{column} = ?2",
        ParticipantRow::COLUMNS
    );
    conn.prepare_cached(&sql)?.query_row([conversation_sid, sid_or_identity], ParticipantRow::from_row).optional()
}

pub fn by_address(conn: &Connection, conversation_sid: &str, address: &str, proxy: Option<&str>) -> Result<bool> {
    conn.prepare_cached(
        "SELECT 1 FROM participants WHERE conversation_sid = ?1 AND address = ?2 AND proxy_address IS NOT DISTINCT FROM ?3",
    )?
    .exists(params![conversation_sid, address, proxy])
}

/// Counts (all, non-chat) participants of a conversation.
pub fn counts(conn: &Connection, conversation_sid: &str) -> Result<(i64, i64)> {
    conn.prepare_cached("SELECT count(*), count(address) FROM participants WHERE conversation_sid = ?1")?
        .query_row([conversation_sid], |r| Ok((r.get(0)?, r.get(1)?)))
}

pub fn insert(conn: &Connection, p: &ParticipantRow, address: Option<&str>, proxy: Option<&str>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO participants (sid, conversation_sid, identity, attributes, binding, address, proxy_address, \
         role_sid, date_created, date_updated, last_read_index, last_read_ts, notification_level) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        p.sid,
        p.conversation_sid,
        p.identity,
        p.attributes,
        p.binding,
        address,
        proxy,
        p.role_sid,
        p.date_created,
        p.date_updated,
        p.last_read_index,
        p.last_read_ts,
        p.notification_level
    ])?;
    conn.prepare_cached("UPDATE conversations SET participants_count = participants_count + 1 WHERE sid = ?1")?
        .execute([&p.conversation_sid])?;
    Ok(())
}

pub fn update(conn: &Connection, p: &ParticipantRow) -> Result<()> {
    conn.prepare_cached(
        "UPDATE participants SET identity = ?2, attributes = ?3, binding = ?4, role_sid = ?5, date_created = ?6, \
         date_updated = ?7, last_read_index = ?8, last_read_ts = ?9, notification_level = ?10 WHERE sid = ?1",
    )?
    .execute(params![
        p.sid,
        p.identity,
        p.attributes,
        p.binding,
        p.role_sid,
        p.date_created,
        p.date_updated,
        p.last_read_index,
        p.last_read_ts,
        p.notification_level
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, p: &ParticipantRow) -> Result<()> {
    conn.prepare_cached("DELETE FROM participants WHERE sid = ?1")?.execute([&p.sid])?;
    conn.prepare_cached("UPDATE conversations SET participants_count = participants_count - 1 WHERE sid = ?1")?
        .execute([&p.conversation_sid])?;
    Ok(())
}

pub fn scan(conn: &Connection, conversation_sid: &str, w: Window) -> Result<Vec<(i64, ParticipantRow)>> {
    let order = if w.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {} FROM participants p WHERE p.conversation_sid = ?1 AND p.id > ?2 AND p.id < ?3 \
         ORDER BY p.id {order} LIMIT ?4",
        ParticipantRow::COLUMNS
    );
    conn.prepare_cached(&sql)?
        .query_map(params![conversation_sid, w.lo, w.hi, w.limit], |r| ParticipantRow::from_row(r).map(|p| (p.id, p)))?
        .collect()
}

/// The user's unread count in a conversation: null until the horizon is set.
pub fn unread(conn: &Connection, p: &ParticipantRow) -> Result<Option<i64>> {
    match p.last_read_index {
        None => Ok(None),
        Some(h) => messages::count_after(conn, &p.conversation_sid, h).map(Some),
    }
}

/// How memberships are looked up: by chat identity or by messaging address.
#[derive(Debug, Clone)]
pub enum Who {
    Identity(String),
    Address(String),
}

fn membership_from(r: &Row<'_>) -> Result<MembershipRow> {
    let participant = ParticipantRow::from_row(r)?;
    let conversation = ConversationRow::from_row_at(r, 12)?;
    Ok(MembershipRow { participant, conversation, unread: None })
}

/// The conversations `who` is in, keyed by participant row id.
pub fn memberships(conn: &Connection, who: &Who, w: Window) -> Result<Vec<(i64, MembershipRow)>> {
    let (column, value) = match who {
        Who::Identity(i) => ("identity", i),
        Who::Address(a) => ("address", a),
    };
    let order = if w.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {}, {} FROM participants p JOIN conversations c ON c.sid = p.conversation_sid \
         WHERE p.{column} = ?1 AND p.id > ?2 AND p.id < ?3 ORDER BY p.id {order} LIMIT ?4",
        ParticipantRow::COLUMNS,
        ConversationRow::COLUMNS
    );
    let mut rows: Vec<(i64, MembershipRow)> = conn
        .prepare_cached(&sql)?
        .query_map(params![value, w.lo, w.hi, w.limit], |r| membership_from(r).map(|m| (m.participant.id, m)))?
        .collect::<Result<_>>()?;
    for (_, m) in &mut rows {
        m.unread = unread(conn, &m.participant)?;
    }
    Ok(rows)
}

/// One membership of `identity` in the conversation `conversation_sid`.
pub fn membership(conn: &Connection, identity: &str, conversation_sid: &str) -> Result<Option<MembershipRow>> {
    let sql = format!(
        "SELECT {}, {} FROM participants p JOIN conversations c ON c.sid = p.conversation_sid \
         WHERE p.identity = ?1 AND p.conversation_sid = ?2",
        ParticipantRow::COLUMNS,
        ConversationRow::COLUMNS
    );
    let Some(mut m) = conn.prepare_cached(&sql)?.query_row([identity, conversation_sid], membership_from).optional()?
    else {
        return Ok(None);
    };
    m.unread = unread(conn, &m.participant)?;
    Ok(Some(m))
}
