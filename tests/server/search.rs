//! `GET /v1/Search/Messages` (our extension): who sees which hits, freshness
//! after create, edit and delete, keyset paging, the query syntax, and hostile
//! queries that must never be a 5xx. Runs on both stores like the whole suite.

use crate::common::*;
use serde_json::Value;

fn search_path(query: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![("Query", query)];
    pairs.extend_from_slice(extra);
    format!("/v1/Search/Messages?{}", serde_html_form::to_string(&pairs).expect("form"))
}

async fn search(t: &TestServer, who: &As, query: &str, extra: &[(&str, &str)]) -> Value {
    let (status, body) = t.get(who, &search_path(query, extra)).await;
    assert_eq!(status, 200, "{query}: {body}");
    assert_eq!(body["meta"]["key"], "messages", "{body}");
    body
}

fn bodies(page: &Value) -> Vec<String> {
    page["messages"].as_array().expect("messages").iter().map(|m| m["body"].as_str().unwrap_or("").to_owned()).collect()
}

/// alice and bob share "ab"; eve has her own; the account sees both.
async fn two_rooms(t: &TestServer) -> (String, String) {
    let ab = sid(&t.conversation(&[("FriendlyName", "ab")]).await);
    t.add(&ab, "alice").await;
    t.add(&ab, "bob").await;
    let e = sid(&t.conversation(&[("FriendlyName", "eve's")]).await);
    t.add(&e, "eve").await;
    (ab, e)
}

#[tokio::test]
async fn a_person_finds_only_what_they_may_read_and_the_account_finds_all() {
    let t = TestServer::start().await;
    let (ab, e) = two_rooms(&t).await;
    t.say(&person("alice"), &ab, "the quokka is out").await;
    t.say(&person("eve"), &e, "another quokka here").await;
    assert_eq!(bodies(&search(&t, &person("bob"), "quokka", &[]).await), ["the quokka is out"]);
    assert_eq!(bodies(&search(&t, &person("eve"), "quokka", &[]).await), ["another quokka here"]);
    assert_eq!(bodies(&search(&t, &As::Admin, "quokka", &[]).await), ["another quokka here", "the quokka is out"]);
    // Naming a conversation one is not in is refused, not an empty page.
    assert_error(&t.get(&person("eve"), &search_path("quokka", &[("ConversationSid", &ab)])).await, 403, 50430);
    assert_error(&t.get(&As::Nobody, &search_path("quokka", &[])).await, 401, 20003);
    let only = search(&t, &As::Admin, "quokka", &[("ConversationSid", &e)]).await;
    assert_eq!(bodies(&only), ["another quokka here"]);
    let m = &only["messages"][0];
    assert_eq!(m["conversation_sid"], e.as_str());
    assert!(m["url"].as_str().unwrap_or("").ends_with(&format!("/Messages/{}", sid(m))), "{m}");
    let by = search(&t, &As::Admin, "quokka", &[("Author", "alice")]).await;
    assert_eq!(bodies(&by), ["the quokka is out"]);
}

#[tokio::test]
async fn messages_are_findable_at_once_and_edits_and_deletes_show_at_once() {
    let t = TestServer::start().await;
    let (ab, _) = two_rooms(&t).await;
    let alice = person("alice");
    let m = t.say(&alice, &ab, "meet at the lighthouse").await;
    assert_eq!(bodies(&search(&t, &alice, "lighthouse", &[]).await), ["meet at the lighthouse"]);
    let path = format!("/v1/Conversations/{ab}/Messages/{}", sid(&m));
    let (status, body) = t.post(&alice, &path, &[("Body", "meet at the harbour")]).await;
    assert_eq!(status, 200, "{body}");
    assert!(bodies(&search(&t, &alice, "lighthouse", &[]).await).is_empty());
    assert_eq!(bodies(&search(&t, &alice, "harbour", &[]).await), ["meet at the harbour"]);
    // Attributes alone leave the body findable.
    let (status, _) = t.post(&alice, &path, &[("Attributes", "{\"k\":1}")]).await;
    assert_eq!(status, 200);
    assert_eq!(bodies(&search(&t, &alice, "harbour", &[]).await).len(), 1);
    let (status, _) = t.delete(&alice, &path).await;
    assert_eq!(status, 204);
    assert!(bodies(&search(&t, &alice, "harbour", &[]).await).is_empty());
    // Deleting the conversation takes its messages out of search.
    t.say(&alice, &ab, "harbour again").await;
    let (status, _) = t.delete(&As::Admin, &format!("/v1/Conversations/{ab}")).await;
    assert_eq!(status, 204);
    assert!(bodies(&search(&t, &As::Admin, "harbour", &[]).await).is_empty());
}

#[tokio::test]
async fn results_page_newest_first_without_repeats() {
    let t = TestServer::start().await;
    let (ab, _) = two_rooms(&t).await;
    for i in 0..7 {
        t.say(&person("bob"), &ab, &format!("note {i} zebra")).await;
        t.say(&person("bob"), &ab, &format!("filler {i}")).await;
    }
    let mut seen = Vec::new();
    let mut path = search_path("zebra", &[("PageSize", "3")]);
    let mut pages = 0;
    loop {
        let (status, page) = t.get(&person("alice"), &path).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(bodies(&page));
        pages += 1;
        match page["meta"]["next_page_url"].as_str() {
            Some(next) => path = next.trim_start_matches(t.base.as_str()).to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let want: Vec<String> = (0..7).rev().map(|i| format!("note {i} zebra")).collect();
    assert_eq!(seen, want);
    assert_error(&t.get(&As::Admin, &search_path("zebra", &[("PageToken", "nonsense")])).await, 400, 20001);
}

#[tokio::test]
async fn words_prefixes_and_phrases() {
    let t = TestServer::start().await;
    let (ab, _) = two_rooms(&t).await;
    let alice = person("alice");
    for body in ["Release at NOON today", "noon release postponed", "the quokkas are fed", "café crème, src/main.rs"]
    {
        t.say(&alice, &ab, body).await;
    }
    let found = |q: &'static str| {
        let t = &t;
        let alice = alice.clone();
        async move { bodies(&search(t, &alice, q, &[]).await) }
    };
    assert_eq!(found("noon release").await, ["noon release postponed", "Release at NOON today"]);
    assert_eq!(found("\"release at noon\"").await, ["Release at NOON today"]);
    assert_eq!(found("\"noon release\"").await, ["noon release postponed"]);
    assert_eq!(found("quok*").await, ["the quokkas are fed"]);
    assert!(found("quok").await.is_empty(), "a word is whole unless it ends with *");
    assert_eq!(found("CAFÉ").await, ["café crème, src/main.rs"]);
    assert_eq!(found("main.rs").await, ["café crème, src/main.rs"]);
    assert_error(&t.get(&alice, &search_path("", &[])).await, 400, 20001);
    assert_error(&t.get(&alice, &search_path("( ) * ^", &[])).await, 400, 20001);
    assert_error(&t.get(&alice, "/v1/Search/Messages").await, 400, 20001);
}

#[tokio::test]
async fn operator_soup_never_fails_the_server() {
    let t = TestServer::start().await;
    let (ab, _) = two_rooms(&t).await;
    t.say(&person("alice"), &ab, "AND OR NOT near the end").await;
    let soup = [
        "AND",
        "OR",
        "NOT",
        "NEAR(a b)",
        "a AND",
        "OR b",
        "NOT NOT",
        "(",
        ")",
        "((a)",
        "a)",
        "*",
        "a**",
        "*a",
        "\"",
        "\"\"\"",
        "\"a",
        "a\"b\"c",
        "^",
        "^a",
        "a:b",
        ":",
        "body:x",
        "conversation:*",
        "{body}:x",
        "a - b",
        "-a",
        "+a",
        "a|b",
        "a & b",
        "!a",
        "'",
        "''",
        "a'b",
        "\\",
        "%",
        "_",
        "a <-> b",
        "a:*",
        "a:* & !",
        "NEAR",
        "x OR y AND z NOT (w)",
        "\u{0}",
        "\u{202e}evil",
        "😀",
        "ß",
        "a\tb\nc",
        ";DROP TABLE messages;--",
        "a AND OR NOT ( ) * \" ^ :",
        "\"AND\"",
        "end*",
        "near*",
        "\"near the\"*",
    ];
    for q in soup {
        let (status, body) = t.get(&person("alice"), &search_path(q, &[])).await;
        assert!(status == 200 || status == 400, "{q:?}: {status} {body}");
        if status == 400 {
            assert_eq!(body["code"], 20001, "{q:?}: {body}");
        }
    }
    // Operators spelled as words are words.
    assert_eq!(bodies(&search(&t, &person("alice"), "AND OR NOT", &[]).await).len(), 1);
    let long = "a ".repeat(2000);
    assert_error(&t.get(&person("alice"), &search_path(&long, &[])).await, 400, 20001);
}
