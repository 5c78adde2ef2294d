//! `Message`: one message of a conversation, as Twilio's SDK shows it. A
//! snapshot (the latest version arrives with `Event::MessageUpdated`), with the
//! calls that edit or delete it.

use serde_json::Value;
use time::OffsetDateTime;

use super::conversation::Conversation;
use super::participant::Participant;
use super::shared::{parse_attributes, parse_date};
use crate::api::{self, params::MessageParams};
use crate::sdk::error::{Error, Result};
use crate::sdk::rules::rich::{self, ReplyTo};
use crate::sdk::state::echo::EchoKey;

/// A message. Cheap to clone.
#[derive(Clone)]
pub struct Message {
    conversation: Conversation,
    data: api::Message,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("index", &self.data.index)
            .field("author", &self.data.author)
            .field("body", &self.data.body)
            .finish()
    }
}

impl Message {
    pub(crate) fn new(conversation: Conversation, data: api::Message) -> Self {
        Self { conversation, data }
    }

    /// The raw wire resource.
    pub fn resource(&self) -> &api::Message {
        &self.data
    }
    /// The message SID (`IM…`).
    pub fn sid(&self) -> &str {
        &self.data.sid
    }
    /// Position in the conversation: grows with each message, may have gaps.
    pub fn index(&self) -> i64 {
        self.data.index
    }
    /// Who wrote it: the author's identity (`system` for admin REST posts).
    pub fn author(&self) -> Option<String> {
        self.data.author.clone()
    }
    /// The text, if any.
    pub fn body(&self) -> Option<String> {
        self.data.body.clone()
    }
    /// The attributes, parsed (`{}` when unset).
    pub fn attributes(&self) -> Value {
        parse_attributes(&self.data.attributes)
    }
    /// When it was sent.
    pub fn date_created(&self) -> Option<OffsetDateTime> {
        parse_date(&self.data.date_created)
    }
    /// When it was last edited (or sent).
    pub fn date_updated(&self) -> Option<OffsetDateTime> {
        self.data.date_updated.as_deref().and_then(parse_date)
    }
    /// The author's participant SID; `None` for system messages.
    pub fn participant_sid(&self) -> Option<String> {
        self.data.participant_sid.clone()
    }
    /// Media descriptors as the server sent them, if any.
    pub fn media(&self) -> Option<Value> {
        self.data.media.clone()
    }
    /// The aggregated delivery receipt (non-chat recipients only).
    pub fn aggregated_delivery_receipt(&self) -> Option<Value> {
        self.data.delivery.clone()
    }
    /// The conversation it belongs to.
    pub fn conversation(&self) -> &Conversation {
        &self.conversation
    }
    /// The message this one answers, when it is a reply (`attributes.reply_to`).
    pub fn replied_to(&self) -> Option<ReplyTo> {
        rich::reply_to(&self.attributes())
    }
    /// What a reply to this message carries in its `attributes.reply_to`.
    pub fn reply_target(&self) -> ReplyTo {
        ReplyTo {
            message_sid: self.data.sid.clone(),
            index: self.data.index,
            author: self.data.author.clone().unwrap_or_default(),
        }
    }
    /// Identities (sorted, without the author) of the participants whose read
    /// horizon reaches this message, from the roster the client holds (complete
    /// once the conversation is opened or its participants were listed).
    pub fn read_by(&self) -> Vec<String> {
        let model = self.conversation.shared.model();
        let Some(conv) = model.conv(self.conversation.sid()) else { return Vec::new() };
        rich::read_by(conv.roster.values(), self.data.index, self.data.author.as_deref())
    }

    async fn update(&self, params: MessageParams) -> Result<Message> {
        let shared = &self.conversation.shared;
        let m = shared.rest.update_message(self.conversation.sid(), &self.data.sid, &params).await?;
        shared
            .apply(|model| {
                model.echoes.await_echo(EchoKey::message(&m));
                model.upsert_message(m.clone(), false)
            })
            .await;
        Ok(Message::new(self.conversation.clone(), m))
    }

    /// Replaces the body (own messages only); resolves to the edited message.
    pub async fn update_body(&self, body: &str) -> Result<Message> {
        self.update(MessageParams { body: Some(body.to_owned()), ..Default::default() }).await
    }

    /// Replaces the attributes; resolves to the edited message.
    pub async fn update_attributes(&self, attributes: &Value) -> Result<Message> {
        self.update(MessageParams { attributes: Some(attributes.to_string()), ..Default::default() }).await
    }

    /// Deletes the message. Its index is never reused.
    pub async fn remove(&self) -> Result<()> {
        let shared = &self.conversation.shared;
        shared.rest.delete_message(self.conversation.sid(), &self.data.sid).await?;
        shared.apply(|model| model.remove_message(&self.data)).await;
        Ok(())
    }

    /// The participant who wrote it (fails for system messages, which have none).
    pub async fn get_participant(&self) -> Result<Participant> {
        match &self.data.participant_sid {
            Some(sid) => self.conversation.get_participant_by_sid(sid).await,
            None => Err(Error::InvalidArgument("message has no participant (system message)".into())),
        }
    }
}
