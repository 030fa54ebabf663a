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

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use bytes::{Buf, Bytes};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower_service::Service;

use crate::log::Log;
use crate::public::{EVENTS_CACHE_CONTROL, EVENTS_CONTENT_TYPE, Subscription};

/// The longest request head looked at before handing a connection to hyper anyway. A browser's
/// `GET /events` is well under 1 KiB; a longer head (large cookies) is still served, by hyper.
const MAX_SNIFFED_HEAD: usize = 4096;

/// Most header lines parsed when sniffing; a head with more goes to hyper.
const MAX_SNIFFED_HEADERS: usize = 32;

/// Serve `log`'s router on `listener` until `shutdown` completes, then finish gracefully.
pub async fn serve(
    listener: TcpListener,
    log: Arc<Log>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let app = crate::router(log.clone());
    serve_router(listener, log, app, shutdown).await
}

/// [`serve`] with a router of the caller's (the log's router with extra layers: tests, or an
/// embedding behind a proxy that sets the peer address itself).
pub async fn serve_router(
    listener: TcpListener,
    log: Arc<Log>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
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
        let (app, log, signal, done_rx) =
            (app.clone(), log.clone(), signal.clone(), done_rx.clone());
        tokio::spawn(async move {
            connection(stream, peer, app, log, &signal).await;
            drop(done_rx);
        });
    }
    drop(done_rx);
    drop(listener);
    done.closed().await;
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
) {
    let head = tokio::select! {
        head = sniff(&stream) => head,
        // Idle or half a head at shutdown: nothing has been asked yet.
        _ = signal.closed() => return,
    };
    // Each branch boxed: a task's future is as large as its largest state, and a lean stream
    // must not carry the room hyper's connection state needs.
    match head {
        Ok(Sniffed::Events) => {
            drop(app);
            if let Err(e) = Box::pin(events(stream, &log, signal)).await {
                tracing::debug!(error = %e, %peer, "event stream ended");
            }
        }
        Ok(Sniffed::Other(read)) => {
            drop(log);
            Box::pin(hyper_connection(
                Rewind::new(read, stream),
                peer,
                app,
                signal,
            ))
            .await;
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

/// Serve one event stream on `stream` until the subscriber lags, hangs up or the server shuts
/// down. The connection holds only the socket and the subscription; frames go out as written.
async fn events(
    mut stream: TcpStream,
    log: &Arc<Log>,
    signal: &watch::Sender<()>,
) -> io::Result<()> {
    let site = log.public();
    let _ = tokio::time::timeout(Duration::from_secs(10), site.ready()).await;
    let mut sub: Subscription = site.subscribe("lean");
    drop(site);
    stream.write_all(&events_head(log)).await?;
    loop {
        let next = tokio::select! {
            next = sub.next() => next,
            _ = signal.closed() => None,
            hung_up = client_gone(&stream) => {
                if hung_up? {
                    return Ok(());
                }
                continue;
            }
        };
        let Some(bytes) = next else {
            // The end of the stream, as hyper ends a body: the last chunk. The reader
            // reconnects (or falls back to polling `status.json`).
            stream.write_all(b"0\r\n\r\n").await?;
            return stream.shutdown().await;
        };
        let size = format!("{:X}\r\n", bytes.len());
        let mut chunk = size.as_bytes().chain(&bytes[..]).chain(&b"\r\n"[..]);
        stream.write_all_buf(&mut chunk).await?;
    }
}

/// Wait until the subscriber sends something: `true` when it closed the connection. A reader of
/// an event stream sends nothing after its request; whatever it does send is read and dropped
/// (there is no second request on this connection to answer).
async fn client_gone(stream: &TcpStream) -> io::Result<bool> {
    stream.readable().await?;
    let mut scratch = [0u8; 64];
    match stream.try_read(&mut scratch) {
        Ok(0) => Ok(true),
        Ok(_) => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
        Err(e) => Err(e),
    }
}

/// Serve one connection with hyper, as `axum::serve` does (same builder, upgrades allowed,
/// graceful shutdown), the peer address in each request's extensions.
async fn hyper_connection(
    io: Rewind<TcpStream>,
    peer: SocketAddr,
    app: Router,
    signal: &watch::Sender<()>,
) {
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let mut app = app.clone();
        async move {
            let r: Result<_, Infallible> = app.call(req.map(Body::new)).await;
            r
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
