//! Message history as a `Paginator`: keyset pages older or newer than an index,
//! with Twilio's orientation (items ascending; `prev_page` = older, `next_page`
//! = newer). Whether a neighbour exists is known from a one-item look-ahead.

use futures_util::future::BoxFuture;

use super::conversation::Conversation;
use super::error::Result;
use super::message::Message;
use super::paginator::{Fetch, Paginator};

/// Up to `n` messages with index < `before` (`None`: the newest).
/// `newer_known` is whether newer ones exist, when the caller knows.
pub(crate) fn older(
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
pub(crate) fn newer(
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
