//! Subcommands of the negotiation register: `corridor round|point|document ...`. Each builds
//! its command body from flags (texts as `LANG=TEXT`, a file's contents with `LANG=@FILE`), so
//! a delegation's secretary records a round or a position without writing JSON; the rules are
//! the core's (`corridor_core::negotiation`), a refusal comes back as the server's problem
//! document. Signing a document fetches its current version, prints what is being signed, and
//! signs that exact hash.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::{Value, json};

use crate::ops;
use crate::running::Conn;

#[derive(Subcommand)]
pub enum RoundCommand {
    /// Record a round of talks (scheduled or held), after the previous one.
    Record {
        #[command(flatten)]
        conn: Conn,
        /// New round id, e.g. round-2.
        #[arg(long)]
        id: String,
        /// Its number in the talks.
        #[arg(long)]
        number: u32,
        /// When it starts, as announced, in local time (e.g. 2022-03-03T17:50).
        #[arg(long)]
        starts_local: String,
        /// The zone it was announced in (e.g. Europe/Moscow).
        #[arg(long)]
        zone: String,
        /// The venue: English|Українська|Русский.
        #[arg(long)]
        venue: String,
        /// in-person or video.
        #[arg(long, default_value = "in-person")]
        format: String,
        /// A delegation member: PARTY=ROLE:NAME, repeatable (e.g. ua=head:D. Arakhamia).
        #[arg(long = "delegate", required = true)]
        delegates: Vec<String>,
        /// What came of it, if held.
        #[arg(long)]
        outcome: Option<String>,
        /// The communiqué in a language: LANG=TEXT or LANG=@FILE, repeatable.
        #[arg(long = "communique")]
        communique: Vec<String>,
        /// The language of the communiqué's original (the others are translations).
        #[arg(long)]
        original: Option<String>,
    },
    /// Record the outcome and communiqué of a round recorded before it was held.
    Conclude {
        #[command(flatten)]
        conn: Conn,
        /// The round.
        #[arg(long)]
        id: String,
        /// What came of it.
        #[arg(long)]
        outcome: String,
        /// The communiqué in a language: LANG=TEXT or LANG=@FILE, repeatable.
        #[arg(long = "communique")]
        communique: Vec<String>,
        /// The language of the communiqué's original.
        #[arg(long)]
        original: Option<String>,
    },
    /// List the rounds.
    List {
        #[command(flatten)]
        conn: Conn,
    },
}

#[derive(Subcommand)]
pub enum PointCommand {
    /// Put a new agenda point forward in a round.
    Propose {
        #[command(flatten)]
        conn: Conn,
        /// New point id, e.g. h-1.
        #[arg(long)]
        id: String,
        /// military, humanitarian or political.
        #[arg(long)]
        basket: String,
        /// The round.
        #[arg(long)]
        round: String,
        /// Its text in a language: LANG=TEXT or LANG=@FILE, repeatable.
        #[arg(long = "text", required = true)]
        text: Vec<String>,
    },
    /// A new version of a point's text (its status goes back to open).
    Revise {
        #[command(flatten)]
        conn: Conn,
        /// The point.
        #[arg(long)]
        id: String,
        /// The version this revises (the latest).
        #[arg(long)]
        base_version: u32,
        /// The round.
        #[arg(long)]
        round: String,
        /// The new text: LANG=TEXT or LANG=@FILE, repeatable.
        #[arg(long = "text", required = true)]
        text: Vec<String>,
    },
    /// Record your party's position on the current version of a point.
    Position {
        #[command(flatten)]
        conn: Conn,
        /// The point.
        #[arg(long)]
        id: String,
        /// The version (the latest).
        #[arg(long)]
        version: u32,
        /// Your party (default: the party of the actor your key file names).
        #[arg(long)]
        party: Option<String>,
        /// The round.
        #[arg(long)]
        round: String,
        /// accepts, reserves or rejects.
        #[arg(long)]
        stance: String,
        /// The position in your party's words.
        #[arg(long)]
        text: String,
    },
    /// Set a point's status in a round (agreed-text needs every party to have accepted).
    Status {
        #[command(flatten)]
        conn: Conn,
        /// The point.
        #[arg(long)]
        id: String,
        /// The version (the latest).
        #[arg(long)]
        version: u32,
        /// The round.
        #[arg(long)]
        round: String,
        /// open, mutual-understanding, agreed-text, rejected or deferred.
        #[arg(long)]
        status: String,
    },
    /// Link an agreed humanitarian point to the corridors and windows that implement it.
    Link {
        #[command(flatten)]
        conn: Conn,
        /// The point.
        #[arg(long)]
        id: String,
        /// A corridor, repeatable.
        #[arg(long = "corridor")]
        corridors: Vec<String>,
        /// A window, repeatable.
        #[arg(long = "window")]
        windows: Vec<String>,
    },
    /// List the points (with each party's position on the current version).
    List {
        #[command(flatten)]
        conn: Conn,
        /// Only this basket.
        #[arg(long)]
        basket: Option<String>,
        /// Only this status.
        #[arg(long)]
        status: Option<String>,
    },
    /// A point's history: every version with what changed, word by word.
    History {
        #[command(flatten)]
        conn: Conn,
        /// The point.
        id: String,
    },
}

/// What a draft or a revision says.
#[derive(clap::Args)]
pub struct DraftArgs {
    #[command(flatten)]
    conn: Conn,
    /// The document id.
    #[arg(long)]
    id: String,
    /// Its title: LANG=TEXT, repeatable.
    #[arg(long = "title", required = true)]
    title: Vec<String>,
    /// An agreed point it includes, repeatable, in order.
    #[arg(long = "point", required = true)]
    points: Vec<String>,
    /// The language whose text binds.
    #[arg(long)]
    binding_language: String,
    /// Its text: LANG=TEXT or LANG=@FILE, repeatable.
    #[arg(long = "text", required = true)]
    text: Vec<String>,
}

#[derive(Subcommand)]
pub enum DocumentCommand {
    /// Draft a document for signing from agreed points.
    Draft(DraftArgs),
    /// A new version of a document (voids its signatures).
    Revise {
        #[command(flatten)]
        draft: DraftArgs,
        /// The version this revises (the latest).
        #[arg(long)]
        base_version: u32,
    },
    /// Sign the current version for your party (signatories only): prints what it signs.
    Sign {
        #[command(flatten)]
        conn: Conn,
        /// The document.
        id: String,
        /// Your party (default: your key file's actor's).
        #[arg(long)]
        party: Option<String>,
        /// The hash you read and sign (default: the current version's, printed first).
        #[arg(long)]
        version_hash: Option<String>,
    },
    /// Agree for your party to publish the signed document (public once every party agreed).
    Publish {
        #[command(flatten)]
        conn: Conn,
        /// The document.
        id: String,
        /// Your party (default: your key file's actor's).
        #[arg(long)]
        party: Option<String>,
        /// The hash of the version to publish (default: the current version's).
        #[arg(long)]
        version_hash: Option<String>,
    },
    /// Download the bundle of a document every party signed: the text, the signatures, the
    /// entries registering each signatory's key back to the genesis, inclusion proofs and a
    /// checkpoint; anyone checks it offline with `corridor verify-document`.
    Bundle {
        #[command(flatten)]
        conn: Conn,
        /// The document.
        id: String,
        /// Where to write it.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Show a document: its text, its points, who signed which version.
    Show {
        #[command(flatten)]
        conn: Conn,
        /// The document.
        id: String,
    },
}

/// `LANG=TEXT` or `LANG=@FILE` options as a map.
fn texts(flag: &str, items: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in items {
        let (lang, text) = item
            .split_once('=')
            .with_context(|| format!("--{flag} {item:?}: write LANG=TEXT (uk, ru or en)"))?;
        let text = match text.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("--{flag} {lang}=@{path}: cannot read the file"))?,
            None => text.to_string(),
        };
        if out.insert(lang.to_string(), text).is_some() {
            bail!("--{flag}: {lang} given twice");
        }
    }
    Ok(out)
}

fn communique(items: &[String], original: Option<&str>) -> anyhow::Result<Value> {
    let t = texts("communique", items)?;
    if !t.is_empty() && original.is_none_or(|o| !t.contains_key(o)) {
        bail!("--original LANG: say which of the communiqué's texts is the original");
    }
    Ok(json!(t
        .iter()
        .map(|(lang, text)| json!({"lang": lang, "text": text, "original": Some(lang.as_str()) == original}))
        .collect::<Vec<_>>()))
}

/// The party of the actor the key file names (`ua/coord-1` → `ua`).
fn party_of(conn: &Conn, given: Option<String>) -> anyhow::Result<String> {
    if let Some(p) = given {
        return Ok(p);
    }
    let actor = crate::keys::load(conn.key())?
        .actor
        .context("which party? pass --party (your key file does not name its actor)")?;
    Ok(corridor_core::access::affiliation_of(&actor).to_string())
}

fn print(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

async fn read(conn: &Conn, path: &str) -> anyhow::Result<Value> {
    crate::agree::read_json(conn.server(), conn.key(), path).await
}

async fn submit(conn: &Conn, body: Value) -> anyhow::Result<()> {
    ops::submit_body(conn.key(), conn.server(), None, None, body).await
}

pub async fn round(cmd: RoundCommand) -> anyhow::Result<()> {
    match cmd {
        RoundCommand::Record {
            conn,
            id,
            number,
            starts_local,
            zone,
            venue,
            format,
            delegates,
            outcome,
            communique: c,
            original,
        } => {
            let starts = corridor_core::localtime::resolve(&starts_local, &zone, None)
                .map_err(|e| anyhow::anyhow!("--starts-local {starts_local} --zone {zone}: {e}"))?;
            let starts = corridor_core::time::format_log_time(starts);
            let parts: Vec<&str> = venue.split('|').collect();
            let [en, uk, ru] = parts[..] else {
                bail!("--venue {venue:?}: give three names, English|Українська|Русский");
            };
            let mut delegations: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for d in &delegates {
                let (party, rest) = d
                    .split_once('=')
                    .and_then(|(p, r)| Some((p, r.split_once(':')?)))
                    .with_context(|| {
                        format!(
                            "--delegate {d:?}: write PARTY=ROLE:NAME, e.g. ua=head:D. Arakhamia"
                        )
                    })?;
                delegations
                    .entry(party.to_string())
                    .or_default()
                    .push(json!({"role": rest.0, "name": rest.1}));
            }
            let mut body = json!({"type": "round.record", "round": id, "number": number,
                "starts": format!("{}Z", &starts[..19]),
                "starts_local": {"local": starts_local, "zone": zone},
                "venue": {"en": en, "uk": uk, "ru": ru}, "format": format,
                "delegations": delegations});
            if let Some(o) = outcome {
                body["outcome"] = json!(o);
            }
            let c = communique(&c, original.as_deref())?;
            if c.as_array().is_some_and(|a| !a.is_empty()) {
                body["communique"] = c;
            }
            submit(&conn, body).await
        }
        RoundCommand::Conclude {
            conn,
            id,
            outcome,
            communique: c,
            original,
        } => {
            let body = json!({"type": "round.conclude", "round": id, "outcome": outcome,
                "communique": communique(&c, original.as_deref())?});
            submit(&conn, body).await
        }
        RoundCommand::List { conn } => print(&read(&conn, "/v1/rounds").await?),
    }
}

pub async fn point(cmd: PointCommand) -> anyhow::Result<()> {
    match cmd {
        PointCommand::Propose {
            conn,
            id,
            basket,
            round,
            text,
        } => {
            let body = json!({"type": "point.propose", "point": id, "basket": basket,
                "round": round, "text": texts("text", &text)?});
            submit(&conn, body).await
        }
        PointCommand::Revise {
            conn,
            id,
            base_version,
            round,
            text,
        } => {
            let body = json!({"type": "point.revise", "point": id, "base_version": base_version,
                "round": round, "text": texts("text", &text)?});
            submit(&conn, body).await
        }
        PointCommand::Position {
            conn,
            id,
            version,
            party,
            round,
            stance,
            text,
        } => {
            let party = party_of(&conn, party)?;
            let body = json!({"type": "point.position", "point": id, "version": version,
                "party": party, "round": round, "stance": stance, "text": text});
            submit(&conn, body).await
        }
        PointCommand::Status {
            conn,
            id,
            version,
            round,
            status,
        } => {
            let body = json!({"type": "point.status", "point": id, "version": version,
                "round": round, "status": status});
            submit(&conn, body).await
        }
        PointCommand::Link {
            conn,
            id,
            corridors,
            windows,
        } => {
            let body = json!({"type": "point.link", "point": id, "corridors": corridors,
                "windows": windows});
            submit(&conn, body).await
        }
        PointCommand::List {
            conn,
            basket,
            status,
        } => {
            let mut q = Vec::new();
            if let Some(b) = basket {
                q.push(format!("basket={b}"));
            }
            if let Some(s) = status {
                q.push(format!("status={s}"));
            }
            let path = if q.is_empty() {
                "/v1/points".to_string()
            } else {
                format!("/v1/points?{}", q.join("&"))
            };
            print(&read(&conn, &path).await?)
        }
        PointCommand::History { conn, id } => {
            print(&read(&conn, &format!("/v1/points/{id}/history")).await?)
        }
    }
}

fn draft_body(ty: &str, d: &DraftArgs, base: Option<u32>) -> anyhow::Result<Value> {
    let mut body = json!({"type": ty, "document": d.id, "title": texts("title", &d.title)?,
        "points": d.points, "binding_language": d.binding_language,
        "text": texts("text", &d.text)?});
    if let Some(b) = base {
        body["base_version"] = json!(b);
    }
    Ok(body)
}

/// The current version's hash, after printing what it is, unless the signer gave one.
async fn version_hash(
    conn: &Conn,
    id: &str,
    given: Option<String>,
    act: &str,
) -> anyhow::Result<String> {
    if let Some(h) = given {
        return Ok(h);
    }
    let d = read(conn, &format!("/v1/documents/{id}")).await?;
    let hash = d["hash"]
        .as_str()
        .context("the server's document has no hash")?;
    let binding = d["binding_language"].as_str().unwrap_or("");
    eprintln!(
        "{act} document {id} version {} (hash {hash}); binding text ({binding}):\n{}\n",
        d["version"],
        d["text"][binding].as_str().unwrap_or("")
    );
    Ok(hash.to_string())
}

/// A party's act on the current version of a document (`document.sign`, `document.publish`):
/// for the key file's party unless named, over the hash given or the current one (printed
/// first, with the binding text, as `act`).
async fn party_act(
    conn: &Conn,
    ty: &str,
    act: &str,
    id: &str,
    party: Option<String>,
    hash: Option<String>,
) -> anyhow::Result<()> {
    let party = party_of(conn, party)?;
    let hash = version_hash(conn, id, hash, act).await?;
    let body = json!({"type": ty, "document": id, "party": party, "version_hash": hash});
    submit(conn, body).await
}

pub async fn document(cmd: DocumentCommand) -> anyhow::Result<()> {
    match cmd {
        DocumentCommand::Draft(d) => {
            let body = draft_body("document.draft", &d, None)?;
            submit(&d.conn, body).await
        }
        DocumentCommand::Revise {
            draft,
            base_version,
        } => {
            let body = draft_body("document.revise", &draft, Some(base_version))?;
            submit(&draft.conn, body).await
        }
        DocumentCommand::Sign {
            conn,
            id,
            party,
            version_hash,
        } => party_act(&conn, "document.sign", "signing", &id, party, version_hash).await,
        DocumentCommand::Publish {
            conn,
            id,
            party,
            version_hash,
        } => {
            let ty = "document.publish";
            party_act(&conn, ty, "publishing", &id, party, version_hash).await
        }
        DocumentCommand::Bundle { conn, id, out } => {
            let b = read(&conn, &format!("/v1/documents/{id}/bundle")).await?;
            std::fs::write(&out, serde_json::to_string_pretty(&b)? + "\n")
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "wrote {} (check it with `corridor verify-document --genesis-fingerprint FP {}`)",
                out.display(),
                out.display()
            );
            Ok(())
        }
        DocumentCommand::Show { conn, id } => {
            print(&read(&conn, &format!("/v1/documents/{id}")).await?)
        }
    }
}

/// `corridor verify-document`: exit 0 only for a document every party signed whose entries,
/// proofs and checkpoint check against the genesis with this fingerprint; otherwise say which
/// part failed.
pub fn verify_document(fingerprint: &str, file: &std::path::Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let bundle: corridor_verify::bundle::Bundle = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a document bundle (get one with `corridor document bundle ID --out FILE`)",
            file.display()
        )
    })?;
    let p = corridor_verify::bundle::verify(&bundle, fingerprint)
        .map_err(|e| anyhow::anyhow!("the bundle does NOT verify: {e}"))?;
    println!(
        "document {} version {} (hash {}) is signed by every party of the log with genesis {}:",
        p.document,
        p.version,
        p.hash,
        fingerprint.trim()
    );
    for (party, (actor, index)) in &p.signed {
        println!("  {party}: {actor}, entry {index}, its key registered back to the genesis");
    }
    println!(
        "every entry is in the tree of size {} that the log key signed. A bundle cannot show that no key was revoked before it signed: a monitor with the whole log checks that.",
        p.size
    );
    Ok(())
}
