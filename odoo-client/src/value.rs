//! Odoo's value encodings, made typed.
//!
//! Odoo writes an empty field as `false` (never `null`), a many2one as
//! `[id, "display name"]`, x2many fields as lists of ids, dates as
//! `"YYYY-MM-DD"`, datetimes as `"YYYY-MM-DD HH:MM:SS"` in UTC, monetary
//! amounts as JSON numbers and binaries as base64 text. Each quirk is one
//! serde attribute or one type here:
//!
//! | Odoo field | Rust type | attribute |
//! |---|---|---|
//! | char, text, html, selection (may be empty) | `Option<String>` or your enum | `#[serde(with = "falsy")]` |
//! | many2one | `Option<Many2One>` | `#[serde(with = "falsy")]` |
//! | one2many, many2many | `Vec<i64>` | none |
//! | date | `Option<NaiveDate>` | `#[serde(with = "falsy")]` |
//! | datetime | `DateTime<Utc>` / `Option<DateTime<Utc>>` | `with = "datetime"` / `"datetime::option"` |
//! | monetary, float amounts | `Decimal` / `Option<Decimal>` | `with = "monetary"` / `"monetary::option"` |
//! | binary | `Vec<u8>` / `Option<Vec<u8>>` | `with = "binary"` / `"binary::option"` |
//!
//! Reading x2many fields needs nothing special: `Vec<i64>` takes Odoo's list
//! of ids (`[]` when empty). Writing them takes [`Command`]s.
//!
//! Dates need no helper: `chrono::NaiveDate` already reads and writes
//! `"YYYY-MM-DD"`, and `Option<NaiveDate>` with [`falsy`] handles `false`.
//! Selections are a `String` or your own enum with `#[serde(rename = "...")]`
//! variants, wrapped in `Option` with [`falsy`] when they can be unset:
//!
//! ```
//! use odoo_integration_client::value::falsy;
//!
//! #[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize)]
//! enum OrderState {
//!     #[serde(rename = "draft")]
//!     Quotation,
//!     #[serde(rename = "sent")]
//!     QuotationSent,
//!     #[serde(rename = "sale")]
//!     SalesOrder,
//!     #[serde(rename = "cancel")]
//!     Cancelled,
//! }
//!
//! #[derive(serde::Deserialize)]
//! struct Order {
//!     #[serde(with = "falsy", default)]
//!     state: Option<OrderState>,
//! }
//! let o: Order = serde_json::from_str(r#"{"state": "sale"}"#)?;
//! assert_eq!(o.state, Some(OrderState::SalesOrder));
//! let unset: Order = serde_json::from_str(r#"{"state": false}"#)?;
//! assert_eq!(unset.state, None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! For rows you do not want to type, use [`Record`].
//!
//! # Example
//!
//! ```
//! use chrono::{DateTime, NaiveDate, Utc};
//! use odoo_integration_client::value::{Many2One, datetime, falsy, monetary};
//! use rust_decimal::Decimal;
//!
//! #[derive(Debug, serde::Deserialize)]
//! struct TimesheetLine {
//!     id: i64,
//!     #[serde(with = "falsy")]
//!     name: Option<String>,
//!     date: NaiveDate,
//!     #[serde(with = "monetary")]
//!     unit_amount: Decimal, // hours
//!     #[serde(with = "falsy")]
//!     task_id: Option<Many2One>,
//!     #[serde(with = "falsy")]
//!     employee_id: Option<Many2One>,
//!     #[serde(with = "datetime")]
//!     write_date: DateTime<Utc>,
//! }
//!
//! let row = serde_json::json!({
//!     "id": 12, "name": false, "date": "2026-11-02", "unit_amount": 1.25,
//!     "task_id": false, "employee_id": [7, "Marc Demo"],
//!     "write_date": "2026-11-23 08:04:06"
//! });
//! let line: TimesheetLine = serde_json::from_value(row)?;
//! assert_eq!(line.unit_amount, Decimal::new(125, 2));
//! assert_eq!(line.employee_id.map(|e| e.id), Some(7));
//! assert!(line.name.is_none() && line.task_id.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An untyped record: field name to value, as Odoo sends it.
///
/// # Example
///
/// ```
/// use odoo_integration_client::value::Record;
///
/// let row: Record = serde_json::from_str(r#"{"id": 7, "email": false}"#)?;
/// assert_eq!(row["id"], 7);
/// assert_eq!(row["email"], false);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Record = Map<String, Value>;

/// `false` (or `null`) ⇄ `None`, for any `Option<T>`.
///
/// Odoo sends `false` for every empty field; on write, `false` clears a
/// field. Use it with `#[serde(with = "falsy")]`; add `default`
/// (`#[serde(with = "falsy", default)]`) when the field may be missing from a
/// row, e.g. when you did not ask for it: a missing field is then `None`
/// instead of an error. `true` is handed to `T` (so `Option<bool>` works),
/// and every other value is passed on to `T` without buffering, so decode
/// errors keep their exact path.
///
/// # Example
///
/// ```
/// use odoo_integration_client::value::falsy;
///
/// #[derive(serde::Deserialize, serde::Serialize)]
/// struct Contact {
///     #[serde(with = "falsy", default)]
///     email: Option<String>,
/// }
/// let c: Contact = serde_json::from_str(r#"{"email": false}"#)?;
/// assert_eq!(c.email, None);
/// assert_eq!(serde_json::to_string(&c)?, r#"{"email":false}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod falsy {
    use super::*;

    /// Serialises `None` as `false` and `Some(v)` as `v`.
    ///
    /// # Errors
    ///
    /// Those of `T`'s serialisation.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::falsy;
    ///
    /// let mut out = Vec::new();
    /// falsy::serialize(&None::<String>, &mut serde_json::Serializer::new(&mut out))?;
    /// assert_eq!(String::from_utf8(out)?, "false");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => v.serialize(serializer),
            None => serializer.serialize_bool(false),
        }
    }

    /// Deserialises `false` or `null` as `None`, anything else as `T`.
    ///
    /// # Errors
    ///
    /// `true`, or a value `T` does not accept.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::falsy;
    ///
    /// let value: Option<String> = falsy::deserialize(&mut serde_json::Deserializer::from_str("false"))?;
    /// assert_eq!(value, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_any(FalsyVisitor(PhantomData))
    }

    struct FalsyVisitor<T>(PhantomData<T>);

    // Every visit other than false/null is forwarded to `T` through serde's
    // value deserializers: no buffering, and error paths stay precise.
    impl<'de, T: Deserialize<'de>> Visitor<'de> for FalsyVisitor<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a value or false")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            if v {
                T::deserialize(v.into_deserializer()).map(Some)
            } else {
                Ok(None)
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            T::deserialize(v.into_deserializer()).map(Some)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            T::deserialize(v.into_deserializer()).map(Some)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            T::deserialize(v.into_deserializer()).map(Some)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            T::deserialize(v.into_deserializer()).map(Some)
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            T::deserialize(de::value::BorrowedStrDeserializer::new(v)).map(Some)
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            T::deserialize(v.into_deserializer()).map(Some)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Some)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
            T::deserialize(de::value::BytesDeserializer::new(v)).map(Some)
        }
        fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
            T::deserialize(de::value::BorrowedBytesDeserializer::new(v)).map(Some)
        }
        fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
            T::deserialize(de::value::BytesDeserializer::new(&v)).map(Some)
        }
        fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::EnumAccessDeserializer::new(data)).map(Some)
        }
    }
}

/// A many2one value: the related record's id and display name.
///
/// Deserialises from Odoo's `[id, "display name"]` (or a bare id);
/// serialises as the bare id, which is what `create` and `write` expect.
/// Wrap it in `Option` with [`falsy`] for an empty many2one.
///
/// # Example
///
/// ```
/// use odoo_integration_client::value::Many2One;
///
/// let country: Many2One = serde_json::from_str(r#"[233, "United States"]"#)?;
/// assert_eq!((country.id, country.name.as_deref()), (233, Some("United States")));
/// assert_eq!(serde_json::to_string(&country)?, "233");
/// assert_eq!(Many2One::from(5).id, 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Many2One {
    /// The related record's id.
    pub id: i64,
    /// Its display name, when the server sent one.
    pub name: Option<String>,
}

impl Many2One {
    /// A reference to record `id` with its display name.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::Many2One;
    ///
    /// let m = Many2One::new(233, "United States");
    /// assert_eq!(m.to_string(), "United States (233)");
    /// ```
    pub fn new(id: i64, name: impl Into<String>) -> Self {
        Many2One {
            id,
            name: Some(name.into()),
        }
    }

    /// The related record's id.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::Many2One;
    ///
    /// assert_eq!(Many2One::from(9).id(), 9);
    /// ```
    pub fn id(&self) -> i64 {
        self.id
    }

    /// The display name, when the server sent one.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::Many2One;
    ///
    /// assert_eq!(Many2One::new(9, "Acme").name(), Some("Acme"));
    /// assert_eq!(Many2One::from(9).name(), None);
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl From<i64> for Many2One {
    fn from(id: i64) -> Self {
        Many2One { id, name: None }
    }
}

impl fmt::Display for Many2One {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} ({})", self.id),
            None => write!(f, "#{}", self.id),
        }
    }
}

impl Serialize for Many2One {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.id)
    }
}

impl<'de> Deserialize<'de> for Many2One {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Many2One;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a many2one: [id, \"name\"] or an id")
            }
            fn visit_i64<E: de::Error>(self, id: i64) -> Result<Many2One, E> {
                Ok(Many2One::from(id))
            }
            fn visit_u64<E: de::Error>(self, id: u64) -> Result<Many2One, E> {
                i64::try_from(id)
                    .map(Many2One::from)
                    .map_err(|_| E::custom("many2one id out of range"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Many2One, A::Error> {
                let id: i64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                // The name may be false when the user cannot read it.
                let name: Option<Value> = seq.next_element()?;
                let name = match name {
                    Some(Value::String(s)) => Some(s),
                    _ => None,
                };
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(Many2One { id, name })
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// An x2many write command (`one2many` / `many2many` fields in `create` and
/// `write`), serialised as Odoo's triples.
///
/// # Example
///
/// ```
/// use odoo_integration_client::value::Command;
/// use serde_json::json;
///
/// let vals = json!({
///     "category_id": [Command::set([1, 2])],
///     "child_ids": [Command::create(json!({"name": "Jane"})), Command::link(9), Command::unlink(4)],
/// });
/// assert_eq!(vals["category_id"], json!([[6, 0, [1, 2]]]));
/// assert_eq!(vals["child_ids"], json!([[0, 0, {"name": "Jane"}], [4, 9, 0], [3, 4, 0]]));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// `[0, 0, vals]`: create a related record.
    Create(Map<String, Value>),
    /// `[1, id, vals]`: write to a related record.
    Update(i64, Map<String, Value>),
    /// `[2, id, 0]`: delete a related record.
    Delete(i64),
    /// `[3, id, 0]`: remove a record from the relation (keeps the record).
    Unlink(i64),
    /// `[4, id, 0]`: add an existing record to the relation.
    Link(i64),
    /// `[5, 0, 0]`: remove every record from the relation.
    Clear,
    /// `[6, 0, ids]`: replace the relation with these records.
    Set(Vec<i64>),
}

fn into_map(values: impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(values) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

impl Command {
    /// Creates a related record with these values (a JSON object or any
    /// struct that serialises to one; anything else counts as no values).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::Command;
    ///
    /// let c = Command::create(serde_json::json!({"name": "Jane"}));
    /// assert_eq!(serde_json::to_value(&c)?, serde_json::json!([0, 0, {"name": "Jane"}]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create(values: impl Serialize) -> Self {
        Command::Create(into_map(values))
    }
    /// Writes these values to the related record `id`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::Command;
    ///
    /// let c = Command::update(3, serde_json::json!({"name": "Jane"}));
    /// assert_eq!(serde_json::to_value(&c)?, serde_json::json!([1, 3, {"name": "Jane"}]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn update(id: i64, values: impl Serialize) -> Self {
        Command::Update(id, into_map(values))
    }
    /// Deletes the related record `id`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::Command;
    ///
    /// assert_eq!(serde_json::to_value(Command::delete(4))?, serde_json::json!([2, 4, 0]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn delete(id: i64) -> Self {
        Command::Delete(id)
    }
    /// Removes `id` from the relation.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::Command;
    ///
    /// assert_eq!(serde_json::to_value(Command::unlink(4))?, serde_json::json!([3, 4, 0]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlink(id: i64) -> Self {
        Command::Unlink(id)
    }
    /// Adds `id` to the relation.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::Command;
    ///
    /// assert_eq!(serde_json::to_value(Command::link(4))?, serde_json::json!([4, 4, 0]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn link(id: i64) -> Self {
        Command::Link(id)
    }
    /// Empties the relation.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::Command;
    ///
    /// assert_eq!(serde_json::to_value(Command::clear())?, serde_json::json!([5, 0, 0]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clear() -> Self {
        Command::Clear
    }
    /// Replaces the relation with `ids`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::Command;
    ///
    /// assert_eq!(serde_json::to_value(Command::set([1, 2]))?, serde_json::json!([6, 0, [1, 2]]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set(ids: impl IntoIterator<Item = i64>) -> Self {
        Command::Set(ids.into_iter().collect())
    }
}

impl From<Command> for Value {
    fn from(command: Command) -> Value {
        serde_json::to_value(command).unwrap_or(Value::Null)
    }
}

impl Serialize for Command {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(3))?;
        match self {
            Command::Create(vals) => {
                seq.serialize_element(&0)?;
                seq.serialize_element(&0)?;
                seq.serialize_element(vals)?;
            }
            Command::Update(id, vals) => {
                seq.serialize_element(&1)?;
                seq.serialize_element(id)?;
                seq.serialize_element(vals)?;
            }
            Command::Delete(id) | Command::Unlink(id) | Command::Link(id) => {
                let code = match self {
                    Command::Delete(_) => 2,
                    Command::Unlink(_) => 3,
                    _ => 4,
                };
                seq.serialize_element(&code)?;
                seq.serialize_element(id)?;
                seq.serialize_element(&0)?;
            }
            Command::Clear => {
                seq.serialize_element(&5)?;
                seq.serialize_element(&0)?;
                seq.serialize_element(&0)?;
            }
            Command::Set(ids) => {
                seq.serialize_element(&6)?;
                seq.serialize_element(&0)?;
                seq.serialize_element(ids)?;
            }
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let items: Vec<Value> = Vec::deserialize(deserializer)?;
        Command::from_parts(&items).map_err(de::Error::custom)
    }
}

impl Command {
    fn from_parts(items: &[Value]) -> Result<Command, String> {
        let code = items
            .first()
            .and_then(Value::as_i64)
            .ok_or("an x2many command starts with its code 0-6")?;
        let id = || {
            items
                .get(1)
                .and_then(Value::as_i64)
                .ok_or_else(|| format!("command {code} needs a record id"))
        };
        let vals = || match items.get(2) {
            Some(Value::Object(map)) => Ok(map.clone()),
            _ => Err(format!("command {code} needs a values object")),
        };
        if items.len() > 3 {
            return Err(format!(
                "command {code} has {} items, at most 3",
                items.len()
            ));
        }
        Ok(match code {
            0 => Command::Create(vals()?),
            1 => Command::Update(id()?, vals()?),
            2 => Command::Delete(id()?),
            3 => Command::Unlink(id()?),
            4 => Command::Link(id()?),
            5 => Command::Clear,
            6 => match items.get(2) {
                Some(Value::Array(ids)) => Command::Set(
                    ids.iter()
                        .map(|v| v.as_i64().ok_or("command 6 takes a list of ids"))
                        .collect::<Result<_, _>>()?,
                ),
                _ => return Err("command 6 takes a list of ids".to_owned()),
            },
            other => return Err(format!("unknown x2many command code {other}")),
        })
    }
}

/// Odoo's datetime format, always UTC.
const DATETIME: &str = "%Y-%m-%d %H:%M:%S";

/// `chrono::DateTime<Utc>` ⇄ Odoo's `"YYYY-MM-DD HH:MM:SS"` (UTC, no zone).
///
/// # Example
///
/// ```
/// use chrono::{DateTime, TimeZone, Utc};
///
/// #[derive(serde::Deserialize, serde::Serialize)]
/// struct Row {
///     #[serde(with = "odoo_integration_client::value::datetime")]
///     write_date: DateTime<Utc>,
///     #[serde(with = "odoo_integration_client::value::datetime::option")]
///     date_deadline: Option<DateTime<Utc>>,
/// }
/// let row: Row =
///     serde_json::from_str(r#"{"write_date": "2026-11-23 08:04:06", "date_deadline": false}"#)?;
/// assert_eq!(row.write_date, Utc.with_ymd_and_hms(2026, 11, 23, 8, 4, 6).unwrap());
/// assert_eq!(
///     serde_json::to_string(&row)?,
///     r#"{"write_date":"2026-11-23 08:04:06","date_deadline":false}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod datetime {
    use chrono::{DateTime, NaiveDateTime, Utc};

    use super::*;

    /// Formats a UTC instant as Odoo does.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    ///
    /// let at = Utc.with_ymd_and_hms(2026, 11, 23, 8, 4, 6).unwrap();
    /// assert_eq!(odoo_integration_client::value::datetime::format(&at), "2026-11-23 08:04:06");
    /// ```
    pub fn format(instant: &DateTime<Utc>) -> String {
        instant.format(DATETIME).to_string()
    }

    /// Parses Odoo's datetime text (fractional seconds and a `T` separator
    /// are accepted too) as UTC.
    ///
    /// # Errors
    ///
    /// A message naming the text when it is not a datetime.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::datetime;
    ///
    /// let at = datetime::parse("2026-11-23 08:04:06.250")?;
    /// assert_eq!(at.timestamp_subsec_millis(), 250);
    /// assert!(datetime::parse("23/11/2026").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(text: &str) -> Result<DateTime<Utc>, String> {
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            .map(|naive| naive.and_utc())
            .ok_or_else(|| {
                format!("expected an Odoo datetime `YYYY-MM-DD HH:MM:SS`, found `{text}`")
            })
    }

    /// Serialises as `"YYYY-MM-DD HH:MM:SS"`.
    ///
    /// # Errors
    ///
    /// Those of the serializer.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::datetime;
    /// use chrono::{TimeZone, Utc};
    /// let mut out = Vec::new();
    /// datetime::serialize(
    ///     &Utc.with_ymd_and_hms(2026, 11, 23, 8, 4, 6).unwrap(),
    ///     &mut serde_json::Serializer::new(&mut out),
    /// )?;
    /// assert_eq!(String::from_utf8(out)?, r#""2026-11-23 08:04:06""#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn serialize<S: Serializer>(value: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(value))
    }

    /// Deserialises `"YYYY-MM-DD HH:MM:SS"` as UTC.
    ///
    /// # Errors
    ///
    /// Anything but a datetime string (use [`option`] for fields that can be
    /// `false`).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::datetime;
    /// use chrono::{TimeZone, Utc};
    /// let value: chrono::DateTime<Utc> = datetime::deserialize(
    ///     &mut serde_json::Deserializer::from_str(r#""2026-11-23 08:04:06""#),
    /// )?;
    /// assert_eq!(value, Utc.with_ymd_and_hms(2026, 11, 23, 8, 4, 6).unwrap());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse(&text).map_err(de::Error::custom)
    }

    /// `Option<DateTime<Utc>>` with `false` for `None`.
    pub mod option {
        use super::*;

        /// Serialises `None` as `false`.
        ///
        /// # Errors
        ///
        /// Those of the serializer.
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::value::datetime;
        ///
        /// let mut out = Vec::new();
        /// datetime::option::serialize(&None, &mut serde_json::Serializer::new(&mut out))?;
        /// assert_eq!(String::from_utf8(out)?, "false");
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn serialize<S: Serializer>(
            value: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => super::serialize(v, s),
                None => s.serialize_bool(false),
            }
        }

        /// Deserialises `false`/`null` as `None`.
        ///
        /// # Errors
        ///
        /// A value that is neither `false` nor a datetime string.
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::value::datetime;
        ///
        /// let value: Option<chrono::DateTime<chrono::Utc>> =
        ///     datetime::option::deserialize(&mut serde_json::Deserializer::from_str("false"))?;
        /// assert_eq!(value, None);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            let text: Option<String> = falsy::deserialize(d)?;
            text.map(|t| parse(&t).map_err(de::Error::custom))
                .transpose()
        }
    }
}

/// `rust_decimal::Decimal` ⇄ the JSON number Odoo sends for monetary and
/// float fields, exactly as written on the wire.
///
/// A JSON number such as `1234.56` is read through its shortest decimal text
/// (never by `f64` arithmetic), so it becomes exactly `1234.56`; on write the
/// decimal becomes a JSON number with the same text. Numeric strings are
/// accepted on input.
///
/// # Example
///
/// ```
/// use rust_decimal::Decimal;
///
/// #[derive(serde::Deserialize, serde::Serialize)]
/// struct Invoice {
///     #[serde(with = "odoo_integration_client::value::monetary")]
///     amount_total: Decimal,
///     #[serde(with = "odoo_integration_client::value::monetary::option")]
///     amount_residual: Option<Decimal>,
/// }
/// let inv: Invoice = serde_json::from_str(r#"{"amount_total": 1234.56, "amount_residual": false}"#)?;
/// assert_eq!(inv.amount_total, Decimal::new(123456, 2));
/// assert_eq!(serde_json::to_string(&inv)?, r#"{"amount_total":1234.56,"amount_residual":false}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod monetary {
    use std::str::FromStr;

    use rust_decimal::Decimal;
    use rust_decimal::prelude::ToPrimitive;

    use super::*;

    /// Serialises as a JSON number. Odoo keeps monetary and float fields as
    /// floats, so the amount travels as the float nearest to it, which
    /// prints back as the same decimal (`1234.56`; `10.50` as `10.5`) for
    /// up to 15 significant digits. An amount a float cannot carry exactly
    /// (more digits than that) is an error, never silently rounded.
    ///
    /// # Errors
    ///
    /// An amount a JSON float cannot carry without changing it.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::monetary;
    /// use rust_decimal::Decimal;
    /// let mut out = Vec::new();
    /// monetary::serialize(&Decimal::new(123456, 2), &mut serde_json::Serializer::new(&mut out))?;
    /// assert_eq!(String::from_utf8(out)?, "1234.56");
    ///
    /// let too_precise: Decimal = "1234567890.1234567891".parse()?;
    /// let mut out = Vec::new();
    /// assert!(monetary::serialize(&too_precise, &mut serde_json::Serializer::new(&mut out)).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        let f = value
            .to_f64()
            .filter(|f| f.is_finite())
            .ok_or_else(|| serde::ser::Error::custom("amount out of range"))?;
        // Rust prints the shortest text that reads back as the same float:
        // if that is not the amount, a float cannot carry it.
        let carried = Decimal::from_str(&f.to_string()).map_err(serde::ser::Error::custom)?;
        if carried.normalize() != value.normalize() {
            return Err(serde::ser::Error::custom(format_args!(
                "amount {value} has more digits than an Odoo float keeps ({carried})"
            )));
        }
        s.serialize_f64(f)
    }

    /// Deserialises a JSON number or numeric string.
    ///
    /// # Errors
    ///
    /// A value that is not a number.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::monetary;
    /// use rust_decimal::Decimal;
    /// let value: Decimal = monetary::deserialize(&mut serde_json::Deserializer::from_str("1234.56"))?;
    /// assert_eq!(value, Decimal::new(123456, 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }

    pub(super) struct DecimalVisitor;

    impl Visitor<'_> for DecimalVisitor {
        type Value = Decimal;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
            if !v.is_finite() {
                return Err(E::custom("amount is not a finite number"));
            }
            // `{}` prints the shortest text that reads back as `v`: the text
            // the server wrote. Decimal parses it exactly.
            let text = format!("{v}");
            Decimal::from_str(&text)
                .or_else(|_| Decimal::from_scientific(&text))
                .map_err(|_| E::custom(format!("amount {text} does not fit a decimal")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            Decimal::from_str(v.trim()).map_err(|_| E::custom(format!("`{v}` is not an amount")))
        }
    }

    /// `Option<Decimal>` with `false` for `None`.
    pub mod option {
        use super::*;

        /// Serialises `None` as `false`.
        ///
        /// # Errors
        ///
        /// A decimal outside what a JSON number can carry.
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::value::monetary;
        /// use rust_decimal::Decimal;
        /// let mut out = Vec::new();
        /// monetary::option::serialize(
        ///     &Some(Decimal::new(-1025, 2)),
        ///     &mut serde_json::Serializer::new(&mut out),
        /// )?;
        /// assert_eq!(String::from_utf8(out)?, "-10.25");
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => super::serialize(v, s),
                None => s.serialize_bool(false),
            }
        }

        /// Deserialises `false`/`null` as `None`.
        ///
        /// # Errors
        ///
        /// A value that is neither `false` nor a number.
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::value::monetary;
        ///
        /// let value: Option<rust_decimal::Decimal> =
        ///     monetary::option::deserialize(&mut serde_json::Deserializer::from_str("false"))?;
        /// assert_eq!(value, None);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Option<Decimal>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a number or false")
                }
                fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                    if v {
                        Err(E::invalid_type(de::Unexpected::Bool(true), &self))
                    } else {
                        Ok(None)
                    }
                }
                fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                    Ok(None)
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                    DecimalVisitor.visit_i64(v).map(Some)
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                    DecimalVisitor.visit_u64(v).map(Some)
                }
                fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                    DecimalVisitor.visit_f64(v).map(Some)
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                    DecimalVisitor.visit_str(v).map(Some)
                }
            }
            d.deserialize_any(V)
        }
    }
}

/// `Vec<u8>` ⇄ base64 text, how Odoo carries binary fields (also over
/// XML-RPC, as a string).
///
/// # Example
///
/// ```
/// #[derive(serde::Deserialize, serde::Serialize)]
/// struct Doc {
///     #[serde(with = "odoo_integration_client::value::binary::option")]
///     datas: Option<Vec<u8>>,
/// }
/// let d: Doc = serde_json::from_str(r#"{"datas": "aGVsbG8="}"#)?;
/// assert_eq!(d.datas.as_deref(), Some(&b"hello"[..]));
/// let empty: Doc = serde_json::from_str(r#"{"datas": false}"#)?;
/// assert!(empty.datas.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod binary {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    /// Serialises as standard base64.
    ///
    /// # Errors
    ///
    /// Those of the serializer.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::binary;
    ///
    /// let mut out = Vec::new();
    /// binary::serialize(b"%PDF", &mut serde_json::Serializer::new(&mut out))?;
    /// assert_eq!(String::from_utf8(out)?, r#""JVBERg==""#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn serialize<S: Serializer>(value: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(value))
    }

    /// Deserialises base64 text (line breaks tolerated).
    ///
    /// # Errors
    ///
    /// Text that is not base64.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::value::binary;
    ///
    /// let value: Vec<u8> = binary::deserialize(&mut serde_json::Deserializer::from_str(r#""JVBERg==""#))?;
    /// assert_eq!(value, b"%PDF");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        decode(&text).map_err(de::Error::custom)
    }

    fn decode(text: &str) -> Result<Vec<u8>, String> {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        STANDARD
            .decode(compact.as_bytes())
            .map_err(|e| format!("invalid base64: {e}"))
    }

    /// `Option<Vec<u8>>` with `false` for `None`.
    pub mod option {
        use super::*;

        /// Serialises `None` as `false`.
        ///
        /// # Errors
        ///
        /// Those of the serializer.
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::value::binary;
        ///
        /// let mut out = Vec::new();
        /// binary::option::serialize(&None, &mut serde_json::Serializer::new(&mut out))?;
        /// assert_eq!(String::from_utf8(out)?, "false");
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn serialize<S: Serializer>(value: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => super::serialize(v, s),
                None => s.serialize_bool(false),
            }
        }

        /// Deserialises `false`/`null` as `None`.
        ///
        /// # Errors
        ///
        /// A value that is neither `false` nor base64 text.
        ///
        /// # Example
        ///
        /// ```
        /// use odoo_integration_client::value::binary;
        ///
        /// let value: Option<Vec<u8>> =
        ///     binary::option::deserialize(&mut serde_json::Deserializer::from_str(r#""aGk=""#))?;
        /// assert_eq!(value, Some(b"hi".to_vec()));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            let text: Option<String> = falsy::deserialize(d)?;
            text.map(|t| decode(&t).map_err(de::Error::custom))
                .transpose()
        }
    }
}

/// Decodes a row into `T`; a small convenience for tests and tools.
///
/// # Errors
///
/// The row does not fit `T`.
///
/// # Example
///
/// ```
/// let id: i64 = odoo_integration_client::value::from_value(serde_json::json!(7))?;
/// assert_eq!(id, 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    serde_json::from_value(value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;
    use rust_decimal::Decimal;
    use serde_json::json;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Row {
        #[serde(with = "falsy", default)]
        parent_id: Option<Many2One>,
        #[serde(with = "falsy", default)]
        email: Option<String>,
        #[serde(with = "falsy", default)]
        date: Option<chrono::NaiveDate>,
        #[serde(with = "falsy", default)]
        tags: Option<Vec<i64>>,
    }

    #[test]
    fn falsy_maps_false_and_null_to_none_and_forwards_the_rest() {
        let r: Row = serde_json::from_value(json!({
            "parent_id": [9, "Acme"], "email": false, "date": "2026-11-02", "tags": null
        }))
        .unwrap();
        assert_eq!(r.parent_id, Some(Many2One::new(9, "Acme")));
        assert_eq!(r.email, None);
        assert_eq!(r.date, chrono::NaiveDate::from_ymd_opt(2026, 11, 2));
        assert_eq!(r.tags, None);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"parent_id": 9, "email": false, "date": "2026-11-02", "tags": false})
        );
    }

    #[test]
    fn falsy_forwards_bytes_and_true() {
        use serde::de::value::{BoolDeserializer, BytesDeserializer, Error};
        let some: Option<bool> = falsy::deserialize(BoolDeserializer::<Error>::new(true)).unwrap();
        assert_eq!(some, Some(true));
        let none: Option<bool> = falsy::deserialize(BoolDeserializer::<Error>::new(false)).unwrap();
        assert_eq!(none, None);
        struct Raw(Vec<u8>);
        impl<'de> Deserialize<'de> for Raw {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = Raw;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("bytes")
                    }
                    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Raw, E> {
                        Ok(Raw(v.to_vec()))
                    }
                }
                d.deserialize_bytes(V)
            }
        }
        let raw: Option<Raw> = falsy::deserialize(BytesDeserializer::<Error>::new(b"ab")).unwrap();
        assert_eq!(raw.map(|r| r.0), Some(b"ab".to_vec()));
    }

    #[test]
    fn falsy_error_paths_name_the_field() {
        let err = serde_path_to_error::deserialize::<_, Vec<Row>>(json!([
            {"email": "a@b"},
            {"date": "not a date"}
        ]))
        .unwrap_err();
        assert_eq!(err.path().to_string(), "[1].date");
    }

    #[test]
    fn many2one_accepts_a_pair_an_id_and_an_unreadable_name() {
        let m: Many2One = serde_json::from_value(json!([3, false])).unwrap();
        assert_eq!(m, Many2One::from(3));
        assert!(serde_json::from_value::<Many2One>(json!([1, "a", "b"])).is_err());
        assert!(serde_json::from_value::<Many2One>(json!("x")).is_err());
    }

    #[test]
    fn commands_round_trip_and_bad_triples_are_refused() {
        let all = vec![
            Command::create(json!({"name": "a"})),
            Command::update(3, json!({"name": "b"})),
            Command::delete(4),
            Command::unlink(5),
            Command::link(6),
            Command::clear(),
            Command::set([1, 2]),
        ];
        let text = serde_json::to_value(&all).unwrap();
        assert_eq!(
            text,
            json!([[0, 0, {"name": "a"}], [1, 3, {"name": "b"}], [2, 4, 0], [3, 5, 0], [4, 6, 0], [5, 0, 0], [6, 0, [1, 2]]])
        );
        let back: Vec<Command> = serde_json::from_value(text).unwrap();
        assert_eq!(back, all);
        // Odoo also accepts the short forms [4, id] and [3, id].
        let short: Command = serde_json::from_value(json!([4, 2])).unwrap();
        assert_eq!(short, Command::link(2));
        for bad in [
            json!([9, 0, 0]),
            json!([]),
            json!([6, 0, 5]),
            json!([0, 0, 1]),
            json!([1, 2, 3, 4]),
        ] {
            assert!(
                serde_json::from_value::<Command>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn datetimes_are_utc_strings() {
        #[derive(Deserialize, Serialize)]
        struct R {
            #[serde(with = "datetime")]
            at: chrono::DateTime<Utc>,
        }
        let r: R = serde_json::from_value(json!({"at": "2026-11-23 08:04:06.123"})).unwrap();
        assert_eq!(
            r.at.timestamp_millis(),
            Utc.with_ymd_and_hms(2026, 11, 23, 8, 4, 6)
                .unwrap()
                .timestamp_millis()
                + 123
        );
        assert!(serde_json::from_value::<R>(json!({"at": false})).is_err());
        assert!(serde_json::from_value::<R>(json!({"at": "23/11/2026"})).is_err());
    }

    #[test]
    fn amounts_are_exact() {
        #[derive(Deserialize)]
        struct R {
            #[serde(with = "monetary")]
            a: Decimal,
        }
        for (text, expected) in [
            ("123.45", "123.45"),
            ("0.1", "0.1"),
            ("-4325.0", "-4325"),
            ("1e3", "1000"),
            ("\"12.50\"", "12.50"),
        ] {
            let r: R = serde_json::from_str(&format!(r#"{{"a": {text}}}"#)).unwrap();
            assert_eq!(r.a, expected.parse::<Decimal>().unwrap(), "{text}");
        }
        assert!(serde_json::from_str::<R>(r#"{"a": false}"#).is_err());
    }

    // Rows trimmed from the recorded Odoo 19 fixtures.
    const PARTNERS: &str = include_str!("../tests/fixtures/values/res_partner.json");
    const TIMESHEETS: &str = include_str!("../tests/fixtures/values/account_analytic_line.json");
    const ORDERS: &str = include_str!("../tests/fixtures/values/sale_order.json");
    const EMPLOYEES: &str = include_str!("../tests/fixtures/values/hr_employee.json");
    const BINARIES: &str = include_str!("../tests/fixtures/values/res_partner_binary.json");
    const COMMANDS: &str = include_str!("../tests/fixtures/values/commands.json");

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[derive(Debug, Deserialize, Serialize)]
    struct Partner {
        id: i64,
        name: String,
        is_company: bool,
        #[serde(with = "falsy")]
        parent_id: Option<Many2One>,
        child_ids: Vec<i64>,
        category_id: Vec<i64>,
        #[serde(with = "falsy")]
        country_id: Option<Many2One>,
        #[serde(with = "falsy")]
        email: Option<String>,
        #[serde(with = "falsy")]
        vat: Option<String>,
        #[serde(with = "monetary")]
        credit_limit: Decimal,
        #[serde(with = "datetime")]
        write_date: chrono::DateTime<Utc>,
    }

    #[test]
    fn partner_rows_decode() {
        let rows: Vec<Partner> = serde_json::from_str(PARTNERS).unwrap();
        assert_eq!(rows.len(), 3);
        let company = &rows[0];
        assert_eq!((company.id, company.name.as_str()), (1, "YourCompany"));
        assert!(company.is_company && company.parent_id.is_none() && company.vat.is_none());
        assert_eq!(company.child_ids, vec![40, 41]);
        assert!(company.category_id.is_empty());
        assert_eq!(
            company.country_id,
            Some(Many2One::new(233, "United States"))
        );
        assert_eq!(company.email.as_deref(), Some("info@yourcompany.com"));
        assert_eq!(company.credit_limit, Decimal::ZERO);
        assert_eq!(company.write_date, utc(2026, 11, 23, 8, 4, 6));
        let contact = &rows[2];
        assert_eq!(contact.parent_id, Some(Many2One::new(8, "Wood Corner")));
        assert_eq!(contact.vat.as_deref(), Some("US12345672"));
        assert!(!contact.is_company);
        // Written back, empty fields become false and many2ones bare ids.
        let back = serde_json::to_value(company).unwrap();
        assert_eq!(back["parent_id"], json!(false));
        assert_eq!(back["vat"], json!(false));
        assert_eq!(back["country_id"], json!(233));
        assert_eq!(back["write_date"], json!("2026-11-23 08:04:06"));
    }

    #[derive(Debug, Deserialize)]
    struct Timesheet {
        id: i64,
        name: String,
        date: chrono::NaiveDate,
        #[serde(with = "monetary")]
        unit_amount: Decimal,
        #[serde(with = "monetary")]
        amount: Decimal,
        employee_id: Many2One,
        #[serde(with = "falsy")]
        task_id: Option<Many2One>,
        #[serde(with = "datetime")]
        create_date: chrono::DateTime<Utc>,
    }

    #[test]
    fn timesheet_rows_decode_and_errors_name_the_path() {
        let rows: Vec<Timesheet> = serde_json::from_str(TIMESHEETS).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].id, 1);
        assert_eq!(rows[0].name, "Requirements analysis");
        assert_eq!(
            rows[0].date,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
        );
        assert_eq!(rows[0].unit_amount, Decimal::new(2, 0));
        assert_eq!(rows[0].amount, Decimal::new(-200, 0));
        assert_eq!(rows[0].task_id, None);
        assert_eq!(rows[0].create_date, utc(2026, 11, 23, 8, 5, 31));
        assert_eq!(rows[1].employee_id, Many2One::new(3, "Marc Demo"));
        assert_eq!(rows[1].task_id, Some(Many2One::new(10, "Office planning")));
        assert_eq!(
            rows[3].date,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 17).unwrap()
        );
        assert_eq!(rows[3].amount, Decimal::new(-105, 0));

        // Wrong types are reported with the failing row and field.
        let mut raw: Vec<Value> = serde_json::from_str(TIMESHEETS).unwrap();
        raw[3]["date"] = json!(20261117);
        let err = serde_path_to_error::deserialize::<_, Vec<Timesheet>>(Value::Array(raw.clone()))
            .unwrap_err();
        assert_eq!(err.path().to_string(), "[3].date");
        // Also through falsy and Many2One (nested positions inside the pair).
        raw[3]["date"] = json!("2026-11-17");
        raw[2]["task_id"] = json!(["ten", "Office planning"]);
        let err = serde_path_to_error::deserialize::<_, Vec<Timesheet>>(Value::Array(raw.clone()))
            .unwrap_err();
        assert!(
            err.path().to_string().starts_with("[2].task_id"),
            "{}",
            err.path()
        );
        raw[2]["task_id"] = json!(false);
        raw[1]["amount"] = json!("lots");
        let err =
            serde_path_to_error::deserialize::<_, Vec<Timesheet>>(Value::Array(raw)).unwrap_err();
        assert_eq!(err.path().to_string(), "[1].amount");
        assert!(err.inner().to_string().contains("`lots` is not an amount"));
    }

    #[derive(Debug, PartialEq, Deserialize, Serialize)]
    enum OrderState {
        #[serde(rename = "draft")]
        Quotation,
        #[serde(rename = "sent")]
        QuotationSent,
        #[serde(rename = "sale")]
        SalesOrder,
        #[serde(rename = "cancel")]
        Cancelled,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    enum InvoiceStatus {
        #[serde(rename = "upselling")]
        Upselling,
        #[serde(rename = "invoiced")]
        Invoiced,
        #[serde(rename = "to invoice")]
        ToInvoice,
        #[serde(rename = "no")]
        Nothing,
    }

    #[derive(Debug, Deserialize)]
    struct Order {
        name: String,
        partner_id: Many2One,
        #[serde(with = "datetime")]
        date_order: chrono::DateTime<Utc>,
        #[serde(with = "falsy")]
        validity_date: Option<chrono::NaiveDate>,
        #[serde(with = "datetime::option")]
        commitment_date: Option<chrono::DateTime<Utc>>,
        #[serde(with = "falsy")]
        state: Option<OrderState>,
        invoice_status: InvoiceStatus,
        #[serde(with = "monetary")]
        amount_total: Decimal,
        #[serde(with = "monetary::option")]
        amount_tax: Option<Decimal>,
        order_line: Vec<i64>,
        tag_ids: Vec<i64>,
        #[serde(with = "falsy")]
        note: Option<String>,
    }

    #[test]
    fn sale_order_rows_decode_with_selection_enums() {
        let rows: Vec<Order> = serde_json::from_str(ORDERS).unwrap();
        let states: Vec<_> = rows.iter().map(|o| o.state.as_ref()).collect();
        assert_eq!(
            states,
            [
                Some(&OrderState::Quotation),
                Some(&OrderState::Quotation),
                Some(&OrderState::QuotationSent),
                Some(&OrderState::SalesOrder)
            ]
        );
        assert_eq!(rows[3].invoice_status, InvoiceStatus::ToInvoice);
        assert_eq!(rows[0].invoice_status, InvoiceStatus::Nothing);
        assert_eq!(rows[1].name, "S00002");
        assert_eq!(rows[1].partner_id, Many2One::new(11, "Ready Mat"));
        assert_eq!(rows[1].amount_total, Decimal::new(29475, 1));
        assert_eq!(rows[1].amount_tax, Some(Decimal::ZERO));
        assert_eq!(rows[1].order_line, vec![4, 5]);
        assert_eq!(rows[1].tag_ids, vec![7]);
        assert_eq!(rows[0].tag_ids, Vec::<i64>::new());
        assert_eq!(rows[3].date_order, utc(2026, 11, 23, 8, 5, 43));
        assert_eq!(
            rows[0].validity_date,
            chrono::NaiveDate::from_ymd_opt(2026, 12, 23)
        );
        assert!(
            rows.iter()
                .all(|o| o.commitment_date.is_none() && o.note.is_none())
        );
        // An unknown selection value is an error naming the value.
        let mut raw: Vec<Value> = serde_json::from_str(ORDERS).unwrap();
        raw[0]["state"] = json!("archived");
        let err = serde_path_to_error::deserialize::<_, Vec<Order>>(Value::Array(raw)).unwrap_err();
        assert_eq!(err.path().to_string(), "[0].state");
        assert!(err.inner().to_string().contains("archived"));
    }

    #[derive(Debug, Deserialize)]
    struct Employee {
        name: String,
        #[serde(with = "falsy")]
        job_title: Option<String>,
        #[serde(with = "falsy")]
        parent_id: Option<Many2One>,
        #[serde(with = "falsy")]
        mobile_phone: Option<String>,
        category_ids: Vec<i64>,
        #[serde(with = "monetary::option")]
        hourly_cost: Option<Decimal>,
        #[serde(with = "falsy")]
        birthday: Option<chrono::NaiveDate>,
        #[serde(with = "falsy", default)]
        not_requested: Option<String>,
    }

    #[test]
    fn employee_rows_decode_false_fields_as_none() {
        let rows: Vec<Employee> = serde_json::from_str(EMPLOYEES).unwrap();
        assert_eq!(rows[1].name, "Jeffrey Kelly");
        assert_eq!(
            rows[1].job_title.as_deref(),
            Some("Marketing and Community Manager")
        );
        assert_eq!(rows[1].parent_id.as_ref().map(Many2One::id), Some(1));
        assert_eq!(
            rows[1].parent_id.as_ref().and_then(Many2One::name),
            Some("Mitchell Admin")
        );
        assert_eq!(rows[1].category_ids, vec![1, 3]);
        assert_eq!(rows[1].hourly_cost, Some(Decimal::new(40, 0)));
        assert_eq!(rows[0].hourly_cost, Some(Decimal::new(100, 0)));
        assert!(
            rows.iter()
                .all(|e| e.mobile_phone.is_none() && e.birthday.is_none())
        );
        assert!(rows.iter().all(|e| e.not_requested.is_none()));
    }

    #[test]
    fn binary_rows_decode_base64_images() {
        #[derive(Deserialize, Serialize)]
        struct WithImage {
            id: i64,
            #[serde(with = "binary::option")]
            image_128: Option<Vec<u8>>,
        }
        let rows: Vec<WithImage> = serde_json::from_str(BINARIES).unwrap();
        assert_eq!(rows[0].id, 4);
        assert!(rows[0].image_128.is_none());
        let png = rows[1].image_128.as_deref().unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // Written back, the text is the one the server sent.
        let raw: Vec<Value> = serde_json::from_str(BINARIES).unwrap();
        let back = serde_json::to_value(&rows[1]).unwrap();
        assert_eq!(back["image_128"], raw[1]["image_128"]);
        assert_eq!(
            serde_json::to_value(&rows[0]).unwrap()["image_128"],
            json!(false)
        );
    }

    #[test]
    fn commands_match_the_recorded_requests() {
        let recorded: Value = serde_json::from_str(COMMANDS).unwrap();
        #[derive(Serialize)]
        struct Contact<'a> {
            name: &'a str,
            email: &'a str,
        }
        let create = json!({
            "name": "Fixture Client Ltd",
            "is_company": true,
            "email": "billing@fixture-client.example",
            "country_id": Many2One::from(233),
            "category_id": [Command::set([1])],
            "child_ids": [Command::create(Contact {
                name: "Jane Fixture",
                email: "jane@fixture-client.example",
            })],
            "comment": "<p>Created by the fixture recorder</p>",
        });
        assert_eq!(create, recorded["create_vals"]);
        // The write request used Odoo's two-item short forms [4, id] and
        // [3, id]; they parse, and re-serialise in the full triple form.
        let written: Vec<Command> =
            serde_json::from_value(recorded["write_vals"]["category_id"].clone()).unwrap();
        assert_eq!(written, vec![Command::link(2), Command::unlink(1)]);
        assert_eq!(
            serde_json::to_value(&written).unwrap(),
            json!([[4, 2, 0], [3, 1, 0]])
        );
        let parsed: Vec<Command> =
            serde_json::from_value(recorded["create_vals"]["child_ids"].clone()).unwrap();
        let mut vals = Map::new();
        vals.insert("name".into(), json!("Jane Fixture"));
        vals.insert("email".into(), json!("jane@fixture-client.example"));
        assert_eq!(parsed, vec![Command::Create(vals)]);
    }

    #[test]
    fn malformed_commands_have_clear_errors() {
        for (bad, message) in [
            (json!([9, 0, 0]), "unknown x2many command code 9"),
            (json!([1, 3]), "command 1 needs a values object"),
            (json!([4, "x", 0]), "command 4 needs a record id"),
            (json!([6, 0, [1, "2"]]), "command 6 takes a list of ids"),
            (json!(["create", 0, {}]), "starts with its code"),
        ] {
            let err = serde_json::from_value::<Command>(bad.clone()).unwrap_err();
            assert!(err.to_string().contains(message), "{bad}: {err}");
        }
    }

    #[test]
    fn rust_decimal_reads_the_shortest_text_too_but_writes_strings() {
        // What rust_decimal's own impls do (features std + serde): floats are
        // read via their text, but written as JSON strings, hence `monetary`.
        let d: Decimal = serde_json::from_str("123.45").unwrap();
        assert_eq!(d, Decimal::new(12345, 2));
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"123.45\"");
        #[derive(Deserialize, Serialize)]
        struct R {
            #[serde(with = "monetary")]
            a: Decimal,
        }
        let r: R = serde_json::from_str(r#"{"a": 123.45}"#).unwrap();
        assert_eq!(r.a, Decimal::new(12345, 2));
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"a":123.45}"#);
    }

    proptest! {
        #[test]
        fn two_decimal_amounts_round_trip_exactly(cents in -100_000_000_000_000i64..100_000_000_000_000i64) {
            #[derive(Deserialize, Serialize)]
            struct R {
                #[serde(with = "monetary")]
                a: Decimal,
            }
            let amount = Decimal::new(cents, 2);
            let text = serde_json::to_string(&R { a: amount }).unwrap();
            let back: R = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back.a, amount);
            // The wire text is the decimal's own text.
            let wire: Value = serde_json::from_str(&text).unwrap();
            let printed = wire["a"].to_string();
            prop_assert_eq!(printed.parse::<Decimal>().unwrap(), amount);
        }

        #[test]
        fn datetimes_round_trip(secs in 0i64..4_102_444_800) {
            let at = Utc.timestamp_opt(secs, 0).single().unwrap();
            let text = datetime::format(&at);
            prop_assert_eq!(datetime::parse(&text).unwrap(), at);
            #[derive(Deserialize, Serialize)]
            struct R {
                #[serde(with = "datetime::option")]
                at: Option<chrono::DateTime<Utc>>,
            }
            let wire = serde_json::to_string(&R { at: Some(at) }).unwrap();
            prop_assert_eq!(&wire, &format!(r#"{{"at":"{text}"}}"#));
            prop_assert_eq!(serde_json::from_str::<R>(&wire).unwrap().at, Some(at));
        }

        #[test]
        fn binaries_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            #[derive(Deserialize, Serialize)]
            struct R {
                #[serde(with = "binary")]
                b: Vec<u8>,
            }
            let text = serde_json::to_string(&R { b: bytes.clone() }).unwrap();
            let back: R = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back.b, bytes);
        }
    }
}
