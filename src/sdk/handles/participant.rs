//! `Participant`: a member of a conversation, as Twilio's SDK shows it. A
//! snapshot (the latest comes with `Event::ParticipantUpdated`), except
//! `is_typing`, which reads the model's live typing state. Also the
//! `Conversation` calls that add, list, find and remove participants.

use serde_json::Value;
use time::OffsetDateTime;

use super::conversation::Conversation;
use super::shared::{parse_attributes, parse_date};
use crate::api::{self, params::ParticipantParams};
use crate::sdk::error::{Error, Result};
use crate::sdk::state::echo::EchoKey;

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
            Some(identity) => self.conversation.shared.model().is_typing(self.conversation.sid(), identity),
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
        shared
            .apply(|m| {
                m.echoes.await_echo(EchoKey::participant(&p));
                m.upsert_participant(p.clone(), false)
            })
            .await;
        Ok(Participant::new(self.conversation.clone(), p))
    }

    /// Removes this participant from the conversation.
    pub async fn remove(&self) -> Result<()> {
        self.conversation.remove_participant(&self.data.sid).await
    }
}

impl Conversation {
    fn participant(&self, p: api::Participant) -> Participant {
        Participant::new(self.clone(), p)
    }

    async fn add_with(&self, params: ParticipantParams) -> Result<Participant> {
        let p = self.shared.rest.add_participant(self.sid(), &params).await?;
        self.shared.apply(|m| m.upsert_participant(p.clone(), true)).await;
        Ok(self.participant(p))
    }

    /// Adds a chat participant by identity.
    pub async fn add(&self, identity: &str, attributes: Option<&Value>) -> Result<Participant> {
        self.add_with(ParticipantParams {
            identity: Some(identity.to_owned()),
            attributes: attributes.map(Value::to_string),
            ..Default::default()
        })
        .await
    }

    /// Adds a non-chat (SMS, WhatsApp) participant by its address and the proxy
    /// address it talks to.
    pub async fn add_non_chat_participant(
        &self,
        proxy_address: &str,
        address: &str,
        attributes: Option<&Value>,
    ) -> Result<Participant> {
        self.add_with(ParticipantParams {
            messaging_binding_address: Some(address.to_owned()),
            messaging_binding_proxy_address: Some(proxy_address.to_owned()),
            attributes: attributes.map(Value::to_string),
            ..Default::default()
        })
        .await
    }

    /// Every participant (fresh from the server).
    pub async fn get_participants(&self) -> Result<Vec<Participant>> {
        let list = self.shared.rest.list_participants(self.sid()).await?;
        self.shared.apply(|m| m.set_roster(self.sid(), list.clone())).await;
        Ok(list.into_iter().map(|p| self.participant(p)).collect())
    }

    /// The participant with this identity; 404 when there is none.
    pub async fn get_participant_by_identity(&self, identity: &str) -> Result<Participant> {
        let p = self.shared.rest.get_participant(self.sid(), identity).await?;
        Ok(self.participant(p))
    }

    /// The participant with this SID (`MB…`); 404 when there is none.
    pub async fn get_participant_by_sid(&self, sid: &str) -> Result<Participant> {
        if !api::sid::is_sid(api::sid::prefix::PARTICIPANT, sid) {
            return Err(Error::InvalidArgument(format!("not a participant SID: {sid}")));
        }
        let p = self.shared.rest.get_participant(self.sid(), sid).await?;
        Ok(self.participant(p))
    }

    /// How many participants it has (fresh from the server).
    pub async fn get_participants_count(&self) -> Result<u64> {
        Ok(self.refresh().await?.participants_count)
    }

    /// Removes a participant, by identity or SID.
    pub async fn remove_participant(&self, identity_or_sid: &str) -> Result<()> {
        let known = self.shared.model().participant(self.sid(), identity_or_sid).cloned();
        self.shared.rest.remove_participant(self.sid(), identity_or_sid).await?;
        if let Some(p) = known {
            self.shared.apply(|m| m.remove_participant(&p)).await;
        }
        Ok(())
    }
}
