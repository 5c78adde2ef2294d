//! A committed write batch on its way from the writer to the publisher (the
//! SQLite publisher thread or the PostgreSQL event-log follower).

use crate::server::hub::Effect;

/// Answers one caller.
pub type Answer = Box<dyn FnOnce() + Send>;

/// A committed batch: its log position (PostgreSQL, when it had effects),
/// effects to apply, then the answers to send, in that order.
#[derive(Default)]
pub struct Committed {
    pub position: Option<i64>,
    pub effects: Vec<Effect>,
    pub answers: Vec<Answer>,
}
