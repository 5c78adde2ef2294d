//! `convo-tui bench SCENARIO`: load scenarios that print figures (a table, or
//! JSON with `--json`). The server under test and the load client run on separate
//! tokio runtimes in this process (`media`: the server in a process of its own),
//! or the server is elsewhere (`--server`); each scenario quotes its ratio to the
//! floor measured in the same run, or to a baseline of its own (a history page).

mod cluster;
mod delivery;
mod fanout;
mod floor;
mod history;
mod http_load;
mod media;
mod process;
mod report;
mod search;
mod send;
mod target;

use std::path::PathBuf;
use std::time::Duration;

pub use report::{Figure, Latency, Report};

/// The scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// C senders posting messages as fast as they are accepted, for D seconds.
    Send,
    /// S stream subscribers of one conversation, one sender at R msgs/s.
    Fanout,
    /// Pages of 50 at the start, middle and end of an M-message conversation.
    History,
    /// The machine's floor: a bare WebSocket broadcast and a canned HTTP endpoint.
    Floor,
    /// Every scenario above, one after the other.
    All,
    /// N instances on one PostgreSQL (`--database`): fan-out across instances
    /// beside one instance, and send throughput on PostgreSQL beside SQLite.
    Cluster,
    /// A file up and down the Media Content Service, and a 150 MiB upload, with
    /// the server's RSS (the server runs as its own process, or `--server`).
    Media,
    /// GET /v1/Search/Messages in an M-message service, a rare word and a word in
    /// every message, beside a history page (SQLite, or PostgreSQL with --database).
    Search,
    /// Internal (`--processes`): serve the fan-out floor in this process and
    /// print its address; runs until stdin closes.
    #[value(hide = true)]
    FloorServer,
}

/// Where the senders of `send` post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Spread {
    /// All senders into one conversation.
    One,
    /// Each sender into a conversation of its own.
    Each,
}

/// What receives the server's webhooks during `send`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Webhook {
    /// No webhook configured.
    None,
    /// An `onMessageAdded` webhook to a local receiver that answers 200 at once.
    Ok,
    /// An `onMessageAdded` webhook to a local receiver that accepts and never answers.
    Hung,
}

/// `convo-tui bench` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Which scenario to run.
    #[arg(value_enum)]
    pub scenario: Scenario,
    /// Measure the server at this URL instead of one started in-process.
    #[arg(long)]
    pub server: Option<String>,
    /// With --server: that server's data dir, where its credentials are kept
    /// (or set CONVO_ACCOUNT_SID, CONVO_AUTH_TOKEN, CONVO_API_KEY, CONVO_API_SECRET).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Seconds each timed phase lasts (send, fanout, floor).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// send: concurrent senders.
    #[arg(long, default_value_t = 32)]
    pub senders: usize,
    /// send: one conversation for all senders, or one each.
    #[arg(long, value_enum, default_value_t = Spread::One)]
    pub spread: Spread,
    /// send: a post-event webhook for every message, to a receiver that answers or hangs.
    #[arg(long, value_enum, default_value_t = Webhook::None)]
    pub webhook: Webhook,
    /// fanout, floor: stream subscribers.
    #[arg(long, default_value_t = 1000)]
    pub subscribers: usize,
    /// fanout, floor: messages per second from the one sender.
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// history: messages in the conversation.
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: u64,
    /// history, floor: how many times each page is fetched.
    #[arg(long, default_value_t = 200)]
    pub fetches: usize,
    /// The embedded server's store: a PostgreSQL URL (SQLite in a temp dir without it).
    #[arg(long, env = "CONVO_DATABASE_URL")]
    pub database: Option<String>,
    /// fanout (and its floor), send, history: run the server under test and the
    /// fan-out floor each in a child process of their own (this binary), so the
    /// load client has its process to itself.
    #[arg(long)]
    pub processes: bool,
    /// cluster: how many instances on the database.
    #[arg(long, default_value_t = 3)]
    pub instances: usize,
    /// search: conversations the messages are spread over.
    #[arg(long, default_value_t = 100)]
    pub conversations: usize,
    /// media: MiB of the file uploaded and downloaded.
    #[arg(long, default_value_t = 100)]
    pub file_mib: u64,
    /// media: MiB of the upload whose RSS growth is reported (150: the chat limit).
    #[arg(long, default_value_t = 150)]
    pub big_mib: u64,
    /// media with --server: that server's process id, to read its RSS from /proc.
    #[arg(long)]
    pub pid: Option<u32>,
}

impl BenchArgs {
    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration.max(0.1))
    }
}

/// Two runtimes, so the server under test and the load client each have their
/// own worker threads, the same way for the floor as for the real server.
pub(crate) struct Runtimes {
    pub server: tokio::runtime::Runtime,
    pub client: tokio::runtime::Runtime,
}

impl Runtimes {
    fn new() -> anyhow::Result<Self> {
        let build = |name: &str| {
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name(name).enable_all().build()
        };
        Ok(Self { server: build("bench-server")?, client: build("bench-client")? })
    }
}

/// Runs the scenario and prints its reports.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    if args.scenario == Scenario::FloorServer {
        return process::serve_floor();
    }
    anyhow::ensure!(args.rate > 0.0 && args.rate.is_finite(), "--rate must be positive");
    anyhow::ensure!(args.subscribers > 0 && args.senders > 0, "--subscribers and --senders must be at least 1");
    let rt = Runtimes::new()?;
    let scenarios = match args.scenario {
        Scenario::All => vec![Scenario::Floor, Scenario::Send, Scenario::Fanout, Scenario::History],
        s => vec![s],
    };
    let mut reports = Vec::new();
    let mut floors = Floors::default();
    for s in scenarios {
        let new = run_one(&rt, args, s, &mut floors)?;
        if !args.json {
            for r in &new {
                println!("{}", r.table());
            }
        }
        reports.extend(new);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}

/// The floors, each measured once per run and shared by the scenarios after it.
#[derive(Default)]
struct Floors {
    fanout: Option<delivery::Delivery>,
    http: Option<floor::HttpFloor>,
}

impl Floors {
    fn fanout(&mut self, rt: &Runtimes, args: &BenchArgs) -> anyhow::Result<&delivery::Delivery> {
        if self.fanout.is_none() {
            let measured = if args.processes {
                let floor_process = process::FloorProcess::start()?;
                floor::fanout(rt, floor_process.addr, args.subscribers, args.rate, args.duration())?
            } else {
                let addr = rt.server.block_on(floor::start_ws())?;
                floor::fanout(rt, addr, args.subscribers, args.rate, args.duration())?
            };
            self.fanout = Some(measured);
        }
        Ok(self.fanout.as_ref().expect("just measured"))
    }

    /// The HTTP floor; `posts` says whether its POST phase is needed (history only needs GETs).
    fn http(&mut self, rt: &Runtimes, args: &BenchArgs, posts: bool) -> anyhow::Result<&floor::HttpFloor> {
        let missing_posts = self.http.as_ref().is_none_or(|h| posts && h.posts.accepted == 0);
        if missing_posts {
            let duration = if posts { args.duration() } else { Duration::ZERO };
            self.http = Some(floor::http(rt, args.senders, duration, args.fetches)?);
        }
        Ok(self.http.as_ref().expect("just measured"))
    }
}

fn run_one(rt: &Runtimes, args: &BenchArgs, scenario: Scenario, floors: &mut Floors) -> anyhow::Result<Vec<Report>> {
    match scenario {
        Scenario::Floor => {
            let fan = fanout::report("floor-fanout", args, floors.fanout(rt, args)?, None);
            Ok(vec![fan, floors.http(rt, args, true)?.report(args)])
        }
        Scenario::Fanout => {
            floors.fanout(rt, args)?;
            let target = target::Target::open(rt, args)?;
            let fan = fanout::measure(rt, &target, args)?;
            Ok(vec![fanout::report("fanout", args, &fan, floors.fanout.as_ref())])
        }
        Scenario::Send => {
            floors.http(rt, args, true)?;
            let target = target::Target::open(rt, args)?;
            let posts = send::measure(rt, &target, args)?;
            Ok(vec![send::report(args, &posts, &floors.http(rt, args, true)?.posts)])
        }
        Scenario::History => {
            let floor_get = floors.http(rt, args, false)?.get;
            let target = target::Target::open(rt, args)?;
            let h = history::measure(rt, &target, args)?;
            Ok(vec![history::report(&h, floor_get)])
        }
        Scenario::Cluster => cluster::run(rt, args, floors.fanout(rt, args)?),
        Scenario::Media => media::run(rt, args),
        Scenario::Search => Ok(vec![search::report(&search::measure(rt, args)?, args.fetches)]),
        Scenario::All | Scenario::FloorServer => unreachable!("handled by run"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    fn args(line: &str) -> BenchArgs {
        Cli::parse_from(std::iter::once("bench").chain(line.split_whitespace())).bench
    }

    /// Every scenario, tiny, against the embedded server: the figures exist and
    /// nothing was lost or refused (no figure is compared with a time).
    #[test]
    fn every_scenario_runs_end_to_end_on_the_embedded_server() {
        let a = args("all --duration 0.5 --senders 4 --subscribers 5 --rate 40 --messages 300 --fetches 3");
        let rt = Runtimes::new().unwrap();
        let mut floors = Floors::default();
        let mut reports = Vec::new();
        for s in [Scenario::Floor, Scenario::Send, Scenario::Fanout, Scenario::History] {
            reports.extend(run_one(&rt, &a, s, &mut floors).unwrap());
        }
        let by = |name: &str| reports.iter().find(|r| r.scenario == name).unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(by("floor-fanout").get("lost"), Some(0.0));
        assert_eq!(by("fanout").get("lost"), Some(0.0));
        assert_eq!(by("fanout").get("deliveries"), Some(by("fanout").get("messages sent").unwrap() * 5.0));
        assert!(by("send").get("accepted").unwrap() > 0.0);
        assert!(by("send").notes.iter().all(|n| !n.contains("answered")), "{:?}", by("send").notes);
        assert!(by("history").get("deepest/first p50").is_some());
        assert!(by("floor-http").get("requests/s").unwrap() > 0.0);
    }

    /// `cluster` on a fresh PostgreSQL database (when the tests have one): three
    /// instances deliver every message to subscribers on all of them.
    #[test]
    fn cluster_runs_three_instances_on_one_database() {
        let Ok(server) = std::env::var("CONVO_TEST_DATABASE_URL") else {
            eprintln!("skipped: CONVO_TEST_DATABASE_URL is not set (scripts/test sets it)");
            return;
        };
        let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let (head, _) = server.rsplit_once('/').unwrap();
        let line = format!("cluster --database {head}/{name} --duration 0.5 --senders 2 --subscribers 6 --rate 20");
        let a = args(&line);
        let rt = Runtimes::new().unwrap();
        let reports = run_one(&rt, &a, Scenario::Cluster, &mut Floors::default()).unwrap();
        let fan = reports.iter().find(|r| r.scenario == "cluster-fanout").unwrap();
        assert_eq!(fan.get("one instance lost"), Some(0.0));
        assert_eq!(fan.get("spread lost"), Some(0.0));
        assert!(fan.get("spread, other instances p50").unwrap() > 0.0, "subscribers on other instances got messages");
        let sends = reports.iter().find(|r| r.scenario == "cluster-send").unwrap();
        assert!(
            sends.get("postgres accepted msgs/s").unwrap() > 0.0 && sends.get("sqlite accepted msgs/s").unwrap() > 0.0
        );
    }

    /// `search` on a small service, on SQLite and (when the tests have one) on a
    /// fresh PostgreSQL database: the seeded words are found, the figures exist.
    #[test]
    fn search_seeds_and_measures_on_both_stores() {
        let mut stores = vec![None];
        if let Ok(server) = std::env::var("CONVO_TEST_DATABASE_URL") {
            let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
            admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
            stores.push(Some(format!("{}/{name}", server.rsplit_once('/').unwrap().0)));
        }
        for database in stores {
            let mut a = args("search --messages 3000 --conversations 7 --fetches 3");
            a.database = database.clone();
            let rt = Runtimes::new().unwrap();
            let r = run_one(&rt, &a, Scenario::Search, &mut Floors::default()).unwrap().remove(0);
            assert!(r.get("rare word (10 hits) p50").unwrap() > 0.0, "{database:?}: {}", r.table());
            assert!(r.get("word in every message p99").unwrap() > 0.0 && r.get("history page p50").unwrap() > 0.0);
        }
    }

    /// `send --webhook hung`: every send is still accepted while the receiver never answers.
    #[test]
    fn sends_are_accepted_while_the_webhook_receiver_hangs() {
        let a = args("send --duration 0.5 --senders 4 --webhook hung");
        let rt = Runtimes::new().unwrap();
        let target = target::Target::open(&rt, &a).unwrap();
        let posts = send::measure(&rt, &target, &a).unwrap();
        assert!(posts.accepted > 0 && posts.refused.is_empty() && posts.failed == 0, "{:?}", posts.refused);
    }
}
