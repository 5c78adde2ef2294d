//! A flood from one person: past 30 actions/s in a conversation they get 429,
//! code 20429, `Retry-After`; other conversations and the account are not
//! limited, and the person is served again once the second has passed.

use std::time::Duration;

use futures_util::future::join_all;

use super::fixture::{Server, assert_twilio_error};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_over_thirty_actions_a_second_gets_429_20429_with_retry_after() {
    let s = Server::start(convo_tui::server::rate_limit::DEFAULT_PER_SECOND).await;
    let flooded = s.conversation(&["flooder"]).await;
    let quiet = s.conversation(&["flooder"]).await;
    let post = |conversation: &str, who: Option<&str>| {
        let path = format!("/v1/Conversations/{conversation}/Messages");
        let req = match who {
            Some(identity) => s.person(identity, reqwest::Method::POST, &path),
            None => s.admin(reqwest::Method::POST, &path),
        };
        req.form(&[("Body", "flood")]).send()
    };
    // 100 at once: a second's burst (30) passes, plus what the bucket refills
    // while the flood is still arriving (30/s); the rest are refused.
    let started = std::time::Instant::now();
    let answers = join_all((0..100).map(|_| post(&flooded, Some("flooder")))).await;
    let refill = (started.elapsed().as_secs_f64() * 30.0).ceil() as usize;
    let mut refused = Vec::new();
    let mut accepted = 0;
    for a in answers {
        let a = a.unwrap();
        match a.status().as_u16() {
            201 => accepted += 1,
            429 => refused.push(a),
            other => panic!("unexpected status {other}"),
        }
    }
    assert!((30..=40 + refill).contains(&accepted), "{accepted} accepted ({refill} refilled)");
    let first = refused.pop().expect("some were refused");
    assert_eq!(first.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
    assert_twilio_error(first, 429, 20429).await;
    // Another conversation has its own budget; the account has none.
    assert_eq!(post(&quiet, Some("flooder")).await.unwrap().status(), 201);
    let admin = join_all((0..100).map(|_| post(&flooded, None))).await;
    assert!(admin.into_iter().all(|a| a.unwrap().status() == 201), "the account is not limited");
    // After Retry-After, the person is served again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(post(&flooded, Some("flooder")).await.unwrap().status(), 201);
}
