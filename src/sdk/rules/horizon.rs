//! The read horizon moves forward only: `advance` says where an "advance to
//! index" request takes it, for the `Conversation` API and the sync task alike.

/// Where advancing the horizon from `current` to `requested` lands, or `None`
/// when it would not move forward (a lower or equal index is never applied).
/// As in Twilio's SDK, a negative index on an unset horizon sets it to 0.
pub fn advance(current: Option<i64>, requested: i64) -> Option<i64> {
    let target = requested.max(0);
    match current {
        Some(c) if target <= c => None,
        _ => Some(target),
    }
}

#[cfg(test)]
mod tests {
    use super::advance;

    #[test]
    fn the_horizon_moves_forward_only() {
        assert_eq!(advance(None, 3), Some(3));
        assert_eq!(advance(Some(3), 5), Some(5));
        assert_eq!(advance(Some(5), 4), None, "never back");
        assert_eq!(advance(Some(5), 5), None, "not moved");
    }

    #[test]
    fn a_negative_index_sets_an_unset_horizon_to_zero() {
        assert_eq!(advance(None, -4), Some(0));
        assert_eq!(advance(Some(0), -4), None);
    }
}
