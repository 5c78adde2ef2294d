//! The sync task's search commands: `Search` (a page of hits, sent back as
//! `Diff::SearchResults`) and `OpenAt` (a conversation opened around one index).

use super::Task;
use super::protocol::Diff;
use crate::sdk::error::{Error, Result};
use crate::sdk::wire::endpoints::SearchQuery;

impl Task {
    /// One page of hits for `query`, echoed back with its `request` number.
    pub(super) async fn search(
        &mut self,
        request: u64,
        query: String,
        conversation_sid: Option<String>,
        page_token: Option<String>,
    ) -> Result<()> {
        self.engine.online()?;
        let q =
            SearchQuery { query, conversation_sid, author: None, page_size: Some(self.engine.page_size()), page_token };
        let page = self.engine.rest.search_messages(&q).await?;
        let diff = Diff::SearchResults { request, messages: page.messages, next_page_token: page.next_page_token };
        // A closed channel means the UI is gone; the task notices and stops.
        let _ = self.diffs.send(diff).await;
        Ok(())
    }

    /// Opens `sid` around `index`: its roster, then a page at and before the
    /// index and a page after it, fetched together. The window held before is
    /// dropped, so that the model holds what the UI will (and a resync
    /// re-reads only that).
    pub(super) async fn open_at(&mut self, sid: String, index: i64) -> Result<()> {
        let engine = &mut self.engine;
        engine.online()?;
        let known = match engine.model().conv_mut(&sid).filter(|c| c.is_member()) {
            Some(c) => {
                c.opened = true;
                true
            }
            None => false,
        };
        if !known {
            return Err(Error::InvalidArgument(format!("unknown conversation {sid}")));
        }
        let participants = engine.rest.list_participants(&sid).await?;
        engine.apply(|m| m.set_roster(&sid, participants)).await;
        let n = engine.page_size();
        let (older, newer) = tokio::try_join!(
            engine.rest.messages_before(&sid, Some(index.saturating_add(1)), n),
            engine.rest.messages_after(&sid, Some(index), n),
        )?;
        let (has_older, has_newer) = (older.more, newer.more);
        let mut messages = older.messages;
        messages.extend(newer.messages);
        match (messages.first(), messages.last()) {
            (Some(first), Some(last)) => engine.model().trim(&sid, first.index, last.index),
            _ => engine.model().trim(&sid, 0, -1),
        }
        engine.loaded(&sid, messages, has_older, has_newer).await;
        Ok(())
    }
}
