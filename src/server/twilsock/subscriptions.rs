//! One socket's Sync subscriptions: which objects the SDK asked to follow
//! (`/v4/Subscriptions`), replay from its `last_event_id` when it resubscribes,
//! and the stream events it is sent, as Sync pushes, for those objects.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};

use super::frame::Frame;
use super::tunnel::{Answer, Request};
use crate::api::stream::{ServerEvent, TYPING_TIMEOUT_SECS};
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::render::Urls;
use crate::server::sync::events::{self, Item, Out, Push};
use crate::server::sync::{Object, event_id_secs, next_event_id, objects};

/// Notification types the SDK registers for.
const SYNC_EVENT: &str = "twilio.sync.event";
const TYPING: &str = "twilio.ipmsg.typing_indicator";
/// Seconds of slack when replaying "since an event id" (clocks, second-granular dates).
const REPLAY_SLACK_SECS: i64 = 2;
/// Pushes kept for objects the SDK has read but not yet subscribed to.
const RECENT: usize = 512;

pub struct Subscriptions {
    identity: String,
    urls: Urls,
    objects: HashSet<Object>,
    /// The data last sent (or read) of each followed conversation document:
    /// a new message moves only its `lastMessage`, the rest is kept from here.
    documents: HashMap<String, Value>,
    /// The first event id of this socket: a `last_event_id` before it was
    /// read on an earlier connection, and what changed since is replayed
    /// from the store; one after it was read on this one, and anything since
    /// is among `recent`.
    opened: u64,
    /// The latest pushes for this person, subscribed to or not, stamped when
    /// they came: the SDK reads an object, then subscribes, and what changed
    /// in between is sent from here.
    recent: VecDeque<(u64, Push)>,
}

fn notification(message_type: &str, payload: &Value) -> Frame {
    Frame::new("notification", &format!("TN{}", uuid::Uuid::new_v4().simple()))
        .set("message_type", json!(message_type))
        .json(payload)
}

/// What a subscription request's one object asked.
struct Wanted {
    sid: String,
    last_event_id: Option<u64>,
}

impl Subscriptions {
    pub fn new(identity: String, urls: Urls) -> Self {
        let opened = next_event_id();
        Self { identity, urls, objects: HashSet::new(), documents: HashMap::new(), opened, recent: VecDeque::new() }
    }

    /// The frame for `push`; a document's push carries its whole data (a new
    /// message moves only `lastMessage`, the rest is as last sent).
    fn push_frame(&mut self, mut push: Push) -> Frame {
        if let (Object::Conversation(c), Item::Whole) = (&push.object, &push.item) {
            let doc = self.documents.entry(c.clone()).or_insert_with(|| json!({}));
            match push.data.get("lastMessage") {
                Some(last) if push.data.as_object().is_some_and(|m| m.len() == 1) => doc["lastMessage"] = last.clone(),
                _ => *doc = push.data.clone(),
            }
            push.data = doc.clone();
        }
        let payload = push.payload(next_event_id(), self.urls.base());
        tracing::trace!(%payload, "sync event");
        notification(SYNC_EVENT, &payload)
    }

    /// `POST /v4/Subscriptions`: establish or cancel; the answer, then the frames
    /// that follow it (replayed events, then `subscription_established`).
    pub async fn on_request(&mut self, request: &Request, state: &Arc<AppState>) -> (Answer, Vec<Frame>) {
        let body = request.json();
        let action = body.get("action").and_then(Value::as_str).unwrap_or("establish").to_owned();
        let correlation = body.get("correlation_id").cloned().unwrap_or(Value::Null);
        let wanted: Vec<Wanted> = body
            .get("requests")
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| {
                        Some(Wanted {
                            sid: r.get("object_sid")?.as_str()?.to_owned(),
                            last_event_id: r.get("last_event_id").and_then(Value::as_u64),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let answer =
            Answer::json(200, &json!({"estimated_delivery_in_ms": 1000, "max_batch_size": 100, "ttl_in_s": -1}));
        if action == "cancel" {
            for w in &wanted {
                if let Some(o) = Object::parse(&w.sid) {
                    self.objects.remove(&o);
                    if let Object::Conversation(c) = &o {
                        self.documents.remove(c);
                    }
                }
            }
            let events: Vec<Value> = wanted.iter().map(|w| json!({"object_sid": w.sid})).collect();
            let done = json!({"event_type": "subscription_canceled", "correlation_id": correlation, "events": events});
            return (answer, vec![notification(SYNC_EVENT, &done)]);
        }
        let mut frames = Vec::new();
        let mut established = Vec::new();
        let mut failed = Vec::new();
        for w in wanted {
            match self.establish(&w, state).await {
                Ok(replayed) => {
                    for p in replayed {
                        frames.push(self.push_frame(p));
                    }
                    established.push(
                        json!({"object_sid": w.sid, "replay_status": "completed", "last_event_id": next_event_id()}),
                    );
                }
                Err(e) => failed.push(json!({
                    "object_sid": w.sid,
                    "error": {"status": e.0.status, "code": e.0.code, "message": e.0.message},
                })),
            }
        }
        if !established.is_empty() {
            let done =
                json!({"event_type": "subscription_established", "correlation_id": correlation, "events": established});
            frames.push(notification(SYNC_EVENT, &done));
        }
        if !failed.is_empty() {
            let done = json!({"event_type": "subscription_failed", "correlation_id": correlation, "events": failed});
            frames.push(notification(SYNC_EVENT, &done));
        }
        (answer, frames)
    }

    /// Follows one object once the person may read it; what changed since
    /// their `last_event_id`, if they gave one.
    async fn establish(
        &mut self,
        w: &Wanted,
        state: &Arc<AppState>,
    ) -> Result<Vec<Push>, crate::server::error::ApiError> {
        let object = Object::parse(&w.sid)
            .ok_or_else(|| crate::server::error::ApiError::not_found(format!("Sync object {}", w.sid)))?;
        let caller = Caller::Person(self.identity.clone());
        let urls = self.urls.clone();
        // From an earlier connection: what changed since, from the store.
        let since = w.last_event_id.filter(|id| *id < self.opened).map(|id| event_id_secs(id) - REPLAY_SLACK_SECS);
        let after = w.last_event_id.unwrap_or(0);
        let o = object.clone();
        let (document, replayed) = state
            .store
            .read(move |conn| {
                // The descriptor read checks access; a document's data is kept for later pushes.
                let d = objects::descriptor(conn, &caller, &urls, urls.base(), &o, false)?;
                let replayed = match since {
                    Some(s) => objects::replay(conn, &caller, &urls, &o, s)?,
                    None => Vec::new(),
                };
                Ok((d.get("data").cloned(), replayed))
            })
            .await?;
        if let (Object::Conversation(c), Some(data)) = (&object, document) {
            self.documents.insert(c.clone(), data);
        }
        let mut replayed = replayed;
        replayed.extend(self.recent.iter().filter(|(at, p)| *at > after && p.object == object).map(|(_, p)| p.clone()));
        self.objects.insert(object);
        Ok(replayed)
    }

    /// One `/v1/Stream` event for this person, as the frames to push.
    pub fn on_hub_event(&mut self, text: &str) -> Vec<Frame> {
        let Ok(event) = serde_json::from_str::<ServerEvent>(text) else {
            tracing::warn!("a stream event that does not parse: {text}");
            return Vec::new();
        };
        let mut frames = Vec::new();
        for out in events::from_stream(&event, &self.identity) {
            match out {
                Out::Typing { conversation, identity } => frames.push(notification(
                    TYPING,
                    &json!({"channel_sid": conversation, "identity": identity, "typing_timeout": TYPING_TIMEOUT_SECS}),
                )),
                Out::Sync(push) => {
                    if self.recent.len() == RECENT {
                        self.recent.pop_front();
                    }
                    self.recent.push_back((next_event_id(), push.clone()));
                    let followed = self.objects.contains(&push.object);
                    tracing::debug!(object = %push.object.name(), followed, "sync push");
                    if followed {
                        frames.push(self.push_frame(push));
                    }
                }
            }
        }
        frames
    }
}
