//! Query paging: `nextRecordsUrl` for a query's batches and for each
//! child sub-query answer that holds more children than a batch.
//!
//! As Salesforce: a sub-query answer with more than
//! [`set_child_page_size`](FakeSalesforce::set_child_page_size) children
//! (200 by default) comes as `{totalSize, done: false, nextRecordsUrl,
//! records}` inside its parent, and its own locator pages the rest. Asking
//! for the parent query's next batch invalidates the child locators of the
//! batches before it (SOAP API guide, `queryMore()`: "A queryMore() call on
//! a parent object invalidates all child cursors in the previous result
//! set"); they then answer 400 `INVALID_QUERY_LOCATOR`.

use super::{FakeSalesforce, Org, errors, raw};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

/// An open query locator.
pub(super) struct Locator {
    /// The rows still to hand out.
    rows: Vec<Box<RawValue>>,
    total: usize,
    /// The top-level query it belongs to.
    query: u64,
    /// For a parent's locator, the batch its next page is; for a child's,
    /// the parent batch its parent row came in.
    batch: usize,
    child: bool,
}

fn locator_name(org: &mut Org, offset: usize) -> String {
    org.next_id += 1;
    format!("01gFAKE{:011}-{offset}", org.next_id)
}

/// Pages `rows` at `size`; the rest goes to a new locator.
fn page_of(
    org: &mut Org,
    version: &str,
    mut rows: Vec<Box<RawValue>>,
    total: usize,
    size: usize,
    owner: (u64, usize, bool),
) -> Value {
    let rest = if rows.len() > size {
        rows.split_off(size)
    } else {
        Vec::new()
    };
    let mut answer = json!({"totalSize": total, "done": rest.is_empty(), "records": rows});
    if !rest.is_empty() {
        let locator = locator_name(org, total - rest.len());
        answer["nextRecordsUrl"] =
            Value::String(format!("/services/data/{version}/query/{locator}"));
        let (query, batch, child) = owner;
        org.cursors.insert(
            locator,
            Locator {
                rows: rest,
                total,
                query,
                batch,
                child,
            },
        );
    }
    answer
}

/// Pages each long sub-query answer of `rows` (a query's rows, in order).
fn page_children(
    org: &mut Org,
    version: &str,
    query: u64,
    rows: Vec<Box<RawValue>>,
) -> Vec<Box<RawValue>> {
    let batch_size = org.page_size.max(1);
    let child_size = org.child_page_size.max(1);
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.into_iter().enumerate() {
        let Ok(mut fields) = serde_json::from_str::<Map<String, Value>>(row.get()) else {
            out.push(row);
            continue;
        };
        let mut changed = false;
        for value in fields.values_mut() {
            let Some(children) = value
                .get("records")
                .and_then(Value::as_array)
                .filter(|r| r.len() > child_size)
            else {
                continue;
            };
            let children: Vec<Box<RawValue>> = children.iter().map(raw).collect();
            let total = children.len();
            *value = page_of(
                org,
                version,
                children,
                total,
                child_size,
                (query, i / batch_size, true),
            );
            changed = true;
        }
        out.push(if changed {
            raw(&Value::Object(fields))
        } else {
            row
        });
    }
    out
}

/// The first batch of a top-level query's rows.
pub(super) fn first_page(
    org: &mut Org,
    version: &str,
    rows: Vec<Box<RawValue>>,
    total: usize,
) -> Value {
    org.next_id += 1;
    let query = org.next_id;
    let rows = page_children(org, version, query, rows);
    let size = org.page_size.max(1);
    page_of(org, version, rows, total, size, (query, 1, false))
}

/// `GET query/{locator}`: the next batch of a query or of a sub-query
/// answer.
pub(super) fn query_more(org: &mut Org, version: &str, locator: &str) -> (u16, Value) {
    let Some(open) = org.cursors.remove(locator) else {
        return (
            400,
            errors("INVALID_QUERY_LOCATOR", "invalid query locator"),
        );
    };
    if open.child {
        let size = org.child_page_size.max(1);
        let owner = (open.query, open.batch, true);
        return (
            200,
            page_of(org, version, open.rows, open.total, size, owner),
        );
    }
    // The parent moves on: the child locators of its earlier batches die.
    org.cursors
        .retain(|_, l| !(l.child && l.query == open.query && l.batch < open.batch));
    let size = org.page_size.max(1);
    let owner = (open.query, open.batch + 1, false);
    (
        200,
        page_of(org, version, open.rows, open.total, size, owner),
    )
}

impl FakeSalesforce {
    /// The most children a sub-query answer holds before it pages by its
    /// own `nextRecordsUrl` (default 200; at least 1). See the
    /// [module docs](super) for what invalidates those locators.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_connectors::salesforce::{ConnectedApp, SalesforceConnector};
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # use odoo_integration_connectors::Operation;
    /// # use odoo_integration_model::Opportunity;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// # sf.allow_client("k", "s");
    /// # let conn = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s")).login_url(sf.url()).build()?;
    /// // `conn`: a SalesforceConnector signing in to `sf`.
    /// sf.set_child_page_size(2);
    /// let deal = sf.insert("Opportunity", serde_json::json!({"Name": "Rollout", "StageName": "Prospecting", "CloseDate": "2026-12-31"}));
    /// for n in 0..5 {
    ///     sf.insert("OpportunityLineItem", serde_json::json!({"OpportunityId": deal, "Description": format!("Line {n}"), "Quantity": 1, "UnitPrice": 10}));
    /// }
    /// let page = Source::<Opportunity>::read(&conn, None, 10).await?;
    /// let Operation::Upsert(rollout) = &page.changes[0].operation else { panic!("a delete") };
    /// assert_eq!(rollout.lines.len(), 5);
    /// assert_eq!(sf.requests().iter().filter(|r| r.contains("/query/")).count(), 2); // 2 + 2 + 1
    /// # Ok(()) }
    /// ```
    pub fn set_child_page_size(&self, n: usize) {
        self.shared.org().child_page_size = n.max(1);
    }
}
