//! `MessageBuilder` and `UnsentMessage`: Twilio's `prepareMessage()` flow, for
//! messages assembled step by step (body, subject, attributes, media) before sending.

use std::sync::Arc;

use serde_json::Value;

use super::conversation::Conversation;
use super::media::{self, MediaContent, ProgressFn, UploadProgress};
use crate::api::params::MessageParams;
use crate::sdk::error::Result;

/// Assembles a message; `build` freezes it, `send` uploads its media and posts it.
pub struct MessageBuilder {
    conversation: Conversation,
    params: MessageParams,
    media: Vec<MediaContent>,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for MessageBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageBuilder")
            .field("conversation", &self.conversation.sid())
            .field("params", &self.params)
            .field("media", &self.media)
            .finish()
    }
}

impl MessageBuilder {
    pub(crate) fn new(conversation: Conversation) -> Self {
        Self { conversation, params: MessageParams::default(), media: Vec::new(), progress: None }
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

    /// Attaches a media (a path, bytes or a reader: see `MediaContent`); call
    /// again for more. Uploaded, streamed, when the message is sent.
    pub fn add_media(mut self, content: MediaContent) -> Self {
        self.media.push(content);
        self
    }

    /// Calls `f` as the media upload: at most ~10 times a second per media
    /// while bytes move, and once with `sent == total` when the server holds it.
    /// A `tokio::sync::watch::Sender::send_replace` fits here well.
    pub fn on_upload_progress(mut self, f: impl Fn(UploadProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Freezes the message.
    pub fn build(self) -> UnsentMessage {
        UnsentMessage {
            conversation: self.conversation,
            params: self.params,
            media: self.media,
            progress: self.progress,
        }
    }

    /// `build()` then `send()`.
    pub async fn build_and_send(self) -> Result<i64> {
        self.build().send().await
    }
}

/// A built message, not sent yet.
pub struct UnsentMessage {
    conversation: Conversation,
    params: MessageParams,
    media: Vec<MediaContent>,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for UnsentMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnsentMessage")
            .field("conversation", &self.conversation.sid())
            .field("params", &self.params)
            .field("media", &self.media)
            .finish()
    }
}

impl UnsentMessage {
    /// Uploads its media in order (any failure, e.g. Twilio's 413 / 21617 for
    /// a file over the limit, fails the send before a message is posted), then
    /// posts it; resolves to the new message's index.
    pub async fn send(self) -> Result<i64> {
        let mut params = self.params;
        if !self.media.is_empty() {
            let service = self.conversation.resource().chat_service_sid;
            let shared = &self.conversation.shared;
            for (i, content) in self.media.into_iter().enumerate() {
                let uploaded = media::upload(shared, &service, i, content, self.progress.clone()).await?;
                params.media_sid.push(uploaded.sid);
            }
        }
        self.conversation.post_message(params).await
    }
}
