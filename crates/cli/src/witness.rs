//! `corridor witness`: a C2SP tlog-witness that co-signs a log's checkpoint only if it is
//! consistent with the last one it co-signed for that log (the rules are
//! [`corridor_core::witness`]; this is the HTTP shell and the state file).
//!
//! Each party can run its own witness. A checkpoint co-signed by both parties' witnesses is one
//! that neither party's witness has seen contradicted, so the server cannot show one history to
//! one party and another to the other without one of them refusing. The check against the last
//! co-signed tree and the write of the new one happen under one lock, and the new state is on
//! disk (fsync, then rename) before the answer leaves: a witness that co-signed must never
//! forget it, or a rollback could be co-signed after a restart.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use clap::Args;
use corridor_core::crypto::{Keypair, PublicKey, b64, unb64};
use corridor_core::witness::{self, Latest};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

/// Options of `corridor witness`.
#[derive(Args, Debug)]
pub struct WitnessArgs {
    /// The witness's private key file (`corridor keygen --out FILE`).
    #[arg(long)]
    key: PathBuf,
    /// The witness's name, a schema-less URL (e.g. witness.ua.example/w1): it goes into every
    /// co-signature line and its key id.
    #[arg(long)]
    name: String,
    /// Where to listen (add-checkpoint is `POST http://ADDR/add-checkpoint`).
    #[arg(long)]
    listen: SocketAddr,
    /// A log this witness follows, as ORIGIN=LOG_KEY (repeat for several logs). Checkpoints of
    /// other logs are refused with 404.
    #[arg(long = "log", value_name = "ORIGIN=LOG_KEY", required = true)]
    logs: Vec<String>,
    /// The directory where the latest co-signed checkpoint of each log is kept.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
}

/// The state file: the latest co-signed tree of each log.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    logs: BTreeMap<String, SavedTree>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedTree {
    size: u64,
    root: String,
}

struct Witness {
    name: String,
    key: Keypair,
    logs: BTreeMap<String, PublicKey>,
    file: PathBuf,
    latest: Mutex<BTreeMap<String, Latest>>,
    /// The latest checkpoint co-signed per log, as a note with this witness's line, for
    /// gossip (`GET /v1/checkpoints`); kept beside the state in `seen.json`, best effort: the
    /// state file, not this, is what keeps the witness from co-signing a rollback.
    seen: std::sync::Mutex<BTreeMap<String, String>>,
    seen_file: PathBuf,
}

fn load_state(file: &Path) -> anyhow::Result<BTreeMap<String, Latest>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    let saved: Saved = serde_json::from_str(&text)
        .with_context(|| format!("{} is damaged; the witness will not start", file.display()))?;
    saved
        .logs
        .into_iter()
        .map(|(origin, t)| {
            let root = unb64("root", &t.root)
                .ok()
                .and_then(|b| b.try_into().ok())
                .with_context(|| format!("{}: the root of {origin} is damaged", file.display()))?;
            Ok((origin, Latest { size: t.size, root }))
        })
        .collect()
}

fn save_state(file: &Path, latest: &BTreeMap<String, Latest>) -> std::io::Result<()> {
    let saved = Saved {
        logs: latest
            .iter()
            .map(|(o, l)| {
                (
                    o.clone(),
                    SavedTree {
                        size: l.size,
                        root: b64(&l.root),
                    },
                )
            })
            .collect(),
    };
    let tmp = file.with_extension("json.tmp");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(serde_json::to_string_pretty(&saved)?.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, file)?;
    if let Some(dir) = file.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Run the witness until the process is stopped.
pub async fn run(a: WitnessArgs) -> anyhow::Result<()> {
    let key = crate::keys::load(&a.key)?.keypair;
    let mut logs = BTreeMap::new();
    for l in &a.logs {
        let Some((origin, k)) = l.split_once('=') else {
            bail!(
                "--log {l:?}: give ORIGIN=LOG_KEY, e.g. corridor.example/log=<the log key from its genesis>"
            );
        };
        let k = PublicKey::parse(k).map_err(|e| anyhow::anyhow!("--log {l:?}: {e}"))?;
        logs.insert(origin.to_string(), k);
    }
    let (app, public) = app(&a.name, key, logs, &a.state)?;
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))?;
    println!(
        "witness {} (key {}) listening on http://{}",
        a.name,
        public.id(),
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}

/// The witness's HTTP service for `logs`, its state kept in `state` (loaded now; refused if
/// damaged), and its public key. `corridor witness` serves it; the demo runs two in-process.
pub fn app(
    name: &str,
    key: Keypair,
    logs: BTreeMap<String, PublicKey>,
    state: &Path,
) -> anyhow::Result<(axum::Router, PublicKey)> {
    std::fs::create_dir_all(state).with_context(|| format!("cannot create {}", state.display()))?;
    let file = state.join("witness.json");
    let latest = load_state(&file)?;
    let seen_file = state.join("seen.json");
    let seen = std::fs::read_to_string(&seen_file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let public = key.public();
    let w = Arc::new(Witness {
        name: name.to_string(),
        key,
        logs,
        file,
        latest: Mutex::new(latest),
        seen: std::sync::Mutex::new(seen),
        seen_file,
    });
    let app = axum::Router::new()
        .route("/add-checkpoint", axum::routing::post(add_checkpoint))
        .route("/v1/checkpoints", axum::routing::get(gossip))
        .with_state(w);
    Ok((app, public))
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// `POST /add-checkpoint` (C2SP tlog-witness).
async fn add_checkpoint(State(w): State<Arc<Witness>>, body: String) -> Response {
    let req = match witness::parse_add_checkpoint(&body) {
        Ok(r) => r,
        Err(r) => return text(StatusCode::BAD_REQUEST, format!("{}\n", r.message)),
    };
    // Check and persist under one lock: two requests must never both pass against one state.
    let mut latest = w.latest.lock().await;
    let decided = witness::add_checkpoint(&w.logs, |o| latest.get(o).copied(), &req);
    let (origin, cp) = match decided {
        Ok(x) => x,
        Err(r) => {
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
            if let Some(size) = r.latest_size {
                return (
                    status,
                    [(header::CONTENT_TYPE, "text/x.tlog.size")],
                    format!("{size}\n"),
                )
                    .into_response();
            }
            eprintln!("witness: refused ({}): {}", r.status, r.message);
            return text(status, format!("{}\n", r.message));
        }
    };
    let mut next = latest.clone();
    next.insert(
        origin,
        Latest {
            size: cp.size,
            root: cp.root,
        },
    );
    if let Err(e) = save_state(&w.file, &next) {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the witness cannot keep its state, so it co-signs nothing: {e}\n"),
        );
    }
    *latest = next;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let body = witness::note_body(&req.note).unwrap_or_default();
    let line = witness::cosign(&w.name, &w.key, now, body);
    let snapshot = {
        let mut seen = w.seen.lock().expect("not poisoned");
        seen.insert(
            cp.origin.clone(),
            witness::with_cosignatures(&req.note, std::slice::from_ref(&line)),
        );
        serde_json::to_string(&*seen).unwrap_or_default()
    };
    if let Err(e) = std::fs::write(&w.seen_file, snapshot) {
        eprintln!("witness: cannot write {}: {e}", w.seen_file.display());
    }
    text(StatusCode::OK, line)
}

/// `GET /v1/checkpoints`: the latest checkpoint this witness co-signed for each log, in the
/// shape monitors gossip (`corridor monitor --peer URL` compares them with its own leaves).
/// Each note carries the log key's signature, so nobody needs to trust the witness's word.
async fn gossip(State(w): State<Arc<Witness>>) -> Response {
    let seen = w.seen.lock().expect("not poisoned").clone();
    axum::Json(serde_json::json!({
        "witness": w.name,
        "checkpoints": seen
            .iter()
            .map(|(origin, note)| serde_json::json!({"origin": origin, "note": note}))
            .collect::<Vec<_>>(),
    }))
    .into_response()
}
