//! The fake's state: records, write rules, associations and the clock, and
//! the CRM operations over them. Nothing here knows HTTP: an operation
//! answers a status and a JSON body, or a [`Fail`] the server renders as
//! HubSpot's error body.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::owners::{OWNER_PROPERTY, Owners};
use super::pipelines::{self, Pipelines};

/// The search API refuses to page past this many results.
pub(super) const SEARCH_WALL: usize = 10_000;
/// The most associations a v4 batch read answers per object.
const ASSOCIATION_PAGE: usize = 500;

/// The most inputs a batch endpoint takes.
const BATCH_MAX: usize = 100;
/// Properties the fake maintains; writes to them are ignored.
const MAINTAINED: [&str; 4] = [
    "hs_object_id",
    "createdate",
    "hs_lastmodifieddate",
    "lastmodifieddate",
];

/// A request the fake refuses as a whole.
#[derive(Debug)]
pub(super) struct Fail {
    pub(super) status: u16,
    pub(super) category: &'static str,
    pub(super) message: String,
}

impl Fail {
    pub(super) fn invalid(message: impl Into<String>) -> Self {
        Fail {
            status: 400,
            category: "VALIDATION_ERROR",
            message: message.into(),
        }
    }
    pub(super) fn not_found(message: impl Into<String>) -> Self {
        Fail {
            status: 404,
            category: "OBJECT_NOT_FOUND",
            message: message.into(),
        }
    }
}

/// What an operation answers: a status and a body (`Null` for none).
pub(super) type Answer = Result<(u16, Value), Fail>;

/// HubSpot's name for an object type, from any of the names the API
/// accepts (`contact`, `contacts`, `0-1`, ...). Other names pass through
/// (lowercased), so custom objects work too.
pub(super) fn object_name(raw: &str) -> String {
    let lower = raw.to_ascii_lowercase();
    match lower.as_str() {
        "contact" | "contacts" | "0-1" => "contacts".into(),
        "company" | "companies" | "0-2" => "companies".into(),
        "deal" | "deals" | "0-3" => "deals".into(),
        "ticket" | "tickets" | "0-5" => "tickets".into(),
        "product" | "products" | "0-7" => "products".into(),
        "line_item" | "line_items" | "lineitem" | "lineitems" | "0-8" => "line_items".into(),
        _ => lower,
    }
}

/// An ISO 8601 UTC instant with milliseconds, as HubSpot writes them.
pub(super) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An instant given as epoch milliseconds, an ISO 8601 instant or a date.
fn instant_ms(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if let Ok(ms) = raw.parse::<i64>() {
        return Some(ms);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.timestamp_millis());
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

fn is_date_property(name: &str) -> bool {
    matches!(
        name,
        "createdate" | "hs_lastmodifieddate" | "lastmodifieddate" | "closedate" | "hs_createdate"
    ) || name.ends_with("date")
        || name.ends_with("_at")
}

/// Compares two property values the way HubSpot's search does: dates as
/// instants, numbers as numbers, the rest as text without case.
fn compare(property: &str, a: &str, b: &str) -> Ordering {
    if is_date_property(property)
        && let (Some(x), Some(y)) = (instant_ms(a), instant_ms(b))
    {
        return x.cmp(&y);
    }
    if let (Ok(x), Ok(y)) = (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    a.to_lowercase().cmp(&b.to_lowercase())
}

/// A property value ready to sort by: unset first, then instants (date
/// properties), numbers, text without case.
#[derive(Debug)]
enum SortKey {
    Unset,
    Instant(i64),
    Number(f64),
    Text(String),
}

impl SortKey {
    fn of(property: &str, value: Option<String>) -> Self {
        let Some(v) = value else {
            return SortKey::Unset;
        };
        if is_date_property(property)
            && let Some(ms) = instant_ms(&v)
        {
            return SortKey::Instant(ms);
        }
        match v.trim().parse::<f64>() {
            Ok(n) => SortKey::Number(n),
            Err(_) => SortKey::Text(v.to_lowercase()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            SortKey::Unset => 0,
            SortKey::Instant(_) => 1,
            SortKey::Number(_) => 2,
            SortKey::Text(_) => 3,
        }
    }

    fn cmp_with(&self, other: &SortKey) -> Ordering {
        match (self, other) {
            (SortKey::Instant(a), SortKey::Instant(b)) => a.cmp(b),
            (SortKey::Number(a), SortKey::Number(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// A stored record.
#[derive(Debug, Clone)]
pub(super) struct Record {
    pub(super) id: u64,
    pub(super) properties: BTreeMap<String, String>,
    pub(super) created: DateTime<Utc>,
    pub(super) updated: DateTime<Utc>,
    pub(super) archived_at: Option<DateTime<Utc>>,
}

impl Record {
    /// The maintained times, without parsing their text.
    fn instant(&self, property: &str) -> Option<i64> {
        match property {
            // Only the one the object has: a contact has no
            // `hs_lastmodifieddate`, so a search on it finds none.
            "hs_lastmodifieddate" | "lastmodifieddate"
                if self.properties.contains_key(property) =>
            {
                Some(self.updated.timestamp_millis())
            }
            "createdate" => Some(self.created.timestamp_millis()),
            _ => None,
        }
    }

    fn value(&self, property: &str) -> Option<String> {
        match property {
            "hs_object_id" | "id" => Some(self.id.to_string()),
            _ => self.properties.get(property).cloned(),
        }
    }
}

/// Which properties an answer shows.
enum Shown<'a> {
    /// The object's defaults (no `properties` asked).
    Default,
    /// These (unset ones as `null`).
    Listed(&'a [String]),
    /// What a write touched (unset ones as `""`).
    Written(&'a BTreeSet<String>),
}

/// The property that holds a record's last change: contacts have
/// `lastmodifieddate` and no `hs_lastmodifieddate`; every other object the
/// reverse.
pub(super) fn modified_property(object: &str) -> &'static str {
    if object == "contacts" {
        "lastmodifieddate"
    } else {
        "hs_lastmodifieddate"
    }
}

fn default_properties(object: &str) -> &'static [&'static str] {
    match object {
        "companies" => &["name", "domain"],
        "contacts" => &["firstname", "lastname", "email", "lastmodifieddate"],
        "deals" => &["dealname", "amount", "closedate", "pipeline", "dealstage"],
        "line_items" => &["name", "price", "quantity", "amount", "hs_product_id"],
        "products" => &["name", "price", "description"],
        "tickets" => &["subject", "content", "hs_pipeline", "hs_pipeline_stage"],
        _ => &[],
    }
}

/// A property change: `None` clears.
type Changes = BTreeMap<String, Option<String>>;

/// A property value from a request: HubSpot takes text, numbers and
/// booleans; an empty text or `null` clears the property.
fn property_value(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Null => Ok(None),
        other => Err(format!("a property value must be text, not `{other}`")),
    }
}

fn changes_of(properties: &Map<String, Value>) -> Result<Changes, String> {
    let mut out = Changes::new();
    for (name, value) in properties {
        if MAINTAINED.contains(&name.as_str()) {
            continue;
        }
        let v = property_value(value).map_err(|e| format!("{name}: {e}"))?;
        out.insert(name.clone(), v);
    }
    Ok(out)
}

/// Why one input of a batch failed.
struct InputError {
    category: &'static str,
    message: String,
    code: &'static str,
    property: Option<String>,
}

impl InputError {
    fn invalid(code: &'static str, property: &str, message: String) -> Self {
        // HubSpot nests the per-property errors as JSON in the message.
        let detail = json!([{
            "isValid": false,
            "message": message,
            "error": code,
            "name": property,
        }]);
        InputError {
            category: "VALIDATION_ERROR",
            message: format!("Property values were not valid: {detail}"),
            code,
            property: Some(property.to_owned()),
        }
    }

    fn plain(category: &'static str, code: &'static str, message: String) -> Self {
        InputError {
            category,
            message,
            code,
            property: None,
        }
    }

    /// The whole batch refused for this input, as HubSpot refuses a
    /// batch write: 409 for a conflict, else 400, nothing applied.
    fn whole(self) -> Fail {
        Fail {
            status: if self.category == "CONFLICT" {
                409
            } else {
                400
            },
            category: self.category,
            message: self.message,
        }
    }

    /// HubSpot's `StandardError` for this input; `context` names it.
    fn body(&self, context: Value) -> Value {
        let mut detail = json!({"message": self.message, "code": self.code});
        if let Some(p) = &self.property {
            detail["in"] = Value::String(p.clone());
        }
        json!({
            "status": "error",
            "category": self.category,
            "message": self.message,
            "context": context,
            "errors": [detail],
            "links": {},
        })
    }
}

// ------------------------------------------------------------ associations

/// The association types between two objects, one direction.
#[derive(Debug, Clone, Copy)]
struct PairTypes {
    unlabeled: u32,
    primary: Option<u32>,
}

/// HubSpot's default (HUBSPOT_DEFINED) type ids: (from, to, unlabeled,
/// primary), each with its inverse on the next line.
const DEFAULT_TYPES: [(&str, &str, u32, Option<u32>); 14] = [
    ("contacts", "companies", 279, Some(1)),
    ("companies", "contacts", 280, Some(2)),
    ("deals", "companies", 341, Some(5)),
    ("companies", "deals", 342, Some(6)),
    ("deals", "contacts", 3, None),
    ("contacts", "deals", 4, None),
    ("deals", "line_items", 19, None),
    ("line_items", "deals", 20, None),
    ("contacts", "tickets", 15, None),
    ("tickets", "contacts", 16, None),
    ("tickets", "companies", 339, Some(26)),
    ("companies", "tickets", 340, Some(25)),
    ("deals", "tickets", 27, None),
    ("tickets", "deals", 28, None),
];

/// Type ids for pairs HubSpot defines none for here are given out from
/// this number on, unlabeled then its inverse.
const FIRST_CUSTOM_TYPE: u32 = 1_000;

/// (from object, from id, to object) → to id → type ids.
type Links = BTreeMap<(String, u64, String), BTreeMap<u64, BTreeSet<u32>>>;

// ------------------------------------------------------------------ store

/// Records by object, the rules writes obey, associations and the clock.
#[derive(Debug)]
pub(super) struct Store {
    next_id: u64,
    tables: BTreeMap<String, BTreeMap<u64, Record>>,
    unique: BTreeMap<String, BTreeSet<String>>,
    required: BTreeMap<String, BTreeSet<String>>,
    rejects: Vec<(String, String, String)>,
    links: Links,
    types: BTreeMap<(String, String), PairTypes>,
    next_type: u32,
    pub(super) clock: DateTime<Utc>,
    pub(super) tick: TimeDelta,
    /// The most associations a v4 batch read answers per object before it
    /// pages (`paging.next.after`).
    pub(super) association_page: usize,
    /// The deal pipelines and their stages.
    pub(super) pipelines: Pipelines,
    /// The account's owners (`hubspot_owner_id`'s options).
    pub(super) owners: Owners,
    /// During a batch write: each record's state before its first change.
    journal: Option<Vec<(String, u64, Option<Record>)>>,
}

/// What a batch write changed, kept to undo it: the records as they were
/// before their first change (`None`: created by the write), so undoing
/// costs what the write touched, not the size of the account.
struct Saved {
    next_id: u64,
    records: Vec<(String, u64, Option<Record>)>,
    links: Links,
    clock: DateTime<Utc>,
}

impl Store {
    /// A batch write is applied whole or not at all: from here on, each
    /// record's state before its first change is kept, and put back when
    /// an input is refused.
    fn save(&mut self) -> Saved {
        self.journal = Some(Vec::new());
        Saved {
            next_id: self.next_id,
            records: Vec::new(),
            links: self.links.clone(),
            clock: self.clock,
        }
    }

    /// Ends the journal of a batch write that went through.
    fn keep(&mut self, _saved: Saved) {
        self.journal = None;
    }

    fn restore(&mut self, mut saved: Saved) {
        saved.records = self.journal.take().unwrap_or_default();
        // Newest first, so a record changed twice ends as it began.
        for (object, id, before) in saved.records.into_iter().rev() {
            let table = self.tables.entry(object).or_default();
            match before {
                Some(r) => {
                    table.insert(id, r);
                }
                None => {
                    table.remove(&id);
                }
            }
        }
        self.next_id = saved.next_id;
        self.links = saved.links;
        self.clock = saved.clock;
    }

    /// Notes a record's state before a change, when a batch write is on.
    fn journal(&mut self, object: &str, id: u64) {
        let Some(journal) = self.journal.as_mut() else {
            return;
        };
        let before = self.tables.get(object).and_then(|t| t.get(&id)).cloned();
        journal.push((object.to_owned(), id, before));
    }

    pub(super) fn new(clock: DateTime<Utc>, tick: TimeDelta, first_id: u64) -> Self {
        let mut unique = BTreeMap::new();
        // HubSpot keeps contact emails unique and upserts contacts by them.
        unique.insert("contacts".to_owned(), BTreeSet::from(["email".to_owned()]));
        Store {
            next_id: first_id,
            tables: BTreeMap::new(),
            unique,
            required: BTreeMap::new(),
            rejects: Vec::new(),
            links: Links::new(),
            types: DEFAULT_TYPES
                .iter()
                .map(|(f, t, u, p)| {
                    (
                        ((*f).to_owned(), (*t).to_owned()),
                        PairTypes {
                            unlabeled: *u,
                            primary: *p,
                        },
                    )
                })
                .collect(),
            next_type: FIRST_CUSTOM_TYPE,
            clock,
            tick,
            association_page: ASSOCIATION_PAGE,
            pipelines: Pipelines::new(),
            owners: Owners::new(),
            journal: None,
        }
    }

    /// The time of a write; the clock then moves on by the tick.
    fn stamp(&mut self) -> DateTime<Utc> {
        let t = self.clock;
        self.clock += self.tick;
        t
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.clock
    }

    // -------------------------------------------------------------- rules

    pub(super) fn add_unique(&mut self, object: &str, property: &str) {
        self.unique
            .entry(object_name(object))
            .or_default()
            .insert(property.to_owned());
    }

    pub(super) fn add_required(&mut self, object: &str, property: &str) {
        self.required
            .entry(object_name(object))
            .or_default()
            .insert(property.to_owned());
    }

    pub(super) fn add_reject(&mut self, object: &str, property: &str, value: &str) {
        self.rejects
            .push((object_name(object), property.to_owned(), value.to_owned()));
    }

    fn is_unique(&self, object: &str, property: &str) -> bool {
        property == "hs_object_id"
            || self
                .unique
                .get(object)
                .is_some_and(|set| set.contains(property))
    }

    /// Whether `changes` may be written to `existing` (a new record when
    /// `None`).
    fn check(
        &self,
        object: &str,
        existing: Option<&Record>,
        changes: &Changes,
    ) -> Result<(), InputError> {
        if let Some(required) = self.required.get(object) {
            for property in required {
                let missing = match (existing, changes.get(property)) {
                    (_, Some(None)) => true,
                    (_, Some(Some(_))) => false,
                    (None, None) => true,
                    (Some(_), None) => false,
                };
                if missing {
                    return Err(InputError::invalid(
                        "REQUIRED_FIELD",
                        property,
                        format!("{property} is required"),
                    ));
                }
            }
        }
        for (o, property, value) in &self.rejects {
            if o == object && changes.get(property).and_then(Option::as_deref) == Some(value) {
                return Err(InputError::invalid(
                    "INVALID_OPTION",
                    property,
                    format!("{value} is not a valid value for {property}"),
                ));
            }
        }
        if let Some(Some(owner)) = changes.get(OWNER_PROPERTY)
            && let Some(message) = self.owners.refuse(owner)
        {
            return Err(InputError::invalid(
                "INVALID_OPTION",
                OWNER_PROPERTY,
                message,
            ));
        }
        if Pipelines::has(object)
            && (changes.contains_key(pipelines::PIPELINE) || changes.contains_key(pipelines::STAGE))
        {
            let now = |p: &str| {
                changes
                    .get(p)
                    .cloned()
                    .unwrap_or_else(|| existing.and_then(|r| r.properties.get(p).cloned()))
            };
            let pipeline = now(pipelines::PIPELINE).unwrap_or_else(|| pipelines::DEFAULT.into());
            if let Some((property, message)) = self
                .pipelines
                .refuse(&pipeline, now(pipelines::STAGE).as_deref())
            {
                return Err(InputError::invalid("INVALID_OPTION", property, message));
            }
        }
        for (property, value) in changes {
            let Some(value) = value else { continue };
            if !self.is_unique(object, property) {
                continue;
            }
            if let Some(other) = self.find_by(object, property, value)
                && existing.is_none_or(|r| r.id != other)
            {
                return Err(InputError::plain(
                    "CONFLICT",
                    "CONFLICT",
                    format!(
                        "A {object} record already has the value {value} for the unique property {property}. Existing ID: {other}"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The live record whose unique `property` is `value`.
    fn find_by(&self, object: &str, property: &str, value: &str) -> Option<u64> {
        let table = self.tables.get(object)?;
        if property == "hs_object_id" {
            let id = value.parse::<u64>().ok()?;
            return table
                .get(&id)
                .filter(|r| r.archived_at.is_none())
                .map(|r| r.id);
        }
        table
            .values()
            .find(|r| {
                r.archived_at.is_none()
                    && r.properties.get(property).map(String::as_str) == Some(value)
            })
            .map(|r| r.id)
    }

    fn live(&self, object: &str, id: u64) -> Option<&Record> {
        self.tables
            .get(object)
            .and_then(|t| t.get(&id))
            .filter(|r| r.archived_at.is_none())
    }

    /// Writes `changes`: a new record when `id` is `None`. A write that
    /// changes nothing leaves the record (and its modification time) as it
    /// was. Returns the id.
    fn apply(&mut self, object: &str, id: Option<u64>, changes: &Changes) -> u64 {
        let modified = modified_property(object);
        match id {
            None => {
                let id = self.next_id;
                self.next_id += 1;
                let at = self.stamp();
                let mut properties: BTreeMap<String, String> = changes
                    .iter()
                    .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
                    .collect();
                if Pipelines::has(object) && !properties.contains_key(pipelines::PIPELINE) {
                    // A deal created without a pipeline goes in the default one.
                    properties.insert(pipelines::PIPELINE.into(), pipelines::DEFAULT.into());
                }
                properties.insert("hs_object_id".into(), id.to_string());
                properties.insert("createdate".into(), iso(at));
                self.journal(object, id);
                properties.insert(modified.into(), iso(at));
                self.tables.entry(object.to_owned()).or_default().insert(
                    id,
                    Record {
                        id,
                        properties,
                        created: at,
                        updated: at,
                        archived_at: None,
                    },
                );
                id
            }
            Some(id) => {
                let changed = self
                    .tables
                    .get(object)
                    .and_then(|t| t.get(&id))
                    .is_some_and(|r| {
                        changes
                            .iter()
                            .any(|(k, v)| r.properties.get(k) != v.as_ref())
                    });
                if !changed {
                    return id;
                }
                let at = self.stamp();
                self.journal(object, id);
                if let Some(r) = self.tables.get_mut(object).and_then(|t| t.get_mut(&id)) {
                    for (k, v) in changes {
                        match v {
                            Some(v) => r.properties.insert(k.clone(), v.clone()),
                            None => r.properties.remove(k),
                        };
                    }
                    r.properties.insert(modified.into(), iso(at));
                    r.updated = at;
                }
                id
            }
        }
    }

    // ------------------------------------------------------- direct access

    /// Seeds a record, bypassing the write rules.
    pub(super) fn insert(&mut self, object: &str, properties: BTreeMap<String, String>) -> u64 {
        let changes = properties
            .into_iter()
            .filter(|(k, _)| !MAINTAINED.contains(&k.as_str()))
            .map(|(k, v)| (k, (!v.is_empty()).then_some(v)))
            .collect();
        self.apply(&object_name(object), None, &changes)
    }

    /// Changes a record, bypassing the write rules. False when unknown.
    pub(super) fn update(
        &mut self,
        object: &str,
        id: u64,
        properties: BTreeMap<String, String>,
    ) -> bool {
        let object = object_name(object);
        if self.tables.get(&object).and_then(|t| t.get(&id)).is_none() {
            return false;
        }
        let changes = properties
            .into_iter()
            .filter(|(k, _)| !MAINTAINED.contains(&k.as_str()))
            .map(|(k, v)| (k, (!v.is_empty()).then_some(v)))
            .collect();
        self.apply(&object, Some(id), &changes);
        true
    }

    pub(super) fn get(&self, object: &str, id: u64) -> Option<&Record> {
        self.tables
            .get(&object_name(object))
            .and_then(|t| t.get(&id))
    }

    pub(super) fn all(&self, object: &str) -> Vec<Record> {
        self.tables
            .get(&object_name(object))
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Archives a record and drops its associations. False when unknown
    /// or archived already.
    pub(super) fn archive(&mut self, object: &str, id: u64) -> bool {
        let object = object_name(object);
        if self.live(&object, id).is_none() {
            return false;
        }
        let at = self.stamp();
        self.journal(&object, id);
        if let Some(r) = self.tables.get_mut(&object).and_then(|t| t.get_mut(&id)) {
            r.archived_at = Some(at);
        }
        self.unlink_all(&object, id);
        true
    }

    // ------------------------------------------------------ associations

    fn pair(&mut self, from: &str, to: &str) -> PairTypes {
        if let Some(p) = self.types.get(&(from.to_owned(), to.to_owned())) {
            return *p;
        }
        let forward = PairTypes {
            unlabeled: self.next_type,
            primary: None,
        };
        let inverse = PairTypes {
            unlabeled: self.next_type + 1,
            primary: None,
        };
        self.next_type += 2;
        self.types.insert((from.to_owned(), to.to_owned()), forward);
        if from != to {
            self.types.insert((to.to_owned(), from.to_owned()), inverse);
        }
        forward
    }

    /// The default (unlabeled) type id from `from` to `to`.
    pub(super) fn default_type(&mut self, from: &str, to: &str) -> u32 {
        self.pair(&object_name(from), &object_name(to)).unlabeled
    }

    /// The object a type id starting at `from` points to.
    fn type_target(&self, from: &str, type_id: u32) -> Option<String> {
        self.types
            .iter()
            .find(|((f, _), p)| f == from && (p.unlabeled == type_id || p.primary == Some(type_id)))
            .map(|((_, t), _)| t.clone())
    }

    fn is_primary(&self, type_id: u32) -> bool {
        self.types.values().any(|p| p.primary == Some(type_id))
    }

    /// Associates two records with `type_id` (from `from` to `to`), the
    /// unlabeled type, and the inverse types the other way. A primary type
    /// moves from any other record it was on.
    pub(super) fn link(&mut self, from: &str, from_id: u64, to: &str, to_id: u64, type_id: u32) {
        let forward = self.pair(from, to);
        let back = self.pair(to, from);
        let is_primary = forward.primary == Some(type_id);
        let inverse = if is_primary {
            back.primary.unwrap_or(back.unlabeled)
        } else {
            back.unlabeled
        };
        if is_primary {
            let others: Vec<u64> = self
                .links
                .get(&(from.to_owned(), from_id, to.to_owned()))
                .map(|m| m.keys().copied().filter(|k| *k != to_id).collect())
                .unwrap_or_default();
            for other in others {
                if let Some(set) = self
                    .links
                    .get_mut(&(from.to_owned(), from_id, to.to_owned()))
                    .and_then(|m| m.get_mut(&other))
                {
                    set.remove(&type_id);
                }
                if let Some(set) = self
                    .links
                    .get_mut(&(to.to_owned(), other, from.to_owned()))
                    .and_then(|m| m.get_mut(&from_id))
                {
                    set.remove(&inverse);
                }
            }
        }
        let there = self
            .links
            .entry((from.to_owned(), from_id, to.to_owned()))
            .or_default()
            .entry(to_id)
            .or_default();
        there.insert(forward.unlabeled);
        there.insert(type_id);
        let back_set = self
            .links
            .entry((to.to_owned(), to_id, from.to_owned()))
            .or_default()
            .entry(from_id)
            .or_default();
        back_set.insert(back.unlabeled);
        back_set.insert(inverse);
    }

    /// Removes every association between two records.
    pub(super) fn unlink(&mut self, from: &str, from_id: u64, to: &str, to_id: u64) {
        if let Some(m) = self
            .links
            .get_mut(&(from.to_owned(), from_id, to.to_owned()))
        {
            m.remove(&to_id);
        }
        if let Some(m) = self.links.get_mut(&(to.to_owned(), to_id, from.to_owned())) {
            m.remove(&from_id);
        }
    }

    fn unlink_all(&mut self, object: &str, id: u64) {
        let keys: Vec<(String, u64, String)> = self
            .links
            .keys()
            .filter(|(o, i, _)| o == object && *i == id)
            .cloned()
            .collect();
        for key in keys {
            if let Some(targets) = self.links.remove(&key) {
                for to_id in targets.keys() {
                    if let Some(m) = self
                        .links
                        .get_mut(&(key.2.clone(), *to_id, object.to_owned()))
                    {
                        m.remove(&id);
                    }
                }
            }
        }
    }

    /// The records associated with one, and the type ids, by id.
    pub(super) fn linked(&self, from: &str, from_id: u64, to: &str) -> Vec<(u64, Vec<u32>)> {
        self.links
            .get(&(object_name(from), from_id, object_name(to)))
            .map(|m| {
                m.iter()
                    .filter(|(_, types)| !types.is_empty())
                    .map(|(id, types)| (*id, types.iter().copied().collect()))
                    .collect()
            })
            .unwrap_or_default()
    }

    // ----------------------------------------------------------- answers

    fn to_json(&self, object: &str, r: &Record, shown: &Shown<'_>) -> Value {
        let mut props = Map::new();
        let mut put = |name: &str, null_as: Value| {
            let v = r.value(name).map_or(null_as, Value::String);
            props.insert(name.to_owned(), v);
        };
        match shown {
            Shown::Default => {
                for name in default_properties(object) {
                    if r.properties.contains_key(*name) {
                        put(name, Value::Null);
                    }
                }
            }
            Shown::Listed(names) => {
                for name in names.iter() {
                    put(name, Value::Null);
                }
            }
            Shown::Written(names) => {
                for name in names.iter() {
                    put(name, Value::String(String::new()));
                }
            }
        }
        for name in ["createdate", modified_property(object), "hs_object_id"] {
            put(name, Value::Null);
        }
        let mut out = json!({
            "id": r.id.to_string(),
            "properties": props,
            "createdAt": iso(r.created),
            "updatedAt": iso(r.updated),
            "archived": r.archived_at.is_some(),
        });
        if let Some(at) = r.archived_at {
            out["archivedAt"] = Value::String(iso(at));
        }
        out
    }

    fn batch_answer(&self, ok: u16, results: Vec<Value>, errors: Vec<Value>) -> (u16, Value) {
        let now = iso(self.now());
        let mut body = json!({
            "status": "COMPLETE",
            "results": results,
            "startedAt": now,
            "completedAt": now,
        });
        if errors.is_empty() {
            return (ok, body);
        }
        body["numErrors"] = json!(errors.len());
        body["errors"] = Value::Array(errors);
        (207, body)
    }

    // ------------------------------------------------------------- list

    /// `GET /crm/v3/objects/{object}`: by id, `after` being the next id.
    pub(super) fn list(
        &self,
        object: &str,
        limit: usize,
        after: Option<u64>,
        properties: Option<&[String]>,
        archived: bool,
        base: &str,
    ) -> Answer {
        let shown = properties.map_or(Shown::Default, Shown::Listed);
        let mut page: Vec<&Record> = Vec::new();
        let mut next = None;
        if let Some(table) = self.tables.get(object) {
            for r in table.range(after.unwrap_or(0)..).map(|(_, r)| r) {
                if r.archived_at.is_some() != archived {
                    continue;
                }
                if page.len() == limit {
                    next = Some(r.id);
                    break;
                }
                page.push(r);
            }
        }
        let results: Vec<Value> = page
            .iter()
            .map(|r| self.to_json(object, r, &shown))
            .collect();
        let mut body = json!({ "results": results });
        if let Some(next) = next {
            body["paging"] = json!({"next": {
                "after": next.to_string(),
                "link": format!("{base}/crm/v3/objects/{object}?limit={limit}&after={next}"),
            }});
        }
        Ok((200, body))
    }

    /// `GET /crm/v3/objects/{object}/{id}`.
    pub(super) fn read_one(
        &self,
        object: &str,
        id: &str,
        id_property: Option<&str>,
        properties: Option<&[String]>,
        archived: bool,
    ) -> Answer {
        let found = match id_property {
            Some(p) if p != "hs_object_id" => {
                if !self.is_unique(object, p) {
                    return Err(Fail::invalid(format!(
                        "{p} is not a unique property of {object}"
                    )));
                }
                self.find_by(object, p, id)
            }
            _ => id.parse::<u64>().ok(),
        }
        .and_then(|id| self.tables.get(object).and_then(|t| t.get(&id)))
        .filter(|r| r.archived_at.is_some() == archived);
        match found {
            Some(r) => {
                let shown = properties.map_or(Shown::Default, Shown::Listed);
                Ok((200, self.to_json(object, r, &shown)))
            }
            None => Err(Fail::not_found(format!(
                "resource not found: {object} {id}"
            ))),
        }
    }

    // ----------------------------------------------------------- search

    /// `POST /crm/v3/objects/{object}/search`.
    pub(super) fn search(&self, object: &str, body: &Value) -> Answer {
        let request: SearchRequest = decode(body)?;
        let limit = request.limit.unwrap_or(10);
        if limit == 0 || limit > 200 {
            return Err(Fail::invalid(format!(
                "limit must be between 1 and 200, not {limit}"
            )));
        }
        let after = match &request.after {
            None => 0,
            Some(a) if a.is_empty() => 0,
            Some(a) => a.parse::<usize>().map_err(|_| {
                Fail::invalid(format!("after `{a}` is not a paging token of this search"))
            })?,
        };
        if after + limit > SEARCH_WALL {
            return Err(Fail::invalid(format!(
                "Search results are limited to {SEARCH_WALL}: after ({after}) plus limit ({limit}) goes past them. Narrow the filters instead of paging further."
            )));
        }
        let groups = &request.filter_groups;
        let total_filters: usize = groups.iter().map(|g| g.filters.len()).sum();
        if groups.len() > 5 || groups.iter().any(|g| g.filters.len() > 6) || total_filters > 18 {
            return Err(Fail::invalid(
                "too many filters: at most 5 filterGroups of at most 6 filters, 18 in all",
            ));
        }
        for f in groups.iter().flat_map(|g| &g.filters) {
            f.validate()?;
        }
        let sort = match request.sorts.first() {
            None => None,
            Some(Value::String(s)) => Some(match s.strip_prefix('-') {
                Some(p) => (p.to_owned(), true),
                None => (s.clone(), false),
            }),
            Some(Value::Object(o)) => {
                let name = o
                    .get("propertyName")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Fail::invalid("a sort needs a propertyName"))?;
                let descending = match o.get("direction").and_then(Value::as_str) {
                    None | Some("ASCENDING") => false,
                    Some("DESCENDING") => true,
                    Some(d) => return Err(Fail::invalid(format!("unknown sort direction {d}"))),
                };
                Some((name.to_owned(), descending))
            }
            Some(other) => return Err(Fail::invalid(format!("not a sort: {other}"))),
        };
        let query = request.query.as_deref().map(str::to_lowercase);
        let mut found: Vec<&Record> = self
            .tables
            .get(object)
            .map(|t| {
                t.values()
                    .filter(|r| r.archived_at.is_none())
                    .filter(|r| {
                        groups.is_empty()
                            || groups
                                .iter()
                                .any(|g| g.filters.iter().all(|f| f.matches(r)))
                    })
                    .filter(|r| {
                        query.as_ref().is_none_or(|q| {
                            r.properties
                                .values()
                                .any(|v| v.to_lowercase().contains(q.as_str()))
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        if let Some((name, descending)) = &sort {
            // Each value is read once, not at every comparison.
            let mut keyed: Vec<(SortKey, &Record)> = found
                .into_iter()
                .map(|r| {
                    let key = match r.instant(name) {
                        Some(ms) => SortKey::Instant(ms),
                        None => SortKey::of(name, r.value(name)),
                    };
                    (key, r)
                })
                .collect();
            keyed.sort_by(|(ka, a), (kb, b)| {
                let order = ka.cmp_with(kb);
                let order = if *descending { order.reverse() } else { order };
                order.then(a.id.cmp(&b.id))
            });
            found = keyed.into_iter().map(|(_, r)| r).collect();
        }
        let shown = match &request.properties {
            Some(p) if !p.is_empty() => Shown::Listed(p),
            _ => Shown::Default,
        };
        let results: Vec<Value> = found
            .iter()
            .skip(after)
            .take(limit)
            .map(|r| self.to_json(object, r, &shown))
            .collect();
        let mut body = json!({"total": found.len(), "results": results});
        if after + limit < found.len() {
            body["paging"] = json!({"next": {"after": (after + limit).to_string()}});
        }
        Ok((200, body))
    }

    // ------------------------------------------------------------ batch

    /// `POST .../batch/read`.
    pub(super) fn batch_read(&self, object: &str, body: &Value, archived: bool) -> Answer {
        let request: BatchRead = decode(body)?;
        check_size(request.inputs.len())?;
        let by = request
            .id_property
            .as_deref()
            .filter(|p| *p != "hs_object_id");
        if let Some(p) = by
            && !self.is_unique(object, p)
        {
            return Err(Fail::invalid(format!(
                "{p} is not a unique property of {object}"
            )));
        }
        let shown = match &request.properties {
            Some(p) if !p.is_empty() => Shown::Listed(p),
            _ => Shown::Default,
        };
        let mut results = Vec::new();
        let mut missing = Vec::new();
        let mut seen = BTreeSet::new();
        for input in &request.inputs {
            let key = &input.id;
            let id = match by {
                Some(p) => self.tables.get(object).and_then(|t| {
                    t.values()
                        .find(|r| {
                            r.archived_at.is_some() == archived && r.properties.get(p) == Some(key)
                        })
                        .map(|r| r.id)
                }),
                None => key.parse::<u64>().ok(),
            };
            let record = id
                .and_then(|id| self.tables.get(object).and_then(|t| t.get(&id)))
                .filter(|r| r.archived_at.is_some() == archived);
            match record {
                Some(r) => {
                    if seen.insert(r.id) {
                        results.push(self.to_json(object, r, &shown));
                    }
                }
                None => missing.push(key.clone()),
            }
        }
        let errors = if missing.is_empty() {
            Vec::new()
        } else {
            vec![InputError::plain(
                "OBJECT_NOT_FOUND",
                "OBJECT_NOT_FOUND",
                format!("Could not get some {object} objects, they may be deleted or not exist. Check that ids are valid."),
            )
            .body(json!({"ids": missing}))]
        };
        Ok(self.batch_answer(200, results, errors))
    }

    /// `POST .../batch/create`: each input alone; a refused one is named
    /// by its index (and its `objectWriteTraceId`, when given).
    pub(super) fn batch_create(&mut self, object: &str, body: &Value) -> Answer {
        let request: BatchCreate = decode(body)?;
        check_size(request.inputs.len())?;
        let saved = self.save();
        let mut results = Vec::new();
        for input in &request.inputs {
            match self.create_one(object, input) {
                Ok((id, written)) => {
                    if let Some(r) = self.live(object, id) {
                        results.push(self.to_json(object, r, &Shown::Written(&written)));
                    }
                }
                Err(e) => {
                    self.restore(saved);
                    return Err(e.whole());
                }
            }
        }
        self.keep(saved);
        Ok(self.batch_answer(201, results, Vec::new()))
    }

    fn create_one(
        &mut self,
        object: &str,
        input: &CreateInput,
    ) -> Result<(u64, BTreeSet<String>), InputError> {
        let mut changes = changes_of(&input.properties)
            .map_err(|m| InputError::plain("VALIDATION_ERROR", "INVALID_INPUT", m))?;
        self.copy_product(object, &mut changes);
        self.check(object, None, &changes)?;
        let mut links = Vec::new();
        for a in &input.associations {
            let Some(to_id) = a.to.id.parse::<u64>().ok() else {
                return Err(InputError::plain(
                    "VALIDATION_ERROR",
                    "INVALID_ASSOCIATION",
                    format!("{} is not a record id", a.to.id),
                ));
            };
            for t in &a.types {
                let Some(to) = self.type_target(object, t.association_type_id) else {
                    return Err(InputError::plain(
                        "VALIDATION_ERROR",
                        "INVALID_ASSOCIATION",
                        format!(
                            "association type {} ({}) is not defined from {object}",
                            t.association_type_id, t.association_category
                        ),
                    ));
                };
                if self.live(&to, to_id).is_none() {
                    return Err(InputError::plain(
                        "VALIDATION_ERROR",
                        "INVALID_ASSOCIATION",
                        format!("cannot associate with {to} {to_id}: no such record"),
                    ));
                }
                links.push((to, to_id, t.association_type_id));
            }
        }
        let id = self.apply(object, None, &changes);
        for (to, to_id, t) in links {
            self.link(object, id, &to, to_id, t);
        }
        Ok((id, changes.keys().cloned().collect()))
    }

    /// A line item created from a product (`hs_product_id`) takes the
    /// product's name, price, SKU and description where the input gives
    /// none, as HubSpot copies them.
    fn copy_product(&self, object: &str, changes: &mut Changes) {
        if object != "line_items" {
            return;
        }
        let Some(product) = changes
            .get("hs_product_id")
            .cloned()
            .flatten()
            .and_then(|id| id.trim().parse::<u64>().ok())
            .and_then(|id| self.live("products", id))
        else {
            return;
        };
        for p in ["name", "price", "hs_sku", "description"] {
            if let Some(v) = product.properties.get(p)
                && !changes.contains_key(p)
            {
                changes.insert(p.to_owned(), Some(v.clone()));
            }
        }
    }

    /// `POST .../batch/update`.
    pub(super) fn batch_update(&mut self, object: &str, body: &Value) -> Answer {
        let request: BatchWrite = decode(body)?;
        check_size(request.inputs.len())?;
        check_distinct(request.inputs.iter().map(|i| i.id.as_str()))?;
        for input in &request.inputs {
            if let Some(p) = input.id_property.as_deref()
                && !self.is_unique(object, p)
            {
                return Err(Fail::invalid(format!(
                    "{p} is not a unique property of {object}"
                )));
            }
        }
        let saved = self.save();
        let mut results = Vec::new();
        let mut errors = Vec::new();
        let mut missing = Vec::new();
        for input in &request.inputs {
            let found = match input.id_property.as_deref() {
                Some(p) => self.find_by(object, p, &input.id),
                None => input
                    .id
                    .parse::<u64>()
                    .ok()
                    .filter(|id| self.live(object, *id).is_some()),
            };
            let Some(id) = found else {
                missing.push(input.id.clone());
                continue;
            };
            let outcome = changes_of(&input.properties)
                .map_err(|m| InputError::plain("VALIDATION_ERROR", "INVALID_INPUT", m))
                .and_then(|changes| {
                    self.check(object, self.live(object, id), &changes)?;
                    Ok(changes)
                });
            match outcome {
                Ok(changes) => {
                    self.apply(object, Some(id), &changes);
                    let written: BTreeSet<String> = changes.keys().cloned().collect();
                    if let Some(r) = self.live(object, id) {
                        results.push(self.to_json(object, r, &Shown::Written(&written)));
                    }
                }
                Err(e) => {
                    self.restore(saved);
                    return Err(e.whole());
                }
            }
        }
        if !missing.is_empty() {
            errors.push(
                InputError::plain(
                    "OBJECT_NOT_FOUND",
                    "OBJECT_NOT_FOUND",
                    format!("Could not update some {object}: no record with these ids"),
                )
                .body(json!({"ids": missing})),
            );
        }
        self.keep(saved);
        Ok(self.batch_answer(200, results, errors))
    }

    /// `POST .../batch/upsert`: by a unique property, `new` telling which
    /// were created.
    pub(super) fn batch_upsert(&mut self, object: &str, body: &Value) -> Answer {
        let request: BatchWrite = decode(body)?;
        check_size(request.inputs.len())?;
        for input in &request.inputs {
            match input.id_property.as_deref() {
                None => {
                    return Err(Fail::invalid(
                        "batch upsert needs an idProperty on every input",
                    ));
                }
                Some(p) if p == "hs_object_id" || !self.is_unique(object, p) => {
                    return Err(Fail::invalid(format!(
                        "{p} cannot be used as an idProperty for {object}: it is not a property with unique values"
                    )));
                }
                Some(_) => {}
            }
        }
        check_distinct(request.inputs.iter().map(|i| i.id.as_str()))?;
        let saved = self.save();
        let mut results = Vec::new();
        for input in &request.inputs {
            let property = input.id_property.clone().unwrap_or_default();
            let outcome = changes_of(&input.properties)
                .map_err(|m| InputError::plain("VALIDATION_ERROR", "INVALID_INPUT", m))
                .and_then(|mut changes| {
                    changes.insert(
                        property.clone(),
                        (!input.id.is_empty()).then(|| input.id.clone()),
                    );
                    let existing = self.find_by(object, &property, &input.id);
                    self.check(
                        object,
                        existing.and_then(|id| self.live(object, id)),
                        &changes,
                    )?;
                    Ok((existing, changes))
                });
            match outcome {
                Ok((existing, changes)) => {
                    let id = self.apply(object, existing, &changes);
                    let written: BTreeSet<String> = changes.keys().cloned().collect();
                    if let Some(r) = self.live(object, id) {
                        let mut v = self.to_json(object, r, &Shown::Written(&written));
                        v["new"] = Value::Bool(existing.is_none());
                        results.push(v);
                    }
                }
                Err(e) => {
                    self.restore(saved);
                    return Err(e.whole());
                }
            }
        }
        self.keep(saved);
        Ok(self.batch_answer(200, results, Vec::new()))
    }

    /// `POST .../batch/archive`: 204 whatever the ids.
    pub(super) fn batch_archive(&mut self, object: &str, body: &Value) -> Answer {
        let request: BatchIds = decode(body)?;
        check_size(request.inputs.len())?;
        for input in &request.inputs {
            if let Ok(id) = input.id.parse::<u64>() {
                self.archive(object, id);
            }
        }
        Ok((204, Value::Null))
    }

    // ------------------------------------------------- associations v4

    fn association_types(&self, types: &[u32]) -> Vec<Value> {
        types
            .iter()
            .map(|t| {
                json!({
                    "category": "HUBSPOT_DEFINED",
                    "typeId": t,
                    "label": if self.is_primary(*t) { Value::String("Primary".into()) } else { Value::Null },
                })
            })
            .collect()
    }

    /// `POST /crm/v4/associations/{from}/{to}/batch/read`.
    pub(super) fn associations_read(&self, from: &str, to: &str, body: &Value) -> Answer {
        let request: AssociationReads = decode(body)?;
        // Association reads take up to 1,000 ids.
        if request.inputs.len() > BATCH_MAX * 10 {
            return Err(Fail::invalid(format!(
                "Batch input size {} exceeds the limit of 1000 inputs",
                request.inputs.len()
            )));
        }
        let mut results = Vec::new();
        let mut errors = Vec::new();
        for input in &request.inputs {
            let linked = input
                .id
                .parse::<u64>()
                .ok()
                .filter(|id| self.live(from, *id).is_some())
                .map(|id| self.linked(from, id, to))
                .unwrap_or_default();
            if linked.is_empty() {
                errors.push(json!({
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                    "message": format!("No {to} is associated with {from} {}.", input.id),
                    "context": {"fromObjectId": [input.id]},
                    "errors": [],
                    "links": {},
                }));
                continue;
            }
            // One page per object; `after` (the offset here, opaque to
            // callers) asks for the next.
            let start = match input.after.as_deref().map(str::parse::<usize>) {
                None => 0,
                Some(Ok(n)) => n,
                Some(Err(_)) => {
                    return Err(Fail::invalid(format!(
                        "after `{}` is not a paging token this API gave",
                        input.after.as_deref().unwrap_or_default()
                    )));
                }
            };
            let page = self.association_page.max(1);
            let to_list: Vec<Value> = linked
                .iter()
                .skip(start)
                .take(page)
                .map(|(id, types)| {
                    json!({
                        "toObjectId": id.to_string(),
                        "associationTypes": self.association_types(types),
                    })
                })
                .collect();
            let mut row = json!({"from": {"id": input.id}, "to": to_list});
            if start + page < linked.len() {
                let after = (start + page).to_string();
                row["paging"] = json!({"next": {
                    "after": after,
                    "link": format!("/crm/v4/objects/{from}/{}/associations/{to}?after={after}", input.id),
                }});
            }
            results.push(row);
        }
        Ok(self.batch_answer(200, results, errors))
    }

    /// `POST /crm/v4/associations/{from}/{to}/batch/associate/default`.
    pub(super) fn associations_default(&mut self, from: &str, to: &str, body: &Value) -> Answer {
        let request: DefaultLinks = decode(body)?;
        check_size(request.inputs.len())?;
        let forward = self.default_type(from, to);
        let back = self.default_type(to, from);
        let mut results = Vec::new();
        let mut errors = Vec::new();
        for input in &request.inputs {
            let ids = (
                input.from.id.parse::<u64>().ok(),
                input.to.id.parse::<u64>().ok(),
            );
            match ids {
                (Some(a), Some(b))
                    if self.live(from, a).is_some() && self.live(to, b).is_some() =>
                {
                    self.link(from, a, to, b, forward);
                    for (f, t, type_id) in [(a, b, forward), (b, a, back)] {
                        results.push(json!({
                            "from": {"id": f.to_string()},
                            "to": {"id": t.to_string()},
                            "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id},
                        }));
                    }
                }
                _ => errors.push(
                    InputError::plain(
                        "VALIDATION_ERROR",
                        "OBJECT_NOT_FOUND",
                        format!(
                            "cannot associate {from} {} with {to} {}: no such record",
                            input.from.id, input.to.id
                        ),
                    )
                    .body(json!({"fromObjectId": [input.from.id], "toObjectId": [input.to.id]})),
                ),
            }
        }
        Ok(self.batch_answer(200, results, errors))
    }

    /// `POST /crm/v4/associations/{from}/{to}/batch/create`: associations
    /// with the types given (a label such as the primary one), plus the
    /// unlabeled one; a primary type moves off the record it was on, which
    /// keeps its unlabeled association. Applied whole or not at all.
    pub(super) fn associations_create(&mut self, from: &str, to: &str, body: &Value) -> Answer {
        let request: LabeledLinks = decode(body)?;
        check_size(request.inputs.len())?;
        let mut links = Vec::new();
        for input in &request.inputs {
            let ids = (
                input.from.id.parse::<u64>().ok(),
                input.to.id.parse::<u64>().ok(),
            );
            let (Some(a), Some(b)) = ids else {
                return Err(Fail::invalid(format!(
                    "{} or {} is not a record id",
                    input.from.id, input.to.id
                )));
            };
            if self.live(from, a).is_none() || self.live(to, b).is_none() {
                return Err(Fail::invalid(format!(
                    "cannot associate {from} {a} with {to} {b}: no such record"
                )));
            }
            for t in &input.types {
                if self.type_target(from, t.association_type_id).as_deref() != Some(to) {
                    return Err(Fail::invalid(format!(
                        "association type {} ({}) is not defined from {from} to {to}",
                        t.association_type_id, t.association_category
                    )));
                }
                links.push((a, b, t.association_type_id));
            }
        }
        let mut results = Vec::new();
        for (a, b, t) in links {
            self.link(from, a, to, b, t);
            results.push(json!({
                "fromObjectId": a,
                "toObjectId": b,
                "labels": if self.is_primary(t) { json!(["Primary"]) } else { json!([]) },
            }));
        }
        Ok(self.batch_answer(201, results, Vec::new()))
    }

    /// `POST /crm/v4/associations/{from}/{to}/batch/archive`: 204.
    pub(super) fn associations_archive(&mut self, from: &str, to: &str, body: &Value) -> Answer {
        let request: ArchiveLinks = decode(body)?;
        check_size(request.inputs.len())?;
        for input in &request.inputs {
            let Ok(a) = input.from.id.parse::<u64>() else {
                continue;
            };
            for t in &input.to {
                if let Ok(b) = t.id.parse::<u64>() {
                    self.unlink(from, a, to, b);
                }
            }
        }
        Ok((204, Value::Null))
    }
}

fn check_size(n: usize) -> Result<(), Fail> {
    if n > BATCH_MAX {
        return Err(Fail::invalid(format!(
            "Batch input size {n} exceeds the limit of {BATCH_MAX} inputs"
        )));
    }
    Ok(())
}

fn check_distinct<'a>(ids: impl Iterator<Item = &'a str>) -> Result<(), Fail> {
    let mut seen = BTreeSet::new();
    let duplicates: BTreeSet<&str> = ids.filter(|id| !seen.insert(*id)).collect();
    if duplicates.is_empty() {
        return Ok(());
    }
    Err(Fail::invalid(format!(
        "Duplicate IDs found in batch input: {duplicates:?}. IDs must be unique"
    )))
}

/// A request body as `T`, or HubSpot's 400 naming what is wrong.
fn decode<T: for<'de> Deserialize<'de>>(body: &Value) -> Result<T, Fail> {
    T::deserialize(body).map_err(|e| Fail::invalid(format!("Invalid input JSON: {e}")))
}

// ---------------------------------------------------------------- requests

/// An id given as text or as a number.
fn de_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "an id must be text or a number, not `{other}`"
        ))),
    }
}

/// A filter value given as text, a number or a boolean.
fn de_opt_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(serde::de::Error::custom(format!(
            "a filter value must be text, not `{other}`"
        ))),
    }
}

fn de_texts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let values = Vec::<Value>::deserialize(d)?;
    values
        .into_iter()
        .map(|v| match v {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(serde::de::Error::custom(format!(
                "a filter value must be text, not `{other}`"
            ))),
        })
        .collect()
}

#[derive(Deserialize)]
struct ObjectId {
    #[serde(deserialize_with = "de_id")]
    id: String,
}

#[derive(Deserialize)]
struct BatchIds {
    inputs: Vec<ObjectId>,
}

/// A v4 association batch read: ids, each with the page it wants.
#[derive(Deserialize)]
struct AssociationReads {
    inputs: Vec<AssociationRead>,
}

#[derive(Deserialize)]
struct AssociationRead {
    #[serde(deserialize_with = "de_id")]
    id: String,
    #[serde(default)]
    after: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchRead {
    #[serde(default)]
    properties: Option<Vec<String>>,
    #[serde(default)]
    id_property: Option<String>,
    inputs: Vec<ObjectId>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssociationSpec {
    #[serde(default)]
    association_category: String,
    association_type_id: u32,
}

#[derive(Deserialize)]
struct CreateAssociation {
    to: ObjectId,
    types: Vec<AssociationSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    #[serde(default)]
    properties: Map<String, Value>,
    #[serde(default)]
    associations: Vec<CreateAssociation>,
    // `objectWriteTraceId` is accepted and, as the batch is refused whole,
    // never needed to name an input.
}

#[derive(Deserialize)]
struct BatchCreate {
    inputs: Vec<CreateInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WriteInput {
    #[serde(deserialize_with = "de_id")]
    id: String,
    #[serde(default)]
    id_property: Option<String>,
    #[serde(default)]
    properties: Map<String, Value>,
}

#[derive(Deserialize)]
struct BatchWrite {
    inputs: Vec<WriteInput>,
}

#[derive(Deserialize)]
struct DefaultLink {
    from: ObjectId,
    to: ObjectId,
}

/// A v4 `batch/create` input: two records and the types to give them.
#[derive(Deserialize)]
struct LabeledLink {
    from: ObjectId,
    to: ObjectId,
    types: Vec<AssociationSpec>,
}

#[derive(Deserialize)]
struct LabeledLinks {
    inputs: Vec<LabeledLink>,
}

#[derive(Deserialize)]
struct DefaultLinks {
    inputs: Vec<DefaultLink>,
}

#[derive(Deserialize)]
struct ArchiveLink {
    from: ObjectId,
    #[serde(default)]
    to: Vec<ObjectId>,
}

#[derive(Deserialize)]
struct ArchiveLinks {
    inputs: Vec<ArchiveLink>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchRequest {
    #[serde(default)]
    filter_groups: Vec<FilterGroup>,
    #[serde(default)]
    sorts: Vec<Value>,
    #[serde(default)]
    properties: Option<Vec<String>>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default, deserialize_with = "de_opt_text")]
    after: Option<String>,
    #[serde(default)]
    query: Option<String>,
}

#[derive(Deserialize)]
struct FilterGroup {
    #[serde(default)]
    filters: Vec<Filter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    property_name: String,
    operator: String,
    #[serde(default, deserialize_with = "de_opt_text")]
    value: Option<String>,
    #[serde(default, deserialize_with = "de_opt_text")]
    high_value: Option<String>,
    #[serde(default, deserialize_with = "de_texts")]
    values: Vec<String>,
    /// `value` and `high_value` as instants, read once per search.
    #[serde(skip)]
    instants: std::cell::OnceCell<(Option<i64>, Option<i64>)>,
}

impl Filter {
    fn validate(&self) -> Result<(), Fail> {
        let needs_value = matches!(
            self.operator.as_str(),
            "EQ" | "NEQ" | "GT" | "GTE" | "LT" | "LTE" | "CONTAINS_TOKEN" | "NOT_CONTAINS_TOKEN"
        );
        match self.operator.as_str() {
            _ if needs_value && self.value.is_none() => Err(Fail::invalid(format!(
                "filter on {}: operator {} needs a value",
                self.property_name, self.operator
            ))),
            "BETWEEN" if self.value.is_none() || self.high_value.is_none() => {
                Err(Fail::invalid(format!(
                    "filter on {}: BETWEEN needs a value and a highValue",
                    self.property_name
                )))
            }
            "IN" | "NOT_IN" if self.values.is_empty() => Err(Fail::invalid(format!(
                "filter on {}: {} needs values",
                self.property_name, self.operator
            ))),
            "EQ" | "NEQ" | "GT" | "GTE" | "LT" | "LTE" | "BETWEEN" | "IN" | "NOT_IN"
            | "HAS_PROPERTY" | "NOT_HAS_PROPERTY" | "CONTAINS_TOKEN" | "NOT_CONTAINS_TOKEN" => {
                Ok(())
            }
            other => Err(Fail::invalid(format!("unknown filter operator {other}"))),
        }
    }

    fn matches(&self, r: &Record) -> bool {
        let name = self.property_name.as_str();
        let actual = r.value(name);
        // The maintained times compare without reading text.
        let own = r.instant(name);
        let instants = self.instants.get_or_init(|| {
            (
                self.value.as_deref().and_then(instant_ms),
                self.high_value.as_deref().and_then(instant_ms),
            )
        });
        let cmp = |with: &Option<String>, given: Option<i64>| -> Option<Ordering> {
            if let (Some(a), Some(b)) = (own, given) {
                return Some(a.cmp(&b));
            }
            Some(compare(name, actual.as_deref()?, with.as_deref()?))
        };
        let token = |with: &Option<String>| -> bool {
            let (Some(a), Some(t)) = (actual.as_deref(), with.as_deref()) else {
                return false;
            };
            let t = t.trim_matches('*').to_lowercase();
            a.to_lowercase().contains(&t)
        };
        let one_of = || {
            actual.as_deref().is_some_and(|a| {
                self.values
                    .iter()
                    .any(|v| compare(name, a, v) == Ordering::Equal)
            })
        };
        match self.operator.as_str() {
            "EQ" => cmp(&self.value, instants.0) == Some(Ordering::Equal),
            "NEQ" => cmp(&self.value, instants.0) != Some(Ordering::Equal),
            "GT" => cmp(&self.value, instants.0) == Some(Ordering::Greater),
            "GTE" => matches!(
                cmp(&self.value, instants.0),
                Some(Ordering::Greater | Ordering::Equal)
            ),
            "LT" => cmp(&self.value, instants.0) == Some(Ordering::Less),
            "LTE" => matches!(
                cmp(&self.value, instants.0),
                Some(Ordering::Less | Ordering::Equal)
            ),
            "BETWEEN" => {
                matches!(
                    cmp(&self.value, instants.0),
                    Some(Ordering::Greater | Ordering::Equal)
                ) && matches!(
                    cmp(&self.high_value, instants.1),
                    Some(Ordering::Less | Ordering::Equal)
                )
            }
            "IN" => one_of(),
            "NOT_IN" => !one_of(),
            "HAS_PROPERTY" => actual.is_some(),
            "NOT_HAS_PROPERTY" => actual.is_none(),
            "CONTAINS_TOKEN" => token(&self.value),
            "NOT_CONTAINS_TOKEN" => !token(&self.value),
            _ => false,
        }
    }
}
