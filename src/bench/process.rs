//! A server under test in its own process (`convo-tui serve` from this same
//! binary, on a temporary data dir), the fan-out floor likewise, and a
//! process's resident memory from /proc.
//!
//! Scenarios that report the server's RSS need it apart from the load client:
//! in one process the client's buffers would be counted as the server's. With
//! `--processes`, fan-out runs so too: the load client has its process (and
//! its scheduler) to itself, and neither server shares a runtime with it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::config::Credentials;

/// A running `convo-tui serve` child; killed (and its data dir removed) on drop.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub credentials: Credentials,
    dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts `serve` on a free loopback port, on SQLite in a temporary data
    /// dir or on `database`, and waits until `/healthz` answers 200.
    pub async fn start(database: Option<&str>) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let credentials = Credentials::generate();
        let log = std::fs::File::create(dir.path().join("serve.log"))?;
        let mut cmd = Command::new(&exe);
        cmd.arg("serve")
            .args(["--listen", &format!("127.0.0.1:{port}"), "--rate-limit", "0"])
            .arg("--data-dir")
            .arg(dir.path())
            .env("CONVO_ACCOUNT_SID", &credentials.account_sid)
            .env("CONVO_AUTH_TOKEN", &credentials.auth_token)
            .env("CONVO_API_KEY", &credentials.api_key_sid)
            .env("CONVO_API_SECRET", &credentials.api_key_secret)
            .env("RUST_LOG", "warn")
            .env_remove("CONVO_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(db) = database {
            cmd.args(["--database", db]);
        }
        let child = cmd.spawn().map_err(|e| anyhow::anyhow!("starting {} serve: {e}", exe.display()))?;
        let base = format!("http://127.0.0.1:{port}");
        let mut server = Self { child, base, credentials, dir };
        server.wait_ready().await?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let url = format!("{}/healthz", self.base);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the server exited ({status}): {}", log_tail(&self.dir.path().join("serve.log")));
            }
            if client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("the server did not answer {url} within 60 s: {}", log_tail(&self.dir.path().join("serve.log")))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // A throwaway server on a temporary store: nothing to flush.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fan-out floor (`bench floor-server`) in a child process; killed on drop.
pub struct FloorProcess {
    child: Child,
    pub addr: SocketAddr,
}

impl FloorProcess {
    /// Starts the floor and reads the address it prints.
    pub fn start() -> anyhow::Result<Self> {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.args(["bench", "floor-server"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("floor-server: no stdout"))?;
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let addr = read.ok().and_then(|_| line.trim().parse().ok());
        match addr {
            Some(addr) => Ok(Self { child, addr }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("floor-server said {line:?}, not an address")
            }
        }
    }
}

impl Drop for FloorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child side of `FloorProcess`: serves the floor on a runtime built as
/// `serve` builds its own, prints the address, and runs until stdin closes.
pub fn serve_floor() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let addr = runtime.block_on(super::floor::start_ws())?;
    println!("{addr}");
    // The parent holds our stdin: when it exits (or drops us), we stop.
    let mut sink = String::new();
    while std::io::stdin().read_line(&mut sink)? > 0 {
        sink.clear();
    }
    Ok(())
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

/// `VmRSS` of process `pid` in KiB, from `/proc/PID/status` (None off Linux or once it is gone).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Samples a process's RSS every few milliseconds on a thread of its own and
/// keeps the highest seen (from `start` to `peak`).
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
    pid: u32,
}

impl RssSampler {
    pub fn start(pid: u32) -> Self {
        let (stop, peak) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(rss_kib(pid).unwrap_or(0))));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    p.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Self { stop, peak, thread: Some(thread), pid }
    }

    /// Stops sampling; the highest RSS seen, in KiB (a last sample included).
    pub fn peak(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(kib) = rss_kib(self.pid) {
            self.peak.fetch_max(kib, Ordering::Relaxed);
        }
        self.peak.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_resident_set_and_the_sampler_sees_at_least_it() {
        let pid = std::process::id();
        let now = rss_kib(pid).unwrap();
        assert!(now > 0);
        let sampler = RssSampler::start(pid);
        let grown = vec![1u8; 32 * 1024 * 1024];
        std::thread::sleep(Duration::from_millis(30));
        let peak = sampler.peak();
        assert!(peak >= now + 16 * 1024, "32 MiB touched: peak {peak} KiB from {now} KiB ({})", grown[grown.len() - 1]);
        assert_eq!(rss_kib(u32::MAX), None);
    }
}
