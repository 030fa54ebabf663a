//! Settlements from CSV: HXL-tagged (the Humanitarian Exchange Language convention, whose
//! second row holds hashtags such as `#geo+lat`) or plain with a header row.
//!
//! Coordinates are read as decimal text and converted to integers of 1e-7 degree without going
//! through a float, so the signed import carries exactly the digits of the file.

use crate::Rejection;
use crate::agreement::SettlementSpec;
use crate::command::Point;
use crate::genesis::Names;

/// Decimal degrees as text to integer 1e-7 degrees, exactly (more than 7 decimals is refused).
pub fn degrees_e7(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty()
        || frac.len() > 7
        || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let mut v: i64 = int.parse().ok()?;
    v = v.checked_mul(10_000_000)?;
    let frac_v: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<7}").parse().ok()?
    };
    v = v.checked_add(frac_v)?;
    Some(if neg { -v } else { v })
}

/// Which column holds what, found by HXL hashtag or by header name.
#[derive(Default)]
struct Columns {
    id: Option<usize>,
    en: Option<usize>,
    uk: Option<usize>,
    ru: Option<usize>,
    lat: Option<usize>,
    lon: Option<usize>,
    pcode: Option<usize>,
    zone: Option<usize>,
    approx: Option<usize>,
}

fn by_tag(tags: &csv::StringRecord) -> Columns {
    let mut c = Columns::default();
    for (i, t) in tags.iter().enumerate() {
        let t = t.trim().to_ascii_lowercase().replace(' ', "");
        match t.as_str() {
            "#loc+code" => c.id = Some(i),
            "#loc+name+i_en" => c.en = Some(i),
            "#loc+name+i_uk" => c.uk = Some(i),
            "#loc+name+i_ru" => c.ru = Some(i),
            "#geo+lat" => c.lat = Some(i),
            "#geo+lon" => c.lon = Some(i),
            "#adm4+code" | "#loc+pcode" => c.pcode = Some(i),
            "#loc+tz" | "#loc+timezone" => c.zone = Some(i),
            "#meta+approx" => c.approx = Some(i),
            _ => {}
        }
    }
    c
}

fn by_header(header: &csv::StringRecord) -> Columns {
    let mut c = Columns::default();
    for (i, h) in header.iter().enumerate() {
        match h.trim().to_ascii_lowercase().as_str() {
            "id" => c.id = Some(i),
            "name_en" => c.en = Some(i),
            "name_uk" => c.uk = Some(i),
            "name_ru" => c.ru = Some(i),
            "lat" | "latitude" => c.lat = Some(i),
            "lon" | "lng" | "longitude" => c.lon = Some(i),
            "pcode" => c.pcode = Some(i),
            "zone" | "timezone" => c.zone = Some(i),
            "approximate" => c.approx = Some(i),
            _ => {}
        }
    }
    c
}

/// Parse settlements. `default_zone` applies to rows without a zone column or value.
pub fn parse_settlements(text: &str, default_zone: &str) -> Result<Vec<SettlementSpec>, Rejection> {
    let bad = |row: usize, why: String| Rejection::invalid(format!("csv row {row}"), why);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = rdr.records();
    let header = rows
        .next()
        .ok_or_else(|| bad(1, "the file is empty".into()))?
        .map_err(|e| bad(1, e.to_string()))?;
    let mut pending = None;
    let cols = match rows.next() {
        Some(Ok(second)) if second.iter().any(|f| f.trim_start().starts_with('#')) => {
            by_tag(&second)
        }
        Some(Ok(second)) => {
            pending = Some(second);
            by_header(&header)
        }
        Some(Err(e)) => return Err(bad(2, e.to_string())),
        None => by_header(&header),
    };
    let need = |c: Option<usize>, what: &str| {
        c.ok_or_else(|| Rejection::invalid("csv", format!("no {what} column (HXL tag or header)")))
    };
    let (id, en, uk, ru, lat, lon) = (
        need(cols.id, "id (#loc+code)")?,
        need(cols.en, "English name (#loc+name+i_en)")?,
        need(cols.uk, "Ukrainian name (#loc+name+i_uk)")?,
        need(cols.ru, "Russian name (#loc+name+i_ru)")?,
        need(cols.lat, "latitude (#geo+lat)")?,
        need(cols.lon, "longitude (#geo+lon)")?,
    );
    let mut out = Vec::new();
    let first_data_row = if pending.is_some() { 2 } else { 3 };
    for (n, rec) in pending.into_iter().map(Ok).chain(rows).enumerate() {
        let row = first_data_row + n;
        let rec = rec.map_err(|e| bad(row, e.to_string()))?;
        let get = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let lat_e7 = degrees_e7(&get(lat)).ok_or_else(|| {
            bad(
                row,
                format!("latitude {:?} is not a decimal number", get(lat)),
            )
        })?;
        let lon_e7 = degrees_e7(&get(lon)).ok_or_else(|| {
            bad(
                row,
                format!("longitude {:?} is not a decimal number", get(lon)),
            )
        })?;
        let zone = cols
            .zone
            .map(get)
            .filter(|z| !z.is_empty())
            .unwrap_or_else(|| default_zone.to_string());
        out.push(SettlementSpec {
            id: get(id),
            names: Names {
                en: get(en),
                uk: get(uk),
                ru: get(ru),
            },
            location: Point { lat_e7, lon_e7 },
            pcode: cols.pcode.map(get).filter(|p| !p.is_empty()),
            zone,
            approximate: cols.approx.map(get).is_some_and(|a| {
                matches!(a.to_ascii_lowercase().as_str(), "yes" | "true" | "1" | "y")
            }),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_degrees_convert_exactly() {
        assert_eq!(degrees_e7("50.4501"), Some(504_501_000));
        assert_eq!(degrees_e7("-0.0000001"), Some(-1));
        assert_eq!(degrees_e7("29.922"), Some(299_220_000));
        assert_eq!(degrees_e7("1.12345678"), None);
        assert_eq!(degrees_e7("1e5"), None);
        assert_eq!(degrees_e7(""), None);
    }

    #[test]
    fn hxl_row_is_recognised_and_skipped() {
        let csv = "id,name_en,name_uk,name_ru,lat,lon,oblast_en,approximate\n\
                   #loc+code,#loc+name+i_en,#loc+name+i_uk,#loc+name+i_ru,#geo+lat,#geo+lon,#adm1+name+i_en,#meta+approx\n\
                   berestianka,Berestianka,Берестянка,Берестянка,50.5900,29.8300,Kyiv,yes\n";
        let s = parse_settlements(csv, "Europe/Kyiv").unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].id, "berestianka");
        assert_eq!(
            s[0].location,
            Point {
                lat_e7: 505_900_000,
                lon_e7: 298_300_000
            }
        );
        assert!(s[0].approximate);
        assert_eq!(s[0].names.uk, "Берестянка");
    }

    #[test]
    fn plain_csv_works_too_with_a_zone_column() {
        let csv = "id,name_en,name_uk,name_ru,lat,lon,zone\nmariupol,Mariupol,Маріуполь,Мариуполь,47.0971,37.5434,Europe/Kyiv\n\
                   berdiansk,Berdiansk,Бердянськ,Бердянск,46.7553,36.7885,Europe/Moscow\n";
        let s = parse_settlements(csv, "Europe/Kyiv").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].zone, "Europe/Moscow");
        assert!(!s[0].approximate);
    }

    #[test]
    fn the_scenario_file_parses() {
        let s = parse_settlements(
            include_str!("../../../scenario/settlements.csv"),
            "Europe/Kyiv",
        )
        .unwrap();
        assert!(s.len() >= 14);
        assert!(s.iter().any(|x| x.id == "borodianka"));
    }

    #[test]
    fn bad_rows_say_where() {
        let e = parse_settlements(
            "id,name_en,name_uk,name_ru,lat,lon\nx,X,X,X,north,1\n",
            "Europe/Kyiv",
        )
        .unwrap_err();
        assert!(e.to_string().contains("row 2"), "{e}");
        let e = parse_settlements("id,name_en\nx,X\n", "Europe/Kyiv").unwrap_err();
        assert!(e.to_string().contains("Ukrainian name"), "{e}");
    }
}
