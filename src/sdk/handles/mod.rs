//! The handles front end: Twilio's Conversations client API as handles
//! (`Client`, `Conversation`, `Message`, `Media`, `Participant`, `User`, `Paginator`)
//! over the engine's model, with typed `Event`s rendered from its changes.
//! `shared` is what every handle holds; `events` renders changes as events.

pub mod client;
pub mod conversation;
pub mod events;
pub mod history;
pub mod media;
pub mod message;
pub mod message_builder;
pub mod paginator;
pub mod participant;
pub mod search;
pub(crate) mod shared;
pub mod user;
