//! `Client`: the entry point of the SDK, Twilio's `Client` in Rust. It holds the
//! REST transport, a cache of the user's conversations kept fresh by a
//! background stream task (`live.rs`), and the broadcast of typed `Event`s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{broadcast, mpsc, watch};

use super::cache::{Shared, lock};
use super::conversation::Conversation;
use super::endpoints::token_claims;
use super::error::{Error, Result};
use super::events::Event;
use super::live;
use super::paginator::Paginator;
use super::sync_protocol::ConnectionState;
use super::transport::Rest;
use super::user::User;
use crate::api::params::ConversationParams;
use crate::api::{self, ErrorCode};

/// Buffered events per subscriber; a subscriber that falls further behind gets
/// `RecvError::Lagged` and should re-read state it cares about.
const EVENT_BUFFER: usize = 4096;

/// Options for `Client::new` / `Client::connect_with`.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// How long `connect` waits for the first successful connection.
    pub connect_timeout: Duration,
    /// How long before the token's expiry `Event::TokenAboutToExpire` fires
    /// (at most a fifth of the token's remaining lifetime).
    pub token_warning: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self { connect_timeout: Duration::from_secs(10), token_warning: Duration::from_secs(180) }
    }
}

/// A connection to a convo-tui (Twilio Conversations v1) server as one user.
///
/// ```no_run
/// # async fn demo(token: String) -> Result<(), convo_tui::sdk::Error> {
/// use convo_tui::sdk::{Client, Event};
/// let client = Client::connect("http://127.0.0.1:8787", &token).await?;
/// let mut events = client.events();
/// let conversation = client.create_conversation(Some("Team"), None, None).await?;
/// conversation.send_message("hello", None).await?;
/// while let Ok(event) = events.recv().await {
///     if let Event::MessageAdded(m) = event {
///         println!("{}: {}", m.author().unwrap_or_default(), m.body().unwrap_or_default());
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    events: Arc<broadcast::Sender<Event>>,
    /// Dropping the last `Client` (or `shutdown`) stops the stream task.
    stop: Arc<watch::Sender<bool>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("identity", &self.shared.identity)
            .field("state", &*self.shared.state.borrow())
            .finish()
    }
}

impl Client {
    /// Starts a client and returns at once, in state `Connecting`; the stream
    /// task connects (and keeps reconnecting) in the background. Watch
    /// `connection_state_changes()` or call `wait_connected`.
    pub fn new(server_url: &str, token: &str, options: ClientOptions) -> Result<Self> {
        let (identity, _exp) = token_claims(token)?;
        let rest = Rest::new(server_url, token.to_owned())?;
        let events = Arc::new(broadcast::channel(EVENT_BUFFER).0);
        let (frames_tx, frames_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            rest,
            identity,
            options,
            events: Arc::downgrade(&events),
            state: watch::channel(ConnectionState::Connecting).0,
            convs: Mutex::new(HashMap::new()),
            users: Mutex::new(HashMap::new()),
            typing: Mutex::new(HashMap::new()),
            typing_sent: Mutex::new(HashMap::new()),
            frames: frames_tx,
            token: watch::channel(token.to_owned()).0,
            denied: Mutex::new(None),
            echoes: Mutex::new(Default::default()),
        });
        let (stop, stop_rx) = watch::channel(false);
        tokio::spawn(live::run(shared.clone(), events.clone(), frames_rx, stop_rx));
        Ok(Self { shared, events, stop: Arc::new(stop) })
    }

    /// Connects with default options and waits (at most 10 s) until the client is
    /// connected and has loaded the user's conversations. A rejected token fails
    /// at once with the server's 401 error.
    pub async fn connect(server_url: &str, token: &str) -> Result<Self> {
        Self::connect_with(server_url, token, ClientOptions::default()).await
    }

    /// `connect` with options.
    pub async fn connect_with(server_url: &str, token: &str, options: ClientOptions) -> Result<Self> {
        let timeout = options.connect_timeout;
        let client = Self::new(server_url, token, options)?;
        match client.wait_connected(timeout).await {
            Ok(()) => Ok(client),
            Err(e) => {
                client.shutdown().await;
                Err(e)
            }
        }
    }

    /// Waits until the state is `Connected`; fails when it becomes `Denied` or
    /// the timeout passes first.
    pub async fn wait_connected(&self, timeout: Duration) -> Result<()> {
        let mut rx = self.shared.state.subscribe();
        let wait = rx.wait_for(|s| matches!(s, ConnectionState::Connected | ConnectionState::Denied));
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(s)) if *s == ConnectionState::Connected => Ok(()),
            Ok(Ok(_)) => Err(lock(&self.shared.denied)
                .clone()
                .unwrap_or(Error::Twilio(api::TwilioError::new(ErrorCode::TokenInvalid, "access token rejected")))),
            Ok(Err(_)) => Err(Error::Shutdown),
            Err(_) => Err(Error::Transport(format!("not connected after {timeout:?}"))),
        }
    }

    /// The identity this client acts as (from the token).
    pub fn identity(&self) -> &str {
        &self.shared.identity
    }

    /// The connection state now.
    pub fn connection_state(&self) -> ConnectionState {
        *self.shared.state.borrow()
    }

    /// A watch of the connection state: `changed().await`, then `borrow()`.
    pub fn connection_state_changes(&self) -> watch::Receiver<ConnectionState> {
        self.shared.state.subscribe()
    }

    /// A new subscription to every event from now on. Any number may exist.
    ///
    /// As in Twilio's SDK, the first sync fires `ConversationAdded` for every
    /// conversation the user is in; to receive those, subscribe between
    /// [`Client::new`] and [`Client::wait_connected`] (`connect` returns after them).
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Replaces the access token (e.g. on `TokenAboutToExpire`). REST calls use it
    /// at once; a client that was `Denied` reconnects with it.
    pub async fn update_token(&self, token: &str) -> Result<()> {
        let (identity, _) = token_claims(token)?;
        if identity != self.shared.identity {
            return Err(Error::InvalidArgument(format!(
                "token is for {identity}, this client is {}",
                self.shared.identity
            )));
        }
        self.shared.rest.set_token(token.to_owned());
        self.shared.token.send_replace(token.to_owned());
        Ok(())
    }

    /// The signed-in user.
    pub async fn user(&self) -> Result<User> {
        self.get_user(&self.shared.identity.clone()).await
    }

    /// A user by identity.
    pub async fn get_user(&self, identity: &str) -> Result<User> {
        let user = self.shared.rest.get_user(identity).await?;
        Ok(self.shared.apply_user(user))
    }

    /// A conversation by SID. Known conversations come from the cache, others
    /// from the server (which refuses ones the user may not see).
    pub async fn get_conversation_by_sid(&self, sid: &str) -> Result<Conversation> {
        if let Some(cell) = self.shared.cell(sid) {
            return Ok(self.shared.conversation(cell));
        }
        self.fetch_conversation(sid).await
    }

    /// A conversation by its unique name.
    pub async fn get_conversation_by_unique_name(&self, unique_name: &str) -> Result<Conversation> {
        let known = lock(&self.shared.convs)
            .values()
            .find(|c| c.data.read().unwrap_or_else(|e| e.into_inner()).conv.unique_name.as_deref() == Some(unique_name))
            .cloned();
        match known {
            Some(cell) => Ok(self.shared.conversation(cell)),
            None => self.fetch_conversation(unique_name).await,
        }
    }

    async fn fetch_conversation(&self, sid_or_name: &str) -> Result<Conversation> {
        let conv = self.shared.rest.get_conversation(sid_or_name).await?;
        let sid = conv.sid.clone();
        let user = match self.shared.rest.get_user_conversation(&self.shared.identity, &sid).await {
            Ok(u) => Some(u),
            Err(e) if matches!(e.status(), Some(403 | 404)) => None,
            Err(e) => return Err(e),
        };
        self.shared.apply(&sid, Some(conv), Some(user)).ok_or_else(|| Error::Decode("conversation vanished".into()))
    }

    /// The conversations the user participates in, a page at a time (50 per
    /// page, in the server's order).
    pub async fn get_subscribed_conversations(&self) -> Result<Paginator<Conversation>> {
        conversations_page(self.shared.clone(), None).await
    }

    /// Creates a conversation and joins it (the creator is its first
    /// participant), firing `ConversationAdded`.
    pub async fn create_conversation(
        &self,
        friendly_name: Option<&str>,
        unique_name: Option<&str>,
        attributes: Option<&Value>,
    ) -> Result<Conversation> {
        let params = ConversationParams {
            friendly_name: friendly_name.map(str::to_owned),
            unique_name: unique_name.map(str::to_owned),
            attributes: attributes.map(Value::to_string),
            ..Default::default()
        };
        let conv = self.shared.rest.create_conversation(&params).await?;
        let sid = conv.sid.clone();
        let handle =
            self.shared.apply(&sid, Some(conv), None).ok_or_else(|| Error::Decode("no conversation".into()))?;
        // The server makes a person their conversation's first participant; join
        // explicitly only where it did not (e.g. an older server).
        match self.shared.rest.get_user_conversation(&self.shared.identity, &sid).await {
            Ok(state) => {
                self.shared.apply(&sid, None, Some(Some(state)));
            }
            Err(e) if matches!(e.status(), Some(403 | 404)) => handle.join().await?,
            Err(e) => return Err(e),
        }
        Ok(handle)
    }

    /// Stops the stream task and closes the connection. Handles stay readable;
    /// calls on them still reach the server over REST.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let mut rx = self.shared.state.subscribe();
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            rx.wait_for(|s| matches!(s, ConnectionState::Disconnected | ConnectionState::Denied)),
        )
        .await;
    }
}

/// One page of the user's conversations, starting at `url` (or the first).
fn conversations_page(
    shared: Arc<Shared>,
    url: Option<String>,
) -> futures_util::future::BoxFuture<'static, Result<Paginator<Conversation>>> {
    Box::pin(async move {
        let page = shared.rest.conversations_page(url.as_deref(), 50).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for conv in page.items {
            let sid = conv.sid.clone();
            let user = match shared.cell(&sid).and_then(|c| c.data.read().ok().and_then(|d| d.user.clone())) {
                Some(u) => Some(u),
                None => shared.rest.get_user_conversation(&shared.identity, &sid).await.ok(),
            };
            if let Some(handle) = shared.apply(&sid, Some(conv), Some(user)) {
                items.push(handle);
            }
        }
        let next = page.meta.next_page_url.map(|u| {
            let shared = shared.clone();
            Box::new(move || conversations_page(shared.clone(), Some(u.clone()))) as super::paginator::Fetch<_>
        });
        let prev = page.meta.previous_page_url.map(|u| {
            let shared = shared.clone();
            Box::new(move || conversations_page(shared.clone(), Some(u.clone()))) as super::paginator::Fetch<_>
        });
        Ok(Paginator::new(items, prev, next))
    })
}
