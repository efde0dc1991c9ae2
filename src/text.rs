//! Small text helpers shared by the CSV reader and the formula parser:
//! "did you mean" suggestions and truncated column lists for hints.

/// Largest edit distance at which a name is offered as a suggestion.
const MAX_DISTANCE: usize = 2;

/// How many columns a hint lists before saying how many more there are.
const MAX_LISTED: usize = 8;

/// Levenshtein distance between `a` and `b`, counted in characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // `row[j]` is the distance between the prefix of `a` read so far and `b[..j]`.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// The candidate closest to `name`, if it is within edit distance 2 and
/// shares at least one character position with it (so `x` does not suggest
/// `y`, but `yr` suggests `year`).
pub(crate) fn did_you_mean<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    let len = name.chars().count();
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= MAX_DISTANCE && *d < len.max(c.chars().count()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

/// Up to eight names, comma-separated, then `… and N more`.
pub(crate) fn list_columns(names: &[String]) -> String {
    let mut out = names
        .iter()
        .take(MAX_LISTED)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > MAX_LISTED {
        out.push_str(&format!(" … and {} more", names.len() - MAX_LISTED));
    }
    out
}

/// The hint for an unknown column `name`: a near match when there is one,
/// otherwise the available columns.
pub(crate) fn unknown_column_hint(name: &str, available: &[String]) -> String {
    match did_you_mean(name, available) {
        Some(near) => format!("did you mean '{near}'?"),
        None if available.is_empty() => "there are no columns".to_owned(),
        None => format!("available columns: {}", list_columns(available)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("fta", "ftaa"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("ü", "u"), 1);
    }

    #[test]
    fn suggestions() {
        let cols = names(&["exporter", "importer", "fta", "trade"]);
        assert_eq!(did_you_mean("ftaa", &cols), Some("fta"));
        assert_eq!(did_you_mean("tradee", &cols), Some("trade"));
        assert_eq!(did_you_mean("gdp", &cols), None);
        assert_eq!(did_you_mean("x", &names(&["y"])), None);
        assert_eq!(did_you_mean("x", &names(&["y", "x1"])), Some("x1"));
        assert_eq!(did_you_mean("yr", &names(&["year"])), Some("year"));
        assert_eq!(did_you_mean("ab", &names(&["cd"])), None);
        assert_eq!(unknown_column_hint("ftaa", &cols), "did you mean 'fta'?");
        assert_eq!(
            unknown_column_hint("gdp", &cols),
            "available columns: exporter, importer, fta, trade"
        );
    }

    #[test]
    fn truncated_list() {
        let cols: Vec<String> = (0..11).map(|i| format!("c{i}")).collect();
        assert_eq!(
            list_columns(&cols),
            "c0, c1, c2, c3, c4, c5, c6, c7 … and 3 more"
        );
    }
}
