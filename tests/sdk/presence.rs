//! Presence through the SDK: `User::is_online`, `Event::UserUpdated` with
//! `ReachabilityOnline`, and the sync task's `Diff::UserUpdated` for the users a UI shows.

use convo_tui::sdk::{Command, ConnectionState, Diff, Event, UserUpdateReason};

use crate::common::*;

#[tokio::test]
async fn a_known_user_going_online_and_offline_is_an_update_with_its_reason() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("pair"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    let bob_seen = alice.get_user("bob").await.unwrap();
    assert_eq!(bob_seen.is_online(), Some(false), "reachability is on: known, and offline");
    assert_eq!(bob_seen.is_notifiable(), None, "no push registrations on this server");
    let mut events = alice.events();
    let bob = srv.client("bob").await;
    let online = |want: bool| {
        move |e: &Event| match e {
            Event::UserUpdated { user, reasons } if user.identity() == "bob" && user.is_online() == Some(want) => {
                Some(reasons.clone())
            }
            _ => None,
        }
    };
    assert_eq!(next_event(&mut events, online(true)).await, vec![UserUpdateReason::ReachabilityOnline]);
    bob.shutdown().await;
    assert_eq!(next_event(&mut events, online(false)).await, vec![UserUpdateReason::ReachabilityOnline]);
}

#[tokio::test]
async fn the_sync_task_tells_of_participants_and_watched_users() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("pair"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    let other = alice.create_conversation(Some("other"), None, None).await.unwrap();
    other.add("carol", None).await.unwrap();
    alice.shutdown().await;
    let mut h = srv.sync("alice");
    let mut seen = Vec::new();
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Connected)).then_some(())).await;
    let user = |who: &'static str| {
        move |d: &Diff| match d {
            Diff::UserUpdated(u) if u.identity == who => Some(u.is_online),
            _ => None,
        }
    };
    // Opening a conversation tells of its participants (fetched once).
    cmd(&h, Command::Open { conversation_sid: conv.sid().to_owned() });
    assert_eq!(next_diff(&mut h, &mut seen, user("bob")).await, Some(false));
    // Then the stream keeps them current.
    let bob = srv.client("bob").await;
    assert_eq!(next_diff(&mut h, &mut seen, user("bob")).await, Some(true));
    bob.shutdown().await;
    assert_eq!(next_diff(&mut h, &mut seen, user("bob")).await, Some(false));
    // A user asked for is told of without opening anything.
    cmd(&h, Command::WatchUser { identity: "carol".into() });
    assert_eq!(next_diff(&mut h, &mut seen, user("carol")).await, Some(false));
    assert!(!seen.iter().any(|d| matches!(d, Diff::UserUpdated(u) if u.identity == "alice")), "alice is Me");
}
