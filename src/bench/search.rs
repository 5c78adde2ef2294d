//! `bench search`: a service of M messages (1,000,000 by default) over C
//! conversations, then GET /v1/Search/Messages for a rare word and for a word
//! in every message, beside a history page, in the same run, as ratios.
//!
//! Seeding goes straight into the store's database in its own schema, not over
//! REST: on SQLite a second connection to the embedded server's file inserts
//! 100,000 rows per transaction (the store's FTS5 triggers index each row as
//! the server's own inserts would); on PostgreSQL (`--database`) one
//! `INSERT … SELECT FROM generate_series` per 100,000 rows (the generated
//! tsvector column and its GIN index follow), then `VACUUM ANALYZE messages`,
//! as autovacuum would after such a load. Searches and pages are fetched by a
//! person who takes part in every conversation, as the TUI does.

use std::time::Instant;

use hdrhistogram::Histogram;
use rusqlite::params;

use super::http_load;
use super::report::{Latency, Report, latency_histogram, record};
use super::target::Target;
use super::{BenchArgs, Runtimes};

/// The word every message holds, and the one in every `M / 10`-th message.
const COMMON: &str = "fox";
const RARE: &str = "zyzzyva";
/// Who searches: a participant of every conversation.
const READER: &str = "bench-reader";
const BATCH: u64 = 100_000;

/// The body of message `i`: a unique number, words of two vocabularies, the
/// common word, and the rare one every `rare_every` messages.
fn body(i: u64, rare_every: u64) -> String {
    let rare = if i.is_multiple_of(rare_every) { " zyzzyva" } else { "" };
    format!("search message {i}: the quick brown fox jumps over the lazy dog w{} v{}{rare}", i % 997, i % 10007)
}

/// What one run measured.
pub struct SearchRun {
    pub messages: u64,
    pub conversations: usize,
    pub store: &'static str,
    pub seed_secs: f64,
    pub rare_hits: usize,
    pub history: Latency,
    pub rare: Latency,
    pub common: Latency,
}

/// Seeds, checks each request once, then times them round-robin `fetches` times.
pub fn measure(rt: &Runtimes, args: &BenchArgs) -> anyhow::Result<SearchRun> {
    anyhow::ensure!(
        args.server.is_none(),
        "bench search seeds the store directly: run it on its embedded server (SQLite, or --database URL)"
    );
    let target = Target::open(rt, args)?;
    let m = args.messages.max(100);
    let c = args.conversations.clamp(1, 10_000);
    let rare_every = (m / 10).max(1);
    let store = if args.database.is_some() { "postgres" } else { "sqlite" };
    rt.client.block_on(async {
        let client = http_load::client(4)?;
        let mut conversations = Vec::with_capacity(c);
        for k in 0..c {
            let sid = target.create_conversation(&client, &format!("search {k}")).await?;
            target.add_participant(&client, &sid, READER).await?;
            conversations.push(sid);
        }
        let t0 = Instant::now();
        let seed = Seed { conversations: conversations.clone(), messages: m, rare_every };
        match (target.local_db(), args.database.clone()) {
            (Some(db), _) => tokio::task::spawn_blocking(move || seed.sqlite(&db)).await??,
            (None, Some(url)) => tokio::task::spawn_blocking(move || seed.postgres(&url)).await??,
            (None, None) => anyhow::bail!("the embedded server has no SQLite file to seed"),
        }
        let seed_secs = t0.elapsed().as_secs_f64();

        let token = target.token(READER);
        let history = format!("{}?PageSize=50", target.messages_url(&conversations[0]));
        let search = |word: &str| format!("{}/v1/Search/Messages?Query={word}&PageSize=50", target.base);
        let urls = [history, search(RARE), search(COMMON)];
        let pages: Vec<serde_json::Value> = {
            let mut out = Vec::new();
            for url in &urls {
                out.push(serde_json::from_slice(&get(&client, url, &token).await?)?);
            }
            out
        };
        let count = |v: &serde_json::Value| v["messages"].as_array().map_or(0, Vec::len);
        let rare_hits = count(&pages[1]);
        anyhow::ensure!(count(&pages[0]) == 50 && count(&pages[2]) == 50, "a history or common-word page is short");
        anyhow::ensure!(rare_hits == m.div_ceil(rare_every).min(50) as usize, "{rare_hits} hits for {RARE}");

        let mut hists: Vec<Histogram<u64>> = vec![latency_histogram(); urls.len()];
        for _ in 0..args.fetches.max(1) {
            for (h, url) in hists.iter_mut().zip(&urls) {
                let t = Instant::now();
                get(&client, url, &token).await?;
                record(h, t.elapsed());
            }
        }
        let [history, rare, common] = [0, 1, 2].map(|i| Latency::of(&hists[i]));
        Ok(SearchRun { messages: m, conversations: c, store, seed_secs, rare_hits, history, rare, common })
    })
}

async fn get(client: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<bytes::Bytes> {
    let resp = client.get(url).header("X-Twilio-Token", token).send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    anyhow::ensure!(status.is_success(), "GET {url}: {status}: {}", String::from_utf8_lossy(&body));
    Ok(body)
}

/// Message `i` goes to conversation `i % C` at index `i / C`.
struct Seed {
    conversations: Vec<String>,
    messages: u64,
    rare_every: u64,
}

impl Seed {
    /// How many messages conversation `k` holds.
    fn count(&self, k: usize) -> i64 {
        let c = self.conversations.len() as u64;
        (self.messages / c + u64::from((k as u64) < self.messages % c)) as i64
    }

    fn sqlite(&self, db: &std::path::Path) -> anyhow::Result<()> {
        let mut conn = rusqlite::Connection::open(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let now = crate::api::time::now_unix();
        let run = uuid::Uuid::new_v4().simple().to_string();
        let c = self.conversations.len() as u64;
        let mut next = 0;
        while next < self.messages {
            let end = (next + BATCH).min(self.messages);
            let tx = conn.transaction()?;
            {
                let mut insert = tx.prepare(
                    "INSERT INTO messages (conversation_sid, idx, sid, author, body, attributes, participant_sid, \
                     date_created, date_updated, media, content_sid) \
                     VALUES (?1, ?2, ?3, 'bench-seeder', ?4, '{}', NULL, ?5, ?5, NULL, NULL)",
                )?;
                for i in next..end {
                    let sid = format!("IM{}{i:016x}", &run[..16]);
                    let conversation = &self.conversations[(i % c) as usize];
                    insert.execute(params![conversation, (i / c) as i64, sid, body(i, self.rare_every), now])?;
                }
            }
            tx.commit()?;
            next = end;
        }
        for (k, sid) in self.conversations.iter().enumerate() {
            conn.execute(
                "UPDATE conversations SET next_index = ?2, messages_count = ?2, last_message_index = ?2 - 1, \
                 last_message_date = ?3 WHERE sid = ?1",
                params![sid, self.count(k), now],
            )?;
        }
        Ok(())
    }

    fn postgres(&self, url: &str) -> anyhow::Result<()> {
        let mut client = postgres::Client::connect(url, postgres::NoTls)?;
        let now = crate::api::time::now_unix();
        let run = uuid::Uuid::new_v4().simple().to_string();
        let prefix = &run[..16];
        let c = self.conversations.len() as i64;
        // GIN takes new entries into a pending list and merges it in bulk when
        // full: a larger list (and memory to merge it in) means fewer merges.
        client.batch_execute("SET gin_pending_list_limit = '256MB'; SET work_mem = '256MB'")?;
        let insert = client.prepare(
            "INSERT INTO messages (conversation_sid, idx, sid, author, body, attributes, date_created, date_updated) \
             SELECT ($1::text[])[(i % $2::bigint)::int + 1], i / $2::bigint, 'IM' || $3 || lpad(to_hex(i), 16, '0'), 'bench-seeder', \
             format('search message %s: the quick brown fox jumps over the lazy dog w%s v%s%s', \
                    i, i % 997, i % 10007, CASE WHEN i % $4::bigint = 0 THEN ' zyzzyva' ELSE '' END), \
             '{}', $5::bigint, $5::bigint FROM generate_series($6::bigint, $7::bigint) AS i",
        )?;
        let mut next = 0i64;
        let m = self.messages as i64;
        while next < m {
            let last = (next + BATCH as i64).min(m) - 1;
            let rare_every = self.rare_every as i64;
            client.execute(&insert, &[&self.conversations, &c, &prefix, &rare_every, &now, &next, &last])?;
            next = last + 1;
        }
        for (k, sid) in self.conversations.iter().enumerate() {
            client.execute(
                "UPDATE conversations SET next_index = $2::bigint, messages_count = $2::bigint, last_message_index = $2::bigint - 1, \
                 last_message_date = $3 WHERE sid = $1",
                &[sid, &self.count(k), &now],
            )?;
        }
        client.batch_execute("VACUUM ANALYZE messages")?;
        Ok(())
    }
}

/// Whether `lat` is within `times` the history page at both p50 and p99.
fn within(lat: Latency, history: Latency, times: f64) -> bool {
    lat.p50_ms <= times * history.p50_ms && lat.p99_ms <= times * history.p99_ms
}

/// The figures: each request's latency and its ratio to the history page ("vs floor").
pub fn report(s: &SearchRun, fetches: usize) -> Report {
    let mut r = Report::new("search");
    r.param("messages", s.messages).param("conversations", s.conversations).param("store", s.store);
    r.param("fetches", fetches);
    r.figure("seed time", (s.seed_secs * 10.0).round() / 10.0, "s");
    r.latency("history page", s.history, None);
    r.latency(&format!("rare word ({} hits)", s.rare_hits), s.rare, Some(s.history));
    r.latency("word in every message", s.common, Some(s.history));
    r.note("ratios (vs floor) are to the history page of 50 (GET …/Messages?PageSize=50), same run, same person");
    r.note(match s.store {
        "sqlite" => "seeded into the SQLite file by a second connection, 100,000 rows a transaction, FTS5 by the store's triggers",
        _ => "seeded by INSERT … SELECT FROM generate_series, 100,000 rows a statement, tsvector + GIN as stored; then VACUUM ANALYZE",
    });
    for (what, lat, times) in [("rare word", s.rare, 3.0), ("word in every message", s.common, 5.0)] {
        let verdict = if within(lat, s.history, times) { "met" } else { "missed" };
        r.note(format!(
            "target {what} within {times}x of a history page: {verdict} (p50 {:.2}x, p99 {:.2}x)",
            lat.p50_ms / s.history.p50_ms.max(1e-9),
            lat.p99_ms / s.history.p99_ms.max(1e-9)
        ));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_body_has_the_common_word_and_every_tenth_the_rare_one() {
        assert!(body(0, 10).ends_with(" zyzzyva") && !body(3, 10).contains(RARE));
        assert!((0..30).all(|i| body(i, 10).contains(" fox ")));
        let seed = Seed { conversations: vec!["a".into(), "b".into(), "c".into()], messages: 10, rare_every: 1 };
        assert_eq!((seed.count(0), seed.count(1), seed.count(2)), (4, 3, 3));
    }
}
