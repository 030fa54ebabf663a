//! The pure core of corridor.
//!
//! Everything that decides what the log *means* lives here: how a command is encoded and signed,
//! what an entry and its Merkle leaf are, which commands a given state accepts, and how state
//! follows from the entries. The crate does no I/O, reads no clock and draws no randomness: the
//! shell (server, CLI) passes in the instant, the salt and the bytes. That is what lets anyone
//! who holds the log replay it and get exactly the state the server had, which is the whole
//! point when the parties do not trust each other or the operator.
//!
//! Start reading at [`envelope`] (what a client sends), then [`entry`] (what the log stores),
//! then [`state`] (what the log means).

pub mod access;
pub mod agreement;
pub mod alerts;
pub mod backup;
pub mod chain;
pub mod channel;
pub mod checkpoint;
pub mod command;
pub mod crypto;
pub mod entry;
pub mod envelope;
pub mod error;
pub mod genesis;
pub mod geo;
pub mod httpsig;
pub mod hxl;
pub mod ids;
pub mod incident;
pub mod localtime;
pub mod matching;
pub mod negotiation;
pub mod operation;
pub mod receipt;
pub mod state;
pub mod time;
pub mod views;
pub mod witness;

pub use corridor_merkle as merkle;
pub use error::Rejection;

/// The protocol version named in every signature's domain-separation prefix. A new version gets
/// a new prefix, so a signature made under one can never be replayed as a command of another.
pub const PROTOCOL: &str = "corridor/v1";
