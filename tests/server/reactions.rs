//! Reactions (`attributes.reactions`, Twilio's demo-app shape) through the
//! atomic calls: many at once, none lost; participants only; names checked;
//! `messageUpdated` sent. Replies: `reply_to` must name a message of the same conversation.

use serde_json::Value;

use crate::common::{As, TestServer, assert_error, person, sid};

fn reactions_of(m: &Value) -> Value {
    let attrs: Value = serde_json::from_str(m["attributes"].as_str().unwrap()).unwrap();
    attrs["reactions"].clone()
}

#[tokio::test]
async fn twenty_people_reacting_at_once_lose_no_reaction() {
    let t = TestServer::start().await;
    let ch = sid(&t.conversation(&[]).await);
    let people: Vec<String> = (0..20).map(|i| format!("reactor{i}")).collect();
    for p in &people {
        t.add(&ch, p).await;
    }
    let m = t.say(&person("reactor0"), &ch, "react to me").await;
    let mut watcher = t.stream(Some("reactor1")).await;
    let path = format!("/v1/Conversations/{ch}/Messages/{}/Reactions", sid(&m));
    let all = people.iter().map(|p| {
        let (t, path, who) = (&t, path.clone(), person(p));
        let name = if p.ends_with('7') { "🎉" } else { "heart" };
        async move { t.post(&who, &path, &[("Reaction", name)]).await }
    });
    for (status, body) in futures_util::future::join_all(all).await {
        assert_eq!(status, 200, "{body}");
    }
    let (_, now) = t.get(&As::Admin, &format!("/v1/Conversations/{ch}/Messages/{}", sid(&m))).await;
    let r = reactions_of(&now);
    let hearts: Vec<&str> = r["heart"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(hearts.len(), 18, "{r}");
    assert!(!hearts.contains(&"reactor7") && hearts.contains(&"reactor19"), "{r}");
    assert_eq!(r["🎉"].as_array().unwrap().len(), 2, "{r}");
    let event = watcher.expect("messageUpdated").await;
    assert_eq!(event["data"]["sid"], sid(&m));

    // Half take theirs back at once; the rest stay.
    let back = people[..10].iter().map(|p| {
        let (t, path, who) = (&t, format!("{path}/heart"), person(p));
        async move { t.delete(&who, &path).await }
    });
    futures_util::future::join_all(back).await;
    let (_, now) = t.get(&As::Admin, &format!("/v1/Conversations/{ch}/Messages/{}", sid(&m))).await;
    let r = reactions_of(&now);
    assert_eq!(r["heart"].as_array().unwrap().len(), 9, "reactor7 had no heart; {r}");
    assert_eq!(r["🎉"].as_array().unwrap().len(), 2, "{r}");
}

#[tokio::test]
async fn reactions_are_a_participants_own_with_checked_names() {
    let t = TestServer::start().await;
    let ch = sid(&t.conversation(&[]).await);
    t.add(&ch, "alice").await;
    let m = t.say(&person("alice"), &ch, "hi").await;
    let path = format!("/v1/Conversations/{ch}/Messages/{}/Reactions", sid(&m));
    let (status, body) = t.post(&person("alice"), &path, &[("Reaction", "thumbs_up")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(reactions_of(&body)["thumbs_up"], serde_json::json!(["alice"]));
    let (_, again) = t.post(&person("alice"), &path, &[("Reaction", "thumbs_up")]).await;
    assert_eq!(reactions_of(&again)["thumbs_up"], serde_json::json!(["alice"]), "reacting twice is once");
    assert_error(&t.post(&person("mallory"), &path, &[("Reaction", "heart")]).await, 403, 50430);
    assert_error(&t.post(&As::Admin, &path, &[("Reaction", "heart")]).await, 403, 20403);
    assert_error(&t.post(&person("alice"), &path, &[("Reaction", "<b>love</b>")]).await, 400, 20001);
    assert_error(&t.post(&person("alice"), &path, &[]).await, 400, 20001);
    assert_error(
        &t.post(
            &person("alice"),
            &format!("/v1/Conversations/{ch}/Messages/IM{}/Reactions", "0".repeat(32)),
            &[("Reaction", "heart")],
        )
        .await,
        404,
        20404,
    );
    let (status, gone) = t.delete(&person("alice"), &format!("{path}/thumbs_up")).await;
    assert_eq!(status, 200, "{gone}");
    assert_eq!(reactions_of(&gone), serde_json::json!({}));
}

#[tokio::test]
async fn a_reply_must_answer_a_message_of_the_same_conversation() {
    let t = TestServer::start().await;
    let ch = sid(&t.conversation(&[]).await);
    let other = sid(&t.conversation(&[]).await);
    t.add(&ch, "alice").await;
    t.add(&other, "alice").await;
    let first = t.say(&person("alice"), &ch, "question").await;
    let elsewhere = t.say(&person("alice"), &other, "elsewhere").await;
    let reply = |m: &Value| {
        serde_json::json!({"reply_to": {"message_sid": m["sid"], "index": m["index"], "author": m["author"]}})
            .to_string()
    };
    let messages = format!("/v1/Conversations/{ch}/Messages");
    let (status, body) =
        t.post(&person("alice"), &messages, &[("Body", "answer"), ("Attributes", &reply(&first))]).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) =
        t.post(&person("alice"), &messages, &[("Body", "answer"), ("Attributes", &reply(&elsewhere))]).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(20001)), "{body}");
    let bad = r#"{"reply_to": {"message_sid": 7}}"#;
    assert_error(&t.post(&person("alice"), &messages, &[("Body", "x"), ("Attributes", bad)]).await, 400, 20001);
    let edit = format!("{messages}/{}", sid(&body_of(&t, &person("alice"), &ch).await));
    assert_error(&t.post(&person("alice"), &edit, &[("Attributes", &reply(&elsewhere))]).await, 400, 20001);
}

async fn body_of(t: &TestServer, who: &As, ch: &str) -> Value {
    t.say(who, ch, "plain").await
}
