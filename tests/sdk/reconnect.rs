//! Losing the server and getting it back: the server is shut down while
//! clients are connected, messages are written meanwhile through another path
//! (a second server instance on the same data dir, via admin REST), then the
//! server restarts on the same port. Clients must show the state changes and
//! end with every message exactly once, in order; a send made offline lands
//! once. A slow consumer dropped by the server recovers the same way.

use std::collections::BTreeMap;

use convo_tui::sdk::{Command, ConnectionState, Diff, Event};
use convo_tui::server::{self, ServerConfig};
use reqwest::Method;

use crate::common::*;

/// Posts `n` messages as `author` through a second server instance on the same
/// data dir (a different port), then stops it: the clients never see it.
async fn write_behind_their_back(srv: &TestServer, conversation: &str, author: &str, n: usize) {
    let config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), srv.dir.path(), srv.creds.clone());
    let other = server::start(config).await.expect("second instance starts");
    let side =
        TestServer { server: None, dir: tempfile::tempdir().unwrap(), creds: srv.creds.clone(), addr: other.addr };
    for i in 0..n {
        let body = format!("while down {i}");
        side.admin(
            Method::POST,
            &format!("Conversations/{conversation}/Messages"),
            &[("Author", author), ("Body", &body)],
        )
        .await;
    }
    other.shutdown().await;
}

/// Applies message diffs as a UI would; counts how often each index was upserted.
#[derive(Default)]
struct UiModel {
    messages: BTreeMap<i64, String>,
    upserts: BTreeMap<i64, usize>,
    states: Vec<ConnectionState>,
    /// How many messages were held when the connection first dropped.
    before_drop: Option<usize>,
}

impl UiModel {
    fn apply(&mut self, d: &Diff) {
        match d {
            Diff::MessagesLoaded { messages, .. } => {
                for m in messages {
                    self.messages.insert(m.index, m.body.clone().unwrap_or_default());
                }
            }
            Diff::MessageUpserted(m) => {
                self.messages.insert(m.index, m.body.clone().unwrap_or_default());
                *self.upserts.entry(m.index).or_default() += 1;
            }
            Diff::MessageRemoved { index, .. } => {
                self.messages.remove(index);
            }
            Diff::Connection(s) => {
                if *s == ConnectionState::Disconnected && self.before_drop.is_none() {
                    self.before_drop = Some(self.messages.len());
                }
                self.states.push(*s)
            }
            _ => {}
        }
    }
}

async fn until(h: &mut convo_tui::sdk::SyncHandle, ui: &mut UiModel, mut done: impl FnMut(&UiModel) -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done(ui) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, h.diffs.recv()).await {
            Ok(Some(d)) => ui.apply(&d),
            Ok(None) => panic!("sync task ended"),
            Err(_) => panic!("condition not reached; states {:?}, messages {:?}", ui.states, ui.messages),
        }
    }
}

#[tokio::test]
async fn sync_task_rides_out_a_server_restart_with_every_message_once_in_order() {
    let mut srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("durable"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    for i in 0..5 {
        conv.send_message(&format!("before {i}"), None).await.unwrap();
    }
    let sid = conv.sid().to_owned();
    let mut h = srv.sync("bob");
    let mut ui = UiModel::default();
    until(&mut h, &mut ui, |u| u.states.last() == Some(&ConnectionState::Connected)).await;
    cmd(&h, Command::Open { conversation_sid: sid.clone() });
    until(&mut h, &mut ui, |u| u.messages.len() == 5).await;

    srv.stop().await;
    until(&mut h, &mut ui, |u| u.states.last() == Some(&ConnectionState::Disconnected)).await;
    cmd(&h, Command::Send { conversation_sid: sid.clone(), body: "sent offline".into(), attributes: None });
    cmd(&h, Command::AdvanceRead { conversation_sid: sid.clone(), index: 3 });
    cmd(&h, Command::AdvanceRead { conversation_sid: sid.clone(), index: 4 });
    cmd(&h, Command::AdvanceRead { conversation_sid: sid.clone(), index: 2 }); // never back
    write_behind_their_back(&srv, &sid, "alice", 10).await;
    srv.restart().await;
    let back = std::time::Instant::now();

    until(&mut h, &mut ui, |u| u.messages.len() == 16).await;
    // A figure, not an assertion: how long after the server's return the gap was filled.
    eprintln!("sync task: caught up {:?} after the server came back", back.elapsed());
    let bodies: Vec<&str> = ui.messages.values().map(String::as_str).collect();
    let mut expected: Vec<String> = (0..5).map(|i| format!("before {i}")).collect();
    expected.extend((0..10).map(|i| format!("while down {i}")));
    expected.push("sent offline".into());
    assert_eq!(bodies, expected);
    assert_eq!(ui.messages.keys().copied().collect::<Vec<_>>(), (0..16).collect::<Vec<_>>());
    assert!(ui.upserts.values().all(|n| *n == 1), "doubled: {:?}", ui.upserts);
    // The state changes were visible: connected, lost, retrying, back.
    let s = &ui.states;
    let lost = s.iter().position(|x| *x == ConnectionState::Disconnected).unwrap();
    assert!(s[lost..].contains(&ConnectionState::Connecting), "{s:?}");
    assert_eq!(s.last(), Some(&ConnectionState::Connected), "{s:?}");
    // The server holds the offline send exactly once.
    let page = srv.admin(Method::GET, &format!("Conversations/{sid}/Messages?PageSize=100"), &[]).await;
    let offline = page["messages"].as_array().unwrap().iter().filter(|m| m["body"] == "sent offline").count();
    assert_eq!(offline, 1);
    assert_eq!(page["messages"].as_array().unwrap().len(), 16);
    // The read horizon asked for offline was posted after the reconnect.
    let bob = srv.client("bob").await;
    let conv = bob.get_conversation_by_sid(&sid).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while conv.get_unread_messages_count().await.unwrap() != Some(11) {
        assert!(tokio::time::Instant::now() < deadline, "horizon not posted: {:?}", conv.last_read_message_index());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(conv.last_read_message_index(), Some(4));
}

#[tokio::test]
async fn client_events_resume_after_a_restart_with_the_missed_messages_once() {
    let mut srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("durable"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    conv.send_message("before", None).await.unwrap();
    let bob = srv.client("bob").await;
    let mut events = bob.events();
    let mut state_events = bob.events();
    let mut states = bob.connection_state_changes();
    srv.stop().await;
    tokio::time::timeout(WAIT, states.wait_for(|s| *s != ConnectionState::Connected)).await.unwrap().unwrap();
    write_behind_their_back(&srv, conv.sid(), "alice", 3).await;
    srv.restart().await;
    tokio::time::timeout(std::time::Duration::from_secs(30), states.wait_for(|s| *s == ConnectionState::Connected))
        .await
        .expect("reconnected")
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 3 {
        let m = next_event(&mut events, |e| match e {
            Event::MessageAdded(m) => Some((m.index(), m.body().unwrap_or_default())),
            _ => None,
        })
        .await;
        got.push(m);
    }
    assert_eq!(got, vec![(1, "while down 0".into()), (2, "while down 1".into()), (3, "while down 2".into())]);
    // Live again: a new message arrives, and nothing was doubled before it.
    conv.send_message("after", None).await.unwrap();
    let next = next_event(&mut events, |e| match e {
        Event::MessageAdded(m) => Some(m.index()),
        _ => None,
    })
    .await;
    assert_eq!(next, 4);
    // The state changes were events too: down, then back.
    let changes: Vec<ConnectionState> = drain(&mut state_events, std::time::Duration::from_millis(300))
        .await
        .into_iter()
        .filter_map(|e| match e {
            Event::ConnectionStateChanged(s) => Some(s),
            _ => None,
        })
        .collect();
    let down = changes.iter().position(|s| *s == ConnectionState::Disconnected).expect("Disconnected event");
    assert!(changes[down..].contains(&ConnectionState::Connected), "{changes:?}");
}

#[tokio::test]
async fn a_slow_consumer_dropped_by_the_server_recovers_every_message_once() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("flood"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    let sid = conv.sid().to_owned();
    let mut h = srv.sync("bob");
    let mut ui = UiModel::default();
    until(&mut h, &mut ui, |u| u.states.last() == Some(&ConnectionState::Connected)).await;
    cmd(&h, Command::Open { conversation_sid: sid.clone() });
    until(&mut h, &mut ui, |u| u.states.len() == 2 && u.messages.is_empty()).await;

    // The UI stops reading while a flood arrives: the task stalls on its bounded
    // diff channel, stops reading its socket, and the server drops it.
    // First small messages, enough to fill the task's diff channel: it stalls
    // having read little, so the kernel's socket buffers stay near their
    // initial size. Then big ones, to fill those buffers and the server's
    // 1024-frame queue behind them.
    const SMALL: usize = 600;
    const N: usize = SMALL + 1200;
    let filler = "x".repeat(30 * 1024);
    let http = reqwest::Client::new();
    let url = format!("{}/v1/Conversations/{sid}/Messages", srv.url());
    let mut sent = 0;
    while sent < N {
        let batch: Vec<_> = (sent..(sent + 50).min(N))
            .map(|i| {
                let body = if i < SMALL { format!("{i:05}") } else { format!("{i:05} {filler}") };
                let req = http
                    .post(&url)
                    .basic_auth(&srv.creds.account_sid, Some(&srv.creds.auth_token))
                    .form(&[("Author", "alice".to_owned()), ("Body", body)]);
                async move { req.send().await.unwrap().error_for_status().unwrap() }
            })
            .collect();
        // Each batch is posted concurrently, batches in order; indexes follow commit order.
        futures_util::future::join_all(batch).await;
        sent += 50;
    }
    // Now read everything.
    until(&mut h, &mut ui, |u| u.messages.len() == N && u.states.last() == Some(&ConnectionState::Connected)).await;
    assert!(
        ui.states.contains(&ConnectionState::Disconnected),
        "the server never dropped the slow consumer: {:?}",
        ui.states
    );
    eprintln!("slow consumer: dropped after {:?} of {N} messages", ui.before_drop);
    assert_eq!(ui.messages.keys().copied().collect::<Vec<_>>(), (0..N as i64).collect::<Vec<_>>());
    assert!(ui.upserts.values().all(|n| *n == 1), "doubled");
    // Every posted body is there once (batches post concurrently, so the
    // order within a batch is the server's commit order).
    let mut bodies: Vec<usize> = ui.messages.values().map(|b| b[..5].parse().unwrap()).collect();
    bodies.sort();
    assert_eq!(bodies, (0..N).collect::<Vec<_>>());
}

#[tokio::test]
async fn check_connection_keeps_a_live_link_and_reconnects_a_dead_one() {
    let mut srv = TestServer::start().await;
    let mut h = srv.sync("alice");
    let mut ui = UiModel::default();
    until(&mut h, &mut ui, |u| u.states.last() == Some(&ConnectionState::Connected)).await;
    // Alive: the ping is answered, nothing changes.
    cmd(&h, Command::CheckConnection);
    cmd(&h, Command::Create { friendly_name: "marker".into(), unique_name: None });
    let mut seen = Vec::new();
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::ConversationUpserted(_)).then_some(())).await;
    tokio::time::sleep(transport_pong_wait()).await;
    cmd(&h, Command::Rename { conversation_sid: first_sid(&seen), friendly_name: "marker 2".into() });
    next_diff(&mut h, &mut seen, |d| {
        matches!(d, Diff::ConversationUpserted(e) if e.conversation.friendly_name.as_deref() == Some("marker 2"))
            .then_some(())
    })
    .await;
    assert!(!seen.iter().any(|d| matches!(d, Diff::Connection(_))), "{seen:#?}");

    // Dead, then back: CheckConnection reconnects.
    srv.stop().await;
    until(&mut h, &mut ui, |u| u.states.last() == Some(&ConnectionState::Disconnected)).await;
    srv.restart().await;
    cmd(&h, Command::CheckConnection);
    until(&mut h, &mut ui, |u| u.states.last() == Some(&ConnectionState::Connected)).await;
}

fn transport_pong_wait() -> std::time::Duration {
    convo_tui::sdk::wire::transport::PONG_WAIT + std::time::Duration::from_millis(500)
}

fn first_sid(seen: &[Diff]) -> String {
    seen.iter()
        .find_map(|d| match d {
            Diff::ConversationUpserted(e) => Some(e.conversation.sid.clone()),
            _ => None,
        })
        .unwrap()
}

#[tokio::test]
async fn a_resync_picks_up_conversations_joined_and_left_while_down() {
    let mut srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let old = alice.create_conversation(Some("old"), None, None).await.unwrap();
    old.add("bob", None).await.unwrap();
    let new = alice.create_conversation(Some("new"), None, None).await.unwrap();
    let mut h = srv.sync("bob");
    let mut seen = Vec::new();
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Connected)).then_some(())).await;

    srv.stop().await;
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Disconnected)).then_some(())).await;
    // Behind bob's back: added to "new", removed from "old".
    let config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), srv.dir.path(), srv.creds.clone());
    let other = server::start(config).await.unwrap();
    let side =
        TestServer { server: None, dir: tempfile::tempdir().unwrap(), creds: srv.creds.clone(), addr: other.addr };
    side.admin(Method::POST, &format!("Conversations/{}/Participants", new.sid()), &[("Identity", "bob")]).await;
    side.admin(Method::DELETE, &format!("Conversations/{}/Participants/bob", old.sid()), &[]).await;
    other.shutdown().await;
    srv.restart().await;

    let list = next_diff(&mut h, &mut seen, |d| match d {
        Diff::Conversations(list) => Some(list.iter().map(|e| e.conversation.sid.clone()).collect::<Vec<_>>()),
        _ => None,
    })
    .await;
    assert_eq!(list, vec![new.sid().to_owned()]);
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Connected)).then_some(())).await;
}

#[tokio::test]
async fn a_resync_catches_edits_and_deletions_and_skips_what_the_ui_trimmed() {
    let mut srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("trim"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    for i in 0..60 {
        conv.send_message(&format!("m{i}"), None).await.unwrap();
    }
    let sid = conv.sid().to_owned();
    let mut h = srv.sync("bob");
    let mut seen = Vec::new();
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Connected)).then_some(())).await;
    cmd(&h, Command::Open { conversation_sid: sid.clone() });
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::MessagesLoaded { .. }).then_some(())).await;
    cmd(&h, Command::LoadOlder { conversation_sid: sid.clone(), before_index: 30, count: 30 });
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::MessagesLoaded { .. }).then_some(())).await;
    // The UI scrolled up and let go of the newest half.
    cmd(&h, Command::Trim { conversation_sid: sid.clone(), keep_from: 0, keep_to: 29 });

    srv.stop().await;
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Disconnected)).then_some(())).await;
    // Behind bob's back: edit #5, delete #6, post five more.
    let (m5, m6) = {
        let config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), srv.dir.path(), srv.creds.clone());
        let other = server::start(config).await.unwrap();
        let side =
            TestServer { server: None, dir: tempfile::tempdir().unwrap(), creds: srv.creds.clone(), addr: other.addr };
        let list = side.admin(Method::GET, &format!("Conversations/{sid}/Messages?PageSize=10"), &[]).await;
        let sid_of = |i: usize| list["messages"][i]["sid"].as_str().unwrap().to_owned();
        let (m5, m6) = (sid_of(5), sid_of(6));
        side.admin(Method::POST, &format!("Conversations/{sid}/Messages/{m5}"), &[("Body", "m5 edited")]).await;
        side.admin(Method::DELETE, &format!("Conversations/{sid}/Messages/{m6}"), &[]).await;
        for i in 0..5 {
            side.admin(
                Method::POST,
                &format!("Conversations/{sid}/Messages"),
                &[("Author", "alice"), ("Body", &format!("new {i}"))],
            )
            .await;
        }
        other.shutdown().await;
        (m5, m6)
    };
    srv.restart().await;
    let from = seen.len();
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Connected)).then_some(())).await;
    let after = &seen[from..];
    let upserted: Vec<i64> = after
        .iter()
        .filter_map(|d| match d {
            Diff::MessageUpserted(m) => Some(m.index),
            _ => None,
        })
        .collect();
    assert_eq!(upserted, vec![5, 60, 61, 62, 63, 64], "{after:#?}");
    assert!(
        after
            .iter()
            .any(|d| matches!(d, Diff::MessageUpserted(m) if m.sid == m5 && m.body.as_deref() == Some("m5 edited")))
    );
    assert!(
        after.iter().any(|d| matches!(d, Diff::MessageRemoved { message_sid, index: 6, .. } if *message_sid == m6))
    );
}
