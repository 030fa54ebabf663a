//! Talking to a corridor server as a field client: sign once, keep what was signed, resend the
//! same bytes until a receipt comes back, and on every contact check that the log the server
//! shows is consistent with the last checkpoint this client saw.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::{Keypair, PublicKey, sha256, unb64};
use corridor_core::genesis::Witnesses;
use corridor_core::httpsig;
use corridor_core::merkle::verify_consistency;
use corridor_core::receipt::SignedReceipt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where the CLI keeps its outbox, receipts and the last checkpoint per server:
/// `$CORRIDOR_HOME`, else `~/.corridor`.
pub fn home() -> PathBuf {
    std::env::var_os("CORRIDOR_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".corridor")))
        .unwrap_or_else(|| PathBuf::from(".corridor"))
}

fn server_dir(server: &str) -> PathBuf {
    let name: String = server
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    home().join("servers").join(name)
}

/// What the server says about its log.
#[derive(Debug, Deserialize)]
pub struct HeadInfo {
    /// Origin.
    pub origin: String,
    /// Size of the latest checkpoint.
    pub size: u64,
    /// The signed note.
    pub note: String,
    /// The log's public key.
    pub log_key: String,
    /// Whether the log is an exercise.
    pub exercise: bool,
    /// The server's clock.
    pub clock: ClockInfo,
    /// The chain of log keys, each with the handover checkpoint signed by it and the one before.
    #[serde(default)]
    pub log_keys: Vec<LogKeyInfo>,
    /// The witnesses and quorum of the genesis, as the server reports them (remembered on first
    /// use, like the log key; a later change is refused).
    #[serde(default)]
    pub witnesses: Option<Witnesses>,
    /// The latest checkpoint with co-signatures, as the server reports it.
    #[serde(default)]
    pub witnessed: Option<WitnessedInfo>,
    /// What this client made of the witnesses' co-signatures (set by [`Client::check_log`]).
    #[serde(skip)]
    pub witness_state: Option<WitnessState>,
}

/// The co-signed checkpoint the server reports.
#[derive(Debug, Deserialize)]
pub struct WitnessedInfo {
    /// Its size.
    pub size: u64,
    /// The note with co-signature lines.
    pub note: String,
}

/// Whether the log this client sees is witnessed: a quorum of the genesis's witnesses
/// co-signed a checkpoint the head is proved consistent with, recently enough.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessState {
    /// The quorum co-signed the checkpoint at `size` (the head, or a recent one it extends).
    Witnessed {
        /// The co-signed size.
        size: u64,
        /// Who co-signed, in words.
        detail: String,
    },
    /// Not witnessed: the client goes on (no party can halt everyone by switching its witness
    /// off), but says so, because a split view is possible until the quorum is back.
    Degraded(String),
}

/// One log key of the chain, as the server reports it.
#[derive(Debug, Deserialize)]
pub struct LogKeyInfo {
    /// The public key.
    pub key: String,
    /// The first checkpoint of its epoch, signed by the previous key and this one.
    pub handover: Option<String>,
}

/// The server's clock, as it reports it.
#[derive(Debug, Deserialize)]
pub struct ClockInfo {
    /// True on an exercise clock.
    pub simulated: bool,
    /// The server's now.
    pub now: String,
}

/// What the client remembers about a server.
#[derive(Debug, Serialize, Deserialize)]
struct Remembered {
    origin: String,
    log_key: String,
    size: u64,
    note: String,
    /// The genesis's witnesses, as first seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    witnesses: Option<Witnesses>,
    /// On an exercise log, how far the log's simulated clock was ahead of this device's at the
    /// last contact, in seconds: what a command signed offline is dated with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clock_offset_s: Option<i64>,
}

/// What this client last verified of `server`, for signing without a connection: the log's
/// origin and, on an exercise log, the offset of its simulated clock from this device's.
pub fn last_seen(server: &str) -> Option<(String, Option<i64>)> {
    let file = server_dir(server.trim_end_matches('/')).join("checkpoint.json");
    let r: Remembered = serde_json::from_str(&fs::read_to_string(file).ok()?).ok()?;
    Some((r.origin, r.clock_offset_s))
}

/// Print `message` on stderr the first time only: a command that checks the log several times
/// says it once.
fn warn_once(message: &str) {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SAID.swap(true, std::sync::atomic::Ordering::SeqCst) {
        eprintln!("{message}");
    }
}

/// A client for one server.
pub struct Client {
    /// Base URL without trailing slash.
    pub base: String,
    http: reqwest::Client,
}

/// A problem document from the server, with a readable message.
pub fn problem_message(status: reqwest::StatusCode, body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(p) if p.get("code").is_some() => {
            let code = p["code"].as_str().unwrap_or("?");
            let detail = p["detail"].as_str().unwrap_or("");
            let hint = match code {
                "clock-skew" => format!(
                    "\nhint: this computer's clock is off from the log's ({}). Set the clock right (e.g. `timedatectl set-ntp true`) and try again; the signed command was kept, resend it with `corridor resend`.",
                    p["server_time"].as_str().unwrap_or("?")
                ),
                "unknown-key" => "\nhint: ask your party admin to register this key (actor.register or key.register).".into(),
                "key-revoked" => "\nhint: this key was revoked; ask your admin for a new key registration.".into(),
                "key-actor-mismatch" => "\nhint: pass the actor this key was registered for with --actor.".into(),
                "command-id-conflict" => "\nhint: this command id was used for a different command; submit with a new --id.".into(),
                _ => String::new(),
            };
            format!("the server refused the command ({status}, {code}): {detail}{hint}")
        }
        _ => format!("the server answered {status}: {body}"),
    }
}

impl Client {
    /// A client for `server` (e.g. `http://127.0.0.1:8080`).
    pub fn new(server: &str) -> Self {
        Client {
            base: server.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
        }
    }

    async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let url = format!("{}{path}", self.base);
        let resp =
            self.http.get(&url).send().await.with_context(|| {
                format!("cannot reach {url}: is `corridor serve` running there?")
            })?;
        let status = resp.status();
        let body = resp.text().await?;
        if !status.is_success() {
            bail!("{}", problem_message(status, &body));
        }
        Ok(body)
    }

    /// A public GET, as JSON.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let body = self.get_text(path).await?;
        serde_json::from_str(&body).with_context(|| format!("{path} did not answer JSON"))
    }

    /// The server's head, as JSON.
    pub async fn head(&self) -> anyhow::Result<HeadInfo> {
        let body = self.get_text("/v1/log/head").await?;
        serde_json::from_str(&body).context("the server's /v1/log/head is not what corridor serves")
    }

    /// Fetch the latest checkpoint, verify it with the log key remembered for this server (trust
    /// on first use), and prove it consistent with the last one seen. Returns the head.
    pub async fn check_log(&self) -> anyhow::Result<HeadInfo> {
        let head = self.head().await?;
        let dir = server_dir(&self.base);
        let file = dir.join("checkpoint.json");
        let remembered: Option<Remembered> = fs::read_to_string(&file)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let mut remembered = remembered;
        let log_key = match &mut remembered {
            Some(r) => {
                if r.origin == head.origin && r.log_key != head.log_key {
                    self.follow_key_chain(&head, r).await?;
                }
                if r.log_key != head.log_key || r.origin != head.origin {
                    bail!(
                        "the server at {} now presents log {:?} with key {}, but this client knew log {:?} with key {}. \
                         This is either a different log or a key change that was not handed over; do not trust it until your coordinator confirms. \
                         (To start over deliberately, delete {}.)",
                        self.base,
                        head.origin,
                        head.log_key,
                        r.origin,
                        r.log_key,
                        file.display()
                    );
                }
                PublicKey::parse(&r.log_key)?
            }
            None => PublicKey::parse(&head.log_key)?,
        };
        let cp = Checkpoint::verify(&head.note, &head.origin, &log_key)
            .map_err(|e| anyhow::anyhow!("the server's checkpoint does not verify: {e}"))?;
        if let Some(r) = &remembered {
            let old = Checkpoint::verify(&r.note, &r.origin, &log_key)
                .map_err(|e| anyhow::anyhow!("the remembered checkpoint does not verify: {e}"))?;
            self.prove_consistent(&old, &cp).await?;
            if r.witnesses.is_some() && r.witnesses != head.witnesses {
                bail!(
                    "the server at {} now reports other witnesses for log {:?} than this client saw first; witnesses are fixed in the genesis, so this is a different log or a server hiding its witnesses. Do not trust it until your coordinator confirms. (To start over deliberately, delete {}.)",
                    self.base,
                    head.origin,
                    file.display()
                );
            }
        }
        let mut head = head;
        head.witness_state = match &head.witnesses {
            None => None,
            Some(w) => Some(self.witness_state(&head, &cp, &log_key, w).await?),
        };
        if let Some(WitnessState::Degraded(why)) = &head.witness_state {
            warn_once(&format!(
                "warning: log {} is NOT witnessed: {why}. Commands still go through, but until the witnesses co-sign again this client cannot rule out being shown a different history than the other parties.",
                head.origin
            ));
        }
        fs::create_dir_all(&dir)?;
        let tmp = dir.join("checkpoint.json.tmp");
        fs::write(
            &tmp,
            serde_json::to_string_pretty(&Remembered {
                origin: head.origin.clone(),
                log_key: log_key.id(),
                size: cp.size,
                note: head.note.clone(),
                witnesses: head.witnesses.clone(),
                clock_offset_s: head
                    .clock
                    .simulated
                    .then(|| {
                        head.clock
                            .now
                            .parse::<jiff::Timestamp>()
                            .ok()
                            .map(|t| t.as_second() - jiff::Timestamp::now().as_second())
                    })
                    .flatten(),
            })?,
        )?;
        fs::rename(&tmp, &file)?;
        Ok(head)
    }

    /// A signed read (RFC 9421, see `corridor_core::httpsig`): `GET path_and_query` signed with
    /// `key` for the log `head` describes. The body of a successful reply.
    pub async fn get_signed(
        &self,
        head: &HeadInfo,
        key: &Keypair,
        path_and_query: &str,
    ) -> anyhow::Result<String> {
        let resp = self.signed(head, key, "GET", path_and_query).await?;
        Ok(resp.text().await?)
    }

    /// A signed request with `method` (no body: the signature covers method, path and query),
    /// signed at the log's clock on an exercise (a 2022 exercise refuses requests signed in
    /// 2026) and at this machine's clock otherwise. The reply if successful, unread (a stream
    /// is read as it comes); a problem document becomes the error.
    pub async fn signed(
        &self,
        head: &HeadInfo,
        key: &Keypair,
        method: &str,
        path_and_query: &str,
    ) -> anyhow::Result<reqwest::Response> {
        self.signed_with_body(head, key, method, path_and_query, None)
            .await
    }

    /// [`Client::signed`] with a body (`content type`, bytes). The signature does not cover the
    /// body: a route that takes one binds it through the signed query (an evidence upload
    /// names the body's SHA-256 there, and the server refuses other bytes).
    pub async fn signed_with_body(
        &self,
        head: &HeadInfo,
        key: &Keypair,
        method: &str,
        path_and_query: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> anyhow::Result<reqwest::Response> {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let now = if head.clock.simulated {
            head.clock
                .now
                .parse::<jiff::Timestamp>()
                .context("the server's clock reading is not an RFC 3339 instant")?
        } else {
            jiff::Timestamp::now()
        };
        let nonce = hex(&crate::keys::random_seed()[..16]);
        let target = httpsig::Target {
            method,
            path,
            query,
        };
        let (input, signature) = httpsig::sign(key, &head.origin, target, now.as_second(), &nonce);
        let url = format!("{}{path_and_query}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .with_context(|| format!("{method:?} is not an HTTP method"))?;
        let mut req = self
            .http
            .request(method, &url)
            .header("signature-input", input)
            .header("signature", signature);
        if let Some((content_type, bytes)) = body {
            req = req.header("content-type", content_type).body(bytes);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach {url}: is `corridor serve` running there?"))?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            bail!("{}", problem_message(status, &body));
        }
        Ok(resp)
    }

    /// The server signs with another key than this client trusted: follow the chain of
    /// handovers from the remembered key, each handover checkpoint signed by the key before and
    /// the key after, and consistent with the last checkpoint trusted. On success `r` holds the
    /// last handover (key, size, note); otherwise the caller refuses as before.
    async fn follow_key_chain(&self, head: &HeadInfo, r: &mut Remembered) -> anyhow::Result<()> {
        let Some(start) = head.log_keys.iter().position(|k| k.key == r.log_key) else {
            return Ok(());
        };
        for next in &head.log_keys[start + 1..] {
            let note = next.handover.as_deref().with_context(|| {
                format!(
                    "the server rotated its log key to {} but shows no handover checkpoint",
                    next.key
                )
            })?;
            let old_key = PublicKey::parse(&r.log_key)?;
            let new_key = PublicKey::parse(&next.key)?;
            let handover = Checkpoint::verify(note, &r.origin, &old_key)
                .and_then(|_| Checkpoint::verify(note, &r.origin, &new_key))
                .map_err(|e| {
                    anyhow::anyhow!(
                        "the log-key handover to {} is not signed by both keys: {e}",
                        next.key
                    )
                })?;
            let old = Checkpoint::verify(&r.note, &r.origin, &old_key)
                .map_err(|e| anyhow::anyhow!("the remembered checkpoint does not verify: {e}"))?;
            self.prove_consistent(&old, &handover).await?;
            *r = Remembered {
                origin: r.origin.clone(),
                log_key: next.key.clone(),
                size: handover.size,
                note: note.to_string(),
                witnesses: r.witnesses.clone(),
                clock_offset_s: r.clock_offset_s,
            };
        }
        Ok(())
    }

    /// Count the co-signatures on the server's co-signed checkpoint against the genesis's
    /// witnesses, and prove the head consistent with it. A co-signed checkpoint that does not
    /// verify or is not consistent is an error like any other inconsistency; a missing or
    /// thin one is the degraded state.
    async fn witness_state(
        &self,
        head: &HeadInfo,
        cp: &Checkpoint,
        log_key: &PublicKey,
        policy: &Witnesses,
    ) -> anyhow::Result<WitnessState> {
        let Some(w) = &head.witnessed else {
            return Ok(WitnessState::Degraded(
                "no witness has co-signed any checkpoint of it yet".into(),
            ));
        };
        let wcp = match Checkpoint::verify(&w.note, &head.origin, log_key) {
            Ok(c) => c,
            // Co-signed under an earlier log key and not since: not proof of anything now.
            Err(_) if w.size < cp.size => {
                return Ok(WitnessState::Degraded(format!(
                    "the latest co-signed checkpoint (size {}) is not signed by the current log key",
                    w.size
                )));
            }
            Err(e) => bail!("the server's co-signed checkpoint does not verify: {e}"),
        };
        self.prove_consistent(&wcp, cp).await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(
            match corridor_core::witness::assess(&w.note, policy, wcp.size, cp.size, now) {
                Ok(detail) => WitnessState::Witnessed {
                    size: wcp.size,
                    detail,
                },
                Err(why) => WitnessState::Degraded(why),
            },
        )
    }

    /// Prove `new` consistent with `old` (same log, `new` no smaller), or fail saying why.
    async fn prove_consistent(&self, old: &Checkpoint, new: &Checkpoint) -> anyhow::Result<()> {
        if new.size < old.size {
            bail!(
                "the server shows a log of {} entries, but this client already saw {}: the log was rolled back or forked",
                new.size,
                old.size
            );
        }
        if new.size == old.size {
            if new.root != old.root {
                bail!(
                    "the server shows a different root for the same size {}: a fork",
                    new.size
                );
            }
            return Ok(());
        }
        let proof = self.consistency_proof(old.size, new.size).await?;
        verify_consistency(old.size, new.size, &old.root, &new.root, &proof).map_err(|e| {
            anyhow::anyhow!(
                "the log at size {} is NOT consistent with the checkpoint this client saw at size {}: {e}. Something rewrote history.",
                new.size,
                old.size
            )
        })
    }

    /// The server's consistency proof from tree size `from` to `to` (not yet verified).
    pub async fn consistency_proof(
        &self,
        from: u64,
        to: u64,
    ) -> anyhow::Result<Vec<corridor_core::merkle::Hash>> {
        let v = self
            .get_json(&format!("/v1/log/proof/consistency?from={from}&to={to}"))
            .await?;
        v["proof"]
            .as_array()
            .context("consistency proof missing")?
            .iter()
            .map(|h| {
                unb64("proof", h.as_str().unwrap_or(""))
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .context("the consistency proof holds a hash that is not 32 bytes")
            })
            .collect()
    }

    /// Every public leaf up to `size`, in pages, each checked by
    /// [`corridor_verify::LeafChain`] (dense, times strictly increasing, hashes as served):
    /// the chain (for roots) and the leaves taken (for evidence).
    pub async fn leaves(
        &self,
        size: u64,
    ) -> anyhow::Result<(
        corridor_verify::LeafChain,
        Vec<corridor_core::entry::EntryHeader>,
    )> {
        let mut chain = corridor_verify::LeafChain::new();
        let mut headers = Vec::with_capacity(size as usize);
        let mut start = 0;
        while start < size {
            let end = (start + 1000).min(size);
            let page = self
                .get_json(&format!("/v1/log/leaves?start={start}&end={end}"))
                .await?;
            let list = page["leaves"]
                .as_array()
                .context("/v1/log/leaves did not list leaves")?;
            if list.len() as u64 != end - start {
                bail!(
                    "/v1/log/leaves?start={start}&end={end} gave {} leaves",
                    list.len()
                );
            }
            for l in list {
                headers.push(chain.push(l)?);
            }
            start = end;
        }
        Ok((chain, headers))
    }

    /// Send signed envelope bytes; Ok(receipt, duplicate).
    pub async fn send(&self, envelope: &[u8]) -> anyhow::Result<(SignedReceipt, bool)> {
        let url = format!("{}/v1/commands", self.base);
        let resp = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(envelope.to_vec())
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = resp.status();
        let body = resp.text().await?;
        if !status.is_success() {
            bail!("{}", problem_message(status, &body));
        }
        let receipt: SignedReceipt =
            serde_json::from_str(&body).context("the server's receipt is malformed")?;
        Ok((receipt, status == reqwest::StatusCode::OK))
    }
}

/// The outbox: signed envelopes not yet acknowledged, kept so a retry sends the same bytes.
pub fn outbox_dir() -> PathBuf {
    home().join("outbox")
}

/// Save an envelope before sending it. Named by its hash, so saving twice is harmless.
pub fn outbox_put(server: &str, envelope: &[u8]) -> anyhow::Result<PathBuf> {
    let dir = outbox_dir();
    fs::create_dir_all(&dir)?;
    let name = hex(&sha256(&[envelope]))[..32].to_string();
    let path = dir.join(format!("{name}.json"));
    let record =
        serde_json::json!({"server": server, "envelope": String::from_utf8_lossy(envelope)});
    fs::write(&path, serde_json::to_vec_pretty(&record)?)?;
    Ok(path)
}

/// Pending envelopes: (file, server, envelope bytes).
pub fn outbox_list() -> anyhow::Result<Vec<(PathBuf, String, Vec<u8>)>> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(outbox_dir()) else {
        return Ok(out);
    };
    for e in rd {
        let path = e?.path();
        if path.extension().is_some_and(|x| x == "json") {
            let v: Value = serde_json::from_slice(&fs::read(&path)?)?;
            out.push((
                path,
                v["server"].as_str().unwrap_or_default().to_string(),
                v["envelope"]
                    .as_str()
                    .unwrap_or_default()
                    .as_bytes()
                    .to_vec(),
            ));
        }
    }
    out.sort();
    Ok(out)
}

/// Move a sent envelope out of the outbox, keeping the receipt beside it.
pub fn outbox_done(path: &Path, receipt: &SignedReceipt) -> anyhow::Result<PathBuf> {
    let dir = home().join("receipts");
    fs::create_dir_all(&dir)?;
    let name = format!(
        "{}-{}.json",
        receipt.receipt.index,
        path.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("receipt")
    );
    let dest = dir.join(name);
    let mut record: Value = serde_json::from_slice(&fs::read(path)?)?;
    record["receipt"] = serde_json::to_value(receipt)?;
    fs::write(&dest, serde_json::to_vec_pretty(&record)?)?;
    fs::remove_file(path)?;
    Ok(dest)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Check a receipt against the log key and the envelope we sent.
pub fn check_receipt(
    receipt: &SignedReceipt,
    log_key: &PublicKey,
    origin: &str,
    actor: &str,
    command_id: &str,
) -> anyhow::Result<()> {
    receipt
        .verify(log_key)
        .map_err(|_| anyhow::anyhow!("the receipt's signature does not verify with the log key"))?;
    let r = &receipt.receipt;
    if r.log != origin || r.actor != actor || r.command_id != command_id {
        bail!("the receipt is for another command or log");
    }
    Ok(())
}
