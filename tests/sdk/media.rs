//! The handles' media and reactions: `add_media` (bytes, a path, a reader) with
//! progress, `attached_media`, `download`, the temporary link without
//! credentials, the 413 of an upload over the limit, and `react`/`unreact`
//! seen by a second client as `MessageUpdated` with `reactions()` matching.

use std::sync::{Arc, Mutex};

use convo_tui::sdk::{Direction, Event, MediaContent, MessageUpdateReason, UploadProgress};
use convo_tui::server::{MediaOptions, ServerOptions};

use crate::common::*;
use crate::sync_media::{file_with, payload};

/// The message at `index`, read back from the server.
async fn message_at(conv: &convo_tui::sdk::Conversation, index: i64) -> convo_tui::sdk::Message {
    let page = conv.get_messages(Some(1), Some(index), Direction::Backwards).await.unwrap();
    page.items().last().cloned().expect("the message")
}

#[tokio::test]
async fn add_media_round_trips_bytes_a_path_and_a_reader_with_progress() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("files"), None, None).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (in_memory, on_disk, streamed) = (payload(70_000), payload(2 * 1024 * 1024 + 5), payload(300_001));
    let path = file_with(dir.path(), "cat.jpg", &on_disk);
    let reports: Arc<Mutex<Vec<UploadProgress>>> = Arc::default();
    let sink = reports.clone();
    let index = conv
        .prepare_message()
        .set_body("three files")
        .add_media(MediaContent::from_bytes(in_memory.clone()).filename("a.bin").content_type("application/x-test"))
        .add_media(MediaContent::from_path(&path))
        .add_media(MediaContent::from_reader(std::io::Cursor::new(streamed.clone()), None).filename("r.txt"))
        .on_upload_progress(move |p| sink.lock().unwrap().push(p))
        .build_and_send()
        .await
        .unwrap();

    let m = message_at(&conv, index).await;
    assert_eq!(m.body().as_deref(), Some("three files"));
    let media = m.attached_media();
    let described: Vec<(Option<&str>, &str, u64, &str)> =
        media.iter().map(|x| (x.filename(), x.content_type(), x.size(), x.category())).collect();
    assert_eq!(
        described,
        [
            (Some("a.bin"), "application/x-test", in_memory.len() as u64, "media"),
            (Some("cat.jpg"), "image/jpeg", on_disk.len() as u64, "media"),
            (Some("r.txt"), "application/octet-stream", streamed.len() as u64, "media"),
        ]
    );
    for (x, bytes) in media.iter().zip([&in_memory, &on_disk, &streamed]) {
        assert!(x.sid().starts_with("ME"));
        let mut out = Vec::new();
        assert_eq!(x.download(&mut out).await.unwrap(), bytes.len() as u64);
        assert_eq!(&out, bytes, "{}", x.sid());
    }
    // A second participant reads the same bytes; someone outside may not.
    conv.add("bob", None).await.unwrap();
    let bob = srv.client("bob").await;
    let as_bob = message_at(&bob.get_conversation_by_sid(conv.sid()).await.unwrap(), index).await;
    let mut out = Vec::new();
    as_bob.attached_media()[1].download(&mut out).await.unwrap();
    assert_eq!(out, on_disk);

    let reports = reports.lock().unwrap().clone();
    for (i, size) in [in_memory.len(), on_disk.len(), streamed.len()].into_iter().enumerate() {
        let mine: Vec<&UploadProgress> = reports.iter().filter(|p| p.media == i).collect();
        let size = size as u64;
        assert_eq!(mine.last().map(|p| (p.sent, p.total)), Some((size, Some(size))), "{mine:?}");
        assert!(mine.windows(2).all(|w| w[0].sent <= w[1].sent), "{mine:?}");
        assert_eq!(mine.iter().filter(|p| p.sent == size).count(), 1, "{mine:?}");
    }
    // The reader's length was unknown until the end; the others' known throughout.
    assert!(reports.iter().filter(|p| p.media == 2 && p.sent < streamed.len() as u64).all(|p| p.total.is_none()));
    assert!(reports.iter().filter(|p| p.media == 1).all(|p| p.total == Some(on_disk.len() as u64)));
    // Text messages have none.
    let text = conv.send_message("plain", None).await.unwrap();
    assert!(message_at(&conv, text).await.attached_media().is_empty());
}

#[tokio::test]
async fn the_temporary_url_works_without_credentials() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("links"), None, None).await.unwrap();
    let bytes = payload(123_456);
    let index = conv
        .prepare_message()
        .add_media(MediaContent::from_bytes(bytes.clone()).filename("x.png").content_type("image/png"))
        .build_and_send()
        .await
        .unwrap();
    let media = message_at(&conv, index).await.attached_media().remove(0);
    let url = media.content_temporary_url().await.unwrap();
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), bytes);
    // Without its signature the same path is refused.
    let unsigned = url.split('?').next().unwrap();
    assert_ne!(reqwest::get(unsigned).await.unwrap().status(), 200);
}

#[tokio::test]
async fn media_over_the_limit_fails_with_twilios_413_and_posts_nothing() {
    let options =
        ServerOptions { media: MediaOptions { max_bytes: 64 * 1024, ..Default::default() }, ..Default::default() };
    let srv = TestServer::start_with(options).await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("big"), None, None).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "big.bin", &payload(1024 * 1024));
    let err = conv
        .prepare_message()
        .set_body("too big")
        .add_media(MediaContent::from_path(&path))
        .build_and_send()
        .await
        .unwrap_err();
    assert!(err.is_too_large(), "{err}");
    assert_eq!((err.status(), err.code()), (Some(413), Some(21617)), "{err}");
    assert!(!err.is_transport());
    // A file that is not there fails before anything is sent.
    let err = conv.prepare_message().add_media(MediaContent::from_path(dir.path().join("nope"))).build_and_send().await;
    assert!(matches!(err, Err(convo_tui::sdk::Error::InvalidArgument(_))), "{err:?}");
    assert_eq!(conv.get_messages_count().await.unwrap(), 0);
}

#[tokio::test]
async fn reactions_are_seen_by_the_other_client_as_message_updated() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("reacts"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    let index = conv.send_message("react to me", None).await.unwrap();
    let bob = srv.client("bob").await;
    let b_conv = bob.get_conversation_by_sid(conv.sid()).await.unwrap();
    let b_msg = message_at(&b_conv, index).await;
    let mut a_ev = alice.events();

    let updated = |want: &'static [(&'static str, &'static [&'static str])]| {
        move |e: &Event| match e {
            Event::MessageUpdated { message, reasons } if message.index() == index => {
                let got = message.reactions();
                let want: std::collections::BTreeMap<String, Vec<String>> =
                    want.iter().map(|(n, ids)| (n.to_string(), ids.iter().map(|i| i.to_string()).collect())).collect();
                (got == want).then(|| reasons.clone())
            }
            _ => None,
        }
    };
    let reacted = b_msg.react("heart").await.unwrap();
    assert_eq!(reacted.reactions()["heart"], ["bob"]);
    let reasons = next_event(&mut a_ev, updated(&[("heart", &["bob"])])).await;
    // (DateUpdated too when the second ticked over.)
    assert!(
        reasons.contains(&MessageUpdateReason::Attributes) && !reasons.contains(&MessageUpdateReason::Body),
        "{reasons:?}"
    );

    let a_msg = message_at(&conv, index).await;
    a_msg.react("heart").await.unwrap();
    let mine = a_msg.react("🎉").await.unwrap();
    assert_eq!(mine.reactions()["heart"], ["alice", "bob"]);
    assert_eq!(mine.reactions()["🎉"], ["alice"]);

    b_msg.unreact("heart").await.unwrap();
    next_event(&mut a_ev, updated(&[("heart", &["alice"]), ("🎉", &["alice"])])).await;
    let fresh = message_at(&conv, index).await;
    assert_eq!(fresh.reactions().len(), 2);
    assert_eq!(fresh.reactions()["heart"], ["alice"]);
    // Taking back a reaction one does not hold changes nothing and is no error.
    let same = b_msg.unreact("laugh").await.unwrap();
    assert_eq!(same.reactions(), fresh.reactions());
}
