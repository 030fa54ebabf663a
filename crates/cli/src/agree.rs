//! Subcommands a coordinator uses for agreements: import settlements, resolve local times,
//! propose a window in local time, consent to the exact version shown.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use corridor_core::localtime;
use serde_json::{Value, json};

use crate::opts::Acting;
use crate::{client, ops};

#[derive(Subcommand)]
pub enum SettlementsCommand {
    /// Import settlements from an HXL-tagged or plain CSV (intermediary only).
    Import {
        #[command(flatten)]
        acting: Acting,
        /// Zone for rows without one (places under occupation may keep Europe/Moscow: give a
        /// `zone` column or `#loc+tz` tag).
        #[arg(long, default_value = "Europe/Kyiv")]
        zone: String,
        /// The CSV file.
        csv: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum CorridorCommand {
    /// Propose a corridor: the route from a GeoJSON LineString (a Feature, or a collection with
    /// one line), the other terms (names, buffer_m, origin, destination, purpose,
    /// instructions...) from a JSON file.
    Propose(CorridorArgs),
    /// Amend a corridor: a new version of its terms; old versions stay readable.
    Amend {
        #[command(flatten)]
        args: CorridorArgs,
        /// The version this amends (the latest).
        #[arg(long)]
        base_version: u32,
    },
}

#[derive(Args)]
pub struct CorridorArgs {
    #[command(flatten)]
    acting: Acting,
    /// Corridor id.
    #[arg(long)]
    id: String,
    /// GeoJSON file with the route (WGS 84, longitude-latitude).
    #[arg(long)]
    route: PathBuf,
    /// JSON file with the rest of the terms.
    #[arg(long)]
    terms: PathBuf,
}

#[derive(Subcommand)]
pub enum TimeCommand {
    /// Convert a local date-time in a zone to UTC (refuses DST gaps; needs --offset in a fold).
    Resolve {
        /// Local date-time, e.g. 2022-03-05T10:00.
        local: String,
        /// IANA zone, e.g. Europe/Moscow.
        #[arg(long)]
        zone: String,
        /// Offset such as +03:00, to choose inside a DST fold.
        #[arg(long)]
        offset: Option<String>,
        /// Also show the time in these zones.
        #[arg(long = "show", default_values_t = ["Europe/Kyiv".to_string(), "Europe/Moscow".to_string()])]
        show: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum WindowCommand {
    /// Propose a ceasefire window, stating times in local time and zone (signed as UTC).
    Propose(ProposeArgs),
    /// Amend a window: a new version built from the latest one with your changes (your party's
    /// guarantee, the times), shown before signing. Every consent to the old version is void,
    /// so each party consents again; the second party gives its guarantee this way.
    Amend(AmendArgs),
    /// Consent for your party to the exact current version of a window (shown before signing).
    Consent {
        #[command(flatten)]
        acting: Acting,
        /// The window.
        window: String,
        /// The version hash you agree to (default: the current one, printed first).
        #[arg(long)]
        hash: Option<String>,
    },
    /// Take back your party's consent before the start (final: propose a new window after).
    Withdraw(PartyActArgs),
    /// Declare the window broken during it, with a reason; it stays suspended until every party
    /// resumes.
    Suspend(PartyActArgs),
    /// Consent for your party to resume a suspended window.
    Resume {
        #[command(flatten)]
        acting: Acting,
        /// The window.
        window: String,
    },
    /// Cancel a window you proposed, before anyone consented.
    Cancel {
        #[command(flatten)]
        acting: Acting,
        /// The window.
        window: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Show a window: status, times in UTC and local zones, consents.
    Show {
        #[command(flatten)]
        acting: Acting,
        /// The window.
        window: String,
    },
}

#[derive(Args)]
pub struct PartyActArgs {
    #[command(flatten)]
    acting: Acting,
    /// The window.
    window: String,
    /// Why, in your words: for the log's members only, never published.
    #[arg(long)]
    reason: String,
    /// Why, for the public, from a fixed list shown in the reader's language (so no party's own
    /// words reach the public page).
    #[arg(long, value_parser = ["shelling", "mines", "road-damage", "other"])]
    public_reason: String,
}

pub(crate) fn party_of(key: &std::path::Path) -> anyhow::Result<String> {
    let k = crate::keys::load(key)?;
    k.actor
        .as_deref()
        .and_then(|x| x.split_once('/'))
        .map(|(p, _)| p.to_string())
        .context("the key file does not name your actor (party/name); make keys with `corridor keygen --actor`")
}

pub async fn corridor(cmd: CorridorCommand) -> anyhow::Result<()> {
    let (a, base) = match cmd {
        CorridorCommand::Propose(a) => (a, None),
        CorridorCommand::Amend { args, base_version } => (args, Some(base_version)),
    };
    let read = |p: &PathBuf| -> anyhow::Result<Value> {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", p.display()))
    };
    let route = corridor_core::agreement::route_from_geojson(&read(&a.route)?)
        .map_err(|e| anyhow::anyhow!("{}: {e} ({})", a.route.display(), e.code()))?;
    let mut terms = read(&a.terms)?;
    terms["route"] = json!(route);
    let body = match base {
        None => json!({"type": "corridor.propose", "corridor": a.id, "terms": terms}),
        Some(v) => {
            json!({"type": "corridor.amend", "corridor": a.id, "base_version": v, "terms": terms})
        }
    };
    ops::submit_body(a.acting.key(), a.acting.server(), None, None, body).await
}

#[derive(Args)]
pub struct ProposeArgs {
    #[command(flatten)]
    acting: Acting,
    /// New window id.
    #[arg(long)]
    window: String,
    /// The corridor.
    #[arg(long)]
    corridor: String,
    /// Start: local date-time with --zone (2022-03-05T10:00), or RFC 3339 with offset.
    #[arg(long)]
    start: String,
    /// End, same forms.
    #[arg(long)]
    end: String,
    /// Zone of local start/end times.
    #[arg(long)]
    zone: Option<String>,
    /// A party whose consent is required (repeat).
    #[arg(long = "party", required = true)]
    parties: Vec<String>,
    /// Your own party's security guarantee.
    #[arg(long)]
    guarantee: Option<String>,
}

#[derive(Args)]
pub struct AmendArgs {
    #[command(flatten)]
    acting: Acting,
    /// The window.
    window: String,
    /// Your own party's security guarantee (replaces the one it stated before; only a party may
    /// state its own, so the party is the one your key file names).
    #[arg(long)]
    guarantee: Option<String>,
    /// New start: local date-time with --zone (default: the zone the start was stated in), or
    /// RFC 3339 with offset.
    #[arg(long)]
    start: Option<String>,
    /// New end, same forms.
    #[arg(long)]
    end: Option<String>,
    /// Zone of local start/end times.
    #[arg(long)]
    zone: Option<String>,
}

/// The `window.amend` body that turns the window's latest version `w` (as `/v1/windows`
/// shows it) into one with the changes asked for, against corridor version
/// `corridor_version`. Every term not changed is copied as signed, local statements of the
/// times included, so an amendment changes only what its signer meant to change.
fn amend_body(
    w: &Value,
    corridor_version: u64,
    party: Option<&str>,
    a: &AmendArgs,
) -> anyhow::Result<Value> {
    if a.guarantee.is_none() && a.start.is_none() && a.end.is_none() {
        bail!("nothing to amend: give --guarantee, --start or --end");
    }
    let field = |name: &str| {
        w.get(name)
            .cloned()
            .with_context(|| format!("the server's window has no {name:?}"))
    };
    let mut terms = json!({
        "start": field("start")?,
        "end": field("end")?,
        "required_parties": field("required_parties")?,
        "guarantees": field("guarantees")?,
    });
    for (stated, key) in [("stated_start", "start_local"), ("stated_end", "end_local")] {
        if let Some(l) = w.get(stated).filter(|l| !l.is_null()) {
            terms[key] = l.clone();
        }
    }
    for (given, at, local) in [
        (&a.start, "start", "start_local"),
        (&a.end, "end", "end_local"),
    ] {
        let Some(text) = given else { continue };
        let stated_zone = terms[local]["zone"].as_str().map(str::to_string);
        let zone = a.zone.clone().or(stated_zone);
        let (utc, stated) = instant(text, zone.as_deref())?;
        terms[at] = json!(utc);
        match stated {
            Some(l) => terms[local] = l,
            None => {
                terms.as_object_mut().expect("an object").remove(local);
            }
        }
    }
    if let Some(g) = &a.guarantee {
        let p = party.context(
            "--guarantee needs a key file that names your actor (party/name): only a party may state its own guarantee",
        )?;
        terms["guarantees"][p] = json!(g);
    }
    Ok(json!({
        "type": "window.amend",
        "window": a.window,
        "base_version": field("version")?,
        "corridor_version": corridor_version,
        "terms": terms,
    }))
}

fn instant(text: &str, zone: Option<&str>) -> anyhow::Result<(String, Option<Value>)> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok((t.to_string(), None));
    }
    let zone = zone.with_context(|| {
        format!("{text:?} has no offset: add --zone (e.g. --zone Europe/Moscow) or give an RFC 3339 instant")
    })?;
    let t =
        localtime::resolve(text, zone, None).map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))?;
    Ok((t.to_string(), Some(json!({"local": text, "zone": zone}))))
}

pub async fn settlements(cmd: SettlementsCommand) -> anyhow::Result<()> {
    match cmd {
        SettlementsCommand::Import { acting, zone, csv } => {
            let text = std::fs::read_to_string(&csv)
                .with_context(|| format!("cannot read {}", csv.display()))?;
            let list = corridor_core::hxl::parse_settlements(&text, &zone)
                .map_err(|e| anyhow::anyhow!("{}: {e}", csv.display()))?;
            println!("{} settlements read from {}", list.len(), csv.display());
            let body = json!({"type": "settlement.import", "settlements": list});
            ops::submit_body(acting.key(), acting.server(), None, None, body).await
        }
    }
}

pub fn time(cmd: TimeCommand) -> anyhow::Result<()> {
    match cmd {
        TimeCommand::Resolve {
            local,
            zone,
            offset,
            show,
        } => {
            let t = localtime::resolve(&local, &zone, offset.as_deref())
                .map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))?;
            println!("UTC            {t}");
            let mut zones: Vec<&String> = show.iter().chain(std::iter::once(&zone)).collect();
            zones.sort();
            zones.dedup();
            for z in zones {
                if let Ok(s) = localtime::show(t, z) {
                    println!("{z:<14} {s}");
                }
            }
            Ok(())
        }
    }
}

/// A signed read of `path` as the holder of `key`, after checking the log is consistent.
pub(crate) async fn read_json(server: &str, key: &Path, path: &str) -> anyhow::Result<Value> {
    let c = client::Client::new(server);
    let head = c.check_log().await?;
    let key = crate::keys::load(key)?;
    let body = c.get_signed(&head, &key.keypair, path).await?;
    serde_json::from_str(&body).with_context(|| format!("{path} did not answer JSON"))
}

async fn fetch_window(server: &str, key: &Path, window: &str) -> anyhow::Result<Value> {
    let list = read_json(server, key, "/v1/windows").await?;
    list["windows"]
        .as_array()
        .and_then(|ws| ws.iter().find(|w| w["id"] == window).cloned())
        .with_context(|| format!("no window {window:?} on {server}"))
}

fn print_window(w: &Value) {
    println!(
        "window {} on corridor {} — {}",
        w["id"].as_str().unwrap_or("?"),
        w["corridor"].as_str().unwrap_or("?"),
        w["status"].as_str().unwrap_or("?")
    );
    println!(
        "  UTC            {} → {}",
        w["start"].as_str().unwrap_or("?"),
        w["end"].as_str().unwrap_or("?")
    );
    if let Some(local) = w["local"].as_object() {
        for (zone, t) in local {
            println!(
                "  {zone:<14} {} → {}",
                t["start"].as_str().unwrap_or("?"),
                t["end"].as_str().unwrap_or("?")
            );
        }
    }
    if let Some(g) = w["guarantees"].as_object() {
        for (p, text) in g {
            println!("  guarantee of {p}: {}", text.as_str().unwrap_or("?"));
        }
    }
    if let Some(c) = w["consents"].as_object() {
        for (p, s) in c {
            println!(
                "  consent of {p}: {}",
                if s["consented"] == true {
                    "given"
                } else {
                    "not given"
                }
            );
        }
    }
    println!(
        "  version {} hash {}",
        w["version"],
        w["version_hash"].as_str().unwrap_or("?")
    );
}

pub async fn window(cmd: WindowCommand) -> anyhow::Result<()> {
    match cmd {
        WindowCommand::Propose(a) => {
            let (start, start_local) = instant(&a.start, a.zone.as_deref())?;
            let (end, end_local) = instant(&a.end, a.zone.as_deref())?;
            let corridor = read_json(
                a.acting.server(),
                a.acting.key(),
                &format!("/v1/corridors/{}", a.corridor),
            )
            .await?;
            let version = corridor["version"].as_u64().with_context(|| {
                format!("no corridor {:?} on {}", a.corridor, a.acting.server())
            })?;
            let key = crate::keys::load(a.acting.key())?;
            let party = key
                .actor
                .as_deref()
                .and_then(|x| x.split_once('/'))
                .map(|(p, _)| p.to_string());
            let mut guarantees = serde_json::Map::new();
            if let Some(g) = a.guarantee {
                let p = party
                    .context("--guarantee needs a key file that names your actor (party/name)")?;
                guarantees.insert(p, json!(g));
            }
            let mut terms = json!({"start": start, "end": end, "required_parties": a.parties, "guarantees": guarantees});
            if let Some(l) = start_local {
                terms["start_local"] = l;
            }
            if let Some(l) = end_local {
                terms["end_local"] = l;
            }
            let body = json!({"type": "window.propose", "window": a.window, "corridor": a.corridor, "corridor_version": version, "terms": terms});
            ops::submit_body(a.acting.key(), a.acting.server(), None, None, body).await
        }
        WindowCommand::Amend(a) => {
            let w = fetch_window(a.acting.server(), a.acting.key(), &a.window).await?;
            print_window(&w);
            let corridor = w["corridor"].as_str().unwrap_or_default();
            let c = read_json(
                a.acting.server(),
                a.acting.key(),
                &format!("/v1/corridors/{corridor}"),
            )
            .await?;
            let corridor_version = c["version"]
                .as_u64()
                .with_context(|| format!("no corridor {corridor:?} on {}", a.acting.server()))?;
            let party = crate::keys::load(a.acting.key())?
                .actor
                .and_then(|x| x.split_once('/').map(|(p, _)| p.to_string()));
            let body = amend_body(&w, corridor_version, party.as_deref(), &a)?;
            println!(
                "amending to version {}: {}",
                w["version"].as_u64().unwrap_or(0) + 1,
                body["terms"]
            );
            ops::submit_body(a.acting.key(), a.acting.server(), None, None, body).await
        }
        WindowCommand::Consent {
            acting,
            window,
            hash,
        } => {
            let w = fetch_window(acting.server(), acting.key(), &window).await?;
            print_window(&w);
            let current = w["version_hash"].as_str().unwrap_or_default().to_string();
            let hash = hash.unwrap_or_else(|| current.clone());
            if hash != current {
                bail!(
                    "you named version {hash}, but the window is now at {current}: read the new version before consenting"
                );
            }
            let body = json!({"type": "window.consent", "window": window, "party": party_of(acting.key())?, "version_hash": hash});
            ops::submit_body(acting.key(), acting.server(), None, None, body).await
        }
        WindowCommand::Withdraw(a) => {
            let body = json!({"type": "window.withdraw", "window": a.window, "party": party_of(a.acting.key())?, "reason": a.reason, "public_reason": a.public_reason});
            ops::submit_body(a.acting.key(), a.acting.server(), None, None, body).await
        }
        WindowCommand::Suspend(a) => {
            let body = json!({"type": "window.suspend", "window": a.window, "party": party_of(a.acting.key())?, "reason": a.reason, "public_reason": a.public_reason});
            ops::submit_body(a.acting.key(), a.acting.server(), None, None, body).await
        }
        WindowCommand::Resume { acting, window } => {
            let w = fetch_window(acting.server(), acting.key(), &window).await?;
            print_window(&w);
            let hash = w["version_hash"].as_str().unwrap_or_default().to_string();
            let body = json!({"type": "window.resume", "window": window, "party": party_of(acting.key())?, "version_hash": hash});
            ops::submit_body(acting.key(), acting.server(), None, None, body).await
        }
        WindowCommand::Cancel {
            acting,
            window,
            reason,
        } => {
            let body = json!({"type": "window.cancel", "window": window, "reason": reason});
            ops::submit_body(acting.key(), acting.server(), None, None, body).await
        }
        WindowCommand::Show { acting, window } => {
            print_window(&fetch_window(acting.server(), acting.key(), &window).await?);
            Ok(())
        }
    }
}
