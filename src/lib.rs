//! convo-tui: a keyboard-driven terminal chat client (`tui`), the server it
//! talks to, speaking Twilio Conversations REST v1 plus a WebSocket event stream
//! (`server`), and the SDK between them (`sdk`). `api` is the wire format they
//! share. Dependency rule: `api` imports nothing of ours; `server` and `sdk`
//! import only `api` and `config`; `tui` reaches the network only through `sdk`.

#![forbid(unsafe_code)]
// No network input may reach a panic: no unwrap outside tests (clippy.toml
// allows them there); each `expect` left says which invariant it guards.
#![deny(clippy::unwrap_used)]

pub mod api;
pub mod bench;
pub mod config;
pub mod sdk;
pub mod server;
pub mod tui;
