//! `bench history`: a conversation of M messages, and the time to fetch a page
//! of 50 starting at index 0, M/2 and M-50 (`Order=asc&PageToken=PA<i-1>`).
//! Paging is keyset-based, so the deepest page should cost what the first does.
//!
//! Seeding a million messages over HTTP would take minutes, so for the embedded
//! server the rows go straight into its SQLite file (a second connection; WAL
//! lets it write while the server idles), in the schema of `server/store`.
//! Against `--server URL` they are posted, 32 at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rusqlite::params;
use tokio::task::JoinSet;

use super::http_load::{self, BasicAuth};
use super::report::{Latency, Report, latency_histogram, record};
use super::target::Target;
use super::{BenchArgs, Runtimes};

/// The page starts measured, and their latencies.
pub struct History {
    pub messages: u64,
    pub seed_secs: f64,
    pub pages: Vec<(u64, Latency)>,
}

/// Creates and seeds the conversation, then fetches each page `fetches` times,
/// round-robin so drift on a busy machine hits every depth alike.
pub fn measure(rt: &Runtimes, target: &Target, args: &BenchArgs) -> anyhow::Result<History> {
    let m = args.messages.max(100);
    let fetches = args.fetches.max(1);
    rt.client.block_on(async move {
        let client = http_load::client(32)?;
        let conversation = target.create_conversation(&client, "bench history").await?;
        let t0 = Instant::now();
        match target.local_db() {
            Some(db) => {
                let conversation = conversation.clone();
                tokio::task::spawn_blocking(move || seed_sqlite(&db, &conversation, m)).await??
            }
            None => seed_http(&client, target, &conversation, m).await?,
        }
        let seed_secs = t0.elapsed().as_secs_f64();
        let starts = [0, m / 2, m - 50];
        let auth = target.admin();
        let url = |start: u64| {
            format!("{}?Order=asc&PageSize=50&PageToken=PA{}", target.messages_url(&conversation), start as i64 - 1)
        };
        // Each page once, checked, before timing anything.
        for &start in &starts {
            let body = get(&client, &url(start), &auth).await?;
            let page: crate::api::Page<crate::api::Message> = serde_json::from_slice(&body)?;
            anyhow::ensure!(
                page.items.len() == 50 && page.items[0].index == start as i64,
                "page at {start}: {} items from index {:?}",
                page.items.len(),
                page.items.first().map(|i| i.index)
            );
        }
        let mut hists = vec![latency_histogram(); starts.len()];
        for _ in 0..fetches {
            for (i, &start) in starts.iter().enumerate() {
                let t = Instant::now();
                get(&client, &url(start), &auth).await?;
                record(&mut hists[i], t.elapsed());
            }
        }
        let pages = starts.iter().zip(&hists).map(|(s, h)| (*s, Latency::of(h))).collect();
        Ok(History { messages: m, seed_secs, pages })
    })
}

async fn get(client: &reqwest::Client, url: &str, auth: &BasicAuth) -> anyhow::Result<bytes::Bytes> {
    let resp = client.get(url).basic_auth(&auth.user, Some(&auth.password)).send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    anyhow::ensure!(status.is_success(), "GET {url}: {status}: {}", String::from_utf8_lossy(&body));
    Ok(body)
}

/// Inserts `m` messages with indexes 0..m, and sets the conversation's counters
/// as `store::messages::insert` would have.
fn seed_sqlite(db: &std::path::Path, conversation: &str, m: u64) -> anyhow::Result<()> {
    let mut conn = rusqlite::Connection::open(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let now = crate::api::time::now_unix();
    // SIDs share a random prefix and count up, so the unique SID index grows at its end.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut next = 0u64;
    while next < m {
        let end = (next + 100_000).min(m);
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO messages (conversation_sid, idx, sid, author, body, attributes, participant_sid, \
                 date_created, date_updated, media, content_sid) VALUES (?1, ?2, ?3, ?4, ?5, '{}', NULL, ?6, ?6, NULL, NULL)",
            )?;
            for i in next..end {
                let sid = format!("IM{}{i:016x}", &run[..16]);
                let body = format!("history message {i}: the quick brown fox jumps over the lazy dog");
                insert.execute(params![conversation, i as i64, sid, "bench-seeder", body, now])?;
            }
        }
        tx.execute(
            "UPDATE conversations SET next_index = ?2, messages_count = ?2, last_message_index = ?2 - 1, \
             last_message_date = ?3 WHERE sid = ?1",
            params![conversation, end as i64, now],
        )?;
        tx.commit()?;
        next = end;
    }
    Ok(())
}

/// Posts `m` messages from 32 concurrent senders.
async fn seed_http(client: &reqwest::Client, target: &Target, conversation: &str, m: u64) -> anyhow::Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..32 {
        let (client, next, auth, url) =
            (client.clone(), next.clone(), target.admin(), target.messages_url(conversation));
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= m {
                    break;
                }
                let resp = client
                    .post(&url)
                    .basic_auth(&auth.user, Some(&auth.password))
                    .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(format!("Author=bench-seeder&Body=history+message+{i}"))
                    .send()
                    .await?;
                anyhow::ensure!(resp.status().is_success(), "seeding: {}", resp.status());
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(())
}

/// The history figures: each depth's latency, the deepest page against the
/// first, and the first page against the floor's canned page.
pub fn report(h: &History, floor_get: Latency) -> Report {
    let mut r = Report::new("history");
    r.param("messages", h.messages).param("page_size", 50).param("fetches", h.pages[0].1.count);
    r.figure("seed time", (h.seed_secs * 10.0).round() / 10.0, "s");
    for (start, lat) in &h.pages {
        r.latency(&format!("page at {start}"), *lat, Some(floor_get));
    }
    let (first, deepest) = (h.pages[0].1, h.pages[h.pages.len() - 1].1);
    let ratio = if first.p50_ms > 0.0 { deepest.p50_ms / first.p50_ms } else { 0.0 };
    r.figure("deepest/first p50", (ratio * 100.0).round() / 100.0, "x");
    let verdict = if ratio <= 1.5 { "met" } else { "missed" };
    r.note(format!("target deepest page within 1.5x of the first: {verdict} ({ratio:.2}x at M = {})", h.messages));
    r
}
