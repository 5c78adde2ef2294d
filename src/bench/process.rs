//! `--processes`: the server under test and the fan-out floor each run as a
//! child process of this same binary, so the load client has its process (and
//! its scheduler) to itself and neither server shares a runtime with it.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process, killed (and reaped) when dropped.
pub struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free on loopback right now (the child binds it a moment later).
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts `convo-tui serve` on a free loopback port with its data in `data_dir`
/// (and its store at `database` when given), and waits until it answers.
pub fn spawn_server(data_dir: &Path, database: Option<&str>) -> anyhow::Result<(String, ChildGuard)> {
    let port = free_port()?;
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("serve").arg("--listen").arg(format!("127.0.0.1:{port}")).arg("--data-dir").arg(data_dir);
    if let Some(url) = database {
        cmd.arg("--database").arg(url);
    }
    cmd.env("RUST_LOG", "warn").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::inherit());
    let child = ChildGuard(cmd.spawn()?);
    let base = format!("http://127.0.0.1:{port}");
    wait_until_listening(SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(30))?;
    Ok((base, child))
}

/// Starts the WebSocket floor (`bench floor-server`) and reads its address.
pub fn spawn_floor() -> anyhow::Result<(SocketAddr, ChildGuard)> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("bench").arg("floor-server").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd.spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("floor-server: no stdout"))?;
    let guard = ChildGuard(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line.trim().parse().map_err(|e| anyhow::anyhow!("floor-server said {line:?}: {e}"))?;
    Ok((addr, guard))
}

/// The child side of `spawn_floor`: serves the floor on a runtime built as
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

fn wait_until_listening(addr: SocketAddr, patience: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + patience;
    loop {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "the server did not listen on {addr} within {patience:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
