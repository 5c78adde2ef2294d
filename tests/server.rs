//! Integration tests of `convo-tui serve`: a real server on 127.0.0.1 port 0
//! with its SQLite file in a temp dir, driven over real HTTP and WebSocket.

#[path = "server/common.rs"]
mod common;

#[path = "server/access.rs"]
mod access;
#[path = "server/durability.rs"]
mod durability;
#[path = "server/mcs_client.rs"]
mod mcs_client;
#[path = "server/media.rs"]
mod media;
#[path = "server/media_bench.rs"]
mod media_bench;
#[path = "server/perf.rs"]
mod perf;
#[path = "server/presence.rs"]
mod presence;
#[path = "server/python.rs"]
mod python;
#[path = "server/reactions.rs"]
mod reactions;
#[path = "server/rest.rs"]
mod rest;
#[path = "server/roles.rs"]
mod roles;
#[path = "server/search.rs"]
mod search;
#[path = "server/stream.rs"]
mod stream;
#[path = "server/tokens.rs"]
mod tokens;
#[path = "server/twilsock.rs"]
mod twilsock;
#[path = "server/twilsock_access.rs"]
mod twilsock_access;
#[path = "server/twilsock_sdk.rs"]
mod twilsock_sdk;
#[path = "server/webhook_fixture.rs"]
mod webhook_fixture;
#[path = "server/webhooks.rs"]
mod webhooks;
#[path = "server/webhooks_pre.rs"]
mod webhooks_pre;
