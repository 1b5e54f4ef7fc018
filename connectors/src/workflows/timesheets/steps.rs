//! What one step of [`TimesheetsToPayroll::run`](super::TimesheetsToPayroll::run)
//! hands the next, and the parts of the steps that need no I/O.

use super::posting::Group;
use super::reads::Upserts;
use super::{
    Billed, Billing, ExpenseLine, ExpenseSkipped, Line, Overbilled, PayPeriod, PeriodHours,
    RateCards, price_hours, rebill_expenses,
};
use crate::connector::SourceChange;
use chrono::{DateTime, Utc};
use odoo_integration_model::{
    CanonicalId, Currency, Employee, Engagement, Expense, Invoice, PayStatement, PayrollRun,
    RemoteId, TimesheetEntry,
};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What the systems hold at the start of a run (step 1).
pub(super) struct Snapshot {
    /// Odoo's timesheet lines, judged by the [`Approval`](crate::workflows::Approval).
    pub(super) lines: Upserts<TimesheetEntry>,
    /// Odoo's employees.
    pub(super) odoo_people: Upserts<Employee>,
    /// Odoo's projects.
    pub(super) projects: Upserts<Engagement>,
    /// Odoo's expenses.
    pub(super) expenses: Upserts<Expense>,
    /// The payroll's employees.
    pub(super) pay_people: Upserts<Employee>,
    /// The payroll's runs.
    pub(super) runs: Upserts<PayrollRun>,
}

impl Snapshot {
    /// The timesheet lines with their employee and engagement ids, as
    /// judged.
    pub(super) fn judged_lines(&self) -> Vec<Line> {
        self.lines
            .iter()
            .filter_map(|(_, line, change)| {
                let mut l = Line::from_change(change)?;
                l.entry = line.clone();
                Some(l)
            })
            .collect()
    }
}

/// Employees and pay periods as the sync knows them (step 2).
pub(super) struct Identities {
    /// Odoo's employee id → its canonical id (shared with the payroll's
    /// employee it pairs with) and the employee.
    pub(super) people: HashMap<RemoteId, (CanonicalId, Employee)>,
    /// Payroll run id → its canonical id, for the runs with a period.
    pub(super) runs: HashMap<RemoteId, CanonicalId>,
    /// The pay periods: the payroll runs with both dates.
    pub(super) periods: Vec<PayPeriod>,
}

/// Billable hours and expenses priced into invoices (step 4).
pub(super) struct Priced {
    /// The invoices, (client, payroll) → invoice, and the hours left
    /// unpriced.
    pub(super) billing: Billing,
    /// Rebillable expenses not re-invoiced.
    pub(super) expenses_left_out: Vec<ExpenseSkipped>,
    /// Odoo project id → whom its invoices are for: its client's id, else
    /// [`own_invoice`]'s key.
    pub(super) payers: BTreeMap<RemoteId, RemoteId>,
    /// The projects' clients' ids.
    pub(super) clients: BTreeSet<RemoteId>,
}

/// What to write of the invoices, against what Odoo has (step 5).
pub(super) struct InvoicePlan {
    /// Every client (or project without one) and period the run looked at.
    pub(super) groups: BTreeSet<Group>,
    /// The invoices to write, and the drafts to delete.
    pub(super) changes: Vec<SourceChange<Invoice>>,
    /// The invoices written, by their id in the workflow.
    pub(super) billed: BTreeMap<RemoteId, Invoice>,
    /// Posted lines that bill more than the timesheets now say.
    pub(super) overbilled: Vec<Overbilled>,
}

/// A pay statement of `hours` for the employee and period, under its id
/// in the workflow (`hours:<payroll>:<employee>`); `None` when the run or
/// the employee is not known.
pub(super) fn statement(
    ids: &Identities,
    payroll: &RemoteId,
    employee: &RemoteId,
    hours: Decimal,
    at: DateTime<Utc>,
) -> Option<SourceChange<PayStatement>> {
    let (run, (person, _)) = (ids.runs.get(payroll)?, ids.people.get(employee)?);
    let statement = PayStatement {
        run: Some(*run),
        employee: Some(*person),
        hours: Some(hours),
        ..Default::default()
    };
    Some(
        SourceChange::upsert(statement_id(payroll, employee).as_str(), at, statement)
            .with_fields(["run", "employee", "hours"]),
    )
}

/// A pay statement's id in the workflow: `hours:<payroll>:<employee>`.
pub(super) fn statement_id(payroll: &RemoteId, employee: &RemoteId) -> RemoteId {
    RemoteId::new(format!("hours:{payroll}:{employee}"))
}

/// The key the invoices of a project without a client are under, in
/// place of a client's id: `project:<id>`, never an id Odoo gives a
/// partner (a project's id may be one).
pub(super) fn own_invoice(project: &RemoteId) -> RemoteId {
    RemoteId::new(format!("project:{project}"))
}

/// Step 4 without the reads: billable hours priced at each engagement's
/// card, and the rebillable expenses added, into one invoice per client
/// and period.
pub(super) fn price(
    projects: &Upserts<Engagement>,
    cards: &RateCards,
    ids: &Identities,
    hours: &PeriodHours,
    expense_lines: &[ExpenseLine],
    currency: Currency,
) -> Priced {
    let payers: BTreeMap<RemoteId, RemoteId> = projects
        .iter()
        .map(|(id, _, change)| {
            let client = change.refs.get("client").map(|r| r.remote_id.clone());
            (id.clone(), client.unwrap_or_else(|| own_invoice(id)))
        })
        .collect();
    let clients = projects
        .iter()
        .filter_map(|(_, _, change)| Some(change.refs.get("client")?.remote_id.clone()))
        .collect();
    let billed_of = |project: &RemoteId| {
        let (id, engagement, _) = projects.iter().find(|(id, ..)| id == project)?;
        Some(Billed {
            engagement,
            card: cards.get(id, &engagement.name),
            client: payers.get(id),
        })
    };
    let mut billing = price_hours(hours, &ids.periods, currency, billed_of, |employee| {
        ids.people.get(employee).map(|(_, p)| p)
    });
    let expenses_left_out = rebill_expenses(
        expense_lines,
        &ids.periods,
        currency,
        billed_of,
        &mut billing,
    );
    Priced {
        billing,
        expenses_left_out,
        payers,
        clients,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::Reference;
    use crate::workflows::timesheets::RateCard;
    use odoo_integration_model::Money;

    /// Odoo numbers projects and partners apart, so a project and a client
    /// can have the same id: a project without a client is still billed
    /// on its own invoice, never on that client's.
    #[test]
    fn a_project_without_a_client_is_never_billed_to_a_client_of_its_id() {
        let id = |s: &str| RemoteId::new(s);
        let project = |project: &str, name: &str, client: Option<&str>| {
            let work = Engagement {
                name: name.into(),
                billable: true,
                ..Default::default()
            };
            let mut change = SourceChange::upsert(project, Utc::now(), work.clone());
            if let Some(client) = client {
                change = change.with_ref("client", Reference::new("client", client));
            }
            (id(project), work, change)
        };
        // Project 7 has no client; project 8 bills partner 7.
        let projects = vec![
            project("7", "Internal tooling", None),
            project("8", "Acme platform", Some("7")),
        ];
        let rate = Money::new(150.into(), Currency::USD);
        let card = || RateCard::time_and_materials(Currency::USD, [("Lead", rate)]);
        let cards = RateCards::new()
            .by_name("Internal tooling", card())
            .by_name("Acme platform", card());
        let lead = Employee {
            job_title: Some("Lead".into()),
            ..Default::default()
        };
        let day = |d: &str| d.parse().unwrap_or_default();
        let ids = Identities {
            people: HashMap::from([(id("ann"), (CanonicalId::new(), lead))]),
            runs: HashMap::new(),
            periods: vec![PayPeriod::new("p1", day("2026-11-01"), day("2026-11-15"))],
        };
        let mut hours = PeriodHours::default();
        hours
            .by_engagement
            .insert((id("7"), id("p1"), id("ann")), 2.into());
        hours
            .by_engagement
            .insert((id("8"), id("p1"), id("ann")), 3.into());
        let priced = price(&projects, &cards, &ids, &hours, &[], Currency::USD);
        let invoices = &priced.billing.invoices;
        assert_eq!(invoices.len(), 2, "one invoice each: {invoices:?}");
        let acme = &invoices[&(id("7"), id("p1"))];
        assert_eq!(acme.lines.len(), 1, "{acme:?}");
        assert_eq!(acme.lines[0].quantity, 3.into());
        let own = &invoices[&(id("project:7"), id("p1"))];
        assert_eq!(own.lines[0].quantity, 2.into());
        assert!(!priced.clients.contains(&id("project:7")));
    }
}
