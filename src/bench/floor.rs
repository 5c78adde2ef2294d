//! The machine's floor: the least a chat server must do, so that every other
//! figure can be read as a ratio to it. A WebSocket broadcast (no storage, no
//! JSON parsing, no auth; one write per subscriber per message, bytes shared) and
//! an HTTP endpoint that answers with canned bytes. Both run on loopback.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::delivery::{self, Delivery, Publish, ws_config};
use super::http_load::{self, Posts};
use super::report::{Latency, Report};
use super::{BenchArgs, Runtimes};

const FLOOR_CONVERSATION: &str = "CH00000000000000000000000000000000";

/// How many messages a subscriber may fall behind before it is dropped, as a
/// real server must bound a slow consumer.
const QUEUE: usize = 1024;

/// A realistic `messageAdded` event, about the size the real server sends; the
/// floor's publisher fills in `{BODY}` so subscribers parse the same shape.
pub const EVENT_TEMPLATE: &str = concat!(
    r#"{"event":"messageAdded","conversation_sid":"CH00000000000000000000000000000000","data":{"#,
    r#""account_sid":"AC00000000000000000000000000000000","chat_service_sid":"IS00000000000000000000000000000000","#,
    r#""conversation_sid":"CH00000000000000000000000000000000","sid":"IM00000000000000000000000000000000","#,
    r#""index":0,"author":"bench-sender","body":"{BODY}","media":null,"attributes":"{}","#,
    r#""participant_sid":null,"date_created":"2026-01-01T00:00:00Z","date_updated":"2026-01-01T00:00:00Z","#,
    r#""url":"http://127.0.0.1/v1/Conversations/CH00000000000000000000000000000000/Messages/IM00000000000000000000000000000000","#,
    r#""delivery":null,"links":{"delivery_receipts":"http://127.0.0.1/v1/Conversations/CH00000000000000000000000000000000/Messages/IM00000000000000000000000000000000/Receipts","#,
    r#""channel_metadata":"http://127.0.0.1/v1/Conversations/CH00000000000000000000000000000000/Messages/IM00000000000000000000000000000000/ChannelMetadata"},"#,
    r#""content_sid":null}}"#
);

/// Starts the broadcast floor on the current runtime. Clients connecting to
/// `/pub` publish (each text frame goes to every subscriber); any other path subscribes.
pub async fn start_ws() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, _) = broadcast::channel::<Utf8Bytes>(QUEUE);
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let _ = sock.set_nodelay(true);
                let _ = serve_ws(sock, tx).await;
            });
        }
    });
    Ok(addr)
}

async fn serve_ws(sock: TcpStream, tx: broadcast::Sender<Utf8Bytes>) -> anyhow::Result<()> {
    let mut publisher = false;
    // tungstenite's callback signature fixes the (large) error type.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| {
        publisher = req.uri().path() == "/pub";
        Ok(resp)
    };
    let mut ws = tokio_tungstenite::accept_hdr_async_with_config(sock, callback, Some(ws_config())).await?;
    if publisher {
        while let Some(msg) = ws.next().await {
            if let Message::Text(text) = msg? {
                let _ = tx.send(text);
            }
        }
        return Ok(());
    }
    let mut rx = tx.subscribe();
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Ok(text) => ws.send(Message::Text(text)).await?,
                // Fell too far behind: close, as the real server must.
                Err(broadcast::error::RecvError::Lagged(_)) => return Ok(ws.close(None).await?),
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
            incoming = ws.next() => match incoming {
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Ok(()),
            },
        }
    }
}

/// The canned bodies the HTTP floor answers with: one message, one page of 50.
fn canned_message() -> Bytes {
    let data = EVENT_TEMPLATE.split_once(r#""data":"#).map(|(_, d)| d).unwrap_or("{}");
    Bytes::from(data.trim_end_matches('}').to_owned() + "}")
}

fn canned_page() -> Bytes {
    let one = canned_message();
    let one = std::str::from_utf8(&one).unwrap_or("{}");
    let items = vec![one; 50].join(",");
    let meta = r#"{"page":0,"page_size":50,"first_page_url":"http://127.0.0.1/v1/Conversations/CH00000000000000000000000000000000/Messages?PageSize=50&Page=0","previous_page_url":null,"url":"http://127.0.0.1/v1/Conversations/CH00000000000000000000000000000000/Messages?PageSize=50&Page=0","next_page_url":null,"key":"messages"}"#;
    Bytes::from(format!(r#"{{"messages":[{items}],"meta":{meta}}}"#))
}

/// Starts the HTTP floor on the current runtime: `POST` and `GET` on
/// `/v1/Conversations/{sid}/Messages` read the request and answer canned bytes.
pub async fn start_http() -> anyhow::Result<SocketAddr> {
    let (message, page) = (canned_message(), canned_page());
    const JSON: [(header::HeaderName, &str); 1] = [(header::CONTENT_TYPE, "application/json")];
    let app = Router::new().route(
        "/v1/Conversations/{sid}/Messages",
        get(move || {
            let page = page.clone();
            async move { (StatusCode::OK, JSON, page) }
        })
        .post(move |_body: Bytes| {
            let message = message.clone();
            async move { (StatusCode::CREATED, JSON, message) }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

/// Fan-out through the broadcast floor at `addr`: `subscribers` sockets, one publisher at `rate`.
pub fn fanout(
    rt: &Runtimes,
    addr: SocketAddr,
    subscribers: usize,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<Delivery> {
    rt.client.block_on(async move {
        let mut subs = Vec::with_capacity(subscribers);
        for _ in 0..subscribers {
            subs.push(delivery::connect(format!("ws://{addr}/sub")).await?);
        }
        let mut publisher = delivery::connect(format!("ws://{addr}/pub")).await?;
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let writer = tokio::spawn(async move {
            while let Some(body) = rx.recv().await {
                publisher.send(Message::text(EVENT_TEMPLATE.replace("{BODY}", &body))).await?;
            }
            anyhow::Ok(())
        });
        let publish: Publish = Arc::new(move |body| {
            let sent = tx.send(body).map_err(|_| anyhow::anyhow!("floor publisher closed"));
            Box::pin(async move { sent })
        });
        let subs = subs.into_iter().map(|ws| (0, ws)).collect();
        let result = delivery::run(subs, publish, rate, duration, Duration::from_secs(5)).await;
        writer.abort();
        result
    })
}

/// What the HTTP floor measured: closed-loop POSTs and sequential GETs of a page.
pub struct HttpFloor {
    pub senders: usize,
    pub posts: Posts,
    pub get: Latency,
}

impl HttpFloor {
    pub fn report(&self, args: &BenchArgs) -> Report {
        let mut r = Report::new("floor-http");
        r.param("senders", self.senders).param("duration_s", args.duration).param("fetches", args.fetches);
        r.figure("requests/s", self.posts.accepted_per_sec().round(), "1/s");
        r.latency("post", Latency::of(&self.posts.latency), None);
        r.latency("get page of 50", self.get, None);
        r
    }
}

/// POSTs from `senders` tasks for `duration`, then `fetches` GETs of a canned page.
pub fn http(rt: &Runtimes, senders: usize, duration: Duration, fetches: usize) -> anyhow::Result<HttpFloor> {
    let addr = rt.server.block_on(start_http())?;
    rt.client.block_on(async move {
        let client = http_load::client(senders)?;
        let url = format!("http://{addr}/v1/Conversations/{FLOOR_CONVERSATION}/Messages");
        let body = "Author=bench&Body=floor".to_owned();
        let posts = http_load::post_for(&client, vec![(url.clone(), body); senders], None, duration).await?;
        let get = http_load::get_repeatedly(&client, &url, None, fetches).await?;
        Ok(HttpFloor { senders, posts, get: Latency::of(&get) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_bodies_are_json_of_the_real_shape() {
        let m: crate::api::Message = serde_json::from_slice(&canned_message()).unwrap();
        assert_eq!(m.author.as_deref(), Some("bench-sender"));
        let p: crate::api::Page<crate::api::Message> = serde_json::from_slice(&canned_page()).unwrap();
        assert_eq!(p.items.len(), 50);
        let e: crate::api::stream::ServerEvent = serde_json::from_str(&EVENT_TEMPLATE.replace("{BODY}", "x")).unwrap();
        assert_eq!(e.event, crate::api::stream::EventName::MessageAdded);
    }
}
