//! The public pages and the console in real headless Chromium: `tools/browser/public.mjs` and
//! `console.mjs` (playwright-core with Debian's chromium), each against a `corridor demo` it
//! starts itself. Screenshots go to
//! `target/browser-artifacts/`.
//!
//! Skips with a message when node, chromium or the npm packages are missing (`scripts/test.sh`
//! installs the packages; `.ci/run` installs chromium); under `CI=true` it fails instead.

use std::path::Path;
use std::process::Command;

fn missing(what: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true and {what}: the browser tests cannot run");
    }
    eprintln!("skipping the browser tests: {what}");
}

/// Runs one of the browser scripts in `tools/browser` against this build's `corridor`, and
/// requires its final line to count `checks` checks.
fn run_browser_script(script: &str, summary: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("tools/browser").join(script);
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return missing(&format!(
            "{chromium} is not installed (apt-get install chromium)"
        ));
    }
    if !root
        .join("tools/browser/node_modules/playwright-core")
        .exists()
    {
        return missing("tools/browser/node_modules is missing (npm ci --prefix tools/browser)");
    }
    if Command::new("node").arg("--version").output().is_err() {
        return missing("node is not installed");
    }
    let out = Command::new("node")
        .arg(&script)
        .arg(root.join("target/browser-artifacts"))
        .env("CORRIDOR_BIN", env!("CARGO_BIN_EXE_corridor"))
        .env("CHROMIUM", &chromium)
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
    run_browser_script("public.mjs", "browser: 7 checks passed");
}

/// The coordinator console (#17): keys made and imported in the page, registration, consent,
/// an incident, the offline queue, the bad inputs and the core's signing vectors, in Chromium.
#[test]
fn the_console_in_headless_chromium() {
    run_browser_script("console.mjs", "console: 18 checks passed");
}
