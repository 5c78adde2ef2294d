//! The send-rate figure for the note, not a test of speed: nothing here
//! asserts a time. Run it in release mode and read what it prints:
//! `cargo test --release --test server -- --ignored --nocapture send_rate`.
//! The server runs on its own runtime thread, as `convo-tui serve` would; the
//! senders share the same 2-core box, so the figure includes the client's cost.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::common::*;

async fn measure(senders: usize, per_sender: u64) {
    let (tx, rx) = std::sync::mpsc::channel();
    // The server on its own multi-threaded runtime, like the real binary.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let t = TestServer::start().await;
            tx.send((t.base.clone(), t.creds.clone())).unwrap();
            std::future::pending::<()>().await;
            drop(t);
        });
    });
    let (base, creds) = rx.recv().unwrap();
    let http = reqwest::Client::builder().pool_max_idle_per_host(senders).build().unwrap();
    let auth = |rb: reqwest::RequestBuilder| rb.basic_auth(&creds.account_sid, Some(&creds.auth_token));
    let c: serde_json::Value = auth(http.post(format!("{base}/v1/Conversations")))
        .form(&[("FriendlyName", "load")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("{base}/v1/Conversations/{}/Messages", c["sid"].as_str().unwrap());
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..senders {
        let (http, path, done, creds) = (http.clone(), path.clone(), done.clone(), creds.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..per_sender {
                let resp = http
                    .post(&path)
                    .basic_auth(&creds.account_sid, Some(&creds.auth_token))
                    .form(&[("Body", format!("sender {s} message {n}")), ("Author", format!("sender{s}"))])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 201);
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed();
    let total = done.load(Ordering::Relaxed);
    println!(
        "send_rate: {senders} senders x {per_sender} = {total} messages in {:.2} s: {:.0} messages/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints a throughput figure; run in release with --ignored --nocapture"]
async fn send_rate() {
    for senders in [16, 32] {
        measure(senders, 40_000 / senders as u64).await;
    }
}
