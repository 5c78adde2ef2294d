//! Typed calls for each REST v1 endpoint the SDK uses, on top of `Rest`, plus
//! the keyset message fetches (older / newer than an index) that both the
//! `Conversation` API and the engine page with. No caching here.

use reqwest::Url;

use super::transport::Rest;
use crate::api::params::{ConversationParams, MessageParams, ParticipantParams, UserConversationParams, UserParams};
use crate::api::{Conversation, Message, Page, PageToken, Participant, User, UserConversation};
use crate::sdk::error::{Error, Result};

/// Largest `PageSize` the server accepts for messages.
const MAX_MESSAGE_PAGE: u32 = 100;

/// A page of messages in ascending index order, and whether more lie beyond
/// the far end of the fetch (older for `before`, newer for `after`).
#[derive(Debug, Clone)]
pub struct MessageSlice {
    pub messages: Vec<Message>,
    pub more: bool,
}

/// What `search_messages` asks for; `page_token` continues a previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub query: String,
    pub conversation_sid: Option<String>,
    pub author: Option<String>,
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
}

/// One page of search hits, newest first, and the token of the next one.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub messages: Vec<Message>,
    pub next_page_token: Option<String>,
}

impl Rest {
    async fn all_pages<T: serde::de::DeserializeOwned>(&self, first: Page<T>) -> Result<Vec<T>> {
        let mut items = first.items;
        let mut next = first.meta.next_page_url;
        while let Some(url) = next {
            let url = Url::parse(&url).map_err(|e| Error::Decode(format!("next_page_url: {e}")))?;
            let page: Page<T> = self.get_url(url).await?;
            if page.items.is_empty() {
                break;
            }
            items.extend(page.items);
            next = page.meta.next_page_url;
        }
        Ok(items)
    }

    // --- users -------------------------------------------------------------

    pub async fn get_user(&self, identity: &str) -> Result<User> {
        self.get(&["Users", identity], &[]).await
    }

    pub async fn update_user(&self, identity: &str, params: &UserParams) -> Result<User> {
        self.post(&["Users", identity], params, None).await
    }

    /// Every conversation `identity` participates in, with their state in it.
    pub async fn list_user_conversations(&self, identity: &str) -> Result<Vec<UserConversation>> {
        let first = self.get(&["Users", identity, "Conversations"], &[("PageSize", "50".into())]).await?;
        self.all_pages(first).await
    }

    pub async fn get_user_conversation(&self, identity: &str, conversation: &str) -> Result<UserConversation> {
        self.get(&["Users", identity, "Conversations", conversation], &[]).await
    }

    pub async fn update_user_conversation(
        &self,
        identity: &str,
        conversation: &str,
        params: &UserConversationParams,
    ) -> Result<UserConversation> {
        self.post(&["Users", identity, "Conversations", conversation], params, None).await
    }

    /// Sets the user's read horizon in a conversation; `None` clears it (sent as
    /// an empty value, `LastReadMessageIndex=`, which Twilio reads as unset).
    pub async fn set_read_horizon(
        &self,
        identity: &str,
        conversation: &str,
        index: Option<i64>,
    ) -> Result<UserConversation> {
        let horizon = index.map(|i| i.to_string()).unwrap_or_default();
        let params = UserConversationParams { last_read_message_index: Some(horizon), ..Default::default() };
        self.update_user_conversation(identity, conversation, &params).await
    }

    // --- conversations -----------------------------------------------------

    /// Every conversation the caller can see (a person: their own).
    pub async fn list_conversations(&self) -> Result<Vec<Conversation>> {
        let first = self.conversations_page(None, 100).await?;
        self.all_pages(first).await
    }

    /// One page of conversations: the first, or the one at a URL the server gave.
    pub async fn conversations_page(&self, url: Option<&str>, page_size: u32) -> Result<Page<Conversation>> {
        match url {
            Some(url) => self.get_url(Url::parse(url).map_err(|e| Error::Decode(e.to_string()))?).await,
            None => self.get(&["Conversations"], &[("PageSize", page_size.to_string())]).await,
        }
    }

    pub async fn get_conversation(&self, sid_or_unique_name: &str) -> Result<Conversation> {
        self.get(&["Conversations", sid_or_unique_name], &[]).await
    }

    pub async fn create_conversation(&self, params: &ConversationParams) -> Result<Conversation> {
        self.post(&["Conversations"], params, None).await
    }

    pub async fn update_conversation(&self, sid: &str, params: &ConversationParams) -> Result<Conversation> {
        self.post(&["Conversations", sid], params, None).await
    }

    pub async fn delete_conversation(&self, sid: &str) -> Result<()> {
        self.delete(&["Conversations", sid]).await
    }

    // --- messages ----------------------------------------------------------

    /// One raw page: `Order=asc|desc`, `PageSize`, and a keyset `PageToken`.
    pub async fn messages_page(
        &self,
        conversation: &str,
        descending: bool,
        page_size: u32,
        token: Option<PageToken>,
    ) -> Result<Page<Message>> {
        let mut query =
            vec![("Order", if descending { "desc" } else { "asc" }.to_owned()), ("PageSize", page_size.to_string())];
        if let Some(token) = token {
            query.push(("PageToken", token.to_string()));
        }
        self.get(&["Conversations", conversation, "Messages"], &query).await
    }

    /// Up to `n` messages with index < `before` (`None`: the newest), ascending;
    /// `more` says whether older ones exist. Asks for one extra to know.
    pub async fn messages_before(&self, conversation: &str, before: Option<i64>, n: u32) -> Result<MessageSlice> {
        let n = n.clamp(1, MAX_MESSAGE_PAGE);
        let ask = (n + 1).min(MAX_MESSAGE_PAGE);
        let token = before.map(|i| PageToken::After(i.to_string()));
        let page = self.messages_page(conversation, true, ask, token).await?;
        let has_next_url = page.meta.next_page_url.is_some();
        let mut messages = page.items;
        let more = if ask > n { messages.len() > n as usize } else { has_next_url };
        messages.truncate(n as usize);
        messages.reverse();
        Ok(MessageSlice { messages, more })
    }

    /// Up to `n` messages with index > `after` (`None`: from the oldest),
    /// ascending; `more` says whether newer ones exist.
    pub async fn messages_after(&self, conversation: &str, after: Option<i64>, n: u32) -> Result<MessageSlice> {
        let n = n.clamp(1, MAX_MESSAGE_PAGE);
        let ask = (n + 1).min(MAX_MESSAGE_PAGE);
        let token = after.map(|i| PageToken::After(i.to_string()));
        let page = self.messages_page(conversation, false, ask, token).await?;
        let has_next_url = page.meta.next_page_url.is_some();
        let mut messages = page.items;
        let more = if ask > n { messages.len() > n as usize } else { has_next_url };
        messages.truncate(n as usize);
        Ok(MessageSlice { messages, more })
    }

    /// Every message with `after` < index ≤ `through`, ascending, fetched a few
    /// pages at a time. A page of 99 messages after index `x` reaches at least
    /// index `x + 99` (indexes are unique), so pages starting every 99 indexes
    /// cover the range without holes; where deletions left gaps they overlap,
    /// and the overlap is dropped here.
    pub async fn messages_range(&self, conversation: &str, after: i64, through: i64) -> Result<Vec<Message>> {
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        const STEP: u32 = MAX_MESSAGE_PAGE - 1;
        const IN_FLIGHT: usize = 4;
        let starts = (after..through).step_by(STEP as usize);
        let pages: Vec<MessageSlice> = stream::iter(starts)
            .map(|x| self.messages_after(conversation, Some(x), STEP))
            .buffered(IN_FLIGHT)
            .try_collect()
            .await?;
        let mut by_index = std::collections::BTreeMap::new();
        for m in pages.into_iter().flat_map(|p| p.messages) {
            if m.index <= through {
                by_index.insert(m.index, m);
            }
        }
        Ok(by_index.into_values().collect())
    }

    pub async fn get_message(&self, conversation: &str, sid_or_index: &str) -> Result<Message> {
        self.get(&["Conversations", conversation, "Messages", sid_or_index], &[]).await
    }

    /// Posts a message; a retry with the same `idempotency_key` returns the
    /// first message instead of posting a second.
    pub async fn post_message(
        &self,
        conversation: &str,
        params: &MessageParams,
        idempotency_key: &str,
    ) -> Result<Message> {
        self.post(&["Conversations", conversation, "Messages"], params, Some(idempotency_key)).await
    }

    pub async fn update_message(&self, conversation: &str, sid: &str, params: &MessageParams) -> Result<Message> {
        self.post(&["Conversations", conversation, "Messages", sid], params, None).await
    }

    pub async fn delete_message(&self, conversation: &str, sid: &str) -> Result<()> {
        self.delete(&["Conversations", conversation, "Messages", sid]).await
    }

    // --- search (our extension) --------------------------------------------

    /// One page of `GET /v1/Search/Messages`: hits newest first, and the token
    /// of the next (older) page, taken from the server's `next_page_url`.
    pub async fn search_messages(&self, q: &SearchQuery) -> Result<SearchPage> {
        let mut query = vec![("Query", q.query.clone())];
        query.extend(q.conversation_sid.iter().map(|c| ("ConversationSid", c.clone())));
        query.extend(q.author.iter().map(|a| ("Author", a.clone())));
        query.extend(q.page_size.map(|n| ("PageSize", n.to_string())));
        query.extend(q.page_token.iter().map(|t| ("PageToken", t.clone())));
        let page: Page<Message> = self.get(&["Search", "Messages"], &query).await?;
        let next_page_token = match page.meta.next_page_url.as_deref() {
            Some(url) => {
                let url = Url::parse(url).map_err(|e| Error::Decode(format!("next_page_url: {e}")))?;
                let token = url.query_pairs().find(|(k, _)| k == "PageToken").map(|(_, v)| v.into_owned());
                Some(token.ok_or_else(|| Error::Decode("next_page_url without a PageToken".into()))?)
            }
            None => None,
        };
        Ok(SearchPage { messages: page.items, next_page_token })
    }

    // --- participants ------------------------------------------------------

    pub async fn list_participants(&self, conversation: &str) -> Result<Vec<Participant>> {
        let first = self.get(&["Conversations", conversation, "Participants"], &[("PageSize", "100".into())]).await?;
        self.all_pages(first).await
    }

    pub async fn get_participant(&self, conversation: &str, sid_or_identity: &str) -> Result<Participant> {
        self.get(&["Conversations", conversation, "Participants", sid_or_identity], &[]).await
    }

    pub async fn add_participant(&self, conversation: &str, params: &ParticipantParams) -> Result<Participant> {
        self.post(&["Conversations", conversation, "Participants"], params, None).await
    }

    pub async fn update_participant(
        &self,
        conversation: &str,
        sid: &str,
        params: &ParticipantParams,
    ) -> Result<Participant> {
        self.post(&["Conversations", conversation, "Participants", sid], params, None).await
    }

    pub async fn remove_participant(&self, conversation: &str, sid_or_identity: &str) -> Result<()> {
        self.delete(&["Conversations", conversation, "Participants", sid_or_identity]).await
    }
}
