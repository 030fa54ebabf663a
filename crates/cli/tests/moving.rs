//! `corridor import`, `backup` and `restore` as an operator meets them: a log moves from SQLite
//! to PostgreSQL and back with the very checkpoints it was signed with; a non-empty target and a
//! tampered export are refused before anything is written; a backup taken while the server runs
//! restores into a log that verifies, and a server on it continues consistently from the
//! backup's last checkpoint.
//!
//! The PostgreSQL tests use the server at `CORRIDOR_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and a fresh database per test, dropped at the end;
//! if it is unreachable they say so and pass, except under `CI=true`, where that is a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{admin, base_url, with_database};
use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::{PublicKey, unb64};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};

const ORIGIN: &str = "corridor.demo/march-2022-exercise";

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn corridor(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(args)
        .current_dir(dir)
        .env("CORRIDOR_HOME", dir.join("home"))
        .env_remove("CORRIDOR_DATABASE_URL")
        .env_remove("CORRIDOR_SERVER")
        .output()
        .expect("run corridor")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = corridor(dir, args);
    assert!(
        out.status.success(),
        "corridor {args:?} failed:\n{}",
        text(&out)
    );
    text(&out)
}

fn fails(dir: &Path, args: &[&str]) -> String {
    let out = corridor(dir, args);
    assert!(
        !out.status.success(),
        "corridor {args:?} should have failed:\n{}",
        text(&out)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// --- PostgreSQL: a fresh database per test, as crates/cli/tests/postgres.rs does -------------

/// A database of this test's own, dropped when the test ends (passed or failed).
struct PgDb {
    name: String,
    url: String,
}

impl PgDb {
    fn create() -> Option<PgDb> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "corridor_test_moving_{}_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        block(async {
            let mut admin = admin().await?;
            sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .unwrap();
            Some(())
        })?;
        let url = with_database(&base_url(), &name);
        Some(PgDb { name, url })
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        block(async move {
            if let Ok(mut admin) = PgConnection::connect(&base_url()).await {
                let _ = sqlx::query(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await;
            }
        });
    }
}

fn pg_checkpoints(url: &str) -> Vec<(i64, String)> {
    block(async {
        let mut c = PgConnection::connect(url).await.unwrap();
        sqlx::query_as("SELECT size, note FROM checkpoints ORDER BY size")
            .fetch_all(&mut c)
            .await
            .unwrap()
    })
}

fn pg_has_tables(url: &str) -> bool {
    block(async {
        let mut c = PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public')",
        )
        .fetch_one(&mut c)
        .await
        .unwrap()
    })
}

fn sqlite_checkpoints(db: &Path) -> Vec<(i64, String)> {
    block(async {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .create_if_missing(false);
        let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
        sqlx::query_as("SELECT size, note FROM checkpoints ORDER BY size")
            .fetch_all(&mut c)
            .await
            .unwrap()
    })
}

// --- servers -----------------------------------------------------------------------------------

struct Server {
    child: std::process::Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `corridor ARGS --listen 127.0.0.1:PORT` and wait until it listens.
fn start(dir: &Path, args: &[&str]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.join(format!("server-{port}.log"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(args)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .env_remove("CORRIDOR_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    for _ in 0..400 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Server {
                child,
                url: format!("http://127.0.0.1:{port}"),
            };
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "corridor {args:?} exited ({status}):\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("corridor {args:?} did not start listening");
}

fn get(url: &str) -> String {
    block(async {
        let r = reqwest::get(url).await.unwrap();
        assert!(r.status().is_success(), "GET {url}: {}", r.status());
        r.text().await.unwrap()
    })
}

fn with_server(dir: &Path, server: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(args)
        .current_dir(dir)
        .env("CORRIDOR_HOME", dir.join("home"))
        .env("CORRIDOR_SERVER", server)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "corridor {args:?} failed:\n{}",
        text(&out)
    );
    text(&out)
}

/// A server started on a restored log serves the backup's last checkpoint, accepts a new
/// command, and signs a new checkpoint that is provably consistent with the backup's last one,
/// both for `corridor monitor` (which remembers the checkpoint it saw) and by the proof itself.
fn continues_consistently(dir: &Path, serve: &[&str], backup_last: &(i64, String)) {
    let log_key = PublicKey::parse(
        std::fs::read_to_string(dir.join("demo/log.key.pub"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let old = Checkpoint::verify(&backup_last.1, ORIGIN, &log_key).unwrap();
    assert_eq!(old.size, backup_last.0 as u64);
    let server = start(dir, serve);
    let served = get(&format!("{}/v1/log/checkpoint", server.url));
    // The log's own note byte for byte; the demo's witnesses may have co-signed it (their lines
    // come after the log's signature, and the backup keeps them too).
    assert!(
        served.starts_with(&backup_last.1),
        "the restored server serves the backup's last checkpoint, byte for byte:\n{served}\n{}",
        backup_last.1
    );
    // `monitor` remembers this head; every later contact must be consistent with it.
    let out = with_server(dir, &server.url, &["monitor"]);
    assert!(out.contains(&format!("at size {}", old.size)), "{out}");
    std::fs::write(
        dir.join("incident.json"),
        serde_json::json!({"type": "incident.report", "incident": format!("ua/after-restore-{}", old.size),
            "occurred_at": "2022-03-03T14:20:00Z",
            "location": {"lat_e7": 506300000, "lon_e7": 299000000},
            "category": "gunfire", "accused_party": "ru",
            "description": "Reported after the log was restored."})
        .to_string(),
    )
    .unwrap();
    let out = with_server(
        dir,
        &server.url,
        &[
            "submit",
            "--key",
            "demo/keys/ua-coord-kyiv-oblast.key",
            "incident.json",
        ],
    );
    assert!(
        out.contains(&format!("accepted as entry {}", old.size)),
        "{out}"
    );
    // The checkpointer signs the new head within a quarter of the merge delay.
    let mut new = None;
    for _ in 0..100 {
        let note = get(&format!("{}/v1/log/checkpoint", server.url));
        let cp = Checkpoint::verify(&note, ORIGIN, &log_key).unwrap();
        if cp.size > old.size {
            new = Some(cp);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let new = new.expect("a new checkpoint after the new command");
    assert_eq!(new.size, old.size + 1);
    let out = with_server(dir, &server.url, &["monitor"]);
    assert!(
        out.contains(&format!("at size {}", new.size)) && out.contains("consistent"),
        "{out}"
    );
    let proof: serde_json::Value = serde_json::from_str(&get(&format!(
        "{}/v1/log/proof/consistency?from={}&to={}",
        server.url, old.size, new.size
    )))
    .unwrap();
    let proof: Vec<[u8; 32]> = proof["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            unb64("proof", h.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect();
    corridor_core::merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof)
        .expect("the new checkpoint is consistent with the backup's last one");
}

/// An evidence file as storage keeps it (storage decides nothing, so no report is needed):
/// what a backup must carry, since it is nowhere in the log.
fn evidence() -> (
    corridor_storage::EvidenceFile,
    corridor_storage::EvidenceLink,
) {
    let file = corridor_storage::EvidenceFile {
        sha256: "e7".repeat(32),
        bytes: b"a photo of the checkpoint".to_vec(),
    };
    let link = corridor_storage::EvidenceLink {
        sha256: file.sha256.clone(),
        incident: "ua/backed-up".into(),
        salt: "5a".repeat(32),
        commitment: "c0".repeat(32),
        uploader: "ua/coord-kyiv-oblast".into(),
        at: "2022-03-03T14:50:00.000000Z".into(),
    };
    (file, link)
}

/// Store [`evidence`] in `db`.
async fn put_evidence(db: &dyn corridor_storage::Database) {
    let (file, link) = evidence();
    assert!(db.put_evidence(&file, &link).await.unwrap());
}

/// `db` holds [`evidence`], file and link.
async fn has_evidence(db: &dyn corridor_storage::Database) {
    let (file, link) = evidence();
    assert_eq!(
        db.evidence(&file.sha256).await.unwrap(),
        Some(file.bytes),
        "the backup carries the evidence files"
    );
    assert_eq!(db.evidence_links(&file.sha256).await.unwrap(), vec![link]);
}

/// The demo log (59 entries) and its export.
fn demo_and_export(dir: &Path) -> PathBuf {
    ok(dir, &["demo", "--data-dir", "demo", "--no-serve"]);
    let out = ok(
        dir,
        &["export", "--data-dir", "demo", "--out", "demo.jsonl"],
    );
    assert!(out.contains("exported 59 entries"), "{out}");
    dir.join("demo.jsonl")
}

/// The export with one byte changed inside a signed command.
fn tampered(export: &Path) -> PathBuf {
    let text = std::fs::read_to_string(export).unwrap();
    let at = text.find("Borodianka").expect("the demo names Borodianka") + "Borodiank".len();
    let mut bytes = text.into_bytes();
    assert_eq!(bytes[at], b'a');
    bytes[at] = b'o';
    let path = export.with_file_name("tampered.jsonl");
    std::fs::write(&path, bytes).unwrap();
    path
}

// --- the tests ---------------------------------------------------------------------------------

#[test]
fn a_log_moves_sqlite_to_postgres_and_back_with_the_same_checkpoints() {
    let Some(pg) = PgDb::create() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let export = demo_and_export(dir);
    let source = sqlite_checkpoints(&dir.join("demo/corridor.sqlite"));
    assert!(!source.is_empty(), "the demo signed checkpoints");
    let url = pg.url.as_str();

    // A tampered export is refused before anything reaches the database.
    let bad = tampered(&export);
    let err = fails(
        dir,
        &[
            "import",
            "--in",
            bad.to_str().unwrap(),
            "--database",
            url,
            "--data-dir",
            "pg",
        ],
    );
    assert!(
        err.contains("commitment") && err.contains("nothing was imported"),
        "{err}"
    );
    assert!(!pg_has_tables(url), "a refused import creates no tables");
    assert!(!dir.join("pg").exists());

    let out = ok(
        dir,
        &[
            "import",
            "--in",
            "demo.jsonl",
            "--database",
            url,
            "--data-dir",
            "pg",
        ],
    );
    assert!(
        out.contains(&format!(
            "imported 59 entries and {} checkpoints",
            source.len()
        )) && out.contains("ok: 59 entries")
            && out.contains("log.key"),
        "{out}"
    );
    let out = ok(dir, &["verify", "--data-dir", "pg", "--database", url]);
    assert!(out.contains("ok: 59 entries"), "{out}");
    assert_eq!(
        pg_checkpoints(url),
        source,
        "checkpoints are stored verbatim"
    );
    ok(
        dir,
        &[
            "export",
            "--data-dir",
            "pg",
            "--database",
            url,
            "--out",
            "pg.jsonl",
        ],
    );
    assert_eq!(
        std::fs::read(dir.join("pg.jsonl")).unwrap(),
        std::fs::read(&export).unwrap(),
        "the log exported from PostgreSQL is the log exported from SQLite, byte for byte"
    );

    // Importing into a database that holds a log is refused, and changes nothing there.
    let err = fails(
        dir,
        &[
            "import",
            "--in",
            "demo.jsonl",
            "--database",
            url,
            "--data-dir",
            "pg",
        ],
    );
    assert!(
        err.contains("already holds a log of 59 entries") && err.contains("createdb"),
        "{err}"
    );
    assert_eq!(pg_checkpoints(url), source);

    // And back into a new SQLite data directory.
    let out = ok(dir, &["import", "--in", "pg.jsonl", "--data-dir", "back"]);
    assert!(out.contains("imported 59 entries"), "{out}");
    let out = ok(dir, &["verify", "--data-dir", "back"]);
    assert!(out.contains("ok: 59 entries"), "{out}");
    assert_eq!(
        sqlite_checkpoints(&dir.join("back/corridor.sqlite")),
        source
    );
    ok(
        dir,
        &["export", "--data-dir", "back", "--out", "back.jsonl"],
    );
    assert_eq!(
        std::fs::read(dir.join("back.jsonl")).unwrap(),
        std::fs::read(&export).unwrap()
    );
    // The data directory gets the log's genesis (the same fingerprint as the original).
    let fp = |p: &str| ok(dir, &["genesis", "fingerprint", p]);
    assert_eq!(fp("back/genesis.json"), fp("demo/genesis.json"));
    assert_eq!(fp("pg/genesis.json"), fp("demo/genesis.json"));
}

#[test]
fn import_refuses_a_non_empty_target_and_a_tampered_export_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let export = demo_and_export(dir);

    // Into the data directory the log came from: refused, the log unchanged.
    let err = fails(dir, &["import", "--in", "demo.jsonl", "--data-dir", "demo"]);
    assert!(
        err.contains("already holds a log of 59 entries") && err.contains("new data directory"),
        "{err}"
    );
    ok(
        dir,
        &["export", "--data-dir", "demo", "--out", "again.jsonl"],
    );
    assert_eq!(
        std::fs::read(dir.join("again.jsonl")).unwrap(),
        std::fs::read(&export).unwrap()
    );

    // One changed byte in a command: refused with the entry named, before anything is written.
    let bad = tampered(&export);
    let err = fails(
        dir,
        &[
            "import",
            "--in",
            bad.to_str().unwrap(),
            "--data-dir",
            "fresh",
        ],
    );
    assert!(
        err.contains("is bad")
            && err.contains("commitment")
            && err.contains("nothing was imported"),
        "{err}"
    );
    assert!(!dir.join("fresh").exists(), "nothing was written");

    // Something that is not an export says what it expected.
    std::fs::write(dir.join("notes.txt"), "hello\n").unwrap();
    let err = fails(dir, &["import", "--in", "notes.txt", "--data-dir", "fresh"]);
    assert!(err.contains("corridor export"), "{err}");
    assert!(!dir.join("fresh").exists());
}

#[test]
fn a_sqlite_backup_taken_while_serving_restores_and_continues_consistently() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    ok(dir, &["demo", "--data-dir", "demo", "--no-serve"]);
    block(async {
        let db = corridor_storage_sqlite::Sqlite::open(&dir.join("demo/corridor.sqlite"))
            .await
            .unwrap();
        put_evidence(&db).await;
    });
    {
        // Online: the demo server holds the database open while the backup is taken.
        let _server = start(dir, &["demo", "--data-dir", "demo"]);
        let out = ok(
            dir,
            &["backup", "--data-dir", "demo", "--out", "demo.backup"],
        );
        assert!(out.contains("59 entries"), "{out}");
        let err = fails(
            dir,
            &["backup", "--data-dir", "demo", "--out", "demo.backup"],
        );
        assert!(err.contains("refusing to overwrite"), "{err}");
    }
    let err = fails(
        dir,
        &["restore", "--in", "demo.backup", "--data-dir", "demo"],
    );
    assert!(
        err.contains("already holds a log") && err.contains("new data directory"),
        "{err}"
    );
    let out = ok(
        dir,
        &["restore", "--in", "demo.backup", "--data-dir", "restored"],
    );
    assert!(
        out.contains("ok: 59 entries") && out.contains("log.key"),
        "{out}"
    );
    let restored = sqlite_checkpoints(&dir.join("restored/corridor.sqlite"));
    assert_eq!(
        restored,
        sqlite_checkpoints(&dir.join("demo/corridor.sqlite"))
    );
    let out = ok(dir, &["verify", "--data-dir", "restored"]);
    assert!(out.contains("ok: 59 entries"), "{out}");
    block(async {
        let db = corridor_storage_sqlite::Sqlite::open(&dir.join("restored/corridor.sqlite"))
            .await
            .unwrap();
        has_evidence(&db).await;
    });
    continues_consistently(
        dir,
        &[
            "serve",
            "--data-dir",
            "restored",
            "--log-key",
            "demo/log.key",
            "--clock",
            "2022-03-03T14:50:00Z",
        ],
        restored.last().unwrap(),
    );
    // A SQLite backup is not a PostgreSQL one.
    let err = fails(
        dir,
        &[
            "restore",
            "--in",
            "demo.backup",
            "--database",
            "postgres://nobody@127.0.0.1:1/none",
        ],
    );
    assert!(err.contains("is a SQLite backup"), "{err}");
}

/// The URL with a password in it (ignored by a server that trusts local connections), to check
/// it travels only in PGPASSWORD and never shows up in output.
fn with_password(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let (user, host) = rest.split_once('@')?;
    if user.contains(':') {
        return None;
    }
    Some(format!("{scheme}://{user}:not-shown-pw@{host}"))
}

#[test]
fn a_postgres_backup_taken_while_serving_restores_and_continues_consistently() {
    let Some(src) = PgDb::create() else {
        return;
    };
    let Some(dst) = PgDb::create() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    demo_and_export(dir);
    ok(
        dir,
        &[
            "import",
            "--in",
            "demo.jsonl",
            "--database",
            &src.url,
            "--data-dir",
            "pg",
        ],
    );
    let source = pg_checkpoints(&src.url);
    block(async {
        let db = corridor_storage_postgres::Postgres::open(&src.url)
            .await
            .unwrap();
        put_evidence(&db).await;
        db.close().await;
    });
    {
        let _server = start(
            dir,
            &[
                "serve",
                "--data-dir",
                "pg",
                "--database",
                &src.url,
                "--log-key",
                "demo/log.key",
                "--clock",
                "2022-03-03T14:50:00Z",
            ],
        );
        let url = with_password(&src.url).unwrap_or_else(|| src.url.clone());
        let out = ok(dir, &["backup", "--database", &url, "--out", "pg.backup"]);
        assert!(out.contains("59 entries"), "{out}");
        assert!(!out.contains("not-shown-pw"), "{out}");
    }
    let err = fails(
        dir,
        &["restore", "--in", "pg.backup", "--data-dir", "nowhere"],
    );
    assert!(err.contains("is a PostgreSQL backup"), "{err}");
    assert!(!dir.join("nowhere").exists());
    let err = fails(
        dir,
        &["restore", "--in", "pg.backup", "--database", &src.url],
    );
    assert!(
        err.contains("already holds a corridor log of 59 entries") && err.contains("createdb"),
        "{err}"
    );
    let out = ok(
        dir,
        &[
            "restore",
            "--in",
            "pg.backup",
            "--database",
            &dst.url,
            "--data-dir",
            "restored",
        ],
    );
    assert!(out.contains("ok: 59 entries"), "{out}");
    let restored = pg_checkpoints(&dst.url);
    assert_eq!(restored, source);
    let out = ok(
        dir,
        &["verify", "--data-dir", "restored", "--database", &dst.url],
    );
    assert!(out.contains("ok: 59 entries"), "{out}");
    block(async {
        let db = corridor_storage_postgres::Postgres::open(&dst.url)
            .await
            .unwrap();
        has_evidence(&db).await;
        db.close().await;
    });
    continues_consistently(
        dir,
        &[
            "serve",
            "--data-dir",
            "restored",
            "--database",
            &dst.url,
            "--log-key",
            "demo/log.key",
            "--clock",
            "2022-03-03T14:50:00Z",
        ],
        restored.last().unwrap(),
    );
}
