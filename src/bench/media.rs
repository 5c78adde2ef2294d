//! `bench media`: a file up to the server's Media Content Service and back down
//! its temporary link on loopback (MB/s each way), then a 150 MiB upload (the
//! chat limit), with the server process's RSS before, at its peak and after each.
//!
//! The server runs as its own process (`convo-tui serve`, spawned here) so its
//! RSS is its own, read from `/proc/PID/status`; with `--server URL` RSS is
//! reported when `--pid` names that server's process. MB = 1,000,000 bytes.

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

use super::process::{RssSampler, ServerProcess, rss_kib};
use super::report::Report;
use super::target::{Target, remote_credentials};
use super::{BenchArgs, Runtimes};

const MIB: u64 = 1024 * 1024;

/// A server's RSS around one phase, in KiB.
#[derive(Debug, Clone, Copy)]
pub struct Rss {
    pub before: u64,
    pub peak: u64,
    pub after: u64,
}

/// One phase: an upload, and the download of what was uploaded when asked for.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    pub bytes: u64,
    pub up: Duration,
    pub down: Option<Duration>,
    pub rss: Option<Rss>,
}

/// Runs both phases against a spawned server (or `--server`) and reports them.
pub fn run(rt: &Runtimes, args: &BenchArgs) -> anyhow::Result<Vec<Report>> {
    anyhow::ensure!(args.file_mib > 0 && args.big_mib > 0, "--file-mib and --big-mib must be at least 1");
    rt.client.block_on(async {
        let mut spawned = None;
        let (target, pid, store) = match &args.server {
            Some(url) => (Target::remote(url.clone(), remote_credentials(args)?), args.pid, "remote"),
            None => {
                let process = ServerProcess::start(args.database.as_deref()).await?;
                let found = (
                    Target::remote(process.base.clone(), process.credentials.clone()),
                    Some(process.pid()),
                    store_name(args),
                );
                spawned = Some(process);
                found
            }
        };
        let client = reqwest::Client::builder().tcp_nodelay(true).timeout(Duration::from_secs(900)).build()?;
        let service = service_sid(&client, &target).await?;
        let both = phase(&client, &target, &service, args.file_mib * MIB, true, pid).await?;
        let big = phase(&client, &target, &service, args.big_mib * MIB, false, pid).await?;
        drop(spawned);
        Ok(vec![report("media", store, &both), report("media-upload-limit", store, &big)])
    })
}

fn store_name(args: &BenchArgs) -> &'static str {
    if args.database.is_some() { "postgres" } else { "sqlite" }
}

/// The server's chat service SID, as a new conversation names it.
async fn service_sid(client: &reqwest::Client, target: &Target) -> anyhow::Result<String> {
    let form =
        crate::api::params::ConversationParams { friendly_name: Some("bench media".into()), ..Default::default() };
    let v = target.post_form(client, "/v1/Conversations", &form).await?;
    v["chat_service_sid"].as_str().map(str::to_owned).ok_or_else(|| anyhow::anyhow!("no chat_service_sid in {v}"))
}

/// Bytes with no short cycle, as the media tests use.
fn payload(len: u64) -> Bytes {
    (0..len as usize).map(|i| ((i * 7 + i / 251) % 256) as u8).collect::<Vec<u8>>().into()
}

async fn phase(
    client: &reqwest::Client,
    target: &Target,
    service: &str,
    bytes: u64,
    download_too: bool,
    pid: Option<u32>,
) -> anyhow::Result<Phase> {
    let data = payload(bytes);
    let before = pid.and_then(rss_kib);
    let sampler = pid.map(RssSampler::start);
    let t0 = Instant::now();
    let record = upload(client, target, service, data.clone()).await?;
    let up = t0.elapsed();
    let down = match download_too {
        true => {
            let link = record["links"]["content_direct_temporary"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("no temporary link in {record}"))?;
            let t0 = Instant::now();
            download(client, link, &data).await?;
            Some(t0.elapsed())
        }
        false => None,
    };
    let peak = sampler.map(RssSampler::peak);
    let after = pid.and_then(rss_kib);
    let rss = match (before, peak, after) {
        (Some(before), Some(peak), Some(after)) => Some(Rss { before, peak, after }),
        _ => None,
    };
    Ok(Phase { bytes, up, down, rss })
}

/// `POST …/Media` with the raw bytes, as the account; the Media record.
async fn upload(client: &reqwest::Client, target: &Target, service: &str, data: Bytes) -> anyhow::Result<Value> {
    let auth = target.admin();
    let url = format!("{}/v1/Services/{service}/Media?Filename=bench.bin&Category=media", target.base);
    let resp = client
        .post(&url)
        .basic_auth(&auth.user, Some(&auth.password))
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(data)
        .send()
        .await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    anyhow::ensure!(status.as_u16() == 201, "upload: {status}: {}", String::from_utf8_lossy(&body));
    Ok(serde_json::from_slice(&body)?)
}

/// Reads the content at `url` (no credentials: a temporary link) piece by
/// piece, checking each against what was uploaded.
async fn download(client: &reqwest::Client, url: &str, expected: &[u8]) -> anyhow::Result<()> {
    let mut resp = client.get(url).send().await?;
    anyhow::ensure!(resp.status().is_success(), "download: {}", resp.status());
    let mut at = 0usize;
    while let Some(piece) = resp.chunk().await? {
        anyhow::ensure!(expected.get(at..at + piece.len()) == Some(&piece[..]), "the content differs near byte {at}");
        at += piece.len();
    }
    anyhow::ensure!(at == expected.len(), "{at} bytes came back of {}", expected.len());
    Ok(())
}

fn mb_per_sec(bytes: u64, d: Duration) -> f64 {
    let rate = bytes as f64 / 1e6 / d.as_secs_f64().max(1e-9);
    (rate * 10.0).round() / 10.0
}

fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}

/// The figures of one phase: MB/s each way, RSS before, peak, after, and the growth.
pub fn report(name: &str, store: &str, p: &Phase) -> Report {
    let mut r = Report::new(name);
    r.param("file_mib", p.bytes / MIB).param("store", store);
    r.figure("upload", mb_per_sec(p.bytes, p.up), "MB/s");
    if let Some(down) = p.down {
        r.figure("download", mb_per_sec(p.bytes, down), "MB/s");
    }
    match p.rss {
        Some(rss) => {
            r.figure("server RSS before", mib(rss.before), "MiB");
            r.figure("server RSS peak", mib(rss.peak), "MiB");
            r.figure("server RSS after", mib(rss.after), "MiB");
            r.figure("server RSS growth (peak - before)", mib(rss.peak.saturating_sub(rss.before)), "MiB");
            let share = rss.peak.saturating_sub(rss.before) as f64 / (p.bytes as f64 / 1024.0);
            r.note(format!(
                "the server's RSS grew by {:.1}% of the file's size (VmRSS from /proc, sampled every 5 ms)",
                share * 100.0
            ));
        }
        None => {
            r.note("no server RSS: with --server, give --pid PID of that server (Linux /proc)");
        }
    }
    r
}
