//! The state layer: one model of what the person can see (`model`, with its
//! message windows in `window` and rosters in `roster`), the changes it reports
//! (`change`), and the echo rule for our own writes (`echo`). Every source of
//! news, a REST reply, a stream frame or a resync, goes through the same
//! compare-then-apply functions, so each real change is reported once.

pub mod change;
pub mod echo;
pub mod model;
pub mod roster;
pub mod window;
