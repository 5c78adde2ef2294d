//! Message history as a `Paginator`: keyset pages older or newer than an index,
//! with Twilio's orientation (items ascending; `prev_page` = older, `next_page`
//! = newer). Whether a neighbour exists is known from a one-item look-ahead.
//! Also the `Conversation` calls that read and send messages.

use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::conversation::{Conversation, Direction};
use super::message::Message;
use super::message_builder::MessageBuilder;
use super::paginator::{Fetch, Paginator};
use crate::api::params::MessageParams;
use crate::sdk::error::{Error, Result};
use crate::sdk::rules::rich;

/// Default `get_messages` page size, as in Twilio's SDK.
pub const DEFAULT_PAGE_SIZE: u32 = 30;
/// Largest page the server serves.
pub const MAX_PAGE_SIZE: u32 = 100;
/// How often a send that found no connection is tried again (with the same key).
const SEND_RETRIES: u32 = 3;

impl Conversation {
    /// A page of messages. `page_size` defaults to 30 (at most 100); `anchor` is
    /// a message index (inclusive; `None` = the newest for `Backwards`, the
    /// oldest for `Forward`). Items are in ascending index order either way;
    /// `prev_page` goes to older messages and `next_page` to newer ones.
    pub async fn get_messages(
        &self,
        page_size: Option<u32>,
        anchor: Option<i64>,
        direction: Direction,
    ) -> Result<Paginator<Message>> {
        let n = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if n == 0 || n > MAX_PAGE_SIZE {
            return Err(Error::InvalidArgument(format!("page_size must be 1..={MAX_PAGE_SIZE}, not {n}")));
        }
        match (direction, anchor) {
            (Direction::Backwards, None) => older(self.clone(), None, n, Some(false)).await,
            (Direction::Backwards, Some(a)) => older(self.clone(), Some(a.saturating_add(1)), n, None).await,
            (Direction::Forward, None) => newer(self.clone(), None, n, Some(false)).await,
            (Direction::Forward, Some(a)) => newer(self.clone(), Some(a.saturating_sub(1)), n, None).await,
        }
    }

    /// How many messages the conversation holds (fresh from the server).
    pub async fn get_messages_count(&self) -> Result<u64> {
        Ok(self.refresh().await?.messages_count)
    }

    /// Sends a text message; resolves to its index. Retried on a lost connection
    /// with the same `Idempotency-Key`, so it lands once.
    pub async fn send_message(&self, body: &str, attributes: Option<&Value>) -> Result<i64> {
        let params = MessageParams {
            body: Some(body.to_owned()),
            attributes: attributes.map(Value::to_string),
            ..Default::default()
        };
        self.post_message(params).await
    }

    /// Sends `body` as a reply to `to`: a message whose `attributes.reply_to`
    /// names it (`{message_sid, index, author}`); resolves to the new index.
    pub async fn reply_to(&self, to: &Message, body: &str) -> Result<i64> {
        let attributes = rich::with_reply_to(None, &to.reply_target());
        self.send_message(body, Some(&attributes)).await
    }

    pub(crate) async fn post_message(&self, params: MessageParams) -> Result<i64> {
        let key = uuid::Uuid::new_v4().to_string();
        let mut attempt = 0;
        let m = loop {
            match self.shared.rest.post_message(self.sid(), &params, &key).await {
                Err(e) if e.is_transport() && attempt < SEND_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
                }
                other => break other?,
            }
        };
        let index = m.index;
        self.shared.apply(|model| model.upsert_message(m, true)).await;
        Ok(index)
    }

    /// A builder for a message with more than a body.
    pub fn prepare_message(&self) -> MessageBuilder {
        MessageBuilder::new(self.clone())
    }
}

/// Up to `n` messages with index < `before` (`None`: the newest).
/// `newer_known` is whether newer ones exist, when the caller knows.
fn older(
    conv: Conversation,
    before: Option<i64>,
    n: u32,
    newer_known: Option<bool>,
) -> BoxFuture<'static, Result<Paginator<Message>>> {
    Box::pin(async move {
        let rest = &conv.shared.rest;
        let slice = rest.messages_before(conv.sid(), before, n).await?;
        let last = slice.messages.last().map(|m| m.index).or(before.map(|b| b - 1));
        let has_newer = match (newer_known, last) {
            (Some(known), _) => known,
            (None, Some(last)) => !rest.messages_after(conv.sid(), Some(last), 1).await?.messages.is_empty(),
            (None, None) => false,
        };
        Ok(page(conv, slice.messages, slice.more, has_newer, before, n))
    })
}

/// Up to `n` messages with index > `after` (`None`: from the oldest).
fn newer(
    conv: Conversation,
    after: Option<i64>,
    n: u32,
    older_known: Option<bool>,
) -> BoxFuture<'static, Result<Paginator<Message>>> {
    Box::pin(async move {
        let rest = &conv.shared.rest;
        let slice = rest.messages_after(conv.sid(), after, n).await?;
        let first = slice.messages.first().map(|m| m.index).or(after.map(|a| a + 1));
        let has_older = match (older_known, first) {
            (Some(known), _) => known,
            (None, Some(first)) => !rest.messages_before(conv.sid(), Some(first), 1).await?.messages.is_empty(),
            (None, None) => false,
        };
        let before = first;
        Ok(page(conv, slice.messages, has_older, slice.more, before, n))
    })
}

/// Builds a page; `edge` is the exclusive bound used when the page is empty.
fn page(
    conv: Conversation,
    messages: Vec<crate::api::Message>,
    has_older: bool,
    has_newer: bool,
    edge: Option<i64>,
    n: u32,
) -> Paginator<Message> {
    let first = messages.first().map(|m| m.index).or(edge);
    let last = messages.last().map(|m| m.index).or(edge.map(|e| e - 1));
    let prev: Option<Fetch<Message>> = has_older.then(|| {
        let conv = conv.clone();
        Box::new(move || older(conv.clone(), first, n, Some(true))) as Fetch<Message>
    });
    let next: Option<Fetch<Message>> = has_newer.then(|| {
        let conv = conv.clone();
        Box::new(move || newer(conv.clone(), last, n, Some(true))) as Fetch<Message>
    });
    let items = messages.into_iter().map(|m| Message::new(conv.clone(), m)).collect();
    Paginator::new(items, prev, next)
}
