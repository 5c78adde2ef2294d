//! Messages through `Conversation`: sending (plain and built), the paginator in
//! both directions across several pages with and without anchors, edits,
//! deletions (indexes never reused) and the author look-up.

use convo_tui::sdk::{Conversation, Direction, Error, Message, Paginator};
use serde_json::json;

use crate::common::*;

fn indexes(p: &Paginator<Message>) -> Vec<i64> {
    p.items.iter().map(Message::index).collect()
}

/// A conversation of alice with messages 0..n ("m0", "m1", …).
async fn with_messages(srv: &TestServer, n: usize) -> Conversation {
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("history"), None, None).await.unwrap();
    for i in 0..n {
        assert_eq!(conv.send_message(&format!("m{i}"), None).await.unwrap(), i as i64);
    }
    conv
}

#[tokio::test]
async fn send_message_returns_consecutive_indexes_and_keeps_attributes() {
    let srv = TestServer::start().await;
    let conv = with_messages(&srv, 2).await;
    let i = conv.send_message("with attrs", Some(&json!({"k": [1, 2]}))).await.unwrap();
    assert_eq!(i, 2);
    let page = conv.get_messages(None, None, Direction::Backwards).await.unwrap();
    let m = page.items.last().unwrap();
    assert_eq!(m.body().as_deref(), Some("with attrs"));
    assert_eq!(m.attributes(), json!({"k": [1, 2]}));
    assert_eq!(m.author().as_deref(), Some("alice"));
    assert!(m.sid().starts_with("IM") && m.date_created().is_some());
    assert_eq!(conv.get_messages_count().await.unwrap(), 3);
}

#[tokio::test]
async fn prepare_message_builds_and_sends() {
    let srv = TestServer::start().await;
    let conv = with_messages(&srv, 0).await;
    let unsent = conv.prepare_message().set_body("built").set_attributes(&json!({"b": true})).build();
    assert_eq!(unsent.send().await.unwrap(), 0);
    assert_eq!(conv.prepare_message().set_body("again").build_and_send().await.unwrap(), 1);
    let page = conv.get_messages(None, None, Direction::Backwards).await.unwrap();
    assert_eq!(page.items[0].attributes(), json!({"b": true}));
    assert_eq!(page.items[1].body().as_deref(), Some("again"));
}

#[tokio::test]
async fn default_page_is_the_newest_thirty_ascending_with_older_behind_prev() {
    let srv = TestServer::start().await;
    let conv = with_messages(&srv, 75).await;
    let newest = conv.get_messages(None, None, Direction::default()).await.unwrap();
    assert_eq!(indexes(&newest), (45..75).collect::<Vec<_>>());
    assert!(newest.has_prev_page());
    assert!(!newest.has_next_page());
    assert!(matches!(newest.next_page().await, Err(Error::NoNextPage)));

    let older = newest.prev_page().await.unwrap();
    assert_eq!(indexes(&older), (15..45).collect::<Vec<_>>());
    assert!(older.has_prev_page() && older.has_next_page());
    let oldest = older.prev_page().await.unwrap();
    assert_eq!(indexes(&oldest), (0..15).collect::<Vec<_>>());
    assert!(!oldest.has_prev_page());
    assert!(oldest.has_next_page());
    let err = oldest.prev_page().await.unwrap_err();
    assert_eq!(err.to_string(), "No previous page");

    // Back down again through next_page.
    let back = oldest.next_page().await.unwrap();
    assert_eq!(indexes(&back), (15..45).collect::<Vec<_>>());
    // The page we moved from is unchanged.
    assert_eq!(indexes(&newest), (45..75).collect::<Vec<_>>());
}

#[tokio::test]
async fn forward_pages_start_at_the_oldest_and_next_goes_newer() {
    let srv = TestServer::start().await;
    let conv = with_messages(&srv, 25).await;
    let first = conv.get_messages(Some(10), None, Direction::Forward).await.unwrap();
    assert_eq!(indexes(&first), (0..10).collect::<Vec<_>>());
    assert!(!first.has_prev_page());
    assert!(first.has_next_page());
    let second = first.next_page().await.unwrap();
    assert_eq!(indexes(&second), (10..20).collect::<Vec<_>>());
    let third = second.next_page().await.unwrap();
    assert_eq!(indexes(&third), (20..25).collect::<Vec<_>>());
    assert!(!third.has_next_page());
    assert_eq!(third.next_page().await.unwrap_err().to_string(), "No next page");
    assert_eq!(indexes(&third.prev_page().await.unwrap()), (10..20).collect::<Vec<_>>());
}

#[tokio::test]
async fn anchors_are_inclusive_in_both_directions() {
    let srv = TestServer::start().await;
    let conv = with_messages(&srv, 40).await;
    let back = conv.get_messages(Some(5), Some(20), Direction::Backwards).await.unwrap();
    assert_eq!(indexes(&back), vec![16, 17, 18, 19, 20]);
    assert!(back.has_prev_page() && back.has_next_page());
    assert_eq!(indexes(&back.next_page().await.unwrap()), vec![21, 22, 23, 24, 25]);
    assert_eq!(indexes(&back.prev_page().await.unwrap()), vec![11, 12, 13, 14, 15]);

    let fwd = conv.get_messages(Some(5), Some(20), Direction::Forward).await.unwrap();
    assert_eq!(indexes(&fwd), vec![20, 21, 22, 23, 24]);
    assert!(fwd.has_prev_page() && fwd.has_next_page());
    assert_eq!(indexes(&fwd.prev_page().await.unwrap()), vec![15, 16, 17, 18, 19]);

    // Anchored at the ends.
    let at_end = conv.get_messages(Some(5), Some(39), Direction::Backwards).await.unwrap();
    assert_eq!(indexes(&at_end), vec![35, 36, 37, 38, 39]);
    assert!(!at_end.has_next_page());
    let at_start = conv.get_messages(Some(5), Some(0), Direction::Forward).await.unwrap();
    assert_eq!(indexes(&at_start), vec![0, 1, 2, 3, 4]);
    assert!(!at_start.has_prev_page());
    // Beyond the newest, backwards: the newest page.
    let beyond = conv.get_messages(Some(3), Some(1000), Direction::Backwards).await.unwrap();
    assert_eq!(indexes(&beyond), vec![37, 38, 39]);
    assert!(!beyond.has_next_page());
}

#[tokio::test]
async fn an_empty_conversation_gives_an_empty_page_with_no_neighbours() {
    let srv = TestServer::start().await;
    let conv = with_messages(&srv, 0).await;
    for dir in [Direction::Backwards, Direction::Forward] {
        let page = conv.get_messages(None, None, dir).await.unwrap();
        assert!(page.items.is_empty());
        assert!(!page.has_prev_page() && !page.has_next_page());
    }
    assert_eq!(conv.get_messages_count().await.unwrap(), 0);
}

#[tokio::test]
async fn bad_page_sizes_are_refused() {
    let srv = TestServer::start().await;
    let conv = with_messages(&srv, 1).await;
    assert!(matches!(conv.get_messages(Some(0), None, Direction::Backwards).await, Err(Error::InvalidArgument(_))));
    assert!(matches!(conv.get_messages(Some(101), None, Direction::Backwards).await, Err(Error::InvalidArgument(_))));
    let max = conv.get_messages(Some(100), None, Direction::Backwards).await.unwrap();
    assert_eq!(indexes(&max), vec![0]);
}

#[tokio::test]
async fn pages_skip_deleted_indexes_which_are_never_reused() {
    let srv = TestServer::start().await;
    let conv = with_messages(&srv, 6).await;
    let page = conv.get_messages(None, None, Direction::Backwards).await.unwrap();
    page.items[2].remove().await.unwrap();
    page.items[3].remove().await.unwrap();
    let after = conv.get_messages(Some(2), None, Direction::Backwards).await.unwrap();
    assert_eq!(indexes(&after), vec![4, 5]);
    assert_eq!(indexes(&after.prev_page().await.unwrap()), vec![0, 1]);
    assert_eq!(conv.send_message("next", None).await.unwrap(), 6);
    assert_eq!(conv.get_messages_count().await.unwrap(), 5);
}

#[tokio::test]
async fn messages_are_edited_and_know_their_participant() {
    let srv = TestServer::start().await;
    let conv = with_messages(&srv, 1).await;
    let page = conv.get_messages(None, None, Direction::Backwards).await.unwrap();
    let m = &page.items[0];
    let edited = m.update_body("edited").await.unwrap();
    assert_eq!(edited.body().as_deref(), Some("edited"));
    assert_eq!(edited.index(), 0);
    let edited = edited.update_attributes(&json!({"e": 1})).await.unwrap();
    assert_eq!(edited.attributes(), json!({"e": 1}));
    assert_eq!(edited.body().as_deref(), Some("edited"));
    let author = m.get_participant().await.unwrap();
    assert_eq!(author.identity().as_deref(), Some("alice"));
    assert_eq!(Some(author.sid().to_owned()), m.participant_sid());
}

#[tokio::test]
async fn others_cannot_edit_or_delete_my_messages() {
    let srv = TestServer::start().await;
    let conv = with_messages(&srv, 1).await;
    conv.add("bob", None).await.unwrap();
    let bob = srv.client("bob").await;
    let bobs = bob.get_conversation_by_sid(conv.sid()).await.unwrap();
    let page = bobs.get_messages(None, None, Direction::Backwards).await.unwrap();
    let err = page.items[0].update_body("hijack").await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err:?}");
    assert_eq!(page.items[0].remove().await.unwrap_err().status(), Some(403));
}

#[tokio::test]
async fn properties_follow_the_wire_resources() {
    let srv = TestServer::start().await;
    let conv = with_messages(&srv, 0).await;
    assert_eq!(conv.last_message(), None);
    let i = conv.prepare_message().set_body("with subject").set_subject("re: things").build().send().await.unwrap();
    let last = conv.last_message().expect("last message after a send");
    assert_eq!(last.index, i);
    assert!(last.date_created.is_some());
    let page = conv.get_messages(None, None, Direction::Backwards).await.unwrap();
    let m = &page.items[0];
    assert_eq!(m.conversation().sid(), conv.sid());
    assert!(m.date_updated().is_some_and(|u| Some(u) >= m.date_created()));
    assert_eq!(m.media(), None);
    assert_eq!(m.aggregated_delivery_receipt(), None);
    assert_eq!(m.resource().index, i);
    conv.advance_last_read_message_index(i).await.unwrap();
    let me = conv.get_participant_by_identity("alice").await.unwrap();
    assert_eq!(me.last_read_message_index(), Some(i));
    assert!(me.last_read_timestamp().is_some());
    assert_eq!(me.conversation().sid(), conv.sid());
}

#[tokio::test]
async fn a_burst_past_the_servers_rate_limit_lands_whole_through_429_retries() {
    let srv = TestServer::start().await;
    let conv = with_messages(&srv, 0).await;
    // 60 sends at once: twice the server's 30 actions/s per conversation.
    let sends = (0..60).map(|i| {
        let conv = conv.clone();
        async move { conv.send_message(&format!("burst {i}"), None).await }
    });
    let mut indexes: Vec<i64> = futures_util::future::join_all(sends).await.into_iter().map(Result::unwrap).collect();
    indexes.sort();
    assert_eq!(indexes, (0..60).collect::<Vec<_>>());
    assert_eq!(conv.get_messages_count().await.unwrap(), 60);
}

#[tokio::test]
async fn a_retried_post_with_the_same_idempotency_key_lands_once() {
    // What the sync task's outbox relies on when a reply is lost and it retries.
    let srv = TestServer::start().await;
    let conv = with_messages(&srv, 0).await;
    let rest = convo_tui::sdk::wire::transport::Rest::new(&srv.url(), srv.token("alice")).unwrap();
    let params = convo_tui::api::params::MessageParams { body: Some("once".into()), ..Default::default() };
    let first = rest.post_message(conv.sid(), &params, "retry-key-1").await.unwrap();
    let again = rest.post_message(conv.sid(), &params, "retry-key-1").await.unwrap();
    assert_eq!((first.sid.as_str(), first.index), (again.sid.as_str(), again.index));
    let other = rest.post_message(conv.sid(), &params, "retry-key-2").await.unwrap();
    assert_eq!(other.index, first.index + 1);
    assert_eq!(conv.get_messages_count().await.unwrap(), 2);
}
