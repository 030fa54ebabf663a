//! A log with witnesses, end to end (#20): a genesis naming one witness per party with a quorum
//! of both, two `corridor witness` processes, `corridor serve --witness`, and the clients. The
//! server gathers both co-signatures and serves the co-signed checkpoint; the monitor and every
//! client command count them themselves. With one party's witness switched off, commands still
//! go through and everyone is told plainly that the log is not witnessed; once the witness is
//! back and the log grows, it is witnessed again.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use corridor_core::genesis::SignedGenesis;

const ORIGIN: &str = "corridor.test/witnessed";

fn corridor(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(args)
        .current_dir(dir)
        .env("CORRIDOR_HOME", dir.join("home"))
        .output()
        .expect("run corridor")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = corridor(dir, args);
    assert!(o.status.success(), "corridor {args:?}: {}", text(&o));
    text(&o)
}

/// Register `ua/<who>` as a coordinator, from its own key and proof, by the ua admin; the
/// command's output.
fn coordinator(dir: &Path, who: &str, server: &str) -> String {
    ok(
        dir,
        &[
            "keygen",
            "--out",
            &format!("{who}.key"),
            "--actor",
            &format!("ua/{who}"),
        ],
    );
    prove(dir, who, server);
    let proof = format!("{who}.proof");
    ok(
        dir,
        &[
            "actor",
            "register",
            "--key",
            "admin.key",
            "--server",
            server,
            "--proof",
            &proof,
            "--role",
            "coordinator",
            "--name",
            who,
        ],
    )
}

/// `corridor key prove` for `who`'s key, into `who.proof` (its stdout: warnings go to stderr).
fn prove(dir: &Path, who: &str, server: &str) {
    let key = format!("{who}.key");
    let o = corridor(dir, &["key", "prove", "--key", &key, "--server", server]);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(dir.join(format!("{who}.proof")), &o.stdout).unwrap();
}

struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(port: u16) {
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {port}");
}

fn spawn(dir: &Path, args: &[&str], port: u16) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let r = Running(child);
    wait_for(port);
    r
}

fn witness(dir: &Path, who: &str, port: u16, log_key: &str) -> Running {
    spawn(
        dir,
        &[
            "witness",
            "--key",
            &format!("w{who}.key"),
            "--name",
            &format!("witness.{who}.example"),
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--log",
            &format!("{ORIGIN}={log_key}"),
            "--state",
            &format!("w{who}-state"),
        ],
        port,
    )
}

fn get(url: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
}

/// Wait until the served checkpoint carries both witnesses' co-signatures and covers `size`
/// entries at least; the note.
fn cosigned_by_both(server: &str, g: &SignedGenesis, size: u64) -> String {
    let policy = g.document.witnesses.as_ref().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let note = get(&format!("{server}/v1/log/checkpoint"));
        let at: u64 = note.lines().nth(1).unwrap_or("0").parse().unwrap_or(0);
        if at >= size && corridor_core::witness::quorum(&note, policy).met() {
            return note;
        }
        assert!(
            Instant::now() < deadline,
            "the checkpoint was not co-signed by both witnesses in time: {note}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_log_is_witnessed_by_both_parties_and_degrades_visibly_without_one() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    for k in ["log", "icrc", "ua", "ru", "wua", "wru"] {
        ok(dir, &["keygen", "--out", &format!("{k}.key")]);
    }
    ok(
        dir,
        &["keygen", "--out", "admin.key", "--actor", "ua/admin"],
    );
    let init = |extra: &[&str]| {
        let mut args = vec![
            "init",
            "--origin",
            ORIGIN,
            "--log-key",
            "log.key.pub",
            "--intermediary",
            "icrc=icrc.key.pub",
            "--party",
            "ua=admin.key.pub",
            "--zone",
            "ua=Europe/Kyiv",
            "--party",
            "ru=ru.key.pub",
            "--zone",
            "ru=Europe/Moscow",
            "--witness",
            "witness.ua.example=ua:wua.key.pub",
            "--witness",
            "witness.ru.example=ru:wru.key.pub",
        ];
        args.extend_from_slice(extra);
        corridor(dir, &args)
    };
    // A minority quorum is refused when the genesis is written.
    let o = init(&["--witness-quorum", "1", "--out", "minority.json"]);
    assert!(
        !o.status.success() && text(&o).contains("majority"),
        "{}",
        text(&o)
    );
    let o = init(&[]);
    assert!(o.status.success(), "{}", text(&o));
    for k in ["admin", "icrc", "ru"] {
        ok(
            dir,
            &[
                "genesis",
                "sign",
                "--key",
                &format!("{k}.key"),
                "genesis.json",
            ],
        );
    }
    let g: SignedGenesis =
        serde_json::from_str(&std::fs::read_to_string(dir.join("genesis.json")).unwrap()).unwrap();
    assert_eq!(g.document.witnesses.as_ref().unwrap().quorum, 2);
    let log_key = g.document.log_key.clone();

    let (pua, pru, pserver) = (free_port(), free_port(), free_port());
    let wua = witness(dir, "ua", pua, &log_key);
    let mut wru = Some(witness(dir, "ru", pru, &log_key));
    let serve_args = |extra: &str| {
        vec![
            "serve".to_string(),
            "--data-dir".into(),
            "data".into(),
            "--genesis".into(),
            "genesis.json".into(),
            "--log-key".into(),
            "log.key".into(),
            "--listen".into(),
            format!("127.0.0.1:{pserver}"),
            "--witness".into(),
            format!("witness.ua.example=http://127.0.0.1:{pua}"),
            "--witness".into(),
            extra.to_string(),
        ]
    };
    // A witness the genesis does not name is refused at start, naming the ones it does.
    let wrong = serve_args("witness.xx.example=http://127.0.0.1:1");
    let wrong: Vec<&str> = wrong.iter().map(String::as_str).collect();
    let o = corridor(dir, &wrong);
    assert!(
        !o.status.success() && text(&o).contains("names no witness \"witness.xx.example\""),
        "{}",
        text(&o)
    );
    let args = serve_args(&format!("witness.ru.example=http://127.0.0.1:{pru}"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let _server = spawn(dir, &args, pserver);
    let server = format!("http://127.0.0.1:{pserver}");

    // Both co-signatures gathered and served, on the checkpoint and beside the head.
    let note = cosigned_by_both(&server, &g, 1);
    assert_eq!(note.matches('\u{2014}').count(), 3, "{note}");
    let head: serde_json::Value =
        serde_json::from_str(&get(&format!("{server}/v1/log/head"))).unwrap();
    assert_eq!(head["witnesses"]["quorum"], 2, "{head}");
    assert!(
        head["witnessed"]["note"]
            .as_str()
            .unwrap()
            .contains("witness.ru.example")
    );

    // The monitor counts them itself.
    let m = ok(
        dir,
        &["monitor", "--server", &server, "--state", "m", "--once"],
    );
    assert!(m.contains("witnessed: checkpoint"), "{m}");
    assert!(!m.contains("NOT WITNESSED"), "{m}");

    // A client acts on a witnessed log without a warning.
    let out = coordinator(dir, "c1", &server);
    assert!(!out.contains("NOT witnessed"), "{out}");
    // The genesis and one registration.
    let size = 2;
    cosigned_by_both(&server, &g, size);

    // The Russian Federation's witness goes down: commands still land, and everyone is told.
    drop(wru.take());
    coordinator(dir, "c2", &server);
    // The server's round for the new checkpoint: the Ukrainian witness co-signs alone.
    let grown = size + 1;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let head: serde_json::Value =
            serde_json::from_str(&get(&format!("{server}/v1/log/head"))).unwrap();
        if head["witnessed"]["size"].as_u64() == Some(grown) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no round for size {grown}: {head}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let o = corridor(
        dir,
        &[
            "get",
            "--key",
            "admin.key",
            "--server",
            &server,
            "/v1/corridors",
        ],
    );
    assert!(o.status.success(), "a read still works: {}", text(&o));
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(
        said.contains("is NOT witnessed")
            && said.contains("missing: witness.ru.example (run by ru)"),
        "{said}"
    );
    let m = ok(
        dir,
        &["monitor", "--server", &server, "--state", "m", "--once"],
    );
    assert!(
        m.contains("NOT WITNESSED") && m.contains("co-signed by 1 of 2 witnesses (quorum 2)"),
        "{m}"
    );

    // Back up (its state kept): the next checkpoint is co-signed by both again.
    let _wru = witness(dir, "ru", pru, &log_key);
    coordinator(dir, "c3", &server);
    cosigned_by_both(&server, &g, grown + 1);
    let m = ok(
        dir,
        &["monitor", "--server", &server, "--state", "m", "--once"],
    );
    assert!(
        m.contains("witnessed: checkpoint") && !m.contains("NOT"),
        "{m}"
    );
    // Witnesses gossip: a monitor compares the checkpoints they co-signed with its own leaves.
    let peer = format!("http://127.0.0.1:{pua}");
    let m = ok(
        dir,
        &[
            "monitor", "--server", &server, "--state", "m", "--once", "--peer", &peer,
        ],
    );
    assert!(
        m.contains("and with the 1 checkpoints its peers verified"),
        "{m}"
    );
    // With a key, the monitor also reads, checks and replays what that key may read.
    let m = ok(
        dir,
        &[
            "monitor",
            "--server",
            &server,
            "--state",
            "m",
            "--once",
            "--key",
            "admin.key",
        ],
    );
    assert!(
        m.contains("all 4 entries readable by this key, checked and replayed"),
        "{m}"
    );
    drop(wua);
}
