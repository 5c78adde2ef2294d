//! Operations: one function per write (conversation, message, user and role
//! create, update, delete; configuration updates), called by the routes once the input is parsed and validated.
//!
//! Each operation is the one place where "caller X is about to do Y with these
//! params" is known before the store is touched (where pre-event hooks go);
//! inside its write transaction it looks up, asks `rules`, changes the store
//! and returns the row with the events to publish once committed. Participant
//! operations live in `membership`.

pub mod configuration;
pub mod conversations;
pub mod media;
pub mod messages;
pub mod reactions;
pub mod roles;
pub mod users;
