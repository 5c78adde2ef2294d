//! The users a UI is shown (its open conversations' participants, and any it
//! asks for with `Command::WatchUser`): fetched once per connection, then kept current by `userUpdated`.
//!
//! Each is fetched with `GET /v1/Users/{identity}` (only a fetch carries
//! reachability) the first time it is shown, and again after each reconnect
//! (events were missed meanwhile); the model reports a changed user, which
//! reaches the UI as `Diff::UserUpdated`. Users a fetch may not see (a 403 or
//! 404) are skipped quietly; a big roster's users are fetched up to a bound.

use std::collections::HashSet;

use futures_util::StreamExt;

use super::Task;

/// Participants per opened conversation whose users are fetched.
const ROSTER_USERS: usize = 64;
/// Users fetched at once.
const CONCURRENT_FETCHES: usize = 8;

/// Who the sync task knows of and has fetched in this connection.
#[derive(Debug, Default)]
pub(super) struct Users {
    /// Asked for by the UI (kept across reconnects).
    watched: HashSet<String>,
    /// Fetched since the stream last connected.
    fetched: HashSet<String>,
}

impl Users {
    /// The stream (re)connected: everyone is fetched again.
    pub(super) fn reconnected(&mut self) {
        self.fetched.clear();
    }

    pub(super) fn watch(&mut self, identity: String) {
        self.watched.insert(identity);
    }
}

impl Task {
    /// Fetches the users shown and not yet fetched in this connection.
    pub(super) async fn fetch_users(&mut self) {
        if !self.engine.is_online() {
            return;
        }
        let due: Vec<String> = {
            let model = self.engine.model();
            let me = self.engine.identity.as_str();
            let shown = model
                .convs()
                .filter(|(_, c)| c.opened)
                .flat_map(|(_, c)| c.roster.values().filter_map(|p| p.identity.clone()).take(ROSTER_USERS))
                .chain(self.users.watched.iter().cloned());
            let mut due: Vec<String> = shown
                .filter(|i| i != me && !self.users.fetched.contains(i))
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            due.sort();
            due
        };
        if due.is_empty() {
            return;
        }
        self.users.fetched.extend(due.iter().cloned());
        let rest = &self.engine.rest;
        let found: Vec<_> = futures_util::stream::iter(due)
            .map(|identity| async move { rest.get_user(&identity).await })
            .buffer_unordered(CONCURRENT_FETCHES)
            .collect()
            .await;
        let users: Vec<_> =
            found.into_iter().filter_map(|r| r.map_err(|e| tracing::debug!("fetching a user: {e}")).ok()).collect();
        self.engine.apply(|m| users.into_iter().flat_map(|u| m.apply_user(u)).collect()).await;
    }
}
