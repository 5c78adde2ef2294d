//! DESIGN.md "Identity and access", each rule tried by a person who should be
//! refused, next to the same call by someone who may make it.

use crate::common::*;

/// alice creates a conversation (she is its creator) with bob in it; eve is outside.
async fn setup(t: &TestServer, attributes: &str) -> String {
    let (status, c) =
        t.post(&person("alice"), "/v1/Conversations", &[("FriendlyName", "ab"), ("Attributes", attributes)]).await;
    assert_eq!(status, 201, "{c}");
    let c = sid(&c);
    let (status, body) =
        t.post(&person("alice"), &format!("/v1/Conversations/{c}/Participants"), &[("Identity", "bob")]).await;
    assert_eq!(status, 201, "any participant may add others: {body}");
    t.post(&person("eve"), "/v1/Conversations", &[("FriendlyName", "eve's")]).await;
    c
}

#[tokio::test]
async fn outsiders_see_nothing_of_a_conversation() {
    let t = TestServer::start().await;
    let c = setup(&t, "{}").await;
    let eve = person("eve");
    assert_error(&t.get(&eve, &format!("/v1/Conversations/{c}")).await, 403, 50430);
    assert_error(&t.get(&eve, &format!("/v1/Conversations/{c}/Messages")).await, 403, 50430);
    assert_error(&t.get(&eve, &format!("/v1/Conversations/{c}/Participants")).await, 403, 50430);
    assert_error(&t.get(&eve, &format!("/v1/Conversations/{c}/Participants/alice")).await, 403, 50430);
    assert_error(&t.post(&eve, &format!("/v1/Conversations/{c}/Messages"), &[("Body", "hi")]).await, 403, 50430);
    assert_error(
        &t.post(&eve, &format!("/v1/Conversations/{c}/Participants"), &[("Identity", "mallory")]).await,
        403,
        50430,
    );
    let (_, list) = t.get(&eve, "/v1/Conversations").await;
    let names: Vec<_> = list["conversations"].as_array().unwrap().iter().map(|c| c["friendly_name"].clone()).collect();
    assert_eq!(names, ["eve's"], "a person lists only their own conversations");
    let (_, list) = t.get(&As::Admin, "/v1/Conversations").await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 2, "the account sees all");
}

#[tokio::test]
async fn a_person_joins_only_public_conversations() {
    let t = TestServer::start().await;
    let private = setup(&t, "{}").await;
    let public = setup(&t, r#"{"public": true}"#).await;
    let eve = person("eve");
    assert_error(
        &t.post(&eve, &format!("/v1/Conversations/{private}/Participants"), &[("Identity", "eve")]).await,
        403,
        50430,
    );
    let (status, joined) =
        t.post(&eve, &format!("/v1/Conversations/{public}/Participants"), &[("Identity", "eve")]).await;
    assert_eq!(status, 201, "{joined}");
    assert_eq!(t.get(&eve, &format!("/v1/Conversations/{public}/Messages")).await.0, 200);
}

#[tokio::test]
async fn messages_are_authored_as_the_caller_and_only_the_author_edits() {
    let t = TestServer::start().await;
    let c = setup(&t, "{}").await;
    let (status, m) = t
        .post(&person("bob"), &format!("/v1/Conversations/{c}/Messages"), &[("Body", "hi"), ("Author", "alice")])
        .await;
    assert_eq!(status, 201);
    assert_eq!(m["author"], "bob", "Author is ignored for a person");
    let path = format!("/v1/Conversations/{c}/Messages/{}", sid(&m));
    // alice is the creator: she may delete bob's message but not edit it.
    assert_error(&t.post(&person("alice"), &path, &[("Body", "forged")]).await, 403, 20403);
    let (_, mine) = t.post(&person("alice"), &format!("/v1/Conversations/{c}/Messages"), &[("Body", "alice's")]).await;
    let alices = format!("/v1/Conversations/{c}/Messages/{}", sid(&mine));
    assert_error(&t.post(&person("bob"), &alices, &[("Body", "forged")]).await, 403, 20403);
    assert_error(&t.delete(&person("bob"), &alices).await, 403, 20403);
    assert_eq!(t.post(&person("bob"), &path, &[("Body", "edited")]).await.0, 200);
    assert_eq!(t.delete(&person("alice"), &path).await.0, 204);
}

#[tokio::test]
async fn a_person_moves_only_their_own_read_horizon() {
    let t = TestServer::start().await;
    let c = setup(&t, "{}").await;
    let bob = person("bob");
    assert_error(
        &t.post(&bob, &format!("/v1/Users/alice/Conversations/{c}"), &[("LastReadMessageIndex", "0")]).await,
        403,
        20403,
    );
    assert_error(&t.get(&bob, "/v1/Users/alice/Conversations").await, 403, 20403);
    assert_error(
        &t.post(&bob, &format!("/v1/Conversations/{c}/Participants/alice"), &[("LastReadMessageIndex", "0")]).await,
        403,
        20403,
    );
    assert_eq!(
        t.post(&bob, &format!("/v1/Users/bob/Conversations/{c}"), &[("LastReadMessageIndex", "0")]).await.0,
        200
    );
    assert_eq!(
        t.post(&bob, &format!("/v1/Conversations/{c}/Participants/bob"), &[("LastReadMessageIndex", "0")]).await.0,
        200
    );
}

#[tokio::test]
async fn only_the_creator_renames_removes_others_and_deletes() {
    let t = TestServer::start().await;
    let c = setup(&t, "{}").await;
    let bob = person("bob");
    let conv = format!("/v1/Conversations/{c}");
    assert_error(&t.post(&bob, &conv, &[("FriendlyName", "mine now")]).await, 403, 20403);
    assert_error(&t.post(&bob, &conv, &[("Attributes", r#"{"public":true}"#)]).await, 403, 20403);
    assert_error(&t.delete(&bob, &format!("{conv}/Participants/alice")).await, 403, 20403);
    assert_error(&t.delete(&bob, &conv).await, 403, 20403);
    assert_error(&t.delete(&person("eve"), &conv).await, 403, 50430);
    assert_eq!(t.post(&person("alice"), &conv, &[("FriendlyName", "renamed")]).await.0, 200);
    // Anyone may leave.
    assert_eq!(t.delete(&bob, &format!("{conv}/Participants/bob")).await.0, 204);
    assert_error(&t.get(&bob, &conv).await, 403, 50430);
    assert_eq!(t.post(&person("alice"), &format!("{conv}/Participants"), &[("Identity", "bob")]).await.0, 201);
    assert_eq!(t.delete(&person("alice"), &format!("{conv}/Participants/bob")).await.0, 204);
    assert_eq!(t.delete(&person("alice"), &conv).await.0, 204);
}

#[tokio::test]
async fn users_are_visible_to_those_who_share_a_conversation_and_editable_by_themselves() {
    let t = TestServer::start().await;
    setup(&t, "{}").await;
    let bob = person("bob");
    assert_eq!(t.get(&bob, "/v1/Users/alice").await.0, 200);
    assert_error(&t.get(&bob, "/v1/Users/eve").await, 403, 20403);
    let (_, list) = t.get(&bob, "/v1/Users").await;
    let mut ids: Vec<_> =
        list["users"].as_array().unwrap().iter().map(|u| u["identity"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    assert_eq!(ids, ["alice", "bob"]);
    assert_error(&t.post(&bob, "/v1/Users/alice", &[("FriendlyName", "Bob was here")]).await, 403, 20403);
    assert_eq!(t.post(&bob, "/v1/Users/bob", &[("FriendlyName", "Bob")]).await.0, 200);
    assert_error(&t.post(&bob, "/v1/Users", &[("Identity", "sock")]).await, 403, 20403);
    assert_error(&t.delete(&bob, "/v1/Users/alice").await, 403, 20403);
    assert_error(&t.get(&bob, "/v1/ParticipantConversations?Identity=alice").await, 403, 20403);
    assert_eq!(t.get(&bob, "/v1/ParticipantConversations?Identity=bob").await.0, 200);
}

/// Twilio's 30/s limit is on actions: a person's burst of reads (as a client
/// re-reading history after a reconnect sends) is served in full and leaves
/// the budget untouched, while a burst of writes past it gets 429 / 20429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_reads_is_never_limited_but_a_burst_of_writes_is() {
    use futures_util::future::join_all;
    let t = TestServer::start().await;
    let c = setup(&t, "{}").await;
    let bob = person("bob");
    let messages = format!("/v1/Conversations/{c}/Messages");
    let per_second = convo_tui::server::rate_limit::DEFAULT_PER_SECOND as usize;

    let reads = join_all((0..per_second * 5).map(|_| t.get(&bob, &messages))).await;
    let refused_reads: Vec<_> = reads.iter().filter(|r| r.0 != 200).collect();
    assert!(refused_reads.is_empty(), "{} reads refused, the first: {:?}", refused_reads.len(), refused_reads.first());

    let send = |_| t.request(reqwest::Method::POST, &messages, &bob).form(&[("Body", "flood")]).send();
    let writes = join_all((0..per_second * 3).map(send)).await;
    let (mut accepted, mut refused) = (0, Vec::new());
    for w in writes {
        let w = w.unwrap();
        match w.status().as_u16() {
            201 => accepted += 1,
            429 => refused.push(w),
            other => panic!("unexpected status {other}"),
        }
    }
    // The reads spent nothing, so a whole second's worth of writes passes.
    assert!(accepted >= per_second, "only {accepted} writes accepted after the reads");
    let first = refused.pop().expect("writes past the limit are refused");
    assert_eq!(first.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
    let body: serde_json::Value = first.json().await.unwrap();
    assert_eq!((body["status"].as_u64(), body["code"].as_u64()), (Some(429), Some(20429)), "{body}");
}
