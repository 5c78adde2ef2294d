//! What REST refuses a person, twilsock refuses too: the same requests through
//! Twilio's SDK transport get the same answers, credentials inside the tunnel
//! are ignored, and a hand-made twilsock client cannot follow others' objects.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{As, TestServer, person, sid};
use crate::twilsock_sdk::Sdk;

/// Alice's private conversation with one message, and a stranger's SDK.
async fn private(t: &TestServer) -> String {
    let c = sid(&t.conversation(&[("FriendlyName", "Alice only")]).await);
    t.add(&c, "alice").await;
    t.say(&person("alice"), &c, "secret").await;
    c
}

/// (the SDK's method, URL and body; the REST method, path and form it stands for)
type Case<'a> = (&'a str, String, Value, reqwest::Method, String, Vec<(&'a str, &'a str)>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_twilsock_a_stranger_is_refused_what_rest_refuses() {
    let t = TestServer::start().await;
    let c = private(&t).await;
    let mut bob = Sdk::connect(&t.base, "bob", &t.token("bob")).await;
    let base = &t.base;
    let client = format!("{base}/Client/v2");
    // (what the SDK sends, the REST request it stands for)
    let cases: Vec<Case> = vec![
        (
            "get",
            format!("{base}/v3/Lists/{c}.messages/Items?PageSize=10&Order=desc"),
            json!(null),
            reqwest::Method::GET,
            format!("/v1/Conversations/{c}/Messages"),
            vec![],
        ),
        (
            "get",
            format!("{base}/v3/Maps/{c}.roster/Items"),
            json!(null),
            reqwest::Method::GET,
            format!("/v1/Conversations/{c}/Participants"),
            vec![],
        ),
        (
            "get",
            format!("{base}/v3/Documents/{c}.channel"),
            json!(null),
            reqwest::Method::GET,
            format!("/v1/Conversations/{c}/Messages"),
            vec![],
        ),
        (
            "post",
            format!("{client}/Conversations/{c}/Messages"),
            json!({"body": "intruder"}),
            reqwest::Method::POST,
            format!("/v1/Conversations/{c}/Messages"),
            vec![("Body", "intruder")],
        ),
        (
            "post",
            format!("{client}/Conversations/{c}"),
            json!({"friendly_name": "Mine now"}),
            reqwest::Method::POST,
            format!("/v1/Conversations/{c}"),
            vec![("FriendlyName", "Mine now")],
        ),
        (
            "post",
            format!("{client}/Conversations/{c}/Participants"),
            json!({"identity": "bob"}),
            reqwest::Method::POST,
            format!("/v1/Conversations/{c}/Participants"),
            vec![("Identity", "bob")],
        ),
        (
            "delete",
            format!("{client}/Conversations/{c}/Participants/alice"),
            json!({}),
            reqwest::Method::DELETE,
            format!("/v1/Conversations/{c}/Participants/alice"),
            vec![],
        ),
        (
            "delete",
            format!("{client}/Conversations/{c}"),
            json!({}),
            reqwest::Method::DELETE,
            format!("/v1/Conversations/{c}"),
            vec![],
        ),
        (
            "post",
            format!("{client}/Users/alice"),
            json!({"friendly_name": "Not Alice"}),
            reqwest::Method::POST,
            "/v1/Users/alice".into(),
            vec![("FriendlyName", "Not Alice")],
        ),
    ];
    for (method, url, body, rest_method, rest_path, form) in cases {
        let through = bob.call("raw", json!({"method": method, "url": url, "body": body})).await;
        let rb = t.request(rest_method.clone(), &rest_path, &person("bob"));
        let rest = if form.is_empty() { rb.send().await.unwrap() } else { rb.form(&form).send().await.unwrap() };
        let rest_status = rest.status().as_u16();
        assert!(rest_status >= 400, "REST lets bob {rest_method} {rest_path}");
        assert_eq!(through["status"], rest_status, "{method} {url}: twilsock answered {through}, REST {rest_status}");
        let rest_body: Value = rest.json().await.unwrap();
        assert_eq!(through["body"]["code"], rest_body["code"], "{method} {url}: {through} vs {rest_body}");
    }
    // Maps of others' conversations, and someone else's own map: never.
    let other =
        bob.call("raw", json!({"method": "get", "url": format!("{base}/v3/Maps/myconversations:alice/Items")})).await;
    assert_eq!(other["status"], 403, "{other}");

    // Credentials inside the tunnel are not the caller's: the socket's token is.
    let admin = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{}:{}", t.creds.account_sid, t.creds.auth_token)
        )
    );
    let spoofed = bob
        .call(
            "raw",
            json!({"method": "post", "url": format!("{client}/Conversations/{c}/Messages"), "body": {"body": "spoof"},
                   "headers": {"Authorization": admin, "X-Twilio-Token": t.token("alice")}}),
        )
        .await;
    assert!(spoofed["status"].as_u64().unwrap() >= 400, "{spoofed}");
    let (_, page) = t.get(&As::Admin, &format!("/v1/Conversations/{c}/Messages")).await;
    let bodies: Vec<&str> = page["messages"].as_array().unwrap().iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(bodies, ["secret"], "nothing got in");
    let (_, conv) = t.get(&As::Admin, &format!("/v1/Conversations/{c}")).await;
    assert_eq!(conv["friendly_name"], "Alice only");

    // And bob's SDK hears nothing of it.
    t.say(&person("alice"), &c, "still secret").await;
    let heard = bob.events_within("messageAdded", |_| true, Duration::from_millis(500)).await;
    assert!(heard.is_empty(), "{heard:?}");
    bob.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_or_forged_token_is_refused_at_init_with_twilios_codes() {
    let t = TestServer::start().await;
    let expired = t.token_with("alice", convo_tui::api::time::now_unix() - 7200, 3600);
    let mut sdk = Sdk::start(&t.base, "alice", &expired);
    let e = sdk.event("connectionError", |_| true).await;
    assert_eq!(e["error"]["errorCode"], 20104, "{e}");
    assert_eq!(e["error"]["httpStatusCode"], 401, "{e}");
    drop(sdk);

    let mut forged = t.token("alice");
    forged.push('x');
    let mut sdk = Sdk::start(&t.base, "alice", &forged);
    let e = sdk.event("connectionError", |_| true).await;
    assert_eq!(e["error"]["errorCode"], 20107, "{e}");
}

/// A minimal twilsock client: frames by hand, to do what the SDK never would.
struct Raw {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

fn frame(header: Value, payload: &str) -> Vec<u8> {
    let mut header = header;
    header["payload_size"] = json!(payload.len());
    let h = header.to_string();
    format!("TWILSOCK V3.0 {}\r\n{h}\r\n{payload}", h.len()).into_bytes()
}

/// (header, payload JSON) of a server frame.
fn parse(bytes: &[u8]) -> (Value, Value) {
    let text = String::from_utf8_lossy(bytes);
    let (magic, rest) = text.split_once("\r\n").expect("magic line");
    let len: usize = magic.rsplit(' ').next().unwrap().parse().unwrap();
    let header: Value = serde_json::from_str(&rest[..len]).unwrap();
    let payload = rest.get(len + 2..).filter(|p| !p.is_empty()).map(|p| serde_json::from_str(p).unwrap_or(json!(p)));
    (header, payload.unwrap_or(Value::Null))
}

impl Raw {
    async fn connect(t: &TestServer) -> Self {
        let url = format!("{}/v3/wsconnect", t.base.replacen("http", "ws", 1));
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Self { ws }
    }

    async fn send(&mut self, bytes: Vec<u8>) {
        self.ws.send(Message::Binary(bytes.into())).await.unwrap();
    }

    async fn next(&mut self, within: Duration) -> Option<(Value, Value)> {
        loop {
            match tokio::time::timeout(within, self.ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => return Some(parse(&b)),
                Ok(Some(Ok(_))) => continue,
                _ => return None,
            }
        }
    }

    async fn init(&mut self, token: &str) -> Value {
        self.send(frame(json!({"method": "init", "id": "TM1", "token": token}), "")).await;
        self.next(Duration::from_secs(5)).await.expect("init reply").0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_made_client_cannot_follow_others_objects_and_bad_frames_close_it() {
    let t = TestServer::start().await;
    let c = private(&t).await;
    let mut bob = Raw::connect(&t).await;
    let reply = bob.init(&t.token("bob")).await;
    assert_eq!(reply["status"]["code"], 200, "{reply}");

    let body = json!({"event_protocol_version": 4, "action": "establish", "correlation_id": 7,
        "requests": [{"object_sid": format!("{c}.messages"), "object_type": "list", "last_event_id": 1}]})
    .to_string();
    let request = json!({"method": "message", "id": "TM2", "payload_type": "application/json",
        "http_request": {"host": "x", "path": "/v4/Subscriptions", "method": "POST", "headers": {}}});
    bob.send(frame(request, &body)).await;
    let (answer, _) = bob.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(answer["http_status"]["code"], 200);
    let (note, payload) = bob.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(note["method"], "notification");
    assert_eq!(payload["event_type"], "subscription_failed", "{payload}");
    assert_eq!(payload["events"][0]["error"]["status"], 403, "{payload}");

    t.say(&person("alice"), &c, "not for bob").await;
    while let Some((h, p)) = bob.next(Duration::from_millis(500)).await {
        assert!(!p.to_string().contains("not for bob"), "leaked: {h} {p}");
    }

    // Before init, nothing but init; bytes that are not a frame: close 406.
    let mut anon = Raw::connect(&t).await;
    anon.send(frame(request_get("/v3/Maps/myconversations:alice"), "")).await;
    let (refused, _) = anon.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(refused["status"]["code"], 401, "{refused}");
    let mut junk = Raw::connect(&t).await;
    junk.init(&t.token("bob")).await;
    junk.send(b"GET / HTTP/1.1\r\n\r\n".to_vec()).await;
    let (closed, _) = junk.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(closed["method"], "close");
    assert_eq!(closed["status"]["code"], 406, "{closed}");
}

fn request_get(path: &str) -> Value {
    json!({"method": "message", "id": "TM9", "http_request": {"host": "x", "path": path, "method": "GET", "headers": {}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_is_asked_to_renew_its_token_before_expiry_and_closed_at_it() {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[("FriendlyName", "Renewals")]).await);
    t.add(&c, "alice").await;
    let now = convo_tui::api::time::now_unix();

    // Renewed in time: the socket goes on under the new token.
    let mut renewed = Sdk::connect(&t.base, "alice", &t.token_with("alice", now, 185)).await;
    renewed.event("tokenAboutToExpire", |_| true).await;
    renewed.call("update_token", json!({"token": t.token("alice")})).await;
    assert_eq!(renewed.call("send", json!({"sid": c, "body": "still here"})).await, 0);
    // Renewing as someone else is refused.
    let other = renewed.try_call("update_token", json!({"token": t.token("mallory")})).await;
    assert!(other.is_err(), "{other:?}");

    // Not renewed: closed with 410 when the token expires.
    let now = convo_tui::api::time::now_unix();
    let mut lapsing = Sdk::connect(&t.base, "alice", &t.token_with("alice", now, 6)).await;
    lapsing.event("tokenAboutToExpire", |_| true).await;
    lapsing.event("tokenExpired", |_| true).await;
    renewed.shutdown().await;
}
