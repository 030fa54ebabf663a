//! Incidents (#18): each bad input refused with its own code and nothing recorded; corrections
//! as versions; the intermediary's verification; duplicate marks that leak nothing; and each
//! claim matched against the corridors and windows as they stood at the incident's time, the
//! same after a replay.

use super::*;
use crate::agreement::Status;
use crate::command::VerificationStatus;

/// The corridor's middle vertex (`[lon, lat]` of [`corridor_terms`]' route).
const ON_ROUTE: (i64, i64) = (506300000, 299000000);

/// A report by ua/c accusing ru at `at`, at `(lat_e7, lon_e7)`.
fn claim(id: &str, at: &str, (lat, lon): (i64, i64)) -> Value {
    let mut v = report(id, Some("ru"));
    v["occurred_at"] = json!(at);
    v["location"] = json!({"lat_e7": lat, "lon_e7": lon});
    v
}

/// The agreement log with w1 (5 March, 07:00–17:00 UTC) agreed, and the clock at 5 March 12:00.
fn agreed_log() -> Harness {
    let mut h = agreement_log();
    agree(&mut h, "w1");
    jump_to(&mut h, "2022-03-05T12:00:00Z");
    h
}

/// Submits `body` by ua/c, expects refusal with `code`, and checks that nothing changed.
fn refused(h: &mut Harness, body: Value, code: &str) {
    let before = h.state.clone();
    let entries = h.entries.len();
    let err = h.submit(&kp(10), "ua/c", body).unwrap_err();
    assert_eq!(err.code(), code, "{err:?}");
    assert_eq!(h.state, before, "{code}: nothing recorded");
    assert_eq!(h.entries.len(), entries);
}

#[test]
fn each_bad_report_has_its_own_code_and_records_nothing() {
    let mut h = agreed_log();
    let at = "2022-03-05T09:00:00Z";
    for (lat, lon) in [
        (900_000_001, 0),
        (-900_000_001, 0),
        (0, 1_800_000_001),
        (0, -1_800_000_001),
    ] {
        refused(
            &mut h,
            claim("ua/i1", at, (lat, lon)),
            "incident-location-out-of-range",
        );
    }
    for accuracy in [-1, crate::incident::MAX_ACCURACY_M + 1, 1_000_000_000] {
        let mut v = claim("ua/i1", at, ON_ROUTE);
        v["accuracy_m"] = json!(accuracy);
        refused(&mut h, v, "incident-accuracy-invalid");
    }
    let mut reversed = claim("ua/i1", at, ON_ROUTE);
    reversed["occurred_until"] = json!("2022-03-05T08:59:59Z");
    refused(&mut h, reversed, "incident-time-reversed");
    refused(
        &mut h,
        claim("ua/i1", "2022-03-05T12:30:00Z", ON_ROUTE),
        "incident-time-future",
    );
    let mut future_end = claim("ua/i1", at, ON_ROUTE);
    future_end["occurred_until"] = json!("2022-03-06T09:00:00Z");
    refused(&mut h, future_end, "incident-time-future");
    let mut unknown = claim("ua/i1", at, ON_ROUTE);
    unknown["accused_party"] = json!("xx");
    refused(&mut h, unknown, "unknown-party");
    for bad in [
        "ab".repeat(31),
        "ab".repeat(33),
        "AB".repeat(32),
        "zz".repeat(32),
    ] {
        let mut v = claim("ua/i1", at, ON_ROUTE);
        v["evidence"] = json!([bad]);
        refused(&mut h, v, "evidence-commitment-invalid");
    }
    let mut many = claim("ua/i1", at, ON_ROUTE);
    many["evidence"] = json!(vec!["ab".repeat(32); crate::incident::MAX_EVIDENCE + 1]);
    refused(&mut h, many, "evidence-too-many");
    // The same report, well formed, is accepted: each refusal above was for its one fault.
    let mut good = claim("ua/i1", at, ON_ROUTE);
    good["accuracy_m"] = json!(50);
    good["occurred_until"] = json!("2022-03-05T09:10:00Z");
    good["evidence"] = json!([crate::incident::commitment(&[7; 32], &[9; 32])]);
    h.submit(&kp(10), "ua/c", good).unwrap();
    assert_eq!(h.state.incidents["ua/i1"].claim.evidence.len(), 1);
}

#[test]
fn a_commitment_is_salted_and_domain_separated() {
    let file = crate::crypto::sha256(&[b"photo bytes"]);
    let a = crate::incident::commitment(&[1; 32], &file);
    let b = crate::incident::commitment(&[2; 32], &file);
    assert_ne!(a, b, "another salt, another commitment");
    assert_eq!(a.len(), 64);
    assert_ne!(a, crate::incident::hex(&file), "never the bare file hash");
    let mut expected = b"corridor/v1 evidence\0".to_vec();
    expected.extend([1; 32]);
    expected.extend(file);
    assert_eq!(
        a,
        crate::incident::hex(&crate::crypto::sha256(&[&expected]))
    );
}

#[test]
fn a_correction_is_a_new_version_and_keeps_the_old() {
    let mut h = agreed_log();
    h.submit(
        &kp(10),
        "ua/c",
        claim("ua/i1", "2022-03-05T09:00:00Z", (0, 0)),
    )
    .unwrap();
    assert!(h.state.incidents["ua/i1"].matches.is_empty());
    let mut fix = claim("ua/i1", "2022-03-05T09:30:00Z", ON_ROUTE);
    fix["type"] = json!("incident.correct");
    fix["reason"] = json!("the coordinates were typed as zero");
    fix.as_object_mut().unwrap().remove("accused_party");
    h.submit(&kp(10), "ua/c", fix.clone()).unwrap();
    let inc = &h.state.incidents["ua/i1"];
    assert_eq!(inc.version, 2);
    assert_eq!(inc.versions.len(), 2);
    assert_eq!(inc.versions[0].claim.location.lat_e7, 0, "nothing deleted");
    assert_eq!(
        inc.versions[1].reason.as_deref(),
        Some("the coordinates were typed as zero")
    );
    assert_eq!(inc.accused_party.as_deref(), Some("ru"), "accused is fixed");
    assert_eq!(inc.matches.len(), 1, "matches follow the current claim");
    // The other side may not correct it: it answers it.
    let before = h.state.clone();
    let err = h.submit(&kp(11), "ru/c", fix).unwrap_err();
    assert_eq!(err.code(), "incident-not-yours");
    assert_eq!(h.state, before);
    assert_eq!(h.replay(), h.state);
}

#[test]
fn only_the_intermediary_verifies_and_every_status_is_kept() {
    let mut h = agreed_log();
    h.submit(
        &kp(10),
        "ua/c",
        claim("ua/i1", "2022-03-05T09:00:00Z", ON_ROUTE),
    )
    .unwrap();
    assert_eq!(
        h.state.incidents["ua/i1"].status,
        VerificationStatus::Unverified
    );
    let verify = |status: &str| {
        json!({"type": "incident.verify", "incident": "ua/i1", "status": status,
               "reasoning": "craters match the reported time on imagery"})
    };
    for (seed, actor) in [(10, "ua/c"), (11, "ru/c"), (3, "ua/admin")] {
        let before = h.state.clone();
        let err = h.submit(&kp(seed), actor, verify("verified")).unwrap_err();
        assert_eq!(err.code(), "incident-verify-intermediary-only");
        assert_eq!(h.state, before);
    }
    h.submit(&kp(1), "icrc/admin", verify("corroborated"))
        .unwrap();
    h.submit(&kp(1), "icrc/admin", verify("disputed")).unwrap();
    let inc = &h.state.incidents["ua/i1"];
    assert_eq!(inc.status, VerificationStatus::Disputed);
    assert_eq!(
        inc.verifications
            .iter()
            .map(|v| v.status)
            .collect::<Vec<_>>(),
        [
            VerificationStatus::Corroborated,
            VerificationStatus::Disputed
        ]
    );
    // Not a status at all: a shape error.
    refused(&mut h, verify("true"), "invalid-field");
    assert_eq!(h.replay(), h.state);
}

#[test]
fn duplicate_marks_never_point_a_reader_at_a_report_it_may_not_read() {
    let mut h = agreed_log();
    let at = "2022-03-05T09:00:00Z";
    // ua/i1 accuses ru (ua, ru and the intermediary read it); ua/i2 accuses nobody (ua and the
    // intermediary only).
    h.submit(&kp(10), "ua/c", claim("ua/i1", at, ON_ROUTE))
        .unwrap();
    let mut own = claim("ua/i2", at, ON_ROUTE);
    own.as_object_mut().unwrap().remove("accused_party");
    h.submit(&kp(10), "ua/c", own).unwrap();
    h.submit(&kp(10), "ua/c", claim("ua/i3", at, ON_ROUTE))
        .unwrap();
    let dup =
        |a: &str, b: &str| json!({"type": "incident.duplicate", "incident": a, "duplicate_of": b});
    // Marking the widely read report as repeating the confidential one would tell ru about it.
    refused(&mut h, dup("ua/i1", "ua/i2"), "incident-duplicate-wider");
    refused(&mut h, dup("ua/i1", "ua/i1"), "incident-duplicate-invalid");
    // ru may not even learn ua/i2 exists.
    let before = h.state.clone();
    let err = h
        .submit(&kp(11), "ru/c", dup("ua/i1", "ua/i2"))
        .unwrap_err();
    assert_eq!(err.code(), "unknown-incident");
    assert_eq!(h.state, before);
    h.submit(&kp(10), "ua/c", dup("ua/i2", "ua/i1")).unwrap();
    h.submit(&kp(11), "ru/c", dup("ua/i3", "ua/i1")).unwrap();
    refused(&mut h, dup("ua/i2", "ua/i3"), "incident-duplicate-invalid");
    refused(&mut h, dup("ua/i1", "ua/i3"), "incident-duplicate-invalid");
    assert_eq!(
        h.state.incidents["ua/i3"].duplicate_of.as_ref().unwrap().of,
        "ua/i1"
    );
    assert_eq!(h.replay(), h.state);
}

#[test]
fn a_report_is_matched_against_the_window_as_it_stood_at_the_incident() {
    let mut h = agreed_log();
    // The window is suspended at 09:40; a report of 09:30, made after, still finds it active.
    jump_to(&mut h, "2022-03-05T09:40:00Z");
    h.submit(
        &kp(11),
        "ru/c",
        json!({"type": "window.suspend", "window": "w1", "party": "ru", "reason": "shelling"}),
    )
    .unwrap();
    jump_to(&mut h, "2022-03-05T12:00:00Z");
    let mut before_suspension = claim("ua/i1", "2022-03-05T09:30:00Z", ON_ROUTE);
    before_suspension["accuracy_m"] = json!(20);
    h.submit(&kp(10), "ua/c", before_suspension).unwrap();
    h.submit(
        &kp(10),
        "ua/c",
        claim("ua/i2", "2022-03-05T09:45:00Z", ON_ROUTE),
    )
    .unwrap();
    // Before any window: matched to the corridor alone.
    h.submit(
        &kp(10),
        "ua/c",
        claim("ua/i3", "2022-03-04T09:00:00Z", ON_ROUTE),
    )
    .unwrap();
    // Ten kilometres south of the route.
    h.submit(
        &kp(10),
        "ua/c",
        claim("ua/i4", "2022-03-05T09:30:00Z", (505_400_000, 299_000_000)),
    )
    .unwrap();
    assert_eq!(status(&h, "w1", "2022-03-05T12:00:00Z"), "suspended");
    let m = &h.state.incidents["ua/i1"].matches;
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].corridor, "c1");
    assert_eq!(m[0].window.as_deref(), Some("w1"));
    assert_eq!(m[0].window_status_at_incident, Some(Status::Active));
    assert!(m[0].agreed_and_open);
    assert_eq!(m[0].distance_m, 0.0);
    assert!(m[0].certainly_inside && m[0].possibly_inside);
    let m = &h.state.incidents["ua/i2"].matches;
    assert_eq!(m[0].window_status_at_incident, Some(Status::Suspended));
    assert!(!m[0].agreed_and_open);
    assert!(!m[0].certainly_inside, "no accuracy stated: never certain");
    let m = &h.state.incidents["ua/i3"].matches;
    assert_eq!((m.len(), m[0].window.as_deref()), (1, None));
    assert!(!m[0].agreed_and_open);
    assert!(h.state.incidents["ua/i4"].matches.is_empty());
    // A replay recomputes the same matches, to the bit.
    let replayed = h.replay();
    for id in ["ua/i1", "ua/i2", "ua/i3", "ua/i4"] {
        assert_eq!(
            replayed.incidents[id].matches,
            h.state.incidents[id].matches
        );
    }
    assert_eq!(replayed, h.state);
}

#[test]
fn accuracy_decides_certainly_and_possibly_inside() {
    let mut h = agreed_log();
    // 0.01° north of the route's middle vertex: about 755 m from the first segment, against a
    // 500 m half width.
    let off = (ON_ROUTE.0 + 100_000, ON_ROUTE.1);
    for (id, accuracy) in [("ua/a0", 0), ("ua/a1", 200), ("ua/a2", 300)] {
        let mut v = claim(id, "2022-03-05T09:00:00Z", off);
        v["accuracy_m"] = json!(accuracy);
        h.submit(&kp(10), "ua/c", v).unwrap();
    }
    assert!(h.state.incidents["ua/a0"].matches.is_empty());
    assert!(h.state.incidents["ua/a1"].matches.is_empty());
    let m = &h.state.incidents["ua/a2"].matches;
    assert_eq!(m.len(), 1);
    assert!(m[0].possibly_inside && !m[0].certainly_inside);
    assert!(
        (700.0..800.0).contains(&m[0].distance_m),
        "{}",
        m[0].distance_m
    );
}

/// The side an actor id belongs to (`ua/c` → `ua`), as the server reads it from the directory.
fn side(h: &Harness, actor: &str) -> String {
    h.state.actors[actor].affiliation.id().to_string()
}

#[test]
fn filters_counts_flags_and_geojson_read_the_matched_reports() {
    use crate::views::incidents::{IncidentFilter, IncidentQuery, counts, flags, geojson};
    let mut h = agreed_log();
    let mut inside = claim("ua/q1", "2022-03-05T09:30:00Z", ON_ROUTE);
    inside["accuracy_m"] = json!(20);
    h.submit(&kp(10), "ua/c", inside).unwrap();
    // Before the window: the corridor alone.
    h.submit(
        &kp(10),
        "ua/c",
        claim("ua/q2", "2022-03-04T09:00:00Z", ON_ROUTE),
    )
    .unwrap();
    // Ten kilometres south: no corridor.
    h.submit(
        &kp(10),
        "ua/c",
        claim("ua/q3", "2022-03-05T09:30:00Z", (505_400_000, 299_000_000)),
    )
    .unwrap();
    // ru's report accusing ua, blockade, in the window.
    let mut theirs = report("ru/q4", Some("ua"));
    theirs["occurred_at"] = json!("2022-03-05T10:00:00Z");
    theirs["location"] = json!({"lat_e7": ON_ROUTE.0, "lon_e7": ON_ROUTE.1});
    theirs["category"] = json!("blockade");
    h.submit(&kp(11), "ru/c", theirs).unwrap();
    h.submit(
        &kp(1),
        "icrc/admin",
        json!({"type": "incident.verify", "incident": "ua/q1", "status": "corroborated",
               "reasoning": "two independent witnesses"}),
    )
    .unwrap();

    let all: Vec<(&crate::incident::Incident, String)> = h
        .state
        .incidents
        .values()
        .map(|i| (i, side(&h, &i.reporter)))
        .collect();
    let pick = |q: IncidentQuery| -> Vec<&str> {
        let f = IncidentFilter::parse(&q).unwrap();
        all.iter()
            .filter(|(i, s)| f.admits(i, s))
            .map(|(i, _)| i.id.as_str())
            .collect()
    };
    let q = |k: &str, v: &str| {
        let mut q = IncidentQuery::default();
        match k {
            "corridor" => q.corridor = Some(v.into()),
            "window" => q.window = Some(v.into()),
            "party" => q.party = Some(v.into()),
            "category" => q.category = Some(v.into()),
            "status" => q.status = Some(v.into()),
            "bbox" => q.bbox = Some(v.into()),
            "from" => q.from = Some(v.into()),
            "to" => q.to = Some(v.into()),
            _ => unreachable!(),
        }
        q
    };
    assert_eq!(
        pick(IncidentQuery::default()),
        ["ru/q4", "ua/q1", "ua/q2", "ua/q3"]
    );
    assert_eq!(pick(q("corridor", "c1")), ["ru/q4", "ua/q1", "ua/q2"]);
    assert_eq!(pick(q("window", "w1")), ["ru/q4", "ua/q1"]);
    // A party: reports its people made and reports accusing it.
    assert_eq!(pick(q("party", "ru")), ["ru/q4", "ua/q1", "ua/q2", "ua/q3"]);
    assert_eq!(pick(q("party", "ua")), ["ru/q4", "ua/q1", "ua/q2", "ua/q3"]);
    assert_eq!(pick(q("category", "blockade")), ["ru/q4"]);
    assert_eq!(pick(q("status", "corroborated")), ["ua/q1"]);
    assert_eq!(pick(q("status", "unverified")), ["ru/q4", "ua/q2", "ua/q3"]);
    // The box holds the route's middle vertex but not the point ten kilometres south; its
    // edges are inside.
    assert_eq!(
        pick(q("bbox", "29.9,50.63,29.9,50.63")),
        ["ru/q4", "ua/q1", "ua/q2"]
    );
    assert_eq!(pick(q("bbox", "29.8,50.5,30.0,50.55")), ["ua/q3"]);
    assert_eq!(pick(q("from", "2022-03-05T09:45:00Z")), ["ru/q4"]);
    assert_eq!(pick(q("to", "2022-03-04T23:59:59Z")), ["ua/q2"]);
    assert_eq!(
        pick(q("to", "2022-03-05T09:30:00Z")),
        ["ua/q1", "ua/q2", "ua/q3"]
    );

    let c = counts(all.iter().map(|(i, s)| (*i, s.as_str())));
    assert_eq!((c["ua"].claims_made, c["ua"].claims_received), (3, 1));
    assert_eq!((c["ru"].claims_made, c["ru"].claims_received), (1, 3));

    let incidents = h.state.incidents.values();
    let corridor = flags(incidents.clone(), "c1", None);
    assert_eq!(
        (
            corridor.claims,
            corridor.certainly_inside,
            corridor.while_open
        ),
        (3, 1, 2)
    );
    let window = flags(incidents, "c1", Some("w1"));
    assert_eq!((window.claims, window.while_open), (2, 2));

    let g = geojson(all.iter().map(|(i, s)| (*i, s.as_str())));
    let features = g["features"].as_array().unwrap();
    assert_eq!(features.len(), 4);
    let f = features.iter().find(|f| f["id"] == "ua/q1").unwrap();
    assert_eq!(f["geometry"]["coordinates"], json!([29.9, 50.63]));
    assert_eq!(f["properties"]["kind"], "claim");
    assert_eq!(f["properties"]["status"], "corroborated");
    assert_eq!(f["properties"]["while_open"], true);
    assert_eq!(f["properties"]["corridors"], json!(["c1"]));
}
