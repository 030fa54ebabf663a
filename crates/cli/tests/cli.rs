//! The `corridor` binary as a user meets it: key files, the countersigned genesis, a server
//! that refuses what it must refuse, and `verify` catching tampering with the stored log.

use std::path::Path;
use std::process::{Command, Output};

fn corridor(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(args)
        .current_dir(dir)
        .env("CORRIDOR_HOME", dir.join("home"))
        .output()
        .expect("run corridor")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = corridor(dir, args);
    assert!(
        out.status.success(),
        "corridor {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(dir: &Path, args: &[&str]) -> String {
    let out = corridor(dir, args);
    assert!(
        !out.status.success(),
        "corridor {args:?} should have failed"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn keygen_writes_a_private_file_and_refuses_to_overwrite() {
    let d = tempfile::tempdir().unwrap();
    ok(
        d.path(),
        &["keygen", "--out", "a.key", "--actor", "ua/coord-1"],
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.path().join("a.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let public = std::fs::read_to_string(d.path().join("a.key.pub")).unwrap();
    assert_eq!(public.trim().len(), 44);
    let err = fails(d.path(), &["keygen", "--out", "a.key"]);
    assert!(err.contains("refusing to overwrite"), "{err}");
}

fn genesis_setup(dir: &Path, exercise: bool) {
    for k in ["log", "icrc", "ua", "ru"] {
        ok(dir, &["keygen", "--out", &format!("{k}.key")]);
    }
    let mut args = vec![
        "init",
        "--origin",
        "corridor.test/cli",
        "--log-key",
        "log.key.pub",
        "--intermediary",
        "icrc=icrc.key.pub",
        "--party",
        "ua=ua.key.pub",
        "--zone",
        "ua=Europe/Kyiv",
        "--party",
        "ru=ru.key.pub",
        "--zone",
        "ru=Europe/Moscow",
        "--name",
        "ua=Ukraine|Україна|Украина",
    ];
    if exercise {
        args.push("--exercise");
    }
    ok(dir, &args);
}

#[test]
fn a_log_starts_only_from_a_genesis_every_party_signed() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    genesis_setup(dir, false);
    let err = fails(
        dir,
        &[
            "init",
            "--origin",
            "x",
            "--log-key",
            "log.key.pub",
            "--intermediary",
            "icrc=icrc.key.pub",
            "--party",
            "ua=ua.key.pub",
            "--party",
            "ru=ru.key.pub",
        ],
    );
    assert!(
        err.contains("--zone ua="),
        "a party without a zone is explained: {err}"
    );
    let fp = ok(dir, &["genesis", "fingerprint", "genesis.json"]);
    assert!(
        fp.contains("ua: NOT SIGNED") && fp.contains("incomplete"),
        "{fp}"
    );
    ok(dir, &["genesis", "sign", "--key", "ua.key", "genesis.json"]);
    ok(
        dir,
        &["genesis", "sign", "--key", "icrc.key", "genesis.json"],
    );
    let err = fails(
        dir,
        &["genesis", "sign", "--key", "log.key", "genesis.json"],
    );
    assert!(err.contains("not the admin key"), "{err}");
    // The server refuses a genesis without the Russian Federation's signature.
    let err = fails(
        dir,
        &[
            "serve",
            "--data-dir",
            "data",
            "--log-key",
            "log.key",
            "--genesis",
            "genesis.json",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    assert!(err.contains("lacks the signature of \"ru\""), "{err}");
    ok(dir, &["genesis", "sign", "--key", "ru.key", "genesis.json"]);
    let fp = ok(dir, &["genesis", "fingerprint", "genesis.json"]);
    assert!(fp.contains("complete: every party"), "{fp}");
    // A real log (exercise: false) refuses a simulated clock.
    let err = fails(
        dir,
        &[
            "serve",
            "--data-dir",
            "data",
            "--log-key",
            "log.key",
            "--genesis",
            "genesis.json",
            "--listen",
            "127.0.0.1:0",
            "--clock",
            "2022-03-03T14:50:00Z",
        ],
    );
    assert!(err.contains("refuses a simulated clock"), "{err}");
    // A forged party key (edited after signing) is refused.
    let text = std::fs::read_to_string(dir.join("genesis.json")).unwrap();
    let g: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ru_key = g["document"]["parties"][1]["admin_key"]
        .as_str()
        .unwrap()
        .to_string();
    let icrc_key = g["document"]["intermediary"]["admin_key"]
        .as_str()
        .unwrap()
        .to_string();
    let forged = text.replacen(
        &format!("\"admin_key\": \"{ru_key}\""),
        &format!(
            "\"admin_key\": \"{}\"",
            std::fs::read_to_string(dir.join("log.key.pub"))
                .unwrap()
                .trim()
        ),
        1,
    );
    assert_ne!(forged, text);
    std::fs::write(dir.join("forged.json"), forged).unwrap();
    let err = fails(
        dir,
        &[
            "serve",
            "--data-dir",
            "data2",
            "--log-key",
            "log.key",
            "--genesis",
            "forged.json",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    assert!(err.contains("genesis is not valid"), "{err}");
    assert!(!icrc_key.is_empty());
}

async fn exec(db: &Path, sql: &str) {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut c)
        .await
        .unwrap();
}

#[tokio::test]
async fn verify_names_the_first_bad_entry() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    ok(dir, &["demo", "--data-dir", "demo", "--no-serve"]);
    let out = ok(dir, &["verify", "--data-dir", "demo"]);
    assert!(out.contains("ok: 16 entries"), "{out}");
    let db = dir.join("demo/corridor.sqlite");

    // Projections that differ from the replay are caught, and `rebuild` mends them.
    exec(
        &db,
        "UPDATE projections SET body = '{}' WHERE kind = 'incident'",
    )
    .await;
    let err = fails(dir, &["verify", "--data-dir", "demo"]);
    assert!(
        err.contains("projections differ") && err.contains("corridor rebuild"),
        "{err}"
    );
    ok(dir, &["rebuild", "--data-dir", "demo"]);
    ok(dir, &["verify", "--data-dir", "demo"]);

    // A rewritten command no longer matches its commitment.
    let copy = dir.join("copy");
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(&db, copy.join("corridor.sqlite")).unwrap();
    exec(&copy.join("corridor.sqlite"), "UPDATE entries SET command = CAST(REPLACE(CAST(command AS TEXT), 'Borodianka', 'Bucha') AS BLOB) WHERE idx = 4").await;
    let err = fails(dir, &["verify", "--data-dir", "copy"]);
    assert!(
        err.contains("entry 4 is bad") && err.contains("commitment"),
        "{err}"
    );

    // A checkpoint that claims entries the log does not have is caught.
    std::fs::copy(&db, copy.join("corridor.sqlite")).unwrap();
    exec(
        &copy.join("corridor.sqlite"),
        "INSERT OR REPLACE INTO checkpoints (size, note) SELECT size + 100, note FROM checkpoints",
    )
    .await;
    let err = fails(dir, &["verify", "--data-dir", "copy"]);
    assert!(err.contains("checkpoint"), "{err}");
}
