//! The headline analysis (`cargo run --release --example fta_counterfactual`)
//! runs the same code as this test, on the shipped panel.

use gravity_model::Column;
use gravity_panel::load_shipped_panel;
use korea_eaeu::{
    ge_label, pe_change, prepare, run, totals_billions, HeadlineOptions, EAEU, MAIN_SUBSET, SECTORS,
};

#[test]
fn headline_by_sector_phased_consistent_pe_and_ge() {
    let dir = tempfile::tempdir().unwrap();
    let options = HeadlineOptions {
        out: dir.path().to_path_buf(),
        other_ge_years: vec![],
        ..HeadlineOptions::default()
    };
    let h = run(&options).unwrap();

    // The observed series equals the panel's values exactly, every sector.
    let frame = load_shipped_panel().unwrap();
    let (Some(Column::Factor(ex)), Some(Column::Factor(im))) =
        (frame.column("exporter"), frame.column("importer"))
    else {
        panic!("exporter/importer columns")
    };
    let year = frame.numeric("year").unwrap();
    for (sector, column) in SECTORS {
        let trade = frame.numeric(column).unwrap();
        for r in h
            .series
            .iter()
            .filter(|r| r.partner == "RUS" && r.sector == sector && r.year == 2019)
        {
            let (e, m) = if r.flow == "exports" {
                ("KOR", "RUS")
            } else {
                ("RUS", "KOR")
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
            assert_eq!(r.observed_usd, expected, "{sector} {}", r.flow);
        }
    }

    // Per sector: PE change = observed × (exp(effect) − 1) exactly, with the
    // effect as phased in (0 before the start year).
    for r in &h.series {
        let e = &h.effects.iter().find(|(s, _)| *s == r.sector).unwrap().1;
        let (b, _) = e.at(r.year - options.start_year);
        assert_eq!(r.effect, b);
        assert_eq!(r.pe_change_usd, pe_change(r.observed_usd, b));
        assert_eq!(r.pe_change_usd, r.observed_usd * b.exp_m1());
        assert_eq!(r.counterfactual_usd, r.observed_usd + r.pe_change_usd);
        if r.year < options.start_year {
            assert_eq!(r.counterfactual_usd, r.observed_usd);
        }
        assert!(r.counterfactual_low_usd <= r.counterfactual_usd + 1e-6);
        assert!(r.counterfactual_high_usd >= r.counterfactual_usd - 1e-6);
    }
    // Phasing: on entry fta, after 4 years fta + fta_l4.
    let main = &h
        .effects
        .iter()
        .find(|(s, _)| s == "manufacturing")
        .unwrap()
        .1;
    assert_eq!(main.name, "main");
    assert_eq!(main.phases.len(), 3);
    assert_eq!(main.at(3), main.at(0));
    assert_eq!(main.at(4).0, main.phases[1].1);
    assert_eq!(main.total, main.phases[2].1);

    // The sum over sectors equals the printed total.
    let ge_year = options.ge_year as i32;
    let sum_obs: f64 = h.sectors.iter().map(|s| s.observed_usd_bn).sum();
    let sum_cf: f64 = h.sectors.iter().map(|s| s.counterfactual_usd_bn).sum();
    assert_eq!(sum_obs, h.total_observed_usd_bn);
    assert_eq!(sum_cf, h.total_counterfactual_usd_bn);
    let all = totals_billions(
        &h.series,
        &["agriculture", "mining_energy", "manufacturing"],
    );
    let t = all.iter().find(|t| t.year == ge_year).unwrap();
    assert!((t.observed - h.total_observed_usd_bn).abs() < 1e-9);
    for s in &h.sectors {
        let obs: f64 = h
            .series
            .iter()
            .filter(|r| r.year == ge_year && r.partner == "EAEU" && r.sector == s.sector)
            .map(|r| r.observed_usd)
            .sum();
        assert!(
            (s.observed_usd_bn - obs / 1e9).abs() < 1e-12,
            "{}",
            s.sector
        );
    }

    // PE and GE start from the same base: the GE baseline is the observed flow.
    let (g, lo, hi) = &h.ge_main;
    let m = h
        .sectors
        .iter()
        .find(|s| s.sector == "manufacturing")
        .unwrap();
    assert!((g.korea_eaeu_base_usd / 1e9 / m.observed_usd_bn - 1.0).abs() < 1e-9);
    assert!(lo.korea_eaeu_full_usd < g.korea_eaeu_full_usd);
    assert!(hi.korea_eaeu_full_usd > g.korea_eaeu_full_usd);

    // The chart's GE point equals the printed value, and the SVG carries it.
    assert_eq!(h.chart_ge_point.value, g.korea_eaeu_full_usd / 1e9);
    assert_eq!(m.counterfactual_usd_bn, g.korea_eaeu_full_usd / 1e9);
    let printed = format!("{:.2}", g.korea_eaeu_full_usd / 1e9);
    assert!(ge_label(&h.chart_ge_point).contains(&printed));
    let svg = std::fs::read_to_string(dir.path().join("korea_eaeu.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let text: String = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains(&ge_label(&h.chart_ge_point)), "{text}");
    assert!(text.contains("2015: FTA assumed in force"), "{text}");
    assert!(text.contains("Source: USITC ITPD-E"), "{text}");
    assert!(
        text.contains("uncertainty of the FTA coefficients only"),
        "{text}"
    );

    // summary.json: the sensitivity and sector tables.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    let sens = summary["sensitivity"].as_array().unwrap();
    assert!(sens.len() >= 4);
    assert_eq!(sens[0]["name"], "main");
    for row in sens {
        for k in [
            "fta_total",
            "fta_total_se",
            "nobs",
            "korea_eaeu_change_usd_bn",
            "korea_eaeu_change_pct",
            "korea_real_income_pct",
        ] {
            assert!(row[k].is_number(), "{k} in {row}");
        }
    }
    // Every row carries its sanction coefficients; `main` has sanction_trade.
    for row in sens {
        let sanctions = row["sanctions"].as_array().unwrap();
        assert!(!sanctions.is_empty(), "{row}");
        for c in sanctions {
            assert!(
                c["estimate"].is_number() && c["std_error"].is_number(),
                "{c}"
            );
        }
    }
    assert_eq!(sens[0]["sanctions"][0]["name"], "sanction_trade");

    // The sanctions-split row equals a direct fit of its specification:
    // trade ~ fta + fta_l4 + fta_l8 + sanction_complete + sanction_partial
    // with the three effects, on the main sample, s.e. clustered by pair.
    sanctions_split_row_equals_a_direct_fit(&h, sens);

    let sectors = summary["sectors"].as_array().unwrap();
    assert_eq!(sectors.len(), 3);
    for row in sectors {
        for k in [
            "fta_total",
            "fta_total_se",
            "observed_usd_bn",
            "counterfactual_usd_bn",
            "pe_change_pct",
        ] {
            assert!(row[k].is_number(), "{k} in {row}");
        }
        assert!(row.get("ge_change_pct").is_some());
    }
    for m in EAEU {
        assert!(h.series.iter().any(|r| r.partner == m));
    }
    assert!((h.korea_russia_goods_2019_usd / 22.34e9 - 1.0).abs() < 0.05);
    for f in ["series.csv", "ge.csv", "summary.json", "korea_eaeu.svg"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
}

fn sanctions_split_row_equals_a_direct_fit(h: &korea_eaeu::Headline, sens: &[serde_json::Value]) {
    use gravity_model::fit::{fit, Estimator, FitOptions};
    use gravity_model::formula::{subset::Subset, Formula};
    use gravity_model::vcov::{LinearCombination, SmallSample, VcovSpec};
    let name = "sanctions split (complete / partial)";
    let json = sens
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no sensitivity row {name:?}"));
    let row = h.sensitivity.iter().find(|r| r.name == name).unwrap();

    let mut frame = load_shipped_panel().unwrap();
    prepare(&mut frame).unwrap();
    let formula = "trade ~ fta + fta_l4 + fta_l8 + sanction_complete + sanction_partial \
                   | exporter^year + importer^year + exporter^importer";
    let opts = FitOptions::default()
        .vcov(VcovSpec::Cluster(vec!["exporter^importer".into()]))
        .subset(Subset::parse(MAIN_SUBSET).unwrap());
    let f = fit(
        &frame,
        &Formula::parse(formula).unwrap(),
        Estimator::Ppml,
        &opts,
    )
    .unwrap();
    assert!(f.info.converged);
    let inf = f
        .inference(
            &VcovSpec::Cluster(vec!["exporter^importer".into()]),
            SmallSample::fixest(),
        )
        .unwrap();
    let total = inf
        .lincom(&LinearCombination::new(
            "total",
            &[("fta", 1.0), ("fta_l4", 1.0), ("fta_l8", 1.0)],
        ))
        .unwrap()
        .row;
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1e-3),
            "{what}: row {a} vs direct fit {b}"
        );
    };
    close(row.fta_total, total.estimate, "fta_total");
    close(row.fta_total_se, total.std_error, "fta_total_se");
    assert_eq!(row.nobs, f.nobs());
    close(
        json["fta_total"].as_f64().unwrap(),
        total.estimate,
        "json fta_total",
    );
    close(
        json["fta_total_se"].as_f64().unwrap(),
        total.std_error,
        "json fta_total_se",
    );
    assert_eq!(json["nobs"].as_u64().unwrap() as usize, f.nobs());
    let names: Vec<&str> = row.sanctions.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["sanction_complete", "sanction_partial"]);
    for (k, c) in row.sanctions.iter().enumerate() {
        let direct = inf.coef(&c.name).unwrap();
        close(c.estimate, direct.estimate, &c.name);
        close(c.std_error, direct.std_error, &c.name);
        let j = &json["sanctions"][k];
        assert_eq!(j["name"], c.name.as_str());
        close(j["estimate"].as_f64().unwrap(), direct.estimate, &c.name);
        close(j["std_error"].as_f64().unwrap(), direct.std_error, &c.name);
    }
    // The GE columns are computed as for the other rows: a finite change of
    // Korea–EAEU trade whose sign is that of the effect applied.
    let applied = h
        .variants
        .iter()
        .find(|e| e.name == name)
        .unwrap()
        .at(options_years_at_ge());
    assert!(row.korea_eaeu_change_usd_bn.is_finite() && row.korea_real_income_pct.is_finite());
    assert_eq!(row.korea_eaeu_change_usd_bn > 0.0, applied.0 > 0.0);
    close(
        json["korea_eaeu_change_usd_bn"].as_f64().unwrap(),
        row.korea_eaeu_change_usd_bn,
        "json korea_eaeu_change_usd_bn",
    );
}

/// Years in force by the GE year with the default options.
fn options_years_at_ge() -> i32 {
    let o = HeadlineOptions::default();
    o.ge_year as i32 - o.start_year
}
