//! A party's unilateral declaration, published apart so it never reads as agreed.

use super::{Agreements, Changed, Ctx, Declaration, DeclarationPublish, names_ok};
use crate::Rejection;
use crate::state::ProjectionKind;
use crate::time::parse_utc;

impl Agreements {
    /// A party's unilateral statement, kept apart from agreed windows.
    pub(super) fn publish_declaration(
        &mut self,
        ctx: &Ctx,
        b: &DeclarationPublish,
    ) -> Result<Changed, Rejection> {
        // The role gate admits party admins and coordinators only, and both belong to a party.
        let Some(party) = ctx.party else {
            return Err(ctx.deny("publish a party declaration"));
        };
        if self.declarations.contains_key(&b.declaration) {
            return Err(Rejection::rule(
                "declaration-exists",
                format!("declaration {:?} exists", b.declaration),
            ));
        }
        if let Some(c) = &b.corridor {
            self.corridor(c)?;
        }
        let start = parse_utc("start", &b.start)?;
        if let Some(e) = &b.end
            && parse_utc("end", e)? <= start
        {
            return Err(Rejection::rule(
                "end-before-start",
                "the declaration must end after it starts",
            ));
        }
        names_ok("text", &b.text)?;
        self.declarations.insert(
            b.declaration.clone(),
            Declaration {
                id: b.declaration.clone(),
                party: party.into(),
                actor: ctx.actor.into(),
                corridor: b.corridor.clone(),
                start: b.start.clone(),
                end: b.end.clone(),
                text: b.text.clone(),
                at_index: ctx.index,
            },
        );
        Ok(vec![(ProjectionKind::Declaration, b.declaration.clone())])
    }
}
