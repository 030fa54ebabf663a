//! The pages against the March 2022 fixture.

use std::io::Write as _;

use corridor_core::agreement::{ActKind, Agreements};
use corridor_core::genesis::GenesisDocument;

use super::*;
use crate::fixture::{self, CORRIDOR};
use crate::{Input, Site};

fn site(a: &Agreements, g: &GenesisDocument, at: &str) -> Site {
    let c = fixture::cited();
    let input = Input {
        genesis: g,
        agreements: a,
        at: fixture::at(at),
        checkpoint: &c,
        base_url: "https://corridors.example",
        documents: &[],
    };
    let p = Public::new(&input);
    let mut s = Site::default();
    render(&p, &mut s);
    s
}

fn page<'a>(s: &'a Site, path: &str) -> &'a str {
    let a = s
        .files
        .get(path)
        .unwrap_or_else(|| panic!("{path} missing; have {:?}", s.files.keys()));
    std::str::from_utf8(&a.body).unwrap()
}

fn html_pages(s: &Site) -> impl Iterator<Item = (&String, &str)> {
    s.files
        .iter()
        .filter(|(_, a)| a.content_type == crate::HTML)
        // The folder-index pages that only send the reader on are not pages of their own.
        .filter(|(_, a)| !String::from_utf8_lossy(&a.body).contains("http-equiv=\"refresh\""))
        .map(|(k, a)| (k, std::str::from_utf8(&a.body).unwrap()))
}

fn corridor(l: &str) -> String {
    format!("/{l}/corridors/{CORRIDOR}/")
}

const OPEN: &str = "2022-03-04T08:00:00Z";

#[test]
fn every_language_has_its_pages_lang_and_status_words() {
    let s = site(&fixture::agreements(), &fixture::genesis(), OPEN);
    for (l, word) in [
        ("uk", "Відкрито зараз"),
        ("ru", "Открыт сейчас"),
        ("en", "Open now"),
    ] {
        for path in [
            format!("/{l}/"),
            corridor(l),
            format!("{}print/", corridor(l)),
        ] {
            let h = page(&s, &path);
            assert!(h.starts_with("<!doctype html>"), "{path}");
            assert!(h.contains(&format!("<html lang=\"{l}\">")), "{path}");
        }
        let list = page(&s, &format!("/{l}/"));
        assert!(list.contains(word), "{l}: {list}");
        assert!(list.contains(&format!(
            "data-corridor=\"{CORRIDOR}\" data-status=\"open\">{word}<"
        )));
        let c = page(&s, &corridor(l));
        assert!(
            c.contains(&format!(
                "<p id=\"status\" class=\"st open\" data-corridor=\"{CORRIDOR}\" data-status=\"open\">{word}."
            )),
            "{c}"
        );
        assert_eq!(s.files[&corridor(l)].content_type, crate::HTML);
    }
    // Settlement names and agreed text in the language of the page.
    assert!(page(&s, &corridor("uk")).contains("Пункт прийому в школі Берестянки"));
    assert!(page(&s, &corridor("ru")).contains("Пункт приёма в школе Берестянки"));
    assert!(page(&s, &corridor("en")).contains("<dd>Borodianka</dd>"));
    assert!(page(&s, &corridor("uk")).contains("<dd>Бородянка</dd>"));
    // The plural of the count.
    assert!(page(&s, "/uk/").contains("<b>1 коридор</b>"));
}

#[test]
fn the_status_follows_the_clock() {
    let (a, g) = (fixture::agreements(), fixture::genesis());
    let s = site(&a, &g, "2022-03-03T14:00:00Z");
    let en = page(&s, &corridor("en"));
    assert!(
        en.contains("Agreed, not open yet. Opens at 4 March 2022, 09:00 (Kyiv time, UTC+2)."),
        "{en}"
    );
    assert!(page(&s, &corridor("uk")).contains("Відкриється 4 березня 2022, 09:00"));
    let s = site(&a, &g, OPEN);
    assert!(
        page(&s, &corridor("en")).contains("Open now. Closes at 4 March 2022, 17:00 (Kyiv time")
    );
    assert!(page(&s, &corridor("ru")).contains("Открыт сейчас. Закроется 4 марта 2022, 17:00"));
    let s = site(&a, &g, "2022-03-05T16:00:00Z");
    assert!(page(&s, &corridor("en")).contains(
        "data-status=\"closed\">Closed: the agreed ceasefire ended at 5 March 2022, 17:00 (Kyiv time, UTC+2). Do not set out on the route."
    ));
    // The other agreed window is listed with its own status.
    let en = page(&s, &corridor("en"));
    assert!(en.contains("Other agreed windows"));
    assert!(en.contains("4 March 2022, 09:00–17:00 (Kyiv time, UTC+2) — <b>Closed</b>"));
}

#[test]
fn a_suspended_window_says_why_and_who_and_what_to_do() {
    let (mut a, g) = (fixture::agreements(), fixture::genesis());
    let w = a.windows.get_mut("w-0304").unwrap();
    fixture::act(
        w,
        ActKind::Suspend,
        Some("ua"),
        "2022-03-04T09:00:00.000000Z",
        20,
    );
    let s = site(&a, &g, "2022-03-04T09:30:00Z");
    // What to do first, in every language, then the times; the public reason from the fixed
    // list, never the party's own words.
    for (l, first, reason) in [
        (
            "en",
            "Suspended: do not use the corridor now. It stays closed until every party resumes the ceasefire (the agreed window ends at 4 March 2022, 17:00 (Kyiv time, UTC+2)).",
            "<b>Reason given by Ukraine:</b> shelling or gunfire near the route",
        ),
        (
            "uk",
            "Призупинено: не користуйтеся коридором зараз. ",
            "<b>Причина (заява сторони «Україна»):</b> обстріли поблизу маршруту",
        ),
        (
            "ru",
            "Приостановлен: не пользуйтесь коридором сейчас. ",
            "<b>Причина (заявление стороны «Украина»):</b> обстрелы вблизи маршрута",
        ),
    ] {
        let h = page(&s, &corridor(l));
        assert!(
            h.contains(&format!("data-status=\"suspended\">{first}")),
            "{l}: {h}"
        );
        assert!(h.contains(reason), "{l}: {h}");
        assert!(!h.contains("shelling reported near the route"), "{l}: {h}");
        assert!(
            !h.contains("триває до") && !h.contains("действует до") && !h.contains("runs until")
        );
    }
    let en = page(&s, &corridor("en"));
    assert!(en.contains(
        "<p class=\"alert\"><b>If the corridor is suspended</b><br>Stay in shelter and wait"
    ));
    let uk = page(&s, &corridor("uk"));
    assert!(uk.contains("Залишайтеся в укритті"));
    assert!(
        page(&s, "/ru/")
            .contains("data-status=\"suspended\">Приостановлен: не пользуйтесь коридором сейчас<")
    );
}

#[test]
fn as_of_is_in_the_origins_zone_and_zone_headers_are_nouns() {
    let s = site(
        &fixture::agreements(),
        &fixture::genesis(),
        "2022-03-04T07:00:00Z",
    );
    for path in [
        "/uk/".to_string(),
        corridor("uk"),
        format!("{}print/", corridor("uk")),
    ] {
        let h = page(&s, &path);
        assert!(
            h.contains("Станом на 4 березня 2022, 09:00 (за київським часом, UTC+2)."),
            "{path}: {h}"
        );
    }
    assert!(page(&s, &corridor("en")).contains("As of 4 March 2022, 09:00 (Kyiv time, UTC+2)."));
    let uk = page(&s, &corridor("uk"));
    assert!(uk.contains("<th>Київський час, UTC+2<br>"), "{uk}");
    assert!(uk.contains("<th>Московський час, UTC+3<br>"), "{uk}");
    let ru = page(&s, &corridor("ru"));
    assert!(ru.contains("<th>Киевское время, UTC+2<br>"), "{ru}");
    assert!(ru.contains("<th>Московское время, UTC+3<br>"), "{ru}");
}

#[test]
fn the_reviewed_wording_is_used_and_one_term_per_fact() {
    let s = site(&fixture::agreements(), &fixture::genesis(), OPEN);
    assert!(page(&s, "/uk/").contains("Тут показано лише коридори, погоджені всіма сторонами."));
    assert!(
        page(&s, "/ru/").contains("Здесь показаны только коридоры, согласованные всеми сторонами.")
    );
    assert!(page(&s, "/en/").contains("Only corridors agreed by every party are listed."));
    assert!(page(&s, &corridor("uk")).contains("Чи можна завезти гуманітарну допомогу"));
    assert!(page(&s, &corridor("ru")).contains("Можно ли ввезти гуманитарную помощь"));
    assert!(page(&s, &corridor("en")).contains("May aid be brought in?"));
    assert!(page(&s, &corridor("uk")).contains("»: це не домовленість"));
    assert!(page(&s, &corridor("ru")).contains("»: это не договорённость"));
    let print = page(&s, &format!("{}print/", corridor("uk")));
    assert!(print.contains("Погоджений час коридору"));
    assert!(print.contains("Актуальний стан: зіскануйте QR-код або відкрийте адресу:"));
    assert!(print.contains("Увага: стан коридору міг змінитися після друку цієї сторінки."));
    let print = page(&s, &format!("{}print/", corridor("ru")));
    assert!(print.contains("Согласованное время коридора"));
    assert!(print.contains("Актуальный статус: отсканируйте QR-код или откройте адрес:"));
    assert!(print.contains("Внимание: статус коридора мог измениться после печати этой страницы."));
    assert!(page(&s, &corridor("ru")).contains("Сформировано по контрольной точке"));
    // One Ukrainian term for "agreed": "погоджено" on pages and in feeds alike.
    for (path, a) in &s.files {
        if path.starts_with("/uk/") {
            let body = String::from_utf8_lossy(&a.body);
            assert!(!body.contains("узгод") && !body.contains("Узгод"), "{path}");
        }
    }
}

#[test]
fn a_cancelled_window_names_who_withdrew() {
    let (mut a, g) = (fixture::agreements(), fixture::genesis());
    a.windows.remove("w-0304");
    let w = a.windows.get_mut("w-0305").unwrap();
    fixture::act(
        w,
        ActKind::Withdraw,
        Some("ru"),
        "2022-03-04T20:00:00.000000Z",
        21,
    );
    let s = site(&a, &g, "2022-03-04T21:00:00Z");
    let en = page(&s, &corridor("en"));
    assert!(
        en.contains("data-status=\"cancelled\">Cancelled: the corridor will not open. Do not set out on the route."),
        "{en}"
    );
    assert!(en.contains("Reason given by Russian Federation:"));
}

#[test]
fn a_window_not_agreed_does_not_appear() {
    let s = site(&fixture::agreements(), &fixture::genesis(), OPEN);
    for (path, h) in html_pages(&s) {
        for never in ["w-0306", "6 March", "6 березня", "6 марта"] {
            assert!(!h.contains(never), "{path} shows the unagreed {never}");
        }
    }
    // Nothing at all when no window is agreed.
    let mut a = fixture::agreements();
    a.windows.retain(|id, _| id == "w-0306");
    let s = site(&a, &fixture::genesis(), OPEN);
    assert!(
        !s.files
            .keys()
            .any(|k| k.contains(&format!("/corridors/{CORRIDOR}")))
    );
    assert!(page(&s, "/en/").contains("No corridor is agreed at the moment."));
}

#[test]
fn a_declaration_appears_only_in_the_statement_section() {
    let s = site(&fixture::agreements(), &fixture::genesis(), OPEN);
    for (l, text, label) in [
        (
            "en",
            "The Russian Federation declares a ceasefire from 10:00 Moscow time.",
            "Statement by Russian Federation: not an agreement",
        ),
        (
            "uk",
            "Російська Федерація оголошує режим тиші",
            "Заява сторони «Російська Федерація»: це не домовленість",
        ),
        (
            "ru",
            "Российская Федерация объявляет режим тишины",
            "Заявление стороны «Российская Федерация»: это не договорённость",
        ),
    ] {
        for path in [format!("/{l}/"), corridor(l)] {
            let h = page(&s, &path);
            let (before, section) = h
                .split_once("<section class=\"decl\"")
                .unwrap_or_else(|| panic!("{path} has no statement section"));
            assert!(
                !before.contains(text),
                "{path}: statement outside its section"
            );
            assert_eq!(section.matches(text).count(), 1, "{path}");
            assert!(section.contains(label), "{path}");
            let section = section.split("</section>").next().unwrap();
            assert!(section.contains(text));
        }
        // The print page is only agreed facts.
        assert!(!page(&s, &format!("{}print/", corridor(l))).contains(text));
    }
}

#[test]
fn the_language_switch_links_to_the_same_page() {
    let s = site(&fixture::agreements(), &fixture::genesis(), OPEN);
    let h = page(&s, &corridor("uk"));
    let nav = h
        .split("<nav")
        .nth(1)
        .unwrap()
        .split("</nav>")
        .next()
        .unwrap();
    assert!(nav.contains(&format!(
        "<a href=\"../../../ru/corridors/{CORRIDOR}/\" hreflang=\"ru\" lang=\"ru\">Русский</a>"
    )));
    assert!(nav.contains(&format!(
        "<a href=\"../../../en/corridors/{CORRIDOR}/\" hreflang=\"en\" lang=\"en\">English</a>"
    )));
    assert!(nav.contains("<strong lang=\"uk\">Українська</strong>"));
    // The switch comes before the content.
    assert!(h.find("<nav").unwrap() < h.find("<main>").unwrap());
    let list = page(&s, "/en/");
    assert!(list.contains("<a href=\"../uk/\" hreflang=\"uk\" lang=\"uk\">Українська</a>"));
    assert!(list.contains(&format!("<a class=\"big\" href=\"corridors/{CORRIDOR}/\">")));
    assert!(h.contains("<a href=\"../../\">"), "back to the list");
    let print = page(&s, &format!("{}print/", corridor("ru")));
    assert!(print.contains(&format!(
        "<a href=\"../../../../en/corridors/{CORRIDOR}/print/\" hreflang=\"en\""
    )));
    // Every relative link resolves to a file of the site (or a feed another module adds).
    for (path, h) in html_pages(&s) {
        for href in h
            .split("href=\"")
            .skip(1)
            .map(|x| x.split('"').next().unwrap())
        {
            let mut parts: Vec<&str> = path.split('/').collect();
            parts.pop();
            if href.starts_with('/') {
                parts = vec![""];
            }
            for seg in href.trim_start_matches('/').split('/') {
                match seg {
                    ".." => {
                        parts.pop();
                    }
                    s => parts.push(s),
                }
            }
            let target = parts.join("/");
            let target = if target.is_empty() {
                "/".into()
            } else {
                target
            };
            assert!(
                s.files.contains_key(&target)
                    || target.starts_with("/feeds/")
                    || target == "/status.json",
                "{path} links to {href} = {target}, which is not a file"
            );
        }
    }
}

#[test]
fn times_are_in_the_origins_zone_and_each_partys() {
    let s = site(&fixture::agreements(), &fixture::genesis(), OPEN);
    let en = page(&s, &corridor("en"));
    assert!(en.contains("<p class=\"big\">4 March 2022, 09:00–17:00 (Kyiv time, UTC+2)</p>"));
    assert!(en.contains(
        "<tr><th>Kyiv time, UTC+2<br><small>Borodianka, Ukraine</small></th><td>4 March 2022, 09:00</td><td>4 March 2022, 17:00</td></tr>"
    ), "{en}");
    assert!(en.contains(
        "<tr><th>Moscow time, UTC+3<br><small>Russian Federation</small></th><td>4 March 2022, 10:00</td><td>4 March 2022, 18:00</td></tr>"
    ));
    assert!(
        en.contains(
            "<tr><th>UTC</th><td>4 March 2022, 07:00</td><td>4 March 2022, 15:00</td></tr>"
        )
    );
    let ru = page(&s, &corridor("ru"));
    assert!(ru.contains("<th>Московское время, UTC+3<br>"));
    assert!(ru.contains("<td>4 марта 2022, 10:00</td>"));
    let list = page(&s, "/uk/");
    assert!(list.contains("4 березня 2022, 09:00–17:00 (за київським часом, UTC+2)"));
}

#[test]
fn every_page_says_exercise_as_of_and_cites_the_checkpoint() {
    let s = site(&fixture::agreements(), &fixture::genesis(), OPEN);
    let mut n = 0;
    for (path, h) in html_pages(&s) {
        n += 1;
        assert!(h.contains("<p class=\"ex\" role=\"alert\">"), "{path}");
        assert!(
            h.contains("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
            "{path}"
        );
        assert!(h.contains("status.json\">"), "{path}");
        assert!(
            h.contains("feeds/cap.xml\">") && h.contains("feeds/atom.xml\">"),
            "{path}"
        );
    }
    assert_eq!(n, 12);
    let en = page(&s, "/en/");
    assert!(en.contains("EXERCISE — simulated clock"));
    assert!(en.contains("As of 4 March 2022, 10:00 (Kyiv time, UTC+2)."));
    assert!(en.contains("tree size 11 and root"));
    let mut g = fixture::genesis();
    g.exercise = false;
    let s = site(&fixture::agreements(), &g, OPEN);
    assert!(!page(&s, "/en/").contains("class=\"ex\""));
}

#[test]
fn pages_are_self_contained_and_live_updates_are_optional() {
    let s = site(&fixture::agreements(), &fixture::genesis(), OPEN);
    for (path, h) in html_pages(&s) {
        assert_eq!(h.matches("<style>").count(), 1, "{path}");
        for external in [" src=", "@import", "url(", "stylesheet", "http-equiv"] {
            assert!(!h.contains(external), "{path} has {external}");
        }
    }
    let c = page(&s, &corridor("en"));
    assert_eq!(c.matches("<script>").count(), 1);
    assert!(c.contains("new EventSource(r+'events')") && c.contains("r+'status.json'"));
    assert!(c.contains("location.reload()") && c.contains("30000"));
    assert!(c.contains("<body data-root=\"../../../\">"));
    assert!(page(&s, "/en/").contains("<body data-root=\"../\" data-all>"));
    assert!(!page(&s, &format!("{}print/", corridor("en"))).contains("<script>"));
}

#[test]
fn the_corridor_page_has_the_agreed_terms_and_the_map() {
    let s = site(&fixture::agreements(), &fixture::genesis(), OPEN);
    let en = page(&s, &corridor("en"));
    for agreed in [
        "Reception point at the Berestianka school",
        "All civilians who wish to leave, with their pets",
        "Identity documents, water, warm clothes",
        "Central square of Borodianka, by the bus stop.",
        "Stay in shelter and wait for the next announcement.",
        "Checkpoint on the Berestianka road",
        "<dd>Berestianka</dd>",
    ] {
        assert!(en.contains(agreed), "{agreed}");
    }
    assert!(en.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(en.contains("<polyline class=\"route\" points=\""));
    assert!(page(&s, &corridor("uk")).contains(">Бородянка</text>"));
}

#[test]
fn the_print_page_is_a4_with_a_qr_code_to_the_live_page() {
    let s = site(&fixture::agreements(), &fixture::genesis(), OPEN);
    let h = page(&s, &format!("{}print/", corridor("uk")));
    assert!(h.contains("@page{size:A4"));
    let url = format!("https://corridors.example/uk/corridors/{CORRIDOR}");
    assert!(h.contains(&format!(
        "<svg class=\"qr\" role=\"img\" aria-label=\"QR: {url}\""
    )));
    assert!(!h.contains("<?xml"));
    assert!(h.contains(&url));
    assert!(h.contains("Документи, що посвідчують особу"));
    // Status-independent: no live status on paper.
    assert!(!h.contains("id=\"status\""));
    for day in [4, 5] {
        assert!(h.contains(&format!(
            "<caption class=\"big\">{day} березня 2022, 09:00–17:00 (за київським часом, UTC+2)</caption>"
        )));
        assert!(
            h.contains(&format!("<td>{day} березня 2022, 10:00</td>")),
            "Moscow time"
        );
    }
}

/// The QR code on the printed page, drawn from its SVG (qrcode's renderer writes each dark
/// module as `M{x} {y}h1v1H{x}V{y}` with one unit per module) at eight pixels a module and
/// read back by a QR decoder (`rqrr`): a phone scanning the sheet must land on the live page,
/// whatever the SVG's label says.
fn decode_qr(html: &str) -> String {
    let svg = &html[html.find("<svg class=\"qr\"").expect("a QR code")..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    let d = &svg[svg.find(" d=\"").expect("a path") + 4..];
    let d = &d[..d.find('"').unwrap()];
    let mut dark = std::collections::BTreeSet::new();
    for rect in d.split('M').filter(|r| !r.is_empty()) {
        let nums: Vec<u32> = rect
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().unwrap())
            .collect();
        // left, top, width, height, left, top
        let (x, y, w, h) = (nums[0], nums[1], nums[2], nums[3]);
        for dx in 0..w {
            for dy in 0..h {
                dark.insert((x + dx, y + dy));
            }
        }
    }
    let modules = dark.iter().map(|(x, y)| x.max(y)).max().unwrap() + 1 + 4;
    let px = 8;
    let size = (modules * px) as usize;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| {
        if dark.contains(&((x / px as usize) as u32, (y / px as usize) as u32)) {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    content
}

#[test]
fn the_printed_qr_code_decodes_to_the_live_page() {
    let s = site(&fixture::agreements(), &fixture::genesis(), OPEN);
    for lang in ["uk", "ru", "en"] {
        let h = page(&s, &format!("{}print/", corridor(lang)));
        assert_eq!(
            decode_qr(h),
            format!("https://corridors.example/{lang}/corridors/{CORRIDOR}")
        );
    }
}

#[test]
fn signed_text_is_escaped() {
    let (mut a, g) = (fixture::agreements(), fixture::genesis());
    let evil = "<script>alert('x')</script>";
    {
        let terms = &mut a.corridors.get_mut(CORRIDOR).unwrap().versions[0].terms;
        terms.names.en = format!("Borodianka {evil}");
        terms.reception.as_mut().unwrap().en = format!("\"><img onerror=x> {evil}");
        terms.checkpoints[0].names.en = evil.into();
    }
    a.settlements.get_mut("borodianka").unwrap().names.en = evil.into();
    a.declarations.get_mut("ru-decl-1").unwrap().text.en = evil.into();
    let w = a.windows.get_mut("w-0304").unwrap();
    fixture::act(
        w,
        ActKind::Suspend,
        Some("ua"),
        "2022-03-04T09:00:00.000000Z",
        20,
    );
    w.acts.last_mut().unwrap().reason = Some(evil.into());
    let s = site(&a, &g, "2022-03-04T09:30:00Z");
    for (path, h) in html_pages(&s) {
        assert!(!h.contains("<script>alert"), "{path}");
        assert!(!h.contains("<img"), "{path}");
    }
    let en = page(&s, &corridor("en"));
    assert!(en.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(en.contains("&quot;&gt;&lt;img onerror=x&gt;"));
}

#[test]
fn every_page_is_small_when_compressed() {
    let (mut a, g) = (fixture::agreements(), fixture::genesis());
    // The worst case: a suspended window with a reason, and several declarations.
    let w = a.windows.get_mut("w-0304").unwrap();
    fixture::act(
        w,
        ActKind::Suspend,
        Some("ua"),
        "2022-03-04T09:00:00.000000Z",
        20,
    );
    let d = a.declarations["ru-decl-1"].clone();
    for i in 2..6 {
        let mut d = d.clone();
        d.id = format!("ru-decl-{i}");
        d.at_index = 10 + i;
        a.declarations.insert(d.id.clone(), d);
    }
    for (at, label) in [
        (OPEN, "open"),
        ("2022-03-04T09:30:00Z", "suspended worst case"),
    ] {
        let s = site(&a, &g, at);
        for (path, h) in html_pages(&s) {
            let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            z.write_all(h.as_bytes()).unwrap();
            let gz = z.finish().unwrap().len();
            println!("{label}: {path}: {} bytes, {gz} gzip", h.len());
            assert!(gz < 30 * 1024, "{path}: {gz} bytes compressed");
        }
    }
}

#[test]
fn a_long_route_with_many_checkpoints_still_fits() {
    let mut a = fixture::agreements();
    {
        let terms = &mut a.corridors.get_mut(CORRIDOR).unwrap().versions[0].terms;
        let (lon, lat) = (terms.route[0][0], terms.route[0][1]);
        // The longest route the rules allow: 1000 points, zig-zagging over ~100 km.
        terms.route = (0..corridor_core::agreement::MAX_ROUTE_POINTS as i64)
            .map(|i| [lon - i * 9_000, lat - i * 4_000 + (i % 7) * 3_000])
            .collect();
        let cp = terms.checkpoints[0].clone();
        terms.checkpoints = (0..40)
            .map(|i| {
                let mut cp = cp.clone();
                cp.location.lon_e7 = terms.route[i * 25][0];
                cp.location.lat_e7 = terms.route[i * 25][1];
                cp.names.uk = format!("{} № {i}", cp.names.uk);
                cp
            })
            .collect();
    }
    let s = site(&a, &fixture::genesis(), OPEN);
    for (path, h) in html_pages(&s) {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(h.as_bytes()).unwrap();
        let gz = z.finish().unwrap().len();
        println!("long route: {path}: {} bytes, {gz} gzip", h.len());
        assert!(gz < 30 * 1024, "{path}: {gz} bytes compressed");
    }
}

#[test]
fn a_mistyped_address_gets_a_page_in_the_readers_language() {
    let s = site(&fixture::agreements(), &fixture::genesis(), OPEN);
    for (l, title, link) in [
        ("uk", "Сторінку не знайдено", "Усі коридори"),
        ("ru", "Страница не найдена", "Все коридоры"),
        ("en", "Page not found", "See all corridors"),
    ] {
        let h = page(&s, &format!("/{l}/404.html"));
        assert!(h.contains(&format!("<html lang=\"{l}\">")), "{h}");
        assert!(h.contains(&format!("<h1>{title}</h1>")), "{h}");
        // Root-relative: it is served at whatever depth the mistyped address had.
        assert!(h.contains(&format!("<a href=\"/{l}/\">{link}</a>")), "{h}");
        assert!(!h.contains("href=\"../"), "{h}");
        assert!(h.contains("href=\"/status.json\""), "{h}");
    }
}

/// A published document (#19 item 5): listed on the front page, shown in each of its languages
/// with the binding text marked and the others as translations, with each party's signature,
/// and its bundle beside the page; without a bundle, the page points to the log server.
#[test]
fn a_published_document_shows_its_binding_text_and_its_bundle() {
    use corridor_core::negotiation::{Document, DocumentVersion, PartySeal, Stamp};
    let (a, g) = (fixture::agreements(), fixture::genesis());
    let stamp = |actor: &str| Stamp {
        actor: actor.into(),
        at_index: 20,
        at_time: "2022-03-03T17:40:00.000000Z".into(),
    };
    let text = |ru: &str, en: &str| {
        std::collections::BTreeMap::from([
            ("ru".to_string(), ru.to_string()),
            ("en".to_string(), en.to_string()),
        ])
    };
    let v = DocumentVersion {
        version: 1,
        title: text("Протокол", "Protocol"),
        points: vec![],
        binding_language: "ru".into(),
        text: text("Стороны договорились.", "The parties agreed."),
        hash: "h".into(),
        by: stamp("icrc/admin"),
    };
    let seal = |actor: &str| PartySeal {
        version: 1,
        hash: "h".into(),
        by: stamp(actor),
    };
    let document = Document {
        id: "protocol-1".into(),
        versions: vec![v],
        signatures: [("ua", "ua/signatory"), ("ru", "ru/signatory")]
            .into_iter()
            .map(|(p, a)| (p.to_string(), seal(a)))
            .collect(),
        voided: vec![],
        publication: Default::default(),
        signed_by_all: true,
        published: true,
    };
    let build = |bundle: Option<String>| {
        let docs = [crate::PublicDocument {
            document: document.clone(),
            bundle,
        }];
        let c = fixture::cited();
        let input = Input {
            genesis: &g,
            agreements: &a,
            at: fixture::at("2022-03-04T08:00:00Z"),
            checkpoint: &c,
            base_url: "https://corridors.example",
            documents: &docs,
        };
        let mut s = Site::default();
        render(&Public::new(&input), &mut s);
        s
    };
    let s = build(Some("{\"format\":\"corridor-document-bundle/v1\"}".into()));
    assert!(page(&s, "/en/").contains("href=\"documents/protocol-1/\">Protocol</a>"));
    let en = page(&s, "/en/documents/protocol-1/");
    assert!(en.contains("Русский — binding text"), "{en}");
    assert!(en.contains("English — translation"), "{en}");
    assert!(en.contains("Стороны договорились."), "{en}");
    assert!(en.contains("href=\"bundle.json\""), "{en}");
    assert_eq!(en.matches("Signed for").count(), 2, "{en}");
    let uk = page(&s, "/uk/documents/protocol-1/");
    assert!(uk.contains("переклад") && uk.contains("Протокол"), "{uk}");
    assert!(page(&s, "/ru/documents/protocol-1/bundle.json").contains("corridor-document-bundle"));
    // A static copy has no bundle: the page says where it is, and links to no missing file.
    let s = build(None);
    let en = page(&s, "/en/documents/protocol-1/");
    assert!(
        en.contains("available from the log server") && !en.contains("bundle.json"),
        "{en}"
    );
    assert!(!s.files.contains_key("/en/documents/protocol-1/bundle.json"));
}
