//! DESIGN.md "Identity and access" under the default roles, one test per rule
//! of `src/server/rules/mod.rs` and in its order: each rule tried by a person
//! who should be refused, next to the same call by someone who may make it.
//! (`roles.rs` tries every permission with roles that lack it.)

use crate::common::*;

/// The server's one chat service.
pub fn service(t: &TestServer) -> String {
    t.server.as_ref().expect("running").service_sid().to_owned()
}

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

/// rules::standing, may_read_conversation, conversation_list_member.
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
    assert_eq!(t.get(&person("bob"), &format!("/v1/Conversations/{c}/Messages")).await.0, 200);
    let (_, list) = t.get(&eve, "/v1/Conversations").await;
    let names: Vec<_> = list["conversations"].as_array().unwrap().iter().map(|c| c["friendly_name"].clone()).collect();
    assert_eq!(names, ["eve's"], "a person lists only their own conversations");
    let (_, list) = t.get(&As::Admin, "/v1/Conversations").await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 2, "the account sees all");
}

/// rules::may_fetch_conversation (and may_add_participant's join): a public
/// conversation may be looked at and joined; a private one neither.
#[tokio::test]
async fn a_person_joins_only_public_conversations() {
    let t = TestServer::start().await;
    let private = setup(&t, "{}").await;
    let public = setup(&t, r#"{"public": true}"#).await;
    let eve = person("eve");
    assert_eq!(t.get(&eve, &format!("/v1/Conversations/{public}")).await.0, 200);
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

/// rules::may_create_conversation: the default service role creates, and
/// the creator gets the creator role, others the default conversation role.
#[tokio::test]
async fn people_create_conversations_and_creators_get_the_creator_role() {
    let t = TestServer::start().await;
    let c = setup(&t, "{}").await;
    let (_, config) = t.get(&As::Admin, &format!("/v1/Services/{}/Configuration", service(&t))).await;
    let (_, alice) = t.get(&As::Admin, &format!("/v1/Conversations/{c}/Participants/alice")).await;
    let (_, bob) = t.get(&As::Admin, &format!("/v1/Conversations/{c}/Participants/bob")).await;
    assert_eq!(alice["role_sid"], config["default_conversation_creator_role_sid"]);
    assert_eq!(bob["role_sid"], config["default_conversation_role_sid"]);
    assert_ne!(alice["role_sid"], bob["role_sid"]);
    let (_, user) = t.get(&As::Admin, "/v1/Users/bob").await;
    assert_eq!(user["role_sid"], config["default_chat_service_role_sid"]);
}

/// rules::may_update_conversation and may_delete_conversation: the creator's
/// role renames, changes and deletes; a participant's does not (50107).
#[tokio::test]
async fn only_the_creator_changes_and_deletes_the_conversation() {
    let t = TestServer::start().await;
    let c = setup(&t, "{}").await;
    let bob = person("bob");
    let conv = format!("/v1/Conversations/{c}");
    assert_error(&t.post(&bob, &conv, &[("FriendlyName", "mine now")]).await, 403, 50107);
    assert_error(&t.post(&bob, &conv, &[("Attributes", r#"{"public":true}"#)]).await, 403, 50107);
    assert_error(&t.delete(&bob, &conv).await, 403, 50107);
    assert_error(&t.delete(&person("eve"), &conv).await, 403, 50430);
    assert_eq!(t.post(&person("alice"), &conv, &[("FriendlyName", "renamed")]).await.0, 200);
    assert_eq!(t.post(&person("alice"), &conv, &[("Attributes", r#"{"x":1}"#)]).await.0, 200);
    assert_eq!(t.delete(&person("alice"), &conv).await.0, 204);
}

/// rules::may_add_participant: any participant adds chat and SMS
/// participants; only the account picks their role.
#[tokio::test]
async fn participants_add_others_but_only_the_account_picks_roles() {
    let t = TestServer::start().await;
    let c = setup(&t, "{}").await;
    let parts = format!("/v1/Conversations/{c}/Participants");
    let bob = person("bob");
    assert_eq!(t.post(&bob, &parts, &[("Identity", "carol")]).await.0, 201);
    assert_eq!(t.post(&bob, &parts, &[("MessagingBinding.Address", "+15550001111")]).await.0, 201);
    let (_, roles) = t.get(&As::Admin, "/v1/Roles").await;
    let admin_role = roles["roles"].as_array().unwrap().iter().find(|r| r["friendly_name"] == "channel admin").unwrap();
    let role = admin_role["sid"].as_str().unwrap();
    assert_error(&t.post(&bob, &parts, &[("Identity", "dave"), ("RoleSid", role)]).await, 403, 50107);
    let (status, dave) = t.post(&As::Admin, &parts, &[("Identity", "dave"), ("RoleSid", role)]).await;
    assert_eq!((status, dave["role_sid"].as_str()), (201, Some(role)), "{dave}");
}

/// rules::may_update_participant and may_rename_participant.
#[tokio::test]
async fn a_person_updates_only_their_own_participant() {
    let t = TestServer::start().await;
    let c = setup(&t, "{}").await;
    let bob = person("bob");
    let parts = format!("/v1/Conversations/{c}/Participants");
    assert_error(&t.post(&bob, &format!("{parts}/alice"), &[("LastReadMessageIndex", "0")]).await, 403, 20403);
    assert_error(&t.post(&bob, &format!("{parts}/alice"), &[("Attributes", "{}")]).await, 403, 50107);
    assert_eq!(t.post(&bob, &format!("{parts}/bob"), &[("LastReadMessageIndex", "0")]).await.0, 200);
    assert_eq!(t.post(&bob, &format!("{parts}/bob"), &[("Attributes", r#"{"mood":"ok"}"#)]).await.0, 200);
    let (_, roles) = t.get(&As::Admin, "/v1/Roles").await;
    let any = roles["roles"][0]["sid"].as_str().unwrap().to_owned();
    assert_error(&t.post(&bob, &format!("{parts}/bob"), &[("RoleSid", &any)]).await, 403, 50107);
    assert_error(&t.post(&bob, &format!("{parts}/bob"), &[("Identity", "robert")]).await, 400, 20001);
    assert_eq!(t.post(&As::Admin, &format!("{parts}/bob"), &[("Identity", "robert")]).await.0, 200);
}

/// rules::may_remove_participant: anyone leaves; removing others is the creator's.
#[tokio::test]
async fn anyone_leaves_but_only_the_creator_removes_others() {
    let t = TestServer::start().await;
    let c = setup(&t, "{}").await;
    let bob = person("bob");
    let conv = format!("/v1/Conversations/{c}");
    assert_error(&t.delete(&bob, &format!("{conv}/Participants/alice")).await, 403, 50107);
    assert_eq!(t.delete(&bob, &format!("{conv}/Participants/bob")).await.0, 204);
    assert_error(&t.get(&bob, &conv).await, 403, 50430);
    assert_eq!(t.post(&person("alice"), &format!("{conv}/Participants"), &[("Identity", "bob")]).await.0, 201);
    assert_eq!(t.delete(&person("alice"), &format!("{conv}/Participants/bob")).await.0, 204);
}

/// rules::may_send_message, message_author, may_edit_message, may_set_author
/// and may_delete_message: messages are the caller's; only the author edits;
/// the author or the creator deletes.
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
    assert_error(&t.post(&person("alice"), &path, &[("Body", "forged")]).await, 403, 50107);
    assert_error(&t.post(&person("alice"), &path, &[("Attributes", "{}")]).await, 403, 50107);
    let (_, mine) = t.post(&person("alice"), &format!("/v1/Conversations/{c}/Messages"), &[("Body", "alice's")]).await;
    let alices = format!("/v1/Conversations/{c}/Messages/{}", sid(&mine));
    assert_error(&t.post(&person("bob"), &alices, &[("Body", "forged")]).await, 403, 50107);
    assert_error(&t.delete(&person("bob"), &alices).await, 403, 50107);
    let (status, edited) = t.post(&person("bob"), &path, &[("Body", "edited"), ("Author", "mallory")]).await;
    assert_eq!((status, edited["author"].as_str()), (200, Some("bob")), "a person cannot re-author");
    let (_, moved) = t.post(&As::Admin, &path, &[("Author", "system")]).await;
    assert_eq!(moved["author"], "system", "the account may");
    assert_eq!(t.delete(&person("alice"), &path).await.0, 204);
    assert_eq!(t.delete(&person("alice"), &alices).await.0, 204);
}

/// rules::may_create_user, may_delete_user, user_list_visible_to,
/// may_see_user and may_update_user.
#[tokio::test]
async fn users_are_visible_to_those_who_share_a_conversation_and_editable_by_themselves() {
    let t = TestServer::start().await;
    setup(&t, "{}").await;
    let bob = person("bob");
    assert_error(&t.post(&bob, "/v1/Users", &[("Identity", "sock")]).await, 403, 20403);
    assert_error(&t.delete(&bob, "/v1/Users/alice").await, 403, 20403);
    let (_, list) = t.get(&bob, "/v1/Users").await;
    let mut ids: Vec<_> =
        list["users"].as_array().unwrap().iter().map(|u| u["identity"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    assert_eq!(ids, ["alice", "bob"]);
    assert_eq!(t.get(&bob, "/v1/Users/alice").await.0, 200);
    assert_error(&t.get(&bob, "/v1/Users/eve").await, 403, 20403);
    assert_error(&t.post(&bob, "/v1/Users/alice", &[("FriendlyName", "Bob was here")]).await, 403, 20403);
    assert_eq!(t.post(&bob, "/v1/Users/bob", &[("FriendlyName", "Bob")]).await.0, 200);
    let (_, roles) = t.get(&As::Admin, "/v1/Roles").await;
    let any = roles["roles"][2]["sid"].as_str().unwrap().to_owned();
    assert_error(&t.post(&bob, "/v1/Users/bob", &[("RoleSid", &any)]).await, 403, 50107);
}

/// rules::may_act_for_user, may_update_user_conversation and may_leave.
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
    assert_error(&t.delete(&bob, &format!("/v1/Users/alice/Conversations/{c}")).await, 403, 20403);
    let mine = format!("/v1/Users/bob/Conversations/{c}");
    assert_eq!(t.post(&bob, &mine, &[("LastReadMessageIndex", "0")]).await.0, 200);
    assert_eq!(t.post(&bob, &mine, &[("NotificationLevel", "muted")]).await.0, 200);
    assert_eq!(t.delete(&bob, &mine).await.0, 204);
    assert_error(&t.get(&bob, &format!("/v1/Conversations/{c}")).await, 403, 50430);
}

/// rules::may_list_participant_conversations.
#[tokio::test]
async fn a_person_lists_only_their_own_participant_conversations() {
    let t = TestServer::start().await;
    setup(&t, "{}").await;
    let bob = person("bob");
    assert_error(&t.get(&bob, "/v1/ParticipantConversations?Identity=alice").await, 403, 20403);
    assert_error(&t.get(&bob, "/v1/ParticipantConversations?Address=%2B15550001111").await, 403, 20403);
    assert_eq!(t.get(&bob, "/v1/ParticipantConversations?Identity=bob").await.0, 200);
}

/// rules::may_manage_service and may_read_service: a person reads roles and
/// configuration; only the account changes them.
#[tokio::test]
async fn people_read_roles_and_configuration_but_only_the_account_changes_them() {
    let t = TestServer::start().await;
    let bob = person("bob");
    let (status, roles) = t.get(&bob, "/v1/Roles").await;
    assert_eq!((status, roles["roles"].as_array().map(Vec::len)), (200, Some(4)), "{roles}");
    let role = roles["roles"][0]["sid"].as_str().unwrap().to_owned();
    assert_eq!(t.get(&bob, "/v1/Configuration").await.0, 200);
    let form = [("FriendlyName", "mine"), ("Type", "conversation"), ("Permission", "sendMessage")];
    assert_error(&t.post(&bob, "/v1/Roles", &form).await, 403, 20403);
    assert_error(&t.post(&bob, &format!("/v1/Roles/{role}"), &[("Permission", "sendMessage")]).await, 403, 20403);
    assert_error(&t.delete(&bob, &format!("/v1/Roles/{role}")).await, 403, 20403);
    assert_error(&t.post(&bob, "/v1/Configuration", &[("DefaultInactiveTimer", "PT1H")]).await, 403, 20403);
    let service_config = format!("/v1/Services/{}/Configuration", service(&t));
    assert_error(&t.post(&bob, &service_config, &[("ReachabilityEnabled", "true")]).await, 403, 20403);
    assert_eq!(t.post(&As::Admin, "/v1/Configuration", &[("DefaultInactiveTimer", "PT1H")]).await.0, 200);
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
