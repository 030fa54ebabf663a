//! Authenticated reads over HTTP: the signed-request check (every way it can fail, each with its
//! problem code), and the read-path matrix: every read path × every kind of reader, with the
//! expected outcome of each cell in one table.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::scenario::{CORRIDOR, setup};
use common::*;
use corridor_core::crypto::b64;
use corridor_core::entry::{DisclosedEntry, EntryHeader};
use corridor_core::merkle::MemoryTree;
use reqwest::StatusCode;
use serde_json::json;

/// The readers of the matrix: `(actor, role, key seed)`; the public comes last.
const READERS: &[(&str, &str, u8)] = &[
    ("ua/admin", "party-admin", 3),
    ("ua/coord", "coordinator", 10),
    ("ru/coord", "coordinator", 11),
    ("icrc/admin", "intermediary", 1),
    ("icrc/obs", "observer", 12),
    ("urcs/member", "organisation-member", 13),
];

/// People the fixture registers besides the readers.
const UNIT: (&str, u8) = ("ua/unit-7", 14);

/// The fixture, and the index of each entry the matrix asks about.
async fn fixture() -> (Server, BTreeMap<&'static str, u64>) {
    let s = Server::start().await;
    let mut at = BTreeMap::new();
    for (actor, role, seed) in READERS {
        let admin = match actor.split('/').next().unwrap() {
            "ua" => (3, "ua/admin"),
            "ru" => (4, "ru/admin"),
            "icrc" => (1, "icrc/admin"),
            _ => (5, "urcs/admin"),
        };
        if !actor.ends_with("/admin") {
            let r = s
                .run(
                    &kp(admin.0),
                    admin.1,
                    register_body(actor, role, &kp(*seed)),
                )
                .await;
            if *actor == "ua/coord" {
                at.insert("coordinator", r.receipt.index);
            }
        }
    }
    let r = s
        .run(
            &kp(3),
            "ua/admin",
            register_body(UNIT.0, "unit", &kp(UNIT.1)),
        )
        .await;
    at.insert("unit", r.receipt.index);
    // Reported by Ukraine, accusing Russia (report_body accuses "ru"), and Russia's answer.
    let r = s
        .run(&kp(10), "ua/coord", report_body("ua/inc-ua-ru"))
        .await;
    at.insert("report", r.receipt.index);
    let answer =
        json!({"type": "incident.respond", "incident": "ua/inc-ua-ru", "text": "Not our units."});
    let r = s.run(&kp(11), "ru/coord", answer).await;
    at.insert("answer", r.receipt.index);
    // Reported by the Red Cross, accusing nobody.
    let mut report = report_body("urcs/inc-urcs");
    report.as_object_mut().unwrap().remove("accused_party");
    let r = s.run(&kp(13), "urcs/member", report).await;
    at.insert("urcs-report", r.receipt.index);
    at.insert("genesis", 0);
    (s, at)
}

/// Read paths × readers (columns as in [`READERS`], then the public). The entries rows name an
/// entry of the fixture: the genesis, the registration of a coordinator and of a unit (of
/// Ukraine), Ukraine's report accusing Russia and Russia's answer, and a Red Cross report that
/// accuses nobody. For the entries rows:
/// `y` = the entry in full, `-` = withheld (leaf data only), `401` = refused. For the query rows:
/// `y` = listed, `-` = not listed, `401` = refused.
#[rustfmt::skip]
const MATRIX: &[(&str, &str)] = &[
    //                                             ua/admin ua/coord ru/coord icrc/admin icrc/obs urcs/member public
    ("entries: genesis",                           "y y y y y y 401"),
    ("entries: coordinator",                       "y y y y y y 401"),
    ("entries: unit",                              "y y - y - - 401"),
    ("entries: report",                            "y y y y - - 401"),
    ("entries: answer",                            "y y y y - - 401"),
    ("entries: urcs-report",                       "- - - y - y 401"),
    ("incidents: ua/inc-ua-ru",                       "y y y y - - 401"),
    ("incidents: urcs/inc-urcs",                        "- - - y - y 401"),
    ("incident: ua/inc-ua-ru",                     "y y y y - - 401"),
    ("incident: urcs/inc-urcs",                    "- - - y - y 401"),
    ("geojson: ua/inc-ua-ru",                      "y y y y - - 401"),
    ("geojson: urcs/inc-urcs",                     "- - - y - y 401"),
    ("windows",                                    "y y y y y y 401"),
    ("leaves",                                     "y y y y y y y"),
];

#[tokio::test]
async fn read_matrix() {
    let (s, at) = fixture().await;
    let size = s.snapshot().await.tree_size;
    let mut failures = Vec::new();
    let readers: Vec<Option<&(&str, &str, u8)>> = READERS
        .iter()
        .map(Some)
        .chain(std::iter::once(None))
        .collect();
    let s = &s;
    for (col, reader) in readers.iter().enumerate() {
        let who = reader.map_or("the public", |r| r.0);
        let get = |path: String| async move {
            match reader {
                Some((_, _, seed)) => s.get_as(&kp(*seed), &path).await,
                None => s.get_public(&path).await,
            }
        };
        let entries = get(format!("/v1/log/entries?start=0&end={size}")).await;
        let incidents = get("/v1/incidents".into()).await;
        let windows = get("/v1/windows".into()).await;
        let geojson = get("/v1/incidents.geojson".into()).await;
        let mut one = BTreeMap::new();
        for id in ["ua/inc-ua-ru", "urcs/inc-urcs"] {
            one.insert(id, get(format!("/v1/incidents/{id}")).await);
        }
        let leaves = get(format!("/v1/log/leaves?start=0&end={size}")).await;
        for (what, cells) in MATRIX {
            let cell = cells.split_whitespace().nth(col).unwrap();
            let (path, item) = what.split_once(": ").unwrap_or((what, ""));
            let reply = match path {
                "entries" => &entries,
                "incidents" => &incidents,
                "windows" => &windows,
                "geojson" => &geojson,
                "incident" => &one[item],
                _ => &leaves,
            };
            let got = if reply.status == StatusCode::UNAUTHORIZED {
                reply.expect_problem(StatusCode::UNAUTHORIZED, "auth-required");
                "401".to_string()
            } else if path == "incident" && reply.status == StatusCode::NOT_FOUND {
                // Not readable is answered as absent.
                reply.expect_problem(StatusCode::NOT_FOUND, "unknown-incident");
                "-".to_string()
            } else if path == "incident" {
                let v = reply.expect_json(StatusCode::OK);
                assert_eq!(v["id"], item);
                "y".to_string()
            } else {
                let v = if path == "geojson" {
                    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
                    assert_eq!(reply.mime(), "application/geo+json");
                    reply.json()
                } else {
                    reply.expect_json(StatusCode::OK)
                };
                let visible = match path {
                    "entries" => v["entries"][at[item] as usize]["withheld"] != true,
                    "incidents" => v["incidents"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|i| i["id"] == item),
                    "geojson" => v["features"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|i| i["id"] == item),
                    _ => true,
                };
                if visible { "y" } else { "-" }.to_string()
            };
            if got != cell {
                failures.push(format!("{what} read by {who}: expected {cell}, got {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A reader who may not read an entry still checks the whole log: withheld entries come with
/// their leaf data, and all the leaf hashes make the checkpoint's root. What it may read, it
/// gets in full and can check against its commitment.
#[tokio::test]
async fn withheld_entries_still_verify_against_the_tree() {
    let (s, _) = fixture().await;
    let size = s.snapshot().await.tree_size;
    let cp = s.checkpoint_covering(size).await;
    let v = s
        .get_as(&kp(13), &format!("/v1/log/entries?start=0&end={size}"))
        .await
        .expect_json(StatusCode::OK);
    let mut tree = MemoryTree::new();
    let mut withheld = 0;
    for e in v["entries"].as_array().unwrap() {
        if e["withheld"] == true {
            withheld += 1;
            let fields: BTreeSet<&str> =
                e.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                fields,
                BTreeSet::from(["index", "withheld", "leaf", "leaf_hash"])
            );
            let h: EntryHeader = serde_json::from_value(e["leaf"].clone()).unwrap();
            assert_eq!(e["leaf_hash"], b64(&h.leaf_hash()));
            tree.push(h.leaf_hash());
        } else {
            let d: DisclosedEntry = serde_json::from_value(e.clone()).unwrap();
            let entry = d.to_entry().unwrap();
            assert!(entry.commitment_matches());
            tree.push(entry.leaf_hash());
        }
    }
    assert_eq!(
        withheld, 3,
        "the unit, and the report and answer of ua vs ru"
    );
    assert_eq!(tree.size(), cp.size);
    assert_eq!(tree.root(), cp.root);
}

#[tokio::test]
async fn bad_signed_requests_are_refused_with_their_codes() {
    let (s, _) = fixture().await;
    let path = "/v1/windows";
    let now = s.log.clock().now().as_second();
    let reader = kp(10);
    let signed = |created: i64, nonce: &str| s.sign_read(&reader, path, created, nonce);

    // No signature: 401 asking for one.
    let r = s.get_public(path).await;
    r.expect_problem(StatusCode::UNAUTHORIZED, "auth-required");
    let asked = r.headers.get("accept-signature").unwrap().to_str().unwrap();
    assert!(
        asked.starts_with("corridor=(\"@method\" \"@path\" \"@query\")"),
        "{asked}"
    );

    // One header without the other; garbage; another label.
    let (input, sig) = signed(now, "nonce-malformed-0001");
    for headers in [
        vec![("signature-input", input.as_str())],
        vec![
            ("signature-input", "corridor=("),
            ("signature", sig.as_str()),
        ],
        vec![
            ("signature-input", &input.replacen("corridor=", "other=", 1)),
            ("signature", &sig.replacen("corridor=", "other=", 1)),
        ],
    ] {
        s.get_with_headers(path, &headers)
            .await
            .expect_problem(StatusCode::UNAUTHORIZED, "auth-malformed");
    }

    // Signed over another path, or for another log.
    let (input, sig) = signed(now, "nonce-other-path-01");
    s.get_with_headers(
        "/v1/settlements",
        &[("signature-input", &input), ("signature", &sig)],
    )
    .await
    .expect_problem(StatusCode::UNAUTHORIZED, "auth-bad-signature");
    let target = corridor_core::httpsig::Target {
        method: "GET",
        path,
        query: None,
    };
    let (input, sig) = corridor_core::httpsig::sign(
        &reader,
        "corridor.test/other",
        target,
        now,
        "nonce-other-log-001",
    );
    s.get_with_headers(path, &[("signature-input", &input), ("signature", &sig)])
        .await
        .expect_problem(StatusCode::UNAUTHORIZED, "auth-wrong-log");

    // Outside the genesis policy's skew limit (300 s) of the log's clock, either way.
    for created in [now - 400, now + 400] {
        let (input, sig) = signed(created, &format!("nonce-stale-{created}"));
        let p = s
            .get_with_headers(path, &[("signature-input", &input), ("signature", &sig)])
            .await
            .expect_problem(StatusCode::UNAUTHORIZED, "auth-stale");
        assert!(
            p["detail"].as_str().unwrap().contains("set your clock"),
            "{p}"
        );
    }

    // The same signed request twice: the second is a replay.
    let (input, sig) = signed(now, "nonce-replayed-0001");
    let headers = [
        ("signature-input", input.as_str()),
        ("signature", sig.as_str()),
    ];
    s.get_with_headers(path, &headers)
        .await
        .expect_json(StatusCode::OK);
    s.get_with_headers(path, &headers)
        .await
        .expect_problem(StatusCode::UNAUTHORIZED, "auth-replayed");

    // A key the log does not know; a key revoked since.
    s.get_as(&kp(99), path)
        .await
        .expect_problem(StatusCode::UNAUTHORIZED, "auth-unknown-key");
    s.get_as(&kp(10), path).await.expect_json(StatusCode::OK);
    s.run(
        &kp(3),
        "ua/admin",
        json!({"type": "key.revoke", "key": kp(10).public().id(), "reason": "device lost"}),
    )
    .await;
    s.get_as(&kp(10), path)
        .await
        .expect_problem(StatusCode::UNAUTHORIZED, "auth-key-revoked");
}

/// A `Signature` header (`corridor=:<base64>:`) with the signature's first byte flipped: well
/// formed, but it does not verify.
fn flip_signature(header: &str) -> String {
    let inner = header
        .strip_prefix("corridor=:")
        .and_then(|h| h.strip_suffix(':'))
        .unwrap();
    let mut sig = corridor_core::crypto::unb64("signature", inner).unwrap();
    sig[0] ^= 1;
    format!("corridor=:{}:", b64(&sig))
}

/// Public paths stay public, signed or not: a member's signed request, one by a key the log
/// does not know (a monitor's, say) and one whose signature is garbage all get what the public
/// gets. A public path asks nobody who they are, so a signature can neither open nor close
/// it; a path that does ask (`/v1/log/entries`) refuses the bad signature.
#[tokio::test]
async fn public_paths_need_no_signature() {
    let (s, _) = fixture().await;
    for path in [
        "/v1/log/checkpoint",
        "/v1/log/head",
        "/v1/log/leaves?start=0&end=2",
        "/v1/log/proof/inclusion?index=0&size=2",
        "/v1/log/proof/consistency?from=1&to=2",
        "/v1/time/resolve?local=2022-03-05T10:00&zone=Europe/Moscow",
        "/status.json",
    ] {
        let public = s.get_public(path).await;
        assert_eq!(public.status, StatusCode::OK, "{path}: {}", public.text());
        let member = s.get_as(&kp(10), path).await;
        let stranger = s.get_as(&kp(99), path).await;
        let (input, sig) = s.sign_read(&kp(10), path, s.log.clock().now().as_second(), &s.nonce());
        let garbage = s
            .get_with_headers(
                path,
                &[
                    ("signature-input", &input),
                    ("signature", &flip_signature(&sig)),
                ],
            )
            .await;
        for (who, r) in [
            ("member", member),
            ("stranger", stranger),
            ("garbage", garbage),
        ] {
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{path} signed by {who}: {}",
                r.text()
            );
            // The head carries the clock's reading, which moves between requests.
            if !path.starts_with("/v1/log/head") {
                assert_eq!(r.text(), public.text(), "{path} signed by {who}");
            }
        }
    }
    let path = "/v1/log/entries?start=0&end=2";
    let (input, sig) = s.sign_read(&kp(10), path, s.log.clock().now().as_second(), &s.nonce());
    s.get_with_headers(
        path,
        &[
            ("signature-input", &input),
            ("signature", &flip_signature(&sig)),
        ],
    )
    .await
    .expect_problem(StatusCode::UNAUTHORIZED, "auth-bad-signature");
}

/// Reads of confidential data leave a record (who, what, when) before the data is sent; the
/// intermediary sees every record, the concerned side's admins and coordinators see the records
/// about their side, and nobody else may look.
#[tokio::test]
async fn confidential_reads_are_audited() {
    let (s, at) = fixture().await;
    let size = s.snapshot().await.tree_size;
    let trail = |key: u8| {
        let s = &s;
        async move { s.get_as(&kp(key), "/v1/audit/reads").await }
    };
    assert!(
        trail(1).await.expect_json(StatusCode::OK)["reads"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Reading agreements only (open to every member) leaves no record.
    s.get_as(&kp(11), "/v1/windows")
        .await
        .expect_json(StatusCode::OK);
    // Russia's coordinator reads the entries (Ukraine's report accusing Russia among them) and
    // the incident list; the Red Cross member reads its own report.
    s.get_as(&kp(11), &format!("/v1/log/entries?start=0&end={size}"))
        .await
        .expect_json(StatusCode::OK);
    s.get_as(&kp(11), "/v1/incidents")
        .await
        .expect_json(StatusCode::OK);
    s.get_as(&kp(13), "/v1/incidents")
        .await
        .expect_json(StatusCode::OK);

    let all = trail(1).await.expect_json(StatusCode::OK)["reads"].clone();
    let all = all.as_array().unwrap();
    // One record per side concerned: Russia's two reads concern Russia and Ukraine.
    assert_eq!(all.len(), 5, "{all:?}");
    let report = format!("entry {}", at["report"]);
    let answer = format!("entry {}", at["answer"]);
    for (record, side) in all[..2].iter().zip(["ru", "ua"]) {
        assert_eq!(record["actor"], "ru/coord");
        assert_eq!(record["key"], kp(11).public().id());
        assert_eq!(record["items"], json!([report, answer]));
        assert_eq!(record["concerned"], json!([side]));
        assert!(record["at"].as_str().unwrap().starts_with("2022-03-03T"));
    }
    assert_eq!(all[2]["items"], json!(["incident ua/inc-ua-ru"]));
    assert_eq!(all[4]["actor"], "urcs/member");
    assert_eq!(all[4]["concerned"], json!(["urcs"]));

    // Ukraine's admin and coordinator see the reads about Ukraine, not the Red Cross's.
    for key in [3, 10] {
        let mine = trail(key).await.expect_json(StatusCode::OK)["reads"].clone();
        assert_eq!(mine.as_array().unwrap().len(), 2, "{mine}");
    }
    // A page at a time.
    let page = s
        .get_as(&kp(1), "/v1/audit/reads?limit=2")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(page["reads"].as_array().unwrap().len(), 2);
    let next = page["next_after"].as_u64().unwrap();
    let rest = s
        .get_as(&kp(1), &format!("/v1/audit/reads?after={next}"))
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(rest["reads"].as_array().unwrap().len(), 3);
    // Units, observers and organisation members may not inspect the trail; the public not at all.
    for key in [12, 13, UNIT.1] {
        s.get_as(&kp(key), "/v1/audit/reads")
            .await
            .expect_problem(StatusCode::FORBIDDEN, "audit-not-allowed");
    }
    s.get_public("/v1/audit/reads")
        .await
        .expect_problem(StatusCode::UNAUTHORIZED, "auth-required");
}

/// What a reader may not read leaves no trace in anything it is served: for every reader (each
/// kind of member and the public) and every entry of the fixture (registrations of every kind,
/// reports and answers, and commands signed by a party's unit), generated from the log itself.
/// An actor whose registration the reader may not read must not be named, nor its key shown, in
/// any byte the reader gets from any read path; an entry it may not read comes as the leaf
/// alone, and a leaf says no more than index, time and commitment (not who acted, nor how).
#[tokio::test]
async fn no_reader_is_served_a_trace_of_what_it_may_not_read() {
    let (s, _) = fixture().await;
    // The unit acts: a report of its own (accusing nobody, so confined to Ukraine and the
    // intermediary) and a second key.
    let mut report = report_body("ua/inc-unit");
    report.as_object_mut().unwrap().remove("accused_party");
    s.run(&kp(UNIT.1), UNIT.0, report).await;
    let second = kp(15);
    s.run(
        &kp(UNIT.1),
        UNIT.0,
        json!({"type": "key.register", "actor": UNIT.0, "key": second.public().id(),
            "key_proof": corridor_core::envelope::prove_key(&second, ORIGIN, UNIT.0)}),
    )
    .await;
    // A report by the unit that accuses Russia would be read by Russia, reporter included: it
    // is refused, and nothing is written.
    let before = s.snapshot().await;
    s.post(&sign(
        &kp(UNIT.1),
        UNIT.0,
        "unit-accuses",
        report_body("ua/inc-unit-ru"),
    ))
    .await
    .expect_problem(StatusCode::UNPROCESSABLE_ENTITY, "unit-cannot-accuse");
    assert_eq!(s.snapshot().await, before);
    let size = s.snapshot().await.tree_size;
    let all = s
        .get(&format!("/v1/log/entries?start=0&end={size}"))
        .await
        .expect_json(StatusCode::OK);
    let all: Vec<DisclosedEntry> = serde_json::from_value(all["entries"].clone()).unwrap();
    // Every actor and key a registration introduced, by the index of that registration.
    let mut introduced: Vec<(u64, Vec<String>)> = Vec::new();
    for e in &all {
        let b = &e.command["body"];
        match b["type"].as_str() {
            Some("actor.register") => introduced.push((
                e.header.index,
                vec![
                    b["actor"].as_str().unwrap().to_string(),
                    b["key"].as_str().unwrap().to_string(),
                ],
            )),
            Some("key.register") => {
                introduced.push((e.header.index, vec![b["key"].as_str().unwrap().to_string()]))
            }
            _ => {}
        }
    }
    assert!(introduced.len() >= 6, "{introduced:?}");
    let readers: Vec<Option<u8>> = READERS
        .iter()
        .map(|r| Some(r.2))
        .chain([Some(UNIT.1), None])
        .collect();
    let mut failures = Vec::new();
    for reader in readers {
        let who = match reader {
            Some(seed) => kp(seed).public().id(),
            None => "the public".into(),
        };
        let get = |path: String| {
            let s = &s;
            async move {
                match reader {
                    Some(seed) => s.get_as(&kp(seed), &path).await,
                    None => s.get_public(&path).await,
                }
            }
        };
        let mut served = Vec::new();
        for path in [
            format!("/v1/log/entries?start=0&end={size}"),
            format!("/v1/log/leaves?start=0&end={size}"),
            "/v1/log/head".into(),
            "/v1/log/checkpoint".into(),
            "/v1/incidents".into(),
            "/v1/windows".into(),
            "/v1/corridors".into(),
            "/v1/declarations".into(),
            "/v1/audit/reads".into(),
            "/metrics".into(),
            "/status.json".into(),
            "/feeds/atom.xml".into(),
        ] {
            let r = get(path.clone()).await;
            served.push((path, r.text()));
        }
        // Which entries this reader may read: the ones served in full.
        let entries: serde_json::Value = serde_json::from_str(&served[0].1).unwrap_or_default();
        let readable = |i: u64| {
            entries["entries"]
                .get(i as usize)
                .is_some_and(|e| e["withheld"] != true && e.get("command").is_some())
        };
        for (i, names) in &introduced {
            if readable(*i) {
                continue;
            }
            for name in names {
                for (path, body) in &served {
                    if body.contains(name.as_str()) {
                        failures.push(format!(
                            "{who} may not read entry {i} but {path} names {name}"
                        ));
                    }
                }
            }
        }
        if let Some(list) = entries["entries"].as_array() {
            for e in list.iter().filter(|e| e["withheld"] == true) {
                let leaf: BTreeSet<&str> = e["leaf"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .collect();
                if leaf != BTreeSet::from(["index", "time", "commitment"]) {
                    failures.push(format!(
                        "{who}: withheld entry {} shows {leaf:?}",
                        e["index"]
                    ));
                }
            }
        }
        let leaves: serde_json::Value = serde_json::from_str(&served[1].1).unwrap();
        for l in leaves["leaves"].as_array().unwrap() {
            let leaf: BTreeSet<&str> = l["leaf"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            if leaf != BTreeSet::from(["index", "time", "commitment"]) {
                failures.push(format!("{who}: leaf {} shows {leaf:?}", l["index"]));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One read that discloses several sides' confidential items (the intermediary reads the whole
/// log) shows each side only the items about it: the trail does not become a way to learn the
/// ids of another side's confidential reports.
#[tokio::test]
async fn each_side_sees_only_its_own_items_in_the_read_audit() {
    let (s, at) = fixture().await;
    let size = s.snapshot().await.tree_size;
    s.get_as(&kp(1), &format!("/v1/log/entries?start=0&end={size}"))
        .await
        .expect_json(StatusCode::OK);
    s.get_as(&kp(1), "/v1/incidents")
        .await
        .expect_json(StatusCode::OK);
    let urcs_items = [
        format!("entry {}", at["urcs-report"]),
        "incident urcs/inc-urcs".to_string(),
    ];
    for key in [3, 10, 11] {
        let trail = s
            .get_as(&kp(key), "/v1/audit/reads")
            .await
            .expect_json(StatusCode::OK);
        let text = trail.to_string();
        assert!(!trail["reads"].as_array().unwrap().is_empty(), "{text}");
        for item in &urcs_items {
            assert!(
                !text.contains(&format!("\"{item}\"")),
                "reader {key} sees {item} in {text}"
            );
        }
        for r in trail["reads"].as_array().unwrap() {
            assert_eq!(r["concerned"].as_array().unwrap().len(), 1, "{r}");
        }
    }
}

/// A recovery holder may only vote to replace its party's admin key: it reads what the public
/// reads and no more, though its key is a registered member's.
#[tokio::test]
async fn recovery_holders_read_only_what_the_public_reads() {
    let mut g = genesis();
    g.document.parties[0].recovery = Some(corridor_core::genesis::Recovery {
        keys: vec![kp(40).public().id(), kp(41).public().id()],
        threshold: 2,
    });
    g.signatures.clear();
    for (signer, seed) in [("icrc", 1), ("ua", 3), ("ru", 4)] {
        g.sign(signer, &kp(seed)).unwrap();
    }
    let s = Server::start_with_genesis(g).await;
    s.run(
        &kp(3),
        "ua/admin",
        register_body("ua/coord", "coordinator", &kp(10)),
    )
    .await;
    let size = s.snapshot().await.tree_size;
    let holder = kp(40);
    for path in [
        format!("/v1/log/entries?start=0&end={size}"),
        "/v1/windows".into(),
        "/v1/incidents".into(),
        "/v1/audit/reads".into(),
    ] {
        s.get_as(&holder, &path)
            .await
            .expect_problem(StatusCode::FORBIDDEN, "read-not-allowed");
    }
    s.get_as(&holder, &format!("/v1/log/leaves?start=0&end={size}"))
        .await
        .expect_json(StatusCode::OK);
}

/// The incident queries: each filter narrows, a bad filter is a problem document, one report by
/// id (a report one may not read is answered as absent), the GeoJSON export, the counts per side
/// labelled as claims, and the flags on the corridor and its windows.
#[tokio::test]
async fn incident_queries_filter_count_flag_and_refuse_bad_filters() {
    let s = Server::start().await;
    setup(&s).await;
    // The corridor was recorded a moment ago; a report must be of a time it already stood.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let now = s.now();
    let mut ours = report_body("ua/q1");
    ours["occurred_at"] = json!(now);
    ours["accuracy_m"] = json!(20);
    s.run_now(&kp(10), "ua/c", ours).await;
    let mut theirs = report_body("ru/q2");
    theirs["occurred_at"] = json!(now);
    theirs["accused_party"] = json!("ua");
    theirs["category"] = json!("blockade");
    // Ten kilometres south of Borodianka: no corridor.
    theirs["location"]["lat_e7"] = json!(505_451_000);
    s.run_now(&kp(11), "ru/c", theirs).await;

    let ids = |v: &serde_json::Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let list = |q: String| {
        let s = &s;
        async move {
            let v = s
                .get(&format!("/v1/incidents{q}"))
                .await
                .expect_json(StatusCode::OK);
            assert!(v["note"].as_str().unwrap().contains("claim"), "{v}");
            ids(&v, "incidents")
        }
    };
    assert_eq!(list(String::new()).await, ["ru/q2", "ua/q1"]);
    assert_eq!(list(format!("?corridor={CORRIDOR}")).await, ["ua/q1"]);
    assert_eq!(list("?category=blockade".into()).await, ["ru/q2"]);
    assert_eq!(list("?party=ru".into()).await, ["ru/q2", "ua/q1"]);
    assert_eq!(list("?status=verified".into()).await, Vec::<String>::new());
    assert_eq!(list("?bbox=29.9,50.6,30.0,50.7".into()).await, ["ua/q1"]);
    assert_eq!(
        list("?to=2022-03-01T00:00:00Z".into()).await,
        Vec::<String>::new()
    );
    let all = s.get("/v1/incidents").await.expect_json(StatusCode::OK);
    assert_eq!(
        all["counts"],
        json!({"ru": {"claims_made": 1, "claims_received": 1},
               "ua": {"claims_made": 1, "claims_received": 1}})
    );

    let one = s
        .get("/v1/incidents/ua/q1")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(one["id"], "ua/q1");
    assert_eq!(one["matches"][0]["corridor"], CORRIDOR);
    assert_eq!(one["matches"][0]["distance_m"], 0.0);
    assert_eq!(one["matches"][0]["certainly_inside"], true);
    assert!(one["matches"][0].get("window").is_none(), "{one}");
    assert_eq!(one["status"], "unverified");
    s.get("/v1/incidents/ua/nope")
        .await
        .expect_problem(StatusCode::NOT_FOUND, "unknown-incident");

    let g = s.get("/v1/incidents.geojson?category=blockade").await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.mime(), "application/geo+json");
    let g = g.json();
    assert_eq!(ids(&g, "features"), ["ru/q2"]);
    assert_eq!(
        g["features"][0]["geometry"]["coordinates"],
        json!([29.922, 50.5451])
    );

    let c = s
        .get(&format!("/v1/corridors/{CORRIDOR}"))
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(
        c["incident_flags"],
        json!({"claims": 1, "certainly_inside": 1, "while_open": 0})
    );

    for (q, field) in [
        ("?bbox=29.9,50.6,30.0", "bbox"),
        ("?bbox=29.9,50.7,30.0,50.6", "bbox"),
        ("?status=true", "status"),
        ("?category=rumour", "category"),
        ("?from=yesterday", "from"),
        ("?from=2022-03-03T10:00:00Z&to=2022-03-03T09:00:00Z", "to"),
    ] {
        let p = s
            .get(&format!("/v1/incidents{q}"))
            .await
            .expect_problem(StatusCode::BAD_REQUEST, "invalid-field");
        assert!(p["detail"].as_str().unwrap().contains(field), "{q}: {p}");
        s.get(&format!("/v1/incidents.geojson{q}"))
            .await
            .expect_problem(StatusCode::BAD_REQUEST, "invalid-field");
    }
}

/// `GET /v1/me` tells a signed reader whom their key acts for (the console builds its screens
/// from it), and tells nobody anything without a signature.
#[tokio::test]
async fn me_names_the_signing_actor_and_only_to_a_signed_reader() {
    let (s, _) = fixture().await;
    s.get_public("/v1/me")
        .await
        .expect_problem(StatusCode::UNAUTHORIZED, "auth-required");

    let coord = s
        .get_as(&kp(11), "/v1/me")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(coord["actor"]["id"], "ru/coord", "{coord}");
    assert_eq!(coord["actor"]["role"], "coordinator", "{coord}");
    assert_eq!(coord["key"], kp(11).public().to_string(), "{coord}");
    let parties: Vec<&str> = coord["parties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(parties, ["ua", "ru"], "{coord}");
    assert!(coord["parties"][0]["zone"].is_string(), "{coord}");

    let observer = s
        .get_as(&kp(12), "/v1/me")
        .await
        .expect_json(StatusCode::OK);
    assert_eq!(observer["actor"]["id"], "icrc/obs", "{observer}");
    assert_eq!(observer["actor"]["role"], "observer", "{observer}");

    // A key nobody registered is not a member.
    let stranger = s.get_as(&kp(99), "/v1/me").await;
    assert_ne!(stranger.status, StatusCode::OK, "{}", stranger.text());
}
