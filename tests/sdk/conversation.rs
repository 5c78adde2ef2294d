//! `Conversation` methods other than messages and the read horizon:
//! participants (add, non-chat, by identity / SID, counts, remove), join and
//! leave (public conversations), renames, attributes, unique names, delete.

use convo_tui::sdk::{ConversationStatus, Error};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn participants_are_added_listed_found_counted_and_removed() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("room"), None, None).await.unwrap();
    let bob = conv.add("bob", Some(&json!({"role": "guest"}))).await.unwrap();
    assert_eq!(bob.identity().as_deref(), Some("bob"));
    assert_eq!(bob.attributes(), json!({"role": "guest"}));
    assert_eq!(bob.kind(), "chat");
    let sms = conv.add_non_chat_participant("+15550001111", "+15557654321", None).await.unwrap();
    assert_eq!(sms.identity(), None);
    assert_eq!(sms.kind(), "sms");
    assert_eq!(conv.get_participants_count().await.unwrap(), 3);
    let mut names: Vec<_> = conv.get_participants().await.unwrap().iter().filter_map(|p| p.identity()).collect();
    names.sort();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(conv.get_participant_by_identity("bob").await.unwrap().sid(), bob.sid());
    assert_eq!(conv.get_participant_by_sid(bob.sid()).await.unwrap().identity().as_deref(), Some("bob"));
    assert!(matches!(conv.get_participant_by_sid("bob").await, Err(Error::InvalidArgument(_))));
    assert_eq!(conv.get_participant_by_identity("carol").await.unwrap_err().status(), Some(404));
    let dup = conv.add("bob", None).await.unwrap_err();
    assert_eq!(dup.code(), Some(50433), "{dup:?}");

    conv.remove_participant("bob").await.unwrap();
    sms.remove().await.unwrap();
    assert_eq!(conv.get_participants_count().await.unwrap(), 1);
}

#[tokio::test]
async fn participant_attributes_update() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("room"), None, None).await.unwrap();
    let me = conv.get_participant_by_identity("alice").await.unwrap();
    let me = me.update_attributes(&json!({"away": true})).await.unwrap();
    assert_eq!(me.attributes(), json!({"away": true}));
    assert!(me.date_created().is_some());
    assert!(!me.is_typing());
}

#[tokio::test]
async fn a_public_conversation_is_seen_before_joining_then_joined_and_left() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("lobby"), Some("lobby"), Some(&json!({"public": true}))).await.unwrap();
    let bob = srv.client("bob").await;
    let peek = bob.get_conversation_by_unique_name("lobby").await.unwrap();
    assert_eq!(peek.status(), ConversationStatus::NotParticipating);
    assert_eq!(peek.sid(), conv.sid());
    peek.join().await.unwrap();
    assert_eq!(peek.status(), ConversationStatus::Joined);
    peek.join().await.unwrap(); // again: no error
    peek.send_message("hi all", None).await.unwrap();
    peek.leave().await.unwrap();
    assert_eq!(peek.status(), ConversationStatus::NotParticipating);
    assert!(peek.leave().await.is_err(), "leaving twice is refused");
    assert_eq!(conv.get_participants_count().await.unwrap(), 1);
}

#[tokio::test]
async fn a_private_conversation_cannot_be_seen_or_joined_by_outsiders() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("secret"), None, None).await.unwrap();
    let eve = srv.client("eve").await;
    let err = eve.get_conversation_by_sid(conv.sid()).await.unwrap_err();
    assert!(matches!(err.status(), Some(403 | 404)), "{err:?}");
}

#[tokio::test]
async fn names_and_attributes_update() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("before"), None, None).await.unwrap();
    conv.update_friendly_name("after").await.unwrap();
    assert_eq!(conv.friendly_name().as_deref(), Some("after"));
    conv.update_attributes(&json!({"color": "blue"})).await.unwrap();
    assert_eq!(conv.attributes(), json!({"color": "blue"}));
    assert_eq!(conv.get_attributes().await.unwrap(), json!({"color": "blue"}));
    conv.update_unique_name(Some("blue-room")).await.unwrap();
    assert_eq!(conv.unique_name().as_deref(), Some("blue-room"));
    assert_eq!(alice.get_conversation_by_unique_name("blue-room").await.unwrap().sid(), conv.sid());
    let taken = alice.create_conversation(None, Some("blue-room"), None).await.unwrap_err();
    assert_eq!(taken.code(), Some(50353));
    conv.update_unique_name(None).await.unwrap();
    assert_eq!(conv.unique_name(), None);
    assert_eq!(conv.state(), convo_tui::api::ConversationState::Active);
}

#[tokio::test]
async fn delete_removes_the_conversation() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("doomed"), None, None).await.unwrap();
    conv.delete().await.unwrap();
    assert_eq!(conv.status(), ConversationStatus::NotParticipating);
    let fresh = srv.client("alice").await;
    assert_eq!(fresh.get_conversation_by_sid(conv.sid()).await.unwrap_err().status(), Some(404));
    assert!(fresh.get_subscribed_conversations().await.unwrap().items.is_empty());
}

#[tokio::test]
async fn typing_is_sent_at_most_once_per_timeout() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("t"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    let bob = srv.client("bob").await;
    let mut events = bob.events();
    for _ in 0..5 {
        conv.typing().await.unwrap();
    }
    next_event(&mut events, |e| match e {
        convo_tui::sdk::Event::TypingStarted(p) => p.identity(),
        _ => None,
    })
    .await;
    let bobs = bob.get_conversation_by_sid(conv.sid()).await.unwrap();
    let alice_p = bobs.get_participant_by_identity("alice").await.unwrap();
    assert!(alice_p.is_typing());
    // One typingStarted only, and it ends (timeout) with one typingEnded.
    let ended = next_event(&mut events, |e| match e {
        convo_tui::sdk::Event::TypingEnded(p) => p.identity(),
        convo_tui::sdk::Event::TypingStarted(_) => panic!("typing sent twice within the timeout"),
        _ => None,
    })
    .await;
    assert_eq!(ended, "alice");
    assert!(!alice_p.is_typing());
}
