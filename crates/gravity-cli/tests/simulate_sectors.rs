//! `gravity simulate` with `[[sector]]` tables: the table, `--out` and
//! `--json` of a multi-sector scenario.

use std::path::Path;
use std::process::Command;

/// A two-sector panel: 8 countries, 4 years, domestic flows, an agreement
/// among A, B and C from 2008 (deterministic pseudo-noise).
fn write_panel(dir: &Path) {
    let names = ["A", "B", "C", "D", "E", "F", "G", "H"];
    let n = names.len();
    let size: Vec<f64> = (0..n).map(|i| 10.0 + ((i * 37) % 89) as f64).collect();
    let pos: Vec<f64> = (0..n).map(|i| ((i * 53) % 97) as f64 / 10.0).collect();
    let noise = |k: usize| 0.8 + 0.4 * ((k * 7919) % 101) as f64 / 101.0;
    let mut text = String::from("exporter,importer,year,pair,fta,trade_goods,trade_farm\n");
    let mut k = 0;
    for year in [2000, 2004, 2008, 2012] {
        for i in 0..n {
            for j in 0..n {
                k += 1;
                let d: f64 = if i == j {
                    0.5
                } else {
                    1.0 + (pos[i] - pos[j]).abs()
                };
                let fta: f64 = if i < 3 && j < 3 && i != j && year >= 2008 {
                    1.0
                } else {
                    0.0
                };
                let goods = size[i] * size[j] * d.powf(-4.0) * (0.4 * fta).exp() * noise(k);
                let farm = 0.3 * size[i] * size[j].sqrt() * d.powf(-6.0) * noise(k + 5);
                let (a, b) = if i <= j { (i, j) } else { (j, i) };
                text.push_str(&format!(
                    "{},{},{year},{}_{},{fta},{goods},{farm}\n",
                    names[i], names[j], names[a], names[b]
                ));
            }
        }
    }
    std::fs::write(dir.join("panel.csv"), text).unwrap();
    std::fs::write(
        dir.join("scenario.toml"),
        r#"data = "panel.csv"
formula = "trade ~ fta | exporter^year + importer^year + pair"
year = 2012
sigma = 6.0
reference = "H"

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
"#,
    )
    .unwrap();
}

#[test]
fn a_multi_sector_scenario_prints_writes_and_serialises_its_sectors() {
    let dir = tempfile::tempdir().unwrap();
    write_panel(dir.path());
    let scenario = dir.path().join("scenario.toml");
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_gravity"))
        .args(["simulate", "--scenario"])
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("multi-sector GE, 2 sectors: goods"),
        "{stdout}"
    );
    assert!(
        stdout.contains("fta[goods]") && stdout.contains("fta[farm]"),
        "{stdout}"
    );
    assert!(stderr.contains("no intervals are drawn"), "{stderr}");
    let sectors = std::fs::read_to_string(out.join("sectors.csv")).unwrap();
    assert_eq!(sectors.lines().count(), 1 + 2 * 8);
    assert!(sectors.starts_with("sector,country,exports_change_partial_pct"));
    let pairs = std::fs::read_to_string(out.join("sector_pairs.csv")).unwrap();
    assert_eq!(pairs.lines().count(), 1 + 2 * 64);
    assert_eq!(
        std::fs::read_to_string(out.join("countries.csv"))
            .unwrap()
            .lines()
            .count(),
        9
    );

    let json = Command::new(env!("CARGO_BIN_EXE_gravity"))
        .args(["simulate", "--json", "--scenario"])
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(json.status.success());
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let sectors = v["sectors"].as_array().unwrap();
    assert_eq!(sectors.len(), 2);
    for s in sectors {
        // only the shocked pairs: the 6 ordered pairs among A, B and C
        assert_eq!(s["pairs"].as_array().unwrap().len(), 6);
        assert_eq!(s["countries"].as_array().unwrap().len(), 8);
    }
    assert_eq!(sectors[1]["sigma"], 9.0);
}
