//! `MessageBuilder` and `UnsentMessage`: Twilio's `prepareMessage()` flow, for
//! messages assembled step by step (body, subject, attributes) before sending.

use serde_json::Value;

use super::conversation::Conversation;
use crate::api::params::MessageParams;
use crate::sdk::error::Result;

/// Assembles a message; `build` freezes it, `send` posts it.
#[derive(Debug, Clone)]
pub struct MessageBuilder {
    conversation: Conversation,
    params: MessageParams,
}

impl MessageBuilder {
    pub(crate) fn new(conversation: Conversation) -> Self {
        Self { conversation, params: MessageParams::default() }
    }

    pub fn set_body(mut self, body: &str) -> Self {
        self.params.body = Some(body.to_owned());
        self
    }

    pub fn set_subject(mut self, subject: &str) -> Self {
        self.params.subject = Some(subject.to_owned());
        self
    }

    pub fn set_attributes(mut self, attributes: &Value) -> Self {
        self.params.attributes = Some(attributes.to_string());
        self
    }

    /// Freezes the message.
    pub fn build(self) -> UnsentMessage {
        UnsentMessage { conversation: self.conversation, params: self.params }
    }

    /// `build()` then `send()`.
    pub async fn build_and_send(self) -> Result<i64> {
        self.build().send().await
    }
}

/// A built message, not sent yet.
#[derive(Debug, Clone)]
pub struct UnsentMessage {
    conversation: Conversation,
    params: MessageParams,
}

impl UnsentMessage {
    /// Sends it; resolves to the new message's index.
    pub async fn send(self) -> Result<i64> {
        self.conversation.post_message(self.params).await
    }
}
