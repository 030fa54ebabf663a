//! Subcommands for running a window: operations (notify, acknowledge, move, receive, outcome,
//! show), unit confirmations, threads and messages. Each builds the command body from flags, so
//! nobody writes JSON in the field; the rules are the core's, and a refusal comes back as the
//! server's problem document with its code.

use std::path::Path;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::ops;

/// Where to send and whose key signs: the one shared option set ([`crate::opts::Acting`]).
pub type Conn = crate::opts::Acting;

trait Acts {
    async fn submit(&self, body: Value) -> anyhow::Result<()>;
    async fn read(&self, path: &str) -> anyhow::Result<Value>;
    fn key_file(&self) -> &Path;
    fn url(&self) -> &str;
}

impl Acts for Conn {
    async fn submit(&self, body: Value) -> anyhow::Result<()> {
        ops::submit_body(self.key(), self.server(), None, None, body).await
    }

    async fn read(&self, path: &str) -> anyhow::Result<Value> {
        crate::agree::read_json(self.server(), self.key(), path).await
    }

    fn key_file(&self) -> &Path {
        self.key()
    }

    fn url(&self) -> &str {
        self.server()
    }
}

#[derive(Subcommand)]
pub enum OperationCommand {
    /// Notify the parties of an evacuation or aid convoy through an agreed window (HNS):
    /// vehicles, manifest, seats, planned departure and arrival inside the window.
    Notify(NotifyArgs),
    /// Acknowledge an operation for your party (coordinators, admins, signatories).
    Ack {
        #[command(flatten)]
        conn: Conn,
        /// The operation, e.g. urcs/op-1.
        operation: String,
    },
    /// Record a movement event at a point: departed, checkpoint, stopped, resumed, arrived.
    Move(MoveArgs),
    /// Record receipts after arrival, one per consignment: TRACKING:DELIVERED:DAMAGED:LOST
    /// (add :REASON when they do not add up to what was sent).
    Receive {
        #[command(flatten)]
        conn: Conn,
        /// The operation.
        operation: String,
        /// A receipt, repeatable.
        #[arg(long = "receipt", required = true)]
        receipts: Vec<String>,
    },
    /// Record how the operation ended (HNS): facilitated, impeded, denied, postponed.
    Outcome {
        #[command(flatten)]
        conn: Conn,
        /// The operation.
        operation: String,
        /// The outcome.
        #[arg(long, value_parser = ["facilitated", "impeded", "denied", "postponed"])]
        outcome: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Show an operation: manifest, acknowledgements (overdue ones marked), timeline, evacuees.
    Show {
        #[command(flatten)]
        conn: Conn,
        /// The operation.
        operation: String,
        /// Print the JSON as the server sent it.
        #[arg(long)]
        json: bool,
    },
    /// List the operations you may read, optionally of one window.
    List {
        #[command(flatten)]
        conn: Conn,
        /// Only this window's.
        #[arg(long)]
        window: Option<String>,
    },
}

#[derive(Args)]
pub struct NotifyArgs {
    #[command(flatten)]
    conn: Conn,
    /// New operation id, `<your side>/<name>`, e.g. urcs/op-1.
    #[arg(long)]
    id: String,
    /// The agreed window.
    #[arg(long)]
    window: String,
    /// What it does.
    #[arg(long, value_parser = ["evacuation", "aid-delivery", "both"])]
    kind: String,
    /// A vehicle, repeatable: TYPE:PLATE:MARKINGS (type: bus, truck, van, car, ambulance, other).
    #[arg(long = "vehicle", required = true)]
    vehicles: Vec<String>,
    /// A consignment, repeatable: TRACKING:CATEGORY:ITEM:QUANTITY:UNIT (category: medicine,
    /// food, water, fuel, shelter, other; unit: kg, t, l, m3, piece, box, pallet, kit, dose,
    /// ration, carton, bag).
    #[arg(long = "consignment")]
    consignments: Vec<String>,
    /// Seats for evacuees.
    #[arg(long, default_value_t = 0)]
    capacity: i64,
    /// Planned departure: UTC (2022-03-05T08:00:00Z) or local time with --zone.
    #[arg(long)]
    departure: String,
    /// Planned arrival, as --departure.
    #[arg(long)]
    arrival: String,
    /// The zone of local --departure/--arrival times.
    #[arg(long)]
    zone: Option<String>,
}

#[derive(Args)]
pub struct MoveArgs {
    #[command(flatten)]
    conn: Conn,
    /// The operation.
    operation: String,
    /// What happened.
    #[arg(long, value_parser = ["departed", "checkpoint", "stopped", "resumed", "arrived"])]
    event: String,
    /// When: UTC, or local with --zone (default: now by the log's clock).
    #[arg(long)]
    at: Option<String>,
    /// The zone of a local --at.
    #[arg(long)]
    zone: Option<String>,
    /// Latitude in decimal degrees, e.g. 50.6300.
    #[arg(long)]
    lat: String,
    /// Longitude in decimal degrees, e.g. 29.9000.
    #[arg(long)]
    lon: String,
    /// Why it stopped, or why the counts differ from the departure's.
    #[arg(long)]
    reason: Option<String>,
    /// Evacuees on board by category (give all that apply; the others count 0).
    #[arg(long)]
    adults: Option<i64>,
    /// Children.
    #[arg(long)]
    children: Option<i64>,
    /// Elderly people.
    #[arg(long)]
    elderly: Option<i64>,
    /// People with disabilities.
    #[arg(long)]
    disabled: Option<i64>,
    /// Wounded or sick people.
    #[arg(long)]
    wounded: Option<i64>,
    /// At departure: the settlement the evacuees chose.
    #[arg(long)]
    destination: Option<String>,
    /// At departure: every evacuee leaves of their own free will.
    #[arg(long)]
    voluntary: bool,
}

#[derive(Subcommand)]
pub enum UnitCommand {
    /// Confirm, as a unit, that you received a window's terms in force (default) or one act on
    /// it (--act: the entry index of a suspension, resumption, withdrawal or cancellation).
    Confirm {
        #[command(flatten)]
        conn: Conn,
        /// The window.
        window: String,
        /// The act's entry index.
        #[arg(long)]
        act: Option<u64>,
    },
    /// Show a window's unit confirmations: your party's by name, other parties' as counts.
    Receipts {
        #[command(flatten)]
        conn: Conn,
        /// The window.
        window: String,
    },
}

#[derive(Subcommand)]
pub enum ThreadCommand {
    /// Open a thread about a corridor or an operation; your side and the intermediary always
    /// take part.
    Open {
        #[command(flatten)]
        conn: Conn,
        /// New thread id, `<your side>/<name>`.
        #[arg(long)]
        id: String,
        /// The corridor it is about.
        #[arg(
            long,
            conflicts_with = "operation",
            required_unless_present = "operation"
        )]
        corridor: Option<String>,
        /// The operation it is about.
        #[arg(long)]
        operation: Option<String>,
        /// Another side taking part, repeatable (e.g. --participant ru --participant urcs).
        #[arg(long = "participant")]
        participants: Vec<String>,
        /// What it is about.
        #[arg(long)]
        subject: String,
    },
    /// Show a thread with its messages and who has acknowledged them.
    Show {
        #[command(flatten)]
        conn: Conn,
        /// The thread.
        thread: String,
    },
}

#[derive(Subcommand)]
pub enum MessageCommand {
    /// Send a message to a thread you take part in.
    Send {
        #[command(flatten)]
        conn: Conn,
        /// The thread.
        #[arg(long)]
        thread: String,
        /// Message id, unique in the thread.
        #[arg(long)]
        id: String,
        /// The text.
        #[arg(long)]
        text: String,
        /// A side that must acknowledge it, repeatable.
        #[arg(long = "ack")]
        ack_required: Vec<String>,
    },
    /// Acknowledge a message for your side.
    Ack {
        #[command(flatten)]
        conn: Conn,
        /// The thread.
        #[arg(long)]
        thread: String,
        /// The message id.
        message: String,
    },
}

fn fields<'a>(text: &'a str, n: usize, what: &str, form: &str) -> anyhow::Result<Vec<&'a str>> {
    let parts: Vec<&str> = text.splitn(n, ':').collect();
    if parts.len() < n {
        bail!("{what} {text:?}: write it as {form}");
    }
    Ok(parts)
}

fn number(text: &str, what: &str) -> anyhow::Result<i64> {
    text.trim()
        .parse()
        .with_context(|| format!("{what} {text:?} is not a whole number"))
}

fn time(text: &str, zone: Option<&str>) -> anyhow::Result<String> {
    match zone {
        None => {
            let t: jiff::Timestamp = text.parse().with_context(|| {
                format!("{text:?}: give a UTC instant (2022-03-05T08:00:00Z) or a local time with --zone")
            })?;
            Ok(corridor_core::time::format_log_time(t)[..19].to_string() + "Z")
        }
        Some(z) => {
            let t = corridor_core::localtime::resolve(text, z, None)
                .map_err(|e| anyhow::anyhow!("{text} in {z}: {e} ({})", e.code()))?;
            Ok(corridor_core::time::format_log_time(t)[..19].to_string() + "Z")
        }
    }
}

fn degrees(text: &str, what: &str) -> anyhow::Result<i64> {
    corridor_core::hxl::degrees_e7(text)
        .with_context(|| format!("--{what} {text:?}: give decimal degrees, e.g. 50.6300"))
}

/// The body of `operation.notify` from the flags.
fn notify_body(a: &NotifyArgs) -> anyhow::Result<Value> {
    let vehicles = a
        .vehicles
        .iter()
        .map(|v| {
            let f = fields(v, 3, "--vehicle", "TYPE:PLATE:MARKINGS")?;
            Ok(json!({"type": f[0], "plate": f[1], "markings": f[2]}))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let consignments = a
        .consignments
        .iter()
        .map(|c| {
            let f = fields(
                c,
                5,
                "--consignment",
                "TRACKING:CATEGORY:ITEM:QUANTITY:UNIT",
            )?;
            Ok(json!({"tracking": f[0], "category": f[1], "item": f[2],
                      "quantity": number(f[3], "quantity")?, "unit": f[4]}))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let zone = a.zone.as_deref();
    Ok(json!({
        "type": "operation.notify", "operation": a.id, "window": a.window, "kind": a.kind,
        "vehicles": vehicles, "consignments": consignments, "evacuee_capacity": a.capacity,
        "departure": time(&a.departure, zone)?, "arrival": time(&a.arrival, zone)?,
    }))
}

/// The body of `operation.move` from the flags; `now` is the log's time for a missing --at.
fn move_body(a: &MoveArgs, now: &str) -> anyhow::Result<Value> {
    let at = match &a.at {
        Some(t) => time(t, a.zone.as_deref())?,
        None => now.to_string(),
    };
    let mut body = json!({
        "type": "operation.move", "operation": a.operation, "event": a.event,
        "occurred_at": at,
        "location": {"lat_e7": degrees(&a.lat, "lat")?, "lon_e7": degrees(&a.lon, "lon")?},
    });
    let counts = [a.adults, a.children, a.elderly, a.disabled, a.wounded];
    if counts.iter().any(Option::is_some) {
        let n = |x: Option<i64>| x.unwrap_or(0);
        body["evacuees"] = json!({"adults": n(a.adults), "children": n(a.children),
            "elderly": n(a.elderly), "disabled": n(a.disabled), "wounded": n(a.wounded)});
    }
    if let Some(r) = &a.reason {
        body["reason"] = json!(r);
    }
    if let Some(d) = &a.destination {
        body["destination"] = json!(d);
    }
    if a.voluntary {
        body["voluntary"] = json!(true);
    }
    Ok(body)
}

fn receipt(text: &str) -> anyhow::Result<Value> {
    let f = fields(
        text,
        4,
        "--receipt",
        "TRACKING:DELIVERED:DAMAGED:LOST[:REASON]",
    )?;
    let (lost, reason) = match f[3].split_once(':') {
        Some((l, r)) => (l, Some(r)),
        None => (f[3], None),
    };
    let mut v = json!({"tracking": f[0], "delivered": number(f[1], "delivered")?,
        "damaged": number(f[2], "damaged")?, "lost": number(lost, "lost")?});
    if let Some(r) = reason {
        v["reason"] = json!(r);
    }
    Ok(v)
}

/// A path segment for an id that may hold `/` (operations, threads): sent as it is, which the
/// server's routes accept.
pub(crate) fn path_id(id: &str) -> String {
    id.chars()
        .map(|c| match c {
            '#' | '?' | '%' | ' ' => format!("%{:02X}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

pub async fn operation(cmd: OperationCommand) -> anyhow::Result<()> {
    match cmd {
        OperationCommand::Notify(a) => a.conn.submit(notify_body(&a)?).await,
        OperationCommand::Ack { conn, operation } => {
            let party = crate::agree::party_of(conn.key_file())?;
            conn.submit(json!({"type": "operation.ack", "operation": operation, "party": party}))
                .await
        }
        OperationCommand::Move(a) => {
            let now = match &a.at {
                Some(_) => String::new(),
                None => {
                    let head = crate::client::Client::new(a.conn.url()).head().await?;
                    format!("{}Z", &head.clock.now[..19])
                }
            };
            a.conn.submit(move_body(&a, &now)?).await
        }
        OperationCommand::Receive {
            conn,
            operation,
            receipts,
        } => {
            let list = receipts
                .iter()
                .map(|r| receipt(r))
                .collect::<anyhow::Result<Vec<_>>>()?;
            conn.submit(
                json!({"type": "operation.receive", "operation": operation, "receipts": list}),
            )
            .await
        }
        OperationCommand::Outcome {
            conn,
            operation,
            outcome,
            reason,
        } => {
            conn.submit(json!({"type": "operation.outcome", "operation": operation,
                "outcome": outcome, "reason": reason}))
                .await
        }
        OperationCommand::Show {
            conn,
            operation,
            json,
        } => {
            let v = conn
                .read(&format!("/v1/operations/{}", path_id(&operation)))
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print_operation(&v);
            }
            Ok(())
        }
        OperationCommand::List { conn, window } => {
            let path = match window {
                Some(w) => format!("/v1/operations?window={}", path_id(&w)),
                None => "/v1/operations".to_string(),
            };
            let v = conn.read(&path).await?;
            for op in v["operations"].as_array().into_iter().flatten() {
                let overdue = if op["overdue"] == json!(true) {
                    "  ACKNOWLEDGEMENT OVERDUE"
                } else {
                    ""
                };
                println!(
                    "{}  {}  window {}  {}  departs {}{overdue}",
                    op["id"].as_str().unwrap_or(""),
                    op["kind"].as_str().unwrap_or(""),
                    op["window"].as_str().unwrap_or(""),
                    op["progress"].as_str().unwrap_or(""),
                    op["departure"]["utc"].as_str().unwrap_or(""),
                );
            }
            Ok(())
        }
    }
}

fn print_operation(v: &Value) {
    let s = |x: &Value| x.as_str().unwrap_or("").to_string();
    println!(
        "operation {} ({}), by {}, window {} on corridor {}",
        s(&v["id"]),
        s(&v["kind"]),
        s(&v["notifier"]),
        s(&v["window"]),
        s(&v["corridor"])
    );
    println!(
        "  planned: departs {}, arrives {} (UTC)",
        s(&v["departure"]["utc"]),
        s(&v["arrival"]["utc"])
    );
    println!("  vehicles: {}", v["vehicle_count"]);
    for (p, a) in v["acknowledgements"].as_object().into_iter().flatten() {
        let when = match (
            a["at"]["utc"].as_str(),
            v["acknowledgement_due"]["utc"].as_str(),
        ) {
            (Some(t), _) => format!(" at {t}"),
            (None, Some(due)) => format!(" (due {due})"),
            (None, None) => String::new(),
        };
        println!("  acknowledgement of {p}: {}{when}", s(&a["status"]));
    }
    println!("  progress: {}", s(&v["progress"]));
    for m in v["timeline"].as_array().into_iter().flatten() {
        let mut extra = String::new();
        if let Some(e) = m["evacuees"].as_object() {
            extra += &format!(
                "; {} evacuees (adults {}, children {}, elderly {}, disabled {}, wounded {})",
                e["total"], e["adults"], e["children"], e["elderly"], e["disabled"], e["wounded"]
            );
        }
        if let Some(d) = m["destination"].as_str() {
            extra += &format!(", to {d}");
        }
        if m["voluntary"] == json!(true) {
            extra += ", leaving of their own free will";
        }
        println!(
            "    {} {} ({} m off route){}{extra}",
            s(&m["occurred_at"]["utc"]),
            s(&m["event"]),
            m["off_route_m"],
            m["reason"]
                .as_str()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
    }
    for c in v["manifest"].as_array().into_iter().flatten() {
        let received = if c["delivered"].is_null() {
            "not received yet".to_string()
        } else {
            format!(
                "delivered {}, damaged {}, lost {}",
                c["delivered"], c["damaged"], c["lost"]
            )
        };
        println!(
            "  {} {} {} {}: sent {}, {received}",
            s(&c["tracking"]),
            s(&c["category"]),
            s(&c["item"]),
            s(&c["unit"]),
            c["sent"],
        );
    }
    if let Some(o) = v["outcome"].as_object() {
        println!(
            "  outcome: {} ({})",
            o["outcome"].as_str().unwrap_or(""),
            o["reason"].as_str().unwrap_or("")
        );
    }
}

pub async fn unit(cmd: UnitCommand) -> anyhow::Result<()> {
    match cmd {
        UnitCommand::Confirm { conn, window, act } => {
            let body = match act {
                Some(i) => json!({"type": "unit.confirm", "window": window, "act_index": i}),
                None => {
                    // The terms in force, as the log has them; shown before signing.
                    let list = conn.read("/v1/windows").await?;
                    let w = list["windows"]
                        .as_array()
                        .and_then(|ws| ws.iter().find(|w| w["id"] == window.as_str()))
                        .with_context(|| format!("no window {window:?}"))?;
                    println!(
                        "confirming window {window} version {} ({} to {}), hash {}",
                        w["version"],
                        w["start"].as_str().unwrap_or(""),
                        w["end"].as_str().unwrap_or(""),
                        w["version_hash"].as_str().unwrap_or("")
                    );
                    json!({"type": "unit.confirm", "window": window, "version_hash": w["version_hash"]})
                }
            };
            conn.submit(body).await
        }
        UnitCommand::Receipts { conn, window } => {
            let v = conn
                .read(&format!("/v1/windows/{}/receipts", path_id(&window)))
                .await?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(())
        }
    }
}

pub async fn thread(cmd: ThreadCommand) -> anyhow::Result<()> {
    match cmd {
        ThreadCommand::Open {
            conn,
            id,
            corridor,
            operation,
            participants,
            subject,
        } => {
            let mut body = json!({"type": "thread.open", "thread": id,
                "participants": participants, "subject": subject});
            if let Some(c) = corridor {
                body["corridor"] = json!(c);
            }
            if let Some(o) = operation {
                body["operation"] = json!(o);
            }
            conn.submit(body).await
        }
        ThreadCommand::Show { conn, thread } => {
            let v = conn
                .read(&format!("/v1/threads/{}", path_id(&thread)))
                .await?;
            println!(
                "thread {}: {} (participants: {})",
                v["id"].as_str().unwrap_or(""),
                v["subject"].as_str().unwrap_or(""),
                v["participants"]
            );
            for m in v["messages"].as_array().into_iter().flatten() {
                println!(
                    "  [{}] {} {}: {}",
                    m["id"].as_str().unwrap_or(""),
                    m["at"]["utc"].as_str().unwrap_or(""),
                    m["actor"].as_str().unwrap_or(""),
                    m["text"].as_str().unwrap_or("")
                );
                for (side, a) in m["acknowledgements"].as_object().into_iter().flatten() {
                    if a["acknowledged"] == json!(true) {
                        println!(
                            "      acknowledged by {side} ({}) at {}",
                            a["actor"].as_str().unwrap_or(""),
                            a["at"]["utc"].as_str().unwrap_or("")
                        );
                    }
                }
                let awaiting = m["awaiting"].as_array().map_or(0, Vec::len);
                if awaiting > 0 {
                    println!("      awaiting acknowledgement from {}", m["awaiting"]);
                }
            }
            Ok(())
        }
    }
}

pub async fn message(cmd: MessageCommand) -> anyhow::Result<()> {
    match cmd {
        MessageCommand::Send {
            conn,
            thread,
            id,
            text,
            ack_required,
        } => {
            conn.submit(
                json!({"type": "message.send", "thread": thread, "message": id,
                "text": text, "ack_required": ack_required}),
            )
            .await
        }
        MessageCommand::Ack {
            conn,
            thread,
            message,
        } => {
            conn.submit(json!({"type": "message.ack", "thread": thread, "message": message}))
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_make_the_bodies_the_core_accepts() {
        let a = NotifyArgs {
            conn: Conn {
                key: crate::opts::KeyOpt { path: "k".into() },
                server: crate::opts::ServerOpt { url: "s".into() },
            },
            id: "urcs/op-1".into(),
            window: "w1".into(),
            kind: "both".into(),
            vehicles: vec!["bus:AA 1234 KB:Red Cross emblem, white".into()],
            consignments: vec!["RC-1:medicine:insulin:400:box".into()],
            capacity: 50,
            departure: "2022-03-05T10:00".into(),
            arrival: "2022-03-05T13:00".into(),
            zone: Some("Europe/Moscow".into()),
        };
        let body = notify_body(&a).unwrap();
        assert_eq!(body["departure"], "2022-03-05T07:00:00Z");
        assert_eq!(body["vehicles"][0]["markings"], "Red Cross emblem, white");
        assert_eq!(body["consignments"][0]["quantity"], 400);
        let typed = corridor_core::command::Body::from_value(body).unwrap();
        assert_eq!(typed.type_name(), "operation.notify");

        let bad = NotifyArgs {
            consignments: vec!["RC-1:medicine:insulin:lots:box".into()],
            ..a
        };
        let e = notify_body(&bad).unwrap_err().to_string();
        assert!(e.contains("not a whole number"), "{e}");

        assert_eq!(
            receipt("RC-1:380:20:0").unwrap(),
            json!({"tracking": "RC-1", "delivered": 380, "damaged": 20, "lost": 0})
        );
        assert_eq!(
            receipt("RC-2:1900:0:0:taken at the checkpoint: 100 kg").unwrap()["reason"],
            "taken at the checkpoint: 100 kg"
        );
        assert!(receipt("RC-1:380").is_err());
    }
}

/// `corridor alerts`: the alerts true now that the key's actor may read, or with `--watch`, the
/// member alert stream: a token asked for with a signed request, then each alert as it becomes
/// true, one line each, until interrupted.
#[derive(Args)]
pub struct AlertsArgs {
    #[command(flatten)]
    conn: Conn,
    /// Keep listening and print each new alert as it arrives.
    #[arg(long)]
    watch: bool,
}

/// One alert as a line: when, what, about which operation, window or thread.
fn alert_line(a: &Value) -> String {
    let about = ["operation", "window", "thread"]
        .iter()
        .filter_map(|k| a[*k].as_str().map(|v| format!("{k} {v}")))
        .collect::<Vec<_>>()
        .join(", ");
    let party = a["party"]
        .as_str()
        .map(|p| format!(" (party {p})"))
        .unwrap_or_default();
    let pending = a["pending"]
        .as_array()
        .map(|u| {
            format!(
                " — not confirmed: {}",
                u.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .unwrap_or_default();
    format!(
        "{}  {:<22} {about}{party}{pending}",
        a["since"]["utc"].as_str().unwrap_or("?"),
        a["kind"].as_str().unwrap_or("?"),
    )
}

pub async fn alerts(args: AlertsArgs) -> anyhow::Result<()> {
    let conn = &args.conn;
    if !args.watch {
        let v = conn.read("/v1/alerts").await?;
        let list = v["alerts"].as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            println!("no alerts for you now");
        }
        for a in &list {
            println!("{}", alert_line(a));
        }
        return Ok(());
    }
    let c = crate::client::Client::new(conn.server());
    let head = c.check_log().await?;
    let key = crate::keys::load(conn.key())?;
    let token: Value = c
        .signed(&head, &key.keypair, "POST", "/v1/alerts/token")
        .await?
        .json()
        .await
        .context("the token reply is not JSON")?;
    let stream = token["stream"]
        .as_str()
        .context("the token reply names no stream")?;
    let url = format!("{}{stream}", conn.server().trim_end_matches('/'));
    let mut resp = reqwest::get(&url)
        .await
        .with_context(|| format!("cannot reach {}", conn.server()))?;
    if !resp.status().is_success() {
        let status = resp.status();
        bail!(
            "{}",
            crate::client::problem_message(status, &resp.text().await.unwrap_or_default())
        );
    }
    eprintln!("listening for alerts (Ctrl-C to stop)");
    let mut buf = String::new();
    while let Some(chunk) = resp.chunk().await? {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            let data: String = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            if let Ok(a) = serde_json::from_str::<Value>(&data) {
                println!("{}", alert_line(&a));
            }
        }
    }
    bail!("the server ended the alert stream; run the command again to resume")
}

/// `corridor webhook`: post your alerts to an address of your choice.
#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Post the alerts you may read to URL from now on (https; signed with the server's webhook
    /// key, Standard Webhooks v1a).
    Add {
        #[command(flatten)]
        conn: Conn,
        /// Where to post, e.g. https://pager.example.org/corridor.
        url: String,
    },
    /// Your webhooks.
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// Stop posting to a webhook (its delivery log stays).
    Remove {
        #[command(flatten)]
        conn: Conn,
        /// The webhook's id (wh-…).
        id: String,
    },
    /// Every delivery attempt to a webhook.
    Deliveries {
        #[command(flatten)]
        conn: Conn,
        /// The webhook's id (wh-…).
        id: String,
    },
}

/// Percent-encode a query value.
fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn signed_json(conn: &Conn, method: &str, path: &str) -> anyhow::Result<Value> {
    let c = crate::client::Client::new(conn.server());
    let head = c.check_log().await?;
    let key = crate::keys::load(conn.key())?;
    let resp = c.signed(&head, &key.keypair, method, path).await?;
    let text = resp.text().await?;
    if text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).with_context(|| format!("{path} did not answer JSON"))
}

pub async fn webhook(cmd: WebhookCommand) -> anyhow::Result<()> {
    match cmd {
        WebhookCommand::Add { conn, url } => {
            let v = signed_json(
                &conn,
                "POST",
                &format!("/v1/webhooks?url={}", query_value(&url)),
            )
            .await?;
            println!(
                "webhook {} posts your alerts to {}",
                v["id"].as_str().unwrap_or("?"),
                v["url"].as_str().unwrap_or("?")
            );
            println!(
                "check each post's webhook-signature with the server's key {}",
                v["key"].as_str().unwrap_or("?")
            );
        }
        WebhookCommand::List { conn } => {
            let v = signed_json(&conn, "GET", "/v1/webhooks").await?;
            for h in v["webhooks"].as_array().into_iter().flatten() {
                println!(
                    "{}  {}  since {}",
                    h["id"].as_str().unwrap_or("?"),
                    h["url"].as_str().unwrap_or("?"),
                    h["created_at"].as_str().unwrap_or("?")
                );
            }
        }
        WebhookCommand::Remove { conn, id } => {
            signed_json(
                &conn,
                "DELETE",
                &format!("/v1/webhooks/{}", query_value(&id)),
            )
            .await?;
            println!("webhook {id} removed; its delivery log stays");
        }
        WebhookCommand::Deliveries { conn, id } => {
            let v = signed_json(
                &conn,
                "GET",
                &format!("/v1/webhooks/{}/deliveries", query_value(&id)),
            )
            .await?;
            for d in v["deliveries"].as_array().into_iter().flatten() {
                println!(
                    "{}  attempt {}  {:<9} {}  {}{}",
                    d["at"].as_str().unwrap_or("?"),
                    d["attempt"],
                    d["outcome"].as_str().unwrap_or("?"),
                    d["http_status"],
                    d["alert"].as_str().unwrap_or("?"),
                    d["error"]
                        .as_str()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}
