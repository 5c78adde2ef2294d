//! Search for the handles front end: `Client::search_messages` (an `impl Client`
//! of its own) as a `Paginator` of `Message`s, newest first, paged by the server's token.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::client::{Client, conversation_handle};
use super::conversation::Conversation;
use super::message::Message;
use super::paginator::{Fetch, Paginator};
use super::shared::Shared;
use crate::sdk::error::{Error, Result};
use crate::sdk::wire::endpoints::SearchQuery;

/// What narrows a search: one conversation, one author, the hits per page
/// (the server's default is 50, its most 100).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchOptions {
    pub conversation_sid: Option<String>,
    pub author: Option<String>,
    pub page_size: Option<u32>,
}

impl Client {
    /// Full-text search (the server's `GET /v1/Search/Messages`) of the messages
    /// the user may read: words, `prefix*` and "phrases", all required. The
    /// paginator's items are newest first; `next_page` goes to older hits.
    pub async fn search_messages(&self, query: &str, options: SearchOptions) -> Result<Paginator<Message>> {
        if query.trim().is_empty() {
            return Err(Error::InvalidArgument("a search needs at least one word".into()));
        }
        let q = SearchQuery {
            query: query.to_owned(),
            conversation_sid: options.conversation_sid,
            author: options.author,
            page_size: options.page_size,
            page_token: None,
        };
        page(self.shared.clone(), q).await
    }
}

fn page(shared: Arc<Shared>, q: SearchQuery) -> BoxFuture<'static, Result<Paginator<Message>>> {
    Box::pin(async move {
        let found = shared.rest.search_messages(&q).await?;
        // One handle per conversation the page touches (most pages touch few).
        let mut convs: HashMap<String, Conversation> = HashMap::new();
        let mut items = Vec::with_capacity(found.messages.len());
        for m in found.messages {
            let conv = match convs.get(&m.conversation_sid) {
                Some(c) => c.clone(),
                None => {
                    let c = conversation_handle(&shared, &m.conversation_sid).await?;
                    convs.insert(m.conversation_sid.clone(), c.clone());
                    c
                }
            };
            items.push(Message::new(conv, m));
        }
        let next = found.next_page_token.map(|token| {
            let next_q = SearchQuery { page_token: Some(token), ..q.clone() };
            Box::new(move || page(shared.clone(), next_q.clone())) as Fetch<_>
        });
        Ok(Paginator::new(items, None, next))
    })
}
