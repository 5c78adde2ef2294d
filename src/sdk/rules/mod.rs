//! One rule each, shared by both front ends: reconnect back-off (`backoff`),
//! the read horizon that never moves back (`horizon`), the typing throttle at
//! Twilio's 5 s timeout (`typing`), token expiry and renewal (`token`), and the
//! rich-message conventions: replies, reactions, read by (`rich`), and the
//! spacing of upload-progress reports (`progress`).

pub mod backoff;
pub mod horizon;
pub mod progress;
pub mod rich;
pub mod token;
pub mod typing;
