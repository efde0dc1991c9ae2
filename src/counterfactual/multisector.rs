//! The multi-sector endowment general equilibrium (Anderson & Yotov 2016;
//! Yotov et al. 2016, Ch. 2, extended by sector); the equations are in the
//! [module documentation](super#multi-sector-endowment-general-equilibrium).

use super::baseline::{solve_mr, FullGe, GeInfo, GeParams, Resistances};
use super::market::{Market, Sector};
use super::outcome::PairOutcome;
use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

/// One sector of a [`MultiWorld`]: its costs, output, expenditure and `σ_k`.
#[derive(Debug, Clone, PartialEq)]
pub struct SectorWorld {
    /// Sector name.
    pub name: String,
    /// Row-major `N×N` trade costs `phi^k_ij = (t^k_ij)^(1-σ_k)` (domestic
    /// pairs included; `0` marks a prohibitive cost).
    pub phi: Vec<f64>,
    /// Output `Y^k_i` (value of production of the sector's endowment).
    pub output: Vec<f64>,
    /// Expenditure `E^k_j` on the sector's goods.
    pub expenditure: Vec<f64>,
    /// Elasticity of substitution `σ_k > 1` among the sector's varieties.
    pub sigma: f64,
}

impl SectorWorld {
    /// A sector from its row-major baseline trade matrix (`trade[i * n + j]`
    /// = the sector's exports of `i` to `j`, domestic sales on the
    /// diagonal): `Y^k_i = Σ_j X^k_ij`, `E^k_j = Σ_i X^k_ij`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidWorld`] for a trade matrix that is not square or
    /// has a negative or non-finite flow (the rest is checked by
    /// [`MultiWorld::new`]).
    pub fn from_trade(
        name: impl Into<String>,
        trade: &[f64],
        phi: Vec<f64>,
        sigma: f64,
    ) -> Result<SectorWorld> {
        let name = name.into();
        let n = (trade.len() as f64).sqrt().round() as usize;
        if n * n != trade.len() {
            return Err(Error::model(
                ErrorKind::InvalidWorld,
                format!(
                    "sector {name}: the trade matrix has {} entries, not a square number",
                    trade.len()
                ),
            ));
        }
        if let Some(k) = trade.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
            return Err(Error::model(
                ErrorKind::InvalidWorld,
                format!(
                    "sector {name}: trade flow {} -> {} must be a finite non-negative number, found {}",
                    k / n,
                    k % n,
                    trade[k]
                ),
            ));
        }
        let mut output = vec![0.0; n];
        let mut expenditure = vec![0.0; n];
        for i in 0..n {
            for j in 0..n {
                output[i] += trade[i * n + j];
                expenditure[j] += trade[i * n + j];
            }
        }
        Ok(SectorWorld {
            name,
            phi,
            output,
            expenditure,
            sigma,
        })
    }
}

/// A multi-sector structural-gravity world: `N` countries, `K` sectors,
/// each with its own costs and `σ_k`, and a reference country whose consumer
/// price index is the numeraire.
///
/// ```
/// use gravity_model::counterfactual::{MultiWorld, SectorWorld};
/// let names: Vec<String> = ["A", "B"].iter().map(|s| s.to_string()).collect();
/// let goods = SectorWorld::from_trade("goods", &[8.0, 2.0, 1.0, 9.0], vec![1.0, 0.2, 0.2, 1.0], 5.0)?;
/// let farm = SectorWorld::from_trade("farm", &[3.0, 1.0, 1.0, 2.0], vec![1.0, 0.1, 0.1, 1.0], 8.0)?;
/// let world = MultiWorld::new(names, vec![goods, farm], 0)?;
/// assert_eq!(world.n(), 2);
/// // farm is 4 of country A's expenditure of 9 + 4
/// assert!((world.expenditure_share(1, 0) - 4.0 / 13.0).abs() < 1e-15);
/// # Ok::<(), gravity_model::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MultiWorld {
    /// Country names, in matrix order.
    pub countries: Vec<String>,
    /// The sectors.
    pub sectors: Vec<SectorWorld>,
    /// Index of the reference country (numeraire: its consumer price index
    /// `P_r = Π_k (P^k_r)^(s^k_r)` is 1 before and after; each sector's
    /// baseline resistances are normalised `P^k_r = 1`).
    pub reference: usize,
}

impl MultiWorld {
    /// Builds and validates a world.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidWorld`] for what [`MultiWorld::validate`] refuses.
    pub fn new(
        countries: Vec<String>,
        sectors: Vec<SectorWorld>,
        reference: usize,
    ) -> Result<MultiWorld> {
        let w = MultiWorld {
            countries,
            sectors,
            reference,
        };
        w.validate()?;
        Ok(w)
    }

    /// Number of countries.
    pub fn n(&self) -> usize {
        self.countries.len()
    }

    /// Country `j`'s expenditure share on sector `k`, `s^k_j = E^k_j / Σ_l E^l_j`.
    ///
    /// # Panics
    ///
    /// If `k` or `j` is out of range.
    pub fn expenditure_share(&self, k: usize, j: usize) -> f64 {
        let total: f64 = self.sectors.iter().map(|s| s.expenditure[j]).sum();
        self.sectors[k].expenditure[j] / total
    }

    /// Checks the invariants the solver relies on: at least one country and
    /// one sector, the reference in range, `σ_k > 1`, non-negative output
    /// and expenditure (a country may produce or buy nothing in a sector,
    /// but every country produces and buys something over all sectors),
    /// every sector with `N×N` costs that let each of its producers sell to
    /// one of its buyers and each buyer buy from a producer, and world output
    /// equal to world expenditure in each sector (to 1e-9 relative).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidWorld`] naming the sector and the first invariant
    /// broken.
    pub fn validate(&self) -> Result<()> {
        let n = self.n();
        let bad = |m: String| Err(Error::model(ErrorKind::InvalidWorld, m));
        if n == 0 {
            return bad("world has no countries".into());
        }
        if self.sectors.is_empty() {
            return bad("world has no sectors".into());
        }
        if self.reference >= n {
            return bad(format!(
                "reference country index {} out of range for {n} countries",
                self.reference
            ));
        }
        for s in &self.sectors {
            let name = &s.name;
            if !(s.sigma.is_finite() && s.sigma > 1.0) {
                return bad(format!(
                    "sector {name}: sigma must be greater than 1, found {}",
                    s.sigma
                ));
            }
            if s.output.len() != n || s.expenditure.len() != n {
                return bad(format!(
                    "sector {name}: output and expenditure must have {n} entries, found {} and {}",
                    s.output.len(),
                    s.expenditure.len()
                ));
            }
            for i in 0..n {
                for (what, v) in [("output", s.output[i]), ("expenditure", s.expenditure[i])] {
                    if !(v.is_finite() && v >= 0.0) {
                        return bad(format!(
                            "sector {name}: {what} of {} must be finite and non-negative, found {v}",
                            self.countries[i]
                        ));
                    }
                }
            }
            check_sector_phi(&self.countries, s, &s.phi, "")?;
            let y: f64 = s.output.iter().sum();
            let e: f64 = s.expenditure.iter().sum();
            if y.is_nan() || y <= 0.0 {
                return bad(format!("sector {name}: no country produces anything"));
            }
            if (y - e).abs() > 1e-9 * y {
                return bad(format!(
                    "sector {name}: world output {y} and world expenditure {e} differ"
                ));
            }
        }
        for i in 0..n {
            let y: f64 = self.sectors.iter().map(|s| s.output[i]).sum();
            let e: f64 = self.sectors.iter().map(|s| s.expenditure[i]).sum();
            if !(y > 0.0 && e > 0.0) {
                return bad(format!(
                    "{} must have positive output and expenditure summed over sectors, found {y} and {e}",
                    self.countries[i]
                ));
            }
        }
        Ok(())
    }
}

/// A sector's costs: `N×N`, finite, non-negative; every country that
/// produces in the sector can sell to one that buys in it, and every country
/// that buys can buy from one that produces (`what` tells which costs).
fn check_sector_phi(countries: &[String], s: &SectorWorld, phi: &[f64], what: &str) -> Result<()> {
    let n = countries.len();
    let name = &s.name;
    let bad = |m: String| Err(Error::model(ErrorKind::InvalidWorld, m));
    if phi.len() != n * n {
        return bad(format!(
            "sector {name}{what}: cost matrix phi must have {} entries for {n} countries, found {}",
            n * n,
            phi.len()
        ));
    }
    if let Some(k) = phi.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return bad(format!(
            "sector {name}{what}: phi {} -> {} must be finite and non-negative, found {}",
            countries[k / n],
            countries[k % n],
            phi[k]
        ));
    }
    for i in 0..n {
        if s.output[i] > 0.0 && !(0..n).any(|j| s.expenditure[j] > 0.0 && phi[i * n + j] > 0.0) {
            return bad(format!(
                "sector {name}{what}: {} produces but cannot sell to any country that buys",
                countries[i]
            ));
        }
        if s.expenditure[i] > 0.0 && !(0..n).any(|k| s.output[k] > 0.0 && phi[k * n + i] > 0.0) {
            return bad(format!(
                "sector {name}{what}: {} buys but cannot buy from any country that produces",
                countries[i]
            ));
        }
    }
    Ok(())
}

/// One country in one sector: percentage changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectorCountryOutcome {
    /// Country name.
    pub country: String,
    /// Change in the sector's exports `Σ_{j≠i} X^k_ij`, partial equilibrium
    /// (`X^k_ij phi'^k_ij / phi^k_ij`), in %.
    pub exports_change_partial_pct: f64,
    /// Change in the sector's exports under conditional GE, in %.
    pub exports_change_conditional_pct: f64,
    /// Change in the sector's exports under full GE, in %.
    pub exports_change_full_pct: f64,
    /// Change in the factory-gate price `p̂^k_i`, in % (the sector's output
    /// changes by the same, endowments being fixed).
    pub factory_price_change_pct: f64,
    /// Change in the sector's inward multilateral resistance `P^k_i` (full
    /// GE), in %.
    pub inward_mr_change_pct: f64,
    /// Change in the sector's outward multilateral resistance `Π^k_i` (full
    /// GE), in %.
    pub outward_mr_change_pct: f64,
}

/// Everything about one sector.
#[derive(Debug, Clone, PartialEq)]
pub struct SectorOutcome {
    /// Sector name.
    pub sector: String,
    /// One row per country, in world order.
    pub countries: Vec<SectorCountryOutcome>,
    /// One row per ordered pair (domestic included), exporter-major.
    pub pairs: Vec<PairOutcome>,
    /// Baseline MRs (normalised `P^k_r = 1`).
    pub baseline: Resistances,
    /// Conditional-GE MRs (normalised `P'^k_r = 1`).
    pub conditional: Resistances,
    /// Full-GE MRs, on the baseline's scale (the numeraire is the
    /// reference's consumer price index, not `P'^k_r`); `info` is the
    /// full-GE solve's, shared by the sectors.
    pub full: Resistances,
    /// Factory-gate price changes `p̂^k_i`.
    pub price_change: Vec<f64>,
    /// Counterfactual output `Y'^k_i = p̂^k_i Y^k_i`.
    pub output: Vec<f64>,
    /// Counterfactual expenditure `E'^k_j = s^k_j E'_j`.
    pub expenditure: Vec<f64>,
}

/// One country, over all sectors: percentage changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiCountryOutcome {
    /// Country name.
    pub country: String,
    /// Change in real income `Σ_k Y^k_i / P_i` (full GE), in %; `P_i` is
    /// the consumer price index `Π_k (P^k_i)^(s^k_i)`.
    pub real_income_change_pct: f64,
    /// Change in the consumer price index `P_i`, in % (numeraire:
    /// `P̂_r = 1`).
    pub consumer_price_change_pct: f64,
    /// Change in nominal output `Σ_k Y^k_i`, in %.
    pub output_change_pct: f64,
    /// Change in total exports (all sectors), partial equilibrium, in %.
    pub exports_change_partial_pct: f64,
    /// Change in total exports, conditional GE, in %.
    pub exports_change_conditional_pct: f64,
    /// Change in total exports, full GE, in %.
    pub exports_change_full_pct: f64,
}

/// Everything a multi-sector counterfactual produces.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiOutcome {
    /// Per country, over all sectors, in world order.
    pub countries: Vec<MultiCountryOutcome>,
    /// Per sector, in world order.
    pub sectors: Vec<SectorOutcome>,
    /// Per ordered pair, flows summed over sectors, exporter-major.
    pub pairs: Vec<PairOutcome>,
    /// The full-GE solve (iterations over the whole system).
    pub info: GeInfo,
}

fn pct(new: f64, old: f64) -> f64 {
    (new / old - 1.0) * 100.0
}

fn exports(x: &[f64], n: usize, i: usize) -> f64 {
    (0..n).filter(|&j| j != i).map(|j| x[i * n + j]).sum()
}

/// Solves the multi-sector endowment GE for counterfactual costs
/// `phi_cf[k]` (one `N×N` matrix per sector, in the world's order): each
/// sector's baseline and conditional multilateral resistances (output and
/// expenditure fixed), then the full GE where every sector's factory-gate
/// prices adjust until all markets clear (see the
/// [module documentation](super#multi-sector-endowment-general-equilibrium)),
/// and collects per-country, per-sector and per-pair outcomes.
///
/// With one sector this is [`solve_counterfactual`](super::solve_counterfactual)
/// (to rounding; checked in the tests).
///
/// ```
/// use gravity_model::counterfactual::*;
/// let names: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
/// let phi = vec![1.0, 0.1, 0.05, 0.1, 1.0, 0.04, 0.05, 0.04, 1.0];
/// let goods = SectorWorld::from_trade(
///     "goods", &[50.0, 5.0, 3.0, 4.0, 40.0, 2.0, 3.0, 2.0, 30.0], phi.clone(), 5.0)?;
/// let energy = SectorWorld::from_trade(
///     "energy", &[10.0, 4.0, 1.0, 3.0, 5.0, 1.0, 2.0, 1.0, 9.0], phi.clone(), 8.0)?;
/// let world = MultiWorld::new(names, vec![goods, energy], 0)?;
/// // an FTA between A and B lowers the costs of goods only
/// let mut goods_cf = phi.clone();
/// goods_cf[1] *= 1.5;
/// goods_cf[3] *= 1.5;
/// let out = solve_multisector_counterfactual(&world, &[goods_cf, phi], &GeParams::default())?;
/// assert!(out.countries[0].real_income_change_pct > 0.0);
/// assert!(out.countries[2].real_income_change_pct < 0.0);
/// assert!(out.sectors[0].countries[0].exports_change_full_pct > 0.0);
/// # Ok::<(), gravity_model::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidWorld`] for an inconsistent world or a wrong number
/// or shape of cost matrices, [`ErrorKind::InvalidOption`] for invalid
/// [`GeParams`] or `full_ge = FirstStep` (a one-sector replication device
/// with no multi-sector counterpart), [`Error::NoConvergence`] if a solve
/// reaches the iteration limit and [`ErrorKind::Diverged`] if one
/// overflows.
pub fn solve_multisector_counterfactual(
    world: &MultiWorld,
    phi_cf: &[Vec<f64>],
    params: &GeParams,
) -> Result<MultiOutcome> {
    world.validate()?;
    params.check()?;
    if params.full_ge == FullGe::FirstStep {
        return Err(Error::model(
            ErrorKind::InvalidOption,
            "the multi-sector GE is solved to market clearing only: full_ge = first_step \
             (gegravity's one-sector first pass) has no multi-sector counterpart"
                .into(),
        ));
    }
    let n = world.n();
    let k = world.sectors.len();
    let r = world.reference;
    if phi_cf.len() != k {
        return Err(Error::model(
            ErrorKind::InvalidWorld,
            format!(
                "{k} sectors need {k} counterfactual cost matrices, found {}",
                phi_cf.len()
            ),
        ));
    }
    for (s, phi) in world.sectors.iter().zip(phi_cf) {
        check_sector_phi(&world.countries, s, phi, " (counterfactual)")?;
    }
    let mut baselines = Vec::with_capacity(k);
    let mut conditionals = Vec::with_capacity(k);
    for (s, phi) in world.sectors.iter().zip(phi_cf) {
        baselines.push(solve_mr(&s.phi, &s.output, &s.expenditure, r, params)?);
        conditionals.push(solve_mr(phi, &s.output, &s.expenditure, r, params)?);
    }
    let total_output: Vec<f64> = (0..n)
        .map(|i| world.sectors.iter().map(|s| s.output[i]).sum())
        .collect();
    let total_expenditure: Vec<f64> = (0..n)
        .map(|j| world.sectors.iter().map(|s| s.expenditure[j]).sum())
        .collect();
    let market = Market {
        sectors: world
            .sectors
            .iter()
            .zip(phi_cf)
            .zip(&baselines)
            .map(|((s, phi), base)| {
                let y: f64 = s.output.iter().sum();
                Sector {
                    phi,
                    a: (0..n)
                        .map(|i| s.output[i] / y / base.outward_pow[i])
                        .collect(),
                    output: &s.output,
                    share: (0..n)
                        .map(|j| s.expenditure[j] / total_expenditure[j])
                        .collect(),
                    inward_pow_ref: base.inward_pow[r],
                    sigma: s.sigma,
                }
            })
            .collect(),
        ratio: (0..n)
            .map(|j| total_expenditure[j] / total_output[j])
            .collect(),
        reference: r,
    };
    let solution = market.solve(params, "multi-sector full GE factory-gate prices")?;
    let info = GeInfo {
        iterations: solution.iterations,
        residual: solution.residual,
        converged: true,
    };
    let mut sectors = Vec::with_capacity(k);
    let mut pairs_total: Vec<PairOutcome> = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            pairs_total.push(PairOutcome {
                exporter: world.countries[i].clone(),
                importer: world.countries[j].clone(),
                baseline: 0.0,
                conditional: 0.0,
                full: 0.0,
                partial: 0.0,
            });
        }
    }
    let mut cpi_log = vec![0.0; n];
    let mut ex = vec![[0.0f64; 4]; n]; // baseline, partial, conditional, full
    for (s, ((sec, base), cond)) in world
        .sectors
        .iter()
        .zip(baselines)
        .zip(conditionals)
        .enumerate()
    {
        let sigma = sec.sigma;
        let y_cf = solution.state.output[s].clone();
        let e_cf = solution.state.expenditure[s].clone();
        let inward_pow = solution.state.inward_pow[s].clone();
        let y_cf_world: f64 = y_cf.iter().sum();
        let outward_pow: Vec<f64> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| phi_cf[s][i * n + j] * e_cf[j] / y_cf_world / inward_pow[j])
                    .sum()
            })
            .collect();
        let full = Resistances {
            outward_pow,
            inward_pow,
            info,
        };
        let x0 = base.flows(&sec.phi, &sec.output, &sec.expenditure);
        let xc = cond.flows(&phi_cf[s], &sec.output, &sec.expenditure);
        let xf = full.flows(&phi_cf[s], &y_cf, &e_cf);
        let xp = base.flows(&phi_cf[s], &sec.output, &sec.expenditure);
        let p0 = base.inward(sigma);
        let pi0 = base.outward(sigma);
        let p1 = full.inward(sigma);
        let pi1 = full.outward(sigma);
        let price = solution.price[s].clone();
        let countries = (0..n)
            .map(|i| {
                let e0 = exports(&x0, n, i);
                ex[i][0] += e0;
                ex[i][1] += exports(&xp, n, i);
                ex[i][2] += exports(&xc, n, i);
                ex[i][3] += exports(&xf, n, i);
                if market.sectors[s].share[i] > 0.0 {
                    cpi_log[i] += market.sectors[s].share[i] * (p1[i] / p0[i]).ln();
                }
                SectorCountryOutcome {
                    country: world.countries[i].clone(),
                    exports_change_partial_pct: pct(exports(&xp, n, i), e0),
                    exports_change_conditional_pct: pct(exports(&xc, n, i), e0),
                    exports_change_full_pct: pct(exports(&xf, n, i), e0),
                    factory_price_change_pct: (price[i] - 1.0) * 100.0,
                    inward_mr_change_pct: pct(p1[i], p0[i]),
                    outward_mr_change_pct: pct(pi1[i], pi0[i]),
                }
            })
            .collect();
        let mut pairs = Vec::with_capacity(n * n);
        for i in 0..n {
            for j in 0..n {
                let q = i * n + j;
                let t = &mut pairs_total[q];
                t.baseline += x0[q];
                t.conditional += xc[q];
                t.full += xf[q];
                t.partial += xp[q];
                pairs.push(PairOutcome {
                    exporter: world.countries[i].clone(),
                    importer: world.countries[j].clone(),
                    baseline: x0[q],
                    conditional: xc[q],
                    full: xf[q],
                    partial: xp[q],
                });
            }
        }
        sectors.push(SectorOutcome {
            sector: sec.name.clone(),
            countries,
            pairs,
            baseline: base,
            conditional: cond,
            full,
            price_change: price,
            output: y_cf,
            expenditure: e_cf,
        });
    }
    let countries = (0..n)
        .map(|i| {
            let y1: f64 = sectors.iter().map(|s| s.output[i]).sum();
            let output_hat = y1 / total_output[i];
            let cpi_hat = cpi_log[i].exp();
            MultiCountryOutcome {
                country: world.countries[i].clone(),
                real_income_change_pct: (output_hat / cpi_hat - 1.0) * 100.0,
                consumer_price_change_pct: (cpi_hat - 1.0) * 100.0,
                output_change_pct: (output_hat - 1.0) * 100.0,
                exports_change_partial_pct: pct(ex[i][1], ex[i][0]),
                exports_change_conditional_pct: pct(ex[i][2], ex[i][0]),
                exports_change_full_pct: pct(ex[i][3], ex[i][0]),
            }
        })
        .collect();
    Ok(MultiOutcome {
        countries,
        sectors,
        pairs: pairs_total,
        info,
    })
}
