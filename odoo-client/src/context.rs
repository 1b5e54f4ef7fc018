//! The Odoo context sent with calls.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An Odoo context: language, time zone, allowed companies and any other key
/// a method reads (`active_test`, `tracking_disable`, ...).
///
/// The client sends its default context with every call; a call's own
/// context is merged over it key by key.
///
/// # Example
///
/// ```
/// use odoo_integration_client::Context;
///
/// let ctx = Context::new()
///     .lang("nl_BE")
///     .tz("Europe/Brussels")
///     .allowed_company_ids([1, 3])
///     .active_test(false);
/// assert_eq!(ctx.get("lang").and_then(|v| v.as_str()), Some("nl_BE"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Context(Map<String, Value>);

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Context(Map::new())
    }

    /// Sets `lang` (e.g. `en_US`): translatable fields are read and written
    /// in this language.
    pub fn lang(self, lang: impl Into<String>) -> Self {
        self.set("lang", lang.into())
    }

    /// Sets `tz` (e.g. `Europe/Brussels`), used by methods that format
    /// dates for people. Datetimes on the wire stay UTC.
    pub fn tz(self, tz: impl Into<String>) -> Self {
        self.set("tz", tz.into())
    }

    /// Sets `allowed_company_ids`: the companies the call may see, the first
    /// being the current company.
    pub fn allowed_company_ids(self, ids: impl IntoIterator<Item = i64>) -> Self {
        let ids: Vec<Value> = ids.into_iter().map(Value::from).collect();
        self.set("allowed_company_ids", Value::Array(ids))
    }

    /// Sets `active_test`: `false` makes searches include archived records.
    pub fn active_test(self, active_test: bool) -> Self {
        self.set("active_test", active_test)
    }

    /// Sets any key.
    pub fn set(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.0.insert(key.into(), value.into());
        self
    }

    /// Reads a key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// `true` when no key is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// This context with `other`'s keys written over it.
    pub fn merged_with(&self, other: &Context) -> Context {
        let mut merged = self.0.clone();
        for (k, v) in &other.0 {
            merged.insert(k.clone(), v.clone());
        }
        Context(merged)
    }

    /// The context as a JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    pub(crate) fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

impl From<Map<String, Value>> for Context {
    fn from(map: Map<String, Value>) -> Self {
        Context(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_context_overrides_default_key_by_key() {
        let default = Context::new().lang("en_US").tz("UTC");
        let call = Context::new().lang("fr_FR").active_test(false);
        let merged = default.merged_with(&call);
        assert_eq!(merged.get("lang"), Some(&Value::from("fr_FR")));
        assert_eq!(merged.get("tz"), Some(&Value::from("UTC")));
        assert_eq!(merged.get("active_test"), Some(&Value::from(false)));
    }
}
