//! The storage interface.
//!
//! As in atuin's server, there is one [`Database`] trait and one crate per backend
//! (`corridor-storage-sqlite`, the embedded default; `corridor-storage-postgres`), and the same
//! story test ([`story::run`]) runs against each.
//! Storage is a thin shell: it keeps entries, checkpoints and projection rows durably and hands
//! them back; it decides nothing. Every rule lives in `corridor-core`.
//!
//! Invariants every backend keeps:
//! - entry indices are dense from 0 and guarded by a unique key; (actor, command id) is unique;
//! - [`Database::append`] is atomic and durable when it returns `Ok` (the server sends a receipt
//!   only after that), and writes the projection rows in the same transaction;
//! - nothing is updated or deleted in the log; only projections are replaced by `rebuild`.

#[cfg(feature = "testkit")]
pub mod story;

use async_trait::async_trait;
use corridor_core::entry::Entry;
use corridor_core::merkle::Hash;
use corridor_core::state::ProjectionRow;

/// A storage failure. Messages never contain credentials.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A uniqueness guard refused the write (a gap, a fork, or a reused command id).
    #[error("storage conflict: {0}")]
    Conflict(String),
    /// Stored data could not be read back as an entry (corruption or a foreign database).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// This process no longer holds the sequencer lease it appended under: another instance
    /// took over. Nothing was written.
    #[error("the sequencer lease was lost: {0}")]
    LeaseLost(String),
    /// The backend failed (disk full, connection lost, ...).
    #[error("storage failed: {0}")]
    Backend(String),
}

/// Why a backup or restore step refused or failed, in words for the operator: the copy tools
/// of each backend (`backup` modules) are not appends, so they say what to do rather than
/// classify the failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BackupError(pub String);

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Tree size it covers.
    pub size: u64,
    /// The signed note, verbatim.
    pub note: String,
}

/// A projection row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    /// Record kind.
    pub kind: String,
    /// Record id.
    pub id: String,
    /// The record.
    pub body: serde_json::Value,
}

impl From<&ProjectionRow> for StoredRow {
    fn from(r: &ProjectionRow) -> Self {
        StoredRow {
            kind: r.kind.to_string(),
            id: r.id.clone(),
            body: r.body.clone(),
        }
    }
}

/// One authenticated read of confidential data, for the read audit: who read what, when, and
/// whom the data concerns (so the concerned party can inspect who read about it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRecord {
    /// Position in the audit trail, assigned by storage (ignored when recording).
    pub seq: u64,
    /// The log's clock at the read.
    pub at: String,
    /// Who read.
    pub actor: String,
    /// With which key.
    pub key: String,
    /// Path and query read.
    pub path: String,
    /// What was disclosed, e.g. `entry 12`, `incident inc-7`.
    pub items: Vec<String>,
    /// The affiliations the disclosed data is confined to.
    pub concerned: Vec<String>,
}

impl ReadRecord {
    /// A record as both backends store it: the lists as JSON text.
    pub fn from_stored(
        (seq, at, actor, key, path, items, concerned): (
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
        ),
    ) -> Result<ReadRecord, DbError> {
        let list = |t: &str| {
            serde_json::from_str::<Vec<String>>(t)
                .map_err(|e| DbError::Backend(format!("read_audit row {seq}: {e}")))
        };
        Ok(ReadRecord {
            seq: seq as u64,
            items: list(&items)?,
            concerned: list(&concerned)?,
            at,
            actor,
            key,
            path,
        })
    }

    /// The lists as stored: JSON text.
    pub fn stored_lists(&self) -> (String, String) {
        let json = |v: &Vec<String>| serde_json::to_string(v).expect("strings serialize");
        (json(&self.items), json(&self.concerned))
    }
}

/// Where an actor asked its alerts to be posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Random id, chosen by the server.
    pub id: String,
    /// The actor whose alerts it receives (what that actor may read, no more).
    pub actor: String,
    /// Where they are posted.
    pub url: String,
    /// The log's clock when it was added: alerts that became true before are not sent.
    pub created_at: String,
    /// Set when removed; the row stays for the delivery log.
    pub removed_at: Option<String>,
}

/// One attempt to deliver one alert to one webhook: the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Position in the delivery log, assigned by storage (ignored when recording).
    pub seq: u64,
    /// The webhook.
    pub webhook: String,
    /// The alert's id.
    pub alert: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The log's clock at the attempt.
    pub at: String,
    /// `delivered` (a 2xx answer), `retrying` (another attempt follows) or `gave-up` (the last).
    pub outcome: String,
    /// The receiver's status code, if it answered.
    pub http_status: Option<u16>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

impl Delivery {
    /// Whether no further attempt follows this one.
    pub fn is_final(&self) -> bool {
        self.outcome != "retrying"
    }
}

/// The sequencer lease as stored: which server instance may append to a shared database, in
/// which epoch, and where it takes commands (so the others can forward to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The instance holding it (a fresh id per process, so a restarted process starts a new
    /// epoch rather than resuming an old one).
    pub holder: String,
    /// Raised by every takeover; every append checks it, so a sequencer that lost the lease
    /// cannot write even if it has not noticed yet.
    pub epoch: u64,
    /// The holder's API base URL, e.g. `http://10.0.0.5:8080`.
    pub url: String,
    /// Whether the term is still running by the database's clock (an expired lease may be
    /// taken over).
    pub live: bool,
}

/// An evidence file as stored: its bytes, named by their SHA-256 (content-addressed, so the same
/// file uploaded for several reports, or twice, is kept once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFile {
    /// Lowercase hex of the SHA-256 of `bytes` (the server checks it; storage does not).
    pub sha256: String,
    /// The file.
    pub bytes: Vec<u8>,
}

/// That a file was uploaded as evidence of an incident: what lets the server decide who may
/// read the file (the audience of the incidents it is linked to). One per (file, incident,
/// commitment); the first upload's uploader and time are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceLink {
    /// The file's content address (lowercase hex SHA-256).
    pub sha256: String,
    /// The incident whose report commits to it.
    pub incident: String,
    /// The salt (lowercase hex, 32 bytes) that opens the commitment.
    pub salt: String,
    /// `corridor_core::incident::commitment(salt, sha256)`, as the report carries it.
    pub commitment: String,
    /// Who uploaded it.
    pub uploader: String,
    /// The log's clock at the upload.
    pub at: String,
}

/// Called by a backend that can announce appends made by other processes, with the new size.
pub type AppendWaker = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

/// What the server and the CLI need from storage.
#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// Append a batch of consecutive entries, starting at the current size, with the projection
    /// rows they changed (upserted), in one transaction that is on disk when this returns `Ok`.
    async fn append(&self, entries: &[Entry], rows: &[ProjectionRow]) -> Result<(), DbError>;

    /// Number of entries.
    async fn size(&self) -> Result<u64, DbError>;

    /// Entries with `start <= index < end`, in order.
    async fn entries(&self, start: u64, end: u64) -> Result<Vec<Entry>, DbError>;

    /// Leaf hashes with `start <= index < end`, in order (to rebuild the in-memory tree fast).
    async fn leaf_hashes(&self, start: u64, end: u64) -> Result<Vec<Hash>, DbError>;

    /// The entry of a command, by (actor, client command id), for idempotency.
    async fn find_command(&self, actor: &str, command_id: &str) -> Result<Option<Entry>, DbError>;

    /// Store a signed checkpoint (ignored if one for that size exists).
    async fn add_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<(), DbError>;

    /// Every stored checkpoint, by size.
    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, DbError>;

    /// The largest stored checkpoint.
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, DbError>;

    /// Store a checkpoint with witnesses' co-signatures (a new row each time: a later round may
    /// gather more co-signatures for the same size).
    async fn add_cosigned_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<(), DbError>;

    /// The co-signed checkpoint stored last for the largest size.
    async fn latest_cosigned_checkpoint(&self) -> Result<Option<StoredCheckpoint>, DbError>;

    /// Every projection row, ordered by (kind, id).
    async fn projection_rows(&self) -> Result<Vec<StoredRow>, DbError>;

    /// Projection rows of one kind, ordered by id.
    async fn projection_rows_of(&self, kind: &str) -> Result<Vec<StoredRow>, DbError>;

    /// One projection row.
    async fn projection_row(&self, kind: &str, id: &str) -> Result<Option<StoredRow>, DbError>;

    /// Replace all projection rows (used by `rebuild`), in one transaction.
    async fn replace_projections(&self, rows: &[ProjectionRow]) -> Result<(), DbError>;

    /// Append a record to the read audit, durably, before the data is sent.
    async fn record_read(&self, record: &ReadRecord) -> Result<(), DbError>;

    /// Read-audit records with `seq > after`, in order, at most `limit`.
    async fn reads(&self, after: u64, limit: u64) -> Result<Vec<ReadRecord>, DbError>;

    /// Add a webhook (its id must be new).
    async fn add_webhook(&self, webhook: &Webhook) -> Result<(), DbError>;

    /// Mark `actor`'s webhook `id` removed at `at`; false if it has no such webhook in force.
    async fn remove_webhook(&self, id: &str, actor: &str, at: &str) -> Result<bool, DbError>;

    /// Every webhook, removed ones included, oldest first.
    async fn webhooks(&self) -> Result<Vec<Webhook>, DbError>;

    /// Append one delivery attempt to the delivery log.
    async fn record_delivery(&self, delivery: &Delivery) -> Result<(), DbError>;

    /// A webhook's delivery attempts after `after`, oldest first, at most `limit`.
    async fn deliveries(
        &self,
        webhook: &str,
        after: u64,
        limit: u64,
    ) -> Result<Vec<Delivery>, DbError>;

    /// Store an evidence file and its link to an incident in one transaction that is on disk
    /// when this returns `Ok` (the server acknowledges an upload only after that). Idempotent:
    /// a file already stored is not stored again, and a link already there is kept as it was.
    /// Returns whether the link is new.
    async fn put_evidence(&self, file: &EvidenceFile, link: &EvidenceLink)
    -> Result<bool, DbError>;

    /// The links of the file with this content address, by incident then commitment (empty if
    /// none).
    async fn evidence_links(&self, sha256: &str) -> Result<Vec<EvidenceLink>, DbError>;

    /// The bytes of the file with this content address, if stored.
    async fn evidence(&self, sha256: &str) -> Result<Option<Vec<u8>>, DbError>;

    /// Whether several server processes may share this database, one of them sequencing under
    /// the lease below. False (the default) means one process owns the store, sequences from
    /// the start and needs no lease (SQLite: the server's own file).
    fn shared(&self) -> bool {
        false
    }

    /// Take the sequencer lease for `holder` (reachable at `url`) for `ttl_ms`, if nobody holds
    /// a live one: returns the new epoch, or `None` if another instance holds it. From then on
    /// [`Database::append`] through this handle checks, in its transaction, that the lease is
    /// still `holder`'s in that epoch, and refuses with [`DbError::LeaseLost`] otherwise.
    async fn acquire_lease(
        &self,
        _holder: &str,
        _url: &str,
        _ttl_ms: u64,
    ) -> Result<Option<u64>, DbError> {
        Ok(Some(1))
    }

    /// Extend `holder`'s lease of `epoch` by `ttl_ms` from now; false if it was taken over or
    /// its term ended (an ended term is over for good: take the lease anew).
    async fn renew_lease(&self, _holder: &str, _epoch: u64, _ttl_ms: u64) -> Result<bool, DbError> {
        Ok(true)
    }

    /// End `holder`'s lease of `epoch` now (a clean stop), so a standby takes over at once.
    async fn release_lease(&self, _holder: &str, _epoch: u64) -> Result<(), DbError> {
        Ok(())
    }

    /// The current lease, if any was ever taken.
    async fn lease(&self) -> Result<Option<Lease>, DbError> {
        Ok(None)
    }

    /// Ask to be told of appends committed by any process (the new size), so a follower
    /// catches up at once instead of at its next poll. Returns false if this backend cannot.
    async fn watch_appends(&self, _wake: AppendWaker) -> Result<bool, DbError> {
        Ok(false)
    }
}
