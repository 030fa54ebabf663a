//! The public site in the server: built once per change, compressed once, served as bytes.
//!
//! When a corridor is announced very many people ask at once, so nothing on this path renders
//! or compresses per request. A builder task rebuilds the whole site ([`corridor_public::build`])
//! when the sequencer reports a batch that changed an agreement, and when the clock crosses the
//! next window boundary (a window opens and closes without any new entry: the site must say so
//! on time). Each file is then compressed with gzip and brotli and swapped in atomically; a
//! request picks the encoding it accepts, and a matching `If-None-Match` costs a 304.
//!
//! Live updates: `/events` is a server-sent event stream. Every rebuild formats the new
//! `status.json` as one SSE frame ([`status_frame`], once per build, not per subscriber) and
//! sends it to every subscriber. The broadcast channel is bounded: a subscriber that does not
//! keep up is dropped (its browser reconnects or falls back to polling `status.json`), never
//! buffered without limit. A comment line 15 s after the last frame keeps idle connections open
//! through proxies. [`Subscription`] is that logic, shared by the axum route ([`events`]) and
//! the lean writer in [`crate::serve`](mod@crate::serve) that serves `GET /events` outside
//! hyper, so both send the same bytes.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use corridor_core::crypto::{b64, sha256};
use corridor_public::{Cited, CitedWitnesses, Input};
use futures_util::Stream;
use tokio::sync::broadcast;

use crate::log::Log;
use crate::problem::Problem;

/// `Cache-Control` of every public file: short, so a status change reaches readers within
/// seconds even through caches, with `stale-while-revalidate` so a CDN in front never lets a
/// crowd through to the server while it refreshes.
pub const CACHE_CONTROL: &str = "public, max-age=1, stale-while-revalidate=10";

/// How many rebuilds a subscriber may fall behind before it is dropped.
const EVENTS_BACKLOG: usize = 4;

/// `Content-Type` of `/events`.
pub const EVENTS_CONTENT_TYPE: &str = "text/event-stream";
/// `Cache-Control` of `/events`: a stream is never cached (what axum's `Sse` sends too).
pub const EVENTS_CACHE_CONTROL: &str = "no-cache";
/// The heartbeat: an empty SSE comment, ignored by clients, that keeps proxies from closing an
/// idle stream.
pub const HEARTBEAT: &[u8] = b":\n\n";
/// How long after the last frame a heartbeat is sent.
pub const HEARTBEAT_AFTER: Duration = Duration::from_secs(15);

/// One `status.json` as an SSE frame: `event: status`, the document on one `data:` line (it is
/// pretty-printed, and SSE data lines must not contain bare newlines). Formatted once per build
/// and shared by every subscriber.
pub fn status_frame(status: &[u8]) -> bytes::Bytes {
    let text = String::from_utf8_lossy(status).replace(['\r', '\n'], "");
    let mut frame = Vec::with_capacity(text.len() + 24);
    frame.extend_from_slice(b"event: status\ndata: ");
    frame.extend_from_slice(text.as_bytes());
    frame.extend_from_slice(b"\n\n");
    frame.into()
}

/// One file, in every encoding we serve.
#[derive(Debug)]
pub struct Served {
    content_type: HeaderValue,
    etag: String,
    identity: bytes::Bytes,
    gzip: bytes::Bytes,
    brotli: bytes::Bytes,
}

/// One build of the site.
#[derive(Debug, Default)]
pub struct Built {
    /// Files by URL path.
    pub files: HashMap<String, Arc<Served>>,
    /// The `status.json` bytes.
    pub status: bytes::Bytes,
    /// The same as an SSE frame ([`status_frame`]), what event subscribers get.
    pub frame: bytes::Bytes,
    /// When it was built (log clock).
    pub at: Option<jiff::Timestamp>,
}

/// The public site of a running log.
#[derive(Debug)]
pub struct PublicSite {
    current: RwLock<Arc<Built>>,
    events: broadcast::Sender<bytes::Bytes>,
    base_url: String,
    /// Set when the server shuts down: event streams never end on their own, and a graceful
    /// shutdown waits for every open connection.
    closing: tokio::sync::watch::Sender<bool>,
    /// Open event streams (both paths), shared with each [`Subscription`] so it counts itself
    /// out when dropped.
    subscribers: Arc<AtomicUsize>,
    /// Most open event streams ([`PublicSite::limit_subscribers`]): each holds a descriptor,
    /// and a crowd of readers must leave some for everything else.
    max_subscribers: AtomicUsize,
}

/// gzip (best) and brotli (quality 9) of `body`: done once per build, never per request. Not
/// brotli's slowest setting (11): a build must finish within a second of a window boundary, and
/// quality 11 made a rebuild of the demo site take about 300 ms on this machine against a few
/// percent fewer bytes. `corridor publish` writes the same bytes.
pub fn compress(body: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(body).expect("writing to memory");
    let gz = gz.finish().expect("writing to memory");
    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 9,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &body[..], &mut br, &params).expect("writing to memory");
    (gz, br)
}

/// Compress every file of a site once: the work a crowd must never cause.
pub fn precompress(site: corridor_public::Site) -> HashMap<String, Arc<Served>> {
    site.files
        .into_iter()
        .map(|(path, asset)| {
            let (gzip, brotli) = compress(&asset.body);
            let etag =
                corridor_core::crypto::b64(&sha256(&[&asset.body])[..12]).replace(['+', '/'], "_");
            let served = Served {
                content_type: HeaderValue::from_static(asset.content_type),
                etag,
                identity: asset.body.into(),
                gzip: gzip.into(),
                brotli: brotli.into(),
            };
            (path, Arc::new(served))
        })
        .collect()
}

impl PublicSite {
    /// Build the site now and keep it current in a background task.
    pub fn start(log: Arc<Log>, base_url: &str) -> Arc<PublicSite> {
        let (events, _) = broadcast::channel(EVENTS_BACKLOG);
        let site = Arc::new(PublicSite {
            current: RwLock::new(Arc::new(Built::default())),
            events,
            base_url: base_url.trim_end_matches('/').to_string(),
            closing: tokio::sync::watch::Sender::new(false),
            subscribers: Arc::default(),
            max_subscribers: AtomicUsize::new(usize::MAX),
        });
        let s = site.clone();
        tokio::spawn(async move { s.run(log).await });
        site
    }

    /// The current build.
    pub fn current(&self) -> Arc<Built> {
        self.current.read().expect("not poisoned").clone()
    }

    async fn run(self: Arc<Self>, log: Arc<Log>) {
        let mut snapshots = log.snapshots();
        let mut cosigned = log.cosigned_changes();
        loop {
            let snapshot = snapshots.borrow_and_update().clone();
            // Each published document with its bundle; one whose signatures no checkpoint covers
            // yet gets none now, and the site is built again in a second.
            let mut documents = Vec::new();
            let mut bundle_missing = false;
            for d in snapshot.published.iter() {
                let bundle = crate::register::assemble_bundle(&log, d)
                    .await
                    .ok()
                    .and_then(|b| serde_json::to_string_pretty(&b).ok());
                bundle_missing |= bundle.is_none();
                documents.push(corridor_public::PublicDocument {
                    document: d.clone(),
                    bundle,
                });
            }
            let latest = cosigned.borrow_and_update().clone();
            let witnessed = CitedWitnesses::of(
                log.genesis().witnesses.as_ref(),
                latest.as_ref().map(|c| (&c.checkpoint, c.note.as_str())),
            );
            let at = log.clock().now();
            let genesis = log.genesis().clone();
            let base_url = self.base_url.clone();
            let started = std::time::Instant::now();
            let built = tokio::task::spawn_blocking(move || {
                let cited = Cited {
                    size: snapshot.size,
                    root: b64(&snapshot.root),
                    witnessed,
                };
                let input = Input {
                    genesis: &genesis,
                    agreements: &snapshot.agreements,
                    at,
                    checkpoint: &cited,
                    base_url: &base_url,
                    documents: &documents,
                };
                let next =
                    corridor_public::model::next_boundary(snapshot.agreements.windows.values(), at);
                let site = corridor_public::build(&input);
                let status = site
                    .files
                    .get("/status.json")
                    .map(|a| bytes::Bytes::from(a.body.clone()))
                    .unwrap_or_default();
                (
                    Built {
                        files: precompress(site),
                        frame: status_frame(&status),
                        status,
                        at: Some(at),
                    },
                    next,
                )
            })
            .await;
            let (built, next) = match built {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "building the public site failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let frame = built.frame.clone();
            *self.current.write().expect("not poisoned") = Arc::new(built);
            // No subscribers is not an error.
            let _ = self.events.send(frame);
            metrics::counter!("corridor_public_builds_total").increment(1);
            metrics::histogram!("corridor_public_build_seconds")
                .record(started.elapsed().as_secs_f64());
            tracing::debug!(elapsed = ?started.elapsed(), "public site rebuilt");
            let mut wait = next.map_or(Duration::from_secs(3600), |t| log.clock().real_until(t));
            if bundle_missing {
                wait = wait.min(Duration::from_secs(1));
            }
            tokio::select! {
                changed = snapshots.changed() => {
                    if changed.is_err() {
                        return; // the log is gone
                    }
                }
                changed = cosigned.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                // A little past the boundary, so the clock reads at or after it.
                _ = tokio::time::sleep(wait.saturating_add(Duration::from_millis(5))) => {}
            }
        }
    }

    /// End every event stream (on shutdown).
    pub fn close_events(&self) {
        self.closing.send_replace(true);
    }

    /// Wait until a build exists (the first one runs right after start-up).
    pub async fn ready(&self) {
        while self.current().at.is_none() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Allow at most `max` open event streams from now on (`corridor serve --max-events`).
    pub fn limit_subscribers(&self, max: usize) {
        self.max_subscribers.store(max, Ordering::Relaxed);
    }

    /// How many event streams are open.
    pub fn subscribers(&self) -> usize {
        self.subscribers.load(Ordering::Relaxed)
    }

    /// A subscription to status frames: the current one first, then one per rebuild. Ends when
    /// the subscriber falls more than a few rebuilds behind, or the server shuts down.
    /// `served_by` labels the `corridor_event_streams` gauge (`lean` or `axum`), so an operator
    /// sees how many readers are connected and which path serves them. `None` when the most
    /// streams allowed ([`PublicSite::limit_subscribers`]) are open: the caller refuses
    /// ([`events_busy`]).
    pub fn subscribe(&self, served_by: &'static str) -> Option<Subscription> {
        let max = self.max_subscribers.load(Ordering::Relaxed);
        self.subscribers
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        // Subscribe before reading the current frame: a rebuild in between is sent twice rather
        // than missed.
        let rx = self.events.subscribe();
        let closing = self.closing.subscribe();
        let first = self.current().frame.clone();
        let open = metrics::gauge!("corridor_event_streams", "served_by" => served_by);
        open.increment(1);
        Some(Subscription {
            first: Some(first),
            rx,
            closing,
            heartbeat_at: tokio::time::Instant::now() + HEARTBEAT_AFTER,
            open,
            count: self.subscribers.clone(),
        })
    }
}

/// The refusal of an event stream when the most allowed are open (`503 events-busy`, try again
/// in a while: by then some readers will have left). The stream is a convenience; `status.json`
/// says the same and is still served.
pub fn events_busy() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "events-busy",
        "too many readers are connected to /events; poll /status.json or try again later",
    )
    .with_retry_after(EVENTS_RETRY_AFTER_S)
}

/// The `Retry-After` of [`events_busy`], in seconds.
const EVENTS_RETRY_AFTER_S: u64 = 30;

/// One subscriber's place in the event stream: no more than a broadcast receiver and a deadline,
/// since a crowd holds one per reader for as long as it reads. Frames are shared bytes.
pub struct Subscription {
    first: Option<bytes::Bytes>,
    rx: broadcast::Receiver<bytes::Bytes>,
    closing: tokio::sync::watch::Receiver<bool>,
    heartbeat_at: tokio::time::Instant,
    /// Counts this stream while it exists.
    open: metrics::Gauge,
    /// The site's count of open streams, counted down on drop.
    count: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("heartbeat_at", &self.heartbeat_at)
            .finish_non_exhaustive()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.open.decrement(1);
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Subscription {
    /// The next status frame, or `None` once the stream is over: the subscriber lagged (it is
    /// dropped rather than queued for) or the server is closing.
    pub async fn frame(&mut self) -> Option<bytes::Bytes> {
        if *self.closing.borrow() {
            return None;
        }
        if let Some(f) = self.first.take() {
            return Some(f);
        }
        tokio::select! {
            r = self.rx.recv() => r.ok(),
            _ = self.closing.wait_for(|c| *c) => None,
        }
    }

    /// The next bytes to send: a status frame, or a [`HEARTBEAT`] when no frame came for
    /// [`HEARTBEAT_AFTER`]; `None` once the stream is over (see [`Subscription::frame`]).
    pub async fn next(&mut self) -> Option<bytes::Bytes> {
        let heartbeat = tokio::time::sleep_until(self.heartbeat_at);
        let next = tokio::select! {
            f = self.frame() => f,
            _ = heartbeat => {
                Some(bytes::Bytes::from_static(HEARTBEAT))
            }
        };
        self.heartbeat_at = tokio::time::Instant::now() + HEARTBEAT_AFTER;
        next
    }

    /// The same as a stream (frames and heartbeats), for a response body.
    pub fn into_stream(self) -> impl Stream<Item = bytes::Bytes> + Send + use<> {
        futures_util::stream::unfold(self, |mut s| async move { s.next().await.map(|b| (b, s)) })
    }
}

/// Pick the language for `/` from `Accept-Language` (uk, ru, en; Ukrainian when none matches,
/// the language of the places the corridors are in).
pub fn pick_language(accept: &str) -> &'static str {
    let mut best: Option<(f32, &'static str)> = None;
    for part in accept.split(',') {
        let mut it = part.split(';');
        let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|v| v.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        let lang = match primary {
            "uk" => "uk",
            "ru" => "ru",
            "en" => "en",
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map_or("uk", |(_, l)| l)
}

fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|c| {
            let mut it = c.split(';');
            let name = it.next().unwrap_or("").trim();
            let q0 = it.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            name.eq_ignore_ascii_case(coding) && !q0
        })
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        })
}

/// Serve one prebuilt file, in the best encoding the client accepts.
pub fn respond(file: &Served, headers: &HeaderMap) -> Response {
    let (body, coding, etag) = if accepts(headers, "br") {
        (&file.brotli, Some("br"), format!("\"{}-br\"", file.etag))
    } else if accepts(headers, "gzip") {
        (&file.gzip, Some("gzip"), format!("\"{}-gz\"", file.etag))
    } else {
        (&file.identity, None, format!("\"{}\"", file.etag))
    };
    let mut b = Response::builder()
        .header(header::CACHE_CONTROL, CACHE_CONTROL)
        .header(header::VARY, "Accept-Encoding")
        .header(header::ETAG, &etag);
    if not_modified(headers, &etag) {
        return b
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .expect("valid response");
    }
    b = b.header(header::CONTENT_TYPE, file.content_type.clone());
    if let Some(c) = coding {
        b = b.header(header::CONTENT_ENCODING, c);
    }
    b.status(StatusCode::OK)
        .body(Body::from(body.clone()))
        .expect("valid response")
}

/// `GET /`: to the reader's language. The only public reply that varies by language, so it is
/// the only one marked `Vary: Accept-Language`.
pub async fn root(headers: HeaderMap) -> Response {
    let lang = pick_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    );
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, format!("/{lang}/"))
        .header(header::VARY, "Accept-Language")
        .header(header::CACHE_CONTROL, CACHE_CONTROL)
        .body(Body::empty())
        .expect("valid response")
}

/// `GET /events`: status updates as server-sent events (`event: status`, data: status.json),
/// through axum. `corridor serve` answers a plain `GET /events` before hyper sees it
/// ([`crate::serve`](mod@crate::serve)) with the same head and bytes; this route serves every
/// other form of it (`HEAD`, `Connection: close`, HTTP/1.0, ...) and routers used without that
/// accept loop.
pub async fn events(State(log): State<Arc<Log>>) -> Response {
    use futures_util::StreamExt;
    let site = log.public();
    let _ = tokio::time::timeout(Duration::from_secs(10), site.ready()).await;
    let Some(sub) = site.subscribe("axum") else {
        return events_busy().into_response();
    };
    let body = Body::from_stream(sub.into_stream().map(Ok::<_, Infallible>));
    Response::builder()
        .header(header::CONTENT_TYPE, EVENTS_CONTENT_TYPE)
        .header(header::CACHE_CONTROL, EVENTS_CACHE_CONTROL)
        .body(body)
        .expect("valid response")
}

/// Every other GET: a prebuilt public file, or a problem document.
pub async fn file(State(log): State<Arc<Log>>, req: Request) -> Response {
    let path = req.uri().path();
    let public = log.public();
    if public.current().at.is_none() {
        // Only in the first moments after start-up: wait for the first build rather than
        // answer 404 for pages that are about to exist.
        let _ = tokio::time::timeout(Duration::from_secs(10), public.ready()).await;
    }
    let site = public.current();
    if let Some(f) = site.files.get(path) {
        return respond(f, req.headers());
    }
    // `/uk` → `/uk/`, `/uk/corridors/x/` → `/uk/corridors/x`.
    let alt = match path.strip_suffix('/') {
        Some(p) => p.to_string(),
        None => format!("{path}/"),
    };
    if site.files.contains_key(&alt) {
        return Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header(header::LOCATION, alt)
            .body(Body::empty())
            .expect("valid response");
    }
    // A reader who mistyped a page's address gets a page in the language of the address, with
    // a link to the list; machines (the API under /v1/, anything else) get a problem document.
    let lang = path
        .strip_prefix('/')
        .and_then(|p| p.split_once('/'))
        .map(|(l, _)| l)
        .filter(|l| ["uk", "ru", "en"].contains(l));
    if let Some(page) = lang.and_then(|l| site.files.get(&format!("/{l}/404.html"))) {
        let mut r = respond(page, req.headers());
        if r.status() == StatusCode::OK {
            *r.status_mut() = StatusCode::NOT_FOUND;
        }
        return r;
    }
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "no such path; the public pages are under /uk/, /ru/ and /en/, the API is described at /v1/openapi.json",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> PublicSite {
        let (events, _) = broadcast::channel(EVENTS_BACKLOG);
        PublicSite {
            current: RwLock::new(Arc::new(Built {
                status: bytes::Bytes::from_static(b"{\"n\":0}"),
                frame: status_frame(b"{\"n\":0}"),
                ..Default::default()
            })),
            events,
            base_url: String::new(),
            closing: tokio::sync::watch::Sender::new(false),
            subscribers: Arc::default(),
            max_subscribers: AtomicUsize::new(usize::MAX),
        }
    }

    /// A subscriber that reads gets every status; one that falls more than the backlog behind
    /// is dropped (its stream ends) instead of being buffered for without limit.
    #[tokio::test]
    async fn slow_subscribers_are_dropped_not_buffered() {
        let site = site();
        let mut fast = site.subscribe("test").unwrap();
        let mut slow = site.subscribe("test").unwrap();
        assert_eq!(fast.frame().await.unwrap(), status_frame(b"{\"n\":0}"));
        assert_eq!(slow.frame().await.unwrap(), status_frame(b"{\"n\":0}"));
        for n in 1..=(EVENTS_BACKLOG * 3) {
            let frame = status_frame(format!("{{\"n\":{n}}}").as_bytes());
            site.events.send(frame.clone()).unwrap();
            assert_eq!(fast.frame().await.unwrap(), frame);
        }
        assert!(
            slow.frame().await.is_none(),
            "a lagging subscriber must be dropped"
        );
        // Shutting down ends the streams that keep up, too.
        site.close_events();
        assert!(fast.frame().await.is_none());
        assert!(fast.next().await.is_none());
    }

    /// No more streams than the cap are open at once; a closed one frees its place.
    #[test]
    fn event_streams_are_capped() {
        let site = site();
        site.limit_subscribers(2);
        let a = site.subscribe("test").unwrap();
        let _b = site.subscribe("test").unwrap();
        assert!(site.subscribe("test").is_none());
        assert_eq!(site.subscribers(), 2);
        drop(a);
        assert_eq!(site.subscribers(), 1);
        assert!(site.subscribe("test").is_some());
    }

    /// The frame is what axum's `Sse` wrote before (`event`, then one `data` line, a blank
    /// line), with the pretty-printed document on one line.
    #[test]
    fn status_frames_are_one_event() {
        assert_eq!(
            &status_frame(b"{\n  \"a\": 1\n}\n")[..],
            b"event: status\ndata: {  \"a\": 1}\n\n"
        );
    }

    /// A subscriber that hears nothing for a while gets a heartbeat, and the clock starts again
    /// after each one.
    #[tokio::test(start_paused = true)]
    async fn heartbeats_when_idle() {
        let site = site();
        let mut sub = site.subscribe("test").unwrap();
        assert_eq!(sub.next().await.unwrap(), status_frame(b"{\"n\":0}"));
        let t = tokio::time::Instant::now();
        assert_eq!(&sub.next().await.unwrap()[..], HEARTBEAT);
        assert_eq!(t.elapsed(), HEARTBEAT_AFTER);
        assert_eq!(&sub.next().await.unwrap()[..], HEARTBEAT);
        assert_eq!(t.elapsed(), HEARTBEAT_AFTER * 2);
    }

    #[test]
    fn language_from_accept_language() {
        assert_eq!(pick_language("ru-RU,ru;q=0.9,en;q=0.8"), "ru");
        assert_eq!(pick_language("en-GB,en;q=0.9,uk;q=0.95"), "en");
        assert_eq!(pick_language("de-DE,en;q=0.5,uk;q=0.7"), "uk");
        assert_eq!(pick_language("de,fr"), "uk");
        assert_eq!(pick_language(""), "uk");
        assert_eq!(pick_language("en;q=0,ru;q=0.1"), "ru");
    }

    #[test]
    fn encodings_and_etags() {
        let mut site = corridor_public::Site::default();
        site.put(
            "/x",
            corridor_public::HTML,
            b"<p>hello hello hello</p>".repeat(50),
        );
        let files = precompress(site);
        let f = &files["/x"];
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            "gzip, deflate, br".parse().unwrap(),
        );
        let r = respond(f, &h);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
        let tag = r.headers()[header::ETAG].clone();
        h.insert(header::IF_NONE_MATCH, tag);
        assert_eq!(respond(f, &h).status(), StatusCode::NOT_MODIFIED);
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, "gzip;q=1, br;q=0".parse().unwrap());
        assert_eq!(respond(f, &h).headers()[header::CONTENT_ENCODING], "gzip");
        let r = respond(f, &HeaderMap::new());
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
        assert!(f.brotli.len() < f.identity.len() && f.gzip.len() < f.identity.len());
    }
}
