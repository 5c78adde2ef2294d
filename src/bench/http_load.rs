//! HTTP load shared by `floor`, `send` and `history`: closed-loop senders that
//! POST as fast as answers come back, and a sequential GET repeater. Every
//! request is timed; answers are read to the end so connections are reused.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::task::JoinSet;

use super::report::{latency_histogram, record};

/// Basic-auth credentials (account SID and auth token, or API key and secret).
#[derive(Debug, Clone)]
pub struct BasicAuth {
    pub user: String,
    pub password: String,
}

/// A client for `senders` concurrent connections to one host.
pub fn client(senders: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(senders.max(1))
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// What a POST run measured.
pub struct Posts {
    pub latency: Histogram<u64>,
    /// 2xx answers.
    pub accepted: u64,
    /// Other answers, by HTTP status.
    pub refused: BTreeMap<u16, u64>,
    /// Requests that got no answer.
    pub failed: u64,
    pub elapsed: Duration,
}

impl Posts {
    pub fn accepted_per_sec(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// One sender per `(url, form body)` pair, each posting in a loop for `duration`.
pub async fn post_for(
    client: &reqwest::Client,
    targets: Vec<(String, String)>,
    auth: Option<BasicAuth>,
    duration: Duration,
) -> anyhow::Result<Posts> {
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = JoinSet::new();
    for (url, body) in targets {
        let (client, auth) = (client.clone(), auth.clone());
        tasks.spawn(async move {
            let mut out = Posts {
                latency: latency_histogram(),
                accepted: 0,
                refused: BTreeMap::new(),
                failed: 0,
                elapsed: Duration::ZERO,
            };
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let mut req = client
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    // Twilio's header asking REST calls to fire webhooks (`send --webhook`);
                    // with none configured the server does nothing with it.
                    .header("X-Twilio-Webhook-Enabled", "true")
                    .body(body.clone());
                if let Some(a) = &auth {
                    req = req.basic_auth(&a.user, Some(&a.password));
                }
                match req.send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        let _ = resp.bytes().await;
                        record(&mut out.latency, t0.elapsed());
                        if status.is_success() {
                            out.accepted += 1;
                        } else {
                            *out.refused.entry(status.as_u16()).or_default() += 1;
                        }
                    }
                    Err(_) => out.failed += 1,
                }
            }
            out
        });
    }
    let mut total = Posts {
        latency: latency_histogram(),
        accepted: 0,
        refused: BTreeMap::new(),
        failed: 0,
        elapsed: Duration::ZERO,
    };
    while let Some(part) = tasks.join_next().await {
        let part = part?;
        total.latency.add(&part.latency)?;
        total.accepted += part.accepted;
        total.failed += part.failed;
        for (status, n) in part.refused {
            *total.refused.entry(status).or_default() += n;
        }
    }
    total.elapsed = start.elapsed();
    Ok(total)
}

/// GETs `url` `times` times in a row and returns the latency of each, after
/// checking the answer is a success.
pub async fn get_repeatedly(
    client: &reqwest::Client,
    url: &str,
    auth: Option<&BasicAuth>,
    times: usize,
) -> anyhow::Result<Histogram<u64>> {
    let mut h = latency_histogram();
    for _ in 0..times {
        let t0 = Instant::now();
        let mut req = client.get(url);
        if let Some(a) = auth {
            req = req.basic_auth(&a.user, Some(&a.password));
        }
        let resp = req.send().await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        record(&mut h, t0.elapsed());
        anyhow::ensure!(status.is_success(), "GET {url}: {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(h)
}
