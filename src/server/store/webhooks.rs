//! SQL for webhook configuration: the account's and the service's (one row
//! each in `webhook_scopes`), conversation-scoped webhooks, and the last seen
//! non-active state of conversations (for `onConversationStateUpdated`).

use super::db::{Connection, OptionalExtension, Result, Row, params};

use crate::server::paging::Window;

/// Which configuration row: the account's or the (one) service's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Account,
    Service,
}

impl Scope {
    fn key(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Service => "service",
        }
    }
}

/// An account or service webhook configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRow {
    pub method: String,
    pub filters: Vec<String>,
    pub pre_url: Option<String>,
    pub post_url: Option<String>,
    pub target: String,
}

impl Default for ScopeRow {
    fn default() -> Self {
        Self { method: "POST".into(), filters: Vec::new(), pre_url: None, post_url: None, target: "webhook".into() }
    }
}

fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn list_json(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// The configuration of `scope`; None when it was never set.
pub fn scope(conn: &Connection, scope: Scope) -> Result<Option<ScopeRow>> {
    conn.prepare_cached("SELECT method, filters, pre_url, post_url, target FROM webhook_scopes WHERE scope = ?1")?
        .query_row([scope.key()], |r| {
            Ok(ScopeRow {
                method: r.get(0)?,
                filters: json_list(&r.get::<String>(1)?),
                pre_url: r.get(2)?,
                post_url: r.get(3)?,
                target: r.get(4)?,
            })
        })
        .optional()
}

pub fn save_scope(conn: &Connection, scope: Scope, row: &ScopeRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO webhook_scopes (scope, method, filters, pre_url, post_url, target) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (scope) DO UPDATE SET method = excluded.method, filters = excluded.filters, \
         pre_url = excluded.pre_url, post_url = excluded.post_url, target = excluded.target",
    )?
    .execute(params![scope.key(), row.method, list_json(&row.filters), row.pre_url, row.post_url, row.target])?;
    Ok(())
}

/// A conversation-scoped webhook as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationWebhookRow {
    pub id: i64,
    pub sid: String,
    pub conversation_sid: String,
    /// `webhook`, `trigger` or `studio`.
    pub target: String,
    pub url: Option<String>,
    /// `get` or `post`, lower-case as Twilio shows it for this resource.
    pub method: String,
    pub filters: Vec<String>,
    pub triggers: Vec<String>,
    pub flow_sid: Option<String>,
    pub replay_after: Option<i64>,
    pub date_created: i64,
    pub date_updated: i64,
}

const COLUMNS: &str = "id, sid, conversation_sid, target, url, method, filters, triggers, flow_sid, replay_after, \
    date_created, date_updated";

fn from_row(r: &Row<'_>) -> Result<ConversationWebhookRow> {
    Ok(ConversationWebhookRow {
        id: r.get(0)?,
        sid: r.get(1)?,
        conversation_sid: r.get(2)?,
        target: r.get(3)?,
        url: r.get(4)?,
        method: r.get(5)?,
        filters: json_list(&r.get::<String>(6)?),
        triggers: json_list(&r.get::<String>(7)?),
        flow_sid: r.get(8)?,
        replay_after: r.get(9)?,
        date_created: r.get(10)?,
        date_updated: r.get(11)?,
    })
}

pub fn insert(conn: &Connection, w: &ConversationWebhookRow) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO conversation_webhooks (sid, conversation_sid, target, url, method, filters, triggers, flow_sid, \
         replay_after, date_created, date_updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        w.sid,
        w.conversation_sid,
        w.target,
        w.url,
        w.method,
        list_json(&w.filters),
        list_json(&w.triggers),
        w.flow_sid,
        w.replay_after,
        w.date_created,
        w.date_updated
    ])?;
    Ok(conn.last_insert_rowid())
}

pub fn update(conn: &Connection, w: &ConversationWebhookRow) -> Result<()> {
    conn.prepare_cached(
        "UPDATE conversation_webhooks SET url = ?2, method = ?3, filters = ?4, triggers = ?5, flow_sid = ?6, \
         date_updated = ?7 WHERE sid = ?1",
    )?
    .execute(params![
        w.sid,
        w.url,
        w.method,
        list_json(&w.filters),
        list_json(&w.triggers),
        w.flow_sid,
        w.date_updated
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, sid: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM conversation_webhooks WHERE sid = ?1")?.execute([sid])?;
    Ok(())
}

/// Drops a deleted conversation's webhooks and remembered state.
pub fn forget_conversation(conn: &Connection, conversation_sid: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM conversation_webhooks WHERE conversation_sid = ?1")?
        .execute([conversation_sid])?;
    conn.prepare_cached("DELETE FROM webhook_conversation_states WHERE conversation_sid = ?1")?
        .execute([conversation_sid])?;
    Ok(())
}

pub fn get(conn: &Connection, conversation_sid: &str, sid: &str) -> Result<Option<ConversationWebhookRow>> {
    let sql = format!("SELECT {COLUMNS} FROM conversation_webhooks WHERE sid = ?1 AND conversation_sid = ?2");
    conn.prepare_cached(&sql)?.query_row([sid, conversation_sid], from_row).optional()
}

/// Every webhook of a conversation (at most `MAX_PER_CONVERSATION`).
pub fn of_conversation(conn: &Connection, conversation_sid: &str) -> Result<Vec<ConversationWebhookRow>> {
    let sql = format!("SELECT {COLUMNS} FROM conversation_webhooks WHERE conversation_sid = ?1 ORDER BY id");
    conn.prepare_cached(&sql)?.query_map([conversation_sid], from_row)?.collect()
}

pub fn scan(conn: &Connection, conversation_sid: &str, w: Window) -> Result<Vec<(i64, ConversationWebhookRow)>> {
    let order = if w.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {COLUMNS} FROM conversation_webhooks WHERE conversation_sid = ?1 AND id > ?2 AND id < ?3 \
         ORDER BY id {order} LIMIT ?4"
    );
    conn.prepare_cached(&sql)?
        .query_map(params![conversation_sid, w.lo, w.hi, w.limit], |r| from_row(r).map(|h| (h.id, h)))?
        .collect()
}

/// Whether any webhook is configured at any scope (decides at start whether
/// the write path needs to look for webhooks at all).
pub fn any_configured(conn: &Connection) -> Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM webhook_scopes WHERE pre_url IS NOT NULL OR post_url IS NOT NULL) \
         OR EXISTS (SELECT 1 FROM conversation_webhooks)",
        params![],
        |r| r.get(0),
    )
}

/// Records `state` as the conversation's state and returns the one it had
/// (conversations not remembered are `active`, so only others take a row).
pub fn swap_state(conn: &Connection, conversation_sid: &str, state: &str) -> Result<String> {
    let before: Option<String> = conn
        .prepare_cached("SELECT state FROM webhook_conversation_states WHERE conversation_sid = ?1")?
        .query_row([conversation_sid], |r| r.get(0))
        .optional()?;
    let before = before.unwrap_or_else(|| "active".into());
    if before != state {
        if state == "active" {
            conn.prepare_cached("DELETE FROM webhook_conversation_states WHERE conversation_sid = ?1")?
                .execute([conversation_sid])?;
        } else {
            conn.prepare_cached(
                "INSERT INTO webhook_conversation_states (conversation_sid, state) VALUES (?1, ?2) \
                 ON CONFLICT (conversation_sid) DO UPDATE SET state = excluded.state",
            )?
            .execute([conversation_sid, state])?;
        }
    }
    Ok(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        conn.execute_batch(include_str!("webhooks.sql")).unwrap();
        conn
    }

    #[test]
    fn scopes_round_trip_and_count_as_configured() {
        let conn = db();
        assert!(!any_configured(&conn).unwrap());
        assert_eq!(scope(&conn, Scope::Account).unwrap(), None);
        let row = ScopeRow {
            post_url: Some("http://h/post".into()),
            filters: vec!["onMessageAdded".into()],
            ..Default::default()
        };
        save_scope(&conn, Scope::Account, &row).unwrap();
        assert_eq!(scope(&conn, Scope::Account).unwrap(), Some(row));
        assert_eq!(scope(&conn, Scope::Service).unwrap(), None);
        assert!(any_configured(&conn).unwrap());
    }

    #[test]
    fn state_changes_name_the_state_before() {
        let conn = db();
        assert_eq!(swap_state(&conn, "CH1", "active").unwrap(), "active");
        assert_eq!(swap_state(&conn, "CH1", "inactive").unwrap(), "active");
        assert_eq!(swap_state(&conn, "CH1", "closed").unwrap(), "inactive");
        assert_eq!(swap_state(&conn, "CH1", "active").unwrap(), "closed");
        let rows: i64 =
            conn.query_row("SELECT count(*) FROM webhook_conversation_states", params![], |r| r.get(0)).unwrap();
        assert_eq!(rows, 0, "active conversations take no row");
    }
}
