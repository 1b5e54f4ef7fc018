//! The whole flow as one call: [`TimesheetsToPayroll::run`], a sequence
//! of steps, each a private method below; what one step hands the next
//! is a small struct of [`steps`](super::steps).

use super::posting::{self, BILLING, Group, first_id};
use super::reads::{self, Upserts, identity, upserts};
use super::steps::{Identities, InvoicePlan, Priced, Snapshot, price, statement, statement_id};
use super::{PayPeriod, PeriodHours, RateCards, Report, approved_hours};
use crate::connector::{Sink, Source, SourceChange};
use crate::error::Result;
use crate::odoo::OdooConnector;
use crate::pipeline::{Pipeline, RunSummary};
use crate::sources::VecSource;
use crate::store::SyncState;
use crate::workflows::{Approval, people};
use chrono::{DateTime, Utc};
use odoo_integration_model::{
    Currency, Employee, Engagement, Entity, Expense, PayStatement, PayrollRun, Policy, SystemId,
    TimesheetEntry,
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

    #[test]
    fn the_default_policy_parses() {
        assert!(Policy::from_toml(POLICY).is_ok());
    }
}
