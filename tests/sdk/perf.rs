//! Figures, not assertions (ignored by default; run with
//! `cargo test --test sdk -- --ignored --nocapture perf`): how fast the sync
//! task turns a burst of live messages into diffs, and how long a resync of a
//! large gap takes after the server comes back.

use std::time::Instant;

use convo_tui::sdk::{Command, ConnectionState, Diff};

use crate::common::*;

const BURST: usize = 10_000;

async fn post_burst(srv: &TestServer, sid: &str, n: usize, tag: &str) {
    let http = reqwest::Client::new();
    let url = format!("{}/v1/Conversations/{sid}/Messages", srv.url());
    for chunk in (0..n).collect::<Vec<_>>().chunks(64) {
        let posts = chunk.iter().map(|i| {
            let req = http
                .post(&url)
                .basic_auth(&srv.creds.account_sid, Some(&srv.creds.auth_token))
                .form(&[("Author", "alice".to_owned()), ("Body", format!("{tag} {i}"))]);
            async move { req.send().await.unwrap().error_for_status().unwrap() }
        });
        futures_util::future::join_all(posts).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn perf_sync_task_burst_and_resync() {
    let mut srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("perf"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    let sid = conv.sid().to_owned();
    let mut h = srv.sync("bob");
    let mut seen = Vec::new();
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Connected)).then_some(())).await;
    cmd(&h, Command::Open { conversation_sid: sid.clone() });
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::MessagesLoaded { .. }).then_some(())).await;

    // Live burst: posted by another task while this one counts diffs.
    let started = Instant::now();
    let poster = {
        let addr = srv.addr;
        let creds = srv.creds.clone();
        let sid = sid.clone();
        tokio::spawn(async move {
            let side = TestServer { server: None, dir: tempfile::tempdir().unwrap(), creds, addr };
            post_burst(&side, &sid, BURST, "live").await;
            Instant::now()
        })
    };
    let (mut messages, mut diffs) = (0, 0);
    while messages < BURST {
        let d = tokio::time::timeout(std::time::Duration::from_secs(120), h.diffs.recv()).await.unwrap().unwrap();
        diffs += 1;
        if matches!(d, Diff::MessageUpserted(_)) {
            messages += 1;
        }
    }
    let done = Instant::now();
    let posted = poster.await.unwrap();
    println!(
        "burst: {BURST} messages posted in {:?}; all {diffs} diffs delivered {:?} after the first post ({:?} after the last)",
        posted - started,
        done - started,
        done.saturating_duration_since(posted)
    );

    // Resync: BURST messages written while the server was away.
    srv.stop().await;
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Disconnected)).then_some(())).await;
    let config =
        convo_tui::server::ServerConfig::new("127.0.0.1:0".parse().unwrap(), srv.dir.path(), srv.creds.clone());
    let other = convo_tui::server::start(config).await.unwrap();
    let side =
        TestServer { server: None, dir: tempfile::tempdir().unwrap(), creds: srv.creds.clone(), addr: other.addr };
    post_burst(&side, &sid, BURST, "missed").await;
    other.shutdown().await;
    srv.restart().await;
    let back = Instant::now();
    let mut missed = 0;
    let mut connected_at = None;
    while missed < BURST || connected_at.is_none() {
        let d = tokio::time::timeout(std::time::Duration::from_secs(120), h.diffs.recv()).await.unwrap().unwrap();
        match d {
            Diff::MessageUpserted(m) if m.body.as_deref().is_some_and(|b| b.starts_with("missed")) => missed += 1,
            Diff::Connection(ConnectionState::Connected) => connected_at = Some(back.elapsed()),
            _ => {}
        }
    }
    println!(
        "resync: {BURST} missed messages delivered {:?} after the server came back (Connected at {:?})",
        back.elapsed(),
        connected_at.unwrap()
    );

    // The REST part alone: reading the same 10,000 again, as the resync does.
    let rest = convo_tui::sdk::wire::transport::Rest::new(&srv.url(), srv.token("bob")).unwrap();
    let t = Instant::now();
    let all = rest.messages_range(&sid, BURST as i64 - 1, 2 * BURST as i64 - 1).await.unwrap();
    println!("reading {} messages over REST (keyset pages, 4 in flight): {:?}", all.len(), t.elapsed());
}
