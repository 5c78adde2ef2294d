//! `Client`: connecting, connection state, denial, users, finding and creating
//! conversations, the subscribed-conversations paginator, token updates, shutdown.

use convo_tui::sdk::{Client, ConnectionState, ConversationStatus, Event};
use serde_json::json;

use convo_tui::config::Credentials;

use crate::common::*;

#[tokio::test]
async fn connect_reaches_connected_and_reports_identity() {
    let srv = TestServer::start().await;
    let client = srv.client("alice").await;
    assert_eq!(client.identity(), "alice");
    assert_eq!(client.connection_state(), ConnectionState::Connected);
    let me = client.user().await.unwrap();
    assert_eq!(me.identity(), "alice");
    client.shutdown().await;
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
}

#[tokio::test]
async fn new_client_starts_connecting_and_the_watch_shows_connected() {
    let srv = TestServer::start().await;
    let client = Client::new(&srv.url(), &srv.token("alice"), Default::default()).unwrap();
    let mut states = client.connection_state_changes();
    let reached = tokio::time::timeout(WAIT, states.wait_for(|s| *s == ConnectionState::Connected)).await;
    assert!(reached.is_ok(), "never connected");
}

#[tokio::test]
async fn a_forged_token_is_denied_with_the_servers_401() {
    let srv = TestServer::start().await;
    let mut other = Credentials::generate();
    other.account_sid = srv.creds.account_sid.clone();
    other.api_key_sid = srv.creds.api_key_sid.clone();
    let forged = convo_tui::api::token::TokenIssuer {
        account_sid: &other.account_sid,
        api_key_sid: &other.api_key_sid,
        api_key_secret: &other.api_key_secret,
        service_sid: None,
    }
    .mint("mallory", convo_tui::api::time::now_unix(), 600);
    let err = Client::connect(&srv.url(), &forged).await.unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some(20107), "{err:?}");
}

#[tokio::test]
async fn connect_to_nothing_gives_up_after_the_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let srv = TestServer::start().await;
    let options =
        convo_tui::sdk::ClientOptions { connect_timeout: std::time::Duration::from_millis(800), ..Default::default() };
    let err = Client::connect_with(&url, &srv.token("alice"), options).await.unwrap_err();
    assert!(err.is_transport(), "{err:?}");
}

#[tokio::test]
async fn a_malformed_token_or_url_is_refused_before_any_request() {
    assert!(matches!(
        Client::new("http://127.0.0.1:1", "nope", Default::default()),
        Err(convo_tui::sdk::Error::InvalidArgument(_))
    ));
    let srv = TestServer::start().await;
    let tok = srv.token("a");
    assert!(matches!(Client::new("ftp://x", &tok, Default::default()), Err(convo_tui::sdk::Error::InvalidArgument(_))));
}

#[tokio::test]
async fn create_conversation_joins_it_and_fires_conversation_added() {
    let srv = TestServer::start().await;
    let client = srv.client("alice").await;
    let mut events = client.events();
    let attrs = json!({"topic": "rust"});
    let conv = client.create_conversation(Some("Team"), Some("team"), Some(&attrs)).await.unwrap();
    assert_eq!(conv.friendly_name().as_deref(), Some("Team"));
    assert_eq!(conv.unique_name().as_deref(), Some("team"));
    assert_eq!(conv.attributes(), attrs);
    assert_eq!(conv.created_by().as_deref(), Some("alice"));
    assert_eq!(conv.status(), ConversationStatus::Joined);
    assert!(conv.sid().starts_with("CH"));
    assert!(conv.date_created().is_some() && conv.date_updated().is_some());
    let added = next_event(&mut events, |e| match e {
        Event::ConversationAdded(c) => Some(c.sid().to_owned()),
        _ => None,
    })
    .await;
    assert_eq!(added, conv.sid());
    // Exactly once, though both the REST reply and the stream announced it.
    let more = drain(&mut events, std::time::Duration::from_millis(500)).await;
    assert!(!more.iter().any(|e| matches!(e, Event::ConversationAdded(_))), "{more:?}");
}

#[tokio::test]
async fn conversations_are_found_by_sid_and_by_unique_name() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("Ops"), Some("ops"), None).await.unwrap();
    let by_sid = alice.get_conversation_by_sid(conv.sid()).await.unwrap();
    assert_eq!(by_sid.friendly_name().as_deref(), Some("Ops"));
    let by_name = alice.get_conversation_by_unique_name("ops").await.unwrap();
    assert_eq!(by_name.sid(), conv.sid());
    // A fresh client (empty cache) finds it over REST.
    let again = srv.client("alice").await;
    assert_eq!(again.get_conversation_by_unique_name("ops").await.unwrap().sid(), conv.sid());
    let missing = again.get_conversation_by_unique_name("nope").await.unwrap_err();
    assert_eq!(missing.status(), Some(404));
}

#[tokio::test]
async fn subscribed_conversations_page_through_all_of_them() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let mut made = std::collections::BTreeSet::new();
    for i in 0..53 {
        made.insert(alice.create_conversation(Some(&format!("c{i}")), None, None).await.unwrap().sid().to_owned());
    }
    // Someone else's conversation is not listed.
    srv.client("bob").await.create_conversation(Some("bob's"), None, None).await.unwrap();
    let first = alice.get_subscribed_conversations().await.unwrap();
    assert_eq!(first.items.len(), 50);
    assert!(first.has_next_page());
    let second = first.next_page().await.unwrap();
    assert_eq!(second.items.len(), 3);
    assert!(!second.has_next_page());
    assert!(matches!(second.next_page().await, Err(convo_tui::sdk::Error::NoNextPage)));
    assert!(!first.has_prev_page());
    assert!(matches!(first.prev_page().await, Err(convo_tui::sdk::Error::NoPreviousPage)));
    assert!(second.has_prev_page());
    let back = second.prev_page().await.unwrap();
    assert_eq!(
        back.items.iter().map(|c| c.sid()).collect::<Vec<_>>(),
        first.items.iter().map(|c| c.sid()).collect::<Vec<_>>()
    );
    let seen: std::collections::BTreeSet<String> =
        first.items.iter().chain(second.items.iter()).map(|c| c.sid().to_owned()).collect();
    assert_eq!(seen, made);
    assert!(first.items.iter().all(|c| c.status() == ConversationStatus::Joined));
}

#[tokio::test]
async fn users_are_read_and_updated_with_events() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let me = alice.user().await.unwrap();
    assert_eq!(me.friendly_name(), None);
    let mut events = alice.events();
    let updated = me.update_friendly_name("Alice A.").await.unwrap();
    assert_eq!(updated.friendly_name().as_deref(), Some("Alice A."));
    let reasons = next_event(&mut events, |e| match e {
        Event::UserUpdated { user, reasons } if user.identity() == "alice" => Some(reasons.clone()),
        _ => None,
    })
    .await;
    assert!(reasons.contains(&convo_tui::sdk::UserUpdateReason::FriendlyName), "{reasons:?}");
    let updated = updated.update_attributes(&json!({"tz": "UTC"})).await.unwrap();
    assert_eq!(updated.attributes(), json!({"tz": "UTC"}));
    assert_eq!(alice.get_user("alice").await.unwrap().attributes(), json!({"tz": "UTC"}));
}

#[tokio::test]
async fn update_token_keeps_the_client_working_and_rejects_another_identity() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    alice.update_token(&srv.token("alice")).await.unwrap();
    assert!(alice.update_token(&srv.token("bob")).await.is_err());
    alice.create_conversation(Some("after refresh"), None, None).await.unwrap();
}

#[tokio::test]
async fn a_short_lived_token_warns_then_expires() {
    let srv = TestServer::start().await;
    let options =
        convo_tui::sdk::ClientOptions { token_warning: std::time::Duration::from_secs(2), ..Default::default() };
    let client = Client::connect_with(&srv.url(), &srv.token_ttl("alice", 6), options).await.unwrap();
    let mut events = client.events();
    next_event(&mut events, |e| matches!(e, Event::TokenAboutToExpire).then_some(())).await;
    next_event(&mut events, |e| matches!(e, Event::TokenExpired).then_some(())).await;
    // Down until a new token comes; then back.
    let mut states = client.connection_state_changes();
    tokio::time::timeout(WAIT, states.wait_for(|s| *s == ConnectionState::Denied)).await.unwrap().unwrap();
    client.update_token(&srv.token("alice")).await.unwrap();
    tokio::time::timeout(WAIT, states.wait_for(|s| *s == ConnectionState::Connected)).await.unwrap().unwrap();
}

#[tokio::test]
async fn subscribing_before_the_first_sync_sees_existing_conversations_added() {
    let srv = TestServer::start().await;
    let made = srv.client("alice").await.create_conversation(Some("existing"), None, None).await.unwrap();
    let client = Client::new(&srv.url(), &srv.token("alice"), Default::default()).unwrap();
    let mut events = client.events();
    client.wait_connected(WAIT).await.unwrap();
    let added = next_event(&mut events, |e| match e {
        Event::ConversationAdded(c) => Some(c.sid().to_owned()),
        _ => None,
    })
    .await;
    assert_eq!(added, made.sid());
}
