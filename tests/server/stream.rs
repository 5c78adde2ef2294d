//! `/v1/Stream`: events reach the conversation's participants and no one
//! else; typing starts, renews and ends (timeout, or at once on a message).

use std::time::Duration;

use crate::common::*;

#[tokio::test]
async fn messages_reach_participants_streams_and_no_one_elses() {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[]).await);
    t.add(&c, "alice").await;
    t.add(&c, "bob").await;
    let mut alice = t.stream(Some("alice")).await;
    let mut bob = t.stream(Some("bob")).await;
    let mut eve = t.stream(Some("eve")).await;
    let mut admin = t.stream(None).await;
    let sent = t.say(&person("alice"), &c, "hello").await;
    for s in [&mut alice, &mut bob, &mut admin] {
        let e = s.expect("messageAdded").await;
        assert_eq!(e["conversation_sid"], c);
        assert_eq!(e["data"], sent, "data is the REST JSON");
        assert_eq!(e["data"]["index"], 0);
    }
    // messageAdded alone carries a new message: no second frame per subscriber.
    bob.expect_none("conversationUpdated", Duration::from_millis(300)).await;
    eve.expect_none("messageAdded", Duration::from_millis(500)).await;

    // Edits and deletes follow; a removed participant stops hearing them.
    let msg = format!("/v1/Conversations/{c}/Messages/{}", sid(&sent));
    t.post(&person("alice"), &msg, &[("Body", "edited")]).await;
    assert_eq!(bob.expect("messageUpdated").await["data"]["body"], "edited");
    t.delete(&As::Admin, &format!("/v1/Conversations/{c}/Participants/bob")).await;
    assert_eq!(bob.expect("participantLeft").await["data"]["identity"], "bob");
    assert_eq!(bob.expect("conversationRemoved").await["conversation_sid"], c);
    assert_eq!(alice.expect("participantLeft").await["data"]["identity"], "bob");
    t.delete(&person("alice"), &msg).await;
    assert_eq!(alice.expect("messageRemoved").await["data"]["sid"], sent["sid"]);
    bob.expect_none("messageRemoved", Duration::from_millis(500)).await;
}

#[tokio::test]
async fn being_added_announces_the_conversation_and_join_to_others() {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[("FriendlyName", "club")]).await);
    t.add(&c, "alice").await;
    let mut alice = t.stream(Some("alice")).await;
    let mut bob = t.stream(Some("bob")).await;
    t.post(&person("alice"), &format!("/v1/Conversations/{c}/Participants"), &[("Identity", "bob")]).await;
    let added = bob.expect("conversationAdded").await;
    assert_eq!(added["data"]["friendly_name"], "club");
    assert_eq!(alice.expect("participantJoined").await["data"]["identity"], "bob");
    // Read-horizon changes: participantUpdated to all, userConversationUpdated to the user only.
    t.post(&person("bob"), &format!("/v1/Users/bob/Conversations/{c}"), &[("LastReadMessageIndex", "0")]).await;
    assert_eq!(alice.expect("participantUpdated").await["data"]["last_read_message_index"], 0);
    let uc = bob.expect("userConversationUpdated").await;
    assert_eq!(uc["data"]["unread_messages_count"], 0);
    alice.expect_none("userConversationUpdated", Duration::from_millis(300)).await;
    // Conversation changes and deletion.
    t.post(&As::Admin, &format!("/v1/Conversations/{c}"), &[("FriendlyName", "renamed")]).await;
    assert_eq!(bob.expect("conversationUpdated").await["data"]["friendly_name"], "renamed");
    t.delete(&As::Admin, &format!("/v1/Conversations/{c}")).await;
    assert_eq!(alice.expect("conversationRemoved").await["conversation_sid"], c);
}

#[tokio::test]
async fn typing_starts_for_others_and_ends_after_the_timeout() {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[]).await);
    t.add(&c, "alice").await;
    t.add(&c, "bob").await;
    let mut alice = t.stream(Some("alice")).await;
    let mut bob = t.stream(Some("bob")).await;
    let mut eve = t.stream(Some("eve")).await;
    alice.typing(&c).await;
    let started = bob.expect("typingStarted").await;
    assert_eq!(started["data"]["identity"], "alice");
    assert_eq!(started["conversation_sid"], c);
    let began = std::time::Instant::now();
    let ended = bob.expect("typingEnded").await;
    assert_eq!(ended["data"]["identity"], "alice");
    assert!(began.elapsed() >= Duration::from_secs(4), "ended after {:?}", began.elapsed());
    alice.expect_none("typingStarted", Duration::from_millis(200)).await;
    eve.expect_none("typingStarted", Duration::from_millis(200)).await;
    // A non-participant's typing is ignored.
    eve.typing(&c).await;
    bob.expect_none("typingStarted", Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_ends_its_authors_typing_at_once() {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[]).await);
    t.add(&c, "alice").await;
    t.add(&c, "bob").await;
    let mut alice = t.stream(Some("alice")).await;
    let mut bob = t.stream(Some("bob")).await;
    // alice keeps typing (renewing well inside the 5 s timeout), so the timeout
    // never ends her typing: only her message can.
    let conversation = c.clone();
    let typist = tokio::spawn(async move {
        loop {
            alice.typing(&conversation).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    bob.expect("typingStarted").await;
    let sent = t.say(&person("alice"), &c, "done typing").await;
    let ended = bob.expect("typingEnded").await;
    assert_eq!(ended["data"]["identity"], "alice");
    let next = bob.next_within(WAIT).await.expect("an event after typingEnded");
    assert_eq!(next["event"], "messageAdded", "typing ended with the message, before it was announced");
    assert_eq!(next["data"]["sid"], sent["sid"]);
    typist.abort();
}

#[tokio::test]
async fn stream_refuses_missing_and_forged_credentials() {
    let t = TestServer::start().await;
    let url = format!("{}/v1/Stream", t.base.replacen("http", "ws", 1));
    let err = tokio_tungstenite::connect_async(url.as_str()).await.expect_err("no credentials");
    match err {
        tokio_tungstenite::tungstenite::Error::Http(resp) => assert_eq!(resp.status(), 401),
        other => panic!("unexpected {other}"),
    }
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request().unwrap();
    let forged = TestServer::start().await.token("alice");
    req.headers_mut().insert("X-Twilio-Token", forged.parse().unwrap());
    match tokio_tungstenite::connect_async(req).await.expect_err("forged") {
        tokio_tungstenite::tungstenite::Error::Http(resp) => assert_eq!(resp.status(), 401),
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_never_reads_is_closed_instead_of_buffering_without_bound() {
    let t = std::sync::Arc::new(TestServer::start().await);
    let c = sid(&t.conversation(&[]).await);
    let mut idle = t.stream(None).await;
    // Each message makes two frames; the hub queues 1,024 per socket, and the
    // kernel's socket buffers hold a few thousand more before the server's writes stall.
    let per_task = 1000;
    let mut tasks = Vec::new();
    for task in 0..8 {
        let (t, c) = (t.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            let body = format!("{task}:{}", "x".repeat(900));
            for _ in 0..per_task {
                t.say(&As::Admin, &c, &body).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let sent_frames = 2 * 8 * per_task;
    let mut received = 0;
    while idle.next_within(WAIT).await.is_some() {
        received += 1;
    }
    assert!(received < sent_frames, "the slow stream was closed early: got {received} of {sent_frames} frames");
    // The server is fine and a new stream works.
    let mut fresh = t.stream(None).await;
    t.say(&As::Admin, &c, "still here").await;
    fresh.expect("messageAdded").await;
}

#[tokio::test]
async fn a_plain_get_of_the_stream_gets_a_twilio_error() {
    let t = TestServer::start().await;
    assert_error(&t.get(&As::Admin, "/v1/Stream").await, 400, 20001);
}

#[tokio::test]
async fn an_admin_stream_sees_each_conversation_once_and_not_others_leaving_as_removal() {
    let t = TestServer::start().await;
    let mut admin = t.stream(None).await;
    let (status, c) = t
        .post(
            &As::Admin,
            "/v1/ConversationWithParticipants",
            &[("Participant", r#"{"identity": "ann"}"#), ("Participant", r#"{"identity": "ben"}"#)],
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let c = sid(&c);
    t.delete(&As::Admin, &format!("/v1/Conversations/{c}/Participants/ben")).await;
    t.say(&As::Admin, &c, "marker").await;
    let mut added = 0;
    loop {
        let e = admin.next_within(WAIT).await.expect("events up to the marker");
        match e["event"].as_str().unwrap() {
            "conversationAdded" => added += 1,
            "conversationRemoved" => panic!("ben leaving is not the conversation's removal: {e}"),
            "messageAdded" => break,
            _ => {}
        }
    }
    assert_eq!(added, 1, "one conversationAdded for an admin stream");
}
