//! Hostile request bodies: too big, not UTF-8, badly percent-encoded, huge or
//! deeply nested attributes, 10,000 fields, SID-shaped names. Each gets a
//! Twilio error (or, where the input is merely odd, an exact answer), while a
//! witness client keeps being served.

use super::fixture::{Server, Witness, assert_client_error, assert_twilio_error};
use serde_json::Value;

/// Sends `total` bytes as a chunked form body; returns the answer's head, or
/// "" when the server closed the socket instead (also an answer).
async fn chunked_upload(s: &Server, path: &str, total: usize) -> String {
    use base64::Engine;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(s.running.addr).await.unwrap();
    let auth =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.creds.account_sid, s.creds.auth_token));
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
    let mut sent = 0;
    while sent < total && tcp.write_all(chunk.as_bytes()).await.is_ok() {
        sent += 0x10000;
    }
    let _ = tcp.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(super::fixture::WAIT, tcp.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_size_limit_get_413_21617_and_big_values_get_20001() {
    let s = Server::start(0).await;
    let witness = Witness::start(&s).await;
    let conversation = s.conversation(&[]).await;
    // Over the 256 KiB body limit, declared up front.
    let resp = s.post_raw("/v1/Conversations", format!("FriendlyName={}", "x".repeat(1024 * 1024))).await;
    assert_twilio_error(resp, 413, 21617).await;
    // Over it again, streamed in chunks with no Content-Length (raw HTTP/1.1).
    let answer = chunked_upload(&s, &format!("/v1/Conversations/{conversation}/Messages"), 4 * 1024 * 1024).await;
    assert!(
        answer.is_empty() || (answer.starts_with("HTTP/1.1 413") && answer.contains("21617")),
        "a chunked upload over the limit: {answer:?}"
    );
    // Under the body limit but over a field's own limit: 400 naming the field.
    let resp =
        s.post_raw(&format!("/v1/Conversations/{conversation}/Messages"), format!("Body={}", "y".repeat(40_000))).await;
    assert_twilio_error(resp, 400, 20001).await;
    s.assert_serving().await;
    witness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_is_refused_with_20001_and_bad_percent_escapes_are_kept_literally() {
    let s = Server::start(0).await;
    let witness = Witness::start(&s).await;
    // Raw bytes that are not UTF-8, and percent escapes that decode to such bytes.
    let resp = s.post_raw("/v1/Conversations", b"FriendlyName=caf\xe9".to_vec()).await;
    assert_twilio_error(resp, 400, 20001).await;
    let resp = s.post_raw("/v1/Conversations", "FriendlyName=%FF%FEx").await;
    assert_twilio_error(resp, 400, 20001).await;
    let resp = s.admin(reqwest::Method::GET, "/v1/Conversations?PageSize=%C3%28").send().await.unwrap();
    assert_twilio_error(resp, 400, 20001).await;
    // A path segment that decodes to invalid UTF-8 names no resource.
    let resp = s.admin(reqwest::Method::GET, "/v1/Conversations/%FF%FE").send().await.unwrap();
    assert_twilio_error(resp, 404, 20404).await;
    // Malformed escapes are not escapes (WHATWG form decoding): kept as sent, not lost.
    let resp = s.post_raw("/v1/Conversations", "FriendlyName=100%25+%ZZ+%4").await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["friendly_name"], "100% %ZZ %4");
    s.assert_serving().await;
    witness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_and_deeply_nested_attributes_get_20001_and_nothing_is_stored() {
    let s = Server::start(0).await;
    let witness = Witness::start(&s).await;
    let conversation = s.conversation(&[]).await;
    let huge = format!(r#"{{"blob":"{}"}}"#, "z".repeat(200_000));
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let shallow_but_deep = format!("{}{}", "[".repeat(2_000), "]".repeat(2_000));
    for attributes in [&huge, &nested, &shallow_but_deep] {
        let form = serde_html_form::to_string([("Attributes", attributes.as_str())]).unwrap();
        let resp = s.post_raw(&format!("/v1/Conversations/{conversation}/Messages"), form.clone()).await;
        let code = assert_client_error(resp).await;
        assert!(code == 20001 || code == 21617, "code {code}");
        let resp = s.post_raw(&format!("/v1/Conversations/{conversation}"), form).await;
        let code = assert_client_error(resp).await;
        assert!(code == 20001 || code == 21617, "code {code}");
    }
    let list: Value = s
        .admin(reqwest::Method::GET, &format!("/v1/Conversations/{conversation}/Messages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["messages"].as_array().map(Vec::len), Some(0), "a refused message was stored");
    s.assert_serving().await;
    witness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_form_fields_get_an_exact_answer() {
    let s = Server::start(0).await;
    let witness = Witness::start(&s).await;
    // Unknown fields are ignored, as Twilio does; the known one still counts.
    let mut form: String = (0..10_000).map(|i| format!("Junk{i}=v&")).collect();
    form.push_str("FriendlyName=survivor");
    let resp = s.post_raw("/v1/Conversations", form).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.json::<Value>().await.unwrap()["friendly_name"], "survivor");
    // The same field 10,000 times is ambiguous: refused, not guessed.
    let form: String = (0..10_000).map(|i| format!("FriendlyName=n{i}")).collect::<Vec<_>>().join("&");
    let resp = s.post_raw("/v1/Conversations", form).await;
    assert_twilio_error(resp, 400, 20001).await;
    // 10,000 media SIDs on one message: a Twilio error or a message, never a 5xx.
    let conversation = s.conversation(&[]).await;
    let form: String = (0..10_000).map(|i| format!("MediaSid=ME{i:032x}")).collect::<Vec<_>>().join("&");
    let resp = s.post_raw(&format!("/v1/Conversations/{conversation}/Messages"), form).await;
    if !resp.status().is_success() {
        assert_client_error(resp).await;
    }
    s.assert_serving().await;
    witness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sid_shaped_unique_names_and_identities_are_refused_or_not_found() {
    let s = Server::start(0).await;
    let witness = Witness::start(&s).await;
    let ch = "CH0123456789abcdef0123456789abcdef";
    let us = "US0123456789abcdef0123456789abcdef";
    let resp = s.post_raw("/v1/Conversations", format!("UniqueName={ch}")).await;
    assert_twilio_error(resp, 400, 50390).await;
    let resp = s.post_raw("/v1/Users", format!("Identity={us}")).await;
    assert_twilio_error(resp, 400, 50206).await;
    let conversation = s.conversation(&[]).await;
    let resp = s.post_raw(&format!("/v1/Conversations/{conversation}/Participants"), format!("Identity={us}")).await;
    assert_twilio_error(resp, 400, 50206).await;
    // Looked up, a SID that does not exist is a 404, whichever kind it is.
    let resp = s.admin(reqwest::Method::GET, &format!("/v1/Conversations/{ch}")).send().await.unwrap();
    assert_twilio_error(resp, 404, 20404).await;
    let resp = s.admin(reqwest::Method::GET, &format!("/v1/Users/{us}")).send().await.unwrap();
    assert_twilio_error(resp, 404, 20404).await;
    // A token whose identity is SID-shaped gets a normal (empty) answer, not a crash.
    let resp = s.person(us, reqwest::Method::GET, "/v1/Conversations").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp = s.person(us, reqwest::Method::GET, &format!("/v1/Conversations/{conversation}")).send().await.unwrap();
    assert_client_error(resp).await;
    s.assert_serving().await;
    witness.finish().await;
}
