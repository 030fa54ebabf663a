//! A March 2022 sample for tests: the scenario's settlements, the Borodianka – Berestianka
//! corridor, and windows in every public state. Records are built directly (not through the
//! reducer) so a test can put a window in exactly the state it needs; the reducer's own tests
//! cover how those states arise.

use corridor_core::agreement::{
    ActKind, Agreements, Corridor, CorridorTerms, CorridorVersion, Declaration, Instructions, Lang,
    PublicReason, Purpose, RouteCheckpoint, Window, WindowAct, WindowTerms, WindowVersion,
};
use corridor_core::command::Point;
use corridor_core::genesis::{GenesisDocument, Names, Party, Policy};
use jiff::Timestamp;

use crate::Cited;

const SETTLEMENTS_CSV: &str = include_str!("../../../scenario/settlements.csv");
const ROUTE_GEOJSON: &str = include_str!("../../../scenario/borodianka-berestianka.geojson");

/// The corridor's id.
pub const CORRIDOR: &str = "borodianka-berestianka";

/// Three-language names.
pub fn t3(en: &str, uk: &str, ru: &str) -> Names {
    Names {
        en: en.into(),
        uk: uk.into(),
        ru: ru.into(),
    }
}

/// A genesis for an exercise log with parties `ua` (Europe/Kyiv) and `ru` (Europe/Moscow).
pub fn genesis() -> GenesisDocument {
    let body = |id: &str, n: Names| corridor_core::genesis::Body {
        id: id.into(),
        names: n,
        admin_key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
    };
    GenesisDocument {
        v: 1,
        origin: "corridor.demo/march-2022-exercise".into(),
        exercise: true,
        log_key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
        intermediary: body(
            "icrc",
            t3(
                "International Committee of the Red Cross",
                "Міжнародний комітет Червоного Хреста",
                "Международный комитет Красного Креста",
            ),
        ),
        parties: vec![
            Party {
                id: "ua".into(),
                names: t3("Ukraine", "Україна", "Украина"),
                zone: "Europe/Kyiv".into(),
                admin_key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
                recovery: None,
            },
            Party {
                id: "ru".into(),
                names: t3(
                    "Russian Federation",
                    "Російська Федерація",
                    "Российская Федерация",
                ),
                zone: "Europe/Moscow".into(),
                admin_key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
                recovery: None,
            },
        ],
        organisations: vec![],
        policy: Policy::default(),
        witnesses: None,
    }
}

/// The corridor's agreed terms (as in `corridor demo`).
pub fn corridor_terms() -> CorridorTerms {
    let route = corridor_core::agreement::route_from_geojson(
        &serde_json::from_str(ROUTE_GEOJSON).expect("scenario route is JSON"),
    )
    .expect("scenario route is valid");
    let mid = route[route.len() / 2];
    CorridorTerms {
        names: t3(
            "Borodianka – Berestianka",
            "Бородянка – Берестянка",
            "Бородянка – Берестянка",
        ),
        route,
        buffer_m: 500,
        origin: "borodianka".into(),
        destination: "berestianka".into(),
        checkpoints: vec![RouteCheckpoint {
            names: t3(
                "Checkpoint on the Berestianka road",
                "Блокпост на дорозі до Берестянки",
                "Блокпост на дороге в Берестянку",
            ),
            location: Point {
                lon_e7: mid[0],
                lat_e7: mid[1],
            },
        }],
        purpose: Purpose::Evacuation,
        who_may_leave: Some(t3(
            "All civilians who wish to leave, with their pets",
            "Усі цивільні, які бажають виїхати, разом із домашніми тваринами",
            "Все гражданские лица, желающие выехать, вместе с домашними животными",
        )),
        aid_may_enter: Some(false),
        reception: Some(t3(
            "Reception point at the Berestianka school",
            "Пункт прийому в школі Берестянки",
            "Пункт приёма в школе Берестянки",
        )),
        instructions: Some(Instructions {
            bring: t3(
                "Identity documents, water, warm clothes, medicines for three days. One bag per person.",
                "Документи, що посвідчують особу, воду, теплий одяг, ліки на три дні. Одна сумка на людину.",
                "Документы, удостоверяющие личность, воду, тёплую одежду, лекарства на три дня. Одна сумка на человека.",
            ),
            gather: t3(
                "Central square of Borodianka, by the bus stop.",
                "Центральна площа Бородянки, біля автобусної зупинки.",
                "Центральная площадь Бородянки, у автобусной остановки.",
            ),
            if_suspended: t3(
                "Stay in shelter and wait for the next announcement. Do not set out on the route.",
                "Залишайтеся в укритті й чекайте наступного оголошення. Не виходьте на маршрут.",
                "Оставайтесь в укрытии и ждите следующего объявления. Не выходите на маршрут.",
            ),
        }),
        binding_language: Lang::Uk,
    }
}

/// An instant from RFC 3339.
pub fn at(s: &str) -> Timestamp {
    s.parse().expect("fixture instants are valid")
}

/// A window version from `start` to `end` (UTC), proposed at `at_time` as entry `index`.
pub fn window(id: &str, start: &str, end: &str, at_time: &str, index: u64) -> Window {
    Window {
        id: id.into(),
        corridor: CORRIDOR.into(),
        proposer: "icrc/coord-1".into(),
        versions: vec![WindowVersion {
            version: 1,
            corridor_version: 1,
            terms: WindowTerms {
                start: start.into(),
                end: end.into(),
                start_local: None,
                end_local: None,
                required_parties: vec!["ua".into(), "ru".into()],
                guarantees: Default::default(),
            },
            hash: format!("hash-of-{id}-v1"),
            actor: "icrc/coord-1".into(),
            at_index: index,
            at_time: at_time.into(),
        }],
        acts: vec![],
    }
}

/// Record an act on the window's latest version (`consent`, `suspend`, `resume`, `withdraw`,
/// `cancel`).
pub fn act(w: &mut Window, kind: ActKind, party: Option<&str>, at_time: &str, index: u64) {
    let hash = w.latest().hash.clone();
    w.acts.push(WindowAct {
        kind,
        party: party.map(Into::into),
        actor: format!("{}/coord-1", party.unwrap_or("icrc")),
        version_hash: matches!(kind, ActKind::Consent | ActKind::Resume).then_some(hash),
        reason: matches!(kind, ActKind::Suspend | ActKind::Withdraw | ActKind::Cancel)
            .then(|| format!("{}: shelling reported near the route", kind.as_str())),
        public_reason: matches!(kind, ActKind::Suspend | ActKind::Withdraw)
            .then_some(PublicReason::Shelling),
        at_index: index,
        at_time: at_time.into(),
        void: false,
    });
}

/// Both parties consent to the window's latest version.
pub fn agree(w: &mut Window, at_time: &str, index: u64) {
    act(w, ActKind::Consent, Some("ua"), at_time, index);
    act(w, ActKind::Consent, Some("ru"), at_time, index + 1);
}

/// Settlements, the corridor, and windows: `w-0304` agreed for 4 March 07:00–15:00 UTC
/// (10:00–18:00 Moscow time), `w-0305` agreed for 5 March, `w-0306` only proposed (never
/// public), and a declaration by `ru`.
pub fn agreements() -> Agreements {
    let mut a = Agreements::default();
    for s in corridor_core::hxl::parse_settlements(SETTLEMENTS_CSV, "Europe/Kyiv")
        .expect("scenario settlements parse")
    {
        a.settlements.insert(s.id.clone(), s);
    }
    a.corridors.insert(
        CORRIDOR.into(),
        Corridor {
            id: CORRIDOR.into(),
            versions: vec![CorridorVersion {
                version: 1,
                terms: corridor_terms(),
                actor: "icrc/coord-1".into(),
                at_index: 2,
                at_time: "2022-03-03T12:00:00.000000Z".into(),
            }],
        },
    );
    let mut w1 = window(
        "w-0304",
        "2022-03-04T07:00:00Z",
        "2022-03-04T15:00:00Z",
        "2022-03-03T12:10:00.000000Z",
        3,
    );
    agree(&mut w1, "2022-03-03T13:00:00.000000Z", 4);
    let mut w2 = window(
        "w-0305",
        "2022-03-05T07:00:00Z",
        "2022-03-05T15:00:00Z",
        "2022-03-03T12:20:00.000000Z",
        6,
    );
    agree(&mut w2, "2022-03-03T13:30:00.000000Z", 7);
    let w3 = window(
        "w-0306",
        "2022-03-06T07:00:00Z",
        "2022-03-06T15:00:00Z",
        "2022-03-03T12:30:00.000000Z",
        9,
    );
    for w in [w1, w2, w3] {
        a.windows.insert(w.id.clone(), w);
    }
    a.declarations.insert(
        "ru-decl-1".into(),
        Declaration {
            id: "ru-decl-1".into(),
            party: "ru".into(),
            actor: "ru/admin".into(),
            corridor: Some(CORRIDOR.into()),
            start: "2022-03-05T07:00:00Z".into(),
            end: None,
            text: t3(
                "The Russian Federation declares a ceasefire from 10:00 Moscow time.",
                "Російська Федерація оголошує режим тиші з 10:00 за московським часом.",
                "Российская Федерация объявляет режим тишины с 10:00 по московскому времени.",
            ),
            at_index: 10,
        },
    );
    a
}

/// A checkpoint to cite.
pub fn cited() -> Cited {
    Cited {
        size: 11,
        root: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".into(),
        witnessed: None,
    }
}
