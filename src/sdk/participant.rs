//! `Participant`: a member of a conversation, as Twilio's SDK shows it. A
//! snapshot (the latest comes with `Event::ParticipantUpdated`), except
//! `is_typing`, which reads the client's live typing state.

use serde_json::Value;
use time::OffsetDateTime;

use super::conversation::{Conversation, parse_attributes, parse_date};
use super::echo::EchoKey;
use super::error::Result;
use crate::api::{self, params::ParticipantParams};

/// A participant. Cheap to clone.
#[derive(Clone)]
pub struct Participant {
    conversation: Conversation,
    data: api::Participant,
}

impl std::fmt::Debug for Participant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Participant").field("sid", &self.data.sid).field("identity", &self.data.identity).finish()
    }
}

impl Participant {
    pub(crate) fn new(conversation: Conversation, data: api::Participant) -> Self {
        Self { conversation, data }
    }

    /// The raw wire resource.
    pub fn resource(&self) -> &api::Participant {
        &self.data
    }
    /// The participant SID (`MB…`).
    pub fn sid(&self) -> &str {
        &self.data.sid
    }
    /// Set for chat participants; `None` for SMS/WhatsApp ones.
    pub fn identity(&self) -> Option<String> {
        self.data.identity.clone()
    }
    /// The attributes, parsed (`{}` when unset).
    pub fn attributes(&self) -> Value {
        parse_attributes(&self.data.attributes)
    }
    /// When they joined.
    pub fn date_created(&self) -> Option<OffsetDateTime> {
        parse_date(&self.data.date_created)
    }
    /// When they last changed (e.g. moved their read horizon).
    pub fn date_updated(&self) -> Option<OffsetDateTime> {
        parse_date(&self.data.date_updated)
    }
    /// Their read horizon; `None` until they set one.
    pub fn last_read_message_index(&self) -> Option<i64> {
        self.data.last_read_message_index
    }
    /// When they last moved their read horizon.
    pub fn last_read_timestamp(&self) -> Option<OffsetDateTime> {
        self.data.last_read_timestamp.as_deref().and_then(parse_date)
    }
    /// Their conversation role (`RL…`), if any.
    pub fn role_sid(&self) -> Option<String> {
        self.data.role_sid.clone()
    }
    /// `chat`, or the binding's type (`sms`, `whatsapp`, …).
    pub fn kind(&self) -> String {
        self.data
            .messaging_binding
            .as_ref()
            .and_then(|b| b.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("chat")
            .to_owned()
    }
    /// Whether this participant is typing now (live).
    pub fn is_typing(&self) -> bool {
        match &self.data.identity {
            Some(identity) => self.conversation.shared.is_typing(self.conversation.sid(), identity),
            None => false,
        }
    }
    /// The conversation they are in.
    pub fn conversation(&self) -> &Conversation {
        &self.conversation
    }

    /// Replaces the attributes; resolves to the updated participant.
    pub async fn update_attributes(&self, attributes: &Value) -> Result<Participant> {
        let params = ParticipantParams { attributes: Some(attributes.to_string()), ..Default::default() };
        let shared = &self.conversation.shared;
        let p = shared.rest.update_participant(self.conversation.sid(), &self.data.sid, &params).await?;
        shared.expect_echo(EchoKey::participant(&p));
        Ok(Participant::new(self.conversation.clone(), shared.apply_participant(p)))
    }

    /// Removes this participant from the conversation.
    pub async fn remove(&self) -> Result<()> {
        self.conversation.remove_participant(&self.data.sid).await
    }
}
