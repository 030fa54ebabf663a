//! Feeds for other systems: OASIS CAP 1.2 alerts, an Atom feed of those alerts, and GeoJSON.
//!
//! Alert hubs, broadcasters and relief agencies' own systems do not read our pages; they poll
//! standard feeds. Every feed is, like the pages, a pure function of [`Public`]: the alert
//! history is worked out from the window records and the instant, never stored, so a replay of
//! the log at the same instant publishes exactly the same alerts with the same identifiers.
//!
//! Files:
//! - `/feeds/cap/{window}.{event}.xml`: every CAP alert on its own ([`cap::path`]);
//! - `/feeds/cap.xml`: the newest CAP alert (absent while there is none);
//! - `/feeds/atom.xml`: one entry per CAP alert, newest first, linking to the alert and the page;
//! - `/feeds/corridors.geojson`: public corridors, their routes and buffers.

pub mod atom;
pub mod buffer;
pub mod cap;
pub mod geojson;
mod text;
mod xml;

pub use buffer::buffer_polygon;

use crate::Site;
use crate::model::Public;

/// `Content-Type` of a CAP alert (RFC 6838 registration in the CAP 1.2 standard's appendix).
pub const CAP: &str = "application/cap+xml";
/// `Content-Type` of an Atom feed (RFC 4287).
pub const ATOM: &str = "application/atom+xml";
/// `Content-Type` of GeoJSON (RFC 7946).
pub const GEOJSON: &str = "application/geo+json";

/// Add the feeds to `site`. The alert history is computed once and shared by the CAP files and
/// the Atom feed, so an entry can never link to an alert file that was not written.
pub fn render(p: &Public, site: &mut Site) {
    let alerts = cap::history(p);
    for a in &alerts {
        site.put(cap::path(a), CAP, cap::xml(p, a).into_bytes());
    }
    if let Some(newest) = alerts.last() {
        site.put("/feeds/cap.xml", CAP, cap::xml(p, newest).into_bytes());
    }
    site.put("/feeds/atom.xml", ATOM, atom::xml(p, &alerts).into_bytes());
    site.put("/feeds/corridors.geojson", GEOJSON, geojson::document(p));
}

#[cfg(test)]
mod tests;
