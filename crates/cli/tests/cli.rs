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

/// `corridor` with `CORRIDOR_KEY_PASSPHRASE` set to `passphrase`, or unset (stdin is never a
/// terminal here, so an encrypted key cannot be asked for).
fn corridor_passphrase(dir: &Path, passphrase: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_corridor"));
    cmd.args(args)
        .current_dir(dir)
        .env("CORRIDOR_HOME", dir.join("home"))
        .env_remove("CORRIDOR_KEY");
    match passphrase {
        Some(p) => cmd.env("CORRIDOR_KEY_PASSPHRASE", p),
        None => cmd.env_remove("CORRIDOR_KEY_PASSPHRASE"),
    };
    cmd.output().expect("run corridor")
}

#[test]
fn an_encrypted_key_backup_is_accepted_wherever_a_key_file_is() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    ok(dir, &["keygen", "--out", "a.key", "--actor", "ua/coord-2"]);
    let run = |passphrase: Option<&str>, args: &[&str]| {
        let out = corridor_passphrase(dir, passphrase, args);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // "é" precomposed here, decomposed when it is typed again below: NFC makes them one.
    let (success, stdout, stderr) = run(
        Some("caf\u{e9} au lait"),
        &["key", "backup", "--key", "a.key", "--out", "a.backup"],
    );
    assert!(success, "{stdout}\n{stderr}");
    assert!(stdout.contains("a.backup"), "{stdout}");
    assert!(stdout.contains("\"Import a backup file\""), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("a.backup"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("a.backup")).unwrap()).unwrap();
    let public = std::fs::read_to_string(dir.join("a.key.pub")).unwrap();
    assert_eq!(file["kind"], "corridor-ed25519-key-encrypted");
    assert_eq!(file["public"], public.trim());
    assert_eq!(file["actor"], "ua/coord-2");
    assert_eq!(file["kdf"]["name"], "PBKDF2-HMAC-SHA256");
    assert_eq!(file["kdf"]["iterations"], 600_000);
    assert_eq!(file["cipher"]["name"], "AES-256-GCM");
    assert!(
        !std::fs::read_to_string(dir.join("a.backup"))
            .unwrap()
            .contains("seed")
    );

    // Never overwritten.
    let (success, _, stderr) = run(
        Some("other"),
        &["key", "backup", "--key", "a.key", "--out", "a.backup"],
    );
    assert!(
        !success && stderr.contains("refusing to overwrite"),
        "{stderr}"
    );

    // The backup signs exactly as the key file does (the actor comes from the backup too).
    let prove = ["key", "prove", "--origin", "corridor.test/cli", "--key"];
    let plain = ok(dir, &[&prove[..], &["a.key"]].concat());
    let (success, from_backup, stderr) = run(
        Some("cafe\u{301} au lait"),
        &[&prove[..], &["a.backup"]].concat(),
    );
    assert!(success, "{stderr}");
    assert_eq!(from_backup, plain);
    assert!(
        plain.contains("ua/coord-2") && plain.contains(public.trim()),
        "{plain}"
    );

    // A wrong passphrase names the file and says what to check.
    let (success, _, stderr) = run(Some("cafe au lait"), &[&prove[..], &["a.backup"]].concat());
    assert!(!success);
    assert!(stderr.contains("a.backup"), "{stderr}");
    assert!(
        stderr.contains("the passphrase does not open this key backup"),
        "{stderr}"
    );
    assert!(stderr.contains("check the passphrase"), "{stderr}");

    // No passphrase and no terminal to ask on: say how to give one.
    let (success, _, stderr) = run(None, &[&prove[..], &["a.backup"]].concat());
    assert!(!success);
    assert!(
        stderr.contains(
            "a.backup is encrypted: set CORRIDOR_KEY_PASSPHRASE or run in a terminal to be asked"
        ),
        "{stderr}"
    );
    let (success, _, stderr) = run(
        None,
        &["key", "backup", "--key", "a.key", "--out", "b.backup"],
    );
    assert!(
        !success && stderr.contains("CORRIDOR_KEY_PASSPHRASE"),
        "{stderr}"
    );
    assert!(!dir.join("b.backup").exists());
    let (success, _, stderr) = run(
        Some("short"),
        &["key", "backup", "--key", "a.key", "--out", "b.backup"],
    );
    assert!(!success && stderr.contains("shorter than 10"), "{stderr}");
    assert!(!dir.join("b.backup").exists());

    // Another tool's JSON is neither a key file nor a backup, and the error says how to make one.
    std::fs::write(
        dir.join("wallet.json"),
        r#"{"version": 3, "crypto": {"cipher": "aes-128-ctr", "ciphertext": "00"}}"#,
    )
    .unwrap();
    let (success, _, stderr) = run(Some("x"), &[&prove[..], &["wallet.json"]].concat());
    assert!(!success);
    assert!(
        stderr.contains("wallet.json is not a corridor key file or key backup"),
        "{stderr}"
    );
    assert!(stderr.contains("corridor keygen --out FILE"), "{stderr}");
    assert!(stderr.contains("corridor key backup"), "{stderr}");
}

fn genesis_setup(dir: &Path, exercise: bool) {
    for k in ["log", "icrc", "ua", "ru", "r1", "r2", "r3"] {
        ok(dir, &["keygen", "--out", &format!("{k}.key")]);
    }
    let mut args = vec![
        "init",
        "--recovery",
        "ua=2:r1.key.pub,r2.key.pub,r3.key.pub",
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
fn a_party_can_name_recovery_holders_in_the_genesis() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    genesis_setup(dir, true);
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("genesis.json")).unwrap()).unwrap();
    let r = &g["document"]["parties"][0]["recovery"];
    assert_eq!(r["threshold"], 2, "{g}");
    assert_eq!(r["keys"].as_array().unwrap().len(), 3);
    assert!(g["document"]["parties"][1].get("recovery").is_none());
    for (spec, why) in [
        ("ua=r1.key.pub", "K:KEY"),
        ("ua=x:r1.key.pub", "not a number"),
        ("ua=4:r1.key.pub", "threshold"),
    ] {
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
                "--zone",
                "ua=Europe/Kyiv",
                "--party",
                "ru=ru.key.pub",
                "--zone",
                "ru=Europe/Moscow",
                "--recovery",
                spec,
                "--out",
                "bad.json",
            ],
        );
        assert!(err.contains(why), "{spec}: {err}");
    }
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

/// Copy a closed SQLite database in WAL mode: the main file and, if the last process left one,
/// its write-ahead log, which holds commits not yet checkpointed into the main file.
fn copy_sqlite(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    let wal =
        |p: &Path| p.with_file_name(format!("{}-wal", p.file_name().unwrap().to_string_lossy()));
    let _ = std::fs::remove_file(wal(to));
    let _ = std::fs::remove_file(
        to.with_file_name(format!("{}-shm", to.file_name().unwrap().to_string_lossy())),
    );
    if wal(from).exists() {
        std::fs::copy(wal(from), wal(to)).unwrap();
    }
}

#[tokio::test]
async fn verify_names_the_first_bad_entry() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    ok(dir, &["demo", "--data-dir", "demo", "--no-serve"]);
    let out = ok(dir, &["verify", "--data-dir", "demo"]);
    assert!(out.contains("ok: 59 entries"), "{out}");
    // The tz release the genesis pins, and what this build's release says of the stated times.
    assert!(
        out.contains(&format!(
            "judged on acceptance with tz release {0}; this build's {0} reads them all the same",
            corridor_core::localtime::tzdb_version()
        )),
        "{out}"
    );
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
    // verify compares the rows part by part on every core: a row missing at the very end, one
    // too many, and one changed in the last part are each named.
    let rows = dir.join("rows");
    std::fs::create_dir(&rows).unwrap();
    let rows_db = rows.join("corridor.sqlite");
    let last_window = "(SELECT MAX(id) FROM projections WHERE kind = 'window')";
    let cases = [
        (
            format!("DELETE FROM projections WHERE kind = 'window' AND id = {last_window}"),
            "(not stored)",
        ),
        (
            "INSERT INTO projections (kind, id, body) VALUES ('zz', 'extra', '{}')".to_string(),
            "zz/extra (stored, not in the log)",
        ),
        (
            format!(
                "UPDATE projections SET body = '{{}}' WHERE kind = 'window' AND id = {last_window}"
            ),
            "window/",
        ),
    ];
    for (sql, named) in cases {
        copy_sqlite(&db, &rows_db);
        exec(&rows_db, &sql).await;
        let err = fails(dir, &["verify", "--data-dir", "rows"]);
        assert!(
            err.contains("projections differ") && err.contains(named),
            "{sql}: {err}"
        );
    }

    // A rewritten command no longer matches its commitment.
    let copy = dir.join("copy");
    std::fs::create_dir(&copy).unwrap();
    copy_sqlite(&db, &copy.join("corridor.sqlite"));
    exec(&copy.join("corridor.sqlite"), "UPDATE entries SET command = CAST(REPLACE(CAST(command AS TEXT), 'Borodianka', 'Bucha') AS BLOB) WHERE idx = 4").await;
    let err = fails(dir, &["verify", "--data-dir", "copy"]);
    assert!(
        err.contains("entry 4 is bad") && err.contains("commitment"),
        "{err}"
    );

    // A signature that no longer verifies is caught even when whoever changed it also
    // recomputed the commitment (the batch holding it fails and is re-checked one by one).
    copy_sqlite(&db, &copy.join("corridor.sqlite"));
    let (salt, command, mut sig) = {
        use sqlx::{Connection, Row};
        let url = format!("sqlite://{}", copy.join("corridor.sqlite").display());
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let row = sqlx::query("SELECT salt, command, signature FROM entries WHERE idx = 7")
            .fetch_one(&mut c)
            .await
            .unwrap();
        let salt: Vec<u8> = row.get(0);
        (salt, row.get::<Vec<u8>, _>(1), row.get::<Vec<u8>, _>(2))
    };
    sig[10] ^= 0x40;
    let salt: [u8; 32] = salt.try_into().unwrap();
    let commitment =
        corridor_core::crypto::b64(&corridor_core::entry::commitment(&salt, &command, &sig));
    let hex: String = sig.iter().map(|b| format!("{b:02x}")).collect();
    exec(
        &copy.join("corridor.sqlite"),
        &format!(
            "UPDATE entries SET signature = X'{hex}', commitment = '{commitment}' WHERE idx = 7"
        ),
    )
    .await;
    let err = fails(dir, &["verify", "--data-dir", "copy"]);
    assert!(
        err.contains("entry 7 is bad") && err.contains("signature"),
        "{err}"
    );

    // A checkpoint that claims entries the log does not have is caught.
    copy_sqlite(&db, &copy.join("corridor.sqlite"));
    exec(
        &copy.join("corridor.sqlite"),
        "INSERT OR REPLACE INTO checkpoints (size, note) SELECT size + 100, note FROM checkpoints",
    )
    .await;
    let err = fails(dir, &["verify", "--data-dir", "copy"]);
    assert!(err.contains("checkpoint"), "{err}");
}

struct Demo(std::process::Child);
impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_demo(dir: &Path) -> (Demo, String) {
    start_serving(dir, &["demo", "--data-dir", "demo"])
}

fn with_server(dir: &Path, server: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(args)
        .current_dir(dir)
        .env("CORRIDOR_HOME", dir.join("home"))
        .env("CORRIDOR_SERVER", server)
        .output()
        .expect("run corridor")
}

#[test]
fn a_coordinator_does_it_all_from_the_cli() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let (_demo, url) = start_demo(dir);
    let run = |args: &[&str]| {
        let out = with_server(dir, &url, args);
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenario");
    // Settlements from the HXL file (idempotent: the demo already imported them).
    let (ok_, out) = run(&[
        "settlements",
        "import",
        "--key",
        "demo/keys/intermediary-admin.key",
        scenario.join("settlements.csv").to_str().unwrap(),
    ]);
    assert!(ok_, "{out}");
    // A corridor from a GeoJSON route and a terms file.
    let terms = serde_json::json!({"names": {"en": "Bucha – Kyiv", "uk": "Буча – Київ", "ru": "Буча – Киев"},
        "buffer_m": 300, "origin": "bucha", "destination": "kyiv", "purpose": "both", "binding_language": "uk"});
    std::fs::write(dir.join("terms.json"), terms.to_string()).unwrap();
    std::fs::write(
        dir.join("route.geojson"),
        r#"{"type":"LineString","coordinates":[[30.2120,50.5432],[30.5234,50.4501]]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("point.geojson"),
        r#"{"type":"Point","coordinates":[30.2120,50.5432]}"#,
    )
    .unwrap();
    let (ok_, out) = run(&[
        "corridor",
        "propose",
        "--key",
        "demo/keys/ua-coord-kyiv-oblast.key",
        "--id",
        "bucha-kyiv",
        "--route",
        "point.geojson",
        "--terms",
        "terms.json",
    ]);
    assert!(!ok_ && out.contains("invalid-geometry"), "{out}");
    let (ok_, out) = run(&[
        "corridor",
        "propose",
        "--key",
        "demo/keys/ua-coord-kyiv-oblast.key",
        "--id",
        "bucha-kyiv",
        "--route",
        "route.geojson",
        "--terms",
        "terms.json",
    ]);
    assert!(ok_, "{out}");
    // A window stated in Kyiv time, inside the DST gap: refused before anything is signed.
    let (ok_, out) = run(&[
        "window",
        "propose",
        "--key",
        "demo/keys/ua-coord-kyiv-oblast.key",
        "--window",
        "bk-1",
        "--corridor",
        "bucha-kyiv",
        "--start",
        "2022-03-27T03:30",
        "--end",
        "2022-03-27T09:00",
        "--zone",
        "Europe/Kyiv",
        "--party",
        "ua",
        "--party",
        "ru",
    ]);
    assert!(!ok_ && out.contains("local-time-in-gap"), "{out}");
    let (ok_, out) = run(&[
        "window",
        "propose",
        "--key",
        "demo/keys/ua-coord-kyiv-oblast.key",
        "--window",
        "bk-1",
        "--corridor",
        "bucha-kyiv",
        "--start",
        "2022-03-06T09:00",
        "--end",
        "2022-03-06T15:00",
        "--zone",
        "Europe/Kyiv",
        "--party",
        "ua",
        "--party",
        "ru",
        "--guarantee",
        "Ukraine holds fire",
    ]);
    assert!(ok_, "{out}");
    // Reads are signed: `get` signs with the key; a key the log does not know is refused.
    let (ok_, out) = run(&[
        "get",
        "--key",
        "demo/keys/ru-coord-1.key",
        "/v1/windows?corridor=bucha-kyiv",
    ]);
    assert!(ok_ && out.contains("\"bk-1\""), "{out}");
    let (ok_, _) = run(&["keygen", "--out", "stranger.key"]);
    assert!(ok_);
    let (ok_, out) = run(&["get", "--key", "stranger.key", "/v1/windows"]);
    assert!(!ok_ && out.contains("auth-unknown-key"), "{out}");
    let (ok_, out) = run(&["get", "--key", "demo/keys/ru-coord-1.key", "v1/windows"]);
    assert!(!ok_ && out.contains("from the server's root"), "{out}");
    let (ok_, out) = run(&[
        "window",
        "show",
        "--key",
        "demo/keys/ua-coord-kyiv-oblast.key",
        "bk-1",
    ]);
    assert!(
        ok_ && out.contains("2022-03-06T09:00:00+02:00")
            && out.contains("2022-03-06T10:00:00+03:00")
            && out.contains("07:00:00Z"),
        "{out}"
    );
    // Consent is refused until the proposal is complete (no reception, instructions...).
    let (ok_, out) = run(&[
        "window",
        "consent",
        "--key",
        "demo/keys/ua-coord-kyiv-oblast.key",
        "bk-1",
    ]);
    assert!(!ok_ && out.contains("incomplete-proposal"), "{out}");
    // The proposer cancels before any consent.
    let (ok_, out) = run(&[
        "window",
        "cancel",
        "--key",
        "demo/keys/ua-coord-kyiv-oblast.key",
        "bk-1",
        "--reason",
        "terms incomplete",
    ]);
    assert!(ok_, "{out}");
    let (_, out) = run(&[
        "window",
        "show",
        "--key",
        "demo/keys/ua-coord-kyiv-oblast.key",
        "bk-1",
    ]);
    assert!(out.contains("cancelled"), "{out}");
    // Russia consents to the demo's pending window, then Ukraine withdraws before the start.
    let (ok_, out) = run(&[
        "window",
        "consent",
        "--key",
        "demo/keys/ru-coord-1.key",
        "borodianka-2022-03-05",
    ]);
    assert!(ok_, "{out}");
    let (ok_, out) = run(&[
        "window",
        "withdraw",
        "--key",
        "demo/keys/ua-coord-kyiv-oblast.key",
        "borodianka-2022-03-05",
        "--reason",
        "shelling reported on the route",
        "--public-reason",
        "shelling",
    ]);
    assert!(ok_, "{out}");
    let (_, out) = run(&[
        "window",
        "show",
        "--key",
        "demo/keys/ua-coord-kyiv-oblast.key",
        "borodianka-2022-03-05",
    ]);
    assert!(out.contains("withdrawn"), "{out}");
    let (ok_, out) = run(&[
        "time",
        "resolve",
        "2022-10-30T03:30",
        "--zone",
        "Europe/Kyiv",
    ]);
    assert!(!ok_ && out.contains("local-time-ambiguous"), "{out}");
}

/// `corridor publish` writes the public site as static files with precompressed copies, built
/// from the state the latest checkpoint commits to, at the instant asked for.
#[test]
fn publish_writes_the_public_site_as_static_files() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    ok(dir, &["demo", "--data-dir", "demo", "--no-serve"]);
    let out = ok(
        dir,
        &[
            "publish",
            "--data-dir",
            "demo",
            "--out",
            "site",
            "--at",
            "2022-03-04T08:00:00Z",
            "--public-url",
            "https://corridors.example.org",
        ],
    );
    assert!(
        out.contains("EXERCISE") && out.contains("checkpoint: size"),
        "{out}"
    );
    let site = dir.join("site");
    let status: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join("status.json")).unwrap()).unwrap();
    assert_eq!(status["as_of"], "2022-03-04T08:00:00.000000Z");
    assert_eq!(status["corridors"][0]["id"], "borodianka-berestianka");
    assert_eq!(status["corridors"][0]["status"], "open", "{status}");
    for lang in ["uk", "ru", "en"] {
        let page = site.join(format!(
            "{lang}/corridors/borodianka-berestianka/index.html"
        ));
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(html.contains(&format!("lang=\"{lang}\"")), "{lang}");
        assert!(html.contains("data-status=\"open\""), "{lang}");
        for ext in ["gz", "br"] {
            let copy = page.with_extension(format!("html.{ext}"));
            assert!(
                std::fs::metadata(&copy).unwrap().len() > 100,
                "{}",
                copy.display()
            );
        }
        assert!(
            site.join(format!(
                "{lang}/corridors/borodianka-berestianka/print/index.html"
            ))
            .exists()
        );
        assert!(
            site.join(format!("{lang}/corridors/borodianka-berestianka/sms.txt"))
                .exists()
        );
    }
    assert!(site.join("feeds/cap.xml").exists() && site.join("feeds/atom.xml").exists());

    // The printed page's QR code leads to the address given.
    let print =
        std::fs::read_to_string(site.join("uk/corridors/borodianka-berestianka/print/index.html"))
            .unwrap();
    assert!(print.contains("class=\"qr\""), "a QR code");
    assert!(print.contains("https://corridors.example.org/uk/corridors/borodianka-berestianka"));
    assert!(!print.contains("127.0.0.1"));
    // Without an address the copy is refused (a QR code to 127.0.0.1 would lead nowhere) ...
    let err = fails(
        dir,
        &[
            "publish",
            "--data-dir",
            "demo",
            "--out",
            "site2",
            "--at",
            "2022-03-04T08:00:00Z",
        ],
    );
    assert!(
        err.contains("--public-url") && err.contains("--offline-only"),
        "{err}"
    );
    assert!(!dir.join("site2").exists());
    // ... unless it is asked for as an offline copy: then no QR codes at all.
    ok(
        dir,
        &[
            "publish",
            "--data-dir",
            "demo",
            "--out",
            "site3",
            "--at",
            "2022-03-04T08:00:00Z",
            "--offline-only",
        ],
    );
    let print = std::fs::read_to_string(
        dir.join("site3/uk/corridors/borodianka-berestianka/print/index.html"),
    )
    .unwrap();
    assert!(!print.contains("class=\"qr\"") && !print.contains("127.0.0.1"));
    // A bad instant says how to write one.
    let err = fails(
        dir,
        &[
            "publish",
            "--data-dir",
            "demo",
            "--out",
            "site",
            "--at",
            "tomorrow",
            "--offline-only",
        ],
    );
    assert!(err.contains("RFC 3339"), "{err}");
}

/// Ctrl-C stops a server promptly even with a live event stream open (event streams never end
/// on their own, and a graceful shutdown waits for open connections), and the last entries get
/// a checkpoint before it goes.
#[test]
fn ctrl_c_ends_event_streams_and_the_server() {
    use std::io::{Read, Write};
    let d = tempfile::tempdir().unwrap();
    let (mut demo, url) = start_demo(d.path());
    let addr = url.trim_start_matches("http://").to_string();
    let mut events = std::net::TcpStream::connect(&addr).unwrap();
    write!(events, "GET /events HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut buf = [0u8; 4096];
    let n = events.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.contains("text/event-stream"), "{head}");
    let pid = demo.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let t = std::time::Instant::now();
    let status = loop {
        if let Some(s) = demo.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "the server did not stop within 10 s of Ctrl-C"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

/// A server started with `args`, on a free port; the URL.
fn start_serving(dir: &Path, args: &[&str]) -> (Demo, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--listen", &listen]);
    let child = Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(&all)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    // A demo enters its scenario scene by scene first (a few seconds in a debug build).
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (Demo(child), url)
}

/// The log key is handed over: the intermediary records `log.rotate_key` for a key the server
/// holds, the next checkpoint is signed by both keys, a client that trusted the old key follows
/// the chain, the server restarts with the new key alone, and `verify` checks the whole chain
/// (live and exported).
#[test]
fn a_rotated_log_key_verifies_end_to_end() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    ok(dir, &["demo", "--data-dir", "demo", "--no-serve"]);
    ok(dir, &["keygen", "--out", "next.key"]);
    let next = std::fs::read_to_string(dir.join("next.key.pub")).unwrap();
    let serve = |extra: &[&str]| {
        let mut a = vec![
            "serve",
            "--data-dir",
            "demo",
            "--clock",
            "2022-03-03T15:00:00Z",
        ];
        a.extend_from_slice(extra);
        start_serving(dir, &a)
    };
    let run = |url: &str, args: &[&str]| {
        let out = with_server(dir, url, args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    std::fs::write(
        dir.join("rotate.json"),
        format!(
            r#"{{"type": "log.rotate_key", "new_key": "{}"}}"#,
            next.trim()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("report.json"),
        r#"{"type": "incident.report", "incident": "ua/after-rotation", "occurred_at": "2022-03-03T14:00:00Z",
            "location": {"lat_e7": 506300000, "lon_e7": 299000000}, "category": "gunfire",
            "description": "Reported after the log key was handed over."}"#,
    )
    .unwrap();
    {
        // Without the new key the server refuses the rotation and writes nothing.
        let (_s, url) = serve(&[]);
        let (ok_, out) = run(&url, &["monitor"]);
        assert!(ok_, "{out}");
        let (ok_, out) = run(
            &url,
            &[
                "submit",
                "--key",
                "demo/keys/intermediary-admin.key",
                "rotate.json",
            ],
        );
        assert!(!ok_ && out.contains("log-key-not-held"), "{out}");
    }
    {
        let (_s, url) = serve(&["--other-log-key", "next.key"]);
        let (ok_, out) = run(
            &url,
            &[
                "submit",
                "--key",
                "demo/keys/intermediary-admin.key",
                "rotate.json",
            ],
        );
        assert!(ok_, "{out}");
        let (ok_, out) = run(
            &url,
            &[
                "submit",
                "--key",
                "demo/keys/ua-coord-kyiv-oblast.key",
                "report.json",
            ],
        );
        assert!(ok_, "{out}");
        // The client trusted the old key; it follows the handover to the new one.
        std::thread::sleep(std::time::Duration::from_millis(1200));
        let (ok_, out) = run(&url, &["monitor"]);
        assert!(ok_, "{out}");
    }
    // The old key alone no longer opens the log; the new one does.
    let err = fails(
        dir,
        &[
            "serve",
            "--data-dir",
            "demo",
            "--clock",
            "2022-03-03T15:00:00Z",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    assert!(err.contains("after a log.rotate_key"), "{err}");
    {
        let (_s, url) = serve(&["--log-key", "next.key"]);
        let (ok_, out) = run(&url, &["monitor"]);
        assert!(ok_, "{out}");
        // The outsider's check: every public leaf, across the handover, makes the signed root.
        assert!(
            out.contains("leaves: indices dense, log times strictly increasing"),
            "{out}"
        );
    }
    let out = ok(dir, &["verify", "--data-dir", "demo"]);
    assert!(out.contains("ok"), "{out}");
    ok(dir, &["export", "--data-dir", "demo", "--out", "log.jsonl"]);
    let out = ok(dir, &["verify", "--export", "log.jsonl"]);
    assert!(out.contains("ok"), "{out}");
}

/// `corridor serve` runs the accept loop with the connection limits of its flags (README,
/// "Connection limits"): a connection that sends nothing is closed after `--header-timeout-ms`
/// (the default, 10 s, would outlast the 5 s this waits), `--max-events 0` refuses every event
/// stream with a problem document while the API answers, and limits that leave no room for
/// the public are refused at start.
#[test]
fn serve_applies_its_connection_limits() {
    use std::io::{Read, Write};
    use std::time::Duration;
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    ok(dir, &["demo", "--data-dir", "demo", "--no-serve"]);
    let err = fails(
        dir,
        &[
            "serve",
            "--data-dir",
            "demo",
            "--max-connections",
            "10",
            "--api-reserve",
            "10",
        ],
    );
    assert!(err.contains("--api-reserve"), "{err}");
    let (_s, url) = start_serving(
        dir,
        &[
            "serve",
            "--data-dir",
            "demo",
            "--clock",
            "2022-03-03T15:00:00Z",
            "--header-timeout-ms",
            "300",
            "--max-events",
            "0",
        ],
    );
    let addr = url.trim_start_matches("http://").to_string();
    let connect = || {
        let c = std::net::TcpStream::connect(&addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c
    };
    let read_all = |c: &mut std::net::TcpStream| {
        let mut out = Vec::new();
        match c.read_to_end(&mut out) {
            Ok(_) => Ok(String::from_utf8_lossy(&out).into_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                Ok(String::from_utf8_lossy(&out).into_owned())
            }
            Err(e) => Err(e),
        }
    };

    let mut idle = connect();
    let got = read_all(&mut idle).expect("an idle connection still open after 5 s");
    assert_eq!(got, "", "closed without a reply");

    let mut events = connect();
    events
        .write_all(b"GET /events HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let reply = read_all(&mut events).unwrap();
    assert!(reply.starts_with("HTTP/1.1 503 "), "{reply}");
    assert!(reply.contains("application/problem+json"), "{reply}");
    assert!(reply.contains("\"code\":\"events-busy\""), "{reply}");

    let mut health = connect();
    health
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .unwrap();
    let reply = read_all(&mut health).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 "), "{reply}");
}

/// One HTTP/1.0 GET with the standard library: status, `Location`, body.
fn http_get(addr: &str, path: &str) -> (u16, Option<String>, String) {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    write!(c, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    let location = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("location")
            .then(|| v.trim().to_string())
    });
    (status, location, body.to_string())
}

/// `path` after following up to five redirects: the final path, status and body.
fn fetch(addr: &str, path: &str) -> (String, u16, String) {
    let mut path = path.to_string();
    for _ in 0..5 {
        let (status, location, body) = http_get(addr, &path);
        match (status, location) {
            (301 | 302 | 303 | 307 | 308, Some(l)) => {
                let l = l
                    .strip_prefix(&format!("http://{addr}"))
                    .unwrap_or(&l)
                    .to_string();
                path = resolve(&path, &l);
            }
            _ => return (path, status, body),
        }
    }
    (path, 0, String::new())
}

/// A link as a browser resolves it against the page's path.
fn resolve(base: &str, href: &str) -> String {
    let href = href.split('#').next().unwrap_or("");
    let mut parts: Vec<&str> = if href.starts_with('/') {
        vec![]
    } else {
        let mut b: Vec<&str> = base.split('/').skip(1).collect();
        b.pop();
        b
    };
    let segs: Vec<&str> = href.trim_start_matches('/').split('/').collect();
    for (i, seg) in segs.iter().enumerate() {
        match *seg {
            ".." => {
                parts.pop();
            }
            "." => {}
            "" if i + 1 < segs.len() => {}
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The static copy works on a plain file server with no configuration: crawled from `/` over
/// `python3 -m http.server`, every link of every page leads to a file (no directory listing, no
/// broken relative link after the server's redirect of `x` to `x/`).
#[test]
fn the_static_copy_has_no_broken_link_on_a_plain_file_server() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and python3 is missing"
        );
        eprintln!("skipping: python3 (for its plain file server) is not installed");
        return;
    }
    ok(dir, &["demo", "--data-dir", "demo", "--no-serve"]);
    ok(
        dir,
        &[
            "publish",
            "--data-dir",
            "demo",
            "--out",
            "site",
            "--at",
            "2022-03-04T08:00:00Z",
            "--public-url",
            "https://corridors.example.org",
        ],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .current_dir(dir.join("site"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let t = std::time::Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(t.elapsed().as_secs() < 20, "the file server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut queue = vec!["/".to_string()];
    let (mut pages, mut links, mut broken) = (0, 0, Vec::new());
    // Addresses people type or print without the trailing slash still work.
    queue.push("/uk/corridors/borodianka-berestianka".into());
    queue.push("/en/corridors/borodianka-berestianka/print".into());
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let (at, status, body) = fetch(&addr, &path);
        if status != 200 || body.contains("Directory listing for") {
            broken.push(format!("{path} -> {at}: {status}"));
            continue;
        }
        if !body.trim_start().starts_with("<!doctype html>") {
            continue;
        }
        pages += 1;
        for href in body
            .split("href=\"")
            .skip(1)
            .map(|x| x.split('"').next().unwrap())
        {
            if href.starts_with("http://") || href.starts_with("https://") {
                continue;
            }
            links += 1;
            queue.push(resolve(&at, href));
        }
        // The root sends the reader on by a page, not a server rule.
        if at == "/" {
            assert!(
                body.contains("http-equiv=\"refresh\" content=\"0; url=uk/\""),
                "{body}"
            );
        }
    }
    server.kill().ok();
    server.wait().ok();
    assert!(broken.is_empty(), "broken links: {broken:#?}");
    assert!(pages >= 12 && links > 100, "{pages} pages, {links} links");
    eprintln!(
        "crawled {pages} pages, {links} links, {} addresses: none broken",
        seen.len()
    );
}

/// `corridor demo --clock` starts an exercise at any instant of its scenario: the scenario is
/// entered at its own times (the 4 March window is not refused as `window-in-past`), then the
/// clock runs from the instant asked. An instant before the scenario begins is refused with the
/// range that works.
#[test]
fn the_demo_starts_at_any_instant_of_its_scenario() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let err = fails(
        dir,
        &[
            "demo",
            "--data-dir",
            "early",
            "--clock",
            "2022-03-01T00:00:00Z",
            "--no-serve",
        ],
    );
    assert!(err.contains("begins at 2022-03-03T14:50:00Z"), "{err}");
    let (_demo, url) = start_serving(
        dir,
        &[
            "demo",
            "--data-dir",
            "demo",
            "--clock",
            "2022-03-05T08:00:00Z",
        ],
    );
    let get = |path: &str| {
        let out = with_server(
            dir,
            &url,
            &["get", "--key", "demo/keys/ru-coord-1.key", path],
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{path}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    let head = get("/v1/log/head");
    assert!(
        head["clock"]["now"]
            .as_str()
            .unwrap()
            .starts_with("2022-03-05T08:0"),
        "{head}"
    );
    let windows = get("/v1/windows");
    let status = |id: &str| {
        windows["windows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == id)
            .unwrap_or_else(|| panic!("no {id}: {windows}"))["status"]
            .clone()
    };
    // The 4 March window was agreed, and is over by the morning of 5 March; the 5 March one
    // (from 07:00 UTC) began without the Russian Federation's consent.
    assert_eq!(status("borodianka-2022-03-04"), "completed", "{windows}");
    assert_eq!(status("borodianka-2022-03-05"), "expired", "{windows}");
    // The entries were made at the scenario's own times, before the clock's start.
    let entries = get("/v1/log/leaves?start=1&end=2");
    assert!(
        entries["leaves"][0]["leaf"]["time"]
            .as_str()
            .unwrap()
            .starts_with("2022-03-03T14:50"),
        "{entries}"
    );
    // The whole scenario is in: the evacuation went through, the aid convoy is still overdue.
    let ops = get("/v1/operations");
    let op = |id: &str| {
        ops["operations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == id)
            .unwrap_or_else(|| panic!("no {id}: {ops}"))
            .clone()
    };
    assert_eq!(op("convoys/evac-1")["outcome"], "facilitated", "{ops}");
    assert_eq!(op("convoys/aid-1")["overdue"], true, "{ops}");
    drop(_demo);

    // Started during the window, the exercise holds the scenario as it stood then: the
    // evacuation convoy is on the road, not yet arrived, and nothing later is in the log.
    let (_demo, url) = start_serving(
        dir,
        &[
            "demo",
            "--data-dir",
            "mid",
            "--clock",
            "2022-03-04T08:30:00Z",
        ],
    );
    let out = with_server(
        dir,
        &url,
        &[
            "get",
            "--key",
            "mid/keys/ru-coord-1.key",
            "/v1/operations/convoys/evac-1",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let op: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(op["progress"], "moving", "{op}");
    assert_eq!(op["timeline"].as_array().unwrap().len(), 1, "{op}");
    assert!(op["outcome"].is_null(), "{op}");
    let head = with_server(
        dir,
        &url,
        &["get", "--key", "mid/keys/ru-coord-1.key", "/v1/log/head"],
    );
    let head: serde_json::Value = serde_json::from_slice(&head.stdout).unwrap();
    assert!(
        head["clock"]["now"]
            .as_str()
            .unwrap()
            .starts_with("2022-03-04T08:3"),
        "{head}"
    );
}

/// The demo runs two convoys through its agreed 4 March window, as read through the API at the
/// demo's own clock: an evacuation every party acknowledged, which departed with evacuees who
/// chose to leave, passed the checkpoint, arrived, and whose consignments were received with
/// some damaged; and an aid convoy one party never acknowledged, shown as overdue. Units
/// confirmed the window's terms (some, not all), and a thread about the convoy carries a
/// message both parties acknowledged.
#[test]
fn the_demo_runs_two_convoys_through_its_window() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let (_demo, url) = start_demo(dir);
    let get = |key: &str, path: &str| {
        let out = with_server(dir, &url, &["get", "--key", key, path]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{path}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let json = |key: &str, path: &str| -> serde_json::Value {
        serde_json::from_str(&get(key, path)).unwrap()
    };
    let ru = "demo/keys/ru-coord-1.key";
    let ua = "demo/keys/ua-coord-kyiv-oblast.key";

    let head = json(ru, "/v1/log/head");
    assert!(
        head["clock"]["now"]
            .as_str()
            .unwrap()
            .starts_with("2022-03-04T12:0"),
        "the demo's clock: {head}"
    );
    let list = json(ru, "/v1/operations?window=borodianka-2022-03-04");
    let ops = list["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 2, "{list}");
    let summary = |id: &str| ops.iter().find(|o| o["id"] == id).unwrap().clone();
    let evac = summary("convoys/evac-1");
    assert_eq!(evac["progress"], "arrived", "{evac}");
    assert_eq!(evac["overdue"], false, "{evac}");
    assert_eq!(
        evac["acknowledgements"],
        serde_json::json!({"ru": "acknowledged", "ua": "acknowledged"})
    );
    let aid = summary("convoys/aid-1");
    assert_eq!(aid["kind"], "aid-delivery");
    assert_eq!(aid["progress"], "notified", "{aid}");
    assert_eq!(aid["overdue"], true, "{aid}");
    assert_eq!(
        aid["acknowledgements"],
        serde_json::json!({"ru": "overdue", "ua": "acknowledged"})
    );
    // Overdue is computed for the instant asked about: within the hour after the notification
    // (3 March, 18:30 UTC) the same acknowledgement was only pending.
    let earlier = json(ru, "/v1/operations?at=2022-03-03T19:10:00Z");
    let aid_then = earlier["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "convoys/aid-1")
        .unwrap()
        .clone();
    assert_eq!(aid_then["acknowledgements"]["ru"], "pending", "{earlier}");
    assert_eq!(aid_then["overdue"], false, "{earlier}");

    // The evacuation in full, as Ukraine's coordinator reads it.
    let op = json(ua, "/v1/operations/convoys/evac-1");
    assert_eq!(op["kind"], "both");
    assert_eq!(op["outcome"]["outcome"], "facilitated", "{op}");
    let events: Vec<&str> = op["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["departed", "checkpoint", "arrived"], "{op}");
    for m in op["timeline"].as_array().unwrap() {
        assert!(m["off_route_m"].as_i64().unwrap() <= 1500, "{m}");
    }
    let departed = &op["timeline"][0];
    assert_eq!(departed["destination"], "berestianka", "{departed}");
    assert_eq!(departed["voluntary"], true, "{departed}");
    let people = serde_json::json!({"adults": 41, "children": 23, "elderly": 17, "disabled": 3,
        "wounded": 2, "total": 86});
    assert_eq!(op["evacuees"]["departed"], people, "{op}");
    assert_eq!(op["evacuees"]["arrived"], people, "{op}");
    let line = |tracking: &str| {
        op["manifest"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["tracking"] == tracking)
            .unwrap()
            .clone()
    };
    let insulin = line("EV1-MED-1");
    assert_eq!(
        (
            &insulin["sent"],
            &insulin["delivered"],
            &insulin["damaged"],
            &insulin["lost"]
        ),
        (
            &serde_json::json!(400),
            &serde_json::json!(380),
            &serde_json::json!(20),
            &serde_json::json!(0)
        ),
        "{insulin}"
    );
    assert_eq!(line("EV1-WAT-1")["delivered"], 2000);
    // The aid convoy: received nothing, and its acknowledgement was due an hour after notice.
    let op = json(ru, "/v1/operations/convoys/aid-1");
    assert_eq!(op["acknowledgements"]["ru"]["status"], "overdue", "{op}");
    assert!(
        op["acknowledgement_due"]["utc"]
            .as_str()
            .unwrap()
            .starts_with("2022-03-03T19:30:00"),
        "{op}"
    );
    assert!(op["manifest"][0]["delivered"].is_null(), "{op}");

    // Unit confirmations: each party sees its own units by name, the other's as counts.
    let receipts = json(ru, "/v1/windows/borodianka-2022-03-04/receipts");
    let own = &receipts["parties"]["ru"];
    assert_eq!(own["named"], true, "{receipts}");
    assert_eq!(own["notices"][0]["notice"], "terms");
    assert_eq!(own["notices"][0]["confirmed"][0]["unit"], "ru/unit-1");
    assert_eq!(
        own["notices"][0]["pending"],
        serde_json::json!(["ru/unit-2"])
    );
    let other = &receipts["parties"]["ua"];
    assert_eq!(other["named"], false, "{receipts}");
    assert_eq!(other["units"], 3);
    assert_eq!(other["notices"][0]["confirmed_count"], 2);
    assert_eq!(other["notices"][0]["pending_count"], 1);
    assert!(other["notices"][0].get("confirmed").is_none(), "{receipts}");
    assert!(!receipts.to_string().contains("ua/unit-"), "{receipts}");
    let receipts = json(ua, "/v1/windows/borodianka-2022-03-04/receipts");
    assert_eq!(
        receipts["parties"]["ua"]["notices"][0]["pending"],
        serde_json::json!(["ua/unit-3"]),
        "{receipts}"
    );

    // The thread about the convoy: a message both parties were asked to acknowledge, and did.
    let threads = json(ru, "/v1/threads?operation=convoys/evac-1");
    assert_eq!(
        threads["threads"][0]["id"], "convoys/evac-1-line",
        "{threads}"
    );
    let thread = json(ru, "/v1/threads/convoys/evac-1-line");
    let m = &thread["messages"][0];
    assert_eq!(m["actor"], "convoys/lead", "{thread}");
    assert_eq!(
        m["acknowledgements"]["ua"]["acknowledged"], true,
        "{thread}"
    );
    assert_eq!(
        m["acknowledgements"]["ru"]["acknowledged"], true,
        "{thread}"
    );
    assert_eq!(m["awaiting"], serde_json::json!([]), "{thread}");

    // The HXL-tagged report: a hashtag row, and the insulin line with its damage.
    let csv = get(ru, "/v1/reports/operations.csv");
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("operation,"), "{csv}");
    assert!(
        lines.next().unwrap().starts_with("#activity+code,"),
        "{csv}"
    );
    assert!(
        csv.lines().any(|l| l.starts_with("convoys/evac-1,")
            && l.contains(",EV1-MED-1,medicine,insulin,box,400,380,20,0,86,86")),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("convoys/aid-1,") && l.contains(",notified,,ua,ru,")),
        "{csv}"
    );

    // The CLI shows the same.
    let out = with_server(dir, &url, &["operation", "list", "--key", ru]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("convoys/aid-1") && l.contains("ACKNOWLEDGEMENT OVERDUE")),
        "{text}"
    );
    // And as an alert, to both parties, which read the operation; its plates are not in it.
    for key in [ru, ua] {
        let out = with_server(dir, &url, &["alerts", "--key", key]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(
            text.lines().any(|l| l.contains("ack-overdue")
                && l.contains("operation convoys/aid-1")
                && l.contains("(party ru)")),
            "{text}"
        );
    }
    let alerts = json(ru, "/v1/alerts");
    assert!(!alerts.to_string().contains("plate"), "{alerts}");

    // Webhooks: an address inside the server's network is refused with its code; a public one
    // is listed until removed.
    let out = with_server(
        dir,
        &url,
        &["webhook", "add", "--key", ru, "http://127.0.0.1:9/x"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("webhook-url-refused"), "{err}");
    let out = with_server(
        dir,
        &url,
        &[
            "webhook",
            "add",
            "--key",
            ru,
            "https://hooks.example.org/corridor",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("whpk_"), "{text}");
    let id = text.split_whitespace().nth(1).unwrap().to_string();
    let out = with_server(dir, &url, &["webhook", "list", "--key", ru]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id));
    let out = with_server(dir, &url, &["webhook", "remove", "--key", ru, &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = with_server(dir, &url, &["webhook", "list", "--key", ru]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&id));

    // Incidents from both parties on the demo corridor, each matched to what was agreed for
    // that place and hour, read by the intermediary (which reads every report).
    let icrc = "demo/keys/intermediary-admin.key";
    let on = json(icrc, "/v1/incidents?corridor=borodianka-berestianka");
    let report = |id: &str| {
        on["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id} not on the corridor: {on}"))
            .clone()
    };
    let ours = report("ua/demo-route-gunfire");
    let m = &ours["matches"][0];
    assert_eq!(m["window"], "borodianka-2022-03-04", "{ours}");
    assert_eq!(m["window_status_at_incident"], "active", "{ours}");
    assert_eq!(m["agreed_and_open"], true, "{ours}");
    assert_eq!(m["certainly_inside"], true, "{ours}");
    assert_eq!(ours["status"], "verified", "{ours}");
    let theirs = report("ru/demo-checkpoint");
    assert_eq!(theirs["responses"][0]["actor"], "ua/coord-kyiv-oblast");
    assert_eq!(theirs["matches"][0]["possibly_inside"], true, "{theirs}");
    let all = json(icrc, "/v1/incidents");
    let outside = all["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "ru/demo-outside-1")
        .unwrap()
        .clone();
    assert_eq!(outside["matches"], serde_json::json!([]), "{outside}");
    assert!(
        all["counts"]["ru"]["claims_made"].as_u64().unwrap() >= 2,
        "{all}"
    );
    let out = with_server(
        dir,
        &url,
        &["incident", "show", "--key", icrc, "ua/demo-route-gunfire"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "window borodianka-2022-03-04 (version 3) active at that time: agreed and open"
        ),
        "{text}"
    );
}

/// `corridor window amend` gives a window a new version from the latest one: the second party
/// states its guarantee (and may move the times, in the zone they were stated in) without
/// writing `window.amend` JSON; then both consent to that version and it is agreed.
#[test]
fn the_second_party_adds_its_guarantee_with_window_amend() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let (_demo, url) = start_demo(dir);
    let run = |args: &[&str]| {
        let out = with_server(dir, &url, args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "corridor {args:?}: {text}");
        text
    };
    let ua = "demo/keys/ua-coord-kyiv-oblast.key";
    let ru = "demo/keys/ru-coord-1.key";
    run(&[
        "window",
        "propose",
        "--key",
        ua,
        "--window",
        "bb-7",
        "--corridor",
        "borodianka-berestianka",
        "--start",
        "2022-03-07T09:00",
        "--end",
        "2022-03-07T15:00",
        "--zone",
        "Europe/Kyiv",
        "--party",
        "ua",
        "--party",
        "ru",
        "--guarantee",
        "Ukraine holds fire along the route.",
    ]);
    let out = with_server(dir, &url, &["window", "amend", "--key", ru, "bb-7"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing to amend"),
        "{out:?}"
    );
    run(&[
        "window",
        "amend",
        "--key",
        ru,
        "bb-7",
        "--guarantee",
        "The Russian Federation holds fire along the route.",
        "--start",
        "2022-03-07T10:00",
    ]);
    let shown = run(&["window", "show", "--key", ua, "bb-7"]);
    assert!(
        shown.contains("guarantee of ua: Ukraine holds fire along the route.")
            && shown.contains("guarantee of ru: The Russian Federation holds fire along the route.")
            && shown.contains("version 2 ")
            // 10:00 in Kyiv, the zone the start was first stated in.
            && shown.contains("2022-03-07T08:00:00Z")
            && shown.contains("2022-03-07T13:00:00Z"),
        "{shown}"
    );
    run(&["window", "consent", "--key", ua, "bb-7"]);
    run(&["window", "consent", "--key", ru, "bb-7"]);
    let shown = run(&["window", "show", "--key", ua, "bb-7"]);
    assert!(shown.contains("— agreed"), "{shown}");
}

/// Every command type has a subcommand that builds it from flags (no JSON written by hand), and
/// every subcommand takes its key and server from `CORRIDOR_KEY` and `CORRIDOR_SERVER` when no
/// flag names them. The last two are refused by the server's rules (the demo names no recovery
/// holders and the server holds no second log key), which shows their bodies were well formed.
#[test]
fn every_command_type_is_sent_from_flags() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let (_demo, url) = start_demo(dir);
    let run = |key: Option<&str>, args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_corridor"));
        c.args(args)
            .current_dir(dir)
            .env("CORRIDOR_HOME", dir.join("home"))
            .env("CORRIDOR_SERVER", &url)
            .env_remove("CORRIDOR_KEY");
        if let Some(k) = key {
            c.env("CORRIDOR_KEY", k);
        }
        let out = c.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let ok_ = |key: Option<&str>, args: &[&str]| {
        let (ok, text) = run(key, args);
        assert!(ok, "corridor {args:?}: {text}");
        text
    };
    let ua = Some("demo/keys/ua-coord-kyiv-oblast.key");
    let ru = Some("demo/keys/ru-coord-1.key");
    let ua_admin = Some("demo/keys/ua-admin.key");
    // Without a key anywhere, clap says which flag or variable is missing.
    let (ok, text) = run(
        None,
        &["incident", "respond", "--incident", "x", "--text", "y"],
    );
    assert!(!ok && text.contains("--key"), "{text}");
    ok_(
        ua,
        &[
            "incident",
            "report",
            "--incident",
            "ua/flags-1",
            "--occurred-at",
            "2022-03-03T14:20:00Z",
            "--lat",
            "50.63",
            "--lon",
            "29.9",
            "--category",
            "gunfire",
            "--accused-party",
            "ru",
            "--description",
            "Gunfire near the checkpoint.",
        ],
    );
    ok_(
        ru,
        &[
            "incident",
            "respond",
            "--incident",
            "ua/flags-1",
            "--text",
            "Not our units.",
        ],
    );
    let incidents = ok_(ru, &["get", "/v1/incidents"]);
    assert!(
        incidents.contains("506300000") && incidents.contains("Not our units."),
        "{incidents}"
    );
    // Read as a person reads it: a claim, the answer beside it, where it falls.
    let shown = ok_(ru, &["incident", "show", "ua/flags-1"]);
    assert!(
        shown.contains("a claim by ua/coord-kyiv-oblast, not a finding")
            && shown.contains("answer by ru/coord-1: Not our units.")
            && shown.contains("lat 50.6300000, lon 29.9000000")
            && shown.contains("status (the intermediary's): unverified"),
        "{shown}"
    );
    let listed = ok_(
        ua,
        &["incident", "list", "--party", "ru", "--category", "gunfire"],
    );
    assert!(
        listed.contains("ua/flags-1") && listed.contains("claims received"),
        "{listed}"
    );
    let listed = ok_(ua, &["incident", "list", "--category", "mines"]);
    assert!(!listed.contains("ua/flags-1"), "{listed}");
    let (ok, text) = run(ua, &["incident", "list", "--bbox", "1,2,3"]);
    assert!(!ok && text.contains("bbox"), "{text}");
    // A new coordinator proves their key on their own device; the admin registers it.
    ok_(
        None,
        &["keygen", "--out", "c2.key", "--actor", "ua/coord-2"],
    );
    let proof = ok_(Some("c2.key"), &["key", "prove"]);
    std::fs::write(dir.join("c2.proof"), proof).unwrap();
    ok_(
        ua_admin,
        &[
            "actor",
            "register",
            "--proof",
            "c2.proof",
            "--role",
            "coordinator",
            "--name",
            "Second coordinator",
        ],
    );
    ok_(None, &["keygen", "--out", "c2b.key"]);
    let proof = ok_(Some("c2b.key"), &["key", "prove", "--actor", "ua/coord-2"]);
    std::fs::write(dir.join("c2b.proof"), proof).unwrap();
    ok_(ua_admin, &["key", "register", "--proof", "c2b.proof"]);
    ok_(
        ua_admin,
        &["key", "revoke", "c2.key.pub", "--reason", "device lost"],
    );
    let (ok, text) = run(Some("c2.key"), &["get", "/v1/windows"]);
    assert!(!ok && text.contains("auth-key-revoked"), "{text}");
    ok_(Some("c2b.key"), &["get", "/v1/windows"]);
    ok_(
        ru,
        &[
            "declaration",
            "publish",
            "--declaration",
            "ru/flags-1",
            "--corridor",
            "borodianka-berestianka",
            "--start",
            "2022-03-04T07:00:00Z",
            "--text-uk",
            "Заява",
            "--text-ru",
            "Заявление",
            "--text-en",
            "Statement",
        ],
    );
    let declarations = ok_(ru, &["get", "/v1/declarations"]);
    assert!(declarations.contains("ru/flags-1"), "{declarations}");
    ok_(None, &["keygen", "--out", "new-admin.key"]);
    let proof = ok_(
        Some("new-admin.key"),
        &["key", "prove", "--actor", "ua/admin"],
    );
    std::fs::write(dir.join("admin.proof"), proof).unwrap();
    let (ok, text) = run(
        ua_admin,
        &[
            "admin",
            "recover",
            "--proof",
            "admin.proof",
            "--reason",
            "lost",
        ],
    );
    assert!(!ok && text.contains("role-not-allowed"), "{text}");
    ok_(None, &["keygen", "--out", "next-log.key"]);
    let (ok, text) = run(
        Some("demo/keys/intermediary-admin.key"),
        &["log", "rotate-key", "--new-key", "next-log.key.pub"],
    );
    assert!(!ok && text.contains("log-key-not-held"), "{text}");
}

/// `incident report --evidence-file`: the salt is kept privately before anything is sent, the
/// commitment goes into the report, the file is uploaded after the receipt; the accused party
/// downloads it byte for byte, an organisation outside the report's audience cannot, and a
/// repeated upload with the kept salt is harmless.
#[test]
fn evidence_files_go_with_a_report_and_come_back_to_its_readers() {
    use corridor_core::crypto::sha256;
    use corridor_core::incident::{commitment, hex};
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let (_demo, url) = start_demo(dir);
    let run = |args: &[&str]| {
        let out = with_server(dir, &url, args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let photo: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("photo.jpg"), &photo).unwrap();
    std::fs::write(dir.join("note.txt"), b"witness statement").unwrap();
    let sha = hex(&sha256(&[&photo]));
    let ua = "demo/keys/ua-coord-kyiv-oblast.key";
    let (ok_, out) = run(&[
        "incident",
        "report",
        "--key",
        ua,
        "--incident",
        "ua/evidence-1",
        "--occurred-at",
        "2022-03-03T14:20:00Z",
        "--lat",
        "50.63",
        "--lon",
        "29.9",
        "--category",
        "gunfire",
        "--accused-party",
        "ru",
        "--description",
        "Gunfire near the checkpoint.",
        "--evidence-file",
        "photo.jpg",
        "--evidence-file",
        "note.txt",
    ]);
    assert!(ok_, "{out}");
    assert!(
        out.contains(&format!("uploaded photo.jpg (50000 bytes, sha256 {sha})")),
        "{out}"
    );
    assert!(out.contains("uploaded note.txt"), "{out}");
    // The salt is kept, privately, and opens the commitment the report carries.
    let kept = dir
        .join("home/evidence")
        .join(format!("ua_evidence-1-{sha}.json"));
    let record: serde_json::Value = serde_json::from_slice(&std::fs::read(&kept).unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kept).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the salt file is for its owner only: {mode:o}"
        );
    }
    let salt_hex = record["salt"].as_str().unwrap().to_string();
    assert!(out.contains(&format!("salt {salt_hex}")), "{out}");
    let salt: [u8; 32] = (0..32)
        .map(|i| u8::from_str_radix(&salt_hex[2 * i..2 * i + 2], 16).unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let c = commitment(&salt, &sha256(&[&photo]));
    let (ok_, incidents) = run(&["get", "--key", ua, "/v1/incidents"]);
    assert!(ok_ && incidents.contains(&c), "{incidents}");
    // The accused party downloads it; the bytes are checked and never overwrite a file.
    let ru = "demo/keys/ru-coord-1.key";
    let (ok_, out) = run(&["evidence", "get", "--key", ru, &sha, "--out", "got.jpg"]);
    assert!(ok_, "{out}");
    assert_eq!(std::fs::read(dir.join("got.jpg")).unwrap(), photo);
    let (ok_, out) = run(&["evidence", "get", "--key", ru, &sha, "--out", "got.jpg"]);
    assert!(!ok_ && out.contains("never overwritten"), "{out}");
    // An organisation outside the report's audience: as if there were no such file.
    let (ok_, out) = run(&[
        "evidence",
        "get",
        "--key",
        "demo/keys/convoys-lead.key",
        &sha,
        "--out",
        "stolen.jpg",
    ]);
    assert!(!ok_ && out.contains("evidence-unknown"), "{out}");
    assert!(!dir.join("stolen.jpg").exists());
    // An upload again with the kept salt changes nothing.
    let (ok_, out) = run(&[
        "evidence",
        "upload",
        "--key",
        ua,
        "--incident",
        "ua/evidence-1",
        "--salt",
        &salt_hex,
        "photo.jpg",
    ]);
    assert!(ok_ && out.contains("already uploaded"), "{out}");
}

/// The demo runs with one witness per party (#20): its public pages cite the checkpoint both
/// co-signed, and a monitor with a party's key checks what that party may read (some entries
/// are withheld from it, so no replay), while the intermediary's staff, who read everything,
/// get the whole log replayed.
#[test]
fn the_demo_is_witnessed_and_monitors_read_what_they_may() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let (_demo, url) = start_demo(dir);
    let addr = url.trim_start_matches("http://").to_string();
    let mut cited = false;
    for _ in 0..150 {
        let (_, _, page) = fetch(&addr, "/en/");
        if page.contains("Co-signed by 2 of 2 witnesses") {
            cited = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(cited, "the pages never cited a co-signed checkpoint");
    let m = with_server(
        dir,
        &url,
        &[
            "monitor",
            "--state",
            "m-ua",
            "--once",
            "--key",
            "demo/keys/ua-admin.key",
        ],
    );
    let out = String::from_utf8_lossy(&m.stdout);
    assert!(m.status.success(), "{out}");
    assert!(out.contains("withheld from this reader"), "{out}");
    assert!(out.contains("witnessed: checkpoint"), "{out}");
    let m = with_server(
        dir,
        &url,
        &[
            "monitor",
            "--state",
            "m-icrc",
            "--once",
            "--key",
            "demo/keys/intermediary-admin.key",
        ],
    );
    let out = String::from_utf8_lossy(&m.stdout);
    assert!(m.status.success(), "{out}");
    assert!(out.contains("checked and replayed"), "{out}");
}

/// The demo's register (#19): the corridor says which agreed point it implements, for the
/// parties and the intermediary only; the points and rounds read as recorded; the protocol's
/// bundle verifies offline against the genesis fingerprint and fails against another.
#[test]
fn the_demo_corridor_names_the_point_it_implements() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let (_demo, url) = start_demo(dir);
    let get = |key: &str, path: &str| -> serde_json::Value {
        let o = with_server(dir, &url, &["get", "--key", key, path]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let c = get(
        "demo/keys/ru-coord-1.key",
        "/v1/corridors/borodianka-berestianka",
    );
    assert_eq!(c["agreed_in"][0]["point"], "h-1", "{}", c["agreed_in"]);
    assert_eq!(c["agreed_in"][0]["agreed_in_round"], "round-2");
    let w = c["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == "borodianka-2022-03-04")
        .unwrap();
    assert_eq!(w["agreed_in"][0]["point"], "h-1");
    // The convoy operator reads the corridor, not the talks.
    let c = get(
        "demo/keys/convoys-lead.key",
        "/v1/corridors/borodianka-berestianka",
    );
    assert_eq!(c["agreed_in"], serde_json::json!([]));
    // The point links back; the military point is open with both positions.
    let p = get("demo/keys/ua-coord-kyiv-oblast.key", "/v1/points");
    let points = p["points"].as_array().unwrap();
    let h1 = points.iter().find(|p| p["id"] == "h-1").unwrap();
    assert_eq!(
        h1["corridors"],
        serde_json::json!(["borodianka-berestianka"])
    );
    let m1 = points.iter().find(|p| p["id"] == "m-1").unwrap();
    assert_eq!(m1["status"], "open");
    assert_eq!(m1["positions"]["ru"]["stance"], "reserves");
    // The protocol's bundle: verified against the genesis fingerprint, refused against another.
    let o = with_server(
        dir,
        &url,
        &[
            "document",
            "bundle",
            "protocol-2022-03-03",
            "--key",
            "demo/keys/ua-signatory.key",
            "--out",
            "protocol.json",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let fp = with_server(dir, &url, &["genesis", "fingerprint", "demo/genesis.json"]);
    let fp = String::from_utf8_lossy(&fp.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    let o = with_server(
        dir,
        &url,
        &[
            "verify-document",
            "--genesis-fingerprint",
            &fp,
            "protocol.json",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains("signed by every party"),
        "{out}"
    );
    let o = with_server(
        dir,
        &url,
        &[
            "verify-document",
            "--genesis-fingerprint",
            "0000-0000-0000-0000-0000-0000-0000-0000",
            "protocol.json",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("not the log you named"),
        "{err}"
    );
}

/// Field mode (#17 item 5, the CLI's part): with the server unreachable, a coordinator signs
/// two commands into the outbox (`submit --offline`, dated on the exercise clock this device
/// saw last); once the server is back, `resend` lands both, once, and a second `resend` has
/// nothing left to send.
#[test]
fn commands_signed_offline_land_once_when_the_connection_returns() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let serve = || {
        let child = Command::new(env!("CARGO_BIN_EXE_corridor"))
            .args([
                "demo",
                "--data-dir",
                "demo",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..600 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Demo(child)
    };
    let key = "demo/keys/ua-coord-kyiv-oblast.key";
    {
        let _demo = serve();
        // While connected, the device learns the log (and its exercise clock).
        let o = with_server(dir, &url, &["monitor"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // The connection is gone: both commands are signed and kept, nothing is sent.
    for n in 1..=2 {
        let body = format!(
            r#"{{"type": "incident.report", "incident": "ua/offline-{n}", "occurred_at": "2022-03-03T14:00:00Z",
            "location": {{"lat_e7": 506451000, "lon_e7": 299220000}}, "category": "shelling",
            "description": "Exercise: reported from a checkpoint without a signal"}}"#
        );
        std::fs::write(dir.join(format!("offline-{n}.json")), body).unwrap();
        let o = with_server(
            dir,
            &url,
            &[
                "submit",
                "--offline",
                "--key",
                key,
                &format!("offline-{n}.json"),
            ],
        );
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && out.contains("signed offline"),
            "{out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = with_server(dir, &url, &["resend"]);
    assert!(
        !o.status.success(),
        "nothing can be sent while the server is down"
    );
    // The connection returns: both land, once.
    let _demo = serve();
    let o = with_server(dir, &url, &["resend"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = with_server(dir, &url, &["resend"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("nothing to resend"));
    for n in 1..=2 {
        let o = with_server(
            dir,
            &url,
            &[
                "get",
                "--key",
                key,
                &format!("/v1/incidents/ua/offline-{n}"),
            ],
        );
        assert!(
            o.status.success(),
            "ua/offline-{n}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
