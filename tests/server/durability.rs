//! Durability and concurrency: data survives a restart and a kill -9 of the
//! real binary; concurrent senders never share a message index.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

#[tokio::test]
async fn data_survives_a_graceful_restart() {
    let t = TestServer::start().await;
    let c = sid(&t.conversation(&[("UniqueName", "keep")]).await);
    t.add(&c, "alice").await;
    t.say(&person("alice"), &c, "remember me").await;
    t.post(&person("alice"), "/v1/Users/alice/Conversations/keep", &[("LastReadMessageIndex", "0")]).await;
    let service = t.get(&As::Admin, "/v1/Services").await.1["services"][0]["sid"].clone();
    // An open stream neither blocks the shutdown nor survives it.
    let mut before = t.stream(Some("alice")).await;
    before.expect_user_updated("alice").await; // she is online (presence)

    let t = t.restart().await;
    assert!(before.next_within(WAIT).await.is_none(), "the old stream was closed");
    let (_, page) = t.get(&As::Admin, "/v1/Conversations/keep/Messages").await;
    assert_eq!(page["messages"][0]["body"], "remember me");
    assert_eq!(t.get(&As::Admin, "/v1/Users/alice/Conversations/keep").await.1["unread_messages_count"], 0);
    assert_eq!(t.get(&As::Admin, "/v1/Services").await.1["services"][0]["sid"], service, "the service SID is kept");
    // Index allocation resumes after the last index, and streams know the members again.
    let mut alice = t.stream(Some("alice")).await;
    assert_eq!(t.say(&As::Admin, &c, "after").await["index"], 1);
    alice.expect("messageAdded").await;
}

/// The real `convo-tui serve`, killed without warning.
pub struct Served {
    pub child: Child,
    pub base: String,
}

impl Served {
    pub fn spawn(dir: &std::path::Path, port: u16) -> Self {
        Self::spawn_with(Command::new(env!("CARGO_BIN_EXE_convo-tui")), dir, port)
    }

    /// The binary on a "disk" that holds at most `bytes` per file: `prlimit
    /// --fsize`, with SIGXFSZ ignored (set in the shell, kept across exec) so
    /// a write past the limit fails as on a full disk instead of killing us.
    fn spawn_on_small_disk(dir: &std::path::Path, port: u16, bytes: u64) -> Self {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(r#"trap '' XFSZ; exec prlimit --fsize="$0" -- "$@""#)
            .arg(bytes.to_string())
            .arg(env!("CARGO_BIN_EXE_convo-tui"));
        Self::spawn_with(cmd, dir, port)
    }

    fn spawn_with(mut cmd: Command, dir: &std::path::Path, port: u16) -> Self {
        let child = cmd
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(dir)
            .env_remove("CONVO_ACCOUNT_SID")
            .env_remove("CONVO_AUTH_TOKEN")
            .env_remove("CONVO_API_KEY")
            .env_remove("CONVO_API_SECRET")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn convo-tui serve");
        Self { child, base: format!("http://127.0.0.1:{port}") }
    }

    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = reqwest::get(format!("{}/healthz", self.base)).await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not come up at {}", self.base);
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_dash_nine() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let served = Served::spawn(dir.path(), port);
    served.wait_ready().await;
    let creds: convo_tui::config::Credentials =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("credentials.json")).unwrap()).unwrap();
    let http = reqwest::Client::new();
    let post = |path: String, form: Vec<(&'static str, String)>| {
        http.post(format!("{}{path}", served.base))
            .basic_auth(&creds.account_sid, Some(&creds.auth_token))
            .form(&form)
            .send()
    };
    let c: serde_json::Value =
        post("/v1/Conversations".into(), vec![("UniqueName", "durable".into())]).await.unwrap().json().await.unwrap();
    let c = sid(&c);
    // Many concurrent acknowledged writes, then SIGKILL with no chance to flush.
    let sends = (0..200).map(|i| post(format!("/v1/Conversations/{c}/Messages"), vec![("Body", format!("m{i}"))]));
    let results = futures_util::future::join_all(sends).await;
    let acknowledged = results.into_iter().filter(|r| r.as_ref().is_ok_and(|r| r.status() == 201)).count();
    assert_eq!(acknowledged, 200);
    let mut served = served;
    served.child.kill().expect("SIGKILL");
    served.child.wait().unwrap();

    let port = free_port();
    let again = Served::spawn(dir.path(), port);
    again.wait_ready().await;
    let mut seen = 0;
    let mut url = format!("{}/v1/Conversations/durable/Messages?PageSize=100", again.base);
    loop {
        let page: serde_json::Value = http
            .get(&url)
            .basic_auth(&creds.account_sid, Some(&creds.auth_token))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen += page["messages"].as_array().unwrap().len();
        match page["meta"]["next_page_url"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, 200, "every acknowledged message is there after kill -9");
}

#[tokio::test]
async fn concurrent_senders_never_share_an_index() {
    let t = std::sync::Arc::new(TestServer::start().await);
    let c = sid(&t.conversation(&[]).await);
    for i in 0..8 {
        t.add(&c, &format!("sender{i}")).await;
    }
    let mut tasks = Vec::new();
    for i in 0..8 {
        let t = t.clone();
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let who = person(&format!("sender{i}"));
            let mut indexes = Vec::new();
            for n in 0..25 {
                indexes.push(t.say(&who, &c, &format!("{i}-{n}")).await["index"].as_i64().unwrap());
            }
            indexes
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        let mine = task.await.unwrap();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "one sender's indexes grow: {mine:?}");
        all.extend(mine);
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(unique.len(), 200, "no index handed out twice");
    assert_eq!(unique, (0..200).collect::<HashSet<i64>>(), "no gaps without deletes");
    let (_, conv) = t.get(&As::Admin, &format!("/v1/Conversations/{c}")).await;
    assert_eq!(conv["messages_count"], 200);
    assert_eq!(conv["last_message"]["index"], 199);
}

#[tokio::test]
async fn the_token_command_mints_tokens_the_served_binary_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::spawn(dir.path(), free_port());
    served.wait_ready().await;
    assert!(dir.path().join("credentials.json").exists(), "serve keeps generated credentials in the data dir");
    let out = Command::new(env!("CARGO_BIN_EXE_convo-tui"))
        .args(["token", "--identity", "cli-user", "--ttl", "600", "--data-dir"])
        .arg(dir.path())
        .env_remove("CONVO_API_KEY")
        .env_remove("CONVO_API_SECRET")
        .env_remove("CONVO_ACCOUNT_SID")
        .env_remove("CONVO_AUTH_TOKEN")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let resp = reqwest::Client::new()
        .get(format!("{}/v1/Users/cli-user", served.base))
        .header("X-Twilio-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let user: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(user["identity"], "cli-user");
    let bad = Command::new(env!("CARGO_BIN_EXE_convo-tui"))
        .args(["token", "--identity", "x", "--ttl", "90000", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!bad.status.success(), "a ttl over 24 h is refused");
}

#[tokio::test]
async fn dropping_the_running_server_stops_it() {
    let mut t = TestServer::start().await;
    assert_eq!(t.get(&As::Admin, "/v1/Conversations").await.0, 200);
    drop(t.server.take());
    let deadline = Instant::now() + WAIT;
    loop {
        let fresh = reqwest::Client::new(); // no pooled connection from before
        if fresh.get(format!("{}/healthz", t.base)).send().await.is_err() {
            break;
        }
        assert!(Instant::now() < deadline, "still serving after the drop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A disk that fills up: the write that cannot be stored answers 503 with
/// `Retry-After` and Twilio's error body (never a 500 or a hang), reads go on,
/// and after a restart with room again every acknowledged message is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_with_503_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::spawn_on_small_disk(dir.path(), free_port(), 2 * 1024 * 1024);
    served.wait_ready().await;
    let creds: convo_tui::config::Credentials =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("credentials.json")).unwrap()).unwrap();
    let http = reqwest::Client::new();
    let admin = |rb: reqwest::RequestBuilder| rb.basic_auth(&creds.account_sid, Some(&creds.auth_token));
    let c: serde_json::Value = admin(http.post(format!("{}/v1/Conversations", served.base)))
        .form(&[("UniqueName", "full")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let messages = format!("{}/v1/Conversations/{}/Messages", served.base, sid(&c));
    let mut acknowledged = Vec::new();
    let mut refusal = None;
    // 30 KB each: the 2 MB limit is reached within ~70 messages.
    for i in 0..400 {
        let body = format!("m{i} {}", "x".repeat(30_000));
        let r = admin(http.post(&messages)).form(&[("Body", body.as_str())]).send().await.unwrap();
        match r.status().as_u16() {
            201 => acknowledged.push(r.json::<serde_json::Value>().await.unwrap()["index"].as_i64().unwrap()),
            _ => {
                refusal = Some(r);
                break;
            }
        }
    }
    let refusal = refusal.expect("the disk filled up within 400 messages of 30 KB");
    assert_eq!(refusal.status(), 503);
    assert!(refusal.headers().get("retry-after").is_some(), "{:?}", refusal.headers());
    let body: serde_json::Value = refusal.json().await.unwrap();
    assert_eq!((body["status"].as_u64(), body["code"].as_u64()), (Some(503), Some(20503)), "{body}");
    assert!(body["message"].is_string() && body["more_info"].is_string(), "{body}");
    assert!(!acknowledged.is_empty(), "some writes fitted before the disk was full");
    // Reads are still served.
    let r = admin(http.get(format!("{}/v1/Conversations/full", served.base))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    drop(served);

    let again = Served::spawn(dir.path(), free_port());
    again.wait_ready().await;
    let mut seen = Vec::new();
    let mut url = format!("{}/v1/Conversations/full/Messages?PageSize=100", again.base);
    loop {
        let page: serde_json::Value = admin(http.get(&url)).send().await.unwrap().json().await.unwrap();
        seen.extend(page["messages"].as_array().unwrap().iter().map(|m| m["index"].as_i64().unwrap()));
        match page["meta"]["next_page_url"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, acknowledged, "every acknowledged message, and nothing refused, after the restart");
}
