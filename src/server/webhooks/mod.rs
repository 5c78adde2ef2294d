//! Twilio's webhooks: configuration at three scopes (`routes`), post-event
//! deliveries through a durable outbox (`capture` on the write path,
//! `delivery` off it), pre-event calls that may refuse or modify (`pre_event`).
//!
//! Beyond Twilio (which sends a post-event webhook once): a delivery is
//! written to the outbox in the transaction of the change, so it survives
//! `kill -9`; it is retried with back-off on 5xx, 429, refusal or timeout, up to
//! `DeliveryPolicy`'s bounds; each (conversation, receiver) is delivered in
//! order; a receiver that hangs holds one delivery slot until the 5 s timeout.
//! Deliveries are at least once: a receiver may see one again after a crash
//! (the `I-Twilio-Idempotency-Token` header is the same on every attempt).

pub mod capture;
pub mod delivery;
pub mod event;
pub mod origin;
pub mod pre_event;
mod routes;
mod send;
pub mod sign;
pub mod tap;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

pub use delivery::{DeliveryPolicy, spawn as spawn_delivery};
pub use pre_event::{Changes, pre_event};
pub use routes::router;

use crate::server::AppState;
use crate::server::auth::{Caller, authenticate};
use origin::Origin;

/// Twilio's header asking a REST call to fire the service's webhooks.
pub const WEBHOOK_ENABLED_HEADER: &str = "x-twilio-webhook-enabled";

/// Middleware: runs the request with its `Origin` (who calls, and whether it
/// asked for webhooks), which the writer reads when the request writes.
/// Until a webhook is configured it does nothing.
pub async fn with_origin(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if !state.store.webhooks.maybe_configured() {
        return next.run(req).await;
    }
    let headers = req.headers();
    let client_identity = match authenticate(headers, &state.credentials) {
        Ok(Caller::Person(identity)) => Some(identity),
        // A caller refused here is refused by the handler too, and writes nothing.
        _ => None,
    };
    let webhooks_enabled = headers
        .get(WEBHOOK_ENABLED_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    Origin { client_identity, webhooks_enabled }.scope(next.run(req)).await
}
