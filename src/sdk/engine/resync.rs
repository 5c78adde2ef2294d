//! Bringing the model up to date after each (re)connect: the user, the
//! conversation list with the user's state in each, the rosters held, and
//! every message missed (plus a re-read of the newest held, for edits and
//! deletions made meanwhile). All of it goes through the model's
//! compare-then-apply functions, so overlaps with the stream report nothing twice.

use std::collections::{HashMap, HashSet};

use super::Engine;
use crate::api::{Message, UserConversation};
use crate::sdk::error::Result;
use crate::sdk::state::change::Change;
use crate::sdk::state::model::Scope;

/// How many of the newest held messages a resync re-reads to catch edits and
/// deletions made while offline (everything newer is read regardless).
const RECHECK_WINDOW: usize = 200;

/// What a resync re-reads of one conversation.
struct Plan {
    sid: String,
    roster: bool,
    /// The held messages re-checked: from this index to the newest held.
    recheck: Option<(i64, i64)>,
    /// Messages after this index were missed (through the server's newest).
    gap_from: Option<i64>,
    /// Opened with nothing held: load its newest page.
    load_newest: bool,
}

impl Engine {
    pub(super) async fn resync(&mut self) -> Result<()> {
        self.model().echoes.clear();
        match self.rest.get_user(&self.identity).await {
            Ok(user) => self.apply(|m| m.apply_user(user)).await,
            Err(e) if e.status() == Some(404) => {}
            Err(e) => return Err(e),
        }
        // The newest index known before the list replaces the old one: messages up
        // to it were seen (held, or trimmed away by a UI); the gap starts after it.
        let known_newest: HashMap<String, Option<i64>> = self
            .model()
            .convs()
            .filter(|(_, c)| c.is_member())
            .map(|(sid, c)| (sid.clone(), c.newest_index()))
            .collect();
        let (convs, states) =
            tokio::try_join!(self.rest.list_conversations(), self.rest.list_user_conversations(&self.identity))?;
        let states: HashMap<String, UserConversation> =
            states.into_iter().map(|s| (s.conversation_sid.clone(), s)).collect();
        let (list, unknown_opens, plans) = {
            let mut model = self.model();
            let list = model.replace_list(convs, states);
            let mut unknown = Vec::new();
            for sid in std::mem::take(&mut model.pending_opens) {
                match model.conv_mut(&sid).filter(|c| c.is_member()) {
                    Some(c) => c.opened = true,
                    None => unknown.push(sid),
                }
            }
            let cache = model.scope() == Scope::Cache;
            let plans: Vec<Plan> = model
                .convs()
                .filter(|(_, c)| c.is_member())
                .map(|(sid, c)| {
                    let newest_held = c.window.keys().next_back().copied();
                    let recheck = newest_held.map(|newest| {
                        let n = RECHECK_WINDOW.min(c.window.len());
                        (c.window.keys().rev().nth(n - 1).copied().unwrap_or(newest), newest)
                    });
                    // A view fills gaps where it holds a window; a cache wherever it knew the end.
                    let known = known_newest.get(sid).copied();
                    let gap_from = match (newest_held, known) {
                        (Some(h), k) => Some(h.max(k.flatten().unwrap_or(h))),
                        (None, Some(k)) if cache => Some(k.unwrap_or(-1)),
                        _ => None,
                    };
                    Plan {
                        sid: sid.clone(),
                        roster: c.opened || !c.roster.is_empty(),
                        recheck,
                        gap_from,
                        load_newest: c.opened && c.window.is_empty(),
                    }
                })
                .collect();
            (list, unknown, plans)
        };
        self.deliver(vec![list]).await;
        let errors = unknown_opens.into_iter().map(|sid| Change::Error(format!("open: unknown conversation {sid}")));
        self.deliver(errors.collect()).await;
        for plan in plans {
            self.resync_conversation(plan).await?;
        }
        Ok(())
    }

    async fn resync_conversation(&mut self, plan: Plan) -> Result<()> {
        let sid = plan.sid;
        if plan.roster {
            let participants = self.rest.list_participants(&sid).await?;
            self.apply(|m| m.set_roster(&sid, participants)).await;
        }
        if plan.load_newest {
            return self.load_newest(&sid).await;
        }
        // The server's newest index, read after the stream opened: anything
        // newer comes over the stream.
        let through = self.model().conv(&sid).and_then(|c| c.entry.conversation.last_message.as_ref().map(|m| m.index));
        let mut fresh = Vec::new();
        let mut held: Vec<Message> = Vec::new();
        if let Some((from, newest)) = plan.recheck {
            held = self
                .model()
                .conv(&sid)
                .map(|c| c.window.range(from..).map(|(_, m)| m.clone()).collect())
                .unwrap_or_default();
            fresh = self.rest.messages_range(&sid, from - 1, newest).await?;
        }
        if let (Some(gap_from), Some(through)) = (plan.gap_from, through)
            && through > gap_from
        {
            fresh.extend(self.rest.messages_range(&sid, gap_from, through).await?);
        }
        let newest_held = plan.recheck.map(|(_, n)| n);
        self.apply(|m| {
            let present: HashSet<i64> = fresh.iter().map(|m| m.index).collect();
            let mut changes = Vec::new();
            for gone in held.iter().filter(|h| !present.contains(&h.index)) {
                changes.extend(m.remove_message(gone));
            }
            for msg in fresh {
                let live = newest_held.is_none_or(|n| msg.index > n);
                changes.extend(m.upsert_message(msg, live));
            }
            changes
        })
        .await;
        Ok(())
    }

    /// The newest page of a conversation, held and reported as one page.
    pub async fn load_newest(&mut self, sid: &str) -> Result<()> {
        let slice = self.rest.messages_before(sid, None, self.page_size).await?;
        self.loaded(sid, slice.messages, slice.more, false).await;
        Ok(())
    }

    /// Holds a page and reports it.
    pub async fn loaded(&mut self, sid: &str, messages: Vec<Message>, has_older: bool, has_newer: bool) {
        self.model().hold_page(sid, &messages);
        let page = Change::MessagesLoaded { conversation_sid: sid.to_owned(), messages, has_older, has_newer };
        self.deliver(vec![page]).await;
    }
}
