//! Webhooks against a real HTTP receiver: twilio-python configuring all three
//! scopes (and its RequestValidator checking every signature), Twilio's
//! parameters per event, which callers fire them, retries, bounds, ordering per
//! conversation, a hung receiver, and configuration errors.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::common::{WAIT, assert_error};
use crate::python::{run, show, venv};
use crate::webhook_fixture::*;
use convo_tui::server::DeliveryPolicy;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_python_drives_all_three_scopes_and_every_signature_validates() {
    let Some(venv) = venv() else { return };
    let t = Hooked::start(fast_policy()).await;
    let rx = Receiver::start().await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/twilio_webhooks.py");
    let mut cmd = Command::new(venv.join("bin/python"));
    cmd.arg(&script).arg("configure");
    cmd.env("CONVO_URL", &t.base)
        .env("CONVO_ACCOUNT_SID", &t.creds.account_sid)
        .env("CONVO_AUTH_TOKEN", &t.creds.auth_token)
        .env("HOOK_BASE", &rx.base);
    let out = run(cmd, Duration::from_secs(120)).await;
    assert!(out.status.success(), "{}", show(&out));
    let sids: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SIDs as JSON");
    let (conv, wh, participant, message) =
        (&sids["conversation"], &sids["webhook"], &sids["participant"], &sids["message"]);

    // The service's webhook (it takes precedence over the account's).
    let added = rx.events("/service", "onConversationAdded", 1).await;
    assert_eq!(added.len(), 1, "the conversation made without the header fired nothing: {added:#?}");
    assert_eq!(added[0].get("ConversationSid"), conv);
    assert_eq!(added[0].get("FriendlyName"), "Hooked");
    assert_eq!(added[0].get("State"), "active");
    let joined = rx.events("/service", "onParticipantAdded", 1).await;
    assert_eq!(
        (joined[0].get("ParticipantSid"), joined[0].get("Identity")),
        (participant.as_str().unwrap(), "py-hooked")
    );
    let sent = rx.events("/service", "onMessageAdded", 1).await;
    let m = &sent[0];
    for (name, want) in [
        ("AccountSid", t.creds.account_sid.as_str()),
        ("ChatServiceSid", sids["service"].as_str().unwrap()),
        ("ConversationSid", conv.as_str().unwrap()),
        ("MessageSid", message.as_str().unwrap()),
        ("Index", "0"),
        ("Author", "py-hooked"),
        ("Body", "hello hooks"),
        ("Attributes", "{}"),
        ("ParticipantSid", participant.as_str().unwrap()),
        ("Source", "API"),
        ("RetryCount", "0"),
    ] {
        assert_eq!(m.get(name), want, "{name} in {m:#?}");
    }
    assert!(m.get("DateCreated").ends_with('Z'), "{m:#?}");
    assert!(!m.fields.contains_key("ClientIdentity"), "a REST call has no client identity");
    let edited = rx.events("/service", "onMessageUpdated", 1).await;
    assert_eq!((edited[0].get("Body"), edited[0].get("MessageSid")), ("edited", message.as_str().unwrap()));

    // The conversation's own webhook hears every source, with its SID.
    let conv_added = rx.events("/conversation", "onMessageAdded", 2).await;
    assert_eq!(conv_added.iter().map(|h| h.get("Body")).collect::<Vec<_>>(), ["hello hooks", "no header"]);
    assert!(conv_added.iter().all(|h| h.get("WebhookSid") == wh && h.get("ConversationSid") == conv));
    rx.events("/conversation", "onParticipantAdded", 1).await;
    rx.events("/conversation", "onMessageUpdated", 1).await;
    // The service's webhook heard only the calls that asked for it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.events("/service", "onMessageAdded", 1).await.len(), 1);
    assert!(rx.hits("/account").is_empty(), "the service's configuration took precedence");
    assert!(rx.hits("/trigger").is_empty(), "the deleted trigger webhook fired nothing");

    // Every request's signature, checked by twilio-python.
    let captured: Vec<serde_json::Value> = rx
        .all()
        .iter()
        .map(|h| {
            let params: serde_json::Map<String, serde_json::Value> =
                h.params.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
            serde_json::json!({"url": h.url, "params": params, "signature": h.signature})
        })
        .collect();
    let file = t.dir.path().join("captured.json");
    std::fs::write(&file, serde_json::to_vec(&captured).unwrap()).unwrap();
    let mut cmd = Command::new(venv.join("bin/python"));
    cmd.arg(&script).arg("validate").arg(&file);
    cmd.env("CONVO_URL", &t.base).env("CONVO_AUTH_TOKEN", &t.creds.auth_token);
    let out = run(cmd, Duration::from_secs(60)).await;
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).starts_with("OK"), "{}", show(&out));
}

#[tokio::test]
async fn sdk_callers_fire_service_webhooks_and_rest_callers_only_when_they_ask() {
    let t = Hooked::start(fast_policy()).await;
    let rx = Receiver::start().await;
    t.service_hook(&rx.url("/hook"), &["onMessageAdded", "onConversationUpdated"]).await;
    let c = t.conversation("room").await;
    t.post(&format!("/v1/Conversations/{c}/Participants"), &[("Identity", "alice")], false).await;
    let r = t.post_as("alice", &format!("/v1/Conversations/{c}/Messages"), &[("Body", "from the sdk")]).await;
    assert_eq!(r.0, 201, "{}", r.1);
    let hit = &rx.events("/hook", "onMessageAdded", 1).await[0];
    assert_eq!((hit.get("Source"), hit.get("ClientIdentity"), hit.get("Author")), ("SDK", "alice", "alice"));
    t.post(&format!("/v1/Conversations/{c}/Messages"), &[("Body", "quiet rest")], false).await;
    t.say(&c, "loud rest").await;
    let bodies: Vec<String> =
        rx.events("/hook", "onMessageAdded", 2).await.iter().map(|h| h.get("Body").to_owned()).collect();
    assert_eq!(bodies, ["from the sdk", "loud rest"]);
    // A message's side effect on the conversation (its count) is no onConversationUpdated.
    t.post(&format!("/v1/Conversations/{c}"), &[("FriendlyName", "renamed")], true).await;
    let updated = rx.events("/hook", "onConversationUpdated", 1).await;
    assert_eq!((updated.len(), updated[0].get("FriendlyName")), (1, "renamed"));
}

#[tokio::test]
async fn state_changes_removals_and_new_users_fire_their_own_events() {
    let t = Hooked::start(fast_policy()).await;
    let rx = Receiver::start().await;
    t.service_hook(
        &rx.url("/hook"),
        &["onConversationStateUpdated", "onConversationRemoved", "onParticipantRemoved", "onUserAdded"],
    )
    .await;
    let (status, carol) = t.post("/v1/Users", &[("Identity", "carol")], true).await;
    assert_eq!(status, 201, "{carol}");
    let added = &rx.events("/hook", "onUserAdded", 1).await[0];
    assert_eq!((added.get("Identity"), added.get("UserSid")), ("carol", carol["sid"].as_str().unwrap()));
    let c = t.conversation("stateful").await;
    t.post(&format!("/v1/Conversations/{c}/Participants"), &[("Identity", "bob")], true).await;
    t.post(&format!("/v1/Conversations/{c}"), &[("State", "inactive")], true).await;
    let s = &rx.events("/hook", "onConversationStateUpdated", 1).await[0];
    assert_eq!((s.get("StateFrom"), s.get("StateTo"), s.get("ConversationSid")), ("active", "inactive", c.as_str()));
    t.post(&format!("/v1/Conversations/{c}"), &[("FriendlyName", "same state")], true).await;
    t.delete(&format!("/v1/Conversations/{c}/Participants/bob"), true).await;
    let left = &rx.events("/hook", "onParticipantRemoved", 1).await[0];
    assert_eq!(left.get("Identity"), "bob");
    assert!(left.get("DateRemoved").ends_with('Z'));
    assert_eq!(t.delete(&format!("/v1/Conversations/{c}"), true).await.0, 204);
    rx.events("/hook", "onConversationRemoved", 1).await;
    assert_eq!(rx.events("/hook", "onConversationStateUpdated", 1).await.len(), 1, "a rename is no state change");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_the_same_token_until_it_answers() {
    let t = Hooked::start(fast_policy()).await;
    let rx = Receiver::start().await;
    rx.answer("/flaky", Answer::FailFirst(3, 503));
    t.service_hook(&rx.url("/flaky"), &["onMessageAdded"]).await;
    let c = t.conversation("retry").await;
    t.say(&c, "persist").await;
    let hits = rx.wait_for("/flaky", 4, |_| true).await;
    let retries: Vec<&str> = hits.iter().map(|h| h.get("RetryCount")).collect();
    assert_eq!(retries, ["0", "1", "2", "3"]);
    assert!(hits.iter().all(|h| h.token == hits[0].token && !h.token.is_empty()), "one idempotency token");
    assert!(hits.iter().all(|h| h.get("Body") == "persist"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.hits("/flaky").len(), 4, "delivered once it answered 200: no more attempts");
}

#[tokio::test]
async fn deliveries_are_given_up_after_the_attempt_bound_and_4xx_is_not_retried() {
    let policy = DeliveryPolicy { max_attempts: 3, ..fast_policy() };
    let t = Hooked::start(policy).await;
    let rx = Receiver::start().await;
    rx.answer("/down", Answer::Status(500));
    t.service_hook(&rx.url("/down"), &["onMessageAdded"]).await;
    let c = t.conversation("bounded").await;
    t.say(&c, "doomed").await;
    rx.wait_for("/down", 3, |h| h.get("Body") == "doomed").await;
    // The lane moves on: the next message is tried after the first is given up.
    rx.answer("/down", Answer::Status(404));
    t.say(&c, "refused once").await;
    rx.wait_for("/down", 1, |h| h.get("Body") == "refused once").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(rx.hits("/down").iter().filter(|h| h.get("Body") == "doomed").count(), 3, "three attempts in all");
    assert_eq!(rx.hits("/down").iter().filter(|h| h.get("Body") == "refused once").count(), 1, "a 4xx is final");
}

#[tokio::test]
async fn each_conversation_is_delivered_in_order_through_failures() {
    let t = Hooked::start(fast_policy()).await;
    let rx = Receiver::start().await;
    rx.answer("/ordered", Answer::FailFirst(5, 502));
    t.service_hook(&rx.url("/ordered"), &["onMessageAdded"]).await;
    let (a, b) = (t.conversation("a").await, t.conversation("b").await);
    let sends = (0..20).map(|i| {
        let (t, a, b) = (&t, a.clone(), b.clone());
        async move {
            t.say(&a, &format!("a{i}")).await;
            t.say(&b, &format!("b{i}")).await;
        }
    });
    futures_util::future::join_all(sends).await;
    rx.wait_for("/ordered", 40 + 5, |_| true).await;
    for c in [&a, &b] {
        let delivered: Vec<i64> = rx
            .hits("/ordered")
            .iter()
            .filter(|h| h.get("ConversationSid") == c)
            .map(|h| h.get("Index").parse().unwrap())
            .collect();
        let mut dedup = delivered.clone();
        dedup.dedup();
        assert_eq!(dedup, (0..20).collect::<Vec<_>>(), "in index order (a retry repeats only the head): {delivered:?}");
    }
}

#[tokio::test]
async fn a_hung_receiver_is_cut_at_the_timeout_and_holds_up_no_one_else() {
    let t = Hooked::start(DeliveryPolicy { max_attempts: 2, ..fast_policy() }).await;
    let rx = Receiver::start().await;
    rx.answer("/hung", Answer::Hang);
    let (stuck, free) = (t.conversation("stuck").await, t.conversation("free").await);
    for (c, path) in [(&stuck, "/hung"), (&free, "/fine")] {
        let r = t
            .post(
                &format!("/v1/Conversations/{c}/Webhooks"),
                &[
                    ("Target", "webhook"),
                    ("Configuration.Url", &rx.url(path)),
                    ("Configuration.Filters", "onMessageAdded"),
                ],
                false,
            )
            .await;
        assert_eq!(r.0, 201, "{}", r.1);
    }
    for i in 0..10 {
        t.say(&stuck, &format!("s{i}")).await;
        t.say(&free, &format!("f{i}")).await;
    }
    let fine = rx.wait_for("/fine", 10, |_| true).await;
    assert_eq!(
        fine.iter().map(|h| h.get("Index")).collect::<Vec<_>>(),
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    );
    // Each hung attempt was cut (a second attempt came), and then the next message's turn came.
    rx.wait_for("/hung", 3, |_| true).await;
    let hung = rx.hits("/hung");
    assert_eq!((hung[0].get("Index"), hung[1].get("Index"), hung[2].get("Index")), ("0", "0", "1"));
}

#[tokio::test]
async fn a_dead_receiver_cannot_grow_the_outbox_past_its_bound() {
    let policy = DeliveryPolicy {
        max_outbox: 5,
        first_retry: Duration::from_millis(500),
        max_retry: Duration::from_millis(500),
        ..fast_policy()
    };
    let t = Hooked::start(policy).await;
    let rx = Receiver::start().await;
    rx.answer("/dead", Answer::Status(503));
    t.service_hook(&rx.url("/dead"), &["onMessageAdded"]).await;
    let c = t.conversation("flood").await;
    for i in 0..30 {
        t.say(&c, &format!("m{i}")).await;
    }
    // The bound is enforced every 2 s; give it two rounds, then let the receiver live.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    rx.answer("/dead", Answer::Ok);
    rx.wait_for("/dead", 1, |h| h.get("Body") == "m29").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut bodies: Vec<String> = rx.hits("/dead").iter().map(|h| h.get("Body").to_owned()).collect();
    bodies.dedup();
    assert!(bodies.len() <= 5 + 2, "the oldest were dropped, not kept: {bodies:?}");
    assert_eq!(bodies.last().map(String::as_str), Some("m29"), "the newest are kept");
}

#[tokio::test]
async fn webhook_configuration_is_checked_and_reserved_to_the_account() {
    let t = Hooked::start(fast_policy()).await;
    let service = t.server.service_sid().to_owned();
    for (field, value) in [
        ("PostWebhookUrl", "ftp://example.com/x"),
        ("PreWebhookUrl", "not a url"),
        ("PostWebhookUrl", "http://"),
        ("Filters", "onNothing"),
        ("Method", "PUT"),
    ] {
        assert_error(&t.post("/v1/Configuration/Webhooks", &[(field, value)], false).await, 400, 20001);
        assert_error(
            &t.post(&format!("/v1/Services/{service}/Configuration/Webhooks"), &[(field, value)], false).await,
            400,
            20001,
        );
    }
    let (_, account) = t.get("/v1/Configuration/Webhooks").await;
    assert_eq!((account["method"].as_str(), account["target"].as_str()), (Some("POST"), Some("webhook")));
    assert!(account["url"].as_str().unwrap().ends_with("/v1/Configuration/Webhooks"));
    let (_, s) = t.get(&format!("/v1/Services/{service}/Configuration/Webhooks")).await;
    assert!(s["post_webhook_url"].is_null() && s["filters"].is_null(), "{s}");
    assert_eq!(s["chat_service_sid"], service.as_str());

    let c = t.conversation("limits").await;
    let hooks = format!("/v1/Conversations/{c}/Webhooks");
    assert_error(&t.post(&hooks, &[("Configuration.Url", "http://127.0.0.1:9/x")], false).await, 400, 20001);
    assert_error(
        &t.post(&hooks, &[("Target", "webhook"), ("Configuration.Url", "mailto:x@y")], false).await,
        400,
        20001,
    );
    assert_error(
        &t.post(&hooks, &[("Target", "webhook"), ("Configuration.Url", "http://h/x")], false).await,
        400,
        20001,
    );
    let ok = [
        ("Target", "webhook"),
        ("Configuration.Url", "http://127.0.0.1:9/x"),
        ("Configuration.Filters", "onMessageAdded"),
    ];
    for _ in 0..5 {
        assert_eq!(t.post(&hooks, &ok, false).await.0, 201);
    }
    assert_error(&t.post(&hooks, &ok, false).await, 400, 20001);
    let (_, page) = t.get(&hooks).await;
    assert_eq!((page["webhooks"].as_array().unwrap().len(), page["meta"]["key"].as_str()), (5, Some("webhooks")));
    let (_, missing) = t.get(&format!("{hooks}/WH00000000000000000000000000000000")).await;
    assert_eq!(missing["status"], 404);

    // People (access tokens) manage no webhooks.
    t.post(&format!("/v1/Conversations/{c}/Participants"), &[("Identity", "eve")], false).await;
    assert_error(
        &t.post_as("eve", "/v1/Configuration/Webhooks", &[("PostWebhookUrl", "http://h/x")]).await,
        403,
        20403,
    );
    assert_error(&t.post_as("eve", &hooks, &ok).await, 403, 20403);
}

#[tokio::test]
async fn a_new_webhook_can_replay_the_messages_after_an_index() {
    let t = Hooked::start(fast_policy()).await;
    let rx = Receiver::start().await;
    let c = t.conversation("history").await;
    for i in 0..5 {
        t.say(&c, &format!("old{i}")).await;
    }
    let form = [
        ("Target", "webhook"),
        ("Configuration.Url", &rx.url("/replay")),
        ("Configuration.Filters", "onMessageAdded"),
        ("Configuration.ReplayAfter", "2"),
    ];
    let (status, wh) = t.post(&format!("/v1/Conversations/{c}/Webhooks"), &form, false).await;
    assert_eq!(status, 201, "{wh}");
    assert_eq!(wh["configuration"]["replay_after"], 2);
    t.say(&c, "new").await;
    let hits = rx.wait_for("/replay", 4, |_| true).await;
    let bodies: Vec<&str> = hits.iter().map(|h| h.get("Body")).collect();
    assert_eq!(bodies, ["old2", "old3", "old4", "new"]);
    assert!(hits.iter().all(|h| h.get("WebhookSid") == wh["sid"]));
}

/// The deadline for deliveries after a restart (retries back off from 1 s).
const AFTER_RESTART: Duration = WAIT;

#[tokio::test]
async fn deliveries_owed_at_kill_dash_nine_arrive_after_restart() {
    let rx = Receiver::start().await;
    rx.answer("/owed", Answer::Status(503));
    let dir = tempfile::tempdir().unwrap();
    let served = crate::durability::Served::spawn(dir.path(), crate::durability::free_port());
    served.wait_ready().await;
    let creds: convo_tui::config::Credentials =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("credentials.json")).unwrap()).unwrap();
    let http = reqwest::Client::new();
    let post = |base: &str, path: &str, form: Vec<(&'static str, String)>| {
        http.post(format!("{base}{path}"))
            .basic_auth(&creds.account_sid, Some(&creds.auth_token))
            .header("X-Twilio-Webhook-Enabled", "true")
            .form(&form)
            .send()
    };
    let base = served.base.clone();
    let r = post(
        &base,
        "/v1/Configuration/Webhooks",
        vec![("PostWebhookUrl", rx.url("/owed")), ("Filters", "onMessageAdded".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let c: serde_json::Value =
        post(&base, "/v1/Conversations", vec![("UniqueName", "owed".into())]).await.unwrap().json().await.unwrap();
    let c = c["sid"].as_str().unwrap().to_owned();
    for i in 0..10 {
        let r = post(&base, &format!("/v1/Conversations/{c}/Messages"), vec![("Body", format!("m{i}"))]).await.unwrap();
        assert_eq!(r.status(), 201);
    }
    rx.wait_for("/owed", 1, |_| true).await;
    let mut served = served;
    served.child.kill().expect("SIGKILL");
    served.child.wait().unwrap();
    let before = rx.hits("/owed").len();

    rx.answer("/owed", Answer::Ok);
    let again = crate::durability::Served::spawn(dir.path(), crate::durability::free_port());
    again.wait_ready().await;
    let deadline = tokio::time::Instant::now() + AFTER_RESTART;
    loop {
        let mut bodies: Vec<String> = rx.hits("/owed").iter().map(|h| h.get("Body").to_owned()).collect();
        bodies.dedup();
        if bodies.len() == 10 {
            assert_eq!(bodies, (0..10).map(|i| format!("m{i}")).collect::<Vec<_>>(), "all, in order");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "after restart only {bodies:?} (before: {before} attempts)");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(again);
}
