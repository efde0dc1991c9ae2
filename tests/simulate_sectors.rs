//! Multi-sector scenarios (`[[sector]]`) through the `gravity simulate`
//! pipeline: one sector is the one-sector scenario; two sectors add up.

use gravity_model::simulate::{run, run_sectors_with_fits, Scenario, SectorSpec, Uncertainty};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

fn same_countries(
    a: &gravity_model::simulate::Counterfactual,
    b: &gravity_model::simulate::Counterfactual,
    tol: f64,
) {
    assert_eq!(a.countries.len(), b.countries.len());
    for (x, y) in a.countries.iter().zip(&b.countries) {
        let (u, v) = (&x.changes, &y.changes);
        for (p, q) in [
            (u.exports_change_partial_pct, v.exports_change_partial_pct),
            (
                u.exports_change_conditional_pct,
                v.exports_change_conditional_pct,
            ),
            (u.exports_change_full_pct, v.exports_change_full_pct),
            (u.factory_price_change_pct, v.factory_price_change_pct),
            (u.inward_mr_change_pct, v.inward_mr_change_pct),
            (u.outward_mr_change_pct, v.outward_mr_change_pct),
            (u.real_gdp_change_pct, v.real_gdp_change_pct),
        ] {
            assert!(close(p, q, tol), "{}: {p} vs {q}", x.country);
        }
    }
    for (p, q) in a.pairs.iter().zip(&b.pairs) {
        assert_eq!(p.shocked, q.shocked);
        for (x, y) in [
            (p.baseline, q.baseline),
            (p.partial, q.partial),
            (p.conditional, q.conditional),
            (p.full, q.full),
        ] {
            assert!(
                (x - y).abs() <= tol * y.abs().max(1e-300),
                "{} -> {}: {x} vs {y}",
                p.exporter,
                p.importer
            );
        }
    }
}

/// The Guide's NAFTA scenario with one `[[sector]]` whose outcome is the
/// scenario's own: the same numbers as the one-sector scenario.
#[test]
fn one_sector_is_the_one_sector_scenario() {
    let mut s = Scenario::from_toml_path(root().join("examples/agtpa_nafta.toml")).unwrap();
    s.uncertainty = Uncertainty::None;
    let one = run(&s).unwrap();
    s.sectors = vec![SectorSpec {
        name: "all".into(),
        outcome: "trade".into(),
        sigma: None,
        coefficients: BTreeMap::new(),
    }];
    let multi = run(&s).unwrap();
    same_countries(&multi, &one, 1e-10);
    // the same from a fit made beforehand
    let frame = gravity_model::Frame::read_path(&s.data, &Default::default(), None).unwrap();
    let fit = gravity_model::fit(
        &frame,
        &gravity_model::Formula::parse(&s.formula).unwrap(),
        gravity_model::Estimator::Ppml,
        &gravity_model::FitOptions::default().vcov(s.vcov.clone()),
    )
    .unwrap();
    let inference = fit.summary().unwrap();
    let again = run_sectors_with_fits(&s, &frame, &[(&fit, &inference)]).unwrap();
    same_countries(&again, &multi, 0.0);
    assert_eq!(again.sectors[0].coefficients, multi.sectors[0].coefficients);
    assert_eq!(multi.sectors.len(), 1);
    assert_eq!(multi.baseline_nobs, one.baseline_nobs);
    assert!(one.sectors.is_empty());
    // the one-sector JSON has no `sectors` key
    let json = serde_json::to_value(&one).unwrap();
    assert!(json.get("sectors").is_none());
}

/// A synthetic two-sector panel: 8 countries, 4 years, domestic flows, an
/// agreement among A, B and C from 2008 and between D and E from 2004.
fn write_panel(dir: &std::path::Path) -> PathBuf {
    write_panel_with(dir, false)
}

/// As [`write_panel`]; `drop_g_farm` leaves every farm cell of G empty (G
/// stays in the GE year through its goods rows).
fn write_panel_with(dir: &std::path::Path, drop_g_farm: bool) -> PathBuf {
    let names = ["A", "B", "C", "D", "E", "F", "G", "H"];
    let n = names.len();
    let mut rng = StdRng::seed_from_u64(3);
    let size: Vec<f64> = (0..n).map(|_| rng.random_range(10.0..100.0)).collect();
    let pos: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..10.0)).collect();
    let mut text = String::from("exporter,importer,year,pair,fta,trade_goods,trade_farm\n");
    for year in [2000, 2004, 2008, 2012] {
        for i in 0..n {
            for j in 0..n {
                let d = if i == j {
                    0.5
                } else {
                    1.0 + (pos[i] - pos[j]).abs()
                };
                let abc = i < 3 && j < 3 && i != j && year >= 2008;
                let de = ((i == 3 && j == 4) || (i == 4 && j == 3)) && year >= 2004;
                let fta: f64 = if abc || de { 1.0 } else { 0.0 };
                let growth = 1.0 + 0.05 * ((year - 2000) / 4) as f64;
                let goods = growth
                    * size[i]
                    * size[j]
                    * d.powf(-4.0)
                    * (0.4 * fta).exp()
                    * rng.random_range(0.8..1.2);
                let farm = 0.3
                    * growth
                    * size[i]
                    * size[j].sqrt()
                    * d.powf(-6.0)
                    * rng.random_range(0.8..1.2);
                let (a, b) = if i <= j { (i, j) } else { (j, i) };
                let farm = if drop_g_farm && (i == 6 || j == 6) {
                    String::new()
                } else {
                    farm.to_string()
                };
                text.push_str(&format!(
                    "{},{},{year},{}_{},{fta},{goods},{farm}\n",
                    names[i], names[j], names[a], names[b]
                ));
            }
        }
    }
    let path = dir.join("panel.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn two_sectors_add_up_and_keep_their_own_coefficients() {
    let dir = std::env::temp_dir().join(format!("gravity_sectors_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = write_panel(&dir);
    let text = format!(
        r#"
data = "{}"
formula = "trade ~ fta | exporter^year + importer^year + pair"
year = 2012
sigma = 6.0
reference = "H"
draws = 0

[[shock]]
variable = "fta"
value = 0.0
between = ["A", "B", "C"]

[[sector]]
name = "goods"
outcome = "trade_goods"

[[sector]]
name = "farm"
outcome = "trade_farm"
sigma = 9.0
coefficients = {{ fta = 0.0 }}
"#,
        data.display()
    );
    let s = Scenario::from_toml_str(&text).unwrap();
    let cf = run(&s).unwrap();
    assert_eq!(cf.sectors.len(), 2);
    let (goods, farm) = (&cf.sectors[0], &cf.sectors[1]);
    assert_eq!(
        (goods.sector.as_str(), farm.sector.as_str()),
        ("goods", "farm")
    );
    assert_eq!(farm.sigma, 9.0);
    assert!(
        goods.coefficients[0].estimate > 0.2,
        "{:?}",
        goods.coefficients
    );
    assert!(!goods.coefficients[0].overridden);
    assert!(farm.coefficients[0].overridden && farm.coefficients[0].estimate == 0.0);
    // no direct effect in farm: its partial-equilibrium flows are the baseline
    for p in &farm.pairs {
        assert_eq!(p.partial, p.baseline);
    }
    // totals are the sums of the sectors
    for (q, p) in cf.pairs.iter().enumerate() {
        let (g, f) = (&goods.pairs[q], &farm.pairs[q]);
        for (t, sum) in [
            (p.baseline, g.baseline + f.baseline),
            (p.conditional, g.conditional + f.conditional),
            (p.full, g.full + f.full),
            (p.partial, g.partial + f.partial),
        ] {
            assert!(close(t, sum, 1e-12), "{q}");
        }
        assert_eq!(p.shocked, goods.pairs[q].shocked || farm.pairs[q].shocked);
    }
    // dissolving the agreement hurts its members, in real income
    for c in &cf.countries[..3] {
        assert!(c.changes.real_gdp_change_pct < 0.0, "{}", c.country);
    }
    assert!(cf.notes.iter().all(|n| !n.contains("no intervals")));

    // one sector of it is that sector's one-sector scenario
    let mut one = s.clone();
    one.sectors.truncate(1);
    let multi = run(&one).unwrap();
    let mut plain = s.clone();
    plain.sectors.clear();
    plain.formula = "trade_goods ~ fta | exporter^year + importer^year + pair".into();
    let single = run(&plain).unwrap();
    same_countries(&multi, &single, 1e-10);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sector_errors_name_their_key() {
    let base = "data = \"p.csv\"\nformula = \"y ~ x\"\nsigma = 5\nreference = \"A\"\n\
                [[shock]]\nvariable = \"x\"\nvalue = 0\nbetween = \"all\"\n";
    for (extra, key) in [
        ("[[sector]]\nname = \"a\"\noutcome = \"ya\"\ncoefficients = { z = 0.0 }\n", "sector[0].coefficients"),
        ("[[sector]]\nname = \"a\"\noutcome = \"ya\"\n[[sector]]\nname = \"a\"\noutcome = \"yb\"\n", "sector[1].name"),
        ("[[sector]]\nname = \"a\"\noutcome = \"ya\"\nsigma = 1.0\n", "sector[0].sigma"),
    ] {
        match Scenario::from_toml_str(&format!("{base}{extra}")) {
            Err(gravity_model::Error::Scenario { key: k, .. }) => assert_eq!(k, key, "{extra}"),
            other => panic!("{extra}: {other:?}"),
        }
    }
    let e = Scenario::from_toml_str(&format!(
        "full_ge = \"first_step\"\n{base}[[sector]]\nname = \"a\"\noutcome = \"ya\"\n"
    ))
    .unwrap_err();
    assert!(e.to_string().contains("full_ge"), "{e}");
}

#[test]
fn a_sectors_missing_domestic_flow_is_an_error_naming_the_sector() {
    let dir = std::env::temp_dir().join(format!("gravity_sectors_g_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = write_panel_with(&dir, true);
    let text = format!(
        "data = \"{}\"\nformula = \"trade ~ fta | exporter^year + importer^year + pair\"\n\
         year = 2012\nsigma = 6.0\nreference = \"H\"\ndraws = 0\n\
         [[shock]]\nvariable = \"fta\"\nvalue = 0.0\nbetween = [\"A\", \"B\", \"C\"]\n\
         [[sector]]\nname = \"goods\"\noutcome = \"trade_goods\"\n\
         [[sector]]\nname = \"farm\"\noutcome = \"trade_farm\"\n",
        data.display()
    );
    let e = run(&Scenario::from_toml_str(&text).unwrap()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("sector farm") && msg.contains("no domestic flow in 2012 (G)"),
        "{msg}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
