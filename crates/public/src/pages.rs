//! HTML pages: per language, a list of corridors and a page per corridor, plus a printable A4
//! page with a QR code. Server-rendered and complete without JavaScript, because people check a
//! corridor on old phones over a weak link; small, because very many ask at once when one is
//! announced.
//!
//! Words the parties did not sign come from the Fluent files; everything presented as agreed
//! (names, route, reception, who may leave, instructions) comes from the agreed corridor
//! version ([`PublicCorridor::terms`]); declarations are shown apart, as one party's statement.

mod html;
pub(crate) mod when;

#[cfg(test)]
mod tests;

use std::fmt::Write;

use corridor_core::agreement::{Declaration, Purpose, WindowAct};
use jiff::Timestamp;

use crate::i18n::{Arg, t, t_args};
use crate::model::{LANGS, Lang, Public, PublicCorridor, PublicStatus, PublicWindow, name};
use crate::{HTML, Site};
pub(crate) use html::esc;
use html::{Frame, seg};

/// Add every page of every language to `site`, and the SMS texts.
pub fn render(p: &Public, site: &mut Site) {
    site.put("/", HTML, redirect_page(Lang::Uk, "uk/").into_bytes());
    for lang in LANGS {
        // A folder index for every level, so a static host never lists a directory.
        site.put(
            format!("/{}/corridors/", crate::model::code(lang)),
            HTML,
            redirect_page(lang, "../").into_bytes(),
        );
        let f = list_page(p, lang);
        site.put(f.0, HTML, f.1.into_bytes());
        let f = not_found_page(p, lang);
        site.put(f.0, HTML, f.1.into_bytes());
        if !p.input.documents.is_empty() {
            site.put(
                format!("/{}/documents/", crate::model::code(lang)),
                HTML,
                redirect_page(lang, "../").into_bytes(),
            );
        }
        for d in p.input.documents {
            let f = document_page(p, d, lang);
            site.put(f.0, HTML, f.1.into_bytes());
            // The bundle beside each language's page (a few kilobytes), so no folder of the
            // site is without its page.
            if let Some(b) = &d.bundle {
                site.put(
                    format!(
                        "/{}/documents/{}/bundle.json",
                        crate::model::code(lang),
                        seg(&d.document.id)
                    ),
                    crate::JSON,
                    b.clone().into_bytes(),
                );
            }
        }
        for c in &p.corridors {
            let f = corridor_page(p, c, lang);
            site.put(f.0, HTML, f.1.into_bytes());
            let f = print_page(p, c, lang);
            site.put(f.0, HTML, f.1.into_bytes());
        }
    }
    crate::sms::render(p, site);
}

/// A text of `texts` in the page's language, else in the binding one, else any.
fn in_lang<'a>(
    texts: &'a std::collections::BTreeMap<String, String>,
    lang: Lang,
    binding: &str,
) -> &'a str {
    texts
        .get(crate::model::code(lang))
        .or_else(|| texts.get(binding))
        .or_else(|| texts.values().next())
        .map_or("", String::as_str)
}

/// The list of published documents on the front page, if any.
fn documents_section(p: &Public, lang: Lang) -> String {
    if p.input.documents.is_empty() {
        return String::new();
    }
    let mut h = format!(
        "<section aria-labelledby=\"docs\"><h2 id=\"docs\">{}</h2><ul>",
        esc(&t(lang, "documents-title"))
    );
    for d in p.input.documents {
        let v = d.document.latest();
        let _ = write!(
            h,
            "<li><a href=\"documents/{}/\">{}</a></li>",
            seg(&d.document.id),
            esc(in_lang(&v.title, lang, &v.binding_language))
        );
    }
    h.push_str("</ul></section>");
    h
}

/// `/{lang}/documents/{id}/`: a document every party signed and agreed to publish, in each of
/// its languages, the binding text marked as such and the others as translations, with who
/// signed for each party and when, and the bundle anyone can check offline.
fn document_page(p: &Public, d: &crate::PublicDocument, lang: Lang) -> (String, String) {
    let v = d.document.latest();
    let title = in_lang(&v.title, lang, &v.binding_language);
    let zone = list_zone(p).to_string();
    let mut m = format!(
        "<p><a href=\"../../\">← {}</a></p><h1>{}</h1>",
        esc(&t(lang, "back")),
        esc(title)
    );
    // The page's language first, then the others; each marked binding or translation.
    let mut langs: Vec<&String> = v.text.keys().collect();
    langs.sort_by_key(|l| {
        (
            l.as_str() != crate::model::code(lang),
            l.as_str() != v.binding_language,
        )
    });
    for l in langs {
        let mark = if *l == v.binding_language {
            t(lang, "document-binding")
        } else {
            t(lang, "document-translation")
        };
        let native = match l.as_str() {
            "uk" => "Українська",
            "ru" => "Русский",
            _ => "English",
        };
        let _ = write!(
            m,
            "<section lang=\"{l}\"><h2>{} — {}</h2><p>{}</p></section>",
            esc(native),
            esc(&mark),
            esc(&v.text[l.as_str()])
        );
    }
    m.push_str("<ul>");
    for (party, seal) in &d.document.signatures {
        let when = seal
            .by
            .at_time
            .parse()
            .map(|ts| when::at(lang, ts, &zone))
            .unwrap_or_else(|_| seal.by.at_time.clone());
        let _ = write!(
            m,
            "<li>{}</li>",
            esc(&t_args(
                lang,
                "document-signed",
                &[
                    ("party", Arg::Str(&who(p, party, lang))),
                    ("when", Arg::Str(&when)),
                ]
            ))
        );
    }
    m.push_str("</ul>");
    match &d.bundle {
        Some(_) => {
            let _ = write!(
                m,
                "<p><a href=\"bundle.json\" download>{}</a></p>",
                esc(&t(lang, "document-bundle"))
            );
        }
        None => {
            let _ = write!(m, "<p>{}</p>", esc(&t(lang, "document-bundle-elsewhere")));
        }
    }
    let f = Frame {
        p,
        lang,
        rel: format!("documents/{}/", seg(&d.document.id)),
        title: format!("{title} — {}", t(lang, "site-title")),
        live: false,
        all: false,
        print: false,
        zone,
    };
    (f.path(), f.page(&m))
}

/// A page that sends the reader on to `to` (relative) by itself, with a plain link for browsers
/// that do not follow `refresh`: the static mirror's root needs no server rule to pick a page.
/// The language links let a reader choose at once.
fn redirect_page(lang: Lang, to: &str) -> String {
    let mut links = String::new();
    for l in LANGS {
        let c = crate::model::code(l);
        let href = if to == "../" {
            format!("../../{c}/")
        } else {
            format!("{c}/")
        };
        let _ = write!(
            links,
            "<li><a href=\"{href}\" hreflang=\"{c}\" lang=\"{c}\">{}</a></li>",
            esc(&t(l, "site-title"))
        );
    }
    format!(
        "<!doctype html>\n<html lang=\"{l}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta http-equiv=\"refresh\" content=\"0; url={to}\"><title>{title}</title></head>\
<body><p><a href=\"{to}\">{title}</a></p><ul>{links}</ul></body></html>\n",
        l = crate::model::code(lang),
        title = esc(&t(lang, "site-title")),
    )
}

/// The short status word of a window (list entries, other windows).
fn badge(lang: Lang, s: &PublicStatus) -> String {
    t(lang, &format!("badge-{}", s.as_str()))
}

/// The zone a corridor's times are shown in first: the origin's, where people read them.
fn origin_zone<'a>(p: &'a Public, c: &'a PublicCorridor) -> &'a str {
    c.origin
        .map(|o| o.zone.as_str())
        .or_else(|| p.input.genesis.parties.first().map(|x| x.zone.as_str()))
        .unwrap_or("UTC")
}

/// The zone of a page about every corridor: the first corridor's origin's, else the first
/// party's (where the readers are), never UTC while a local zone is known.
fn list_zone<'a>(p: &'a Public) -> &'a str {
    p.corridors
        .first()
        .map(|c| origin_zone(p, c))
        .or_else(|| p.input.genesis.parties.first().map(|x| x.zone.as_str()))
        .unwrap_or("UTC")
}

/// The name of a party, the intermediary or an organisation, by id or actor id (`ua/admin`).
fn who(p: &Public, id: &str, lang: Lang) -> String {
    let id = id.split('/').next().unwrap_or(id);
    let g = p.input.genesis;
    g.parties
        .iter()
        .find(|x| x.id == id)
        .map(|x| &x.names)
        .or_else(|| (g.intermediary.id == id).then_some(&g.intermediary.names))
        .or_else(|| {
            g.organisations
                .iter()
                .find(|o| o.id == id)
                .map(|o| &o.names)
        })
        .map(|n| name(n, lang).to_string())
        .unwrap_or_else(|| id.to_string())
}

fn ts(s: &str) -> Option<Timestamp> {
    s.parse().ok()
}

/// The act that put a window in its suspended or cancelled state, to say who acted.
fn cause<'a>(w: &PublicWindow<'a>, at: Timestamp) -> Option<&'a WindowAct> {
    let status = w.window.status_at(at)?.0;
    crate::model::cause(w.window, &status, at)
}

/// The headline sentence of a window's status, with the times in `zone`.
fn sentence(lang: Lang, w: &PublicWindow, zone: &str) -> String {
    let start = when::at(lang, w.start, zone);
    let end = when::at(lang, w.end, zone);
    t_args(
        lang,
        &format!("page-status-{}", w.status.as_str()),
        &[("start", Arg::Str(&start)), ("end", Arg::Str(&end))],
    )
}

/// The public reason of a suspension or withdrawal, attributed: a reason from the fixed list in
/// the reader's language (the acting party's free text is for the log's members only).
fn reason(p: &Public, w: &PublicWindow, lang: Lang) -> String {
    let Some(r) = w.status.reason() else {
        return String::new();
    };
    let label = match cause(w, p.input.at) {
        Some(a) => {
            let by = who(p, a.party.as_deref().unwrap_or(&a.actor), lang);
            t_args(lang, "reason-by", &[("party", Arg::Str(&by))])
        }
        None => t(lang, "reason"),
    };
    format!(
        "<p><b>{}</b> {}</p>",
        esc(&label),
        esc(&crate::i18n::public_reason(lang, r))
    )
}

/// Unilateral declarations, in their own clearly labelled section: never an agreement.
fn statements(p: &Public, lang: Lang, decls: &[&Declaration]) -> String {
    if decls.is_empty() {
        return String::new();
    }
    let mut h = String::new();
    let _ = write!(
        h,
        "<section class=\"decl\" aria-labelledby=\"stm\"><h2 id=\"stm\">{}</h2><p>{}</p>",
        esc(&t(lang, "h-statements")),
        esc(&t(lang, "statements-note"))
    );
    for d in decls {
        let party = who(p, &d.party, lang);
        let zone = d
            .corridor
            .as_deref()
            .and_then(|id| p.corridor(id))
            .map(|c| origin_zone(p, c))
            .or_else(|| {
                p.input
                    .genesis
                    .parties
                    .iter()
                    .find(|x| x.id == d.party)
                    .map(|x| x.zone.as_str())
            })
            .unwrap_or("UTC");
        let show = |s: &str| {
            ts(s)
                .map(|t| when::at(lang, t, zone))
                .unwrap_or(s.to_string())
        };
        let period = match &d.end {
            Some(e) => t_args(
                lang,
                "statement-from-to",
                &[
                    ("start", Arg::Str(&show(&d.start))),
                    ("end", Arg::Str(&show(e))),
                ],
            ),
            None => t_args(
                lang,
                "statement-from",
                &[("start", Arg::Str(&show(&d.start)))],
            ),
        };
        let about = d
            .corridor
            .as_deref()
            .map(|id| match p.corridor(id) {
                Some(c) => format!(
                    "<br>{} {}",
                    esc(&t(lang, "statement-about")),
                    esc(name(&c.terms().terms.names, lang))
                ),
                None => format!("<br>{} {}", esc(&t(lang, "statement-about")), esc(id)),
            })
            .unwrap_or_default();
        let _ = write!(
            h,
            "<article><h3>{}</h3><p><q>{}</q></p><p><small>{}{}</small></p></article>",
            esc(&t_args(
                lang,
                "statement-by",
                &[("party", Arg::Str(&party))]
            )),
            esc(name(&d.text, lang)),
            esc(&period),
            about
        );
    }
    h.push_str("</section>");
    h
}

/// `/{lang}/`: every public corridor with its status and window, then every declaration.
fn list_page(p: &Public, lang: Lang) -> (String, String) {
    let mut m = String::new();
    let _ = write!(
        m,
        "<h1>{}</h1><p><b>{}</b><br>{}</p>",
        esc(&t(lang, "site-title")),
        esc(&t_args(
            lang,
            "corridors-count",
            &[("count", Arg::Num(p.corridors.len() as i64))]
        )),
        esc(&t(lang, "list-intro"))
    );
    if p.corridors.is_empty() {
        let _ = write!(m, "<p class=\"big\">{}</p>", esc(&t(lang, "list-none")));
    } else {
        m.push_str("<ul class=\"list\">");
        for c in &p.corridors {
            let w = c.current();
            let id = &c.corridor.id;
            let _ = write!(
                m,
                "<li><a class=\"big\" href=\"corridors/{href}/\">{n}</a>\
<p class=\"st {s}\" data-corridor=\"{ida}\" data-status=\"{s}\">{b}</p>{span}</li>",
                href = seg(id),
                n = esc(name(&c.terms().terms.names, lang)),
                s = w.status.as_str(),
                ida = esc(id),
                b = esc(&badge(lang, &w.status)),
                span = esc(&when::span(lang, w.start, w.end, origin_zone(p, c))),
            );
        }
        m.push_str("</ul>");
    }
    let decls: Vec<&Declaration> = p.declarations.to_vec();
    m.push_str(&statements(p, lang, &decls));
    m.push_str(&documents_section(p, lang));
    let f = Frame {
        p,
        lang,
        rel: String::new(),
        title: t(lang, "site-title"),
        live: true,
        all: true,
        print: false,
        zone: list_zone(p).to_string(),
    };
    (f.path(), f.page(&m))
}

/// `/{lang}/404.html`: a mistyped or outdated address (a corridor id misheard over the phone,
/// an old printed link) gets a page in the reader's language pointing to the list of corridors,
/// not an English error document. Its links are root-relative: it is served at any depth.
fn not_found_page(p: &Public, lang: Lang) -> (String, String) {
    let m = format!(
        "<h1>{}</h1><p>{}</p><p class=\"big\"><a href=\"/{l}/\">{}</a></p>",
        esc(&t(lang, "not-found-title")),
        esc(&t(lang, "not-found-text")),
        esc(&t(lang, "not-found-link")),
        l = crate::model::code(lang),
    );
    let f = Frame {
        p,
        lang,
        rel: html::NOT_FOUND.to_string(),
        title: format!("{} — {}", t(lang, "not-found-title"), t(lang, "site-title")),
        live: false,
        all: false,
        print: false,
        zone: list_zone(p).to_string(),
    };
    (f.path(), f.page(&m))
}

/// A definition list entry, skipped when there is nothing agreed to show.
fn dd(h: &mut String, lang: Lang, label: &str, value: Option<&str>) {
    if let Some(v) = value {
        let _ = write!(h, "<dt>{}</dt><dd>{}</dd>", esc(&t(lang, label)), esc(v));
    }
}

/// The route facts, from the agreed terms only.
fn route_facts(c: &PublicCorridor, lang: Lang) -> String {
    let terms = &c.terms().terms;
    let place = |s: Option<&corridor_core::agreement::Settlement>, id: &str| {
        s.map(|s| name(&s.names, lang).to_string())
            .unwrap_or(id.to_string())
    };
    let mut h = String::from("<dl>");
    dd(
        &mut h,
        lang,
        "origin",
        Some(&place(c.origin, &terms.origin)),
    );
    dd(
        &mut h,
        lang,
        "destination",
        Some(&place(c.destination, &terms.destination)),
    );
    dd(
        &mut h,
        lang,
        "reception",
        terms.reception.as_ref().map(|n| name(n, lang)),
    );
    dd(
        &mut h,
        lang,
        "who-may-leave",
        terms.who_may_leave.as_ref().map(|n| name(n, lang)),
    );
    let purpose = match terms.purpose {
        Purpose::Evacuation => "purpose-evacuation",
        Purpose::Aid => "purpose-aid",
        Purpose::Both => "purpose-both",
    };
    dd(&mut h, lang, "purpose", Some(&t(lang, purpose)));
    if let Some(aid) = terms.aid_may_enter {
        dd(
            &mut h,
            lang,
            "aid-may-enter",
            Some(&t(lang, if aid { "yes" } else { "no" })),
        );
    }
    let buffer = terms.buffer_m.to_string();
    dd(
        &mut h,
        lang,
        "buffer",
        Some(&t_args(lang, "buffer-m", &[("m", Arg::Str(&buffer))])),
    );
    h.push_str("</dl>");
    h
}

/// The instructions the parties signed, in this language; a plain statement when none were.
fn instructions(c: &PublicCorridor, lang: Lang) -> String {
    let mut h = format!("<h2>{}</h2>", esc(&t(lang, "h-instructions")));
    match &c.terms().terms.instructions {
        Some(i) => {
            h.push_str("<dl>");
            dd(&mut h, lang, "bring", Some(name(&i.bring, lang)));
            dd(&mut h, lang, "gather", Some(name(&i.gather, lang)));
            dd(
                &mut h,
                lang,
                "if-suspended",
                Some(name(&i.if_suspended, lang)),
            );
            h.push_str("</dl>");
        }
        None => {
            let _ = write!(h, "<p>{}</p>", esc(&t(lang, "no-instructions")));
        }
    }
    h
}

/// Checkpoints with coordinates (readable on a GPS without the map), numbered as on the map.
fn checkpoints(c: &PublicCorridor, lang: Lang) -> String {
    let cps = &c.terms().terms.checkpoints;
    let mut h = format!("<h2>{}</h2>", esc(&t(lang, "h-checkpoints")));
    if cps.is_empty() {
        let _ = write!(h, "<p>{}</p>", esc(&t(lang, "no-checkpoints")));
        return h;
    }
    h.push_str("<ol>");
    for cp in cps {
        let _ = write!(
            h,
            "<li>{} <small>({:.4}, {:.4})</small></li>",
            esc(name(&cp.names, lang)),
            cp.location.lat_e7 as f64 / 1e7,
            cp.location.lon_e7 as f64 / 1e7
        );
    }
    h.push_str("</ol>");
    h
}

/// The window in every zone that matters (the origin's, each party's) and UTC.
fn times_table(
    p: &Public,
    c: &PublicCorridor,
    w: &PublicWindow,
    lang: Lang,
    caption: bool,
) -> String {
    let mut h = String::from("<table>");
    if caption {
        let _ = write!(
            h,
            "<caption class=\"big\">{}</caption>",
            esc(&when::span(lang, w.start, w.end, origin_zone(p, c)))
        );
    }
    let _ = write!(
        h,
        "<tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(&t(lang, "th-zone")),
        esc(&t(lang, "th-from")),
        esc(&t(lang, "th-to"))
    );
    let mut zones = p.zones(c);
    zones.push("UTC".into());
    for zone in zones {
        let (s, z) = when::local(w.start, &zone);
        let (e, _) = when::local(w.end, &zone);
        let mut who_here: Vec<String> = Vec::new();
        if let Some(o) = c.origin.filter(|o| o.zone == zone) {
            who_here.push(name(&o.names, lang).to_string());
        }
        for party in p.input.genesis.parties.iter().filter(|x| x.zone == zone) {
            who_here.push(name(&party.names, lang).to_string());
        }
        let mut end = when::plain(lang, &e);
        if e.offset() != s.offset() {
            end = format!("{end} ({})", when::offset(&e));
        }
        let _ = write!(
            h,
            "<tr><th>{}{}</th><td>{}</td><td>{}</td></tr>",
            esc(&when::header(lang, z, &s)),
            if who_here.is_empty() {
                String::new()
            } else {
                format!("<br><small>{}</small>", esc(&who_here.join(", ")))
            },
            esc(&when::plain(lang, &s)),
            esc(&end)
        );
    }
    h.push_str("</table>");
    h
}

/// `/{lang}/corridors/{id}/`: everything a civilian needs about one corridor. Every page is a
/// folder's index (`…/{id}/`, `…/{id}/print/`), so its relative links resolve the same on this
/// server and on any plain static host, which answers `…/{id}` by redirecting to `…/{id}/`.
fn corridor_page(p: &Public, c: &PublicCorridor, lang: Lang) -> (String, String) {
    let w = c.current();
    let id = &c.corridor.id;
    let zone = origin_zone(p, c);
    let title = name(&c.terms().terms.names, lang);
    let mut m = String::new();
    let _ = write!(
        m,
        "<p><a href=\"../../\">← {}</a></p><h1>{}</h1>\
<p id=\"status\" class=\"st {s}\" data-corridor=\"{ida}\" data-status=\"{s}\">{}</p>{}",
        esc(&t(lang, "back")),
        esc(title),
        esc(&sentence(lang, w, zone)),
        reason(p, w, lang),
        s = w.status.as_str(),
        ida = esc(id),
    );
    if let (PublicStatus::Suspended { .. }, Some(i)) = (&w.status, &c.terms().terms.instructions) {
        let _ = write!(
            m,
            "<p class=\"alert\"><b>{}</b><br>{}</p>",
            esc(&t(lang, "if-suspended")),
            esc(name(&i.if_suspended, lang))
        );
    }
    let _ = write!(
        m,
        "<h2>{}</h2><p class=\"big\">{}</p>{}<h2>{}</h2>{}",
        esc(&t(lang, "h-window")),
        esc(&when::span(lang, w.start, w.end, zone)),
        times_table(p, c, w, lang, false),
        esc(&t(lang, "h-route")),
        route_facts(c, lang),
    );
    m.push_str(&instructions(c, lang));
    m.push_str(&checkpoints(c, lang));
    let _ = write!(
        m,
        "<h2>{}</h2>{}<p class=\"legend\"><small>{}</small></p>",
        esc(&t(lang, "h-map")),
        crate::map::svg(p, c, lang),
        esc(&t(lang, "map-legend"))
    );
    let others: Vec<&PublicWindow> = c
        .windows
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != c.headline)
        .map(|(_, w)| w)
        .collect();
    if !others.is_empty() {
        let _ = write!(m, "<h2>{}</h2><ul>", esc(&t(lang, "h-other-windows")));
        for o in others {
            let _ = write!(
                m,
                "<li>{} — <b>{}</b></li>",
                esc(&when::span(lang, o.start, o.end, zone)),
                esc(&badge(lang, &o.status))
            );
        }
        m.push_str("</ul>");
    }
    let decls: Vec<&Declaration> = p
        .declarations
        .iter()
        .copied()
        .filter(|d| d.corridor.as_deref() == Some(id.as_str()))
        .collect();
    m.push_str(&statements(p, lang, &decls));
    let _ = write!(
        m,
        "<p class=\"noprint\"><a href=\"print/\">{}</a> · <a href=\"sms.txt\">{}</a></p>",
        esc(&t(lang, "print-link")),
        esc(&t(lang, "sms-link")),
    );
    let f = Frame {
        p,
        lang,
        rel: format!("corridors/{}/", seg(id)),
        title: format!("{title} — {}", t(lang, "site-title")),
        live: true,
        all: false,
        print: false,
        zone: zone.to_string(),
    };
    (
        format!("/{}/corridors/{id}/", crate::model::code(lang)),
        f.page(&m),
    )
}

/// A QR code as inline SVG, so the printed page leads back to the live one.
fn qr(url: &str) -> String {
    use qrcode::render::svg;
    let Ok(code) = qrcode::QrCode::with_error_correction_level(url, qrcode::EcLevel::M) else {
        return String::new();
    };
    let img = code
        .render::<svg::Color>()
        .module_dimensions(1, 1)
        .quiet_zone(true)
        .build();
    // Inline SVG needs neither the XML declaration nor fixed pixel sizes.
    let img = img.get(img.find("<svg").unwrap_or(0)..).unwrap_or(&img);
    img.replacen(
        "<svg ",
        &format!(
            "<svg class=\"qr\" role=\"img\" aria-label=\"QR: {}\" ",
            esc(url)
        ),
        1,
    )
}

/// `/{lang}/corridors/{id}/print/`: one A4 sheet for notice boards: the status when printed
/// (with a warning that it may have changed since, and a QR code to the live page), the times
/// in words in every zone, the route, the instructions, and the map with its legend.
fn print_page(p: &Public, c: &PublicCorridor, lang: Lang) -> (String, String) {
    let id = &c.corridor.id;
    let l = crate::model::code(lang);
    let title = name(&c.terms().terms.names, lang);
    let url = format!("{}/{l}/corridors/{}", p.input.base_url, seg(id));
    let mut m = String::new();
    let _ = write!(
        m,
        "<p class=\"noprint\"><a href=\"../\">← {}</a></p>{}<h1>{}</h1><p>{}<br><small>{}</small></p>",
        esc(&t(lang, "print-back")),
        // A QR code needs an absolute address; without a base URL there is none to give.
        if p.input.base_url.is_empty() {
            String::new()
        } else {
            qr(&url)
        },
        esc(title),
        esc(&t(lang, "print-scan")),
        esc(&url),
    );
    // The status when printed, in words (the note at the end says it may have changed).
    let w = c.current();
    let _ = write!(
        m,
        "<p class=\"st {s}\">{}</p>",
        esc(&sentence(lang, w, origin_zone(p, c))),
        s = w.status.as_str()
    );
    // Windows that can still be used (the headline one even if it is over, so the sheet is
    // never empty), each in every zone that matters.
    let _ = write!(m, "<h2>{}</h2>", esc(&t(lang, "h-windows")));
    for (i, w) in c.windows.iter().enumerate() {
        let usable = !matches!(
            w.status,
            PublicStatus::Closed | PublicStatus::Cancelled { .. }
        );
        if usable || i == c.headline {
            m.push_str(&times_table(p, c, w, lang, true));
        }
    }
    let _ = write!(
        m,
        "<h2>{}</h2>{}",
        esc(&t(lang, "h-route")),
        route_facts(c, lang)
    );
    m.push_str(&instructions(c, lang));
    m.push_str(&checkpoints(c, lang));
    let _ = write!(
        m,
        "{}<p class=\"legend\"><small>{}</small></p><p><b>{}</b></p>",
        crate::map::svg(p, c, lang),
        esc(&t(lang, "map-legend")),
        esc(&t(lang, "print-note"))
    );
    let f = Frame {
        p,
        lang,
        rel: format!("corridors/{}/print/", seg(id)),
        title: format!("{title} — {}", t(lang, "site-title")),
        live: false,
        all: false,
        print: true,
        zone: origin_zone(p, c).to_string(),
    };
    (format!("/{l}/corridors/{id}/print/"), f.page(&m))
}
