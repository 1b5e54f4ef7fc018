//! Field-level diffs between versions, and reconciliation between two systems' sets.

use crate::entities::{Invoice, InvoiceLine};
use crate::field::{Entity, FieldError, FieldValue};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One changed field.
///
/// # Example
/// ```
/// # use odoo_integration_model::{FieldChange, FieldValue};
/// let c = FieldChange { field: "industry".into(), old: FieldValue::Null, new: FieldValue::Text("IT".into()) };
/// assert_eq!(c.field, "industry");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Field.
    pub field: String,
    /// Value in the old version.
    pub old: FieldValue,
    /// Value in the new version.
    pub new: FieldValue,
}

/// The fields that differ between two versions of a record, in field order.
///
/// # Example
/// ```
/// use odoo_integration_model::{diff, apply, ClientCompany};
/// let a = ClientCompany { legal_name: "Acme".into(), ..Default::default() };
/// let b = ClientCompany { legal_name: "Acme NV".into(), ..a.clone() };
/// let d = diff(&a, &b);
/// assert_eq!(d.len(), 1);
/// assert_eq!(apply(&d, &a)?, b);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn diff<E: Entity>(old: &E, new: &E) -> Vec<FieldChange> {
    E::FIELDS
        .iter()
        .filter_map(|f| {
            let (o, n) = (old.get(f)?, new.get(f)?);
            (o != n).then(|| FieldChange {
                field: (*f).to_owned(),
                old: o,
                new: n,
            })
        })
        .collect()
}

/// Applies a diff to a record, giving the new version.
///
/// # Errors
/// [`FieldError`] if a change names an unknown field or has the wrong kind.
///
/// # Example
/// ```
/// # use odoo_integration_model::{apply, diff, Employee};
/// let a = Employee::default();
/// let b = Employee { job_title: Some("Consultant".into()), ..a.clone() };
/// assert_eq!(apply(&diff(&a, &b), &a)?, b);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn apply<E: Entity>(changes: &[FieldChange], record: &E) -> Result<E, FieldError> {
    let mut out = record.clone();
    for c in changes {
        out.set(&c.field, c.new.clone())?;
    }
    Ok(out)
}

/// The diff of an invoice: header fields and lines keyed by line id.
///
/// # Example
/// ```
/// use odoo_integration_model::{Invoice, InvoiceDiff, InvoiceLine};
/// let a = Invoice { lines: vec![InvoiceLine { id: "1".into(), ..Default::default() }], ..Default::default() };
/// let mut b = a.clone();
/// b.lines[0].description = "Consulting".into();
/// b.lines.push(InvoiceLine { id: "2".into(), ..Default::default() });
/// let d = InvoiceDiff::between(&a, &b);
/// assert_eq!(d.added.len(), 1);
/// assert_eq!(d.changed["1"].len(), 1);
/// assert_eq!(d.apply(&a)?, b);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InvoiceDiff {
    /// Header field changes.
    pub header: Vec<FieldChange>,
    /// New lines.
    pub added: Vec<InvoiceLine>,
    /// Ids of removed lines.
    pub removed: Vec<String>,
    /// Changed lines: line id -> field changes.
    pub changed: BTreeMap<String, Vec<FieldChange>>,
    /// The line ids of the new version, in order.
    pub order: Vec<String>,
}

impl InvoiceDiff {
    /// The diff from `old` to `new`.
    ///
    /// # Example
    /// ```
    /// let i = odoo_integration_model::Invoice::default();
    /// assert!(odoo_integration_model::InvoiceDiff::between(&i, &i).is_empty());
    /// ```
    pub fn between(old: &Invoice, new: &Invoice) -> Self {
        let old_lines: HashMap<&str, &InvoiceLine> =
            old.lines.iter().map(|l| (l.id.as_str(), l)).collect();
        let new_ids: std::collections::HashSet<&str> =
            new.lines.iter().map(|l| l.id.as_str()).collect();
        let mut d = InvoiceDiff {
            header: diff(old, new),
            order: new.lines.iter().map(|l| l.id.clone()).collect(),
            ..Default::default()
        };
        for l in &new.lines {
            match old_lines.get(l.id.as_str()) {
                None => d.added.push(l.clone()),
                Some(o) => {
                    let c = diff(*o, l);
                    if !c.is_empty() {
                        d.changed.insert(l.id.clone(), c);
                    }
                }
            }
        }
        d.removed = old
            .lines
            .iter()
            .filter(|l| !new_ids.contains(l.id.as_str()))
            .map(|l| l.id.clone())
            .collect();
        d
    }

    /// Whether nothing changed (including line order).
    ///
    /// # Example
    /// ```
    /// assert!(odoo_integration_model::InvoiceDiff::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.header.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
    }

    /// Applies the diff to `old`.
    ///
    /// # Errors
    /// [`FieldError`] for an unknown field, or [`FieldError::UnknownField`]
    /// naming `lines.<id>` when the diff refers to a line `old` lacks.
    ///
    /// # Example
    /// ```
    /// let i = odoo_integration_model::Invoice::default();
    /// assert_eq!(odoo_integration_model::InvoiceDiff::between(&i, &i).apply(&i)?, i);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn apply(&self, old: &Invoice) -> Result<Invoice, FieldError> {
        let mut out = apply(&self.header, old)?;
        let mut lines: HashMap<String, InvoiceLine> = old
            .lines
            .iter()
            .filter(|l| !self.removed.contains(&l.id))
            .map(|l| (l.id.clone(), l.clone()))
            .collect();
        for (id, changes) in &self.changed {
            let line = lines.get_mut(id).ok_or_else(|| FieldError::UnknownField {
                entity: Invoice::NAME,
                field: format!("lines.{id}"),
            })?;
            *line = apply(changes, line)?;
        }
        for l in &self.added {
            lines.insert(l.id.clone(), l.clone());
        }
        out.lines = self
            .order
            .iter()
            .map(|id| {
                lines.remove(id).ok_or_else(|| FieldError::UnknownField {
                    entity: Invoice::NAME,
                    field: format!("lines.{id}"),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(out)
    }
}

/// A field that differs between the two sides of a matched pair.
///
/// # Example
/// ```
/// # use odoo_integration_model::{FieldValue, Mismatch};
/// let m = Mismatch { key: "k".into(), field: "legal_name".into(), a: FieldValue::Null, b: FieldValue::Null };
/// assert_eq!(m.key, "k");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    /// The match key value.
    pub key: String,
    /// Field.
    pub field: String,
    /// Value in A.
    pub a: FieldValue,
    /// Value in B.
    pub b: FieldValue,
}

/// The reconciliation of two sets. Keys are sorted, so reconciling B against
/// A gives the mirror image of A against B.
///
/// # Example
/// ```
/// use odoo_integration_model::{reconcile, ClientCompany};
/// let a = vec![("1".to_string(), ClientCompany { legal_name: "Acme".into(), ..Default::default() })];
/// let b = vec![("1".to_string(), ClientCompany { legal_name: "ACME".into(), ..Default::default() }),
///              ("2".to_string(), ClientCompany::default())];
/// let r = reconcile(&a, &b, &[]);
/// assert_eq!(r.only_in_b, vec!["2".to_string()]);
/// assert_eq!(r.mismatched[0].field, "legal_name");
/// assert!(r.to_csv().starts_with("status,key,field,a,b\n"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reconciliation {
    /// Keys present on both sides with equal compared fields.
    pub matched: Vec<String>,
    /// Keys only in A.
    pub only_in_a: Vec<String>,
    /// Keys only in B.
    pub only_in_b: Vec<String>,
    /// Differing fields of keys present on both sides.
    pub mismatched: Vec<Mismatch>,
    /// Keys that occur more than once on a side (first occurrence used).
    pub duplicate_keys: Vec<String>,
}

impl Reconciliation {
    /// The report as CSV: `status,key,field,a,b`, one row per key or mismatched field.
    ///
    /// # Example
    /// ```
    /// let r = odoo_integration_model::Reconciliation { only_in_a: vec!["x,1".into()], ..Default::default() };
    /// assert_eq!(r.to_csv(), "status,key,field,a,b\nonly_in_a,\"x,1\",,,\n");
    /// ```
    pub fn to_csv(&self) -> String {
        fn esc(s: &str) -> String {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        }
        let mut out = String::from("status,key,field,a,b\n");
        for (status, keys) in [
            ("matched", &self.matched),
            ("only_in_a", &self.only_in_a),
            ("only_in_b", &self.only_in_b),
            ("duplicate_key", &self.duplicate_keys),
        ] {
            for k in keys {
                out.push_str(&format!("{status},{},,,\n", esc(k)));
            }
        }
        for m in &self.mismatched {
            out.push_str(&format!(
                "mismatched,{},{},{},{}\n",
                esc(&m.key),
                esc(&m.field),
                esc(&m.a.to_string()),
                esc(&m.b.to_string())
            ));
        }
        out
    }

    /// The same report seen from the other side.
    ///
    /// # Example
    /// ```
    /// let r = odoo_integration_model::Reconciliation { only_in_a: vec!["1".into()], ..Default::default() };
    /// assert_eq!(r.mirror().only_in_b, vec!["1".to_string()]);
    /// ```
    pub fn mirror(&self) -> Self {
        Reconciliation {
            matched: self.matched.clone(),
            only_in_a: self.only_in_b.clone(),
            only_in_b: self.only_in_a.clone(),
            mismatched: self
                .mismatched
                .iter()
                .map(|m| Mismatch {
                    key: m.key.clone(),
                    field: m.field.clone(),
                    a: m.b.clone(),
                    b: m.a.clone(),
                })
                .collect(),
            duplicate_keys: self.duplicate_keys.clone(),
        }
    }
}

/// Reconciles two keyed sets. The key is whatever joins the systems: a
/// cross-reference (remote id) or a normalised match key (see
/// [`MatchKey::value_of`](crate::MatchKey::value_of)). `fields` limits the
/// comparison; empty compares every field.
///
/// Runs in O(n log n) (hash join, then sorting keys for a stable report).
///
/// # Example
/// ```
/// use odoo_integration_model::{reconcile, ClientCompany};
/// let a = vec![("k".to_string(), ClientCompany::default())];
/// let r = reconcile(&a, &a, &["legal_name"]);
/// assert_eq!(r.matched, vec!["k".to_string()]);
/// ```
pub fn reconcile<E: Entity>(
    a: &[(String, E)],
    b: &[(String, E)],
    fields: &[&str],
) -> Reconciliation {
    let fields: &[&str] = if fields.is_empty() { E::FIELDS } else { fields };
    let mut dup = std::collections::BTreeSet::new();
    let mut index_b: HashMap<&str, &E> = HashMap::with_capacity(b.len());
    for (k, e) in b {
        if index_b.insert(k.as_str(), e).is_some() {
            dup.insert(k.clone());
        }
        // Keep the first occurrence.
    }
    for (k, e) in b.iter().rev() {
        index_b.insert(k.as_str(), e);
    }
    let mut seen_a: HashMap<&str, ()> = HashMap::with_capacity(a.len());
    let mut r = Reconciliation::default();
    for (k, ea) in a {
        if seen_a.insert(k.as_str(), ()).is_some() {
            dup.insert(k.clone());
            continue;
        }
        match index_b.get(k.as_str()) {
            None => r.only_in_a.push(k.clone()),
            Some(eb) => {
                let before = r.mismatched.len();
                for f in fields {
                    let (va, vb) = (ea.get(f), eb.get(f));
                    if va != vb {
                        r.mismatched.push(Mismatch {
                            key: k.clone(),
                            field: (*f).to_owned(),
                            a: va.unwrap_or(FieldValue::Null),
                            b: vb.unwrap_or(FieldValue::Null),
                        });
                    }
                }
                if r.mismatched.len() == before {
                    r.matched.push(k.clone());
                }
            }
        }
    }
    r.only_in_b = index_b
        .keys()
        .filter(|k| !seen_a.contains_key(*k))
        .map(|k| (*k).to_owned())
        .collect();
    r.matched.sort_unstable();
    r.only_in_a.sort_unstable();
    r.only_in_b.sort_unstable();
    r.mismatched
        .sort_by(|x, y| (&x.key, &x.field).cmp(&(&y.key, &y.field)));
    r.duplicate_keys = dup.into_iter().collect();
    r
}
