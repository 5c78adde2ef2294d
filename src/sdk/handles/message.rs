//! `Message`: one message of a conversation, as Twilio's SDK shows it. A
//! snapshot (the latest version arrives with `Event::MessageUpdated`), with the
//! calls that edit, delete or react to it, and its attached media.

use std::collections::BTreeMap;

use serde_json::Value;
use time::OffsetDateTime;

use super::conversation::Conversation;
use super::media::Media;
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
    /// Media descriptors as the server sent them, if any (see `attached_media`).
    pub fn media(&self) -> Option<Value> {
        self.data.media.clone()
    }
    /// The media attached to it, in order (empty for a text message).
    pub fn attached_media(&self) -> Vec<Media> {
        let service = match &self.data.chat_service_sid {
            Some(s) => s.clone(),
            None => self.conversation.resource().chat_service_sid,
        };
        rich::attached_media(self.data.media.as_ref())
            .into_iter()
            .map(|d| Media::new(self.conversation.shared.clone(), service.clone(), d))
            .collect()
    }
    /// Reactions as name → identities (sorted), from `attributes.reactions`
    /// (the shape of Twilio's demo app); names nobody holds are left out.
    pub fn reactions(&self) -> BTreeMap<String, Vec<String>> {
        rich::reactions(&self.attributes()).into_iter().collect()
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
        Ok(self.applied(m).await)
    }

    /// Replaces the body (own messages only); resolves to the edited message.
    pub async fn update_body(&self, body: &str) -> Result<Message> {
        self.update(MessageParams { body: Some(body.to_owned()), ..Default::default() }).await
    }

    /// Replaces the attributes; resolves to the edited message.
    pub async fn update_attributes(&self, attributes: &Value) -> Result<Message> {
        self.update(MessageParams { attributes: Some(attributes.to_string()), ..Default::default() }).await
    }

    /// Applies a new version of the message that a write of ours returned.
    /// The engine reads the stream on its own task, so the echo may have come
    /// first: then (the version is held already) there is nothing to await.
    async fn applied(&self, m: api::Message) -> Message {
        self.conversation
            .shared
            .apply(|model| {
                let held = model.conv(&m.conversation_sid).and_then(|c| c.window.get(&m.index));
                if held != Some(&m) {
                    model.echoes.await_echo(EchoKey::message(&m));
                }
                model.upsert_message(m.clone(), false)
            })
            .await;
        Message::new(self.conversation.clone(), m)
    }

    /// Adds the signed-in user's reaction `name` (e.g. `heart`, `thumbs_up`,
    /// or an emoji), atomically on the server so concurrent reactions all
    /// land; resolves to the updated message (others get `MessageUpdated`).
    pub async fn react(&self, name: &str) -> Result<Message> {
        let m = self.conversation.shared.rest.react(self.conversation.sid(), &self.data.sid, name).await?;
        Ok(self.applied(m).await)
    }

    /// Takes the signed-in user's reaction `name` back; resolves to the updated message.
    pub async fn unreact(&self, name: &str) -> Result<Message> {
        let m = self.conversation.shared.rest.unreact(self.conversation.sid(), &self.data.sid, name).await?;
        Ok(self.applied(m).await)
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
