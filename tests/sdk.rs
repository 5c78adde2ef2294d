//! Integration tests of the SDK (`convo_tui::sdk`) against a real server started
//! in-process on 127.0.0.1 with its SQLite file in a temp dir: the Client API
//! and its Twilio semantics, events between two clients, and the sync task
//! (including reconnects across a server restart and a slow consumer).

#[path = "sdk/common.rs"]
mod common;

#[path = "sdk/client.rs"]
mod client;
#[path = "sdk/conversation.rs"]
mod conversation;
#[path = "sdk/events.rs"]
mod events;
#[path = "sdk/media.rs"]
mod media;
#[path = "sdk/messages.rs"]
mod messages;
#[path = "sdk/perf.rs"]
mod perf;
#[path = "sdk/presence.rs"]
mod presence;
#[path = "sdk/read_horizon.rs"]
mod read_horizon;
#[path = "sdk/reconnect.rs"]
mod reconnect;
#[path = "sdk/search.rs"]
mod search;
#[path = "sdk/sync_media.rs"]
mod sync_media;
#[path = "sdk/sync_task.rs"]
mod sync_task;
