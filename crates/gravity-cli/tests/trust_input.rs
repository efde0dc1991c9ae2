//! Issue 12 ("Trust: no silent wrong number, no lost data, no crash — on any
//! input"), the input and output items, one test each as measured on the
//! code before the fix. More cases of each kind are in `tests/hostile.rs`.

use std::io::Write;
use std::process::{Command, Output};

fn gravity(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gravity"))
        .args(args)
        .output()
        .expect("the gravity binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const F: &str = "trade ~ rta";

/// Item 2: a stray quote on line 3 used to cut the data to 2 of 5 rows,
/// exit 0, no message.
#[test]
fn item2_stray_quote_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("quote.csv");
    std::fs::write(
        &p,
        "trade,rta,note\n1,0,a\n2,1,\"broken, text\n3,0,c\n4,1,d\n5,0,e\n",
    )
    .unwrap();
    let o = gravity(&["fit", "--data", p.to_str().unwrap(), "--formula", F]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("quote.csv:3: unterminated quote"), "{e}");
}

/// Item 7: the data file is read once through one handle. A FIFO hands out
/// a different file on each open: the frame must hold the first one only
/// (before, a second pass for text columns read the second file).
#[cfg(unix)]
#[test]
fn item7_the_data_file_is_read_once() {
    use gravity_model::{CsvOptions, Frame};
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("data.csv");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !matches!(made, Ok(s) if s.success()) {
        eprintln!("mkfifo unavailable: test skipped");
        return;
    }
    let writer = fifo.clone();
    std::thread::spawn(move || {
        let files: [&[u8]; 2] = [b"name,y\nAAA,1\nBBB,2\nCCC,3\n", b"name,y\nXXX,7\n"];
        for (k, content) in files.into_iter().enumerate() {
            if k > 0 {
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
            let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&writer) else {
                return;
            };
            let _ = f.write_all(content);
        }
    });
    let frame = Frame::read_csv(&fifo, &CsvOptions::default(), None).unwrap();
    assert_eq!(frame.nrows(), 3);
    assert_eq!(frame.factor("name").unwrap().levels, ["AAA", "BBB", "CCC"]);
    assert_eq!(frame.numeric("y").unwrap(), [1.0, 2.0, 3.0]);
    let _ = std::fs::File::open(&fifo);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Item 9: a gzip that expands without bound stops at the size limit with
/// an error (before: an abort on a failed allocation).
#[test]
fn item9_gzip_bomb_stops_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bomb.csv.gz");
    let mut body = b"trade,rta\n".to_vec();
    body.extend(std::iter::repeat_n(b'0', 64 << 20));
    std::fs::write(&p, gzip(&body)).unwrap();
    let o = gravity(&["fit", "--data", p.to_str().unwrap(), "--formula", F]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains("bomb.csv.gz:2") && e.contains("longer than the limit"),
        "{e}"
    );
    let mut rows = b"trade,rta\n".to_vec();
    for _ in 0..(4 << 20) {
        rows.extend_from_slice(b"1,0\n");
    }
    std::fs::write(&p, gzip(&rows)).unwrap();
    let o = gravity(&[
        "fit",
        "--data",
        p.to_str().unwrap(),
        "--formula",
        F,
        "--max-bytes",
        "1M",
    ]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains("bomb.csv.gz: the input is larger than the limit of 1048576 bytes"),
        "{e}"
    );
}

/// Item 9: a corrupt gzip is blamed on gzip, not on a row's fields.
#[test]
fn item9_corrupt_gzip_is_named_as_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("data.csv.gz");
    let mut body = String::from("a,b,c,d,e,f,g,h\n");
    for i in 0..20_000 {
        body.push_str(&format!("{i},{},{i},{i},{i},{i},{i},{i}\n", i % 2));
    }
    let mut g = gzip(body.as_bytes());
    let k = g.len() / 3;
    for b in &mut g[k..k + 64] {
        *b = b.wrapping_mul(7) ^ 0x3C;
    }
    std::fs::write(&p, &g).unwrap();
    let o = gravity(&["fit", "--data", p.to_str().unwrap(), "--formula", "a ~ b"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("data.csv.gz: not a valid gzip stream: "), "{e}");
}

/// Item 9: a header-only file is an error naming the file.
#[test]
fn item9_header_only_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("header.csv");
    std::fs::write(&p, "trade,rta\n").unwrap();
    let o = gravity(&["fit", "--data", p.to_str().unwrap(), "--formula", F]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("header.csv: no data rows"), "{e}");
}

/// Item 9: a header of a million columns is checked in linear time (before:
/// minutes in a quadratic duplicate check).
#[test]
fn item9_a_million_columns_is_quick() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("wide.csv");
    let mut header: String = (0..1_000_000).map(|i| format!("c{i},")).collect();
    header.push_str("trade,rta\n");
    let row = "0,".repeat(1_000_000) + "1,0\n";
    std::fs::write(&p, header + &row + &row).unwrap();
    let t = std::time::Instant::now();
    let o = gravity(&[
        "fit",
        "--data",
        p.to_str().unwrap(),
        "--formula",
        F,
        "--json",
    ]);
    assert!(t.elapsed().as_secs() < 30, "{:?}", t.elapsed());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Item 9 and the options: out-of-range values are clear errors (before:
/// `--threads 100000000` hung; `--tol 5` and `--max-iter 0` were accepted).
#[test]
fn item9_options_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ok.csv");
    std::fs::write(&p, "trade,rta\n1,0\n2,1\n3,0\n").unwrap();
    for (flag, value, needle) in [
        (
            "--threads",
            "100000000",
            "--threads must be between 1 and 1024",
        ),
        ("--threads", "0", "--threads must be between 1 and 1024"),
        ("--tol", "5", "--tol must be greater than 0 and less than 1"),
        ("--max-iter", "0", "--max-iter must be at least 1"),
    ] {
        let o = gravity(&[
            "fit",
            "--data",
            p.to_str().unwrap(),
            "--formula",
            F,
            flag,
            value,
        ]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {e}");
        assert!(e.contains(needle), "{flag} {value}: {e}");
    }
}

/// The options in the library: `fit` checks them first.
#[test]
fn fit_options_are_validated_by_the_library() {
    use gravity_model::{fit, Column, Estimator, FitOptions, Formula, Frame};
    let frame = Frame::from_columns(vec![
        ("y".into(), Column::Numeric(vec![1.0, 2.0, 3.0].into())),
        ("x".into(), Column::Numeric(vec![0.0, 1.0, 0.0].into())),
    ])
    .unwrap();
    let formula = Formula::parse("y ~ x").unwrap();
    for options in [
        FitOptions::default().irls_tol(2.0),
        FitOptions::default().irls_max_iter(0),
        FitOptions::default().fixef_tol(f64::NAN),
    ] {
        let err = fit(&frame, &formula, Estimator::Ppml, &options).unwrap_err();
        assert_eq!(err.kind(), gravity_model::ErrorKind::InvalidOption, "{err}");
    }
}
