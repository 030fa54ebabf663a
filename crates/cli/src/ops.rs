//! The subcommands that work on files, data directories and servers.

use std::fs;
use std::io::{BufRead, BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use corridor_core::checkpoint::Checkpoint;
use corridor_core::entry::DisclosedEntry;
use corridor_core::envelope::{Draft, SignedCommand};
use corridor_core::genesis::{self, GenesisDocument, Names, Party, Policy, SignedGenesis};
use corridor_core::state::Replay;
use corridor_server::{Clock, ClusterOptions, Log, ServeOptions};
use corridor_storage::{Database, StoredCheckpoint};
use corridor_storage_postgres::Postgres;
use corridor_storage_sqlite::Sqlite;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::opts::Acting;
use crate::{client, keys};

/// The database file inside a data directory.
pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("corridor.sqlite")
}

/// The log's database: PostgreSQL when `database` is a `postgres://` or `postgresql://` URL,
/// else the SQLite file in the data directory (created if missing).
pub async fn open_database(
    data_dir: &Path,
    database: Option<&str>,
) -> anyhow::Result<Arc<dyn Database>> {
    match database.filter(|d| !d.is_empty()) {
        Some(url) if corridor_storage_postgres::is_postgres_url(url) => {
            Ok(Arc::new(Postgres::open(url).await?))
        }
        Some(other) => bail!(
            "--database (or CORRIDOR_DATABASE_URL) must be a postgres:// or postgresql:// URL, not {:?}; leave it out to use the SQLite file in the data directory",
            corridor_storage_postgres::redact_url(other)
        ),
        None => Ok(Arc::new(Sqlite::open(&db_path(data_dir)).await?)),
    }
}

/// Open an existing log's database (refusing to create an empty SQLite file).
pub async fn open_existing(
    data_dir: &Path,
    database: Option<&str>,
) -> anyhow::Result<Arc<dyn Database>> {
    let path = db_path(data_dir);
    if database.is_none_or(str::is_empty) && !path.exists() {
        bail!(
            "{} holds no corridor log (no {}); start one with `corridor serve --data-dir {} --genesis GENESIS` or `corridor demo`, or name a PostgreSQL database with --database",
            data_dir.display(),
            path.display(),
            data_dir.display()
        );
    }
    open_database(data_dir, database).await
}

#[derive(Args)]
pub struct InitArgs {
    /// The log's origin, e.g. corridor.example.org/march-2022 (names the log in every signature).
    #[arg(long)]
    origin: String,
    /// The log's public key (base64, a .pub file or a key file): signs receipts and checkpoints.
    #[arg(long)]
    log_key: String,
    /// The intermediary: ID=KEY (its admin's public key).
    #[arg(long)]
    intermediary: String,
    /// A party: ID=KEY, repeated (at least two).
    #[arg(long = "party", required = true)]
    parties: Vec<String>,
    /// A party's recovery holders: ID=K:KEY,KEY,... (K of these keys together may replace the
    /// party's admin key if it is lost or stolen), e.g. ua=2:r1.key.pub,r2.key.pub,r3.key.pub.
    #[arg(long = "recovery")]
    recovery: Vec<String>,
    /// A party's IANA time zone: ID=ZONE, e.g. ua=Europe/Kyiv (one per party).
    #[arg(long = "zone")]
    zones: Vec<String>,
    /// A humanitarian organisation: ID=KEY, repeated.
    #[arg(long = "organisation")]
    organisations: Vec<String>,
    /// Names: ID=English|Українська|Русский, repeated (defaults to the id; edit the file before signing).
    #[arg(long = "name")]
    names: Vec<String>,
    /// Mark the log as an exercise (allows a simulated clock; every page says so).
    #[arg(long)]
    exercise: bool,
    /// A witness that co-signs the log's checkpoints: NAME=OPERATOR:KEY, repeated, e.g.
    /// witness.ua.example=ua:wua.key.pub (OPERATOR is the party, intermediary or organisation
    /// that runs it).
    #[arg(long = "witness")]
    witnesses: Vec<String>,
    /// How many witnesses must co-sign a checkpoint for clients to call it witnessed (a
    /// majority of them at least) [default: all].
    #[arg(long)]
    witness_quorum: Option<u32>,
    /// Field mode: how long a command signed offline by an actor of ROLE stays acceptable, as
    /// ROLE=SECONDS, repeatable (e.g. coordinator=21600); other roles get the clock-skew limit.
    #[arg(long = "offline-max-age")]
    offline_max_age: Vec<String>,
    /// Where to write the genesis.
    #[arg(long, default_value = "genesis.json")]
    out: PathBuf,
}

fn split_eq<'a>(flag: &str, s: &'a str) -> anyhow::Result<(&'a str, &'a str)> {
    s.split_once('=')
        .with_context(|| format!("--{flag} {s:?}: expected ID=VALUE"))
}

pub fn init(a: InitArgs) -> anyhow::Result<()> {
    let lookup = |list: &[String], flag: &str, id: &str| -> anyhow::Result<Option<String>> {
        for item in list {
            let (k, v) = split_eq(flag, item)?;
            if k == id {
                return Ok(Some(v.to_string()));
            }
        }
        Ok(None)
    };
    let names = |id: &str| -> anyhow::Result<Names> {
        Ok(match lookup(&a.names, "name", id)? {
            Some(n) => {
                let parts: Vec<&str> = n.split('|').collect();
                let [en, uk, ru] = parts[..] else {
                    bail!("--name {id}={n:?}: give three names, English|Українська|Русский");
                };
                Names {
                    en: en.into(),
                    uk: uk.into(),
                    ru: ru.into(),
                }
            }
            None => Names {
                en: id.into(),
                uk: id.into(),
                ru: id.into(),
            },
        })
    };
    let body = |flag: &str, s: &str| -> anyhow::Result<genesis::Body> {
        let (id, key) = split_eq(flag, s)?;
        Ok(genesis::Body {
            id: id.into(),
            names: names(id)?,
            admin_key: keys::public_key_arg(key)?.id(),
        })
    };
    let mut parties = Vec::new();
    for p in &a.parties {
        let (id, key) = split_eq("party", p)?;
        let zone = lookup(&a.zones, "zone", id)?.with_context(|| {
            format!(
                "party {id:?} needs a time zone: add --zone {id}=Europe/Kyiv (or its IANA zone)"
            )
        })?;
        parties.push(Party {
            id: id.into(),
            names: names(id)?,
            zone,
            admin_key: keys::public_key_arg(key)?.id(),
            recovery: match lookup(&a.recovery, "recovery", id)? {
                None => None,
                Some(spec) => {
                    let (k, list) = spec.split_once(':').with_context(|| {
                        format!("--recovery {id}={spec:?}: write K:KEY,KEY,... (K of the keys must agree)")
                    })?;
                    let threshold: u32 = k.parse().with_context(|| {
                        format!("--recovery {id}={spec:?}: {k:?} is not a number of holders")
                    })?;
                    let keys = list
                        .split(',')
                        .map(|k| keys::public_key_arg(k).map(|p| p.id()))
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    Some(genesis::Recovery { keys, threshold })
                }
            },
        });
    }
    let doc = GenesisDocument {
        v: 1,
        origin: a.origin.clone(),
        exercise: a.exercise,
        log_key: keys::public_key_arg(&a.log_key)?.id(),
        intermediary: body("intermediary", &a.intermediary)?,
        parties,
        organisations: a
            .organisations
            .iter()
            .map(|o| body("organisation", o))
            .collect::<anyhow::Result<_>>()?,
        policy: Policy {
            offline_max_age_s: offline_policy(&a.offline_max_age)?,
            ..Policy::default()
        },
        witnesses: init_witnesses(&a.witnesses, a.witness_quorum)?,
    };
    doc.check()
        .map_err(|e| anyhow::anyhow!("the genesis would be invalid: {e}"))?;
    let g = SignedGenesis {
        document: doc,
        signatures: vec![],
    };
    if a.out.exists() {
        bail!(
            "{} exists; refusing to overwrite it (choose another --out)",
            a.out.display()
        );
    }
    fs::write(&a.out, serde_json::to_string_pretty(&g)? + "\n")?;
    println!("wrote {}", a.out.display());
    println!("fingerprint: {}", genesis::fingerprint(&g.document));
    println!(
        "next: each party admin and the intermediary run `corridor genesis sign --key THEIR.key {}`",
        a.out.display()
    );
    Ok(())
}

fn offline_policy(
    list: &[String],
) -> anyhow::Result<Option<std::collections::BTreeMap<String, i64>>> {
    if list.is_empty() {
        return Ok(None);
    }
    let mut m = std::collections::BTreeMap::new();
    for item in list {
        let (role, secs) = split_eq("offline-max-age", item)?;
        let secs: i64 = secs.parse().with_context(|| {
            format!("--offline-max-age {item}: SECONDS is a whole number, e.g. coordinator=21600")
        })?;
        m.insert(role.to_string(), secs);
    }
    Ok(Some(m))
}

fn init_witnesses(
    list: &[String],
    quorum: Option<u32>,
) -> anyhow::Result<Option<genesis::Witnesses>> {
    if list.is_empty() {
        if quorum.is_some() {
            bail!("--witness-quorum without --witness: name the witnesses too");
        }
        return Ok(None);
    }
    let members = list
        .iter()
        .map(|w| {
            let (name, rest) = split_eq("witness", w)?;
            let (operator, key) = rest.split_once(':').with_context(|| {
                format!("--witness {w:?}: write NAME=OPERATOR:KEY, e.g. witness.ua.example=ua:wua.key.pub")
            })?;
            Ok(genesis::Witness {
                name: name.into(),
                key: keys::public_key_arg(key)?.id(),
                operator: operator.into(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Some(genesis::Witnesses {
        quorum: quorum.unwrap_or(members.len() as u32),
        members,
    }))
}

pub fn read_genesis(path: &Path) -> anyhow::Result<SignedGenesis> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the genesis file {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a corridor genesis file", path.display()))
}

pub fn genesis_sign(key: &Path, path: &Path) -> anyhow::Result<()> {
    let mut g = read_genesis(path)?;
    let k = keys::load(key)?;
    let signer = g.signer_for_key(&k.keypair.public()).with_context(|| {
        format!(
            "the key {} is not the admin key of any party, organisation or the intermediary in {}",
            k.keypair.public(),
            path.display()
        )
    })?;
    g.sign(&signer, &k.keypair)
        .map_err(|e| anyhow::anyhow!("cannot sign: {e}"))?;
    let tmp = path.with_extension("json.tmp");
    fs::write(&tmp, serde_json::to_string_pretty(&g)? + "\n")?;
    fs::rename(&tmp, path)?;
    println!(
        "signed as {signer}; fingerprint {}",
        genesis::fingerprint(&g.document)
    );
    Ok(())
}

pub fn genesis_fingerprint(path: &Path) -> anyhow::Result<()> {
    let g = read_genesis(path)?;
    println!("{}", genesis::fingerprint(&g.document));
    for req in g.document.required_signers() {
        let state = if g.signatures.iter().any(|s| s.signer == req) {
            "signed"
        } else {
            "NOT SIGNED"
        };
        println!("  {req}: {state}");
    }
    match g.verify() {
        Ok(()) => println!("complete: every party and the intermediary signed"),
        Err(e) => println!("incomplete or invalid: {e}"),
    }
    Ok(())
}

/// `corridor serve`'s options. Each may also come from a TOML file (`--config`): a flag or its
/// environment variable wins over the file, the file over the built-in default.
#[derive(Args, serde::Serialize)]
pub struct ServeArgs {
    /// A TOML file with any of these options, named as the flags with `_` for `-`
    /// (data_dir = "...", database = "...", lease_ttl_ms = 5000, ...).
    #[arg(long, env = "CORRIDOR_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// The data directory (SQLite database, log key) [default: ./corridor-data].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Keep the log in PostgreSQL instead (postgres://user:password@host:5432/db).
    #[arg(long, env = "CORRIDOR_DATABASE_URL", hide_env_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// The countersigned genesis, needed the first time.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genesis: Option<PathBuf>,
    /// The log's private key (default DATA_DIR/log.key).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_key: Option<PathBuf>,
    /// Another log key to hold, repeated: the next key, before a `log.rotate_key` names it (the
    /// server refuses a rotation to a key it does not hold), or the previous one, if the server
    /// stopped between a rotation and its handover checkpoint.
    #[arg(long = "other-log-key")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_log_keys: Vec<PathBuf>,
    /// Run on a simulated exercise clock starting at this instant (exercise logs only).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
    /// Speed of the simulated clock [default: 1].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_rate: Option<f64>,
    /// The absolute URL the public pages are reached at, for links in feeds and QR codes
    /// (default: http://LISTEN).
    #[arg(long, env = "CORRIDOR_PUBLIC_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// With several instances on one PostgreSQL: the API base URL the other instances forward
    /// commands to when this one sequences (default: http://LISTEN).
    #[arg(long, env = "CORRIDOR_ADVERTISE_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertise_url: Option<String>,
    /// With several instances: the sequencer lease term in milliseconds; a standby takes over
    /// within about this long after the sequencer dies [default: 5000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_ttl_ms: Option<u64>,
    /// With several instances: how often a follower looks for entries it was not told of, in
    /// milliseconds [default: 2000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_ms: Option<u64>,
    /// With several instances: announce appends through this NATS server (JetStream), e.g.
    /// nats://127.0.0.1:4222, instead of PostgreSQL LISTEN/NOTIFY.
    #[arg(long, env = "CORRIDOR_NATS_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats: Option<String>,
    /// Close a connection whose request head is not complete this long after it was accepted
    /// (or after its first byte, on a kept-alive connection), in milliseconds [default: 10000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_timeout_ms: Option<u64>,
    /// Close a kept-alive connection when no next request starts this long after a response,
    /// in milliseconds [default: 60000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout_ms: Option<u64>,
    /// Refuse a request whose body is not complete this long after its head (408 body-timeout),
    /// in milliseconds [default: 30000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_timeout_ms: Option<u64>,
    /// Close a connection (an /events subscriber too) when a write to it makes no progress for
    /// this long, in milliseconds [default: 30000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_timeout_ms: Option<u64>,
    /// Most open connections [default: the open-files limit, raised to its hard limit at start,
    /// less 128 kept for files and the database].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,
    /// How many of --max-connections only serve the API (/v1/..., /healthz, /readyz), so a crowd
    /// of readers or idle connections cannot take them [default: a sixteenth, 16 to 1024].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_reserve: Option<usize>,
    /// Most open /events streams [default: three quarters of the connections outside the API
    /// reserve].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_events: Option<usize>,
    /// Most open connections from one IPv4 address or IPv6 /64 [default: 256].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_per_address: Option<usize>,
    /// The key that signs webhook payloads (default DATA_DIR/webhook.key, made on first start);
    /// receivers check them with the public half, `GET /v1/webhooks/key`. Never the log key.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_key: Option<PathBuf>,
    /// Post webhooks over plain http and to private addresses: only for receivers on the
    /// deployment's own network.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub webhook_allow_private: bool,
    /// The largest evidence file an upload (POST /v1/evidence) may carry, in bytes; a larger
    /// one is refused with 413 evidence-too-large before more than this is read [default:
    /// 20971520, 20 MiB]. A large file on a slow link also needs a longer --body-timeout-ms.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_max_bytes: Option<u64>,
    /// Where a witness the genesis names is reached, as NAME=URL (repeat for each): the server
    /// sends it every new checkpoint (C2SP tlog-witness add-checkpoint at URL/add-checkpoint)
    /// and serves the co-signatures it gathers. A witness without a URL is never asked.
    #[arg(long = "witness")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<String>,
}

/// `corridor serve`'s options once flags, environment, the config file and defaults are merged.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    pub data_dir: PathBuf,
    pub database: Option<String>,
    pub listen: SocketAddr,
    pub genesis: Option<PathBuf>,
    pub log_key: Option<PathBuf>,
    #[serde(default)]
    pub other_log_keys: Vec<PathBuf>,
    pub clock: Option<String>,
    pub clock_rate: f64,
    pub public_url: Option<String>,
    pub advertise_url: Option<String>,
    pub lease_ttl_ms: u64,
    pub poll_ms: u64,
    pub nats: Option<String>,
    pub header_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub body_timeout_ms: u64,
    pub write_timeout_ms: u64,
    /// `None`: derived from the open-files limit ([`ServeOptions::for_descriptors`]).
    pub max_connections: Option<usize>,
    pub api_reserve: Option<usize>,
    pub max_events: Option<usize>,
    pub max_per_address: usize,
    pub webhook_key: Option<PathBuf>,
    #[serde(default)]
    pub webhook_allow_private: bool,
    pub evidence_max_bytes: u64,
    #[serde(default)]
    pub witnesses: Vec<String>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            data_dir: "./corridor-data".into(),
            database: None,
            listen: "127.0.0.1:8080".parse().expect("a valid address"),
            genesis: None,
            log_key: None,
            other_log_keys: vec![],
            clock: None,
            clock_rate: 1.0,
            public_url: None,
            advertise_url: None,
            lease_ttl_ms: 5000,
            poll_ms: 2000,
            nats: None,
            header_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            body_timeout_ms: 30_000,
            write_timeout_ms: 30_000,
            max_connections: None,
            api_reserve: None,
            max_events: None,
            max_per_address: 256,
            webhook_key: None,
            webhook_allow_private: false,
            evidence_max_bytes: corridor_server::evidence::DEFAULT_MAX_BYTES,
            witnesses: vec![],
        }
    }
}

impl ServeConfig {
    /// The connection limits, for a process allowed `nofile` open files: what the operator set,
    /// the rest derived from `nofile` as [`ServeOptions::for_descriptors`] does.
    pub fn connection_limits(&self, nofile: u64) -> anyhow::Result<ServeOptions> {
        use std::time::Duration;
        let ms = Duration::from_millis;
        let mut o = match self.max_connections {
            // As if the budget for connections were exactly what was asked for.
            Some(n) => ServeOptions::for_descriptors(
                (n as u64).saturating_add(corridor_server::serve::FILE_RESERVE as u64),
            ),
            None => ServeOptions::for_descriptors(nofile),
        };
        if let Some(n) = self.max_connections {
            o.max_connections = n;
            o.api_reserve = o.api_reserve.min(n / 2);
            o.max_events = o.max_events.min(n - o.api_reserve);
        }
        if let Some(n) = self.api_reserve {
            o.api_reserve = n;
        }
        if let Some(n) = self.max_events {
            o.max_events = n;
        }
        o.header_timeout = ms(self.header_timeout_ms);
        o.idle_timeout = ms(self.idle_timeout_ms);
        o.body_timeout = ms(self.body_timeout_ms);
        o.write_timeout = ms(self.write_timeout_ms);
        o.per_address = self.max_per_address;
        if [
            self.header_timeout_ms,
            self.idle_timeout_ms,
            self.body_timeout_ms,
            self.write_timeout_ms,
        ]
        .contains(&0)
        {
            bail!("the --*-timeout-ms options must be more than 0");
        }
        if o.max_connections == 0 || o.per_address == 0 || o.api_reserve >= o.max_connections {
            bail!(
                "--max-connections and --max-per-address must be more than 0, and --api-reserve ({}) less than --max-connections ({})",
                o.api_reserve,
                o.max_connections
            );
        }
        if o.max_connections as u64 + corridor_server::serve::FILE_RESERVE as u64 > nofile {
            tracing::warn!(
                max_connections = o.max_connections,
                open_files_limit = nofile,
                "--max-connections is above what the open-files limit allows once files and the database have theirs; raise the hard limit (ulimit -Hn, LimitNOFILE=)"
            );
        }
        Ok(o)
    }
}

impl ServeArgs {
    /// Merge defaults, the config file (if any) and the flags, in rising precedence.
    pub fn resolve(&self) -> anyhow::Result<ServeConfig> {
        use figment::Figment;
        use figment::providers::{Format, Serialized, Toml};
        let mut f = Figment::from(Serialized::defaults(ServeConfig::default()));
        if let Some(path) = &self.config {
            if !path.is_file() {
                bail!("--config {}: no such file", path.display());
            }
            f = f.merge(Toml::file_exact(path));
        }
        f.merge(Serialized::defaults(self)).extract().map_err(|e| {
            // figment names the key and the file; a value is shown only for a wrong type,
            // and a database URL is a string, so no password reaches the message.
            anyhow::anyhow!(
                "{}: {e} (see `corridor serve --help` for the options and their types)",
                self.config
                    .as_deref()
                    .map_or_else(|| "options".to_string(), |p| p.display().to_string())
            )
        })
    }
}

pub fn clock_arg(clock: Option<&str>, rate: f64) -> anyhow::Result<Clock> {
    Ok(match clock {
        None => Clock::system(),
        Some(t) => {
            let start: jiff::Timestamp = t.parse().with_context(|| {
                format!("--clock {t:?}: give an RFC 3339 instant like 2022-03-03T14:50:00Z")
            })?;
            if !(rate > 0.0 && rate.is_finite()) {
                bail!("--clock-rate must be a positive number");
            }
            Clock::simulated(start, rate)
        }
    })
}

pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("CORRIDOR_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("CORRIDOR_LOG_FORMAT").as_deref() == Ok("json") {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing();
    let a = args.resolve()?;
    fs::create_dir_all(&a.data_dir)
        .with_context(|| format!("cannot create {}", a.data_dir.display()))?;
    let key_path = a
        .log_key
        .clone()
        .unwrap_or_else(|| a.data_dir.join("log.key"));
    let log_key = keys::load(&key_path)
        .with_context(|| "the server needs the log's private key (make one with `corridor keygen --out DATA_DIR/log.key`, and name its public half in `corridor init --log-key`)")?
        .keypair;
    let genesis = a.genesis.as_deref().map(read_genesis).transpose()?;
    if let Some(path) = &a.genesis {
        let copy = a.data_dir.join("genesis.json");
        if !copy.exists() {
            fs::copy(path, &copy)?;
        }
    }
    let clock = clock_arg(a.clock.as_deref(), a.clock_rate)?;
    let db = open_database(&a.data_dir, a.database.as_deref()).await?;
    let others = a
        .other_log_keys
        .iter()
        .map(|p| keys::load(p).map(|k| k.keypair))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if a.lease_ttl_ms < 300 || a.poll_ms == 0 {
        bail!("--lease-ttl-ms must be at least 300 and --poll-ms more than 0");
    }
    if a.evidence_max_bytes == 0 {
        bail!("--evidence-max-bytes must be more than 0");
    }
    let limits = a.connection_limits(open_files_limit())?;
    // Bound before the log opens, so the advertised URL names the real port (also for :0).
    let listener = bind(a.listen).await?;
    let addr = listener.local_addr()?;
    let cluster = ClusterOptions {
        url: a
            .advertise_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}")),
        lease_ttl: std::time::Duration::from_millis(a.lease_ttl_ms),
        poll: std::time::Duration::from_millis(a.poll_ms),
        nats: a.nats.clone(),
    };
    let log = Log::open_with(db, log_key, others, genesis, clock, Some(cluster)).await?;
    log.set_evidence_max_bytes(a.evidence_max_bytes);
    log.start_witnessing(witness_options(&a.witnesses)?)?;
    start_webhooks(
        &log,
        &a.webhook_key
            .clone()
            .unwrap_or_else(|| a.data_dir.join("webhook.key")),
        a.webhook_allow_private,
    )?;
    serve_on(listener, log, a.public_url.as_deref(), limits).await
}

/// `--witness NAME=URL` options, checked for shape (the genesis check is the server's).
pub fn witness_options(
    list: &[String],
) -> anyhow::Result<corridor_server::witnessing::WitnessOptions> {
    let mut opts = corridor_server::witnessing::WitnessOptions::default();
    for item in list {
        let (name, url) = split_eq("witness", item)?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("--witness {item}: the URL must start with http:// or https://");
        }
        if opts
            .urls
            .insert(name.to_string(), url.to_string())
            .is_some()
        {
            bail!("--witness {name}=…: given twice");
        }
    }
    Ok(opts)
}

/// Start posting alerts to webhooks, signed with the key at `path` (made there if missing).
pub fn start_webhooks(log: &Arc<Log>, path: &Path, allow_private: bool) -> anyhow::Result<()> {
    let key = if path.exists() {
        keys::load(path)?.keypair
    } else {
        let kp = corridor_core::crypto::Keypair::from_seed(keys::random_seed());
        keys::write_new(path, &kp, None)
            .with_context(|| format!("cannot write the webhook key to {}", path.display()))?;
        kp
    };
    let mut opts = corridor_server::webhooks::WebhookOptions::new(key);
    opts.allow_private = allow_private;
    log.start_webhooks(opts);
    Ok(())
}

/// Raise the soft limit on open files to the hard one (a crowd needs every descriptor the
/// system allows), and say what it is.
fn open_files_limit() -> u64 {
    match corridor_server::serve::raise_open_files_limit() {
        Ok(n) => {
            tracing::info!(open_files_limit = n, "open files");
            n
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the open-files limit; assuming 1024");
            1024
        }
    }
}

async fn bind(listen: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (is another server running there? choose another --listen)"))
}

pub async fn run_server(
    log: Arc<Log>,
    listen: SocketAddr,
    public_url: Option<&str>,
) -> anyhow::Result<()> {
    let limits = ServeConfig::default().connection_limits(open_files_limit())?;
    serve_on(bind(listen).await?, log, public_url, limits).await
}

async fn serve_on(
    listener: tokio::net::TcpListener,
    log: Arc<Log>,
    public_url: Option<&str>,
    limits: ServeOptions,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let public_url = public_url.map_or_else(|| format!("http://{addr}"), str::to_string);
    log.start_public(&public_url);
    let head = log.head();
    tracing::info!(
        %addr,
        origin = log.origin(),
        size = head.map(|h| h.checkpoint.size).unwrap_or(0),
        simulated_clock = log.clock().is_simulated(),
        "corridor is serving"
    );
    println!("corridor: serving log {} on http://{addr}", log.origin());
    println!("corridor: public pages at {public_url}/ (uk, ru, en)");
    if log.clock().is_simulated() {
        println!(
            "corridor: EXERCISE — simulated clock, now {}",
            corridor_core::time::format_log_time(log.clock().now())
        );
    }
    // axum's router over hyper, with the peer address for the abuse limits; `GET /events` is
    // answered without hyper's per-connection buffers (see `corridor_server::serve`), and the
    // connection limits keep a crowd from taking every descriptor.
    tracing::info!(
        max_connections = limits.max_connections,
        api_reserve = limits.api_reserve,
        max_events = limits.max_events,
        per_address = limits.per_address,
        "connection limits"
    );
    let app = corridor_server::router(log.clone());
    corridor_server::serve_with(listener, log.clone(), app, limits, {
        let log = log.clone();
        async move {
            let _ = tokio::signal::ctrl_c().await;
            log.public().close_events();
            log.alerts().close_streams();
        }
    })
    .await;
    log.stop().await?;
    Ok(())
}

#[derive(Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    acting: Acting,
    /// The actor you act as (default: the one named in the key file).
    #[arg(long)]
    actor: Option<String>,
    /// Command id (default: a fresh random id). Reuse an id only to resend the same command.
    #[arg(long)]
    id: Option<String>,
    /// A JSON file with the command body, including its "type".
    body: PathBuf,
    /// Field mode: sign into the outbox without contacting the server (the log's origin and, on
    /// an exercise, its clock are those this device saw last); `corridor resend` sends it when a
    /// connection returns. The genesis policy says how long such a command stays acceptable.
    #[arg(long)]
    offline: bool,
}

pub async fn submit(a: SubmitArgs) -> anyhow::Result<()> {
    let text =
        fs::read_to_string(&a.body).with_context(|| format!("cannot read {}", a.body.display()))?;
    let body: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", a.body.display()))?;
    if body.get("type").and_then(Value::as_str).is_none() {
        bail!(
            "{}: the body needs a \"type\", one of {}",
            a.body.display(),
            corridor_core::command::COMMAND_TYPES.join(", ")
        );
    }
    if a.offline {
        return submit_offline(a.acting.key(), a.acting.server(), a.actor, a.id, body);
    }
    submit_body(a.acting.key(), a.acting.server(), a.actor, a.id, body).await
}

/// Sign `body` with the loaded key file as `actor` (default: the one the file names) for the log
/// `origin` at the log time `time` (kept to whole seconds), with the command id `id` (default:
/// a fresh one), and refuse locally what the server would refuse for shape, before anything
/// leaves the device: the envelope, the actor, the id and the time signed. Shared by the online
/// and the offline path, so both sign the same way.
fn sign_command(
    key: keys::LoadedKey,
    actor: Option<String>,
    id: Option<String>,
    origin: &str,
    time: &str,
    body: Value,
) -> anyhow::Result<(Vec<u8>, String, String, String)> {
    let actor = actor.or(key.actor).context(
        "which actor are you? pass --actor (e.g. --actor ua/coord-kyiv) or make the key with `corridor keygen --actor`",
    )?;
    let time = format!("{}Z", &time[..19]);
    let id = id.unwrap_or_else(|| client::hex(&keys::random_seed()[..16]));
    let envelope = Draft {
        origin,
        actor: &actor,
        id: &id,
        time: &time,
        body,
    }
    .sign(&key.keypair);
    SignedCommand::parse(&envelope, origin).map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))?;
    Ok((envelope, actor, id, time))
}

/// `corridor submit --offline`: sign now, keep the envelope in the outbox, send nothing.
fn submit_offline(
    key: &Path,
    server: &str,
    actor: Option<String>,
    id: Option<String>,
    body: Value,
) -> anyhow::Result<()> {
    let key = keys::load(key)?;
    let (origin, offset) = client::last_seen(server).with_context(|| {
        format!("this device has never checked the log at {server}: run any command against it once while connected (e.g. `corridor monitor`), then sign offline")
    })?;
    let now = jiff::Timestamp::now().as_second() + offset.unwrap_or(0);
    let time = corridor_core::time::format_log_time(
        jiff::Timestamp::from_second(now).context("the clock")?,
    );
    let (envelope, actor, id, time) = sign_command(key, actor, id, &origin, &time, body)?;
    let kept = client::outbox_put(server.trim_end_matches('/'), &envelope)?;
    println!(
        "signed offline at {time} as {actor} (command id {id}); kept in {}. Send it with `corridor resend` once connected: the same bytes, so it lands once.",
        kept.display()
    );
    Ok(())
}

/// Sign `body` with the key file, keep the envelope in the outbox, send it and check the
/// receipt: the one path every command-making subcommand takes.
pub async fn submit_body(
    key: &Path,
    server: &str,
    actor: Option<String>,
    id: Option<String>,
    body: Value,
) -> anyhow::Result<()> {
    let key = keys::load(key)?;
    let c = client::Client::new(server);
    let head = c.check_log().await?;
    // On an exercise log the client signs with the log's simulated time, or every command would
    // be refused as being from 2026 in a 2022 exercise.
    let time = if head.clock.simulated {
        eprintln!(
            "exercise: using the log's simulated clock ({})",
            head.clock.now
        );
        head.clock.now.clone()
    } else {
        corridor_core::time::format_log_time(jiff::Timestamp::now())
    };
    let (envelope, ..) = sign_command(key, actor, id, &head.origin, &time, body)?;
    let kept = client::outbox_put(&c.base, &envelope)?;
    send_kept(&c, &kept, &envelope, &head).await
}

/// `corridor get`: a signed read, printed as the server sent it (JSON pretty-printed).
pub async fn get(key: &Path, server: &str, path: &str) -> anyhow::Result<()> {
    if !path.starts_with('/') {
        bail!("give the path from the server's root, e.g. '/v1/windows?status=proposed'");
    }
    let key = keys::load(key)?;
    let c = client::Client::new(server);
    let head = c.check_log().await?;
    let body = c.get_signed(&head, &key.keypair, path).await?;
    match serde_json::from_str::<Value>(&body) {
        Ok(v) => println!("{}", serde_json::to_string_pretty(&v)?),
        Err(_) => print!("{body}"),
    }
    Ok(())
}

async fn send_kept(
    c: &client::Client,
    kept: &Path,
    envelope: &[u8],
    head: &client::HeadInfo,
) -> anyhow::Result<()> {
    let cmd = SignedCommand::parse_unverified(envelope, &head.origin)
        .map_err(|e| anyhow::anyhow!("kept envelope {} is damaged: {e}", kept.display()))?;
    match c.send(envelope).await {
        Ok((receipt, duplicate)) => {
            // Signed by the log key at its index: the current one, or (a repeat of an older
            // receipt) one of the chain the client has followed.
            let chain = std::iter::once(head.log_key.as_str())
                .chain(head.log_keys.iter().rev().map(|k| k.key.as_str()));
            let mut checked = Err(anyhow::anyhow!("no log key"));
            for k in chain {
                let log_key = corridor_core::crypto::PublicKey::parse(k)?;
                checked =
                    client::check_receipt(&receipt, &log_key, &head.origin, &cmd.actor, &cmd.id);
                if checked.is_ok() {
                    break;
                }
            }
            checked?;
            let saved = client::outbox_done(kept, &receipt)?;
            println!(
                "{} entry {} at {} (command id {}){}",
                if duplicate {
                    "already in the log as"
                } else {
                    "accepted as"
                },
                receipt.receipt.index,
                receipt.receipt.time,
                cmd.id,
                if head.exercise { " [EXERCISE]" } else { "" }
            );
            println!("receipt: {}", saved.display());
            Ok(())
        }
        Err(e) => {
            let refused = e.to_string().contains("refused the command");
            if refused {
                fs::remove_file(kept).ok();
                Err(e)
            } else {
                Err(e.context(format!(
                    "the signed command is kept in {}; run `corridor resend` to send the same bytes again",
                    kept.display()
                )))
            }
        }
    }
}

pub async fn resend(server: Option<&str>) -> anyhow::Result<()> {
    let pending = client::outbox_list()?;
    if pending.is_empty() {
        println!("nothing to resend");
        return Ok(());
    }
    let mut failed = 0;
    for (path, srv, envelope) in pending {
        if server.is_some_and(|s| s.trim_end_matches('/') != srv) {
            continue;
        }
        let c = client::Client::new(&srv);
        let result = match c.check_log().await {
            Ok(head) => send_kept(&c, &path, &envelope, &head).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            eprintln!("error: {e:#}");
            failed += 1;
        }
    }
    if failed > 0 {
        bail!("{failed} command(s) could not be sent; they stay in the outbox");
    }
    Ok(())
}

/// `corridor key prove`: the proof of possession an admin puts beside this key's public half in
/// a registration (see `corridor_core::envelope::prove_key`).
pub async fn key_prove(
    key: &Path,
    actor: Option<String>,
    origin: Option<String>,
    server: &str,
) -> anyhow::Result<()> {
    let key = keys::load(key)?;
    let actor = actor.or(key.actor).context(
        "which actor is this key for? pass --actor (e.g. --actor ua/coord-kyiv) or make the key with `corridor keygen --actor`",
    )?;
    corridor_core::ids::check_actor_id("--actor", &actor).map_err(|e| anyhow::anyhow!("{e}"))?;
    let origin = match origin {
        Some(o) => o,
        None => {
            client::Client::new(server)
                .check_log()
                .await
                .with_context(|| {
                    format!("could not ask {server} for the log's origin; or pass --origin")
                })?
                .origin
        }
    };
    let proof = corridor_core::envelope::prove_key(&key.keypair, &origin, &actor);
    println!(
        "{}",
        serde_json::json!({"actor": actor, "key": key.keypair.public().id(), "key_proof": proof})
    );
    Ok(())
}

pub async fn monitor(server: &str) -> anyhow::Result<()> {
    let c = client::Client::new(server);
    let head = c.check_log().await?;
    println!(
        "log {} at size {}: checkpoint verified and consistent with what this client saw before{}",
        head.origin,
        head.size,
        if head.exercise { " [EXERCISE]" } else { "" }
    );
    let cp = Checkpoint::verify(
        &head.note,
        &head.origin,
        &corridor_core::crypto::PublicKey::parse(&head.log_key)?,
    )
    .map_err(|e| anyhow::anyhow!("the server's checkpoint does not verify: {e}"))?;
    let leaves = check_leaves(&c, &cp).await?;
    println!(
        "{leaves} leaves: indices dense, log times strictly increasing, hashes as served, and together the checkpoint's root"
    );
    Ok(())
}

/// Every leaf up to the checkpoint, as the public reads them, checked by
/// [`corridor_verify::LeafChain`] and against the checkpoint's root.
async fn check_leaves(c: &client::Client, cp: &Checkpoint) -> anyhow::Result<u64> {
    let (chain, _) = c.leaves(cp.size).await?;
    chain.check_root(cp)?;
    Ok(cp.size)
}

#[derive(Args)]
pub struct VerifyArgs {
    /// A data directory to verify.
    #[arg(long, default_value = "./corridor-data", conflicts_with = "export")]
    data_dir: PathBuf,
    /// A PostgreSQL database to verify (postgres://user:password@host:5432/db).
    #[arg(long, env = "CORRIDOR_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
    /// An exported log (JSON Lines) to verify instead.
    #[arg(long)]
    export: Option<PathBuf>,
}

pub use corridor_verify::{Verified, Verifier};

/// A progress bar for a verification of `total` entries, shown only on a terminal.
pub fn progress_bar(total: u64) -> ProgressBar {
    let progress = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} entries ({per_sec}, eta {eta})")
            .expect("valid template"),
    );
    progress
}

/// [`corridor_verify::verify_db`] with a progress bar.
pub async fn verify_db(db: Arc<dyn Database>) -> anyhow::Result<Verified> {
    let bar = progress_bar(db.size().await?);
    let tick = bar.clone();
    let v = corridor_verify::verify_db(db, move |n| tick.inc(n)).await;
    bar.finish_and_clear();
    Ok(v?)
}

/// Turn transparent huge pages off for this process before a long verification. A replay
/// allocates a gigabyte or more of small records and frees each page of entries as it goes; with
/// huge pages the kernel zeroes two megabytes at every first touch of a region the allocator
/// handed back and takes again, which was a fifth of `verify`'s CPU on a million entries
/// (BENCHMARKS.md, "Verify"). This is what mimalloc's `MIMALLOC_ALLOW_THP=0` does, for this one
/// command. Nothing else changes if the kernel refuses.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes one integer argument and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// The summary of a verified log, for `corridor verify` and the commands that verify what they
/// wrote (`import`, `restore`); `projections` when the stored projection tables were compared
/// too (a database, not an export). The tz release is named because stated local times were
/// judged with it (`corridor_core::localtime`).
pub fn print_verified(v: &Verified, projections: bool) {
    println!(
        "ok: {} entries of log {} verified (signatures, key status, times, commitments, replay), {} checkpoints match{}",
        v.entries,
        v.state.origin(),
        v.checkpoints,
        if projections {
            ", projections match the replay"
        } else {
            ""
        }
    );
    // Replay never consults the tz database; what this build's release says of the stated
    // local times is reported here, beside the release the genesis pins.
    let ours = corridor_core::localtime::tzdb_version();
    let pinned = v.state.genesis.policy.tzdb.as_deref();
    let (stated, findings) = corridor_core::agreement::local_time_findings(&v.state.agreements);
    println!(
        "local times: {stated} stated (window times and settlement zones), judged on acceptance with tz release {}; this build's {ours} reads {}",
        pinned.unwrap_or("(not pinned: a genesis older than the pin)"),
        if findings.is_empty() {
            "them all the same".to_string()
        } else {
            format!("{} of them otherwise:", findings.len())
        }
    );
    for f in &findings {
        println!("  {f}");
    }
}

pub async fn verify(a: VerifyArgs) -> anyhow::Result<()> {
    without_huge_pages();
    let v = match &a.export {
        Some(path) => verify_export(path)?,
        None => {
            let db = open_existing(&a.data_dir, a.database.as_deref()).await?;
            verify_db(db).await?
        }
    };
    print_verified(&v, a.export.is_none());
    if !v.state.flagged.is_empty() {
        println!(
            "note: {} entries were signed by keys later declared compromised: {:?}",
            v.state.flagged.len(),
            v.state.flagged
        );
    }
    // The process ends here: freeing a replayed state record by record (a gigabyte for a
    // million entries) would only add a second to the command's run.
    std::mem::forget(v);
    Ok(())
}

fn verify_export(path: &Path) -> anyhow::Result<Verified> {
    let f = fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut v = Verifier::new();
    let mut page = Vec::new();
    let mut cps = Vec::new();
    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line?;
        let rec: Value = serde_json::from_str(&line)
            .with_context(|| format!("{} line {}: not JSON", path.display(), n + 1))?;
        match rec["kind"].as_str() {
            Some("entry") => {
                let d: DisclosedEntry = serde_json::from_value(rec)
                    .with_context(|| format!("{} line {}: not an entry", path.display(), n + 1))?;
                page.push(
                    d.to_entry()
                        .map_err(|e| anyhow::anyhow!("line {}: {e}", n + 1))?,
                );
                if page.len() == 20_000 {
                    v.page(&page)?;
                    page.clear();
                }
            }
            Some("checkpoint") => cps.push(StoredCheckpoint {
                size: rec["size"].as_u64().context("checkpoint without size")?,
                note: rec["note"]
                    .as_str()
                    .context("checkpoint without note")?
                    .to_string(),
            }),
            _ => bail!("{} line {}: unknown record", path.display(), n + 1),
        }
    }
    if !page.is_empty() {
        v.page(&page)?;
    }
    let n = v.checkpoints(&cps)?;
    Ok(v.finish(n)?)
}

pub async fn rebuild(data_dir: &Path, database: Option<&str>) -> anyhow::Result<()> {
    let db = open_existing(data_dir, database).await?;
    let size = db.size().await?;
    let mut replay = Replay::trusting_signatures();
    let bar = ProgressBar::new(size);
    let mut start = 0;
    while start < size {
        let end = (start + 20_000).min(size);
        for e in db.entries(start, end).await? {
            replay
                .apply(&e)
                .map_err(|r| anyhow::anyhow!("entry {} does not replay: {r}", e.header.index))?;
        }
        bar.inc(end - start);
        start = end;
    }
    bar.finish_and_clear();
    let state = replay.into_state().context("the log is empty")?;
    let rows: Vec<_> = state.projection_rows().collect();
    db.replace_projections(&rows).await?;
    println!("rebuilt {} projection rows from {size} entries", rows.len());
    Ok(())
}

pub async fn export(data_dir: &Path, database: Option<&str>, out: &Path) -> anyhow::Result<()> {
    let db = open_existing(data_dir, database).await?;
    let size = db.size().await?;
    let tmp = out.with_extension("tmp");
    let mut w = BufWriter::new(
        fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?,
    );
    let mut start = 0;
    while start < size {
        let end = (start + 20_000).min(size);
        for e in db.entries(start, end).await? {
            let mut v = serde_json::to_value(DisclosedEntry::from(&e))?;
            v["kind"] = "entry".into();
            serde_json::to_writer(&mut w, &v)?;
            w.write_all(b"\n")?;
        }
        start = end;
    }
    let cps = db.checkpoints().await?;
    for cp in &cps {
        serde_json::to_writer(
            &mut w,
            &serde_json::json!({"kind": "checkpoint", "size": cp.size, "note": cp.note}),
        )?;
        w.write_all(b"\n")?;
    }
    w.into_inner()?.sync_all()?;
    fs::rename(&tmp, out)?;
    println!(
        "exported {size} entries and {} checkpoints to {}",
        cps.len(),
        out.display()
    );
    Ok(())
}

#[cfg(test)]
mod serve_config_tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn resolve(file: Option<&str>, flags: &[&str]) -> anyhow::Result<ServeConfig> {
        let dir = tempfile::tempdir().unwrap();
        let mut argv = vec!["serve".to_string()];
        if let Some(text) = file {
            let path = dir.path().join("corridor.toml");
            fs::write(&path, text).unwrap();
            argv.push("--config".into());
            argv.push(path.display().to_string());
        }
        argv.extend(flags.iter().map(|s| s.to_string()));
        Cli::try_parse_from(argv).unwrap().serve.resolve()
    }

    #[test]
    fn defaults_then_the_file_then_flags() {
        let d = resolve(None, &[]).unwrap();
        assert_eq!(d.data_dir, PathBuf::from("./corridor-data"));
        assert_eq!(d.listen.to_string(), "127.0.0.1:8080");
        assert_eq!((d.lease_ttl_ms, d.poll_ms, d.clock_rate), (5000, 2000, 1.0));
        let file = "data_dir = \"/srv/corridor\"\nlisten = \"0.0.0.0:9000\"\nlease_ttl_ms = 3000\nnats = \"nats://10.0.0.9:4222\"\nother_log_keys = [\"next.key\"]\n";
        let f = resolve(Some(file), &[]).unwrap();
        assert_eq!(f.data_dir, PathBuf::from("/srv/corridor"));
        assert_eq!(f.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(f.lease_ttl_ms, 3000);
        assert_eq!(f.poll_ms, 2000, "unset in the file: the default");
        assert_eq!(f.nats.as_deref(), Some("nats://10.0.0.9:4222"));
        assert_eq!(f.other_log_keys, vec![PathBuf::from("next.key")]);
        let both = resolve(
            Some(file),
            &["--listen", "127.0.0.1:9100", "--lease-ttl-ms", "900"],
        )
        .unwrap();
        assert_eq!(
            both.listen.to_string(),
            "127.0.0.1:9100",
            "a flag wins over the file"
        );
        assert_eq!(both.lease_ttl_ms, 900);
        assert_eq!(both.data_dir, PathBuf::from("/srv/corridor"));
    }

    /// The evidence size limit: 20 MiB unless the file or a flag says otherwise.
    #[test]
    fn evidence_max_bytes_from_defaults_the_file_and_flags() {
        assert_eq!(resolve(None, &[]).unwrap().evidence_max_bytes, 20 << 20);
        let file = "evidence_max_bytes = 1000\n";
        assert_eq!(resolve(Some(file), &[]).unwrap().evidence_max_bytes, 1000);
        let flag = resolve(Some(file), &["--evidence-max-bytes", "5000"]).unwrap();
        assert_eq!(flag.evidence_max_bytes, 5000);
    }

    /// The connection limits: derived from the open-files limit unless set, by flag or by the
    /// config file; nonsense refused.
    #[test]
    fn connection_limits_from_defaults_the_file_and_flags() {
        let d = resolve(None, &[]).unwrap();
        let o = d.connection_limits(1024).unwrap();
        assert_eq!(
            (
                o.max_connections,
                o.api_reserve,
                o.max_events,
                o.per_address
            ),
            (896, 56, 630, 256)
        );
        assert_eq!(o.header_timeout, std::time::Duration::from_secs(10));
        let file = "max_connections = 500\nheader_timeout_ms = 2500\nmax_per_address = 32\n";
        let f = resolve(
            Some(file),
            &["--max-events", "100", "--idle-timeout-ms", "9000"],
        )
        .unwrap()
        .connection_limits(1 << 20)
        .unwrap();
        assert_eq!(f.max_connections, 500);
        assert!(f.api_reserve > 0 && f.api_reserve < 500);
        assert_eq!((f.max_events, f.per_address), (100, 32));
        assert_eq!(f.header_timeout, std::time::Duration::from_millis(2500));
        assert_eq!(f.idle_timeout, std::time::Duration::from_millis(9000));
        for bad in [
            &["--api-reserve", "500", "--max-connections", "500"][..],
            &["--write-timeout-ms", "0"][..],
            &["--max-per-address", "0"][..],
        ] {
            let e = resolve(None, bad)
                .unwrap()
                .connection_limits(1024)
                .unwrap_err();
            assert!(e.to_string().contains("--"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn a_bad_file_says_which_key_and_never_shows_the_password() {
        let e = resolve(Some("lease_ttl = 5\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("lease_ttl") && e.contains("corridor.toml"),
            "{e}"
        );
        let e = resolve(Some("listen = 8080\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("listen"), "{e}");
        let e = resolve(
            Some("database = \"postgres://u:s3cret@db/x\"\npoll_ms = \"soon\"\n"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("poll_ms") && !e.contains("s3cret"), "{e}");
        let e = resolve(None, &["--config", "/nonexistent/corridor.toml"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("no such file"), "{e}");
    }
}
