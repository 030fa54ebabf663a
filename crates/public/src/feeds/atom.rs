//! The Atom feed (RFC 4287) of the CAP alerts.
//!
//! Feed readers, newsrooms and alert hubs poll Atom; the hubs' common practice is an Atom index
//! whose entries point to CAP files. So each entry is one CAP alert: English title and summary
//! for readers that show only those, the three languages in the content, and links to the
//! corridor's pages and to the CAP file (`rel="alternate"` with type `application/cap+xml`, as
//! CAP index feeds do).

use corridor_core::crypto::sha256;

use super::cap::{self, Alert};
use super::text::{atom_time, page_url};
use super::xml::Xml;
use crate::i18n::{Arg, t, t_args};
use crate::model::{LANGS, Lang, Public, code, name};

/// A `urn:uuid:` (RFC 9562 version 8, from SHA-256) for a name. Atom ids must never change and
/// never be reused; deriving them from the CAP identifier (which includes the log's origin)
/// gives both, and unlike an `http` URL they survive a move of the site to another address.
pub fn urn_uuid(name: &str) -> String {
    let mut b = sha256(&[b"corridor atom id\n", name.as_bytes()]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b[..16].iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn title(p: &Public, lang: Lang) -> String {
    let title = t(lang, "feed-atom-title");
    if p.input.genesis.exercise {
        t_args(
            lang,
            "feed-exercise-headline",
            &[("headline", Arg::Str(&title))],
        )
    } else {
        title
    }
}

/// The feed: every alert in `alerts` (oldest first, as [`cap::history`] returns them), newest
/// entry first. `updated` is the newest alert's time, or the site's instant when there is none.
pub fn xml(p: &Public, alerts: &[Alert]) -> String {
    let base = p.input.base_url;
    let mut x = Xml::new();
    x.open(
        "feed",
        &[("xmlns", "http://www.w3.org/2005/Atom"), ("xml:lang", "en")],
    );
    x.text("id", &[], &urn_uuid(&p.input.genesis.origin));
    x.text("title", &[], &title(p, Lang::En));
    if p.input.genesis.exercise {
        x.text("subtitle", &[], &t(Lang::En, "exercise-banner"));
    }
    let updated = alerts.last().map_or(p.input.at, |a| a.sent);
    x.text("updated", &[], &atom_time(updated));
    x.open("author", &[]);
    x.text(
        "name",
        &[],
        name(&p.input.genesis.intermediary.names, Lang::En),
    );
    x.close();
    x.empty(
        "link",
        &[
            ("rel", "self"),
            ("type", super::ATOM),
            ("href", &format!("{base}/feeds/atom.xml")),
        ],
    );
    for lang in LANGS {
        x.empty(
            "link",
            &[
                ("rel", "alternate"),
                ("type", "text/html"),
                ("hreflang", code(lang)),
                ("href", &format!("{base}/{}/", code(lang))),
            ],
        );
    }
    for a in alerts.iter().rev() {
        entry(&mut x, p, a);
    }
    x.close();
    x.finish()
}

fn entry(x: &mut Xml, p: &Public, a: &Alert) {
    x.open("entry", &[]);
    x.text("id", &[], &urn_uuid(&a.identifier));
    x.text("title", &[], &cap::headline(p, a, Lang::En));
    x.text("updated", &[], &atom_time(a.sent));
    for lang in LANGS {
        x.empty(
            "link",
            &[
                ("rel", "alternate"),
                ("type", "text/html"),
                ("hreflang", code(lang)),
                ("href", &page_url(p, lang, &a.corridor.id)),
            ],
        );
    }
    x.empty(
        "link",
        &[
            ("rel", "alternate"),
            ("type", super::CAP),
            ("href", &format!("{}{}", p.input.base_url, cap::path(a))),
        ],
    );
    x.empty(
        "category",
        &[
            ("term", a.msg_type.as_str()),
            ("scheme", "urn:oasis:names:tc:emergency:cap:1.2#msgType"),
        ],
    );
    x.text("summary", &[], &cap::description(p, a, Lang::En));
    x.open("content", &[("type", "xhtml")]);
    x.open("div", &[("xmlns", "http://www.w3.org/1999/xhtml")]);
    for lang in LANGS {
        x.open("div", &[("lang", code(lang)), ("xml:lang", code(lang))]);
        x.text("h2", &[], &cap::headline(p, a, lang));
        let text = [
            Some(cap::description(p, a, lang)),
            cap::instruction(a, lang),
        ];
        for line in text.iter().flatten().flat_map(|s| s.lines()) {
            x.text("p", &[], line);
        }
        x.open("p", &[]);
        x.text(
            "a",
            &[("href", &page_url(p, lang, &a.corridor.id))],
            &t(lang, "feed-page-link"),
        );
        x.close();
        x.close();
    }
    x.close();
    x.close();
    x.close();
}
