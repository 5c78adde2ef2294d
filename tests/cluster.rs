//! Three real `convo-tui serve` processes on one PostgreSQL database behave as
//! one server: every stream on every instance gets every message once, in
//! index order; state agrees everywhere; a `kill -9` loses nothing acknowledged.
//! Needs `CONVO_TEST_DATABASE_URL` (`scripts/test` starts a throwaway cluster).

#[path = "server/common.rs"]
mod common;
#[path = "server/twilsock_sdk.rs"]
mod twilsock_sdk;
#[path = "server/webhook_fixture.rs"]
mod webhook_fixture;

use std::collections::{BTreeSet, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use convo_tui::config::Credentials;
use serde_json::Value;

/// One `convo-tui serve` instance, killed (SIGKILL) when dropped.
struct Instance {
    child: Child,
    client: TestServer,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn spawn(database: &str, creds: &Credentials) -> Instance {
    spawn_with(database, creds, &[]).await
}

/// An instance started with these further `serve` arguments.
async fn spawn_with(database: &str, creds: &Credentials, extra: &[&str]) -> Instance {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_convo-tui"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database", database, "--data-dir"])
        .arg(dir.path())
        .args(extra)
        .env("CONVO_ACCOUNT_SID", &creds.account_sid)
        .env("CONVO_AUTH_TOKEN", &creds.auth_token)
        .env("CONVO_API_KEY", &creds.api_key_sid)
        .env("CONVO_API_SECRET", &creds.api_key_secret)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn convo-tui serve");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
            && r.status() == 200
        {
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["store"], "postgres", "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "instance at {base} did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Instance { child, client: TestServer::attach(base, creds.clone(), dir) }
}

/// Three instances on a fresh database, or None (with a note) without PostgreSQL.
async fn cluster() -> Option<Vec<Instance>> {
    if database_server().is_none() {
        eprintln!("skipped: CONVO_TEST_DATABASE_URL is not set (scripts/test sets it)");
        return None;
    }
    let database = fresh_database().await;
    let creds = Credentials::generate();
    let mut all = Vec::new();
    for _ in 0..3 {
        all.push(spawn(&database, &creds).await);
    }
    Some(all)
}

/// Webhooks are delivered once per event by the cluster, not once per instance:
/// each instance's delivery task claims a delivery in the database first.
#[tokio::test]
async fn three_instances_deliver_each_webhook_once() {
    let Some(nodes) = cluster().await else { return };
    let rx = webhook_fixture::Receiver::start().await;
    let (_, services) = nodes[0].client.get(&As::Admin, "/v1/Services").await;
    let service = services["services"][0]["sid"].as_str().unwrap().to_owned();
    let set = nodes[1]
        .client
        .post(
            &As::Admin,
            &format!("/v1/Services/{service}/Configuration/Webhooks"),
            &[("PostWebhookUrl", rx.url("/post").as_str()), ("Filters", "onMessageAdded"), ("Method", "POST")],
        )
        .await;
    assert_eq!(set.0, 200, "{}", set.1);
    let c = sid(&nodes[2].client.conversation(&[("UniqueName", "hooked")]).await);
    const PER_NODE: usize = 10;
    let mut sent = HashSet::new();
    for i in 0..PER_NODE {
        for (n, node) in nodes.iter().enumerate() {
            let body = format!("node {n} message {i}");
            let path = format!("/v1/Conversations/{c}/Messages");
            // REST writes fire service webhooks only when asked (as Twilio's).
            let enabled = ("X-Twilio-Webhook-Enabled", "true");
            let (status, m) = node.client.post_with_header(&As::Admin, &path, enabled, &[("Body", &body)]).await;
            assert_eq!(status, 201, "{m}");
            sent.insert(m["sid"].as_str().unwrap().to_owned());
        }
    }
    rx.events("/post", "onMessageAdded", sent.len()).await;
    // Time for any duplicate to arrive (each instance polls its outbox every second).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let hits: Vec<_> = rx.hits("/post").into_iter().filter(|h| h.get("EventType") == "onMessageAdded").collect();
    let delivered: Vec<String> = hits.iter().map(|h| h.get("MessageSid").to_owned()).collect();
    assert_eq!(delivered.len(), sent.len(), "one delivery per message, not one per instance");
    assert_eq!(delivered.iter().cloned().collect::<HashSet<_>>(), sent, "every message's webhook arrived");
    // One conversation is one lane: delivered in index order.
    let order: Vec<i64> = hits.iter().map(|h| h.get("Index").parse().unwrap()).collect();
    assert_eq!(order, (0..sent.len() as i64).collect::<Vec<_>>(), "in index order");
}

/// The indexes of the next `n` messageAdded events of `stream`, in arrival order.
async fn indexes(stream: &mut Stream, n: usize) -> Vec<i64> {
    let mut seen = Vec::with_capacity(n);
    while seen.len() < n {
        let e = stream.expect("messageAdded").await;
        seen.push(e["data"]["index"].as_i64().expect("index"));
    }
    seen
}

#[tokio::test]
async fn three_instances_deliver_every_message_once_in_order_and_agree_on_state() {
    let Some(nodes) = cluster().await else { return };
    let c = sid(&nodes[0].client.conversation(&[("UniqueName", "cluster")]).await);
    let people = ["alice", "bob", "carol"];
    for (node, who) in nodes.iter().zip(people) {
        node.client.add(&c, who).await; // each added through a different instance
    }
    // Streams on every instance, opened after the joins reached it through the log.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut streams = Vec::new();
    for (node, who) in nodes.iter().zip(people) {
        streams.push(node.client.stream(Some(who)).await);
    }
    let mut admin_stream = nodes[2].client.stream(None).await;

    // Senders on all three instances at once.
    const PER_NODE: usize = 30;
    let mut senders = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        let (base, creds) = (node.client.base.clone(), node.client.creds.clone());
        let c = c.clone();
        senders.push(tokio::spawn(async move {
            let t = TestServer::attach(base, creds, tempfile::tempdir().unwrap());
            let mut acked = Vec::new();
            for i in 0..PER_NODE {
                let body = format!("node {n} message {i}");
                let m = t.say(&As::Admin, &c, &body).await;
                acked.push(m["index"].as_i64().unwrap());
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for s in senders {
        acked.extend(s.await.unwrap());
    }
    let total = PER_NODE * 3;
    let unique: HashSet<i64> = acked.iter().copied().collect();
    assert_eq!(unique.len(), total, "every acknowledged index is unique");
    assert_eq!(unique, (0..total as i64).collect(), "indexes are dense from 0");

    for stream in streams.iter_mut().chain([&mut admin_stream]) {
        let got = indexes(stream, total).await;
        assert_eq!(got, (0..total as i64).collect::<Vec<_>>(), "every message once, in index order");
        stream.expect_none("messageAdded", Duration::from_millis(300)).await;
    }

    // A read horizon moved on one instance is seen by the others.
    let horizon = nodes[1]
        .client
        .post(&person("alice"), "/v1/Users/alice/Conversations/cluster", &[("LastReadMessageIndex", "9")])
        .await;
    assert_eq!(horizon.0, 200, "{}", horizon.1);
    for node in &nodes {
        let (_, uc) = node.client.get(&As::Admin, "/v1/Users/alice/Conversations/cluster").await;
        assert_eq!(uc["last_read_message_index"], 9, "{uc}");
        assert_eq!(uc["unread_messages_count"], total as i64 - 10, "{uc}");
        let (_, list) = node.client.get(&As::Admin, &format!("/v1/Conversations/{c}/Participants")).await;
        let names: BTreeSet<String> = list["participants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["identity"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, people.iter().map(|p| p.to_string()).collect(), "participants agree");
    }

    // An Idempotency-Key used on one instance holds on another.
    let path = format!("/v1/Conversations/{c}/Messages");
    let first =
        nodes[0].client.post_with_header(&As::Admin, &path, ("Idempotency-Key", "k1"), &[("Body", "once")]).await;
    let again =
        nodes[2].client.post_with_header(&As::Admin, &path, ("Idempotency-Key", "k1"), &[("Body", "once")]).await;
    assert_eq!(first.0, 201, "{}", first.1);
    assert_eq!(first.1["sid"], again.1["sid"], "the second instance returns the first message");

    // Typing on one instance reaches a participant on another, and ends there.
    let mut bob = nodes[1].client.stream(Some("bob")).await;
    let mut alice = nodes[0].client.stream(Some("alice")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    bob.typing(&c).await;
    let started = alice.expect("typingStarted").await;
    assert_eq!(started["data"]["identity"], "bob", "{started}");
    nodes[1].client.say(&person("bob"), &c, "done typing").await;
    let ended = alice.expect("typingEnded").await;
    assert_eq!(ended["data"]["identity"], "bob", "{ended}");
}

/// A user is online while a stream of theirs is open on any instance, seen
/// from every instance; a `kill -9`ed instance's streams stop counting once its
/// lease lapses, and a survivor tells the others they went offline.
#[tokio::test]
async fn presence_spans_instances_and_outlives_no_killed_instance() {
    if database_server().is_none() {
        eprintln!("skipped: CONVO_TEST_DATABASE_URL is not set (scripts/test sets it)");
        return;
    }
    let database = fresh_database().await;
    let creds = Credentials::generate();
    let lease = ["--presence-lease", "2"];
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(spawn_with(&database, &creds, &lease).await);
    }
    let c = sid(&nodes[0].client.conversation(&[]).await);
    nodes[0].client.add(&c, "alice").await;
    nodes[1].client.add(&c, "bob").await;
    tokio::time::sleep(Duration::from_millis(300)).await; // the joins reach every instance
    let mut bob = nodes[1].client.stream(Some("bob")).await;
    let alice_on_a = nodes[0].client.stream(Some("alice")).await;
    let online = bob.expect_user_updated("alice").await;
    assert_eq!(
        (online["data"]["is_online"].clone(), online["updated"].clone()),
        (true.into(), serde_json::json!(["reachabilityOnline"])),
        "{online}"
    );
    let (_, seen) = nodes[1].client.get(&As::Admin, "/v1/Users/alice").await;
    assert_eq!(seen["is_online"], true, "seen online through another instance: {seen}");
    // A second stream on a third instance, opened and closed: alice stays online.
    let alice_on_c = nodes[2].client.stream(Some("alice")).await;
    drop(alice_on_c);
    bob.expect_no_user_updated("alice", Duration::from_millis(800)).await;
    let (_, seen) = nodes[2].client.get(&As::Admin, "/v1/Users/alice").await;
    assert_eq!(seen["is_online"], true, "{seen}");
    // kill -9 of the instance holding her last stream: offline once its lease lapses.
    let a = nodes.remove(0);
    drop(a);
    drop(alice_on_a);
    let offline = bob.expect_user_updated("alice").await;
    assert_eq!(offline["data"]["is_online"], false, "{offline}");
    for node in &nodes {
        let (_, seen) = node.client.get(&As::Admin, "/v1/Users/alice").await;
        assert_eq!(seen["is_online"], false, "{seen}");
    }
    bob.expect_no_user_updated("alice", Duration::from_millis(1500)).await; // told once
}

#[tokio::test]
async fn killing_an_instance_under_load_loses_nothing_acknowledged() {
    let Some(mut nodes) = cluster().await else { return };
    let c = sid(&nodes[0].client.conversation(&[("UniqueName", "load")]).await);
    let mut senders = Vec::new();
    for node in &nodes {
        let (base, creds) = (node.client.base.clone(), node.client.creds.clone());
        let c = c.clone();
        senders.push(tokio::spawn(async move {
            let t = TestServer::attach(base, creds, tempfile::tempdir().unwrap());
            let mut acked = Vec::new();
            for i in 0..60 {
                let path = format!("/v1/Conversations/{c}/Messages");
                match t
                    .request(reqwest::Method::POST, &path, &As::Admin)
                    .form(&[("Body", format!("m{i}"))])
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 201 => {
                        acked.push(r.json::<Value>().await.unwrap()["sid"].as_str().unwrap().to_owned())
                    }
                    _ => break, // the instance died under this sender
                }
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let victim = nodes.remove(0);
    drop(victim); // SIGKILL, mid-stream
    let mut acked = Vec::new();
    for s in senders {
        acked.extend(s.await.unwrap());
    }
    assert!(acked.len() >= 120, "the survivors kept sending: {}", acked.len());
    let mut stored: Vec<Value> = Vec::new();
    let mut next = format!("/v1/Conversations/{c}/Messages?PageSize=100");
    loop {
        let (status, page) = nodes[0].client.get(&As::Admin, &next).await;
        assert_eq!(status, 200, "{page}");
        stored.extend(page["messages"].as_array().unwrap().iter().cloned());
        match page["meta"]["next_page_url"].as_str() {
            Some(url) => next = url.to_owned(),
            None => break,
        }
    }
    let sids: HashSet<&str> = stored.iter().map(|m| m["sid"].as_str().unwrap()).collect();
    for s in &acked {
        assert!(sids.contains(s.as_str()), "acknowledged message {s} is stored");
    }
    let indexes: HashSet<i64> = stored.iter().map(|m| m["index"].as_i64().unwrap()).collect();
    assert_eq!(indexes.len(), stored.len(), "no index repeated");
    // The survivors still see each other's writes.
    let mut watcher = nodes[1].client.stream(None).await;
    nodes[0].client.say(&As::Admin, &c, "after the kill").await;
    let e = watcher.expect("messageAdded").await;
    assert_eq!(e["data"]["body"], "after the kill");
}

/// Twilio's Conversations SDK on one instance hears what happens on the others
/// (the cluster's event log), and what it sends is seen everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilios_sdk_on_one_instance_sees_changes_made_on_another() {
    let Some(nodes) = cluster().await else { return };
    let (a, b) = (&nodes[0].client, &nodes[1].client);
    let c = sid(&b.conversation(&[("FriendlyName", "Across")]).await);
    b.add(&c, "alice").await;
    b.add(&c, "bob").await;
    let mut alice = twilsock_sdk::Sdk::connect(&a.base, "alice", &a.token("alice")).await;
    alice.call("participants", serde_json::json!({"sid": c})).await;

    b.say(&person("bob"), &c, "from instance two").await;
    alice.event("messageAdded", |e| twilsock_sdk::body(e) == "from instance two").await;
    let mut bob_stream = nodes[2].client.stream(Some("bob")).await;
    bob_stream.typing(&c).await;
    alice.event("typingStarted", |e| e["participant"]["identity"] == "bob").await;

    alice.call("send", serde_json::json!({"sid": c, "body": "from the SDK on instance one"})).await;
    let got = bob_stream.expect("messageAdded").await;
    assert_eq!(got["data"]["body"], "from the SDK on instance one", "{got}");
    let (_, page) = nodes[2].client.get(&As::Admin, &format!("/v1/Conversations/{c}/Messages")).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 2, "{page}");
    alice.shutdown().await;
}
