//! Tests of the terminal client: reducers driven with the sync task's diffs and
//! keys, `TestBackend` snapshots of each pane in its states (committed under
//! tests/tui/snapshots), and the real binary in tmux against a real server.

#[path = "tui/e2e.rs"]
mod e2e;
#[path = "tui/e2e_media.rs"]
mod e2e_media;
#[path = "tui/find.rs"]
mod find;
#[path = "tui/fixtures.rs"]
mod fixtures;
#[path = "tui/media.rs"]
mod media;
#[path = "tui/presence.rs"]
mod presence;
#[path = "tui/reducer.rs"]
mod reducer;
#[path = "tui/rich.rs"]
mod rich;
#[path = "tui/search.rs"]
mod search;
#[path = "tui/search_e2e.rs"]
mod search_e2e;
#[path = "tui/snapshots.rs"]
mod snapshots;
#[path = "tui/tmux.rs"]
mod tmux;
