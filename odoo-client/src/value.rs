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
//! Writing x2many fields takes [`Command`]s.
//!
//! # Example
//!
//! ```
//! use chrono::{DateTime, NaiveDate, Utc};
//! use odoo_client::value::{Many2One, datetime, falsy, monetary};
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
pub type Record = Map<String, Value>;

/// `false` (or `null`) ⇄ `None`, for any `Option<T>`.
///
/// Odoo sends `false` for every empty field; on write, `false` clears a
/// field. Use it with `#[serde(with = "falsy")]`; add `default` when the
/// field may be missing from a row.
///
/// # Example
///
/// ```
/// use odoo_client::value::falsy;
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
/// use odoo_client::value::Many2One;
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
    pub fn new(id: i64, name: impl Into<String>) -> Self {
        Many2One {
            id,
            name: Some(name.into()),
        }
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
/// use odoo_client::value::Command;
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
    pub fn create(values: impl Serialize) -> Self {
        Command::Create(into_map(values))
    }
    /// Writes these values to the related record `id`.
    pub fn update(id: i64, values: impl Serialize) -> Self {
        Command::Update(id, into_map(values))
    }
    /// Deletes the related record `id`.
    pub fn delete(id: i64) -> Self {
        Command::Delete(id)
    }
    /// Removes `id` from the relation.
    pub fn unlink(id: i64) -> Self {
        Command::Unlink(id)
    }
    /// Adds `id` to the relation.
    pub fn link(id: i64) -> Self {
        Command::Link(id)
    }
    /// Empties the relation.
    pub fn clear() -> Self {
        Command::Clear
    }
    /// Replaces the relation with `ids`.
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
///     #[serde(with = "odoo_client::value::datetime")]
///     write_date: DateTime<Utc>,
///     #[serde(with = "odoo_client::value::datetime::option")]
///     date_deadline: Option<DateTime<Utc>>,
/// }
/// let row: Row = serde_json::from_str(r#"{"write_date": "2026-11-23 08:04:06", "date_deadline": false}"#)?;
/// assert_eq!(row.write_date, Utc.with_ymd_and_hms(2026, 11, 23, 8, 4, 6).unwrap());
/// assert_eq!(serde_json::to_string(&row)?, r#"{"write_date":"2026-11-23 08:04:06","date_deadline":false}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod datetime {
    use chrono::{DateTime, NaiveDateTime, Utc};

    use super::*;

    /// Formats a UTC instant as Odoo does.
    pub fn format(instant: &DateTime<Utc>) -> String {
        instant.format(DATETIME).to_string()
    }

    /// Parses Odoo's datetime text (fractional seconds and a `T` separator
    /// are accepted too) as UTC.
    ///
    /// # Errors
    ///
    /// A message naming the text when it is not a datetime.
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
    pub fn serialize<S: Serializer>(value: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(value))
    }

    /// Deserialises `"YYYY-MM-DD HH:MM:SS"` as UTC.
    ///
    /// # Errors
    ///
    /// Anything but a datetime string (use [`option`] for fields that can be
    /// `false`).
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
///     #[serde(with = "odoo_client::value::monetary")]
///     amount_total: Decimal,
///     #[serde(with = "odoo_client::value::monetary::option")]
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

    /// Serialises as a JSON number with the decimal's text.
    ///
    /// # Errors
    ///
    /// A decimal outside what a JSON number can carry.
    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        // The f64 nearest to a decimal with at most 15 significant digits
        // prints back as that decimal (shortest round-trip formatting).
        let f = value
            .to_f64()
            .ok_or_else(|| serde::ser::Error::custom("amount out of range"))?;
        s.serialize_f64(f)
    }

    /// Deserialises a JSON number or numeric string.
    ///
    /// # Errors
    ///
    /// A value that is not a number.
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
///     #[serde(with = "odoo_client::value::binary::option")]
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
    pub fn serialize<S: Serializer>(value: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(value))
    }

    /// Deserialises base64 text (line breaks tolerated).
    ///
    /// # Errors
    ///
    /// Text that is not base64.
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
/// let id: i64 = odoo_client::value::from_value(serde_json::json!(7))?;
/// assert_eq!(id, 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    serde_json::from_value(value)
}

#[cfg(test)]
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
