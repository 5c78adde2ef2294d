//! The `convo-tui` command: with no subcommand it runs the terminal client
//! (starting the embedded server for it when none is configured); `serve`
//! runs the server, `token` mints an access token, `bench` measures.

// No network input may reach a panic: no unwrap outside tests (clippy.toml
// allows them there); each `expect` left says which invariant it guards.
#![deny(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use convo_tui::api::token::{MAX_TTL_SECS, TokenIssuer};
use convo_tui::config::{CredentialSource, Credentials, Dirs};
use convo_tui::server::{self, ServerConfig};
use convo_tui::tui::launch;

#[derive(Debug, Parser)]
#[command(name = "convo-tui", version, about = "A keyboard-driven terminal chat client, and its server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Server URL (default: a server embedded in this process, data in your data dir).
    #[arg(long, env = "CONVO_SERVER")]
    server: Option<String>,
    /// Who to sign in as (default with the embedded server: $USER).
    #[arg(long, env = "CONVO_IDENTITY")]
    identity: Option<String>,
    /// An access token (default: CONVO_TOKEN, or minted from CONVO_API_KEY,
    /// CONVO_API_SECRET and CONVO_ACCOUNT_SID).
    #[arg(long)]
    token: Option<String>,
    /// A profile from config.toml.
    #[arg(long)]
    profile: Option<String>,
    /// Add demo participants and a bot that answers and types.
    #[arg(long)]
    demo: bool,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the server: Twilio Conversations REST v1 and a WebSocket stream.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: SocketAddr,
        /// Where the SQLite file and generated credentials live.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// The URL clients reach this server at (used in page URLs).
        #[arg(long)]
        public_url: Option<String>,
        /// Actions per second per identity and conversation for access-token
        /// callers (account and API-key callers are not limited); 0 = off.
        #[arg(long, default_value_t = server::rate_limit::DEFAULT_PER_SECOND)]
        rate_limit: u32,
        /// PostgreSQL URL (postgres://USER:PASS@HOST:PORT/DB) shared by every
        /// instance of a cluster; without it, SQLite in the data dir.
        #[arg(long, env = "CONVO_DATABASE_URL")]
        database: Option<String>,
        /// Seconds a killed instance's streams keep their users online
        /// (presence leases are renewed every third of it).
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
        presence_lease: u64,
    },
    /// Print an access token for IDENTITY, signed with the server's API key.
    Token {
        #[arg(long)]
        identity: String,
        /// Lifetime in seconds (at most 86400).
        #[arg(long, default_value_t = 3600)]
        ttl: i64,
        /// The server's data dir, where its credentials are kept.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Measure: send, fanout, history, or the machine's floor (see docs/performance.md).
    Bench(convo_tui::bench::BenchArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Cmd::Serve { listen, data_dir, public_url, rate_limit, database, presence_lease }) => {
            let presence_lease = std::time::Duration::from_secs(presence_lease);
            let options = server::ServerOptions { rate_limit, database, presence_lease, ..Default::default() };
            serve(listen, data_dir, public_url, options)
        }
        Some(Cmd::Token { identity, ttl, data_dir }) => token(&identity, ttl, data_dir),
        Some(Cmd::Bench(args)) => convo_tui::bench::run(&args),
        None => client(launch::Options {
            server: cli.server,
            identity: cli.identity,
            token: cli.token,
            profile: cli.profile,
            demo: cli.demo,
        }),
    }
}

/// Runs the terminal client. With no server configured, the server is
/// embedded here, on loopback with its data in the user's data dir, for as
/// long as the client runs; the client gets its URL and the keys to mint
/// tokens with, and never starts a server itself.
fn client(opts: launch::Options) -> anyhow::Result<()> {
    // Before any thread is started: the local time offset is read here.
    let setup = launch::Setup::load(opts)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let (target, embedded) = match setup.server() {
            Some(url) => (setup.remote(&url)?, None),
            None => {
                let data_dir = setup.embedded_data_dir();
                std::fs::create_dir_all(&data_dir)?;
                let (credentials, _) = Credentials::load_or_create(&data_dir)?;
                let listen: SocketAddr = "127.0.0.1:0".parse()?;
                let running = server::start(ServerConfig::new(listen, data_dir, credentials.clone())).await?;
                (setup.embedded(running.url(), &credentials), Some(running))
            }
        };
        let exit = launch::run(setup, target, convo_tui::sdk::sync::spawn).await;
        if let Some(server) = embedded {
            // Let the store finish what it acknowledged before the process ends.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(3), server.shutdown()).await;
        }
        exit
    })?;
    // Background tasks (server, bots) end with the runtime; don't wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    Ok(())
}

fn data_dir_or_default(data_dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match data_dir {
        Some(d) => Ok(d),
        None => Ok(Dirs::from_env()?.data),
    }
}

fn serve(
    listen: SocketAddr,
    data_dir: Option<PathBuf>,
    public_url: Option<String>,
    options: server::ServerOptions,
) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let data_dir = data_dir_or_default(data_dir)?;
    std::fs::create_dir_all(&data_dir)?;
    let (credentials, source) = Credentials::load_or_create(&data_dir)?;
    match source {
        CredentialSource::Environment => tracing::info!("credentials from the environment"),
        CredentialSource::File(p) => tracing::info!("credentials from {}", p.display()),
        CredentialSource::Generated(p) => tracing::info!("generated credentials in {}", p.display()),
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let mut config = ServerConfig::new(listen, data_dir, credentials);
        config.public_url = public_url;
        let running = server::start_with(config, options).await?;
        tracing::info!("serving on {}", running.url());
        shutdown_signal().await;
        tracing::info!("shutting down");
        running.shutdown().await;
        Ok(())
    })
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn token(identity: &str, ttl: i64, data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    anyhow::ensure!((1..=MAX_TTL_SECS).contains(&ttl), "--ttl must be between 1 and {MAX_TTL_SECS} seconds");
    let data_dir = data_dir_or_default(data_dir)?;
    let (c, _) = Credentials::load_or_create(&data_dir)?;
    let issuer = TokenIssuer {
        account_sid: &c.account_sid,
        api_key_sid: &c.api_key_sid,
        api_key_secret: &c.api_key_secret,
        service_sid: None,
    };
    println!("{}", issuer.mint(identity, convo_tui::api::time::now_unix(), ttl));
    Ok(())
}
