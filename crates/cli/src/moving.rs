//! Moving a log between backends, and keeping copies of it: `corridor import`, `backup` and
//! `restore`.
//!
//! Why these exist: an operator starts on the SQLite file and later moves to PostgreSQL (or
//! back, or to another machine), and must keep backups, without the log ever being re-signed.
//! Everything a monitor checks (the entries with their salts and signatures, and the signed
//! checkpoints) is carried verbatim, so the same checkpoints verify on the old and the new
//! database, and a client that saw a checkpoint before the move can prove the moved log
//! consistent with it.
//!
//! - `import` reads an export (`corridor export`, JSON Lines), verifies it completely as
//!   `corridor verify --export` does, and only then writes it into an empty database through
//!   [`Database::append`], with the projection rows the replay gives, and every checkpoint note
//!   as it was signed.
//! - `backup` / `restore` copy the database itself: SQLite with `VACUUM INTO` (a consistent copy
//!   while the server runs), PostgreSQL with `pg_dump --format=custom` / `pg_restore`. A
//!   restored log is verified like `corridor verify` before this says it is good.
//!
//! Neither the log's private key nor any person's key is in an export or a backup: the log key
//! stays the operator's to copy, and every command here says so.

use std::fs;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use corridor_core::entry::{DisclosedEntry, Entry};
use corridor_core::genesis::SignedGenesis;
use corridor_core::merkle::Hash;
use corridor_core::state::Replay;
use corridor_storage::{Database, StoredCheckpoint};
use corridor_storage_postgres::backup as pg_backup;
use corridor_storage_postgres::redact_url;
use corridor_storage_sqlite::backup as sqlite_backup;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::ops::{self, Verified, Verifier};

/// Entries written per transaction by `import`: large enough that a million-entry log takes a
/// hundred commits, small enough that one batch (and its projection rows) fits in memory easily.
const BATCH: usize = 10_000;

/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
/// The first bytes of a `pg_dump --format=custom` archive.
const PGDUMP_MAGIC: &[u8] = b"PGDMP";

/// `corridor import`: the arguments.
#[derive(Args)]
pub struct ImportArgs {
    /// The exported log (JSON Lines, from `corridor export`).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// The data directory: the SQLite log is written here (unless --database), and the genesis.
    #[arg(long, default_value = "./corridor-data")]
    data_dir: PathBuf,
    /// Import into this PostgreSQL database instead (postgres://user:password@host:5432/db).
    #[arg(long, env = "CORRIDOR_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
}

/// `corridor backup`: the arguments.
#[derive(Args)]
pub struct BackupArgs {
    /// Where to write the backup (refused if it exists).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The data directory whose SQLite log is backed up (unless --database).
    #[arg(long, default_value = "./corridor-data")]
    data_dir: PathBuf,
    /// Back up this PostgreSQL database instead, with pg_dump.
    #[arg(long, env = "CORRIDOR_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
}

/// `corridor restore`: the arguments.
#[derive(Args)]
pub struct RestoreArgs {
    /// The backup (from `corridor backup`).
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// The data directory to restore a SQLite backup into (it must hold no log yet).
    #[arg(long, default_value = "./corridor-data")]
    data_dir: PathBuf,
    /// Restore a PostgreSQL backup into this database instead (it must hold no log yet).
    #[arg(long, env = "CORRIDOR_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
}

/// Where a log lives, decided once from `--data-dir` and `--database` as `open_database` does,
/// because backup and restore work on the files and tools of each backend, not through
/// [`Database`].
#[derive(Clone, Copy)]
enum Target<'a> {
    /// The SQLite file of this data directory.
    Sqlite(&'a Path),
    /// This PostgreSQL URL.
    Postgres(&'a str),
}

impl<'a> Target<'a> {
    fn of(data_dir: &'a Path, database: Option<&'a str>) -> anyhow::Result<Self> {
        match database.filter(|d| !d.is_empty()) {
            Some(url) if corridor_storage_postgres::is_postgres_url(url) => {
                Ok(Target::Postgres(url))
            }
            Some(other) => bail!(
                "--database (or CORRIDOR_DATABASE_URL) must be a postgres:// or postgresql:// URL, not {:?}; leave it out to use the SQLite file in the data directory",
                redact_url(other)
            ),
            None => Ok(Target::Sqlite(data_dir)),
        }
    }

    /// How to name it in a message (never with a password).
    fn shown(&self) -> String {
        match self {
            Target::Sqlite(dir) => ops::db_path(dir).display().to_string(),
            Target::Postgres(url) => redact_url(url),
        }
    }

    /// What to do instead when it already holds a log.
    fn fresh_hint(&self) -> &'static str {
        match self {
            Target::Sqlite(_) => {
                "choose a new data directory with --data-dir (nothing is ever merged into or overwritten in an existing log)"
            }
            Target::Postgres(_) => {
                "create an empty database (`createdb NAME`) and name it with --database (nothing is ever merged into or overwritten in an existing log)"
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// import

/// One record of an export file.
enum Record {
    Entry(Entry),
    Checkpoint(StoredCheckpoint),
}

/// Read an export file record by record, as `verify --export` reads it. Both passes of `import`
/// read through this, so they cannot read the file differently.
fn read_export(path: &Path) -> anyhow::Result<impl Iterator<Item = anyhow::Result<Record>>> {
    let f = fs::File::open(path).with_context(|| {
        format!(
            "cannot open {} (make one with `corridor export --out FILE`)",
            path.display()
        )
    })?;
    let shown = path.display().to_string();
    Ok(std::io::BufReader::new(f)
        .lines()
        .enumerate()
        .map(move |(n, line)| {
            let at = || format!("{shown} line {}", n + 1);
            let line = line.with_context(at)?;
            let rec: Value = serde_json::from_str(&line).with_context(|| {
                format!("{}: not JSON; is this a `corridor export` file?", at())
            })?;
            Ok(match rec["kind"].as_str() {
                Some("entry") => {
                    let d: DisclosedEntry = serde_json::from_value(rec)
                        .with_context(|| format!("{}: not an entry", at()))?;
                    Record::Entry(d.to_entry().map_err(|e| anyhow::anyhow!("{}: {e}", at()))?)
                }
                Some("checkpoint") => Record::Checkpoint(StoredCheckpoint {
                    size: rec["size"]
                        .as_u64()
                        .with_context(|| format!("{}: checkpoint without size", at()))?,
                    note: rec["note"]
                        .as_str()
                        .with_context(|| format!("{}: checkpoint without note", at()))?
                        .to_string(),
                }),
                _ => bail!(
                    "{}: unknown record (expected \"kind\": \"entry\" or \"checkpoint\")",
                    at()
                ),
            })
        }))
}

/// What the first, verifying pass over an export found: what the second pass must see again.
struct CheckedExport {
    verified: Verified,
    /// Every entry's leaf hash, in order: the second pass checks each entry it writes against
    /// these, so a file changed between the passes is caught before a changed entry is written.
    leaves: Vec<Hash>,
    checkpoints: Vec<StoredCheckpoint>,
    genesis: SignedGenesis,
}

/// Verify an export completely, exactly as `corridor verify --export` does (the same
/// [`Verifier`]: signatures on every core, the replay, commitments, every checkpoint against the
/// genesis's log key and the recomputed root).
fn check_export(path: &Path) -> anyhow::Result<CheckedExport> {
    let mut v = Verifier::new();
    let mut page = Vec::new();
    let mut leaves = Vec::new();
    let mut checkpoints = Vec::new();
    let mut genesis = None;
    for rec in read_export(path)? {
        match rec? {
            Record::Entry(e) => {
                if genesis.is_none() && e.header.index == 0 {
                    genesis = serde_json::from_slice::<SignedGenesis>(&e.command).ok();
                }
                leaves.push(e.leaf_hash());
                page.push(e);
                if page.len() == 20_000 {
                    v.page(&page)?;
                    page.clear();
                }
            }
            Record::Checkpoint(cp) => checkpoints.push(cp),
        }
    }
    if !page.is_empty() {
        v.page(&page)?;
    }
    let n = v.checkpoints(&checkpoints)?;
    let verified = v.finish(n)?;
    // The replay accepted entry 0 as a genesis, so it parses; this is only the signed file form.
    let genesis = genesis.context("entry 0 is not a genesis")?;
    Ok(CheckedExport {
        verified,
        leaves,
        checkpoints,
        genesis,
    })
}

/// A progress bar on a terminal, nothing otherwise (as `verify` does).
fn progress(total: u64, what: &str) -> ProgressBar {
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} entries {what} ({{per_sec}}, eta {{eta}})"
        ))
        .expect("valid template"),
    );
    bar
}

/// `corridor import`: verify an export, then write it into an empty database, checkpoints
/// verbatim, so the log moves between backends (or machines) without being re-signed.
pub async fn import(a: ImportArgs) -> anyhow::Result<()> {
    let target = Target::of(&a.data_dir, a.database.as_deref())?;
    // An existing SQLite log is refused before the (long) verification; opening it writes nothing.
    if let Target::Sqlite(dir) = target
        && ops::db_path(dir).exists()
    {
        refuse_entries(&target, ops::open_existing(dir, None).await?.as_ref()).await?;
    }
    let checked = check_export(&a.input).map_err(|e| {
        e.context(format!(
            "{} does not verify, so nothing was imported",
            a.input.display()
        ))
    })?;
    let total = checked.leaves.len() as u64;
    eprintln!(
        "verified {} ({total} entries, {} checkpoints); importing into {}",
        a.input.display(),
        checked.checkpoints.len(),
        target.shown()
    );
    // Anything that could refuse is checked before the first write.
    genesis_file_fits(&a.data_dir, &checked.genesis)?;
    fs::create_dir_all(&a.data_dir)
        .with_context(|| format!("cannot create {}", a.data_dir.display()))?;
    let db = ops::open_database(&a.data_dir, a.database.as_deref()).await?;
    refuse_entries(&target, db.as_ref()).await?;

    let bar = progress(total, "written");
    let mut replay = Replay::trusting_signatures();
    let mut batch: Vec<Entry> = Vec::with_capacity(BATCH);
    let mut rows = Vec::new();
    let mut written = 0u64;
    let partial = |written: u64| {
        format!(
            "the import stopped after {written} of {total} entries, so {} now holds a partial log: empty it (or {}) and import again",
            target.shown(),
            target.fresh_hint()
        )
    };
    for rec in read_export(&a.input)? {
        let Record::Entry(e) = rec.with_context(|| partial(written))? else {
            continue;
        };
        let i = e.header.index as usize;
        // Signatures were checked in the first pass; the leaf hash binds this entry to the one
        // checked there (header, and through the commitment its salt, command and signature),
        // and the replay re-checks the commitment, so trusting signatures here is safe.
        if checked.leaves.get(i) != Some(&e.leaf_hash()) {
            bail!(
                "{} changed while it was imported (entry {i} is not the one verified); {}",
                a.input.display(),
                partial(written)
            );
        }
        rows.extend(
            replay
                .apply(&e)
                .map_err(|r| anyhow::anyhow!("entry {i} does not replay: {r}"))
                .with_context(|| partial(written))?,
        );
        batch.push(e);
        if batch.len() == BATCH {
            db.append(&batch, &rows)
                .await
                .with_context(|| partial(written))?;
            written += batch.len() as u64;
            bar.inc(batch.len() as u64);
            batch.clear();
            rows.clear();
        }
    }
    if !batch.is_empty() {
        db.append(&batch, &rows)
            .await
            .with_context(|| partial(written))?;
        written += batch.len() as u64;
    }
    bar.finish_and_clear();
    if written != total {
        bail!(
            "{} changed while it was imported (it now holds {written} entries, {total} were verified); {}",
            a.input.display(),
            partial(written)
        );
    }
    // Stored as signed: the checkpoints are the log operator's signatures over these roots, and
    // only verbatim notes let a client that saw one before the move check the moved log.
    for cp in &checked.checkpoints {
        db.add_checkpoint(cp).await.with_context(|| {
            format!(
                "the entries are imported but the checkpoints are not all stored; {}",
                partial(written)
            )
        })?;
    }
    write_genesis_file(&a.data_dir, &checked.genesis)?;
    let v = ops::verify_db(db.clone())
        .await
        .context("the imported log does not verify")?;
    println!(
        "imported {} entries and {} checkpoints of log {} into {} (verbatim, nothing re-signed)",
        v.entries,
        v.checkpoints,
        checked.verified.state.origin(),
        target.shown()
    );
    ops::print_verified(&v, true);
    print_next_steps(&a.data_dir, a.database.is_some());
    Ok(())
}

/// Refuse a database that already holds entries: an import or a restore makes a log, it never
/// merges into or overwrites one.
async fn refuse_entries(target: &Target<'_>, db: &dyn Database) -> anyhow::Result<()> {
    let size = db.size().await?;
    if size > 0 {
        bail!(
            "{} already holds a log of {size} entries; {}",
            target.shown(),
            target.fresh_hint()
        );
    }
    Ok(())
}

/// The data directory keeps a copy of the genesis (as `serve --genesis` leaves one there), for
/// `corridor genesis fingerprint` and the operator; a different genesis already there means the
/// directory belongs to another log, which is refused before anything is written.
fn genesis_file_fits(data_dir: &Path, genesis: &SignedGenesis) -> anyhow::Result<()> {
    let path = data_dir.join("genesis.json");
    if path.exists() && ops::read_genesis(&path)?.document != genesis.document {
        bail!(
            "{} is the genesis of another log than this one; choose a new data directory with --data-dir",
            path.display()
        );
    }
    Ok(())
}

/// Write DATA_DIR/genesis.json if it is missing. `serve` does not need it for a log that has
/// entries (it reads the genesis from entry 0), but the data directory of every other log has
/// one, and operators compare fingerprints from it.
fn write_genesis_file(data_dir: &Path, genesis: &SignedGenesis) -> anyhow::Result<()> {
    genesis_file_fits(data_dir, genesis)?;
    let path = data_dir.join("genesis.json");
    if !path.exists() {
        fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        fs::write(&path, serde_json::to_string_pretty(genesis)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The genesis of a stored log, from entry 0.
async fn stored_genesis(db: &dyn Database) -> anyhow::Result<SignedGenesis> {
    let first = db.entries(0, 1).await?;
    let e = first.first().context("the log is empty")?;
    serde_json::from_slice(&e.command).context("entry 0 is not a genesis")
}

/// What the operator still has to do: the log key is in no export or backup, on purpose.
fn print_next_steps(data_dir: &Path, postgres: bool) {
    let key = data_dir.join("log.key");
    if key.exists() {
        println!("log key: {} is in place", key.display());
    } else {
        println!(
            "next: copy the log's private key to {} (it is in no export or backup; keep it mode 0600), or give `corridor serve --log-key FILE`",
            key.display()
        );
    }
    println!(
        "then: corridor serve --data-dir {}{} (no --genesis needed: the log holds it)",
        data_dir.display(),
        if postgres { " --database URL" } else { "" }
    );
}

// ---------------------------------------------------------------------------------------------
// backup

/// `corridor backup`: a consistent copy of the log's database, taken while the server runs.
pub async fn backup(a: BackupArgs) -> anyhow::Result<()> {
    let target = Target::of(&a.data_dir, a.database.as_deref())?;
    if a.out.exists() {
        bail!(
            "{} exists; refusing to overwrite it (choose another --out)",
            a.out.display()
        );
    }
    // Written beside the destination and renamed when complete, so a crash or a failure never
    // leaves something at --out that looks like a backup.
    let tmp = partial_path(&a.out);
    if tmp.exists() {
        fs::remove_file(&tmp).with_context(|| format!("cannot remove {}", tmp.display()))?;
    }
    let result = match target {
        Target::Sqlite(dir) => backup_sqlite(dir, &tmp).await,
        Target::Postgres(url) => backup_postgres(url, &tmp).await,
    };
    let (size, checkpoint) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    };
    fs::File::open(&tmp)?.sync_all()?;
    fs::rename(&tmp, &a.out)?;
    println!(
        "backed up {} ({size} entries, last checkpoint at size {checkpoint}) to {}",
        target.shown(),
        a.out.display()
    );
    println!(
        "restore with: corridor restore --in {}{}; the log key is not in the backup, keep a copy of it apart",
        a.out.display(),
        match target {
            Target::Sqlite(_) => " --data-dir NEW_DIR",
            Target::Postgres(_) => " --database postgres://.../EMPTY_DB",
        }
    );
    Ok(())
}

fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

async fn backup_sqlite(data_dir: &Path, tmp: &Path) -> anyhow::Result<(u64, u64)> {
    let path = ops::db_path(data_dir);
    if !path.exists() {
        bail!(
            "{} holds no corridor log (no {}); name the log's data directory with --data-dir, or a PostgreSQL database with --database",
            data_dir.display(),
            path.display()
        );
    }
    let (size, _) = sqlite_backup::log_size(&path, false).await?;
    if size == 0 {
        bail!(
            "{} holds no entries yet: there is nothing to back up",
            path.display()
        );
    }
    Ok(sqlite_backup::backup_into(&path, tmp).await?)
}

async fn backup_postgres(url: &str, tmp: &Path) -> anyhow::Result<(u64, u64)> {
    let shown = redact_url(url);
    match pg_backup::log_size(url).await? {
        None => bail!(
            "{shown} holds no corridor log (no entries table); name the log's database with --database"
        ),
        Some(0) => bail!("{shown} holds no entries yet: there is nothing to back up"),
        Some(_) => {}
    }
    let file = tmp.to_str().with_context(|| {
        format!(
            "{} is not a UTF-8 path; choose another --out",
            tmp.display()
        )
    })?;
    Ok(pg_backup::dump(url, file).await?)
}

// ---------------------------------------------------------------------------------------------
// restore

/// What kind of backup a file is, from its first bytes.
#[derive(Debug, PartialEq, Eq)]
enum BackupKind {
    Sqlite,
    PgDump,
}

fn backup_kind(path: &Path) -> anyhow::Result<BackupKind> {
    let mut head = [0u8; 16];
    let mut f = fs::File::open(path).with_context(|| {
        format!(
            "cannot open {} (make a backup with `corridor backup --out FILE`)",
            path.display()
        )
    })?;
    let n = f.read(&mut head)?;
    if head[..n].starts_with(SQLITE_MAGIC) {
        Ok(BackupKind::Sqlite)
    } else if head[..n].starts_with(PGDUMP_MAGIC) {
        Ok(BackupKind::PgDump)
    } else {
        bail!(
            "{} is neither a SQLite backup nor a pg_dump archive (custom format); an export (JSON Lines) goes in with `corridor import --in FILE`",
            path.display()
        )
    }
}

/// `corridor restore`: put a backup back into an empty data directory or database, then verify
/// it as `corridor verify` does, so the restored log is known good before a server continues it.
pub async fn restore(a: RestoreArgs) -> anyhow::Result<()> {
    let target = Target::of(&a.data_dir, a.database.as_deref())?;
    let kind = backup_kind(&a.input)?;
    match (&kind, &target) {
        (BackupKind::Sqlite, Target::Sqlite(dir)) => restore_sqlite(&a.input, dir).await?,
        (BackupKind::PgDump, Target::Postgres(url)) => restore_postgres(&a.input, url).await?,
        (BackupKind::Sqlite, Target::Postgres(_)) => bail!(
            "{} is a SQLite backup; restore it into a data directory (--data-dir DIR, without --database or CORRIDOR_DATABASE_URL), or move the log to PostgreSQL with `corridor export` and `corridor import --database URL`",
            a.input.display()
        ),
        (BackupKind::PgDump, Target::Sqlite(_)) => bail!(
            "{} is a PostgreSQL backup (pg_dump); restore it into an empty PostgreSQL database with --database postgres://..., or move the log to SQLite with `corridor export` and `corridor import`",
            a.input.display()
        ),
    }
    let db = ops::open_existing(&a.data_dir, a.database.as_deref()).await?;
    let v = ops::verify_db(db.clone()).await.with_context(|| {
        format!(
            "the restored log in {} does not verify: the backup is damaged or not a corridor log; do not serve it",
            target.shown()
        )
    })?;
    let last = db.latest_checkpoint().await?.map_or(0, |c| c.size);
    println!(
        "restored {} into {}; its last checkpoint is at size {last}, and a server continues from there",
        a.input.display(),
        target.shown()
    );
    ops::print_verified(&v, true);
    write_genesis_file(&a.data_dir, &stored_genesis(db.as_ref()).await?)?;
    print_next_steps(&a.data_dir, a.database.is_some());
    Ok(())
}

async fn restore_sqlite(input: &Path, data_dir: &Path) -> anyhow::Result<()> {
    let path = ops::db_path(data_dir);
    let wal = path.with_extension("sqlite-wal");
    if path.exists() || wal.exists() {
        bail!(
            "{} already holds a log ({}); restore into a new data directory with --data-dir (nothing is ever overwritten)",
            data_dir.display(),
            path.display()
        );
    }
    // Check the backup is a corridor log before anything lands in the data directory
    // (immutable: the backup file is only read, no -wal or -shm appears beside it).
    let (size, _) = sqlite_backup::log_size(input, true).await?;
    if size == 0 {
        bail!(
            "{} holds no entries: it is not a backup of a log",
            input.display()
        );
    }
    fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let tmp = partial_path(&path);
    {
        let mut from = fs::File::open(input)?;
        let mut to =
            fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        std::io::copy(&mut from, &mut to)?;
        to.flush()?;
        to.sync_all()?;
    }
    fs::rename(&tmp, &path)?;
    // The rename is durable only once the directory is.
    if let Ok(d) = fs::File::open(data_dir) {
        d.sync_all().ok();
    }
    Ok(())
}

async fn restore_postgres(input: &Path, url: &str) -> anyhow::Result<()> {
    let shown = redact_url(url);
    let existing = pg_backup::log_size(url).await?;
    if let Some(n) = existing
        && n > 0
    {
        bail!(
            "{shown} already holds a corridor log of {n} entries; create an empty database (`createdb NAME`) and restore into it with --database (nothing is ever overwritten)"
        );
    }
    let file = input
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", input.display()))?;
    Ok(pg_backup::restore(url, file, existing == Some(0))?)
}
