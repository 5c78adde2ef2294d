//! Conversation timers (`Timers.Inactive`, `Timers.Closed`): a sweeper moves
//! due conversations to `inactive` / `closed` every few seconds and tells
//! their participants (`conversationUpdated`). A fired timer is cleared.

use std::sync::Arc;
use std::time::Duration;

use crate::server::store::Connection;
use tokio::sync::watch;

use crate::api::stream::EventName;
use crate::api::time::now_unix;
use crate::server::AppState;
use crate::server::error::ApiResult;
use crate::server::hub::{Audience, Effect};
use crate::server::render::{Urls, to_value};
use crate::server::store::rows::ConversationRow;

const EVERY: Duration = Duration::from_secs(2);

/// Applies due timers at `now`; returns the conversations that changed.
fn fire(conn: &Connection, now: i64) -> crate::server::store::db::Result<Vec<ConversationRow>> {
    let returning = ConversationRow::COLUMNS.replace("c.", "");
    let mut changed = Vec::new();
    for sql in [
        format!(
            "UPDATE conversations SET state = 'closed', date_closed = NULL, date_inactive = NULL, date_updated = ?1 \
             WHERE date_closed <= ?1 RETURNING {returning}"
        ),
        format!(
            "UPDATE conversations SET state = 'inactive', date_inactive = NULL, date_updated = ?1 \
             WHERE date_inactive <= ?1 AND state = 'active' RETURNING {returning}"
        ),
    ] {
        let rows = conn.prepare_cached(&sql)?.query_map([now], ConversationRow::from_row)?;
        for row in rows {
            changed.push(row?);
        }
    }
    Ok(changed)
}

async fn sweep(state: &AppState, urls: Urls) -> ApiResult<usize> {
    state
        .store
        .write(move |conn| {
            let changed = fire(conn, now_unix())?;
            let effects = changed
                .iter()
                .map(|c| {
                    Effect::send(
                        Audience::Conversation(c.sid.clone()),
                        EventName::ConversationUpdated,
                        Some(&c.sid),
                        to_value(&urls.conversation_json(c)),
                    )
                })
                .collect();
            Ok((changed.len(), effects))
        })
        .await
}

pub fn spawn_sweeper(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = sweep(&state, state.default_urls()).await {
                        tracing::warn!("conversation timers: {}", e.0);
                    }
                }
                _ = stop.changed() => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_timers_close_and_deactivate_once() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(include_str!("store/schema.sql")).unwrap();
        let insert = "INSERT INTO conversations (sid, state, date_created, date_updated, date_inactive, date_closed) \
                      VALUES (?1, 'active', 0, 0, ?2, ?3)";
        conn.execute(insert, rusqlite::params!["CHclose", None::<i64>, 100]).unwrap();
        conn.execute(insert, rusqlite::params!["CHidle", 100, None::<i64>]).unwrap();
        conn.execute(insert, rusqlite::params!["CHlater", 500, 900]).unwrap();
        let conn = Connection::Sqlite(conn);
        let changed = fire(&conn, 200).unwrap();
        let states: Vec<_> = changed.iter().map(|c| (c.sid.as_str(), c.state.as_str())).collect();
        assert_eq!(states, [("CHclose", "closed"), ("CHidle", "inactive")]);
        assert!(changed.iter().all(|c| c.date_updated == 200));
        assert!(fire(&conn, 300).unwrap().is_empty(), "a fired timer does not fire again");
        let later = fire(&conn, 1000).unwrap();
        assert_eq!(later.len(), 1, "both timers due at once: closing wins");
        assert_eq!(later[0].state, "closed");
    }
}
