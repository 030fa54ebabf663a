//! The log service: start-up, the sequencer and the checkpointer.
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
    /// Tree size the agreements were read at.
    pub size: u64,
    /// Root hash at that size.
    pub root: corridor_core::merkle::Hash,
}

/// Entry types that can change what the public sees.
fn changes_agreements(entry_type: &str) -> bool {
    [
        "settlement.",
        "corridor.",
        "window.",
        "declaration.",
        "key.revoke",
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

/// A running log: what the HTTP handlers share.
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
    jobs: mpsc::Sender<Job>,
    snapshot: tokio::sync::watch::Sender<Snapshot>,
    /// What alerts are computed from, after every batch that changed it.
    running: tokio::sync::watch::Sender<Arc<Running>>,
    alerts: OnceLock<Arc<crate::alerts::AlertHub>>,
    webhooks: OnceLock<Arc<crate::webhooks::Webhooks>>,
    public: OnceLock<Arc<crate::public::PublicSite>>,
    directory: RwLock<Arc<Directory>>,
    nonces: Nonces,
    limits: Limits,
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
            jobs: tx,
            snapshot,
            running,
            alerts: OnceLock::new(),
            webhooks: OnceLock::new(),
            public: OnceLock::new(),
            directory: RwLock::new(Arc::new(Directory::of(&state))),
            nonces: Nonces::default(),
            limits,
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
        tokio::spawn(run(log.clone(), state, ids, rx));
        tokio::spawn(checkpointer(log.clone()));
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
        &self.limits
    }

    /// The nonces of signed reads seen within the freshness window.
    pub fn nonces(&self) -> &Nonces {
        &self.nonces
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
        self.alerts
            .get_or_init(|| crate::alerts::AlertHub::start(self.clone()))
            .clone()
    }

    /// Start posting alerts to webhooks (only the first call starts it).
    pub fn start_webhooks(
        self: &Arc<Self>,
        opts: crate::webhooks::WebhookOptions,
    ) -> Arc<crate::webhooks::Webhooks> {
        self.webhooks
            .get_or_init(|| crate::webhooks::Webhooks::start(self.clone(), opts))
            .clone()
    }

    /// The webhook service, if started.
    pub fn webhooks(&self) -> Option<Arc<crate::webhooks::Webhooks>> {
        self.webhooks.get().cloned()
    }

    /// Start the public site, reached at `base_url` (absolute links in feeds and QR codes need
    /// it). Only the first call starts it.
    pub fn start_public(self: &Arc<Self>, base_url: &str) -> Arc<crate::public::PublicSite> {
        self.public
            .get_or_init(|| crate::public::PublicSite::start(self.clone(), base_url))
            .clone()
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

/// What a batch changes beyond the tree: the log keys, the directory of signed readers and the
/// public agreements, each only if an entry of the batch can change it. Taken from the state
/// right after the batch was decided and published only once it commits, so nobody sees the
/// effect of a batch that may still fail, even while the sequencer is deciding the next one.
struct Effects {
    /// Tree size after the batch.
    size: u64,
    log_keys: Option<Vec<LogKeyEpoch>>,
    directory: Option<Directory>,
    agreements: Option<Arc<corridor_core::agreement::Agreements>>,
    running: Option<Arc<Running>>,
}

/// Entry types that can change an alert: windows, what runs through them, and the actors and
/// keys that say which units are in force.
fn changes_running(entry_type: &str) -> bool {
    [
        "window.",
        "operation.",
        "unit.",
        "thread.",
        "message.",
        "actor.",
        "key.",
        "admin.",
    ]
    .iter()
    .any(|p| entry_type.starts_with(p))
}

impl Effects {
    fn of(state: &State, entries: &[Entry]) -> Effects {
        let any = |f: fn(&str) -> bool| entries.iter().any(|e| f(&e.entry_type));
        Effects {
            size: state.size,
            log_keys: any(|t| t == "log.rotate_key").then(|| state.log_keys.clone()),
            directory: any(|t| {
                t.starts_with("actor.") || t.starts_with("key.") || t == "admin.recover"
            })
            .then(|| Directory::of(state)),
            agreements: any(changes_agreements).then(|| Arc::new(state.agreements.clone())),
            running: any(changes_running).then(|| Arc::new(Running::of(state))),
        }
    }
}

impl Log {
    /// What follows a commit, on the sequencer and on followers alike: the tree grows, and the
    /// log keys, the directory of signed readers and the public snapshot follow the new entries.
    fn committed(&self, effects: Effects, entries: &[Entry]) {
        // A rotation takes effect before the tree grows past it, so the checkpointer signs the
        // first size of the new epoch as the handover (both keys), never with the old key alone.
        if let Some(epochs) = &effects.log_keys {
            self.record_rotation(epochs);
        }
        self.tree
            .write()
            .expect("not poisoned")
            .extend(entries.iter().map(Entry::leaf_hash));
        metrics::gauge!("corridor_log_size").set(effects.size as f64);
        if let Some(d) = effects.directory {
            *self.directory.write().expect("not poisoned") = Arc::new(d);
        }
        if let Some(running) = effects.running {
            self.running.send_replace(running);
        }
        if let Some(agreements) = effects.agreements {
            let (size, root) = self.with_tree(|t| (t.size(), t.root()));
            self.snapshot.send_replace(Snapshot {
                agreements,
                size,
                root,
            });
        }
    }

    /// Replace the state by a fresh load of the whole log: after a failed append, whose batch
    /// was decided against a state it changed.
    async fn reload(&self) -> anyhow::Result<(State, HashMap<(String, String), u64>)> {
        let (Some(s), tree, i) = load(self.db.as_ref()).await? else {
            bail!("the log is empty");
        };
        self.snapshot.send_replace(Snapshot {
            agreements: Arc::new(s.agreements.clone()),
            size: tree.size(),
            root: tree.root(),
        });
        self.running.send_replace(Arc::new(Running::of(&s)));
        self.publish_directory(&s);
        self.record_rotation(&s.log_keys);
        *self.tree.write().expect("not poisoned") = tree;
        Ok((s, i))
    }

    /// A follower's step: apply the entries other instances committed since `state`, and serve
    /// the latest stored checkpoint once the tree covers it.
    async fn catch_up(
        &self,
        state: State,
        ids: &mut HashMap<(String, String), u64>,
    ) -> (State, Result<(), DbError>) {
        // The checkpoint first: it covers only entries committed before it was read.
        let (checkpoint, size) = match (self.db.latest_checkpoint().await, self.db.size().await) {
            (Ok(c), Ok(n)) => (c, n),
            (Err(e), _) | (_, Err(e)) => return (state, Err(e)),
        };
        let mut replay = Replay::resume_trusting(state);
        let mut from = replay.state().expect("resumed").size;
        while from < size {
            let end = (from + PAGE).min(size);
            let entries = match self.db.entries(from, end).await {
                Ok(e) => e,
                Err(e) => return (replay.into_state().expect("resumed"), Err(e)),
            };
            for e in &entries {
                if let Err(r) = replay.apply(e) {
                    let i = e.header.index;
                    return (
                        replay.into_state().expect("resumed"),
                        Err(DbError::Corrupt(format!(
                            "stored entry {i} does not replay: {r}"
                        ))),
                    );
                }
                ids.insert((e.actor.clone(), e.command_id.clone()), e.header.index);
            }
            self.committed(
                Effects::of(replay.state().expect("resumed"), &entries),
                &entries,
            );
            from = end;
        }
        let state = replay.into_state().expect("resumed");
        if let Some(cp) = checkpoint
            && cp.size <= state.size
            && self.head().is_none_or(|h| h.checkpoint.size < cp.size)
        {
            let key = self.log_key_at(cp.size);
            match Checkpoint::verify(&cp.note, self.origin(), &key) {
                Ok(verified) => {
                    self.learn_handovers().await;
                    metrics::gauge!("corridor_checkpoint_size").set(cp.size as f64);
                    *self.head.write().expect("not poisoned") = Some(Head {
                        checkpoint: verified,
                        note: cp.note,
                    });
                }
                Err(r) => {
                    tracing::error!(size = cp.size, %r, "a stored checkpoint does not verify")
                }
            }
        }
        (state, Ok(()))
    }

    /// Read the handover checkpoints of epochs this instance did not publish itself.
    async fn learn_handovers(&self) {
        let missing = {
            let keys = self.keys.read().expect("not poisoned");
            (1..keys.epochs.len()).any(|i| !keys.handovers.contains_key(&(i as u64)))
        };
        if !missing {
            return;
        }
        let Ok(stored) = self.db.checkpoints().await else {
            return;
        };
        let mut keys = self.keys.write().expect("not poisoned");
        for i in 1..keys.epochs.len() {
            let from = keys.epochs[i].from_size;
            if let Some(cp) = stored.iter().find(|c| c.size >= from) {
                keys.handovers
                    .entry(i as u64)
                    .or_insert_with(|| cp.note.clone());
            }
        }
    }
}

/// What a job is waiting for.
enum Pending {
    /// The receipt of the batch's n-th entry.
    New(usize),
    /// The receipt of an earlier entry (the same bytes sent again).
    Duplicate(Receipt),
}

type Waiting = Vec<(oneshot::Sender<Sequenced>, Pending)>;

/// A batch decided against the state and not written yet.
#[derive(Default)]
struct Decided {
    entries: Vec<Entry>,
    rows: Vec<corridor_core::state::ProjectionRow>,
    waiting: Waiting,
}

/// A batch being written: its append runs as a task of its own while the sequencer decides the
/// next batch.
struct Writing {
    append: tokio::task::JoinHandle<Result<(), DbError>>,
    entries: Arc<Vec<Entry>>,
    waiting: Waiting,
    effects: Effects,
    started: Instant,
}

/// What became of a batch.
enum Batch {
    /// Written, or nothing to write.
    Done,
    /// The append failed; the state was reloaded. `lease_lost`: another instance sequences now.
    Failed { lease_lost: bool },
    /// The append failed and the log could not be reloaded: stop sequencing.
    Stop,
}

/// What the sequencer wakes up for.
enum Event {
    /// The batch being written is on disk, or failed.
    Written(Result<(), DbError>),
    /// This many jobs were taken from the queue (0: the queue closed).
    Jobs(usize),
    /// Time to renew the sequencer lease.
    Renew,
}

/// The sequencer's working set while it sequences. The batch being written and the batch being
/// decided form a two-stage pipeline: batch k+1 is decided while batch k commits, so the flush
/// no longer stalls sequencing. `state` and `ids` therefore run ahead of storage by up to two
/// batches; nothing is answered, and no effect published, before its own batch commits, and a
/// failed write fails the batch decided after it too (it was decided against a state that
/// included the failed one) and reloads both from storage.
struct Sequencer {
    log: Arc<Log>,
    state: State,
    ids: HashMap<(String, String), u64>,
    writing: Option<Writing>,
    next: Decided,
}

/// The end of the write in flight, if any (never, if none).
async fn written(writing: &mut Option<Writing>) -> Result<(), DbError> {
    match writing {
        Some(w) => (&mut w.append)
            .await
            .unwrap_or_else(|e| Err(DbError::Backend(format!("the append task failed: {e}")))),
        None => std::future::pending().await,
    }
}

/// The next lease renewal, if this sequencer renews one (never, if not).
async fn renewal(renew: Option<&mut tokio::time::Interval>) {
    match renew {
        Some(r) => {
            r.tick().await;
        }
        None => std::future::pending().await,
    }
}

impl Sequencer {
    /// Start sequencing from `state` (all of it committed).
    fn new(log: &Arc<Log>, state: State, ids: HashMap<(String, String), u64>) -> Sequencer {
        Sequencer {
            log: log.clone(),
            state,
            ids,
            writing: None,
            next: Decided::default(),
        }
    }

    /// Wait for the write in flight to end, for jobs (while the next batch has room) or for
    /// the lease renewal, whichever comes first.
    async fn next_event(
        &mut self,
        rx: &mut mpsc::Receiver<Job>,
        jobs: &mut Vec<Job>,
        renew: Option<&mut tokio::time::Interval>,
    ) -> Event {
        let room = MAX_BATCH.saturating_sub(self.next.entries.len());
        tokio::select! {
            biased;
            r = written(&mut self.writing) => Event::Written(r),
            _ = renewal(renew) => Event::Renew,
            n = rx.recv_many(jobs, room), if room > 0 => Event::Jobs(n),
        }
    }

    /// The entry at index `i`, which is committed or in one of the two batches.
    async fn entry(&self, i: u64) -> Result<Option<Entry>, DbError> {
        let next_from = self.state.size - self.next.entries.len() as u64;
        if let Some(pos) = i.checked_sub(next_from) {
            return Ok(self.next.entries.get(pos as usize).cloned());
        }
        if let Some(w) = &self.writing
            && let Some(pos) = i.checked_sub(w.entries[0].header.index)
        {
            return Ok(w.entries.get(pos as usize).cloned());
        }
        self.log.db.entries(i, i + 1).await.map(|mut v| v.pop())
    }

    /// Decide `jobs` against the state, adding what is accepted to the next batch. Refusals
    /// are answered at once: they write nothing.
    async fn decide(&mut self, jobs: &mut Vec<Job>) {
        let log = self.log.clone();
        for Job { cmd, reply } in jobs.drain(..) {
            let id_key = (cmd.actor.clone(), cmd.id.clone());
            if let Some(&i) = self.ids.get(&id_key) {
                match self.entry(i).await {
                    Ok(Some(e))
                        if e.command == cmd.command_bytes && e.signature == cmd.signature =>
                    {
                        let receipt = log.receipt(&e);
                        self.next.waiting.push((reply, Pending::Duplicate(receipt)));
                    }
                    Ok(_) => {
                        metrics::counter!("corridor_commands_rejected_total", "code" => "command-id-conflict")
                            .increment(1);
                        let _ =
                            reply.send(Err(SubmitError::Rejected(Rejection::CommandIdConflict {
                                actor: cmd.actor,
                                id: cmd.id,
                            })));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(SubmitError::Unavailable(e.to_string())));
                    }
                }
                continue;
            }
            // Whether this server holds the new key is said only to whoever may rotate it.
            if let corridor_core::command::Body::LogRotateKey(b) = &cmd.body
                && self
                    .state
                    .actors
                    .get(&cmd.actor)
                    .is_some_and(|a| corridor_core::access::may_issue(a.role, "log.rotate_key"))
                && !log.holds(&b.new_key)
            {
                let _ = reply.send(Err(SubmitError::Rejected(Rejection::rule(
                    "log-key-not-held",
                    "this server does not hold the new log key: restart it with --other-log-key NEW.key, then send the rotation again",
                ))));
                continue;
            }
            let time = next_log_time(log.clock.now(), Some(self.state.last_time));
            let index = self.state.size;
            match self.state.execute(&cmd, time) {
                Ok(changed) => {
                    self.next.rows.extend(changed);
                    let e = Entry::new(
                        index,
                        format_log_time(time),
                        cmd.body.type_name(),
                        &cmd.actor,
                        &cmd.key.id(),
                        &cmd.id,
                        random_salt(),
                        cmd.command_bytes,
                        cmd.signature.to_vec(),
                    );
                    self.ids.insert(id_key, index);
                    let n = self.next.entries.len();
                    self.next.waiting.push((reply, Pending::New(n)));
                    self.next.entries.push(e);
                }
                Err(r) => {
                    metrics::counter!("corridor_commands_rejected_total", "code" => r.code())
                        .increment(1);
                    let _ = reply.send(Err(SubmitError::Rejected(r)));
                }
            }
        }
    }

    /// If nothing is being written, start writing the next batch. A batch of duplicates alone
    /// is answered at once: every entry it names is committed.
    fn start_writing(&mut self) {
        if self.writing.is_some() {
            return;
        }
        let Decided {
            entries,
            rows,
            waiting,
        } = std::mem::take(&mut self.next);
        if entries.is_empty() {
            answer(waiting, |_| {
                unreachable!("a batch without entries has no new ones")
            });
            return;
        }
        let effects = Effects::of(&self.state, &entries);
        let entries = Arc::new(entries);
        let append = {
            let db = self.log.db.clone();
            let entries = entries.clone();
            self.log
                .writer
                .handle
                .spawn(async move { db.append(&entries, &rows).await })
        };
        self.writing = Some(Writing {
            append,
            entries,
            waiting,
            effects,
            started: Instant::now(),
        });
    }

    /// The write in flight ended: publish and answer its batch, or fail it and the next.
    async fn finish(&mut self, result: Result<(), DbError>) -> Batch {
        let Some(w) = self.writing.take() else {
            return Batch::Done;
        };
        let log = &self.log;
        if let Err(e) = result {
            let lease_lost = matches!(e, DbError::LeaseLost(_));
            tracing::error!(error = %e, "append failed; reloading state from storage");
            let next = std::mem::take(&mut self.next);
            for (reply, _) in w.waiting.into_iter().chain(next.waiting) {
                let _ = reply.send(Err(SubmitError::Unavailable(e.to_string())));
            }
            return match log.reload().await {
                Ok((s, i)) => {
                    self.state = s;
                    self.ids = i;
                    Batch::Failed { lease_lost }
                }
                Err(other) => {
                    tracing::error!(%other, "cannot reload the log; the sequencer stops");
                    Batch::Stop
                }
            };
        }
        let size = w.effects.size;
        log.committed(w.effects, &w.entries);
        if let Some(nats) = log.cluster.as_ref().and_then(|c| c.nats.as_ref()) {
            nats.announce(size);
        }
        metrics::counter!("corridor_commands_accepted_total").increment(w.entries.len() as u64);
        metrics::histogram!("corridor_append_batch_size").record(w.entries.len() as f64);
        metrics::histogram!("corridor_append_seconds").record(w.started.elapsed().as_secs_f64());
        answer(w.waiting, |n| log.receipt(&w.entries[n]));
        Batch::Done
    }

    /// Write and answer everything decided, then stop taking jobs: the queue closed, or this
    /// instance stops sequencing.
    async fn drain(&mut self) -> Batch {
        let mut outcome = Batch::Done;
        self.start_writing();
        while self.writing.is_some() {
            let r = written(&mut self.writing).await;
            match self.finish(r).await {
                Batch::Done => {}
                other => outcome = other,
            }
            if let Batch::Stop = outcome {
                return outcome;
            }
            self.start_writing();
        }
        outcome
    }
}

/// Answer the jobs of a committed batch; `receipt(n)` is the receipt of its n-th entry.
fn answer(waiting: Waiting, receipt: impl Fn(usize) -> Receipt) {
    for (reply, pending) in waiting {
        let answer = match pending {
            Pending::New(n) => (receipt(n), false),
            Pending::Duplicate(r) => (r, true),
        };
        let _ = reply.send(Ok(answer));
    }
}

/// The sequencer's task. Alone on its database, it sequences for good; in a cluster it follows
/// until it takes the lease, sequences while it holds it, and follows again when it loses it.
async fn run(
    log: Arc<Log>,
    mut state: State,
    mut ids: HashMap<(String, String), u64>,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    let Some(cluster) = log.cluster.as_ref() else {
        let mut seq = Sequencer::new(&log, state, ids);
        loop {
            match seq.next_event(&mut rx, &mut jobs, None).await {
                Event::Written(r) => {
                    if let Batch::Stop = seq.finish(r).await {
                        return;
                    }
                }
                Event::Jobs(0) => {
                    seq.drain().await;
                    return;
                }
                Event::Jobs(_) => seq.decide(&mut jobs).await,
                Event::Renew => {}
            }
            seq.start_writing();
        }
    };
    let renew_every = cluster.options.lease_ttl / 3;
    loop {
        let epoch = match log.role() {
            Role::Sequencer { epoch } => epoch,
            Role::Follower { .. } => {
                let (s, epoch) = follow(&log, cluster, state, &mut ids, &mut rx).await;
                state = s;
                epoch
            }
        };
        log.set_role(Role::Sequencer { epoch });
        let mut renew = tokio::time::interval(renew_every);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        renew.tick().await;
        let mut seq = Sequencer::new(&log, state, ids);
        let end = loop {
            match seq.next_event(&mut rx, &mut jobs, Some(&mut renew)).await {
                Event::Written(r) => match seq.finish(r).await {
                    Batch::Done | Batch::Failed { lease_lost: false } => {}
                    Batch::Failed { lease_lost: true } => break Batch::Done,
                    Batch::Stop => return,
                },
                Event::Jobs(0) => break Batch::Stop,
                Event::Jobs(_) => seq.decide(&mut jobs).await,
                Event::Renew => {
                    if log.stopped.load(std::sync::atomic::Ordering::SeqCst) {
                        break Batch::Done;
                    }
                    match log
                        .db
                        .renew_lease(&cluster.holder, epoch, cluster.ttl_ms())
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => break Batch::Done,
                        // Appends check the epoch themselves; keep trying.
                        Err(e) => tracing::warn!(error = %e, "could not renew the sequencer lease"),
                    }
                }
            }
            seq.start_writing();
        };
        // What is decided is written (or fails on the lease) before this term ends.
        let drained = seq.drain().await;
        if matches!(end, Batch::Stop) || matches!(drained, Batch::Stop) {
            return;
        }
        state = seq.state;
        ids = seq.ids;
        tracing::warn!(epoch, "lost the sequencer lease; following");
        log.set_role(Role::Follower {
            sequencer: live_sequencer(log.db.as_ref()).await,
        });
    }
}

/// Follow the log until this instance takes the lease; returns the state and the epoch.
async fn follow(
    log: &Arc<Log>,
    cluster: &Cluster,
    mut state: State,
    ids: &mut HashMap<(String, String), u64>,
    rx: &mut mpsc::Receiver<Job>,
) -> (State, u64) {
    let poll = cluster.options.poll;
    let try_every = cluster.options.lease_ttl / 3;
    let mut next_poll = Instant::now();
    let mut next_try = Instant::now() + try_every;
    loop {
        let now = Instant::now();
        if now >= next_poll {
            let (s, r) = log.catch_up(state, ids).await;
            state = s;
            if let Err(e) = r {
                tracing::warn!(error = %e, "could not catch up with the log");
            }
            next_poll = now + poll;
        }
        if now >= next_try && log.stopped.load(std::sync::atomic::Ordering::SeqCst) {
            // Stopping: never sequence again, but keep forwarding to whoever does.
            next_try = now + try_every;
            log.set_role(Role::Follower {
                sequencer: live_sequencer(log.db.as_ref()).await,
            });
        } else if now >= next_try {
            next_try = now + try_every;
            match log
                .db
                .acquire_lease(&cluster.holder, &cluster.options.url, cluster.ttl_ms())
                .await
            {
                Ok(Some(epoch)) => {
                    // Everything committed before the takeover, then sequence.
                    let (s, r) = log.catch_up(state, ids).await;
                    state = s;
                    match r {
                        Ok(()) => return (state, epoch),
                        Err(e) => {
                            tracing::error!(error = %e, "took the lease but cannot read the log; giving it back");
                            let _ = log.db.release_lease(&cluster.holder, epoch).await;
                        }
                    }
                }
                Ok(None) => log.set_role(Role::Follower {
                    sequencer: live_sequencer(log.db.as_ref()).await,
                }),
                Err(e) => tracing::warn!(error = %e, "could not check the sequencer lease"),
            }
        }
        let wake_at = next_poll.min(next_try);
        tokio::select! {
            _ = log.appended.notified() => next_poll = Instant::now(),
            _ = tokio::time::sleep_until(wake_at.into()) => {}
            job = rx.recv() => {
                // Queued just before this instance lost the lease.
                if let Some(job) = job {
                    let _ = job.reply.send(Err(SubmitError::Unavailable(
                        "this instance stopped sequencing; resend the same bytes".into(),
                    )));
                }
            }
        }
    }
}

async fn checkpointer(log: Arc<Log>) {
    let mmd = log.genesis.policy.max_merge_delay_ms.max(4) as u64;
    let mut tick = tokio::time::interval(Duration::from_millis(mmd / 4));
    let mut last_sweep = Instant::now();
    loop {
        tick.tick().await;
        if last_sweep.elapsed() > Duration::from_secs(60) {
            log.limits.forget_idle();
            log.nonces.forget_expired(log.clock().now().as_second());
            last_sweep = Instant::now();
        }
        if let Err(e) = log.publish_checkpoint().await {
            tracing::error!(error = %e, "could not store a checkpoint");
        }
    }
}
