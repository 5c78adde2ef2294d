//! REST happy paths and error codes, per resource: Conversations, Participants,
//! Messages, Users, User Conversations, ParticipantConversations, the service
//! mirror; paging both ways; addressing by unique name and identity.

use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn healthz_answers_ok() {
    let t = TestServer::start().await;
    let resp = reqwest::get(format!("{}/healthz", t.base)).await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn conversation_lifecycle_create_fetch_update_list_delete() {
    let t = TestServer::start().await;
    let c = t.conversation(&[("FriendlyName", "Team"), ("UniqueName", "team"), ("Attributes", r#"{"a":1}"#)]).await;
    let sid = sid(&c);
    assert!(sid.starts_with("CH") && sid.len() == 34);
    assert_eq!(c["friendly_name"], "Team");
    assert_eq!(c["attributes"], r#"{"a":1}"#);
    assert_eq!(c["state"], "active");
    assert_eq!(c["created_by"], "system");
    assert_eq!(c["url"], format!("{}/v1/Conversations/{sid}", t.base));
    assert_eq!(c["links"]["messages"], format!("{}/v1/Conversations/{sid}/Messages", t.base));
    let date = c["date_created"].as_str().unwrap();
    assert!(date.len() == 20 && date.ends_with('Z') && date.as_bytes()[10] == b'T', "{date}");

    // Fetch by SID and by unique name.
    assert_eq!(t.get(&As::Admin, &format!("/v1/Conversations/{sid}")).await.1["sid"], sid);
    assert_eq!(t.get(&As::ApiKey, "/v1/Conversations/team").await.1["sid"], sid);

    let (status, updated) = t
        .post(
            &As::Admin,
            "/v1/Conversations/team",
            &[("FriendlyName", "Renamed"), ("State", "closed"), ("Timers.Closed", "PT10M")],
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["friendly_name"], "Renamed");
    assert_eq!(updated["state"], "closed");
    assert!(updated["timers"]["date_closed"].is_string());

    let (_, closed) = t.get(&As::Admin, "/v1/Conversations?State=closed").await;
    assert_eq!(closed["conversations"].as_array().unwrap().len(), 1);
    let (_, active) = t.get(&As::Admin, "/v1/Conversations?State=active").await;
    assert_eq!(active["conversations"].as_array().unwrap().len(), 0);
    assert_eq!(active["meta"]["key"], "conversations");

    let (status, body) = t.delete(&As::Admin, &format!("/v1/Conversations/{sid}")).await;
    assert_eq!((status, body), (204, Value::Null));
    assert_error(&t.get(&As::Admin, &format!("/v1/Conversations/{sid}")).await, 404, 20404);
}

#[tokio::test]
async fn conversation_errors_have_twilio_codes() {
    let t = TestServer::start().await;
    t.conversation(&[("UniqueName", "dup")]).await;
    assert_error(&t.post(&As::Admin, "/v1/Conversations", &[("UniqueName", "dup")]).await, 409, 50353);
    let sid_like = "CH0123456789abcdef0123456789abcdef";
    assert_error(&t.post(&As::Admin, "/v1/Conversations", &[("UniqueName", sid_like)]).await, 400, 50390);
    assert_error(&t.post(&As::Admin, "/v1/Conversations", &[("Attributes", "{not json")]).await, 400, 20001);
    let big = format!(r#"{{"x":"{}"}}"#, "a".repeat(16 * 1024));
    assert_error(&t.post(&As::Admin, "/v1/Conversations", &[("Attributes", &big)]).await, 400, 20001);
    let long = "n".repeat(257);
    assert_error(&t.post(&As::Admin, "/v1/Conversations", &[("FriendlyName", &long)]).await, 400, 20001);
    assert_error(&t.post(&As::Admin, "/v1/Conversations", &[("State", "sleepy")]).await, 400, 20001);
    assert_error(&t.post(&As::Admin, "/v1/Conversations", &[("Timers.Inactive", "soon")]).await, 400, 20001);
    assert_error(&t.post(&As::Admin, "/v1/Conversations", &[("DateCreated", "yesterday")]).await, 400, 20001);
    assert_error(&t.get(&As::Admin, "/v1/Conversations?PageSize=0").await, 400, 20001);
    assert_error(&t.get(&As::Admin, "/v1/Conversations?PageSize=lots").await, 400, 20001);
    assert_error(&t.get(&As::Admin, "/v1/Conversations?PageToken=bogus").await, 400, 20001);
    assert_error(&t.get(&As::Admin, "/v1/Conversations/nope").await, 404, 20404);
    assert_error(&t.get(&As::Admin, "/v1/NoSuchThing").await, 404, 20404);
    assert_error(&t.delete(&As::Admin, "/v1/Conversations").await, 405, 20004);
    assert_error(&t.get(&As::Nobody, "/v1/Conversations").await, 401, 20003);
    let bad = reqwest::Client::new()
        .get(format!("{}/v1/Conversations", t.base))
        .basic_auth(&t.creds.account_sid, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    // A body over the limit is refused in Twilio's format, not axum's plain text.
    let huge = "x".repeat(512 * 1024);
    assert_error(&t.post(&As::Admin, "/v1/Conversations", &[("FriendlyName", &huge)]).await, 413, 21617);
}

#[tokio::test]
async fn participants_by_identity_and_binding_with_errors() {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[("UniqueName", "room")]).await);
    let alice = t.add("room", "alice").await;
    assert_eq!(alice["identity"], "alice");
    assert!(alice["messaging_binding"].is_null());
    assert!(alice["sid"].as_str().unwrap().starts_with("MB"));

    let (status, sms) = t
        .post(
            &As::Admin,
            &format!("/v1/Conversations/{c}/Participants"),
            &[("MessagingBinding.Address", "+15551230000"), ("MessagingBinding.ProxyAddress", "+15559870000")],
        )
        .await;
    assert_eq!(status, 201, "{sms}");
    assert!(sms["identity"].is_null());
    assert_eq!(sms["messaging_binding"]["type"], "sms");
    assert_eq!(sms["messaging_binding"]["address"], "+15551230000");

    // Fetch by identity and SID; list has both.
    let (_, by_identity) = t.get(&As::Admin, &format!("/v1/Conversations/{c}/Participants/alice")).await;
    assert_eq!(by_identity["sid"], alice["sid"]);
    let (_, list) = t.get(&As::Admin, "/v1/Conversations/room/Participants").await;
    assert_eq!(list["participants"].as_array().unwrap().len(), 2);

    let path = format!("/v1/Conversations/{c}/Participants");
    assert_error(&t.post(&As::Admin, &path, &[("Identity", "alice")]).await, 409, 50433);
    assert_error(
        &t.post(
            &As::Admin,
            &path,
            &[("MessagingBinding.Address", "+15551230000"), ("MessagingBinding.ProxyAddress", "+15559870000")],
        )
        .await,
        409,
        50416,
    );
    assert_error(
        &t.post(&As::Admin, &path, &[("Identity", "bob"), ("MessagingBinding.Address", "+1555")]).await,
        400,
        50211,
    );
    assert_error(&t.post(&As::Admin, &path, &[("Identity", "US0123456789abcdef0123456789abcdef")]).await, 400, 50206);
    assert_error(&t.post(&As::Admin, &path, &[]).await, 400, 20001);
    let attrs = format!(r#"{{"x":"{}"}}"#, "a".repeat(4 * 1024));
    assert_error(&t.post(&As::Admin, &path, &[("Identity", "carol"), ("Attributes", &attrs)]).await, 400, 20001);

    // Update and delete.
    let (status, upd) = t
        .post(&As::Admin, &format!("{path}/alice"), &[("Attributes", r#"{"role":"x"}"#), ("LastReadMessageIndex", "3")])
        .await;
    assert_eq!(status, 200, "{upd}");
    assert_eq!(upd["attributes"], r#"{"role":"x"}"#);
    assert_eq!(upd["last_read_message_index"], 3);
    assert!(upd["last_read_timestamp"].is_string());
    assert_eq!(t.delete(&As::Admin, &format!("{path}/{}", sid(&alice))).await.0, 204);
    assert_error(&t.get(&As::Admin, &format!("{path}/alice")).await, 404, 20404);
    let (_, conv) = t.get(&As::Admin, &format!("/v1/Conversations/{c}")).await;
    assert_eq!(conv["participants_count"], 1);
}

#[tokio::test]
async fn messages_get_growing_indexes_and_gaps_stay_after_deletes() {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[]).await);
    t.add(&c, "alice").await;
    let m0 = t.say(&As::Admin, &c, "zero").await;
    assert_eq!(m0["index"], 0);
    assert_eq!(m0["author"], "system");
    assert!(m0["participant_sid"].is_null());
    let (status, m1) =
        t.post(&As::Admin, &format!("/v1/Conversations/{c}/Messages"), &[("Body", "one"), ("Author", "alice")]).await;
    assert_eq!(status, 201);
    assert_eq!(m1["index"], 1);
    assert!(m1["participant_sid"].as_str().unwrap().starts_with("MB"));
    assert_eq!(t.delete(&As::Admin, &format!("/v1/Conversations/{c}/Messages/{}", sid(&m1))).await.0, 204);
    let m2 = t.say(&As::Admin, &c, "two").await;
    assert_eq!(m2["index"], 2, "a deleted index is never reused");

    let (status, edited) =
        t.post(&As::Admin, &format!("/v1/Conversations/{c}/Messages/{}", sid(&m2)), &[("Body", "deux")]).await;
    assert_eq!(status, 200);
    assert_eq!(edited["body"], "deux");
    let (_, fetched) = t.get(&As::Admin, &format!("/v1/Conversations/{c}/Messages/{}", sid(&m2))).await;
    assert_eq!(fetched["body"], "deux");
    let (_, by_index) = t.get(&As::Admin, &format!("/v1/Conversations/{c}/Messages/2")).await;
    assert_eq!(by_index["sid"], m2["sid"], "a message can be fetched by its index too");
    assert_error(&t.get(&As::Admin, &format!("/v1/Conversations/{c}/Messages/1")).await, 404, 20404);
    let (_, conv) = t.get(&As::Admin, &format!("/v1/Conversations/{c}")).await;
    assert_eq!(conv["messages_count"], 2);
    assert_eq!(conv["last_message"]["index"], 2);

    let path = format!("/v1/Conversations/{c}/Messages");
    assert_error(&t.post(&As::Admin, &path, &[]).await, 400, 20001);
    let body = "b".repeat(32 * 1024 + 1);
    assert_error(&t.post(&As::Admin, &path, &[("Body", &body)]).await, 400, 20001);
    let attrs = format!(r#"{{"x":"{}"}}"#, "a".repeat(4 * 1024));
    assert_error(&t.post(&As::Admin, &path, &[("Body", "x"), ("Attributes", &attrs)]).await, 400, 20001);
    assert_error(&t.get(&As::Admin, &format!("{path}?Order=sideways")).await, 400, 20001);
    assert_error(&t.get(&As::Admin, &format!("{path}/IM0123456789abcdef0123456789abcdef")).await, 404, 20404);
    assert_error(&t.get(&As::Admin, "/v1/Conversations/CH0123456789abcdef0123456789abcdef/Messages").await, 404, 20404);
}

async fn indexes_of(t: &TestServer, url: &str) -> (Vec<i64>, Value) {
    let (status, page) = t.get(&As::Admin, url).await;
    assert_eq!(status, 200, "{page}");
    let idx = page["messages"].as_array().unwrap().iter().map(|m| m["index"].as_i64().unwrap()).collect();
    (idx, page["meta"].clone())
}

#[tokio::test]
async fn message_pages_walk_forward_and_backward_in_both_orders() {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[]).await);
    for i in 0..7 {
        t.say(&As::Admin, &c, &format!("m{i}")).await;
    }
    // Ascending, 3 per page: 0-2, 3-5, 6, following next_page_url as twilio-python does.
    let (first, meta) = indexes_of(&t, &format!("/v1/Conversations/{c}/Messages?PageSize=3")).await;
    assert_eq!(first, [0, 1, 2]);
    assert!(meta["previous_page_url"].is_null());
    assert_eq!(meta["page"], 0);
    let (second, meta2) = indexes_of(&t, meta["next_page_url"].as_str().unwrap()).await;
    assert_eq!(second, [3, 4, 5]);
    assert_eq!(meta2["page"], 1);
    let (third, meta3) = indexes_of(&t, meta2["next_page_url"].as_str().unwrap()).await;
    assert_eq!(third, [6]);
    assert!(meta3["next_page_url"].is_null());
    let (back, _) = indexes_of(&t, meta3["previous_page_url"].as_str().unwrap()).await;
    assert_eq!(back, [3, 4, 5]);

    // Descending: newest first; PA120-style tokens page to older messages.
    let (newest, meta) = indexes_of(&t, &format!("/v1/Conversations/{c}/Messages?Order=desc&PageSize=3")).await;
    assert_eq!(newest, [6, 5, 4]);
    let next = meta["next_page_url"].as_str().unwrap();
    assert!(next.contains("Order=desc") && next.contains("PageToken=PA4"), "{next}");
    let (older, meta) = indexes_of(&t, next).await;
    assert_eq!(older, [3, 2, 1]);
    let (newer, _) = indexes_of(&t, meta["previous_page_url"].as_str().unwrap()).await;
    assert_eq!(newer, [6, 5, 4]);
    let (anchored, _) =
        indexes_of(&t, &format!("/v1/Conversations/{c}/Messages?Order=desc&PageSize=2&PageToken=PA3")).await;
    assert_eq!(anchored, [2, 1]);
    let (after, _) =
        indexes_of(&t, &format!("/v1/Conversations/{c}/Messages?Order=asc&PageSize=2&PageToken=PA3")).await;
    assert_eq!(after, [4, 5]);
    // PageSize above the maximum is clamped to it.
    let (_, meta) = indexes_of(&t, &format!("/v1/Conversations/{c}/Messages?PageSize=1000")).await;
    assert_eq!(meta["page_size"], 100);
}

#[tokio::test]
async fn conversation_and_user_lists_page_through() {
    let t = TestServer::start().await;
    for i in 0..5 {
        t.conversation(&[("FriendlyName", &format!("c{i}"))]).await;
        t.post(&As::Admin, "/v1/Users", &[("Identity", &format!("user{i}"))]).await;
    }
    for (path, key) in [("/v1/Conversations?PageSize=2", "conversations"), ("/v1/Users?PageSize=2", "users")] {
        let mut url = format!("{}{path}", t.base);
        let mut seen = Vec::new();
        loop {
            let (status, page) = t.get(&As::Admin, &url).await;
            assert_eq!(status, 200, "{page}");
            seen.extend(page[key].as_array().unwrap().iter().map(sid));
            match page["meta"]["next_page_url"].as_str() {
                Some(next) => url = next.to_owned(),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.dedup();
        assert_eq!(seen.len(), 5, "{key}: {seen:?}");
        assert_eq!(unique.len(), 5);
    }
}

#[tokio::test]
async fn users_create_fetch_update_delete_by_sid_and_identity() {
    let t = TestServer::start().await;
    let (status, u) = t.post(&As::Admin, "/v1/Users", &[("Identity", "zed"), ("FriendlyName", "Zed")]).await;
    assert_eq!(status, 201, "{u}");
    assert!(u["sid"].as_str().unwrap().starts_with("US"));
    assert_eq!(u["links"]["user_conversations"], format!("{}/v1/Users/{}/Conversations", t.base, sid(&u)));
    assert_eq!(t.get(&As::Admin, "/v1/Users/zed").await.1["sid"], u["sid"]);
    let (status, upd) = t.post(&As::Admin, &format!("/v1/Users/{}", sid(&u)), &[("Attributes", r#"{"k":true}"#)]).await;
    assert_eq!(status, 200);
    assert_eq!(upd["attributes"], r#"{"k":true}"#);
    assert_error(&t.post(&As::Admin, "/v1/Users", &[("Identity", "zed")]).await, 409, 50201);
    assert_error(
        &t.post(&As::Admin, "/v1/Users", &[("Identity", "US0123456789abcdef0123456789abcdef")]).await,
        400,
        50206,
    );
    assert_error(&t.post(&As::Admin, "/v1/Users", &[]).await, 400, 20001);
    assert_eq!(t.delete(&As::Admin, "/v1/Users/zed").await.0, 204);
    assert_error(&t.get(&As::Admin, "/v1/Users/zed").await, 404, 20404);
    // Adding a participant makes its user.
    let c = sid(&t.conversation(&[]).await);
    t.add(&c, "newcomer").await;
    assert_eq!(t.get(&As::Admin, "/v1/Users/newcomer").await.0, 200);
}

#[tokio::test]
async fn unread_count_is_null_until_the_horizon_is_set_then_follows_it() {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[("UniqueName", "news")]).await);
    t.add(&c, "alice").await;
    for i in 0..5 {
        t.say(&As::Admin, &c, &format!("m{i}")).await;
    }
    let path = "/v1/Users/alice/Conversations/news";
    let (status, uc) = t.get(&As::Admin, path).await;
    assert_eq!(status, 200, "{uc}");
    assert!(uc["unread_messages_count"].is_null());
    assert!(uc["last_read_message_index"].is_null());
    assert_eq!(uc["conversation_sid"], c);

    let (_, uc) = t.post(&person("alice"), path, &[("LastReadMessageIndex", "1")]).await;
    assert_eq!(uc["unread_messages_count"], 3);
    assert_eq!(uc["last_read_message_index"], 1);
    let (_, uc) =
        t.post(&person("alice"), path, &[("LastReadMessageIndex", "4"), ("NotificationLevel", "muted")]).await;
    assert_eq!(uc["unread_messages_count"], 0);
    assert_eq!(uc["notification_level"], "muted");
    // A new message after the horizon counts.
    t.say(&As::Admin, &c, "m5").await;
    assert_eq!(t.get(&As::Admin, path).await.1["unread_messages_count"], 1);
    // The participant resource moves the same horizon.
    t.post(&As::Admin, &format!("/v1/Conversations/{c}/Participants/alice"), &[("LastReadMessageIndex", "2")]).await;
    assert_eq!(t.get(&As::Admin, path).await.1["unread_messages_count"], 3);
    // Deleting a message after the horizon lowers the count; one before it does not.
    t.delete(&As::Admin, &format!("/v1/Conversations/{c}/Messages/4")).await;
    assert_eq!(t.get(&As::Admin, path).await.1["unread_messages_count"], 2);
    t.delete(&As::Admin, &format!("/v1/Conversations/{c}/Messages/0")).await;
    assert_eq!(t.get(&As::Admin, path).await.1["unread_messages_count"], 2);
    // An empty value clears it (set_all_messages_unread).
    let (_, uc) = t.post(&person("alice"), path, &[("LastReadMessageIndex", "")]).await;
    assert!(uc["unread_messages_count"].is_null(), "{uc}");

    let (_, list) = t.get(&person("alice"), "/v1/Users/alice/Conversations").await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);
    assert_error(&t.post(&As::Admin, path, &[("NotificationLevel", "loud")]).await, 400, 20001);
    assert_error(&t.post(&As::Admin, path, &[("LastReadMessageIndex", "-1")]).await, 400, 20001);
    assert_error(&t.get(&As::Admin, "/v1/Users/nobody/Conversations").await, 404, 20404);

    // Deleting the user conversation is leaving it.
    assert_eq!(t.delete(&person("alice"), path).await.0, 204);
    assert_error(&t.get(&As::Admin, path).await, 404, 20404);
}

#[tokio::test]
async fn participant_conversations_by_identity_and_address() {
    let t = TestServer::start().await;
    let a = sid(&t.conversation(&[("FriendlyName", "A")]).await);
    let b = sid(&t.conversation(&[("FriendlyName", "B")]).await);
    t.add(&a, "alice").await;
    t.add(&b, "alice").await;
    t.post(&As::Admin, &format!("/v1/Conversations/{b}/Participants"), &[("MessagingBinding.Address", "+15550001")])
        .await;
    let (status, page) = t.get(&As::Admin, "/v1/ParticipantConversations?Identity=alice").await;
    assert_eq!(status, 200, "{page}");
    let items = page["conversations"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["participant_identity"], "alice");
    assert_eq!(items[0]["conversation_friendly_name"], "A");
    assert!(items[0]["participant_user_sid"].as_str().unwrap().starts_with("US"));
    let (_, page) = t.get(&As::Admin, "/v1/ParticipantConversations?Address=%2B15550001").await;
    assert_eq!(page["conversations"][0]["conversation_sid"], b);
    assert_error(&t.get(&As::Admin, "/v1/ParticipantConversations").await, 400, 20001);
}

#[tokio::test]
async fn service_mirror_serves_the_same_data_with_service_urls() {
    let t = TestServer::start().await;
    let (_, services) = t.get(&As::Admin, "/v1/Services").await;
    let is = services["services"][0]["sid"].as_str().unwrap().to_owned();
    assert!(is.starts_with("IS"));
    let c = t.conversation(&[("UniqueName", "mirror")]).await;
    assert_eq!(c["chat_service_sid"], is);
    let base = format!("/v1/Services/{is}");
    let (status, fetched) = t.get(&As::Admin, &format!("{base}/Conversations/mirror")).await;
    assert_eq!(status, 200, "{fetched}");
    assert_eq!(fetched["url"], format!("{}{base}/Conversations/{}", t.base, sid(&c)));
    let (status, p) =
        t.post(&As::Admin, &format!("{base}/Conversations/mirror/Participants"), &[("Identity", "sam")]).await;
    assert_eq!(status, 201, "{p}");
    assert_eq!(p["chat_service_sid"], is);
    let (_, m) = t.post(&As::Admin, &format!("{base}/Conversations/mirror/Messages"), &[("Body", "hi")]).await;
    assert_eq!(m["chat_service_sid"], is);
    assert_eq!(t.get(&As::Admin, &format!("{base}/Users/sam/Conversations")).await.0, 200);
    assert_eq!(t.get(&As::Admin, &format!("{base}/ParticipantConversations?Identity=sam")).await.0, 200);
    // The short form does not carry chat_service_sid on messages.
    let (_, m) = t.get(&As::Admin, &format!("/v1/Conversations/mirror/Messages/{}", sid(&m))).await;
    assert!(m.get("chat_service_sid").is_none());
    assert_error(&t.get(&As::Admin, "/v1/Services/IS0123456789abcdef0123456789abcdef/Conversations").await, 404, 20404);
}

#[tokio::test]
async fn idempotency_key_returns_the_first_message_not_a_second() {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[]).await);
    t.add(&c, "alice").await;
    let path = format!("/v1/Conversations/{c}/Messages");
    let alice = person("alice");
    let first = t.post_with_header(&alice, &path, ("Idempotency-Key", "k1"), &[("Body", "once")]).await;
    let again = t.post_with_header(&alice, &path, ("Idempotency-Key", "k1"), &[("Body", "once")]).await;
    assert_eq!(first.0, 201);
    assert_eq!(again, first);
    // Another caller's same key is their own.
    let admin = t.post_with_header(&As::Admin, &path, ("Idempotency-Key", "k1"), &[("Body", "other")]).await;
    assert_ne!(admin.1["sid"], first.1["sid"]);
    let (_, list) = t.get(&As::Admin, &path).await;
    assert_eq!(list["messages"].as_array().unwrap().len(), 2);
    // Once its message is deleted, a replayed key still never makes a second one.
    t.delete(&As::Admin, &format!("{path}/{}", sid(&first.1))).await;
    let replay = t.post_with_header(&alice, &path, ("Idempotency-Key", "k1"), &[("Body", "once")]).await;
    assert_error(&replay, 404, 20404);
    let (_, list) = t.get(&As::Admin, &path).await;
    assert_eq!(list["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn receipts_list_is_empty_and_unique_name_can_be_cleared() {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[("UniqueName", "temp")]).await);
    let m = t.say(&As::Admin, &c, "hi").await;
    let (status, page) = t.get(&As::Admin, &format!("/v1/Conversations/{c}/Messages/{}/Receipts", sid(&m))).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["meta"]["key"], "delivery_receipts");
    assert_eq!(page["delivery_receipts"], serde_json::json!([]));
    let receipt = format!("/v1/Conversations/{c}/Messages/{}/Receipts/DY0123456789abcdef0123456789abcdef", sid(&m));
    assert_error(&t.get(&As::Admin, &receipt).await, 404, 20404);
    let (status, cleared) = t.post(&As::Admin, "/v1/Conversations/temp", &[("UniqueName", "")]).await;
    assert_eq!(status, 200);
    assert!(cleared["unique_name"].is_null(), "{cleared}");
    assert_error(&t.get(&As::Admin, "/v1/Conversations/temp").await, 404, 20404);
}

#[tokio::test]
async fn conversation_with_participants_creates_both_at_once() {
    let t = TestServer::start().await;
    let (status, c) = t
        .post(
            &As::Admin,
            "/v1/ConversationWithParticipants",
            &[
                ("FriendlyName", "trio"),
                ("Participant", r#"{"identity": "ann"}"#),
                ("Participant", r#"{"identity": "ben", "attributes": "{\"x\":1}"}"#),
                (
                    "Participant",
                    r#"{"messaging_binding": {"address": "+15550009999", "proxy_address": "+15550001111"}}"#,
                ),
            ],
        )
        .await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["friendly_name"], "trio");
    assert_eq!(c["participants_count"], 3);
    let (_, ben) = t.get(&As::Admin, &format!("/v1/Conversations/{}/Participants/ben", sid(&c))).await;
    assert_eq!(ben["attributes"], r#"{"x":1}"#);
    let many: Vec<String> = (0..11).map(|i| format!(r#"{{"identity": "p{i}"}}"#)).collect();
    let form: Vec<(&str, &str)> = many.iter().map(|p| ("Participant", p.as_str())).collect();
    assert_error(&t.post(&As::Admin, "/v1/ConversationWithParticipants", &form).await, 400, 50426);
    assert_error(&t.post(&As::Admin, "/v1/ConversationWithParticipants", &[("Participant", "nope")]).await, 400, 20001);
    // A refused participant leaves no conversation behind.
    let dup =
        [("UniqueName", "once"), ("Participant", r#"{"identity": "x"}"#), ("Participant", r#"{"identity": "x"}"#)];
    assert_error(&t.post(&As::Admin, "/v1/ConversationWithParticipants", &dup).await, 409, 50433);
    assert_error(&t.get(&As::Admin, "/v1/Conversations/once").await, 404, 20404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participant_limits_are_50_non_chat_and_1000_in_all() {
    let t = std::sync::Arc::new(TestServer::start().await);
    let c = sid(&t.conversation(&[]).await);
    let path = format!("/v1/Conversations/{c}/Participants");
    for i in 0..50 {
        let (status, body) =
            t.post(&As::Admin, &path, &[("MessagingBinding.Address", &format!("+1555000{i:04}"))]).await;
        assert_eq!(status, 201, "{body}");
    }
    assert_error(&t.post(&As::Admin, &path, &[("MessagingBinding.Address", "+15559999999")]).await, 400, 50417);
    let mut tasks = Vec::new();
    for task in 0..10 {
        let (t, path) = (t.clone(), path.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..95 {
                let (status, body) = t.post(&As::Admin, &path, &[("Identity", &format!("u{task}-{i}"))]).await;
                assert_eq!(status, 201, "{body}");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_error(&t.post(&As::Admin, &path, &[("Identity", "one-too-many")]).await, 400, 50417);
    let (_, conv) = t.get(&As::Admin, &format!("/v1/Conversations/{c}")).await;
    assert_eq!(conv["participants_count"], 1000);
}

#[tokio::test]
async fn limits_accept_values_exactly_at_the_limit() {
    let t = TestServer::start().await;
    let name = "n".repeat(256);
    let attrs = format!(r#"{{"x":"{}"}}"#, "a".repeat(16 * 1024 - 8));
    let c = t.conversation(&[("FriendlyName", &name), ("Attributes", &attrs)]).await;
    let body = "é".repeat(16 * 1024);
    assert_eq!(body.len(), 32 * 1024);
    let m = t.say(&As::Admin, &sid(&c), &body).await;
    assert_eq!(m["body"].as_str().unwrap().len(), 32 * 1024);
}

/// NUL is no text any store keeps (PostgreSQL refuses it): a 400 naming the
/// field, on both stores, and nothing written (found by schemathesis on PostgreSQL).
#[tokio::test]
async fn a_nul_character_in_any_field_is_refused_with_a_400() {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[("FriendlyName", "nul")]).await);
    let path = format!("/v1/Conversations/{c}/Messages");
    for form in
        [vec![("Body", "a\0b")], vec![("Author", "x\0"), ("Body", "ok")], vec![("Body", "ok"), ("Attri\0butes", "{}")]]
    {
        let answer = t.post(&As::Admin, &path, &form).await;
        assert_error(&answer, 400, 20001);
        assert!(answer.1["message"].as_str().unwrap().contains("NUL"), "{}", answer.1);
    }
    let (status, _) = t.get(&As::Admin, &format!("{path}?PageSize=1%00")).await;
    assert_eq!(status, 400);
    let (_, page) = t.get(&As::Admin, &path).await;
    assert!(page["messages"].as_array().unwrap().is_empty(), "{page}");
    for path in ["/v1/Conversations/a%00b", "/v1/Users/a%00b", "/v1/Conversations/a%00b/Messages", "/v1/Roles/RL%00"] {
        assert_error(&t.get(&As::Admin, path).await, 404, 20404);
    }
    // Nor in an access token's identity.
    assert_error(&t.get(&person("nul\0identity"), "/v1/Conversations").await, 401, 20101);
}
