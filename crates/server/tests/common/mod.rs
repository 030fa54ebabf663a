//! Test harness: a real corridor server on loopback, backed by a real SQLite file in a temporary
//! directory, on the simulated clock of the demo (2022-03-03T14:50:00Z, real speed), with fixed
//! key seeds like the core tests: intermediary 1, log 2, ua 3, ru 4, urcs 5.
//!
//! Every reply that goes through [`Server::send`] is checked for the `corridor-clock: simulated`
//! header, so each test also checks that an exercise is never mistaken for the real thing.
//!
//! [`Server::start_with_clock`] starts one on a simulated clock of any start and rate (a fast
//! clock lets a test watch windows open and close without new entries); sign commands for it
//! with [`Server::sign_now`] so their client time follows that clock.

// Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

pub mod scenario;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::ConnectInfo;
use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::{Keypair, PublicKey};
use corridor_core::envelope::Draft;
use corridor_core::genesis::{self, GenesisDocument, Names, Party, Policy, SignedGenesis};
use corridor_core::receipt::SignedReceipt;
use corridor_server::{Clock, ClusterOptions, Log};
use corridor_storage_sqlite::Sqlite;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// The test log's origin.
pub const ORIGIN: &str = "corridor.test/log";
/// Where the simulated clock starts; also the client time of every command (well within the
/// 300 s skew limit for the few seconds a test runs).
pub const T0: &str = "2022-03-03T14:50:00Z";
/// The genesis policy's maximum merge delay.
pub const MMD: Duration = Duration::from_millis(1000);

/// The keypair with seed `[n; 32]`.
/// The connection limits of `corridor serve` on the common open-files limit of 1,024.
fn opts() -> corridor_server::ServeOptions {
    corridor_server::ServeOptions::default()
}

pub fn kp(n: u8) -> Keypair {
    Keypair::from_seed([n; 32])
}

/// The genesis of the test log, countersigned by ua, ru and the intermediary, without abuse
/// limits (the tests send bursts far beyond a person's pace; `limits.rs` tests the limits).
pub fn genesis() -> SignedGenesis {
    genesis_with_limits(genesis::RateLimits::none())
}

/// The genesis of the test log with these abuse limits.
pub fn genesis_with_limits(limits: genesis::RateLimits) -> SignedGenesis {
    let names = |s: &str| Names {
        en: s.into(),
        uk: s.into(),
        ru: s.into(),
    };
    let document = GenesisDocument {
        v: 1,
        origin: ORIGIN.into(),
        exercise: true,
        log_key: kp(2).public().id(),
        intermediary: genesis::Body {
            id: "icrc".into(),
            names: names("ICRC"),
            admin_key: kp(1).public().id(),
        },
        parties: vec![
            Party {
                id: "ua".into(),
                names: names("Ukraine"),
                zone: "Europe/Kyiv".into(),
                admin_key: kp(3).public().id(),
                recovery: None,
            },
            Party {
                id: "ru".into(),
                names: names("Russian Federation"),
                zone: "Europe/Moscow".into(),
                admin_key: kp(4).public().id(),
                recovery: None,
            },
        ],
        organisations: vec![genesis::Body {
            id: "urcs".into(),
            names: names("Red Cross"),
            admin_key: kp(5).public().id(),
        }],
        policy: Policy {
            max_clock_skew_s: 300,
            max_merge_delay_ms: MMD.as_millis() as i64,
            max_window_s: 72 * 3600,
            ack_overdue_s: 3600,
            rate_limits: Some(limits),
            incident_status_public: None,
            tzdb: Some(corridor_core::localtime::tzdb_version().to_string()),
            offline_max_age_s: None,
        },
        witnesses: None,
    };
    let mut g = SignedGenesis {
        document,
        signatures: vec![],
    };
    for (signer, seed) in [("icrc", 1), ("ua", 3), ("ru", 4)] {
        g.sign(signer, &kp(seed)).unwrap();
    }
    g
}

/// Sign `body` as `actor` with `key`, for the test log, at client time `time`.
pub fn sign_at(key: &Keypair, actor: &str, id: &str, time: &str, body: Value) -> Vec<u8> {
    Draft {
        origin: ORIGIN,
        actor,
        id,
        time,
        body,
    }
    .sign(key)
}

/// Sign `body` as `actor` with `key` at [`T0`], for the log named `origin`.
pub fn sign_with_origin(
    key: &Keypair,
    origin: &str,
    actor: &str,
    id: &str,
    body: Value,
) -> Vec<u8> {
    Draft {
        origin,
        actor,
        id,
        time: T0,
        body,
    }
    .sign(key)
}

/// Sign `body` as `actor` with `key`, for the test log, at [`T0`].
pub fn sign(key: &Keypair, actor: &str, id: &str, body: Value) -> Vec<u8> {
    sign_at(key, actor, id, T0, body)
}

/// An `actor.register` body.
pub fn register_body(actor: &str, role: &str, key: &Keypair) -> Value {
    json!({"type": "actor.register", "actor": actor, "role": role,
        "key": key.public().id(), "key_proof": corridor_core::envelope::prove_key(key, ORIGIN, actor),
        "name": "Humanitarian coordinator"})
}

/// An `incident.report` body.
pub fn report_body(incident: &str) -> Value {
    json!({"type": "incident.report", "incident": incident,
        "occurred_at": "2022-03-03T08:00:00Z",
        "location": {"lat_e7": 506451000, "lon_e7": 299220000},
        "category": "shelling", "accused_party": "ru",
        "description": "shelling near the gathering point in Borodianka"})
}

/// A reply, read in full.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// What was asked, for failure messages.
    pub what: String,
}

impl Reply {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone())
            .unwrap_or_else(|_| panic!("{}: body is not UTF-8", self.what))
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{}: body is not JSON ({e}): {}", self.what, self.text()))
    }

    /// The content type's media type, lowercased, without parameters.
    pub fn mime(&self) -> String {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    /// Require a 2xx-or-other `status` with a JSON body, and return it.
    pub fn expect_json(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}: {}", self.what, self.text());
        assert_eq!(self.mime(), "application/json", "{}", self.what);
        self.json()
    }

    /// Require an RFC 9457 problem document with this status and code, and return it.
    pub fn expect_problem(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "{}: {}", self.what, self.text());
        assert_eq!(
            self.mime(),
            "application/problem+json",
            "{}: content type {:?}",
            self.what,
            self.headers.get(CONTENT_TYPE)
        );
        let p = self.json();
        assert_eq!(p["code"], code, "{}: {p}", self.what);
        assert_eq!(p["status"], status.as_u16(), "{}: {p}", self.what);
        assert_eq!(
            p["type"],
            format!("urn:corridor:problem:{code}"),
            "{}: {p}",
            self.what
        );
        assert!(
            p["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{}: {p}",
            self.what
        );
        assert!(
            p["detail"].as_str().is_some_and(|t| !t.is_empty()),
            "{}: {p}",
            self.what
        );
        p
    }

    /// Require a fresh (201) or repeated (200) receipt and parse it.
    pub fn expect_receipt(&self, status: StatusCode) -> SignedReceipt {
        let v = self.expect_json(status);
        serde_json::from_value(v)
            .unwrap_or_else(|e| panic!("{}: not a signed receipt: {e}", self.what))
    }
}

/// What the log holds, to check that a refused request wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub db_size: u64,
    pub tree_size: u64,
    pub projection_rows: usize,
}

/// A running server.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub log: Arc<Log>,
    ids: AtomicU64,
    /// What every reply's `corridor-clock` header must start with.
    clock_prefix: String,
    task: JoinHandle<()>,
    /// The PostgreSQL database of a server started with `CORRIDOR_TEST_BACKEND=postgres`.
    pub pg: Option<Arc<PgDatabase>>,
    /// One of several instances on one database.
    instance: bool,
    /// Sent (or dropped) to shut the server down gracefully.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    // Last, so the database file outlives everything that uses it.
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Which backend the API tests run on: SQLite in a temporary directory, or, with
/// `CORRIDOR_TEST_BACKEND=postgres` (CI runs the suite both ways), a fresh PostgreSQL database
/// per server.
pub fn backend_is_postgres() -> bool {
    std::env::var("CORRIDOR_TEST_BACKEND").as_deref() == Ok("postgres")
}

pub use corridor_storage_postgres::testkit::TestDatabase as PgDatabase;

impl Server {
    /// Start a server whose clients are seen as connecting from their real (loopback) address.
    pub async fn start() -> Server {
        Server::start_inner(None, T0, 1.0).await
    }

    /// Start a server whose simulated clock reads `start` (RFC 3339) now and runs at `rate` ×
    /// real time.
    pub async fn start_with_clock(start: &str, rate: f64) -> Server {
        Server::start_inner(None, start, rate).await
    }

    /// Start a server that sees every client as connecting from `peer`, as behind a proxy that
    /// forwards connections from elsewhere.
    pub async fn start_as_peer(peer: SocketAddr) -> Server {
        Server::start_inner(Some(peer), T0, 1.0).await
    }

    /// Start a server whose genesis sets these abuse limits, seeing every client as `peer`.
    pub async fn start_with_limits(limits: genesis::RateLimits, peer: SocketAddr) -> Server {
        Server::start_full(Some(peer), T0, 1.0, genesis_with_limits(limits), opts()).await
    }

    /// Start a server on a log with this genesis.
    pub async fn start_with_genesis(genesis: SignedGenesis) -> Server {
        Server::start_full(None, T0, 1.0, genesis, opts()).await
    }

    /// Start a server on a log with this genesis, its simulated clock reading `start`.
    pub async fn start_with_genesis_at(genesis: SignedGenesis, start: &str) -> Server {
        Server::start_full(None, start, 1.0, genesis, opts()).await
    }

    async fn start_inner(peer: Option<SocketAddr>, start: &str, rate: f64) -> Server {
        Server::start_full(peer, start, rate, genesis(), opts()).await
    }

    /// Start a server (clock at [`T0`]) whose accept loop has these connection limits.
    pub async fn start_with_options(options: corridor_server::ServeOptions) -> Server {
        Server::start_full(None, T0, 1.0, genesis(), options).await
    }

    async fn start_full(
        peer: Option<SocketAddr>,
        start: &str,
        rate: f64,
        genesis: SignedGenesis,
        options: corridor_server::ServeOptions,
    ) -> Server {
        if backend_is_postgres() {
            let pg = PgDatabase::create()
                .await
                .expect("CORRIDOR_TEST_BACKEND=postgres needs PostgreSQL");
            let db = Arc::new(
                corridor_storage_postgres::Postgres::open(&pg.url)
                    .await
                    .unwrap(),
            );
            let mut s = Server::start_on(db, None, peer, start, rate, genesis, options).await;
            s.pg = Some(Arc::new(pg));
            return s;
        }
        let dir = tempfile::tempdir().unwrap();
        let db = Sqlite::open(&dir.path().join("corridor.sqlite"))
            .await
            .unwrap();
        let mut s = Server::start_on(Arc::new(db), None, peer, start, rate, genesis, options).await;
        s._dir = Some(dir);
        s
    }

    /// Start an instance on the PostgreSQL database at `url`, one of several (see
    /// `corridor_server::cluster`), at the test clock's start.
    pub async fn start_instance(
        url: &str,
        options: impl FnOnce(String) -> ClusterOptions + Send + 'static,
    ) -> Server {
        let db = Arc::new(
            corridor_storage_postgres::Postgres::open(url)
                .await
                .unwrap(),
        );
        let mut s = Server::start_on(
            db,
            Some(Box::new(options)),
            None,
            T0,
            1.0,
            genesis(),
            opts(),
        )
        .await;
        s.instance = true;
        s
    }

    async fn start_on(
        db: Arc<dyn corridor_storage::Database>,
        cluster: Option<Box<dyn FnOnce(String) -> ClusterOptions + Send>>,
        peer: Option<SocketAddr>,
        start: &str,
        rate: f64,
        genesis: SignedGenesis,
        options: corridor_server::ServeOptions,
    ) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clock = Clock::simulated(start.parse().unwrap(), rate);
        let cluster = cluster.map(|f| f(format!("http://{addr}")));
        let log = Log::open_with(db, kp(2), vec![], Some(genesis), clock, cluster)
            .await
            .unwrap();
        // The accept loop of `corridor serve`: `GET /events` is answered outside hyper, every
        // other request by the router through hyper, with the peer address.
        let mut app = corridor_server::router(log.clone());
        if let Some(peer) = peer {
            // Set after the accept loop's own, so it wins.
            app = app.layer(Extension(ConnectInfo(peer)));
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(corridor_server::serve_with(
            listener,
            log.clone(),
            app,
            options,
            async move {
                let _ = stopped.await;
            },
        ));
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Server {
            base: format!("http://{addr}"),
            addr,
            http,
            log,
            ids: AtomicU64::new(0),
            // At real speed the few seconds of a test stay on the start's day.
            clock_prefix: if start == T0 {
                "simulated; now=2022-03-03T".into()
            } else {
                "simulated; now=".into()
            },
            task,
            pg: None,
            instance: false,
            stop: Some(stop),
            _dir: None,
        }
    }

    /// Shut the server down as `corridor serve` does on Ctrl-C (event streams end, no new
    /// connections, open ones finish) and wait until it has.
    pub async fn shut_down(&mut self) {
        self.log.public().close_events();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap();
    }

    /// The log key, as the genesis names it.
    pub fn log_key(&self) -> PublicKey {
        PublicKey::parse(&self.log.genesis().log_key).unwrap()
    }

    /// A fresh command id.
    pub fn next_id(&self) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed) + 1;
        if self.instance {
            // Instances on one database must not reuse each other's ids.
            format!("cmd-{}-{n}", self.addr.port())
        } else {
            format!("cmd-{n}")
        }
    }

    /// Send a request and read the reply; every reply must say the clock is simulated.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let what = format!("{method} {path}");
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(ct) = content_type {
            req = req.header(CONTENT_TYPE, ct);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.unwrap().to_vec();
        let reply = Reply {
            status,
            headers,
            body,
            what,
        };
        check_clock_header_prefix(&reply.headers, &reply.what, &self.clock_prefix);
        reply
    }

    /// `GET path`, signed (RFC 9421) as the intermediary's admin: what a member of the log
    /// reads. [`Server::get_public`] reads as the public, [`Server::get_as`] as anyone.
    pub async fn get(&self, path: &str) -> Reply {
        self.get_as(&kp(1), path).await
    }

    /// `GET path` without a signature: what the public reads.
    pub async fn get_public(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, None).await
    }

    /// `GET path` signed with `key` at the log's clock.
    pub async fn get_as(&self, key: &Keypair, path: &str) -> Reply {
        let created = self.log.clock().now().as_second();
        let (input, signature) = self.sign_read(key, path, created, &self.nonce());
        self.get_with_headers(
            path,
            &[("signature-input", &input), ("signature", &signature)],
        )
        .await
    }

    /// A request with `method` signed as `corridor` signs reads (the signature covers method,
    /// path and query; there is no body).
    pub async fn signed(&self, key: &Keypair, method: &str, path_and_query: &str) -> Reply {
        let created = self.log.clock().now().as_second();
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let target = corridor_core::httpsig::Target {
            method,
            path,
            query,
        };
        let (input, signature) =
            corridor_core::httpsig::sign(key, ORIGIN, target, created, &self.nonce());
        let resp = self
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path_and_query}", self.base),
            )
            .header("signature-input", input)
            .header("signature", signature)
            .send()
            .await
            .unwrap();
        Reply {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.unwrap().to_vec(),
            what: format!("{method} {path_and_query}"),
        }
    }

    /// A fresh nonce for a signed read.
    pub fn nonce(&self) -> String {
        format!("nonce-{:016}", self.ids.fetch_add(1, Ordering::Relaxed))
    }

    /// The `Signature-Input` and `Signature` headers of a signed `GET path`.
    pub fn sign_read(
        &self,
        key: &Keypair,
        path: &str,
        created: i64,
        nonce: &str,
    ) -> (String, String) {
        let (p, q) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let target = corridor_core::httpsig::Target {
            method: "GET",
            path: p,
            query: q,
        };
        corridor_core::httpsig::sign(key, ORIGIN, target, created, nonce)
    }

    /// `GET path` with extra headers.
    pub async fn get_with_headers(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let what = format!("GET {path}");
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let reply = Reply {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.unwrap().to_vec(),
            what,
        };
        check_clock_header_prefix(&reply.headers, &reply.what, &self.clock_prefix);
        reply
    }

    /// `POST /v1/commands` with `application/json`.
    pub async fn post(&self, envelope: &[u8]) -> Reply {
        self.send(
            Method::POST,
            "/v1/commands",
            Some("application/json"),
            Some(envelope.to_vec()),
        )
        .await
    }

    /// Submit a command that must be accepted; returns its receipt.
    pub async fn accept(&self, envelope: &[u8]) -> SignedReceipt {
        self.post(envelope)
            .await
            .expect_receipt(StatusCode::CREATED)
    }

    /// Sign and submit a command (fresh id, client time [`T0`]) that must be accepted.
    pub async fn run(&self, key: &Keypair, actor: &str, body: Value) -> SignedReceipt {
        let id = self.next_id();
        self.accept(&sign(key, actor, &id, body)).await
    }

    /// The log's clock now, in the log's form (what a client on that clock puts in a command).
    pub fn now(&self) -> String {
        corridor_core::time::format_log_time(self.log.clock().now())
    }

    /// Sign `body` as `actor` with `key` (fresh id) at the log's current clock reading.
    pub fn sign_now(&self, key: &Keypair, actor: &str, body: Value) -> Vec<u8> {
        let id = self.next_id();
        sign_at(key, actor, &id, &self.now(), body)
    }

    /// Sign at the log's current clock reading and submit a command that must be accepted.
    pub async fn run_now(&self, key: &Keypair, actor: &str, body: Value) -> SignedReceipt {
        self.accept(&self.sign_now(key, actor, body)).await
    }

    /// Sign at the log's current clock reading and submit; return the reply whatever it is.
    pub async fn post_now(&self, key: &Keypair, actor: &str, body: Value) -> Reply {
        self.post(&self.sign_now(key, actor, body)).await
    }

    /// What the log holds now: the stored entries, the committed tree and the projections.
    pub async fn snapshot(&self) -> Snapshot {
        Snapshot {
            db_size: self.log.db().size().await.unwrap(),
            tree_size: self.log.with_tree(|t| t.size()),
            projection_rows: self.log.db().projection_rows().await.unwrap().len(),
        }
    }

    /// The latest checkpoint, fetched and verified as a signed note with the genesis's log key.
    pub async fn checkpoint(&self) -> (Checkpoint, String) {
        let r = self.get("/v1/log/checkpoint").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.mime(), "text/plain");
        let note = r.text();
        let cp = Checkpoint::verify(&note, ORIGIN, &self.log_key())
            .unwrap_or_else(|e| panic!("checkpoint does not verify: {e}\n{note}"));
        (cp, note)
    }

    /// Poll the checkpoint until it covers at least `size` leaves; fail if that takes longer
    /// than the maximum merge delay (plus scheduling slack) from now.
    pub async fn checkpoint_covering(&self, size: u64) -> Checkpoint {
        let started = Instant::now();
        loop {
            let (cp, _) = self.checkpoint().await;
            if cp.size >= size {
                return cp;
            }
            assert!(
                started.elapsed() < MMD + Duration::from_millis(500),
                "no checkpoint covers {size} leaves {:?} after the receipt (max merge delay {MMD:?}); latest covers {}",
                started.elapsed(),
                cp.size
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Every reply on a simulated clock says so.
pub fn check_clock_header(headers: &HeaderMap, what: &str) {
    check_clock_header_prefix(headers, what, "simulated; now=2022-03-03T");
}

/// Every reply on a simulated clock says so, and is marked as an exercise.
pub fn check_clock_header_prefix(headers: &HeaderMap, what: &str, prefix: &str) {
    let clock = headers
        .get("corridor-clock")
        .unwrap_or_else(|| panic!("{what}: no corridor-clock header on a simulated clock"))
        .to_str()
        .unwrap();
    assert!(
        clock.starts_with(prefix) && clock.ends_with("; exercise"),
        "{what}: corridor-clock is {clock:?}"
    );
}

/// Read server-sent events until one satisfies `want`; returns when it arrived.
pub async fn wait_for_event(
    resp: &mut reqwest::Response,
    buf: &mut String,
    want: impl Fn(&Value) -> bool,
    limit: Duration,
) -> Instant {
    let t = Instant::now();
    loop {
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            let data: String = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            if data.is_empty() {
                continue; // a heartbeat comment
            }
            assert!(event.contains("event: status"), "{event}");
            let v: Value = serde_json::from_str(&data).unwrap();
            if want(&v) {
                return Instant::now();
            }
        }
        let left = limit
            .checked_sub(t.elapsed())
            .expect("no matching event in time");
        let chunk = tokio::time::timeout(left, resp.chunk())
            .await
            .expect("no matching event in time")
            .unwrap()
            .expect("the event stream ended");
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}
