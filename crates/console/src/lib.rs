//! The coordinator console: the pages and scripts `corridor serve` serves under `/console/`.
//!
//! Why a crate of its own: the console is a browser program (HTML, CSS and ES modules in
//! `assets/`, no build step, no third-party code), and what the server needs of it is only
//! "the bytes at this path". Keeping the files here, compiled into the binary with
//! `include_bytes!`, means one `corridor` binary still carries everything, no Node at run time,
//! and the scripts' sources are exactly what is served.
//!
//! The page signs commands and reads in the browser with a key that never leaves the device
//! (WebCrypto, non-extractable), over the same bytes the Rust core signs: `vectors.json` holds
//! those bytes, generated from the core by `tests/vectors.rs` and checked against the scripts in
//! Node (`tests/vectors.mjs`) and in Chromium (`tools/browser/console.mjs`).

/// One file of the console.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// Its path under `/console/` (`index.html`, `js/app.js`, ...).
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

macro_rules! assets {
    ($($path:literal => $ty:literal),* $(,)?) => {
        /// Every file of the console.
        pub const ASSETS: &[Asset] = &[
            $(Asset {
                path: $path,
                content_type: $ty,
                bytes: include_bytes!(concat!("../assets/", $path)),
            }),*
        ];
    };
}

assets! {
    "index.html" => "text/html; charset=utf-8",
    "console.css" => "text/css; charset=utf-8",
    "js/app.js" => "text/javascript; charset=utf-8",
    "js/crypto.js" => "text/javascript; charset=utf-8",
    "js/i18n.js" => "text/javascript; charset=utf-8",
    "js/ids.js" => "text/javascript; charset=utf-8",
    "js/jcs.js" => "text/javascript; charset=utf-8",
    "js/log.js" => "text/javascript; charset=utf-8",
    "js/map.js" => "text/javascript; charset=utf-8",
    "js/selftest.js" => "text/javascript; charset=utf-8",
    "js/store.js" => "text/javascript; charset=utf-8",
}

/// The console file at `path` (relative to `/console/`; empty means the page itself).
pub fn asset(path: &str) -> Option<&'static Asset> {
    let path = if path.is_empty() { "index.html" } else { path };
    ASSETS.iter().find(|a| a.path == path)
}

/// The `Content-Security-Policy` of every console reply: the page runs its own scripts only,
/// talks to its own server only, and cannot be framed. A key that signs for a party is worth an
/// injected script; this is the second wall after escaping everything the page shows.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; \
     base-uri 'none'";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_found_by_its_path_and_the_page_is_the_default() {
        for a in ASSETS {
            assert!(!a.bytes.is_empty(), "{} is empty", a.path);
            assert_eq!(asset(a.path).unwrap().path, a.path);
        }
        assert_eq!(asset("").unwrap().path, "index.html");
        assert!(asset("../Cargo.toml").is_none());
        assert!(asset("js/nothing.js").is_none());
    }

    #[test]
    fn the_page_loads_only_its_own_scripts() {
        let page = std::str::from_utf8(asset("index.html").unwrap().bytes).unwrap();
        assert!(page.contains(r#"src="js/app.js""#));
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "no external resources"
        );
    }
}
