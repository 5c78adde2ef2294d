//! Thousands of connections opened and dropped at every stage (before a byte,
//! mid-request, with the answer unread, mid-upgrade, after the upgrade, with
//! garbage): the server stays up and a witness is served throughout.

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::fixture::{Server, Witness};

/// How one throw-away connection misbehaves before it is dropped.
async fn misbehave(addr: std::net::SocketAddr, kind: usize, token: String) {
    let Ok(mut tcp) = TcpStream::connect(addr).await else { return };
    let bytes: Vec<u8> = match kind {
        0 => Vec::new(),
        1 => b"GET /v1/Conversa".to_vec(),
        2 => b"GET /v1/Conversations HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        3 => b"POST /v1/Conversations HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nFriendlyName=".to_vec(),
        4 => format!(
            "GET /v1/Stream HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Twilio-Token: {token}\r\n\r\n"
        )
        .into_bytes(),
        _ => vec![0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03],
    };
    let _ = tcp.write_all(&bytes).await;
    if kind == 4 {
        // Let the upgrade complete some of the time before vanishing.
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_connections_opened_and_dropped_leave_the_server_serving() {
    let s = Server::start(0).await;
    let witness = Witness::start(&s).await;
    s.conversation(&["ghost"]).await;
    let token = s.token("ghost");
    let addr = s.running.addr;
    for batch in 0..30 {
        let mut tasks = JoinSet::new();
        for i in 0..100 {
            tasks.spawn(misbehave(addr, (batch * 100 + i) % 6, token.clone()));
        }
        while tasks.join_next().await.is_some() {}
    }
    s.assert_serving().await;
    witness.finish().await;
}
