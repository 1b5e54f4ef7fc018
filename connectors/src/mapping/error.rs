//! The error of a conversion.

use crate::error::{ConnectorError, ConnectorErrorKind};
use std::fmt;

/// What went wrong converting a value.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::mapping::ConversionErrorKind;
/// assert_ne!(ConversionErrorKind::Unreadable, ConversionErrorKind::NoCode);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConversionErrorKind {
    /// The vendor's value is not what the conversion reads (a non-numeric
    /// amount, a malformed date, an unknown coded value).
    Unreadable,
    /// A canonical code has no vendor value in the code table.
    NoCode,
    /// The canonical value is of another type than the conversion writes.
    Mismatch,
    /// A number the vendor's wire cannot carry.
    OutOfRange,
    /// The conversion is not one this connector reads or writes.
    Unsupported,
}

/// A value that could not be converted, naming the field and what was
/// found. Becomes a [`ConnectorError`] of kind `Protocol` (an unreadable
/// vendor value), `Configuration` (an unsupported conversion) or
/// `Mapping` (the rest).
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::mapping::{ConversionError, ConversionErrorKind};
/// use odoo_integration_connectors::{ConnectorError, ConnectorErrorKind};
/// let e = ConversionError::unreadable("a date", "31/12/2026").at("hireDate");
/// assert_eq!(e.kind(), ConversionErrorKind::Unreadable);
/// assert_eq!(e.to_string(), "hireDate: `31/12/2026` is not a date");
/// assert_eq!(ConnectorError::from(e).kind(), ConnectorErrorKind::Protocol);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionError {
    kind: ConversionErrorKind,
    field: Option<String>,
    message: String,
}

impl ConversionError {
    /// A vendor value that is not `expected` (`a number`, `a date`).
    ///
    /// # Example
    ///
    /// ```
    /// let e = odoo_integration_connectors::mapping::ConversionError::unreadable("a number", "abc");
    /// assert_eq!(e.to_string(), "`abc` is not a number");
    /// ```
    pub fn unreadable(expected: &str, found: impl fmt::Display) -> Self {
        let found = found.to_string();
        let found: String = found.chars().take(60).collect();
        ConversionError::new(
            ConversionErrorKind::Unreadable,
            format!("`{found}` is not {expected}"),
        )
    }

    /// An error of `kind` saying `message`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::{ConversionError, ConversionErrorKind};
    /// let e = ConversionError::new(ConversionErrorKind::NoCode, "no value for `x`");
    /// assert_eq!(e.field(), None);
    /// ```
    pub fn new(kind: ConversionErrorKind, message: impl Into<String>) -> Self {
        ConversionError {
            kind,
            field: None,
            message: message.into(),
        }
    }

    /// The same error, naming the field (kept if one is named already).
    ///
    /// # Example
    ///
    /// ```
    /// let e = odoo_integration_connectors::mapping::ConversionError::unreadable("a number", "x").at("amount");
    /// assert_eq!(e.field(), Some("amount"));
    /// ```
    #[must_use]
    pub fn at(mut self, field: &str) -> Self {
        if self.field.is_none() {
            self.field = Some(field.to_owned());
        }
        self
    }

    /// What went wrong.
    ///
    /// # Example
    ///
    /// See [`ConversionError`].
    pub fn kind(&self) -> ConversionErrorKind {
        self.kind
    }

    /// The vendor field, when known.
    ///
    /// # Example
    ///
    /// See [`ConversionError::at`].
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }
}

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConversionError {}

impl From<ConversionError> for ConnectorError {
    fn from(e: ConversionError) -> Self {
        let kind = match e.kind {
            ConversionErrorKind::Unreadable => ConnectorErrorKind::Protocol,
            ConversionErrorKind::Unsupported => ConnectorErrorKind::Configuration,
            _ => ConnectorErrorKind::Mapping,
        };
        ConnectorError::new(kind, e.to_string())
    }
}
