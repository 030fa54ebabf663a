//! Channels: threads of signed messages between the coordinators of the parties, the
//! intermediary and an organisation, about one corridor or one operation.
//!
//! The 2022 talks named "channels of communication and interaction" as part of what the
//! delegations agreed to build. A phone call leaves no record and a chat group leaves one that
//! either side can deny; here a message is a signed entry, and a message can require named sides
//! to acknowledge it, so "we told you at 09:12 and you confirmed at 09:15" is a fact of the log.
//!
//! A thread's participants are sides (parties, organisations), fixed when it is opened; the
//! intermediary is always one. Only they read it: for everyone else its entries are leaf data
//! only. A thread may be bilateral (one party and the intermediary), as proximity talks are.
//! Thread ids are scoped by the opener's side, like incident ids, so that no side learns of a
//! thread it is not in from an id collision. Units never post: a unit's message would name it
//! to the other side.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::Rejection;
use crate::agreement::{Agreements, Ctx};
use crate::command::MAX_TEXT;
use crate::genesis::GenesisDocument;
use crate::operation::Operations;
use crate::time::format_log_time;

/// Most messages one thread holds: a thread is a working channel, not an archive.
pub const MAX_MESSAGES: u64 = 10_000;

/// `thread.open`: a thread about a corridor or an operation (exactly one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadOpen {
    /// New thread id, `<side>/<name>`.
    pub thread: String,
    /// The corridor it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corridor: Option<String>,
    /// The operation it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The sides taking part, besides the opener's and the intermediary (always in).
    pub participants: Vec<String>,
    /// What it is about, in a line.
    pub subject: String,
}

/// `message.send`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageSend {
    /// The thread.
    pub thread: String,
    /// Message id, unique in the thread.
    pub message: String,
    /// The text.
    pub text: String,
    /// Sides that must acknowledge it (participants).
    #[serde(default)]
    pub ack_required: Vec<String>,
}

/// `message.ack`: the actor's side acknowledges a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageAck {
    /// The thread.
    pub thread: String,
    /// The message.
    pub message: String,
}

/// An acknowledgement of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageAckRecord {
    /// Who signed it.
    pub actor: String,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
}

/// A message as recorded: a record of its own (id [`message_id`]), so that a long thread is
/// never rewritten whole for one more line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Id in the thread.
    pub id: String,
    /// The thread.
    pub thread: String,
    /// The thread's participants (copied: who may read this record, from the record alone).
    pub participants: BTreeSet<String>,
    /// Who sent it.
    pub actor: String,
    /// The text.
    pub text: String,
    /// Sides that must acknowledge it.
    pub ack_required: Vec<String>,
    /// Acknowledgements by side.
    pub acks: BTreeMap<String, MessageAckRecord>,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
}

/// A thread with its messages in log order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    /// Id.
    pub id: String,
    /// The corridor it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corridor: Option<String>,
    /// The operation it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The subject.
    pub subject: String,
    /// The sides that read and write it.
    pub participants: BTreeSet<String>,
    /// Who opened it.
    pub actor: String,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
    /// How many messages it holds.
    pub messages: u64,
}

/// The record id of message `message` of thread `thread`: `#` is outside the id grammar, so the
/// two never run together.
pub fn message_id(thread: &str, message: &str) -> String {
    format!("{thread}#{message}")
}

/// The sides of a thread opened by `author` with `body`: the named ones, the opener's and the
/// intermediary's. A function of the command alone, so the entry's audience never changes.
pub fn thread_participants(
    genesis: &GenesisDocument,
    author: &str,
    body: &ThreadOpen,
) -> BTreeSet<String> {
    body.participants
        .iter()
        .map(String::as_str)
        .chain([
            crate::access::affiliation_of(author),
            genesis.intermediary.id.as_str(),
        ])
        .map(str::to_string)
        .collect()
}

/// Every thread.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Channels {
    /// Threads by id.
    pub threads: BTreeMap<String, Thread>,
    /// Messages by [`message_id`].
    pub messages: BTreeMap<String, Message>,
}

impl Channels {
    /// The thread `id` if the actor's side takes part in it. One it does not take part in
    /// answers exactly as one that does not exist.
    fn mine(&self, id: &str, ctx: &Ctx) -> Result<&Thread, Rejection> {
        self.threads
            .get(id)
            .filter(|t| t.participants.contains(ctx.affiliation))
            .ok_or_else(|| {
                Rejection::rule(
                    "not-a-participant",
                    format!("you take part in no thread {id:?}"),
                )
            })
    }

    /// Decide and apply `thread.open`.
    pub fn open(
        &mut self,
        ctx: &Ctx,
        agreements: &Agreements,
        operations: &Operations,
        b: &ThreadOpen,
    ) -> Result<String, Rejection> {
        let side = ctx.affiliation;
        if crate::access::affiliation_of(&b.thread) != side || !b.thread.contains('/') {
            return Err(Rejection::rule(
                "thread-id-not-scoped",
                format!(
                    "a thread id starts with your side's id: use \"{side}/{}\"",
                    b.thread.rsplit('/').next().unwrap_or(&b.thread)
                ),
            ));
        }
        if b.subject.trim().is_empty() || b.subject.len() > 256 {
            return Err(Rejection::invalid(
                "command.body.subject",
                "must be non-empty text of at most 256 bytes",
            ));
        }
        if self.threads.contains_key(&b.thread) {
            return Err(Rejection::rule(
                "thread-exists",
                format!("thread {:?} exists", b.thread),
            ));
        }
        match (&b.corridor, &b.operation) {
            (Some(c), None) => {
                if !agreements.corridors.contains_key(c) {
                    return Err(Rejection::rule(
                        "unknown-corridor",
                        format!("no corridor {c:?}"),
                    ));
                }
            }
            (None, Some(o)) => {
                // Only an operation the opener may read (the rule answers as for an unknown one).
                operations.readable_by(o, ctx)?;
            }
            _ => {
                return Err(Rejection::invalid(
                    "command.body",
                    "a thread is about exactly one corridor or one operation",
                ));
            }
        }
        let g = ctx.genesis;
        for p in &b.participants {
            let known = g.parties.iter().any(|x| &x.id == p)
                || g.organisations.iter().any(|x| &x.id == p)
                || g.intermediary.id == *p;
            if !known {
                return Err(Rejection::rule(
                    "unknown-affiliation",
                    format!("{p:?} is not a party, organisation or the intermediary"),
                ));
            }
        }
        let participants = thread_participants(g, ctx.actor, b);
        self.threads.insert(
            b.thread.clone(),
            Thread {
                id: b.thread.clone(),
                corridor: b.corridor.clone(),
                operation: b.operation.clone(),
                subject: b.subject.clone(),
                participants,
                actor: ctx.actor.to_string(),
                at_index: ctx.index,
                at_time: format_log_time(ctx.time),
                messages: 0,
            },
        );
        Ok(b.thread.clone())
    }

    /// Decide and apply `message.send`; the ids of the thread and the new message.
    pub fn send(&mut self, ctx: &Ctx, b: &MessageSend) -> Result<[String; 2], Rejection> {
        let t = self.mine(&b.thread, ctx)?;
        if b.text.trim().is_empty() || b.text.len() > MAX_TEXT {
            return Err(Rejection::invalid(
                "command.body.text",
                format!("must be non-empty text of at most {MAX_TEXT} bytes"),
            ));
        }
        if t.messages >= MAX_MESSAGES {
            return Err(Rejection::rule(
                "thread-full",
                format!(
                    "thread {} holds {MAX_MESSAGES} messages; open a new one",
                    t.id
                ),
            ));
        }
        let id = message_id(&t.id, &b.message);
        if self.messages.contains_key(&id) {
            return Err(Rejection::rule(
                "message-exists",
                format!("thread {} has a message {:?}", t.id, b.message),
            ));
        }
        if let Some(p) = b.ack_required.iter().find(|p| !t.participants.contains(*p)) {
            return Err(Rejection::rule(
                "ack-party-not-participant",
                format!("{p:?} does not take part in thread {}", t.id),
            ));
        }
        let mut ack_required = b.ack_required.clone();
        ack_required.sort();
        ack_required.dedup();
        let participants = t.participants.clone();
        let t = self.threads.get_mut(&b.thread).expect("checked");
        t.messages += 1;
        self.messages.insert(
            id.clone(),
            Message {
                id: b.message.clone(),
                thread: b.thread.clone(),
                participants,
                actor: ctx.actor.to_string(),
                text: b.text.clone(),
                ack_required,
                acks: BTreeMap::new(),
                at_index: ctx.index,
                at_time: format_log_time(ctx.time),
            },
        );
        Ok([b.thread.clone(), id])
    }

    /// Decide and apply `message.ack`; the id of the message.
    pub fn ack(&mut self, ctx: &Ctx, b: &MessageAck) -> Result<String, Rejection> {
        let t = self.mine(&b.thread, ctx)?;
        let id = message_id(&t.id, &b.message);
        let m = self.messages.get(&id).ok_or_else(|| {
            Rejection::rule(
                "unknown-message",
                format!("thread {} has no message {:?}", t.id, b.message),
            )
        })?;
        let side = ctx.affiliation;
        if !m.ack_required.iter().any(|p| p == side) {
            return Err(Rejection::rule(
                "ack-not-required",
                format!("message {} does not ask {side} to acknowledge it", m.id),
            ));
        }
        if m.acks.contains_key(side) {
            return Err(Rejection::rule(
                "ack-repeated",
                format!("{side} already acknowledged message {}", m.id),
            ));
        }
        let m = self.messages.get_mut(&id).expect("checked");
        m.acks.insert(
            side.to_string(),
            MessageAckRecord {
                actor: ctx.actor.to_string(),
                at_index: ctx.index,
                at_time: format_log_time(ctx.time),
            },
        );
        Ok(id)
    }
}
