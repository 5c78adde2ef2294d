//! Twilio's `@twilio/conversations` 3.0.1 from npm, unchanged, under Node, as
//! a test peer: `tests/node/conversations_driver.js` runs one SDK client and
//! takes commands on stdin; its answers and the SDK's events come back as JSON lines.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// How long any one answer or event may take (the SDK retries for up to 20 s).
const WAIT: Duration = Duration::from_secs(30);

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

/// One SDK client of `identity`, connected to `base` (`http://HOST:PORT`).
pub struct Sdk {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<Value>,
    /// Events read while waiting for something else, oldest first.
    pending: Vec<Value>,
    next_id: u64,
    pub identity: String,
}

impl Sdk {
    /// Starts the SDK with `token` and waits for `initialized`.
    pub async fn connect(base: &str, identity: &str, token: &str) -> Self {
        let mut sdk = Self::start(base, identity, token);
        let ready = sdk.event("initialized", |_| true).await;
        assert!(ready["ms"].is_u64(), "{ready}");
        sdk
    }

    /// Starts the SDK without waiting (to watch it fail).
    pub fn start(base: &str, identity: &str, token: &str) -> Self {
        let package = node_dir().join("node_modules/@twilio/conversations/package.json");
        assert!(
            package.is_file(),
            "{} is missing: run ./scripts/test (it installs tests/node/package-lock.json with npm ci)",
            package.display()
        );
        let ws = format!("{}/v3/wsconnect", base.replacen("http", "ws", 1));
        let mut child = Command::new("node")
            .arg(node_dir().join("conversations_driver.js"))
            .env("CONVO_TWILSOCK_URL", ws)
            .env("CONVO_TOKEN", token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (./scripts/test installs nodejs when it is missing)");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => {
                        if tx.send(v).is_err() {
                            break;
                        }
                    }
                    Err(_) => eprintln!("sdk driver: {line}"),
                }
            }
        });
        Self { child, stdin, lines, pending: Vec::new(), next_id: 0, identity: identity.to_owned() }
    }

    async fn next_line(&mut self, deadline: tokio::time::Instant) -> Option<Value> {
        tokio::time::timeout_at(deadline, self.lines.recv()).await.ok().flatten()
    }

    /// Runs `op` with `args`: its result, or the SDK's error as `Err`.
    pub async fn try_call(&mut self, op: &str, args: Value) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut cmd = args;
        cmd["op"] = json!(op);
        cmd["id"] = json!(id);
        self.stdin.write_all(format!("{cmd}\n").as_bytes()).await.expect("driver stdin");
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let Some(line) = self.next_line(deadline).await else { panic!("{op}: no answer within {WAIT:?}") };
            if line["id"] == json!(id) {
                return if line["ok"] == json!(true) { Ok(line["result"].clone()) } else { Err(line) };
            }
            if line.get("event").is_some() {
                self.check_healthy(&line);
                self.pending.push(line);
            }
        }
    }

    pub async fn call(&mut self, op: &str, args: Value) -> Value {
        self.try_call(op, args).await.unwrap_or_else(|e| panic!("{op} failed: {e}"))
    }

    fn check_healthy(&self, line: &Value) {
        let name = line["event"].as_str().unwrap_or_default();
        assert!(!matches!(name, "uncaughtException" | "unhandledRejection"), "the SDK crashed: {line}");
    }

    /// The first event `name` matching `pick` (earlier ones included).
    pub async fn event(&mut self, name: &str, pick: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(|e| e["event"] == name && pick(e)) {
            return self.pending.remove(i);
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let Some(line) = self.next_line(deadline).await else {
                panic!("no {name} event within {WAIT:?}; saw {:#?}", self.pending)
            };
            if line.get("event").is_none() {
                continue;
            }
            self.check_healthy(&line);
            if line["event"] == name && pick(&line) {
                return line;
            }
            self.pending.push(line);
        }
    }

    /// Every event `name` matching `pick` seen within `quiet` from now (and before).
    pub async fn events_within(&mut self, name: &str, pick: impl Fn(&Value) -> bool, quiet: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + quiet;
        while let Some(line) = self.next_line(deadline).await {
            if line.get("event").is_some() {
                self.check_healthy(&line);
                self.pending.push(line);
            }
        }
        let (hits, rest): (Vec<Value>, Vec<Value>) =
            std::mem::take(&mut self.pending).into_iter().partition(|e| e["event"] == name && pick(e));
        self.pending = rest;
        hits
    }

    pub async fn shutdown(mut self) {
        let _ = self.try_call("shutdown", json!({})).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

/// An event's message body (`messageAdded`, `messageUpdated`).
pub fn body(e: &Value) -> &str {
    e["message"]["body"].as_str().unwrap_or_default()
}
