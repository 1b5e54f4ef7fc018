//! Business-readiness validation: rules as data, extensible by the user.

use crate::field::{Entity, FieldValue};
use serde::{Deserialize, Serialize};

/// One failed check: a stable code, the field, and a message.
///
/// # Example
/// ```
/// let f = odoo_integration_model::Failure { code: "engagement.billable.missing".into(), field: "client".into(), message: "client is required".into() };
/// assert_eq!(f.field, "client");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Stable code, e.g. `engagement.billable.missing`.
    pub code: String,
    /// Field concerned.
    pub field: String,
    /// Human-readable message.
    pub message: String,
}

/// A validation rule over an entity. Implement it for your own rules.
///
/// # Example
/// ```
/// use odoo_integration_model::{Employee, Failure, Rule, Validator};
/// struct HasTitle;
/// impl Rule<Employee> for HasTitle {
///     fn check(&self, e: &Employee, out: &mut Vec<Failure>) {
///         if e.job_title.is_none() {
///             out.push(Failure { code: "employee.title".into(), field: "job_title".into(), message: "job title missing".into() });
///         }
///     }
/// }
/// let v = Validator::new().with(HasTitle);
/// assert_eq!(v.validate(&Employee::default()).len(), 1);
/// ```
pub trait Rule<E>: Send + Sync {
    /// Appends every failure found.
    fn check(&self, record: &E, out: &mut Vec<Failure>);
}

/// A condition on a field, used by [`RequiredWhen`].
///
/// # Example
/// ```
/// use odoo_integration_model::{Condition, FieldValue};
/// let c = Condition::Equals { field: "billable".into(), value: FieldValue::Bool(true) };
/// assert!(matches!(c, Condition::Equals { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "if", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Condition {
    /// Always.
    Always,
    /// When the field equals the value.
    Equals {
        /// Field.
        field: String,
        /// Value.
        value: FieldValue,
    },
}

/// A data rule: when a condition holds, fields must be set (non-null, non-empty),
/// or must equal a value.
///
/// # Example
/// ```
/// use odoo_integration_model::{Condition, FieldValue, RequiredWhen, Rule, TimesheetEntry, Validator};
/// let to_payroll = RequiredWhen {
///     code: "timesheet.payroll.unapproved".into(),
///     when: Condition::Always,
///     required: vec![],
///     equal: vec![("approval".into(), FieldValue::Text("approved".into()))],
/// };
/// let v = Validator::new().with(to_payroll);
/// assert_eq!(v.validate(&TimesheetEntry::default())[0].field, "approval");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredWhen {
    /// Stable code for failures of this rule.
    pub code: String,
    /// When the rule applies.
    pub when: Condition,
    /// Fields that must be present.
    pub required: Vec<String>,
    /// Fields that must have a given value.
    #[serde(default)]
    pub equal: Vec<(String, FieldValue)>,
}

impl<E: Entity> Rule<E> for RequiredWhen {
    fn check(&self, record: &E, out: &mut Vec<Failure>) {
        let applies = match &self.when {
            Condition::Always => true,
            Condition::Equals { field, value } => record.get(field).as_ref() == Some(value),
        };
        if !applies {
            return;
        }
        for f in &self.required {
            match record.get(f) {
                None => out.push(Failure {
                    code: self.code.clone(),
                    field: f.clone(),
                    message: format!("{} has no field {f}", E::NAME),
                }),
                Some(FieldValue::Null) => out.push(Failure {
                    code: self.code.clone(),
                    field: f.clone(),
                    message: format!("{f} is required"),
                }),
                Some(FieldValue::Text(t)) if t.trim().is_empty() => out.push(Failure {
                    code: self.code.clone(),
                    field: f.clone(),
                    message: format!("{f} is required"),
                }),
                Some(FieldValue::Rows(rows)) if rows.is_empty() => out.push(Failure {
                    code: self.code.clone(),
                    field: f.clone(),
                    message: format!("{f} needs at least one row"),
                }),
                Some(_) => {}
            }
        }
        for (f, v) in &self.equal {
            if record.get(f).as_ref() != Some(v) {
                out.push(Failure {
                    code: self.code.clone(),
                    field: f.clone(),
                    message: format!("{f} must be {v}"),
                });
            }
        }
    }
}

/// A set of rules for one entity; reports every failure, not only the first.
///
/// # Example
/// ```
/// use odoo_integration_model::{Engagement, Validator};
/// let v = Validator::<Engagement>::billable_engagement();
/// let e = Engagement { billable: true, ..Default::default() };
/// let codes: Vec<_> = v.validate(&e).into_iter().map(|f| f.field).collect();
/// assert_eq!(codes, ["client", "contract", "billing_terms", "tax_treatment"]);
/// ```
pub struct Validator<E> {
    rules: Vec<Box<dyn Rule<E>>>,
}

impl<E> std::fmt::Debug for Validator<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl<E> Default for Validator<E> {
    fn default() -> Self {
        Validator { rules: Vec::new() }
    }
}

impl<E> Validator<E> {
    /// No rules.
    ///
    /// # Example
    /// ```
    /// let v = odoo_integration_model::Validator::<odoo_integration_model::ClientCompany>::new();
    /// assert!(v.validate(&Default::default()).is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a rule.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::*;
    /// let v = Validator::<ClientCompany>::new().with(RequiredWhen { code: "c".into(), when: Condition::Always, required: vec!["tax_id".into()], equal: vec![] });
    /// assert_eq!(v.validate(&ClientCompany::default()).len(), 1);
    /// ```
    pub fn with(mut self, rule: impl Rule<E> + 'static) -> Self {
        self.rules.push(Box::new(rule));
        self
    }
    /// Every failure of every rule.
    ///
    /// # Example
    /// ```
    /// let v = odoo_integration_model::Validator::<odoo_integration_model::Employee>::costing();
    /// assert_eq!(v.validate(&Default::default())[0].code, "employee.costing.no_cost_rate");
    /// ```
    pub fn validate(&self, record: &E) -> Vec<Failure> {
        let mut out = Vec::new();
        for r in &self.rules {
            r.check(record, &mut out);
        }
        out
    }
}

impl Validator<crate::Engagement> {
    /// A billable engagement needs client, contract, billing terms and tax
    /// treatment (code `engagement.billable.missing`).
    ///
    /// # Example
    /// ```
    /// let v = odoo_integration_model::Validator::<odoo_integration_model::Engagement>::billable_engagement();
    /// assert!(v.validate(&Default::default()).is_empty()); // not billable
    /// ```
    pub fn billable_engagement() -> Self {
        Validator::new().with(RequiredWhen {
            code: "engagement.billable.missing".into(),
            when: Condition::Equals {
                field: "billable".into(),
                value: FieldValue::Bool(true),
            },
            required: ["client", "contract", "billing_terms", "tax_treatment"]
                .map(String::from)
                .to_vec(),
            equal: vec![],
        })
    }
}

impl Validator<crate::TimesheetEntry> {
    /// A timesheet entry may reach payroll only when approved and complete
    /// (codes `timesheet.payroll.unapproved`, `timesheet.payroll.missing`).
    ///
    /// # Example
    /// ```
    /// let v = odoo_integration_model::Validator::<odoo_integration_model::TimesheetEntry>::payroll_ready();
    /// assert_eq!(v.validate(&Default::default()).len(), 4);
    /// ```
    pub fn payroll_ready() -> Self {
        Validator::new()
            .with(RequiredWhen {
                code: "timesheet.payroll.unapproved".into(),
                when: Condition::Always,
                required: vec![],
                equal: vec![("approval".into(), FieldValue::Text("approved".into()))],
            })
            .with(RequiredWhen {
                code: "timesheet.payroll.missing".into(),
                when: Condition::Always,
                required: ["date", "employee", "engagement"]
                    .map(String::from)
                    .to_vec(),
                equal: vec![],
            })
    }
}

impl Validator<crate::Employee> {
    /// An employee needs a cost rate before time is costed (code
    /// `employee.costing.no_cost_rate`).
    ///
    /// # Example
    /// ```
    /// let v = odoo_integration_model::Validator::<odoo_integration_model::Employee>::costing();
    /// assert_eq!(v.validate(&Default::default()).len(), 1);
    /// ```
    pub fn costing() -> Self {
        Validator::new().with(RequiredWhen {
            code: "employee.costing.no_cost_rate".into(),
            when: Condition::Always,
            required: vec!["cost_rate".into()],
            equal: vec![],
        })
    }
}
