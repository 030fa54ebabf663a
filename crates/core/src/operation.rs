//! Operations: evacuations and aid convoys run through an agreed window.
//!
//! A window says when the guns are silent; an operation is what moves through it. The model
//! follows OCHA's Humanitarian Notification System: an organisation (or the intermediary)
//! *notifies* the parties of a movement (vehicles, plates, manifest, times); each required party
//! *acknowledges* it. Notifying is not asking permission, so an operation exists from its
//! notification on, and a party that has not acknowledged within the genesis policy's delay is
//! shown as overdue, computed from (records, instant) like a window's status. Consignments
//! follow WFP's RITA: a tracking number each, and on arrival a receipt split into delivered,
//! damaged and lost that adds up to what was sent (or says why not). Movement is a timeline of
//! events at points near the corridor's route, with evacuees counted by category, and the
//! operation ends with an outcome in HNS's words: facilitated, impeded, denied, postponed.
//!
//! Who reads an operation: every party (each must recognise the vehicles at its checkpoints),
//! the notifying organisation and the intermediary. Other organisations and observers do not:
//! plates and manifests are not for everyone.
//!
//! Every rule here is a pure function of the records, the command and the log time. Distances
//! (a movement point against the route) use only IEEE basic arithmetic ([`crate::geo`]), never
//! the platform's `sin`/`cos`, so every replay on every machine reaches the same verdict.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Rejection;
use crate::agreement::{Agreements, Ctx, Status};
use crate::command::{MAX_TEXT, Point, Role, text_within};
use crate::geo::route_distance_m;
use crate::time::{format_log_time, parse_utc};

/// Most vehicles in one operation.
pub const MAX_VEHICLES: usize = 500;
/// Most consignments in one manifest.
pub const MAX_CONSIGNMENTS: usize = 1000;
/// Largest quantity of one consignment, in its unit: beyond this a figure is a typing error.
pub const MAX_QUANTITY: i64 = 1_000_000_000;
/// Most evacuees one operation may carry (a convoy of buses, not a city).
pub const MAX_EVACUEES: i64 = 100_000;
/// How far beyond the corridor's buffer a movement point may lie, in metres: position fixes in
/// the field are rough, and a checkpoint may sit just off the road.
pub const ROUTE_TOLERANCE_M: i64 = 1_000;

/// Units of measure a manifest may use: a fixed list, so that "t", "tons" and "tonnes" never
/// make three lines of one report.
pub const UNITS_OF_MEASURE: &[&str] = &[
    "kg", "t", "l", "m3", "piece", "box", "pallet", "kit", "dose", "ration", "carton", "bag",
];

// ---------------------------------------------------------------- commands

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OperationKind {
    /// Civilians leave.
    Evacuation,
    /// Aid goes in.
    AidDelivery,
    /// Both, in one movement.
    Both,
}

impl OperationKind {
    fn carries_people(self) -> bool {
        matches!(self, OperationKind::Evacuation | OperationKind::Both)
    }
    fn carries_goods(self) -> bool {
        matches!(self, OperationKind::AidDelivery | OperationKind::Both)
    }
}

/// A vehicle type, as HNS notifications list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VehicleType {
    /// A bus or coach.
    Bus,
    /// A lorry.
    Truck,
    /// A van or minibus.
    Van,
    /// A car.
    Car,
    /// An ambulance.
    Ambulance,
    /// Anything else.
    Other,
}

/// One vehicle: what the parties' checkpoints will see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vehicle {
    /// The kind of vehicle.
    #[serde(rename = "type")]
    pub vehicle_type: VehicleType,
    /// The registration plate.
    pub plate: String,
    /// Emblems, flags, colours, numbers painted on it.
    pub markings: String,
}

/// What a consignment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Medicine and medical supplies.
    Medicine,
    /// Food.
    Food,
    /// Drinking water.
    Water,
    /// Fuel.
    Fuel,
    /// Shelter items.
    Shelter,
    /// Anything else.
    Other,
}

impl Category {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Medicine => "medicine",
            Category::Food => "food",
            Category::Water => "water",
            Category::Fuel => "fuel",
            Category::Shelter => "shelter",
            Category::Other => "other",
        }
    }
}

/// One line of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consignment {
    /// Tracking number, unique among the notifying side's operations.
    pub tracking: String,
    /// What kind of goods.
    pub category: Category,
    /// What exactly ("insulin", "wheat flour").
    pub item: String,
    /// How much, a whole number of `unit`.
    pub quantity: i64,
    /// One of [`UNITS_OF_MEASURE`].
    pub unit: String,
}

/// `operation.notify`: the parties are told of a movement through an agreed window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationNotify {
    /// New operation id, `<side>/<name>` (scoped like incident ids).
    pub operation: String,
    /// The window it moves in.
    pub window: String,
    /// Evacuation, aid delivery or both.
    pub kind: OperationKind,
    /// The vehicles (their number is the count).
    pub vehicles: Vec<Vehicle>,
    /// The manifest.
    #[serde(default)]
    pub consignments: Vec<Consignment>,
    /// Seats for evacuees (0 for aid only).
    #[serde(default)]
    pub evacuee_capacity: i64,
    /// Planned departure, RFC 3339 UTC, inside the window.
    pub departure: String,
    /// Planned arrival, RFC 3339 UTC, inside the window and after departure.
    pub arrival: String,
}

/// `operation.ack`: a required party says it has the notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationAck {
    /// The operation.
    pub operation: String,
    /// The party acknowledging (the actor's own).
    pub party: String,
}

/// What happened on the road.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MoveEvent {
    /// Left the origin.
    Departed,
    /// Passed a checkpoint.
    Checkpoint,
    /// Stopped (the reason says by whom and why).
    Stopped,
    /// Moving again after a stop.
    Resumed,
    /// Reached the destination.
    Arrived,
}

impl MoveEvent {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MoveEvent::Departed => "departed",
            MoveEvent::Checkpoint => "checkpoint",
            MoveEvent::Stopped => "stopped",
            MoveEvent::Resumed => "resumed",
            MoveEvent::Arrived => "arrived",
        }
    }
}

/// Evacuees by category. Categories overlap in life (an elderly wounded woman); each person is
/// counted once, in the first category that applies in this order: wounded, people with
/// disabilities, children, elderly, adults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evacuees {
    /// Adults not in another category.
    pub adults: i64,
    /// Children (under 18).
    pub children: i64,
    /// Elderly people (60 and over).
    pub elderly: i64,
    /// People with disabilities.
    pub disabled: i64,
    /// Wounded or sick people.
    pub wounded: i64,
}

impl Evacuees {
    /// Everyone counted.
    pub fn total(&self) -> i64 {
        self.adults + self.children + self.elderly + self.disabled + self.wounded
    }

    fn check(&self, field: &str) -> Result<(), Rejection> {
        let all = [
            self.adults,
            self.children,
            self.elderly,
            self.disabled,
            self.wounded,
        ];
        if all.iter().any(|n| !(0..=MAX_EVACUEES).contains(n)) || self.total() > MAX_EVACUEES {
            return Err(Rejection::rule(
                "quantity-out-of-range",
                format!("{field}: each count is 0 to {MAX_EVACUEES}, and so is their sum"),
            ));
        }
        Ok(())
    }
}

/// `operation.move`: one event of the movement timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationMove {
    /// The operation.
    pub operation: String,
    /// What happened.
    pub event: MoveEvent,
    /// When, RFC 3339 UTC (reports from the road come late; the log time says when it was told).
    pub occurred_at: String,
    /// Where.
    pub location: Point,
    /// Why it stopped, or why the counts differ from the departure's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Evacuees on board (required at departure of an evacuation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evacuees: Option<Evacuees>,
    /// At departure: the settlement the evacuees chose to go to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// At departure: the convoy lead attests every evacuee left of their own free will.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voluntary: Option<bool>,
}

/// One consignment's receipt at the destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsignmentReceipt {
    /// The tracking number.
    pub tracking: String,
    /// Arrived in good order.
    pub delivered: i64,
    /// Arrived damaged.
    pub damaged: i64,
    /// Did not arrive.
    pub lost: i64,
    /// Why the three do not add up to what was sent, if they do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `operation.receive`: receipts for consignments, after arrival.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationReceive {
    /// The operation.
    pub operation: String,
    /// One receipt per consignment received now.
    pub receipts: Vec<ConsignmentReceipt>,
}

/// How an operation ended, in HNS's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// It went through as notified.
    Facilitated,
    /// It went through with obstruction.
    Impeded,
    /// It was refused passage.
    Denied,
    /// It did not go and will be notified again.
    Postponed,
}

impl Outcome {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Facilitated => "facilitated",
            Outcome::Impeded => "impeded",
            Outcome::Denied => "denied",
            Outcome::Postponed => "postponed",
        }
    }
}

/// `operation.outcome`: how it ended, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationOutcome {
    /// The operation.
    pub operation: String,
    /// The outcome.
    pub outcome: Outcome,
    /// Why, in the notifier's words.
    pub reason: String,
}

// ---------------------------------------------------------------- records

/// A party's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Who signed it.
    pub actor: String,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
}

/// One event of the timeline as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    /// What happened.
    pub event: MoveEvent,
    /// When, per the reporter.
    pub occurred_at: String,
    /// Where.
    pub location: Point,
    /// Distance from the corridor's route, in whole metres (rounded down).
    pub off_route_m: i64,
    /// Why (stops, differing counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Evacuees counted here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evacuees: Option<Evacuees>,
    /// The chosen destination (departure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// The voluntariness attestation (departure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voluntary: Option<bool>,
    /// Who reported it.
    pub actor: String,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
}

/// A receipt as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// The receipt.
    #[serde(flatten)]
    pub receipt: ConsignmentReceipt,
    /// Who signed it.
    pub actor: String,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
}

/// The outcome as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    /// The outcome.
    pub outcome: Outcome,
    /// Why.
    pub reason: String,
    /// Who.
    pub actor: String,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
}

/// An operation with everything recorded about it, in log order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// Id (`<side>/<name>`).
    pub id: String,
    /// The side that notified it (an organisation, or the intermediary).
    pub notifier: String,
    /// The actor who notified it.
    pub actor: String,
    /// The window.
    pub window: String,
    /// The window's corridor.
    pub corridor: String,
    /// The notification as signed.
    pub kind: OperationKind,
    /// The vehicles.
    pub vehicles: Vec<Vehicle>,
    /// The manifest.
    pub consignments: Vec<Consignment>,
    /// Seats for evacuees.
    pub evacuee_capacity: i64,
    /// Planned departure.
    pub departure: String,
    /// Planned arrival.
    pub arrival: String,
    /// The parties that must acknowledge (the window's required parties at notification).
    pub required_parties: Vec<String>,
    /// Entry of the notification.
    pub at_index: u64,
    /// Log time of the notification: the acknowledgement delay runs from here.
    pub at_time: String,
    /// Acknowledgements by party.
    pub acks: BTreeMap<String, Ack>,
    /// The timeline.
    pub movements: Vec<Movement>,
    /// Receipts by tracking number.
    pub received: BTreeMap<String, Received>,
    /// How it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<OutcomeRecord>,
}

/// Where a party's acknowledgement stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AckStatus {
    /// Acknowledged.
    Acknowledged,
    /// Not yet, within the policy's delay.
    Pending,
    /// Not acknowledged within the policy's delay.
    Overdue,
}

/// Where the movement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Progress {
    /// Notified, not departed.
    Notified,
    /// On the road.
    Moving,
    /// Stopped on the road.
    Stopped,
    /// Arrived.
    Arrived,
}

impl Operation {
    /// Each required party's acknowledgement status at `at`, given the policy's delay: a pure
    /// function of the record and the instant, like a window's status.
    pub fn ack_status_at(&self, at: Timestamp, overdue_s: i64) -> BTreeMap<String, AckStatus> {
        let notified = ts(&self.at_time);
        let due = notified
            .checked_add(jiff::SignedDuration::from_secs(overdue_s))
            .unwrap_or(Timestamp::MAX);
        self.required_parties
            .iter()
            .map(|p| {
                let s = match self.acks.get(p) {
                    Some(a) if ts(&a.at_time) <= at => AckStatus::Acknowledged,
                    _ if at >= due => AckStatus::Overdue,
                    _ => AckStatus::Pending,
                };
                (p.clone(), s)
            })
            .collect()
    }

    /// Where the movement stands after the events recorded so far.
    pub fn progress(&self) -> Progress {
        let mut p = Progress::Notified;
        for m in &self.movements {
            p = match m.event {
                MoveEvent::Departed | MoveEvent::Checkpoint | MoveEvent::Resumed => {
                    Progress::Moving
                }
                MoveEvent::Stopped => Progress::Stopped,
                MoveEvent::Arrived => Progress::Arrived,
            };
        }
        p
    }

    /// The evacuees counted at departure.
    pub fn departed_with(&self) -> Option<Evacuees> {
        self.movements
            .iter()
            .find(|m| m.event == MoveEvent::Departed)
            .and_then(|m| m.evacuees)
    }

    /// The evacuees counted at arrival.
    pub fn arrived_with(&self) -> Option<Evacuees> {
        self.movements
            .iter()
            .find(|m| m.event == MoveEvent::Arrived)
            .and_then(|m| m.evacuees)
    }
}

fn ts(s: &str) -> Timestamp {
    // Stored times were validated when the command was accepted.
    s.parse().unwrap_or(Timestamp::MIN)
}

// ---------------------------------------------------------------- rules

fn quantity(field: &str, q: i64, min: i64) -> Result<(), Rejection> {
    if !(min..=MAX_QUANTITY).contains(&q) {
        return Err(Rejection::rule(
            "quantity-out-of-range",
            format!("{field} is {q}: a whole number from {min} to {MAX_QUANTITY}"),
        ));
    }
    Ok(())
}

impl OperationNotify {
    /// Shape checks that need no state.
    pub(crate) fn check_shape(&self) -> Result<(), Rejection> {
        if self.vehicles.is_empty() || self.vehicles.len() > MAX_VEHICLES {
            return Err(Rejection::invalid(
                "command.body.vehicles",
                format!("list 1 to {MAX_VEHICLES} vehicles"),
            ));
        }
        for (i, v) in self.vehicles.iter().enumerate() {
            text_within(&format!("command.body.vehicles[{i}].plate"), &v.plate, 32)?;
            text_within(
                &format!("command.body.vehicles[{i}].markings"),
                &v.markings,
                MAX_TEXT,
            )?;
        }
        if self.consignments.len() > MAX_CONSIGNMENTS {
            return Err(Rejection::invalid(
                "command.body.consignments",
                format!("at most {MAX_CONSIGNMENTS} consignments"),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, c) in self.consignments.iter().enumerate() {
            let f = |n: &str| format!("command.body.consignments[{i}].{n}");
            crate::ids::check_id(&f("tracking"), &c.tracking)?;
            text_within(&f("item"), &c.item, 256)?;
            quantity(&f("quantity"), c.quantity, 1)?;
            if !UNITS_OF_MEASURE.contains(&c.unit.as_str()) {
                return Err(Rejection::rule(
                    "unknown-unit-of-measure",
                    format!(
                        "{}: {:?} is not a unit of measure; use one of {}",
                        f("unit"),
                        c.unit,
                        UNITS_OF_MEASURE.join(", ")
                    ),
                ));
            }
            if !seen.insert(c.tracking.as_str()) {
                return Err(duplicate_tracking(&c.tracking));
            }
        }
        if self.kind.carries_goods() && self.consignments.is_empty() {
            return Err(Rejection::rule(
                "manifest-empty",
                "an aid delivery lists at least one consignment",
            ));
        }
        if self.kind.carries_people() {
            if !(1..=MAX_EVACUEES).contains(&self.evacuee_capacity) {
                return Err(Rejection::rule(
                    "quantity-out-of-range",
                    format!(
                        "command.body.evacuee_capacity is {}: an evacuation has 1 to {MAX_EVACUEES} seats",
                        self.evacuee_capacity
                    ),
                ));
            }
        } else if self.evacuee_capacity != 0 {
            return Err(Rejection::rule(
                "quantity-out-of-range",
                "command.body.evacuee_capacity: an aid delivery carries no evacuees (0)",
            ));
        }
        let dep = parse_utc("command.body.departure", &self.departure)?;
        let arr = parse_utc("command.body.arrival", &self.arrival)?;
        if arr <= dep {
            return Err(Rejection::rule(
                "arrival-before-departure",
                format!(
                    "planned arrival {} is not after departure {}",
                    self.arrival, self.departure
                ),
            ));
        }
        Ok(())
    }
}

impl OperationMove {
    pub(crate) fn check_shape(&self) -> Result<(), Rejection> {
        parse_utc("command.body.occurred_at", &self.occurred_at)?;
        self.location.check("command.body.location")?;
        if let Some(r) = &self.reason {
            text_within("command.body.reason", r, MAX_TEXT)?;
        }
        if let Some(e) = &self.evacuees {
            e.check("command.body.evacuees")?;
        }
        if let Some(d) = &self.destination {
            crate::ids::check_id("command.body.destination", d)?;
        }
        Ok(())
    }
}

impl OperationReceive {
    pub(crate) fn check_shape(&self) -> Result<(), Rejection> {
        if self.receipts.is_empty() || self.receipts.len() > MAX_CONSIGNMENTS {
            return Err(Rejection::invalid(
                "command.body.receipts",
                format!("list 1 to {MAX_CONSIGNMENTS} receipts"),
            ));
        }
        for (i, r) in self.receipts.iter().enumerate() {
            let f = |n: &str| format!("command.body.receipts[{i}].{n}");
            crate::ids::check_id(&f("tracking"), &r.tracking)?;
            quantity(&f("delivered"), r.delivered, 0)?;
            quantity(&f("damaged"), r.damaged, 0)?;
            quantity(&f("lost"), r.lost, 0)?;
            if let Some(reason) = &r.reason {
                text_within(&f("reason"), reason, MAX_TEXT)?;
            }
        }
        Ok(())
    }
}

fn duplicate_tracking(t: &str) -> Rejection {
    Rejection::rule(
        "tracking-number-duplicate",
        format!("tracking number {t:?} is already in use in your side's operations"),
    )
}

/// Every operation in the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operations {
    /// Operations by id.
    pub operations: BTreeMap<String, Operation>,
}

/// The side an operation id belongs to (`urcs/op-1` → `urcs`).
pub fn operation_side(id: &str) -> &str {
    crate::access::affiliation_of(id)
}

impl Operations {
    /// The operation `id`, if the actor's side may read it: one it may not read answers as one
    /// that does not exist, so that no side learns of another's operations by guessing ids.
    pub(crate) fn readable_by(&self, id: &str, ctx: &Ctx) -> Result<&Operation, Rejection> {
        let unknown = || {
            Rejection::rule(
                "unknown-operation",
                format!("no operation {id:?} that you may read in this log"),
            )
        };
        let op = self.operations.get(id).ok_or_else(unknown)?;
        let reads =
            ctx.party.is_some() || ctx.role == Role::Intermediary || ctx.affiliation == op.notifier;
        if !reads || ctx.role == Role::Observer {
            return Err(unknown());
        }
        Ok(op)
    }

    /// The operation `id` for a movement, receipt or outcome: only the notifying side's people
    /// (and the intermediary) report how their convoy moves.
    fn own(&self, id: &str, ctx: &Ctx, action: &str) -> Result<&Operation, Rejection> {
        let op = self.readable_by(id, ctx)?;
        if ctx.role != Role::Intermediary && ctx.affiliation != op.notifier {
            return Err(Rejection::rule(
                "not-your-operation",
                format!(
                    "operation {id} was notified by {}; only its people and the intermediary {action}",
                    op.notifier
                ),
            ));
        }
        Ok(op)
    }

    /// Decide and apply `operation.notify`.
    pub fn notify(
        &mut self,
        ctx: &Ctx,
        agreements: &Agreements,
        b: &OperationNotify,
    ) -> Result<String, Rejection> {
        let side = ctx.affiliation;
        if operation_side(&b.operation) != side || !b.operation.contains('/') {
            return Err(Rejection::rule(
                "operation-id-not-scoped",
                format!(
                    "an operation id starts with your side's id: use \"{side}/{}\"",
                    b.operation.rsplit('/').next().unwrap_or(&b.operation)
                ),
            ));
        }
        if self.operations.contains_key(&b.operation) {
            return Err(Rejection::rule(
                "operation-exists",
                format!("operation {:?} was already notified", b.operation),
            ));
        }
        let w = agreements.windows.get(&b.window).ok_or_else(|| {
            Rejection::rule("unknown-window", format!("no window {:?}", b.window))
        })?;
        let (status, _) = w.status_at(ctx.time).expect("a window has a version");
        match status {
            Status::Agreed | Status::Active | Status::Suspended => {}
            Status::Completed => {
                return Err(Rejection::rule(
                    "window-over",
                    format!("window {} is over; notify for a window still to come", w.id),
                ));
            }
            other => {
                return Err(Rejection::rule(
                    "window-not-agreed",
                    format!(
                        "window {} is {}: an operation runs only through a window every party agreed",
                        w.id,
                        other.as_str()
                    ),
                ));
            }
        }
        let v = w.latest();
        let (start, end) = (v.start(), v.end());
        for (field, t) in [("departure", &b.departure), ("arrival", &b.arrival)] {
            let t = parse_utc(&format!("command.body.{field}"), t)?;
            if t < start || t > end {
                return Err(Rejection::rule(
                    "outside-window",
                    format!(
                        "planned {field} must be inside window {} ({} to {})",
                        w.id, v.terms.start, v.terms.end
                    ),
                ));
            }
        }
        for c in &b.consignments {
            let taken = self
                .operations
                .values()
                .filter(|o| o.notifier == side)
                .any(|o| o.consignments.iter().any(|x| x.tracking == c.tracking));
            if taken {
                return Err(duplicate_tracking(&c.tracking));
            }
        }
        self.operations.insert(
            b.operation.clone(),
            Operation {
                id: b.operation.clone(),
                notifier: side.to_string(),
                actor: ctx.actor.to_string(),
                window: w.id.clone(),
                corridor: w.corridor.clone(),
                kind: b.kind,
                vehicles: b.vehicles.clone(),
                consignments: b.consignments.clone(),
                evacuee_capacity: b.evacuee_capacity,
                departure: b.departure.clone(),
                arrival: b.arrival.clone(),
                required_parties: v.terms.required_parties.clone(),
                at_index: ctx.index,
                at_time: format_log_time(ctx.time),
                acks: BTreeMap::new(),
                movements: vec![],
                received: BTreeMap::new(),
                outcome: None,
            },
        );
        Ok(b.operation.clone())
    }

    /// Decide and apply `operation.ack`.
    pub fn ack(&mut self, ctx: &Ctx, b: &OperationAck) -> Result<String, Rejection> {
        ctx.own_party(&b.party)?;
        let op = self.readable_by(&b.operation, ctx)?;
        if !op.required_parties.contains(&b.party) {
            return Err(Rejection::rule(
                "ack-not-required",
                format!(
                    "{:?} is not a party that must acknowledge operation {}",
                    b.party, op.id
                ),
            ));
        }
        if op.acks.contains_key(&b.party) {
            return Err(Rejection::rule(
                "ack-repeated",
                format!("{} already acknowledged operation {}", b.party, op.id),
            ));
        }
        let op = self.operations.get_mut(&b.operation).expect("checked");
        op.acks.insert(
            b.party.clone(),
            Ack {
                actor: ctx.actor.to_string(),
                at_index: ctx.index,
                at_time: format_log_time(ctx.time),
            },
        );
        Ok(b.operation.clone())
    }

    /// Decide and apply `operation.move`.
    pub fn movement(
        &mut self,
        ctx: &Ctx,
        agreements: &Agreements,
        b: &OperationMove,
    ) -> Result<String, Rejection> {
        let op = self.own(&b.operation, ctx, "report its movement")?;
        let at = parse_utc("command.body.occurred_at", &b.occurred_at)?;
        let skew = ctx.genesis.policy.max_clock_skew_s;
        if at.as_second() > ctx.time.as_second() + skew {
            return Err(Rejection::rule(
                "event-in-future",
                format!(
                    "occurred_at {} is after the log's time {}",
                    b.occurred_at,
                    format_log_time(ctx.time)
                ),
            ));
        }
        let progress = op.progress();
        match (progress, b.event) {
            (Progress::Arrived, _) => {
                return Err(Rejection::rule("already-arrived", "the convoy has arrived"));
            }
            (Progress::Notified, MoveEvent::Departed) => {}
            (Progress::Notified, MoveEvent::Arrived) => {
                return Err(Rejection::rule(
                    "arrival-before-departure",
                    "record the departure before the arrival",
                ));
            }
            (Progress::Notified, _) => {
                return Err(Rejection::rule(
                    "not-departed",
                    "the first event is the departure",
                ));
            }
            (_, MoveEvent::Departed) => {
                return Err(Rejection::rule(
                    "already-departed",
                    "the convoy has departed",
                ));
            }
            (Progress::Stopped, MoveEvent::Resumed) => {}
            (Progress::Stopped, _) => {
                return Err(Rejection::rule(
                    "convoy-stopped",
                    "the convoy is stopped: record that it resumed first",
                ));
            }
            (Progress::Moving, MoveEvent::Resumed) => {
                return Err(Rejection::rule("not-stopped", "the convoy is not stopped"));
            }
            (Progress::Moving, _) => {}
        }
        if let Some(last) = op.movements.last()
            && at < ts(&last.occurred_at)
        {
            let message = format!(
                "{} at {} is before the previous event ({}, {})",
                b.event.as_str(),
                b.occurred_at,
                last.event.as_str(),
                last.occurred_at
            );
            return Err(if b.event == MoveEvent::Arrived {
                Rejection::rule("arrival-before-departure", message)
            } else {
                Rejection::rule("event-before-previous", message)
            });
        }
        if b.event == MoveEvent::Stopped && b.reason.is_none() {
            return Err(Rejection::MissingField("command.body.reason".into()));
        }
        // The point against the route of the corridor version the window rests on.
        let route = agreements
            .windows
            .get(&op.window)
            .and_then(|w| {
                let cv = w.latest().corridor_version;
                agreements
                    .corridors
                    .get(&w.corridor)
                    .and_then(|c| c.versions.iter().find(|v| v.version == cv))
            })
            .map(|cv| (cv.terms.route.clone(), cv.terms.buffer_m));
        let p = [b.location.lon_e7, b.location.lat_e7];
        let (off, limit) = match &route {
            Some((r, buffer)) => (route_distance_m(r, p), buffer + ROUTE_TOLERANCE_M),
            None => (0, 0),
        };
        if off > limit {
            return Err(Rejection::rule(
                "point-off-route",
                format!(
                    "the point is {off} m from the corridor's route; at most {limit} m (the buffer and {ROUTE_TOLERANCE_M} m)"
                ),
            ));
        }
        // Evacuees.
        let departed = op.departed_with();
        if b.event == MoveEvent::Departed && op.kind.carries_people() {
            let Some(e) = b.evacuees else {
                return Err(Rejection::MissingField("command.body.evacuees".into()));
            };
            if e.total() > op.evacuee_capacity {
                return Err(Rejection::rule(
                    "evacuees-over-capacity",
                    format!(
                        "{} evacuees for {} seats notified",
                        e.total(),
                        op.evacuee_capacity
                    ),
                ));
            }
            if e.total() > 0 {
                if b.voluntary != Some(true) {
                    return Err(Rejection::rule(
                        "departure-not-voluntary",
                        "attest that every evacuee leaves of their own free will (voluntary: true); nobody is moved otherwise",
                    ));
                }
                let Some(d) = &b.destination else {
                    return Err(Rejection::MissingField("command.body.destination".into()));
                };
                if !agreements.settlements.contains_key(d) {
                    return Err(Rejection::rule(
                        "unknown-settlement",
                        format!("no settlement {d:?}"),
                    ));
                }
            }
        } else if b.event != MoveEvent::Departed
            && let (Some(now), Some(then)) = (b.evacuees, departed)
            && now != then
            && b.reason.is_none()
        {
            return Err(Rejection::rule(
                "evacuee-count-mismatch",
                format!(
                    "{} evacuees counted here, {} at departure (by category too): say why in reason",
                    now.total(),
                    then.total()
                ),
            ));
        } else if b.evacuees.is_some() && !op.kind.carries_people() {
            return Err(Rejection::rule(
                "evacuees-over-capacity",
                "an aid delivery carries no evacuees",
            ));
        }
        let record = Movement {
            event: b.event,
            occurred_at: b.occurred_at.clone(),
            location: b.location,
            off_route_m: off,
            reason: b.reason.clone(),
            evacuees: b.evacuees,
            destination: b.destination.clone(),
            voluntary: b.voluntary,
            actor: ctx.actor.to_string(),
            at_index: ctx.index,
            at_time: format_log_time(ctx.time),
        };
        let op = self.operations.get_mut(&b.operation).expect("checked");
        op.movements.push(record);
        Ok(b.operation.clone())
    }

    /// Decide and apply `operation.receive`.
    pub fn receive(&mut self, ctx: &Ctx, b: &OperationReceive) -> Result<String, Rejection> {
        let op = self.own(&b.operation, ctx, "record receipts")?;
        if op.progress() != Progress::Arrived {
            return Err(Rejection::rule(
                "not-arrived",
                "receipts come after the arrival is recorded",
            ));
        }
        let mut seen = BTreeSet::new();
        for r in &b.receipts {
            let c = op
                .consignments
                .iter()
                .find(|c| c.tracking == r.tracking)
                .ok_or_else(|| {
                    Rejection::rule(
                        "unknown-tracking-number",
                        format!("operation {} has no consignment {:?}", op.id, r.tracking),
                    )
                })?;
            if op.received.contains_key(&r.tracking) || !seen.insert(&r.tracking) {
                return Err(Rejection::rule(
                    "receipt-repeated",
                    format!("consignment {} was already received", r.tracking),
                ));
            }
            let sum = r.delivered + r.damaged + r.lost;
            if sum != c.quantity && r.reason.is_none() {
                return Err(Rejection::rule(
                    "receipt-does-not-add-up",
                    format!(
                        "{}: delivered {} + damaged {} + lost {} = {sum}, but {} {} were sent; say why in reason",
                        r.tracking, r.delivered, r.damaged, r.lost, c.quantity, c.unit
                    ),
                ));
            }
        }
        let op = self.operations.get_mut(&b.operation).expect("checked");
        for r in &b.receipts {
            op.received.insert(
                r.tracking.clone(),
                Received {
                    receipt: r.clone(),
                    actor: ctx.actor.to_string(),
                    at_index: ctx.index,
                    at_time: format_log_time(ctx.time),
                },
            );
        }
        Ok(b.operation.clone())
    }

    /// Decide and apply `operation.outcome`.
    pub fn outcome(&mut self, ctx: &Ctx, b: &OperationOutcome) -> Result<String, Rejection> {
        text_within("command.body.reason", &b.reason, MAX_TEXT)?;
        let op = self.own(&b.operation, ctx, "record its outcome")?;
        if op.outcome.is_some() {
            return Err(Rejection::rule(
                "outcome-repeated",
                format!("operation {} already has an outcome", op.id),
            ));
        }
        let op = self.operations.get_mut(&b.operation).expect("checked");
        op.outcome = Some(OutcomeRecord {
            outcome: b.outcome,
            reason: b.reason.clone(),
            actor: ctx.actor.to_string(),
            at_index: ctx.index,
            at_time: format_log_time(ctx.time),
        });
        Ok(b.operation.clone())
    }
}
