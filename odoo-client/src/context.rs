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
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Context;
    ///
    /// let ctx = Context::new();
    /// assert!(ctx.is_empty());
    /// ```
    pub fn new() -> Self {
        Context(Map::new())
    }

    /// Sets `lang` (e.g. `en_US`): translatable fields are read and written
    /// in this language.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Context;
    ///
    /// let ctx = Context::new().lang("fr_BE");
    /// assert_eq!(ctx.get("lang"), Some(&serde_json::json!("fr_BE")));
    /// ```
    pub fn lang(self, lang: impl Into<String>) -> Self {
        self.set("lang", lang.into())
    }

    /// Sets `tz` (e.g. `Europe/Brussels`), used by methods that format
    /// dates for people. Datetimes on the wire stay UTC.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Context;
    ///
    /// let ctx = Context::new().tz("Europe/Brussels");
    /// assert_eq!(ctx.get("tz"), Some(&serde_json::json!("Europe/Brussels")));
    /// ```
    pub fn tz(self, tz: impl Into<String>) -> Self {
        self.set("tz", tz.into())
    }

    /// Sets `allowed_company_ids`: the companies the call may see, the first
    /// being the current company.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Context;
    ///
    /// let ctx = Context::new().allowed_company_ids([3, 1]);
    /// assert_eq!(ctx.get("allowed_company_ids"), Some(&serde_json::json!([3, 1])));
    /// ```
    pub fn allowed_company_ids(self, ids: impl IntoIterator<Item = i64>) -> Self {
        let ids: Vec<Value> = ids.into_iter().map(Value::from).collect();
        self.set("allowed_company_ids", Value::Array(ids))
    }

    /// Sets `active_test`: `false` makes searches include archived records.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use odoo_integration_client::Context;
    ///
    /// let partners = client.model("res.partner");
    /// let active = partners.search_count(Domain::all()).send().await?;
    /// let all = partners
    ///     .search_count(Domain::all())
    ///     .context(Context::new().active_test(false))
    ///     .send()
    ///     .await?;
    /// assert!(all > active); // the archived partners are counted too
    /// # Ok(()) }
    /// ```
    pub fn active_test(self, active_test: bool) -> Self {
        self.set("active_test", active_test)
    }

    /// Sets any key.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Context;
    ///
    /// let ctx = Context::new().set("tracking_disable", true);
    /// assert_eq!(ctx.get("tracking_disable"), Some(&serde_json::json!(true)));
    /// ```
    pub fn set(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.0.insert(key.into(), value.into());
        self
    }

    /// Reads a key.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Context;
    ///
    /// let ctx = Context::new().lang("de_DE");
    /// assert_eq!(ctx.get("lang").and_then(|v| v.as_str()), Some("de_DE"));
    /// assert_eq!(ctx.get("tz"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// `true` when no key is set.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Context;
    ///
    /// assert!(Context::new().is_empty());
    /// assert!(!Context::new().active_test(false).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// This context with `other`'s keys written over it.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Context;
    ///
    /// let defaults = Context::new().lang("en_US").tz("UTC");
    /// let call = Context::new().lang("nl_BE");
    /// let merged = defaults.merged_with(&call);
    /// assert_eq!(merged.get("lang"), Some(&serde_json::json!("nl_BE")));
    /// assert_eq!(merged.get("tz"), Some(&serde_json::json!("UTC")));
    /// ```
    pub fn merged_with(&self, other: &Context) -> Context {
        let mut merged = self.0.clone();
        for (k, v) in &other.0 {
            merged.insert(k.clone(), v.clone());
        }
        Context(merged)
    }

    /// The context as a JSON object.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Context;
    ///
    /// let ctx = Context::new().lang("en_US").active_test(false);
    /// assert_eq!(ctx.as_map().len(), 2);
    /// assert_eq!(ctx.as_map()["active_test"], false);
    /// ```
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
