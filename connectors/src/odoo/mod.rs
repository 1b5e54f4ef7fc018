//! The Odoo connector (feature `odoo`): canonical entities ⇄ Odoo 16–19
//! models over [`odoo_integration_client`].
//!
//! | entity | Odoo model | records | main fields |
//! |---|---|---|---|
//! | client | `res.partner` | `is_company = True`, not a `res.company`'s partner | legal_name→`name`, website, tax_id→`vat`, industry→`industry_id` (by name), billing_terms→`property_payment_term_id` (by name), address→`street`/`city`/`zip`/`country_id` (by ISO code) |
//! | contact | `res.partner` | `is_company = False`, not a user's partner | name, email, phone, client→`parent_id` |
//! | opportunity | `crm.lead` | `type = opportunity` | name, client→`partner_id`, amount→`expected_revenue`, close_date→`date_deadline` |
//! | engagement | `project.project` | all | name, client→`partner_id`, start→`date_start`, end→`date`, billable→`allow_billable`, manager→`user_id` (the user with that login) |
//! | contract | `sale.order` | all | reference→`client_order_ref`, client→`partner_id`, signed_on→`signed_on` (midnight UTC), lines→`order_line` (`sale.order.line`: description→`name`, quantity→`product_uom_qty`, unit_price→`price_unit` (left to Odoo's price list when empty), product→`product_id` (by `default_code`)) |
//! | timesheet_entry | `account.analytic.line` | `project_id != False` | date, hours→`unit_amount`, employee→`employee_id`, engagement→`project_id`, task→`name` |
//! | employee | `hr.employee` | all | employee_number→`barcode`, name, work_email, department→`department_id` (by name, created if missing), job_title, manager→`parent_id`, cost_rate→`hourly_cost`, status→`active` (terminated ⇄ archived), hire_date→`contract_date_start`, termination_date→`departure_date`, work_phone, work_calendar→`resource_calendar_id` (by name) |
//! | expense | `hr.expense` | all | employee→`employee_id`, date, amount→`total_amount`, description→`name` |
//! | invoice | `account.move` | `move_type = out_invoice` | number←`name` (read), client→`partner_id`, date→`invoice_date`, due→`invoice_date_due`, total←`amount_total` (read), lines→`invoice_line_ids` (`account.move.line`: description→`name`, quantity, unit_price→`price_unit`) |
//! | payment | `account.payment` (read only) | `payment_type = inbound` | amount, received_at←`date` |
//!
//! Every map is a [`ModelMap`] value: replace a field, add your own `x_`
//! fields, narrow the domain, or map your own entity, with
//! [`OdooConnector::with_map`].
//!
//! **Approval of timesheets.** Odoo Community has no approval field on
//! `account.analytic.line` (Enterprise's `timesheet_grid` adds the boolean
//! `validated`). The built-in map leaves `approval` unmapped (every line
//! reads as draft); map it to your database's boolean with
//! [`Conversion::approval_flag`] (`validated` on Enterprise, or a custom
//! `x_approved` added with Studio or a module on Community), or decide
//! approval by a rule of your own on the lines read (a locked period, a
//! manager's sign-off elsewhere).
//!
//! **Lines.** An invoice's or a contract's lines are one field
//! ([`Conversion::Rows`]): read with one extra read per page (each line's
//! canonical `id` is its Odoo id), written as a whole (the old lines are
//! removed and the new ones created in the same write), so a replay never
//! duplicates a line and the lines have one owner in the policy. Odoo
//! requires a product on a sale order line: give the contract map's lines
//! a service product for a real database:
//! `ModelMap::contract().line_default("lines", "product_id", 7)`. Lines can only be changed
//! while the document is a draft; Odoo refuses the write otherwise and the
//! record goes to the dead-letter queue with Odoo's message.
//!
//! **Reading.** Incremental by a `(write_date, id)` cursor, archived
//! records included (they come out as deletes). When the change feed is
//! exhausted, the ids of all records of the model are compared with those
//! seen before (kept in the cursor as id ranges), and records that
//! vanished come out as deletes too.
//!
//! **Writing.** Idempotent through external ids: a record from system `S`
//! with id `R` is `sync_S.<entity>_R` in `ir.model.data`, created together
//! with the record by Odoo's `load`-based upsert, so a replayed batch
//! updates instead of duplicating. Only the fields in
//! [`SinkRecord::fields`](crate::SinkRecord) are written. A delete archives
//! (`active = False`) where the model can be archived, and unlinks
//! otherwise.
//!
//! **Exactly once when a reply is lost.** Every write of the built-in maps
//! can be repeated after a dropped connection without a duplicate:
//!
//! - a new record, lines included (orders, invoices), is created with its
//!   external id in one `load` transaction, so a repeat finds it and
//!   writes instead (see
//!   [`UpsertByExternalId`](odoo_integration_client::UpsertByExternalId));
//! - an update writes the same values again, and lines are replaced as a
//!   whole (commands 5 then 0), so a repeat leaves one set;
//! - a delete archives or unlinks by id, which a repeat leaves as it is;
//! - a record created by a lookup (a department by name) is searched for
//!   by its key before it is created, so a repeat finds it. Two workers
//!   creating the same new name at the same moment can still make two.
//!
//! A map of your own whose values `load` cannot express (x2many commands
//! other than lines and links) falls back to create-then-register, which
//! is not exactly-once under a lost reply. The pipeline counts a record
//! whose create reply was lost, found on the retry, as created.

mod by_id;
mod errors;
mod locks;
mod mapping;
mod matching;
mod model_map;
mod read;
mod write;
mod xids;

pub use crate::mapping::{Conversion, FieldMap};
pub use matching::OdooMatcher;
pub use model_map::ModelMap;

use crate::connector::{Capabilities, Connector, Outcome, SinkRecord};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
pub(crate) use errors::convert;
pub(crate) use mapping::many2one_id;
use mapping::{LookupKey, OdooValue, to_odoo};
use odoo_integration_client::{Client, Domain, ExternalId, RetryPolicy};
use odoo_integration_model::{Currency, Entity, RemoteId, SystemId};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// The Odoo connector: a [`Source`](crate::Source) and a [`Sink`](crate::Sink)
/// for every mapped entity.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::odoo::{Conversion, ModelMap, OdooConnector};
/// use odoo_integration_connectors::{Operation, Sink, SinkRecord};
/// use odoo_integration_model::{CanonicalId, ClientCompany, RemoteId, SystemId};
/// # use odoo_integration_client::test_server::{Field, FieldKind as Kind, TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // The embedded Odoo (odoo-integration-client, feature `test-server`), with a custom field.
/// let server = TestServer::builder().field("res.partner", Field::new("x_sector", Kind::Char)).start().await?;
/// let client = server.client(odoo_integration_client::Protocol::Json2)?;
/// let odoo = OdooConnector::new(client)
///     .company_currency("EUR".parse()?)
///     .with_map(ModelMap::client().field("industry", "x_sector", Conversion::Text));
/// let acme = ClientCompany { legal_name: "Acme NV".into(), industry: Some("Consulting".into()), ..Default::default() };
/// let record = SinkRecord::new(CanonicalId::new(), SystemId::hubspot(), RemoteId::new("981"), Operation::Upsert(acme));
/// assert!(odoo.apply(vec![record]).await?[0].is_success());
/// let partners = server.records("res.partner")?;
/// assert!(partners.iter().any(|p| p["name"] == "Acme NV" && p["x_sector"] == "Consulting"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OdooConnector {
    /// The caller's handle, as given.
    client: Client,
    /// The handle the connector's own calls go through: by default without
    /// retries, as the pipeline that drives the connector retries.
    calls: Client,
    maps: Arc<HashMap<String, ModelMap>>,
    currency: Currency,
    /// `(model, key field, value) → id` of looked-up records.
    lookups: Arc<Mutex<LookupCache>>,
    /// External ids already checked for an id of an earlier version.
    adopted: Arc<xids::Checked>,
    /// External ids known to point at the record the sync linked them to.
    bound: Arc<xids::Checked>,
    /// The lock date fields the server has.
    lock_fields: Arc<locks::LockFields>,
}

type LookupCache = HashMap<(String, String, String), i64>;

impl OdooConnector {
    /// A connector with the built-in maps ([`ModelMap::defaults`]) and USD
    /// as the company currency.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::test_server::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = TestServer::start().await?; // the embedded Odoo, with demo data
    /// let client = server.client(odoo_integration_client::Protocol::Json2)?;
    /// use odoo_integration_connectors::Source;
    /// let odoo = odoo_integration_connectors::odoo::OdooConnector::new(client);
    /// let page = Source::<odoo_integration_model::ClientCompany>::read(&odoo, None, 100).await?;
    /// assert!(!page.changes.is_empty()); // the demo companies
    /// # Ok(()) }
    /// ```
    pub fn new(client: Client) -> Self {
        let maps = ModelMap::defaults()
            .into_iter()
            .map(|m| (m.entity.clone(), m))
            .collect();
        OdooConnector {
            calls: client.with_retry_policy(RetryPolicy::disabled()),
            client,
            maps: Arc::new(maps),
            currency: Currency::USD,
            lookups: Arc::new(Mutex::new(HashMap::new())),
            adopted: Arc::default(),
            bound: Arc::default(),
            lock_fields: Arc::default(),
        }
    }

    /// Adds or replaces the map of `map.entity`.
    ///
    /// # Example
    ///
    /// See [`OdooConnector`].
    #[must_use]
    pub fn with_map(mut self, map: ModelMap) -> Self {
        Arc::make_mut(&mut self.maps).insert(map.entity.clone(), map);
        self
    }

    /// How the connector's own calls (its reads and writes as a
    /// [`Source`](crate::Source) and a [`Sink`](crate::Sink)) are retried. Default: not at all,
    /// [`RetryPolicy::disabled`], because the [`Pipeline`](crate::Pipeline)
    /// that drives the connector retries by its own policy: one layer
    /// decides, so a failing call is not sent (client retries) × (pipeline
    /// retries) times. Set a policy when you use the connector on its own.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::test_server::{Fault, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{RetryPolicy, Source};
    /// use odoo_integration_connectors::odoo::OdooConnector;
    /// use odoo_integration_model::ClientCompany;
    /// let server = TestServer::start().await?;
    /// let client = server.client(odoo_integration_client::Protocol::Json2)?;
    /// let in_a_pipeline = OdooConnector::new(client.clone());
    /// server.inject(Fault::Status(503), 1);
    /// assert!(Source::<ClientCompany>::read(&in_a_pipeline, None, 10).await.is_err());
    ///
    /// let on_its_own = OdooConnector::new(client).retry_policy(RetryPolicy::new());
    /// server.inject(Fault::Status(503), 1);
    /// assert!(Source::<ClientCompany>::read(&on_its_own, None, 10).await.is_ok());
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.calls = self.client.with_retry_policy(policy);
        self
    }

    /// The currency of amounts whose record has no currency field.
    ///
    /// # Example
    ///
    /// See [`OdooConnector`].
    #[must_use]
    pub fn company_currency(mut self, currency: Currency) -> Self {
        self.currency = currency;
        self
    }

    /// The map of an entity.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::test_server::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = TestServer::start().await?; // the embedded Odoo, with demo data
    /// let client = server.client(odoo_integration_client::Protocol::Json2)?;
    /// # let odoo = odoo_integration_connectors::odoo::OdooConnector::new(client);
    /// assert_eq!(odoo.map("client").map(|m| m.model.as_str()), Some("res.partner"));
    /// assert!(odoo.map("spaceship").is_none());
    /// # Ok(()) }
    /// ```
    pub fn map(&self, entity: &str) -> Option<&ModelMap> {
        self.maps.get(entity)
    }

    /// The client as it was given, with its own retry policy, for calls of
    /// your own. The connector's calls go through a handle of it without
    /// retries (see [`retry_policy`](Self::retry_policy)).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::test_server::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = TestServer::start().await?; // the embedded Odoo, with demo data
    /// let client = server.client(odoo_integration_client::Protocol::Json2)?;
    /// # let odoo = odoo_integration_connectors::odoo::OdooConnector::new(client);
    /// use odoo_integration_client::Domain;
    /// let partners = odoo.client().model("res.partner");
    /// let all = partners.search_count(Domain::all()).send().await?;
    /// let companies = partners.search_count(Domain::field("is_company").eq(true)).send().await?;
    /// assert!(0 < companies && companies < all); // and their people
    /// # Ok(()) }
    /// ```
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The external id of a record from `origin` with id `remote`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_model::{RemoteId, SystemId};
    /// let x = odoo_integration_connectors::odoo::OdooConnector::external_id("client", &SystemId::hubspot(), &RemoteId::new("98-1"))?;
    /// // Escaped, never replaced: `98_1` would be `client_98__1`.
    /// assert_eq!(x.to_string(), "sync_hubspot.client_98_2d1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// Each part is escaped so that two ids never share an external id:
    /// ASCII letters and digits stay, `_` becomes `__`, any other byte
    /// `_` and two hex digits. Versions before 0.3 replaced those with `_`
    /// (`98-1` and `98_1` shared `client_98_1`); the sink renames such ids
    /// to the new form before it writes, so records are not created twice.
    ///
    /// # Errors
    ///
    /// None today: every entity, system and id escape to a valid external
    /// id ([`ConnectorErrorKind::Mapping`] is kept for a future rule).
    pub fn external_id(entity: &str, origin: &SystemId, remote: &RemoteId) -> Result<ExternalId> {
        xids::external_id(entity, origin, remote)
    }

    fn map_of<E: Entity>(&self) -> Result<&ModelMap> {
        self.maps.get(E::NAME).ok_or_else(|| {
            ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("no Odoo map for {}", E::NAME),
            )
            .with_system(SystemId::odoo())
        })
    }

    /// The key values of looked-up records in `rows` and in their lines
    /// (`children`), one read per looked-up field.
    async fn lookup_keys(
        &self,
        map: &ModelMap,
        rows: &[Map<String, Value>],
        children: &BTreeMap<(String, i64), Map<String, Value>>,
    ) -> Result<BTreeMap<(String, i64), String>> {
        let mut out = BTreeMap::new();
        let mut fields: Vec<(&FieldMap, Vec<&Map<String, Value>>)> = Vec::new();
        for f in &map.fields {
            match &f.conversion {
                Conversion::Lookup { .. } => fields.push((f, rows.iter().collect())),
                Conversion::Rows {
                    model,
                    fields: within,
                    ..
                } => {
                    let lines: Vec<&Map<String, Value>> = children
                        .iter()
                        .filter(|((m, _), _)| m == model)
                        .map(|(_, row)| row)
                        .collect();
                    for c in within {
                        if matches!(c.conversion, Conversion::Lookup { .. }) {
                            fields.push((c, lines.clone()));
                        }
                    }
                }
                _ => {}
            }
        }
        for (f, rows) in fields {
            let Conversion::Lookup { model, key, .. } = &f.conversion else {
                continue;
            };
            let ids: BTreeSet<i64> = rows
                .iter()
                .filter_map(|r| r.get(&f.vendor))
                .filter_map(many2one_id)
                .filter(|id| !out.contains_key(&(model.clone(), *id)))
                .collect();
            if ids.is_empty() {
                continue;
            }
            let rows = self
                .calls
                .model(model.as_str())
                .read(ids)
                .fields([key.as_str()])
                .send()
                .await
                .map_err(convert)?;
            for row in rows {
                if let (Some(id), Some(k)) = (
                    row.get("id").and_then(Value::as_i64),
                    row.get(key).and_then(Value::as_str),
                ) {
                    out.insert((model.clone(), id), k.to_owned());
                }
            }
        }
        Ok(out)
    }

    /// The lines of the records in `rows`, one read per lines field.
    async fn child_rows(
        &self,
        map: &ModelMap,
        rows: &[Map<String, Value>],
    ) -> Result<BTreeMap<(String, i64), Map<String, Value>>> {
        let mut out = BTreeMap::new();
        for f in &map.fields {
            let Conversion::Rows { model, fields, .. } = &f.conversion else {
                continue;
            };
            let ids: BTreeSet<i64> = rows
                .iter()
                .filter_map(|r| r.get(&f.vendor).and_then(Value::as_array))
                .flatten()
                .filter_map(Value::as_i64)
                .collect();
            if ids.is_empty() {
                continue;
            }
            let mut read: Vec<String> = fields
                .iter()
                .flat_map(FieldMap::sources)
                .map(str::to_owned)
                .collect();
            read.sort();
            read.dedup();
            // A line deleted since the first read is simply not returned.
            let found = self
                .calls
                .model(model.as_str())
                .search_read(Domain::field("id").is_in(ids.into_iter().collect::<Vec<_>>()))
                .fields(read)
                .send()
                .await
                .map_err(convert)?;
            for row in found {
                if let Some(id) = row.get("id").and_then(Value::as_i64) {
                    out.insert((model.clone(), id), row);
                }
            }
        }
        Ok(out)
    }

    /// The id of a looked-up record, creating it when allowed.
    async fn resolve_lookup(&self, l: &LookupKey) -> Result<i64> {
        let cache_key = (l.model.clone(), l.key.clone(), l.value.clone());
        if let Some(id) = self
            .lookups
            .lock()
            .ok()
            .and_then(|c| c.get(&cache_key).copied())
        {
            return Ok(id);
        }
        let model = self.calls.model(l.model.as_str());
        let ids = model
            .search(Domain::field(l.key.as_str()).eq(l.value.as_str()))
            .limit(2)
            .send()
            .await
            .map_err(convert)?;
        let id = match ids.as_slice() {
            [id] => *id,
            [] if l.create => {
                let mut values = Map::new();
                values.insert(l.key.clone(), Value::String(l.value.clone()));
                model.create(&values).send().await.map_err(convert)?
            }
            [] => {
                return Err(ConnectorError::new(
                    ConnectorErrorKind::Invalid,
                    format!("no {} with {} = `{}`", l.model, l.key, l.value),
                ));
            }
            _ => {
                return Err(ConnectorError::new(
                    ConnectorErrorKind::Ambiguous,
                    format!("several {} with {} = `{}`", l.model, l.key, l.value),
                ));
            }
        };
        if let Ok(mut c) = self.lookups.lock() {
            c.insert(cache_key, id);
        }
        Ok(id)
    }

    async fn values<E: Entity>(
        &self,
        map: &ModelMap,
        record: &SinkRecord<E>,
        data: &E,
    ) -> Result<Map<String, Value>> {
        let encoded = to_odoo(map, data, record.fields.as_deref(), &record.links)?;
        let mut values = Map::new();
        if record.fields.is_none() {
            values.extend(map.defaults.clone());
        }
        for (field, value) in encoded {
            let v = match value {
                OdooValue::Plain(v) => v,
                OdooValue::Lookup(l) => Value::from(self.resolve_lookup(&l).await?),
                OdooValue::Lines(mut commands, lookups) => {
                    for (at, field, l) in lookups {
                        let id = self.resolve_lookup(&l).await?;
                        if let Some(values) = commands
                            .get_mut(at)
                            .and_then(|c| c.get_mut(2))
                            .and_then(Value::as_object_mut)
                        {
                            values.insert(field, Value::from(id));
                        }
                    }
                    Value::Array(commands)
                }
            };
            values.insert(field, v);
        }
        Ok(values)
    }

    async fn delete_all(&self, map: &ModelMap, ids: &[(usize, i64)], out: &mut [Option<Outcome>]) {
        if ids.is_empty() {
            return;
        }
        let model = self.calls.model(map.model.as_str());
        let just_ids: Vec<i64> = ids.iter().map(|(_, id)| *id).collect();
        let result = match &map.archive_field {
            Some(active) => {
                let mut values = Map::new();
                values.insert(active.clone(), Value::Bool(false));
                model.write(just_ids, &values).allow_retry().send().await
            }
            None => model.unlink(just_ids).allow_retry().send().await,
        };
        for (i, id) in ids {
            out[*i] = Some(match &result {
                Ok(()) => Outcome::Deleted(RemoteId::new(id.to_string())),
                Err(e) => Outcome::Failed(convert(e.clone())),
            });
        }
    }
}

impl Connector for OdooConnector {
    fn system(&self) -> SystemId {
        SystemId::odoo()
    }

    fn capabilities(&self) -> Capabilities {
        let mut entities: Vec<&ModelMap> = self.maps.values().collect();
        entities.sort_by(|a, b| a.entity.cmp(&b.entity));
        Capabilities::new()
            .reads(entities.iter().map(|m| m.entity.clone()))
            .writes(
                entities
                    .iter()
                    .filter(|m| !m.read_only)
                    .map(|m| m.entity.clone()),
            )
            .incremental(true)
            .detects_deletes(true)
    }
}
