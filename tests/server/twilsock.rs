//! Twilio's Conversations SDK (`@twilio/conversations` 3.0.1, unchanged) against
//! the server over twilsock: reading, writing, and events for changes made
//! through REST, `/v1/Stream` and our own SDK; a restart it rides through.

use std::time::Duration;

use serde_json::json;

use crate::common::{As, TestServer, person, sid};
use crate::twilsock_sdk::{Sdk, body};

async fn sdk(t: &TestServer, identity: &str) -> Sdk {
    Sdk::connect(&t.base, identity, &t.token(identity)).await
}

/// A conversation with alice and bob in it and `n` messages from bob.
async fn general(t: &TestServer, n: usize) -> String {
    let c = sid(&t.conversation(&[("FriendlyName", "General")]).await);
    t.add(&c, "alice").await;
    t.add(&c, "bob").await;
    for i in 0..n {
        let (status, m) = t
            .post(
                &As::Admin,
                &format!("/v1/Conversations/{c}/Messages"),
                &[("Author", "bob"), ("Body", &format!("history {i}"))],
            )
            .await;
        assert_eq!(status, 201, "{m}");
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_lists_conversations_pages_history_to_the_start_and_lists_participants() {
    let t = TestServer::start().await;
    let c = general(&t, 75).await;
    let other = sid(&t.conversation(&[("FriendlyName", "Not hers")]).await);
    let mut alice = sdk(&t, "alice").await;

    let list = alice.call("subscribed", json!({})).await;
    let sids: Vec<&str> = list.as_array().unwrap().iter().filter_map(|c| c["sid"].as_str()).collect();
    assert_eq!(sids, [c.as_str()], "only her conversations, not {other}: {list}");
    assert_eq!(list[0]["friendly_name"], "General");
    assert_eq!(list[0]["status"], "joined");

    let history = alice.call("messages", json!({"sid": c, "page_size": 30})).await;
    let bodies: Vec<&str> = history["messages"].as_array().unwrap().iter().filter_map(|m| m["body"].as_str()).collect();
    let expected: Vec<String> = (0..75).map(|i| format!("history {i}")).collect();
    assert_eq!(bodies, expected, "every message once, oldest first, back to index 0");
    assert_eq!(history["pages"], 3, "30 + 30 + 15: {history}");
    assert_eq!(history["messages"][0]["index"], 0);
    assert_eq!(history["messages"][0]["author"], "bob");

    let participants = alice.call("participants", json!({"sid": c})).await;
    let mut who: Vec<&str> = participants.as_array().unwrap().iter().filter_map(|p| p["identity"].as_str()).collect();
    who.sort();
    assert_eq!(who, ["alice", "bob"]);

    // Messages already there when she connected are history, not news.
    let news = alice.events_within("messageAdded", |_| true, Duration::from_millis(300)).await;
    assert!(news.is_empty(), "old messages arrived as messageAdded: {news:?}");
    alice.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_by_the_sdk_is_seen_by_rest_and_by_a_convo_tui_client() {
    let t = TestServer::start().await;
    let c = general(&t, 1).await;
    let ours = convo_tui::sdk::Client::connect(&t.base, &t.token("bob")).await.expect("our SDK connects");
    let mut ours_events = ours.events();
    let mut alice = sdk(&t, "alice").await;

    let index =
        alice.call("send", json!({"sid": c, "body": "hello from Twilio's SDK", "attributes": {"k": "v"}})).await;
    assert_eq!(index, 1, "the SDK is told the new index");
    let added = alice.event("messageAdded", |e| body(e) == "hello from Twilio's SDK").await;
    assert_eq!(added["message"]["author"], "alice");
    assert_eq!(added["message"]["attributes"], json!({"k": "v"}));

    let (status, page) = t.get(&As::Admin, &format!("/v1/Conversations/{c}/Messages?Order=desc&PageSize=1")).await;
    assert_eq!(status, 200);
    assert_eq!(page["messages"][0]["body"], "hello from Twilio's SDK");
    assert_eq!(page["messages"][0]["author"], "alice");
    assert_eq!(page["messages"][0]["attributes"], r#"{"k":"v"}"#);

    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(convo_tui::sdk::Event::MessageAdded(m)) = ours_events.recv().await
                && m.body().as_deref() == Some("hello from Twilio's SDK")
            {
                return m.author();
            }
        }
    })
    .await
    .expect("our SDK sees the message");
    assert_eq!(seen.as_deref(), Some("alice"));
    alice.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_sees_changes_made_through_rest_the_stream_and_our_sdk_as_events() {
    let t = TestServer::start().await;
    let c = general(&t, 0).await;
    let mut alice = sdk(&t, "alice").await;
    alice.call("subscribed", json!({})).await;
    alice.call("participants", json!({"sid": c})).await;

    // REST: a message, its edit, a participant's change.
    let m = t.say(&person("bob"), &c, "through REST").await;
    alice.event("messageAdded", |e| body(e) == "through REST").await;
    let (status, _) =
        t.post(&person("bob"), &format!("/v1/Conversations/{c}/Messages/{}", sid(&m)), &[("Body", "edited")]).await;
    assert_eq!(status, 200);
    let updated = alice.event("messageUpdated", |e| body(e) == "edited").await;
    assert!(updated["reasons"].as_array().unwrap().contains(&json!("body")), "{updated}");
    let (status, _) = t
        .post(&As::Admin, &format!("/v1/Conversations/{c}/Participants/bob"), &[("Attributes", r#"{"mood":"sunny"}"#)])
        .await;
    assert_eq!(status, 200);
    let p = alice.event("participantUpdated", |e| e["participant"]["identity"] == "bob").await;
    assert_eq!(p["participant"]["attributes"], json!({"mood": "sunny"}));

    // /v1/Stream: bob types.
    let mut bob_stream = t.stream(Some("bob")).await;
    bob_stream.typing(&c).await;
    let typing = alice.event("typingStarted", |e| e["participant"]["identity"] == "bob").await;
    assert_eq!(typing["participant"]["conversation"], json!(c));

    // Our SDK: a message, its edit, a participant's change, typing.
    let ours = convo_tui::sdk::Client::connect(&t.base, &t.token("bob")).await.unwrap();
    let conv = ours.get_conversation_by_sid(&c).await.unwrap();
    let index = conv.send_message("through convo-tui's SDK", None).await.unwrap();
    alice.event("messageAdded", |e| body(e) == "through convo-tui's SDK").await;
    let page = conv.get_messages(Some(1), Some(index), convo_tui::sdk::Direction::Forward).await.unwrap();
    page.items()[0].update_body("edited by convo-tui").await.unwrap();
    alice.event("messageUpdated", |e| body(e) == "edited by convo-tui").await;
    let me = conv.get_participant_by_identity("bob").await.unwrap();
    me.update_attributes(&json!({"mood": "cloudy"})).await.unwrap();
    alice.event("participantUpdated", |e| e["participant"]["attributes"] == json!({"mood": "cloudy"})).await;
    alice.events_within("typingStarted", |_| true, Duration::from_secs(6)).await;
    conv.typing().await.unwrap();
    alice.event("typingStarted", |e| e["participant"]["identity"] == "bob").await;
    alice.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_typing_reaches_the_stream_and_read_horizons_count_unread() {
    let t = TestServer::start().await;
    let c = general(&t, 5).await;
    let mut bob_stream = t.stream(Some("bob")).await;
    let mut alice = sdk(&t, "alice").await;

    alice.call("typing", json!({"sid": c})).await;
    let typing = bob_stream.expect("typingStarted").await;
    assert_eq!(typing["data"]["identity"], "alice");

    let unread = alice.call("read", json!({"sid": c, "index": 1})).await;
    assert_eq!(unread, 3, "messages 2, 3 and 4 are unread");
    assert_eq!(alice.call("unread", json!({"sid": c})).await, 3);
    let (_, me) = t.get(&As::Admin, &format!("/v1/Conversations/{c}/Participants/alice")).await;
    assert_eq!(me["last_read_message_index"], 1, "REST sees the horizon: {me}");
    let moved = alice.event("conversationUpdated", |e| e["conversation"]["last_read_message_index"] == 1).await;
    assert!(moved["reasons"].as_array().unwrap().contains(&json!("lastReadMessageIndex")), "{moved}");
    alice.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_creates_renames_and_describes_and_rest_agrees() {
    let t = TestServer::start().await;
    let mut alice = sdk(&t, "alice").await;
    let created = alice.call("create", json!({"friendly_name": "Made by the SDK", "unique_name": "sdk-room"})).await;
    let c = created["sid"].as_str().unwrap().to_owned();
    alice.event("conversationJoined", |e| e["conversation"]["sid"] == json!(c)).await;

    alice.call("rename", json!({"sid": c, "name": "Renamed"})).await;
    alice.call("set_attributes", json!({"sid": c, "attributes": {"topic": "tests"}})).await;
    let updated =
        alice.event("conversationUpdated", |e| e["conversation"]["attributes"] == json!({"topic": "tests"})).await;
    assert_eq!(updated["conversation"]["friendly_name"], "Renamed");
    let (_, rest) = t.get(&As::Admin, &format!("/v1/Conversations/{c}")).await;
    assert_eq!(rest["friendly_name"], "Renamed");
    assert_eq!(rest["unique_name"], "sdk-room");
    assert_eq!(rest["attributes"], r#"{"topic":"tests"}"#);
    assert_eq!(rest["created_by"], "alice");

    alice.call("my_friendly_name", json!({"name": "Alice Liddell"})).await;
    alice.call("my_attributes", json!({"attributes": {"pronouns": "she"}})).await;
    let (_, user) = t.get(&As::Admin, "/v1/Users/alice").await;
    assert_eq!(user["friendly_name"], "Alice Liddell");
    assert_eq!(user["attributes"], r#"{"pronouns":"she"}"#);
    alice.event("userUpdated", |e| e["identity"] == "alice" && e["attributes"] == json!({"pronouns": "she"})).await;
    let me = alice.call("me", json!({})).await;
    assert_eq!(me["friendly_name"], "Alice Liddell");

    // Reachability: bob online while his stream is open, and alice is told when it closes.
    t.add(&c, "bob").await;
    let bob_stream = t.stream(Some("bob")).await;
    let bob = alice.call("user", json!({"identity": "bob"})).await;
    assert_eq!(bob["online"], true, "{bob}");
    drop(bob_stream);
    alice.event("userUpdated", |e| e["identity"] == "bob" && e["online"] == false).await;
    alice.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_joins_and_leaves_and_adds_and_removes() {
    let t = TestServer::start().await;
    let public = sid(&t.conversation(&[("FriendlyName", "Lobby"), ("Attributes", r#"{"public":true}"#)]).await);
    let mut alice = sdk(&t, "alice").await;

    let joined = alice.call("join", json!({"sid": public})).await;
    assert_eq!(joined["sid"], json!(public));
    alice.event("conversationJoined", |e| e["conversation"]["sid"] == json!(public)).await;
    let (_, members) = t.get(&As::Admin, &format!("/v1/Conversations/{public}/Participants")).await;
    assert_eq!(members["participants"][0]["identity"], "alice");

    let mine = alice.call("create", json!({"friendly_name": "Alice's"})).await;
    let c = mine["sid"].as_str().unwrap().to_owned();
    alice.event("conversationJoined", |e| e["conversation"]["sid"] == json!(c)).await;
    // Once the roster is loaded, a participant added is news (before, it is part of the load).
    alice.call("participants", json!({"sid": c})).await;
    alice.call("add", json!({"sid": c, "identity": "bob"})).await;
    alice.event("participantJoined", |e| e["participant"]["identity"] == "bob").await;
    alice.call("remove_participant", json!({"sid": c, "identity": "bob"})).await;
    alice.event("participantLeft", |e| e["participant"]["identity"] == "bob").await;
    let (_, members) = t.get(&As::Admin, &format!("/v1/Conversations/{c}/Participants")).await;
    assert_eq!(members["participants"].as_array().unwrap().len(), 1, "only alice: {members}");

    alice.call("leave", json!({"sid": public})).await;
    alice.event("conversationLeft", |e| e["conversation"]["sid"] == json!(public)).await;
    let (_, members) = t.get(&As::Admin, &format!("/v1/Conversations/{public}/Participants")).await;
    assert!(members["participants"].as_array().unwrap().is_empty(), "{members}");
    alice.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_media_message_from_the_sdk_carries_the_bytes() {
    use base64::Engine;
    let t = TestServer::start().await;
    let c = general(&t, 0).await;
    let mut alice = sdk(&t, "alice").await;
    let bytes: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let index = alice
        .call(
            "send_media",
            json!({"sid": c, "body": "a picture", "filename": "cat.png", "content_type": "image/png", "base64": b64}),
        )
        .await;
    let added = alice.event("messageAdded", |e| e["message"]["index"] == index).await;
    assert_eq!(added["message"]["type"], "media");
    assert_eq!(added["message"]["media"][0]["filename"], "cat.png");
    assert_eq!(added["message"]["media"][0]["size"], 70_000);

    let (_, page) = t.get(&As::Admin, &format!("/v1/Conversations/{c}/Messages?Order=desc&PageSize=1")).await;
    let media = &page["messages"][0]["media"][0];
    assert_eq!(media["filename"], "cat.png");
    let service = t.server.as_ref().unwrap().service_sid().to_owned();
    let content = t
        .request(reqwest::Method::GET, &format!("/v1/Services/{service}/Media/{}/Content", sid(media)), &person("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(content.status(), 200);
    assert_eq!(content.bytes().await.unwrap().as_ref(), bytes.as_slice(), "the bytes came through unchanged");
    alice.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_server_restart_the_sdk_shows_each_message_sent_meanwhile_exactly_once() {
    let t = TestServer::start().await;
    let c = general(&t, 3).await;
    let mut alice = sdk(&t, "alice").await;
    alice.call("messages", json!({"sid": c})).await;
    t.say(&person("bob"), &c, "before").await;
    alice.event("messageAdded", |e| body(e) == "before").await;

    // The server goes down; meanwhile REST sends through another server on the same store.
    let mut t = t;
    t.stop_in_place().await;
    alice.event("connectionStateChanged", |e| e["state"] != "connected").await;
    let side = t.serve_beside().await;
    for i in 0..3 {
        let path = format!("{}/v1/Conversations/{c}/Messages", side.url());
        let (status, m) = t.post(&person("bob"), &path, &[("Body", &format!("while away {i}"))]).await;
        assert_eq!(status, 201, "{m}");
    }
    side.shutdown().await;
    let t = t.start_in_place().await;
    alice.event("connectionStateChanged", |e| e["state"] == "connected").await;
    for i in 0..3 {
        alice.event("messageAdded", |e| body(e) == format!("while away {i}")).await;
    }
    t.say(&person("bob"), &c, "after").await;
    alice.event("messageAdded", |e| body(e) == "after").await;
    let again = alice.events_within("messageAdded", |_| true, Duration::from_secs(2)).await;
    assert!(again.is_empty(), "a message arrived twice: {again:?}");

    let history = alice.call("messages", json!({"sid": c})).await;
    let bodies: Vec<&str> = history["messages"].as_array().unwrap().iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(
        bodies,
        ["history 0", "history 1", "history 2", "before", "while away 0", "while away 1", "while away 2", "after"]
    );
    alice.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_finds_counts_reads_all_edits_and_deletes() {
    let t = TestServer::start().await;
    let mut alice = sdk(&t, "alice").await;
    let made = alice.call("create", json!({"friendly_name": "Odds and ends", "unique_name": "odds"})).await;
    let c = made["sid"].as_str().unwrap().to_owned();
    alice.event("conversationJoined", |e| e["conversation"]["sid"] == json!(c)).await;
    assert_eq!(alice.call("by_unique_name", json!({"unique_name": "odds"})).await["sid"], json!(c));

    for body in ["one", "two", "three"] {
        alice.call("send", json!({"sid": c, "body": body})).await;
    }
    let counts = alice.call("counts", json!({"sid": c})).await;
    assert_eq!(counts, json!({"messages": 3, "participants": 1}));
    assert_eq!(alice.call("read_all", json!({"sid": c})).await, 0, "nothing unread after reading all");
    assert_eq!(alice.call("unread", json!({"sid": c})).await, 0);

    alice.call("edit_attributes", json!({"sid": c, "index": 1, "attributes": {"pinned": true}})).await;
    let edited = alice.event("messageUpdated", |e| e["message"]["attributes"] == json!({"pinned": true})).await;
    assert!(edited["reasons"].as_array().unwrap().contains(&json!("attributes")), "{edited}");
    alice.call("remove_message", json!({"sid": c, "index": 0})).await;
    alice.event("messageRemoved", |e| e["message"]["index"] == 0).await;

    alice.call("set_unique_name", json!({"sid": c, "unique_name": null})).await;
    let (_, rest) = t.get(&As::Admin, &format!("/v1/Conversations/{c}")).await;
    assert_eq!(rest["unique_name"], json!(null), "cleared: {rest}");
    alice.call("delete", json!({"sid": c})).await;
    alice.event("conversationRemoved", |e| e["conversation"]["sid"] == json!(c)).await;
    let (status, _) = t.get(&As::Admin, &format!("/v1/Conversations/{c}")).await;
    assert_eq!(status, 404);
    alice.shutdown().await;
}
