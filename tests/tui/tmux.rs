//! A tmux session running the real binary, on its own server socket, with
//! polling helpers: every wait is "until the screen shows X, or 15 s".

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(15);

pub struct Tmux {
    socket: String,
    pub session: String,
}

fn tmux_available() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
}

impl Tmux {
    /// Starts `program args` in a `w`×`h` pane with exactly `env` set (plus PATH
    /// and TERM). After the program exits the pane prints `EXITED:<code>` and
    /// stays, so the test can see the restored terminal and the exit code.
    pub fn start(name: &str, program: &Path, args: &[&str], env: &[(&str, String)], w: u16, h: u16) -> Tmux {
        assert!(tmux_available(), "tmux is needed for the end-to-end tests (scripts/test installs it)");
        let socket = format!("convo-e2e-{name}-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let session = "t".to_string();
        let mut cmd = String::from("env -i");
        cmd.push_str(&format!(" PATH={}", sh_quote(&std::env::var("PATH").unwrap_or_default())));
        cmd.push_str(" TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8");
        for (k, v) in env {
            cmd.push_str(&format!(" {k}={}", sh_quote(v)));
        }
        cmd.push(' ');
        cmd.push_str(&sh_quote(&program.display().to_string()));
        for a in args {
            cmd.push(' ');
            cmd.push_str(&sh_quote(a));
        }
        let script = format!("{cmd}; echo EXITED:$?; sleep 600");
        let t = Tmux { socket, session };
        let status = Command::new("tmux")
            .env("LC_ALL", "C.UTF-8")
            .args(["-u", "-L", &t.socket, "-f", "/dev/null", "new-session", "-d", "-s", &t.session])
            .args(["-x", &w.to_string(), "-y", &h.to_string()])
            .args(["sh", "-c", &script])
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        // -u and a UTF-8 locale: captures keep box drawing and `…` whatever the CI locale.
        let out =
            Command::new("tmux").env("LC_ALL", "C.UTF-8").args(["-u", "-L", &self.socket]).args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn capture(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    /// A tmux format value of the pane, e.g. `pane_title`, `alternate_on`.
    pub fn format(&self, var: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", &self.session, &format!("#{{{var}}}")]).trim().to_string()
    }

    /// Sends keys by tmux name (`Enter`, `C-c`, `PageUp`, `M-Down`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Appends everything the program writes to the pane, raw (escape
    /// sequences included, before tmux reads them), to `path`.
    pub fn pipe_output_to(&self, path: &Path) {
        let cmd = format!("cat >> {}", sh_quote(&path.display().to_string()));
        self.tmux(&["pipe-pane", "-O", "-t", &self.session, &cmd]);
    }

    /// Types text literally.
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", &self.session, "-l", text]);
    }

    /// Waits until `pred` holds for the screen; panics with the screen if not.
    pub fn wait_until(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.capture();
            if pred(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |s| s.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}

pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Polls `f` until it returns Some, for up to `WAIT`.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
