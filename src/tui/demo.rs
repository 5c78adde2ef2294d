//! Companions for the embedded server, built on the sync task like any client:
//! the welcome poster (a first launch finds a conversation explaining the keys)
//! and the `--demo` cast (alice and bob, who join, talk, type and answer), so
//! every part of the screen has something to show.

use std::time::Duration;

use crate::sdk::{Command, Diff, SyncConfig, SyncHandle};

/// How the helpers start a sync task (the SDK's `sync::spawn`).
pub type Spawn = fn(SyncConfig) -> SyncHandle;

/// The welcome conversation's text.
pub const WELCOME: &str = include_str!("../../assets/welcome.md");

/// Generous: the embedded server is local, but the box may be busy.
const WAIT: Duration = Duration::from_secs(20);

/// A sync task driven by a program instead of a person.
struct Actor {
    handle: SyncHandle,
    identity: String,
}

impl Actor {
    fn new(spawn: Spawn, server_url: &str, token: String, identity: &str) -> Actor {
        let handle = spawn(SyncConfig { server_url: server_url.to_string(), token, page_size: 20 });
        Actor { handle, identity: identity.to_string() }
    }

    /// Waits until the sync task is connected (it refuses most commands before).
    async fn connected(&mut self) -> anyhow::Result<()> {
        self.wait_for(|d| matches!(d, Diff::Connection(crate::sdk::ConnectionState::Connected)).then_some(())).await
    }

    fn send(&self, c: Command) {
        let _ = self.handle.commands.send(c);
    }

    /// Reads diffs until `f` picks a value out of one, or the wait runs out.
    async fn wait_for<T>(&mut self, mut f: impl FnMut(&Diff) -> Option<T>) -> anyhow::Result<T> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let diff = tokio::time::timeout_at(deadline, self.handle.diffs.recv())
                .await
                .map_err(|_| anyhow::anyhow!("{}: timed out waiting for the server", self.identity))?
                .ok_or_else(|| anyhow::anyhow!("{}: sync task stopped", self.identity))?;
            if let Diff::Error(e) = &diff {
                tracing::debug!(identity = %self.identity, "{e}");
            }
            if let Some(v) = f(&diff) {
                return Ok(v);
            }
        }
    }

    /// Creates (or finds) the conversation with this unique name; returns its SID.
    async fn conversation(&mut self, unique_name: &str, friendly_name: &str) -> anyhow::Result<String> {
        self.send(Command::Join { sid_or_unique_name: unique_name.to_string() });
        self.send(Command::Create {
            friendly_name: friendly_name.to_string(),
            unique_name: Some(unique_name.to_string()),
        });
        let want = unique_name.to_string();
        self.wait_for(|d| match d {
            Diff::ConversationUpserted(e) if e.conversation.unique_name.as_deref() == Some(&want) => {
                Some(e.conversation.sid.clone())
            }
            Diff::Conversations(list) => list
                .iter()
                .find(|e| e.conversation.unique_name.as_deref() == Some(&want))
                .map(|e| e.conversation.sid.clone()),
            _ => None,
        })
        .await
    }

    /// Sends and waits until the message is back from the server.
    async fn say(&mut self, sid: &str, body: &str) -> anyhow::Result<()> {
        self.send(Command::Send { conversation_sid: sid.to_string(), body: body.to_string(), attributes: None });
        let me = self.identity.clone();
        let body = body.to_string();
        self.wait_for(|d| match d {
            Diff::MessageUpserted(m) if m.author.as_deref() == Some(&me) && m.body.as_deref() == Some(&body) => {
                Some(())
            }
            _ => None,
        })
        .await
    }
}

/// Posts the welcome conversation for `identity` (as the `convo-tui` user) and
/// returns its unique name. Run once per data dir: the caller keeps a marker.
pub async fn post_welcome(spawn: Spawn, server_url: &str, token: String, identity: &str) -> anyhow::Result<String> {
    let mut bot = Actor::new(spawn, server_url, token, "convo-tui");
    bot.connected().await?;
    let unique = format!("welcome-{identity}");
    let sid = bot.conversation(&unique, "Welcome").await?;
    bot.send(Command::AddParticipant { conversation_sid: sid.clone(), identity: identity.to_string() });
    bot.say(&sid, WELCOME.trim()).await?;
    bot.send(Command::Shutdown);
    Ok(unique)
}

/// Replies alice picks from, in turn.
const REPLIES: &[&str] = &[
    "Nice! Try PageUp to scroll back, or /rename to give this room a better name.",
    "I see you. Press F1 for every key; Alt-Up/Alt-Down switch rooms.",
    "Ha, good one. /mute silences a room; r and u mark it read or unread.",
    "Got it. Bob keeps the other room busy if you want to see unread counts.",
];

/// The demo: alice creates `demo-IDENTITY` with bob and the user, they chat,
/// and from then on alice types and answers every message of the user. Runs
/// until the process ends. `mint` gives a token for an identity.
pub async fn run_demo(
    spawn: Spawn,
    server_url: String,
    mint: impl Fn(&str) -> String,
    identity: String,
) -> anyhow::Result<()> {
    let mut alice = Actor::new(spawn, &server_url, mint("alice"), "alice");
    let mut bob = Actor::new(spawn, &server_url, mint("bob"), "bob");
    alice.connected().await?;
    bob.connected().await?;
    let demo = alice.conversation(&format!("demo-{identity}"), "Demo with alice and bob").await?;
    for who in [identity.as_str(), "bob"] {
        alice.send(Command::AddParticipant { conversation_sid: demo.clone(), identity: who.to_string() });
    }
    let side = bob.conversation(&format!("side-{identity}"), "Bob's side room").await?;
    bob.send(Command::AddParticipant { conversation_sid: side.clone(), identity: identity.clone() });
    alice.say(&demo, &format!("Hi {identity}! I'm alice, a demo bot. Say something and I'll answer.")).await?;
    bob.say(&demo, "And I'm bob. I post in the side room now and then, so you can watch unread counts.").await?;
    bob.say(&side, "Psst, this is the side room. Alt-Down gets you back.").await?;
    let mut turn = 0usize;
    loop {
        let me = identity.clone();
        let demo_sid = demo.clone();
        let heard = alice
            .wait_for(|d| match d {
                Diff::MessageUpserted(m) if m.conversation_sid == demo_sid && m.author.as_deref() == Some(&me) => {
                    Some(m.body.clone().unwrap_or_default())
                }
                _ => None,
            })
            .await;
        let heard = match heard {
            Ok(h) => h,
            Err(e) if e.to_string().contains("timed out") => continue,
            Err(e) => return Err(e),
        };
        alice.send(Command::Typing { conversation_sid: demo.clone() });
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let reply = if heard.trim_end().ends_with('?') {
            "Good question. I'm only a demo, but /help knows more than I do.".to_string()
        } else {
            REPLIES[turn % REPLIES.len()].to_string()
        };
        alice.say(&demo, &reply).await?;
        turn += 1;
        if turn.is_multiple_of(3) {
            bob.send(Command::Typing { conversation_sid: side.clone() });
            tokio::time::sleep(Duration::from_millis(800)).await;
            bob.say(&side, &format!("Side-room update number {}.", turn / 3)).await?;
        }
    }
}
