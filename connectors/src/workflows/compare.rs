//! Two systems' records compared field by field: which pair, which exist
//! on one side only, which fields disagree. The report is the canonical
//! [`Reconciliation`] (CSV with [`Reconciliation::to_csv`], JSON with
//! serde, a table with [`table`](super::amounts::table)), the same as the
//! reconciliation of amounts.

use crate::connector::{Operation, Source, read_to_end};
use crate::error::Result;
use odoo_integration_model::{Entity, MatchKey, Reconciliation, reconcile};

/// Reads every record of `a` and `b` and reconciles them, paired by
/// `key` (a normalised match key: `Acme Corp.` and `ACME CORP` pair under
/// [`Normalize::Identifier`](odoo_integration_model::Normalize::Identifier)),
/// comparing `fields` (empty: every field). A record without a key is
/// listed on its side by its id, as `(no key) {id}`. It only reads: the
/// report for the day before a first sync, or for an audit.
///
/// # Errors
///
/// Either system failing to read.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{sources::VecSource, SourceChange, workflows::compare::reconcile_sources};
/// use odoo_integration_model::{ClientCompany, MatchKey, Normalize, SystemId};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let at = chrono::Utc::now();
/// let company = |name: &str, site: &str| ClientCompany { legal_name: name.into(), website: Some(site.into()), ..Default::default() };
/// let crm = VecSource::new(SystemId::hubspot(), vec![
///     SourceChange::upsert("1", at, company("ACME Corp.", "https://acme.example")),
///     SourceChange::upsert("2", at, company("Initech", "https://initech.example")),
/// ]);
/// let erp = VecSource::new(SystemId::odoo(), vec![SourceChange::upsert("7", at, company("Acme Corp", "https://acme.example.com"))]);
/// let key = MatchKey::new("legal_name", Normalize::Identifier);
/// let report = reconcile_sources(&crm, &erp, &key, &["website"]).await?;
/// assert_eq!(report.mismatched[0].field, "website");
/// assert_eq!(report.only_in_a, ["INITECH"]);
/// # Ok(()) }
/// ```
pub async fn reconcile_sources<E: Entity>(
    a: &dyn Source<E>,
    b: &dyn Source<E>,
    key: &MatchKey,
    fields: &[&str],
) -> Result<Reconciliation> {
    let a = keyed(a, key).await?;
    let b = keyed(b, key).await?;
    Ok(reconcile(&a, &b, fields))
}

/// Every record a source has now, keyed by `key`.
async fn keyed<E: Entity>(source: &dyn Source<E>, key: &MatchKey) -> Result<Vec<(String, E)>> {
    let (changes, _) = read_to_end(source, None, 200).await?;
    Ok(changes
        .into_iter()
        .filter_map(|change| match change.operation {
            Operation::Upsert(record) => {
                let k = key
                    .value_of(&record)
                    .unwrap_or_else(|| format!("(no key) {}", change.remote_id));
                Some((k, record))
            }
            Operation::Delete => None,
        })
        .collect())
}
