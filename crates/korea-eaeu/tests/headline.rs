//! The headline analysis (`cargo run --release --example fta_counterfactual`)
//! runs the same code as this test, on the shipped panel.

use gravity_model::Column;
use gravity_panel::load_shipped_panel;
use korea_eaeu::{run, HeadlineOptions, EAEU};

#[test]
fn headline_series_counterfactual_and_chart() {
    let dir = tempfile::tempdir().unwrap();
    let options = HeadlineOptions {
        draws: 40,
        out: dir.path().to_path_buf(),
        ..HeadlineOptions::default()
    };
    let h = run(&options).unwrap();
    // An unconverged model is an error; IRLS takes about 7 steps here.
    assert!(
        h.iterations >= 1 && h.iterations < 30,
        "{} IRLS iterations",
        h.iterations
    );
    let beta = h.model.iter().find(|c| c.name == "fta").unwrap().estimate;

    // The observed series equals the panel's values exactly.
    let frame = load_shipped_panel().unwrap();
    let (Some(Column::Factor(ex)), Some(Column::Factor(im))) =
        (frame.column("exporter"), frame.column("importer"))
    else {
        panic!("exporter/importer columns")
    };
    let year = frame.numeric("year").unwrap();
    let trade = frame.numeric("trade").unwrap();
    for r in h.series.iter().filter(|r| r.partner != "EAEU") {
        let (e, m) = if r.flow == "exports" {
            ("KOR", r.partner.as_str())
        } else {
            (r.partner.as_str(), "KOR")
        };
        let expected: f64 = (0..frame.nrows())
            .filter(|&i| {
                ex.levels[ex.codes[i] as usize] == e
                    && im.levels[im.codes[i] as usize] == m
                    && year[i] as i32 == r.year
                    && trade[i].is_finite()
            })
            .map(|i| trade[i] * 1e6)
            .sum();
        assert_eq!(
            r.observed_usd, expected,
            "{} {} {}",
            r.year, r.partner, r.flow
        );
    }
    // Korea exports to Russia in 2019 as in ITPD-E (millions).
    let kor_rus_2019 = h
        .series
        .iter()
        .find(|r| r.year == 2019 && r.partner == "RUS" && r.flow == "exports")
        .unwrap();
    assert!((kor_rus_2019.observed_usd / 1e6 - 7980.1).abs() < 0.05);

    for r in &h.series {
        // Before the start year the counterfactual is the baseline (the
        // fitted values with the FTA switched off, as in the data).
        if r.year < options.start_year {
            assert_eq!(r.counterfactual_usd, r.baseline_usd);
        } else if r.baseline_usd > 0.0 {
            // Partial equilibrium: exactly exp(β) − 1 above the baseline.
            let lift = r.counterfactual_usd / r.baseline_usd - 1.0;
            assert!((lift - (beta.exp() - 1.0)).abs() < 1e-12, "{lift}");
            assert!(r.counterfactual_low_usd <= r.counterfactual_usd);
            assert!(r.counterfactual_high_usd >= r.counterfactual_usd);
        }
    }
    // The baseline is the model's fitted values: KOR–EAEU pairs never had an FTA.
    assert!(h
        .series
        .iter()
        .all(|r| r.baseline_usd > 0.0 || r.unfitted_rows > 0));

    // GE: every country of the table, with intervals around the point.
    assert_eq!(h.ge.len(), 10);
    for r in &h.ge {
        let iv = r.intervals.as_ref().unwrap();
        assert!(iv.real_gdp_change_pct.low <= r.changes.real_gdp_change_pct + 1e-12);
        assert!(iv.real_gdp_change_pct.high >= r.changes.real_gdp_change_pct - 1e-12);
    }
    let kor = h.ge.iter().find(|r| r.country == "KOR").unwrap();
    assert!(kor.changes.exports_change_full_pct > 0.0);
    assert!((h.korea_russia_goods_2019_usd / 22.34e9 - 1.0).abs() < 0.05);
    for m in EAEU {
        assert!(h.series.iter().any(|r| r.partner == m));
    }

    // Imputed domestic flows are plausible: each is listed with its check
    // against World Bank GDP, none above GDP, and Belarus (no domestic flow
    // in any year; GDP 2019 about $64 bn) no longer at the median domestic
    // share's $74.9 bn.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    let domestic: Vec<&serde_json::Value> = summary["imputed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "domestic_flow")
        .collect();
    assert!(
        domestic.len() > 100,
        "{} domestic flows imputed",
        domestic.len()
    );
    let mut checked = 0;
    for i in &domestic {
        let value = i["value"].as_f64().unwrap();
        if let Some(gdp) = i["check"]["gdp"].as_f64() {
            checked += 1;
            assert!(value <= gdp * (1.0 + 1e-12), "{i}");
            assert!((i["check"]["share_of_gdp"].as_f64().unwrap() - value / gdp).abs() < 1e-9);
        } else {
            // Only where the World Bank has no GDP, and then it says so.
            assert!(i["method"].as_str().unwrap().contains("no GDP"), "{i}");
        }
    }
    // 206 of 236: the World Bank has no GDP for 30 territories (TWN, PRK, REU, …).
    assert!(
        checked * 5 >= domestic.len() * 4,
        "{checked} of {} checked",
        domestic.len()
    );
    for m in EAEU {
        let i = domestic.iter().find(|i| i["exporter"] == m).unwrap();
        let share = i["check"]["share_of_gdp"].as_f64().unwrap();
        assert!(share > 0.05 && share < 0.8, "{m}: {share} of GDP");
    }
    let blr = domestic.iter().find(|i| i["exporter"] == "BLR").unwrap();
    assert!(blr["value"].as_f64().unwrap() < 64_410.0 * 0.8, "{blr}");
    assert!(h.assumptions.iter().any(|a| a.contains("GDP")));

    // The files, and an SVG that is well-formed XML with the title and both series.
    for f in ["series.csv", "ge.csv", "summary.json", "korea_eaeu.svg"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let svg = std::fs::read_to_string(dir.path().join("korea_eaeu.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let text: String = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains("Korea–EAEU manufacturing trade"), "{text}");
    assert!(text.contains("Observed"), "{text}");
    assert!(text.contains("Counterfactual"), "{text}");
    let polylines = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .count();
    assert!(polylines >= 3, "{polylines} lines");
}
