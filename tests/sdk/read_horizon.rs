//! The read horizon: unset until first set (unread count `None`), advance never
//! moves back, update sets anything, set-all-read on an empty conversation,
//! set-all-unread clears it.

use convo_tui::sdk::Conversation;

use crate::common::*;

async fn conv_with(srv: &TestServer, n: usize) -> Conversation {
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("reading"), None, None).await.unwrap();
    for i in 0..n {
        conv.send_message(&format!("m{i}"), None).await.unwrap();
    }
    conv
}

#[tokio::test]
async fn unread_count_is_none_until_the_horizon_is_set() {
    let srv = TestServer::start().await;
    let conv = conv_with(&srv, 3).await;
    assert_eq!(conv.last_read_message_index(), None);
    assert_eq!(conv.get_unread_messages_count().await.unwrap(), None);
    assert_eq!(conv.advance_last_read_message_index(0).await.unwrap(), 2);
    assert_eq!(conv.last_read_message_index(), Some(0));
    assert_eq!(conv.get_unread_messages_count().await.unwrap(), Some(2));
}

#[tokio::test]
async fn advance_never_moves_the_horizon_back() {
    let srv = TestServer::start().await;
    let conv = conv_with(&srv, 10).await;
    assert_eq!(conv.advance_last_read_message_index(7).await.unwrap(), 2);
    assert_eq!(conv.advance_last_read_message_index(3).await.unwrap(), 2);
    assert_eq!(conv.last_read_message_index(), Some(7));
    assert_eq!(conv.advance_last_read_message_index(9).await.unwrap(), 0);
    assert_eq!(conv.last_read_message_index(), Some(9));
}

#[tokio::test]
async fn update_moves_the_horizon_anywhere_and_none_clears_it() {
    let srv = TestServer::start().await;
    let conv = conv_with(&srv, 10).await;
    assert_eq!(conv.update_last_read_message_index(Some(8)).await.unwrap(), Some(1));
    assert_eq!(conv.update_last_read_message_index(Some(2)).await.unwrap(), Some(7));
    assert_eq!(conv.last_read_message_index(), Some(2));
    assert_eq!(conv.update_last_read_message_index(None).await.unwrap(), None);
    assert_eq!(conv.last_read_message_index(), None);
    assert_eq!(conv.get_unread_messages_count().await.unwrap(), None);
}

#[tokio::test]
async fn set_all_read_and_unread() {
    let srv = TestServer::start().await;
    let conv = conv_with(&srv, 4).await;
    assert_eq!(conv.set_all_messages_read().await.unwrap(), 0);
    assert_eq!(conv.last_read_message_index(), Some(3));
    conv.send_message("one more", None).await.unwrap();
    assert_eq!(conv.get_unread_messages_count().await.unwrap(), Some(1));
    assert_eq!(conv.set_all_messages_unread().await.unwrap(), None);
    assert_eq!(conv.last_read_message_index(), None);
    assert_eq!(conv.get_unread_messages_count().await.unwrap(), None);
}

#[tokio::test]
async fn set_all_read_on_an_empty_conversation_is_zero_and_sets_nothing() {
    let srv = TestServer::start().await;
    let conv = conv_with(&srv, 0).await;
    assert_eq!(conv.set_all_messages_read().await.unwrap(), 0);
    assert_eq!(conv.last_read_message_index(), None);
    assert_eq!(conv.get_unread_messages_count().await.unwrap(), None);
}

#[tokio::test]
async fn advance_on_an_unset_horizon_with_a_negative_index_sets_zero() {
    let srv = TestServer::start().await;
    let conv = conv_with(&srv, 3).await;
    // Unset counts as 0 for "never back": a lower index posts 0.
    assert_eq!(conv.advance_last_read_message_index(-5).await.unwrap(), 2);
    assert_eq!(conv.last_read_message_index(), Some(0));
}

#[tokio::test]
async fn notification_level_is_set_per_user() {
    let srv = TestServer::start().await;
    let conv = conv_with(&srv, 0).await;
    use convo_tui::api::NotificationLevel;
    assert_eq!(conv.notification_level(), NotificationLevel::Default);
    conv.set_user_notification_level(NotificationLevel::Muted).await.unwrap();
    assert_eq!(conv.notification_level(), NotificationLevel::Muted);
    let fresh = srv.client("alice").await.get_conversation_by_sid(conv.sid()).await.unwrap();
    assert_eq!(fresh.notification_level(), NotificationLevel::Muted);
}
