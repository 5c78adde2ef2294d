//! The SDK's one error type. A server refusal keeps Twilio's error body (code,
//! message, status) so callers can match on codes; transport failures are kept
//! apart because they are the ones worth retrying after a reconnect.

use crate::api::{ErrorCode, TwilioError};

/// Anything an SDK call can fail with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The server answered with a Twilio error body (e.g. 403 / 50430, 404 / 20404).
    #[error("{0}")]
    Twilio(TwilioError),
    /// The server could not be reached, or the connection broke mid-request.
    #[error("transport: {0}")]
    Transport(String),
    /// The server's answer was not what the wire format promises.
    #[error("unexpected reply: {0}")]
    Decode(String),
    /// An argument was rejected before anything was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// `Paginator::next_page` on the last page.
    #[error("No next page")]
    NoNextPage,
    /// `Paginator::prev_page` on the first page.
    #[error("No previous page")]
    NoPreviousPage,
    /// The client was shut down.
    #[error("client is shut down")]
    Shutdown,
    /// The operation needs a live connection, and there is none.
    #[error("not connected")]
    NotConnected,
}

/// `Result` with the SDK's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The Twilio error code, when the server sent one.
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::Twilio(e) => Some(e.code),
            _ => None,
        }
    }

    /// The HTTP status, when the server sent one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Twilio(e) => Some(e.status),
            _ => None,
        }
    }

    /// Whether the failure was the network's (worth retrying after a reconnect)
    /// rather than the server refusing the request.
    pub fn is_transport(&self) -> bool {
        match self {
            Self::Transport(_) | Self::NotConnected => true,
            // 5xx means the server is going away or overloaded: retry later.
            Self::Twilio(e) => e.status >= 500,
            _ => false,
        }
    }

    /// Whether the server refused a media as over its size limit (413 / 21617,
    /// Twilio's 150 MB for chat by default).
    pub fn is_too_large(&self) -> bool {
        matches!(self, Self::Twilio(e) if e.status == 413 || e.code == ErrorCode::PayloadTooLarge.code())
    }

    /// Whether the server refused the access token (401): reconnecting won't
    /// help until the token is replaced.
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Twilio(e) if e.status == 401)
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        if e.is_decode() { Self::Decode(e.to_string()) } else { Self::Transport(e.to_string()) }
    }
}
