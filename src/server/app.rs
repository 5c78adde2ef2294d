//! The router: one router per resource, merged, then mounted twice: under
//! `/v1` and under `/v1/Services/{ChatServiceSid}` (the service form of every
//! path, served from the same handlers). Plus `/healthz` and `/v1/Stream`.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::json;

use super::AppState;
use super::error::{fallback, method_not_allowed};
use super::routes::{
    client, client_conversations, configuration, conversations, media, messages, participant_conversations,
    participants, reactions, receipts, roles, search, services, sync_objects, user_conversations, users,
};
use super::store::Kind;
use super::twilsock::{self, Api};
use super::{stream, webhooks};

/// Largest request body: comfortably above the biggest valid form (a 32 KB
/// body plus 4 KB of attributes, percent-encoded), far below anything harmful.
const BODY_LIMIT: usize = 256 * 1024;

/// `GET /healthz`: 200 `{"status":"ok","store":"sqlite"|"postgres"}` while the
/// store answers, 503 with `"status":"unavailable"` while it does not (so a
/// load balancer sends clients to another instance).
async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let store = match state.store.kind() {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
    };
    match state.store.ping().await {
        Ok(()) => Json(json!({"status": "ok", "store": store})).into_response(),
        Err(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "store": store}))).into_response()
        }
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    let resources = || {
        Router::new()
            .merge(conversations::router())
            .merge(participants::router())
            .merge(messages::router())
            .merge(reactions::router())
            .merge(receipts::router())
            .merge(users::router())
            .merge(user_conversations::router())
            .merge(participant_conversations::router())
            .merge(roles::router())
            .merge(search::router())
            .merge(configuration::router())
            .merge(webhooks::router())
    };
    let v1 = resources().merge(services::router()).route("/Stream", get(stream::upgrade));
    let api: Router = Router::new()
        .route("/healthz", get(healthz))
        .nest("/v1", v1)
        .nest("/v1/Services/{service}", resources().merge(media::router()))
        .merge(client::router())
        .merge(client_conversations::router())
        .merge(sync_objects::router())
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), webhooks::with_origin))
        .with_state(state.clone());
    // Twilsock tunnels HTTP into the same router (all of it but itself).
    let twilsock: Router = Router::new()
        .route("/v3/wsconnect", get(twilsock::upgrade))
        .layer(Extension(Api(api.clone())))
        .with_state(state);
    api.merge(twilsock)
}
