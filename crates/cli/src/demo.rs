//! `corridor demo`: a log preloaded with the March 2022 exercise scenario.
//!
//! The demo generates a key for every person in the scenario and writes them to
//! `DATA_DIR/keys/`, so a user can act as any of them with `corridor submit --key`. It runs on a
//! simulated clock (by default 3 March 2022, 14:50 UTC, when the second round of talks began),
//! and the genesis marks the log as an exercise, so nothing it shows can be mistaken for a real
//! corridor. Later issues add corridors and windows to the scenario.

use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use corridor_core::crypto::Keypair;
use corridor_core::envelope::{Draft, SignedCommand};
use corridor_core::genesis::{self, GenesisDocument, Names, Party, Policy, SignedGenesis};
use corridor_server::Log;
use corridor_storage::Database;
use corridor_storage_sqlite::Sqlite;
use serde_json::{Value, json};

use crate::{keys, ops};

/// The demo log's origin.
pub const ORIGIN: &str = "corridor.demo/march-2022-exercise";

fn names(en: &str, uk: &str, ru: &str) -> Names {
    Names {
        en: en.into(),
        uk: uk.into(),
        ru: ru.into(),
    }
}

fn new_key(dir: &Path, file: &str, actor: Option<&str>) -> anyhow::Result<Keypair> {
    let kp = Keypair::from_seed(keys::random_seed());
    keys::write_new(&dir.join(file), &kp, actor)?;
    Ok(kp)
}

/// The scenario's settlements (HXL CSV), kept in the repository.
const SETTLEMENTS_CSV: &str = include_str!("../../../scenario/settlements.csv");
/// The scenario's route (GeoJSON Feature).
const ROUTE_GEOJSON: &str = include_str!("../../../scenario/borodianka-berestianka.geojson");
/// The demo corridor's id.
const CORRIDOR: &str = "borodianka-berestianka";

fn t3(en: &str, uk: &str, ru: &str) -> Value {
    json!({"en": en, "uk": uk, "ru": ru})
}

fn corridor_terms() -> anyhow::Result<Value> {
    let feature: Value = serde_json::from_str(ROUTE_GEOJSON)?;
    let coords = feature["geometry"]["coordinates"]
        .as_array()
        .context("route coordinates")?;
    let route: Vec<[i64; 2]> = coords
        .iter()
        .map(|p| {
            let e7 = |v: &Value| v.as_f64().map(|x| (x * 1e7).round() as i64);
            Ok([e7(&p[0]).context("lon")?, e7(&p[1]).context("lat")?])
        })
        .collect::<anyhow::Result<_>>()?;
    let mid = route[route.len() / 2];
    Ok(json!({
        "names": t3("Borodianka – Berestianka", "Бородянка – Берестянка", "Бородянка – Берестянка"),
        "route": route,
        "buffer_m": feature["properties"]["buffer_m"].as_i64().unwrap_or(500),
        "origin": "borodianka",
        "destination": "berestianka",
        "checkpoints": [{"names": t3("Checkpoint on the Berestianka road", "Блокпост на дорозі до Берестянки", "Блокпост на дороге в Берестянку"),
                         "location": {"lon_e7": mid[0], "lat_e7": mid[1]}}],
        "purpose": "evacuation",
        "who_may_leave": t3("All civilians who wish to leave, with their pets",
            "Усі цивільні, які бажають виїхати, разом із домашніми тваринами",
            "Все гражданские лица, желающие выехать, вместе с домашними животными"),
        "aid_may_enter": false,
        "reception": t3("Reception point at the Berestianka school", "Пункт прийому в школі Берестянки", "Пункт приёма в школе Берестянки"),
        "instructions": {
            "bring": t3("Identity documents, water, warm clothes, medicines for three days. One bag per person.",
                "Документи, що посвідчують особу, воду, теплий одяг, ліки на три дні. Одна сумка на людину.",
                "Документы, удостоверяющие личность, воду, тёплую одежду, лекарства на три дня. Одна сумка на человека."),
            "gather": t3("Central square of Borodianka, by the bus stop, from 09:00 Kyiv time (10:00 Moscow time).",
                "Центральна площа Бородянки, біля автобусної зупинки, з 09:00 за київським часом (10:00 за московським).",
                "Центральная площадь Бородянки, у автобусной остановки, с 09:00 по киевскому времени (10:00 по московскому)."),
            "if_suspended": t3("Stay in shelter and wait for the next announcement. Do not set out on the route.",
                "Залишайтеся в укритті й чекайте наступного оголошення. Не виходьте на маршрут.",
                "Оставайтесь в укрытии и ждите следующего объявления. Не выходите на маршрут."),
        },
        "binding_language": "uk",
    }))
}

/// Window terms stated in Moscow time, as the announcements were; signed as UTC.
fn window_terms(start: &str, end: &str, guarantees: Value) -> anyhow::Result<Value> {
    let utc = |local: &str| {
        corridor_core::localtime::resolve(local, "Europe/Moscow", None)
            .map(|t| t.to_string())
            .map_err(|e| anyhow::anyhow!("{e}"))
    };
    Ok(json!({
        "start": utc(start)?, "end": utc(end)?,
        "start_local": {"local": start, "zone": "Europe/Moscow"},
        "end_local": {"local": end, "zone": "Europe/Moscow"},
        "required_parties": ["ua", "ru"],
        "guarantees": guarantees,
    }))
}

async fn version_hash(log: &Log, window: &str) -> anyhow::Result<String> {
    let row = log
        .db()
        .projection_row("window", window)
        .await?
        .context("the demo window was not recorded")?;
    let w: corridor_core::agreement::Window = serde_json::from_value(row.body)?;
    Ok(w.latest().hash.clone())
}

/// The instant the scenario begins (3 March 2022, 14:50 UTC, when the second round of talks
/// began): its genesis, registrations, incident, corridor and windows are entered from then on.
pub const SCENARIO_START: &str = "2022-03-03T14:50:00Z";

/// Prepare the data directory (if empty) and serve.
///
/// The scenario is always entered at its own times, on a clock that starts at
/// [`SCENARIO_START`], and only then does the exercise clock start at the instant asked for:
/// entered at a later instant, the 4 March window would be refused as `window-in-past`, and an
/// exercise must be startable at any instant of its scenario (a drill that begins while the
/// 5 March window is open, say). An instant before the scenario begins is refused: the log
/// cannot hold entries dated after the clock it runs on.
pub async fn run(
    data_dir: &Path,
    listen: SocketAddr,
    clock: &str,
    rate: f64,
    no_serve: bool,
    no_rate_limits: bool,
) -> anyhow::Result<()> {
    ops::init_tracing();
    let asked = ops::clock_arg(Some(clock), rate)?;
    let start: jiff::Timestamp = SCENARIO_START.parse()?;
    if asked.now() < start {
        bail!(
            "--clock {clock}: the exercise scenario begins at {SCENARIO_START}; give an instant \
             from then on (e.g. 2022-03-05T08:00:00Z), and the scenario is loaded at its own \
             times before the clock starts there"
        );
    }
    if !ops::db_path(data_dir).exists() {
        let data_dir = data_dir.to_path_buf();
        // In a runtime of its own, ended before the log is opened again at the instant asked:
        // its tasks (sequencer, checkpointer, public site) end with it, so only one log serves.
        let loaded = std::thread::spawn(move || -> anyhow::Result<()> {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async {
                let log = prepare(
                    &data_dir,
                    corridor_server::Clock::simulated(start, 1.0),
                    no_rate_limits,
                )
                .await?;
                log.stop().await?;
                anyhow::Ok(())
            })
        });
        tokio::task::spawn_blocking(move || loaded.join())
            .await?
            .map_err(|_| anyhow::anyhow!("loading the scenario panicked"))??;
    }
    let db: Arc<dyn Database> = Arc::new(Sqlite::open(&ops::db_path(data_dir)).await?);
    let log_key = keys::load(&data_dir.join("log.key"))?.keypair;
    let log = Log::open(db, log_key, None, asked).await?;
    let keys_dir = data_dir.join("keys");
    println!("corridor demo — EXERCISE, March 2022 scenario, simulated clock");
    println!("data directory: {}", data_dir.display());
    // The clock never starts behind the log it serves (see `Clock::not_before`), so on a data
    // directory used before it may start later than asked: say where it is.
    println!(
        "exercise clock: {} (scenario from {SCENARIO_START})",
        log.clock().now().round(jiff::Unit::Second)?
    );
    println!("key files (act as any of these people with `corridor submit --key FILE`):");
    let mut files: Vec<_> = fs::read_dir(&keys_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "key"))
        .collect();
    files.sort();
    for f in files {
        let actor = keys::load(&f)?.actor.unwrap_or_default();
        println!("  {:<48} {actor}", f.display());
    }
    if no_serve {
        log.publish_checkpoint().await?;
        return Ok(());
    }
    ops::run_server(log, listen, None).await
}

async fn prepare(
    data_dir: &Path,
    clock: corridor_server::Clock,
    no_rate_limits: bool,
) -> anyhow::Result<Arc<Log>> {
    let keys_dir = data_dir.join("keys");
    fs::create_dir_all(&keys_dir)
        .with_context(|| format!("cannot create {}", keys_dir.display()))?;
    let log_key = new_key(data_dir, "log.key", None)?;
    let icrc = new_key(
        &keys_dir,
        "intermediary-admin.key",
        Some("intermediary/admin"),
    )?;
    let ua = new_key(&keys_dir, "ua-admin.key", Some("ua/admin"))?;
    let ru = new_key(&keys_dir, "ru-admin.key", Some("ru/admin"))?;
    let org = new_key(&keys_dir, "convoys-admin.key", Some("convoys/admin"))?;
    let doc = GenesisDocument {
        v: 1,
        origin: ORIGIN.into(),
        exercise: true,
        log_key: log_key.public().id(),
        intermediary: genesis::Body {
            id: "intermediary".into(),
            names: names(
                "Neutral intermediary (exercise)",
                "Нейтральний посередник (навчання)",
                "Нейтральный посредник (учения)",
            ),
            admin_key: icrc.public().id(),
        },
        parties: vec![
            Party {
                id: "ua".into(),
                names: names("Ukraine", "Україна", "Украина"),
                zone: "Europe/Kyiv".into(),
                admin_key: ua.public().id(),
                recovery: None,
            },
            Party {
                id: "ru".into(),
                names: names(
                    "Russian Federation",
                    "Російська Федерація",
                    "Российская Федерация",
                ),
                zone: "Europe/Moscow".into(),
                admin_key: ru.public().id(),
                recovery: None,
            },
        ],
        organisations: vec![genesis::Body {
            id: "convoys".into(),
            names: names(
                "Humanitarian convoy operator (exercise)",
                "Оператор гуманітарних колон (навчання)",
                "Оператор гуманитарных колонн (учения)",
            ),
            admin_key: org.public().id(),
        }],
        policy: Policy {
            rate_limits: no_rate_limits.then(genesis::RateLimits::none),
            ..Policy::default()
        },
    };
    let mut g = SignedGenesis {
        document: doc,
        signatures: vec![],
    };
    for (who, k) in [
        ("intermediary", &icrc),
        ("ua", &ua),
        ("ru", &ru),
        ("convoys", &org),
    ] {
        g.sign(who, k).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    fs::write(
        data_dir.join("genesis.json"),
        serde_json::to_string_pretty(&g)? + "\n",
    )?;
    let db: Arc<dyn Database> = Arc::new(Sqlite::open(&ops::db_path(data_dir)).await?);
    let log = Log::open(db, log_key, Some(g), clock).await?;

    let ua_coord = new_key(
        &keys_dir,
        "ua-coord-kyiv-oblast.key",
        Some("ua/coord-kyiv-oblast"),
    )?;
    let ru_coord = new_key(&keys_dir, "ru-coord-1.key", Some("ru/coord-1"))?;
    let lead = new_key(&keys_dir, "convoys-lead.key", Some("convoys/lead"))?;
    let mut n = 0;
    let mut act = |log: Arc<Log>, key: Keypair, actor: &'static str, body: Value| {
        n += 1;
        let id = format!("demo-{n}");
        async move {
            let time = corridor_core::time::format_log_time(log.clock().now());
            let time = format!("{}Z", &time[..19]);
            let bytes = Draft {
                origin: ORIGIN,
                actor,
                id: &id,
                time: &time,
                body,
            }
            .sign(&key);
            let cmd = SignedCommand::parse(&bytes, ORIGIN).map_err(|e| anyhow::anyhow!("{e}"))?;
            log.submit(cmd)
                .await
                .map_err(|e| anyhow::anyhow!("demo command {id} failed: {e:?}"))
        }
    };
    let reg = |actor: &str, role: &str, k: &Keypair, name: &str| {
        json!({"type": "actor.register", "actor": actor, "role": role, "key": k.public().id(),
               "key_proof": corridor_core::envelope::prove_key(k, ORIGIN, actor), "name": name})
    };
    act(
        log.clone(),
        ua.clone(),
        "ua/admin",
        reg(
            "ua/coord-kyiv-oblast",
            "coordinator",
            &ua_coord,
            "Humanitarian coordinator, Kyiv oblast",
        ),
    )
    .await?;
    act(
        log.clone(),
        ru.clone(),
        "ru/admin",
        reg(
            "ru/coord-1",
            "coordinator",
            &ru_coord,
            "Humanitarian coordinator",
        ),
    )
    .await?;
    act(
        log.clone(),
        org.clone(),
        "convoys/admin",
        reg("convoys/lead", "organisation-member", &lead, "Convoy lead"),
    )
    .await?;
    act(
        log.clone(),
        ua_coord.clone(),
        "ua/coord-kyiv-oblast",
        json!({"type": "incident.report", "incident": "ua/demo-borodianka-1",
               "occurred_at": "2022-03-03T13:30:00Z",
               "location": {"lat_e7": 506_451_000, "lon_e7": 299_220_000},
               "category": "shelling", "accused_party": "ru",
               "description": "Exercise: shelling reported near the gathering point in Borodianka while buses waited."}),
    )
    .await?;
    act(
        log.clone(),
        ru_coord.clone(),
        "ru/coord-1",
        json!({"type": "incident.respond", "incident": "ua/demo-borodianka-1",
               "text": "Exercise: the accused party denies firing in this sector at that time."}),
    )
    .await?;

    // Settlements from the scenario file, and the corridor announced on 3 March 2022 from
    // Borodianka "in the direction of Berestyanka".
    let settlements = corridor_core::hxl::parse_settlements(SETTLEMENTS_CSV, "Europe/Kyiv")
        .map_err(|e| anyhow::anyhow!("scenario settlements: {e}"))?;
    act(
        log.clone(),
        icrc.clone(),
        "intermediary/admin",
        json!({"type": "settlement.import", "settlements": settlements}),
    )
    .await?;
    act(
        log.clone(),
        icrc.clone(),
        "intermediary/admin",
        json!({"type": "corridor.propose", "corridor": CORRIDOR, "terms": corridor_terms()?}),
    )
    .await?;

    // An agreed window on 4 March, 10:00–18:00 Moscow time: proposed by the intermediary, each
    // party states its own guarantee, both consent to the same version.
    let w1 = "borodianka-2022-03-04";
    act(
        log.clone(),
        icrc.clone(),
        "intermediary/admin",
        json!({"type": "window.propose", "window": w1, "corridor": CORRIDOR, "corridor_version": 1,
        "terms": window_terms("2022-03-04T10:00", "2022-03-04T18:00", json!({}))?}),
    )
    .await?;
    let ua_g =
        "Ukraine will hold fire along the route and at the gathering point for the whole window.";
    let ru_g = "The Russian Federation will hold fire along the route for the whole window.";
    act(
        log.clone(),
        ua_coord.clone(),
        "ua/coord-kyiv-oblast",
        json!({"type": "window.amend", "window": w1, "base_version": 1, "corridor_version": 1,
        "terms": window_terms("2022-03-04T10:00", "2022-03-04T18:00", json!({"ua": ua_g}))?}),
    )
    .await?;
    act(log.clone(), ru_coord.clone(), "ru/coord-1", json!({"type": "window.amend", "window": w1, "base_version": 2, "corridor_version": 1,
        "terms": window_terms("2022-03-04T10:00", "2022-03-04T18:00", json!({"ua": ua_g, "ru": ru_g}))?})).await?;
    let hash = version_hash(&log, w1).await?;
    act(
        log.clone(),
        ua_coord.clone(),
        "ua/coord-kyiv-oblast",
        json!({"type": "window.consent", "window": w1, "party": "ua", "version_hash": hash}),
    )
    .await?;
    act(
        log.clone(),
        ru_coord.clone(),
        "ru/coord-1",
        json!({"type": "window.consent", "window": w1, "party": "ru", "version_hash": hash}),
    )
    .await?;

    // A second proposal for 5 March, awaiting the Russian Federation's consent.
    let w2 = "borodianka-2022-03-05";
    act(
        log.clone(),
        ua_coord.clone(),
        "ua/coord-kyiv-oblast",
        json!({"type": "window.propose", "window": w2, "corridor": CORRIDOR, "corridor_version": 1,
        "terms": window_terms("2022-03-05T10:00", "2022-03-05T18:00", json!({"ua": ua_g}))?}),
    )
    .await?;
    act(log.clone(), ru_coord, "ru/coord-1", json!({"type": "window.amend", "window": w2, "base_version": 1, "corridor_version": 1,
        "terms": window_terms("2022-03-05T10:00", "2022-03-05T18:00", json!({"ua": ua_g, "ru": ru_g}))?})).await?;
    let hash = version_hash(&log, w2).await?;
    act(
        log.clone(),
        ua_coord,
        "ua/coord-kyiv-oblast",
        json!({"type": "window.consent", "window": w2, "party": "ua", "version_hash": hash}),
    )
    .await?;
    Ok(log)
}
