//! People: the HRIS's employees kept in step with Odoo's
//! ([`hris_to_odoo`]), and employees paired across two systems (the HRIS
//! and payroll, the HRIS and Odoo) by employee number or work email, with
//! what does not pair and what differs reported ([`pair_sources`],
//! [`pair_employees`]).

use crate::connector::{Operation, Source, read_to_end};
use crate::error::Result;
use crate::odoo::OdooConnector;
use crate::pipeline::{Pipeline, RunSummary};
use crate::store::SyncState;
use odoo_integration_model::{
    CanonicalId, Employee, Entity, FieldValue, MatchKey, MatchOutcome, Policy, RemoteId,
    match_keys_for, propose_match,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The HRIS's employees into Odoo's `hr.employee`, one run of the pipeline
/// `{hris}→odoo/employee` with its checkpoint in `state`, under `policy`
/// (who owns which field; typically the HRIS the job data, Odoo the work
/// contact and schedule). What the Odoo employee map does with each
/// ([`ModelMap::employee`](crate::odoo::ModelMap::employee)):
///
/// - departments are found by name, and created when Odoo has none;
/// - a manager is written before the people who report to them, whatever
///   order the HRIS sends them in;
/// - the job title, the hire date, the cost rate;
/// - the working schedule is found by name (one Odoo does not have is an
///   error for that employee, in the dead-letter queue);
/// - a leaver is archived with the departure date; rehired, the same Odoo
///   employee is unarchived and the date cleared (never a second one);
/// - on a first sync, employees Odoo already has are matched by employee
///   number or work email and linked, not created again.
///
/// Running it again with nothing changed in the HRIS writes nothing.
///
/// # Errors
///
/// The run failing as a whole (a system down past the retries, a store
/// that fails); employees that fail alone are in the dead-letter queue
/// and the summary.
///
/// # Example
///
/// The end-to-end test `a_rehire_unarchives_the_same_odoo_employee`
/// (`connectors/tests/it/workflows.rs`) runs it between the BambooHR fake
/// and the embedded Odoo; `examples/hris_to_odoo.rs` calls it:
///
/// ```no_run
/// # use std::sync::Arc;
/// # async fn demo(hris: Arc<odoo_integration_connectors::bamboohr::BambooHrConnector>, odoo: Arc<odoo_integration_connectors::odoo::OdooConnector>) -> Result<(), Box<dyn std::error::Error>> {
/// use odoo_integration_connectors::{workflows::people, MemoryStore};
/// use odoo_integration_model::Policy;
/// let policy = Policy::from_toml("[employee]\ndefault_owner = \"bamboohr\"\n[employee.fields]\nwork_email = \"odoo\"\n")?;
/// let run = people::hris_to_odoo(hris, odoo, Arc::new(MemoryStore::new()), &policy).await?;
/// println!("{run}");
/// # Ok(()) }
/// ```
pub async fn hris_to_odoo(
    hris: Arc<dyn Source<Employee>>,
    odoo: Arc<OdooConnector>,
    state: Arc<dyn SyncState>,
    policy: &Policy,
) -> Result<RunSummary> {
    let name = format!("{}→odoo/employee", hris.system());
    Pipeline::<Employee>::builder(name, hris, odoo, state)
        .policy(policy.clone())
        .build()?
        .run()
        .await
}

/// Every employee of two systems, read whole, paired as [`pair_employees`]
/// does: the HRIS and payroll, to find who is paid but not employed, or
/// employed but not paid, and what the two disagree on.
///
/// # Errors
///
/// Either system failing to read.
///
/// # Example
///
/// ```
/// # use std::sync::Arc;
/// use odoo_integration_connectors::{sources::VecSource, SourceChange, workflows::people::pair_sources};
/// use odoo_integration_model::{Employee, SystemId};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let e = |n: &str, mail: &str| Employee { employee_number: n.into(), work_email: Some(mail.into()), ..Default::default() };
/// let at = chrono::Utc::now();
/// let hris = VecSource::new(SystemId::bamboohr(), vec![
///     SourceChange::upsert("7", at, e("041", "ann@example.com")),
///     SourceChange::upsert("8", at, e("042", "bo@example.com")),
/// ]);
/// let payroll = VecSource::new(SystemId::gusto(), vec![SourceChange::upsert("u-1", at, e("041", "ann@example.com"))]);
/// let pairing = pair_sources(&hris, &payroll).await?;
/// assert_eq!(pairing.pairs.len(), 1);
/// assert_eq!(pairing.only_left.len(), 1, "employed but not paid");
/// # Ok(()) }
/// ```
pub async fn pair_sources(
    left: &dyn Source<Employee>,
    right: &dyn Source<Employee>,
) -> Result<Pairing> {
    let everyone = |changes: Vec<crate::connector::SourceChange<Employee>>| {
        changes
            .into_iter()
            .filter_map(|c| match c.operation {
                Operation::Upsert(e) => Some((c.remote_id, e)),
                Operation::Delete => None,
            })
            .collect::<Vec<_>>()
    };
    let (l, _) = read_to_end(left, None, 200).await?;
    let (r, _) = read_to_end(right, None, 200).await?;
    Ok(pair_employees(&everyone(l), &everyone(r)))
}

/// A field that differs between two paired employees.
///
/// # Example
///
/// See [`pair_employees`].
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// The canonical field.
    pub field: String,
    /// Its value on the left.
    pub left: FieldValue,
    /// Its value on the right.
    pub right: FieldValue,
}

/// Two records of one person.
///
/// # Example
///
/// See [`pair_employees`].
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// The id on the left.
    pub left: RemoteId,
    /// The id on the right.
    pub right: RemoteId,
    /// The keys they share (`work_email = ann@example.com`).
    pub reasons: Vec<String>,
    /// The compared fields that differ.
    pub differences: Vec<Difference>,
}

/// What pairing two lists of employees found.
///
/// # Example
///
/// See [`pair_employees`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pairing {
    /// One left record with one right record, each in one pair only.
    pub pairs: Vec<Pair>,
    /// Left records that pair with nothing.
    pub only_left: Vec<RemoteId>,
    /// Right records that pair with nothing.
    pub only_right: Vec<RemoteId>,
    /// Records that could be several people (a left one sharing keys with
    /// several right ones, or several left ones with the same right one):
    /// each left id with the right ids it could be. A person decides.
    pub ambiguous: Vec<(RemoteId, Vec<RemoteId>)>,
}

/// The fields compared between paired employees.
const COMPARED: [&str; 5] = [
    "name",
    "work_email",
    "employee_number",
    "job_title",
    "status",
];

/// Pairs `left`'s employees with `right`'s by employee number or work
/// email (normalised; [`match_keys_for`]`("employee")`, each decisive: two
/// records with different employee numbers are never one person), one to
/// one, and lists for each pair the fields that differ (name, work email,
/// employee number, job title, status). Employee numbers are decisive only
/// if both systems use the same numbers; if not, use
/// [`pair_employees_by`] with the work email alone.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::people::pair_employees;
/// use odoo_integration_model::{Employee, RemoteId};
/// let e = |name: &str, mail: &str| Employee { name: name.into(), work_email: Some(mail.into()), ..Default::default() };
/// let hris = [(RemoteId::new("7"), e("Ann Lee", "ann.lee@example.com")), (RemoteId::new("8"), e("Bo Lind", "bo@example.com"))];
/// let payroll = [(RemoteId::new("u-1"), e("Ann Lee-Park", "Ann.Lee@Example.com"))];
/// let p = pair_employees(&hris, &payroll);
/// assert_eq!((p.pairs[0].left.as_str(), p.pairs[0].right.as_str()), ("7", "u-1"));
/// assert_eq!(p.pairs[0].differences[0].field, "name");
/// assert_eq!(p.only_left, [RemoteId::new("8")]);
/// ```
pub fn pair_employees(left: &[(RemoteId, Employee)], right: &[(RemoteId, Employee)]) -> Pairing {
    pair_employees_by(left, right, &match_keys_for("employee"))
}

/// [`pair_employees`] by other keys: when the two systems number people
/// differently, pair by work email alone.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::people::pair_employees_by;
/// use odoo_integration_model::{Employee, MatchKey, Normalize, RemoteId};
/// let e = |n: &str| Employee { employee_number: n.into(), work_email: Some("ann@example.com".into()), ..Default::default() };
/// let by_email = [MatchKey::new("work_email", Normalize::Email).decisive()];
/// let p = pair_employees_by(&[(RemoteId::new("7"), e("041"))], &[(RemoteId::new("u-1"), e("A-7"))], &by_email);
/// assert_eq!(p.pairs.len(), 1);
/// assert_eq!(p.pairs[0].differences[0].field, "employee_number");
/// ```
pub fn pair_employees_by(
    left: &[(RemoteId, Employee)],
    right: &[(RemoteId, Employee)],
    keys: &[MatchKey],
) -> Pairing {
    let ids: Vec<CanonicalId> = right.iter().map(|_| CanonicalId::new()).collect();
    let position = |id: CanonicalId| ids.iter().position(|x| *x == id);
    // Left index → (right index, reasons), or every right index it could be.
    let mut unique: BTreeMap<usize, (usize, Vec<String>)> = BTreeMap::new();
    let mut several: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (l, (_, person)) in left.iter().enumerate() {
        let candidates = ids.iter().copied().zip(right.iter().map(|(_, e)| e));
        match propose_match(person, candidates, keys) {
            MatchOutcome::Unique(p) => {
                if let Some(r) = position(p.candidate) {
                    unique.insert(l, (r, p.reasons));
                }
            }
            MatchOutcome::Ambiguous(all) => {
                several.insert(
                    l,
                    all.iter().filter_map(|p| position(p.candidate)).collect(),
                );
            }
            MatchOutcome::NoMatch => {}
        }
    }
    // A right record claimed by several left ones pairs with none of them.
    let mut claims: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (l, (r, _)) in &unique {
        claims.entry(*r).or_default().push(*l);
    }
    for (r, ls) in claims.iter().filter(|(_, ls)| ls.len() > 1) {
        for l in ls {
            unique.remove(l);
            several.entry(*l).or_default().push(*r);
        }
    }
    let mut out = Pairing::default();
    let mut right_taken = vec![false; right.len()];
    out.only_left = left
        .iter()
        .enumerate()
        .filter(|(l, _)| !unique.contains_key(l) && !several.contains_key(l))
        .map(|(_, (id, _))| id.clone())
        .collect();
    for (l, (r, reasons)) in unique {
        right_taken[r] = true;
        out.pairs.push(Pair {
            left: left[l].0.clone(),
            right: right[r].0.clone(),
            reasons,
            differences: differences(&left[l].1, &right[r].1),
        });
    }
    for (l, rs) in several {
        for r in &rs {
            right_taken[*r] = true;
        }
        out.ambiguous.push((
            left[l].0.clone(),
            rs.iter().map(|r| right[*r].0.clone()).collect(),
        ));
    }
    out.only_right = right
        .iter()
        .zip(&right_taken)
        .filter(|(_, taken)| !**taken)
        .map(|((id, _), _)| id.clone())
        .collect();
    out
}

/// The compared fields that differ between two records of one person
/// (work emails compared without case).
fn differences(a: &Employee, b: &Employee) -> Vec<Difference> {
    COMPARED
        .iter()
        .filter_map(|f| {
            let (x, y) = (a.get(f)?, b.get(f)?);
            let same = match (&x, &y) {
                (FieldValue::Text(p), FieldValue::Text(q)) if *f == "work_email" => {
                    p.trim().eq_ignore_ascii_case(q.trim())
                }
                _ => x == y,
            };
            (!same).then(|| Difference {
                field: (*f).to_owned(),
                left: x,
                right: y,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(number: &str, name: &str, mail: Option<&str>) -> Employee {
        Employee {
            employee_number: number.into(),
            name: name.into(),
            work_email: mail.map(Into::into),
            ..Default::default()
        }
    }

    fn ids(list: &[RemoteId]) -> Vec<&str> {
        list.iter().map(RemoteId::as_str).collect()
    }

    #[test]
    fn pairs_by_number_or_email_one_to_one_and_reports_the_rest() {
        let id = RemoteId::new;
        let hris = [
            (id("1"), e("E-1", "Ann Lee", Some("ann@example.com"))),
            (id("2"), e("E-2", "Bo Lind", Some("bo@example.com"))),
            (id("3"), e("", "Cy Moss", Some("cy@example.com"))),
            (id("4"), e("E-4", "Di Noor", None)),
            (id("5"), e("E-5", "Ed Park", Some("shared@example.com"))),
            (id("6"), e("E-6", "Flo Quin", Some("shared@example.com"))),
        ];
        let payroll = [
            (id("a"), e("E-1", "Ann Lee", Some("ANN@example.com "))),
            // Bo's email, another employee number: not Bo.
            (id("b"), e("E-9", "Bo Lind", Some("bo@example.com"))),
            (id("c"), e("", "Cy Moss-Lane", Some("cy@example.com"))),
            (id("s"), e("", "Shared inbox", Some("shared@example.com"))),
            (id("z"), e("E-7", "Zed", None)),
        ];
        let p = pair_employees(&hris, &payroll);
        let pairs: Vec<(&str, &str)> = p
            .pairs
            .iter()
            .map(|x| (x.left.as_str(), x.right.as_str()))
            .collect();
        assert_eq!(pairs, [("1", "a"), ("3", "c")]);
        assert!(p.pairs[0].differences.is_empty(), "{:?}", p.pairs[0]);
        assert_eq!(p.pairs[1].differences.len(), 1);
        assert_eq!(p.pairs[1].differences[0].field, "name");
        // Two HRIS people claim one payroll record: a person decides.
        let doubt: Vec<(&str, Vec<&str>)> = p
            .ambiguous
            .iter()
            .map(|(l, rs)| (l.as_str(), ids(rs)))
            .collect();
        assert_eq!(doubt, [("5", vec!["s"]), ("6", vec!["s"])]);
        assert_eq!(ids(&p.only_left), ["2", "4"]);
        assert_eq!(ids(&p.only_right), ["b", "z"]);
    }
}
