//! Twilio's own `@twilio/mcs-client` from npm, unchanged, under Node against a
//! real server: upload, the record, its temporary link, MediaSet, access.
//!
//! `./scripts/test` installs the pinned packages of `tests/node` into
//! `tests/node/node_modules`; without them (or without `node`) these tests fail
//! and say so, they never skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common::{TestServer, person, sid};
use crate::python::{run, show};

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

/// `node` with mcs-client installed, or a failure that says how to get it.
fn node_with_packages() -> Command {
    let modules = node_dir().join("node_modules/@twilio/mcs-client/package.json");
    assert!(
        modules.is_file(),
        "{} is missing: run ./scripts/test (it installs tests/node/package-lock.json with npm ci)",
        modules.display()
    );
    let found = Command::new("node").arg("--version").output();
    assert!(
        found.as_ref().is_ok_and(|o| o.status.success()),
        "`node` does not run ({found:?}): ./scripts/test installs Debian's nodejs when it is missing"
    );
    Command::new("node")
}

/// Runs `tests/node/mcs_client.js` as alice (bob is the outsider) and returns its JSON.
async fn drive_mcs_client(t: &TestServer) -> Value {
    let service = t.server.as_ref().expect("running").service_sid();
    let media = format!("{}/v1/Services/{service}/Media", t.base);
    let mut cmd = node_with_packages();
    cmd.arg(node_dir().join("mcs_client.js"))
        .env("CONVO_MEDIA_URL", &media)
        .env("CONVO_MEDIA_SET_URL", format!("{media}Set"))
        .env("CONVO_TOKEN", t.token("alice"))
        .env("CONVO_OTHER_TOKEN", t.token("bob"));
    let out = run(cmd, Duration::from_secs(120)).await;
    assert!(out.status.success(), "{}", show(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", show(&out)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_mcs_client_uploads_fetches_and_reads_back_the_bytes() {
    let t = TestServer::start().await;
    let out = drive_mcs_client(&t).await;
    assert_eq!(out["version"], "1.0.1", "the pinned package ran: {out}");

    let me = out["posted"]["sid"].as_str().unwrap_or_default().to_owned();
    assert!(me.starts_with("ME") && me.len() == 34, "{out}");
    let service = t.server.as_ref().unwrap().service_sid();
    for seen in [&out["posted"], &out["got"], &out["media_set"][0]] {
        assert_eq!(seen["sid"], me.as_str(), "{out}");
        assert_eq!(seen["service_sid"], service, "{out}");
        assert_eq!(seen["size"], out["sent"]["length"], "{out}");
        assert_eq!(
            (seen["content_type"].as_str(), seen["filename"].as_str(), seen["category"].as_str()),
            (Some("image/png"), Some("cat.png"), Some("media")),
            "{out}"
        );
        assert!(seen["date_created"].is_string(), "the client parsed date_created: {out}");
    }
    assert_eq!(out["media_set"].as_array().map(Vec::len), Some(1), "{out}");

    // The temporary links (from get and from MediaSet) give back exactly the bytes sent.
    for content in [&out["content"], &out["media_set_content"]] {
        assert_eq!(content["status"], 200, "{out}");
        assert_eq!(content["content_type"], "image/png", "{out}");
        assert_eq!((&content["length"], &content["sha256"]), (&out["sent"]["length"], &out["sent"]["sha256"]), "{out}");
    }
    assert!(out["content_url"].as_str().is_some_and(|u| u.starts_with(&t.base)), "{out}");

    // An outsider's client is refused with Twilio's error body.
    let other = &out["other_get"];
    assert_eq!((other["refused"].as_bool(), other["status"].as_u64()), (Some(true), Some(403)), "{out}");
    assert_eq!(other["body"]["code"], 20403, "{out}");

    // What mcs-client uploaded attaches to a message like any other media.
    let ch = sid(&t.conversation(&[]).await);
    t.add(&ch, "alice").await;
    let (status, msg) =
        t.post(&person("alice"), &format!("/v1/Conversations/{ch}/Messages"), &[("MediaSid", &me)]).await;
    assert_eq!(status, 201, "{msg}");
    assert_eq!(msg["media"][0]["sid"], me.as_str(), "{msg}");
    assert_eq!(msg["media"][0]["filename"], "cat.png", "{msg}");
}
