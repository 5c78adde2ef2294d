//! The wire format shared by the server and the SDK: Twilio Conversations REST v1
//! resources, form parameters, the paging envelope, the error body, SIDs, dates,
//! access tokens and the frames of our `/v1/Stream`. Pure data and parsers: no I/O.
//!
//! The contract is `../shared/reference/twilio_conversations_v1.json`; every
//! field here is named and typed as Twilio's spec has it, and the few fields that
//! are ours (marked "extension") are additions that Twilio's clients ignore.

pub mod error;
pub mod page;
pub mod params;
pub mod resources;
pub mod search;
pub mod sid;
pub mod stream;
pub mod time;
pub mod token;

pub use error::{ErrorCode, TwilioError};
pub use page::{Page, PageMeta, PageToken};
pub use resources::*;
