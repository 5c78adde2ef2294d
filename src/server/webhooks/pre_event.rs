//! Pre-event webhooks (`onMessageAdd`, `onConversationUpdate`, …): called
//! before a change is stored, for access-token callers and for REST calls with
//! `X-Twilio-Webhook-Enabled: true`. A non-2xx answer, or none within 5 s,
//! refuses the action (403, nothing stored); a 2xx with a JSON object may change
//! what is stored, as Twilio allows: a message's body, author and attributes; a
//! conversation's friendly name, unique name and attributes; a participant's attributes.

use std::time::Duration;

use crate::server::store::Connection;

use serde_json::Value;

use super::event::{self, Params};
use super::origin::Origin;
use super::send::{Answer, send};
use crate::api::error::ErrorCode;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::store::webhooks::{self as hooks, Scope, ScopeRow};

/// Twilio waits this long for a pre-event answer.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// What the receiver asked to change (each None when left as proposed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub body: Option<String>,
    pub author: Option<String>,
    pub attributes: Option<String>,
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
}

/// The fields a receiver may change for each event.
fn allowed(event: &str) -> &'static [&'static str] {
    match event {
        event::pre::MESSAGE_ADD => &["body", "author", "attributes"],
        event::pre::MESSAGE_UPDATE => &["body", "attributes"],
        event::pre::CONVERSATION_ADD | event::pre::CONVERSATION_UPDATE => {
            &["friendly_name", "unique_name", "attributes"]
        }
        event::pre::PARTICIPANT_ADD | event::pre::PARTICIPANT_UPDATE => &["attributes"],
        _ => &[],
    }
}

/// Reads a receiver's JSON answer (anything else, an empty body included, changes nothing).
fn changes(event: &str, body: &str) -> Changes {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(body) else { return Changes::default() };
    let field = |name: &str| -> Option<String> {
        if !allowed(event).contains(&name) {
            return None;
        }
        match map.get(name)? {
            Value::String(s) => Some(s.clone()),
            // Attributes may come back as an object rather than JSON text.
            v @ Value::Object(_) if name == "attributes" => Some(v.to_string()),
            _ => None,
        }
    };
    Changes {
        body: field("body"),
        author: field("author"),
        attributes: field("attributes"),
        friendly_name: field("friendly_name"),
        unique_name: field("unique_name"),
    }
}

fn refused(event: &str, why: &str) -> ApiError {
    ApiError::new(ErrorCode::Forbidden, format!("The {event} pre-event webhook refused this action: {why}"))
}

/// The configuration whose pre-event URL applies: the service's when it has one, else the account's.
fn pre_target(conn: &Connection) -> crate::server::store::db::Result<Option<ScopeRow>> {
    for scope in [Scope::Service, Scope::Account] {
        if let Some(row) = hooks::scope(conn, scope)?
            && row.pre_url.is_some()
        {
            return Ok(Some(row));
        }
    }
    Ok(None)
}

/// The parameters of a pre-event, from the proposed resource's JSON (shaped
/// as the REST API renders it: `sid`, `conversation_sid`, `body`, …).
fn proposed_params(event: &str, v: &Value) -> Params {
    let mut p = Params::new();
    match event {
        event::pre::MESSAGE_ADD | event::pre::MESSAGE_UPDATE | event::pre::MESSAGE_REMOVE => event::message(&mut p, v),
        event::pre::PARTICIPANT_ADD | event::pre::PARTICIPANT_UPDATE | event::pre::PARTICIPANT_REMOVE => {
            event::participant(&mut p, v)
        }
        event::pre::USER_UPDATE => event::user(&mut p, v),
        _ => event::conversation(&mut p, v),
    }
    p
}

/// Calls the pre-event webhook for `event`, if one is configured for it and
/// the current request fires it. `proposed` describes the change as the REST
/// JSON of the resource it would leave (built on a read connection, and only
/// when the webhook will be called). `Ok` carries the changes to apply; `Err`
/// is the refusal to answer with (and then nothing is stored).
pub async fn pre_event<F>(state: &AppState, event: &'static str, proposed: F) -> ApiResult<Changes>
where
    F: FnOnce(&Connection) -> ApiResult<Value> + Send + 'static,
{
    let tap = &state.store.webhooks;
    let origin = Origin::current();
    if !tap.maybe_configured() || !Origin::fires_service_webhooks(origin.as_ref()) {
        return Ok(Changes::default());
    }
    let found = state
        .store
        .read(move |conn| {
            let Some(target) = pre_target(conn)? else { return Ok(None) };
            let Some(url) = target.pre_url.clone().filter(|_| event::wanted(&target.filters, event)) else {
                return Ok(None);
            };
            Ok(Some((url, target.method, proposed(conn)?)))
        })
        .await?;
    let Some((url, method, resource)) = found else { return Ok(Changes::default()) };
    let mut params = event::common(event, &tap.account_sid, &tap.service_sid, origin.as_ref());
    params.extend(proposed_params(event, &resource));
    params.push(("RetryCount".into(), "0".into()));
    let token = uuid::Uuid::new_v4().simple().to_string();
    match send(&state.credentials.auth_token, &url, &method, &params, &token, TIMEOUT).await {
        Answer::Status(s, body) if (200..300).contains(&s) => Ok(changes(event, &body)),
        Answer::Status(s, _) => Err(refused(event, &format!("it answered {s}"))),
        Answer::Failed(why) => Err(refused(event, &why)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receivers_change_only_what_the_event_allows() {
        let c =
            changes(event::pre::MESSAGE_ADD, r#"{"body": "[redacted]", "friendly_name": "x", "attributes": {"a": 1}}"#);
        assert_eq!(c.body.as_deref(), Some("[redacted]"));
        assert_eq!(c.attributes.as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(c.friendly_name, None, "a message has no friendly name");
        let c = changes(event::pre::CONVERSATION_UPDATE, r#"{"friendly_name": "Renamed", "body": "no"}"#);
        assert_eq!((c.friendly_name.as_deref(), c.body), (Some("Renamed"), None));
        assert_eq!(changes(event::pre::MESSAGE_REMOVE, r#"{"body": "x"}"#), Changes::default());
        assert_eq!(changes(event::pre::MESSAGE_ADD, "OK"), Changes::default());
    }
}
