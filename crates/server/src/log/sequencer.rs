//! The sequencing side of the log: what follows each commit (on the sequencer and on followers
//! alike), the sequencer's two-stage pipeline (decide batch k+1 while batch k is written), the
//! follower's catch-up, and the checkpointer. Everything here runs as a task `Log::open_with`
//! spawns; request handlers only queue jobs and read what these tasks publish.

use super::*;

/// What a batch changes beyond the tree: the log keys, the directory of signed readers and the
/// public agreements, each only if an entry of the batch can change it. Taken from the state
/// right after the batch was decided and published only once it commits, so nobody sees the
/// effect of a batch that may still fail, even while the sequencer is deciding the next one.
struct Effects {
    /// Tree size after the batch.
    size: u64,
    log_keys: Option<Vec<LogKeyEpoch>>,
    directory: Option<Directory>,
    agreements: Option<(
        Arc<corridor_core::agreement::Agreements>,
        Arc<Vec<corridor_core::negotiation::Document>>,
    )>,
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
            agreements: any(changes_agreements).then(|| {
                (
                    Arc::new(state.agreements.clone()),
                    Arc::new(super::published(state)),
                )
            }),
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
        if let Some((agreements, published)) = effects.agreements {
            let (size, root) = self.with_tree(|t| (t.size(), t.root()));
            self.snapshot.send_replace(Snapshot {
                agreements,
                published,
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
            published: Arc::new(super::published(&s)),
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
        if let Err(e) = self.load_cosigned().await {
            return (state, Err(e));
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
pub(super) async fn run(
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

pub(super) async fn checkpointer(log: Arc<Log>) {
    let mmd = log.genesis.policy.max_merge_delay_ms.max(4) as u64;
    let mut tick = tokio::time::interval(Duration::from_millis(mmd / 4));
    let mut last_sweep = Instant::now();
    loop {
        tick.tick().await;
        if last_sweep.elapsed() > Duration::from_secs(60) {
            log.services.limits.forget_idle();
            log.services
                .nonces
                .forget_expired(log.clock().now().as_second());
            last_sweep = Instant::now();
        }
        if let Err(e) = log.publish_checkpoint().await {
            tracing::error!(error = %e, "could not store a checkpoint");
        }
    }
}
