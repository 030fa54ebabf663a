//! `corridor`: the one command for coordinators, operators and monitors.
//!
//! A thin shell: argument parsing and files here, every rule in `corridor-core`, the server in
//! `corridor-server`. Errors name what was wrong and how to fix it.

mod acts;
mod agree;
mod client;
mod console;
mod demo;
mod evidence;
mod keys;
mod monitor;
mod moving;
mod ops;
mod opts;
mod publish;
mod register;
mod running;
mod witness;

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
        /// Only commands for this server. A filter, not the server to talk to, so it does not
        /// come from CORRIDOR_SERVER: set there, it would silently leave other servers'
        /// commands unsent.
        #[arg(long)]
        server: Option<String>,
    },
    /// Read from the API with a signed request (RFC 9421) as the holder of your key, after
    /// checking the log is consistent with what this client saw; prints the reply.
    Get {
        #[command(flatten)]
        acting: opts::Acting,
        /// Path and query, e.g. '/v1/windows?status=proposed'.
        path: String,
    },
    /// Watch a log server from outside: with `--state DIR`, keep every checkpoint verified,
    /// check every leaf and every kept root on each poll, and write evidence of a fork or a
    /// rewrite; without it, prove the server's checkpoint consistent with the last one this
    /// client saw.
    Monitor {
        #[command(flatten)]
        server: opts::ServerOpt,
        #[command(flatten)]
        args: monitor::MonitorArgs,
    },
    /// Run a witness (C2SP tlog-witness): co-sign a log's checkpoints only while each is
    /// consistent with the last one co-signed.
    Witness(witness::WitnessArgs),
    /// Serve the coordinator console on this machine (default http://127.0.0.1:8090/console/)
    /// from this binary, passing the log's API through to --server: the page that holds your
    /// key then runs the script you built or checked, not one the server chose.
    Console(console::ConsoleArgs),
    /// Check offline a document bundle (`corridor document bundle`): exit 0 only if every party
    /// signed the document and the signatures, key registrations, proofs and checkpoint check
    /// against the genesis with this fingerprint, never against keys in the bundle.
    VerifyDocument {
        /// The genesis fingerprint, as the parties compared it (`corridor genesis fingerprint`).
        #[arg(long)]
        genesis_fingerprint: String,
        /// The bundle file.
        file: PathBuf,
    },
    /// Confirm offline the evidence a monitor wrote: exit 0 only if the log key's own
    /// signatures prove the fork or rewrite it describes.
    VerifyEvidence {
        /// The evidence file.
        file: PathBuf,
        /// The log key the genesis names (compare out of band); without it, the key is printed.
        #[arg(long)]
        log_key: Option<String>,
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
    /// People: register a person of your side from their key's proof of possession.
    Actor {
        #[command(subcommand)]
        command: acts::ActorCommand,
    },
    /// Incidents: report or correct one, answer one that accuses your party, verify (the
    /// intermediary) or mark a duplicate.
    Incident {
        #[command(subcommand)]
        command: acts::IncidentCommand,
    },
    /// Evidence files of incident reports: upload one a report commits to (after a failed
    /// upload), or download one you may read.
    Evidence {
        #[command(subcommand)]
        command: evidence::EvidenceCommand,
    },
    /// Declarations: your party's unilateral statement, shown as its own.
    Declaration {
        #[command(subcommand)]
        command: acts::DeclarationCommand,
    },
    /// A party's admin key: recovery by the holders the genesis names.
    Admin {
        #[command(subcommand)]
        command: acts::AdminCommand,
    },
    /// The log itself: hand it over to a new log key.
    Log {
        #[command(subcommand)]
        command: acts::LogCommand,
    },
    /// Time zones: resolve a local time to UTC as the log stores it.
    Time {
        #[command(subcommand)]
        command: agree::TimeCommand,
    },
    /// Evacuations and aid convoys: notify, acknowledge, move, receive, outcome, show, list.
    Operation {
        #[command(subcommand)]
        command: running::OperationCommand,
    },
    /// A unit's confirmations down the chain of command.
    Unit {
        #[command(subcommand)]
        command: running::UnitCommand,
    },
    /// Threads between the parties, the intermediary and an organisation.
    Thread {
        #[command(subcommand)]
        command: running::ThreadCommand,
    },
    /// Messages in a thread, and their acknowledgements.
    Message {
        #[command(subcommand)]
        command: running::MessageCommand,
    },
    /// Rounds of talks in the negotiation register: record, conclude, list.
    Round {
        #[command(subcommand)]
        command: register::RoundCommand,
    },
    /// Agenda points in three baskets, with each party's position: propose, revise, position,
    /// status, link, list, history.
    Point {
        #[command(subcommand)]
        command: register::PointCommand,
    },
    /// Documents for signing: draft, revise, sign, publish, show.
    Document {
        #[command(subcommand)]
        command: register::DocumentCommand,
    },
    /// Alerts for you: overdue acknowledgements, units that have not confirmed, halted windows,
    /// stopped convoys, messages; `--watch` keeps listening.
    Alerts(running::AlertsArgs),
    /// Post your alerts to an address of your choice: add, list, remove, deliveries.
    Webhook {
        #[command(subcommand)]
        command: running::WebhookCommand,
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
        /// (2022-03-03T14:50:00Z) on. The scenario is entered at its own times up to that
        /// instant, so an exercise may start before, during or after its windows and convoys
        /// (e.g. 2022-03-05T08:00:00Z). The default is inside the 4 March window, after the
        /// evacuation convoy arrived.
        #[arg(long, default_value = demo::DEFAULT_CLOCK)]
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
        // Your key file, and the server to ask for the log's origin.
        #[command(flatten)]
        acting: opts::Acting,
        /// The actor the key is for (default: the one named in the key file).
        #[arg(long)]
        actor: Option<String>,
        /// The log's origin, as in its genesis (default: ask the server).
        #[arg(long)]
        origin: Option<String>,
    },
    /// Write a passphrase-encrypted backup of your key (PBKDF2-HMAC-SHA256, AES-256-GCM): the
    /// console's "Import a backup file" opens it, and `corridor` accepts it wherever a key file is
    /// (passphrase from CORRIDOR_KEY_PASSPHRASE, or asked on the terminal).
    Backup {
        #[command(flatten)]
        key: opts::KeyOpt,
        /// Where to write the backup (never overwritten; mode 0600).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Add another key to a person of your side (`key.register`; rotation: add the new key,
    /// then revoke the old), from the proof `corridor key prove` printed for it.
    Register {
        #[command(flatten)]
        acting: opts::Acting,
        #[command(flatten)]
        proof: acts::ProofArg,
    },
    /// Revoke a key from now on (`key.revoke`); with --compromised-since, also flag what it
    /// signed from then on.
    Revoke {
        #[command(flatten)]
        acting: opts::Acting,
        /// The key to revoke: base64, a `.pub` file, or the key file.
        revoke: String,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
        /// From when the key was in someone else's hands (RFC 3339).
        #[arg(long)]
        compromised_since: Option<String>,
    },
}

#[derive(Subcommand)]
enum GenesisCommand {
    /// Add your countersignature (with your party's, the intermediary's or your organisation's
    /// admin key) to GENESIS, in place.
    Sign {
        // Your admin key file.
        #[command(flatten)]
        key: opts::KeyOpt,
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
        Command::Key { command } => match command {
            KeyCommand::Prove {
                acting,
                actor,
                origin,
            } => ops::key_prove(acting.key(), actor, origin, acting.server()).await,
            KeyCommand::Backup { key, out } => {
                let loaded = keys::load(&key.path)?;
                keys::write_backup(&loaded, &out)?;
                println!(
                    "key backup: {} (encrypted with your passphrase; public key {}{})",
                    out.display(),
                    loaded.keypair.public(),
                    loaded
                        .actor
                        .as_deref()
                        .map(|a| format!(", actor {a}"))
                        .unwrap_or_default()
                );
                println!(
                    "the console's \"Import a backup file\" opens it, and corridor accepts it wherever a key file is (set {} or type the passphrase when asked)",
                    keys::PASSPHRASE_ENV
                );
                Ok(())
            }
            KeyCommand::Register { acting, proof } => {
                let body = acts::key_register(&proof)?;
                ops::submit_body(acting.key(), acting.server(), None, None, body).await
            }
            KeyCommand::Revoke {
                acting,
                revoke,
                reason,
                compromised_since,
            } => {
                let body = acts::key_revoke(&revoke, &reason, compromised_since.as_deref())?;
                ops::submit_body(acting.key(), acting.server(), None, None, body).await
            }
        },
        Command::Init(args) => ops::init(args),
        Command::Genesis { command } => match command {
            GenesisCommand::Sign { key, genesis } => ops::genesis_sign(&key.path, &genesis),
            GenesisCommand::Fingerprint { genesis } => ops::genesis_fingerprint(&genesis),
        },
        Command::Serve(args) => ops::serve(*args).await,
        Command::Submit(args) => ops::submit(args).await,
        Command::Resend { server } => ops::resend(server.as_deref()).await,
        Command::Monitor { server, args } if args.state.is_some() => {
            monitor::run(&server.url, &args).await
        }
        Command::Monitor { server, .. } => ops::monitor(&server.url).await,
        Command::Witness(args) => witness::run(args).await,
        Command::Console(args) => console::run(args).await,
        Command::VerifyDocument {
            genesis_fingerprint,
            file,
        } => register::verify_document(&genesis_fingerprint, &file),
        Command::VerifyEvidence { file, log_key } => {
            monitor::verify_evidence(&file, log_key.as_deref())
        }
        Command::Get { acting, path } => ops::get(acting.key(), acting.server(), &path).await,
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
        Command::Actor { command } => acts::actor(command).await,
        Command::Incident { command } => acts::incident(command).await,
        Command::Evidence { command } => evidence::run(command).await,
        Command::Declaration { command } => acts::declaration(command).await,
        Command::Admin { command } => acts::admin(command).await,
        Command::Log { command } => acts::log(command).await,
        Command::Time { command } => agree::time(command),
        Command::Operation { command } => running::operation(command).await,
        Command::Unit { command } => running::unit(command).await,
        Command::Thread { command } => running::thread(command).await,
        Command::Message { command } => running::message(command).await,
        Command::Round { command } => register::round(command).await,
        Command::Point { command } => register::point(command).await,
        Command::Document { command } => register::document(command).await,
        Command::Alerts(args) => running::alerts(args).await,
        Command::Webhook { command } => running::webhook(command).await,
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

/// The subcommand that builds each command type the API takes, so that nobody has to write a
/// command's JSON by hand (`corridor submit` stays for anything else).
#[cfg(test)]
const SUBCOMMAND_OF_TYPE: &[(&str, &[&str])] = &[
    ("actor.register", &["actor", "register"]),
    ("key.register", &["key", "register"]),
    ("key.revoke", &["key", "revoke"]),
    ("incident.report", &["incident", "report"]),
    ("incident.respond", &["incident", "answer"]),
    ("incident.correct", &["incident", "correct"]),
    ("incident.verify", &["incident", "verify"]),
    ("incident.duplicate", &["incident", "duplicate"]),
    ("settlement.import", &["settlements", "import"]),
    ("corridor.propose", &["corridor", "propose"]),
    ("corridor.amend", &["corridor", "amend"]),
    ("window.propose", &["window", "propose"]),
    ("window.amend", &["window", "amend"]),
    ("window.consent", &["window", "consent"]),
    ("window.withdraw", &["window", "withdraw"]),
    ("window.cancel", &["window", "cancel"]),
    ("window.suspend", &["window", "suspend"]),
    ("window.resume", &["window", "resume"]),
    ("declaration.publish", &["declaration", "publish"]),
    ("admin.recover", &["admin", "recover"]),
    ("log.rotate_key", &["log", "rotate-key"]),
    ("operation.notify", &["operation", "notify"]),
    ("operation.ack", &["operation", "ack"]),
    ("operation.move", &["operation", "move"]),
    ("operation.receive", &["operation", "receive"]),
    ("operation.outcome", &["operation", "outcome"]),
    ("unit.confirm", &["unit", "confirm"]),
    ("thread.open", &["thread", "open"]),
    ("message.send", &["message", "send"]),
    ("message.ack", &["message", "ack"]),
    ("round.record", &["round", "record"]),
    ("round.conclude", &["round", "conclude"]),
    ("point.propose", &["point", "propose"]),
    ("point.revise", &["point", "revise"]),
    ("point.position", &["point", "position"]),
    ("point.status", &["point", "status"]),
    ("point.link", &["point", "link"]),
    ("document.draft", &["document", "draft"]),
    ("document.revise", &["document", "revise"]),
    ("document.sign", &["document", "sign"]),
    ("document.publish", &["document", "publish"]),
];

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every `--key` and `--server` of every subcommand, however deep.
    fn options(cmd: &clap::Command, path: String, out: &mut Vec<(String, clap::Arg)>) {
        for a in cmd.get_arguments() {
            if matches!(a.get_long(), Some("key" | "server")) {
                out.push((path.clone(), a.clone()));
            }
        }
        for sub in cmd.get_subcommands() {
            options(sub, format!("{path} {}", sub.get_name()), out);
        }
    }

    /// One option set: every `--key` reads `CORRIDOR_KEY` and every `--server` reads
    /// `CORRIDOR_SERVER` (with the same default), except `resend --server`, a filter, and
    /// `witness --key`, the witness's own key, which must never default to a person's.
    #[test]
    fn every_key_and_server_option_honours_the_environment() {
        let mut found = Vec::new();
        options(&Cli::command(), "corridor".into(), &mut found);
        assert!(found.len() > 20, "{}", found.len());
        for (path, a) in found {
            let long = a.get_long().unwrap();
            if path == "corridor resend" || path == "corridor witness" {
                assert_eq!(a.get_env(), None, "{path} --{long}");
                continue;
            }
            let want = if long == "key" {
                "CORRIDOR_KEY"
            } else {
                "CORRIDOR_SERVER"
            };
            assert_eq!(
                a.get_env().and_then(|e| e.to_str()),
                Some(want),
                "{path} --{long}"
            );
            if long == "server" {
                let default: Vec<_> = a.get_default_values().iter().collect();
                assert_eq!(default, [opts::DEFAULT_SERVER], "{path} --server");
            }
        }
    }

    /// Every command type the API takes has a subcommand that builds it, and the subcommand
    /// exists (a new type in `COMMAND_TYPES` fails here until the CLI can send it).
    #[test]
    fn every_command_type_has_a_subcommand() {
        let cli = Cli::command();
        for ty in corridor_core::command::COMMAND_TYPES {
            let (_, path) = SUBCOMMAND_OF_TYPE
                .iter()
                .find(|(t, _)| t == ty)
                .unwrap_or_else(|| panic!("no subcommand builds {ty}"));
            let mut cmd = &cli;
            for name in *path {
                cmd = cmd
                    .find_subcommand(name)
                    .unwrap_or_else(|| panic!("{ty}: no `corridor {}`", path.join(" ")));
            }
            assert!(
                cmd.get_arguments().any(|a| a.get_long() == Some("key")),
                "`corridor {}` does not sign",
                path.join(" ")
            );
        }
        assert_eq!(
            SUBCOMMAND_OF_TYPE.len(),
            corridor_core::command::COMMAND_TYPES.len()
        );
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
