//! The SDK: one engine in layers, with two front ends. Twilio's Conversations
//! client API in async Rust for programs, and a sync task for a UI.
//!
//! Layers, each importing only those below it:
//! - [`wire`]: `transport` (reqwest + tokio-tungstenite, Twilio errors, 429
//!   back-off), `endpoints` (one typed call per REST endpoint), `media`
//!   (streamed media uploads and downloads, reactions), `frames` (stream
//!   frames decoded), `connection` (`ConnectionState`).
//! - [`rules`]: one rule each: `backoff` (reconnects), `horizon` (the read
//!   horizon never moves back), `typing` (at most one frame per 5 s), `token`
//!   (claims, expiry warning and expiry), `rich` (replies, reactions, media
//!   descriptors, read by), `progress` (upload reports, ~10 a second).
//! - [`state`]: `model` (what the person can see; messages in `window`,
//!   participants in `roster`) with one compare-then-apply rule that reports
//!   each real `change` once, and `echo` (events older than our own write are
//!   held back until its echo).
//! - [`engine`]: the connection (stream first, then resync over REST), frame
//!   dispatch into the model, reconnects, silence, token expiry; a front end
//!   drives it with `Engine::step` and renders its changes through a `Sink`.
//! - Front ends: [`handles`] (`Client`, `Conversation`, `Message`,
//!   `Media`, `Participant`, `User`, `Paginator` and typed [`Event`]s, for bots and
//!   integrations; see `examples/echo_bot.rs`) and [`sync`] (`sync::spawn`:
//!   send [`Command`]s, apply [`Diff`]s in order; what the TUI runs on). Both
//!   run the same engine, model and rules; the model's `Scope` says what each keeps.
//!
//! Semantics follow Twilio's JS SDK (see `twilio.md` §4): `get_messages` pages
//! are ascending with `prev_page` going older; the read horizon never moves back
//! through `advance_last_read_message_index`; the unread count is `None` until
//! a horizon is set; `typing` sends at most once per 5 s.

pub mod engine;
pub mod error;
pub mod handles;
pub mod rules;
pub mod state;
pub mod sync;
pub mod wire;

pub use error::{Error, Result};
pub use handles::client::{Client, ClientOptions};
pub use handles::conversation::{Conversation, ConversationStatus, Direction, LastMessage};
pub use handles::events::{
    ConversationUpdateReason, Event, MessageUpdateReason, ParticipantUpdateReason, UserUpdateReason,
};
pub use handles::media::{Media, MediaContent, UploadProgress};
pub use handles::message::Message;
pub use handles::message_builder::{MessageBuilder, UnsentMessage};
pub use handles::paginator::Paginator;
pub use handles::participant::Participant;
pub use handles::search::SearchOptions;
pub use handles::user::User;
pub use state::change::ConversationEntry;
pub use sync::protocol::{Command, Diff, SyncConfig, SyncHandle};
pub use wire::connection::ConnectionState;
