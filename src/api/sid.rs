//! Twilio SIDs: two upper-case letters and 32 lower-case hex digits
//! (`CH0123…`). New SIDs come from a v4 UUID, which is exactly 32 hex digits.

/// The SID prefixes this project issues or checks.
pub mod prefix {
    pub const ACCOUNT: &str = "AC";
    pub const API_KEY: &str = "SK";
    pub const SERVICE: &str = "IS";
    pub const CONVERSATION: &str = "CH";
    pub const MESSAGE: &str = "IM";
    pub const PARTICIPANT: &str = "MB";
    pub const USER: &str = "US";
    pub const ROLE: &str = "RL";
    pub const MEDIA: &str = "ME";
}

/// A fresh random SID with the given two-letter prefix.
pub fn new_sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// Whether `s` has the shape of a SID with this prefix (`^XX[0-9a-fA-F]{32}$`).
pub fn is_sid(prefix: &str, s: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `s` looks like any SID at all (two upper-case letters and 32 hex digits).
pub fn is_any_sid(s: &str) -> bool {
    s.len() == 34
        && s.as_bytes()[..2].iter().all(u8::is_ascii_uppercase)
        && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_sids_have_twilio_shape() {
        let sid = new_sid(prefix::CONVERSATION);
        assert!(is_sid(prefix::CONVERSATION, &sid), "{sid}");
        assert!(!is_sid(prefix::MESSAGE, &sid));
        assert_ne!(sid, new_sid(prefix::CONVERSATION));
    }

    #[test]
    fn names_are_not_sids() {
        assert!(!is_sid("CH", "general"));
        assert!(!is_sid("CH", "CH0123456789abcdef0123456789abcdeg"));
        assert!(is_any_sid("US0123456789abcdef0123456789ABCDEF"));
    }
}
