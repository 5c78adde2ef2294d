//! The state of the search and mentions views (keys in `search`, drawing in
//! `widgets::search`): the query, its scope, the hits so far and their paging.

use std::ops::Range;

use crate::api::{self, Message};
use crate::sdk::Command;

use super::{links, sanitize};

/// Ask for the next page once the selection is this close to the last hit.
const MORE_WHEN_WITHIN: usize = 5;

/// What a results view lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Messages matching the typed query.
    Text,
    /// Messages that mention you (`@identity`), across conversations.
    Mentions,
}

/// One hit as the view shows it: sanitized once, on arrival.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub conversation_sid: String,
    pub message_sid: String,
    pub index: i64,
    pub author: String,
    /// Unix seconds.
    pub created: i64,
    /// The body's line holding the match (its first line when none does).
    pub line: String,
    /// Byte ranges of `line` that match the query, to mark them.
    pub marks: Vec<Range<usize>>,
}

/// An open (or kept) results view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchView {
    pub kind: Kind,
    /// What is typed in the prompt (a text search).
    pub query: String,
    /// Search only this conversation (`/search -here`, Tab in the prompt).
    pub here: Option<String>,
    /// The query and scope of the hits shown, once run.
    pub ran: Option<(String, Option<String>)>,
    /// The number of the newest `Command::Search`; answers to others are stale.
    pub request: u64,
    pub hits: Vec<Hit>,
    pub selected: usize,
    /// The server's token for the next (older) page of hits.
    pub next_page_token: Option<String>,
    /// A page has been asked for and not answered.
    pub loading: bool,
}

impl SearchView {
    pub fn new(kind: Kind, query: String, here: Option<String>) -> SearchView {
        SearchView {
            kind,
            query,
            here,
            ran: None,
            request: 0,
            hits: Vec::new(),
            selected: 0,
            next_page_token: None,
            loading: false,
        }
    }
}

/// The search state the app keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    /// The view on screen, if one is.
    pub view: Option<SearchView>,
    /// The last view, kept after Enter took you to a hit: Ctrl-F shows it again.
    pub kept: Option<SearchView>,
    /// The last request number handed out.
    pub seq: u64,
}

impl SearchView {
    /// The command for the next page, when the selection nears the end of the
    /// hits and one is to be had (marks it asked for).
    pub fn more(&mut self) -> Option<Command> {
        let (query, conversation_sid) = self.ran.clone()?;
        if self.loading || self.selected + MORE_WHEN_WITHIN < self.hits.len() {
            return None;
        }
        let token = self.next_page_token.take()?;
        self.loading = true;
        Some(Command::Search { request: self.request, query, conversation_sid, page_token: Some(token) })
    }
}

impl Search {
    /// A page of hits arrived (`Diff::SearchResults`); answers to an older
    /// query are dropped. Returns the command for the next page, if due already.
    pub fn results(
        &mut self,
        identity: &str,
        request: u64,
        messages: &[Message],
        next_page_token: Option<String>,
    ) -> Option<Command> {
        let v = self.view.as_mut().filter(|v| v.request == request)?;
        v.loading = false;
        v.next_page_token = next_page_token;
        let terms = v.ran.as_ref().map(|(q, _)| api::search::parse(q)).unwrap_or_default();
        for m in messages {
            let body = m.body.as_deref().unwrap_or_default();
            // The server's words drop the `@`: keep only real mentions, and not your own.
            if v.kind == Kind::Mentions && (!links::mentions(body, identity) || m.author.as_deref() == Some(identity)) {
                continue;
            }
            if !v.hits.iter().any(|h| h.message_sid == m.sid) {
                v.hits.push(hit(m, &terms));
            }
        }
        v.more()
    }

    /// A command failed: a search in flight is over.
    pub fn failed(&mut self) {
        if let Some(v) = self.view.as_mut() {
            v.loading = false;
        }
    }
}

/// A hit from a message: the body's first line that matches (sanitized before
/// marking, so the marks are ranges of what is shown).
fn hit(m: &Message, terms: &[api::search::Term]) -> Hit {
    let body = m.body.as_deref().unwrap_or_default();
    let lines = || body.lines().map(sanitize::line).filter(|l| !l.trim().is_empty());
    let found = lines().map(|l| (api::search::highlights(&l, terms), l)).find(|(marks, _)| !marks.is_empty());
    let (marks, line) = found.unwrap_or_else(|| (Vec::new(), lines().next().unwrap_or_default()));
    Hit {
        conversation_sid: m.conversation_sid.clone(),
        message_sid: m.sid.clone(),
        index: m.index,
        author: sanitize::line(m.author.as_deref().unwrap_or("system")),
        created: api::time::parse_unix(&m.date_created).unwrap_or(0),
        line,
        marks,
    }
}
