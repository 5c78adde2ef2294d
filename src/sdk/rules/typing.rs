//! The typing throttle: at most one typing frame per conversation per Twilio's
//! typing timeout (5 s), however often the user (or the UI) says so.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::api::stream::TYPING_TIMEOUT_SECS;

/// How often a typing frame may be sent per conversation.
pub const TYPING_EVERY: Duration = Duration::from_secs(TYPING_TIMEOUT_SECS);

/// When a typing frame was last sent, per conversation.
#[derive(Debug, Default)]
pub struct TypingThrottle {
    sent: HashMap<String, Instant>,
}

impl TypingThrottle {
    /// Whether a typing frame for `conversation_sid` may go out at `now`; if
    /// so, it counts as sent.
    pub fn allow(&mut self, conversation_sid: &str, now: Instant) -> bool {
        if let Some(last) = self.sent.get(conversation_sid)
            && now.saturating_duration_since(*last) < TYPING_EVERY
        {
            return false;
        }
        self.sent.insert(conversation_sid.to_owned(), now);
        true
    }

    /// Our own message arrived: the server ended our typing with it, so the
    /// next keystroke may tell again at once.
    pub fn message_sent(&mut self, conversation_sid: &str) {
        self.sent.remove(conversation_sid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_frame_per_timeout_per_conversation() {
        let mut t = TypingThrottle::default();
        let now = Instant::now();
        assert!(t.allow("CH1", now));
        assert!(!t.allow("CH1", now + Duration::from_secs(4)));
        assert!(t.allow("CH2", now), "conversations are throttled apart");
        assert!(t.allow("CH1", now + TYPING_EVERY));
        t.message_sent("CH1");
        assert!(t.allow("CH1", now + TYPING_EVERY), "a sent message ends the typing");
    }
}
