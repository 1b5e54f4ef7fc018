//! Odoo's lock dates: accounting records dated inside a closed period are
//! held for review instead of written.
//!
//! Odoo closes periods with lock dates on `res.company`: the global
//! (`fiscalyear_lock_date`) and hard (`hard_lock_date`, Odoo 18+) ones,
//! the tax return's (`tax_lock_date`), and per journal type the sales and
//! purchase ones (`sale_lock_date`, `purchase_lock_date`, Odoo 18+). A
//! draft invoice dated inside a locked period is not refused: Odoo moves
//! its accounting date past the lock without a word, so it would be
//! booked in another period than the one it was sent for. The sink holds
//! such records instead ([`ConnectorErrorKind::PeriodLocked`]).

use super::convert;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use chrono::NaiveDate;
use odoo_integration_client::{Client, Domain};
use odoo_integration_model::SystemId;
use serde_json::Value;
use tokio::sync::OnceCell;

/// The lock date fields Odoo versions have, each with the documents it
/// closes: `None` for all, else the `move_type` prefix (`out_` sales,
/// `in_` purchases).
const LOCKS: [(&str, Option<&str>); 5] = [
    ("fiscalyear_lock_date", None),
    ("hard_lock_date", None),
    ("tax_lock_date", None),
    ("sale_lock_date", Some("out_")),
    ("purchase_lock_date", Some("in_")),
];

/// The lock date fields this server's `res.company` has, asked once.
#[derive(Debug, Default)]
pub(super) struct LockFields(OnceCell<Vec<&'static str>>);

/// The lock that closes a period: its date and the field that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Lock {
    pub(super) date: NaiveDate,
    pub(super) field: &'static str,
}

impl Lock {
    /// The error a record dated `date` is held with.
    pub(super) fn holds(&self, entity: &str, date: NaiveDate) -> ConnectorError {
        ConnectorError::new(
            ConnectorErrorKind::PeriodLocked,
            format!(
                "{entity} dated {date} is inside a period Odoo has locked ({} {}): held for review, not written (Odoo would book it after the lock); re-date it, or reopen the period, then replay it",
                self.field, self.date
            ),
        )
        .with_system(SystemId::odoo())
    }
}

/// The latest lock that closes documents of `move_type` (any, when not
/// known) in any company the user sees: a record dated on or before it
/// is inside a closed period. `None` when no period is locked.
pub(super) async fn latest_lock(
    client: &Client,
    fields: &LockFields,
    move_type: Option<&str>,
) -> Result<Option<Lock>> {
    let have = fields
        .0
        .get_or_try_init(|| async {
            let known = client
                .model("res.company")
                .fields_get()
                .attributes(["type"])
                .send()
                .await
                .map_err(convert)?;
            Ok::<_, ConnectorError>(
                LOCKS
                    .iter()
                    .map(|(f, _)| *f)
                    .filter(|f| known.contains_key(*f))
                    .collect(),
            )
        })
        .await?;
    let wanted: Vec<&'static str> = LOCKS
        .iter()
        .filter(|(f, only)| {
            have.contains(f)
                && match (only, move_type) {
                    (None, _) | (_, None) => true,
                    (Some(prefix), Some(kind)) => kind.starts_with(prefix),
                }
        })
        .map(|(f, _)| *f)
        .collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    let companies = client
        .model("res.company")
        .search_read(Domain::all())
        .fields(wanted.iter().copied())
        .send()
        .await
        .map_err(convert)?;
    let mut latest: Option<Lock> = None;
    for company in &companies {
        for field in &wanted {
            let Some(date) = company
                .get(*field)
                .and_then(Value::as_str)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            else {
                continue;
            };
            if latest.as_ref().is_none_or(|l| date > l.date) {
                latest = Some(Lock { date, field });
            }
        }
    }
    Ok(latest)
}
