//! Two clients in one test see each other's messages, edits, deletions, joins,
//! leaves, read-horizon moves and typing as events, each once, with reasons.

use convo_tui::sdk::{ConversationUpdateReason, Direction, Event, MessageUpdateReason, ParticipantUpdateReason};

use crate::common::*;

#[tokio::test]
async fn two_clients_see_each_others_activity_as_events() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let bob = srv.client("bob").await;
    let mut a_ev = alice.events();
    let mut b_ev = bob.events();

    // Alice creates and adds bob: bob's client sees the conversation arrive.
    let conv = alice.create_conversation(Some("pair"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    let b_conv = next_event(&mut b_ev, |e| match e {
        Event::ConversationAdded(c) if c.sid() == conv.sid() => Some(c.clone()),
        _ => None,
    })
    .await;
    let joined = next_event(&mut a_ev, |e| match e {
        Event::ParticipantJoined(p) => p.identity().filter(|i| i == "bob"),
        _ => None,
    })
    .await;
    assert_eq!(joined, "bob");

    // Messages both ways.
    b_conv.send_message("hello alice", None).await.unwrap();
    let got = next_event(&mut a_ev, |e| match e {
        Event::MessageAdded(m) => m.body(),
        _ => None,
    })
    .await;
    assert_eq!(got, "hello alice");
    let idx = conv.send_message("hi bob", None).await.unwrap();
    let m = next_event(&mut b_ev, |e| match e {
        Event::MessageAdded(m) if m.author().as_deref() == Some("alice") => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!((m.index(), m.body().as_deref()), (idx, Some("hi bob")));

    // An edit reaches bob with its reason; a deletion too.
    let page = conv.get_messages(None, Some(idx), Direction::Backwards).await.unwrap();
    let mine = page.items.last().unwrap().clone();
    mine.update_body("hi bob (edited)").await.unwrap();
    let reasons = next_event(&mut b_ev, |e| match e {
        Event::MessageUpdated { message, reasons } if message.index() == idx => Some(reasons.clone()),
        _ => None,
    })
    .await;
    assert!(reasons.contains(&MessageUpdateReason::Body), "{reasons:?}");
    mine.remove().await.unwrap();
    let removed = next_event(&mut b_ev, |e| match e {
        Event::MessageRemoved(m) => Some(m.index()),
        _ => None,
    })
    .await;
    assert_eq!(removed, idx);

    // Bob reads: alice sees his participant's read horizon move.
    b_conv.advance_last_read_message_index(0).await.unwrap();
    let reasons = next_event(&mut a_ev, |e| match e {
        Event::ParticipantUpdated { participant, reasons } if participant.identity().as_deref() == Some("bob") => {
            Some((participant.last_read_message_index(), reasons.clone()))
        }
        _ => None,
    })
    .await;
    assert_eq!(reasons.0, Some(0));
    assert!(reasons.1.contains(&ParticipantUpdateReason::LastReadMessageIndex), "{reasons:?}");

    // Typing.
    b_conv.typing().await.unwrap();
    let typist = next_event(&mut a_ev, |e| match e {
        Event::TypingStarted(p) => p.identity(),
        _ => None,
    })
    .await;
    assert_eq!(typist, "bob");
    // His message ends his typing at once.
    b_conv.send_message("done typing", None).await.unwrap();
    let ended = next_event(&mut a_ev, |e| match e {
        Event::TypingEnded(p) => p.identity(),
        _ => None,
    })
    .await;
    assert_eq!(ended, "bob");

    // A rename reaches bob as an update with its reason.
    conv.update_friendly_name("renamed").await.unwrap();
    let reasons = next_event(&mut b_ev, |e| match e {
        Event::ConversationUpdated { conversation, reasons }
            if reasons.contains(&ConversationUpdateReason::FriendlyName) =>
        {
            Some((conversation.friendly_name(), reasons.clone()))
        }
        _ => None,
    })
    .await;
    assert_eq!(reasons.0.as_deref(), Some("renamed"));

    // Bob leaves: alice sees him go; bob's client sees the conversation removed.
    b_conv.leave().await.unwrap();
    let left = next_event(&mut a_ev, |e| match e {
        Event::ParticipantLeft(p) => p.identity(),
        _ => None,
    })
    .await;
    assert_eq!(left, "bob");
    let gone = next_event(&mut b_ev, |e| match e {
        Event::ConversationRemoved(c) => Some(c.sid().to_owned()),
        _ => None,
    })
    .await;
    assert_eq!(gone, conv.sid());
}

#[tokio::test]
async fn my_own_read_horizon_move_fires_one_conversation_update() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("solo"), None, None).await.unwrap();
    conv.send_message("a", None).await.unwrap();
    conv.send_message("b", None).await.unwrap();
    let mut ev = alice.events();
    conv.advance_last_read_message_index(1).await.unwrap();
    let events = drain(&mut ev, std::time::Duration::from_millis(700)).await;
    let horizon_updates = events
        .iter()
        .filter(|e| matches!(e, Event::ConversationUpdated { reasons, .. } if reasons.contains(&ConversationUpdateReason::LastReadMessageIndex)))
        .count();
    assert_eq!(horizon_updates, 1, "{events:#?}");
    // Re-posting the same horizon changes nothing, so fires nothing.
    conv.advance_last_read_message_index(0).await.unwrap();
    let events = drain(&mut ev, std::time::Duration::from_millis(700)).await;
    assert!(
        !events.iter().any(|e| matches!(e, Event::ConversationUpdated { reasons, .. } if reasons.contains(&ConversationUpdateReason::LastReadMessageIndex))),
        "{events:#?}"
    );
}

#[tokio::test]
async fn any_number_of_subscribers_get_every_event() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let mut subs: Vec<_> = (0..3).map(|_| alice.events()).collect();
    let conv = alice.create_conversation(Some("x"), None, None).await.unwrap();
    conv.send_message("to all", None).await.unwrap();
    for rx in &mut subs {
        let body = next_event(rx, |e| match e {
            Event::MessageAdded(m) => m.body(),
            _ => None,
        })
        .await;
        assert_eq!(body, "to all");
    }
}
