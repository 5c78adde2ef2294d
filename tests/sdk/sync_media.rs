//! The sync task's media and reactions: `SendMedia` (streamed upload, progress,
//! the message with its media; queued offline; 413 reported), `FetchMedia`
//! (exact bytes at the destination) and `React`/`Unreact`, on a real server.

use std::path::{Path, PathBuf};

use convo_tui::sdk::{Command, ConnectionState, Diff, SyncHandle};
use convo_tui::server::{MediaOptions, ServerOptions};
use reqwest::Method;
use serde_json::Value;

use crate::common::*;

/// Bytes that do not repeat in a short cycle (so a misplaced chunk shows).
pub fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 251) % 256) as u8).collect()
}

/// Writes `bytes` to `name` in `dir`.
pub fn file_with(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn connected(srv: &TestServer, identity: &str) -> (SyncHandle, Vec<Diff>) {
    let mut h = srv.sync(identity);
    let mut seen = Vec::new();
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Connected)).then_some(())).await;
    (h, seen)
}

/// A conversation of alice's with bob in it, and alice's sync task with it open.
async fn opened(srv: &TestServer) -> (String, SyncHandle, Vec<Diff>) {
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("media"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    let sid = conv.sid().to_owned();
    let (mut h, mut seen) = connected(srv, "alice").await;
    cmd(&h, Command::Open { conversation_sid: sid.clone() });
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::MessagesLoaded { .. }).then_some(())).await;
    (sid, h, seen)
}

fn media_of(m: &convo_tui::api::Message) -> Option<Value> {
    m.media.as_ref().and_then(|v| v.get(0)).cloned()
}

/// The content of a media, read over admin REST.
async fn content(srv: &TestServer, media_sid: &str) -> Vec<u8> {
    let service = srv.server.as_ref().unwrap().service_sid().to_owned();
    let url = format!("{}/v1/Services/{service}/Media/{media_sid}/Content", srv.url());
    let resp = reqwest::Client::new()
        .get(url)
        .basic_auth(&srv.creds.account_sid, Some(&srv.creds.auth_token))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn send_media_streams_the_file_reports_progress_and_the_message_arrives_with_it() {
    let srv = TestServer::start().await;
    let (sid, mut h, mut seen) = opened(&srv).await;
    let dir = tempfile::tempdir().unwrap();
    let bytes = payload(3 * 1024 * 1024 + 17);
    let path = file_with(dir.path(), "photo.png", &bytes);
    cmd(
        &h,
        Command::SendMedia {
            conversation_sid: sid.clone(),
            path: path.clone(),
            body: Some("look".into()),
            reply_to: None,
        },
    );
    let m = next_diff(&mut h, &mut seen, |d| match d {
        Diff::MessageUpserted(m) if m.media.is_some() => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(m.body.as_deref(), Some("look"));
    let media = media_of(&m).expect("one media");
    assert_eq!(media["filename"], "photo.png");
    assert_eq!(media["content_type"], "image/png");
    assert_eq!(media["size"], bytes.len() as u64);
    assert_eq!(content(&srv, media["sid"].as_str().unwrap()).await, bytes);

    let progress: Vec<(u64, u64)> = seen
        .iter()
        .filter_map(|d| match d {
            Diff::UploadProgress { conversation_sid, path: p, sent, total }
                if *conversation_sid == sid && *p == path =>
            {
                Some((*sent, *total))
            }
            _ => None,
        })
        .collect();
    let total = bytes.len() as u64;
    assert_eq!(progress.first(), Some(&(0, total)), "{progress:?}");
    assert_eq!(progress.last(), Some(&(total, total)), "{progress:?}");
    assert_eq!(progress.iter().filter(|(s, _)| *s == total).count(), 1, "{progress:?}");
    assert!(progress.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 == total), "{progress:?}");
    // The progress reports came before the message they announce.
    let last_progress = seen.iter().rposition(|d| matches!(d, Diff::UploadProgress { .. })).unwrap();
    let message = seen.iter().position(|d| matches!(d, Diff::MessageUpserted(m) if m.media.is_some())).unwrap();
    assert!(last_progress < message);
}

#[tokio::test]
async fn send_media_as_a_reply_carries_reply_to() {
    let srv = TestServer::start().await;
    let (sid, mut h, mut seen) = opened(&srv).await;
    cmd(&h, Command::Send { conversation_sid: sid.clone(), body: "first".into(), attributes: None });
    let first = next_diff(&mut h, &mut seen, |d| match d {
        Diff::MessageUpserted(m) => Some(m.clone()),
        _ => None,
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "notes.txt", b"hello");
    let to = convo_tui::sdk::rules::rich::ReplyTo {
        message_sid: first.sid.clone(),
        index: first.index,
        author: "alice".into(),
    };
    cmd(&h, Command::SendMedia { conversation_sid: sid, path, body: None, reply_to: Some(to.clone()) });
    let m = next_diff(&mut h, &mut seen, |d| match d {
        Diff::MessageUpserted(m) if m.media.is_some() => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(media_of(&m).unwrap()["content_type"], "text/plain");
    let attrs: Value = serde_json::from_str(&m.attributes).unwrap();
    assert_eq!(convo_tui::sdk::rules::rich::reply_to(&attrs), Some(to));
}

#[tokio::test]
async fn send_media_while_offline_is_uploaded_and_sent_once_after_the_reconnect() {
    let mut srv = TestServer::start().await;
    let (sid, mut h, mut seen) = opened(&srv).await;
    srv.stop().await;
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Disconnected)).then_some(())).await;
    let dir = tempfile::tempdir().unwrap();
    let bytes = payload(200_000);
    let path = file_with(dir.path(), "offline.bin", &bytes);
    cmd(&h, Command::SendMedia { conversation_sid: sid.clone(), path, body: Some("later".into()), reply_to: None });
    srv.restart().await;
    let m = next_diff(&mut h, &mut seen, |d| match d {
        Diff::MessageUpserted(m) if m.media.is_some() => Some(m.clone()),
        _ => None,
    })
    .await;
    let media = media_of(&m).unwrap();
    assert_eq!(media["content_type"], "application/octet-stream");
    assert_eq!(content(&srv, media["sid"].as_str().unwrap()).await, bytes);
    let page = srv.admin(Method::GET, &format!("Conversations/{sid}/Messages"), &[]).await;
    let later: Vec<&Value> = page["messages"].as_array().unwrap().iter().filter(|m| m["body"] == "later").collect();
    assert_eq!(later.len(), 1, "{page:#}");
}

#[tokio::test]
async fn send_media_over_the_servers_limit_reports_twilios_413_and_sends_nothing() {
    let options =
        ServerOptions { media: MediaOptions { max_bytes: 64 * 1024, ..Default::default() }, ..Default::default() };
    let srv = TestServer::start_with(options).await;
    let (sid, mut h, mut seen) = opened(&srv).await;
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "big.bin", &payload(1024 * 1024));
    cmd(&h, Command::SendMedia { conversation_sid: sid.clone(), path, body: Some("too big".into()), reply_to: None });
    let error = next_diff(&mut h, &mut seen, |d| match d {
        Diff::Error(text) => Some(text.clone()),
        _ => None,
    })
    .await;
    assert!(error.contains("big.bin") && error.contains("21617") && error.contains("larger"), "{error}");
    // A missing file is reported too, and the link stays up.
    cmd(
        &h,
        Command::SendMedia { conversation_sid: sid.clone(), path: dir.path().join("nope"), body: None, reply_to: None },
    );
    let error = next_diff(&mut h, &mut seen, |d| match d {
        Diff::Error(text) => Some(text.clone()),
        _ => None,
    })
    .await;
    assert!(error.contains("nope"), "{error}");
    let page = srv.admin(Method::GET, &format!("Conversations/{sid}/Messages"), &[]).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 0);
    assert!(!seen.iter().any(|d| matches!(d, Diff::Connection(ConnectionState::Disconnected))), "{seen:#?}");
}

#[tokio::test]
async fn fetch_media_writes_the_exact_bytes_at_dest_and_leaves_nothing_else() {
    let srv = TestServer::start().await;
    let (sid, mut h, mut seen) = opened(&srv).await;
    let up = tempfile::tempdir().unwrap();
    let bytes = payload(1024 * 1024 + 3);
    cmd(
        &h,
        Command::SendMedia {
            conversation_sid: sid.clone(),
            path: file_with(up.path(), "a.bin", &bytes),
            body: None,
            reply_to: None,
        },
    );
    let m = next_diff(&mut h, &mut seen, |d| match d {
        Diff::MessageUpserted(m) if m.media.is_some() => Some(m.clone()),
        _ => None,
    })
    .await;
    let media_sid = media_of(&m).unwrap()["sid"].as_str().unwrap().to_owned();
    let down = tempfile::tempdir().unwrap();
    let dest = down.path().join("saved.bin");
    cmd(&h, Command::FetchMedia { conversation_sid: sid.clone(), media_sid: media_sid.clone(), dest: dest.clone() });
    let fetched = next_diff(&mut h, &mut seen, |d| match d {
        Diff::MediaFetched { media_sid, dest } => Some((media_sid.clone(), dest.clone())),
        Diff::Error(e) => panic!("{e}"),
        _ => None,
    })
    .await;
    assert_eq!(fetched, (media_sid, dest.clone()));
    assert_eq!(std::fs::read(&dest).unwrap(), bytes);
    let names: Vec<_> = std::fs::read_dir(down.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["saved.bin"]);
    // An unknown media: an error, and no file.
    let dest = down.path().join("missing.bin");
    cmd(
        &h,
        Command::FetchMedia {
            conversation_sid: sid,
            media_sid: "ME00000000000000000000000000000000".into(),
            dest: dest.clone(),
        },
    );
    let error = next_diff(&mut h, &mut seen, |d| match d {
        Diff::Error(text) => Some(text.clone()),
        _ => None,
    })
    .await;
    assert!(error.contains("fetch media") && error.contains("20404"), "{error}");
    assert!(!dest.exists());
    assert_eq!(std::fs::read_dir(down.path()).unwrap().count(), 1);
}

#[tokio::test]
async fn react_and_unreact_change_the_reactions_each_with_a_message_upserted() {
    let srv = TestServer::start().await;
    let (sid, mut h, mut seen) = opened(&srv).await;
    let bob = srv.client("bob").await;
    bob.get_conversation_by_sid(&sid).await.unwrap().send_message("react to me", None).await.unwrap();
    let m = next_diff(&mut h, &mut seen, |d| match d {
        Diff::MessageUpserted(m) => Some(m.clone()),
        _ => None,
    })
    .await;
    let reactions = |m: &convo_tui::api::Message| {
        let attrs: Value = serde_json::from_str(&m.attributes).unwrap();
        convo_tui::sdk::rules::rich::reactions(&attrs)
    };
    let upserted = |seen_before: usize, seen: &[Diff]| {
        seen[seen_before..].iter().filter(|d| matches!(d, Diff::MessageUpserted(_))).count()
    };
    let before = seen.len();
    let (conversation_sid, message_sid) = (sid.clone(), m.sid.clone());
    cmd(&h, Command::React { conversation_sid, message_sid, reaction: "heart".into() });
    let reacted = next_diff(&mut h, &mut seen, |d| match d {
        Diff::MessageUpserted(u) if u.sid == m.sid => Some(u.clone()),
        _ => None,
    })
    .await;
    assert_eq!(reactions(&reacted), [("heart".to_owned(), vec!["alice".to_owned()])]);
    let (conversation_sid, message_sid) = (sid.clone(), m.sid.clone());
    cmd(&h, Command::Unreact { conversation_sid, message_sid, reaction: "heart".into() });
    let unreacted = next_diff(&mut h, &mut seen, |d| match d {
        Diff::MessageUpserted(u) if u.sid == m.sid => Some(u.clone()),
        _ => None,
    })
    .await;
    assert!(reactions(&unreacted).is_empty(), "{}", unreacted.attributes);
    // One diff each: the stream's echoes of the two changes add nothing.
    cmd(&h, Command::Send { conversation_sid: sid.clone(), body: "marker".into(), attributes: None });
    next_diff(&mut h, &mut seen, |d| {
        matches!(d, Diff::MessageUpserted(m) if m.body.as_deref() == Some("marker")).then_some(())
    })
    .await;
    assert_eq!(upserted(before, &seen), 3, "{:#?}", &seen[before..]);
    // Reacting to a message that is not there: Twilio's 404.
    cmd(
        &h,
        Command::React {
            conversation_sid: sid,
            message_sid: "IM00000000000000000000000000000000".into(),
            reaction: "heart".into(),
        },
    );
    let error = next_diff(&mut h, &mut seen, |d| match d {
        Diff::Error(text) => Some(text.clone()),
        _ => None,
    })
    .await;
    assert!(error.starts_with("react:") && error.contains("20404"), "{error}");
}
