//! The fan-out measurement shared by `floor` and `fanout`: one publisher at R
//! messages/s, S WebSocket subscribers, and the latency from the moment a message
//! is published to each receipt. The publish time travels in the message body
//! (`bench:<kind>:<seq>:<nanos>:`), so no shared table is needed; the publisher
//! and the subscribers are in this process and share one clock.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::report::{latency_histogram, record};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Publishes one message body; resolves once the server accepted it.
pub type Publish = Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>> + Send + Sync>;

/// Small WebSocket buffers: tungstenite's 128 KiB default read buffer per socket
/// doubles latency and costs ~140 MB at 1,000 connections (see DESIGN.md).
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0)
}

/// Opens a WebSocket client connection with small buffers and no Nagle delay.
pub async fn connect(request: impl IntoClientRequest + Unpin) -> anyhow::Result<Ws> {
    let (ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(ws_config()), true).await?;
    Ok(ws)
}

/// What a fan-out run measured.
pub struct Delivery {
    /// Publish → receipt, one sample per (message, subscriber).
    pub latency: Histogram<u64>,
    /// The same per group of subscribers (the group each was given to [`run`]).
    pub groups: Vec<Histogram<u64>>,
    pub sent: u64,
    pub publish_errors: u64,
    pub delivered: u64,
    /// Deliveries per second over the measured window (first publish to last receipt).
    pub deliveries_per_sec: f64,
    /// Subscribers whose socket closed or failed during the run.
    pub disconnected: u64,
}

impl Delivery {
    pub fn expected(&self, subscribers: usize) -> u64 {
        self.sent * subscribers as u64
    }
}

#[derive(Default)]
struct Shared {
    ready: AtomicU64,
    delivered: AtomicU64,
    disconnected: AtomicU64,
    last_receipt_nanos: AtomicU64,
}

/// `bench:<kind>:<seq>:<nanos>:`, where kind is `w` (warm-up) or `m` (measured).
fn marker(kind: char, seq: u64, nanos: u64) -> String {
    format!("bench:{kind}:{seq}:{nanos}:")
}

/// Finds the marker in a `messageAdded` event: its kind and publish time.
fn parse_marker(text: &str) -> Option<(char, u64)> {
    if !text.contains(r#""event":"messageAdded""#) {
        return None;
    }
    let rest = &text[text.find("bench:")? + 6..];
    let mut parts = rest.splitn(4, ':');
    let kind = parts.next()?.chars().next()?;
    let _seq = parts.next()?;
    let nanos = parts.next()?.parse().ok()?;
    Some((kind, nanos))
}

fn since(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

async fn subscriber(
    group: usize,
    mut ws: Ws,
    base: Instant,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> (usize, Histogram<u64>) {
    let mut h = latency_histogram();
    let mut ready = false;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let Some((kind, nanos)) = parse_marker(&text) else { continue };
                    if !ready {
                        ready = true;
                        shared.ready.fetch_add(1, Ordering::Relaxed);
                    }
                    if kind == 'm' {
                        let now = since(base);
                        record(&mut h, Duration::from_nanos(now.saturating_sub(nanos)));
                        shared.delivered.fetch_add(1, Ordering::Relaxed);
                        shared.last_receipt_nanos.fetch_max(now, Ordering::Relaxed);
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    shared.disconnected.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            },
        }
    }
    (group, h)
}

/// Runs the fan-out: warms up until every subscriber has received a message,
/// publishes `rate` messages/s for `duration`, then waits (at most `drain`) for
/// every delivery. `publish` sends one body (it carries the marker) to the server.
/// Each subscriber comes with a group number; latencies are also kept per group.
pub async fn run(
    subscribers: Vec<(usize, Ws)>,
    publish: Publish,
    rate: f64,
    duration: Duration,
    drain: Duration,
) -> anyhow::Result<Delivery> {
    let count = subscribers.len() as u64;
    let base = Instant::now();
    let shared = Arc::new(Shared::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let group_count = subscribers.iter().map(|(g, _)| g + 1).max().unwrap_or(0);
    for (group, ws) in subscribers {
        tasks.spawn(subscriber(group, ws, base, shared.clone(), stop_rx.clone()));
    }

    // Warm-up: the subscription is live once a message has come through it.
    let warm_deadline = Instant::now() + Duration::from_secs(30);
    let mut seq = 0u64;
    while shared.ready.load(Ordering::Relaxed) < count {
        anyhow::ensure!(
            Instant::now() < warm_deadline,
            "only {} of {count} subscribers received a warm-up message in 30 s",
            shared.ready.load(Ordering::Relaxed)
        );
        publish(marker('w', seq, since(base))).await?;
        seq += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Measured phase: publish on a fixed schedule, each publish its own task so
    // a slow acknowledgement does not delay the next message.
    let total = (rate * duration.as_secs_f64()).round().max(1.0) as u64;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut publishes = JoinSet::new();
    let first_publish = since(base);
    for seq in 0..total {
        ticker.tick().await;
        let publish = publish.clone();
        publishes.spawn(async move { publish(marker('m', seq, since(base))).await });
    }
    let (mut sent, mut publish_errors) = (0u64, 0u64);
    while let Some(r) = publishes.join_next().await {
        match r {
            Ok(Ok(())) => sent += 1,
            _ => publish_errors += 1,
        }
    }

    // Drain: wait until everything arrived, or progress stops for `drain`.
    let mut last = (shared.delivered.load(Ordering::Relaxed), Instant::now());
    loop {
        let delivered = shared.delivered.load(Ordering::Relaxed);
        let live = count - shared.disconnected.load(Ordering::Relaxed);
        if delivered >= sent * live || last.1.elapsed() > drain {
            break;
        }
        if delivered != last.0 {
            last = (delivered, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop_tx.send(true);
    let mut latency = latency_histogram();
    let mut groups = vec![latency_histogram(); group_count];
    while let Some(done) = tasks.join_next().await {
        let (group, h) = done?;
        latency.add(&h)?;
        groups[group].add(h)?;
    }
    let delivered = shared.delivered.load(Ordering::Relaxed);
    let window = shared.last_receipt_nanos.load(Ordering::Relaxed).saturating_sub(first_publish);
    Ok(Delivery {
        latency,
        groups,
        sent,
        publish_errors,
        delivered,
        deliveries_per_sec: if window > 0 { delivered as f64 / (window as f64 / 1e9) } else { 0.0 },
        disconnected: shared.disconnected.load(Ordering::Relaxed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_inside_message_events_only() {
        let body = marker('m', 7, 123_456);
        let event = super::super::floor::EVENT_TEMPLATE.replace("{BODY}", &body);
        assert_eq!(parse_marker(&event), Some(('m', 123_456)));
        let other = event.replace("messageAdded", "conversationUpdated");
        assert_eq!(parse_marker(&other), None);
        assert_eq!(parse_marker(r#"{"event":"messageAdded","data":{"body":"hello"}}"#), None);
    }
}
