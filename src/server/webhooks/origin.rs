//! Who caused a write, for webhook parameters (`Source`, `ClientIdentity`) and
//! for Twilio's rule on which actions fire the account's and service's
//! webhooks: access-token (SDK) actions always do; REST actions only with
//! `X-Twilio-Webhook-Enabled: true`. Set per request by a middleware, read by
//! the writer when a write is queued (a task-local, so no route passes it on).

use std::future::Future;

tokio::task_local! {
    static ORIGIN: Origin;
}

/// The request behind a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The access token's identity; None for REST (Basic) callers.
    pub client_identity: Option<String>,
    /// The request carried `X-Twilio-Webhook-Enabled: true`.
    pub webhooks_enabled: bool,
}

impl Origin {
    /// The origin of the request being served, or None off any request
    /// (timers, sweepers), whose changes are the service's own.
    pub fn current() -> Option<Origin> {
        ORIGIN.try_with(Clone::clone).ok()
    }

    /// Runs `f` (a request's handling) with this origin.
    pub async fn scope<F: Future>(self, f: F) -> F::Output {
        ORIGIN.scope(self, f).await
    }

    /// Twilio's `Source` parameter.
    pub fn source(origin: Option<&Origin>) -> &'static str {
        match origin {
            Some(Origin { client_identity: Some(_), .. }) => "SDK",
            _ => "API",
        }
    }

    /// Whether the account's and the service's webhooks fire for this origin.
    pub fn fires_service_webhooks(origin: Option<&Origin>) -> bool {
        match origin {
            None => true,
            Some(o) => o.client_identity.is_some() || o.webhooks_enabled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_origin_is_seen_inside_its_scope_only() {
        assert_eq!(Origin::current(), None);
        let sdk = Origin { client_identity: Some("alice".into()), webhooks_enabled: false };
        let seen = sdk.clone().scope(async { Origin::current() }).await;
        assert_eq!(seen.as_ref(), Some(&sdk));
        assert_eq!(Origin::source(seen.as_ref()), "SDK");
        assert!(Origin::fires_service_webhooks(seen.as_ref()));
        let rest = Origin { client_identity: None, webhooks_enabled: false };
        assert!(!Origin::fires_service_webhooks(Some(&rest)));
        assert_eq!(Origin::source(Some(&rest)), "API");
        assert!(Origin::fires_service_webhooks(Some(&Origin { webhooks_enabled: true, ..rest })));
        assert!(Origin::fires_service_webhooks(None), "the service's own changes (timers) fire");
    }
}
