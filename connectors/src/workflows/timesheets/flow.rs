//! The whole flow as one call: [`TimesheetsToPayroll::run`].

use super::{
    ExpenseLine, ExpenseSkipped, Line, PayPeriod, RateCards, Skipped, Unpriced, approved_hours,
    price_hours, rebill_expenses,
};
use crate::connector::{Operation, Sink, Source, SourceChange, read_to_end};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::odoo::{OdooConnector, convert};
use crate::pipeline::{Pipeline, RunSummary};
use crate::sources::VecSource;
use crate::store::{Link, SyncState};
use crate::workflows::{Approval, people};
use odoo_integration_client::Domain;
use odoo_integration_model::{
    CanonicalId, Currency, Employee, Engagement, Entity, Expense, Invoice, InvoiceLine,
    PayStatement, PayrollRun, Policy, RemoteId, SystemId, TimesheetEntry,
};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The system the computed invoices come from: their external ids in
/// Odoo are `sync_timesheets.invoice_…`.
const BILLING: &str = "timesheets";

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

/// An invoice posted by a run.
///
/// # Example
///
/// See [`TimesheetsToPayroll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedInvoice {
    /// The invoice's id in the workflow (`billing:<client>:<payroll>`,
    /// then `:2`, `:3` for later hours of the same period).
    pub record: RemoteId,
    /// Its id in Odoo.
    pub odoo: RemoteId,
    /// The number Odoo gave it.
    pub number: String,
}

/// An invoice Odoo would not post (a locked period, a missing customer),
/// left in draft.
///
/// # Example
///
/// See [`TimesheetsToPayroll`].
#[derive(Debug, Clone)]
pub struct NotPosted {
    /// The invoice's id in the workflow.
    pub record: RemoteId,
    /// Its id in Odoo.
    pub odoo: RemoteId,
    /// What Odoo said.
    pub error: ConnectorError,
}

/// A line of a posted invoice that bills more than the timesheets now
/// say (hours taken back after posting): never changed by the workflow;
/// a person issues the credit note.
///
/// # Example
///
/// See [`TimesheetsToPayroll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overbilled {
    /// The first invoice of the client and period (`billing:<client>:<payroll>`).
    pub record: RemoteId,
    /// The line's description.
    pub description: String,
    /// The quantity on posted invoices.
    pub posted: Decimal,
    /// The quantity the timesheets say now.
    pub now: Decimal,
}

/// What a run did.
///
/// # Example
///
/// See [`TimesheetsToPayroll`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Report {
    /// The hours written to payroll.
    pub hours: RunSummary,
    /// The draft invoices written to Odoo.
    pub invoices: RunSummary,
    /// Timesheet lines neither paid nor billed, and why.
    pub left_out: Vec<Skipped>,
    /// Billable hours not priced, and why.
    pub unpriced: Vec<Unpriced>,
    /// Rebillable expenses not re-invoiced, and why.
    pub expenses_left_out: Vec<ExpenseSkipped>,
    /// The drafts the workflow keeps in Odoo after this run (written now
    /// or unchanged), by their id in the workflow; each `total` the
    /// contract's (none on an invoice of hours found after posting).
    pub billed: BTreeMap<RemoteId, Invoice>,
    /// Invoices posted by this run.
    pub posted: Vec<PostedInvoice>,
    /// Invoices Odoo would not post.
    pub not_posted: Vec<NotPosted>,
    /// Posted lines that bill more than the timesheets now say.
    pub overbilled: Vec<Overbilled>,
}

impl Report {
    /// Whether the run changed nothing anywhere.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::workflows::timesheets::Report::default().is_no_op());
    /// ```
    pub fn is_no_op(&self) -> bool {
        self.hours.is_no_op() && self.invoices.is_no_op() && self.posted.is_empty()
    }
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
///    expense.
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

/// Every record a source has now: its id, values and change (for the
/// references).
async fn upserts<E: Entity>(source: &dyn Source<E>) -> Result<Vec<(RemoteId, E, SourceChange<E>)>> {
    let (changes, _) = read_to_end(source, None, 200).await?;
    Ok(changes
        .into_iter()
        .filter_map(|c| match &c.operation {
            Operation::Upsert(e) => Some((c.remote_id.clone(), e.clone(), c)),
            Operation::Delete => None,
        })
        .collect())
}

/// The canonical id these records share: the one any of them already
/// has, else a new one; linked to all of them.
async fn identity(
    state: &Arc<dyn SyncState>,
    entity: &str,
    pairs: &[(&SystemId, &RemoteId)],
) -> Result<CanonicalId> {
    let mut known = None;
    for (system, remote) in pairs {
        known = state.resolve(entity, system, remote).await?;
        if known.is_some() {
            break;
        }
    }
    let id = known.unwrap_or_else(CanonicalId::new);
    let links: Vec<Link> = pairs
        .iter()
        .map(|(s, r)| Link::new(entity, id, (*s).clone(), (*r).clone()))
        .collect();
    state.link(&links).await?;
    Ok(id)
}

/// A decimal from Odoo's JSON (a number or a string); zero if neither.
fn decimal(v: &Value) -> Decimal {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Decimal::ZERO,
    };
    text.parse()
        .or_else(|_| Decimal::from_scientific(&text))
        .unwrap_or_default()
        .normalize()
}

/// The id of a many2one as read (`[id, name]` or an id).
fn many2one(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Array(a) => a.first().and_then(Value::as_i64),
        other => other.as_i64(),
    }
}

/// An invoice of the flow as Odoo has it.
#[derive(Debug, Clone)]
struct Existing {
    record: RemoteId,
    odoo: i64,
    state: String,
    /// (description, unit price) → quantity.
    lines: BTreeMap<(String, Decimal), Decimal>,
}

/// The invoices of one client and period: the first, then the later ones.
fn group_ids(base: &RemoteId, n: usize) -> RemoteId {
    if n <= 1 {
        base.clone()
    } else {
        RemoteId::new(format!("{base}:{n}"))
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
    /// [`ConnectorErrorKind::Configuration`] when Odoo lacks the approval
    /// field or its companies invoice in different currencies (before
    /// anything is written); a read or a pipeline that fails as a whole.
    /// Records that fail alone are in the run summaries and the
    /// dead-letter queue.
    ///
    /// # Example
    ///
    /// See [`TimesheetsToPayroll`].
    pub async fn run(&self) -> Result<Report> {
        let client = self.odoo.client();
        self.approval.check(client).await?;
        let currency = match self.currency {
            Some(c) => c,
            None => self.company_currency().await?,
        };
        let (odoo_sys, pay_sys) = (SystemId::odoo(), self.payroll.system());
        let lines_of = (*self.odoo).clone().with_map(self.approval.timesheet_map());

        // 1. Read.
        let mut lines = upserts::<TimesheetEntry>(&lines_of).await?;
        for (_, line, _) in &mut lines {
            self.approval.judge(line);
        }
        let odoo_people = upserts::<Employee>(&*self.odoo).await?;
        let projects = upserts::<Engagement>(&*self.odoo).await?;
        let expenses = upserts::<Expense>(&*self.odoo).await?;
        let pay_people = upserts::<Employee>(&*self.payroll).await?;
        let runs = upserts::<PayrollRun>(&*self.payroll).await?;

        // 2. Identities: employees paired, payroll runs by their id.
        let strip = |list: &[(RemoteId, Employee, SourceChange<Employee>)]| {
            list.iter()
                .map(|(id, e, _)| (id.clone(), e.clone()))
                .collect::<Vec<_>>()
        };
        let pairing = people::pair_employees(&strip(&odoo_people), &strip(&pay_people));
        let mut people: HashMap<RemoteId, (CanonicalId, Employee)> = HashMap::new();
        for (odoo_id, person, _) in &odoo_people {
            let mut pairs = vec![(&odoo_sys, odoo_id)];
            if let Some(pair) = pairing.pairs.iter().find(|p| p.left == *odoo_id) {
                pairs.push((&pay_sys, &pair.right));
            }
            let id = identity(&self.state, "employee", &pairs).await?;
            people.insert(odoo_id.clone(), (id, person.clone()));
        }
        let mut periods = Vec::new();
        let mut run_ids = HashMap::new();
        for (id, run, _) in &runs {
            if let (Some(start), Some(end)) = (run.period_start, run.period_end) {
                let canonical = identity(&self.state, "payroll_run", &[(&pay_sys, id)]).await?;
                run_ids.insert(id.clone(), canonical);
                periods.push(PayPeriod::new(id.as_str(), start, end));
            }
        }

        // 3. Approved hours to payroll.
        let judged: Vec<Line> = lines
            .iter()
            .filter_map(|(_, line, change)| {
                let mut l = Line::from_change(change)?;
                l.entry = line.clone();
                Some(l)
            })
            .collect();
        let hours = approved_hours(&judged, &periods);
        let at = chrono::Utc::now();
        let mut statements = Vec::new();
        for ((payroll, employee), total) in &hours.total {
            let (Some(run), Some((person, _))) = (run_ids.get(payroll), people.get(employee))
            else {
                continue;
            };
            let statement = PayStatement {
                run: Some(*run),
                employee: Some(*person),
                hours: Some(*total),
                ..Default::default()
            };
            statements.push(
                SourceChange::upsert(format!("hours:{payroll}:{employee}"), at, statement)
                    .with_fields(["run", "employee", "hours"]),
            );
        }
        // Hours written before whose lines are no longer approved: back to
        // zero, so nobody is paid for them.
        for period in &periods {
            let Some(run) = run_ids.get(&period.payroll) else {
                continue;
            };
            for (employee, (person, _)) in &people {
                if hours
                    .total
                    .contains_key(&(period.payroll.clone(), employee.clone()))
                {
                    continue;
                }
                let id = RemoteId::new(format!("hours:{}:{employee}", period.payroll));
                if self
                    .state
                    .resolve(PayStatement::NAME, &odoo_sys, &id)
                    .await?
                    .is_none()
                {
                    continue;
                }
                let statement = PayStatement {
                    run: Some(*run),
                    employee: Some(*person),
                    hours: Some(Decimal::ZERO),
                    ..Default::default()
                };
                statements.push(
                    SourceChange::upsert(id.as_str(), at, statement)
                        .with_fields(["run", "employee", "hours"]),
                );
            }
        }
        let hours_run = Pipeline::<PayStatement>::builder(
            format!("odoo→{pay_sys}/hours"),
            Arc::new(VecSource::new(odoo_sys.clone(), statements)),
            self.payroll.clone(),
            self.state.clone(),
        )
        .policy(self.policy.clone())
        .build()?
        .run()
        .await?;

        // 4. Billable hours and rebillable expenses, priced.
        let client_of = |change: &SourceChange<Engagement>| {
            change.refs.get("client").map(|r| r.remote_id.clone())
        };
        let clients: BTreeMap<RemoteId, Option<RemoteId>> = projects
            .iter()
            .map(|(id, _, change)| (id.clone(), client_of(change)))
            .collect();
        let billed_of = |project: &RemoteId| {
            let (id, engagement, _) = projects.iter().find(|(id, ..)| id == project)?;
            Some(super::Billed {
                engagement,
                card: self.cards.get(id, &engagement.name),
                client: clients.get(id).and_then(Option::as_ref),
            })
        };
        let mut billing = price_hours(&hours, &periods, currency, billed_of, |employee| {
            people.get(employee).map(|(_, p)| p)
        });
        let expense_lines = self.expense_lines(&expenses).await?;
        let expenses_left_out =
            rebill_expenses(&expense_lines, &periods, currency, billed_of, &mut billing);

        // 5. What Odoo has of these invoices, and what to write.
        let mut groups: BTreeSet<(RemoteId, RemoteId)> = billing.invoices.keys().cloned().collect();
        for (project, client) in &clients {
            for p in &periods {
                groups.insert((
                    client.clone().unwrap_or_else(|| project.clone()),
                    p.payroll.clone(),
                ));
            }
        }
        let existing = self.existing(&groups).await?;
        let mut changes = Vec::new();
        let mut billed = BTreeMap::new();
        let mut overbilled = Vec::new();
        for key in &groups {
            let base = RemoteId::new(format!("billing:{}:{}", key.0, key.1));
            let have = existing.get(&base).map(Vec::as_slice).unwrap_or_default();
            let wanted = billing.invoices.get(key);
            let (target, invoice) = plan(&base, have, wanted, &mut overbilled);
            match invoice {
                Some(mut invoice) => {
                    if clients.values().flatten().any(|c| *c == key.0) {
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
                None if have
                    .iter()
                    .any(|e| e.record == target && e.state == "draft") =>
                {
                    // A draft nothing is billed on any more.
                    changes.push(SourceChange::delete(target.as_str(), at));
                }
                None => {}
            }
        }
        let invoices_run = Pipeline::<Invoice>::builder(
            "timesheets→odoo/invoices",
            Arc::new(VecSource::new(SystemId::new(BILLING), changes)),
            self.odoo.clone(),
            self.state.clone(),
        )
        .policy(self.policy.clone())
        .build()?
        .run()
        .await?;

        // 6. Posting.
        let (mut posted, mut not_posted) = (Vec::new(), Vec::new());
        if self.posting == Posting::Post {
            let now = self.existing(&groups).await?;
            for draft in now.values().flatten().filter(|e| e.state == "draft") {
                if draft.lines.is_empty() {
                    continue;
                }
                match self.post(draft.odoo).await {
                    Ok(number) => posted.push(PostedInvoice {
                        record: draft.record.clone(),
                        odoo: RemoteId::new(draft.odoo.to_string()),
                        number,
                    }),
                    Err(error) => not_posted.push(NotPosted {
                        record: draft.record.clone(),
                        odoo: RemoteId::new(draft.odoo.to_string()),
                        error,
                    }),
                }
            }
        }
        Ok(Report {
            hours: hours_run,
            invoices: invoices_run,
            left_out: hours.skipped,
            unpriced: billing.unpriced,
            expenses_left_out,
            billed,
            posted,
            not_posted,
            overbilled,
        })
    }

    /// The currency of Odoo's companies.
    async fn company_currency(&self) -> Result<Currency> {
        let rows = self
            .odoo
            .client()
            .model("res.company")
            .search_read(Domain::all())
            .fields(["currency_id"])
            .send()
            .await
            .map_err(convert)?;
        let codes: BTreeSet<String> = rows
            .iter()
            .filter_map(|r| r.get("currency_id")?.get(1)?.as_str().map(str::to_owned))
            .collect();
        let mut codes = codes.into_iter();
        match (codes.next(), codes.next()) {
            (Some(code), None) => code.parse().map_err(|e| {
                ConnectorError::new(
                    ConnectorErrorKind::Mapping,
                    format!("res.company currency_id: {e}"),
                )
            }),
            (first, second) => Err(ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!(
                    "Odoo's companies invoice in {}: say which with `invoice_currency`",
                    match (first, second) {
                        (Some(a), Some(b)) => format!("{a}, {b} and maybe more currencies"),
                        _ => "no currency".to_owned(),
                    }
                ),
            )
            .with_system(SystemId::odoo())),
        }
    }

    /// The rebillable expenses, the approved ones with the project they
    /// are re-invoiced on: the customer order the expense names
    /// (`sale_order_id`) and that order's project (`project_id`), else the
    /// project that re-invoices on that order (`reinvoiced_sale_order_id`).
    async fn expense_lines(
        &self,
        expenses: &[(RemoteId, Expense, SourceChange<Expense>)],
    ) -> Result<Vec<ExpenseLine>> {
        let client = self.odoo.client();
        let wanted: Vec<i64> = expenses
            .iter()
            .filter(|(_, e, _)| {
                e.rebillable && e.approval == odoo_integration_model::ApprovalState::Approved
            })
            .filter_map(|(id, ..)| id.as_str().parse().ok())
            .collect();
        let mut order_of: HashMap<i64, i64> = HashMap::new();
        if !wanted.is_empty() {
            for row in client
                .model("hr.expense")
                .read(wanted)
                .fields(["sale_order_id"])
                .send()
                .await
                .map_err(convert)?
            {
                if let (Some(id), Some(order)) = (
                    row.get("id").and_then(Value::as_i64),
                    many2one(row.get("sale_order_id")),
                ) {
                    order_of.insert(id, order);
                }
            }
        }
        let orders: BTreeSet<i64> = order_of.values().copied().collect();
        let mut project_of: HashMap<i64, i64> = HashMap::new();
        if !orders.is_empty() {
            for row in client
                .model("project.project")
                .search_read(
                    Domain::field("reinvoiced_sale_order_id").is_in(orders.iter().copied()),
                )
                .fields(["reinvoiced_sale_order_id"])
                .send()
                .await
                .map_err(convert)?
            {
                if let (Some(id), Some(order)) = (
                    row.get("id").and_then(Value::as_i64),
                    many2one(row.get("reinvoiced_sale_order_id")),
                ) {
                    project_of.insert(order, id);
                }
            }
            for row in client
                .model("sale.order")
                .read(orders.iter().copied())
                .fields(["project_id"])
                .send()
                .await
                .map_err(convert)?
            {
                if let (Some(id), Some(project)) = (
                    row.get("id").and_then(Value::as_i64),
                    many2one(row.get("project_id")),
                ) {
                    project_of.insert(id, project);
                }
            }
        }
        Ok(expenses
            .iter()
            .map(|(id, expense, _)| {
                let engagement = id
                    .as_str()
                    .parse::<i64>()
                    .ok()
                    .and_then(|i| order_of.get(&i))
                    .and_then(|o| project_of.get(o))
                    .map(|p| RemoteId::new(p.to_string()));
                ExpenseLine {
                    id: id.clone(),
                    expense: expense.clone(),
                    engagement,
                }
            })
            .filter(|l| l.expense.rebillable)
            .collect())
    }

    /// The invoices Odoo has of these clients and periods, by the id of
    /// each group's first, in order.
    async fn existing(
        &self,
        groups: &BTreeSet<(RemoteId, RemoteId)>,
    ) -> Result<BTreeMap<RemoteId, Vec<Existing>>> {
        let client = self.odoo.client();
        let system = SystemId::new(BILLING);
        let probe = OdooConnector::external_id(Invoice::NAME, &system, &RemoteId::new("x"))?;
        let names: HashMap<String, i64> = client
            .model("ir.model.data")
            .search_read(
                Domain::field("module").eq(probe.module())
                    & Domain::field("model").eq("account.move"),
            )
            .fields(["name", "res_id"])
            .send()
            .await
            .map_err(convert)?
            .into_iter()
            .filter_map(|r| {
                Some((
                    r.get("name")?.as_str()?.to_owned(),
                    r.get("res_id")?.as_i64()?,
                ))
            })
            .collect();
        let mut found: Vec<(RemoteId, RemoteId, i64)> = Vec::new();
        for (client_id, payroll) in groups {
            let base = RemoteId::new(format!("billing:{client_id}:{payroll}"));
            for n in 1.. {
                let record = group_ids(&base, n);
                let xid = OdooConnector::external_id(Invoice::NAME, &system, &record)?;
                let Some(id) = names.get(xid.name()) else {
                    break;
                };
                found.push((base.clone(), record, *id));
            }
        }
        let mut out: BTreeMap<RemoteId, Vec<Existing>> = BTreeMap::new();
        if found.is_empty() {
            return Ok(out);
        }
        let moves: HashMap<i64, (String, Vec<i64>)> = client
            .model("account.move")
            .read(found.iter().map(|(.., id)| *id))
            .fields(["state", "invoice_line_ids"])
            .send()
            .await
            .map_err(convert)?
            .into_iter()
            .filter_map(|r| {
                let id = r.get("id")?.as_i64()?;
                let state = r.get("state")?.as_str()?.to_owned();
                let lines = r
                    .get("invoice_line_ids")?
                    .as_array()?
                    .iter()
                    .filter_map(Value::as_i64)
                    .collect();
                Some((id, (state, lines)))
            })
            .collect();
        let line_ids: Vec<i64> = moves
            .values()
            .flat_map(|(_, l)| l.iter().copied())
            .collect();
        let rows = if line_ids.is_empty() {
            Vec::new()
        } else {
            client
                .model("account.move.line")
                .read(line_ids)
                .fields(["name", "quantity", "price_unit"])
                .send()
                .await
                .map_err(convert)?
        };
        let lines: HashMap<i64, (String, Decimal, Decimal)> = rows
            .into_iter()
            .filter_map(|r| {
                let id = r.get("id")?.as_i64()?;
                let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
                let quantity = decimal(r.get("quantity")?);
                let price = decimal(r.get("price_unit")?);
                Some((id, (name.to_owned(), quantity, price)))
            })
            .collect();
        for (base, record, id) in found {
            // Gone from Odoo (deleted by hand): written again.
            let Some((state, ids)) = moves.get(&id) else {
                continue;
            };
            let mut summed = BTreeMap::new();
            for (name, quantity, price) in ids.iter().filter_map(|l| lines.get(l)) {
                *summed.entry((name.clone(), *price)).or_default() += *quantity;
            }
            out.entry(base).or_default().push(Existing {
                record,
                odoo: id,
                state: state.clone(),
                lines: summed,
            });
        }
        Ok(out)
    }

    /// Posts a draft invoice; its number.
    async fn post(&self, id: i64) -> Result<String> {
        let client = self.odoo.client();
        let _: Value = client
            .call("account.move", "action_post")
            .ids([id])
            .send()
            .await
            .map_err(convert)?;
        let row = client
            .model("account.move")
            .read([id])
            .fields(["name"])
            .send()
            .await
            .map_err(convert)?;
        Ok(row
            .first()
            .and_then(|r| r.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }
}

/// What to write for one client and period, given the invoices Odoo has
/// of it (`have`, in order) and what the timesheets bill (`wanted`): the
/// id to write and the invoice, if any. Posted (and cancelled) invoices
/// are never written: what they bill is subtracted, the rest goes on the
/// group's draft, or a new one; lines billed beyond what is wanted are
/// reported in `overbilled`.
fn plan(
    base: &RemoteId,
    have: &[Existing],
    wanted: Option<&Invoice>,
    overbilled: &mut Vec<Overbilled>,
) -> (RemoteId, Option<Invoice>) {
    let closed: Vec<&Existing> = have.iter().filter(|e| e.state != "draft").collect();
    let target = have
        .iter()
        .find(|e| e.state == "draft")
        .map_or_else(|| group_ids(base, have.len() + 1), |e| e.record.clone());
    if closed.is_empty() {
        return (target, wanted.cloned());
    }
    let mut billed: BTreeMap<(String, Decimal), Decimal> = BTreeMap::new();
    for e in closed.iter().filter(|e| e.state == "posted") {
        for (key, q) in &e.lines {
            *billed.entry(key.clone()).or_default() += *q;
        }
    }
    let mut lines = Vec::new();
    let key_of = |l: &InvoiceLine| {
        (
            l.description.clone(),
            l.unit_price
                .map(|m| m.amount().normalize())
                .unwrap_or_default(),
        )
    };
    for line in wanted.map(|w| w.lines.as_slice()).unwrap_or_default() {
        let already = billed.remove(&key_of(line)).unwrap_or_default();
        let more = line.quantity.checked_sub(already).unwrap_or_default();
        if more > Decimal::ZERO {
            lines.push(InvoiceLine {
                quantity: more,
                ..line.clone()
            });
        } else if more < Decimal::ZERO {
            overbilled.push(Overbilled {
                record: base.clone(),
                description: line.description.clone(),
                posted: already,
                now: line.quantity,
            });
        }
    }
    for ((description, _), posted) in billed {
        if posted > Decimal::ZERO {
            overbilled.push(Overbilled {
                record: base.clone(),
                description,
                posted,
                now: Decimal::ZERO,
            });
        }
    }
    if lines.is_empty() {
        return (target, None);
    }
    let invoice = wanted.map(|w| Invoice {
        lines,
        // The contract's total is of the whole period, not of what is left.
        total: None,
        ..w.clone()
    });
    (target, invoice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use odoo_integration_model::Money;

    fn line(description: &str, quantity: i64, price: i64) -> InvoiceLine {
        InvoiceLine {
            id: description.into(),
            description: description.into(),
            quantity: quantity.into(),
            unit_price: Some(Money::new(price.into(), Currency::USD)),
        }
    }

    fn posted(record: &str, state: &str, lines: &[(&str, i64, i64)]) -> Existing {
        Existing {
            record: RemoteId::new(record),
            odoo: 1,
            state: state.into(),
            lines: lines
                .iter()
                .map(|(d, q, p)| ((d.to_string(), Decimal::from(*p)), Decimal::from(*q)))
                .collect(),
        }
    }

    #[test]
    fn posted_invoices_are_never_rewritten_and_the_difference_goes_on_a_new_one() {
        let base = RemoteId::new("billing:acme:p1");
        let wanted = Invoice {
            lines: vec![line("Lead", 10, 150), line("Engineer", 4, 120)],
            total: Some(Money::new(1980.into(), Currency::USD)),
            ..Default::default()
        };
        let mut over = Vec::new();
        // Nothing in Odoo: the whole invoice, under the first id.
        let (id, inv) = plan(&base, &[], Some(&wanted), &mut over);
        assert_eq!(
            (id.as_str(), inv.as_ref()),
            ("billing:acme:p1", Some(&wanted))
        );
        // A draft: rewritten whole, in place.
        let draft = posted("billing:acme:p1", "draft", &[("Lead", 8, 150)]);
        let (id, inv) = plan(&base, &[draft], Some(&wanted), &mut over);
        assert_eq!(
            (id.as_str(), inv.as_ref()),
            ("billing:acme:p1", Some(&wanted))
        );
        // Posted with 8 h of Lead, Engineer 6 h: 2 more h of Lead on `:2`,
        // 2 Engineer hours too many reported.
        let first = posted(
            "billing:acme:p1",
            "posted",
            &[("Lead", 8, 150), ("Engineer", 6, 120)],
        );
        let (id, inv) = plan(
            &base,
            std::slice::from_ref(&first),
            Some(&wanted),
            &mut over,
        );
        assert_eq!(id.as_str(), "billing:acme:p1:2");
        let inv = inv.unwrap();
        assert_eq!(inv.lines, [line("Lead", 2, 150)]);
        assert_eq!(inv.total, None);
        assert_eq!(
            over,
            [Overbilled {
                record: base.clone(),
                description: "Engineer".into(),
                posted: 6.into(),
                now: 4.into()
            }]
        );
        // Everything posted: nothing to write.
        let both = [
            posted(
                "billing:acme:p1",
                "posted",
                &[("Lead", 8, 150), ("Engineer", 4, 120)],
            ),
            posted("billing:acme:p1:2", "posted", &[("Lead", 2, 150)]),
        ];
        over.clear();
        assert_eq!(plan(&base, &both, Some(&wanted), &mut over).1, None);
        assert!(over.is_empty());
        // A cancelled invoice bills nothing: all goes on the next.
        let cancelled = posted("billing:acme:p1", "cancel", &[("Lead", 10, 150)]);
        let (id, inv) = plan(&base, &[cancelled], Some(&wanted), &mut over);
        assert_eq!(id.as_str(), "billing:acme:p1:2");
        assert_eq!(inv.map(|i| i.lines.len()), Some(2));
    }

    #[test]
    fn the_default_policy_parses() {
        assert!(Policy::from_toml(POLICY).is_ok());
    }
}
