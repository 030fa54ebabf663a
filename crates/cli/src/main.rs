//! `corridor`: the one command for coordinators, operators and monitors.
//!
//! A thin shell: argument parsing and files here, every rule in `corridor-core`, the server in
//! `corridor-server`. Errors name what was wrong and how to fix it.

mod agree;
mod client;
mod demo;
mod keys;
mod moving;
mod ops;
mod publish;

/// mimalloc rather than the system allocator: a busy server allocates and frees small buffers
/// on every core (request bodies, JSON values, entries), and glibc's malloc spent about an
/// eighth of the server's CPU on that under the ingest benchmark (BENCHMARKS.md, "Ingest").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Humanitarian corridors and local ceasefires on a shared, verifiable log.
#[derive(Parser)]
#[command(name = "corridor", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a new Ed25519 key pair: FILE (private, mode 0600) and FILE.pub (share this one).
    Keygen {
        /// Where to write the private key.
        #[arg(long)]
        out: PathBuf,
        /// The actor this key will sign for (e.g. ua/coord-kyiv), remembered in the file.
        #[arg(long)]
        actor: Option<String>,
    },
    /// Prove that you hold your key, for your admin to register it: prints your public key and
    /// its proof of possession (your key's signature over its registration as your actor on
    /// this log), which `actor.register`, `key.register` and `admin.recover` require. Run it on
    /// your own device; only the public key and the proof travel.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Write a genesis document for the parties to countersign.
    Init(ops::InitArgs),
    /// Countersign or inspect a genesis document.
    Genesis {
        #[command(subcommand)]
        command: GenesisCommand,
    },
    /// Run the server.
    Serve(Box<ops::ServeArgs>),
    /// Sign a command body with your key and submit it; the signed bytes are kept until a
    /// receipt comes back.
    Submit(ops::SubmitArgs),
    /// Resend every signed command still waiting in the outbox (same bytes, same ids).
    Resend {
        /// Only commands for this server.
        #[arg(long)]
        server: Option<String>,
    },
    /// Read from the API with a signed request (RFC 9421) as the holder of your key, after
    /// checking the log is consistent with what this client saw; prints the reply.
    Get {
        /// Your key file.
        #[arg(long, env = "CORRIDOR_KEY")]
        key: PathBuf,
        /// The server, e.g. http://127.0.0.1:8080.
        #[arg(long, env = "CORRIDOR_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// Path and query, e.g. '/v1/windows?status=proposed'.
        path: String,
    },
    /// Fetch a server's checkpoint and prove it consistent with the last one this client saw.
    Monitor {
        /// The server, e.g. http://127.0.0.1:8080.
        #[arg(long, env = "CORRIDOR_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
    /// Check a whole log: signatures, key status at each entry, times, Merkle roots against
    /// every checkpoint, projections against the replay.
    Verify(ops::VerifyArgs),
    /// Recompute the projection tables from the log.
    Rebuild {
        /// The data directory.
        #[arg(long, default_value = "./corridor-data")]
        data_dir: PathBuf,
        /// The log's PostgreSQL database instead (postgres://user:password@host:5432/db).
        #[arg(long, env = "CORRIDOR_DATABASE_URL", hide_env_values = true)]
        database: Option<String>,
    },
    /// Export the log (entries with salts and signatures, and every checkpoint) as JSON Lines.
    Export {
        /// The data directory.
        #[arg(long, default_value = "./corridor-data")]
        data_dir: PathBuf,
        /// The log's PostgreSQL database instead (postgres://user:password@host:5432/db).
        #[arg(long, env = "CORRIDOR_DATABASE_URL", hide_env_values = true)]
        database: Option<String>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import an exported log into an empty database (SQLite or PostgreSQL), after verifying it
    /// completely; entries and checkpoints are stored verbatim, nothing is re-signed.
    Import(moving::ImportArgs),
    /// Back up the log's database while the server runs (SQLite: a consistent copy;
    /// PostgreSQL: a pg_dump archive).
    Backup(moving::BackupArgs),
    /// Restore a backup into an empty data directory or database, and verify it.
    Restore(moving::RestoreArgs),
    /// Write the public site (pages in uk/ru/en, feeds, status.json, printable pages, with .gz
    /// and .br copies) as static files, for any web server, a CDN or a USB stick.
    Publish(publish::PublishArgs),
    /// Settlements: import from HXL-tagged CSV.
    Settlements {
        #[command(subcommand)]
        command: agree::SettlementsCommand,
    },
    /// Corridors: propose or amend from a GeoJSON route and a terms file.
    Corridor {
        #[command(subcommand)]
        command: agree::CorridorCommand,
    },
    /// Ceasefire windows: propose in local time, consent to the exact version, show.
    Window {
        #[command(subcommand)]
        command: agree::WindowCommand,
    },
    /// Time zones: resolve a local time to UTC as the log stores it.
    Time {
        #[command(subcommand)]
        command: agree::TimeCommand,
    },
    /// Run a server preloaded with the March 2022 exercise scenario, with key files for its
    /// people in DATA_DIR/keys so you can act as any of them.
    Demo {
        /// The data directory (created with the scenario if empty).
        #[arg(long, default_value = "./corridor-demo")]
        data_dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Start of the simulated exercise clock: any instant from the scenario's start
        /// (2022-03-03T14:50:00Z) on. The scenario is entered at its own times first, so an
        /// exercise may start during or after its windows (e.g. 2022-03-05T08:00:00Z).
        #[arg(long, default_value = demo::SCENARIO_START)]
        clock: String,
        /// How fast the exercise clock runs.
        #[arg(long, default_value_t = 1.0)]
        clock_rate: f64,
        /// Prepare the data directory and exit without serving.
        #[arg(long)]
        no_serve: bool,
        /// Write a genesis without abuse limits (for benchmarks and load tests only; only takes
        /// effect when the data directory is new).
        #[arg(long)]
        no_rate_limits: bool,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Print `{"actor", "key", "key_proof"}` for the registration of your key as ACTOR.
    Prove {
        /// Your key file.
        #[arg(long, env = "CORRIDOR_KEY")]
        key: PathBuf,
        /// The actor the key is for (default: the one named in the key file).
        #[arg(long)]
        actor: Option<String>,
        /// The log's origin, as in its genesis (default: ask the server).
        #[arg(long)]
        origin: Option<String>,
        /// The server to ask for the origin.
        #[arg(long, env = "CORRIDOR_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
    },
}

#[derive(Subcommand)]
enum GenesisCommand {
    /// Add your countersignature (with your party's, the intermediary's or your organisation's
    /// admin key) to GENESIS, in place.
    Sign {
        /// Your admin key file.
        #[arg(long)]
        key: PathBuf,
        /// The genesis file.
        genesis: PathBuf,
    },
    /// Print the genesis fingerprint to compare out of band, and who has signed.
    Fingerprint {
        /// The genesis file.
        genesis: PathBuf,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(run(cli)));
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Keygen { out, actor } => {
            let kp = corridor_core::crypto::Keypair::from_seed(keys::random_seed());
            let public = keys::write_new(&out, &kp, actor.as_deref())?;
            println!(
                "private key: {} (keep it; never send it anywhere)",
                out.display()
            );
            println!("public key:  {} ({})", public.display(), kp.public());
            Ok(())
        }
        Command::Key {
            command:
                KeyCommand::Prove {
                    key,
                    actor,
                    origin,
                    server,
                },
        } => ops::key_prove(&key, actor, origin, &server).await,
        Command::Init(args) => ops::init(args),
        Command::Genesis { command } => match command {
            GenesisCommand::Sign { key, genesis } => ops::genesis_sign(&key, &genesis),
            GenesisCommand::Fingerprint { genesis } => ops::genesis_fingerprint(&genesis),
        },
        Command::Serve(args) => ops::serve(*args).await,
        Command::Submit(args) => ops::submit(args).await,
        Command::Resend { server } => ops::resend(server.as_deref()).await,
        Command::Monitor { server } => ops::monitor(&server).await,
        Command::Get { key, server, path } => ops::get(&key, &server, &path).await,
        Command::Verify(args) => ops::verify(args).await,
        Command::Rebuild { data_dir, database } => {
            ops::rebuild(&data_dir, database.as_deref()).await
        }
        Command::Export {
            data_dir,
            database,
            out,
        } => ops::export(&data_dir, database.as_deref(), &out).await,
        Command::Import(args) => moving::import(args).await,
        Command::Backup(args) => moving::backup(args).await,
        Command::Restore(args) => moving::restore(args).await,
        Command::Publish(args) => publish::publish(args).await,
        Command::Settlements { command } => agree::settlements(command).await,
        Command::Window { command } => agree::window(command).await,
        Command::Corridor { command } => agree::corridor(command).await,
        Command::Time { command } => agree::time(command),
        Command::Demo {
            data_dir,
            listen,
            clock,
            clock_rate,
            no_serve,
            no_rate_limits,
        } => {
            demo::run(
                &data_dir,
                listen,
                &clock,
                clock_rate,
                no_serve,
                no_rate_limits,
            )
            .await
        }
    }
}
