//! The log service: start-up, submission, receipts and checkpoints, as the request handlers
//! see them; the tasks that sequence, follow and checkpoint are in [`sequencer`].
//!
//! One task, the *sequencer*, owns the state and is the only writer. Request handlers verify
//! signatures on every core and queue the command; the sequencer drains the queue in batches,
//! decides each command against the state at the moment it is sequenced, writes the whole batch
//! in one durable transaction (group commit: one fsync for many commands), and only then
//! extends the in-memory Merkle tree and answers; each request handler then signs its own
//! receipt. Deciding and writing form a two-stage pipeline: while batch k is being written, the
//! sequencer decides batch k+1 against the state that already includes batch k, and a failed
//! write fails both (see `Sequencer`). The *checkpointer* signs a tree head from the tree,
//! which only ever holds committed entries, well within the maximum merge delay promised in
//! every receipt.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use corridor_core::Rejection;
use corridor_core::alerts::Running;
use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::{Keypair, PublicKey, b64};
use corridor_core::entry::{Entry, GENESIS_TYPE};
use corridor_core::envelope::{KeyLookup, SignedCommand};
use corridor_core::genesis::{GenesisDocument, SignedGenesis};
use corridor_core::merkle::MemoryTree;
use corridor_core::receipt::{Receipt, SignedReceipt};
use corridor_core::state::{LogKeyEpoch, Replay, State};
use corridor_core::time::{format_log_time, next_log_time};
use corridor_storage::{Database, DbError, StoredCheckpoint};
use tokio::sync::{mpsc, oneshot};

use crate::auth::{Directory, Nonces};
use crate::clock::Clock;
use crate::cluster::{Cluster, ClusterOptions, Role};
use crate::limits::Limits;

mod sequencer;

/// Most commands written in one transaction.
const MAX_BATCH: usize = 1024;
/// Entries read per query when loading the log.
const PAGE: u64 = 10_000;

/// Why a submission got no receipt.
#[derive(Debug)]
pub enum SubmitError {
    /// The command was refused; nothing was written.
    Rejected(Rejection),
    /// Storage failed; nothing was acknowledged. The client should resend the same bytes.
    Unavailable(String),
}

/// A receipt, and whether it is the original answer to an earlier copy of the same bytes.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The signed receipt.
    pub receipt: SignedReceipt,
    /// True when these exact bytes were already in the log.
    pub duplicate: bool,
}

/// A job's answer once its batch committed: the receipt, still unsigned (the submitting task
/// signs it, so receipts are signed on every core instead of one after another on the
/// sequencer), and whether it answers an earlier copy of the same bytes.
type Sequenced = Result<(Receipt, bool), SubmitError>;

struct Job {
    cmd: SignedCommand,
    reply: oneshot::Sender<Sequenced>,
}

/// The latest signed tree head.
#[derive(Debug, Clone)]
pub struct Head {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Its signed note.
    pub note: String,
}

/// The agreements as of a committed tree head: what the public site is built from. Sent by the
/// sequencer after every batch that changed an agreement (or revoked a key, which can void
/// consents), never for batches of incident reports, so a busy log does not rebuild the site.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Settlements, corridors, windows, declarations.
    pub agreements: Arc<corridor_core::agreement::Agreements>,
    /// The documents every party signed and agreed to publish.
    pub published: Arc<Vec<corridor_core::negotiation::Document>>,
    /// Tree size the agreements were read at.
    pub size: u64,
    /// Root hash at that size.
    pub root: corridor_core::merkle::Hash,
}

/// The published documents of `state`: what the public site shows of the register.
pub(crate) fn published(state: &State) -> Vec<corridor_core::negotiation::Document> {
    state
        .register
        .documents
        .values()
        .filter(|d| d.published)
        .cloned()
        .collect()
}

/// Entry types that can change what the public sees.
fn changes_agreements(entry_type: &str) -> bool {
    [
        "settlement.",
        "corridor.",
        "window.",
        "declaration.",
        "key.revoke",
        // A document published, or a published one revised (which unpublishes it).
        "document.",
    ]
    .iter()
    .any(|p| entry_type.starts_with(p))
}

/// The log keys: the epochs the log records (the genesis key, then each `log.rotate_key`), the
/// private keys this server holds, and the handover notes published so far.
struct LogKeys {
    epochs: Vec<LogKeyEpoch>,
    held: BTreeMap<String, Keypair>,
    /// Per epoch after the first: the first checkpoint at or after its start, signed by the
    /// previous key and its own.
    handovers: BTreeMap<u64, String>,
}

impl LogKeys {
    fn epoch_at(&self, size: u64) -> usize {
        self.epochs
            .iter()
            .rposition(|e| e.from_size <= size)
            .unwrap_or(0)
    }

    fn held(&self, i: usize) -> Option<&Keypair> {
        self.held.get(&self.epochs[i].key)
    }
}

/// Public keys the request handlers have decompressed already, shared by all of them (see
/// [`KeyLookup`]): a busy log hears the same few hundred keys all day. Bounded, because anyone
/// may send envelopes naming fresh keys: past [`MAX_PARSED_KEYS`] it starts again empty.
#[derive(Debug, Default)]
pub struct ParsedKeys {
    keys: RwLock<HashMap<String, PublicKey>>,
}

/// Most keys [`ParsedKeys`] holds.
pub const MAX_PARSED_KEYS: usize = 65_536;

impl KeyLookup for &ParsedKeys {
    fn lookup(&mut self, id: &str) -> Option<PublicKey> {
        self.keys.read().expect("not poisoned").get(id).copied()
    }

    fn remember(&mut self, id: String, key: PublicKey) {
        let mut keys = self.keys.write().expect("not poisoned");
        if keys.len() >= MAX_PARSED_KEYS {
            keys.clear();
        }
        keys.insert(id, key);
    }
}

/// The thread appends run on, with a current-thread runtime of its own: each statement of a
/// commit is a hand-off to the database driver and back, and on the shared runtime every one of
/// those returns waited in a queue behind the request handlers, so a busy server stretched its
/// own commits (BENCHMARKS.md, "Ingest"). Ends when the log is dropped.
struct Writer {
    handle: tokio::runtime::Handle,
    _stop: oneshot::Sender<()>,
}

impl Writer {
    fn start() -> std::io::Result<Writer> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = rt.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("corridor-writer".into())
            .spawn(move || {
                rt.block_on(async {
                    let _ = stopped.await;
                })
            })?;
        Ok(Writer {
            handle,
            _stop: stop,
        })
    }
}

/// What request handlers need beside the log itself, kept apart from the sequencing state the
/// sequencer owns and publishes: the signed-read nonces and abuse limits that `auth` checks, and
/// the alert hub, webhook sender and public site, each started once on first use. None of them
/// decides or writes an entry.
struct Services {
    nonces: Nonces,
    limits: Limits,
    alerts: OnceLock<Arc<crate::alerts::AlertHub>>,
    webhooks: OnceLock<Arc<crate::webhooks::Webhooks>>,
    public: OnceLock<Arc<crate::public::PublicSite>>,
    witnessing: OnceLock<Arc<crate::witnessing::Witnessing>>,
    /// The largest evidence file an upload may carry (`corridor serve --evidence-max-bytes`).
    evidence_max_bytes: std::sync::atomic::AtomicU64,
}

/// A running log: what the HTTP handlers share. The sequencing side (the queue, the tree, the
/// log keys, what each commit publishes) is driven by the tasks in [`sequencer`]; the request
/// side is in [`Services`].
pub struct Log {
    /// Where the sequencer's appends run.
    writer: Writer,
    /// Keys seen in submissions, parsed.
    parsed_keys: ParsedKeys,
    db: Arc<dyn Database>,
    genesis: GenesisDocument,
    keys: RwLock<LogKeys>,
    clock: Clock,
    tree: RwLock<MemoryTree>,
    head: RwLock<Option<Head>>,
    /// The latest checkpoint with witnesses' co-signatures (see [`crate::witnessing`]).
    cosigned: tokio::sync::watch::Sender<Option<Head>>,
    jobs: mpsc::Sender<Job>,
    snapshot: tokio::sync::watch::Sender<Snapshot>,
    /// What alerts are computed from, after every batch that changed it.
    running: tokio::sync::watch::Sender<Arc<Running>>,
    directory: RwLock<Arc<Directory>>,
    /// What request handlers use beside the log itself.
    services: Services,
    cluster: Option<Cluster>,
    role: RwLock<Role>,
    /// Woken when another instance announces an append.
    appended: tokio::sync::Notify,
    /// Set by [`Log::stop`]: never take the lease again.
    stopped: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("origin", &self.genesis.origin)
            .finish_non_exhaustive()
    }
}

fn random_salt() -> [u8; 32] {
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt).expect("the operating system provides randomness");
    salt
}

/// Load every entry, replaying it into state (signatures trusted: this is our own store;
/// `corridor verify` checks them) and into a Merkle tree. Also returns the idempotency index.
pub async fn load(
    db: &dyn Database,
) -> anyhow::Result<(Option<State>, MemoryTree, HashMap<(String, String), u64>)> {
    let size = db.size().await?;
    let mut replay = Replay::trusting_signatures();
    let mut tree = MemoryTree::new();
    let mut ids = HashMap::new();
    let mut start = 0;
    while start < size {
        let end = (start + PAGE).min(size);
        for e in db.entries(start, end).await? {
            let i = e.header.index;
            replay
                .apply(&e)
                .map_err(|r| anyhow::anyhow!("stored entry {i} does not replay: {r}"))?;
            tree.push(e.leaf_hash());
            ids.insert((e.actor.clone(), e.command_id.clone()), i);
        }
        start = end;
    }
    Ok((replay.into_state(), tree, ids))
}

impl Log {
    /// Open the log in `db`: create it from `genesis` if empty, else reload it. Refuses a
    /// simulated clock on a log whose genesis says it is real, and a log key that is not the one
    /// the genesis names.
    pub async fn open(
        db: Arc<dyn Database>,
        log_key: Keypair,
        genesis: Option<SignedGenesis>,
        clock: Clock,
    ) -> anyhow::Result<Arc<Log>> {
        Log::open_with_keys(db, log_key, vec![], genesis, clock).await
    }

    /// [`Log::open`], holding `other_keys` as well: the next log key, so that a
    /// `log.rotate_key` naming it can be accepted and the handover signed; or the previous one,
    /// if the server stopped between a rotation and its handover checkpoint.
    pub async fn open_with_keys(
        db: Arc<dyn Database>,
        log_key: Keypair,
        other_keys: Vec<Keypair>,
        genesis: Option<SignedGenesis>,
        clock: Clock,
    ) -> anyhow::Result<Arc<Log>> {
        Log::open_with(db, log_key, other_keys, genesis, clock, None).await
    }

    /// [`Log::open_with_keys`], as one instance of several on a shared database (see
    /// [`crate::cluster`]). On a database only one process may use (SQLite), `cluster` is
    /// ignored; on a shared one without it, the instance can sequence but followers cannot
    /// forward to it.
    pub async fn open_with(
        db: Arc<dyn Database>,
        log_key: Keypair,
        other_keys: Vec<Keypair>,
        genesis: Option<SignedGenesis>,
        clock: Clock,
        cluster: Option<ClusterOptions>,
    ) -> anyhow::Result<Arc<Log>> {
        let cluster = if db.shared() {
            let options = cluster.unwrap_or_else(|| ClusterOptions::at(""));
            let nats = match &options.nats {
                Some(url) => {
                    let origin = match &genesis {
                        Some(g) => g.document.origin.clone(),
                        None => stored_origin(db.as_ref()).await?,
                    };
                    Some(crate::nats::Announcer::connect(url, &origin).await?)
                }
                None => None,
            };
            Some(Cluster::new(options, nats))
        } else {
            None
        };
        // On a shared database, only the lease holder may write, the genesis included; the
        // others wait for it.
        let role = match &cluster {
            None => Role::Sequencer { epoch: 0 },
            Some(c) => match db
                .acquire_lease(&c.holder, &c.options.url, c.ttl_ms())
                .await?
            {
                Some(epoch) => Role::Sequencer { epoch },
                None => {
                    let deadline = Instant::now() + Duration::from_secs(60);
                    while db.size().await? == 0 {
                        if Instant::now() > deadline {
                            bail!(
                                "another instance holds the sequencer lease but has not written the genesis within 60 s; is it stuck?"
                            );
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Role::Follower {
                        sequencer: live_sequencer(db.as_ref()).await,
                    }
                }
            },
        };
        let (loaded, mut tree, mut ids) = load(db.as_ref()).await?;
        let state = match loaded {
            Some(s) => {
                if let Some(g) = &genesis
                    && g.document != s.genesis
                {
                    bail!("the data directory holds a log with another genesis than the one given");
                }
                s
            }
            None => {
                let g = genesis.context(
                    "this data directory holds no log yet: start it with a genesis file (--genesis FILE)",
                )?;
                g.verify()
                    .map_err(|r| anyhow::anyhow!("the genesis is not valid: {r}"))?;
                let now = next_log_time(clock.now(), None);
                let s = State::from_genesis(&g, now)?;
                let i = &g.document.intermediary;
                let entry = Entry::new(
                    0,
                    format_log_time(now),
                    GENESIS_TYPE,
                    &format!("{}/admin", i.id),
                    &i.admin_key,
                    "genesis",
                    random_salt(),
                    g.canonical(),
                    vec![],
                );
                db.append(
                    std::slice::from_ref(&entry),
                    &s.projection_rows().collect::<Vec<_>>(),
                )
                .await?;
                tree.push(entry.leaf_hash());
                ids.insert((entry.actor.clone(), "genesis".into()), 0);
                s
            }
        };
        let genesis = state.genesis.clone();
        if log_key.public().id() != state.log_key() {
            bail!(
                "the log key {} is not the one this log signs with now ({}{})",
                log_key.public(),
                state.log_key(),
                if state.log_keys.len() > 1 {
                    ", after a log.rotate_key"
                } else {
                    ", named in the genesis"
                }
            );
        }
        let mut held = BTreeMap::new();
        for k in std::iter::once(log_key).chain(other_keys) {
            held.insert(k.public().id(), k);
        }
        let mut keys = LogKeys {
            epochs: state.log_keys.clone(),
            held,
            handovers: BTreeMap::new(),
        };
        let stored = db.checkpoints().await?;
        for (i, e) in keys.epochs.iter().enumerate().skip(1) {
            if let Some(cp) = stored.iter().find(|c| c.size >= e.from_size) {
                keys.handovers.insert(i as u64, cp.note.clone());
            }
        }
        let last = keys.epochs.len() - 1;
        if last > 0 && !keys.handovers.contains_key(&(last as u64)) && keys.held(last - 1).is_none()
        {
            bail!(
                "the log key was rotated but the handover checkpoint was never published: start once with the previous log key as well (--other-log-key OLD.key)"
            );
        }
        let clock = clock.not_before(state.last_time);
        if clock.is_simulated() && !genesis.exercise {
            bail!(
                "this log is real (its genesis says exercise: false) and refuses a simulated clock"
            );
        }
        let (tx, rx) = mpsc::channel(8192);
        let (snapshot, _) = tokio::sync::watch::channel(Snapshot {
            agreements: Arc::new(state.agreements.clone()),
            published: Arc::new(published(&state)),
            size: tree.size(),
            root: tree.root(),
        });
        let (running, _) = tokio::sync::watch::channel(Arc::new(Running::of(&state)));
        let limits = Limits::new(&genesis.policy.rate_limits());
        let log = Arc::new(Log {
            writer: Writer::start().context("cannot start the writer thread")?,
            parsed_keys: ParsedKeys::default(),
            db: db.clone(),
            genesis,
            keys: RwLock::new(keys),
            clock,
            tree: RwLock::new(tree),
            head: RwLock::new(None),
            cosigned: tokio::sync::watch::Sender::new(None),
            jobs: tx,
            snapshot,
            running,
            directory: RwLock::new(Arc::new(Directory::of(&state))),
            services: Services {
                nonces: Nonces::default(),
                limits,
                alerts: OnceLock::new(),
                webhooks: OnceLock::new(),
                public: OnceLock::new(),
                witnessing: OnceLock::new(),
                evidence_max_bytes: crate::evidence::DEFAULT_MAX_BYTES.into(),
            },
            cluster,
            role: RwLock::new(role),
            appended: tokio::sync::Notify::new(),
            stopped: Default::default(),
        });
        if let Some(cp) = db.latest_checkpoint().await? {
            let key = log.log_key_at(cp.size);
            let verified = Checkpoint::verify(&cp.note, log.origin(), &key)
                .map_err(|r| anyhow::anyhow!("stored checkpoint does not verify: {r}"))?;
            *log.head.write().expect("not poisoned") = Some(Head {
                checkpoint: verified,
                note: cp.note,
            });
        }
        log.load_cosigned().await?;
        log.publish_checkpoint().await?;
        if let Some(c) = &log.cluster {
            let wake: corridor_storage::AppendWaker = {
                let log = Arc::downgrade(&log);
                Arc::new(move |_size| {
                    if let Some(log) = log.upgrade() {
                        log.appended.notify_one();
                    }
                })
            };
            match &c.nats {
                Some(nats) => nats.watch(wake).await?,
                None => {
                    if !log.db.watch_appends(wake).await? {
                        tracing::warn!("this database cannot announce appends; followers poll");
                    }
                }
            }
        }
        tokio::spawn(sequencer::run(log.clone(), state, ids, rx));
        tokio::spawn(sequencer::checkpointer(log.clone()));
        Ok(log)
    }

    /// This instance's part: the sequencer, or a follower (and whom it forwards to).
    pub fn role(&self) -> Role {
        self.role.read().expect("not poisoned").clone()
    }

    fn set_role(&self, role: Role) {
        let mut r = self.role.write().expect("not poisoned");
        if *r != role {
            tracing::info!(?role, "cluster role");
            metrics::gauge!("corridor_is_sequencer").set(
                if matches!(role, Role::Sequencer { .. }) {
                    1.0
                } else {
                    0.0
                },
            );
            *r = role;
        }
    }

    pub(crate) fn cluster(&self) -> Option<&Cluster> {
        self.cluster.as_ref()
    }

    /// Whether commands sent here are sequenced here (else they are forwarded).
    pub fn is_sequencer(&self) -> bool {
        matches!(self.role(), Role::Sequencer { .. })
    }

    /// Sign `message` with the current log key: how instances vouch for what they forward.
    pub(crate) fn sign_as_log(&self, message: &[u8]) -> [u8; 64] {
        self.signing_key(self.with_tree(|t| t.size())).sign(message)
    }

    /// The seed of the current log key, from which keys of other jobs are derived under labels
    /// of their own (the alert-stream tokens): every instance of a cluster holds it.
    pub(crate) fn token_seed(&self) -> [u8; 32] {
        self.signing_key(self.with_tree(|t| t.size())).seed()
    }

    /// Stop on purpose: cover the last entries with a checkpoint and, in a cluster, end the
    /// lease term now so a standby takes over at once rather than after the term.
    pub async fn stop(&self) -> Result<(), DbError> {
        self.publish_checkpoint().await?;
        self.stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let (Some(c), Role::Sequencer { epoch }) = (&self.cluster, self.role()) {
            self.set_role(Role::Follower { sequencer: None });
            self.db.release_lease(&c.holder, epoch).await?;
        }
        Ok(())
    }

    /// The actors and keys as of the last committed batch: who a signed read comes from.
    pub fn directory(&self) -> Arc<Directory> {
        self.directory.read().expect("not poisoned").clone()
    }

    /// The abuse limits of the genesis policy.
    pub fn limits(&self) -> &Limits {
        &self.services.limits
    }

    /// The nonces of signed reads seen within the freshness window.
    pub fn nonces(&self) -> &Nonces {
        &self.services.nonces
    }

    /// The largest evidence file an upload may carry, in bytes.
    pub fn evidence_max_bytes(&self) -> u64 {
        self.services
            .evidence_max_bytes
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Set the largest evidence file an upload may carry. Server configuration rather than
    /// genesis policy: it bounds what one request makes this server hold and store, and changes
    /// no outcome in the log (a refused upload is simply tried again, or the file shrunk).
    pub fn set_evidence_max_bytes(&self, bytes: u64) {
        self.services
            .evidence_max_bytes
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    fn publish_directory(&self, state: &State) {
        *self.directory.write().expect("not poisoned") = Arc::new(Directory::of(state));
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.genesis.origin
    }

    /// The genesis document.
    pub fn genesis(&self) -> &GenesisDocument {
        &self.genesis
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The storage.
    pub fn db(&self) -> &Arc<dyn Database> {
        &self.db
    }

    /// Run `f` on the committed tree.
    pub fn with_tree<T>(&self, f: impl FnOnce(&MemoryTree) -> T) -> T {
        f(&self.tree.read().expect("not poisoned"))
    }

    /// The agreements as of the latest committed batch that changed them; `changed()` on the
    /// receiver wakes whoever rebuilds what the public sees.
    pub fn snapshots(&self) -> tokio::sync::watch::Receiver<Snapshot> {
        self.snapshot.subscribe()
    }

    /// What alerts are computed from; `changed()` wakes the alert hub.
    pub fn running(&self) -> tokio::sync::watch::Receiver<Arc<Running>> {
        self.running.subscribe()
    }

    /// The alert hub (started on first use).
    pub fn alerts(self: &Arc<Self>) -> Arc<crate::alerts::AlertHub> {
        self.services
            .alerts
            .get_or_init(|| crate::alerts::AlertHub::start(self.clone()))
            .clone()
    }

    /// Start posting alerts to webhooks (only the first call starts it).
    pub fn start_webhooks(
        self: &Arc<Self>,
        opts: crate::webhooks::WebhookOptions,
    ) -> Arc<crate::webhooks::Webhooks> {
        self.services
            .webhooks
            .get_or_init(|| crate::webhooks::Webhooks::start(self.clone(), opts))
            .clone()
    }

    /// The webhook service, if started.
    pub fn webhooks(&self) -> Option<Arc<crate::webhooks::Webhooks>> {
        self.services.webhooks.get().cloned()
    }

    /// Start the public site, reached at `base_url` (absolute links in feeds and QR codes need
    /// it). Only the first call starts it.
    pub fn start_public(self: &Arc<Self>, base_url: &str) -> Arc<crate::public::PublicSite> {
        self.services
            .public
            .get_or_init(|| crate::public::PublicSite::start(self.clone(), base_url))
            .clone()
    }

    /// Start gathering the witnesses' co-signatures (only the first call starts it). Refused
    /// when `opts` names a witness the genesis does not.
    pub fn start_witnessing(
        self: &Arc<Self>,
        opts: crate::witnessing::WitnessOptions,
    ) -> anyhow::Result<()> {
        if self.services.witnessing.get().is_none() {
            let w = crate::witnessing::Witnessing::start(self.clone(), opts)?;
            let _ = self.services.witnessing.set(w);
        }
        Ok(())
    }

    /// The latest checkpoint with witnesses' co-signatures, if any was gathered.
    pub fn cosigned(&self) -> Option<Head> {
        self.cosigned.borrow().clone()
    }

    /// `head`'s note as served: with the witnesses' co-signature lines once they were gathered
    /// for it (clients ignore lines by keys they do not know, per C2SP signed-note).
    pub fn served_note(&self, head: &Head) -> String {
        match self.cosigned() {
            Some(c) if c.checkpoint.size == head.checkpoint.size => c.note,
            _ => head.note.clone(),
        }
    }

    /// Woken when a new co-signed checkpoint is served (the public site cites it).
    pub fn cosigned_changes(&self) -> tokio::sync::watch::Receiver<Option<Head>> {
        self.cosigned.subscribe()
    }

    pub(crate) fn set_cosigned(&self, head: Head) {
        // Never step back: a follower may read an older round after a newer one.
        self.cosigned.send_if_modified(|c| {
            let newer = c.as_ref().is_none_or(|old| {
                old.checkpoint.size < head.checkpoint.size
                    || (old.checkpoint.size == head.checkpoint.size
                        && old.note.len() < head.note.len())
            });
            if newer {
                *c = Some(head);
            }
            newer
        });
    }

    /// Serve the co-signed checkpoint stored last (at start, and on followers after each
    /// catch-up), once its log signature verifies.
    pub(crate) async fn load_cosigned(&self) -> Result<(), DbError> {
        let Some(cp) = self.db.latest_cosigned_checkpoint().await? else {
            return Ok(());
        };
        if cp.size > self.with_tree(|t| t.size()) {
            return Ok(());
        }
        match Checkpoint::verify(&cp.note, self.origin(), &self.log_key_at(cp.size)) {
            Ok(checkpoint) => self.set_cosigned(Head {
                checkpoint,
                note: cp.note,
            }),
            Err(r) => {
                tracing::error!(size = cp.size, %r, "a stored co-signed checkpoint does not verify")
            }
        }
        Ok(())
    }

    /// Whether [`Log::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The public site (started with a relative base URL if nobody started it yet).
    pub fn public(self: &Arc<Self>) -> Arc<crate::public::PublicSite> {
        self.start_public("")
    }

    /// The latest signed tree head.
    pub fn head(&self) -> Option<Head> {
        self.head.read().expect("not poisoned").clone()
    }

    /// Parse and check a submitted envelope (its signature included), with the keys seen before.
    pub fn parse(&self, envelope: &[u8]) -> Result<SignedCommand, Rejection> {
        SignedCommand::parse_with(envelope, self.origin(), &mut &self.parsed_keys)
    }

    /// Submit a verified command and wait for its receipt.
    pub async fn submit(&self, cmd: SignedCommand) -> Result<Accepted, SubmitError> {
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(Job { cmd, reply })
            .await
            .map_err(|_| SubmitError::Unavailable("the sequencer has stopped".into()))?;
        let (receipt, duplicate) = rx
            .await
            .map_err(|_| SubmitError::Unavailable("the sequencer has stopped".into()))??;
        let key = self.signing_key(receipt.index);
        Ok(Accepted {
            receipt: receipt.sign(&key),
            duplicate,
        })
    }

    /// The receipt for a committed entry, before the log key signs it.
    fn receipt(&self, e: &Entry) -> Receipt {
        Receipt {
            log: self.origin().to_string(),
            index: e.header.index,
            leaf_hash: b64(&e.leaf_hash()),
            time: e.header.time.clone(),
            salt: b64(&e.salt),
            max_merge_delay_ms: self.genesis.policy.max_merge_delay_ms,
            actor: e.actor.clone(),
            command_id: e.command_id.clone(),
        }
    }

    /// The private key that signs at tree size `size` (receipts: the size before the entry).
    /// A receipt repeated for an entry from before a rotation, once the old key is no longer
    /// held, is signed by the current key (clients accept any key of the chain).
    fn signing_key(&self, size: u64) -> Keypair {
        let keys = self.keys.read().expect("not poisoned");
        keys.held(keys.epoch_at(size))
            .or_else(|| keys.held(keys.epochs.len() - 1))
            .expect("the current log key is held (checked at open)")
            .clone()
    }

    /// The log public key that signs checkpoints of tree size `size`.
    pub fn log_key_at(&self, size: u64) -> PublicKey {
        let keys = self.keys.read().expect("not poisoned");
        PublicKey::parse(&keys.epochs[keys.epoch_at(size)].key).expect("log keys are valid")
    }

    /// Every log key with the size it signs from, and the handover note of each after the
    /// first: how a client that trusted an old key follows the chain to the current one.
    pub fn log_keys(&self) -> Vec<(LogKeyEpoch, Option<String>)> {
        let keys = self.keys.read().expect("not poisoned");
        keys.epochs
            .iter()
            .enumerate()
            .map(|(i, e)| (e.clone(), keys.handovers.get(&(i as u64)).cloned()))
            .collect()
    }

    /// Whether this server holds the private key `key` (so it may accept a rotation to it).
    fn holds(&self, key: &str) -> bool {
        self.keys
            .read()
            .expect("not poisoned")
            .held
            .contains_key(key)
    }

    fn record_rotation(&self, epochs: &[LogKeyEpoch]) {
        self.keys.write().expect("not poisoned").epochs = epochs.to_vec();
    }

    /// Sign and store a checkpoint for the committed tree if it grew since the last one. The
    /// checkpointer does this every quarter of the merge delay; a process that stops on purpose
    /// calls it once more, so its last entries are covered before it goes.
    pub async fn publish_checkpoint(&self) -> Result<(), DbError> {
        // Followers serve the sequencer's checkpoints; they sign none of their own.
        if !self.is_sequencer() {
            return Ok(());
        }
        let (size, root) = self.with_tree(|t| (t.size(), t.root()));
        if self.head().is_some_and(|h| h.checkpoint.size >= size) {
            return Ok(());
        }
        let cp = Checkpoint {
            origin: self.origin().to_string(),
            size,
            root,
        };
        // The first checkpoint of a new key's epoch is the handover: signed by the previous key
        // and the new one.
        let (note, handover) = {
            let keys = self.keys.read().expect("not poisoned");
            let i = keys.epoch_at(size);
            let current = keys.held(i).expect("the current log key is held");
            match (
                i > 0 && !keys.handovers.contains_key(&(i as u64)),
                i.checked_sub(1),
            ) {
                (true, Some(prev)) => {
                    let Some(old) = keys.held(prev) else {
                        return Err(DbError::Backend(
                            "the handover checkpoint needs the previous log key; restart with --other-log-key".into(),
                        ));
                    };
                    (cp.sign_by(&[old, current]), Some(i as u64))
                }
                _ => (cp.sign(current), None),
            }
        };
        self.db
            .add_checkpoint(&StoredCheckpoint {
                size,
                note: note.clone(),
            })
            .await?;
        if let Some(i) = handover {
            self.keys
                .write()
                .expect("not poisoned")
                .handovers
                .insert(i, note.clone());
        }
        *self.head.write().expect("not poisoned") = Some(Head {
            checkpoint: cp,
            note,
        });
        metrics::gauge!("corridor_checkpoint_size").set(size as f64);
        if let Some(nats) = self.cluster.as_ref().and_then(|c| c.nats.as_ref()) {
            nats.announce(size);
        }
        Ok(())
    }
}

/// The URL of the instance holding a live lease, if any.
async fn live_sequencer(db: &dyn Database) -> Option<String> {
    db.lease()
        .await
        .ok()
        .flatten()
        .filter(|l| l.live && !l.url.is_empty())
        .map(|l| l.url)
}

/// The origin of the log stored in `db` (from its genesis entry).
async fn stored_origin(db: &dyn Database) -> anyhow::Result<String> {
    let mut replay = Replay::trusting_signatures();
    let genesis = db.entries(0, 1).await?;
    let first = genesis
        .first()
        .context("the database holds no log yet: start it with a genesis file (--genesis FILE)")?;
    replay
        .apply(first)
        .map_err(|r| anyhow::anyhow!("stored genesis does not replay: {r}"))?;
    Ok(replay
        .into_state()
        .expect("a replayed genesis gives a state")
        .genesis
        .origin)
}
