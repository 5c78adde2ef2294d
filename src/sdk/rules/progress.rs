//! The upload-progress rule both front ends report by: at most one report per
//! `PROGRESS_EVERY` while bytes move, and always the last one (`sent == total`).

use std::time::{Duration, Instant};

/// The shortest gap between two reports of one upload (~10 per second).
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Whether a progress report is due, for one upload.
#[derive(Debug, Default)]
pub struct ProgressThrottle {
    last: Option<Instant>,
}

impl ProgressThrottle {
    /// Whether to report `sent` of `total` at `now`: the first report, the
    /// last (`sent == total`), and otherwise once per `PROGRESS_EVERY`.
    pub fn allow(&mut self, now: Instant, sent: u64, total: Option<u64>) -> bool {
        let due = total == Some(sent) || self.last.is_none_or(|at| now.duration_since(at) >= PROGRESS_EVERY);
        if due {
            self.last = Some(now);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_spaced_but_the_first_and_last_always_go() {
        let mut t = ProgressThrottle::default();
        let t0 = Instant::now();
        assert!(t.allow(t0, 1, Some(10)));
        assert!(!t.allow(t0 + Duration::from_millis(50), 2, Some(10)));
        assert!(t.allow(t0 + Duration::from_millis(100), 3, Some(10)));
        assert!(!t.allow(t0 + Duration::from_millis(120), 4, None));
        assert!(t.allow(t0 + Duration::from_millis(121), 10, Some(10)));
    }
}
