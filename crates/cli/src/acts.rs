//! Subcommands for the command types that had none: registering people and keys, revoking
//! keys, incidents, declarations, admin recovery and the log-key handover. Each builds the
//! command body from flags and submits it like `corridor submit`, so nobody writes command JSON
//! by hand, and a typo in a field name cannot reach a signature.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::opts::Acting;
use crate::{evidence, keys, ops};

/// The output of `corridor key prove`: a key and its proof of possession for an actor.
#[derive(Args)]
pub struct ProofArg {
    /// The file `corridor key prove` printed on the key holder's device
    /// (`{"actor", "key", "key_proof"}`).
    #[arg(long, value_name = "FILE")]
    proof: PathBuf,
}

impl ProofArg {
    fn read(&self) -> anyhow::Result<(String, String, String)> {
        let text = std::fs::read_to_string(&self.proof)
            .with_context(|| format!("cannot read {}", self.proof.display()))?;
        let v: Value = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not the JSON `corridor key prove` prints",
                self.proof.display()
            )
        })?;
        let field = |name: &str| {
            v[name].as_str().map(str::to_string).with_context(|| {
                format!(
                    "{} has no {name:?}: give the file `corridor key prove` printed",
                    self.proof.display()
                )
            })
        };
        Ok((field("actor")?, field("key")?, field("key_proof")?))
    }
}

#[derive(Subcommand)]
pub enum ActorCommand {
    /// Register a person of your side (`actor.register`) from the proof their key holder made
    /// with `corridor key prove` on their own device; you sign as your side's admin.
    Register {
        #[command(flatten)]
        acting: Acting,
        #[command(flatten)]
        proof: ProofArg,
        /// Their role: coordinator, unit, signatory, observer, organisation-member, ...
        #[arg(long)]
        role: String,
        /// Display name or function, e.g. "Humanitarian coordinator, Kyiv oblast".
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
pub enum IncidentCommand {
    /// Report an incident (`incident.report`): when, where, what, and whom you hold responsible.
    Report {
        #[command(flatten)]
        acting: Acting,
        /// New incident id, starting with your side (e.g. ua/borodianka-7).
        #[arg(long)]
        incident: String,
        #[command(flatten)]
        claim: ClaimArgs,
        /// The party you hold responsible, if any (a unit may not accuse).
        #[arg(long)]
        accused_party: Option<String>,
    },
    /// Correct your side's report (`incident.correct`): a new version; the old stays in the log.
    Correct {
        #[command(flatten)]
        acting: Acting,
        /// The incident.
        #[arg(long)]
        incident: String,
        #[command(flatten)]
        claim: ClaimArgs,
        /// Why it is corrected.
        #[arg(long)]
        reason: String,
    },
    /// Answer an incident report that accuses your party (`incident.respond`).
    #[command(alias = "respond")]
    Answer {
        #[command(flatten)]
        acting: Acting,
        /// The incident.
        #[arg(long)]
        incident: String,
        /// Your answer.
        #[arg(long)]
        text: String,
    },
    /// Set the intermediary's verification status of a report (`incident.verify`).
    Verify {
        #[command(flatten)]
        acting: Acting,
        /// The incident.
        #[arg(long)]
        incident: String,
        /// unverified, corroborated, verified, disputed or unfounded.
        #[arg(long)]
        status: String,
        /// Why: what was checked and how.
        #[arg(long)]
        reasoning: String,
    },
    /// Mark a report as repeating another (`incident.duplicate`); mark the one fewer people read.
    Duplicate {
        #[command(flatten)]
        acting: Acting,
        /// The report that repeats.
        #[arg(long)]
        incident: String,
        /// The report it repeats.
        #[arg(long)]
        of: String,
    },
    /// Show one report: every version, the answers, the intermediary's status and reasoning,
    /// and the corridors and windows it falls in as they stood at the incident's time.
    Show {
        #[command(flatten)]
        acting: Acting,
        /// The incident.
        incident: String,
        /// Print the server's JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// List the reports you may read, one line each, with counts per side of claims made and
    /// received.
    List {
        #[command(flatten)]
        acting: Acting,
        #[command(flatten)]
        filter: IncidentFilterArgs,
        /// Print the server's JSON instead.
        #[arg(long)]
        json: bool,
    },
}

/// The filters of `GET /v1/incidents`.
#[derive(clap::Args)]
pub struct IncidentFilterArgs {
    /// Reports matched to this corridor.
    #[arg(long)]
    corridor: Option<String>,
    /// Reports matched to this window.
    #[arg(long)]
    window: Option<String>,
    /// Reports made by this party's people or accusing it.
    #[arg(long)]
    party: Option<String>,
    /// shelling, gunfire, air-strike, mines, blockade, convoy-stopped, detention or other.
    #[arg(long)]
    category: Option<String>,
    /// The intermediary's status: unverified, corroborated, verified, disputed or unfounded.
    #[arg(long)]
    status: Option<String>,
    /// west,south,east,north in decimal degrees.
    #[arg(long, allow_hyphen_values = true)]
    bbox: Option<String>,
    /// Reports whose time reaches this RFC 3339 UTC instant or later.
    #[arg(long)]
    from: Option<String>,
    /// Reports whose time begins at this RFC 3339 UTC instant or earlier.
    #[arg(long)]
    to: Option<String>,
}

impl IncidentFilterArgs {
    /// The request path with the filters as its query, each value percent-encoded.
    fn path(&self) -> String {
        let mut url = reqwest::Url::parse("http://corridor.invalid/v1/incidents").expect("a URL");
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in [
                ("corridor", &self.corridor),
                ("window", &self.window),
                ("party", &self.party),
                ("category", &self.category),
                ("status", &self.status),
                ("bbox", &self.bbox),
                ("from", &self.from),
                ("to", &self.to),
            ] {
                if let Some(v) = v {
                    q.append_pair(k, v);
                }
            }
        }
        match url.query() {
            Some(q) if !q.is_empty() => format!("{}?{q}", url.path()),
            _ => url.path().to_string(),
        }
    }
}

/// What a report claims: shared by a report and its corrections.
#[derive(clap::Args)]
pub struct ClaimArgs {
    /// When it happened (or began), RFC 3339 UTC (e.g. 2022-03-03T14:20:00Z).
    #[arg(long)]
    occurred_at: String,
    /// When it ended, for a range.
    #[arg(long)]
    occurred_until: Option<String>,
    /// Latitude in decimal degrees (e.g. 50.63); signed as an integer of 1e-7 degree.
    #[arg(long, allow_hyphen_values = true)]
    lat: String,
    /// Longitude in decimal degrees (e.g. 29.9).
    #[arg(long, allow_hyphen_values = true)]
    lon: String,
    /// How precisely the place is known, in metres (0 to 50000).
    #[arg(long, allow_hyphen_values = true)]
    accuracy_m: Option<i64>,
    /// shelling, gunfire, mines, blockade, convoy-stopped, detention or other.
    #[arg(long)]
    category: String,
    /// What happened.
    #[arg(long)]
    description: String,
    /// Salted evidence commitment, 64 hex digits (repeat): SHA-256("corridor/v1 evidence\0" ‖
    /// salt ‖ SHA-256(file)), for a file you keep or upload yourself.
    #[arg(long)]
    evidence: Vec<String>,
    /// An evidence file (repeat): a fresh random salt is drawn for it, its salted commitment
    /// goes into the report, and once the report is in the log the file is uploaded to the
    /// server, where only the report's readers may fetch it. The salt is printed and kept in
    /// CORRIDOR_HOME/evidence: keep it private (with it, anyone holding a candidate photo can
    /// test whether it is the one in the report); it proves the link later and retries a
    /// failed upload (`corridor evidence upload`).
    #[arg(long, value_name = "FILE")]
    evidence_file: Vec<PathBuf>,
}

impl ClaimArgs {
    /// The claim's fields of the command body, with the commitments of the prepared files.
    fn body(
        &self,
        ty: &str,
        incident: &str,
        files: &[evidence::Prepared],
    ) -> anyhow::Result<serde_json::Value> {
        let mut body = json!({"type": ty, "incident": incident,
            "occurred_at": self.occurred_at,
            "location": {"lat_e7": degrees_e7("lat", &self.lat)?, "lon_e7": degrees_e7("lon", &self.lon)?},
            "category": self.category, "description": self.description});
        if let Some(u) = &self.occurred_until {
            body["occurred_until"] = json!(u);
        }
        if let Some(a) = self.accuracy_m {
            body["accuracy_m"] = json!(a);
        }
        let evidence: Vec<&str> = self
            .evidence
            .iter()
            .map(String::as_str)
            .chain(files.iter().map(|f| f.commitment.as_str()))
            .collect();
        if !evidence.is_empty() {
            body["evidence"] = json!(evidence);
        }
        Ok(body)
    }
}

#[derive(Subcommand)]
pub enum DeclarationCommand {
    /// Publish your party's unilateral statement (`declaration.publish`), shown as that party's
    /// statement, never as agreed.
    Publish {
        #[command(flatten)]
        acting: Acting,
        /// New declaration id.
        #[arg(long)]
        declaration: String,
        /// The corridor it concerns, if any.
        #[arg(long)]
        corridor: Option<String>,
        /// From when, RFC 3339.
        #[arg(long)]
        start: String,
        /// Until when, if stated.
        #[arg(long)]
        end: Option<String>,
        /// The statement in Ukrainian.
        #[arg(long)]
        text_uk: String,
        /// The statement in Russian.
        #[arg(long)]
        text_ru: String,
        /// The statement in English.
        #[arg(long)]
        text_en: String,
    },
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Vote, as one of your party's recovery holders, to replace its admin key
    /// (`admin.recover`); the key changes when the genesis threshold of holders voted for the
    /// same new key. The proof is `corridor key prove --actor PARTY/admin` run by the new key's
    /// holder.
    Recover {
        #[command(flatten)]
        acting: Acting,
        #[command(flatten)]
        proof: ProofArg,
        /// Why, for the record.
        #[arg(long)]
        reason: String,
        /// If the old admin key was stolen, from when (RFC 3339): what it signed since is flagged.
        #[arg(long)]
        compromised_since: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum LogCommand {
    /// Hand the log over to a new log key (`log.rotate_key`, the intermediary's admin only);
    /// the server must already hold it (`serve --other-log-key`).
    RotateKey {
        #[command(flatten)]
        acting: Acting,
        /// The new log key: base64, a `.pub` file, or the key file.
        #[arg(long)]
        new_key: String,
    },
}

/// `key register` and `key revoke`, beside `key prove` in `main.rs`.
pub fn key_register(proof: &ProofArg) -> anyhow::Result<Value> {
    let (actor, key, key_proof) = proof.read()?;
    Ok(json!({"type": "key.register", "actor": actor, "key": key, "key_proof": key_proof}))
}

/// The body of a `key.revoke` of `key` (base64, a `.pub` file or a key file).
pub fn key_revoke(
    key: &str,
    reason: &str,
    compromised_since: Option<&str>,
) -> anyhow::Result<Value> {
    let key = keys::public_key_arg(key)?;
    let mut body = json!({"type": "key.revoke", "key": key.id(), "reason": reason});
    if let Some(t) = compromised_since {
        body["compromised_since"] = json!(t);
    }
    Ok(body)
}

/// Decimal degrees as an integer of 1e-7 degree, read from the text without going through a
/// float (signed data carries no floats, and `50.6451` must become exactly 506451000).
pub fn degrees_e7(field: &str, text: &str) -> anyhow::Result<i64> {
    let bad = || {
        anyhow::anyhow!(
            "--{field} {text:?}: give decimal degrees like 50.6451 (at most 7 decimals)"
        )
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || frac.len() > 7
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 3
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<7}").parse().map_err(|_| bad())?
    };
    let v = whole * 10_000_000 + frac;
    Ok(if negative { -v } else { v })
}

pub async fn actor(cmd: ActorCommand) -> anyhow::Result<()> {
    match cmd {
        ActorCommand::Register {
            acting,
            proof,
            role,
            name,
        } => {
            let (actor, key, key_proof) = proof.read()?;
            let body = json!({"type": "actor.register", "actor": actor, "role": role, "key": key,
                "key_proof": key_proof, "name": name});
            submit(&acting, body).await
        }
    }
}

pub async fn incident(cmd: IncidentCommand) -> anyhow::Result<()> {
    match cmd {
        IncidentCommand::Report {
            acting,
            incident,
            claim,
            accused_party,
        } => {
            let files = evidence::prepare(&claim.evidence_file)?;
            let mut body = claim.body("incident.report", &incident, &files)?;
            if let Some(p) = accused_party {
                body["accused_party"] = json!(p);
            }
            submit_with_evidence(&acting, &incident, body, &files).await
        }
        IncidentCommand::Correct {
            acting,
            incident,
            claim,
            reason,
        } => {
            let files = evidence::prepare(&claim.evidence_file)?;
            let mut body = claim.body("incident.correct", &incident, &files)?;
            body["reason"] = json!(reason);
            submit_with_evidence(&acting, &incident, body, &files).await
        }
        IncidentCommand::Answer {
            acting,
            incident,
            text,
        } => {
            submit(
                &acting,
                json!({"type": "incident.respond", "incident": incident, "text": text}),
            )
            .await
        }
        IncidentCommand::Verify {
            acting,
            incident,
            status,
            reasoning,
        } => {
            submit(
                &acting,
                json!({"type": "incident.verify", "incident": incident, "status": status,
                       "reasoning": reasoning}),
            )
            .await
        }
        IncidentCommand::Duplicate {
            acting,
            incident,
            of,
        } => {
            submit(
                &acting,
                json!({"type": "incident.duplicate", "incident": incident, "duplicate_of": of}),
            )
            .await
        }
        IncidentCommand::Show {
            acting,
            incident,
            json,
        } => {
            let path = format!("/v1/incidents/{}", crate::running::path_id(&incident));
            let v = crate::agree::read_json(acting.server(), acting.key(), &path).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print!("{}", show_incident(&v));
            }
            Ok(())
        }
        IncidentCommand::List {
            acting,
            filter,
            json,
        } => {
            let v = crate::agree::read_json(acting.server(), acting.key(), &filter.path()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(());
            }
            let s = |x: &Value| x.as_str().unwrap_or("").to_string();
            for i in v["incidents"].as_array().into_iter().flatten() {
                let inside = i["matches"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|m| s(&m["corridor"]))
                    .collect::<Vec<_>>();
                println!(
                    "{}  {}  {}  by {}{}  {}{}",
                    s(&i["id"]),
                    s(&i["occurred_at"]),
                    s(&i["category"]),
                    s(&i["reporter"]),
                    i["accused_party"]
                        .as_str()
                        .map(|p| format!(", accusing {p}"))
                        .unwrap_or_default(),
                    s(&i["status"]),
                    if inside.is_empty() {
                        String::new()
                    } else {
                        format!("  in {}", inside.join(", "))
                    }
                );
            }
            for (side, c) in v["counts"].as_object().into_iter().flatten() {
                println!(
                    "{side}: {} claims made, {} claims received",
                    c["claims_made"], c["claims_received"]
                );
            }
            Ok(())
        }
    }
}

pub async fn declaration(cmd: DeclarationCommand) -> anyhow::Result<()> {
    match cmd {
        DeclarationCommand::Publish {
            acting,
            declaration,
            corridor,
            start,
            end,
            text_uk,
            text_ru,
            text_en,
        } => {
            let mut body = json!({"type": "declaration.publish", "declaration": declaration,
                "start": start, "text": {"uk": text_uk, "ru": text_ru, "en": text_en}});
            if let Some(c) = corridor {
                body["corridor"] = json!(c);
            }
            if let Some(e) = end {
                body["end"] = json!(e);
            }
            submit(&acting, body).await
        }
    }
}

pub async fn admin(cmd: AdminCommand) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::Recover {
            acting,
            proof,
            reason,
            compromised_since,
        } => {
            let (actor, key, key_proof) = proof.read()?;
            if !actor.ends_with("/admin") {
                bail!(
                    "the proof is for {actor}: a new admin key is proved as PARTY/admin (`corridor key prove --actor ua/admin`)"
                );
            }
            let mut body = json!({"type": "admin.recover", "new_key": key, "key_proof": key_proof,
                "reason": reason});
            if let Some(t) = compromised_since {
                body["compromised_since"] = json!(t);
            }
            submit(&acting, body).await
        }
    }
}

pub async fn log(cmd: LogCommand) -> anyhow::Result<()> {
    match cmd {
        LogCommand::RotateKey { acting, new_key } => {
            let key = keys::public_key_arg(&new_key)?;
            submit(
                &acting,
                json!({"type": "log.rotate_key", "new_key": key.id()}),
            )
            .await
        }
    }
}

/// A report as a person reads it: a claim by its reporter, the answers and the intermediary's
/// status beside it, and where it falls among what was agreed for that place and hour.
fn show_incident(v: &Value) -> String {
    use std::fmt::Write;
    let s = |x: &Value| x.as_str().unwrap_or("").to_string();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "incident {} (version {}): a claim by {}, not a finding",
        s(&v["id"]),
        v["version"],
        s(&v["reporter"])
    );
    let _ = writeln!(
        out,
        "  what: {}: {}",
        s(&v["category"]),
        s(&v["description"])
    );
    let until = v["occurred_until"]
        .as_str()
        .map(|u| format!(" until {u}"))
        .unwrap_or_default();
    let _ = writeln!(out, "  when: {}{until} (UTC)", s(&v["occurred_at"]));
    let e7 = |x: &Value| {
        let n = x.as_i64().unwrap_or(0);
        let sign = if n < 0 { "-" } else { "" };
        let a = n.unsigned_abs();
        format!("{sign}{}.{:07}", a / 10_000_000, a % 10_000_000)
    };
    let accuracy = v["accuracy_m"]
        .as_i64()
        .map(|a| format!(" within {a} m"))
        .unwrap_or_else(|| " (accuracy not stated)".into());
    let _ = writeln!(
        out,
        "  where: lat {}, lon {}{accuracy}",
        e7(&v["location"]["lat_e7"]),
        e7(&v["location"]["lon_e7"])
    );
    let accused = v["accused_party"].as_str().unwrap_or("nobody");
    let _ = writeln!(out, "  accused: {accused}");
    let evidence = v["evidence"].as_array().map_or(0, Vec::len);
    if evidence > 0 {
        let _ = writeln!(out, "  evidence: {evidence} file(s), committed to (salted)");
    }
    let _ = writeln!(out, "  status (the intermediary's): {}", s(&v["status"]));
    for x in v["verifications"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "    {} by {} at {}: {}",
            s(&x["status"]),
            s(&x["actor"]),
            s(&x["at_time"]),
            s(&x["reasoning"])
        );
    }
    for r in v["responses"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "  answer by {}: {}", s(&r["actor"]), s(&r["text"]));
    }
    if let Some(d) = v["duplicate_of"].as_object() {
        let _ = writeln!(
            out,
            "  marked as repeating {} by {}",
            d["of"].as_str().unwrap_or(""),
            d["actor"].as_str().unwrap_or("")
        );
    }
    let matches = v["matches"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if matches.is_empty() {
        let _ = writeln!(out, "  in no corridor as they stood at that time");
    }
    for m in matches {
        let place = if m["certainly_inside"] == json!(true) {
            "certainly inside"
        } else {
            "possibly inside"
        };
        let window = match m["window"].as_str() {
            Some(w) => format!(
                ", window {w} (version {}) {} at that time{}",
                m["window_version"],
                s(&m["window_status_at_incident"]),
                if m["agreed_and_open"] == json!(true) {
                    ": agreed and open"
                } else {
                    ""
                }
            ),
            None => ", no window then".into(),
        };
        let _ = writeln!(
            out,
            "  corridor {} (version {}){window}: {} m from the route, {place}",
            s(&m["corridor"]),
            m["corridor_version"],
            m["distance_m"]
        );
    }
    for x in v["versions"].as_array().into_iter().flatten() {
        let reason = x["reason"]
            .as_str()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  version {} by {} at {} (entry {}){reason}",
            x["version"],
            s(&x["actor"]),
            s(&x["at_time"]),
            x["at_index"]
        );
    }
    out
}

/// Keep the salts, submit the report or correction, then upload each file it commits to (the
/// server stores only files a recorded report commits to, so the order matters).
async fn submit_with_evidence(
    acting: &Acting,
    incident: &str,
    body: Value,
    files: &[evidence::Prepared],
) -> anyhow::Result<()> {
    evidence::keep_salts(acting.server(), incident, files)?;
    submit(acting, body).await?;
    for f in files {
        evidence::upload(acting.key(), acting.server(), incident, &f.salt, &f.path).await?;
    }
    Ok(())
}

async fn submit(acting: &Acting, body: Value) -> anyhow::Result<()> {
    ops::submit_body(acting.key(), acting.server(), None, None, body).await
}

#[cfg(test)]
mod tests {
    use super::degrees_e7;

    #[test]
    fn degrees_become_integers_of_1e7_without_floats() {
        assert_eq!(degrees_e7("lat", "50.6451").unwrap(), 506_451_000);
        assert_eq!(degrees_e7("lat", "-0.0000001").unwrap(), -1);
        assert_eq!(degrees_e7("lon", "29").unwrap(), 290_000_000);
        assert_eq!(degrees_e7("lon", "179.9999999").unwrap(), 1_799_999_999);
        for bad in ["", ".5", "1.23456789", "1e5", "50,6", "+1", "1234", "nan"] {
            assert!(degrees_e7("lat", bad).is_err(), "{bad:?}");
        }
    }
}
