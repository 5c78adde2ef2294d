//! Hostile stream clients: one that never reads (the server must bound its
//! queue and close it, not grow), and one that sends garbage frames (ignored,
//! or the socket closed), while a witness keeps being served.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

use super::fixture::{Server, WAIT, Witness};

/// Reads until the server ends the stream; returns how many text frames came first.
async fn read_until_closed<S>(ws: &mut S, limit: Duration) -> Option<usize>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut texts = 0;
    tokio::time::timeout(limit, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(_))) => texts += 1,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return texts,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_client_that_never_reads_is_closed_and_others_keep_their_events() {
    let s = Server::start(0).await;
    let witness = Witness::start(&s).await;
    let conversation = s.conversation(&["sloth", "reader"]).await;
    // A tiny receive window, so the server's socket buffer fills soon.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(s.running.addr).await.unwrap();
    let (mut sloth, _) = tokio_tungstenite::client_async(s.stream_request("sloth"), tcp).await.unwrap();
    let (mut reader, _) = tokio_tungstenite::connect_async(s.stream_request("reader")).await.unwrap();

    // The server subscribes a socket just after the upgrade: wait until the reader is live.
    let mut live = false;
    for attempt in 0..20 {
        let warm = format!("warm-up {attempt}");
        let posted = s
            .admin(reqwest::Method::POST, &format!("/v1/Conversations/{conversation}/Messages"))
            .form(&[("Body", warm.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 201);
        let seen = tokio::time::timeout(Duration::from_millis(500), async {
            while let Some(Ok(m)) = reader.next().await {
                if let Message::Text(t) = m
                    && t.contains(&warm)
                {
                    return;
                }
            }
        })
        .await;
        if seen.is_ok() {
            live = true;
            break;
        }
    }
    assert!(live, "the reading client's stream never went live");

    // ~30 KB events, far more of them than the server's per-socket queue holds.
    let total = 1_500;
    let body = "b".repeat(30_000);
    let reader_task = tokio::spawn(async move {
        let mut seen = 0;
        while seen < total {
            match tokio::time::timeout(WAIT, reader.next()).await {
                Ok(Some(Ok(Message::Text(t)))) if t.contains(r#""event":"messageAdded""#) && t.len() > 30_000 => {
                    seen += 1
                }
                Ok(Some(Ok(_))) => {}
                other => panic!("the reading client lost its stream after {seen} messages: {other:?}"),
            }
        }
        seen
    });
    let mut posts = tokio::task::JoinSet::new();
    for chunk in 0..total / 50 {
        for _ in 0..50 {
            let req = s
                .admin(reqwest::Method::POST, &format!("/v1/Conversations/{conversation}/Messages"))
                .form(&[("Body", body.as_str())]);
            posts.spawn(async move { req.send().await.map(|r| r.status().as_u16()) });
        }
        while let Some(r) = posts.join_next().await {
            assert_eq!(r.unwrap().unwrap(), 201, "chunk {chunk}");
        }
    }
    assert_eq!(reader_task.await.unwrap(), total, "the reading client got every message");
    // The sloth now reads: what was buffered, then the server's close, not all of it.
    let got = read_until_closed(&mut sloth, Duration::from_secs(30)).await;
    let got = got.expect("the server closed the stream of the client that never read");
    assert!(got < total, "the never-reading client was kept open through all {total} messages");
    s.assert_serving().await;
    witness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_stream_frames_are_ignored_or_close_only_that_socket() {
    let s = Server::start(0).await;
    let witness = Witness::start(&s).await;
    let conversation = s.conversation(&["noisy"]).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(s.stream_request("noisy")).await.unwrap();
    // Well-framed nonsense is ignored: the socket stays and still carries events.
    let nonsense = [
        Message::text("not json"),
        Message::text(r#"{"type":"typing"}"#),
        Message::text(r#"{"type":"typing","conversation_sid":12}"#),
        Message::text(format!(r#"{{"type":"typing","conversation_sid":"{}"}}"#, "C".repeat(10_000))),
        Message::text(r#"{"type":"typing","conversation_sid":"CH00000000000000000000000000000000"}"#),
        Message::text("[".repeat(50_000)),
        Message::binary(vec![0u8, 159, 146, 150]),
        Message::Ping(vec![1, 2, 3].into()),
    ];
    for m in nonsense {
        ws.send(m).await.unwrap();
    }
    let resp = s
        .admin(reqwest::Method::POST, &format!("/v1/Conversations/{conversation}/Messages"))
        .form(&[("Body", "still here?")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let still = tokio::time::timeout(WAIT, async {
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Text(t) = m
                && t.contains("still here?")
            {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(still, Ok(true), "the socket that sent nonsense still gets its events");

    // Broken framing closes that socket: an oversized frame, a text frame
    // that is not UTF-8, raw bytes that are not WebSocket frames at all.
    let (mut big, _) = tokio_tungstenite::connect_async(s.stream_request("noisy")).await.unwrap();
    let _ = big.send(Message::text("x".repeat(1024 * 1024))).await;
    assert!(read_until_closed(&mut big, WAIT).await.is_some(), "an oversized frame closes the socket");
    let (mut bad, _) = tokio_tungstenite::connect_async(s.stream_request("noisy")).await.unwrap();
    let _ = bad.send(Message::Frame(Frame::message(vec![0xff, 0xfe, 0xfd], OpCode::Data(Data::Text), true))).await;
    assert!(read_until_closed(&mut bad, WAIT).await.is_some(), "a non-UTF-8 text frame closes the socket");
    let (raw, _) = tokio_tungstenite::connect_async(s.stream_request("noisy")).await.unwrap();
    let mut tcp = match raw.into_inner() {
        tokio_tungstenite::MaybeTlsStream::Plain(t) => t,
        _ => unreachable!("plain ws"),
    };
    tcp.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff]).await.unwrap();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(WAIT, async {
        use tokio::io::AsyncReadExt;
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert_eq!(closed, Ok(true), "raw garbage closes the socket");
    s.assert_serving().await;
    witness.finish().await;
}
