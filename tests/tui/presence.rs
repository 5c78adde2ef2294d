//! Presence in the TUI: dots beside 1:1 conversations in the list and
//! `online`/`offline` in the people sidebar, only once reachability is known.

use convo_tui::api::User;
use convo_tui::sdk::{Command, Diff};
use convo_tui::tui::presence;

use crate::fixtures::*;

macro_rules! snap {
    ($name:expr, $text:expr) => {
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

fn user(identity: &str, online: Option<bool>) -> User {
    User {
        sid: "US00000000000000000000000000000001".into(),
        account_sid: "AC00000000000000000000000000000000".into(),
        chat_service_sid: "IS00000000000000000000000000000000".into(),
        role_sid: None,
        identity: identity.into(),
        friendly_name: None,
        attributes: "{}".into(),
        is_online: online,
        is_notifiable: None,
        date_created: at(0),
        date_updated: at(0),
        url: String::new(),
        links: Default::default(),
    }
}

/// `populated()` plus two 1:1 conversations (with carol and dave, by this
/// client's unique names) and the outbox cleared.
fn with_directs() -> convo_tui::tui::App {
    let mut a = populated();
    for (n, who) in [(4, "carol"), (5, "dave")] {
        let mut dm = entry(n, &format!("me & {who}"), 1, 5, 0, false);
        dm.conversation.unique_name = Some(presence::direct_name("me", who));
        diff(&mut a, Diff::ConversationUpserted(dm));
    }
    a
}

#[test]
fn direct_conversations_watch_their_other_person_once() {
    let mut a = with_directs();
    let watched: Vec<_> = a.outbox.iter().filter(|c| matches!(c, Command::WatchUser { .. })).cloned().collect();
    assert_eq!(
        watched,
        vec![Command::WatchUser { identity: "carol".into() }, Command::WatchUser { identity: "dave".into() }]
    );
    a.outbox.clear();
    let mut again = entry(4, "me & carol", 2, 6, 1, false);
    again.conversation.unique_name = Some(presence::direct_name("me", "carol"));
    diff(&mut a, Diff::ConversationUpserted(again));
    assert!(!a.outbox.iter().any(|c| matches!(c, Command::WatchUser { .. })), "{:?}", a.outbox);
    assert_eq!(presence::direct_peer(&a, &ch(4)), Some("carol"));
    assert_eq!(presence::direct_peer(&a, &ch(1)), None, "general has three people");
}

#[test]
fn the_list_and_the_sidebar_show_presence_only_when_known() {
    let mut a = with_directs();
    let before = screen(&mut a, 110, 14);
    let directs: Vec<&str> = before.lines().filter(|l| l.contains("me & ")).collect();
    assert_eq!(directs.len(), 2, "{before}");
    let dotted = |l: &&str| l.contains(presence::ONLINE_DOT) || l.contains(presence::OFFLINE_DOT);
    assert!(!directs.iter().any(dotted), "{before}");
    assert!(!before.contains("online") && !before.contains("offline"), "{before}");
    diff(&mut a, Diff::Me(user("me", Some(true))));
    diff(&mut a, Diff::UserUpdated(user("alice", Some(true))));
    diff(&mut a, Diff::UserUpdated(user("bob", Some(false))));
    diff(&mut a, Diff::UserUpdated(user("carol", Some(true))));
    diff(&mut a, Diff::UserUpdated(user("dave", Some(false))));
    snap!("presence_known", screen(&mut a, 110, 14));
    // Reachability turned off on the server: nothing is claimed.
    diff(&mut a, Diff::UserUpdated(user("carol", None)));
    let text = screen(&mut a, 110, 14);
    let carol_row = text.lines().find(|l| l.contains("me & carol")).unwrap();
    assert!(!dotted(&carol_row), "{carol_row}");
}
