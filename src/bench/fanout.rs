//! `bench fanout`: S participants of one conversation hold `/v1/Stream` open
//! while an admin sender posts R messages/s over REST; latency runs from just
//! before the POST to each `messageAdded` receipt (storage, JSON and fan-out).

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::delivery::{self, Delivery, Publish};
use super::http_load;
use super::report::{Latency, Report};
use super::target::Target;
use super::{BenchArgs, Runtimes};
use crate::api::params::MessageParams;

/// How many setup requests run at once.
const SETUP_CONCURRENCY: usize = 16;

/// Sets up the conversation and its subscribers, then runs the fan-out.
pub fn measure(rt: &Runtimes, target: &Target, args: &BenchArgs) -> anyhow::Result<Delivery> {
    measure_across(rt, target, std::slice::from_ref(target), args)
}

/// The fan-out with the sender on `target` and subscriber i streaming from
/// `streams[i % len]` (several instances of one cluster); subscriber i is in
/// latency group `i % len`.
pub fn measure_across(
    rt: &Runtimes,
    target: &Target,
    streams: &[Target],
    args: &BenchArgs,
) -> anyhow::Result<Delivery> {
    anyhow::ensure!(!streams.is_empty(), "no instance to stream from");
    let target = Arc::new(target.clone());
    let streams = streams.to_vec();
    let (subscribers, rate, duration) = (args.subscribers, args.rate, args.duration());
    rt.client.block_on(async move {
        let client = http_load::client(SETUP_CONCURRENCY)?;
        target.set_reachability(&client, false).await?;
        let conversation = target.create_conversation(&client, "bench fanout").await?;
        let identities: Vec<String> = (0..subscribers).map(|i| format!("bench-sub-{i}")).collect();
        for chunk in identities.chunks(SETUP_CONCURRENCY) {
            let mut adds = JoinSet::new();
            for identity in chunk {
                let (t, c, conv, id) = (target.clone(), client.clone(), conversation.clone(), identity.clone());
                adds.spawn(async move { t.add_participant(&c, &conv, &id).await });
            }
            while let Some(r) = adds.join_next().await {
                r??;
            }
        }
        let mut subs = Vec::with_capacity(subscribers);
        for (i, identity) in identities.iter().enumerate() {
            let group = i % streams.len();
            subs.push((group, delivery::connect(streams[group].stream_request(identity)?).await?));
        }
        let url = target.messages_url(&conversation);
        let auth = target.admin();
        let publish: Publish = Arc::new(move |body| {
            let form = MessageParams { author: Some("bench-sender".into()), body: Some(body), ..Default::default() };
            let req = client
                .post(&url)
                .basic_auth(&auth.user, Some(&auth.password))
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(serde_html_form::to_string(&form).unwrap_or_default());
            Box::pin(async move {
                let resp = req.send().await?;
                let status = resp.status();
                let _ = resp.bytes().await;
                anyhow::ensure!(status.is_success(), "POST message: {status}");
                Ok(())
            })
        });
        delivery::run(subs, publish, rate, duration, Duration::from_secs(10)).await
    })
}

/// The fan-out figures, with ratios to `floor` when given.
pub fn report(name: &str, args: &BenchArgs, d: &Delivery, floor: Option<&Delivery>) -> Report {
    let mut r = Report::new(name);
    r.param("subscribers", args.subscribers).param("rate", args.rate).param("duration_s", args.duration);
    match floor {
        Some(f) => r.figure_vs("deliveries/s", d.deliveries_per_sec.round(), "1/s", f.deliveries_per_sec.round()),
        None => r.figure("deliveries/s", d.deliveries_per_sec.round(), "1/s"),
    };
    r.latency("delivery", Latency::of(&d.latency), floor.map(|f| Latency::of(&f.latency)));
    let expected = d.expected(args.subscribers);
    r.figure("messages sent", d.sent as f64, "msgs");
    r.figure("deliveries", d.delivered as f64, "msgs");
    r.figure("lost", expected.saturating_sub(d.delivered) as f64, "msgs");
    if d.publish_errors > 0 {
        r.note(format!("{} publishes failed", d.publish_errors));
    }
    if d.disconnected > 0 {
        r.note(format!("{} subscribers were disconnected (slow-consumer limit?)", d.disconnected));
    }
    if floor.is_some() && args.subscribers == 1000 && args.rate == 100.0 {
        let p99 = Latency::of(&d.latency).p99_ms;
        let verdict = if p99 < 10.0 { "met" } else { "missed" };
        r.note(format!("target p99 < 10 ms at 1,000 subscribers x 100 msgs/s: {verdict} ({p99:.2} ms)"));
    }
    r
}
