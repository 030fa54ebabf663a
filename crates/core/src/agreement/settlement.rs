//! Importing settlements: the named places corridors run between.

use super::{Agreements, Changed, SettlementImport, names_ok};
use crate::Rejection;
use crate::state::ProjectionKind;

impl Agreements {
    /// Settlements named in three languages, each with its zone and location, so that every
    /// later corridor names its ends by id and the public reads the same names on both sides.
    /// Whether each zone exists is asked of the tz database only on acceptance (`recorded`
    /// false): a build whose release predates a zone's name (Europe/Kyiv arrived in 2022b)
    /// must still replay the log.
    pub(super) fn import_settlements(
        &mut self,
        b: &SettlementImport,
        recorded: bool,
    ) -> Result<Changed, Rejection> {
        if b.settlements.is_empty() {
            return Err(Rejection::invalid(
                "settlements",
                "import at least one settlement",
            ));
        }
        for s in &b.settlements {
            names_ok(&format!("settlements[{}].names", s.id), &s.names)?;
            if !recorded {
                crate::localtime::zone(&s.zone)?;
            }
            if s.id.is_empty() || s.id.len() > 64 {
                return Err(Rejection::invalid("settlements.id", "1 to 64 characters"));
            }
            s.location
                .check(&format!("settlements[{}].location", s.id))?;
        }
        let mut changed = Vec::new();
        for s in &b.settlements {
            if self.settlements.get(&s.id) != Some(s) {
                self.settlements.insert(s.id.clone(), s.clone());
                changed.push((ProjectionKind::Settlement, s.id.clone()));
            }
        }
        Ok(changed)
    }
}
