//! The real `convo-tui` binary in tmux against a real server (in-process,
//! SQLite in a tempdir) and a second participant, bob, who acts through the
//! admin REST API and his own stream socket. Every wait polls the screen or
//! the server with a generous timeout; nothing asserts on time.

use std::path::{Path, PathBuf};

use convo_tui::api::token::TokenIssuer;
use convo_tui::config::Credentials;
use serde_json::Value;

use crate::tmux::{Tmux, eventually};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_convo-tui");

/// A server on 127.0.0.1:0 with its own data dir, and admin access to it.
pub(crate) struct World {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) url: String,
    /// The chat service's SID (media live under `/v1/Services/{IS}/Media`).
    pub(crate) service_sid: String,
    creds: Credentials,
    pub(crate) http: reqwest::Client,
    _data: tempfile::TempDir,
}

impl World {
    pub(crate) fn new() -> World {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let data = tempfile::tempdir().unwrap();
        let creds = Credentials::generate();
        let config = convo_tui::server::ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: data.path().to_path_buf(),
            public_url: None,
            credentials: creds.clone(),
        };
        let server = rt.block_on(convo_tui::server::start(config)).unwrap();
        let url = server.url();
        let service_sid = server.service_sid().to_string();
        // The server lives as long as the runtime; keep its handle there.
        rt.spawn(async move {
            let _keep = server;
            std::future::pending::<()>().await
        });
        World { rt, url, service_sid, creds, http: reqwest::Client::new(), _data: data }
    }

    pub(crate) fn token(&self, identity: &str) -> String {
        let issuer = TokenIssuer {
            account_sid: &self.creds.account_sid,
            api_key_sid: &self.creds.api_key_sid,
            api_key_secret: &self.creds.api_key_secret,
            service_sid: None,
        };
        issuer.mint(identity, convo_tui::api::time::now_unix(), 3600)
    }

    pub(crate) async fn post_async(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let r = self
            .http
            .post(format!("{}/v1/{path}", self.url))
            .basic_auth(&self.creds.account_sid, Some(&self.creds.auth_token))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    pub(crate) fn post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        self.rt.block_on(self.post_async(path, form))
    }

    pub(crate) async fn get_async(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}/v1/{path}", self.url))
            .basic_auth(&self.creds.account_sid, Some(&self.creds.auth_token))
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }

    /// A conversation with `members`; returns its SID.
    pub(crate) fn conversation(&self, name: &str, members: &[&str]) -> String {
        let c = self.post("Conversations", &[("FriendlyName", name)]);
        let sid = c["sid"].as_str().unwrap().to_string();
        for m in members {
            self.post(&format!("Conversations/{sid}/Participants"), &[("Identity", m)]);
        }
        sid
    }

    pub(crate) fn say(&self, sid: &str, author: &str, body: &str) {
        self.post(&format!("Conversations/{sid}/Messages"), &[("Author", author), ("Body", body)]);
    }

    /// `me`'s read horizon in `sid`, as the server has it.
    async fn horizon(&self, sid: &str, identity: &str) -> Option<i64> {
        let ps = self.get_async(&format!("Conversations/{sid}/Participants")).await;
        ps["participants"].as_array()?.iter().find(|p| p["identity"] == identity)?["last_read_message_index"].as_i64()
    }

    /// The client's environment: an empty HOME and XDG dirs inside `home`.
    pub(crate) fn env(home: &Path) -> Vec<(&'static str, String)> {
        let h = |s: &str| home.join(s).display().to_string();
        vec![
            ("HOME", home.display().to_string()),
            ("XDG_CONFIG_HOME", h(".config")),
            ("XDG_DATA_HOME", h(".local/share")),
            ("XDG_CACHE_HOME", h(".cache")),
            ("USER", "me".to_string()),
        ]
    }

    pub(crate) fn launch(&self, name: &str, home: &Path, identity: &str) -> Tmux {
        let token = self.token(identity);
        let args = ["--server", self.url.as_str(), "--identity", identity, "--token", token.as_str()];
        Tmux::start(name, Path::new(BIN), &args, &World::env(home), 120, 36)
    }
}

/// Keeps sending bob's typing frames on his own stream socket until dropped.
fn bob_types(world: &World, sid: &str) -> tokio::task::JoinHandle<()> {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("{}/v1/Stream", world.url.replacen("http", "ws", 1));
    let token = world.token("bob");
    let frame = serde_json::json!({"type": "typing", "conversation_sid": sid}).to_string();
    world.rt.spawn(async move {
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert("X-Twilio-Token", token.parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        loop {
            if ws.send(tokio_tungstenite::tungstenite::Message::text(frame.clone())).await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    })
}

/// The conversation-list row (the pane's first 30 columns at 120 wide) naming `needle`.
pub(crate) fn line_with(screen: &str, needle: &str) -> Option<String> {
    screen.lines().skip(1).map(|l| l.chars().take(30).collect::<String>()).find(|l| l.contains(needle))
}

#[test]
fn chat_end_to_end_unread_read_send_typing_hostile_text_and_clean_exit() {
    let world = World::new();
    let general = world.conversation("general", &["me", "bob"]);
    for i in 1..=3 {
        world.say(&general, "bob", &format!("general message {i}"));
    }
    let other = world.conversation("other", &["me", "bob"]);
    world.say(&other, "bob", "other says hi");
    let home = tempfile::tempdir().unwrap();
    let t = world.launch("chat", home.path(), "me");

    // The list shows the unread count of the conversation that is not open
    // (the newest one opens by itself; both were made in the same second).
    let screen = t.wait_until("both conversations listed, one open", |s| {
        line_with(s, "general").is_some() && line_with(s, "other").is_some() && line_with(s, "▸").is_some()
    });
    let general_open = line_with(&screen, "general").is_some_and(|l| l.contains('▸'));
    let (closed, closed_name, closed_unread, closed_last) =
        if general_open { (&other, "other", " 1", 0) } else { (&general, "general", " 3", 2) };
    t.wait_until("the unread count in the list", |s| {
        line_with(s, closed_name).is_some_and(|l| l.trim_end_matches(['│', ' ', '┃']).ends_with(closed_unread))
    });
    let title_before = t.format("pane_title");

    // Opening it marks it read on the server.
    t.keys(&["M-Down"]);
    t.wait_until("the other conversation open", |s| line_with(s, closed_name).is_some_and(|l| l.contains('▸')));
    let h = world.rt.block_on(eventually("read on the server", || async {
        world.horizon(closed, "me").await.filter(|h| *h == closed_last)
    }));
    assert_eq!(h, closed_last);
    if general_open {
        // Back to general for the rest.
        t.keys(&["M-Up"]);
    }
    t.wait_until("general open", |s| line_with(s, "general").is_some_and(|l| l.contains('▸')));
    t.wait_for("general message 3");

    // A typed line arrives on the server as the user.
    t.type_text("hello from tmux");
    t.keys(&["Enter"]);
    let body = world.rt.block_on(eventually("the typed message on the server", || async {
        let page = world.get_async(&format!("Conversations/{general}/Messages?Order=desc&PageSize=5")).await;
        page["messages"].as_array()?.iter().find(|m| m["body"] == "hello from tmux").cloned()
    }));
    assert_eq!(body["author"], "me");
    t.wait_for("me: hello from tmux");

    // The other side's typing shows.
    let typing = bob_types(&world, &general);
    t.wait_for("bob is typing…");
    typing.abort();

    // A hostile message changes neither the title nor the screen.
    let hostile = "\x1b]0;PWNED\x07\x1b]2;PWNED\x1b\\\x1b[2J\x1b[H\x1b[31mred\x1b[0m \u{202e}desrever\u{202c} \x1b[?1049l\x1bc tail-of-hostile";
    world.say(&general, "bob", hostile);
    let screen = t.wait_for("tail-of-hostile");
    assert!(
        screen.contains("general message 1") && screen.contains("hello from tmux"),
        "screen was cleared:\n{screen}"
    );
    assert!(screen.contains("Conversations") && screen.contains("other"), "{screen}");
    assert!(!screen.contains("PWNED"), "{screen}");
    assert_eq!(t.format("pane_title"), title_before, "the title changed");
    assert_eq!(t.format("alternate_on"), "1", "still on the alternate screen");

    // Ctrl-C exits 0 and the terminal is restored.
    t.keys(&["C-c"]);
    let screen = t.wait_for("EXITED:");
    assert!(screen.contains("EXITED:0"), "{screen}");
    assert_eq!(t.format("alternate_on"), "0", "alternate screen left");
    assert_eq!(t.format("cursor_flag"), "1", "cursor shown");
    assert_eq!(t.format("mouse_any_flag"), "0", "mouse reporting off");
}

#[test]
fn page_up_reaches_the_first_of_several_hundred_messages() {
    let world = World::new();
    let sid = world.conversation("history", &["me"]);
    world.rt.block_on(async {
        for i in 0..400 {
            let body = format!("history line {i:04}");
            world.post_async(&format!("Conversations/{sid}/Messages"), &[("Author", "bob"), ("Body", &body)]).await;
        }
    });
    let home = tempfile::tempdir().unwrap();
    let t = world.launch("history", home.path(), "me");
    t.wait_for("history line 0399");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        t.keys(&["PageUp"]);
        let screen = t.capture();
        if screen.contains("history line 0000") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never reached the first message:\n{screen}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let screen = t.wait_for("history line 0000");
    assert!(!screen.contains("history line 0399"), "{screen}");
    t.keys(&["End"]);
    t.wait_for("history line 0399");
    // SIGTERM also ends it cleanly, with the terminal restored.
    let shell = t.format("pane_pid");
    let pid = std::process::Command::new("pgrep").args(["-P", &shell]).output().unwrap();
    let pid = String::from_utf8_lossy(&pid.stdout).trim().to_string();
    assert!(!pid.is_empty(), "no client process under the pane's shell");
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(t.wait_for("EXITED:").contains("EXITED:0"));
    assert_eq!(t.format("alternate_on"), "0");
    assert_eq!(t.format("cursor_flag"), "1");
}

fn embedded_home_env(home: &Path) -> Vec<(&'static str, String)> {
    World::env(home)
}

#[test]
fn first_launch_with_empty_home_sends_and_a_relaunch_shows_it() {
    let home: PathBuf = tempfile::tempdir().unwrap().keep();
    let env = embedded_home_env(&home);
    let t = Tmux::start("first", Path::new(BIN), &[], &env, 110, 34);
    // The welcome conversation opens with the composer focused: type at once.
    t.wait_for("Welcome to convo-tui");
    t.type_text("kept for next time");
    t.keys(&["Enter"]);
    t.wait_for("me: kept for next time");
    t.keys(&["C-c"]);
    assert!(t.wait_for("EXITED:").contains("EXITED:0"));
    drop(t);

    // The first launch left an editable config and a log file, in the XDG dirs.
    assert!(home.join(".config/convo-tui/config.toml").is_file());
    assert!(home.join(".local/share/convo-tui/convo-tui.log").is_file());

    let t = Tmux::start("again", Path::new(BIN), &[], &env, 110, 34);
    let screen = t.wait_for("me: kept for next time");
    assert!(screen.contains("Welcome"), "{screen}");
    t.keys(&["C-c"]);
    assert!(t.wait_for("EXITED:").contains("EXITED:0"));
    let _ = std::fs::remove_dir_all(&home);
}

/// The pane's raw output so far, as text.
fn raw_output(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

#[test]
fn switcher_completion_editor_and_a_notification_for_another_conversation() {
    let world = World::new();
    let general = world.conversation("general", &["me", "bob", "alice"]);
    let quokka = world.conversation("Quokka planning", &["me", "bob"]);
    world.conversation("other", &["me", "bob"]);
    let home = tempfile::tempdir().unwrap();
    let editor = home.path().join("editor.sh");
    std::fs::write(&editor, "#!/bin/sh\nprintf 'EDITOR-PROMPT\\n'; read line; printf '%s\\n' \"$line\" > \"$1\"\n")
        .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut env = World::env(home.path());
    env.push(("EDITOR", editor.display().to_string()));
    // As inside tmux: notifications must come wrapped in its passthrough.
    env.push(("TMUX", "/tmp/tmux-test/default,1,0".to_string()));
    let token = world.token("me");
    let args = ["--server", world.url.as_str(), "--identity", "me", "--token", token.as_str()];
    let t = Tmux::start("find", Path::new(BIN), &args, &env, 120, 36);
    let raw = home.path().join("pane-output");
    t.pipe_output_to(&raw);
    t.wait_until("the list", |s| line_with(s, "other").is_some() && line_with(s, "▸").is_some());

    // Ctrl-K opens a conversation by part of its name.
    t.keys(&["C-k"]);
    t.wait_for("Switch: type a name");
    t.type_text("quok");
    t.keys(&["Enter"]);
    t.wait_until("Quokka planning open", |s| {
        line_with(s, "Quokka").is_some_and(|l| l.contains('▸')) && !s.contains("Switch: type a name")
    });
    t.keys(&["C-k"]);
    t.type_text("gnrl");
    t.keys(&["Enter"]);
    t.wait_until("general open", |s| line_with(s, "general").is_some_and(|l| l.contains('▸')));
    t.wait_until("general's participants", |s| s.contains("alice"));

    // Tab completes a command name, then an @identity, which is sent as typed.
    t.type_text("/jo");
    t.keys(&["Tab"]);
    t.wait_for("/join");
    t.keys(&["BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace"]);
    t.wait_until("the composer emptied", |s| !s.contains("/jo"));
    t.type_text("thanks @ali");
    t.keys(&["Tab"]);
    t.wait_for("thanks @alice");
    t.type_text("for the notes");
    t.keys(&["Enter"]);
    world.rt.block_on(eventually("the completed mention on the server", || async {
        let page = world.get_async(&format!("Conversations/{general}/Messages?Order=desc&PageSize=5")).await;
        page["messages"].as_array()?.iter().find(|m| m["body"] == "thanks @alice for the notes").cloned()
    }));

    // /editor: what was written in the editor (a script reading a line) lands
    // in the composer; Enter sends it.
    t.type_text("/editor");
    t.keys(&["Enter"]);
    // The editor has the terminal (main screen) and gets the keys typed, not
    // the client's reader.
    t.wait_until("the editor on the main screen", |s| s.contains("EDITOR-PROMPT") && t.format("alternate_on") == "0");
    t.type_text("written by the editor script");
    t.keys(&["Enter"]);
    t.wait_until("the client back with the text in its composer", |s| {
        t.format("alternate_on") == "1" && s.contains("Message general") && s.contains("written by the editor script")
    });
    t.keys(&["Enter"]);
    let sent = world.rt.block_on(eventually("the editor's text on the server", || async {
        let page = world.get_async(&format!("Conversations/{general}/Messages?Order=desc&PageSize=5")).await;
        page["messages"].as_array()?.iter().find(|m| m["body"] == "written by the editor script").cloned()
    }));
    assert_eq!(sent["author"], "me");

    // A message in a conversation not on screen: one notification sequence,
    // OSC 777 inside tmux's passthrough, in the terminal's output stream.
    world.say(&quokka, "bob", "ping; from quokka");
    let want = "\x1bPtmux;\x1b\x1b]777;notify;bob in Quokka planning;ping, from quokka\x07\x1b\\";
    let deadline = std::time::Instant::now() + crate::tmux::WAIT;
    while !raw_output(&raw).contains(want) {
        assert!(std::time::Instant::now() < deadline, "no notification in the output: {:?}", raw_output(&raw));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // None for the open conversation or for our own messages.
    let out = raw_output(&raw);
    assert_eq!(out.matches("]777;notify;").count(), 1, "{out:?}");

    t.keys(&["C-c"]);
    assert!(t.wait_for("EXITED:").contains("EXITED:0"));
}

#[test]
fn reply_in_tmux_and_see_a_reply_with_reactions_made_over_rest() {
    let world = World::new();
    let sid = world.conversation("team", &["me", "bob"]);
    let asked = world.post(
        &format!("Conversations/{sid}/Messages"),
        &[("Author", "bob"), ("Body", "is the **deploy** done? see https://example.com/run")],
    );
    let home = tempfile::tempdir().unwrap();
    let t = world.launch("reply", home.path(), "me");
    t.wait_for("is the deploy done?");

    // /reply with nothing selected answers the newest message from someone else.
    t.type_text("/reply yes, shipped");
    t.keys(&["Enter"]);
    let mine = world.rt.block_on(eventually("the reply on the server", || async {
        let page = world.get_async(&format!("Conversations/{sid}/Messages?Order=desc&PageSize=5")).await;
        page["messages"].as_array()?.iter().find(|m| m["body"] == "yes, shipped").cloned()
    }));
    assert_eq!(mine["author"], "me");
    let attrs: Value = serde_json::from_str(mine["attributes"].as_str().unwrap()).unwrap();
    assert_eq!(attrs["reply_to"]["message_sid"], asked["sid"]);
    assert_eq!(attrs["reply_to"]["index"], asked["index"]);
    assert_eq!(attrs["reply_to"]["author"], "bob");
    t.wait_until("the reply with its quote", |s| {
        s.contains("↳ bob: is the deploy done?") && s.contains("me: yes, shipped")
    });

    // bob answers over REST with a reply and reactions in the attributes.
    let bobs = serde_json::json!({
        "reply_to": {"message_sid": mine["sid"], "index": mine["index"], "author": "me"},
        "reactions": {"heart": ["me"], "thumbs_up": ["bob", "alice"]}
    })
    .to_string();
    world.post(
        &format!("Conversations/{sid}/Messages"),
        &[("Author", "bob"), ("Body", "great, thanks @me"), ("Attributes", &bobs)],
    );
    let screen = t.wait_until("bob's reply with its quote and reactions", |s| {
        s.contains("↳ me: yes, shipped") && s.contains("bob: great, thanks @me") && s.contains("[❤ 1]  👍 2")
    });
    assert!(screen.contains("https://example.com/run"), "{screen}");
    t.keys(&["C-c"]);
    assert!(t.wait_for("EXITED:").contains("EXITED:0"));
}
