//! SQL for the webhook outbox: deliveries owed, inserted in the transaction of
//! the change that caused them, claimed (a row update), then deleted once
//! delivered or given up. Only the head (lowest id) of a (lane, url) is claimable.

use super::db::{Connection, Kind, Result, Row, params};

/// Now, in the outbox's unit of time (Unix milliseconds).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A delivery to make (as enqueued).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The ordering key: a conversation SID, or a user SID for user events.
    pub lane: String,
    pub url: String,
    /// `GET` or `POST`.
    pub method: String,
    pub params: Vec<(String, String)>,
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub lane: String,
    pub url: String,
    pub method: String,
    pub params: Vec<(String, String)>,
    pub token: String,
    /// Unix seconds.
    pub created: i64,
    pub attempts: i64,
    /// Unix milliseconds.
    pub next_attempt_at: i64,
    pub claimed_until: Option<i64>,
}

const COLUMNS: &str = "id, lane, url, method, params, token, created, attempts, next_attempt_at, claimed_until";

fn from_row(r: &Row<'_>) -> Result<Delivery> {
    let params: String = r.get(4)?;
    Ok(Delivery {
        id: r.get(0)?,
        lane: r.get(1)?,
        url: r.get(2)?,
        method: r.get(3)?,
        params: serde_json::from_str(&params).unwrap_or_default(),
        token: r.get(5)?,
        created: r.get(6)?,
        attempts: r.get(7)?,
        next_attempt_at: r.get(8)?,
        claimed_until: r.get(9)?,
    })
}

/// Adds a delivery, due at once.
pub fn enqueue(conn: &Connection, d: &NewDelivery, now_ms: i64) -> Result<()> {
    let params = serde_json::to_string(&d.params).unwrap_or_else(|_| "[]".into());
    conn.prepare_cached(
        "INSERT INTO webhook_outbox (lane, url, method, params, token, created, next_attempt_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        d.lane,
        d.url,
        d.method,
        params,
        uuid::Uuid::new_v4().simple().to_string(),
        now_ms / 1000,
        now_ms
    ])?;
    Ok(())
}

/// The head of every (lane, url), found by skipping from one lane to the next
/// on the `(lane, url, id)` index: the cost grows with the number of lanes,
/// never with how many deliveries wait behind a head (a dead receiver's backlog).
pub fn heads(conn: &Connection, max_lanes: usize) -> Result<Vec<Delivery>> {
    let first = format!("SELECT {COLUMNS} FROM webhook_outbox ORDER BY lane, url, id LIMIT 1");
    let next =
        format!("SELECT {COLUMNS} FROM webhook_outbox WHERE (lane, url) > (?1, ?2) ORDER BY lane, url, id LIMIT 1");
    let mut out = Vec::new();
    let mut row = conn.prepare_cached(&first)?.query_map(params![], from_row)?.next().transpose()?;
    let mut stmt = conn.prepare_cached(&next)?;
    while let Some(head) = row {
        row = stmt.query_map([&head.lane, &head.url], from_row)?.next().transpose()?;
        out.push(head);
        if out.len() >= max_lanes {
            break;
        }
    }
    Ok(out)
}

/// Claims delivery `id` until `until_ms` if it is due and unclaimed at `now_ms`.
/// On PostgreSQL a row another instance is claiming right now is skipped
/// (`FOR UPDATE SKIP LOCKED`), not waited for; SQLite has one writer.
pub fn claim(conn: &Connection, id: i64, now_ms: i64, until_ms: i64) -> Result<bool> {
    let sql = match conn.kind() {
        Kind::Sqlite => {
            "UPDATE webhook_outbox SET claimed_until = ?3 WHERE id = ?1 AND next_attempt_at <= ?2 \
             AND (claimed_until IS NULL OR claimed_until <= ?2)"
        }
        Kind::Postgres => {
            "UPDATE webhook_outbox SET claimed_until = ?3 WHERE id = (SELECT id FROM webhook_outbox \
             WHERE id = ?1 AND next_attempt_at <= ?2 AND (claimed_until IS NULL OR claimed_until <= ?2) \
             FOR UPDATE SKIP LOCKED)"
        }
    };
    let changed = conn.prepare_cached(sql)?.execute(params![id, now_ms, until_ms])?;
    Ok(changed == 1)
}

/// Delivered, or given up: the delivery leaves the outbox.
pub fn remove(conn: &Connection, id: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM webhook_outbox WHERE id = ?1")?.execute([id])?;
    Ok(())
}

/// A failed attempt: try again at `next_attempt_at` (Unix ms).
pub fn retry_at(conn: &Connection, id: i64, attempts: i64, next_attempt_at: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE webhook_outbox SET attempts = ?2, next_attempt_at = ?3, claimed_until = NULL WHERE id = ?1",
    )?
    .execute(params![id, attempts, next_attempt_at])?;
    Ok(())
}

/// Frees every claim: at start, when this process is the only one delivering
/// from this store (SQLite), claims left by a killed process are void.
pub fn release_all(conn: &Connection) -> Result<usize> {
    conn.prepare_cached("UPDATE webhook_outbox SET claimed_until = NULL WHERE claimed_until IS NOT NULL")?
        .execute(params![])
}

pub fn count(conn: &Connection) -> Result<i64> {
    conn.prepare_cached("SELECT count(*) FROM webhook_outbox")?.query_row(params![], |r| r.get(0))
}

/// Deletes the `n` oldest deliveries (the outbox is over its bound).
pub fn drop_oldest(conn: &Connection, n: i64) -> Result<usize> {
    conn.prepare_cached("DELETE FROM webhook_outbox WHERE id IN (SELECT id FROM webhook_outbox ORDER BY id LIMIT ?1)")?
        .execute([n])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        conn.execute_batch(include_str!("webhooks.sql")).unwrap();
        conn
    }

    fn new(lane: &str, url: &str, n: usize) -> NewDelivery {
        NewDelivery {
            lane: lane.into(),
            url: url.into(),
            method: "POST".into(),
            params: vec![("N".into(), n.to_string())],
        }
    }

    #[test]
    fn heads_are_the_oldest_of_each_lane_and_url_and_claims_hold_them() {
        let conn = db();
        for n in 0..50 {
            enqueue(&conn, &new("CH1", "http://a", n), 1000).unwrap();
        }
        enqueue(&conn, &new("CH1", "http://b", 0), 1000).unwrap();
        enqueue(&conn, &new("CH2", "http://a", 0), 1000).unwrap();
        let found = heads(&conn, 100).unwrap();
        let seen: Vec<_> = found.iter().map(|h| (h.lane.as_str(), h.url.as_str(), h.params[0].1.as_str())).collect();
        assert_eq!(seen, [("CH1", "http://a", "0"), ("CH1", "http://b", "0"), ("CH2", "http://a", "0")]);
        assert!(claim(&conn, found[0].id, 1000, 6000).unwrap());
        assert!(!claim(&conn, found[0].id, 2000, 7000).unwrap(), "claimed once");
        assert!(claim(&conn, found[0].id, 6000, 11000).unwrap(), "a lapsed claim may be taken again");
        retry_at(&conn, found[0].id, 1, 9000).unwrap();
        assert!(!claim(&conn, found[0].id, 8000, 13000).unwrap(), "not due yet");
        remove(&conn, found[0].id).unwrap();
        assert_eq!(heads(&conn, 1).unwrap()[0].params[0].1, "1", "the next in the lane is now its head");
        assert_eq!(count(&conn).unwrap(), 51);
        assert_eq!(drop_oldest(&conn, 10).unwrap(), 10);
        assert_eq!(count(&conn).unwrap(), 41);
    }

    #[test]
    fn finding_heads_skips_along_the_index() {
        let conn = db();
        let mut stmt = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN SELECT {COLUMNS} FROM webhook_outbox WHERE (lane, url) > ('a', 'b') \
                 ORDER BY lane, url, id LIMIT 1"
            ))
            .unwrap();
        let plan: Vec<String> = stmt.query_map(params![], |r| r.get(3)).unwrap().map(Result::unwrap).collect();
        let plan = plan.join(" | ");
        assert!(plan.contains("USING INDEX webhook_outbox_lane"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
