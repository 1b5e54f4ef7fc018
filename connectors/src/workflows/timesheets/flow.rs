//! The whole flow as one call: [`TimesheetsToPayroll::run`], a sequence
//! of steps, each a private method below; what one step hands the next
//! is a small struct ([`Snapshot`], [`Identities`], [`Priced`],
//! [`InvoicePlan`]).

use super::posting::{self, BILLING, Group, first_id};
use super::reads::{self, Upserts, identity, upserts};
use super::{
    Billed, Billing, ExpenseLine, ExpenseSkipped, Line, Overbilled, PayPeriod, PeriodHours,
    RateCards, Report, approved_hours, price_hours, rebill_expenses,
};
use crate::connector::{Sink, Source, SourceChange};
use crate::error::Result;
use crate::odoo::OdooConnector;
use crate::pipeline::{Pipeline, RunSummary};
use crate::sources::VecSource;
use crate::store::SyncState;
use crate::workflows::{Approval, people};
use chrono::{DateTime, Utc};
use odoo_integration_model::{
    CanonicalId, Currency, Employee, Engagement, Entity, Expense, Invoice, PayStatement,
    PayrollRun, Policy, RemoteId, SystemId, TimesheetEntry,
};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Timesheets own the hours of pay statements; payroll owns what it
/// computes; the workflow owns what it bills on its invoices (client,
/// date, lines), Odoo what it computes (number, totals, payment).
const POLICY: &str = r#"
[pay_statement]
default_owner = "gusto"
[pay_statement.fields]
hours = "odoo"
run = "odoo"
employee = "odoo"

[invoice]
default_owner = "odoo"
[invoice.fields]
client = "timesheets"
date = "timesheets"
lines = "timesheets"
"#;

/// What the flow needs of a payroll connector: it reads employees and
/// payroll runs (the pay periods), and writes pay statements (hours).
/// Gusto's connector is one.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::gusto::GustoConnector;
/// use odoo_integration_connectors::workflows::timesheets::Payroll;
/// fn pays<P: Payroll>() {}
/// pays::<GustoConnector>();
/// ```
pub trait Payroll:
    Source<Employee> + Source<PayrollRun> + Sink<PayStatement> + Send + Sync + 'static
{
}
impl<T> Payroll for T where
    T: Source<Employee> + Source<PayrollRun> + Sink<PayStatement> + Send + Sync + 'static
{
}

/// Whether the invoices are posted.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::timesheets::Posting;
/// assert_eq!(Posting::default(), Posting::Draft);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Posting {
    /// Left as drafts for a person to check and post.
    #[default]
    Draft,
    /// Posted (`account.move.action_post`) once written: Odoo numbers
    /// them, and they are closed to changes.
    Post,
}

/// Timesheets to payroll and billing, as one call.
///
/// Each [`run`](Self::run):
///
/// 1. Checks that Odoo has the field the [`Approval`] reads, before
///    anything is written; reads Odoo's timesheet lines (judged by it),
///    employees, projects and expenses, and the payroll's employees and
///    payroll runs (the pay periods).
/// 2. Pairs Odoo and payroll employees by employee number or work email
///    ([`people::pair_employees`]), one canonical id each.
/// 3. Sums approved hours per employee per pay period and writes them to
///    payroll (a pipeline into `Sink<PayStatement>`; Gusto writes them as
///    Regular Hours); hours written by an earlier run whose lines are no
///    longer approved go back to zero. Lines not approved, undated,
///    without an employee or outside every period are reported
///    ([`Report::left_out`]).
/// 4. Prices billable hours at each engagement's [`RateCard`](super::RateCard)
///    (rounding and currency as it says), adds approved rebillable
///    expenses, and writes one draft invoice per client and period to
///    Odoo (`account.move`), a line per engagement and role and per
///    expense; its id in the workflow `billing:<client>:<payroll>`. A
///    project without a client has invoices of its own,
///    `billing:project:<project>:<payroll>`.
/// 5. With [`Posting::Post`], posts the drafts it wrote.
///
/// **Idempotent.** Every record's id comes from what it sums (payroll
/// and employee; client and period), so a second run finds them all
/// unchanged and changes nothing.
///
/// **Posted invoices are never changed.** Odoo refuses changes to a
/// posted invoice's lines (since 17.3, in any period); the flow reads
/// each invoice's state first and never writes one that is posted (or
/// cancelled). When hours of a period change after its invoice was
/// posted, the difference goes on a new draft invoice for the same
/// client and period (`billing:<client>:<payroll>:2`, then `:3`), which
/// is what a firm sends: a supplementary invoice for hours found late.
/// Hours taken back after posting are reported ([`Report::overbilled`])
/// and never invoiced negatively: a credit note is a person's decision.
/// Posting is exactly-once: only drafts are posted, each once, and a
/// draft Odoo refuses to post (a locked period) is reported and left.
///
/// **Currency.** Invoices are written in Odoo's company currency (read
/// from `res.company` unless given with [`invoice_currency`](Self::invoice_currency));
/// a contract, rate or expense in another currency is reported, never
/// converted. Odoo computes each line's subtotal itself; the contract's
/// own total (its amount rounding) is each invoice's `total` in
/// [`Report::billed`].
///
/// # Example
///
/// The end-to-end tests in `connectors/tests/it/timesheet_flow.rs` run
/// it between the embedded Odoo and the Gusto fake;
/// `examples/timesheets_to_payroll.rs` is a thin caller:
///
/// ```no_run
/// # use std::sync::Arc;
/// # async fn demo(odoo: Arc<odoo_integration_connectors::odoo::OdooConnector>, gusto: Arc<odoo_integration_connectors::gusto::GustoConnector>) -> Result<(), Box<dyn std::error::Error>> {
/// use odoo_integration_connectors::workflows::timesheets::{Posting, RateCard, RateCards, TimesheetsToPayroll};
/// use odoo_integration_connectors::{workflows::Approval, MemoryStore};
/// use odoo_integration_model::{Currency, Money};
/// let usd = |n: i64| Money::new(n.into(), Currency::USD);
/// let cards = RateCards::new().by_name(
///     "Acme data platform",
///     RateCard::time_and_materials(Currency::USD, [("Engagement Lead", usd(150))]),
/// );
/// let flow = TimesheetsToPayroll::new(odoo, gusto, Arc::new(MemoryStore::new()), Approval::field("x_approved"), cards)
///     .posting(Posting::Post);
/// let report = flow.run().await?;
/// println!("hours {}, invoices {}", report.hours, report.invoices);
/// assert!(flow.run().await?.is_no_op());
/// # Ok(()) }
/// ```
pub struct TimesheetsToPayroll<P> {
    odoo: Arc<OdooConnector>,
    payroll: Arc<P>,
    state: Arc<dyn SyncState>,
    approval: Approval,
    cards: RateCards,
    policy: Policy,
    posting: Posting,
    currency: Option<Currency>,
}

impl<P> std::fmt::Debug for TimesheetsToPayroll<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimesheetsToPayroll")
            .field("approval", &self.approval)
            .field("cards", &self.cards)
            .field("posting", &self.posting)
            .field("currency", &self.currency)
            .finish_non_exhaustive()
    }
}

/// What the systems hold at the start of a run (step 1).
struct Snapshot {
    /// Odoo's timesheet lines, judged by the [`Approval`].
    lines: Upserts<TimesheetEntry>,
    /// Odoo's employees.
    odoo_people: Upserts<Employee>,
    /// Odoo's projects.
    projects: Upserts<Engagement>,
    /// Odoo's expenses.
    expenses: Upserts<Expense>,
    /// The payroll's employees.
    pay_people: Upserts<Employee>,
    /// The payroll's runs.
    runs: Upserts<PayrollRun>,
}

impl Snapshot {
    /// The timesheet lines with their employee and engagement ids, as
    /// judged.
    fn judged_lines(&self) -> Vec<Line> {
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
struct Identities {
    /// Odoo's employee id → its canonical id (shared with the payroll's
    /// employee it pairs with) and the employee.
    people: HashMap<RemoteId, (CanonicalId, Employee)>,
    /// Payroll run id → its canonical id, for the runs with a period.
    runs: HashMap<RemoteId, CanonicalId>,
    /// The pay periods: the payroll runs with both dates.
    periods: Vec<PayPeriod>,
}

/// Billable hours and expenses priced into invoices (step 4).
struct Priced {
    /// The invoices, (client, payroll) → invoice, and the hours left
    /// unpriced.
    billing: Billing,
    /// Rebillable expenses not re-invoiced.
    expenses_left_out: Vec<ExpenseSkipped>,
    /// Odoo project id → whom its invoices are for: its client's id, else
    /// [`own_invoice`]'s key.
    payers: BTreeMap<RemoteId, RemoteId>,
    /// The projects' clients' ids.
    clients: BTreeSet<RemoteId>,
}

/// What to write of the invoices, against what Odoo has (step 5).
struct InvoicePlan {
    /// Every client (or project without one) and period the run looked at.
    groups: BTreeSet<Group>,
    /// The invoices to write, and the drafts to delete.
    changes: Vec<SourceChange<Invoice>>,
    /// The invoices written, by their id in the workflow.
    billed: BTreeMap<RemoteId, Invoice>,
    /// Posted lines that bill more than the timesheets now say.
    overbilled: Vec<Overbilled>,
}

/// A pay statement of `hours` for the employee and period, under its id
/// in the workflow (`hours:<payroll>:<employee>`); `None` when the run or
/// the employee is not known.
fn statement(
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
fn statement_id(payroll: &RemoteId, employee: &RemoteId) -> RemoteId {
    RemoteId::new(format!("hours:{payroll}:{employee}"))
}

/// The key the invoices of a project without a client are under, in
/// place of a client's id: `project:<id>`, never an id Odoo gives a
/// partner (a project's id may be one).
fn own_invoice(project: &RemoteId) -> RemoteId {
    RemoteId::new(format!("project:{project}"))
}

/// Step 4 without the reads: billable hours priced at each engagement's
/// card, and the rebillable expenses added, into one invoice per client
/// and period.
fn price(
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

impl<P: Payroll> TimesheetsToPayroll<P> {
    /// The flow between `odoo` and `payroll`, its identities and
    /// checkpoints in `state`, lines judged by `approval`, engagements
    /// billed by `cards`; under [`default_policy`](Self::default_policy),
    /// invoices left in draft.
    ///
    /// # Example
    ///
    /// See [`TimesheetsToPayroll`].
    pub fn new(
        odoo: Arc<OdooConnector>,
        payroll: Arc<P>,
        state: Arc<dyn SyncState>,
        approval: Approval,
        cards: RateCards,
    ) -> Self {
        TimesheetsToPayroll {
            odoo,
            payroll,
            state,
            approval,
            cards,
            policy: Self::default_policy(),
            posting: Posting::Draft,
            currency: None,
        }
    }

    /// The built-in policy: Odoo's timesheets own a pay statement's hours,
    /// the payroll system (as `gusto`) the rest; the workflow (system
    /// `timesheets`) owns its invoices' client, date and lines, so a
    /// draft follows the hours; Odoo owns what it computes.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::workflows::timesheets::TimesheetsToPayroll;
    /// use odoo_integration_connectors::gusto::GustoConnector;
    /// let p = TimesheetsToPayroll::<GustoConnector>::default_policy();
    /// assert_eq!(p.rule("pay_statement", "hours").owner.as_ref().map(|s| s.as_str()), Some("odoo"));
    /// ```
    pub fn default_policy() -> Policy {
        Policy::from_toml(POLICY).unwrap_or_default()
    }

    /// The ownership policy of both pipelines. Default:
    /// [`default_policy`](Self::default_policy).
    ///
    /// # Example
    ///
    /// See [`TimesheetsToPayroll`].
    #[must_use]
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Whether the invoices are posted. Default: [`Posting::Draft`].
    ///
    /// # Example
    ///
    /// See [`TimesheetsToPayroll`].
    #[must_use]
    pub fn posting(mut self, posting: Posting) -> Self {
        self.posting = posting;
        self
    }

    /// The currency Odoo's invoices are in. Default: read from Odoo, the
    /// companies' currency (an error when companies differ).
    ///
    /// # Example
    ///
    /// See [`TimesheetsToPayroll`].
    #[must_use]
    pub fn invoice_currency(mut self, currency: Currency) -> Self {
        self.currency = Some(currency);
        self
    }

    /// One pass of the flow (see [`TimesheetsToPayroll`]).
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Configuration`](crate::error::ConnectorErrorKind::Configuration)
    /// when Odoo lacks the approval field or its companies invoice in
    /// different currencies (before anything is written); a read or a
    /// pipeline that fails as a whole.
    /// Records that fail alone are in the run summaries and the
    /// dead-letter queue.
    ///
    /// # Example
    ///
    /// See [`TimesheetsToPayroll`].
    pub async fn run(&self) -> Result<Report> {
        let currency = self.preflight().await?;
        let snapshot = self.read().await?;
        let ids = self.identities(&snapshot).await?;
        let hours = approved_hours(&snapshot.judged_lines(), &ids.periods);
        let at = Utc::now();
        let statements = self.pay_statements(&hours, &ids, at).await?;
        let hours_run = self
            .write(
                format!("odoo→{}/hours", self.payroll.system()),
                SystemId::odoo(),
                statements,
                self.payroll.clone(),
            )
            .await?;
        let priced = self.price(&snapshot, &ids, &hours, currency).await?;
        let plan = self.plan_invoices(&priced, &ids.periods, at).await?;
        let invoices_run = self
            .write(
                "timesheets→odoo/invoices".to_owned(),
                SystemId::new(BILLING),
                plan.changes,
                self.odoo.clone(),
            )
            .await?;
        let (posted, not_posted) = match self.posting {
            Posting::Post => posting::post_drafts(self.odoo.client(), &plan.groups).await?,
            Posting::Draft => Default::default(),
        };
        Ok(Report {
            hours: hours_run,
            invoices: invoices_run,
            left_out: hours.skipped,
            unpriced: priced.billing.unpriced,
            expenses_left_out: priced.expenses_left_out,
            billed: plan.billed,
            posted,
            not_posted,
            overbilled: plan.overbilled,
        })
    }

    /// Before anything is read or written: checks that Odoo has the field
    /// the approval reads; the currency the invoices are in (given, else
    /// Odoo's companies').
    async fn preflight(&self) -> Result<Currency> {
        self.approval.check(self.odoo.client()).await?;
        match self.currency {
            Some(c) => Ok(c),
            None => reads::company_currency(self.odoo.client()).await,
        }
    }

    /// Step 1: reads what the systems hold: Odoo's timesheet lines (judged
    /// by the approval), employees, projects and expenses; the payroll's
    /// employees and runs.
    async fn read(&self) -> Result<Snapshot> {
        let lines_of = (*self.odoo).clone().with_map(self.approval.timesheet_map());
        let mut lines = upserts::<TimesheetEntry>(&lines_of).await?;
        for (_, line, _) in &mut lines {
            self.approval.judge(line);
        }
        Ok(Snapshot {
            lines,
            odoo_people: upserts::<Employee>(&*self.odoo).await?,
            projects: upserts::<Engagement>(&*self.odoo).await?,
            expenses: upserts::<Expense>(&*self.odoo).await?,
            pay_people: upserts::<Employee>(&*self.payroll).await?,
            runs: upserts::<PayrollRun>(&*self.payroll).await?,
        })
    }

    /// Step 2: pairs Odoo's employees with the payroll's (one canonical id
    /// each); gives each payroll run with a period its canonical id.
    async fn identities(&self, read: &Snapshot) -> Result<Identities> {
        let (odoo_sys, pay_sys) = (SystemId::odoo(), self.payroll.system());
        let strip = |list: &Upserts<Employee>| {
            list.iter()
                .map(|(id, e, _)| (id.clone(), e.clone()))
                .collect::<Vec<_>>()
        };
        let pairing = people::pair_employees(&strip(&read.odoo_people), &strip(&read.pay_people));
        let mut people = HashMap::new();
        for (odoo_id, person, _) in &read.odoo_people {
            let mut pairs = vec![(&odoo_sys, odoo_id)];
            if let Some(pair) = pairing.pairs.iter().find(|p| p.left == *odoo_id) {
                pairs.push((&pay_sys, &pair.right));
            }
            let id = identity(&self.state, "employee", &pairs).await?;
            people.insert(odoo_id.clone(), (id, person.clone()));
        }
        let (mut periods, mut runs) = (Vec::new(), HashMap::new());
        for (id, run, _) in &read.runs {
            if let (Some(start), Some(end)) = (run.period_start, run.period_end) {
                let canonical = identity(&self.state, "payroll_run", &[(&pay_sys, id)]).await?;
                runs.insert(id.clone(), canonical);
                periods.push(PayPeriod::new(id.as_str(), start, end));
            }
        }
        Ok(Identities {
            people,
            runs,
            periods,
        })
    }

    /// Step 3: approved hours → pay statements, one per employee and
    /// period; and zero hours where an earlier run wrote hours whose
    /// lines are no longer approved, so nobody is paid for them.
    async fn pay_statements(
        &self,
        hours: &PeriodHours,
        ids: &Identities,
        at: DateTime<Utc>,
    ) -> Result<Vec<SourceChange<PayStatement>>> {
        let mut statements: Vec<_> = hours
            .total
            .iter()
            .filter_map(|((payroll, employee), total)| {
                statement(ids, payroll, employee, *total, at)
            })
            .collect();
        let odoo_sys = SystemId::odoo();
        for period in ids
            .periods
            .iter()
            .filter(|p| ids.runs.contains_key(&p.payroll))
        {
            for employee in ids.people.keys() {
                if hours
                    .total
                    .contains_key(&(period.payroll.clone(), employee.clone()))
                {
                    continue;
                }
                let id = statement_id(&period.payroll, employee);
                if self
                    .state
                    .resolve(PayStatement::NAME, &odoo_sys, &id)
                    .await?
                    .is_none()
                {
                    continue;
                }
                statements.extend(statement(ids, &period.payroll, employee, Decimal::ZERO, at));
            }
        }
        Ok(statements)
    }

    /// Step 4: prices billable hours at each engagement's rate card and
    /// adds the approved rebillable expenses, into one invoice per client
    /// and period.
    async fn price(
        &self,
        read: &Snapshot,
        ids: &Identities,
        hours: &PeriodHours,
        currency: Currency,
    ) -> Result<Priced> {
        let expense_lines = reads::expense_lines(self.odoo.client(), &read.expenses).await?;
        Ok(price(
            &read.projects,
            &self.cards,
            ids,
            hours,
            &expense_lines,
            currency,
        ))
    }

    /// Step 5: what to write for every client (or project without one)
    /// and period, against the invoices Odoo has: drafts rewritten in
    /// place, a supplementary invoice for what posted ones do not bill
    /// ([`posting::plan`]), drafts nothing is billed on any more deleted.
    async fn plan_invoices(
        &self,
        priced: &Priced,
        periods: &[PayPeriod],
        at: DateTime<Utc>,
    ) -> Result<InvoicePlan> {
        let mut groups: BTreeSet<Group> = priced.billing.invoices.keys().cloned().collect();
        for payer in priced.payers.values() {
            for p in periods {
                groups.insert((payer.clone(), p.payroll.clone()));
            }
        }
        let existing = posting::existing(self.odoo.client(), &groups).await?;
        let odoo_sys = SystemId::odoo();
        let (mut changes, mut billed, mut overbilled) = (Vec::new(), BTreeMap::new(), Vec::new());
        for key in &groups {
            let base = first_id(&key.0, &key.1);
            let have = existing.get(&base).map(Vec::as_slice).unwrap_or_default();
            let wanted = priced.billing.invoices.get(key);
            let (target, invoice) = posting::plan(&base, have, wanted, &mut overbilled);
            match invoice {
                Some(mut invoice) => {
                    if priced.clients.contains(&key.0) {
                        let client =
                            identity(&self.state, "client", &[(&odoo_sys, &key.0)]).await?;
                        invoice.client = Some(client);
                    }
                    billed.insert(target.clone(), invoice.clone());
                    changes.push(
                        SourceChange::upsert(target.as_str(), at, invoice)
                            .with_fields(["client", "date", "lines"]),
                    );
                }
                None if have.iter().any(|e| e.record == target && e.is_draft()) => {
                    // A draft nothing is billed on any more.
                    changes.push(SourceChange::delete(target.as_str(), at));
                }
                None => {}
            }
        }
        Ok(InvoicePlan {
            groups,
            changes,
            billed,
            overbilled,
        })
    }

    /// Steps 3 and 5, the writes: `changes` from `from` into `sink`, as the
    /// pipeline `name` under the flow's policy and state.
    async fn write<E: Entity + Default + Send + Sync + 'static>(
        &self,
        name: String,
        from: SystemId,
        changes: Vec<SourceChange<E>>,
        sink: Arc<dyn Sink<E>>,
    ) -> Result<RunSummary> {
        Pipeline::<E>::builder(
            name,
            Arc::new(VecSource::new(from, changes)),
            sink,
            self.state.clone(),
        )
        .policy(self.policy.clone())
        .build()?
        .run()
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::Reference;
    use crate::workflows::timesheets::RateCard;
    use odoo_integration_model::Money;

    #[test]
    fn the_default_policy_parses() {
        assert!(Policy::from_toml(POLICY).is_ok());
    }

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
