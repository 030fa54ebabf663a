//! The incident matcher against PostGIS: which corridors each incident point falls in, for
//! 10,000 plausible corridors in Ukraine and 1,000,000 points, with `corridor_core::matching`
//! (one thread) and with PostGIS (`ST_DWithin` on geography, spheroid off, GiST indexes) on the
//! same data in the same run; then the two match sets compared point by point on a sample.
//!
//! ```text
//! corridor-matchbench [--pg postgres://postgres@127.0.0.1:5432/test] [--corridors 10000]
//!                     [--points 1000000] [--compare 100000] [--seed 42]
//! ```
//!
//! Why the PostGIS lines are densified (`ST_Segmentize` of the lon/lat geometry to 0.01°): a
//! corridor's segment is the straight line between its vertices in longitude and latitude (as a
//! map draws it, and as `geo::route_distance_exact_m` measures), while a geography edge is a
//! great-circle arc, which bows up to about 80 m away from it on a 60 km east-west segment at
//! 50°N. Densified, both trace the same line to a few centimetres, so a disagreement means
//! something; the raw-vertex table is measured too, and its disagreements reported, for scale.
//! The database (`corridor_matchbench` on the server `--pg` names) is created afresh and
//! dropped at the end.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use corridor_bench::{CpuMeter, Rng, fmt_dur, machine, percentile, wait_quiet};
use corridor_core::geo;
use corridor_core::matching::Index;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection, Row};

#[derive(Parser)]
#[command(about = "Incident matching: corridor's R-tree index against PostGIS ST_DWithin")]
struct Args {
    /// PostgreSQL server (any database on it: the tool creates and drops its own). Without it,
    /// only corridor's figures.
    #[arg(long)]
    pg: Option<String>,
    /// Corridors (routes of 5 to 60 km, widths 200 m to 5 km).
    #[arg(long, default_value_t = 10_000)]
    corridors: usize,
    /// Incident points (half near a route, half anywhere in Ukraine's box).
    #[arg(long, default_value_t = 1_000_000)]
    points: usize,
    /// Points whose match sets are compared with PostGIS's, pair by pair.
    #[arg(long, default_value_t = 100_000)]
    compare: usize,
    /// Points PostGIS's set-based join is timed on (default: all of them).
    #[arg(long)]
    pg_points: Option<usize>,
    /// Seed of the data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Maximum length in degrees of a densified PostGIS segment.
    #[arg(long, default_value_t = 0.01)]
    densify_deg: f64,
    /// Seconds to wait for other processes to go quiet before each measurement.
    #[arg(long, default_value_t = 60)]
    quiet_wait: u64,
}

const DB: &str = "corridor_matchbench";
const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

/// Uniform in [0, 1).
fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// `m` metres from `from` towards `bearing` (radians from north), locally flat: data
/// generation only.
fn step(from: [i64; 2], bearing: f64, m: f64) -> [i64; 2] {
    let k = (from[1] as f64 / 1e7).to_radians().cos();
    [
        from[0] + (m * bearing.sin() / (M_PER_DEG * k) * 1e7).round() as i64,
        from[1] + (m * bearing.cos() / M_PER_DEG * 1e7).round() as i64,
    ]
}

struct Corridor {
    route: Vec<[i64; 2]>,
    buffer_m: i64,
}

/// Routes of 5 to 60 km in 1 to 5 legs, bending up to ±43° at each vertex, starting where
/// they stay within lon 22–40, lat 44–52; widths 200 m to 5 km (buffer = half).
fn corridors(rng: &mut Rng, n: usize) -> Vec<Corridor> {
    (0..n)
        .map(|_| {
            let mut p = [
                rng.range(230_000_000, 390_000_000) as i64,
                rng.range(450_000_000, 510_000_000) as i64,
            ];
            let legs = rng.range(1, 5) as usize;
            let leg = rng.range(5_000, 60_000) as f64 / legs as f64;
            let mut bearing = unit(rng) * std::f64::consts::TAU;
            let mut route = vec![p];
            for _ in 0..legs {
                p = step(p, bearing, leg);
                route.push(p);
                bearing += (unit(rng) - 0.5) * 1.5;
            }
            let width = rng.range(200, 5_000) as i64;
            Corridor {
                route,
                buffer_m: width / 2,
            }
        })
        .collect()
}

/// Half the points within twice the buffer of a random point of a random route (so many
/// match, some near an edge), half uniform over lon 22–40, lat 44–52.
fn points(rng: &mut Rng, cs: &[Corridor], n: usize) -> Vec<[i64; 2]> {
    (0..n)
        .map(|_| {
            if rng.next_u64() & 1 == 0 {
                let c = &cs[rng.range(0, cs.len() as u64 - 1) as usize];
                let i = rng.range(0, c.route.len() as u64 - 2) as usize;
                let (a, b) = (c.route[i], c.route[i + 1]);
                let t = unit(rng);
                let on = [
                    a[0] + ((b[0] - a[0]) as f64 * t).round() as i64,
                    a[1] + ((b[1] - a[1]) as f64 * t).round() as i64,
                ];
                let off = unit(rng) * 2.0 * c.buffer_m as f64;
                step(on, unit(rng) * std::f64::consts::TAU, off)
            } else {
                [
                    rng.range(220_000_000, 400_000_000) as i64,
                    rng.range(440_000_000, 520_000_000) as i64,
                ]
            }
        })
        .collect()
}

/// A coordinate in 1e-7 degree as an exact decimal.
fn deg(e7: i64) -> String {
    let sign = if e7 < 0 { "-" } else { "" };
    let a = e7.unsigned_abs();
    format!("{sign}{}.{:07}", a / 10_000_000, a % 10_000_000)
}

fn linestring(route: &[[i64; 2]]) -> String {
    let pts: Vec<String> = route
        .iter()
        .map(|q| format!("{} {}", deg(q[0]), deg(q[1])))
        .collect();
    format!("SRID=4326;LINESTRING({})", pts.join(","))
}

fn quiet(a: &Args) {
    wait_quiet(Duration::from_secs(a.quiet_wait), 0.25);
}

/// Pairs (point, corridor) both sides agree on or not, and how far from an edge the worst
/// disagreement is (by corridor's distance).
struct Agreement {
    pairs_corridor: usize,
    pairs_postgis: usize,
    only_corridor: usize,
    only_postgis: usize,
    max_edge_m: f64,
    beyond_half_metre: usize,
}

fn agreement(
    ours: &BTreeSet<(usize, usize)>,
    theirs: &BTreeSet<(usize, usize)>,
    cs: &[Corridor],
    pts: &[[i64; 2]],
) -> Agreement {
    let mut max_edge_m: f64 = 0.0;
    let mut beyond_half_metre = 0;
    for &(p, c) in ours.symmetric_difference(theirs) {
        let d = geo::route_distance_exact_m(&cs[c].route, pts[p]);
        let edge = (d - cs[c].buffer_m as f64).abs();
        max_edge_m = max_edge_m.max(edge);
        if edge > 0.5 {
            beyond_half_metre += 1;
        }
    }
    Agreement {
        pairs_corridor: ours.len(),
        pairs_postgis: theirs.len(),
        only_corridor: ours.difference(theirs).count(),
        only_postgis: theirs.difference(ours).count(),
        max_edge_m,
        beyond_half_metre,
    }
}

struct PgFigures {
    load: Duration,
    dense_vertices: i64,
    timed_points: usize,
    dense: (Duration, i64),
    raw: (Duration, i64),
    cpu: String,
    compared: usize,
    vs_dense: Agreement,
    vs_raw: Agreement,
}

async fn exec(c: &mut PgConnection, sql: &str) -> anyhow::Result<()> {
    sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
        .execute(&mut *c)
        .await
        .with_context(|| format!("PostgreSQL refused: {sql}"))?;
    Ok(())
}

async fn postgis(
    a: &Args,
    url: &str,
    cs: &[Corridor],
    pts: &[[i64; 2]],
    ours: &[Vec<usize>],
) -> anyhow::Result<PgFigures> {
    let base: PgConnectOptions = url.parse().context("--pg is not a PostgreSQL URL")?;
    let mut admin = base.connect().await.context("cannot connect to --pg")?;
    exec(
        &mut admin,
        &format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"),
    )
    .await?;
    exec(&mut admin, &format!("CREATE DATABASE {DB}")).await?;
    let result = postgis_in(a, &base.clone().database(DB), cs, pts, ours).await;
    exec(
        &mut admin,
        &format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"),
    )
    .await?;
    result
}

async fn pairs(
    c: &mut PgConnection,
    table: &str,
    below: usize,
) -> anyhow::Result<BTreeSet<(usize, usize)>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT p.id, r.id FROM points p JOIN {table} r ON ST_DWithin(r.g, p.g, r.buffer_m, false) WHERE p.id < {below}"
    )))
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<i32, _>(0) as usize, r.get::<i32, _>(1) as usize))
        .collect())
}

async fn timed_count(
    c: &mut PgConnection,
    table: &str,
    below: usize,
) -> anyhow::Result<(Duration, i64)> {
    let sql = format!(
        "SELECT count(*) FROM points p JOIN {table} r ON ST_DWithin(r.g, p.g, r.buffer_m, false) WHERE p.id < {below}"
    );
    let plan: Vec<String> = sqlx::query(AssertSqlSafe(format!("EXPLAIN {sql}")))
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    eprintln!("plan for {table}:\n  {}", plan.join("\n  "));
    let started = Instant::now();
    let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
        .fetch_one(&mut *c)
        .await?;
    Ok((started.elapsed(), n))
}

async fn postgis_in(
    a: &Args,
    opts: &PgConnectOptions,
    cs: &[Corridor],
    pts: &[[i64; 2]],
    ours: &[Vec<usize>],
) -> anyhow::Result<PgFigures> {
    let mut c = opts.connect().await?;
    exec(&mut c, "CREATE EXTENSION IF NOT EXISTS postgis")
        .await
        .context(
            "PostGIS is not installed on the server (apt-get install postgresql-15-postgis-3)",
        )?;
    eprintln!(
        "loading {} corridors and {} points into PostGIS",
        cs.len(),
        pts.len()
    );
    let started = Instant::now();
    exec(
        &mut c,
        "CREATE TABLE routes (id int PRIMARY KEY, buffer_m float8 NOT NULL, g geography(LineString, 4326) NOT NULL);
         CREATE TABLE points (id int PRIMARY KEY, g geography(Point, 4326) NOT NULL);",
    )
    .await?;
    let mut text = String::new();
    for (i, cor) in cs.iter().enumerate() {
        text.push_str(&format!(
            "{i}\t{}\t{}\n",
            cor.buffer_m,
            linestring(&cor.route)
        ));
    }
    let mut copy = c
        .copy_in_raw("COPY routes (id, buffer_m, g) FROM STDIN")
        .await?;
    copy.send(text.into_bytes()).await?;
    copy.finish().await?;
    for (chunk_no, chunk) in pts.chunks(100_000).enumerate() {
        let mut text = String::with_capacity(chunk.len() * 48);
        for (j, p) in chunk.iter().enumerate() {
            let id = chunk_no * 100_000 + j;
            text.push_str(&format!(
                "{id}\tSRID=4326;POINT({} {})\n",
                deg(p[0]),
                deg(p[1])
            ));
        }
        let mut copy = c.copy_in_raw("COPY points (id, g) FROM STDIN").await?;
        copy.send(text.into_bytes()).await?;
        copy.finish().await?;
    }
    exec(
        &mut c,
        &format!(
            "CREATE TABLE routes_dense AS SELECT id, buffer_m, ST_Segmentize(g::geometry, {})::geography AS g FROM routes;
             ALTER TABLE routes_dense ADD PRIMARY KEY (id);
             CREATE INDEX ON routes USING gist (g);
             CREATE INDEX ON routes_dense USING gist (g);
             CREATE INDEX ON points USING gist (g);",
            a.densify_deg
        ),
    )
    .await?;
    // One statement each: VACUUM refuses to run in the implicit transaction of a batch.
    for table in ["routes", "routes_dense", "points"] {
        exec(&mut c, &format!("VACUUM ANALYZE {table}")).await?;
    }
    let load = started.elapsed();
    let dense_vertices: i64 =
        sqlx::query_scalar("SELECT sum(ST_NPoints(g::geometry))::int8 FROM routes_dense")
            .fetch_one(&mut c)
            .await?;
    // One backend, one core: the matcher's figure is one thread too.
    exec(&mut c, "SET max_parallel_workers_per_gather = 0").await?;

    let timed_points = a.pg_points.unwrap_or(pts.len()).min(pts.len());
    eprintln!("timing PostGIS's join over {timed_points} points (densified, then raw vertices)");
    quiet(a);
    let meter = CpuMeter::start(None);
    let dense = timed_count(&mut c, "routes_dense", timed_points).await?;
    let cpu = meter.stop();
    quiet(a);
    let raw = timed_count(&mut c, "routes", timed_points).await?;

    let compared = a.compare.min(pts.len());
    eprintln!("comparing the match sets of {compared} points");
    let ours_set: BTreeSet<(usize, usize)> = ours[..compared]
        .iter()
        .enumerate()
        .flat_map(|(p, m)| m.iter().map(move |c| (p, *c)))
        .collect();
    let vs_dense = agreement(
        &ours_set,
        &pairs(&mut c, "routes_dense", compared).await?,
        cs,
        pts,
    );
    let vs_raw = agreement(
        &ours_set,
        &pairs(&mut c, "routes", compared).await?,
        cs,
        pts,
    );
    c.close().await?;
    Ok(PgFigures {
        load,
        dense_vertices,
        timed_points,
        dense,
        raw,
        cpu: format!("{cpu} (the database backend counts as other processes)"),
        compared,
        vs_dense,
        vs_raw,
    })
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn agreement_row(name: &str, g: &Agreement) -> String {
    format!(
        "| {name} | {} | {} | {} | {} | {:.3} m | {} |",
        g.pairs_corridor,
        g.pairs_postgis,
        g.only_corridor,
        g.only_postgis,
        g.max_edge_m,
        g.beyond_half_metre
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let mut rng = Rng::new(a.seed);
    let t0 = Instant::now();
    let cs = corridors(&mut rng, a.corridors);
    let pts = points(&mut rng, &cs, a.points);
    eprintln!(
        "generated {} corridors and {} points in {:.2?}",
        cs.len(),
        pts.len(),
        t0.elapsed()
    );

    let t0 = Instant::now();
    let index = Index::bulk(
        cs.iter()
            .enumerate()
            .map(|(i, c)| (i, c.route.clone(), c.buffer_m))
            .collect(),
    );
    let build = t0.elapsed();

    // Throughput: every point once, one thread, accuracy 0.
    quiet(&a);
    let meter = CpuMeter::start(None);
    let t0 = Instant::now();
    let ours: Vec<Vec<usize>> = pts
        .iter()
        .map(|p| index.matches(*p, 0).into_iter().map(|(k, _)| k).collect())
        .collect();
    let ours_time = t0.elapsed();
    let ours_cpu = meter.stop();
    let matched: usize = ours.iter().map(Vec::len).sum();
    let points_matched = ours.iter().filter(|m| !m.is_empty()).count();

    // Latency: each report timed alone.
    quiet(&a);
    let mut lat: Vec<Duration> = Vec::with_capacity(pts.len());
    for p in &pts {
        let t = Instant::now();
        std::hint::black_box(index.matches(std::hint::black_box(*p), 0));
        lat.push(t.elapsed());
    }
    lat.sort_unstable();

    let pg = match &a.pg {
        Some(url) => Some(postgis(&a, url, &cs, &pts, &ours).await?),
        None => None,
    };

    let ours_rate = rate(pts.len(), ours_time);
    println!("### Incident matching ({})", machine());
    println!();
    println!(
        "{} corridors (routes 5–60 km, 1–5 legs, widths 200 m–5 km, in lon 22–40, lat 44–52), {} points (half within twice a buffer of a route, half anywhere in that box), seed {}, accuracy 0. {} (point, corridor) matches; {} points match at least one corridor.",
        cs.len(),
        pts.len(),
        a.seed,
        matched,
        points_matched
    );
    println!();
    println!("| measure | figure |");
    println!("| --- | --- |");
    println!(
        "| corridor `Index::bulk` of {} corridors | {:.1} ms |",
        cs.len(),
        build.as_secs_f64() * 1e3
    );
    println!(
        "| corridor `Index::matches`, one thread, every point | **{ours_rate:.0} reports/s** ({:.2} s) |",
        ours_time.as_secs_f64()
    );
    println!(
        "| corridor, one report timed alone: p50 / p99 / p99.9 / max | {} / **{}** / {} / {} |",
        fmt_dur(percentile(&lat, 50.0)),
        fmt_dur(percentile(&lat, 99.0)),
        fmt_dur(percentile(&lat, 99.9)),
        fmt_dur(lat[lat.len() - 1])
    );
    if let Some(pg) = &pg {
        let dense_rate = rate(pg.timed_points, pg.dense.0);
        let raw_rate = rate(pg.timed_points, pg.raw.0);
        println!(
            "| PostGIS: load, densify ({}°, {} vertices in all), GiST indexes, analyse | {:.1} s |",
            a.densify_deg,
            pg.dense_vertices,
            pg.load.as_secs_f64()
        );
        println!(
            "| PostGIS set-based join, densified lines, {} points, one backend | **{dense_rate:.0} reports/s** ({:.2} s, {} matches) |",
            pg.timed_points,
            pg.dense.0.as_secs_f64(),
            pg.dense.1
        );
        println!(
            "| PostGIS set-based join, raw vertices (great-circle edges), same points | {raw_rate:.0} reports/s ({:.2} s, {} matches) |",
            pg.raw.0.as_secs_f64(),
            pg.raw.1
        );
        println!(
            "| **ratio corridor / PostGIS** (densified; raw) | **{:.1}×**; {:.1}× |",
            ours_rate / dense_rate,
            ours_rate / raw_rate
        );
        println!();
        println!(
            "Match sets of the first {} points (a random sample: points are drawn independently), pairs (point, corridor); \"edge\" is |distance − buffer| by corridor's distance:",
            pg.compared
        );
        println!();
        println!(
            "| PostGIS lines | pairs, corridor | pairs, PostGIS | only corridor | only PostGIS | max edge of a disagreement | disagreements > 0.5 m from an edge |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- |");
        println!("{}", agreement_row("densified", &pg.vs_dense));
        println!("{}", agreement_row("raw vertices", &pg.vs_raw));
        println!();
        println!(
            "CPU during corridor's throughput run: {ours_cpu}; during PostGIS's: {}. Aims: throughput ≥ 20× PostGIS's, p99 < 50 µs per report.",
            pg.cpu
        );
        if pg.vs_dense.beyond_half_metre > 0 {
            println!();
            println!(
                "**FAIL**: {} disagreements with densified PostGIS lie more than 0.5 m from an edge.",
                pg.vs_dense.beyond_half_metre
            );
        }
    } else {
        println!();
        println!("CPU during the throughput run: {ours_cpu}. (No --pg: PostGIS not measured.)");
    }
    println!();
    if pg
        .as_ref()
        .is_some_and(|p| p.vs_dense.beyond_half_metre > 0)
    {
        anyhow::bail!("corridor and PostGIS disagree beyond 0.5 m of an edge");
    }
    Ok(())
}
