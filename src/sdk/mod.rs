//! The SDK: Twilio's Conversations client API in async Rust, and the background
//! sync task that feeds a UI with diffs.

pub mod sync_protocol;

pub use sync_protocol::{Command, ConnectionState, ConversationEntry, Diff, SyncConfig, SyncHandle};
