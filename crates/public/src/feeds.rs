//! Feeds for other systems: OASIS CAP 1.2 alerts and Atom.

use crate::Site;
use crate::model::Public;

/// Add the feeds to `site`.
pub fn render(_p: &Public, _site: &mut Site) {}
