//! `corridor serve`, `verify`, `rebuild` and `export` on PostgreSQL (`--database URL`), end to
//! end: the demo's keys and genesis start a fresh log in a database of this test's own, a party
//! admin registers a coordinator who reports an incident, and the log is then verified, rebuilt
//! and exported from PostgreSQL.
//!
//! Uses the server at `CORRIDOR_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); if it is unreachable the test says so and passes,
//! except under `CI=true`, where that is a failure.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{admin, base_url, with_database};
use sqlx::AssertSqlSafe;

fn corridor(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(args)
        .current_dir(dir)
        .env("CORRIDOR_HOME", dir.join("home"))
        .env_remove("CORRIDOR_DATABASE_URL")
        .output()
        .expect("run corridor")
}

fn ok(out: Output, what: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

struct Server(std::process::Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scenario(dir: &Path, database: &str) {
    ok(
        corridor(dir, &["demo", "--no-serve", "--data-dir", "demo"]),
        "demo",
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server_url = format!("http://127.0.0.1:{port}");
    // A new log in PostgreSQL from the demo's genesis and log key (the SQLite file beside it
    // is not touched).
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_corridor"))
            .args([
                "serve",
                "--data-dir",
                "demo",
                "--genesis",
                "demo/genesis.json",
                "--clock",
                "2022-03-03T14:50:00Z",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("CORRIDOR_DATABASE_URL", database)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("serve.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let mut up = false;
    for _ in 0..400 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        if let Some(status) = server.0.try_wait().unwrap() {
            let err = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
            panic!("corridor serve --database exited ({status}):\n{err}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(up, "the server did not start listening");
    let submit = |key: &str, body: serde_json::Value| {
        std::fs::write(dir.join("body.json"), body.to_string()).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_corridor"))
            .args(["submit", "--key", key, "body.json"])
            .current_dir(dir)
            .env("CORRIDOR_HOME", dir.join("home"))
            .env("CORRIDOR_SERVER", &server_url)
            .output()
            .unwrap();
        ok(out, &format!("submit {body}"))
    };
    // The coordinator proves on their own device that they hold the key; the admin registers
    // the public key with that proof.
    let proved = Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args([
            "key",
            "prove",
            "--key",
            "demo/keys/ua-coord-kyiv-oblast.key",
            "--actor",
            "ua/coord-kyiv-oblast",
        ])
        .current_dir(dir)
        .env("CORRIDOR_HOME", dir.join("home"))
        .env("CORRIDOR_SERVER", &server_url)
        .output()
        .unwrap();
    // Its stdout is the proof; stderr may say the log is not witnessed (this server runs the
    // demo's genesis without its witnesses).
    let stdout = String::from_utf8_lossy(&proved.stdout).to_string();
    ok(proved, "key prove");
    let proved: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let coord_key = std::fs::read_to_string(dir.join("demo/keys/ua-coord-kyiv-oblast.key.pub"))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(proved["key"], coord_key);
    let out = submit(
        "demo/keys/ua-admin.key",
        serde_json::json!({"type": "actor.register", "actor": "ua/coord-kyiv-oblast",
            "role": "coordinator", "key": coord_key, "key_proof": proved["key_proof"],
            "name": "Coordinator, Kyiv oblast"}),
    );
    assert!(out.contains("accepted as entry 1"), "{out}");
    let out = submit(
        "demo/keys/ua-coord-kyiv-oblast.key",
        serde_json::json!({"type": "incident.report", "incident": "ua/pg-1",
            "occurred_at": "2022-03-03T14:20:00Z",
            "location": {"lat_e7": 506300000, "lon_e7": 299000000},
            "category": "gunfire", "accused_party": "ru",
            "description": "Gunfire near the checkpoint."}),
    );
    assert!(out.contains("accepted as entry 2"), "{out}");
    drop(server);

    let db = ["--data-dir", "demo", "--database", database];
    let out = ok(corridor(dir, &[&["verify"][..], &db].concat()), "verify");
    assert!(out.contains("ok: 3 entries"), "{out}");
    let out = ok(corridor(dir, &[&["rebuild"][..], &db].concat()), "rebuild");
    assert!(out.contains("from 3 entries"), "{out}");
    let out = ok(
        corridor(
            dir,
            &[&["export"][..], &db, &["--out", "pg.jsonl"]].concat(),
        ),
        "export",
    );
    assert!(out.contains("exported 3 entries"), "{out}");
    let out = ok(
        corridor(dir, &["verify", "--export", "pg.jsonl"]),
        "verify --export",
    );
    assert!(out.contains("ok: 3 entries"), "{out}");
    // The SQLite log of the demo is still its own, longer log.
    let out = ok(corridor(dir, &["verify", "--data-dir", "demo"]), "verify");
    assert!(!out.contains("ok: 3 entries"), "{out}");
    // Anything but a PostgreSQL URL is refused, not silently replaced by SQLite.
    let out = corridor(
        dir,
        &["verify", "--data-dir", "demo", "--database", "mysql://x"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("postgres://"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_lives_in_postgres_from_serve_to_export() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let name = format!(
        "corridor_test_cli_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let database = with_database(&base_url(), &name);
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_path_buf();
    let result = tokio::task::spawn_blocking(move || scenario(&dir, &database)).await;
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}
