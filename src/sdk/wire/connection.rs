//! The state of the link to the server, as both front ends report it (the
//! `Client`'s watch and events, the sync task's `Diff::Connection`).

/// The state of the connection to the server, as the client SDK reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ConnectionState {
    #[default]
    Connecting,
    Connected,
    Disconnected,
    /// The server rejected the token; no reconnect will help until it changes.
    Denied,
}
