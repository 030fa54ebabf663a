//! The public pages and the console in real headless browsers: `tools/browser/public.mjs` and
//! `console.mjs` in Debian's chromium (playwright-core), `console-firefox.mjs` in Debian's
//! firefox-esr (puppeteer-core over WebDriver BiDi), each against a `corridor demo` it starts
//! itself. Screenshots go to `target/browser-artifacts/`.
//!
//! Skips with a message when node, a browser or the npm packages are missing (`scripts/test.sh`
//! installs the packages; `.ci/run` installs the browsers); under `CI=true` it fails instead.

use std::path::Path;
use std::process::Command;

fn missing(what: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true and {what}: the browser tests cannot run");
    }
    eprintln!("skipping the browser tests: {what}");
}

/// A browser a script drives: the environment variable that may name it, its default path, its
/// Debian package, and the npm package that drives it.
struct Browser {
    env: &'static str,
    path: &'static str,
    package: &'static str,
    driver: &'static str,
}

const CHROMIUM: Browser = Browser {
    env: "CHROMIUM",
    path: "/usr/bin/chromium",
    package: "chromium",
    driver: "playwright-core",
};

const FIREFOX: Browser = Browser {
    env: "FIREFOX",
    path: "/usr/bin/firefox-esr",
    package: "firefox-esr",
    driver: "puppeteer-core",
};

/// Runs one of the browser scripts in `tools/browser` against this build's `corridor`, and
/// requires its final line to count `checks` checks.
fn run_browser_script(script: &str, browser: Browser, summary: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("tools/browser").join(script);
    let exe = std::env::var(browser.env).unwrap_or_else(|_| browser.path.into());
    if !Path::new(&exe).exists() {
        return missing(&format!(
            "{exe} is not installed (apt-get install {})",
            browser.package
        ));
    }
    if !root
        .join("tools/browser/node_modules")
        .join(browser.driver)
        .exists()
    {
        return missing(&format!(
            "tools/browser/node_modules/{} is missing (npm ci --prefix tools/browser)",
            browser.driver
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return missing("node is not installed");
    }
    let out = Command::new("node")
        .arg(&script)
        .arg(root.join("target/browser-artifacts"))
        .env("CORRIDOR_BIN", env!("CARGO_BIN_EXE_corridor"))
        .env(browser.env, &exe)
        .env("CORRIDOR_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser checks failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(summary), "{stdout}\n{stderr}");
}

#[test]
fn public_pages_in_headless_chromium() {
    run_browser_script("public.mjs", CHROMIUM, "browser: 7 checks passed");
}

/// The coordinator console (#17): keys made and imported in the page, registration, consent,
/// an incident, the offline queue, the bad inputs and the core's signing vectors, in Chromium.
#[test]
fn the_console_in_headless_chromium() {
    run_browser_script("console.mjs", CHROMIUM, "console: 18 checks passed");
}

/// The console in Firefox (#17): the core's vectors in Firefox's WebCrypto, a non-extractable
/// key in its IndexedDB, a signed read and an accepted command.
#[test]
fn the_console_in_headless_firefox() {
    run_browser_script(
        "console-firefox.mjs",
        FIREFOX,
        "console in Firefox: 3 checks passed",
    );
}
