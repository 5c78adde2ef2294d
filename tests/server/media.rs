//! Media (Twilio's MCS wire): upload raw and multipart, the record, the bytes,
//! the signed temporary link and its expiry, MediaSet, who may attach and
//! fetch, the size limit (413, nothing left behind) and deletion with the message.

use std::time::Duration;

use convo_tui::server::MediaOptions;
use serde_json::Value;

use crate::common::{As, TestServer, assert_error, person, sid};

/// Bytes no two positions of which repeat in a short cycle (crosses chunk edges).
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 251) % 256) as u8).collect()
}

fn media_path(t: &TestServer) -> String {
    format!("/v1/Services/{}/Media", t.server.as_ref().unwrap().service_sid())
}

pub async fn upload(t: &TestServer, who: &As, bytes: Vec<u8>, content_type: &str, filename: &str) -> (u16, Value) {
    let url = format!("{}?Filename={filename}&Category=media", media_path(t));
    let resp = t.request(reqwest::Method::POST, &url, who).header("Content-Type", content_type).body(bytes).send();
    let resp = resp.await.expect("upload sent");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn bytes_of(t: &TestServer, who: &As, url: &str) -> (u16, Option<String>, Vec<u8>) {
    let resp = t.request(reqwest::Method::GET, url, who).send().await.expect("sent");
    let kind = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    (resp.status().as_u16(), kind, resp.bytes().await.unwrap().to_vec())
}

/// (media rows, chunk rows) in the server's store.
async fn stored_rows(t: &TestServer) -> (i64, i64) {
    let sql = "SELECT (SELECT count(*) FROM media), (SELECT count(*) FROM media_chunks)";
    match &t.database {
        None => {
            let conn = rusqlite::Connection::open(t.dir.path().join("convo.sqlite3")).unwrap();
            conn.query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap()
        }
        Some(url) => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let row = client.query_one(sql, &[]).await.unwrap();
            (row.get(0), row.get(1))
        }
    }
}

/// Uploads `pieces` chunks of `size` bytes with `Transfer-Encoding: chunked`
/// (no length known up front); the status, if the server answered.
async fn chunked_upload(t: &TestServer, pieces: usize, size: usize) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = t.server.as_ref().unwrap().addr;
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {addr}\r\nX-Twilio-Token: {}\r\nContent-Type: text/plain\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        media_path(t),
        t.token("alice")
    );
    sock.write_all(head.as_bytes()).await.ok()?;
    for _ in 0..pieces {
        let mut chunk = format!("{size:x}\r\n").into_bytes();
        chunk.extend(payload(size));
        chunk.extend(b"\r\n");
        if sock.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let _ = sock.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[tokio::test]
async fn an_upload_is_a_twilio_media_record_whose_bytes_and_temporary_link_read_back() {
    let t = TestServer::start().await;
    let data = payload(600 * 1024 + 17); // three chunks, the last short
    let (status, m) = upload(&t, &person("alice"), data.clone(), "image/png", "cat.png").await;
    assert_eq!(status, 201, "{m}");
    let me = sid(&m);
    assert!(me.starts_with("ME") && me.len() == 34, "{me}");
    assert_eq!(m["size"], data.len());
    assert_eq!(m["content_type"], "image/png");
    assert_eq!(m["filename"], "cat.png");
    assert_eq!(m["category"], "media");
    assert_eq!(m["author"], "alice");
    assert_eq!(m["service_sid"], t.server.as_ref().unwrap().service_sid());
    assert_eq!(m["account_sid"], t.creds.account_sid);
    assert!(m["channel_sid"].is_null() && m["message_sid"].is_null(), "{m}");
    assert_eq!(m["is_multipart_upstream"], false);
    for field in ["date_created", "date_updated", "date_upload_updated", "url"] {
        assert!(m[field].is_string(), "{field} in {m}");
    }

    let (status, kind, got) = bytes_of(&t, &person("alice"), m["links"]["content"].as_str().unwrap()).await;
    assert_eq!((status, kind.as_deref()), (200, Some("image/png")));
    assert!(got == data, "content differs ({} bytes back)", got.len());

    let direct = m["links"]["content_direct_temporary"].as_str().unwrap().to_owned();
    let (status, _, got) = bytes_of(&t, &As::Nobody, &direct).await;
    assert_eq!(status, 200);
    assert!(got == data, "temporary link content differs");
    let forged = direct.replace("Signature=", "Signature=x");
    let (status, _, _) = bytes_of(&t, &As::Nobody, &forged).await;
    assert_eq!(status, 403);
    let later = direct.replace("Expires=", "Expires=9");
    assert_eq!(bytes_of(&t, &As::Nobody, &later).await.0, 403, "the expiry is signed");

    // A fresh record (and link) each time; no one else sees an unattached upload.
    let (status, again) = t.get(&person("alice"), m["url"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["sid"], me);
    assert_error(&t.get(&person("bob"), m["url"].as_str().unwrap()).await, 403, 20403);
    assert_eq!(t.get(&As::Admin, m["url"].as_str().unwrap()).await.0, 200);
    assert_error(&t.get(&As::Nobody, m["url"].as_str().unwrap()).await, 401, 20003);
    assert_error(&t.get(&person("alice"), &format!("{}/ME{}", media_path(&t), "0".repeat(32))).await, 404, 20404);
}

#[tokio::test]
async fn a_multipart_upload_takes_its_file_parts_name_and_type() {
    let t = TestServer::start().await;
    let boundary = "----convo-test-boundary";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"note.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nhello, media\r\n--{boundary}--\r\n"
    );
    let resp = t
        .request(reqwest::Method::POST, &media_path(&t), &person("alice"))
        .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let m: Value = resp.json().await.unwrap();
    assert_eq!(
        (m["filename"].as_str(), m["content_type"].as_str(), m["size"].as_u64()),
        (Some("note.txt"), Some("text/plain"), Some(12))
    );
    let (_, _, got) = bytes_of(&t, &person("alice"), m["links"]["content"].as_str().unwrap()).await;
    assert_eq!(got, b"hello, media");
}

#[tokio::test]
async fn only_the_uploader_attaches_once_then_only_participants_fetch_and_deleting_the_message_deletes_it() {
    let t = TestServer::start().await;
    let ch = sid(&t.conversation(&[]).await);
    t.add(&ch, "alice").await;
    t.add(&ch, "bob").await;
    let (_, m) = upload(&t, &person("alice"), payload(1000), "application/pdf", "a.pdf").await;
    let me = sid(&m);
    let messages = format!("/v1/Conversations/{ch}/Messages");

    assert_error(&t.post(&person("bob"), &messages, &[("MediaSid", &me)]).await, 403, 20403);
    let (status, msg) = t.post(&person("alice"), &messages, &[("MediaSid", &me)]).await;
    assert_eq!(status, 201, "{msg}");
    assert!(msg["body"].is_null(), "{msg}");
    assert_eq!(
        msg["media"],
        serde_json::json!([{"sid": me, "content_type": "application/pdf", "filename": "a.pdf", "size": 1000, "category": "media"}])
    );
    assert_error(&t.post(&person("alice"), &messages, &[("MediaSid", &me)]).await, 400, 20001);
    assert_error(&t.post(&person("alice"), &messages, &[("MediaSid", "MEnope")]).await, 400, 20001);

    let url = m["url"].as_str().unwrap();
    let (status, record) = t.get(&person("bob"), url).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(
        (record["channel_sid"].as_str(), record["message_sid"].as_str()),
        (Some(ch.as_str()), msg["sid"].as_str())
    );
    assert_eq!(bytes_of(&t, &person("bob"), record["links"]["content"].as_str().unwrap()).await.2, payload(1000));
    assert_error(&t.get(&person("carol"), url).await, 403, 20403);

    // MediaSet, as mcs-client's mediaSetGet sends it.
    let set = format!("{}Set", media_path(&t));
    let query = serde_json::json!({"command": "get", "list": [{"media_sid": me}, {"media_sid": format!("ME{}", "0".repeat(32))}]});
    let resp = t.request(reqwest::Method::POST, &set, &person("bob")).json(&query).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let items: Value = resp.json().await.unwrap();
    assert_eq!(items[0]["code"], 200);
    assert_eq!(items[0]["media_record"]["sid"], me);
    assert!(items[0]["media_record"]["links"]["content_direct_temporary"].is_string());
    assert_eq!(items[1]["code"], 404);
    let resp = t.request(reqwest::Method::POST, &set, &person("carol")).json(&query).send().await.unwrap();
    let items: Value = resp.json().await.unwrap();
    assert_eq!(items[0]["code"], 403);

    let (_, m2) = upload(&t, &As::Admin, payload(10), "text/plain", "x.txt").await;
    let (status, _) = t.post(&As::Admin, &messages, &[("MediaSid", &sid(&m2)), ("Body", "from the account")]).await;
    assert_eq!(status, 201, "the account attaches its own upload");

    let (status, _) = t.delete(&person("alice"), &format!("{messages}/{}", sid(&msg))).await;
    assert_eq!(status, 204);
    assert_error(&t.get(&As::Admin, url).await, 404, 20404);
    let (status, _) = t.delete(&As::Admin, &format!("/v1/Conversations/{ch}")).await;
    assert_eq!(status, 204);
    assert_eq!(stored_rows(&t).await, (0, 0), "the conversation's media went with it");
}

#[tokio::test]
async fn over_the_limit_is_413_with_a_twilio_error_and_leaves_nothing_behind() {
    let t = TestServer::start_with_media(MediaOptions { max_bytes: 300 * 1024, ..Default::default() }).await;
    let (status, body) = upload(&t, &person("alice"), payload(400 * 1024), "text/plain", "big.txt").await;
    assert_eq!((status, body["code"].as_u64(), body["status"].as_u64()), (413, Some(21617), Some(413)), "{body}");
    assert!(body["message"].is_string() && body["more_info"].is_string(), "{body}");

    // Streamed without a length: refused once past the limit, its chunks gone.
    let status = chunked_upload(&t, 40, 10 * 1024).await;
    assert!(status.is_none_or(|s| s == 413), "{status:?}"); // None: the socket closed on a refused body
    let mut left = stored_rows(&t).await;
    for _ in 0..50 {
        if left == (0, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = stored_rows(&t).await;
    }
    assert_eq!(left, (0, 0), "a refused upload leaves no rows");
    let (status, _) = upload(&t, &person("alice"), payload(300 * 1024), "text/plain", "fits.txt").await;
    assert_eq!(status, 201, "exactly the limit fits");
}

#[tokio::test]
async fn a_temporary_link_stops_working_when_it_expires() {
    let t = TestServer::start_with_media(MediaOptions { link_ttl_secs: 1, ..Default::default() }).await;
    let (_, m) = upload(&t, &person("alice"), payload(100), "text/plain", "t.txt").await;
    let direct = m["links"]["content_direct_temporary"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, _, body) = bytes_of(&t, &As::Nobody, &direct).await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["code"], 20403);
    let (_, fresh) = t.get(&person("alice"), m["url"].as_str().unwrap()).await;
    let (status, _, got) =
        bytes_of(&t, &As::Nobody, fresh["links"]["content_direct_temporary"].as_str().unwrap()).await;
    assert_eq!((status, got), (200, payload(100)), "a fresh fetch gives a fresh link");
}
