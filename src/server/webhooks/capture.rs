//! The tap on the write path: after a write job succeeds, inside its own
//! savepoint, its stream effects become post-event webhook deliveries in the
//! outbox, so a change and the deliveries it owes commit (or vanish) together.
//! Nothing here touches the network; until a webhook is configured it costs one atomic load.

use std::collections::HashMap;

use crate::server::store::Connection;
use serde_json::Value;

use super::event::{self, Params, post};
use super::origin::Origin;
use super::tap::Tap;
use crate::api::stream::EventName;
use crate::api::time::{format_unix, now_unix};
use crate::server::hub::{Audience, Effect, Payload};
use crate::server::store::outbox::{self, NewDelivery};
use crate::server::store::webhooks::{self as hooks, ConversationWebhookRow, Scope, ScopeRow};

/// What a stream event means for webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Conversation(&'static str),
    ConversationUpdated,
    Message(&'static str),
    Participant(&'static str),
    User(&'static str),
}

/// The webhook meaning of one effect; None for effects webhooks ignore (typing,
/// read-horizon views, a conversation added to or removed from one user's list).
fn kind(effect: &Effect, side_effects_only: bool) -> Option<Kind> {
    let Effect::Send(audience, name, _, _, updated) = effect else { return None };
    // Reachability comes and goes with every stream: no webhook tells of it.
    if !updated.is_empty() && updated.iter().all(|r| r.starts_with("reachability")) {
        return None;
    }
    let to_conversation = matches!(audience, Audience::Conversation(_));
    Some(match name {
        EventName::ConversationAdded if to_conversation => Kind::Conversation(post::CONVERSATION_ADDED),
        EventName::ConversationRemoved if to_conversation => Kind::Conversation(post::CONVERSATION_REMOVED),
        // A conversation "updated" next to a message or participant change only
        // moved its counts: Twilio sends no onConversationUpdated for that.
        EventName::ConversationUpdated if to_conversation && !side_effects_only => Kind::ConversationUpdated,
        EventName::MessageAdded => Kind::Message(post::MESSAGE_ADDED),
        EventName::MessageUpdated => Kind::Message(post::MESSAGE_UPDATED),
        EventName::MessageRemoved => Kind::Message(post::MESSAGE_REMOVED),
        EventName::ParticipantJoined => Kind::Participant(post::PARTICIPANT_ADDED),
        EventName::ParticipantUpdated => Kind::Participant(post::PARTICIPANT_UPDATED),
        EventName::ParticipantLeft => Kind::Participant(post::PARTICIPANT_REMOVED),
        EventName::UserUpdated => Kind::User(post::USER_UPDATED),
        _ => return None,
    })
}

/// Whether the job changed messages or participants (then a conversationUpdated is a count change).
fn changes_members_or_messages(effects: &[Effect]) -> bool {
    effects.iter().any(|e| {
        matches!(
            e,
            Effect::Send(
                _,
                EventName::MessageAdded
                    | EventName::MessageUpdated
                    | EventName::MessageRemoved
                    | EventName::ParticipantJoined
                    | EventName::ParticipantLeft,
                _,
                _,
                _
            )
        )
    })
}

/// The JSON of an effect's data, rendering a lazy payload once (and keeping
/// the rendered value for the streams, so it is not rendered twice).
fn data(effect: &mut Effect) -> Value {
    let Effect::Send(_, _, _, payload, _) = effect else { return Value::Null };
    if let Payload::Lazy(_) = payload {
        let Payload::Lazy(render) = std::mem::replace(payload, Payload::Value(Value::Null)) else {
            return Value::Null;
        };
        *payload = Payload::Value(serde_json::from_str(&render()).unwrap_or(Value::Null));
    }
    match payload {
        Payload::Value(v) => v.clone(),
        Payload::Lazy(_) => Value::Null,
    }
}

/// Where one event goes.
struct Target {
    url: String,
    method: String,
    webhook_sid: Option<String>,
}

/// The account's or the service's post-event target: the service's
/// configuration when it has a post URL, else the account's.
fn service_target(conn: &Connection) -> crate::server::store::db::Result<Option<ScopeRow>> {
    for scope in [Scope::Service, Scope::Account] {
        if let Some(row) = hooks::scope(conn, scope)?
            && row.post_url.is_some()
        {
            return Ok(Some(row));
        }
    }
    Ok(None)
}

/// Whether a conversation-scoped webhook takes `event` (with this message body, for triggers).
fn conversation_hook_wants(hook: &ConversationWebhookRow, event: &str, body: Option<&str>) -> bool {
    match hook.target.as_str() {
        "webhook" => event::wanted(&hook.filters, event),
        "trigger" => {
            event == post::MESSAGE_ADDED
                && body.is_some_and(|b| {
                    let words: Vec<String> = b.split_whitespace().map(str::to_lowercase).collect();
                    hook.triggers.iter().any(|t| words.contains(&t.to_lowercase()))
                })
        }
        _ => false,
    }
}

/// Maps the job's effects to deliveries and enqueues them. Returns the
/// effects (lazy payloads that were rendered are now values).
pub fn capture(
    conn: &Connection,
    tap: &Tap,
    origin: Option<&Origin>,
    mut effects: Vec<Effect>,
) -> crate::server::store::db::Result<Vec<Effect>> {
    if !tap.maybe_configured() || effects.is_empty() {
        return Ok(effects);
    }
    let side_only = changes_members_or_messages(&effects);
    let scoped = if Origin::fires_service_webhooks(origin) { service_target(conn)? } else { None };
    let mut per_conversation: HashMap<String, Vec<ConversationWebhookRow>> = HashMap::new();
    let now_ms = outbox::now_ms();
    let mut forget = Vec::new();
    for effect in effects.iter_mut() {
        let Some(kind) = kind(effect, side_only) else { continue };
        let conversation_sid = match &*effect {
            Effect::Send(_, _, c, _, _) => c.clone(),
            _ => None,
        };
        let hooks_here: &[ConversationWebhookRow] = match &conversation_sid {
            Some(c) => {
                if !per_conversation.contains_key(c) {
                    per_conversation.insert(c.clone(), hooks::of_conversation(conn, c)?);
                }
                per_conversation.get(c).map(Vec::as_slice).unwrap_or_default()
            }
            None => &[],
        };
        let tracks_state = matches!(kind, Kind::Conversation(_) | Kind::ConversationUpdated);
        let events: Vec<&'static str> = match kind {
            Kind::Conversation(e) | Kind::Message(e) | Kind::Participant(e) | Kind::User(e) => vec![e],
            Kind::ConversationUpdated => vec![post::CONVERSATION_UPDATED, post::CONVERSATION_STATE_UPDATED],
        };
        let may_fire = events.iter().any(|e| {
            scoped.as_ref().is_some_and(|s| event::wanted(&s.filters, e))
                || hooks_here.iter().any(|h| h.target != "webhook" || event::wanted(&h.filters, e))
        });
        if !may_fire && !tracks_state {
            continue;
        }
        let v = data(effect);
        let mut state_from = None;
        if tracks_state && let (Some(c), Some(state)) = (&conversation_sid, v.get("state").and_then(Value::as_str)) {
            let before = hooks::swap_state(conn, c, state)?;
            if before != state {
                state_from = Some(before);
            }
        }
        for event_name in events {
            if event_name == post::CONVERSATION_STATE_UPDATED && state_from.is_none() {
                continue;
            }
            let body = v.get("body").and_then(Value::as_str);
            let mut targets: Vec<Target> = Vec::new();
            if let Some(s) = &scoped
                && event::wanted(&s.filters, event_name)
                && let Some(url) = &s.post_url
            {
                targets.push(Target { url: url.clone(), method: s.method.to_uppercase(), webhook_sid: None });
            }
            for h in hooks_here.iter().filter(|h| conversation_hook_wants(h, event_name, body)) {
                if let Some(url) = &h.url {
                    targets.push(Target {
                        url: url.clone(),
                        method: h.method.to_uppercase(),
                        webhook_sid: Some(h.sid.clone()),
                    });
                }
            }
            if targets.is_empty() {
                continue;
            }
            let mut params = event::common(event_name, &tap.account_sid, &tap.service_sid, origin);
            let lane = match kind {
                Kind::User(_) => v.get("sid").and_then(Value::as_str).unwrap_or_default().to_owned(),
                _ => conversation_sid.clone().unwrap_or_default(),
            };
            match kind {
                Kind::Message(_) => event::message(&mut params, &v),
                Kind::Participant(_) => event::participant(&mut params, &v),
                Kind::User(_) => event::user(&mut params, &v),
                Kind::Conversation(_) | Kind::ConversationUpdated => event::conversation(&mut params, &v),
            }
            if let Some(from) = &state_from
                && event_name == post::CONVERSATION_STATE_UPDATED
            {
                params.push(("StateFrom".into(), from.clone()));
                copy_as(&mut params, &v, "state", "StateTo");
                copy_as(&mut params, &v, "date_updated", "StateUpdated");
            }
            if event_name.ends_with("Removed") {
                params.push(("DateRemoved".into(), format_unix(now_unix())));
            }
            for t in targets {
                let mut p = params.clone();
                if let Some(sid) = &t.webhook_sid {
                    p.push(("WebhookSid".into(), sid.clone()));
                    p.push(("WebhookType".into(), "webhook".into()));
                }
                outbox::enqueue(
                    conn,
                    &NewDelivery { lane: lane.clone(), url: t.url, method: t.method, params: p },
                    now_ms,
                )?;
                tap.enqueued();
            }
        }
        if kind == Kind::Conversation(post::CONVERSATION_REMOVED)
            && let Some(c) = &conversation_sid
        {
            forget.push(c.clone());
        }
    }
    for c in forget {
        hooks::forget_conversation(conn, &c)?;
    }
    Ok(effects)
}

fn copy_as(params: &mut Params, v: &Value, field: &str, name: &str) {
    if let Some(s) = v.get(field).and_then(Value::as_str) {
        params.push((name.to_owned(), s.to_owned()));
    }
}

/// Deliveries for a user made outside any stream effect (`onUserAdded`).
pub fn user_added(
    conn: &Connection,
    tap: &Tap,
    origin: Option<&Origin>,
    user_json: &Value,
) -> crate::server::store::db::Result<()> {
    if !tap.maybe_configured() || !Origin::fires_service_webhooks(origin) {
        return Ok(());
    }
    let Some(s) = service_target(conn)? else { return Ok(()) };
    let Some(url) = s.post_url.clone().filter(|_| event::wanted(&s.filters, post::USER_ADDED)) else {
        return Ok(());
    };
    let mut params: Params = event::common(post::USER_ADDED, &tap.account_sid, &tap.service_sid, origin);
    event::user(&mut params, user_json);
    let lane = user_json.get("sid").and_then(Value::as_str).unwrap_or_default().to_owned();
    let d = NewDelivery { lane, url, method: s.method.to_uppercase(), params };
    outbox::enqueue(conn, &d, outbox::now_ms())?;
    tap.enqueued();
    Ok(())
}
