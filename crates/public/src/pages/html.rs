//! The few HTML helpers the pages need: escaping (every signed text and every message goes
//! through [`esc`], since names, reasons and declarations come from the parties and could
//! contain markup), path segments, and the frame every page shares (language switch, exercise
//! banner, "as of" and checkpoint footer, live-update script).

use std::borrow::Cow;
use std::fmt::Write;

use crate::i18n::{Arg, t, t_args};
use crate::model::{LANGS, Lang, Public, code};

/// Escape text for HTML content and quoted attribute values.
pub(crate) fn esc(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Percent-encode one URL path segment (ids are slugs in practice; this keeps a link correct
/// even if one is not).
pub(crate) fn seg(s: &str) -> Cow<'_, str> {
    let safe = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    if s.bytes().all(safe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::new();
    for b in s.bytes() {
        if safe(b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Cow::Owned(out)
}

/// One small stylesheet for every page: system fonts, high contrast, readable on a narrow
/// phone first, nothing fetched.
const CSS: &str = "body{font:1.05rem/1.45 system-ui,sans-serif;margin:0 auto;max-width:46rem;\
padding:.5rem 1rem;color:#000;background:#fff}a{color:#0033a0}h1{font-size:1.6rem;margin:.6rem 0}\
h2{font-size:1.2rem;margin:1.4rem 0 .4rem;border-bottom:2px solid #000}\
.langs{display:flex;gap:1rem;flex-wrap:wrap;padding:.3rem 0;border-bottom:1px solid #000}\
.ex{background:#ff0;border:3px solid #000;padding:.4rem;font-weight:700}\
.st{font-size:1.25rem;font-weight:700;padding:.4rem .6rem;border-left:.5rem solid;margin:.4rem 0}\
.open{background:#dff3df;border-color:#060}.suspended,.cancelled{background:#fde2e2;border-color:#a00}\
.upcoming,.pending{background:#fff1c7;border-color:#8a5a00}.closed{background:#eee;border-color:#444}\
.alert{border:3px solid #a00;padding:.5rem}.big{font-size:1.2rem;font-weight:700}\
ul.list{padding:0;list-style:none}ul.list li{margin:0 0 1rem}\
table{border-collapse:collapse;width:100%;margin:.5rem 0}caption{text-align:left}th,td{border:1px solid #000;padding:.3rem;text-align:left;\
vertical-align:top}dt{font-weight:700;margin-top:.5rem}dd{margin:0 0 0 1rem}\
.decl{border:3px dashed #000;padding:0 .7rem .5rem;margin-top:1.5rem}\
footer{font-size:.85rem;border-top:1px solid #000;margin-top:2rem;overflow-wrap:anywhere}\
svg{max-width:100%;height:auto}small{font-size:.85rem}";

/// Extra rules for the printable page: one A4 sheet (checked by printing to PDF in Chromium),
/// compact type, no navigation, and no label parted from its value or table cut in two.
const PRINT_CSS: &str = "@page{size:A4;margin:9mm 10mm}@media print{.langs,.noprint{display:none}\
body{max-width:none;font-size:9pt;line-height:1.25;padding:0}h1{font-size:15pt;margin:0 0 2mm}\
h2{font-size:10.5pt;margin:1.5mm 0 .6mm}table{margin:1mm 0}th,td{padding:.4mm 1.2mm}\
caption{font-size:10pt}dl{display:grid;grid-template-columns:max-content 1fr;gap:.4mm 3mm;margin:0}\
dt,dd{margin:0}dt{break-after:avoid}dd{break-before:avoid}\
table,svg,li,.st,.legend{break-inside:avoid}svg.map{display:block;max-height:50mm;width:auto;\
margin:0 auto}.st{font-size:11pt;padding:1mm 2mm;margin:1mm 0}.ex{padding:1mm;margin:0 0 1mm}\
footer{margin-top:2mm;font-size:7.5pt}footer p+p{display:none}}\
.qr{width:32mm;height:32mm;float:right;margin:0 0 .3rem 1rem}";

/// Reload the page when the status of a corridor it shows changes: server-sent events from
/// `/events`, else polling `status.json` every 30 s. The page is complete without it.
const SCRIPT: &str = "(function(){var b=document.body,r=b.getAttribute('data-root'),\
all=b.hasAttribute('data-all'),t;function check(d){var c=d&&d.corridors,m={},e,i;if(!c)return;\
for(i=0;i<c.length;i++)m[c[i].id]=c[i].status;e=document.querySelectorAll('[data-corridor]');\
for(i=0;i<e.length;i++)if(m[e[i].getAttribute('data-corridor')]!==e[i].getAttribute('data-status'))\
return location.reload();if(all&&c.length!==e.length)location.reload()}\
function poll(){if(t)return;t=setInterval(function(){var x=new XMLHttpRequest();\
x.open('GET',r+'status.json');x.onload=function(){try{check(JSON.parse(x.responseText))}catch(_){}};\
x.send()},30000)}if(window.EventSource){var s=new EventSource(r+'events'),h=function(e){\
try{check(JSON.parse(e.data))}catch(_){}};s.onmessage=h;s.addEventListener('status',h);\
s.onerror=function(){s.close();poll()}}else poll()})();";

/// The not-found page's name in each language's folder (`/uk/404.html`): the name static hosts
/// look for, and what the server sends for an unknown `/{lang}/...` address.
pub(crate) const NOT_FOUND: &str = "404.html";

/// Which page of a language is being framed.
pub(crate) struct Frame<'a> {
    /// The view being rendered.
    pub p: &'a Public<'a>,
    /// The page's language.
    pub lang: Lang,
    /// The path below the language folder: "" (the list), "corridors/{id}/", ...
    pub rel: String,
    /// The `<title>`.
    pub title: String,
    /// Whether the page carries the live-update script.
    pub live: bool,
    /// Whether the page lists every corridor (reload when one appears or goes).
    pub all: bool,
    /// Whether this is the printable page.
    pub print: bool,
    /// The zone "as of" is shown in: the one the page's times are in (the origin's), so a page
    /// read at 09:00 in Kyiv does not look two hours stale.
    pub zone: String,
}

impl Frame<'_> {
    /// The site path of this page.
    pub fn path(&self) -> String {
        format!("/{}/{}", code(self.lang), self.rel)
    }

    /// The way from this page up to the site root: relative ("../", "../../", ...), or "/" for
    /// the not-found page, which is served at whatever address was mistyped.
    pub fn root(&self) -> String {
        if self.rel == NOT_FOUND {
            return "/".into();
        }
        let depth = self.path().matches('/').count() - 1;
        "../".repeat(depth)
    }

    /// The full document around `main`.
    pub fn page(&self, main: &str) -> String {
        let (p, lang, root) = (self.p, self.lang, self.root());
        let mut h = String::with_capacity(main.len() + 4096);
        let _ = write!(
            h,
            "<!doctype html>\n<html lang=\"{l}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{title}</title>",
            l = code(lang),
            title = esc(&self.title),
        );
        for other in LANGS.into_iter().filter(|&o| o != lang) {
            let _ = write!(
                h,
                "<link rel=\"alternate\" hreflang=\"{c}\" href=\"{root}{c}/{rel}\">",
                c = code(other),
                rel = if self.rel == NOT_FOUND { "" } else { &self.rel },
            );
        }
        let _ = write!(
            h,
            "<link rel=\"alternate\" type=\"application/atom+xml\" href=\"{root}feeds/atom.xml\">\
<style>{CSS}{print}</style></head><body data-root=\"{root}\"{all}>",
            print = if self.print { PRINT_CSS } else { "" },
            all = if self.all { " data-all" } else { "" },
        );
        // The language switch: at the top, each language named in itself.
        let _ = write!(
            h,
            "<nav class=\"langs\" aria-label=\"{}\">",
            esc(&t(lang, "switch-label"))
        );
        for l in LANGS {
            if l == lang {
                let _ = write!(
                    h,
                    "<strong lang=\"{c}\">{n}</strong>",
                    c = code(l),
                    n = esc(&t(l, "lang-name"))
                );
            } else {
                let _ = write!(
                    h,
                    "<a href=\"{root}{c}/{rel}\" hreflang=\"{c}\" lang=\"{c}\">{n}</a>",
                    c = code(l),
                    rel = if self.rel == NOT_FOUND { "" } else { &self.rel },
                    n = esc(&t(l, "lang-name"))
                );
            }
        }
        h.push_str("</nav>");
        if p.input.genesis.exercise {
            let _ = write!(
                h,
                "<p class=\"ex\" role=\"alert\">{}</p>",
                esc(&t(lang, "exercise-banner"))
            );
        }
        h.push_str("<main>");
        h.push_str(main);
        h.push_str("</main><footer><p>");
        let as_of = super::when::at(lang, p.input.at, &self.zone);
        h.push_str(&esc(&t_args(lang, "as-of", &[("when", Arg::Str(&as_of))])));
        h.push_str("<br>");
        let size = p.input.checkpoint.size.to_string();
        h.push_str(&esc(&t_args(
            lang,
            "footer-checkpoint",
            &[
                ("size", Arg::Str(&size)),
                ("root", Arg::Str(&p.input.checkpoint.root)),
            ],
        )));
        if let Some(w) = &p.input.checkpoint.witnessed {
            let (size, by) = (w.size.to_string(), w.by.join(", "));
            let (met, of) = (w.by.len().to_string(), w.of.to_string());
            let key = if w.by.len() >= w.quorum as usize {
                "footer-witnessed"
            } else {
                "footer-not-witnessed"
            };
            h.push_str("<br>");
            h.push_str(&esc(&t_args(
                lang,
                key,
                &[
                    ("size", Arg::Str(&size)),
                    ("root", Arg::Str(&w.root)),
                    ("by", Arg::Str(&by)),
                    ("count", Arg::Str(&met)),
                    ("of", Arg::Str(&of)),
                ],
            )));
        }
        let _ = write!(
            h,
            "</p><p><a href=\"{root}status.json\">{}</a> · <a href=\"{root}feeds/cap.xml\">{}</a> · \
<a href=\"{root}feeds/atom.xml\">{}</a></p></footer>",
            esc(&t(lang, "link-status")),
            esc(&t(lang, "link-cap")),
            esc(&t(lang, "link-atom")),
        );
        if self.live {
            let _ = write!(h, "<script>{SCRIPT}</script>");
        }
        h.push_str("</body></html>\n");
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert!(matches!(esc("Бородянка"), Cow::Borrowed(_)));
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(seg("borodianka-berestianka"), "borodianka-berestianka");
        assert_eq!(seg("a b/ä"), "a%20b%2F%C3%A4");
    }
}
