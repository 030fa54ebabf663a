//! Down the chain of command: a party's units confirm that they received a window's terms and
//! every suspension, resumption, withdrawal or cancellation.
//!
//! In March 2022 corridors agreed at headquarters were fired on by units that had not been
//! told. An agreement must reach the units on the ground, and the party must be able to see
//! which of its units have it and which have not, while the window can still be saved. So each
//! `unit` actor signs a `unit.confirm` naming exactly what it received: the window's version by
//! hash, or one act by its entry index. A party sees its own units by name, with times; the
//! other party and the public see only counts (never identities, never positions: a confirmation
//! carries none), because a list of the other side's units is a target list.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Rejection;
use crate::agreement::{ActKind, Agreements, Ctx};
use crate::command::Role;
use crate::time::format_log_time;

/// `unit.confirm`: a unit confirms it received a window's terms (`version_hash`) or one act on
/// the window (`act_index`: a suspension, resumption, withdrawal or cancellation). Exactly one of
/// the two.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitConfirm {
    /// The window.
    pub window: String,
    /// The hash of the window version whose terms the unit received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_hash: Option<String>,
    /// The entry index of the act the unit received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act_index: Option<u64>,
}

/// What a unit confirmed: a notice of the window.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "kebab-case")]
pub enum Notice {
    /// The terms of a version.
    Terms {
        /// The version number.
        version: u32,
        /// Its hash.
        hash: String,
    },
    /// An act on the window.
    Act {
        /// The act's entry index.
        index: u64,
        /// One of [`CONFIRMED_ACTS`].
        kind: ActKind,
    },
}

/// One unit's confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The unit.
    pub unit: String,
    /// What it confirmed.
    #[serde(flatten)]
    pub notice: Notice,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
}

/// One party's confirmations for one window: a record of its own, readable by that party and
/// the intermediary only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyConfirmations {
    /// The window.
    pub window: String,
    /// The party.
    pub party: String,
    /// Confirmations in log order.
    pub confirmations: Vec<Confirmation>,
}

/// The record id of a party's confirmations for a window: `<party>/<window>` (a party id is one
/// segment, so the first `/` separates them).
pub fn confirmations_id(party: &str, window: &str) -> String {
    format!("{party}/{window}")
}

/// Acts a unit must confirm: those that change whether it may fire.
pub const CONFIRMED_ACTS: &[ActKind] = &[
    ActKind::Suspend,
    ActKind::Resume,
    ActKind::Withdraw,
    ActKind::Cancel,
];

/// Every party's unit confirmations, by [`confirmations_id`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    /// Records by id.
    pub confirmations: BTreeMap<String, PartyConfirmations>,
}

impl Chain {
    /// Decide and apply `unit.confirm`; the id of the changed record.
    pub fn confirm(
        &mut self,
        ctx: &Ctx,
        agreements: &Agreements,
        b: &UnitConfirm,
    ) -> Result<String, Rejection> {
        let party = match (ctx.role, ctx.party) {
            (Role::Unit, Some(p)) => p,
            _ => {
                return Err(Rejection::RoleNotAllowed {
                    actor: ctx.actor.to_string(),
                    role: ctx.role.as_str().to_string(),
                    action: "confirm receipt down the chain of command (units do)".into(),
                });
            }
        };
        let w = agreements.windows.get(&b.window).ok_or_else(|| {
            Rejection::rule("unknown-window", format!("no window {:?}", b.window))
        })?;
        let notice = match (&b.version_hash, b.act_index) {
            (Some(h), None) => {
                let v = w.versions.iter().find(|v| &v.hash == h).ok_or_else(|| {
                    Rejection::rule(
                        "unknown-version",
                        format!("window {} has no version with hash {h}", w.id),
                    )
                })?;
                if v.version != w.latest().version {
                    return Err(Rejection::rule(
                        "superseded-version",
                        format!(
                            "window {} is at version {} (hash {}); confirm the terms in force",
                            w.id,
                            w.latest().version,
                            w.latest().hash
                        ),
                    ));
                }
                Notice::Terms {
                    version: v.version,
                    hash: v.hash.clone(),
                }
            }
            (None, Some(i)) => {
                let act = w
                    .acts
                    .iter()
                    .find(|a| a.at_index == i && CONFIRMED_ACTS.contains(&a.kind))
                    .ok_or_else(|| {
                        Rejection::rule(
                            "unknown-act",
                            format!(
                                "window {} has no suspension, resumption, withdrawal or cancellation at entry {i}",
                                w.id
                            ),
                        )
                    })?;
                Notice::Act {
                    index: i,
                    kind: act.kind,
                }
            }
            _ => {
                return Err(Rejection::invalid(
                    "command.body",
                    "give exactly one of version_hash (the terms) and act_index (an act)",
                ));
            }
        };
        let id = confirmations_id(party, &w.id);
        let record = self
            .confirmations
            .entry(id.clone())
            .or_insert_with(|| PartyConfirmations {
                window: w.id.clone(),
                party: party.to_string(),
                confirmations: vec![],
            });
        if record
            .confirmations
            .iter()
            .any(|c| c.unit == ctx.actor && c.notice == notice)
        {
            return Err(Rejection::rule(
                "confirmation-repeated",
                format!("{} already confirmed this", ctx.actor),
            ));
        }
        record.confirmations.push(Confirmation {
            unit: ctx.actor.to_string(),
            notice,
            at_index: ctx.index,
            at_time: format_log_time(ctx.time),
        });
        Ok(id)
    }
}
