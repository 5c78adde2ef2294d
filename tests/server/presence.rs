//! Presence (Twilio's reachability): `is_online` follows a person's open
//! streams, and `userUpdated` tells those who share a conversation with them.

use std::time::Duration;

use serde_json::Value;

use crate::common::*;

async fn user(t: &TestServer, identity: &str) -> Value {
    let (status, body) = t.get(&As::Admin, &format!("/v1/Users/{identity}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// alice and bob share a conversation; eve is in none with them.
async fn setup() -> (TestServer, String) {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[]).await);
    t.add(&c, "alice").await;
    t.add(&c, "bob").await;
    let other = sid(&t.conversation(&[]).await);
    t.add(&other, "eve").await;
    (t, c)
}

#[tokio::test]
async fn a_stream_puts_its_user_online_and_tells_who_shares_a_conversation() {
    let (t, _) = setup().await;
    let (_, config) = t.get(&As::Admin, &format!("/v1/Services/{}/Configuration", service_sid(&t))).await;
    assert_eq!(config["reachability_enabled"], true, "on by default on this server");
    let before = user(&t, "alice").await;
    assert_eq!((before["is_online"].clone(), before["is_notifiable"].clone()), (Value::Bool(false), Value::Null));
    let mut bob = t.stream(Some("bob")).await;
    let mut eve = t.stream(Some("eve")).await;
    bob.expect_user_updated("bob").await; // bob hears of himself too

    let mut alice = t.stream(Some("alice")).await;
    let online = bob.expect_user_updated("alice").await;
    assert_eq!(online["updated"], serde_json::json!(["reachabilityOnline"]), "{online}");
    assert_eq!(online["data"]["is_online"], true, "{online}");
    assert!(online["data"]["is_notifiable"].is_null(), "no push registrations here: {online}");
    assert!(online["conversation_sid"].is_null(), "{online}");
    assert_eq!(alice.expect_user_updated("alice").await["data"]["is_online"], true, "and alice herself");
    let fetched = user(&t, "alice").await;
    assert_eq!(fetched["is_online"], true, "{fetched}");
    assert_eq!(online["data"], fetched, "the event's data is the fetched resource");
    // Lists never carry reachability (as Twilio's).
    let (_, list) = t.get(&As::Admin, "/v1/Users").await;
    assert!(list["users"].as_array().unwrap().iter().all(|u| u["is_online"].is_null()), "{list}");
    // As a person sees it, too.
    let (_, seen) = t.get(&person("bob"), "/v1/Users/alice").await;
    assert_eq!(seen["is_online"], true, "{seen}");
    eve.expect_no_user_updated("alice", Duration::from_millis(500)).await;

    drop(alice);
    let offline = bob.expect_user_updated("alice").await;
    assert_eq!(offline["updated"], serde_json::json!(["reachabilityOnline"]), "{offline}");
    assert_eq!(offline["data"]["is_online"], false, "{offline}");
    assert_eq!(user(&t, "alice").await["is_online"], false);
    eve.expect_no_user_updated("alice", Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_user_stays_online_until_their_last_stream_closes() {
    let (t, _) = setup().await;
    let mut bob = t.stream(Some("bob")).await;
    let first = t.stream(Some("alice")).await;
    assert_eq!(bob.expect_user_updated("alice").await["data"]["is_online"], true);
    let second = t.stream(Some("alice")).await;
    drop(first);
    bob.expect_no_user_updated("alice", Duration::from_millis(700)).await;
    assert_eq!(user(&t, "alice").await["is_online"], true, "one stream is still open");
    drop(second);
    assert_eq!(bob.expect_user_updated("alice").await["data"]["is_online"], false);
    assert_eq!(user(&t, "alice").await["is_online"], false);
}

#[tokio::test]
async fn with_reachability_off_both_fields_are_null_and_no_one_is_told() {
    let (t, _) = setup().await;
    let config = format!("/v1/Services/{}/Configuration", service_sid(&t));
    let (status, body) = t.post(&As::Admin, &config, &[("ReachabilityEnabled", "false")]).await;
    assert_eq!((status, body["reachability_enabled"].clone()), (200, Value::Bool(false)), "{body}");
    let mut bob = t.stream(Some("bob")).await;
    let alice = t.stream(Some("alice")).await;
    bob.expect_no_user_updated("alice", Duration::from_millis(700)).await;
    let u = user(&t, "alice").await;
    assert!(u["is_online"].is_null() && u["is_notifiable"].is_null(), "{u}");
    // Turned back on, the open stream counts at once.
    t.post(&As::Admin, &config, &[("ReachabilityEnabled", "true")]).await;
    assert_eq!(user(&t, "alice").await["is_online"], true);
    drop(alice);
    assert_eq!(bob.expect_user_updated("alice").await["data"]["is_online"], false);
}

#[tokio::test]
async fn a_renamed_user_is_announced_with_its_reason_and_reachability() {
    let (t, _) = setup().await;
    let mut bob = t.stream(Some("bob")).await;
    let _alice = t.stream(Some("alice")).await;
    bob.expect_user_updated("alice").await;
    let (status, body) = t.post(&person("alice"), "/v1/Users/alice", &[("FriendlyName", "Alice A.")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["is_online"], true, "the update answers as a fetch does: {body}");
    let renamed = bob.expect_user_updated("alice").await;
    assert_eq!(renamed["updated"], serde_json::json!(["friendlyName"]), "{renamed}");
    assert_eq!(renamed["data"]["friendly_name"], "Alice A.");
    assert_eq!(renamed["data"]["is_online"], true, "{renamed}");
}

fn service_sid(t: &TestServer) -> String {
    t.server.as_ref().expect("a running server").service_sid().to_owned()
}
