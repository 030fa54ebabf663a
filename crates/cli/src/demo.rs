//! `corridor demo`: a log preloaded with the March 2022 exercise scenario.
//!
//! The demo generates a key for every person in the scenario and writes them to
//! `DATA_DIR/keys/` (units' keys to `DATA_DIR/keys/units/`), so a user can act as any of them
//! with `--key`. The genesis marks the log as an exercise, so nothing it shows can be mistaken
//! for a real corridor. The scenario is a sequence of scenes, each entered on a simulated clock
//! that reads the scene's instant: from 3 March 2022, 14:50 UTC (the second round of talks), the
//! corridor from Borodianka and its windows; that evening the parties' units, two convoys notified
//! for the 4 March window and their acknowledgements (one missing); on 4 March a thread about the
//! evacuation convoy, and the convoy's movement, receipts and outcome.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use corridor_core::crypto::Keypair;
use corridor_core::envelope::{Draft, SignedCommand};
use corridor_core::genesis::{self, GenesisDocument, Names, Party, Policy, SignedGenesis};
use corridor_server::Log;
use corridor_storage::Database;
use corridor_storage_sqlite::Sqlite;
use jiff::Timestamp;
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

/// The instant the scenario begins (3 March 2022, 14:50 UTC, when the second round of talks
/// began): its genesis, registrations, incident, corridor and windows are entered from then on.
pub const SCENARIO_START: &str = "2022-03-03T14:50:00Z";

/// Where the exercise clock starts unless told: 4 March 2022, 12:00 UTC (14:00 in Kyiv, 15:00 in
/// Moscow), inside the agreed window, after its evacuation convoy arrived and while the aid
/// convoy's acknowledgement by the Russian Federation is overdue.
pub const DEFAULT_CLOCK: &str = "2022-03-04T12:00:00Z";

/// Prepare the data directory (if empty) and serve.
///
/// The scenario is entered at its own times (each scene on a clock that reads the scene's
/// instant) up to the instant asked for, and only then does the exercise clock start there:
/// entered at a later instant, the 4 March window would be refused as `window-in-past`, and an
/// exercise must be startable at any instant of its scenario (a drill that begins while the
/// evacuation convoy is on the road, say). Scenes after that instant are left out: they have
/// not happened yet. An instant before the scenario begins is refused: the log cannot hold
/// entries dated after the clock it runs on.
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
    let until = asked.now();
    if until < start {
        bail!(
            "--clock {clock}: the exercise scenario begins at {SCENARIO_START}; give an instant \
             from then on (e.g. 2022-03-05T08:00:00Z), and the scenario is loaded at its own \
             times up to it before the clock starts there"
        );
    }
    if !ops::db_path(data_dir).exists() {
        let data_dir = data_dir.to_path_buf();
        // On a thread of its own: each scene opens the log in a runtime of its own and ends it
        // (its tasks, sequencer, checkpointer, end with it) before the next scene, and before
        // the log is opened again at the instant asked, so only one log is ever open.
        let loaded = std::thread::spawn(move || prepare(&data_dir, until, no_rate_limits));
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
    let mut files = Vec::new();
    for dir in [keys_dir.clone(), keys_dir.join("units")] {
        if dir.is_dir() {
            files.extend(
                fs::read_dir(&dir)?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "key")),
            );
        }
    }
    files.sort();
    for f in files {
        let actor = keys::load(&f)?.actor.unwrap_or_default();
        println!("  {:<48} {actor}", f.display());
    }
    if no_serve {
        log.publish_checkpoint().await?;
        return Ok(());
    }
    ops::start_webhooks(&log, &data_dir.join("webhook.key"), false)?;
    start_witnesses(&log, data_dir).await?;
    ops::run_server(log, listen, None).await
}

/// The exercise's rounds of talks: round 1 (28 February 2022, Gomel region) held, round 2
/// (3 March, Belovezhskaya Pushcha, from 17:50 Moscow time) under way; the humanitarian point
/// `h-1` and the military point `m-1` with both parties' positions on it; each party's
/// signatory. Names are functions, not people: this is an exercise.
fn register_talks(
    s: &mut Stage,
    icrc: &Keypair,
    ua: &Keypair,
    ru: &Keypair,
    [ua_coord, ru_coord]: [&Keypair; 2],
    [ua_sign, ru_sign]: [&Keypair; 2],
) -> anyhow::Result<()> {
    s.act(
        ua,
        "ua/admin",
        register(
            "ua/signatory",
            "signatory",
            ua_sign,
            "Head of delegation, signs for Ukraine (exercise)",
        ),
    )?;
    s.act(
        ru,
        "ru/admin",
        register(
            "ru/signatory",
            "signatory",
            ru_sign,
            "Head of delegation, signs for the Russian Federation (exercise)",
        ),
    )?;
    let delegations = json!({
        "ua": [{"name": "Head of delegation (exercise)", "role": "head"},
               {"name": "Humanitarian adviser (exercise)", "role": "member"}],
        "ru": [{"name": "Head of delegation (exercise)", "role": "head"},
               {"name": "Military expert (exercise)", "role": "expert"}]});
    s.act(icrc, "intermediary/admin", json!({"type": "round.record", "round": "round-1",
        "number": 1, "starts": "2022-02-28T09:00:00Z",
        "starts_local": {"local": "2022-02-28T12:00", "zone": "Europe/Moscow"},
        "venue": {"en": "Gomel region, Belarus (exercise)", "uk": "Гомельська область, Білорусь (навчання)",
                  "ru": "Гомельская область, Беларусь (учения)"},
        "format": "in-person", "delegations": delegations,
        "outcome": "Exercise: the delegations set out their positions in three baskets and agreed to meet again."}))?;
    s.act(
        icrc,
        "intermediary/admin",
        json!({"type": "round.record", "round": "round-2",
        "number": 2, "starts": "2022-03-03T14:50:00Z",
        "starts_local": {"local": "2022-03-03T17:50", "zone": "Europe/Moscow"},
        "venue": {"en": "Belovezhskaya Pushcha, Belarus (exercise)",
                  "uk": "Біловезька пуща, Білорусь (навчання)",
                  "ru": "Беловежская пуща, Беларусь (учения)"},
        "format": "in-person", "delegations": delegations}),
    )?;
    s.act(icrc, "intermediary/admin", json!({"type": "point.propose", "point": "h-1",
        "basket": "humanitarian", "round": "round-2", "text": {
        "ru": "Совместное обеспечение гуманитарных коридоров для эвакуации мирного населения и доставки медикаментов и продовольствия; временное прекращение огня на время гуманитарной операции в районах эвакуации (учения).",
        "uk": "Спільне забезпечення гуманітарних коридорів для евакуації мирного населення та доставки ліків і продовольства; тимчасове припинення вогню на час гуманітарної операції в районах евакуації (навчання).",
        "en": "Joint provision of humanitarian corridors to evacuate civilians and deliver medicine and food; a temporary ceasefire for the duration of the humanitarian operation where an evacuation takes place (exercise)."}}))?;
    s.act(
        icrc,
        "intermediary/admin",
        json!({"type": "point.propose", "point": "m-1",
        "basket": "military", "round": "round-2", "text": {
        "en": "A ceasefire along the whole line of contact (exercise).",
        "uk": "Припинення вогню вздовж усієї лінії зіткнення (навчання).",
        "ru": "Прекращение огня по всей линии соприкосновения (учения)."}}),
    )?;
    s.act(
        ua_coord,
        "ua/coord-kyiv-oblast",
        json!({"type": "point.position", "point": "m-1",
        "version": 1, "party": "ua", "round": "round-2", "stance": "accepts",
        "text": "Exercise: a full ceasefire comes first."}),
    )?;
    s.act(
        ru_coord,
        "ru/coord-1",
        json!({"type": "point.position", "point": "m-1",
        "version": 1, "party": "ru", "round": "round-2", "stance": "reserves",
        "text": "Exercise: only as part of an overall settlement."}),
    )?;
    Ok(())
}

/// The end of round 2: both parties accept `h-1`, it becomes agreed text and is linked to the
/// corridor and its 4 March window `w1`, the round's outcome and communiqué are recorded, and a
/// protocol of the agreed point is signed by both signatories.
fn agree_on_corridors(
    s: &mut Stage,
    icrc: &Keypair,
    [ua_coord, ru_coord]: [&Keypair; 2],
    [ua_sign, ru_sign]: [&Keypair; 2],
    w1: &str,
) -> anyhow::Result<()> {
    for (k, actor, party) in [
        (ua_coord, "ua/coord-kyiv-oblast", "ua"),
        (ru_coord, "ru/coord-1", "ru"),
    ] {
        s.act(
            k,
            actor,
            json!({"type": "point.position", "point": "h-1", "version": 1,
            "party": party, "round": "round-2", "stance": "accepts",
            "text": "Exercise: agreed, at agreed places, not everywhere."}),
        )?;
    }
    s.act(
        icrc,
        "intermediary/admin",
        json!({"type": "point.status", "point": "h-1",
        "version": 1, "round": "round-2", "status": "agreed-text"}),
    )?;
    s.act(
        icrc,
        "intermediary/admin",
        json!({"type": "point.link", "point": "h-1",
        "corridors": [CORRIDOR], "windows": [w1]}),
    )?;
    s.act(icrc, "intermediary/admin", json!({"type": "round.conclude", "round": "round-2",
        "outcome": "Exercise: agreement on the joint provision of humanitarian corridors; a third round announced for the following week.",
        "communique": [
            {"lang": "ru", "original": true, "text": "Учения: стороны договорились о совместном обеспечении гуманитарных коридоров."},
            {"lang": "uk", "original": false, "text": "Навчання: сторони домовилися про спільне забезпечення гуманітарних коридорів."},
            {"lang": "en", "original": false, "text": "Exercise: the parties agreed on the joint provision of humanitarian corridors."}]}))?;
    s.act(icrc, "intermediary/admin", json!({"type": "document.draft", "document": "protocol-2022-03-03",
        "title": {"ru": "Протокол о гуманитарных коридорах (учения)", "uk": "Протокол про гуманітарні коридори (навчання)",
                  "en": "Protocol on humanitarian corridors (exercise)"},
        "points": ["h-1"], "binding_language": "ru",
        "text": {"ru": "Стороны договорились о совместном обеспечении гуманитарных коридоров (пункт h-1) (учения).",
                 "uk": "Сторони домовилися про спільне забезпечення гуманітарних коридорів (пункт h-1) (навчання).",
                 "en": "The parties agreed on the joint provision of humanitarian corridors (point h-1) (exercise)."}}))?;
    let hash = {
        let (rt, log) = s.open.as_ref().context("no scene is open")?;
        let row = rt
            .block_on(log.db().projection_row("document", "protocol-2022-03-03"))?
            .context("the protocol was drafted")?;
        row.body["versions"][0]["hash"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    for (k, actor, party) in [
        (ua_sign, "ua/signatory", "ua"),
        (ru_sign, "ru/signatory", "ru"),
    ] {
        s.act(
            k,
            actor,
            json!({"type": "document.sign", "document": "protocol-2022-03-03",
            "party": party, "version_hash": hash}),
        )?;
    }
    Ok(())
}

/// The demo's witnesses: one per party, by party id and witness name.
const DEMO_WITNESSES: [(&str, &str); 2] = [
    ("ua", "witness.ua.exercise.example"),
    ("ru", "witness.ru.exercise.example"),
];

/// Run the demo's two witnesses in this process, each on a loopback port of its own with its
/// state in DATA_DIR/witnesses/PARTY, and have the server gather their co-signatures. In a real
/// deployment each party runs `corridor witness` on its own machine; here they stand in for
/// those, speaking the same protocol over HTTP. A data directory from before the demo had
/// witnesses has none in its genesis, and runs without.
async fn start_witnesses(log: &Arc<Log>, data_dir: &Path) -> anyhow::Result<()> {
    let Some(policy) = log.genesis().witnesses.clone() else {
        return Ok(());
    };
    let logs = std::collections::BTreeMap::from([(
        log.origin().to_string(),
        corridor_core::crypto::PublicKey::parse(&log.genesis().log_key)?,
    )]);
    let mut opts = corridor_server::witnessing::WitnessOptions::default();
    for (party, name) in DEMO_WITNESSES {
        if !policy.members.iter().any(|m| m.name == name) {
            continue;
        }
        let dir = data_dir.join("witnesses");
        let key = keys::load(&dir.join(format!("{party}.key")))?.keypair;
        let (app, _) = crate::witness::app(name, key, logs.clone(), &dir.join(party))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        println!("witness of {party}: {name} at {url}");
        tokio::spawn(async move { axum::serve(listener, app).await });
        opts.urls.insert(name.to_string(), url);
    }
    log.start_witnessing(opts)
}

/// The scenario as it is being entered: the log open at the current scene's instant (in a
/// runtime of its own), the instant the exercise starts at, and the next command number.
struct Stage {
    data_dir: PathBuf,
    log_key: Keypair,
    genesis: Option<SignedGenesis>,
    until: Timestamp,
    n: usize,
    open: Option<(tokio::runtime::Runtime, Arc<Log>)>,
}

impl Stage {
    /// Go to the scene at `at`: close the log and open it again on a clock that reads `at` (a
    /// log's clock is set when it opens), so that the scene's entries are dated from then.
    /// False, with the log closed, when `at` is after the instant the exercise starts at.
    fn scene(&mut self, at: &str) -> anyhow::Result<bool> {
        let at: Timestamp = at.parse()?;
        self.close()?;
        if at > self.until {
            return Ok(false);
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let (path, key, genesis) = (
            ops::db_path(&self.data_dir),
            self.log_key.clone(),
            self.genesis.take(),
        );
        let log = rt.block_on(async move {
            let db: Arc<dyn Database> = Arc::new(Sqlite::open(&path).await?);
            Log::open(db, key, genesis, corridor_server::Clock::simulated(at, 1.0)).await
        })?;
        self.open = Some((rt, log));
        Ok(true)
    }

    /// Cover the scene's entries with a checkpoint and end its runtime, and with it the log's
    /// tasks.
    fn close(&mut self) -> anyhow::Result<()> {
        if let Some((rt, log)) = self.open.take() {
            rt.block_on(log.stop())?;
            drop(log);
            drop(rt);
        }
        Ok(())
    }

    /// Sign `body` as `actor` at the scene's clock and submit it.
    fn act(&mut self, key: &Keypair, actor: &str, body: Value) -> anyhow::Result<()> {
        self.n += 1;
        let id = format!("demo-{}", self.n);
        let (rt, log) = self.open.as_ref().context("no scene is open")?;
        let time = corridor_core::time::format_log_time(log.clock().now());
        let time = format!("{}Z", &time[..19]);
        let bytes = Draft {
            origin: ORIGIN,
            actor,
            id: &id,
            time: &time,
            body,
        }
        .sign(key);
        let cmd = SignedCommand::parse(&bytes, ORIGIN).map_err(|e| anyhow::anyhow!("{e}"))?;
        rt.block_on(log.submit(cmd))
            .map_err(|e| anyhow::anyhow!("demo command {id} failed: {e:?}"))?;
        Ok(())
    }

    /// The hash of a window's latest version, as recorded.
    fn version_hash(&self, window: &str) -> anyhow::Result<String> {
        let (rt, log) = self.open.as_ref().context("no scene is open")?;
        let row = rt
            .block_on(log.db().projection_row("window", window))?
            .context("the demo window was not recorded")?;
        let w: corridor_core::agreement::Window = serde_json::from_value(row.body)?;
        Ok(w.latest().hash.clone())
    }
}

fn register(actor: &str, role: &str, k: &Keypair, name: &str) -> Value {
    json!({"type": "actor.register", "actor": actor, "role": role, "key": k.public().id(),
           "key_proof": corridor_core::envelope::prove_key(k, ORIGIN, actor), "name": name})
}

/// A point of the demo route (`[lon, lat]` in 1e-7 degree) as a command's location.
fn at_point(p: [i64; 2]) -> Value {
    json!({"lon_e7": p[0], "lat_e7": p[1]})
}

/// Write the genesis and the keys, and enter the scenario's scenes up to `until`.
fn prepare(data_dir: &Path, until: Timestamp, no_rate_limits: bool) -> anyhow::Result<()> {
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
    // One witness per party, run by the demo itself (see `start_witnesses`).
    let witness_dir = data_dir.join("witnesses");
    fs::create_dir_all(&witness_dir)?;
    let witnesses = genesis::Witnesses {
        members: DEMO_WITNESSES
            .iter()
            .map(|(party, name)| {
                Ok(genesis::Witness {
                    name: name.to_string(),
                    key: new_key(&witness_dir, &format!("{party}.key"), None)?
                        .public()
                        .id(),
                    operator: party.to_string(),
                })
            })
            .collect::<anyhow::Result<_>>()?,
        quorum: 2,
    };
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
        witnesses: Some(witnesses),
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
    let ua_coord = new_key(
        &keys_dir,
        "ua-coord-kyiv-oblast.key",
        Some("ua/coord-kyiv-oblast"),
    )?;
    let ru_coord = new_key(&keys_dir, "ru-coord-1.key", Some("ru/coord-1"))?;
    let lead = new_key(&keys_dir, "convoys-lead.key", Some("convoys/lead"))?;
    let ua_sign = new_key(&keys_dir, "ua-signatory.key", Some("ua/signatory"))?;
    let ru_sign = new_key(&keys_dir, "ru-signatory.key", Some("ru/signatory"))?;
    // Units' keys apart: a party's units are known to that party alone.
    let units_dir = keys_dir.join("units");
    let mut units = Vec::new();
    for (party, n) in [("ua", 3), ("ru", 2)] {
        for i in 1..=n {
            let actor = format!("{party}/unit-{i}");
            let k = new_key(
                &units_dir,
                &format!("{party}-unit-{i}.key"),
                Some(actor.as_str()),
            )?;
            units.push((actor, k));
        }
    }
    let unit = |id: &str| {
        units
            .iter()
            .find(|(a, _)| a == id)
            .map(|(_, k)| k.clone())
            .expect("a demo unit")
    };

    let mut s = Stage {
        data_dir: data_dir.to_path_buf(),
        log_key,
        genesis: Some(g),
        until,
        n: 0,
        open: None,
    };

    // 3 March, as the talks begin: the coordinators, an incident, the settlements, the corridor
    // and its windows.
    s.scene(SCENARIO_START)?;
    s.act(
        &ua,
        "ua/admin",
        register(
            "ua/coord-kyiv-oblast",
            "coordinator",
            &ua_coord,
            "Humanitarian coordinator, Kyiv oblast",
        ),
    )?;
    s.act(
        &ru,
        "ru/admin",
        register(
            "ru/coord-1",
            "coordinator",
            &ru_coord,
            "Humanitarian coordinator",
        ),
    )?;
    s.act(
        &org,
        "convoys/admin",
        register("convoys/lead", "organisation-member", &lead, "Convoy lead"),
    )?;
    s.act(
        &ua_coord,
        "ua/coord-kyiv-oblast",
        json!({"type": "incident.report", "incident": "ua/demo-borodianka-1",
               "occurred_at": "2022-03-03T13:30:00Z",
               "location": {"lat_e7": 506_451_000, "lon_e7": 299_220_000},
               "category": "shelling", "accused_party": "ru",
               "description": "Exercise: shelling reported near the gathering point in Borodianka while buses waited."}),
    )?;
    s.act(
        &ru_coord,
        "ru/coord-1",
        json!({"type": "incident.respond", "incident": "ua/demo-borodianka-1",
               "text": "Exercise: the accused party denies firing in this sector at that time."}),
    )?;

    // Settlements from the scenario file, and the corridor announced on 3 March 2022 from
    // Borodianka "in the direction of Berestyanka".
    let settlements = corridor_core::hxl::parse_settlements(SETTLEMENTS_CSV, "Europe/Kyiv")
        .map_err(|e| anyhow::anyhow!("scenario settlements: {e}"))?;
    s.act(
        &icrc,
        "intermediary/admin",
        json!({"type": "settlement.import", "settlements": settlements}),
    )?;
    let terms = corridor_terms()?;
    let route: Vec<[i64; 2]> = serde_json::from_value(terms["route"].clone())?;
    s.act(
        &icrc,
        "intermediary/admin",
        json!({"type": "corridor.propose", "corridor": CORRIDOR, "terms": terms}),
    )?;

    // An agreed window on 4 March, 10:00–18:00 Moscow time: proposed by the intermediary, each
    // party states its own guarantee, both consent to the same version.
    let w1 = "borodianka-2022-03-04";
    s.act(
        &icrc,
        "intermediary/admin",
        json!({"type": "window.propose", "window": w1, "corridor": CORRIDOR, "corridor_version": 1,
        "terms": window_terms("2022-03-04T10:00", "2022-03-04T18:00", json!({}))?}),
    )?;
    let ua_g =
        "Ukraine will hold fire along the route and at the gathering point for the whole window.";
    let ru_g = "The Russian Federation will hold fire along the route for the whole window.";
    s.act(
        &ua_coord,
        "ua/coord-kyiv-oblast",
        json!({"type": "window.amend", "window": w1, "base_version": 1, "corridor_version": 1,
        "terms": window_terms("2022-03-04T10:00", "2022-03-04T18:00", json!({"ua": ua_g}))?}),
    )?;
    s.act(&ru_coord, "ru/coord-1", json!({"type": "window.amend", "window": w1, "base_version": 2, "corridor_version": 1,
        "terms": window_terms("2022-03-04T10:00", "2022-03-04T18:00", json!({"ua": ua_g, "ru": ru_g}))?}))?;
    let w1_hash = s.version_hash(w1)?;
    s.act(
        &ua_coord,
        "ua/coord-kyiv-oblast",
        json!({"type": "window.consent", "window": w1, "party": "ua", "version_hash": w1_hash}),
    )?;
    s.act(
        &ru_coord,
        "ru/coord-1",
        json!({"type": "window.consent", "window": w1, "party": "ru", "version_hash": w1_hash}),
    )?;

    // A second proposal for 5 March, awaiting the Russian Federation's consent.
    let w2 = "borodianka-2022-03-05";
    s.act(
        &ua_coord,
        "ua/coord-kyiv-oblast",
        json!({"type": "window.propose", "window": w2, "corridor": CORRIDOR, "corridor_version": 1,
        "terms": window_terms("2022-03-05T10:00", "2022-03-05T18:00", json!({"ua": ua_g}))?}),
    )?;
    s.act(&ru_coord, "ru/coord-1", json!({"type": "window.amend", "window": w2, "base_version": 1, "corridor_version": 1,
        "terms": window_terms("2022-03-05T10:00", "2022-03-05T18:00", json!({"ua": ua_g, "ru": ru_g}))?}))?;
    let hash = s.version_hash(w2)?;
    s.act(
        &ua_coord,
        "ua/coord-kyiv-oblast",
        json!({"type": "window.consent", "window": w2, "party": "ua", "version_hash": hash}),
    )?;

    // The negotiation register: the two rounds so far, the humanitarian point and a military
    // point on the table, the signatories who will sign for each party.
    register_talks(
        &mut s,
        &icrc,
        &ua,
        &ru,
        [&ua_coord, &ru_coord],
        [&ua_sign, &ru_sign],
    )?;
    // Before 17:50 Moscow time plus three hours, the round ends: the humanitarian point is
    // agreed text, implemented by the Borodianka corridor and its 4 March window, and signed.
    if !s.scene("2022-03-03T17:40:00Z")? {
        return Ok(());
    }
    agree_on_corridors(
        &mut s,
        &icrc,
        [&ua_coord, &ru_coord],
        [&ua_sign, &ru_sign],
        w1,
    )?;

    // That evening each party registers the units holding the line along the route.
    if !s.scene("2022-03-03T18:00:00Z")? {
        return Ok(());
    }
    for (actor, k) in &units {
        let (admin, admin_key) = if actor.starts_with("ua/") {
            ("ua/admin", &ua)
        } else {
            ("ru/admin", &ru)
        };
        let n = actor.rsplit('-').next().unwrap_or("");
        s.act(
            admin_key,
            admin,
            register(
                actor,
                "unit",
                k,
                &format!("Unit {n} on the route (exercise)"),
            ),
        )?;
    }

    // The convoy operator notifies two convoys through the 4 March window (OCHA's HNS): an
    // evacuation with medical supplies for the reception point, and an aid convoy.
    if !s.scene("2022-03-03T18:30:00Z")? {
        return Ok(());
    }
    let bus = |plate: &str, n: u32| {
        json!({"type": "bus", "plate": plate,
               "markings": format!("white, blue flag, EXERCISE CONVOY and number {n} on both sides")})
    };
    s.act(
        &lead,
        "convoys/lead",
        json!({"type": "operation.notify", "operation": "convoys/evac-1", "window": w1,
        "kind": "both",
        "vehicles": [bus("AI 0001 EX", 1), bus("AI 0002 EX", 2), bus("AI 0003 EX", 3),
            {"type": "ambulance", "plate": "AI 0004 EX", "markings": "white, red stripe, EXERCISE CONVOY 4"}],
        "consignments": [
            {"tracking": "EV1-MED-1", "category": "medicine", "item": "insulin", "quantity": 400, "unit": "box"},
            {"tracking": "EV1-WAT-1", "category": "water", "item": "drinking water", "quantity": 2000, "unit": "l"}],
        "evacuee_capacity": 150,
        "departure": "2022-03-04T08:00:00Z", "arrival": "2022-03-04T10:00:00Z"}),
    )?;
    s.act(
        &lead,
        "convoys/lead",
        json!({"type": "operation.notify", "operation": "convoys/aid-1", "window": w1,
        "kind": "aid-delivery",
        "vehicles": [
            {"type": "truck", "plate": "AI 0005 EX", "markings": "white, blue flag, EXERCISE CONVOY 5"},
            {"type": "truck", "plate": "AI 0006 EX", "markings": "white, blue flag, EXERCISE CONVOY 6"}],
        "consignments": [
            {"tracking": "AID1-FOOD-1", "category": "food", "item": "family food parcels", "quantity": 1200, "unit": "box"},
            {"tracking": "AID1-WAT-1", "category": "water", "item": "drinking water", "quantity": 10000, "unit": "l"}],
        "departure": "2022-03-04T11:00:00Z", "arrival": "2022-03-04T13:00:00Z"}),
    )?;
    // Ukraine acknowledges both; the Russian Federation only the evacuation, so the aid
    // convoy's acknowledgement is overdue an hour after its notification (policy ack_overdue_s).
    if !s.scene("2022-03-03T19:00:00Z")? {
        return Ok(());
    }
    for op in ["convoys/evac-1", "convoys/aid-1"] {
        s.act(
            &ua_coord,
            "ua/coord-kyiv-oblast",
            json!({"type": "operation.ack", "operation": op, "party": "ua"}),
        )?;
    }
    if !s.scene("2022-03-03T19:20:00Z")? {
        return Ok(());
    }
    s.act(
        &ru_coord,
        "ru/coord-1",
        json!({"type": "operation.ack", "operation": "convoys/evac-1", "party": "ru"}),
    )?;

    // Down the chain of command: two of Ukraine's three units and one of the Russian
    // Federation's two confirm the window's terms.
    if !s.scene("2022-03-03T21:00:00Z")? {
        return Ok(());
    }
    for u in ["ua/unit-1", "ua/unit-2", "ru/unit-1"] {
        s.act(
            &unit(u),
            u,
            json!({"type": "unit.confirm", "window": w1, "version_hash": w1_hash}),
        )?;
    }

    // 4 March, before the window opens: the convoy lead asks both parties, in a thread about
    // the convoy, to confirm that their checkpoints have the plates; both do.
    if !s.scene("2022-03-04T06:00:00Z")? {
        return Ok(());
    }
    let thread = "convoys/evac-1-line";
    s.act(
        &lead,
        "convoys/lead",
        json!({"type": "thread.open", "thread": thread, "operation": "convoys/evac-1",
               "participants": ["ua", "ru"], "subject": "Convoy convoys/evac-1: departure and checkpoints"}),
    )?;
    s.act(
        &lead,
        "convoys/lead",
        json!({"type": "message.send", "thread": thread, "message": "m1",
               "text": "Exercise: the buses are at the central square of Borodianka and leave at 10:00 Kyiv time (11:00 Moscow time). Please confirm that your checkpoints on the route have the plates AI 0001 EX to AI 0004 EX.",
               "ack_required": ["ua", "ru"]}),
    )?;
    if !s.scene("2022-03-04T06:15:00Z")? {
        return Ok(());
    }
    s.act(
        &ua_coord,
        "ua/coord-kyiv-oblast",
        json!({"type": "message.ack", "thread": thread, "message": "m1"}),
    )?;
    if !s.scene("2022-03-04T06:30:00Z")? {
        return Ok(());
    }
    s.act(
        &ru_coord,
        "ru/coord-1",
        json!({"type": "message.ack", "thread": thread, "message": "m1"}),
    )?;

    // The evacuation: departs Borodianka with 86 people who chose to leave for Berestianka,
    // passes the checkpoint, arrives; the medical supplies arrive with 20 boxes damaged.
    let people = json!({"adults": 41, "children": 23, "elderly": 17, "disabled": 3, "wounded": 2});
    let checkpoint = terms["checkpoints"][0]["location"].clone();
    let events = [
        ("2022-03-04T08:05:00Z", "departed", at_point(route[0])),
        ("2022-03-04T08:50:00Z", "checkpoint", checkpoint),
        (
            "2022-03-04T09:40:00Z",
            "arrived",
            at_point(*route.last().context("route")?),
        ),
    ];
    for (t, event, location) in events {
        if !s.scene(t)? {
            return Ok(());
        }
        let mut body = json!({"type": "operation.move", "operation": "convoys/evac-1",
            "event": event, "occurred_at": t, "location": location, "evacuees": people});
        if event == "departed" {
            body["destination"] = json!("berestianka");
            body["voluntary"] = json!(true);
        }
        s.act(&lead, "convoys/lead", body)?;
    }
    if !s.scene("2022-03-04T10:15:00Z")? {
        return Ok(());
    }
    s.act(
        &lead,
        "convoys/lead",
        json!({"type": "operation.receive", "operation": "convoys/evac-1", "receipts": [
            {"tracking": "EV1-MED-1", "delivered": 380, "damaged": 20, "lost": 0},
            {"tracking": "EV1-WAT-1", "delivered": 2000, "damaged": 0, "lost": 0}]}),
    )?;
    s.act(
        &lead,
        "convoys/lead",
        json!({"type": "operation.outcome", "operation": "convoys/evac-1", "outcome": "facilitated",
               "reason": "Exercise: passed the checkpoint after one inspection; 20 boxes of insulin damaged on the road."}),
    )?;

    // Late that morning both parties report incidents on the corridor, each matched by the log
    // to what was agreed for that place and hour: Ukraine's inside the agreed window (the
    // intermediary verifies it), the Russian Federation's at the checkpoint (Ukraine answers),
    // and one of the Russian Federation's far from the route.
    if !s.scene("2022-03-04T11:00:00Z")? {
        return Ok(());
    }
    s.act(
        &ua_coord,
        "ua/coord-kyiv-oblast",
        json!({"type": "incident.report", "incident": "ua/demo-route-gunfire",
               "occurred_at": "2022-03-04T10:40:00Z",
               "location": {"lat_e7": 506_200_000, "lon_e7": 298_850_000}, "accuracy_m": 50,
               "category": "gunfire", "accused_party": "ru",
               "description": "Exercise: small-arms fire over the road between the checkpoint and the Berestianka turn, during the agreed window."}),
    )?;
    s.act(
        &icrc,
        "intermediary/admin",
        json!({"type": "incident.verify", "incident": "ua/demo-route-gunfire", "status": "verified",
               "reasoning": "Exercise: the intermediary's own team on the convoy heard and logged the fire at 10:40 at that place."}),
    )?;
    s.act(
        &ru_coord,
        "ru/coord-1",
        json!({"type": "incident.report", "incident": "ru/demo-checkpoint",
               "occurred_at": "2022-03-04T09:50:00Z",
               "location": {"lat_e7": 506_305_000, "lon_e7": 299_010_000}, "accuracy_m": 100,
               "category": "gunfire", "accused_party": "ua",
               "description": "Exercise: a unit reports shots from the Ukrainian side of the checkpoint."}),
    )?;
    s.act(
        &ua_coord,
        "ua/coord-kyiv-oblast",
        json!({"type": "incident.respond", "incident": "ru/demo-checkpoint",
               "text": "Exercise: the shots were a warning at a car that ran the checkpoint; none towards the route."}),
    )?;
    s.act(
        &ru_coord,
        "ru/coord-1",
        json!({"type": "incident.report", "incident": "ru/demo-outside-1",
               "occurred_at": "2022-03-04T10:30:00Z",
               "location": {"lat_e7": 505_500_000, "lon_e7": 297_500_000}, "accuracy_m": 300,
               "category": "shelling", "accused_party": "ua",
               "description": "Exercise: shelling reported south-west of Berestianka, away from the route."}),
    )?;
    s.close()
}
