//! The SDK: Twilio's Conversations client API in async Rust (`Client`,
//! `Conversation`, `Message`, `Participant`, `User`, `Paginator`, `Event`) over
//! REST v1 and `/v1/Stream`, and the background sync task (`sync::spawn`) that
//! feeds a UI with diffs of its model.
//!
//! Two ways in:
//! - [`Client::connect`] for programs (bots, integrations): call methods, read
//!   [`Event`]s from [`Client::events`]. See `examples/echo_bot.rs`, which runs
//!   against `convo-tui serve` with a token from `convo-tui token --identity NAME`.
//! - [`sync::spawn`] for a UI: send [`Command`]s, apply [`Diff`]s in order; the
//!   task reconnects, resyncs and retries sends on its own.
//!
//! Shape: `transport` (reqwest + tokio-tungstenite, Twilio errors, 429
//! back-off) and `endpoints` (one typed call per REST endpoint) are shared by
//! both ways in. The `Client` keeps a cache (`cache`) that its stream task
//! (`live`) and every REST reply update through one compare-then-fire rule, so
//! each change fires one event whichever source reports it first; events older
//! than a write of ours are held back until its echo (`echo`). The sync task
//! (`sync/`) owns its own model and connection, since a UI wants diffs of a
//! model rather than events about objects.
//!
//! Semantics follow Twilio's JS SDK (see `twilio.md` §4): `get_messages` pages
//! are ascending with `prev_page` going older; the read horizon never moves back
//! through `advance_last_read_message_index`; the unread count is `None` until
//! a horizon is set; `typing` sends at most once per 5 s.

mod backoff;
mod cache;
pub mod client;
pub mod conversation;
mod echo;
mod endpoints;
pub mod error;
pub mod events;
mod history;
mod live;
pub mod message;
pub mod message_builder;
pub mod paginator;
pub mod participant;
pub mod sync;
pub mod sync_protocol;
pub mod transport;
pub mod user;

pub use client::{Client, ClientOptions};
pub use conversation::{Conversation, ConversationStatus, Direction, LastMessage};
pub use error::{Error, Result};
pub use events::{ConversationUpdateReason, Event, MessageUpdateReason, ParticipantUpdateReason, UserUpdateReason};
pub use message::Message;
pub use message_builder::{MessageBuilder, UnsentMessage};
pub use paginator::Paginator;
pub use participant::Participant;
pub use sync_protocol::{Command, ConnectionState, ConversationEntry, Diff, SyncConfig, SyncHandle};
pub use user::User;
