//! The accept loop of `corridor serve`: the axum router over hyper, except for `GET /events`,
//! which is answered here without hyper.
//!
//! Why: an event stream lives as long as its reader keeps the page open, and when a corridor is
//! announced very many readers do. hyper keeps an 8 KiB read buffer and an 8 KiB write buffer
//! for the whole life of every HTTP/1 connection, which made each subscriber cost about 20 KiB
//! of server memory. Here a subscriber is the socket, a [`Subscription`] (a broadcast receiver)
//! and a small task; each frame is one shared `Bytes`, written straight to the socket.
//!
//! Each new connection's request head is read into a small buffer. If it is exactly one
//! `GET /events` (any query string) over HTTP/1.1 with no body and nothing after it, the stream is
//! written here: the head axum would send (same headers, in the same order, including the
//! `Corridor-Clock` header of an exercise), then the frames of [`Subscription::next`] (status
//! frames, heartbeats, the end when the subscriber lags or the server shuts down) as HTTP/1.1
//! chunks. Anything else — another path or method, `HEAD /events`, HTTP/1.0, `Connection: close`,
//! a head that does not parse, pipelined requests — goes to hyper unchanged, with the bytes
//! already read replayed in front of the socket (`Rewind`), to the same router, with the peer
//! address as [`ConnectInfo`] (the abuse limits key on it). Shutdown is graceful as with
//! `axum::serve`: no new connections, idle ones closed, open ones finished.
//!
//! Connection limits ([`ServeOptions`]). Every connection holds a file descriptor, and a crowd
//! (or an attacker) that holds them all takes the server down for everyone, the parties'
//! commands included. So:
//!
//! - a connection must send a complete request head within the header timeout of being accepted
//!   (of its first byte, for later requests on a kept-alive connection), and the next request
//!   must start within the idle timeout of the previous response; a request body must arrive
//!   whole within the body timeout (`408 body-timeout`); a write that makes no progress for the
//!   write timeout (a reader that stopped reading, an event subscriber included) ends the
//!   connection;
//! - one address (an IPv6 /64) holds at most `per_address` connections; the server at most
//!   `max_connections`, of which the last `api_reserve` are kept for the API (`/v1/...`,
//!   `/healthz`, `/readyz`): a connection accepted into the reserve is served only if it asks
//!   for those (`503 server-busy` otherwise), so public readers and idlers can never take the
//!   descriptors a party's command needs;
//! - at most `max_events` event streams are open (`503 events-busy`);
//! - a lean subscriber that sends anything after its request is disconnected (it has no second
//!   request to make, and reading uploads for it cost CPU);
//! - hyper's own refusals of a head it cannot parse (400, 414 URI too long, 431 headers too
//!   large) are replaced by problem documents like every other refusal (see [`Guarded`]).
//!
//! A refusal is a problem document when a request head was read, and a closed connection when
//! none was (the per-address and global caps are decided at accept).

use std::collections::HashMap;
use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Buf, Bytes};
use futures_util::FutureExt;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tower_service::Service;

use crate::log::Log;
use crate::problem::Problem;
use crate::public::{EVENTS_CACHE_CONTROL, EVENTS_CONTENT_TYPE, events_busy};

/// The longest request head looked at before handing a connection to hyper anyway. A browser's
/// `GET /events` is well under 1 KiB; a longer head (large cookies) is still served, by hyper.
const MAX_SNIFFED_HEAD: usize = 4096;

/// Most header lines parsed when sniffing; a head with more goes to hyper.
const MAX_SNIFFED_HEADERS: usize = 32;

/// Descriptors kept out of the connection budget by [`ServeOptions::for_descriptors`]: the
/// database (SQLite's files, a PostgreSQL pool), NATS, logs, the listener itself.
pub const FILE_RESERVE: usize = 128;

/// `Retry-After` of `503 server-busy`, in seconds.
const BUSY_RETRY_AFTER_S: u64 = 5;

/// The connection limits of [`serve_with`] (`corridor serve --header-timeout-ms` and the
/// others; README, "Connection limits").
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// A request head must be complete this long after the connection was accepted (or, on a
    /// kept-alive connection, after its first byte); otherwise the connection is closed.
    pub header_timeout: Duration,
    /// A kept-alive connection is closed when the next request has not started this long after
    /// the previous response.
    pub idle_timeout: Duration,
    /// A request body must have arrived whole this long after its head (`408 body-timeout`).
    pub body_timeout: Duration,
    /// A write that makes no progress for this long ends the connection: a reader that stopped
    /// reading, an event subscriber above all, is dropped instead of held.
    pub write_timeout: Duration,
    /// Most open connections (of every kind) at once.
    pub max_connections: usize,
    /// The last this many of `max_connections` only serve the API (`/v1/...`, `/healthz`,
    /// `/readyz`).
    pub api_reserve: usize,
    /// Most open `/events` streams.
    pub max_events: usize,
    /// Most open connections from one address (IPv4) or one /64 (IPv6).
    pub per_address: usize,
    /// The send buffer (`SO_SNDBUF`) of each lean event stream, when set; the kernel's
    /// autotuning otherwise. A smaller buffer bounds the kernel memory a subscriber that stops
    /// reading can pin, and makes the write timeout notice it sooner.
    pub events_send_buffer: Option<usize>,
}

impl Default for ServeOptions {
    /// The limits for the common soft limit of 1,024 descriptors; `corridor serve` uses
    /// [`ServeOptions::for_descriptors`] with the process's own limit.
    fn default() -> Self {
        ServeOptions::for_descriptors(1024)
    }
}

impl ServeOptions {
    /// Limits that fit a process allowed `nofile` descriptors: [`FILE_RESERVE`] kept for files
    /// and the database, a sixteenth of the rest (16 to 1,024) reserved for the API, and event
    /// streams at most three quarters of what is left, so page readers and idle connections
    /// have room too. Timeouts: 10 s for a head (a browser sends it at once; slow links still
    /// manage a few hundred bytes in that time), 60 s idle between requests (a reader's page
    /// polls `status.json`), 30 s for a body of at most 64 KiB and for a stalled write.
    pub fn for_descriptors(nofile: u64) -> ServeOptions {
        let nofile = usize::try_from(nofile).unwrap_or(usize::MAX);
        let max_connections = nofile.saturating_sub(FILE_RESERVE).max(64);
        let api_reserve = (max_connections / 16).clamp(16, 1024);
        let max_events = (max_connections - api_reserve) / 4 * 3;
        ServeOptions {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_connections,
            api_reserve,
            max_events,
            per_address: 256,
            events_send_buffer: None,
        }
    }
}

/// Raise this process's soft limit on open files to its hard limit, and return the limit now in
/// force (the soft one, unchanged, if raising failed). Most systems start a process with a soft
/// limit of 1,024 and a hard limit far above it: the crowd a corridor announcement brings needs
/// the higher one.
#[cfg(target_os = "linux")]
pub fn raise_open_files_limit() -> io::Result<u64> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if r.rlim_cur < r.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: r.rlim_max,
            rlim_max: r.rlim_max,
        };
        // SAFETY: setrlimit reads one `rlimit` we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return Ok(r.rlim_max);
        }
    }
    Ok(r.rlim_cur)
}

/// Elsewhere the limit is left as it is, and assumed to be the common 1,024.
#[cfg(not(target_os = "linux"))]
pub fn raise_open_files_limit() -> io::Result<u64> {
    Ok(1024)
}

/// Serve `log`'s router on `listener` until `shutdown` completes, then finish gracefully.
pub async fn serve(
    listener: TcpListener,
    log: Arc<Log>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let app = crate::router(log.clone());
    serve_with(listener, log, app, ServeOptions::default(), shutdown).await
}

/// [`serve`] with a router of the caller's (the log's router with extra layers: tests, or an
/// embedding behind a proxy that sets the peer address itself).
pub async fn serve_router(
    listener: TcpListener,
    log: Arc<Log>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    serve_with(listener, log, app, ServeOptions::default(), shutdown).await
}

/// [`serve_router`] with these connection limits.
pub async fn serve_with(
    listener: TcpListener,
    log: Arc<Log>,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    log.public().limit_subscribers(options.max_events);
    let gate = Arc::new(Gate {
        options,
        open: AtomicUsize::new(0),
        per_address: Mutex::new(HashMap::new()),
    });
    // As in `axum::serve`: the shutdown signal is the receiver of `signal` being dropped; each
    // connection task holds a receiver of `done`, so the loop can wait for the last one.
    let (signal, signal_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(signal_rx);
    });
    let (done, done_rx) = watch::channel(());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            _ = signal.closed() => break,
        };
        // Refused before a byte is read: the descriptor is closed at once.
        let Some(ticket) = gate.admit(peer.ip()) else {
            drop(stream);
            continue;
        };
        let (app, log, signal, done_rx) =
            (app.clone(), log.clone(), signal.clone(), done_rx.clone());
        tokio::spawn(async move {
            connection(stream, peer, app, log, &signal, ticket).await;
            drop(done_rx);
        });
    }
    drop(done_rx);
    drop(listener);
    done.closed().await;
}

/// The count of open connections, in all and by address.
#[derive(Debug)]
struct Gate {
    options: ServeOptions,
    open: AtomicUsize,
    per_address: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection's place in the [`Gate`], given back when dropped.
#[derive(Debug)]
struct Ticket {
    gate: Arc<Gate>,
    address: IpAddr,
    /// Accepted into the API reserve: serves only the API.
    reserve: bool,
    /// When the connection was accepted: its first head is due a header timeout later.
    accepted: Instant,
}

impl Gate {
    /// Admit a connection from `ip`, or refuse it (`None`): its address holds `per_address`
    /// already, or the server `max_connections`.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Ticket> {
        let address = address_key(ip);
        let o = &self.options;
        {
            let mut counts = self.per_address.lock().expect("not poisoned");
            let n = counts.entry(address).or_insert(0);
            if *n >= o.per_address {
                drop(counts);
                metrics::counter!("corridor_connections_refused_total", "reason" => "per-address")
                    .increment(1);
                return None;
            }
            *n += 1;
        }
        let open = self.open.fetch_add(1, Ordering::AcqRel);
        let ticket = Ticket {
            gate: self.clone(),
            address,
            reserve: open >= o.max_connections.saturating_sub(o.api_reserve),
            accepted: Instant::now(),
        };
        if open >= o.max_connections {
            metrics::counter!("corridor_connections_refused_total", "reason" => "max-connections")
                .increment(1);
            return None; // the ticket, dropped, counts it out again
        }
        Some(ticket)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.gate.open.fetch_sub(1, Ordering::AcqRel);
        let mut counts = self.gate.per_address.lock().expect("not poisoned");
        if let Some(n) = counts.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

/// The key a connection is counted under: the IPv4 address, or the /64 of an IPv6 one (one
/// host is commonly given a whole /64).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

/// Whether a request path is the API the reserve is kept for: commands and signed reads
/// (`/v1/...`) and health.
fn is_api(path: &str) -> bool {
    path.starts_with("/v1/") || path == "/healthz" || path == "/readyz"
}

/// `503 server-busy`: a connection in the API reserve asked for something else.
fn server_busy() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "server-busy",
        "the server is at its connection limit; try again in a moment",
    )
    .with_retry_after(BUSY_RETRY_AFTER_S)
}

/// A problem document as a complete HTTP/1.1 response that closes the connection, for the
/// refusals written outside hyper. Carries the clock header of an exercise.
fn problem_bytes(problem: Problem, log: &Log) -> Vec<u8> {
    let resp = problem.into_response();
    let (parts, body) = resp.into_parts();
    // A problem's body is one full buffer: ready at once.
    let body = axum::body::to_bytes(body, usize::MAX)
        .now_or_never()
        .and_then(Result::ok)
        .unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        parts.status.as_str(),
        parts.status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in &parts.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(v) = crate::http::clock_header_value(log.clock()) {
        out.extend_from_slice(b"corridor-clock: ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let tail = format!(
        "content-length: {}\r\nconnection: close\r\ndate: {}\r\n\r\n",
        body.len(),
        http_date(jiff::Timestamp::now())
    );
    out.extend_from_slice(tail.as_bytes());
    out.extend_from_slice(&body);
    out
}

/// Write a refusal and close, within the write timeout.
async fn refuse(mut stream: TcpStream, problem: Problem, log: &Log, write_timeout: Duration) {
    let bytes = problem_bytes(problem, log);
    let _ = tokio::time::timeout(write_timeout, async {
        stream.write_all(&bytes).await?;
        stream.shutdown().await
    })
    .await;
}

/// What `axum::serve` does on an accept error: a client that gave up is no error; anything else
/// (most likely out of file descriptors) is logged and the loop waits a second, so that open
/// connections can finish and free some.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept error");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    log: Arc<Log>,
    signal: &watch::Sender<()>,
    ticket: Ticket,
) {
    let options = &ticket.gate.options;
    let head_due = ticket.accepted + options.header_timeout;
    let head = tokio::select! {
        head = tokio::time::timeout_at(head_due, sniff(&stream)) => match head {
            Ok(head) => head,
            // Nothing, or half a head, in time: no request to answer.
            Err(_) => {
                metrics::counter!("corridor_connections_closed_total", "reason" => "header-timeout")
                    .increment(1);
                return;
            }
        },
        // Idle or half a head at shutdown: nothing has been asked yet.
        _ = signal.closed() => return,
    };
    // Each branch boxed: a task's future is as large as its largest state, and a lean stream
    // must not carry the room hyper's connection state needs.
    match head {
        Ok(Sniffed::Events) => {
            drop(app);
            if ticket.reserve {
                return refuse(stream, server_busy(), &log, options.write_timeout).await;
            }
            if let Err(e) = Box::pin(events(stream, &log, signal, options)).await {
                tracing::debug!(error = %e, %peer, "event stream ended");
            }
        }
        Ok(Sniffed::Other(read)) => {
            let io = Guarded::new(Rewind::new(read, stream), &ticket, log);
            Box::pin(hyper_connection(io, peer, app, signal, &ticket)).await;
        }
        Ok(Sniffed::Closed) => {}
        Err(e) => tracing::debug!(error = %e, %peer, "reading a request head failed"),
    }
}

/// What the first bytes of a connection are.
#[derive(Debug, PartialEq, Eq)]
enum Sniffed {
    /// Exactly one complete `GET /events` over HTTP/1.1, nothing after it: served here.
    Events,
    /// Anything else, with the bytes read so far: for hyper.
    Other(Bytes),
    /// The client closed the connection before sending anything.
    Closed,
}

/// The request line every lean request starts with.
const EVENTS_PREFIX: &[u8] = b"GET /events";

/// Read just enough of the connection to tell a plain `GET /events` from everything else. No
/// buffer exists until the client has sent something, so an idle connection costs nothing here.
async fn sniff(stream: &TcpStream) -> io::Result<Sniffed> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        stream.readable().await?;
        if buf.capacity() == buf.len() {
            buf.reserve(if buf.is_empty() { 1024 } else { buf.len() });
        }
        match stream.try_read_buf(&mut buf) {
            Ok(0) if buf.is_empty() => return Ok(Sniffed::Closed),
            // A half head and the end: hyper answers that as it always has.
            Ok(0) => return Ok(Sniffed::Other(buf.into())),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        match classify(&buf) {
            Some(true) => return Ok(Sniffed::Events),
            Some(false) => return Ok(Sniffed::Other(buf.into())),
            None if buf.len() >= MAX_SNIFFED_HEAD => return Ok(Sniffed::Other(buf.into())),
            None => {}
        }
    }
}

/// Whether `head` (the bytes read so far) is a request served here: `Some(true)` for exactly
/// one complete plain `GET /events` over HTTP/1.1, `Some(false)` when it cannot be one, `None`
/// when more bytes are needed to tell.
fn classify(head: &[u8]) -> Option<bool> {
    let n = head.len().min(EVENTS_PREFIX.len());
    if head[..n] != EVENTS_PREFIX[..n] {
        return Some(false); // the common case, decided on the first read
    }
    match head.get(EVENTS_PREFIX.len()) {
        None => return None,
        Some(b' ' | b'?') => {}
        Some(_) => return Some(false), // `/events/`, `/eventsX`, ...
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_SNIFFED_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(head) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return None,
        Err(_) => return Some(false),
    };
    let path = req.path.unwrap_or("");
    let plain = len == head.len() // nothing pipelined behind it
        && req.version == Some(1)
        && (path == "/events" || path.starts_with("/events?"))
        && req.headers.iter().all(|h| plain_header(h.name, h.value));
    Some(plain)
}

/// Whether a request header leaves the answer to `GET /events` as it is. A body, an `Expect`,
/// an `Upgrade` or any `Connection` option but keep-alive changes what hyper does (reads a body,
/// sends `100 Continue`, says `connection: close` and closes): those requests go to hyper.
fn plain_header(name: &str, value: &[u8]) -> bool {
    if name.eq_ignore_ascii_case("content-length") {
        return value.trim_ascii() == b"0";
    }
    if name.eq_ignore_ascii_case("connection") {
        return value
            .split(|b| *b == b',')
            .all(|o| o.trim_ascii().eq_ignore_ascii_case(b"keep-alive"));
    }
    !["transfer-encoding", "expect", "upgrade", "te"]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
}

/// The response head of a lean event stream: byte for byte what axum and hyper send for the
/// route (`content-type`, `cache-control`, the clock header of an exercise, chunked framing, a
/// `date`).
fn events_head(log: &Log) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {EVENTS_CONTENT_TYPE}\r\ncache-control: {EVENTS_CACHE_CONTROL}\r\n"
    );
    if let Some(v) = crate::http::clock_header_value(log.clock()) {
        head.push_str("corridor-clock: ");
        head.push_str(v.to_str().unwrap_or_default());
        head.push_str("\r\n");
    }
    head.push_str("transfer-encoding: chunked\r\ndate: ");
    head.push_str(&http_date(jiff::Timestamp::now()));
    head.push_str("\r\n\r\n");
    head.into_bytes()
}

/// An HTTP date (RFC 9110 IMF-fixdate), as hyper writes it.
fn http_date(t: jiff::Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Serve one event stream on `stream` until the subscriber lags, hangs up, sends anything, stops
/// reading for the write timeout, or the server shuts down. The connection holds only the
/// socket and the subscription; frames go out as written.
async fn events(
    mut stream: TcpStream,
    log: &Arc<Log>,
    signal: &watch::Sender<()>,
    options: &ServeOptions,
) -> io::Result<()> {
    let site = log.public();
    let _ = tokio::time::timeout(Duration::from_secs(10), site.ready()).await;
    let Some(mut sub) = site.subscribe("lean") else {
        drop(site);
        refuse(stream, events_busy(), log, options.write_timeout).await;
        return Ok(());
    };
    drop(site);
    if let Some(size) = options.events_send_buffer {
        socket2::SockRef::from(&stream).set_send_buffer_size(size)?;
    }
    let stalled = || io::Error::new(io::ErrorKind::TimedOut, "the subscriber stopped reading");
    let write_timeout = options.write_timeout;
    tokio::time::timeout(write_timeout, stream.write_all(&events_head(log)))
        .await
        .map_err(|_| stalled())??;
    loop {
        let next = tokio::select! {
            next = sub.next() => next,
            _ = signal.closed() => None,
            r = client_input(&stream) => {
                // Hung up, or sent bytes it has no reason to send: either way, the end.
                return r;
            }
        };
        let Some(bytes) = next else {
            // The end of the stream, as hyper ends a body: the last chunk. The reader
            // reconnects (or falls back to polling `status.json`).
            tokio::time::timeout(write_timeout, stream.write_all(b"0\r\n\r\n"))
                .await
                .map_err(|_| stalled())??;
            return stream.shutdown().await;
        };
        let size = format!("{:X}\r\n", bytes.len());
        let mut chunk = size.as_bytes().chain(&bytes[..]).chain(&b"\r\n"[..]);
        tokio::time::timeout(write_timeout, stream.write_all_buf(&mut chunk))
            .await
            .map_err(|_| stalled())??;
    }
}

/// Wait until the subscriber closes the connection or sends anything. A reader of an event
/// stream sends nothing after its request (there is no second request on this connection to
/// answer), so a byte is a reason to close, not to read on: reading whatever a client uploads
/// would cost CPU for as long as it cares to send. Nothing is read beyond one small peek.
async fn client_input(stream: &TcpStream) -> io::Result<()> {
    loop {
        stream.readable().await?;
        let mut scratch = [0u8; 1];
        match stream.try_read(&mut scratch) {
            Ok(0) => return Ok(()),
            Ok(_) => {
                metrics::counter!("corridor_connections_closed_total", "reason" => "events-input")
                    .increment(1);
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Serve one connection with hyper, as `axum::serve` does (same builder, upgrades allowed,
/// graceful shutdown), the peer address in each request's extensions. Each request body must
/// arrive within the body timeout; on a connection in the API reserve, only the API is served.
async fn hyper_connection(
    io: Guarded<Rewind<TcpStream>>,
    peer: SocketAddr,
    app: Router,
    signal: &watch::Sender<()>,
    ticket: &Ticket,
) {
    let exchanges = io.exchanges.clone();
    let reserve = ticket.reserve;
    let body_timeout = ticket.gate.options.body_timeout;
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        let done = Exchange::start(&exchanges);
        req.extensions_mut().insert(ConnectInfo(peer));
        let refused = reserve && !is_api(req.uri().path());
        let mut app = app.clone();
        async move {
            let resp = if refused {
                let mut r = server_busy().into_response();
                r.headers_mut().insert(
                    header::CONNECTION,
                    header::HeaderValue::from_static("close"),
                );
                r
            } else {
                // No timer for a request without a body (every GET of a crowd of readers).
                let req = req.map(|b| {
                    if b.is_end_stream() {
                        Body::new(b)
                    } else {
                        Body::new(TimedBody::new(b, body_timeout))
                    }
                });
                let r: Result<Response, Infallible> = app.call(req).await;
                r.unwrap_or_else(|never| match never {})
            };
            Ok::<_, Infallible>(resp.map(|b| {
                Body::new(Ended {
                    inner: b,
                    _done: done,
                })
            }))
        }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let mut conn = pin!(builder.serve_connection_with_upgrades(TokioIo::new(io), service));
    let mut signalled = pin!(signal.closed());
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::trace!(error = %e, %peer, "connection ended with an error");
                }
                return;
            }
            _ = &mut signalled => conn.as_mut().graceful_shutdown(),
        }
    }
}

/// How many requests of a connection reached the service and how many of those are over (their
/// response body dropped by hyper): between the two, a request is being answered, and the
/// connection's reads are not timed (see [`Guarded`]).
#[derive(Debug, Default)]
struct Exchanges {
    started: AtomicU32,
    ended: AtomicU32,
}

/// One request being answered; over when dropped.
#[derive(Debug)]
struct Exchange(Arc<Exchanges>);

impl Exchange {
    fn start(e: &Arc<Exchanges>) -> Exchange {
        e.started.fetch_add(1, Ordering::AcqRel);
        Exchange(e.clone())
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        self.0.ended.fetch_add(1, Ordering::AcqRel);
    }
}

/// A response body that marks its exchange over when hyper drops it.
struct Ended {
    inner: Body,
    _done: Exchange,
}

impl HttpBody for Ended {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The error of a request body that did not arrive within the body timeout. The command
/// handler answers it with `408 body-timeout`.
#[derive(Debug)]
pub struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl StdError for BodyTimedOut {}

/// Whether a body error (as a handler sees it) is [`BodyTimedOut`].
pub fn is_body_timeout(e: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if e.is::<BodyTimedOut>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// A request body that must be complete by a deadline set when its head was read: a client
/// sending a body a byte at a time cannot hold a connection (and the handler) for long.
struct TimedBody {
    inner: Incoming,
    deadline: Pin<Box<Sleep>>,
}

impl TimedBody {
    fn new(inner: Incoming, timeout: Duration) -> Self {
        TimedBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(r) => Poll::Ready(r.map(|r| r.map_err(Into::into))),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Where a connection served by hyper is, as its reads see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// A request is being answered: reads are hyper's (body, or a look for the client hanging
    /// up) and are not timed; the body has its own deadline.
    Exchange,
    /// The response just ended; hyper may still be writing its last bytes.
    Draining,
    /// Between requests, the last response written: waiting for the next head.
    Between,
}

/// The socket as hyper sees it, with the timeouts hyper does not have and hyper's own refusals
/// made problem documents.
///
/// Reads between requests are timed: the next request must start within the idle timeout of
/// the previous response, and its head be complete within the header timeout of its first byte
/// (of the connection's acceptance, for the first request). Writes that make no progress for
/// the write timeout fail. And when hyper writes a response between requests (when no request
/// reached the service), it is hyper refusing a head it could not parse (400, 414, 431): those
/// bytes are replaced by a problem document with the same status.
struct Guarded<T> {
    inner: T,
    exchanges: Arc<Exchanges>,
    log: Arc<Log>,
    header_timeout: Duration,
    idle_timeout: Duration,
    write_timeout: Duration,
    phase: Phase,
    /// The `ended` count last seen.
    ended: u32,
    /// When the connection started waiting for the next request.
    waiting_since: Instant,
    /// When the head being waited for began (its first byte; the acceptance, for the first).
    head_since: Option<Instant>,
    read_timer: Pin<Box<Sleep>>,
    read_deadline: Option<Instant>,
    write_timer: Pin<Box<Sleep>>,
    write_stalled: bool,
    /// The problem document written instead of hyper's refusal, and how much of it is out.
    replaced: Option<Bytes>,
}

impl<T> Guarded<T> {
    fn new(inner: T, ticket: &Ticket, log: Arc<Log>) -> Self {
        let o = &ticket.gate.options;
        Guarded {
            inner,
            exchanges: Arc::default(),
            log,
            header_timeout: o.header_timeout,
            idle_timeout: o.idle_timeout,
            write_timeout: o.write_timeout,
            phase: Phase::Between,
            ended: 0,
            waiting_since: ticket.accepted,
            head_since: Some(ticket.accepted),
            read_timer: Box::pin(tokio::time::sleep_until(ticket.accepted)),
            read_deadline: None,
            write_timer: Box::pin(tokio::time::sleep_until(ticket.accepted)),
            write_stalled: false,
            replaced: None,
        }
    }

    /// Bring `phase` up to date with the exchanges.
    fn sync_phase(&mut self) {
        let started = self.exchanges.started.load(Ordering::Acquire);
        let ended = self.exchanges.ended.load(Ordering::Acquire);
        if started != ended {
            self.phase = Phase::Exchange;
        } else if self.phase == Phase::Exchange || ended != self.ended {
            self.phase = Phase::Draining;
            self.ended = ended;
            self.waiting_since = Instant::now();
            self.head_since = None;
        }
    }

    /// A pending write: fail once it has made no progress for the write timeout.
    fn stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if !self.write_stalled {
            self.write_stalled = true;
            let due = Instant::now() + self.write_timeout;
            self.write_timer.as_mut().reset(due);
        }
        match self.write_timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                metrics::counter!("corridor_connections_closed_total", "reason" => "write-timeout")
                    .increment(1);
                Poll::Ready(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client stopped reading",
                ))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The status of a response hyper writes on its own (`HTTP/1.x NNN ...`), if `bytes` start one.
fn own_reply_status(bytes: &[u8]) -> Option<StatusCode> {
    let rest = bytes.strip_prefix(b"HTTP/1.")?;
    let code = rest.get(2..5)?;
    StatusCode::from_bytes(code).ok()
}

/// The problem document for a refusal hyper would have written as a bare status.
fn parse_refusal(status: StatusCode) -> Problem {
    match status {
        StatusCode::URI_TOO_LONG => {
            Problem::new(status, "uri-too-long", "the request target is too long")
        }
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Problem::new(
            status,
            "headers-too-large",
            "the request head is too large (too many or too long header fields)",
        ),
        _ => Problem::new(
            status,
            "bad-request",
            "the request head could not be parsed",
        ),
    }
}

impl<T: AsyncWrite + Unpin> Guarded<T> {
    /// If hyper is writing a refusal of its own (`buf` starts a response and no request
    /// reached the service), write the problem document instead; `Ready` once it is out.
    fn poll_replace(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Option<Poll<io::Result<()>>> {
        if self.replaced.is_none() {
            self.sync_phase();
            if self.phase != Phase::Between {
                return None;
            }
            let status = own_reply_status(buf)?;
            metrics::counter!("corridor_connections_refused_total", "reason" => "unparsable-head")
                .increment(1);
            self.replaced = Some(problem_bytes(parse_refusal(status), &self.log).into());
        }
        Some(self.poll_write_replacement(cx))
    }

    fn poll_write_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(rest) = self.replaced.as_mut().filter(|r| !r.is_empty()) {
            match Pin::new(&mut self.inner).poll_write(cx, rest) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    rest.advance(n);
                    self.write_stalled = false;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return self.stall(cx).map(Err),
            }
        }
        Poll::Ready(Ok(()))
    }

    /// A write to the socket, failed when it makes no progress for the write timeout.
    fn timed<R>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnOnce(Pin<&mut T>, &mut Context<'_>) -> Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        match op(Pin::new(&mut self.inner), cx) {
            Poll::Ready(r) => {
                self.write_stalled = false;
                Poll::Ready(r)
            }
            Poll::Pending => self.stall(cx).map(Err),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        this.sync_phase();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before
                    && this.phase != Phase::Exchange
                    && this.head_since.is_none()
                {
                    this.head_since = Some(Instant::now());
                }
                Poll::Ready(r)
            }
            Poll::Pending if this.phase == Phase::Exchange => Poll::Pending,
            Poll::Pending => {
                let (due, why) = match this.head_since {
                    Some(t) => (t + this.header_timeout, "header-timeout"),
                    None => (this.waiting_since + this.idle_timeout, "idle-timeout"),
                };
                if this.read_deadline != Some(due) {
                    this.read_deadline = Some(due);
                    this.read_timer.as_mut().reset(due);
                }
                match this.read_timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        metrics::counter!("corridor_connections_closed_total", "reason" => why)
                            .increment(1);
                        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, why)))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if let Some(p) = this.poll_replace(cx, buf) {
            // hyper's bytes are taken as written: the problem document went out instead.
            return p.map_ok(|()| buf.len());
        }
        this.timed(cx, |io, cx| io.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &b[..]);
        if let Some(p) = this.poll_replace(cx, first) {
            return p.map_ok(|()| bufs.iter().map(|b| b.len()).sum());
        }
        this.timed(cx, |io, cx| io.poll_write_vectored(cx, bufs))
    }

    // hyper picks its write strategy by this: pass the socket's answer through.
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.replaced.is_some() {
            std::task::ready!(this.poll_write_replacement(cx))?;
        }
        let r = std::task::ready!(this.timed(cx, |io, cx| io.poll_flush(cx)));
        // hyper flushes its buffer to the socket before it flushes the socket: whatever it had
        // of the last response is out.
        this.sync_phase();
        if this.phase == Phase::Draining {
            this.phase = Phase::Between;
            // hyper looks for the next head only when the socket wakes it (or its own header
            // timer, not set here): poll once more, so the idle timeout is armed.
            cx.waker().wake_by_ref();
        }
        Poll::Ready(r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.replaced.is_some() {
            std::task::ready!(this.poll_write_replacement(cx))?;
        }
        this.timed(cx, |io, cx| io.poll_shutdown(cx))
    }
}

/// A stream that first yields bytes already read from it, then reads on: how a connection whose
/// head was looked at reaches hyper as if nobody had.
#[derive(Debug)]
struct Rewind<T> {
    pre: Bytes,
    inner: T,
}

impl<T> Rewind<T> {
    /// `inner`, with `pre` to be read before anything more from it.
    fn new(pre: Bytes, inner: T) -> Self {
        Rewind { pre, inner }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Rewind<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.pre.is_empty() {
            let n = self.pre.len().min(buf.remaining());
            buf.put_slice(&self.pre[..n]);
            self.pre.advance(n);
            if self.pre.is_empty() {
                self.pre = Bytes::new(); // let go of the sniffing buffer
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Rewind<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    // hyper picks its write strategy by this: pass the socket's answer through.
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn only_a_plain_get_events_is_lean() {
        let lean = |h: &str| classify(h.as_bytes());
        assert_eq!(lean("GET /events HTTP/1.1\r\nHost: a\r\n\r\n"), Some(true));
        assert_eq!(lean("GET /events?x=1 HTTP/1.1\r\n\r\n"), Some(true));
        assert_eq!(
            lean("GET /events HTTP/1.1\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"),
            Some(true)
        );
        // Not yet known.
        assert_eq!(lean("GET /ev"), None);
        assert_eq!(lean("GET /events"), None);
        assert_eq!(lean("GET /events HTTP/1.1\r\nHost: a\r\n"), None);
        // Not lean.
        for h in [
            "POST /v1/commands HTTP/1.1\r\n",
            "HEAD /events HTTP/1.1\r\n\r\n",
            "GET /eventsX HTTP/1.1\r\n\r\n",
            "GET /events/ HTTP/1.1\r\n\r\n",
            "GET /events HTTP/1.0\r\n\r\n",
            "GET /events HTTP/1.1\r\nConnection: close\r\n\r\n",
            "GET /events HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            "GET /events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET /events HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
            "GET /events HTTP/1.1\r\n\r\nGET /status.json HTTP/1.1\r\n\r\n",
            "GET /events HTTP/1.1\r\nbad header\r\n\r\n",
            "get /events HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(lean(h), Some(false), "{h:?}");
        }
    }

    /// One host is commonly given a whole IPv6 /64: it is counted as one address. An IPv4
    /// address mapped into IPv6 is the IPv4 address.
    #[test]
    fn addresses_are_counted_by_ipv4_address_or_ipv6_64() {
        let key = |s: &str| address_key(s.parse().unwrap()).to_string();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2:ffff:1:2:3"), "2001:db8:1:2::");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
    }

    /// The defaults leave descriptors for files, keep a reserve for the API, and cap event
    /// streams below what is left.
    #[test]
    fn limits_follow_the_open_files_limit() {
        let o = ServeOptions::for_descriptors(1024);
        assert_eq!(
            (o.max_connections, o.api_reserve, o.max_events),
            (896, 56, 630)
        );
        let o = ServeOptions::for_descriptors(1 << 20);
        assert_eq!(o.max_connections, (1 << 20) - FILE_RESERVE);
        assert_eq!(o.api_reserve, 1024);
        assert!(o.max_events < o.max_connections - o.api_reserve);
        let o = ServeOptions::for_descriptors(100);
        assert_eq!((o.max_connections, o.api_reserve), (64, 16));
        assert!(o.max_events > 0);
    }

    #[test]
    fn hypers_own_replies_are_recognised() {
        let status = |b: &[u8]| own_reply_status(b).map(|s| s.as_u16());
        assert_eq!(
            status(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            Some(431)
        );
        assert_eq!(status(b"HTTP/1.0 414 URI Too Long\r\n"), Some(414));
        assert_eq!(status(b"HTTP/1.1 4"), None);
        assert_eq!(status(b"0\r\n\r\n"), None);
        assert_eq!(parse_refusal(StatusCode::URI_TOO_LONG).code, "uri-too-long");
        assert_eq!(
            parse_refusal(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE).code,
            "headers-too-large"
        );
        assert_eq!(parse_refusal(StatusCode::BAD_REQUEST).code, "bad-request");
    }

    #[test]
    fn dates_as_hyper_writes_them() {
        let t: jiff::Timestamp = "2026-12-01T23:20:04.5Z".parse().unwrap();
        assert_eq!(http_date(t), "Tue, 01 Dec 2026 23:20:04 GMT");
    }

    #[tokio::test]
    async fn rewind_replays_then_reads_on() {
        let (mut a, b) = tokio::io::duplex(64);
        a.write_all(b" world").await.unwrap();
        drop(a);
        let mut r = Rewind::new(Bytes::from_static(b"hello"), b);
        let mut got = Vec::new();
        r.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"hello world");
    }
}
