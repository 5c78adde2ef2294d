//! The client's events: one typed enum instead of string-named listeners, with
//! the update reasons Twilio's SDK reports, and the `Client`'s sink, which
//! renders each model `Change` as the events it means (an update fires only
//! when a reason is found).

use std::sync::{Arc, Weak};

use futures_util::future::BoxFuture;
use serde_json::Value;
use tokio::sync::broadcast;

use super::conversation::Conversation;
use super::message::Message;
use super::participant::Participant;
use super::shared::Shared;
use super::user::User;
use crate::api;
use crate::sdk::engine::Sink;
use crate::sdk::state::change::{Change, ConversationEntry};
use crate::sdk::wire::connection::ConnectionState;

/// Something that happened, as `Client::events()` delivers it. Updates carry
/// what changed; an update fires only when a value really changed.
#[derive(Debug, Clone)]
pub enum Event {
    /// A conversation became visible to the user (joined, created, added).
    ConversationAdded(Conversation),
    ConversationUpdated {
        conversation: Conversation,
        reasons: Vec<ConversationUpdateReason>,
    },
    /// The conversation was deleted, or the user left it (or was removed).
    ConversationRemoved(Conversation),
    MessageAdded(Message),
    MessageUpdated {
        message: Message,
        reasons: Vec<MessageUpdateReason>,
    },
    MessageRemoved(Message),
    ParticipantJoined(Participant),
    ParticipantUpdated {
        participant: Participant,
        reasons: Vec<ParticipantUpdateReason>,
    },
    ParticipantLeft(Participant),
    TypingStarted(Participant),
    TypingEnded(Participant),
    UserUpdated {
        user: User,
        reasons: Vec<UserUpdateReason>,
    },
    ConnectionStateChanged(ConnectionState),
    /// The access token expires soon: call `Client::update_token`.
    TokenAboutToExpire,
    /// The access token expired; the connection stays down until it is replaced.
    TokenExpired,
}

/// What changed in a conversation (Twilio's `ConversationUpdateReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationUpdateReason {
    Attributes,
    CreatedBy,
    DateCreated,
    DateUpdated,
    FriendlyName,
    LastReadMessageIndex,
    State,
    Status,
    UniqueName,
    LastMessage,
    NotificationLevel,
    Bindings,
}

/// What changed in a message (Twilio's `MessageUpdateReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageUpdateReason {
    Body,
    DateCreated,
    DateUpdated,
    Attributes,
    Author,
    DeliveryReceipt,
    Media,
}

/// What changed in a participant (Twilio's `ParticipantUpdateReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParticipantUpdateReason {
    Attributes,
    DateCreated,
    DateUpdated,
    RoleSid,
    LastReadMessageIndex,
    LastReadTimestamp,
    Bindings,
}

/// What changed in a user (Twilio's `UserUpdateReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserUpdateReason {
    FriendlyName,
    Attributes,
    ReachabilityOnline,
    ReachabilityNotifiable,
}

/// Attributes compare as JSON values, not as text (`{"a":1}` = `{ "a": 1 }`).
fn same_json(a: &str, b: &str) -> bool {
    a == b || matches!((serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)), (Ok(x), Ok(y)) if x == y)
}

/// Reasons between two versions of a conversation and the user's state in it.
fn conversation_reasons(
    old: &api::Conversation,
    new: &api::Conversation,
    old_user: Option<&api::UserConversation>,
    new_user: Option<&api::UserConversation>,
) -> Vec<ConversationUpdateReason> {
    use ConversationUpdateReason as R;
    let mut r = Vec::new();
    let mut check = |changed: bool, reason| {
        if changed {
            r.push(reason)
        }
    };
    check(!same_json(&old.attributes, &new.attributes), R::Attributes);
    check(old.created_by != new.created_by, R::CreatedBy);
    check(old.date_created != new.date_created, R::DateCreated);
    check(old.date_updated != new.date_updated, R::DateUpdated);
    check(old.friendly_name != new.friendly_name, R::FriendlyName);
    check(old.state != new.state, R::State);
    check(old.unique_name != new.unique_name, R::UniqueName);
    check(old.last_message.as_ref().map(|m| m.index) != new.last_message.as_ref().map(|m| m.index), R::LastMessage);
    check(old.bindings != new.bindings, R::Bindings);
    check(old_user.is_some() != new_user.is_some(), R::Status);
    check(
        old_user.and_then(|u| u.last_read_message_index) != new_user.and_then(|u| u.last_read_message_index),
        R::LastReadMessageIndex,
    );
    check(old_user.map(|u| u.notification_level) != new_user.map(|u| u.notification_level), R::NotificationLevel);
    r
}

fn message_reasons(old: &api::Message, new: &api::Message) -> Vec<MessageUpdateReason> {
    use MessageUpdateReason as R;
    let mut r = Vec::new();
    let mut check = |changed: bool, reason| {
        if changed {
            r.push(reason)
        }
    };
    check(old.body != new.body, R::Body);
    check(old.date_created != new.date_created, R::DateCreated);
    check(old.date_updated != new.date_updated, R::DateUpdated);
    check(!same_json(&old.attributes, &new.attributes), R::Attributes);
    check(old.author != new.author, R::Author);
    check(old.delivery != new.delivery, R::DeliveryReceipt);
    check(old.media != new.media, R::Media);
    r
}

fn participant_reasons(old: &api::Participant, new: &api::Participant) -> Vec<ParticipantUpdateReason> {
    use ParticipantUpdateReason as R;
    let mut r = Vec::new();
    let mut check = |changed: bool, reason| {
        if changed {
            r.push(reason)
        }
    };
    check(!same_json(&old.attributes, &new.attributes), R::Attributes);
    check(old.date_created != new.date_created, R::DateCreated);
    check(old.date_updated != new.date_updated, R::DateUpdated);
    check(old.role_sid != new.role_sid, R::RoleSid);
    check(old.last_read_message_index != new.last_read_message_index, R::LastReadMessageIndex);
    check(old.last_read_timestamp != new.last_read_timestamp, R::LastReadTimestamp);
    check(old.messaging_binding != new.messaging_binding, R::Bindings);
    r
}

fn user_reasons(old: &api::User, new: &api::User) -> Vec<UserUpdateReason> {
    use UserUpdateReason as R;
    let mut r = Vec::new();
    let mut check = |changed: bool, reason| {
        if changed {
            r.push(reason)
        }
    };
    check(old.friendly_name != new.friendly_name, R::FriendlyName);
    check(!same_json(&old.attributes, &new.attributes), R::Attributes);
    check(old.is_online != new.is_online, R::ReachabilityOnline);
    check(old.is_notifiable != new.is_notifiable, R::ReachabilityNotifiable);
    r
}

/// Reasons for an edit of a message not held before: what an edit can change.
fn unknown_message_reasons() -> Vec<MessageUpdateReason> {
    vec![MessageUpdateReason::Body, MessageUpdateReason::Attributes, MessageUpdateReason::DateUpdated]
}

/// Reasons for an update of a participant not held before: what it carries.
fn unknown_participant_reasons(p: &api::Participant) -> Vec<ParticipantUpdateReason> {
    let mut reasons = vec![ParticipantUpdateReason::DateUpdated];
    if p.last_read_message_index.is_some() {
        reasons.push(ParticipantUpdateReason::LastReadMessageIndex);
    }
    if !same_json(&p.attributes, "{}") {
        reasons.push(ParticipantUpdateReason::Attributes);
    }
    reasons
}

/// The `Client`'s sink: changes in, events out on the broadcast. Holds both
/// weakly: the handles in buffered events hold `Shared`, which holds this.
pub(crate) struct EventSink {
    pub shared: Weak<Shared>,
    pub events: Weak<broadcast::Sender<Event>>,
}

impl EventSink {
    fn render(&self, shared: &Arc<Shared>, change: Change, out: &mut Vec<Event>) {
        let conv = |e: &ConversationEntry| Conversation::new(shared.clone(), e.clone());
        let of = |sid: &str| shared.model().conv(sid).map(|c| Conversation::new(shared.clone(), c.entry.clone()));
        match change {
            Change::Connection(s) => out.push(Event::ConnectionStateChanged(s)),
            Change::TokenAboutToExpire => out.push(Event::TokenAboutToExpire),
            Change::TokenExpired => out.push(Event::TokenExpired),
            Change::Error(_) | Change::MessagesLoaded { .. } => {}
            Change::List { changes, .. } | Change::Roster { changes, .. } => {
                for c in changes {
                    self.render(shared, c, out);
                }
            }
            Change::ConversationAdded(e) => out.push(Event::ConversationAdded(conv(&e))),
            Change::ConversationRemoved(e) => out.push(Event::ConversationRemoved(conv(&e))),
            Change::ConversationUpdated { old, new } => {
                let reasons = conversation_reasons(
                    &old.conversation,
                    &new.conversation,
                    old.user_state.as_ref(),
                    new.user_state.as_ref(),
                );
                if !reasons.is_empty() {
                    out.push(Event::ConversationUpdated { conversation: conv(&new), reasons });
                }
            }
            Change::MessageAdded(m) => {
                out.extend(of(&m.conversation_sid).map(|c| Event::MessageAdded(Message::new(c, m))))
            }
            Change::MessageUpdated { old, new } => {
                let reasons = old.map_or_else(unknown_message_reasons, |old| message_reasons(&old, &new));
                if let (false, Some(c)) = (reasons.is_empty(), of(&new.conversation_sid)) {
                    out.push(Event::MessageUpdated { message: Message::new(c, new), reasons });
                }
            }
            Change::MessageRemoved(m) => {
                out.extend(of(&m.conversation_sid).map(|c| Event::MessageRemoved(Message::new(c, m))))
            }
            Change::ParticipantJoined(p) => {
                out.extend(of(&p.conversation_sid).map(|c| Event::ParticipantJoined(Participant::new(c, p))))
            }
            Change::ParticipantUpdated { old, new } => {
                let reasons =
                    old.map_or_else(|| unknown_participant_reasons(&new), |old| participant_reasons(&old, &new));
                if let (false, Some(c)) = (reasons.is_empty(), of(&new.conversation_sid)) {
                    out.push(Event::ParticipantUpdated { participant: Participant::new(c, new), reasons });
                }
            }
            Change::ParticipantLeft(p) => {
                out.extend(of(&p.conversation_sid).map(|c| Event::ParticipantLeft(Participant::new(c, p))))
            }
            Change::TypingStarted(p) => {
                out.extend(of(&p.conversation_sid).map(|c| Event::TypingStarted(Participant::new(c, p))))
            }
            Change::TypingEnded(p) => {
                out.extend(of(&p.conversation_sid).map(|c| Event::TypingEnded(Participant::new(c, p))))
            }
            // A user seen the first time is not an update.
            Change::UserUpdated { old: None, .. } => {}
            Change::UserUpdated { old: Some(old), new } => {
                let reasons = user_reasons(&old, &new);
                if !reasons.is_empty() {
                    out.push(Event::UserUpdated { user: User::new(shared.clone(), new), reasons });
                }
            }
        }
    }
}

impl Sink for EventSink {
    fn deliver(&self, changes: Vec<Change>) -> BoxFuture<'_, ()> {
        if let (Some(shared), Some(tx)) = (self.shared.upgrade(), self.events.upgrade()) {
            let mut events = Vec::new();
            for change in changes {
                self.render(&shared, change, &mut events);
            }
            for event in events {
                // No subscriber is no error: events are offered, not owed.
                let _ = tx.send(event);
            }
        }
        Box::pin(std::future::ready(()))
    }
}
