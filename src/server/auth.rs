//! Who is calling. Admin: HTTP Basic with `AccountSid:AuthToken` or
//! `ApiKeySid:ApiKeySecret`. A person: `X-Twilio-Token`, a Twilio access token
//! verified with the API key secret (`api::token::verify` does the 2010x checks).

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;

use crate::api::error::ErrorCode;
use crate::api::time::now_unix;
use crate::api::token;
use crate::config::Credentials;
use crate::server::error::ApiError;

pub const TOKEN_HEADER: &str = "x-twilio-token";

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The account itself (Basic auth): sees and changes everything.
    Admin,
    /// A person holding an access token for this identity.
    Person(String),
}

impl Caller {
    pub fn identity(&self) -> Option<&str> {
        match self {
            Self::Admin => None,
            Self::Person(i) => Some(i),
        }
    }

    /// A stable name for per-caller records (idempotency keys).
    pub fn key(&self) -> String {
        match self {
            Self::Admin => "admin".into(),
            Self::Person(i) => format!("identity:{i}"),
        }
    }
}

/// Compares without an early exit, so timing does not reveal how much matched.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unauthenticated() -> ApiError {
    ApiError::new(ErrorCode::Authenticate, "Authentication Error - invalid username")
}

/// Authenticates from the request headers.
pub fn authenticate(headers: &HeaderMap, creds: &Credentials) -> Result<Caller, ApiError> {
    if let Some(value) = headers.get(TOKEN_HEADER) {
        let token = value.to_str().map_err(|_| ApiError::new(ErrorCode::TokenInvalid, "Invalid Access Token"))?;
        let identity =
            token::verify(token.trim(), &creds.account_sid, &creds.api_key_sid, &creds.api_key_secret, now_unix())
                .map_err(ApiError)?;
        return Ok(Caller::Person(identity));
    }
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(ApiError::new(ErrorCode::Authenticate, "Authentication Error - No credentials provided"));
    };
    let encoded = value.to_str().ok().and_then(|v| v.strip_prefix("Basic ")).ok_or_else(unauthenticated)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(unauthenticated)?;
    let (user, pass) = decoded.split_once(':').ok_or_else(unauthenticated)?;
    let account = same(user, &creds.account_sid) && same(pass, &creds.auth_token);
    let api_key = same(user, &creds.api_key_sid) && same(pass, &creds.api_key_secret);
    if account || api_key { Ok(Caller::Admin) } else { Err(unauthenticated()) }
}
