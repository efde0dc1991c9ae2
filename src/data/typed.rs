//! The columns of the typed formats (Stata `.dta`, Parquet): numbers arrive
//! as numbers, text as text, and both end as the same [`Column`]s the CSV
//! reader makes, by the same rules.
//!
//! Text cells go through the CSV reader's own builder, so a text column
//! requested as numbers fails with the CSV reader's message, and a text
//! column whose every cell is a number is read as numbers under
//! [`ColumnKind::Auto`], as in CSV. A numeric column requested as a factor
//! has its levels in order of first appearance (as CSV's), named by the
//! value label where the format has one, else by the number as a user would
//! type it.

use super::csv::{grow, Builder, CellProblem};
use super::{format_number, Column, ColumnKind, Factor, MISSING_CODE};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Value labels of one column: label text by integer value.
pub(super) type Labels = BTreeMap<i32, String>;

/// Accumulates one requested column of a typed format.
pub(super) enum Collector {
    /// A numeric column: the values (`NaN` where missing), encoded at the
    /// end if a factor was requested.
    Number { kind: ColumnKind, values: Vec<f64> },
    /// A text column: the CSV reader's builder.
    Text(Builder),
}

impl Collector {
    /// A collector for a numeric column read as `kind`.
    pub(super) fn number(kind: ColumnKind) -> Collector {
        Collector::Number {
            kind,
            values: Vec::new(),
        }
    }

    /// A collector for a text column read as `kind`.
    pub(super) fn text(kind: ColumnKind) -> Collector {
        Collector::Text(Builder::new(kind))
    }

    /// Adds a number (`None`: a missing cell). On a text collector the
    /// number is added as its text.
    #[inline]
    pub(super) fn push_number(&mut self, value: Option<f64>) -> Result<(), CellProblem> {
        match self {
            Collector::Number { kind, values } => {
                let v = match value {
                    None => f64::NAN,
                    Some(v) if *kind == ColumnKind::NonNegative && !(v >= 0.0 && v.is_finite()) => {
                        return Err(CellProblem::Negative)
                    }
                    Some(v) if !v.is_finite() && *kind != ColumnKind::Factor => {
                        return Err(CellProblem::NotFinite)
                    }
                    Some(v) => v,
                };
                grow(values)?;
                values.push(v);
                Ok(())
            }
            Collector::Text(builder) => match value {
                None => builder.push(b""),
                Some(v) => builder.push(format_number(v).as_bytes()),
            },
        }
    }

    /// Adds a text cell (an empty cell is missing, as in CSV).
    #[inline]
    pub(super) fn push_text(&mut self, cell: &[u8]) -> Result<(), CellProblem> {
        match self {
            Collector::Text(builder) => builder.push(cell),
            // Not reached: text columns get text collectors. Kept total so
            // that no input can make it panic.
            Collector::Number { .. } => Err(CellProblem::NotNumber),
        }
    }

    /// The column; `labels` names the levels of a numeric column read as a
    /// factor.
    pub(super) fn finish(self, labels: Option<&Labels>) -> Result<Column, CellProblem> {
        match self {
            Collector::Number {
                kind: ColumnKind::Factor,
                values,
            } => Ok(Column::Factor(factor_from_numbers(&values, labels)?)),
            Collector::Number { values, .. } => Ok(Column::Numeric(values.into())),
            Collector::Text(builder) => Ok(builder.finish()),
        }
    }

    /// Number of cells so far.
    pub(super) fn len(&self) -> usize {
        match self {
            Collector::Number { values, .. } => values.len(),
            Collector::Text(builder) => builder.len(),
        }
    }
}

/// Encodes numbers as a factor, levels in order of first appearance (as the
/// CSV reader encodes a column's text), each named by its value label if it
/// has one, else by the number; `NaN` is missing. Two values with the same
/// label stay two levels: the second is named `label (value)`.
fn factor_from_numbers(values: &[f64], labels: Option<&Labels>) -> Result<Factor, CellProblem> {
    let mut map: HashMap<u64, u32> = HashMap::new();
    let mut levels: Vec<String> = Vec::new();
    let mut taken: HashSet<String> = HashSet::new();
    let mut codes = Vec::new();
    codes
        .try_reserve_exact(values.len())
        .map_err(|_| CellProblem::OutOfMemory)?;
    for &v in values {
        if v.is_nan() {
            codes.push(MISSING_CODE);
            continue;
        }
        // -0.0 and 0.0 are one level, as their text "0" is in CSV.
        let key = if v == 0.0 { 0 } else { v.to_bits() };
        if let Some(&code) = map.get(&key) {
            codes.push(code);
            continue;
        }
        let code = u32::try_from(levels.len())
            .ok()
            .filter(|&c| c != MISSING_CODE)
            .ok_or(CellProblem::TooManyLevels)?;
        let number = format_number(v);
        let label = labels.and_then(|l| {
            // Stata labels integer values only.
            if v.fract() == 0.0 && v >= f64::from(i32::MIN) && v <= f64::from(i32::MAX) {
                l.get(&(v as i32)).cloned()
            } else {
                None
            }
        });
        let mut name = match label {
            Some(label) if taken.contains(&label) => format!("{label} ({number})"),
            Some(label) => label,
            None => number.clone(),
        };
        while taken.contains(&name) {
            name = format!("{name} ({number})");
        }
        taken.insert(name.clone());
        grow(&mut levels)?;
        levels.push(name);
        map.insert(key, code);
        codes.push(code);
    }
    Ok(Factor { codes, levels })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_factors_keep_first_appearance_and_labels() {
        let labels: Labels = [(1, "DEU".to_owned()), (2, "FRA".to_owned())].into();
        let f = factor_from_numbers(&[2.0, 1.0, f64::NAN, 2.0, 3.0], Some(&labels)).unwrap();
        assert_eq!(f.levels, ["FRA", "DEU", "3"]);
        assert_eq!(f.codes, [0, 1, MISSING_CODE, 0, 2]);
        let f = factor_from_numbers(&[1986.0, 1990.0, 0.5, -0.0, 0.0], None).unwrap();
        assert_eq!(f.levels, ["1986", "1990", "0.5", "0"]);
        assert_eq!(f.codes, [0, 1, 2, 3, 3]);
    }

    #[test]
    fn repeated_labels_stay_distinct_levels() {
        let labels: Labels = [(1, "x".to_owned()), (2, "x".to_owned())].into();
        let f = factor_from_numbers(&[1.0, 2.0, 1.0], Some(&labels)).unwrap();
        assert_eq!(f.levels, ["x", "x (2)"]);
        assert_eq!(f.codes, [0, 1, 0]);
    }

    #[test]
    fn number_checks_follow_the_requested_kind() {
        let mut c = Collector::number(ColumnKind::NonNegative);
        assert!(c.push_number(Some(1.0)).is_ok());
        assert!(c.push_number(None).is_ok());
        assert!(matches!(
            c.push_number(Some(-1.0)),
            Err(CellProblem::Negative)
        ));
        let mut c = Collector::number(ColumnKind::Numeric);
        assert!(matches!(
            c.push_number(Some(f64::NEG_INFINITY)),
            Err(CellProblem::NotFinite)
        ));
        let mut c = Collector::text(ColumnKind::Numeric);
        assert!(matches!(c.push_text(b"DEU"), Err(CellProblem::NotNumber)));
        assert!(c.push_text(b"").is_ok());
        assert_eq!(c.len(), 1);
    }
}
