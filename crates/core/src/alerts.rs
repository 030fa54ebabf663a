//! Alerts: what the people running a window must hear about without asking. A pure function of
//! the records and an instant, like a window's status, so every instance of a cluster and every
//! replay computes the same alerts, and an alert that becomes true with the passage of time (an
//! acknowledgement falls overdue, a window's start comes close while units have not confirmed)
//! needs no entry of its own.
//!
//! Five kinds:
//!
//! - `ack-overdue`: a required party has not acknowledged an operation within the genesis
//!   policy's delay. For whoever reads the operation.
//! - `confirmations-missing`: from [`CONFIRMATION_LEAD_S`] before an agreed window starts until
//!   it ends, some of a party's units have not confirmed its terms. Names the units, so it is for
//!   that party (and the intermediary) alone; the other party never learns which units exist.
//! - `window-halted`: a window was suspended, withdrawn or cancelled. For every member.
//! - `convoy-stopped`: an operation reported a stop. For whoever reads the operation.
//! - `message`: a message in a thread. For the thread's participants.
//!
//! An alert says what happened and where to read more; it carries no message text, no plate, no
//! position and no unit of the other side, because alerts leave the server (webhooks post them to
//! addresses the subscriber chose) and the reader can fetch the rest with a signed read, which
//! the read audit records.
//!
//! Each alert has a stable id (kind and subject), so a stream or a webhook sends each once:
//! what is new is what the previous computation did not hold.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::Value;

use crate::access::{Audience, operation_audience};
use crate::agreement::{ActKind, Agreements, PublicReason, Status, Window};
use crate::chain::{Chain, Notice, confirmations_id};
use crate::channel::Channels;
use crate::command::Role;
use crate::genesis::GenesisDocument;
use crate::operation::{AckStatus, MoveEvent, Operations};
use crate::state::{Actor, Affiliation, State};
use crate::views::running::instant;

/// How long before a window's start missing unit confirmations raise an alert: six hours, a
/// shift's notice for a commander to reach the units that have not confirmed.
pub const CONFIRMATION_LEAD_S: i64 = 6 * 3600;

/// What the alerts are computed from: the parts of the state that run through windows, and each
/// party's units in force. Cloned out of the sequencer's state after the batches that change
/// them, so alerts are computed beside the log, never on its hot path.
#[derive(Debug, Clone, Default)]
pub struct Running {
    /// The genesis (parties, policy, zones).
    pub genesis: Option<GenesisDocument>,
    /// Settlements, corridors, windows.
    pub agreements: Agreements,
    /// Operations.
    pub operations: Operations,
    /// Unit confirmations.
    pub chain: Chain,
    /// Threads and messages.
    pub channels: Channels,
    /// Each party's unit actors with a key in force.
    pub units: BTreeMap<String, BTreeSet<String>>,
}

impl Running {
    /// The running parts of a state.
    pub fn of(state: &State) -> Running {
        Running {
            genesis: Some(state.genesis.clone()),
            agreements: state.agreements.clone(),
            operations: state.operations.clone(),
            chain: state.chain.clone(),
            channels: state.channels.clone(),
            units: units_by_party(state.actors.values(), |id| {
                state
                    .keys
                    .values()
                    .any(|k| k.actor == id && k.revoked.is_none())
            }),
        }
    }
}

/// Each party's unit actors for which `in_force` holds (they have a key that is not revoked):
/// the units that must confirm a window's terms.
pub fn units_by_party<'a>(
    actors: impl IntoIterator<Item = &'a Actor>,
    in_force: impl Fn(&str) -> bool,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut units: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in actors {
        if let (Role::Unit, Affiliation::Party(p)) = (a.role, &a.affiliation)
            && in_force(&a.id)
        {
            units.entry(p.clone()).or_default().insert(a.id.clone());
        }
    }
    units
}

/// What an alert is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum About {
    /// A required party has not acknowledged an operation in time.
    AckOverdue {
        /// The operation.
        operation: String,
        /// Its window.
        window: String,
        /// The party that has not acknowledged.
        party: String,
    },
    /// Units of a party have not confirmed the terms of a window that starts soon or has started.
    ConfirmationsMissing {
        /// The window.
        window: String,
        /// The party.
        party: String,
        /// The version of the terms to confirm.
        version: u32,
        /// The window's start, UTC.
        starts: String,
        /// The units that have not confirmed.
        pending: Vec<String>,
        /// How many units have.
        confirmed: usize,
    },
    /// A window was suspended, withdrawn or cancelled.
    WindowHalted {
        /// The window.
        window: String,
        /// Its corridor.
        corridor: String,
        /// Suspend, withdraw or cancel.
        act: ActKind,
        /// The party that acted (none for a cancellation by the intermediary).
        #[serde(skip_serializing_if = "Option::is_none")]
        party: Option<String>,
        /// The reason from the fixed public list, when given.
        #[serde(skip_serializing_if = "Option::is_none")]
        public_reason: Option<PublicReason>,
    },
    /// An operation stopped on the road.
    ConvoyStopped {
        /// The operation.
        operation: String,
        /// Its window.
        window: String,
        /// When it stopped, per the reporter (UTC).
        occurred_at: String,
    },
    /// A message in a thread.
    Message {
        /// The thread.
        thread: String,
        /// The message's id in the thread.
        message: String,
        /// Who sent it.
        from: String,
        /// The sides that must acknowledge it.
        ack_required: Vec<String>,
    },
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Stable id: the kind and the subject (`ack-overdue/<operation>/<party>`, ...).
    pub id: String,
    /// When it became true (UTC, log time format): the entry's time, or the instant a delay ran
    /// out.
    pub since: String,
    /// The entry that raised it, if one did.
    pub entry: Option<u64>,
    /// What it is about.
    pub about: About,
    /// Who may receive it: the audience of the records it is drawn from.
    pub audience: Audience,
}

impl Alert {
    /// The alert as sent: its fields, `since` in UTC and every party's zone, and the kind.
    pub fn to_json(&self, genesis: &GenesisDocument) -> Value {
        let mut v = serde_json::to_value(&self.about).expect("alerts serialize");
        v["id"] = Value::from(self.id.clone());
        v["since"] = instant(genesis, &self.since);
        if let Some(e) = self.entry {
            v["entry"] = Value::from(e);
        }
        v
    }

    /// The kind's wire name.
    pub fn kind(&self) -> &'static str {
        match self.about {
            About::AckOverdue { .. } => "ack-overdue",
            About::ConfirmationsMissing { .. } => "confirmations-missing",
            About::WindowHalted { .. } => "window-halted",
            About::ConvoyStopped { .. } => "convoy-stopped",
            About::Message { .. } => "message",
        }
    }
}

fn ts(s: &str) -> Timestamp {
    // Stored times were validated when their command was accepted.
    s.parse().unwrap_or(Timestamp::MIN)
}

fn fmt(t: Timestamp) -> String {
    crate::time::format_log_time(t)
}

fn plus(t: Timestamp, s: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_secs(s))
        .unwrap_or(Timestamp::MAX)
}

/// When a window's confirmations alert may begin: the lead before its start, but never before
/// the version was agreed.
fn lead_start(w: &Window, at: Timestamp) -> Option<Timestamp> {
    let v = w.version_at(at)?;
    let agreed = w.agreed_at(v, at)?;
    Some(plus(v.start(), -CONFIRMATION_LEAD_S).max(agreed))
}

/// Every alert true at `at`, oldest first (ties by id).
pub fn alerts(r: &Running, at: Timestamp) -> Vec<Alert> {
    let Some(genesis) = &r.genesis else {
        return vec![];
    };
    let mut out = Vec::new();
    for w in r.agreements.windows.values() {
        window_alerts(r, w, at, &mut out);
    }
    let delay = genesis.policy.ack_overdue_s;
    for op in r.operations.operations.values() {
        if ts(&op.at_time) > at {
            continue;
        }
        let audience = operation_audience(&genesis.party_ids(), &op.id);
        if op.outcome.is_none() {
            for (party, status) in op.ack_status_at(at, delay) {
                if status == AckStatus::Overdue {
                    out.push(Alert {
                        id: format!("ack-overdue/{}/{party}", op.id),
                        since: fmt(plus(ts(&op.at_time), delay)),
                        entry: None,
                        audience: audience.clone(),
                        about: About::AckOverdue {
                            operation: op.id.clone(),
                            window: op.window.clone(),
                            party,
                        },
                    });
                }
            }
        }
        for m in &op.movements {
            if m.event == MoveEvent::Stopped && ts(&m.at_time) <= at {
                out.push(Alert {
                    id: format!("convoy-stopped/{}/{}", op.id, m.at_index),
                    since: m.at_time.clone(),
                    entry: Some(m.at_index),
                    audience: audience.clone(),
                    about: About::ConvoyStopped {
                        operation: op.id.clone(),
                        window: op.window.clone(),
                        occurred_at: m.occurred_at.clone(),
                    },
                });
            }
        }
    }
    for m in r.channels.messages.values() {
        if ts(&m.at_time) > at {
            continue;
        }
        out.push(Alert {
            id: format!("message/{}#{}", m.thread, m.id),
            since: m.at_time.clone(),
            entry: Some(m.at_index),
            audience: Audience::of(m.participants.iter().map(String::as_str)),
            about: About::Message {
                thread: m.thread.clone(),
                message: m.id.clone(),
                from: m.actor.clone(),
                ack_required: m.ack_required.clone(),
            },
        });
    }
    out.sort_by(|a, b| (ts(&a.since), &a.id).cmp(&(ts(&b.since), &b.id)));
    out
}

fn window_alerts(r: &Running, w: &Window, at: Timestamp, out: &mut Vec<Alert>) {
    for a in &w.acts {
        if a.void
            || ts(&a.at_time) > at
            || ![ActKind::Suspend, ActKind::Withdraw, ActKind::Cancel].contains(&a.kind)
        {
            continue;
        }
        out.push(Alert {
            id: format!("window-halted/{}/{}", w.id, a.at_index),
            since: a.at_time.clone(),
            entry: Some(a.at_index),
            audience: Audience::Members,
            about: About::WindowHalted {
                window: w.id.clone(),
                corridor: w.corridor.clone(),
                act: a.kind,
                party: a.party.clone(),
                public_reason: a.public_reason,
            },
        });
    }
    let live = matches!(
        w.status_at(at),
        Some((Status::Agreed | Status::Active | Status::Suspended, _))
    );
    let (Some(v), Some(from)) = (w.version_at(at), lead_start(w, at)) else {
        return;
    };
    if !live || at < from {
        return;
    }
    let empty = BTreeSet::new();
    for p in &v.terms.required_parties {
        let units = r.units.get(p).unwrap_or(&empty);
        let confirmed: BTreeSet<&str> = r
            .chain
            .confirmations
            .get(&confirmations_id(p, &w.id))
            .map(|rec| {
                rec.confirmations
                    .iter()
                    .filter(|c| {
                        ts(&c.at_time) <= at
                            && c.notice
                                == Notice::Terms {
                                    version: v.version,
                                    hash: v.hash.clone(),
                                }
                    })
                    .map(|c| c.unit.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let pending: Vec<String> = units
            .iter()
            .filter(|u| !confirmed.contains(u.as_str()))
            .cloned()
            .collect();
        if pending.is_empty() {
            continue;
        }
        out.push(Alert {
            id: format!("confirmations-missing/{p}/{}/v{}", w.id, v.version),
            since: fmt(from),
            entry: None,
            audience: Audience::of([p.as_str()]),
            about: About::ConfirmationsMissing {
                window: w.id.clone(),
                party: p.clone(),
                version: v.version,
                starts: v.terms.start.clone(),
                confirmed: units.len() - pending.len(),
                pending,
            },
        });
    }
}

/// The next instant after `at` at which an alert may become true with no new entry (a delay runs
/// out, a window's lead begins), so whoever watches knows when to look again.
pub fn next_change(r: &Running, at: Timestamp) -> Option<Timestamp> {
    let genesis = r.genesis.as_ref()?;
    let mut next: Option<Timestamp> = None;
    let mut consider = |t: Timestamp| {
        if t > at {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
    };
    for w in r.agreements.windows.values() {
        if let Some(v) = w.version_at(at)
            && w.agreed_at(v, at).is_some()
        {
            consider(plus(v.start(), -CONFIRMATION_LEAD_S));
        }
    }
    for op in r.operations.operations.values() {
        if op.outcome.is_none() && op.acks.len() < op.required_parties.len() {
            consider(plus(ts(&op.at_time), genesis.policy.ack_overdue_s));
        }
    }
    next
}
