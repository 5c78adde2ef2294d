//! Pre-event webhooks against a real receiver: who triggers them, a refusal
//! (a non-2xx answer, or none within 5 s) stores nothing, and a JSON answer
//! changes what is stored.

use crate::common::assert_error;
use crate::webhook_fixture::*;

/// A server whose service sends `filters` to `/pre` on the receiver, and a conversation with alice in it.
async fn setup(filters: &[&str]) -> (Hooked, Receiver, String) {
    let t = Hooked::start(fast_policy()).await;
    let rx = Receiver::start().await;
    let service = t.server.service_sid().to_owned();
    let pre = rx.url("/pre");
    let post = rx.url("/post");
    let mut form =
        vec![("PreWebhookUrl", pre.as_str()), ("PostWebhookUrl", post.as_str()), ("Filters", "onMessageAdded")];
    form.extend(filters.iter().map(|f| ("Filters", *f)));
    let r = t.post(&format!("/v1/Services/{service}/Configuration/Webhooks"), &form, false).await;
    assert_eq!(r.0, 200, "{}", r.1);
    let c = t.conversation("guarded").await;
    t.post(&format!("/v1/Conversations/{c}/Participants"), &[("Identity", "alice")], false).await;
    (t, rx, c)
}

async fn bodies(t: &Hooked, c: &str) -> Vec<String> {
    let (_, page) = t.get(&format!("/v1/Conversations/{c}/Messages")).await;
    page["messages"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn a_refusing_pre_event_webhook_stores_nothing_and_says_why() {
    let (t, rx, c) = setup(&["onMessageAdd", "onParticipantAdd", "onConversationRemove"]).await;
    rx.answer("/pre", Answer::Status(403));
    let refused = t.post_as("alice", &format!("/v1/Conversations/{c}/Messages"), &[("Body", "spam")]).await;
    assert_error(&refused, 403, 20403);
    assert!(refused.1["message"].as_str().unwrap().contains("onMessageAdd"), "{}", refused.1);
    let hit = &rx.wait_for("/pre", 1, |_| true).await[0];
    for (name, want) in [
        ("EventType", "onMessageAdd"),
        ("ConversationSid", c.as_str()),
        ("Body", "spam"),
        ("Author", "alice"),
        ("Source", "SDK"),
        ("ClientIdentity", "alice"),
    ] {
        assert_eq!(hit.get(name), want, "{name} in {hit:#?}");
    }
    assert!(!hit.signature.is_empty());
    // REST calls without the header never ask; with it, they are refused too.
    assert_eq!(t.post(&format!("/v1/Conversations/{c}/Messages"), &[("Body", "admin says")], false).await.0, 201);
    assert_error(&t.post(&format!("/v1/Conversations/{c}/Messages"), &[("Body", "asked")], true).await, 403, 20403);
    assert_eq!(bodies(&t, &c).await, ["admin says"]);
    assert_error(
        &t.post_as("alice", &format!("/v1/Conversations/{c}/Participants"), &[("Identity", "bob")]).await,
        403,
        20403,
    );
    let (_, people) = t.get(&format!("/v1/Conversations/{c}/Participants")).await;
    assert_eq!(people["participants"].as_array().unwrap().len(), 1, "bob was not added");
    assert_error(&t.delete(&format!("/v1/Conversations/{c}"), true).await, 403, 20403);
    assert_eq!(t.get(&format!("/v1/Conversations/{c}")).await.0, 200, "not deleted");
    // No post-event for what was refused (nor for the REST call that did not ask for webhooks).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(rx.hits("/post").is_empty(), "{:#?}", rx.hits("/post"));
}

#[tokio::test]
async fn a_pre_event_webhook_that_does_not_answer_in_5_s_refuses() {
    let (t, rx, c) = setup(&["onMessageAdd"]).await;
    rx.answer("/pre", Answer::Hang);
    let refused = t.post_as("alice", &format!("/v1/Conversations/{c}/Messages"), &[("Body", "waiting")]).await;
    assert_error(&refused, 403, 20403);
    assert!(bodies(&t, &c).await.is_empty());
}

#[tokio::test]
async fn a_pre_event_answer_changes_what_is_stored() {
    let (t, rx, c) = setup(&["onMessageAdd", "onConversationUpdate", "onMessageUpdate"]).await;
    rx.answer(
        "/pre",
        Answer::Json(r#"{"body": "[redacted]", "attributes": {"checked": true}, "author": "moderator"}"#.into()),
    );
    let (status, m) = t.post_as("alice", &format!("/v1/Conversations/{c}/Messages"), &[("Body", "a rude word")]).await;
    assert_eq!(status, 201, "{m}");
    assert_eq!(
        (m["body"].as_str(), m["attributes"].as_str(), m["author"].as_str()),
        (Some("[redacted]"), Some(r#"{"checked":true}"#), Some("moderator"))
    );
    assert_eq!(bodies(&t, &c).await, ["[redacted]"]);
    let posted = &rx.events("/post", "onMessageAdded", 1).await[0];
    assert_eq!(posted.get("Body"), "[redacted]", "the post-event tells what was stored");
    // An edit: the body may change, not the author.
    let (status, edited) = t
        .post_as(
            "moderator",
            &format!("/v1/Conversations/{c}/Messages/{}", m["sid"].as_str().unwrap()),
            &[("Body", "x")],
        )
        .await;
    assert_eq!(status, 403, "moderator is no participant: {edited}");
    let (status, edited) = t
        .post(&format!("/v1/Conversations/{c}/Messages/{}", m["sid"].as_str().unwrap()), &[("Body", "edit")], true)
        .await;
    assert_eq!(
        (status, edited["body"].as_str(), edited["author"].as_str()),
        (200, Some("[redacted]"), Some("moderator"))
    );
    rx.answer("/pre", Answer::Json(r#"{"friendly_name": "Renamed by the hook"}"#.into()));
    let (status, conv) = t.post(&format!("/v1/Conversations/{c}"), &[("FriendlyName", "mine")], true).await;
    assert_eq!((status, conv["friendly_name"].as_str()), (200, Some("Renamed by the hook")));
    let update = rx.wait_for("/pre", 1, |h| h.get("EventType") == "onConversationUpdate").await;
    assert_eq!((update[0].get("FriendlyName"), update[0].get("ConversationSid")), ("mine", c.as_str()));
}
