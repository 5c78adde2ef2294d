//! `convo-tui bench SCENARIO`: load scenarios that print figures (a table, or
//! JSON with `--json`). The server under test and the load client run on separate
//! tokio runtimes in this process (or the server is elsewhere, with `--server`);
//! every scenario also measures the floor in the same run and quotes its ratio.

mod delivery;
mod fanout;
mod floor;
mod history;
mod http_load;
mod report;
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
}

/// Where the senders of `send` post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Spread {
    /// All senders into one conversation.
    One,
    /// Each sender into a conversation of its own.
    Each,
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
    anyhow::ensure!(args.rate > 0.0 && args.rate.is_finite(), "--rate must be positive");
    anyhow::ensure!(args.subscribers > 0 && args.senders > 0, "--subscribers and --senders must be at least 1");
    let rt = Runtimes::new()?;
    let scenarios = match args.scenario {
        Scenario::All => vec![Scenario::Floor, Scenario::Send, Scenario::Fanout, Scenario::History],
        s => vec![s],
    };
    let mut reports = Vec::new();
    for s in scenarios {
        let new = run_one(&rt, args, s)?;
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

fn run_one(rt: &Runtimes, args: &BenchArgs, scenario: Scenario) -> anyhow::Result<Vec<Report>> {
    match scenario {
        Scenario::Floor => {
            let fan = floor::fanout(rt, args.subscribers, args.rate, args.duration())?;
            let http = floor::http(rt, args.senders, args.duration(), args.fetches)?;
            Ok(vec![fanout::report("floor-fanout", args, &fan, None), http.report(args)])
        }
        Scenario::Fanout => {
            let fan_floor = floor::fanout(rt, args.subscribers, args.rate, args.duration())?;
            let target = target::Target::open(rt, args)?;
            let fan = fanout::measure(rt, &target, args)?;
            Ok(vec![fanout::report("fanout", args, &fan, Some(&fan_floor))])
        }
        Scenario::Send => {
            let http_floor = floor::http(rt, args.senders, args.duration(), args.fetches)?;
            let target = target::Target::open(rt, args)?;
            let posts = send::measure(rt, &target, args)?;
            Ok(vec![send::report(args, &posts, &http_floor.posts)])
        }
        Scenario::History => {
            let http_floor = floor::http(rt, args.senders, Duration::ZERO, args.fetches)?;
            let target = target::Target::open(rt, args)?;
            let h = history::measure(rt, &target, args)?;
            Ok(vec![history::report(&h, http_floor.get)])
        }
        Scenario::All => unreachable!("expanded by run"),
    }
}
