//! `Client`: the entry point of the SDK, Twilio's `Client` in Rust. It runs
//! the engine (connection, model, resync) in a background task with a model
//! scoped as a cache, and hands out handles on that model and the broadcast
//! of typed `Event`s rendered from its changes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{broadcast, mpsc, watch};

use super::conversation::Conversation;
use super::events::{Event, EventSink};
use super::paginator::{Fetch, Paginator};
use super::shared::{Control, Shared};
use super::user::User;
use crate::api::params::ConversationParams;
use crate::api::{self, ErrorCode};
use crate::sdk::engine::{Engine, EngineConfig, Link, Step};
use crate::sdk::error::{Error, Result};
use crate::sdk::rules::token::{same_identity, token_claims};
use crate::sdk::state::model::{Model, Scope};
use crate::sdk::wire::connection::ConnectionState;
use crate::sdk::wire::transport::Rest;

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
    /// Read by the calls defined beside this file (`search.rs`).
    pub(super) shared: Arc<Shared>,
    events: Arc<broadcast::Sender<Event>>,
    /// Dropping the last `Client` (or `shutdown`) stops the engine task.
    control: mpsc::UnboundedSender<Control>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("identity", &self.shared.identity)
            .field("state", &self.connection_state())
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
        let (control, control_rx) = mpsc::unbounded_channel();
        let model = Arc::new(Mutex::new(Model::new(identity.clone(), Scope::Cache)));
        let link = Link::new();
        let shared = Arc::new_cyclic(|me| Shared {
            rest: rest.clone(),
            identity: identity.clone(),
            model: model.clone(),
            link: link.clone(),
            control: control.downgrade(),
            sink: Arc::new(EventSink { shared: me.clone(), events: Arc::downgrade(&events) }),
        });
        let engine = Engine::new(EngineConfig {
            rest,
            identity,
            model,
            link,
            sink: shared.sink.clone(),
            token_warning: options.token_warning,
            page_size: super::history::DEFAULT_PAGE_SIZE,
        });
        // The task holds the shared state (events render handles on it) and
        // the broadcast until it ends.
        tokio::spawn(run(engine, control_rx, shared.clone(), events.clone()));
        Ok(Self { shared, events, control })
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
        let mut rx = self.shared.link.state.subscribe();
        let wait = rx.wait_for(|s| matches!(s, ConnectionState::Connected | ConnectionState::Denied));
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(s)) if *s == ConnectionState::Connected => Ok(()),
            Ok(Ok(_)) => Err(self
                .shared
                .link
                .denied()
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
        self.shared.link.state()
    }

    /// A watch of the connection state: `changed().await`, then `borrow()`.
    pub fn connection_state_changes(&self) -> watch::Receiver<ConnectionState> {
        self.shared.link.state.subscribe()
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
        same_identity(token, &self.shared.identity)?;
        self.shared.rest.set_token(token.to_owned());
        match self.shared.control(Control::UpdateToken(token.to_owned())) {
            true => Ok(()),
            false => Err(Error::Shutdown),
        }
    }

    /// The signed-in user.
    pub async fn user(&self) -> Result<User> {
        self.get_user(&self.shared.identity.clone()).await
    }

    /// A user by identity.
    pub async fn get_user(&self, identity: &str) -> Result<User> {
        let user = self.shared.rest.get_user(identity).await?;
        self.shared.apply(|m| m.apply_user(user.clone())).await;
        Ok(User::new(self.shared.clone(), user))
    }

    /// A conversation by SID. Known conversations come from the cache, others
    /// from the server (which refuses ones the user may not see).
    pub async fn get_conversation_by_sid(&self, sid: &str) -> Result<Conversation> {
        conversation_handle(&self.shared, sid).await
    }

    /// A conversation by its unique name.
    pub async fn get_conversation_by_unique_name(&self, unique_name: &str) -> Result<Conversation> {
        let known = self
            .shared
            .model()
            .convs()
            .find(|(_, c)| c.entry.conversation.unique_name.as_deref() == Some(unique_name))
            .map(|(_, c)| c.entry.clone());
        match known {
            Some(entry) => Ok(Conversation::new(self.shared.clone(), entry)),
            None => self.fetch_conversation(unique_name).await,
        }
    }

    async fn fetch_conversation(&self, sid_or_name: &str) -> Result<Conversation> {
        fetch_conversation(&self.shared, sid_or_name).await
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
        let handle = known_conversation(&self.shared, conv, None).await;
        // The server makes a person their conversation's first participant; join
        // explicitly only where it did not (e.g. an older server).
        match self.shared.rest.get_user_conversation(&self.shared.identity, &sid).await {
            Ok(state) => self.shared.apply(|m| m.upsert_conversation(&sid, None, Some(Some(state)))).await,
            Err(e) if matches!(e.status(), Some(403 | 404)) => handle.join().await?,
            Err(e) => return Err(e),
        }
        Ok(handle)
    }

    /// Stops the stream task and closes the connection. Handles stay readable;
    /// calls on them still reach the server over REST.
    pub async fn shutdown(&self) {
        let _ = self.control.send(Control::Shutdown);
        let mut rx = self.shared.link.state.subscribe();
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            rx.wait_for(|s| matches!(s, ConnectionState::Disconnected | ConnectionState::Denied)),
        )
        .await;
    }
}

/// Runs the engine until the client shuts down (or every `Client` clone is dropped).
async fn run(
    mut engine: Engine,
    mut control: mpsc::UnboundedReceiver<Control>,
    _shared: Arc<Shared>,
    _events: Arc<broadcast::Sender<Event>>,
) {
    loop {
        match engine.step(&mut control, None).await {
            Step::Command(None | Some(Control::Shutdown)) => break,
            Step::Command(Some(Control::Typing(sid))) => {
                if let Err(e) = engine.typing(sid).await {
                    tracing::debug!(%e, "typing frame not sent");
                }
            }
            Step::Command(Some(Control::UpdateToken(token))) => {
                if let Err(e) = engine.update_token(token) {
                    tracing::warn!(%e, "token refused");
                }
            }
            Step::Connected | Step::Timer => {}
        }
    }
    engine.shut_down().await;
}

/// A conversation's handle: from the cache when known, else read from the server.
pub(super) async fn conversation_handle(shared: &Arc<Shared>, sid: &str) -> Result<Conversation> {
    let known = shared.model().conv(sid).map(|c| c.entry.clone());
    match known {
        Some(entry) => Ok(Conversation::new(shared.clone(), entry)),
        None => fetch_conversation(shared, sid).await,
    }
}

async fn fetch_conversation(shared: &Arc<Shared>, sid_or_name: &str) -> Result<Conversation> {
    let conv = shared.rest.get_conversation(sid_or_name).await?;
    let sid = conv.sid.clone();
    let user = match shared.rest.get_user_conversation(&shared.identity, &sid).await {
        Ok(u) => Some(u),
        Err(e) if matches!(e.status(), Some(403 | 404)) => None,
        Err(e) => return Err(e),
    };
    Ok(known_conversation(shared, conv, Some(user)).await)
}

/// Applies a conversation read over REST (with the user's state in it, when
/// read too) and returns its handle.
async fn known_conversation(
    shared: &Arc<Shared>,
    conv: api::Conversation,
    user: Option<Option<api::UserConversation>>,
) -> Conversation {
    let sid = conv.sid.clone();
    let fallback =
        crate::sdk::state::change::ConversationEntry { conversation: conv.clone(), user_state: user.clone().flatten() };
    shared.apply(|m| m.upsert_conversation(&sid, Some(conv), user)).await;
    let entry = shared.model().conv(&sid).map(|c| c.entry.clone()).unwrap_or(fallback);
    Conversation::new(shared.clone(), entry)
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
            let held = shared.model().conv(&sid).and_then(|c| c.entry.user_state.clone());
            let user = match held {
                Some(u) => Some(u),
                None => shared.rest.get_user_conversation(&shared.identity, &sid).await.ok(),
            };
            items.push(known_conversation(&shared, conv, Some(user)).await);
        }
        let next = page.meta.next_page_url.map(|u| {
            let shared = shared.clone();
            Box::new(move || conversations_page(shared.clone(), Some(u.clone()))) as Fetch<_>
        });
        let prev = page.meta.previous_page_url.map(|u| {
            let shared = shared.clone();
            Box::new(move || conversations_page(shared.clone(), Some(u.clone()))) as Fetch<_>
        });
        Ok(Paginator::new(items, prev, next))
    })
}
