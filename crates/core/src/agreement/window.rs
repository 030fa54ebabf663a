//! A window's life: proposal, amendment, consent to an exact version, withdrawal,
//! cancellation, suspension and resumption.

use super::{
    ActKind, Agreements, Changed, Ctx, Status, Window, WindowAct, WindowAmend, WindowCancel,
    WindowConsent, WindowPartyAct, WindowPropose, WindowTerms, WindowVersion, version_hash,
};
use crate::Rejection;
use crate::state::ProjectionKind;
use crate::time::parse_utc;

impl Agreements {
    /// A new window on the latest version of its corridor.
    pub(super) fn propose_window(
        &mut self,
        ctx: &Ctx,
        b: &WindowPropose,
    ) -> Result<Changed, Rejection> {
        if self.windows.contains_key(&b.window) {
            return Err(Rejection::rule(
                "window-exists",
                format!("window {:?} exists; amend it", b.window),
            ));
        }
        let cv = self.corridor_version(&b.corridor, b.corridor_version)?;
        self.check_window_terms(ctx, &b.terms, None)?;
        let hash = version_hash(&b.window, 1, &b.terms, &b.corridor, &cv);
        self.windows.insert(
            b.window.clone(),
            Window {
                id: b.window.clone(),
                corridor: b.corridor.clone(),
                proposer: ctx.actor.into(),
                versions: vec![WindowVersion {
                    version: 1,
                    corridor_version: cv.version,
                    terms: b.terms.clone(),
                    hash,
                    actor: ctx.actor.into(),
                    at_index: ctx.index,
                    at_time: ctx.at(),
                }],
                acts: vec![],
            },
        );
        Ok(vec![(ProjectionKind::Window, b.window.clone())])
    }

    /// A new version of a window before its start: a new hash, so every consent must be given
    /// again.
    pub(super) fn amend_window(
        &mut self,
        ctx: &Ctx,
        b: &WindowAmend,
    ) -> Result<Changed, Rejection> {
        let w = self.window(&b.window)?;
        self.final_or_started(w, ctx)?;
        let latest = w.latest();
        if b.base_version != latest.version {
            return Err(Rejection::rule(
                "stale-version",
                format!(
                    "window {} is at version {}, not {}",
                    b.window, latest.version, b.base_version
                ),
            ));
        }
        if latest.start() <= ctx.time {
            return Err(Rejection::rule(
                "window-started",
                "a window cannot be amended after its start; propose a new one",
            ));
        }
        let corridor = w.corridor.clone();
        let prev_terms = latest.terms.clone();
        let next = latest.version + 1;
        let cv = self.corridor_version(&corridor, b.corridor_version)?;
        self.check_window_terms(ctx, &b.terms, Some(&prev_terms))?;
        let hash = version_hash(&b.window, next, &b.terms, &corridor, &cv);
        let w = self.windows.get_mut(&b.window).expect("checked");
        w.versions.push(WindowVersion {
            version: next,
            corridor_version: cv.version,
            terms: b.terms.clone(),
            hash,
            actor: ctx.actor.into(),
            at_index: ctx.index,
            at_time: ctx.at(),
        });
        Ok(vec![(ProjectionKind::Window, b.window.clone())])
    }

    /// A party's consent to the exact current version, once the proposal is complete; the
    /// consent that completes an agreement must not overlap another agreed window.
    pub(super) fn consent(&mut self, ctx: &Ctx, b: &WindowConsent) -> Result<Changed, Rejection> {
        ctx.own_party(&b.party)?;
        let w = self.window(&b.window)?;
        self.final_or_started(w, ctx)?;
        let v = w.latest();
        required(v, &b.party, &b.window)?;
        if b.version_hash != v.hash {
            let known = w.versions.iter().any(|x| x.hash == b.version_hash);
            return Err(Rejection::rule(
                if known {
                    "superseded-version"
                } else {
                    "unknown-version"
                },
                format!(
                    "window {} is at version {} with hash {}; consent to that exact version",
                    b.window, v.version, v.hash
                ),
            ));
        }
        if v.start() <= ctx.time {
            return Err(Rejection::rule(
                "window-started",
                "consent must come before the window starts",
            ));
        }
        let missing = self.missing(w);
        if !missing.is_empty() {
            return Err(Rejection::rule(
                "incomplete-proposal",
                format!(
                    "consent is refused until the proposal is complete; missing: {}",
                    missing.join(", ")
                ),
            ));
        }
        if w.consent_of(&b.party, &v.hash).is_some() {
            return Err(Rejection::rule(
                "already-consented",
                format!("{} already consented to this version", b.party),
            ));
        }
        // Would this consent complete the agreement? Then it must not overlap another
        // agreed window on the same corridor.
        let others_done = v
            .terms
            .required_parties
            .iter()
            .filter(|p| **p != b.party)
            .all(|p| w.consent_of(p, &v.hash).is_some());
        if others_done {
            let (s, e) = (v.start(), v.end());
            for other in self
                .windows
                .values()
                .filter(|o| o.corridor == w.corridor && o.id != w.id)
            {
                let Some((st, _)) = other.status_at(ctx.time) else {
                    continue;
                };
                let ov = other.version_at(ctx.time).expect("has status");
                if st.holds_time() && ov.start() < e && s < ov.end() {
                    return Err(Rejection::rule(
                        "overlapping-window",
                        format!(
                            "window {} on the same corridor is {} from {} to {}, which overlaps",
                            other.id,
                            st.as_str(),
                            ov.terms.start,
                            ov.terms.end
                        ),
                    ));
                }
            }
        }
        let act = WindowAct {
            party: Some(b.party.clone()),
            version_hash: Some(v.hash.clone()),
            ..WindowAct::by(ActKind::Consent, ctx)
        };
        Ok(self.record(&b.window, act))
    }

    /// A party takes its consent back before the start (inside the window it suspends instead).
    pub(super) fn withdraw(&mut self, ctx: &Ctx, b: &WindowPartyAct) -> Result<Changed, Rejection> {
        ctx.own_party(&b.party)?;
        let w = self.window(&b.window)?;
        self.final_or_started(w, ctx)?;
        let v = w.latest();
        if v.start() <= ctx.time {
            return Err(Rejection::rule(
                "withdrawal-after-start",
                "consent can be taken back only before the start; once inside the window, suspend it instead",
            ));
        }
        if w.consent_of(&b.party, &v.hash).is_none() {
            return Err(Rejection::rule(
                "no-consent",
                format!("{} has not consented to the current version", b.party),
            ));
        }
        let act = WindowAct {
            party: Some(b.party.clone()),
            reason: Some(b.reason.clone()),
            public_reason: b.public_reason,
            ..WindowAct::by(ActKind::Withdraw, ctx)
        };
        Ok(self.record(&b.window, act))
    }

    /// The proposer drops a window nobody has consented to yet.
    pub(super) fn cancel(&mut self, ctx: &Ctx, b: &WindowCancel) -> Result<Changed, Rejection> {
        let w = self.window(&b.window)?;
        if w.proposer != ctx.actor {
            return Err(ctx.deny("cancel a window someone else proposed"));
        }
        self.final_or_started(w, ctx)?;
        if w.acts.iter().any(|a| a.kind == ActKind::Consent) {
            return Err(Rejection::rule(
                "has-consents",
                "a party already consented; only a party can withdraw now",
            ));
        }
        let act = WindowAct {
            reason: Some(b.reason.clone()),
            ..WindowAct::by(ActKind::Cancel, ctx)
        };
        Ok(self.record(&b.window, act))
    }

    /// A required party halts an active window.
    pub(super) fn suspend(&mut self, ctx: &Ctx, b: &WindowPartyAct) -> Result<Changed, Rejection> {
        ctx.own_party(&b.party)?;
        let w = self.window(&b.window)?;
        required(w.latest(), &b.party, &b.window)?;
        let (st, _) = w.status_at(ctx.time).expect("has a version");
        if st != Status::Active {
            return Err(Rejection::rule(
                "not-active",
                format!("window {} is {}, not active", b.window, st.as_str()),
            ));
        }
        let act = WindowAct {
            party: Some(b.party.clone()),
            reason: Some(b.reason.clone()),
            public_reason: b.public_reason,
            ..WindowAct::by(ActKind::Suspend, ctx)
        };
        Ok(self.record(&b.window, act))
    }

    /// A required party lifts a suspension (the window is active again once every party has).
    pub(super) fn resume(&mut self, ctx: &Ctx, b: &WindowConsent) -> Result<Changed, Rejection> {
        ctx.own_party(&b.party)?;
        let w = self.window(&b.window)?;
        let v = w.latest();
        required(v, &b.party, &b.window)?;
        let (st, _) = w.status_at(ctx.time).expect("has a version");
        if st != Status::Suspended {
            return Err(Rejection::rule(
                "not-suspended",
                format!("window {} is {}, not suspended", b.window, st.as_str()),
            ));
        }
        if b.version_hash != v.hash {
            return Err(Rejection::rule(
                "superseded-version",
                "resume names the exact current version hash",
            ));
        }
        let act = WindowAct {
            party: Some(b.party.clone()),
            version_hash: Some(v.hash.clone()),
            ..WindowAct::by(ActKind::Resume, ctx)
        };
        Ok(self.record(&b.window, act))
    }

    fn check_window_terms(
        &self,
        ctx: &Ctx,
        t: &WindowTerms,
        previous: Option<&WindowTerms>,
    ) -> Result<(), Rejection> {
        let start = parse_utc("terms.start", &t.start)?;
        let end = parse_utc("terms.end", &t.end)?;
        if end <= start {
            return Err(Rejection::rule(
                "end-before-start",
                "the window must end after it starts",
            ));
        }
        if start <= ctx.time {
            return Err(Rejection::rule(
                "window-in-past",
                format!(
                    "the window starts at {} but the log's time is already {}",
                    t.start,
                    ctx.at()
                ),
            ));
        }
        let max = ctx.genesis.policy.max_window_s;
        if end.as_second() - start.as_second() > max {
            return Err(Rejection::rule(
                "window-too-long",
                format!("a window may last at most {max} s under the genesis policy"),
            ));
        }
        // Whether a stated local time is the signed instant depends on the tz database, not on
        // the log: decided on acceptance, with the release the genesis pins reported beside it
        // by `corridor verify`, and never again on replay (see `State::execute_recorded`).
        if !ctx.recorded {
            for (lt, at) in [(&t.start_local, start), (&t.end_local, end)] {
                if let Some(lt) = lt {
                    crate::localtime::check_stated(&lt.local, &lt.zone, at)?;
                }
            }
        }
        if t.required_parties.is_empty() {
            return Err(Rejection::invalid(
                "terms.required_parties",
                "name at least one party",
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &t.required_parties {
            if !ctx.genesis.parties.iter().any(|x| &x.id == p) {
                return Err(Rejection::rule(
                    "unknown-party",
                    format!("{p:?} is not a party to this log"),
                ));
            }
            if !seen.insert(p) {
                return Err(Rejection::invalid(
                    "terms.required_parties",
                    format!("{p:?} is named twice"),
                ));
            }
        }
        // A ceasefire binds every side: a window that some party of the genesis need not consent
        // to would be published as agreed on one side's word. A one-party act is a declaration.
        let missing: Vec<&str> = ctx
            .genesis
            .parties
            .iter()
            .map(|x| x.id.as_str())
            .filter(|id| !t.required_parties.iter().any(|p| p == id))
            .collect();
        if !missing.is_empty() {
            return Err(Rejection::rule(
                "window-missing-party",
                format!(
                    "every party of the genesis must consent to a window; terms.required_parties lacks {}",
                    missing.join(", ")
                ),
            ));
        }
        for (p, text) in &t.guarantees {
            if !t.required_parties.contains(p) {
                return Err(Rejection::invalid(
                    "terms.guarantees",
                    format!("{p:?} is not a required party"),
                ));
            }
            if text.trim().is_empty() {
                return Err(Rejection::invalid(
                    "terms.guarantees",
                    "a guarantee must say something",
                ));
            }
            let unchanged = previous.and_then(|prev| prev.guarantees.get(p)) == Some(text);
            if !unchanged && ctx.party != Some(p.as_str()) {
                return Err(Rejection::rule(
                    "guarantee-of-another-party",
                    format!("only {p:?} may state its own security guarantee"),
                ));
            }
        }
        if let Some(prev) = previous {
            for (p, text) in &prev.guarantees {
                if t.required_parties.contains(p)
                    && t.guarantees.get(p) != Some(text)
                    && ctx.party != Some(p.as_str())
                {
                    return Err(Rejection::rule(
                        "guarantee-of-another-party",
                        format!("only {p:?} may change or drop its own security guarantee"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn final_or_started(&self, w: &Window, ctx: &Ctx) -> Result<(), Rejection> {
        let (status, _) = w.status_at(ctx.time).expect("the window has a version");
        if matches!(
            status,
            Status::Cancelled | Status::Withdrawn | Status::Expired | Status::Completed
        ) {
            return Err(Rejection::rule(
                "window-closed",
                format!(
                    "window {} is {}; propose a new window",
                    w.id,
                    status.as_str()
                ),
            ));
        }
        Ok(())
    }

    /// Append an act to a window the caller found, and name the record it changed.
    fn record(&mut self, window: &str, act: WindowAct) -> Changed {
        let w = self.windows.get_mut(window).expect("checked by the caller");
        w.acts.push(act);
        vec![(ProjectionKind::Window, window.to_string())]
    }
}

impl WindowAct {
    /// An act of `kind` by the acting actor at this entry, with nothing else said yet.
    fn by(kind: ActKind, ctx: &Ctx) -> WindowAct {
        WindowAct {
            kind,
            party: None,
            actor: ctx.actor.into(),
            version_hash: None,
            reason: None,
            public_reason: None,
            at_index: ctx.index,
            at_time: ctx.at(),
            void: false,
        }
    }
}

/// A party act names a party the window needs: acting for another is refused.
fn required(v: &WindowVersion, party: &str, window: &str) -> Result<(), Rejection> {
    if !v.terms.required_parties.iter().any(|p| p == party) {
        return Err(Rejection::rule(
            "party-not-required",
            format!("{party:?} is not a required party of window {window}"),
        ));
    }
    Ok(())
}
