//! What "approved" means for Odoo timesheet lines.
//!
//! Stock Odoo Community has no approval on timesheet lines
//! (`account.analytic.line`). Odoo Enterprise's Timesheets app
//! (`timesheet_grid`) adds the boolean `validated`, set when a manager
//! validates; a firm on Community often adds its own boolean with Studio
//! or a small module; and a firm that does not approve lines at all pays
//! and bills every line up to a cutoff (the end of the pay period). An
//! [`Approval`] is one of those choices. [`Approval::detect`] picks
//! Enterprise's field when the server has it; [`Approval::check`] fails,
//! before anything is written, when the server lacks the field a choice
//! needs, saying which field and what to do.

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::mapping::Conversion;
use crate::odoo::ModelMap;
use chrono::NaiveDate;
use odoo_integration_client::Client;
use odoo_integration_model::{ApprovalState, SystemId, TimesheetEntry};

/// The model of timesheet lines.
const LINES: &str = "account.analytic.line";
/// Odoo Enterprise's validation flag on timesheet lines (`timesheet_grid`).
const VALIDATED: &str = "validated";

/// How a timesheet line counts as approved.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::Approval;
/// let a = Approval::field("x_approved");
/// let lines = a.timesheet_map();
/// assert_eq!(lines.odoo_field("approval"), Some("x_approved"));
/// assert_eq!(Approval::Validated.to_string(), "Odoo Enterprise's timesheet validation (`validated`)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Approval {
    /// Odoo Enterprise's timesheet validation: the boolean `validated`
    /// that the Timesheets app (`timesheet_grid`) adds.
    Validated,
    /// A boolean field of your own on `account.analytic.line`
    /// (`x_approved`, added with Studio or a module): set is approved.
    Field(String),
    /// No approval in Odoo: every line dated on or before the cutoff is
    /// approved, the later ones are submitted (still open).
    UpTo(NaiveDate),
}

impl std::fmt::Display for Approval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Approval::Validated => {
                write!(f, "Odoo Enterprise's timesheet validation (`{VALIDATED}`)")
            }
            Approval::Field(name) => write!(f, "the boolean field `{name}`"),
            Approval::UpTo(cutoff) => write!(f, "every line up to {cutoff}"),
        }
    }
}

impl Approval {
    /// A boolean field of your own.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::workflows::Approval;
    /// assert_eq!(Approval::field("x_approved"), Approval::Field("x_approved".into()));
    /// ```
    pub fn field(name: impl Into<String>) -> Self {
        Approval::Field(name.into())
    }

    /// The field the choice reads, if any.
    fn odoo_field(&self) -> Option<&str> {
        match self {
            Approval::Validated => Some(VALIDATED),
            Approval::Field(name) => Some(name),
            Approval::UpTo(_) => None,
        }
    }

    /// What the server offers: [`Validated`](Approval::Validated) when its
    /// timesheet lines have Enterprise's `validated` flag, else `None` (a
    /// stock Community server: choose a field of your own or a cutoff).
    ///
    /// # Errors
    ///
    /// Odoo could not be asked (`fields_get`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::test_server::TestServer;
    /// use odoo_integration_connectors::workflows::Approval;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let odoo = server.client(odoo_integration_client::Protocol::Json2)?;
    /// // A stock Odoo Community: no validation on timesheet lines.
    /// assert_eq!(Approval::detect(&odoo).await?, None);
    /// # Ok(()) }
    /// ```
    pub async fn detect(odoo: &Client) -> Result<Option<Approval>> {
        let fields = line_fields(odoo).await?;
        Ok(
            (fields.get(VALIDATED).map(String::as_str) == Some("boolean"))
                .then_some(Approval::Validated),
        )
    }

    /// Checks that the server has what this choice reads, before anything
    /// is written: the field exists on `account.analytic.line` and is a
    /// boolean.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Configuration`] naming the field that is
    /// missing (or not a boolean) and how to add it or choose another
    /// approval; any error of asking Odoo (`fields_get`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::test_server::TestServer;
    /// use odoo_integration_connectors::workflows::Approval;
    /// use odoo_integration_connectors::ConnectorErrorKind;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let odoo = server.client(odoo_integration_client::Protocol::Json2)?;
    /// let missing = Approval::field("x_approved").check(&odoo).await.unwrap_err();
    /// assert_eq!(missing.kind(), ConnectorErrorKind::Configuration);
    /// assert!(missing.to_string().contains("has no field `x_approved`"));
    /// Approval::UpTo("2026-11-30".parse()?).check(&odoo).await?; // needs no field
    /// # Ok(()) }
    /// ```
    pub async fn check(&self, odoo: &Client) -> Result<()> {
        let Some(field) = self.odoo_field() else {
            return Ok(());
        };
        let fields = line_fields(odoo).await?;
        let problem = match fields.get(field).map(String::as_str) {
            Some("boolean") => return Ok(()),
            Some(other) => format!("its field `{field}` is a {other}, not a boolean"),
            None => format!("has no field `{field}`"),
        };
        let fix = match self {
            Approval::Validated => {
                "`validated` comes with Odoo Enterprise's Timesheets app (timesheet_grid); on Community, add a boolean field (Approval::Field) or pay every line up to a date (Approval::UpTo)"
            }
            _ => {
                "add it as a boolean field on Timesheets (Studio, or a module: x_approved = fields.Boolean()), or choose another approval: Approval::Validated on Enterprise, Approval::UpTo(date) to take every line up to a date"
            }
        };
        Err(ConnectorError::new(
            ConnectorErrorKind::Configuration,
            format!("timesheet approval by {self}: {LINES} {problem}; {fix}"),
        )
        .with_system(SystemId::odoo()))
    }

    /// The built-in map of timesheet lines
    /// ([`ModelMap::timesheet_entry`]) with this choice's field read as
    /// the approval ([`Conversion::approval_flag`]); for
    /// [`UpTo`](Approval::UpTo) no field is read: see
    /// [`judge`](Self::judge).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::workflows::Approval;
    /// assert_eq!(Approval::Validated.timesheet_map().odoo_field("approval"), Some("validated"));
    /// assert_eq!(Approval::UpTo("2026-11-30".parse().unwrap()).timesheet_map().odoo_field("approval"), None);
    /// ```
    pub fn timesheet_map(&self) -> ModelMap {
        let map = ModelMap::timesheet_entry();
        match self.odoo_field() {
            Some(field) => map.field("approval", field, Conversion::approval_flag()),
            None => map,
        }
    }

    /// Sets a line's approval where the choice decides it without a field:
    /// with [`UpTo`](Approval::UpTo), a line dated on or before the cutoff
    /// is approved and a later or undated one submitted. The other choices
    /// leave the line as read.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::workflows::Approval;
    /// use odoo_integration_model::{ApprovalState, TimesheetEntry};
    /// let cutoff = Approval::UpTo("2026-11-30".parse().unwrap());
    /// let mut line = TimesheetEntry { date: "2026-11-30".parse().ok(), ..Default::default() };
    /// cutoff.judge(&mut line);
    /// assert_eq!(line.approval, ApprovalState::Approved);
    /// line.date = "2026-12-01".parse().ok();
    /// cutoff.judge(&mut line);
    /// assert_eq!(line.approval, ApprovalState::Submitted);
    /// ```
    pub fn judge(&self, line: &mut TimesheetEntry) {
        if let Approval::UpTo(cutoff) = self {
            line.approval = match line.date {
                Some(d) if d <= *cutoff => ApprovalState::Approved,
                _ => ApprovalState::Submitted,
            };
        }
    }
}

/// The fields of timesheet lines, by name, with their types.
async fn line_fields(odoo: &Client) -> Result<std::collections::HashMap<String, String>> {
    let fields = odoo
        .model(LINES)
        .fields_get()
        .attributes(["type"])
        .send()
        .await
        .map_err(crate::odoo::convert)?;
    Ok(fields
        .into_iter()
        .map(|(name, info)| (name, info.field_type))
        .collect())
}
