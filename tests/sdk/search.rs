//! Search through the SDK against a real server: `Client::search_messages` as
//! a paginator (newest first, paged by the server's token, only what the user
//! may read), and the sync task's `Search` and `OpenAt` (a conversation opened
//! around a message far back in its history).

use convo_tui::sdk::{Command, ConnectionState, Diff, SearchOptions};
use futures_util::StreamExt;

use crate::common::*;

/// Posts `bodies` to `sid` as `author` over admin REST, several at once; the
/// server gives them indexes in arrival order.
async fn seed(srv: &TestServer, sid: &str, author: &str, bodies: Vec<String>) {
    let http = reqwest::Client::new();
    let url = format!("{}/v1/Conversations/{sid}/Messages", srv.url());
    futures_util::stream::iter(bodies)
        .map(|body| {
            let req = http
                .post(&url)
                .basic_auth(&srv.creds.account_sid, Some(&srv.creds.auth_token))
                .form(&[("Author", author), ("Body", body.as_str())]);
            async move {
                let r = req.send().await.expect("post");
                assert!(r.status().is_success(), "{}", r.status());
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
}

#[tokio::test]
async fn client_search_pages_newest_first_by_the_servers_token_and_sees_only_its_conversations() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let ours = alice.create_conversation(Some("ours"), None, None).await.unwrap();
    for i in 0..5 {
        ours.send_message(&format!("quokka sighting {i}"), None).await.unwrap();
    }
    ours.send_message("nothing to see", None).await.unwrap();
    let eve = srv.client("eve").await;
    let theirs = eve.create_conversation(Some("theirs"), None, None).await.unwrap();
    theirs.send_message("a quokka elsewhere", None).await.unwrap();

    let options = SearchOptions { page_size: Some(2), ..Default::default() };
    let first = alice.search_messages("quokka", options).await.unwrap();
    let mut bodies: Vec<String> = first.items().iter().map(|m| m.body().unwrap()).collect();
    assert_eq!(bodies, ["quokka sighting 4", "quokka sighting 3"], "newest first");
    assert!(first.has_next_page() && !first.has_prev_page());
    assert_eq!(first.items()[0].conversation().sid(), ours.sid(), "each hit comes with its conversation");
    let mut page = first.next_page().await.unwrap();
    loop {
        bodies.extend(page.items().iter().map(|m| m.body().unwrap()));
        if !page.has_next_page() {
            break;
        }
        page = page.next_page().await.unwrap();
    }
    assert_eq!(bodies, (0..5).rev().map(|i| format!("quokka sighting {i}")).collect::<Vec<_>>());
    assert!(matches!(page.next_page().await, Err(convo_tui::sdk::Error::NoNextPage)));

    // Narrowed to one conversation, to one author; a conversation not ours is refused.
    let here = SearchOptions { conversation_sid: Some(ours.sid().into()), ..Default::default() };
    assert_eq!(alice.search_messages("sighting", here).await.unwrap().items().len(), 5);
    let by_eve = SearchOptions { author: Some("eve".into()), ..Default::default() };
    assert!(eve.search_messages("quokka", by_eve).await.unwrap().items().len() == 1);
    let not_ours = SearchOptions { conversation_sid: Some(theirs.sid().into()), ..Default::default() };
    let err = alice.search_messages("quokka", not_ours).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    // No word at all: refused before (or by) the server, never a panic.
    assert!(alice.search_messages("  ", SearchOptions::default()).await.is_err());
    assert_eq!(alice.search_messages("((*", SearchOptions::default()).await.unwrap_err().status(), Some(400));
}

/// A sync task for `identity`, past its first sync.
async fn started(srv: &TestServer, identity: &str) -> (convo_tui::sdk::SyncHandle, Vec<Diff>) {
    let mut h = srv.sync(identity);
    let mut seen = Vec::new();
    next_diff(&mut h, &mut seen, |d| matches!(d, Diff::Connection(ConnectionState::Connected)).then_some(())).await;
    (h, seen)
}

fn results(d: &Diff) -> Option<(u64, Vec<String>, Option<String>)> {
    match d {
        Diff::SearchResults { request, messages, next_page_token } => Some((
            *request,
            messages.iter().map(|m| m.body.clone().unwrap_or_default()).collect(),
            next_page_token.clone(),
        )),
        _ => None,
    }
}

#[tokio::test]
async fn sync_search_echoes_its_request_and_pages_with_the_token() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let a = alice.create_conversation(Some("a"), None, None).await.unwrap();
    let b = alice.create_conversation(Some("b"), None, None).await.unwrap();
    seed(&srv, a.sid(), "bob", (0..40).map(|i| format!("lighthouse a{i}")).collect()).await;
    seed(&srv, b.sid(), "bob", vec!["lighthouse in b".into()]).await;
    let (mut h, mut seen) = started(&srv, "alice").await;
    let search = |request, conversation_sid: Option<String>, page_token| Command::Search {
        request,
        query: "lighthouse".into(),
        conversation_sid,
        page_token,
    };
    cmd(&h, search(7, None, None));
    let (request, first, token) = next_diff(&mut h, &mut seen, results).await;
    assert_eq!((request, first.len()), (7, 30), "a page of the task's page size");
    assert_eq!(first[0], "lighthouse in b", "newest first, across conversations");
    cmd(&h, search(7, None, token));
    let (_, second, token) = next_diff(&mut h, &mut seen, results).await;
    assert_eq!(second.len(), 11);
    assert_eq!(token, None, "the last page");
    let mut all: Vec<String> = first.into_iter().chain(second).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 41, "no hit twice, none missed");

    cmd(&h, search(8, Some(b.sid().into()), None));
    assert_eq!(next_diff(&mut h, &mut seen, results).await, (8, vec!["lighthouse in b".to_string()], None));
    // A failed search says so as an error diff.
    cmd(&h, Command::Search { request: 9, query: "*".into(), conversation_sid: None, page_token: None });
    let err = next_diff(&mut h, &mut seen, |d| match d {
        Diff::Error(e) => Some(e.clone()),
        _ => None,
    })
    .await;
    assert!(err.starts_with("search:"), "{err}");
}

#[tokio::test]
async fn open_at_loads_a_page_each_side_of_a_message_far_back_and_paging_goes_on_from_there() {
    let srv = TestServer::start().await;
    let alice = srv.client("alice").await;
    let conv = alice.create_conversation(Some("long"), None, None).await.unwrap();
    conv.add("bob", None).await.unwrap();
    conv.send_message("the needle", None).await.unwrap();
    seed(&srv, conv.sid(), "bob", (0..1500).map(|i| format!("hay {i}")).collect()).await;
    let (mut h, mut seen) = started(&srv, "alice").await;
    let sid = conv.sid().to_owned();
    cmd(&h, Command::Open { conversation_sid: sid.clone() });
    let page = |d: &Diff| match d {
        Diff::MessagesLoaded { messages, has_older, has_newer, .. } => Some((
            messages.iter().map(|m| m.index).collect::<Vec<i64>>(),
            messages.iter().map(|m| m.body.clone().unwrap_or_default()).collect::<Vec<String>>(),
            *has_older,
            *has_newer,
        )),
        _ => None,
    };
    let (newest, _, _, _) = next_diff(&mut h, &mut seen, page).await;
    assert_eq!(newest.last(), Some(&1500));

    // The needle, 1,500 messages back: found, then opened around it.
    cmd(&h, Command::Search { request: 1, query: "needle".into(), conversation_sid: None, page_token: None });
    let hit = next_diff(&mut h, &mut seen, |d| match d {
        Diff::SearchResults { messages, .. } => messages.first().cloned(),
        _ => None,
    })
    .await;
    assert_eq!(hit.index, 0);
    cmd(&h, Command::OpenAt { conversation_sid: sid.clone(), index: 700 });
    let (idx, bodies, older, newer) = next_diff(&mut h, &mut seen, page).await;
    assert_eq!(idx, (671..=730).collect::<Vec<i64>>(), "30 at and before the index, 30 after");
    assert!(older && newer);
    assert_eq!(bodies[29], "hay 699", "index 700 is the 700th of bob's");
    cmd(&h, Command::OpenAt { conversation_sid: sid.clone(), index: hit.index });
    let (idx, bodies, older, newer) = next_diff(&mut h, &mut seen, page).await;
    assert_eq!((idx[0], idx.len(), bodies[0].as_str(), older, newer), (0, 31, "the needle", false, true));
    cmd(&h, Command::LoadNewer { conversation_sid: sid.clone(), after_index: 30, count: 30 });
    let (idx, _, older, newer) = next_diff(&mut h, &mut seen, page).await;
    assert_eq!((idx, older, newer), ((31..61).collect(), true, true));

    // Near the newest end there is nothing newer.
    cmd(&h, Command::OpenAt { conversation_sid: sid.clone(), index: 1495 });
    let (idx, _, older, newer) = next_diff(&mut h, &mut seen, page).await;
    assert_eq!((idx[0], idx.last().copied(), older, newer), (1466, Some(1500), true, false));

    // A conversation the user is not in is an error, not a page.
    let other = srv.client("eve").await.create_conversation(Some("eve's"), None, None).await.unwrap();
    cmd(&h, Command::OpenAt { conversation_sid: other.sid().into(), index: 0 });
    let err = next_diff(&mut h, &mut seen, |d| match d {
        Diff::Error(e) => Some(e.clone()),
        _ => None,
    })
    .await;
    assert!(err.contains("unknown conversation"), "{err}");
}
