//! The build report: printed to stdout and written next to the panel.

use std::fmt::Write as _;

#[derive(Default)]
pub struct Report {
    text: String,
}

impl Report {
    /// Adds one line.
    pub fn line(&mut self, s: impl AsRef<str>) {
        self.text.push_str(s.as_ref());
        self.text.push('\n');
    }

    /// Adds a `key: value` line (the keys are parsed by the tests).
    pub fn kv(&mut self, key: &str, value: impl std::fmt::Display) {
        // Writing to a String cannot fail.
        let _ = writeln!(self.text, "{key}: {value}");
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
