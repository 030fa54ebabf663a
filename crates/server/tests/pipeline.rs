//! The sequencer's pipeline (`corridor_server::log`): batch k+1 is decided while batch k is
//! being written. These tests hold a write open with a gated database (real SQLite underneath,
//! only `append` waits for the test's word, or fails on it) to check what must stay true while
//! two batches are in flight: nothing is answered or published before its own batch commits, a
//! copy of a command still being written gets that command's receipt, and a failed write fails
//! the batch decided after it too, leaving no gap in the log.

mod common;

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use common::{T0, genesis, kp, report_body, sign};
use corridor_core::entry::Entry;
use corridor_core::merkle::Hash;
use corridor_core::state::ProjectionRow;
use corridor_server::{Accepted, Clock, Log, SubmitError};
use corridor_storage::{
    Database, DbError, Delivery, EvidenceFile, EvidenceLink, ReadRecord, StoredCheckpoint,
    StoredRow, Webhook,
};
use corridor_storage_sqlite::Sqlite;
use tokio::sync::{Semaphore, mpsc};

/// What the gated database does with the next append.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Next {
    Write,
    Fail,
}

/// SQLite whose `append` first announces itself, then waits until the test lets one through
/// (and writes it, or fails it without writing).
struct Gated {
    inner: Sqlite,
    gate: Semaphore,
    started: mpsc::UnboundedSender<usize>,
    plan: Mutex<Vec<Next>>,
}

#[async_trait]
impl Database for Gated {
    async fn append(&self, entries: &[Entry], rows: &[ProjectionRow]) -> Result<(), DbError> {
        let _ = self.started.send(entries.len());
        self.gate.acquire().await.expect("gate open").forget();
        let next = {
            let mut plan = self.plan.lock().unwrap();
            if plan.is_empty() {
                Next::Write
            } else {
                plan.remove(0)
            }
        };
        match next {
            Next::Write => self.inner.append(entries, rows).await,
            Next::Fail => Err(DbError::Backend("the disk said no (test)".into())),
        }
    }
    async fn size(&self) -> Result<u64, DbError> {
        self.inner.size().await
    }
    async fn entries(&self, start: u64, end: u64) -> Result<Vec<Entry>, DbError> {
        self.inner.entries(start, end).await
    }
    async fn leaf_hashes(&self, start: u64, end: u64) -> Result<Vec<Hash>, DbError> {
        self.inner.leaf_hashes(start, end).await
    }
    async fn find_command(&self, actor: &str, id: &str) -> Result<Option<Entry>, DbError> {
        self.inner.find_command(actor, id).await
    }
    async fn add_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<(), DbError> {
        self.inner.add_checkpoint(checkpoint).await
    }
    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, DbError> {
        self.inner.checkpoints().await
    }
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, DbError> {
        self.inner.latest_checkpoint().await
    }
    async fn add_cosigned_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<(), DbError> {
        self.inner.add_cosigned_checkpoint(checkpoint).await
    }
    async fn latest_cosigned_checkpoint(&self) -> Result<Option<StoredCheckpoint>, DbError> {
        self.inner.latest_cosigned_checkpoint().await
    }
    async fn projection_rows(&self) -> Result<Vec<StoredRow>, DbError> {
        self.inner.projection_rows().await
    }
    async fn projection_rows_of(&self, kind: &str) -> Result<Vec<StoredRow>, DbError> {
        self.inner.projection_rows_of(kind).await
    }
    async fn projection_row(&self, kind: &str, id: &str) -> Result<Option<StoredRow>, DbError> {
        self.inner.projection_row(kind, id).await
    }
    async fn replace_projections(&self, rows: &[ProjectionRow]) -> Result<(), DbError> {
        self.inner.replace_projections(rows).await
    }
    async fn record_read(&self, record: &ReadRecord) -> Result<(), DbError> {
        self.inner.record_read(record).await
    }
    async fn reads(&self, after: u64, limit: u64) -> Result<Vec<ReadRecord>, DbError> {
        self.inner.reads(after, limit).await
    }

    async fn add_webhook(&self, w: &Webhook) -> Result<(), DbError> {
        self.inner.add_webhook(w).await
    }

    async fn remove_webhook(&self, id: &str, actor: &str, at: &str) -> Result<bool, DbError> {
        self.inner.remove_webhook(id, actor, at).await
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, DbError> {
        self.inner.webhooks().await
    }

    async fn record_delivery(&self, d: &Delivery) -> Result<(), DbError> {
        self.inner.record_delivery(d).await
    }

    async fn deliveries(
        &self,
        webhook: &str,
        after: u64,
        limit: u64,
    ) -> Result<Vec<Delivery>, DbError> {
        self.inner.deliveries(webhook, after, limit).await
    }

    async fn put_evidence(
        &self,
        file: &EvidenceFile,
        link: &EvidenceLink,
    ) -> Result<bool, DbError> {
        self.inner.put_evidence(file, link).await
    }

    async fn evidence_links(&self, sha256: &str) -> Result<Vec<EvidenceLink>, DbError> {
        self.inner.evidence_links(sha256).await
    }

    async fn evidence(&self, sha256: &str) -> Result<Option<Vec<u8>>, DbError> {
        self.inner.evidence(sha256).await
    }
}

struct Rig {
    log: Arc<Log>,
    db: Arc<Gated>,
    started: mpsc::UnboundedReceiver<usize>,
    _dir: tempfile::TempDir,
}

impl Rig {
    /// A log on a gated database, its genesis already written.
    async fn start() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let (tx, started) = mpsc::unbounded_channel();
        let db = Arc::new(Gated {
            inner: Sqlite::open(&dir.path().join("corridor.sqlite"))
                .await
                .unwrap(),
            // The genesis goes through `append` too: let it pass.
            gate: Semaphore::new(1),
            started: tx,
            plan: Mutex::new(Vec::new()),
        });
        let clock = Clock::simulated(T0.parse().unwrap(), 1.0);
        let log = Log::open(db.clone(), kp(2), Some(genesis()), clock)
            .await
            .unwrap();
        let mut rig = Rig {
            log,
            db,
            started,
            _dir: dir,
        };
        assert_eq!(rig.next_write().await, 1, "the genesis");
        rig
    }

    /// Submit an envelope in a task of its own.
    fn submit(&self, envelope: &[u8]) -> tokio::task::JoinHandle<Result<Accepted, SubmitError>> {
        let log = self.log.clone();
        let cmd = log.parse(envelope).expect("a well-formed, signed envelope");
        tokio::spawn(async move { log.submit(cmd).await })
    }

    /// Wait until the sequencer starts a write; its number of entries.
    async fn next_write(&mut self) -> usize {
        tokio::time::timeout(Duration::from_secs(10), self.started.recv())
            .await
            .expect("a write starts")
            .expect("the database is alive")
    }

    /// Let one write through.
    fn release(&self) {
        self.db.gate.add_permits(1);
    }

    fn tree_size(&self) -> u64 {
        self.log.with_tree(|t| t.size())
    }
}

/// The answer of a submission, which must come within a few seconds.
async fn answer(
    task: tokio::task::JoinHandle<Result<Accepted, SubmitError>>,
) -> Result<Accepted, SubmitError> {
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("an answer")
        .expect("the task ran")
}

/// Give the sequencer time to take what is queued.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_answered_before_its_batch_commits_and_copies_get_the_first_receipt() {
    let mut rig = Rig::start().await;
    let a = sign(&kp(3), "ua/admin", "a", report_body("ua/inc-a"));
    let b = sign(&kp(4), "ru/admin", "b", report_body("ru/inc-b"));

    let first = rig.submit(&a);
    assert_eq!(rig.next_write().await, 1, "A is written alone");
    // While A is being written: a copy of A and a new command B are decided into the next batch.
    let copy = rig.submit(&a);
    let second = rig.submit(&b);
    settle().await;
    assert!(!first.is_finished() && !copy.is_finished() && !second.is_finished());
    assert_eq!(rig.tree_size(), 1, "the tree holds committed entries only");

    rig.release();
    let first = answer(first).await.unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.receipt.receipt.index, 1);
    assert_eq!(
        rig.next_write().await,
        1,
        "the next batch holds B only: the copy adds nothing"
    );
    settle().await;
    assert!(
        !copy.is_finished(),
        "the copy waits for the batch it was decided in"
    );
    assert_eq!(rig.tree_size(), 2);

    rig.release();
    let copy = answer(copy).await.unwrap();
    let second = answer(second).await.unwrap();
    assert!(copy.duplicate);
    assert_eq!(
        copy.receipt, first.receipt,
        "the same receipt as the first copy"
    );
    assert!(!second.duplicate);
    assert_eq!(second.receipt.receipt.index, 2, "no gap, no double entry");
    assert_eq!(rig.tree_size(), 3);
    assert_eq!(rig.db.size().await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_fails_the_batch_decided_after_it_and_leaves_no_gap() {
    let mut rig = Rig::start().await;
    let a = sign(&kp(3), "ua/admin", "a", report_body("ua/inc-a"));
    let b = sign(&kp(4), "ru/admin", "b", report_body("ru/inc-b"));
    rig.db.plan.lock().unwrap().push(Next::Fail);

    let first = rig.submit(&a);
    assert_eq!(rig.next_write().await, 1);
    let second = rig.submit(&b);
    settle().await;
    rig.release();
    // A's write fails: A is not acknowledged, and B, decided against a state holding A, is
    // failed with it rather than written after a gap.
    assert!(matches!(
        answer(first).await,
        Err(SubmitError::Unavailable(_))
    ));
    assert!(matches!(
        answer(second).await,
        Err(SubmitError::Unavailable(_))
    ));
    assert_eq!(rig.tree_size(), 1);
    assert_eq!(rig.db.size().await.unwrap(), 1);

    // Sent again, both are accepted at the next indices, as new entries (nothing of the failed
    // batches was remembered).
    let b_again = rig.submit(&b);
    assert_eq!(rig.next_write().await, 1);
    rig.release();
    let b_again = answer(b_again).await.unwrap();
    assert!(!b_again.duplicate);
    assert_eq!(b_again.receipt.receipt.index, 1);
    let a_again = rig.submit(&a);
    assert_eq!(rig.next_write().await, 1);
    rig.release();
    let a_again = answer(a_again).await.unwrap();
    assert!(!a_again.duplicate);
    assert_eq!(a_again.receipt.receipt.index, 2);
    assert_eq!(rig.db.size().await.unwrap(), 3);
    assert_eq!(rig.tree_size(), 3);
}
