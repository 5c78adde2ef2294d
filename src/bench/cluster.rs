//! `bench cluster`: N embedded instances on one PostgreSQL (`--database`), each
//! with its own store connections, event-log follower and streams. Fan-out with
//! the sender on instance 0 and every subscriber on it (the one-instance figure),
//! then with the subscribers spread over all N (cross-instance deliveries are the
//! ones the event log carries), then 32-sender throughput on PostgreSQL beside
//! SQLite's, all in the same run and beside the broadcast floor.

use hdrhistogram::Histogram;

use super::delivery::Delivery;
use super::fanout;
use super::report::{Latency, Report, latency_histogram};
use super::send;
use super::target::Target;
use super::{BenchArgs, Runtimes};
use crate::config::Credentials;

/// Runs the cluster scenario; `floor` is the bare broadcast's fan-out.
pub fn run(rt: &Runtimes, args: &BenchArgs, floor: &Delivery) -> anyhow::Result<Vec<Report>> {
    let Some(database) = args.database.clone() else {
        anyhow::bail!("bench cluster needs --database postgres://USER:PASS@HOST:PORT/DB (or CONVO_DATABASE_URL)");
    };
    anyhow::ensure!(args.server.is_none(), "bench cluster starts its own instances: drop --server");
    let n = args.instances.max(2);
    let credentials = Credentials::generate();
    let nodes = (0..n)
        .map(|_| Target::start(rt, Some(database.clone()), credentials.clone()))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let single = fanout::measure_across(rt, &nodes[0], &nodes[..1], args)?;
    let spread = fanout::measure_across(rt, &nodes[0], &nodes, args)?;
    let fan = fanout_report(args, n, floor, &single, &spread);

    let on_postgres = send::measure(rt, &nodes[0], args)?;
    let sqlite = Target::start(rt, None, Credentials::generate())?;
    let on_sqlite = send::measure(rt, &sqlite, args)?;
    let mut sends = Report::new("cluster-send");
    sends.param("senders", args.senders).param("duration_s", args.duration);
    let (pg_rate, sqlite_rate) = (on_postgres.accepted_per_sec().round(), on_sqlite.accepted_per_sec().round());
    sends.figure("sqlite accepted msgs/s", sqlite_rate, "1/s");
    sends.figure("postgres accepted msgs/s", pg_rate, "1/s");
    sends.figure("postgres/sqlite", if sqlite_rate > 0.0 { pg_rate / sqlite_rate } else { 0.0 }, "x");
    sends.latency("sqlite post", Latency::of(&on_sqlite.latency), None);
    sends.latency("postgres post", Latency::of(&on_postgres.latency), None);
    for (store, posts) in [("sqlite", &on_sqlite), ("postgres", &on_postgres)] {
        for (status, count) in &posts.refused {
            sends.note(format!("{store}: {count} answered {status}"));
        }
    }
    Ok(vec![fan, sends])
}

/// The latencies of every group but the first (subscribers on other instances than the sender's).
fn cross_instance(d: &Delivery) -> Histogram<u64> {
    let mut h = latency_histogram();
    for g in d.groups.iter().skip(1) {
        // Same bounds on every histogram (latency_histogram), so adding cannot fail.
        let _ = h.add(g);
    }
    h
}

fn fanout_report(args: &BenchArgs, n: usize, floor: &Delivery, single: &Delivery, spread: &Delivery) -> Report {
    let mut r = Report::new("cluster-fanout");
    r.param("instances", n).param("subscribers", args.subscribers).param("rate", args.rate);
    r.param("duration_s", args.duration);
    let floor_lat = Latency::of(&floor.latency);
    let one = Latency::of(&single.latency);
    let cross = Latency::of(&cross_instance(spread));
    r.latency("one instance", one, Some(floor_lat));
    r.latency("spread, all", Latency::of(&spread.latency), Some(floor_lat));
    r.latency("spread, other instances", cross, Some(floor_lat));
    r.figure("cross p99 / one-instance p99", if one.p99_ms > 0.0 { cross.p99_ms / one.p99_ms } else { 0.0 }, "x");
    r.figure("spread deliveries/s", spread.deliveries_per_sec.round(), "1/s");
    for (name, d) in [("one instance", single), ("spread", spread)] {
        let lost = d.expected(args.subscribers).saturating_sub(d.delivered);
        r.figure(&format!("{name} lost"), lost as f64, "msgs");
        if d.publish_errors > 0 || d.disconnected > 0 {
            r.note(format!("{name}: {} publishes failed, {} disconnected", d.publish_errors, d.disconnected));
        }
    }
    let verdict = if cross.p99_ms <= 2.0 * one.p99_ms { "met" } else { "missed" };
    r.note(format!(
        "target cross-instance p99 within 2x of one instance: {verdict} ({:.2} vs {:.2} ms)",
        cross.p99_ms, one.p99_ms
    ));
    r
}
