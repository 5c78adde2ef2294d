//! Checks on input values, with Twilio's codes and the limits of twilio.md §2.
//! Names are limited in characters, attribute and body sizes in bytes (Twilio
//! says "KB" without saying which; bytes is the stricter reading).

use crate::api::error::ErrorCode;
use crate::api::sid::{is_sid, prefix};
use crate::api::time::parse_unix;
use crate::server::error::{ApiError, ApiResult};

pub const NAME_CHARS: usize = 256;
pub const CONVERSATION_ATTRIBUTES_BYTES: usize = 16 * 1024;
pub const MESSAGE_ATTRIBUTES_BYTES: usize = 4 * 1024;
pub const PARTICIPANT_ATTRIBUTES_BYTES: usize = 4 * 1024;
pub const USER_ATTRIBUTES_BYTES: usize = 16 * 1024;
pub const MESSAGE_BODY_BYTES: usize = 32 * 1024;
pub const MAX_PARTICIPANTS: i64 = 1000;
pub const MAX_NON_CHAT_PARTICIPANTS: i64 = 50;

/// `attributes` must be JSON text within `max` bytes.
pub fn attributes(param: &str, value: &str, max: usize) -> ApiResult<String> {
    if value.len() > max {
        return Err(ApiError::invalid(param, format!("is {} bytes, more than the limit of {max}", value.len())));
    }
    // Parsed into a Value, not skipped with IgnoredAny: that also enforces
    // serde_json's nesting limit (128), so every client can parse what we store.
    if serde_json::from_str::<serde_json::Value>(value).is_err() {
        return Err(ApiError::invalid(param, "must be valid JSON, nested at most 128 deep"));
    }
    Ok(value.to_owned())
}

/// A free-text name of at most 256 characters.
pub fn name(param: &str, value: &str) -> ApiResult<String> {
    if value.chars().count() > NAME_CHARS {
        return Err(ApiError::invalid(param, format!("is longer than {NAME_CHARS} characters")));
    }
    Ok(value.to_owned())
}

/// A conversation unique name: a name that does not look like a CH SID.
/// Empty means "none".
pub fn unique_name(value: &str) -> ApiResult<Option<String>> {
    if value.is_empty() {
        return Ok(None);
    }
    if is_sid(prefix::CONVERSATION, value) {
        return Err(ApiError::new(ErrorCode::UniqueNameLooksLikeSid, "Unique name cannot be a Conversation SID"));
    }
    name("UniqueName", value).map(Some)
}

/// A chat identity: non-empty, at most 256 characters, not shaped like a US SID.
pub fn identity(value: &str) -> ApiResult<String> {
    if value.is_empty() {
        return Err(ApiError::invalid("Identity", "must not be empty"));
    }
    if is_sid(prefix::USER, value) {
        return Err(ApiError::new(ErrorCode::IdentityLooksLikeSid, "Identity cannot be a User SID"));
    }
    name("Identity", value)
}

/// An ISO-8601 date parameter.
pub fn date(param: &str, value: &str) -> ApiResult<i64> {
    parse_unix(value).ok_or_else(|| ApiError::invalid(param, "must be an ISO-8601 date such as 2015-12-16T22:18:37Z"))
}

/// An ISO-8601 duration (`PT5M`, `P1DT2H`, `P2W`) in seconds.
pub fn duration(param: &str, value: &str) -> ApiResult<i64> {
    let bad = || ApiError::invalid(param, "must be an ISO-8601 duration such as PT10M");
    let rest = value.strip_prefix('P').ok_or_else(bad)?;
    let (mut secs, mut in_time, mut number, mut any) = (0i64, false, String::new(), false);
    for ch in rest.chars() {
        match ch {
            'T' if !in_time && number.is_empty() => in_time = true,
            '0'..='9' => number.push(ch),
            unit => {
                let n: i64 = number.parse().map_err(|_| bad())?;
                number.clear();
                let factor = match (in_time, unit) {
                    (false, 'W') => 7 * 86_400,
                    (false, 'D') => 86_400,
                    (true, 'H') => 3600,
                    (true, 'M') => 60,
                    (true, 'S') => 1,
                    _ => return Err(bad()),
                };
                secs = n.checked_mul(factor).and_then(|v| v.checked_add(secs)).ok_or_else(bad)?;
                any = true;
            }
        }
    }
    if !number.is_empty() || !any {
        return Err(bad());
    }
    Ok(secs)
}

/// `Timers.Inactive` (or a default inactive timer): a duration of at least 1 minute, in seconds.
pub fn inactive_timer(param: &str, value: &str) -> ApiResult<i64> {
    let secs = duration(param, value)?;
    if secs < 60 {
        return Err(ApiError::invalid(param, "must be at least 1 minute"));
    }
    Ok(secs)
}

/// `Timers.Closed` (or a default closed timer): a duration of at least 10 minutes, in seconds.
pub fn closed_timer(param: &str, value: &str) -> ApiResult<i64> {
    let secs = duration(param, value)?;
    if secs < 600 {
        return Err(ApiError::invalid(param, "must be at least 10 minutes"));
    }
    Ok(secs)
}

/// A read horizon: an integer ≥ 0, or empty to clear it (→ `None`).
pub fn read_index(param: &str, value: &str) -> ApiResult<Option<i64>> {
    if value.is_empty() || value == "null" {
        return Ok(None);
    }
    match value.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(Some(n)),
        _ => Err(ApiError::invalid(param, "must be a non-negative integer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_to_seconds() {
        assert_eq!(duration("T", "PT10M").unwrap(), 600);
        assert_eq!(duration("T", "P1DT1H").unwrap(), 90_000);
        assert_eq!(duration("T", "P2W").unwrap(), 1_209_600);
        for bad in ["", "P", "PT", "10M", "PT5X", "P5M5"] {
            assert!(duration("T", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_and_identities_refuse_sid_shapes() {
        assert_eq!(unique_name("CH0123456789abcdef0123456789abcdef").unwrap_err().code(), 50390);
        assert_eq!(identity("US0123456789abcdef0123456789abcdef").unwrap_err().code(), 50206);
        assert_eq!(identity(&"x".repeat(257)).unwrap_err().code(), 20001);
        assert_eq!(attributes("Attributes", "{nope", 10).unwrap_err().code(), 20001);
        assert_eq!(attributes("Attributes", "{}", 16).unwrap(), "{}");
    }
}
