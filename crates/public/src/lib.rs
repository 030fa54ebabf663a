//! The public site: what civilians, journalists and relief workers read, as a pure function of
//! the log's state, an instant and the checkpoint it was built from.
//!
//! Nothing here does I/O. The server calls [`build`] whenever the log's agreements change and
//! whenever the clock crosses a window boundary ([`model::next_boundary`]), compresses every
//! file once and serves the bytes as they are; `corridor publish` writes the same files to a
//! folder. Because the site is rebuilt, never patched, the server, the static mirror and a
//! replay of the log at the same instant all show the same thing.
//!
//! Only jointly agreed windows become public corridors ([`model`]); text shown as agreed is
//! text the parties signed; a party's unilateral declaration is shown as that party's statement.

pub mod feeds;
#[cfg(any(test, feature = "testkit"))]
pub mod fixture;
pub mod i18n;
pub mod map;
pub mod model;
pub mod pages;
pub mod sms;

use std::collections::BTreeMap;

use corridor_core::agreement::Agreements;
use corridor_core::genesis::GenesisDocument;
use jiff::Timestamp;

pub use model::Lang;

/// The signed tree head a site was built from: every page cites it, so a reader can check the
/// page against the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cited {
    /// Tree size.
    pub size: u64,
    /// Root hash, standard base64 (as in the checkpoint note).
    pub root: String,
    /// The latest checkpoint the genesis's witnesses co-signed, when the log has witnesses:
    /// pages cite it so a reader knows the history they show was shown to the witnesses too.
    pub witnessed: Option<CitedWitnesses>,
}

impl CitedWitnesses {
    /// What pages cite on a log with `policy` (`None` on a log without witnesses): who
    /// co-signed the latest co-signed checkpoint `cosigned` (its verified checkpoint and note;
    /// nobody if none was gathered yet), counted against the genesis, never taken on the
    /// server's word.
    pub fn of(
        policy: Option<&corridor_core::genesis::Witnesses>,
        cosigned: Option<(&corridor_core::checkpoint::Checkpoint, &str)>,
    ) -> Option<CitedWitnesses> {
        let policy = policy?;
        let (size, root, by) = match cosigned {
            Some((cp, note)) => (
                cp.size,
                corridor_core::crypto::b64(&cp.root),
                corridor_core::witness::quorum(note, policy)
                    .cosigned
                    .into_iter()
                    .map(|(name, _)| name)
                    .collect(),
            ),
            None => (0, String::new(), vec![]),
        };
        Some(CitedWitnesses {
            size,
            root,
            by,
            quorum: policy.quorum,
            of: policy.members.len(),
        })
    }
}

/// A co-signed checkpoint, as pages cite it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitedWitnesses {
    /// Its tree size (at most the site's).
    pub size: u64,
    /// Its root, standard base64.
    pub root: String,
    /// The witnesses whose co-signatures verify, in genesis order.
    pub by: Vec<String>,
    /// How many the genesis requires.
    pub quorum: u32,
    /// How many the genesis names.
    pub of: usize,
}

/// Everything a site is built from.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The log's genesis: parties, their names and zones, whether this is an exercise.
    pub genesis: &'a GenesisDocument,
    /// Settlements, corridors, windows and declarations, as the reducer left them.
    pub agreements: &'a Agreements,
    /// The instant the site shows (the exercise clock's now, on a simulated clock).
    pub at: Timestamp,
    /// The checkpoint the state was read at.
    pub checkpoint: &'a Cited,
    /// Absolute base URL of the public site without trailing slash (`https://corridors.example`),
    /// used where a link must be absolute (feeds, QR codes). Pages link relatively.
    pub base_url: &'a str,
    /// The documents of the negotiation register that every party signed and agreed to
    /// publish.
    pub documents: &'a [PublicDocument],
}

/// A published document, as the public site shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicDocument {
    /// The document with its signatures.
    pub document: corridor_core::negotiation::Document,
    /// Its bundle (JSON, `corridor_verify`'s format) for download, when the builder has one:
    /// the live server assembles it; a static copy points to the log server instead.
    pub bundle: Option<String>,
}

/// One file of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// The `Content-Type` to serve it with.
    pub content_type: &'static str,
    /// The bytes, uncompressed.
    pub body: Vec<u8>,
}

/// The whole public site, keyed by URL path (`/uk/`, `/uk/corridors/{id}/`, `/status.json`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Site {
    /// Files by URL path.
    pub files: BTreeMap<String, Asset>,
}

impl Site {
    /// Add a file.
    pub fn put(&mut self, path: impl Into<String>, content_type: &'static str, body: Vec<u8>) {
        self.files.insert(path.into(), Asset { content_type, body });
    }
}

/// HTML pages.
pub const HTML: &str = "text/html; charset=utf-8";
/// JSON.
pub const JSON: &str = "application/json";
/// Plain text (SMS).
pub const TEXT: &str = "text/plain; charset=utf-8";

/// Build the whole public site for `input.at`.
pub fn build(input: &Input) -> Site {
    let model = model::Public::new(input);
    let mut site = Site::default();
    site.put("/status.json", JSON, model::status_json(&model));
    pages::render(&model, &mut site);
    feeds::render(&model, &mut site);
    site
}
