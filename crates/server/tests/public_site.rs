//! The public site over HTTP: language redirect, prebuilt files with ETag and precompressed
//! bodies, and clock-true status: when the exercise clock crosses a window's start, with no new
//! entry, `status.json`, the pages, the CAP feed and every connected event stream say so within
//! a second.

mod common;

use std::time::{Duration, Instant};

use common::scenario::*;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// An agreed window on the scenario corridor from `start` to `end`.
async fn agreed_window(s: &Server, id: &str, start: &str, end: &str) {
    let hash = propose_complete(s, id, 1, window_terms(start, end, json!({}))).await;
    agree(s, id, &hash).await;
}

async fn status(s: &Server) -> Value {
    let r = client()
        .get(format!("{}/status.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Wait (up to `limit`) until the site was rebuilt after the log reached `size` entries.
async fn site_covers(s: &Server, size: u64, limit: Duration) -> Value {
    let t = Instant::now();
    loop {
        let v = status(s).await;
        if v["checkpoint"]["size"].as_u64().unwrap() >= size {
            return v;
        }
        assert!(t.elapsed() < limit, "the site was not rebuilt: {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn root_picks_a_language_and_files_are_prebuilt_and_cacheable() {
    let s = Server::start().await;
    let c = client();
    for (accept, lang) in [
        ("ru-RU,ru;q=0.9,en;q=0.5", "ru"),
        ("en-GB", "en"),
        ("de", "uk"),
    ] {
        let r = c
            .get(format!("{}/", s.base))
            .header("accept-language", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{accept}");
        assert_eq!(r.headers()["location"], format!("/{lang}/"));
        assert_eq!(r.headers()["vary"], "Accept-Language");
    }

    let r = c
        .get(format!("{}/status.json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    let cc = r.headers()["cache-control"].to_str().unwrap().to_string();
    assert!(
        cc.contains("max-age=") && cc.contains("stale-while-revalidate"),
        "{cc}"
    );
    assert!(
        r.headers()
            .get("vary")
            .is_some_and(|v| v == "Accept-Encoding")
    );
    let etag = r.headers()["etag"].clone();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["exercise"], true);
    assert_eq!(v["corridors"], json!([]));

    // The same bytes again cost a 304.
    let r = c
        .get(format!("{}/status.json", s.base))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);

    // Precompressed: brotli when accepted, gzip otherwise; both decode to the same document.
    let raw = |enc: &'static str| {
        let c = c.clone();
        let url = format!("{}/status.json", s.base);
        async move {
            let r = c
                .get(url)
                .header("accept-encoding", enc)
                .send()
                .await
                .unwrap();
            let coding = r.headers()["content-encoding"]
                .to_str()
                .unwrap()
                .to_string();
            (coding, r.bytes().await.unwrap())
        }
    };
    let (coding, br) = raw("gzip, br").await;
    assert_eq!(coding, "br");
    let mut plain = Vec::new();
    brotli::BrotliDecompress(&mut &br[..], &mut plain).unwrap();
    let (coding, gz) = raw("gzip").await;
    assert_eq!(coding, "gzip");
    let mut plain2 = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain2).unwrap();
    assert_eq!(plain, plain2);
    assert_eq!(
        serde_json::from_slice::<Value>(&plain).unwrap()["exercise"],
        true
    );

    // A mistyped page address is a page in the address's language with a link to the list;
    // the API and everything else keep problem documents.
    for (lang, title) in [
        ("uk", "Сторінку не знайдено"),
        ("ru", "Страница не найдена"),
        ("en", "Page not found"),
    ] {
        let r = c
            .get(format!("{}/{lang}/corridors/nowhere", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        let h = r.text().await.unwrap();
        assert!(h.contains(&format!("<html lang=\"{lang}\">")), "{h}");
        assert!(h.contains(title), "{h}");
        assert!(h.contains(&format!("href=\"/{lang}/\"")), "{h}");
    }
    s.get("/v1/nowhere")
        .await
        .expect_problem(StatusCode::NOT_FOUND, "not-found");
    s.get("/de/corridors/nowhere")
        .await
        .expect_problem(StatusCode::NOT_FOUND, "not-found");
}

fn corridor_status(v: &Value) -> Option<&str> {
    v["corridors"]
        .as_array()?
        .iter()
        .find(|c| c["id"] == CORRIDOR)?["status"]
        .as_str()
}

#[tokio::test]
async fn a_window_opens_on_every_channel_within_a_second_without_a_new_entry() {
    // The clock starts 40 s before the window: time enough to agree it, even on a slow machine.
    let s = Server::start_with_clock("2022-03-05T06:59:20Z", 1.0).await;
    let start = "2022-03-05T07:00:00Z";
    setup(&s).await;
    agreed_window(&s, "w-open", start, "2022-03-05T08:00:00Z").await;
    let size = s.snapshot().await.db_size;
    let v = site_covers(&s, size, Duration::from_secs(5)).await;
    assert_eq!(corridor_status(&v), Some("upcoming"), "{v}");

    // A subscriber connected before the boundary.
    let mut events = client()
        .get(format!("{}/events", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut buf = String::new();
    wait_for_event(
        &mut events,
        &mut buf,
        |v| corridor_status(v) == Some("upcoming"),
        Duration::from_secs(5),
    )
    .await;

    let boundary = Instant::now() + s.log.clock().real_until(start.parse().unwrap());
    assert!(
        boundary > Instant::now(),
        "setup took longer than the clock allowed"
    );
    let got = wait_for_event(
        &mut events,
        &mut buf,
        |v| corridor_status(v) == Some("open"),
        Duration::from_secs(60),
    )
    .await;
    let late = got.saturating_duration_since(boundary);
    assert!(got >= boundary, "opened before its start");
    assert!(
        late < Duration::from_secs(1),
        "the event came {late:?} after the start"
    );

    // Everything else was rebuilt from the same instant, and no entry was written for it.
    assert_eq!(s.snapshot().await.db_size, size);
    let v = status(&s).await;
    assert_eq!(corridor_status(&v), Some("open"), "{v}");
    assert_eq!(v["checkpoint"]["size"], size);
    let cap = s.get("/feeds/cap.xml").await;
    assert_eq!(cap.status, StatusCode::OK);
    assert!(
        cap.text().contains("<msgType>Update</msgType>"),
        "{}",
        cap.text()
    );
    for lang in ["uk", "ru", "en"] {
        // The old address (no trailing slash, as on early printed sheets) leads to the page.
        let r = client()
            .get(format!("{}/{lang}/corridors/{CORRIDOR}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(
            r.headers()["location"],
            format!("/{lang}/corridors/{CORRIDOR}/").as_str()
        );
        let page = s.get(&format!("/{lang}/corridors/{CORRIDOR}/")).await;
        assert_eq!(page.status, StatusCode::OK, "{lang}");
        assert!(
            page.text().contains("data-status=\"open\""),
            "{lang}: {}",
            page.text()
        );
    }
}
