//! `bench send`: C concurrent admin senders POST messages for D seconds, each
//! sending its next message as soon as the last was accepted (closed loop), into
//! one shared conversation or one conversation each. Counts 2xx answers only.

use super::http_load::{self, Posts};
use super::report::{Latency, Report};
use super::target::Target;
use super::{BenchArgs, Runtimes, Spread, Webhook};
use crate::api::params::MessageParams;

/// Creates the conversation(s), then runs the senders.
pub fn measure(rt: &Runtimes, target: &Target, args: &BenchArgs) -> anyhow::Result<Posts> {
    let (senders, spread, duration) = (args.senders, args.spread, args.duration());
    let webhook = args.webhook;
    rt.client.block_on(async move {
        let client = http_load::client(senders)?;
        if webhook != Webhook::None {
            let url = receiver(webhook).await?;
            let form = [("PostWebhookUrl", url.as_str()), ("Filters", "onMessageAdded")];
            target.post_form(&client, "/v1/Configuration/Webhooks", &form).await?;
        }
        let conversations = match spread {
            Spread::One => vec![target.create_conversation(&client, "bench send").await?; senders],
            Spread::Each => {
                let mut v = Vec::with_capacity(senders);
                for i in 0..senders {
                    v.push(target.create_conversation(&client, &format!("bench send {i}")).await?);
                }
                v
            }
        };
        let targets = conversations
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let form = MessageParams {
                    author: Some(format!("bench-sender-{i}")),
                    body: Some(format!("bench message from sender {i}")),
                    ..Default::default()
                };
                Ok((target.messages_url(c), serde_html_form::to_string(&form)?))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        http_load::post_for(&client, targets, Some(target.admin()), duration).await
    })
}

/// Starts a webhook receiver on loopback (on the load client's runtime) and returns its URL.
async fn receiver(kind: Webhook) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let hung = kind == Webhook::Hung;
    let app = axum::Router::new().fallback(move || async move {
        if hung {
            std::future::pending::<()>().await;
        }
        ""
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

/// The send figures, with ratios to the HTTP floor's POSTs.
pub fn report(args: &BenchArgs, p: &Posts, floor: &Posts) -> Report {
    let mut r = Report::new("send");
    let spread = match args.spread {
        Spread::One => "one",
        Spread::Each => "each",
    };
    let webhook = match args.webhook {
        Webhook::None => "none",
        Webhook::Ok => "ok",
        Webhook::Hung => "hung",
    };
    r.param("senders", args.senders)
        .param("spread", spread)
        .param("duration_s", args.duration)
        .param("webhook", webhook);
    let rate = p.accepted_per_sec().round();
    r.figure_vs("accepted msgs/s", rate, "1/s", floor.accepted_per_sec().round());
    r.latency("post", Latency::of(&p.latency), Some(Latency::of(&floor.latency)));
    r.figure("accepted", p.accepted as f64, "msgs");
    for (status, n) in &p.refused {
        r.note(format!("{n} answered {status}"));
    }
    if p.failed > 0 {
        r.note(format!("{} requests got no answer", p.failed));
    }
    let verdict = if rate >= 10_000.0 { "met" } else { "missed" };
    if args.senders == 32 {
        r.note(format!("target >= 10,000 msgs/s with 32 senders: {verdict} ({rate} msgs/s)"));
    }
    r
}
