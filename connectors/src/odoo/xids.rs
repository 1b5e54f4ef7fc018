//! The external ids under which the Odoo sink keeps records from other
//! systems, and the adoption of the ids an earlier version wrote.
//!
//! A record from `origin` with id `remote` is kept under
//! `sync_<origin>.<entity>_<remote>`, each part escaped so that two
//! different ids never share an external id: ASCII letters and digits stay,
//! `_` becomes `__`, and every other byte of the UTF-8 text becomes `_`
//! and two lowercase hex digits (`row-1` → `row_2d1`, `row_1` → `row__1`).
//!
//! Versions before 0.3 replaced every other character with `_`, so `row-1`
//! and `row_1` shared one external id, and one Odoo record. The sink adopts
//! those ids: before it upserts a record whose id reads differently under
//! the two schemes, it renames the old `ir.model.data` row to the new name,
//! so the record is updated, not created again. Where two records shared
//! one old id, the first to be written keeps the Odoo record and the other
//! gets its own.

use super::convert;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use odoo_integration_client::{Client, Domain, ExternalId};
use odoo_integration_model::{RemoteId, SystemId};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};

/// The external id of a record of `entity` from `origin` with id `remote`.
pub(super) fn external_id(
    entity: &str,
    origin: &SystemId,
    remote: &RemoteId,
) -> Result<ExternalId> {
    ExternalId::new(
        format!("sync_{}", escape(origin.as_str())),
        format!("{entity}_{}", escape(remote.as_str())),
    )
    .map_err(|e| ConnectorError::new(ConnectorErrorKind::Mapping, e.to_string()))
}

/// The external id versions before 0.3 wrote, when it differs from
/// [`external_id`]'s.
pub(super) fn legacy_id(entity: &str, origin: &SystemId, remote: &RemoteId) -> Option<ExternalId> {
    let module = format!("sync_{}", replace(origin.as_str()));
    let name = format!("{entity}_{}", replace(remote.as_str()));
    let current = external_id(entity, origin, remote).ok()?;
    if current.module() == module && current.name() == name {
        return None;
    }
    ExternalId::new(module, name).ok()
}

/// Escapes `s` injectively into `[A-Za-z0-9_]`.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'_' => out.push_str("__"),
            b if b.is_ascii_alphanumeric() => out.push(char::from(b)),
            b => {
                let _ = write!(out, "_{b:02x}");
            }
        }
    }
    out
}

/// The old scheme: every character but ASCII letters, digits and `_`
/// replaced with `_` (not injective).
fn replace(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The new ids a connector has already looked for old ids of, so each is
/// looked for once per process, not once per write.
#[derive(Debug, Default)]
pub(super) struct Checked(Mutex<HashSet<ExternalId>>);

impl Checked {
    /// The items whose external id (`id_of`) was not checked before.
    fn unseen<T>(&self, items: Vec<T>, id_of: impl Fn(&T) -> &ExternalId) -> Vec<T> {
        let seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        items
            .into_iter()
            .filter(|t| !seen.contains(id_of(t)))
            .collect()
    }

    /// Remembers these external ids as checked.
    fn mark(&self, ids: impl IntoIterator<Item = ExternalId>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(ids);
    }
}

/// The `ir.model.data` rows of records of `model` named by any of
/// `modules` × `names`: `(module, name)` → (row id, record id). One search.
async fn registered<'a>(
    client: &Client,
    model: &str,
    modules: impl IntoIterator<Item = &'a str>,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<(String, String), (i64, i64)>> {
    let rows = client
        .model("ir.model.data")
        .search_read(
            Domain::field("module").is_in(modules)
                & Domain::field("name").is_in(names)
                & Domain::field("model").eq(model),
        )
        .fields(["module", "name", "res_id"])
        .send()
        .await
        .map_err(convert)?;
    let mut found = HashMap::new();
    for row in &rows {
        let text = |f: &str| row.get(f).and_then(Value::as_str).map(str::to_owned);
        let number = |f: &str| row.get(f).and_then(Value::as_i64);
        if let (Some(id), Some(res_id), Some(module), Some(name)) =
            (number("id"), number("res_id"), text("module"), text("name"))
        {
            found.insert((module, name), (id, res_id));
        }
    }
    Ok(found)
}

/// Renames the old `ir.model.data` rows of `pairs` (old id, new id) of
/// records of `model` to their new ids, where the new id is not there yet.
/// One search for the lot (for ids not `checked` before), one write per
/// row renamed (only on the first run after an upgrade).
pub(super) async fn adopt_legacy(
    client: &Client,
    model: &str,
    pairs: Vec<(ExternalId, ExternalId)>,
    checked: &Checked,
) -> Result<()> {
    let pairs = checked.unseen(pairs, |(_, new)| new);
    if pairs.is_empty() {
        return Ok(());
    }
    let mut modules = BTreeSet::new();
    let mut names = BTreeSet::new();
    for (old, new) in &pairs {
        modules.extend([old.module(), new.module()]);
        names.extend([old.name(), new.name()]);
    }
    let found: HashMap<(String, String), i64> = registered(client, model, modules, names)
        .await?
        .into_iter()
        .map(|(key, (data_id, _))| (key, data_id))
        .collect();
    let key = |x: &ExternalId| (x.module().to_owned(), x.name().to_owned());
    let mut claimed = HashSet::new();
    for (old, new) in &pairs {
        if found.contains_key(&key(new)) {
            continue;
        }
        let Some(&data_id) = found.get(&key(old)) else {
            continue;
        };
        if !claimed.insert(data_id) {
            continue;
        }
        tracing::info!(old = %old, new = %new, "adopting an external id written before 0.3");
        client
            .model("ir.model.data")
            .write(
                [data_id],
                &serde_json::json!({"module": new.module(), "name": new.name()}),
            )
            .allow_retry()
            .send()
            .await
            .map_err(convert)?;
    }
    checked.mark(pairs.into_iter().map(|(_, new)| new));
    Ok(())
}

/// Registers the external ids of `binds` (external id, record id) for
/// records of `model` the sync did not create: records a first sync
/// matched, or linked by hand. Then the upsert by external id writes to
/// them instead of creating new ones. One search for the lot (ids not
/// `checked` before), one `create` of the rows missing; an id already
/// registered is left as it is (pointing elsewhere, it is logged). Safe to
/// repeat after a lost reply: the search finds what the lost call made.
pub(super) async fn bind(
    client: &Client,
    model: &str,
    binds: Vec<(ExternalId, i64)>,
    checked: &Checked,
) -> Result<()> {
    let binds = checked.unseen(binds, |(x, _)| x);
    if binds.is_empty() {
        return Ok(());
    }
    let modules: BTreeSet<&str> = binds.iter().map(|(x, _)| x.module()).collect();
    let names: BTreeSet<&str> = binds.iter().map(|(x, _)| x.name()).collect();
    let found: HashMap<(String, String), i64> = registered(client, model, modules, names)
        .await?
        .into_iter()
        .map(|(key, (_, res_id))| (key, res_id))
        .collect();
    let mut missing = Vec::new();
    for (x, id) in &binds {
        match found.get(&(x.module().to_owned(), x.name().to_owned())) {
            Some(res_id) if res_id != id => {
                tracing::warn!(external_id = %x, points_to = res_id, linked_to = id, "external id already points to another record: left as it is");
            }
            Some(_) => {}
            None => missing.push(serde_json::json!({
                "module": x.module(),
                "name": x.name(),
                "model": model,
                "res_id": id,
            })),
        }
    }
    if !missing.is_empty() {
        tracing::info!(
            model,
            count = missing.len(),
            "registering external ids of records the sync linked"
        );
        client
            .model("ir.model.data")
            .create_many(missing)
            .send()
            .await
            .map_err(convert)?;
    }
    checked.mark(binds.into_iter().map(|(x, _)| x));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xid(origin: &str, remote: &str) -> String {
        external_id("contact", &SystemId::new(origin), &RemoteId::new(remote))
            .map(|x| x.to_string())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn external_ids_are_safe_and_namespaced_per_source() {
        assert_eq!(xid("my crm", "a.b/c"), "sync_my_20crm.contact_a_2eb_2fc");
        assert_eq!(xid("hubspot", "981"), "sync_hubspot.contact_981");
        assert_eq!(xid("gusto", "é"), "sync_gusto.contact__c3_a9");
    }

    #[test]
    fn ids_that_differ_never_share_an_external_id() {
        let ids = [
            "row-1", "row_1", "row 1", "row__1", "row_2d1", "row-2d1", "row_", "row__", "_", "__",
            "", "é", "_c3_a9", "a_b", "a__b", "ab",
        ];
        let mut seen = HashMap::new();
        for id in ids {
            let x = xid("csv", id);
            assert!(
                x.trim_start_matches("sync_csv.contact_")
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
                "{x}"
            );
            if let Some(other) = seen.insert(x.clone(), id) {
                panic!("{other:?} and {id:?} share {x}");
            }
        }
    }

    #[test]
    fn the_old_id_is_given_only_where_it_differs() {
        let origin = SystemId::new("csv");
        let old = |r: &str| legacy_id("contact", &origin, &RemoteId::new(r)).map(|x| x.to_string());
        assert_eq!(old("981"), None);
        assert_eq!(old("row-1").as_deref(), Some("sync_csv.contact_row_1"));
        assert_eq!(old("row_1").as_deref(), Some("sync_csv.contact_row_1"));
        let crm = legacy_id("client", &SystemId::new("my-crm"), &RemoteId::new("7"));
        assert_eq!(
            crm.map(|x| x.to_string()).as_deref(),
            Some("sync_my_crm.client_7")
        );
    }
}
