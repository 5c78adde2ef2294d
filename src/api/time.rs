//! Dates on the wire: ISO-8601 UTC to the second, `2015-12-16T22:18:37Z`, the
//! only form twilio-python parses (it hands back the raw string otherwise).

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

const WIRE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// Formats a Unix timestamp (seconds) the way Twilio does.
pub fn format_unix(secs: i64) -> String {
    let dt = OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    dt.format(WIRE).unwrap_or_default()
}

/// Parses a wire date (or any RFC 3339 date) into Unix seconds.
pub fn parse_unix(s: &str) -> Option<i64> {
    if let Ok(dt) = PrimitiveDateTime::parse(s, WIRE) {
        return Some(dt.assume_offset(UtcOffset::UTC).unix_timestamp());
    }
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok().map(|dt| dt.unix_timestamp())
}

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_twilio_form() {
        assert_eq!(format_unix(1_450_304_317), "2015-12-16T22:18:37Z");
        assert_eq!(parse_unix("2015-12-16T22:18:37Z"), Some(1_450_304_317));
        assert_eq!(parse_unix("2015-12-16T23:18:37+01:00"), Some(1_450_304_317));
        assert_eq!(parse_unix("yesterday"), None);
    }
}
