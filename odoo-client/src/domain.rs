//! Odoo domains: which records a search matches.
//!
//! A domain is a list in prefix (Polish) notation: conditions
//! `[field, operator, value]` combined by the operators `"&"` (and), `"|"`
//! (or) and `"!"` (not), each written *before* its operands. Several
//! expressions side by side are an implicit AND; the empty domain matches
//! every record.
//!
//! ```text
//! ["&", "|", ["is_company", "=", true], ["parent_id", "=", false], ["name", "ilike", "acme"]]
//! = (is_company = true OR parent_id = false) AND name ilike "acme"
//! ```
//!
//! Build them with [`Domain::field`] and `&`, `|`, `!`; parse them from JSON
//! (for domains kept in configuration) with [`Domain::from_json`] or
//! `str::parse`. Malformed domains (wrong arity, unknown operator, a list
//! where a single value belongs) are rejected here, before any request.
//!
//! # Example
//!
//! ```
//! use odoo_integration_client::Domain;
//!
//! let d = (Domain::field("is_company").eq(true) | Domain::field("parent_id").is_not_set())
//!     & Domain::field("name").ilike("acme");
//! assert_eq!(
//!     d.to_json().to_string(),
//!     r#"["&","|",["is_company","=",true],["parent_id","=",false],["name","ilike","acme"]]"#
//! );
//! let parsed: Domain = d.to_json().to_string().parse()?;
//! assert_eq!(parsed, d);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A comparison operator of a domain condition.
///
/// # Example
///
/// ```
/// use odoo_integration_client::domain::Operator;
///
/// assert_eq!("not ilike".parse::<Operator>()?, Operator::NotIlike);
/// assert_eq!(Operator::ChildOf.as_str(), "child_of");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operator {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `=?`: equal, or true when the value is unset (`false`/`null`).
    EqIfSet,
    /// `like` (case-sensitive, value wrapped in `%`)
    Like,
    /// `ilike` (case-insensitive, value wrapped in `%`)
    Ilike,
    /// `not like`
    NotLike,
    /// `not ilike`
    NotIlike,
    /// `=like` (case-sensitive pattern, `%` and `_` as given)
    EqLike,
    /// `=ilike` (case-insensitive pattern)
    EqIlike,
    /// `in` a list
    In,
    /// `not in` a list
    NotIn,
    /// `child_of`: the records and their descendants by `parent_id`
    ChildOf,
    /// `parent_of`: the records and their ancestors
    ParentOf,
    /// `any`: a related record matches a sub-domain
    Any,
    /// `not any`: no related record matches a sub-domain
    NotAny,
}

const OPERATORS: [(Operator, &str); 19] = [
    (Operator::Eq, "="),
    (Operator::Ne, "!="),
    (Operator::Lt, "<"),
    (Operator::Le, "<="),
    (Operator::Gt, ">"),
    (Operator::Ge, ">="),
    (Operator::EqIfSet, "=?"),
    (Operator::Like, "like"),
    (Operator::Ilike, "ilike"),
    (Operator::NotLike, "not like"),
    (Operator::NotIlike, "not ilike"),
    (Operator::EqLike, "=like"),
    (Operator::EqIlike, "=ilike"),
    (Operator::In, "in"),
    (Operator::NotIn, "not in"),
    (Operator::ChildOf, "child_of"),
    (Operator::ParentOf, "parent_of"),
    (Operator::Any, "any"),
    (Operator::NotAny, "not any"),
];

impl Operator {
    /// Every operator.
    pub const ALL: [Operator; 19] = {
        let mut all = [Operator::Eq; 19];
        let mut i = 0;
        while i < 19 {
            all[i] = OPERATORS[i].0;
            i += 1;
        }
        all
    };

    /// The operator as Odoo writes it.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::domain::Operator;
    ///
    /// assert_eq!(Operator::NotIn.as_str(), "not in");
    /// assert_eq!(Operator::EqIfSet.as_str(), "=?");
    /// ```
    pub fn as_str(self) -> &'static str {
        OPERATORS
            .iter()
            .find(|(op, _)| *op == self)
            .map_or("=", |(_, s)| s)
    }

    fn kind(self) -> ValueKind {
        use Operator::*;
        match self {
            Eq | Ne | EqIfSet => ValueKind::Scalar,
            Lt | Le | Gt | Ge => ValueKind::Ordered,
            Like | Ilike | NotLike | NotIlike | EqLike | EqIlike => ValueKind::Pattern,
            In | NotIn => ValueKind::List,
            ChildOf | ParentOf => ValueKind::Ids,
            Any | NotAny => ValueKind::SubDomain,
        }
    }
}

#[derive(Clone, Copy)]
enum ValueKind {
    Scalar,
    Ordered,
    Pattern,
    List,
    Ids,
    SubDomain,
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operator {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        OPERATORS
            .iter()
            .find(|(_, text)| *text == s)
            .map(|(op, _)| *op)
            .ok_or_else(|| DomainError::UnknownOperator {
                at: String::new(),
                operator: s.to_owned(),
            })
    }
}

/// What is wrong with a domain, and where (`element 3`, or
/// `element 1 > value > element 0` inside an `any` sub-domain).
///
/// # Example
///
/// ```
/// use odoo_integration_client::Domain;
///
/// let err = Domain::from_json(&serde_json::json!([["name", "=~", "x"]])).unwrap_err();
/// assert_eq!(err.to_string(), "element 0: unknown operator `=~`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// The domain is not a JSON list.
    #[error("{}a domain is a list, found {found}", prefix(at))]
    NotAList {
        /// Where.
        at: String,
        /// What was found instead.
        found: String,
    },
    /// An element is neither an operator nor a condition.
    #[error(
        "{at}: expected \"&\", \"|\", \"!\" or a [field, operator, value] condition, found {found}"
    )]
    BadElement {
        /// Where.
        at: String,
        /// What was found.
        found: String,
    },
    /// A condition does not have three items.
    #[error("{at}: a condition has 3 items [field, operator, value], found {len}")]
    WrongArity {
        /// Where.
        at: String,
        /// How many items it had.
        len: usize,
    },
    /// The operator is not one Odoo knows.
    #[error("{}unknown operator `{operator}`", prefix(at))]
    UnknownOperator {
        /// Where.
        at: String,
        /// The operator text.
        operator: String,
    },
    /// The field name is empty or not a string.
    #[error("{at}: the field name must be a non-empty string")]
    BadField {
        /// Where.
        at: String,
    },
    /// `&`, `|` or `!` lacks operands.
    #[error("{at}: operator `{operator}` lacks operands")]
    MissingOperands {
        /// Where.
        at: String,
        /// The logical operator.
        operator: String,
    },
    /// The value does not suit the operator.
    #[error("{at}: operator `{operator}` {reason}")]
    InvalidValue {
        /// Where.
        at: String,
        /// The operator.
        operator: Operator,
        /// What it takes and what was found.
        reason: String,
    },
}

fn prefix(at: &str) -> String {
    if at.is_empty() {
        String::new()
    } else {
        format!("{at}: ")
    }
}

/// One condition `[field, operator, value]`.
///
/// # Example
///
/// ```
/// use odoo_integration_client::Domain;
/// use odoo_integration_client::domain::Operator;
///
/// let d = Domain::field("email").eq_ilike("%@example.com");
/// let c = d.conditions().next().unwrap();
/// assert_eq!((c.field.as_str(), c.operator), ("email", Operator::EqIlike));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The field, possibly a path (`partner_id.country_id.code`).
    pub field: String,
    /// The operator.
    pub operator: Operator,
    /// The value as it is sent (for `any`/`not any`, the sub-domain list).
    pub value: Value,
}

impl Condition {
    /// The sub-domain of an `any`/`not any` condition.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::field("child_ids").any(Domain::field("email").ilike("@acme"));
    /// let condition = d.conditions().next().unwrap();
    /// assert_eq!(condition.subdomain(), Some(Domain::field("email").ilike("@acme")));
    /// ```
    pub fn subdomain(&self) -> Option<Domain> {
        match self.operator {
            Operator::Any | Operator::NotAny => Domain::from_json(&self.value).ok(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Element {
    And,
    Or,
    Not,
    True,
    False,
    Leaf(Condition),
}

/// A domain as a tree, for code that evaluates domains.
///
/// # Example
///
/// ```
/// use odoo_integration_client::Domain;
/// use odoo_integration_client::domain::DomainTree;
///
/// let d = Domain::field("a").eq(1) | !Domain::field("b").eq(2);
/// match d.to_tree() {
///     DomainTree::Or(parts) => assert!(matches!(parts[1], DomainTree::Not(_))),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum DomainTree {
    /// Matches every record.
    True,
    /// Matches no record.
    False,
    /// One condition.
    Leaf(Condition),
    /// All must match.
    And(Vec<DomainTree>),
    /// At least one must match.
    Or(Vec<DomainTree>),
    /// Must not match.
    Not(Box<DomainTree>),
}

/// A validated Odoo domain. See the [module documentation](self).
///
/// # Example
///
/// ```
/// use odoo_integration_client::Domain;
///
/// let open_deals = Domain::field("type").eq("opportunity")
///     & Domain::field("stage_id.is_won").eq(false)
///     & Domain::field("expected_revenue").gt(10_000);
/// assert_eq!(open_deals.conditions().count(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Domain {
    elements: Vec<Element>,
}

/// A value for a single-value operator: booleans, numbers, strings, dates
/// and UTC datetimes (written as Odoo expects).
///
/// # Example
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_integration_client::domain::Scalar;
///
/// let d = Scalar::from(NaiveDate::from_ymd_opt(2026, 1, 31).unwrap());
/// assert_eq!(d.as_json(), &serde_json::json!("2026-01-31"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar(Value);

impl Scalar {
    /// The JSON the value is sent as.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::domain::Scalar;
    ///
    /// assert_eq!(Scalar::from(true).as_json(), &serde_json::json!(true));
    /// assert_eq!(Scalar::from("acme").as_json(), &serde_json::json!("acme"));
    /// ```
    pub fn as_json(&self) -> &Value {
        &self.0
    }
}

macro_rules! scalar_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Scalar {
            fn from(v: $t) -> Self {
                Scalar(Value::from(v))
            }
        }
    )*};
}
scalar_from!(bool, i32, i64, u32, u64, f64, &str, String);

impl From<&String> for Scalar {
    fn from(v: &String) -> Self {
        Scalar(Value::from(v.as_str()))
    }
}

impl From<chrono::NaiveDate> for Scalar {
    fn from(v: chrono::NaiveDate) -> Self {
        Scalar(Value::from(v.format("%Y-%m-%d").to_string()))
    }
}

impl From<chrono::NaiveDateTime> for Scalar {
    fn from(v: chrono::NaiveDateTime) -> Self {
        Scalar(Value::from(v.format("%Y-%m-%d %H:%M:%S").to_string()))
    }
}

impl From<chrono::DateTime<chrono::Utc>> for Scalar {
    fn from(v: chrono::DateTime<chrono::Utc>) -> Self {
        Scalar::from(v.naive_utc())
    }
}

/// Builds conditions on one field. Created by [`Domain::field`].
///
/// # Example
///
/// ```
/// use odoo_integration_client::Domain;
///
/// let d = Domain::field("category_id").any(Domain::field("name").ilike("Desk"));
/// assert_eq!(d.to_json(), serde_json::json!([["category_id", "any", [["name", "ilike", "Desk"]]]]));
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Field(String);

macro_rules! scalar_ops {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(self, value: impl Into<Scalar>) -> Domain {
            self.leaf(Operator::$op, value.into().0)
        }
    )*};
}

impl Field {
    fn leaf(self, operator: Operator, value: Value) -> Domain {
        Domain {
            elements: vec![Element::Leaf(Condition {
                field: self.0,
                operator,
                value,
            })],
        }
    }

    scalar_ops! {
        /// `field = value`
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::Domain;
        ///
        /// let d = Domain::field("state").eq("sale");
        /// assert_eq!(d.to_json(), serde_json::json!([["state", "=", "sale"]]));
        /// ```
        eq => Eq,
        /// `field != value`
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::Domain;
        ///
        /// let d = Domain::field("state").ne("cancel");
        /// assert_eq!(d.to_json(), serde_json::json!([["state", "!=", "cancel"]]));
        /// ```
        ne => Ne,
        /// `field < value`
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::Domain;
        ///
        /// let d = Domain::field("probability").lt(50);
        /// assert_eq!(d.to_json(), serde_json::json!([["probability", "<", 50]]));
        /// ```
        lt => Lt,
        /// `field <= value`
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::Domain;
        ///
        /// let d = Domain::field("amount_total").le(1000);
        /// assert_eq!(d.to_json(), serde_json::json!([["amount_total", "<=", 1000]]));
        /// ```
        le => Le,
        /// `field > value`
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::Domain;
        ///
        /// let d = Domain::field("customer_rank").gt(0);
        /// assert_eq!(d.to_json(), serde_json::json!([["customer_rank", ">", 0]]));
        /// ```
        gt => Gt,
        /// `field >= value`
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::Domain;
        ///
        /// let d = Domain::field("date").ge("2026-01-01");
        /// assert_eq!(d.to_json(), serde_json::json!([["date", ">=", "2026-01-01"]]));
        /// ```
        ge => Ge,
        /// `field =? value`: equal, or anything when `value` is unset.
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::Domain;
        ///
        /// let d = Domain::field("company_id").eq_if_set(3);
        /// assert_eq!(d.to_json(), serde_json::json!([["company_id", "=?", 3]]));
        /// ```
        eq_if_set => EqIfSet,
        /// `field like value` (`%value%`, case-sensitive)
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::Domain;
        ///
        /// let d = Domain::field("name").like("Acme");
        /// assert_eq!(d.to_json(), serde_json::json!([["name", "like", "Acme"]]));
        /// ```
        like => Like,
        /// `field ilike value` (`%value%`, case-insensitive)
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::Domain;
        ///
        /// let d = Domain::field("email").ilike("@acme.example");
        /// assert_eq!(d.to_json(), serde_json::json!([["email", "ilike", "@acme.example"]]));
        /// ```
        ilike => Ilike,
        /// `field not like value`
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::Domain;
        ///
        /// let d = Domain::field("name").not_like("Test");
        /// assert_eq!(d.to_json(), serde_json::json!([["name", "not like", "Test"]]));
        /// ```
        not_like => NotLike,
        /// `field not ilike value`
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::Domain;
        ///
        /// let d = Domain::field("email").not_ilike("noreply");
        /// assert_eq!(d.to_json(), serde_json::json!([["email", "not ilike", "noreply"]]));
        /// ```
        not_ilike => NotIlike,
        /// `field =like pattern` (`%` and `_` as given)
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::Domain;
        ///
        /// let d = Domain::field("ref").eq_like("INV/2026/%");
        /// assert_eq!(d.to_json(), serde_json::json!([["ref", "=like", "INV/2026/%"]]));
        /// ```
        eq_like => EqLike,
        /// `field =ilike pattern` (case-insensitive)
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::Domain;
        ///
        /// let d = Domain::field("email").eq_ilike("%@acme.example");
        /// assert_eq!(d.to_json(), serde_json::json!([["email", "=ilike", "%@acme.example"]]));
        /// ```
        eq_ilike => EqIlike,
    }

    /// `field in [values]`
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::field("state").is_in(["draft", "sent"]);
    /// assert_eq!(d.to_json(), json!([["state", "in", ["draft", "sent"]]]));
    /// ```
    pub fn is_in<I, V>(self, values: I) -> Domain
    where
        I: IntoIterator<Item = V>,
        V: Into<Scalar>,
    {
        let list = values.into_iter().map(|v| v.into().0).collect();
        self.leaf(Operator::In, Value::Array(list))
    }

    /// `field not in [values]`
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::field("id").not_in([1, 2]);
    /// assert_eq!(d.to_json(), json!([["id", "not in", [1, 2]]]));
    /// ```
    pub fn not_in<I, V>(self, values: I) -> Domain
    where
        I: IntoIterator<Item = V>,
        V: Into<Scalar>,
    {
        let list = values.into_iter().map(|v| v.into().0).collect();
        self.leaf(Operator::NotIn, Value::Array(list))
    }

    /// `field child_of [ids]`: these records and their descendants.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::field("parent_id").child_of([2]);
    /// assert_eq!(d.to_json(), json!([["parent_id", "child_of", [2]]]));
    /// ```
    pub fn child_of(self, ids: impl IntoIterator<Item = i64>) -> Domain {
        let ids = ids.into_iter().map(Value::from).collect();
        self.leaf(Operator::ChildOf, Value::Array(ids))
    }

    /// `field parent_of [ids]`: these records and their ancestors.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::field("id").parent_of([4]);
    /// assert_eq!(d.to_json(), json!([["id", "parent_of", [4]]]));
    /// ```
    pub fn parent_of(self, ids: impl IntoIterator<Item = i64>) -> Domain {
        let ids = ids.into_iter().map(Value::from).collect();
        self.leaf(Operator::ParentOf, Value::Array(ids))
    }

    /// `field any subdomain`: some related record matches.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let with_vip = Domain::field("category_id").any(Domain::field("name").eq("VIP"));
    /// let ids = client.model("res.partner").search(with_vip).send().await?;
    /// assert_eq!(ids, [2]); // Acme
    /// # Ok(()) }
    /// ```
    pub fn any(self, subdomain: Domain) -> Domain {
        self.leaf(Operator::Any, subdomain.to_json())
    }

    /// `field not any subdomain`: no related record matches.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::field("child_ids").not_any(Domain::field("email").is_set());
    /// assert_eq!(d.to_json(), json!([["child_ids", "not any", [["email", "!=", false]]]]));
    /// ```
    pub fn not_any(self, subdomain: Domain) -> Domain {
        self.leaf(Operator::NotAny, subdomain.to_json())
    }

    /// `field != false`: the field is set.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// assert_eq!(Domain::field("email").is_set().to_json(), json!([["email", "!=", false]]));
    /// ```
    pub fn is_set(self) -> Domain {
        self.leaf(Operator::Ne, Value::Bool(false))
    }

    /// `field = false`: the field is empty.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// assert_eq!(Domain::field("email").is_not_set().to_json(), json!([["email", "=", false]]));
    /// ```
    pub fn is_not_set(self) -> Domain {
        self.leaf(Operator::Eq, Value::Bool(false))
    }
}

impl Domain {
    /// The empty domain: matches every record.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    ///
    /// assert!(Domain::all().is_empty());
    /// assert_eq!(Domain::all().to_json(), serde_json::json!([]));
    /// ```
    pub fn all() -> Self {
        Domain::default()
    }

    /// A domain that matches no record (`[[0, "=", 1]]`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// assert_eq!(Domain::none().to_json(), serde_json::json!([[0, "=", 1]]));
    /// assert_eq!(client.model("res.partner").search_count(Domain::none()).send().await?, 0);
    /// # Ok(()) }
    /// ```
    pub fn none() -> Self {
        Domain {
            elements: vec![Element::False],
        }
    }

    /// Starts a condition on `field` (a name or a dotted path).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::field("partner_id.country_id.code").eq("BE");
    /// assert_eq!(d.fields(), ["partner_id"]);
    /// assert_eq!(d.to_json(), json!([["partner_id.country_id.code", "=", "BE"]]));
    /// ```
    pub fn field(field: impl Into<String>) -> Field {
        Field(field.into())
    }

    /// A condition with any operator and JSON value, validated.
    ///
    /// # Errors
    ///
    /// [`DomainError`] when the field is empty or the value does not suit
    /// the operator.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use odoo_integration_client::domain::Operator;
    /// use serde_json::json;
    ///
    /// let d = Domain::leaf("tag_ids", Operator::In, json!([1, 2]))?;
    /// assert_eq!(d.to_json(), json!([["tag_ids", "in", [1, 2]]]));
    /// assert!(Domain::leaf("tag_ids", Operator::In, json!("not a list")).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn leaf(field: &str, operator: Operator, value: Value) -> Result<Self, DomainError> {
        let at = "condition".to_owned();
        if field.is_empty() {
            return Err(DomainError::BadField { at });
        }
        check_value(operator, &value, &at)?;
        Ok(Field(field.to_owned()).leaf(operator, value))
    }

    /// `true` for the empty domain.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    ///
    /// assert!(Domain::all().is_empty());
    /// assert!(!Domain::field("active").eq(true).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// The conditions, in order (sub-domains of `any` not included).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    ///
    /// let d = Domain::field("a").eq(1) | Domain::field("b").gt(2);
    /// let fields: Vec<&str> = d.conditions().map(|c| c.field.as_str()).collect();
    /// assert_eq!(fields, ["a", "b"]);
    /// ```
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.elements.iter().filter_map(|e| match e {
            Element::Leaf(c) => Some(c),
            _ => None,
        })
    }

    /// The fields the conditions use (first segment of paths), deduplicated.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    ///
    /// let d = Domain::field("partner_id.name").ilike("acme")
    ///     & Domain::field("partner_id").is_set()
    ///     & Domain::field("state").eq("sale");
    /// assert_eq!(d.fields(), ["partner_id", "state"]);
    /// ```
    pub fn fields(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in self.conditions() {
            let f = c.field.split('.').next().unwrap_or(&c.field);
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    /// Both must match.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::field("a").eq(1).and(Domain::field("b").eq(2));
    /// assert_eq!(d.to_json(), json!(["&", ["a", "=", 1], ["b", "=", 2]]));
    /// assert_eq!(d, Domain::field("a").eq(1) & Domain::field("b").eq(2));
    /// ```
    pub fn and(self, other: Domain) -> Domain {
        if self.is_empty() {
            return other;
        }
        if other.is_empty() {
            return self;
        }
        let mut elements = vec![Element::And];
        elements.extend(self.single().elements);
        elements.extend(other.single().elements);
        Domain { elements }
    }

    /// At least one must match.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::field("a").eq(1).or(Domain::field("b").eq(2));
    /// assert_eq!(d.to_json(), json!(["|", ["a", "=", 1], ["b", "=", 2]]));
    /// ```
    pub fn or(self, other: Domain) -> Domain {
        if self.is_empty() || other.is_empty() {
            // The empty domain matches everything.
            return Domain::all();
        }
        let mut elements = vec![Element::Or];
        elements.extend(self.single().elements);
        elements.extend(other.single().elements);
        Domain { elements }
    }

    /// Must not match.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::field("a").eq(1).negate();
    /// assert_eq!(d.to_json(), json!(["!", ["a", "=", 1]]));
    /// assert_eq!(d, !Domain::field("a").eq(1));
    /// ```
    pub fn negate(self) -> Domain {
        if self.is_empty() {
            return Domain::none();
        }
        let mut elements = vec![Element::Not];
        elements.extend(self.single().elements);
        Domain { elements }
    }

    /// All of them (the empty domain for none).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::and_all(["a", "b", "c"].map(|f| Domain::field(f).is_set()));
    /// assert_eq!(d.conditions().count(), 3);
    /// assert!(Domain::and_all([]).is_empty());
    /// ```
    pub fn and_all(domains: impl IntoIterator<Item = Domain>) -> Domain {
        domains.into_iter().fold(Domain::all(), Domain::and)
    }

    /// Any of them (a domain matching nothing for none).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::or_all([1, 2].map(|id| Domain::field("id").eq(id)));
    /// assert_eq!(d.to_json(), json!(["|", ["id", "=", 1], ["id", "=", 2]]));
    /// assert_eq!(Domain::or_all([]), Domain::none());
    /// ```
    pub fn or_all(domains: impl IntoIterator<Item = Domain>) -> Domain {
        let mut iter = domains.into_iter();
        match iter.next() {
            None => Domain::none(),
            Some(first) => iter.fold(first, Domain::or),
        }
    }

    /// Makes an implicit AND of several top-level expressions explicit.
    fn single(self) -> Domain {
        let n = top_level_count(&self.elements);
        if n <= 1 {
            return self;
        }
        let mut elements = vec![Element::And; n - 1];
        elements.extend(self.elements);
        Domain { elements }
    }

    /// The domain as Odoo's JSON list.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::field("date").ge(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
    /// assert_eq!(d.to_json(), json!([["date", ">=", "2026-01-01"]]));
    /// ```
    pub fn to_json(&self) -> Value {
        Value::Array(self.elements.iter().map(element_json).collect())
    }

    /// Parses and validates a domain from its JSON list.
    ///
    /// # Errors
    ///
    /// [`DomainError`] naming the element that is wrong.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use serde_json::json;
    ///
    /// let d = Domain::from_json(&json!(["|", ["a", "=", 1], ["b", "=", 2]]))?;
    /// assert_eq!(d, Domain::field("a").eq(1) | Domain::field("b").eq(2));
    /// assert!(Domain::from_json(&json!(["|", ["a", "=", 1]])).is_err()); // `|` lacks an operand
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_json(value: &Value) -> Result<Self, DomainError> {
        parse(value, "")
    }

    /// The domain as a tree.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Domain;
    /// use odoo_integration_client::domain::DomainTree;
    ///
    /// let d = Domain::field("a").eq(1) & Domain::field("b").eq(2);
    /// let DomainTree::And(parts) = d.to_tree() else { panic!("not an AND") };
    /// assert_eq!(parts.len(), 2);
    /// assert!(matches!(Domain::all().to_tree(), DomainTree::True));
    /// ```
    pub fn to_tree(&self) -> DomainTree {
        let mut pos = 0;
        let mut parts = Vec::new();
        while pos < self.elements.len() {
            parts.push(tree_at(&self.elements, &mut pos));
        }
        match parts.len() {
            0 => DomainTree::True,
            1 => parts.pop().unwrap_or(DomainTree::True),
            _ => DomainTree::And(parts),
        }
    }
}

fn element_json(e: &Element) -> Value {
    match e {
        Element::And => Value::from("&"),
        Element::Or => Value::from("|"),
        Element::Not => Value::from("!"),
        Element::True => serde_json::json!([1, "=", 1]),
        Element::False => serde_json::json!([0, "=", 1]),
        Element::Leaf(c) => Value::Array(vec![
            Value::from(c.field.as_str()),
            Value::from(c.operator.as_str()),
            c.value.clone(),
        ]),
    }
}

/// The number of complete expressions, scanning from the right. Assumes a
/// validated domain.
fn top_level_count(elements: &[Element]) -> usize {
    let mut stack = 0usize;
    for e in elements.iter().rev() {
        match e {
            Element::And | Element::Or => stack = stack.saturating_sub(1),
            Element::Not => {}
            _ => stack += 1,
        }
    }
    stack
}

fn tree_at(elements: &[Element], pos: &mut usize) -> DomainTree {
    let Some(e) = elements.get(*pos) else {
        return DomainTree::True;
    };
    *pos += 1;
    match e {
        Element::True => DomainTree::True,
        Element::False => DomainTree::False,
        Element::Leaf(c) => DomainTree::Leaf(c.clone()),
        Element::Not => DomainTree::Not(Box::new(tree_at(elements, pos))),
        Element::And | Element::Or => {
            let a = tree_at(elements, pos);
            let b = tree_at(elements, pos);
            let is_and = matches!(e, Element::And);
            // Flatten chains of the same operator.
            let mut parts = Vec::new();
            for t in [a, b] {
                match (t, is_and) {
                    (DomainTree::And(inner), true) | (DomainTree::Or(inner), false) => {
                        parts.extend(inner)
                    }
                    (t, _) => parts.push(t),
                }
            }
            if is_and {
                DomainTree::And(parts)
            } else {
                DomainTree::Or(parts)
            }
        }
    }
}

fn at(base: &str, index: usize) -> String {
    if base.is_empty() {
        format!("element {index}")
    } else {
        format!("{base} > element {index}")
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(a) => format!("a list of {}", a.len()),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn parse(value: &Value, base: &str) -> Result<Domain, DomainError> {
    let Value::Array(items) = value else {
        return Err(DomainError::NotAList {
            at: base.to_owned(),
            found: describe(value),
        });
    };
    let mut elements = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let here = at(base, index);
        let element = match item {
            Value::String(s) if s == "&" => Element::And,
            Value::String(s) if s == "|" => Element::Or,
            Value::String(s) if s == "!" => Element::Not,
            Value::Array(parts) => parse_leaf(parts, &here)?,
            other => {
                return Err(DomainError::BadElement {
                    at: here,
                    found: describe(other),
                });
            }
        };
        elements.push(element);
    }
    // Arity, right to left: every operator needs its operands after it.
    let mut operands = 0usize;
    for (index, e) in elements.iter().enumerate().rev() {
        let (needs, symbol) = match e {
            Element::And => (2, "&"),
            Element::Or => (2, "|"),
            Element::Not => (1, "!"),
            _ => {
                operands += 1;
                continue;
            }
        };
        if operands < needs {
            return Err(DomainError::MissingOperands {
                at: at(base, index),
                operator: symbol.to_owned(),
            });
        }
        operands -= needs - 1;
    }
    Ok(Domain { elements })
}

fn parse_leaf(parts: &[Value], here: &str) -> Result<Element, DomainError> {
    let [field, operator, value] = parts else {
        return Err(DomainError::WrongArity {
            at: here.to_owned(),
            len: parts.len(),
        });
    };
    // The constant leaves TRUE_LEAF (1, '=', 1) and FALSE_LEAF (0, '=', 1).
    if let (Some(f), Some("="), Some(1)) = (field.as_i64(), operator.as_str(), value.as_i64()) {
        match f {
            1 => return Ok(Element::True),
            0 => return Ok(Element::False),
            _ => {}
        }
    }
    let field = match field {
        Value::String(f) if !f.is_empty() => f.clone(),
        _ => {
            return Err(DomainError::BadField {
                at: here.to_owned(),
            });
        }
    };
    let operator_text = operator
        .as_str()
        .ok_or_else(|| DomainError::UnknownOperator {
            at: here.to_owned(),
            operator: operator.to_string(),
        })?;
    let operator: Operator = operator_text
        .parse()
        .map_err(|_| DomainError::UnknownOperator {
            at: here.to_owned(),
            operator: operator_text.to_owned(),
        })?;
    check_value(operator, value, here)?;
    Ok(Element::Leaf(Condition {
        field,
        operator,
        value: value.clone(),
    }))
}

fn check_value(operator: Operator, value: &Value, here: &str) -> Result<(), DomainError> {
    let invalid = |reason: String| DomainError::InvalidValue {
        at: here.to_owned(),
        operator,
        reason,
    };
    let scalar = |v: &Value| !matches!(v, Value::Array(_) | Value::Object(_));
    match operator.kind() {
        ValueKind::Scalar if !scalar(value) => Err(invalid(format!(
            "takes a single value, found {}",
            describe(value)
        ))),
        ValueKind::Ordered if !scalar(value) || value.is_boolean() => Err(invalid(format!(
            "takes a number, date or string, found {}",
            describe(value)
        ))),
        ValueKind::Pattern if !(value.is_string() || value == &Value::Bool(false)) => Err(invalid(
            format!("takes a string, found {}", describe(value)),
        )),
        ValueKind::List => match value {
            Value::Array(items) if items.iter().all(scalar) => Ok(()),
            Value::Array(_) => Err(invalid("takes a list of single values".to_owned())),
            other => Err(invalid(format!("takes a list, found {}", describe(other)))),
        },
        ValueKind::Ids => match value {
            Value::Number(_) | Value::String(_) => Ok(()),
            Value::Array(items) if items.iter().all(|v| v.is_i64() || v.is_string()) => Ok(()),
            other => Err(invalid(format!(
                "takes an id, a name or a list of them, found {}",
                describe(other)
            ))),
        },
        ValueKind::SubDomain => parse(value, &format!("{here} > value")).map(|_| ()),
        _ => Ok(()),
    }
}

impl Serialize for Domain {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Domain {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Domain::from_json(&value).map_err(serde::de::Error::custom)
    }
}

impl FromStr for Domain {
    type Err = DomainError;

    /// Parses JSON text such as `[["name", "ilike", "acme"]]`.
    fn from_str(s: &str) -> Result<Self, DomainError> {
        let value: Value = serde_json::from_str(s).map_err(|e| DomainError::NotAList {
            at: String::new(),
            found: format!("text that is not JSON ({e})"),
        })?;
        Domain::from_json(&value)
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

impl std::ops::BitAnd for Domain {
    type Output = Domain;
    fn bitand(self, rhs: Domain) -> Domain {
        self.and(rhs)
    }
}

impl std::ops::BitOr for Domain {
    type Output = Domain;
    fn bitor(self, rhs: Domain) -> Domain {
        self.or(rhs)
    }
}

impl std::ops::Not for Domain {
    type Output = Domain;
    fn not(self) -> Domain {
        self.negate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn every_operator_serialises_as_odoo_writes_it() {
        let f = || Domain::field("x");
        let cases = [
            (f().eq(1), json!([["x", "=", 1]])),
            (f().ne("a"), json!([["x", "!=", "a"]])),
            (f().lt(1.5), json!([["x", "<", 1.5]])),
            (f().le(2), json!([["x", "<=", 2]])),
            (f().gt(3), json!([["x", ">", 3]])),
            (f().ge(4), json!([["x", ">=", 4]])),
            (f().eq_if_set(false), json!([["x", "=?", false]])),
            (f().like("a"), json!([["x", "like", "a"]])),
            (f().ilike("a"), json!([["x", "ilike", "a"]])),
            (f().not_like("a"), json!([["x", "not like", "a"]])),
            (f().not_ilike("a"), json!([["x", "not ilike", "a"]])),
            (f().eq_like("a%"), json!([["x", "=like", "a%"]])),
            (f().eq_ilike("a%"), json!([["x", "=ilike", "a%"]])),
            (f().is_in([1, 2]), json!([["x", "in", [1, 2]]])),
            (f().not_in(["a"]), json!([["x", "not in", ["a"]]])),
            (f().child_of([9]), json!([["x", "child_of", [9]]])),
            (f().parent_of([9]), json!([["x", "parent_of", [9]]])),
            (
                f().any(Domain::field("y").eq(1)),
                json!([["x", "any", [["y", "=", 1]]]]),
            ),
            (f().not_any(Domain::all()), json!([["x", "not any", []]])),
            (f().is_set(), json!([["x", "!=", false]])),
            (f().is_not_set(), json!([["x", "=", false]])),
        ];
        for (d, expected) in cases {
            assert_eq!(d.to_json(), expected);
            assert_eq!(Domain::from_json(&expected).unwrap(), d);
        }
        for op in Operator::ALL {
            assert_eq!(op.as_str().parse::<Operator>().unwrap(), op);
        }
    }

    #[test]
    fn the_recorded_operator_domain_is_rebuilt_exactly() {
        // jsonrpc_search_domain_operators.json
        let recorded = json!([
            "&",
            "|",
            ["parent_id", "child_of", [9]],
            ["email", "=ilike", "%@example.com"],
            "!",
            ["id", "in", [1, 2, 3]]
        ]);
        let built = (Domain::field("parent_id").child_of([9])
            | Domain::field("email").eq_ilike("%@example.com"))
            & !Domain::field("id").is_in([1, 2, 3]);
        assert_eq!(built.to_json(), recorded);
        // json2_search_read_changed_since_cursor.json
        let recorded = json!([
            "|",
            ["write_date", ">", "2026-11-24 00:00:00"],
            "&",
            ["write_date", "=", "2026-11-24 00:00:00"],
            ["id", ">", 0]
        ]);
        let t = "2026-11-24 00:00:00";
        let built = Domain::field("write_date").gt(t)
            | (Domain::field("write_date").eq(t) & Domain::field("id").gt(0));
        assert_eq!(built.to_json(), recorded);
    }

    #[test]
    fn implicit_and_constants_and_empty_domains() {
        let implicit = Domain::from_json(&json!([["a", "=", 1], ["b", "=", 2]])).unwrap();
        assert_eq!(
            implicit.to_tree(),
            DomainTree::And(vec![
                DomainTree::Leaf(Condition {
                    field: "a".into(),
                    operator: Operator::Eq,
                    value: json!(1)
                }),
                DomainTree::Leaf(Condition {
                    field: "b".into(),
                    operator: Operator::Eq,
                    value: json!(2)
                }),
            ])
        );
        // Combining makes the implicit AND explicit.
        let combined = implicit.clone() | Domain::field("c").eq(3);
        assert_eq!(
            combined.to_json(),
            json!(["|", "&", ["a", "=", 1], ["b", "=", 2], ["c", "=", 3]])
        );
        let consts = Domain::from_json(&json!(["|", [0, "=", 1], [1, "=", 1]])).unwrap();
        assert_eq!(
            consts.to_tree(),
            DomainTree::Or(vec![DomainTree::False, DomainTree::True])
        );
        assert_eq!(
            Domain::all() & Domain::field("a").eq(1),
            Domain::field("a").eq(1)
        );
        assert!((Domain::all() | Domain::field("a").eq(1)).is_empty());
        assert_eq!((!Domain::all()).to_tree(), DomainTree::False);
        assert_eq!(Domain::all().to_tree(), DomainTree::True);
        assert_eq!(Domain::or_all([]).to_tree(), DomainTree::False);
    }

    #[test]
    fn malformed_domains_say_what_and_where() {
        let cases = [
            (json!({"a": 1}), "a domain is a list, found an object"),
            (
                json!([["a", "="]]),
                "element 0: a condition has 3 items [field, operator, value], found 2",
            ),
            (json!([["a", "=~", 1]]), "element 0: unknown operator `=~`"),
            (
                json!(["&", ["a", "=", 1]]),
                "element 0: operator `&` lacks operands",
            ),
            (json!(["!"]), "element 0: operator `!` lacks operands"),
            (
                json!([["a", "=", 1], "|"]),
                "element 1: operator `|` lacks operands",
            ),
            (
                json!([["", "=", 1]]),
                "element 0: the field name must be a non-empty string",
            ),
            (
                json!([["a", "=", [1, 2]]]),
                "element 0: operator `=` takes a single value, found a list of 2",
            ),
            (
                json!([["a", "in", 5]]),
                "element 0: operator `in` takes a list, found the number 5",
            ),
            (
                json!([["a", "ilike", 5]]),
                "element 0: operator `ilike` takes a string, found the number 5",
            ),
            (
                json!([["a", "=", {"b": 1}]]),
                "element 0: operator `=` takes a single value, found an object",
            ),
            (
                json!([42]),
                "element 0: expected \"&\", \"|\", \"!\" or a [field, operator, value] condition, found the number 42",
            ),
            (
                json!([["a", "any", [["b", "=="]]]]),
                "element 0 > value > element 0: a condition has 3 items [field, operator, value], found 2",
            ),
        ];
        for (input, message) in cases {
            let err = Domain::from_json(&input).unwrap_err();
            assert_eq!(err.to_string(), message, "{input}");
        }
        assert!("not json".parse::<Domain>().is_err());
        assert!(Domain::leaf("a", Operator::In, json!(1)).is_err());
    }

    fn arb_leaf() -> impl Strategy<Value = Domain> {
        let field = "[a-z_]{1,8}(\\.[a-z_]{1,6})?";
        let scalar = prop_oneof![
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[ -~]{0,10}".prop_map(Value::from),
        ];
        (
            field,
            scalar.clone(),
            proptest::collection::vec(scalar, 0..4),
            0usize..4,
        )
            .prop_map(|(f, s, list, which)| match which {
                0 => Domain::leaf(&f, Operator::Eq, s).unwrap_or_default(),
                1 => Domain::field(f).is_in(list.into_iter().map(Scalar)),
                2 => Domain::field(f).ilike("x"),
                _ => Domain::field(f).child_of([1, 2]),
            })
    }

    fn arb_domain() -> impl Strategy<Value = Domain> {
        arb_leaf().prop_recursive(4, 32, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| a & b),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| a | b),
                inner.clone().prop_map(|a| !a),
                (inner.clone(), "[a-z]{1,5}").prop_map(|(a, f)| Domain::field(f).any(a)),
            ]
        })
    }

    proptest! {
        #[test]
        fn serialise_then_parse_is_identity(d in arb_domain()) {
            let json = d.to_json();
            let back = Domain::from_json(&json).unwrap();
            prop_assert_eq!(&back, &d);
            prop_assert_eq!(back.to_json(), json.clone());
            let text = serde_json::to_string(&d).unwrap();
            prop_assert_eq!(text.parse::<Domain>().unwrap(), d);
        }

        #[test]
        fn arbitrary_json_never_panics(v in arb_json()) {
            let _ = Domain::from_json(&v);
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            prop_oneof![
                Just("&".to_owned()),
                Just("|".to_owned()),
                Just("!".to_owned()),
                Just("=".to_owned()),
                Just("in".to_owned()),
                Just("any".to_owned()),
                "[ -~]{0,4}"
            ]
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z]{1,3}", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
