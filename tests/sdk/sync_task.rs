//! The sync task as the TUI drives it: `sync::spawn`, `Command`s in, `Diff`s
//! out, against a real server. Each test reads diffs until the one it expects.

use convo_tui::api::NotificationLevel;
use convo_tui::sdk::{Command, ConnectionState, Diff, SyncConfig};

use crate::common::*;

/// A sync task for `identity`, past its first sync; returns the handle and the
/// conversation list it reported.
async fn started(srv: &TestServer, identity: &str) -> (convo_tui::sdk::SyncHandle, Vec<Diff>) {
    let mut h = srv.sync(identity);
    let mut seen = Vec::new();
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Connected)).then_some(())).await;
    (h, seen)
}

fn indexes(messages: &[convo_tui::api::Message]) -> Vec<i64> {
    messages.iter().map(|m| m.index).collect()
}

#[tokio::test]
async fn first_diffs_are_connecting_me_conversations_then_connected() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("existing"), None, None).await.unwrap();
    let (_h, seen) = started(&srv, "alice").await;
    assert_eq!(seen[0], Diff::Connection(ConnectionState::Connecting));
    let me = seen.iter().position(|d| matches!(d, Diff::Me(u) if u.identity == "alice")).expect("Me");
    let list = seen
        .iter()
        .position(|d| matches!(d, Diff::Conversations(l) if l.len() == 1 && l[0].conversation.sid == conv.sid() && l[0].user_state.is_some()))
        .expect("Conversations");
    assert!(me < list && list < seen.len() - 1, "{seen:#?}");
}

#[tokio::test]
async fn open_loads_roster_and_newest_page_and_older_pages_follow() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("long"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    for i in 0..75 {
        conv.send_message(&format!("m{i}"), None).await.unwrap();
    }
    let (mut h, mut seen) = started(&srv, "alice").await;
    let sid = conv.sid().to_owned();
    cmd(&h, Command::Open { conversation_sid: sid.clone() });
    let roster = next_diff(&mut h, &mut seen, |d| match d {
        Diff::Participants { participants, .. } => Some(participants.len()),
        _ => None,
    })
    .await;
    assert_eq!(roster, 2);
    let page = |d: &Diff| match d {
        Diff::MessagesLoaded { messages, has_older, has_newer, .. } => {
            Some((indexes(messages), *has_older, *has_newer))
        }
        _ => None,
    };
    let (idx, older, newer) = next_diff(&mut h, &mut seen, page).await;
    assert_eq!((idx, older, newer), ((45..75).collect(), true, false));
    cmd(&h, Command::LoadOlder { conversation_sid: sid.clone(), before_index: 45, count: 30 });
    assert_eq!(next_diff(&mut h, &mut seen, page).await, ((15..45).collect(), true, true));
    cmd(&h, Command::LoadOlder { conversation_sid: sid.clone(), before_index: 15, count: 30 });
    assert_eq!(next_diff(&mut h, &mut seen, page).await, ((0..15).collect(), false, true));
    cmd(&h, Command::Trim { conversation_sid: sid.clone(), keep_from: 0, keep_to: 29 });
    cmd(&h, Command::LoadNewer { conversation_sid: sid.clone(), after_index: 29, count: 30 });
    assert_eq!(next_diff(&mut h, &mut seen, page).await, ((30..60).collect(), true, true));
    cmd(&h, Command::LoadNewer { conversation_sid: sid, after_index: 59, count: 30 });
    assert_eq!(next_diff(&mut h, &mut seen, page).await, ((60..75).collect(), true, false));
}

#[tokio::test]
async fn send_edit_and_delete_each_produce_one_diff() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("edits"), None, None).await.unwrap();
    let (mut h, mut seen) = started(&srv, "alice").await;
    let sid = conv.sid().to_owned();
    cmd(&h, Command::Open { conversation_sid: sid.clone() });
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::MessagesLoaded { .. }).then_some(())).await;
    cmd(&h, Command::Send { conversation_sid: sid.clone(), body: "first".into(), attributes: None });
    let m = next_diff(&mut h, &mut seen, |d| match d {
        Diff::MessageUpserted(m) => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!((m.index, m.body.as_deref(), m.author.as_deref()), (0, Some("first"), Some("alice")));
    cmd(&h, Command::Edit { conversation_sid: sid.clone(), message_sid: m.sid.clone(), body: "second".into() });
    let edited = next_diff(&mut h, &mut seen, |d| match d {
        Diff::MessageUpserted(m) if m.body.as_deref() == Some("second") => Some(m.index),
        _ => None,
    })
    .await;
    assert_eq!(edited, 0);
    cmd(&h, Command::Delete { conversation_sid: sid.clone(), message_sid: m.sid.clone() });
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::MessageRemoved { index: 0, .. }).then_some(())).await;
    // A marker command whose diff proves everything before it was handled.
    cmd(&h, Command::Rename { conversation_sid: sid, friendly_name: "marker".into() });
    next_diff(&mut h, &mut seen, |d| {
        matches!(d, Diff::ConversationUpserted(e) if e.conversation.friendly_name.as_deref() == Some("marker"))
            .then_some(())
    })
    .await;
    let upserts = seen.iter().filter(|d| matches!(d, Diff::MessageUpserted(m) if m.index == 0)).count();
    let removals = seen.iter().filter(|d| matches!(d, Diff::MessageRemoved { .. })).count();
    assert_eq!((upserts, removals), (2, 1), "{seen:#?}");
}

#[tokio::test]
async fn others_messages_arrive_live_and_count_as_unread() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("live"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    conv.send_message("zero", None).await.unwrap();
    let (mut h, mut seen) = started(&srv, "bob").await;
    let sid = conv.sid().to_owned();
    cmd(&h, Command::AdvanceRead { conversation_sid: sid.clone(), index: 0 });
    let unread = |d: &Diff| match d {
        Diff::ConversationUpserted(e) => e.user_state.as_ref().and_then(|u| u.unread_messages_count),
        _ => None,
    };
    assert_eq!(next_diff(&mut h, &mut seen, unread).await, 0);
    conv.send_message("one", None).await.unwrap();
    let live = next_diff(&mut h, &mut seen, |d| match d {
        Diff::MessageUpserted(m) => Some(m.body.clone()),
        _ => None,
    })
    .await;
    assert_eq!(live.as_deref(), Some("one"));
    assert_eq!(next_diff(&mut h, &mut seen, |d| unread(d).filter(|n| *n > 0)).await, 1);
    conv.send_message("two", None).await.unwrap();
    assert_eq!(next_diff(&mut h, &mut seen, |d| unread(d).filter(|n| *n > 1)).await, 2);
    // The server agrees with the count the task kept.
    let bob = srv.client("bob").await;
    let bobs = bob.get_conversation_by_sid(&sid).await.unwrap();
    assert_eq!(bobs.get_unread_messages_count().await.unwrap(), Some(2));
}

#[tokio::test]
async fn the_read_horizon_moves_forward_only_and_can_be_cleared() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("reads"), None, None).await.unwrap();
    for i in 0..6 {
        conv.send_message(&format!("m{i}"), None).await.unwrap();
    }
    let (mut h, mut seen) = started(&srv, "alice").await;
    let sid = conv.sid().to_owned();
    let horizon = |d: &Diff| match d {
        Diff::ConversationUpserted(e) => {
            e.user_state.as_ref().map(|u| (u.last_read_message_index, u.unread_messages_count))
        }
        _ => None,
    };
    cmd(&h, Command::AdvanceRead { conversation_sid: sid.clone(), index: 3 });
    assert_eq!(next_diff(&mut h, &mut seen, horizon).await, (Some(3), Some(2)));
    cmd(&h, Command::AdvanceRead { conversation_sid: sid.clone(), index: 1 }); // ignored: never back
    cmd(&h, Command::MarkAllRead { conversation_sid: sid.clone() });
    assert_eq!(next_diff(&mut h, &mut seen, horizon).await, (Some(5), Some(0)));
    cmd(&h, Command::MarkAllUnread { conversation_sid: sid.clone() });
    assert_eq!(next_diff(&mut h, &mut seen, horizon).await, (None, None));
    cmd(&h, Command::SetNotificationLevel { conversation_sid: sid.clone(), level: NotificationLevel::Muted });
    let level = next_diff(&mut h, &mut seen, |d| match d {
        Diff::ConversationUpserted(e) => e.user_state.as_ref().map(|u| u.notification_level),
        _ => None,
    })
    .await;
    assert_eq!(level, NotificationLevel::Muted);
    assert!(!seen.iter().any(|d| horizon(d).is_some_and(|(i, _)| i == Some(1))), "moved back: {seen:#?}");
}

#[tokio::test]
async fn typing_reaches_the_other_task_once_per_timeout() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("typing"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    let sid = conv.sid().to_owned();
    let (a, _) = started(&srv, "alice").await;
    let (mut b, mut seen) = started(&srv, "bob").await;
    for _ in 0..4 {
        cmd(&a, Command::Typing { conversation_sid: sid.clone() });
    }
    let typing = |d: &Diff| match d {
        Diff::Typing { identity, typing, .. } => Some((identity.clone(), *typing)),
        _ => None,
    };
    assert_eq!(next_diff(&mut b, &mut seen, typing).await, ("alice".into(), true));
    // Next is the end (after the 5 s timeout), not a second start.
    assert_eq!(next_diff(&mut b, &mut seen, typing).await, ("alice".into(), false));
}

#[tokio::test]
async fn create_rename_add_remove_join_and_leave() {
    let srv = TestServer::start().await;
    let (mut a, mut a_seen) = started(&srv, "alice").await;
    cmd(&a, Command::Create { friendly_name: "made by sync".into(), unique_name: Some("plaza".into()) });
    let entry = next_diff(&mut a, &mut a_seen, |d| match d {
        Diff::ConversationUpserted(e) if e.conversation.unique_name.as_deref() == Some("plaza") => Some(e.clone()),
        _ => None,
    })
    .await;
    assert!(entry.user_state.is_some(), "creator is a participant");
    let sid = entry.conversation.sid.clone();
    cmd(&a, Command::Open { conversation_sid: sid.clone() });
    next_diff(&mut a, &mut a_seen, |d| matches!(d, Diff::MessagesLoaded { .. }).then_some(())).await;
    cmd(&a, Command::Rename { conversation_sid: sid.clone(), friendly_name: "renamed".into() });
    next_diff(&mut a, &mut a_seen, |d| {
        matches!(d, Diff::ConversationUpserted(e) if e.conversation.friendly_name.as_deref() == Some("renamed"))
            .then_some(())
    })
    .await;
    cmd(&a, Command::AddParticipant { conversation_sid: sid.clone(), identity: "carol".into() });
    let carol = next_diff(&mut a, &mut a_seen, |d| match d {
        Diff::ParticipantUpserted(p) if p.identity.as_deref() == Some("carol") => Some(p.sid.clone()),
        _ => None,
    })
    .await;
    cmd(&a, Command::RemoveParticipant { conversation_sid: sid.clone(), identity: "carol".into() });
    next_diff(&mut a, &mut a_seen, |d| {
        matches!(d, Diff::ParticipantRemoved { participant_sid, .. } if *participant_sid == carol).then_some(())
    })
    .await;

    // Public: bob joins by unique name, then leaves.
    let alice = srv.client("alice").await;
    alice
        .get_conversation_by_sid(&sid)
        .await
        .unwrap()
        .update_attributes(&serde_json::json!({"public": true}))
        .await
        .unwrap();
    let (mut b, mut b_seen) = started(&srv, "bob").await;
    cmd(&b, Command::Join { sid_or_unique_name: "plaza".into() });
    next_diff(&mut b, &mut b_seen, |d| {
        matches!(d, Diff::ConversationUpserted(e) if e.conversation.sid == sid && e.user_state.is_some()).then_some(())
    })
    .await;
    next_diff(&mut a, &mut a_seen, |d| {
        matches!(d, Diff::ParticipantUpserted(p) if p.identity.as_deref() == Some("bob")).then_some(())
    })
    .await;
    cmd(&b, Command::Leave { conversation_sid: sid.clone() });
    next_diff(&mut b, &mut b_seen, |d| {
        matches!(d, Diff::ConversationRemoved { conversation_sid } if *conversation_sid == sid).then_some(())
    })
    .await;
    next_diff(&mut a, &mut a_seen, |d| matches!(d, Diff::ParticipantRemoved { .. }).then_some(())).await;
}

#[tokio::test]
async fn a_refused_command_reports_an_error_and_the_task_carries_on() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("private"), None, None).await.unwrap();
    let (mut h, mut seen) = started(&srv, "eve").await;
    cmd(&h, Command::Join { sid_or_unique_name: conv.sid().to_owned() });
    let err = next_diff(&mut h, &mut seen, |d| match d {
        Diff::Error(e) => Some(e.clone()),
        _ => None,
    })
    .await;
    assert!(err.contains("join"), "{err}");
    cmd(&h, Command::Create { friendly_name: "mine".into(), unique_name: None });
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::ConversationUpserted(_)).then_some(())).await;
    assert!(!seen.iter().any(|d| matches!(d, Diff::Connection(ConnectionState::Disconnected))));
}

#[tokio::test]
async fn a_forged_token_is_denied_and_a_good_one_recovers() {
    let srv = TestServer::start().await;
    let good = srv.token("alice");
    let mut bad = good.clone();
    bad.pop();
    bad.push(if good.ends_with('A') { 'B' } else { 'A' });
    let mut h = convo_tui::sdk::sync::spawn(SyncConfig { server_url: srv.url(), token: bad, page_size: 30 });
    let mut seen = Vec::new();
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Denied)).then_some(())).await;
    assert!(seen.iter().any(|d| matches!(d, Diff::Error(_))));
    cmd(&h, Command::UpdateToken { token: good });
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Connected)).then_some(())).await;
}

#[tokio::test]
async fn shutdown_ends_the_task() {
    let srv = TestServer::start().await;
    let (mut h, _) = started(&srv, "alice").await;
    cmd(&h, Command::Shutdown);
    let mut last = None;
    while let Ok(Some(d)) = tokio::time::timeout(WAIT, h.diffs.recv()).await {
        last = Some(d);
    }
    assert_eq!(last, Some(Diff::Connection(ConnectionState::Disconnected)));
    assert!(h.commands.send(Command::CheckConnection).is_err(), "task still running");
}

#[tokio::test]
async fn open_sent_before_the_first_sync_loads_once_synced() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("early"), None, None).await.unwrap();
    conv.send_message("waiting", None).await.unwrap();
    let mut h = srv.sync("alice");
    cmd(&h, Command::Open { conversation_sid: conv.sid().to_owned() });
    let mut seen = Vec::new();
    let loaded = next_diff(&mut h, &mut seen, |d| match d {
        Diff::MessagesLoaded { messages, .. } => Some(messages.iter().map(|m| m.body.clone()).collect::<Vec<_>>()),
        _ => None,
    })
    .await;
    assert_eq!(loaded, vec![Some("waiting".to_owned())]);
    assert!(seen.iter().any(|d| matches!(d, Diff::Participants { .. })));
    assert!(!seen.iter().any(|d| matches!(d, Diff::Error(_))), "{seen:#?}");
}

#[tokio::test]
async fn an_expiring_token_warns_expires_denies_and_a_new_one_reconnects() {
    let srv = TestServer::start().await;
    let mut h = convo_tui::sdk::sync::spawn(SyncConfig {
        server_url: srv.url(),
        token: srv.token_ttl("alice", 6),
        page_size: 30,
    });
    let mut seen = Vec::new();
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Connected)).then_some(())).await;
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::TokenAboutToExpire).then_some(())).await;
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::TokenExpired).then_some(())).await;
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Denied)).then_some(())).await;
    cmd(&h, Command::UpdateToken { token: srv.token("alice") });
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Connected)).then_some(())).await;
}
