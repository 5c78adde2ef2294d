//! Access tokens on the client side: who a token names and when it expires
//! (read, not verified: that is the server's business), and the clock that
//! says when to warn about its expiry and when to declare it expired.

use std::time::Duration;

use base64::Engine;
use tokio::time::Instant;

use crate::api::token::Claims;
use crate::sdk::error::{Error, Result};

/// Identity and expiry (Unix seconds) read from an access token.
pub fn token_claims(token: &str) -> Result<(String, i64)> {
    let payload = token.split('.').nth(1).ok_or_else(|| Error::InvalidArgument("token is not a JWT".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| Error::InvalidArgument(format!("token payload: {e}")))?;
    let claims: Claims =
        serde_json::from_slice(&bytes).map_err(|e| Error::InvalidArgument(format!("token claims: {e}")))?;
    let identity = claims.grants.identity.filter(|i| !i.is_empty());
    Ok((identity.ok_or_else(|| Error::InvalidArgument("token has no identity".into()))?, claims.exp))
}

/// Checks that a replacement token is for the same identity.
pub fn same_identity(token: &str, identity: &str) -> Result<()> {
    let (named, _) = token_claims(token)?;
    if named != identity {
        return Err(Error::InvalidArgument(format!("token is for {named}, not {identity}")));
    }
    Ok(())
}

/// What the token clock says is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAlarm {
    /// Renew soon (`TokenAboutToExpire`).
    Warn,
    /// The token has expired (`TokenExpired`): the connection goes down.
    Expired,
}

/// When to warn about, and when to declare, a token's expiry. The warning
/// comes `warning` before expiry, but at most a fifth of the token's life left.
#[derive(Debug, Clone, Default)]
pub struct TokenClock {
    warn_at: Option<Instant>,
    expire_at: Option<Instant>,
}

impl TokenClock {
    /// The clock of `token`, read now. A token whose expiry cannot be read has none.
    pub fn new(token: &str, warning: Duration) -> Self {
        let Ok((_, exp)) = token_claims(token) else { return Self::default() };
        let left = Duration::from_secs(u64::try_from(exp - crate::api::time::now_unix()).unwrap_or(0));
        let now = Instant::now();
        Self { warn_at: Some(now + left.saturating_sub(warning.min(left / 5))), expire_at: Some(now + left) }
    }

    /// When the next alarm is due, if any.
    pub fn next(&self) -> Option<Instant> {
        self.warn_at.or(self.expire_at)
    }

    /// Takes the alarm that is due at `next()`: the warning first, then the expiry.
    pub fn fire(&mut self) -> Option<TokenAlarm> {
        if self.warn_at.take().is_some() {
            Some(TokenAlarm::Warn)
        } else {
            self.expire_at.take().map(|_| TokenAlarm::Expired)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::token::TokenIssuer;

    fn token(identity: &str, ttl: i64) -> String {
        let issuer = TokenIssuer {
            account_sid: "AC00000000000000000000000000000000",
            api_key_sid: "SK00000000000000000000000000000000",
            api_key_secret: "s",
            service_sid: None,
        };
        issuer.mint(identity, crate::api::time::now_unix(), ttl)
    }

    #[test]
    fn claims_name_the_identity_and_a_replacement_must_match() {
        let t = token("alice", 60);
        assert_eq!(token_claims(&t).unwrap().0, "alice");
        assert!(same_identity(&t, "alice").is_ok());
        assert!(same_identity(&t, "bob").is_err());
        assert!(token_claims("not-a-jwt").is_err());
    }

    #[test]
    fn the_clock_warns_within_the_last_fifth_then_expires() {
        let mut clock = TokenClock::new(&token("alice", 100), Duration::from_secs(180));
        let warn = clock.next().unwrap();
        let left = warn.saturating_duration_since(Instant::now());
        assert!(left > Duration::from_secs(75) && left <= Duration::from_secs(80), "{left:?}");
        assert_eq!(clock.fire(), Some(TokenAlarm::Warn));
        assert!(clock.next().unwrap() > warn);
        assert_eq!(clock.fire(), Some(TokenAlarm::Expired));
        assert_eq!((clock.next(), clock.fire()), (None, None));
        assert_eq!(TokenClock::new("garbage", Duration::from_secs(1)).next(), None);
    }
}
