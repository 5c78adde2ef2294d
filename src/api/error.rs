//! Twilio's error body, `{"code", "message", "more_info", "status"}`, and the
//! codes this project answers with. The HTTP status travels in `status` too, so
//! a client can rebuild the error from the body alone.

use serde::{Deserialize, Serialize};

/// Twilio error codes used here, each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 400: a parameter is invalid or missing.
    InvalidParameter = 20001,
    /// 401: wrong or missing Basic credentials.
    Authenticate = 20003,
    /// 403: authenticated, but not allowed to do this.
    Forbidden = 20403,
    /// 404: no such resource.
    NotFound = 20404,
    /// 405: the resource does not take this HTTP method.
    MethodNotAllowed = 20004,
    /// 429: too many requests.
    TooManyRequests = 20429,
    /// 401: the access token is invalid.
    TokenInvalid = 20101,
    /// 401: the access token header is invalid.
    TokenHeaderInvalid = 20102,
    /// 401: the token's issuer or subject is invalid.
    TokenIssuerInvalid = 20103,
    /// 401: the access token has expired, or lives longer than 24 h.
    TokenExpired = 20104,
    /// 401: the access token is not valid yet.
    TokenNotYetValid = 20105,
    /// 401: the access token has no identity.
    TokenIdentityMissing = 20106,
    /// 401: the access token signature does not verify.
    TokenSignatureInvalid = 20107,
    /// 409: a conversation with this unique name exists.
    ConversationUniqueNameTaken = 50353,
    /// 400: a unique name may not look like a conversation SID.
    UniqueNameLooksLikeSid = 50390,
    /// 409: this identity is already a participant.
    ParticipantExists = 50433,
    /// 400: too many participants.
    TooManyParticipants = 50417,
    /// 400: an identity and a messaging binding were both given.
    IdentityAndBinding = 50211,
    /// 403: the caller is not a participant of the conversation.
    NotAParticipant = 50430,
    /// 403: the caller's role lacks the permission for this action.
    UnauthorizedForCommand = 50107,
    /// 409: a user with this identity exists.
    UserExists = 50201,
    /// 400: an identity may not look like a user SID.
    IdentityLooksLikeSid = 50206,
    /// 409: this messaging binding is already in the conversation.
    BindingExists = 50416,
    /// 400: ConversationWithParticipants was given more than 10 participants.
    TooManyInitialParticipants = 50426,
    /// 413: the request body is too large.
    PayloadTooLarge = 21617,
    /// 500: something broke inside the server.
    Internal = 20500,
    /// 503: the server is shutting down or overloaded.
    Unavailable = 20503,
}

impl ErrorCode {
    /// The HTTP status Twilio pairs with this code.
    pub fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidParameter
            | UniqueNameLooksLikeSid
            | TooManyParticipants
            | IdentityAndBinding
            | IdentityLooksLikeSid
            | TooManyInitialParticipants => 400,
            Authenticate
            | TokenInvalid
            | TokenHeaderInvalid
            | TokenIssuerInvalid
            | TokenExpired
            | TokenNotYetValid
            | TokenIdentityMissing
            | TokenSignatureInvalid => 401,
            Forbidden | NotAParticipant | UnauthorizedForCommand => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            ConversationUniqueNameTaken | ParticipantExists | UserExists | BindingExists => 409,
            PayloadTooLarge => 413,
            TooManyRequests => 429,
            Internal => 500,
            Unavailable => 503,
        }
    }

    /// The numeric code.
    pub fn code(self) -> u32 {
        self as u32
    }
}

/// Twilio's error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{status} ({code}): {message}")]
pub struct TwilioError {
    pub code: u32,
    pub message: String,
    pub more_info: String,
    pub status: u16,
}

impl TwilioError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code: code.code(),
            message: message.into(),
            more_info: format!("https://www.twilio.com/docs/errors/{}", code.code()),
            status: code.status(),
        }
    }

    /// 400 / 20001 naming the offending parameter.
    pub fn invalid(param: &str, why: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::InvalidParameter, format!("Invalid parameter {param}: {why}"))
    }

    /// 400 / 20001 for a required parameter that is absent.
    pub fn missing(param: &str) -> Self {
        Self::new(ErrorCode::InvalidParameter, format!("Missing required parameter {param} in the post body"))
    }

    /// 404 / 20404 for the resource at `path`.
    pub fn not_found(path: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("The requested resource {path} was not found"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_twilio_fields() {
        let e = TwilioError::new(ErrorCode::ParticipantExists, "Participant already exists");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["code"], 50433);
        assert_eq!(v["status"], 409);
        assert_eq!(v["more_info"], "https://www.twilio.com/docs/errors/50433");
        assert_eq!(v.as_object().unwrap().len(), 4);
    }
}
