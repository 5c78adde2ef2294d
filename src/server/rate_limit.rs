//! Rate limits for people (access-token callers): at most N actions per second
//! per identity and conversation (Twilio documents 30), as a GCRA bucket from
//! `governor`; over it, 429 with code 20429 and `Retry-After`. Only actions
//! (writes) count: Twilio limits creates, updates and deletes, and reads
//! (GET, HEAD) stay free so a client re-reading history after a reconnect is
//! not slowed. Admin callers (account or API key) are never limited here.

use std::num::NonZeroU32;

use axum::http::Method;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::api::error::ErrorCode;
use crate::server::error::ApiError;

/// Twilio's documented limit for Conversations actions per identity and conversation.
pub const DEFAULT_PER_SECOND: u32 = 30;

/// Keys seen before the limiter forgets idle ones (they refill to full anyway).
const SWEEP_AT: usize = 100_000;

/// The limiter; `None` inside when limits are off.
pub struct RateLimit(Option<DefaultKeyedRateLimiter<(String, String)>>);

impl RateLimit {
    /// `per_second` actions per identity and conversation; 0 turns limits off.
    /// The bucket holds one second's worth, so a burst of N passes at once.
    pub fn new(per_second: u32) -> Self {
        Self(NonZeroU32::new(per_second).map(|n| DefaultKeyedRateLimiter::dashmap(Quota::per_second(n))))
    }

    /// Counts one request by `identity` on `path` if it is an action (any
    /// method but GET and HEAD); refuses it when over the limit. Reads pass
    /// uncounted. The conversation is the path segment after `Conversations/`
    /// (any spelling: SID or unique name), or none.
    pub fn check(&self, identity: &str, method: &Method, path: &str) -> Result<(), ApiError> {
        let Some(limiter) = &self.0 else { return Ok(()) };
        if !is_action(method) {
            return Ok(());
        }
        if limiter.len() > SWEEP_AT {
            limiter.retain_recent();
        }
        let key = (identity.to_owned(), conversation_of(path).to_owned());
        limiter.check_key(&key).map_err(|_| {
            ApiError::new(
                ErrorCode::TooManyRequests,
                "Too many requests: the rate limit for this conversation is exceeded",
            )
        })
    }
}

/// Whether a request changes something, and so counts against the limit.
fn is_action(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD)
}

/// The conversation segment of a REST path, or "" for paths outside one.
fn conversation_of(path: &str) -> &str {
    let mut segments = path.split('/');
    while let Some(s) = segments.next() {
        if s == "Conversations" {
            return segments.next().unwrap_or("");
        }
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_over_the_limit_is_refused_with_20429_per_conversation() {
        let limit = RateLimit::new(3);
        for _ in 0..3 {
            limit.check("alice", &Method::POST, "/v1/Conversations/CH1/Messages").unwrap();
        }
        let refused = limit.check("alice", &Method::POST, "/v1/Conversations/CH1/Messages").unwrap_err();
        assert_eq!((refused.0.code, refused.0.status), (20429, 429));
        // Another conversation, or another person, has a bucket of its own.
        limit.check("alice", &Method::POST, "/v1/Services/IS1/Conversations/CH2/Participants").unwrap();
        limit.check("bob", &Method::DELETE, "/v1/Conversations/CH1/Messages").unwrap();
    }

    #[test]
    fn reads_are_never_limited_while_writes_over_the_limit_are() {
        let limit = RateLimit::new(3);
        let path = "/v1/Conversations/CH1/Messages";
        for _ in 0..100 {
            limit.check("alice", &Method::GET, path).unwrap();
            limit.check("alice", &Method::HEAD, path).unwrap();
        }
        // The reads spent nothing: the whole bucket is still there for writes.
        for _ in 0..3 {
            limit.check("alice", &Method::POST, path).unwrap();
        }
        let refused = limit.check("alice", &Method::DELETE, &format!("{path}/IM1")).unwrap_err();
        assert_eq!((refused.0.code, refused.0.status), (20429, 429));
        limit.check("alice", &Method::GET, path).unwrap();
    }

    #[test]
    fn zero_turns_limits_off() {
        let limit = RateLimit::new(0);
        for _ in 0..1000 {
            limit.check("alice", &Method::POST, "/v1/Conversations/CH1/Messages").unwrap();
        }
    }

    #[test]
    fn the_conversation_is_read_from_the_path() {
        assert_eq!(conversation_of("/v1/Conversations/CH1/Messages/IM2"), "CH1");
        assert_eq!(conversation_of("/v1/Users/US1/Conversations/general"), "general");
        assert_eq!(conversation_of("/v1/Conversations"), "");
        assert_eq!(conversation_of("/v1/ParticipantConversations"), "");
    }
}
