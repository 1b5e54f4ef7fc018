//! Reading the values vendors send: exact numbers written as text, and ids
//! sent as strings or numbers. (The HTTP core is the `http` module.)

use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// A number written as text (`"1250.50"`, `"1.25E+3"`), exactly: from its
/// digits, never through floating point.
pub(crate) fn decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

/// An id a vendor sends as a string or a number; blank is none.
#[cfg_attr(not(any(feature = "hubspot", feature = "bamboohr")), allow(dead_code))]
pub(crate) fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn numbers_and_ids_are_read_exactly() {
        assert_eq!(decimal(" 1.25E+3 "), Some(Decimal::from(1250)));
        assert_eq!(
            decimal("0.1").map(|d| d.to_string()).as_deref(),
            Some("0.1")
        );
        assert_eq!(decimal("twelve"), None);
        assert_eq!(id_text(&Value::from(42)).as_deref(), Some("42"));
        assert_eq!(id_text(&Value::from(" ")), None);
    }
}
