//! Twilio Access Tokens (JWT, HS256, `cty: twilio-fpa;v=1`), as twilio-python's
//! `AccessToken` + `ChatGrant` mint them: `iss` is the API key SID, `sub` the
//! account SID, `grants.identity` the person, signed with the API key secret.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::error::{ErrorCode, TwilioError};

/// The longest lifetime Twilio accepts for an access token.
pub const MAX_TTL_SECS: i64 = 24 * 3600;
const CTY: &str = "twilio-fpa;v=1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatGrant {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_sid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat: Option<ChatGrant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub jti: String,
    pub iss: String,
    pub sub: String,
    pub nbf: i64,
    pub exp: i64,
    pub grants: Grants,
}

/// What is needed to mint tokens.
#[derive(Debug, Clone)]
pub struct TokenIssuer<'a> {
    pub account_sid: &'a str,
    pub api_key_sid: &'a str,
    pub api_key_secret: &'a str,
    pub service_sid: Option<&'a str>,
}

impl TokenIssuer<'_> {
    /// Mints a chat token for `identity`, valid from `now` for `ttl_secs`.
    pub fn mint(&self, identity: &str, now: i64, ttl_secs: i64) -> String {
        let claims = Claims {
            jti: format!("{}-{now}", self.api_key_sid),
            iss: self.api_key_sid.to_owned(),
            sub: self.account_sid.to_owned(),
            nbf: now,
            exp: now + ttl_secs,
            grants: Grants {
                identity: Some(identity.to_owned()),
                chat: Some(ChatGrant { service_sid: self.service_sid.map(str::to_owned) }),
            },
        };
        let mut header = Header::new(Algorithm::HS256);
        header.cty = Some(CTY.to_owned());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(self.api_key_secret.as_bytes()))
            .expect("HS256 encoding of plain claims cannot fail")
    }
}

/// Verifies a token against the one API key this server knows, at time `now`,
/// and returns the identity it grants. Errors carry Twilio's 2010x codes.
pub fn verify(
    token: &str,
    account_sid: &str,
    api_key_sid: &str,
    api_key_secret: &str,
    now: i64,
) -> Result<String, TwilioError> {
    verify_until(token, account_sid, api_key_sid, api_key_secret, now).map(|(identity, _)| identity)
}

/// As [`verify`], also returning when the token expires (Unix seconds): a
/// long-lived connection (twilsock) asks for a new one before then.
pub fn verify_until(
    token: &str,
    account_sid: &str,
    api_key_sid: &str,
    api_key_secret: &str,
    now: i64,
) -> Result<(String, i64), TwilioError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| TwilioError::new(ErrorCode::TokenInvalid, "Invalid Access Token"))?;
    if header.alg != Algorithm::HS256 || header.cty.as_deref() != Some(CTY) {
        return Err(TwilioError::new(ErrorCode::TokenHeaderInvalid, "Invalid Access Token header"));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(api_key_secret.as_bytes()), &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                TwilioError::new(ErrorCode::TokenSignatureInvalid, "Invalid Access Token signature")
            }
            _ => TwilioError::new(ErrorCode::TokenInvalid, "Invalid Access Token"),
        })?;
    let claims = data.claims;
    if claims.iss != api_key_sid || claims.sub != account_sid {
        return Err(TwilioError::new(ErrorCode::TokenIssuerInvalid, "Invalid Access Token issuer/subject"));
    }
    if claims.exp <= now {
        return Err(TwilioError::new(ErrorCode::TokenExpired, "Access Token expired or expiration date invalid"));
    }
    if claims.exp - now.max(claims.nbf.min(now)) > MAX_TTL_SECS {
        return Err(TwilioError::new(ErrorCode::TokenExpired, "Access Token expiration is more than 24 hours away"));
    }
    if claims.nbf > now + 60 {
        return Err(TwilioError::new(ErrorCode::TokenNotYetValid, "Access Token not yet valid"));
    }
    match claims.grants.identity {
        // No store keeps NUL in text: such an identity could never be looked up.
        Some(identity) if identity.contains('\0') => {
            Err(TwilioError::new(ErrorCode::TokenInvalid, "Invalid Access Token: the identity holds a NUL character"))
        }
        Some(identity) if !identity.is_empty() => Ok((identity, claims.exp)),
        _ => Err(TwilioError::new(ErrorCode::TokenIdentityMissing, "Access Token has no identity")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AC: &str = "AC00000000000000000000000000000000";
    const SK: &str = "SK00000000000000000000000000000000";

    fn issuer() -> TokenIssuer<'static> {
        TokenIssuer { account_sid: AC, api_key_sid: SK, api_key_secret: "secret", service_sid: None }
    }

    #[test]
    fn minted_token_verifies_to_its_identity() {
        let t = issuer().mint("alice", 1000, 3600);
        assert_eq!(verify(&t, AC, SK, "secret", 1001).unwrap(), "alice");
    }

    #[test]
    fn forged_expired_and_malformed_tokens_are_refused() {
        let t = issuer().mint("alice", 1000, 3600);
        assert_eq!(verify(&t, AC, SK, "other", 1001).unwrap_err().code, 20107);
        assert_eq!(verify(&t, AC, SK, "secret", 4601).unwrap_err().code, 20104);
        assert_eq!(verify("not.a.jwt", AC, SK, "secret", 1001).unwrap_err().code, 20101);
        let long = issuer().mint("alice", 1000, MAX_TTL_SECS + 10);
        assert_eq!(verify(&long, AC, SK, "secret", 1001).unwrap_err().code, 20104);
        let wrong_key =
            TokenIssuer { api_key_sid: "SK11111111111111111111111111111111", ..issuer() }.mint("a", 1000, 60);
        assert_eq!(verify(&wrong_key, AC, SK, "secret", 1001).unwrap_err().code, 20103);
    }

    /// Minted by twilio-python 9.13: `AccessToken(AC, SK, "secret", identity="alice")`
    /// with `ChatGrant(service_sid="IS0…")`.
    const TWILIO_PYTHON_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsImN0eSI6InR3aWxpby1mcGE7dj0xIiwidHlwIjoiSldUIn0.eyJqdGkiOiJTSzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwLTE3OTU1ODQwNDUiLCJncmFudHMiOnsiY2hhdCI6eyJzZXJ2aWNlX3NpZCI6IklTMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAifSwiaWRlbnRpdHkiOiJhbGljZSJ9LCJpc3MiOiJTSzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwIiwiZXhwIjoxNzk1NTg3NjQ1LCJuYmYiOjE3OTU1ODQwNDUsInN1YiI6IkFDMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAifQ.nL7wTXhlop8t4R-rSESLdVEYg5L9WPnD5btVbngjqQU";

    #[test]
    fn accepts_tokens_minted_by_twilio_python() {
        assert_eq!(verify(TWILIO_PYTHON_TOKEN, AC, SK, "secret", 1795584045 + 10).unwrap(), "alice");
    }
}
