//! Gusto's records as they come over the wire, read exactly (amounts
//! and hours as decimals, never through `f64`).

use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// The name of the hourly compensation hours are read from and written to.
pub(super) const REGULAR_HOURS: &str = "Regular Hours";

/// An amount or a number of hours, sent by Gusto as a string (`"40.000"`)
/// or a number, read exactly (never through `f64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Amount(pub(super) Decimal);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let text = raw.get().trim();
        let inner = if text.starts_with('"') {
            serde_json::from_str::<String>(text).map_err(D::Error::custom)?
        } else {
            text.to_owned()
        };
        let inner = inner.trim();
        crate::web::decimal(inner)
            .map(Amount)
            .ok_or_else(|| D::Error::custom(format!("`{inner}` is not a decimal amount")))
    }
}

/// An optional amount that may also be `null`.
pub(super) fn amount_or_null<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Amount>, D::Error> {
    let raw = Option::<Box<RawValue>>::deserialize(d)?;
    match raw {
        None => Ok(None),
        Some(r) if r.get().trim() == "null" || r.get().trim() == "\"\"" => Ok(None),
        Some(r) => serde_json::from_str::<Amount>(r.get())
            .map(Some)
            .map_err(D::Error::custom),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct WireEmployee {
    pub(super) uuid: String,
    #[serde(default)]
    pub(super) first_name: Option<String>,
    #[serde(default)]
    pub(super) last_name: Option<String>,
    #[serde(default)]
    pub(super) email: Option<String>,
    #[serde(default)]
    pub(super) work_email: Option<String>,
    #[serde(default)]
    pub(super) department: Option<String>,
    #[serde(default)]
    pub(super) manager_uuid: Option<String>,
    #[serde(default)]
    pub(super) terminated: Option<bool>,
    #[serde(default)]
    pub(super) employee_code: Option<String>,
    #[serde(default)]
    pub(super) jobs: Option<Vec<WireJob>>,
    #[serde(default)]
    pub(super) terminations: Option<Vec<WireTermination>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireJob {
    #[serde(default)]
    pub(super) title: Option<String>,
    #[serde(default)]
    pub(super) primary: Option<bool>,
    #[serde(default)]
    pub(super) hire_date: Option<String>,
    #[serde(default, deserialize_with = "amount_or_null")]
    pub(super) rate: Option<Amount>,
    #[serde(default)]
    pub(super) payment_unit: Option<String>,
    #[serde(default)]
    pub(super) current_compensation_uuid: Option<String>,
    #[serde(default)]
    pub(super) compensations: Option<Vec<WireCompensation>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireCompensation {
    #[serde(default)]
    pub(super) uuid: Option<String>,
    #[serde(default, deserialize_with = "amount_or_null")]
    pub(super) rate: Option<Amount>,
    #[serde(default)]
    pub(super) payment_unit: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireTermination {
    #[serde(default)]
    pub(super) active: Option<bool>,
    #[serde(default)]
    pub(super) effective_date: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WirePayPeriod {
    #[serde(default)]
    pub(super) start_date: Option<String>,
    #[serde(default)]
    pub(super) end_date: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WirePayroll {
    #[serde(default)]
    pub(super) uuid: Option<String>,
    #[serde(default)]
    pub(super) payroll_uuid: Option<String>,
    #[serde(default)]
    pub(super) processed: Option<bool>,
    /// When the payroll was last calculated; `None` (null) while it holds
    /// no valid calculation.
    #[serde(default)]
    pub(super) calculated_at: Option<String>,
    #[serde(default)]
    pub(super) check_date: Option<String>,
    #[serde(default)]
    pub(super) pay_period: Option<WirePayPeriod>,
    #[serde(default)]
    pub(super) employee_compensations: Option<Vec<WireEmployeeCompensation>>,
}

impl WirePayroll {
    pub(super) fn id(&self) -> Option<&str> {
        self.payroll_uuid.as_deref().or(self.uuid.as_deref())
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct WireEmployeeCompensation {
    pub(super) employee_uuid: String,
    #[serde(default)]
    pub(super) version: Option<String>,
    #[serde(default, deserialize_with = "amount_or_null")]
    pub(super) gross_pay: Option<Amount>,
    #[serde(default, deserialize_with = "amount_or_null")]
    pub(super) net_pay: Option<Amount>,
    #[serde(default)]
    pub(super) hourly_compensations: Option<Vec<WireHourly>>,
}

impl WireEmployeeCompensation {
    /// The first `Regular Hours` entry.
    pub(super) fn regular(&self) -> Option<&WireHourly> {
        self.hourly_compensations
            .iter()
            .flatten()
            .find(|h| h.name.eq_ignore_ascii_case(REGULAR_HOURS))
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct WireHourly {
    #[serde(default)]
    pub(super) name: String,
    #[serde(default, deserialize_with = "amount_or_null")]
    pub(super) hours: Option<Amount>,
    #[serde(default)]
    pub(super) job_uuid: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireTimeOff {
    pub(super) uuid: String,
    #[serde(default)]
    pub(super) status: Option<String>,
    #[serde(default)]
    pub(super) request_type: Option<String>,
    #[serde(default)]
    pub(super) policy_type: Option<String>,
    #[serde(default)]
    pub(super) days: Option<BTreeMap<String, Option<Amount>>>,
    #[serde(default)]
    pub(super) employee: Option<WirePerson>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WirePerson {
    pub(super) uuid: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn amounts_are_exact_from_strings_and_numbers() {
        let a: Amount = serde_json::from_str("\"1234.567\"").unwrap();
        assert_eq!(a.0.to_string(), "1234.567");
        let a: Amount = serde_json::from_str("0.1").unwrap();
        assert_eq!(a.0, Decimal::new(1, 1));
        assert!(serde_json::from_str::<Amount>("\"lots\"").is_err());
    }
}
