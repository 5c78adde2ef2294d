//! One error type for every handler, turned into Twilio's error body in one
//! place. Storage failures become a logged 500, a write the store cannot
//! keep (disk full) a 503 with `Retry-After`; bad input never becomes either.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::api::error::{ErrorCode, TwilioError};

/// A Twilio error on its way to the client.
#[derive(Debug, Clone)]
pub struct ApiError(pub TwilioError);

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(TwilioError::new(code, message))
    }
    pub fn invalid(param: &str, why: impl std::fmt::Display) -> Self {
        Self(TwilioError::invalid(param, why))
    }
    pub fn missing(param: &str) -> Self {
        Self(TwilioError::missing(param))
    }
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self(TwilioError::not_found(&what.to_string()))
    }
    /// 403 / 50430: the caller is not in this conversation.
    pub fn not_participant() -> Self {
        Self::new(ErrorCode::NotAParticipant, "User is not a participant of the conversation")
    }
    /// 403 / 50107: the caller's roles lack `permission`.
    pub fn lacks(permission: &str) -> Self {
        Self::new(
            ErrorCode::UnauthorizedForCommand,
            format!("User unauthorized for command: the role lacks {permission}"),
        )
    }
    /// 403 / 20403: the caller may not do this.
    pub fn forbidden(why: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, why)
    }
    pub fn internal(why: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, why)
    }
    pub fn unavailable() -> Self {
        Self::new(ErrorCode::Unavailable, "The server is shutting down")
    }
    /// 503 / 20503: the database cannot be reached right now.
    pub fn store_unavailable() -> Self {
        Self::new(ErrorCode::Unavailable, "The database is unavailable; try again shortly")
    }
    /// 503 / 20503: the store could not keep the write (a full disk, most
    /// likely); nothing of it was kept, so the client may retry it later.
    pub fn not_stored() -> Self {
        Self::new(ErrorCode::Unavailable, "The write could not be stored (is the disk full?); retry later")
    }
    #[cfg(test)]
    pub fn code(&self) -> u32 {
        self.0.code
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        crate::server::store::db::Error::from(e).into()
    }
}

/// A database that went away is a 503 (try again); anything else a logged 500.
impl From<crate::server::store::db::Error> for ApiError {
    fn from(e: crate::server::store::db::Error) -> Self {
        if e.is_unavailable() {
            tracing::warn!("storage unavailable: {e}");
            return Self::store_unavailable();
        }
        tracing::error!("storage error: {e}");
        if e.is_disk_full() {
            return Self::not_stored();
        }
        Self::internal("Internal storage error")
    }
}

/// Seconds a client is asked to wait after a 503 (a full disk takes a person
/// to fix; shutting down takes a restart).
const RETRY_AFTER_UNAVAILABLE: &str = "5";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status == StatusCode::TOO_MANY_REQUESTS {
            // Rate limits refill within a second (rate_limit.rs); say when to come back.
            return (status, [(axum::http::header::RETRY_AFTER, "1")], axum::Json(self.0)).into_response();
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return (status, [(axum::http::header::RETRY_AFTER, RETRY_AFTER_UNAVAILABLE)], axum::Json(self.0))
                .into_response();
        }
        (status, axum::Json(self.0)).into_response()
    }
}

/// Any path or method we do not serve: Twilio's 404 body, not axum's plain text.
pub async fn fallback(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(uri.path())
}

/// A known path with a method it does not take.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, format!("Method {method} is not allowed on {}", uri.path()))
}
