//! One router per resource; `app` merges them and mounts the result under both
//! `/v1` and `/v1/Services/{ChatServiceSid}`. Routes only parse, call and
//! render: writes call one operation (`ops`, `membership`), reads look up, ask
//! `rules` and render. No route imports another. Shared here: the responses.

pub mod client;
pub mod client_conversations;
pub mod configuration;
pub mod conversations;
pub mod media;
pub mod messages;
pub mod participant_conversations;
pub mod participants;
pub mod reactions;
pub mod receipts;
pub mod roles;
pub mod search;
pub mod services;
pub mod sync_objects;
pub mod user_conversations;
pub mod users;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// 201 with a JSON body.
pub fn created<T: Serialize>(body: &T) -> Response {
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

/// 200 with a JSON body.
pub fn ok<T: Serialize>(body: &T) -> Response {
    axum::Json(body).into_response()
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
