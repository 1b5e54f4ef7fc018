//! The entities of a professional-services firm.
//!
//! Every entity derives serde and implements [`Entity`](crate::Entity)
//! through the [`entity!`](crate::entity) macro. Records with personal data
//! ([`Contact`], [`Employee`], [`PayStatement`], [`TimeOff`]) print ids only
//! in `Debug`, never names, emails or pay.

use crate::entity;
use crate::field::code_enum;
use crate::identity::CanonicalId;
use crate::money::Money;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A postal address, addressed in policies as the `address.*` group.
///
/// # Example
/// ```
/// let a = odoo_integration_model::Address { city: Some("Ghent".into()), ..Default::default() };
/// assert!(a.street.is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    /// Street and number.
    pub street: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166 country code.
    pub country: Option<String>,
}

/// A client organisation: the entity `client` in policy files, stores and
/// references (the type is named so that it never clashes with
/// `odoo::Client` when both are imported).
///
/// # Example
/// ```
/// let c = odoo_integration_model::ClientCompany { legal_name: "Acme NV".into(), ..Default::default() };
/// assert_eq!(c.legal_name, "Acme NV");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClientCompany {
    /// Registered legal name.
    pub legal_name: String,
    /// Industry.
    pub industry: Option<String>,
    /// Web site (a match key by domain).
    pub website: Option<String>,
    /// VAT / tax id.
    pub tax_id: Option<String>,
    /// The company's registry number, where it differs from the tax id
    /// (Odoo's `company_registry`).
    #[serde(default)]
    pub company_registry: Option<String>,
    /// Payment terms, e.g. `30 days`.
    pub billing_terms: Option<String>,
    /// Postal address.
    pub address: Address,
    /// Account manager's employee record.
    pub account_manager: Option<CanonicalId>,
    /// Where the payment of the client's invoices stands, usually owned by
    /// the ERP and written back to the CRM.
    #[serde(default)]
    pub payment_state: Option<PaymentState>,
    /// What the client still owes, usually owned by the ERP and written
    /// back to the CRM.
    #[serde(default)]
    pub amount_due: Option<Money>,
}
entity!(ClientCompany, "client", {
    "legal_name" => legal_name,
    "industry" => industry,
    "website" => website,
    "tax_id" => tax_id,
    "company_registry" => company_registry,
    "billing_terms" => billing_terms,
    "address.street" => address.street,
    "address.city" => address.city,
    "address.postal_code" => address.postal_code,
    "address.country" => address.country,
    "account_manager" => account_manager,
    "payment_state" => payment_state,
    "amount_due" => amount_due,
});

/// A person at a client.
///
/// # Example
/// ```
/// let c = odoo_integration_model::Contact { name: "Ann".into(), ..Default::default() };
/// assert!(!format!("{c:?}").contains("Ann"));
/// ```
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contact {
    /// Full name.
    pub name: String,
    /// Email (a match key).
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Their organisation.
    pub client: Option<CanonicalId>,
}
entity!(Contact, "contact", {
    "name" => name, "email" => email, "phone" => phone, "client" => client,
});
impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contact")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

code_enum!(
    /// The stage of an opportunity.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::OpportunityStage::Won.as_str(), "won");
    /// ```
    OpportunityStage { #[default] /** Open. */ Open = "open", /** Won. */ Won = "won", /** Lost. */ Lost = "lost" }
);

/// A sales opportunity (deal).
///
/// # Example
/// ```
/// let o = odoo_integration_model::Opportunity::default();
/// assert_eq!(o.stage, odoo_integration_model::OpportunityStage::Open);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Opportunity {
    /// Name.
    pub name: String,
    /// The client, a [`ClientCompany`].
    pub client: Option<CanonicalId>,
    /// Deal amount.
    pub amount: Option<Money>,
    /// Stage.
    pub stage: OpportunityStage,
    /// Expected close date.
    pub close_date: Option<NaiveDate>,
    /// What is being sold (a CRM's line items), written as a whole like a
    /// contract's lines.
    #[serde(default)]
    pub lines: Vec<ContractLine>,
    /// The delivery project's reference in the ERP (the Odoo project's id),
    /// so sales can see where a won deal is delivered; usually owned by the
    /// ERP and written back to the CRM.
    #[serde(default)]
    pub project_ref: Option<String>,
    /// Where the payment of the deal's invoices stands, usually owned by
    /// the ERP and written back to the CRM.
    #[serde(default)]
    pub payment_state: Option<PaymentState>,
    /// What the client still owes on the deal's invoices, usually owned by
    /// the ERP and written back to the CRM.
    #[serde(default)]
    pub amount_due: Option<Money>,
    /// The deal owner, as the email address both systems know the person
    /// by (the CRM user's email, the ERP user's login).
    #[serde(default)]
    pub owner: Option<String>,
    /// How the work sold is billed, when the CRM records it (a custom
    /// property or picklist); the ERP's contract follows it.
    #[serde(default)]
    pub billing: Option<BillingKind>,
    /// The sale order's reference in the ERP (Odoo's `S00042`), usually
    /// owned by the ERP and written back to the CRM.
    #[serde(default)]
    pub order_ref: Option<String>,
}
entity!(Opportunity, "opportunity", {
    "name" => name, "client" => client, "amount" => amount, "stage" => stage, "close_date" => close_date,
    "lines" => lines, "project_ref" => project_ref, "payment_state" => payment_state,
    "amount_due" => amount_due, "owner" => owner, "billing" => billing, "order_ref" => order_ref,
});

/// An engagement (project) delivered to a client.
///
/// # Example
/// ```
/// let e = odoo_integration_model::Engagement { billable: true, ..Default::default() };
/// assert!(e.client.is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Engagement {
    /// Name.
    pub name: String,
    /// The client, a [`ClientCompany`].
    pub client: Option<CanonicalId>,
    /// Governing contract / statement of work.
    pub contract: Option<CanonicalId>,
    /// Payment terms.
    pub billing_terms: Option<String>,
    /// Tax treatment, e.g. `standard`, `reverse-charge`.
    pub tax_treatment: Option<String>,
    /// Whether time on it is billed.
    pub billable: bool,
    /// Start date.
    pub start: Option<NaiveDate>,
    /// End date.
    pub end: Option<NaiveDate>,
    /// Who manages it, as an email address (the ERP user's login).
    #[serde(default)]
    pub manager: Option<String>,
}
entity!(Engagement, "engagement", {
    "name" => name, "client" => client, "contract" => contract, "billing_terms" => billing_terms,
    "tax_treatment" => tax_treatment, "billable" => billable, "start" => start, "end" => end,
    "manager" => manager,
});

/// How a contract bills.
///
/// # Example
/// ```
/// use odoo_integration_model::BillingModel;
/// let m = BillingModel::Retainer { amount: "1000 EUR".parse::<odoo_integration_model::Money>().ok(), period_months: 1 };
/// assert_eq!(m.code(), "retainer");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum BillingModel {
    /// Time and materials at rates per role.
    TimeAndMaterials {
        /// Hourly rate per role name.
        rates: std::collections::BTreeMap<String, Money>,
    },
    /// A fixed fee paid on a schedule.
    FixedFee {
        /// Total fee.
        total: Option<Money>,
        /// Instalments: due date and amount.
        schedule: Vec<(NaiveDate, Money)>,
    },
    /// A retainer per period.
    Retainer {
        /// Amount per period.
        amount: Option<Money>,
        /// Period length in months.
        period_months: u32,
    },
    /// Billed on milestones.
    Milestones {
        /// The milestone records.
        milestones: Vec<CanonicalId>,
    },
}

code_enum!(
    /// How a contract bills, without its terms: what a CRM records of a
    /// [`BillingModel`] and what chooses the ERP's invoicing policy.
    ///
    /// # Example
    /// ```
    /// use odoo_integration_model::BillingKind;
    /// assert_eq!("fixed-fee".parse::<BillingKind>(), Ok(BillingKind::FixedFee));
    /// assert_eq!(BillingKind::default(), BillingKind::TimeAndMaterials);
    /// ```
    BillingKind {
        #[default] /** Time and materials. */ TimeAndMaterials = "time-and-materials",
        /** A fixed fee. */ FixedFee = "fixed-fee",
        /** A retainer per period. */ Retainer = "retainer",
        /** Billed on milestones. */ Milestones = "milestones"
    }
);

impl BillingModel {
    /// Its kind.
    ///
    /// # Example
    /// ```
    /// use odoo_integration_model::{BillingKind, BillingModel};
    /// let m = BillingModel::Milestones { milestones: vec![] };
    /// assert_eq!(m.kind(), BillingKind::Milestones);
    /// ```
    pub fn kind(&self) -> BillingKind {
        match self {
            BillingModel::TimeAndMaterials { .. } => BillingKind::TimeAndMaterials,
            BillingModel::FixedFee { .. } => BillingKind::FixedFee,
            BillingModel::Retainer { .. } => BillingKind::Retainer,
            BillingModel::Milestones { .. } => BillingKind::Milestones,
        }
    }

    /// Its stable code.
    ///
    /// # Example
    /// ```
    /// let m = odoo_integration_model::BillingModel::Milestones { milestones: vec![] };
    /// assert_eq!(m.code(), "milestones");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            BillingModel::TimeAndMaterials { .. } => "time-and-materials",
            BillingModel::FixedFee { .. } => "fixed-fee",
            BillingModel::Retainer { .. } => "retainer",
            BillingModel::Milestones { .. } => "milestones",
        }
    }
}

/// A contract or statement of work.
///
/// # Example
/// ```
/// let c = odoo_integration_model::Contract::default();
/// assert!(c.billing.is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contract {
    /// Reference, e.g. `SOW-2026-004`.
    pub reference: String,
    /// The client, a [`ClientCompany`].
    pub client: Option<CanonicalId>,
    /// Billing model (not addressable by field name; replaced as a whole).
    pub billing: Option<BillingModel>,
    /// Signed on.
    pub signed_on: Option<NaiveDate>,
    /// What was sold: the services and their prices (one owner for all of
    /// them; see [`FieldValue::Rows`](crate::FieldValue::Rows)).
    #[serde(default)]
    pub lines: Vec<ContractLine>,
}
entity!(Contract, "contract", {
    "reference" => reference, "client" => client, "signed_on" => signed_on, "lines" => lines,
});

/// One line of a contract: a service sold, its quantity and unit price.
///
/// # Example
/// ```
/// let l = odoo_integration_model::ContractLine { description: "Senior consultant, days".into(), ..Default::default() };
/// assert!(l.unit_price.is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContractLine {
    /// Line id in the system it came from (empty for a new line).
    #[serde(default)]
    pub id: String,
    /// What is sold.
    pub description: String,
    /// Quantity (days, hours, units).
    pub quantity: Decimal,
    /// Price per unit; `None` lets the ERP price it (its price list).
    pub unit_price: Option<Money>,
    /// The product sold, by its code (a CRM's SKU or product code, Odoo's
    /// internal reference `default_code`); `None` leaves it to the sink.
    #[serde(default)]
    pub product: Option<String>,
}
entity!(ContractLine, "contract_line", {
    "id" => id, "description" => description, "quantity" => quantity, "unit_price" => unit_price,
    "product" => product,
});

/// A milestone of an engagement.
///
/// # Example
/// ```
/// let m = odoo_integration_model::Milestone::default();
/// assert!(!m.reached);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Milestone {
    /// Name.
    pub name: String,
    /// Engagement.
    pub engagement: Option<CanonicalId>,
    /// Due date.
    pub due: Option<NaiveDate>,
    /// Amount billed when reached.
    pub amount: Option<Money>,
    /// Reached.
    pub reached: bool,
}
entity!(Milestone, "milestone", {
    "name" => name, "engagement" => engagement, "due" => due, "amount" => amount, "reached" => reached,
});

code_enum!(
    /// Employment status.
    ///
    /// # Example
    /// ```
    /// assert_eq!("terminated".parse::<odoo_integration_model::EmploymentStatus>()?.as_str(), "terminated");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    EmploymentStatus { #[default] /** Active. */ Active = "active", /** On leave. */ OnLeave = "on-leave", /** Terminated. */ Terminated = "terminated" }
);

/// An employee. `Debug` shows the employee number only.
///
/// # Example
/// ```
/// let e = odoo_integration_model::Employee { name: "Bo Lind".into(), employee_number: "E7".into(), ..Default::default() };
/// let dbg = format!("{e:?}");
/// assert!(dbg.contains("E7") && !dbg.contains("Lind"));
/// ```
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Employee {
    /// Employee number (a match key).
    pub employee_number: String,
    /// Full name.
    pub name: String,
    /// Work email.
    pub work_email: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Manager.
    pub manager: Option<CanonicalId>,
    /// Status.
    pub status: EmploymentStatus,
    /// Cost per hour.
    pub cost_rate: Option<Money>,
    /// Bill rate per hour.
    pub bill_rate: Option<Money>,
    /// First day of employment.
    #[serde(default)]
    pub hire_date: Option<NaiveDate>,
    /// Last day of employment, once terminated.
    #[serde(default)]
    pub termination_date: Option<NaiveDate>,
    /// Work phone (usually kept by the ERP, with the work email).
    #[serde(default)]
    pub work_phone: Option<String>,
    /// Working schedule by name, e.g. `Standard 40 hours/week` (the
    /// ERP's calendar).
    #[serde(default)]
    pub work_calendar: Option<String>,
}
entity!(Employee, "employee", {
    "employee_number" => employee_number, "name" => name, "work_email" => work_email,
    "department" => department, "job_title" => job_title, "manager" => manager,
    "status" => status, "cost_rate" => cost_rate, "bill_rate" => bill_rate,
    "hire_date" => hire_date, "termination_date" => termination_date,
    "work_phone" => work_phone, "work_calendar" => work_calendar,
});
impl fmt::Debug for Employee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Employee")
            .field("employee_number", &self.employee_number)
            .field("manager", &self.manager)
            .finish_non_exhaustive()
    }
}

/// Staffing: an employee assigned to an engagement.
///
/// # Example
/// ```
/// let a = odoo_integration_model::Assignment::default();
/// assert!(a.employee.is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Assignment {
    /// Employee.
    pub employee: Option<CanonicalId>,
    /// Engagement.
    pub engagement: Option<CanonicalId>,
    /// Role.
    pub role: Option<String>,
    /// Allocation in percent of full time.
    pub allocation_percent: Option<Decimal>,
    /// From.
    pub start: Option<NaiveDate>,
    /// Until.
    pub end: Option<NaiveDate>,
}
entity!(Assignment, "assignment", {
    "employee" => employee, "engagement" => engagement, "role" => role,
    "allocation_percent" => allocation_percent, "start" => start, "end" => end,
});

code_enum!(
    /// Approval state of a timesheet entry or expense.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::ApprovalState::default().as_str(), "draft");
    /// ```
    ApprovalState { #[default] /** Draft. */ Draft = "draft", /** Submitted. */ Submitted = "submitted", /** Approved. */ Approved = "approved", /** Rejected. */ Rejected = "rejected" }
);

/// A timesheet entry.
///
/// # Example
/// ```
/// let t = odoo_integration_model::TimesheetEntry { hours: rust_decimal::Decimal::new(75, 1), ..Default::default() };
/// assert_eq!(t.hours.to_string(), "7.5");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TimesheetEntry {
    /// Day worked.
    pub date: Option<NaiveDate>,
    /// Hours, exact.
    pub hours: Decimal,
    /// Employee.
    pub employee: Option<CanonicalId>,
    /// Engagement.
    pub engagement: Option<CanonicalId>,
    /// Task.
    pub task: Option<String>,
    /// Billable.
    pub billable: bool,
    /// Approval state.
    pub approval: ApprovalState,
}
entity!(TimesheetEntry, "timesheet_entry", {
    "date" => date, "hours" => hours, "employee" => employee, "engagement" => engagement,
    "task" => task, "billable" => billable, "approval" => approval,
});

/// An expense claim.
///
/// # Example
/// ```
/// let e = odoo_integration_model::Expense::default();
/// assert!(e.amount.is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Expense {
    /// Employee.
    pub employee: Option<CanonicalId>,
    /// Engagement it is charged to.
    pub engagement: Option<CanonicalId>,
    /// Date spent.
    pub date: Option<NaiveDate>,
    /// Amount.
    pub amount: Option<Money>,
    /// Description.
    pub description: Option<String>,
    /// Re-invoiced to the client.
    pub rebillable: bool,
    /// Approval state.
    pub approval: ApprovalState,
}
entity!(Expense, "expense", {
    "employee" => employee, "engagement" => engagement, "date" => date, "amount" => amount,
    "description" => description, "rebillable" => rebillable, "approval" => approval,
});

/// An invoice line; `id` keys it in diffs.
///
/// # Example
/// ```
/// let l = odoo_integration_model::InvoiceLine { id: "L1".into(), ..Default::default() };
/// assert_eq!(l.id, "L1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// Line id, stable across versions.
    pub id: String,
    /// Description.
    pub description: String,
    /// Quantity.
    pub quantity: Decimal,
    /// Unit price.
    pub unit_price: Option<Money>,
}
entity!(InvoiceLine, "invoice_line", {
    "id" => id, "description" => description, "quantity" => quantity, "unit_price" => unit_price,
});

/// An invoice and its lines.
///
/// # Example
/// ```
/// let i = odoo_integration_model::Invoice::default();
/// assert!(i.lines.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Invoice {
    /// Invoice number.
    pub number: Option<String>,
    /// The client, a [`ClientCompany`].
    pub client: Option<CanonicalId>,
    /// Engagement.
    pub engagement: Option<CanonicalId>,
    /// Issue date.
    pub date: Option<NaiveDate>,
    /// Due date.
    pub due: Option<NaiveDate>,
    /// Total.
    pub total: Option<Money>,
    /// Lines (diffed by [`InvoiceLine::id`]).
    pub lines: Vec<InvoiceLine>,
    /// Where its payment stands, once posted (computed by the ERP).
    #[serde(default)]
    pub payment_state: Option<PaymentState>,
    /// What is still to be paid (computed by the ERP).
    #[serde(default)]
    pub amount_due: Option<Money>,
}
entity!(Invoice, "invoice", {
    "number" => number, "client" => client, "engagement" => engagement, "date" => date,
    "due" => due, "total" => total, "lines" => lines, "payment_state" => payment_state,
    "amount_due" => amount_due,
});

code_enum!(
    /// Where a posted invoice stands with its payment, as Odoo says
    /// (`account.move.payment_state`).
    ///
    /// # Example
    /// ```
    /// use odoo_integration_model::PaymentState;
    /// assert_eq!(PaymentState::InPayment.as_str(), "in_payment");
    /// assert_eq!("partial".parse::<PaymentState>(), Ok(PaymentState::Partial));
    /// ```
    PaymentState { #[default] /** Nothing paid. */ NotPaid = "not_paid", /** Paid in part. */ Partial = "partial", /** Paid, the payment not yet reconciled with the bank. */ InPayment = "in_payment", /** Paid. */ Paid = "paid", /** Cancelled by a credit note. */ Reversed = "reversed" }
);

/// A payment received against an invoice.
///
/// # Example
/// ```
/// assert!(odoo_integration_model::Payment::default().invoice.is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Payment {
    /// Invoice.
    pub invoice: Option<CanonicalId>,
    /// Amount.
    pub amount: Option<Money>,
    /// Received at.
    pub received_at: Option<DateTime<Utc>>,
}
entity!(Payment, "payment", {
    "invoice" => invoice, "amount" => amount, "received_at" => received_at,
});

/// A payroll run.
///
/// # Example
/// ```
/// assert!(odoo_integration_model::PayrollRun::default().pay_date.is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PayrollRun {
    /// Period start.
    pub period_start: Option<NaiveDate>,
    /// Period end.
    pub period_end: Option<NaiveDate>,
    /// Pay date.
    pub pay_date: Option<NaiveDate>,
}
entity!(PayrollRun, "payroll_run", {
    "period_start" => period_start, "period_end" => period_end, "pay_date" => pay_date,
});

/// One employee's pay statement in a run. `Debug` shows ids only.
///
/// # Example
/// ```
/// let p = odoo_integration_model::PayStatement { gross: "5000 EUR".parse().ok(), ..Default::default() };
/// assert!(!format!("{p:?}").contains("5000"));
/// ```
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PayStatement {
    /// Run.
    pub run: Option<CanonicalId>,
    /// Employee.
    pub employee: Option<CanonicalId>,
    /// Gross pay.
    pub gross: Option<Money>,
    /// Net pay.
    pub net: Option<Money>,
    /// Hours paid.
    pub hours: Option<Decimal>,
}
entity!(PayStatement, "pay_statement", {
    "run" => run, "employee" => employee, "gross" => gross, "net" => net, "hours" => hours,
});
impl fmt::Debug for PayStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PayStatement")
            .field("run", &self.run)
            .field("employee", &self.employee)
            .finish_non_exhaustive()
    }
}

/// Time off taken by an employee.
///
/// # Example
/// ```
/// assert!(odoo_integration_model::TimeOff::default().kind.is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TimeOff {
    /// Employee.
    pub employee: Option<CanonicalId>,
    /// Kind, e.g. `vacation`.
    pub kind: Option<String>,
    /// First day.
    pub start: Option<NaiveDate>,
    /// Last day.
    pub end: Option<NaiveDate>,
    /// Hours.
    pub hours: Option<Decimal>,
    /// Approval.
    pub approval: ApprovalState,
}
entity!(TimeOff, "time_off", {
    "employee" => employee, "kind" => kind, "start" => start, "end" => end, "hours" => hours, "approval" => approval,
});

/// Calls `$m!` with the built-in entity types.
macro_rules! built_in {
    ($m:ident) => {
        $m!(
            ClientCompany,
            Contact,
            Opportunity,
            Engagement,
            Contract,
            Milestone,
            Employee,
            Assignment,
            TimesheetEntry,
            Expense,
            InvoiceLine,
            Invoice,
            Payment,
            PayrollRun,
            PayStatement,
            TimeOff
        )
    };
}

/// The field names of a built-in entity, by its policy name.
///
/// # Example
/// ```
/// assert!(odoo_integration_model::schema("client").is_some_and(|f| f.contains(&"tax_id")));
/// assert!(odoo_integration_model::schema("spaceship").is_none());
/// ```
pub fn schema(entity: &str) -> Option<&'static [&'static str]> {
    use crate::Entity;
    macro_rules! lookup {
        ($($t:ty),*) => {
            match entity { $(n if n == <$t>::NAME => Some(<$t>::FIELDS),)* _ => None }
        };
    }
    built_in!(lookup)
}

/// The policy names of the built-in entities ([`schema`] knows each).
///
/// # Example
/// ```
/// let names = odoo_integration_model::entity_names();
/// assert!(names.contains(&"client") && names.contains(&"employee"));
/// assert!(names.iter().all(|n| odoo_integration_model::schema(n).is_some()));
/// ```
pub fn entity_names() -> &'static [&'static str] {
    use crate::Entity;
    macro_rules! names {
        ($($t:ty),*) => {
            &[$(<$t>::NAME),*]
        };
    }
    built_in!(names)
}
