//! Proposing and amending corridors: the route, its buffer and what a civilian must know.

use super::{
    Agreements, BUFFER_RANGE_M, Changed, Corridor, CorridorAmend, CorridorPropose, CorridorTerms,
    CorridorVersion, Ctx, MAX_ROUTE_M, MAX_ROUTE_POINTS, names_ok,
};
use crate::Rejection;
use crate::state::ProjectionKind;

pub(super) fn check_route(route: &[[i64; 2]]) -> Result<(), Rejection> {
    let bad = |why: String| Rejection::rule("invalid-geometry", why);
    if route.len() > MAX_ROUTE_POINTS {
        return Err(bad(format!(
            "a route has at most {MAX_ROUTE_POINTS} points"
        )));
    }
    for (i, p) in route.iter().enumerate() {
        if !(-1_800_000_000..=1_800_000_000).contains(&p[0])
            || !(-900_000_000..=900_000_000).contains(&p[1])
        {
            return Err(bad(format!(
                "point {i} is out of range: longitude within ±180°, latitude within ±90°, in 1e-7 degree"
            )));
        }
    }
    let mut distinct = route.to_vec();
    distinct.dedup();
    if distinct.len() < 2 {
        return Err(bad("a route needs at least two distinct points".into()));
    }
    let length = crate::geo::route_length_m(route);
    if length > MAX_ROUTE_M {
        return Err(bad(format!(
            "the route is {:.0} km long; the limit is {:.0} km",
            length / 1000.0,
            MAX_ROUTE_M / 1000.0
        )));
    }
    Ok(())
}

impl Agreements {
    /// A new corridor at version 1; the terms are checked as any amendment's are.
    pub(super) fn propose_corridor(
        &mut self,
        ctx: &Ctx,
        b: &CorridorPropose,
    ) -> Result<Changed, Rejection> {
        if self.corridors.contains_key(&b.corridor) {
            return Err(Rejection::rule(
                "corridor-exists",
                format!("corridor {:?} exists; amend it", b.corridor),
            ));
        }
        self.check_corridor_terms(&b.terms)?;
        self.corridors.insert(
            b.corridor.clone(),
            Corridor {
                id: b.corridor.clone(),
                versions: vec![CorridorVersion {
                    version: 1,
                    terms: b.terms.clone(),
                    actor: ctx.actor.into(),
                    at_index: ctx.index,
                    at_time: ctx.at(),
                }],
            },
        );
        Ok(vec![(ProjectionKind::Corridor, b.corridor.clone())])
    }

    /// A new version of a corridor's terms, only on top of the latest (a stale base is refused,
    /// so nobody amends a version they have not read).
    pub(super) fn amend_corridor(
        &mut self,
        ctx: &Ctx,
        b: &CorridorAmend,
    ) -> Result<Changed, Rejection> {
        let latest = self.corridor(&b.corridor)?.latest().version;
        if b.base_version != latest {
            return Err(Rejection::rule(
                "stale-version",
                format!(
                    "corridor {} is at version {latest}, not {}",
                    b.corridor, b.base_version
                ),
            ));
        }
        self.check_corridor_terms(&b.terms)?;
        let c = self.corridors.get_mut(&b.corridor).expect("checked");
        c.versions.push(CorridorVersion {
            version: latest + 1,
            terms: b.terms.clone(),
            actor: ctx.actor.into(),
            at_index: ctx.index,
            at_time: ctx.at(),
        });
        Ok(vec![(ProjectionKind::Corridor, b.corridor.clone())])
    }

    fn check_corridor_terms(&self, t: &CorridorTerms) -> Result<(), Rejection> {
        names_ok("terms.names", &t.names)?;
        check_route(&t.route)?;
        if !(BUFFER_RANGE_M.0..=BUFFER_RANGE_M.1).contains(&t.buffer_m) {
            return Err(Rejection::rule(
                "buffer-out-of-range",
                format!(
                    "buffer_m must be {} to {} metres",
                    BUFFER_RANGE_M.0, BUFFER_RANGE_M.1
                ),
            ));
        }
        self.settlement(&t.origin)?;
        self.settlement(&t.destination)?;
        if t.origin == t.destination {
            return Err(Rejection::invalid(
                "terms.destination",
                "must differ from the origin",
            ));
        }
        for (i, c) in t.checkpoints.iter().enumerate() {
            names_ok(&format!("terms.checkpoints[{i}].names"), &c.names)?;
        }
        if let Some(n) = &t.who_may_leave {
            names_ok("terms.who_may_leave", n)?;
        }
        if let Some(n) = &t.reception {
            names_ok("terms.reception", n)?;
        }
        if let Some(i) = &t.instructions {
            names_ok("terms.instructions.bring", &i.bring)?;
            names_ok("terms.instructions.gather", &i.gather)?;
            names_ok("terms.instructions.if_suspended", &i.if_suspended)?;
        }
        Ok(())
    }

    pub(super) fn corridor_version(
        &self,
        corridor: &str,
        version: u32,
    ) -> Result<CorridorVersion, Rejection> {
        let c = self.corridor(corridor)?;
        let latest = c.latest();
        if latest.version != version {
            return Err(Rejection::rule(
                if c.versions.iter().any(|v| v.version == version) {
                    "superseded-version"
                } else {
                    "unknown-version"
                },
                format!(
                    "corridor {corridor} is at version {}; windows are proposed on the latest version",
                    latest.version
                ),
            ));
        }
        Ok(latest.clone())
    }
}
