//! The raw input files, their recorded SHA-256 sums, and verified loading.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::path::Path;

/// One raw input: path relative to `--raw`, and its SHA-256 as listed in
/// `shared/data/PROVENANCE.md`.
pub struct Input {
    pub rel: &'static str,
    pub sha256: &'static str,
}

pub const ITPDE: Input = Input {
    rel: "itpde_r02/itpde_r02_broad_sector_totals.csv.gz",
    sha256: "0cc87504b321a867313358ca7e4c7a34123120c8b8bf33fd124a9afa2565806a",
};
pub const DGD: Input = Input {
    rel: "usitc_dgd/dgd_2_1_rob.csv.gz",
    sha256: "30123e6543d6feaa514ac9317a35c2d678d2b5e9f1031326d500c5a181fb7aff",
};
pub const GEODIST: Input = Input {
    rel: "cepii_geodist/dist_cepii.csv",
    sha256: "f6d0d46067556453455d95dcf0a67771b4d9202e960c69c293db3e685df16ea7",
};
pub const DESTA: Input = Input {
    rel: "desta/desta_list_of_treaties_02_02_dyads.csv",
    sha256: "3cb437c03e5408a83978aa924a7febb96b49a3878f8d5795f02d45da38df9168",
};
pub const GSDB: Input = Input {
    rel: "gsdb/GSDB_V3.csv",
    sha256: "6f7e1cca2b5d4f1ed6e132c0c1332aa45131ff30bc5d323c53affb3c4fe355c3",
};

pub const GDP: Input = Input {
    rel: "wb_gdp/gdp.csv",
    sha256: "f0a8408195646dbb1a9d7fc4424e2d302ee5380d0ec8834793f12ca25cbd7e2c",
};

pub const ALL: [&Input; 6] = [&ITPDE, &DGD, &GEODIST, &DESTA, &GSDB, &GDP];

/// Hex-encodes a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a raw file into memory and checks its SHA-256 against the recorded
/// sum. The bytes returned are exactly the bytes that were verified.
pub fn load(raw: &Path, input: &Input) -> Result<Vec<u8>> {
    let path = raw.join(input.rel);
    if !path.is_file() {
        bail!(
            "raw input missing: {} (expected under --raw {}; see shared/data/PROVENANCE.md)",
            path.display(),
            raw.display()
        );
    }
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let got = hex(&Sha256::digest(&bytes));
    if got != input.sha256 {
        bail!(
            "raw input differs from the recorded version: {}\n  expected SHA-256 {}\n  found    SHA-256 {}",
            path.display(),
            input.sha256,
            got
        );
    }
    Ok(bytes)
}
