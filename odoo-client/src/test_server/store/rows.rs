//! Changes to stored rows, and the two structures they keep exact:
//!
//! - the **external-id index** ([`XidIndex`]): the rows of `ir.model.data`
//!   by `(module, name)` and by `(model, res_id)`. `load`'s look-ups, the
//!   unique check on `(module, name)`, the clean-up of a deleted record's
//!   external ids and searches by external id read it, so that each costs
//!   in proportion to the records it touches, not to the table;
//! - the **undo journal** of the current transaction: the previous value
//!   of every row a call changes (none for a row it creates), so that an
//!   all-or-nothing call (`create`, `write`, `load`, `action_post`) rolls
//!   back by putting those rows back, without copying any table.
//!
//! Every change to a row of [`Store::tables`] goes through
//! [`Store::insert_row`], [`Store::update_row`] or [`Store::remove_row`]
//! (or [`Store::delete_record`], which also drops the record's external
//! ids): writing to `tables` directly would leave both behind.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::Store;
use crate::domain::{DomainTree, Operator};

/// The model whose rows are external ids.
pub(in crate::test_server) const XID_MODEL: &str = "ir.model.data";

/// A stored row.
type Row = Map<String, Value>;

/// The rows of `ir.model.data` by the keys that name them.
///
/// A search through it gives *candidates*, a superset of the matching rows
/// that the caller still checks against the whole domain: so the index
/// must never miss a row, and may give extra ones.
#[derive(Debug, Default, PartialEq)]
pub(super) struct XidIndex {
    /// module → name → id of the row with that external id. Odoo keeps
    /// `(module, name)` unique (and so do `create` and `write` here), so
    /// one id per pair; rows whose module or name is not text are in
    /// `unkeyed` instead.
    by_name: BTreeMap<String, BTreeMap<String, i64>>,
    /// (model, res_id) → ids of the rows naming that record: the external
    /// ids to drop when the record is deleted. Rows without a text model
    /// and an integer `res_id` point at no record and are not here.
    by_record: BTreeMap<(String, i64), BTreeSet<i64>>,
    /// Rows `by_name` cannot hold: a module or name that is unset or not
    /// text, or (only if rows were changed behind the store's back) a pair
    /// another row holds already. Every search by module or name takes
    /// them as candidates, so that none is missed.
    unkeyed: BTreeSet<i64>,
}

/// The `(module, name)` of a row, when both are text.
fn name_key(row: &Row) -> Option<(&str, &str)> {
    Some((row.get("module")?.as_str()?, row.get("name")?.as_str()?))
}

/// The `(model, res_id)` a row points at, when it points at one.
fn record_key(row: &Row) -> Option<(&str, i64)> {
    Some((row.get("model")?.as_str()?, row.get("res_id")?.as_i64()?))
}

impl XidIndex {
    /// Indexes row `id` as it is now.
    fn add(&mut self, id: i64, row: &Row) {
        match name_key(row) {
            Some((module, name)) => {
                let names = self.by_name.entry(module.to_owned()).or_default();
                match names.get(name) {
                    Some(&other) if other != id => {
                        self.unkeyed.insert(id);
                    }
                    _ => {
                        names.insert(name.to_owned(), id);
                    }
                }
            }
            None => {
                self.unkeyed.insert(id);
            }
        }
        if let Some((model, res_id)) = record_key(row) {
            self.by_record
                .entry((model.to_owned(), res_id))
                .or_default()
                .insert(id);
        }
    }

    /// Forgets row `id`, indexed as `row` (its value when it was added).
    fn remove(&mut self, id: i64, row: &Row) {
        self.unkeyed.remove(&id);
        if let Some((module, name)) = name_key(row)
            && let Some(names) = self.by_name.get_mut(module)
        {
            if names.get(name) == Some(&id) {
                names.remove(name);
            }
            if names.is_empty() {
                self.by_name.remove(module);
            }
        }
        if let Some((model, res_id)) = record_key(row) {
            let key = (model.to_owned(), res_id);
            if let Some(ids) = self.by_record.get_mut(&key) {
                ids.remove(&id);
                if ids.is_empty() {
                    self.by_record.remove(&key);
                }
            }
        }
    }

    /// The row holding external id `module.name`.
    pub(super) fn find(&self, module: &str, name: &str) -> Option<i64> {
        self.by_name.get(module)?.get(name).copied()
    }

    /// The rows naming record `res_id` of `model`.
    pub(super) fn of_record(&self, model: &str, res_id: i64) -> Vec<i64> {
        self.by_record
            .get(&(model.to_owned(), res_id))
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Candidates for the rows matching all of `conditions` (the top-level
    /// conjuncts of a domain on `ir.model.data`), in id order; `None` when
    /// no condition can use the index. Used: `module = text`, `name = text`
    /// or `name in [texts]`, and `model = text` with `res_id = n` or
    /// `res_id in [n, ...]` (each text non-empty and each n non-zero: a row
    /// without a value reads as `false` or `0`, and is not indexed there).
    pub(super) fn candidates(&self, conditions: &[&DomainTree]) -> Option<Vec<i64>> {
        let mut module = None;
        let mut names = None;
        let mut model = None;
        let mut res_ids = None;
        for tree in conditions {
            let DomainTree::Leaf(c) = tree else { continue };
            match (c.field.as_str(), c.operator) {
                ("module", Operator::Eq) => module = module.or(text(&c.value)),
                ("name", Operator::Eq | Operator::In) => names = names.or(texts(&c.value)),
                ("model", Operator::Eq) => model = model.or(text(&c.value)),
                ("res_id", Operator::Eq | Operator::In) => res_ids = res_ids.or(integers(&c.value)),
                _ => {}
            }
        }
        let by_record = match (model, res_ids) {
            (Some(model), Some(res_ids)) => Some(
                res_ids
                    .into_iter()
                    .flat_map(|r| self.of_record(model, r))
                    .collect::<BTreeSet<i64>>(),
            ),
            _ => None,
        };
        let by_name = match (module, names) {
            (None, None) => None,
            (Some(module), None) => Some(
                self.by_name
                    .get(module)
                    .map(|n| {
                        n.values()
                            .copied()
                            .chain(self.unkeyed.iter().copied())
                            .collect()
                    })
                    .unwrap_or_else(|| self.unkeyed.clone()),
            ),
            (module, Some(names)) => {
                let mut out = self.unkeyed.clone();
                let modules: Vec<&BTreeMap<String, i64>> = match module {
                    Some(m) => self.by_name.get(m).into_iter().collect(),
                    None => self.by_name.values().collect(),
                };
                for in_module in modules {
                    out.extend(names.iter().filter_map(|n| in_module.get(*n)));
                }
                Some(out)
            }
        };
        // The smaller set: the other conditions are checked on each
        // candidate anyway.
        let chosen = match (by_name, by_record) {
            (Some(a), Some(b)) => Some(if a.len() <= b.len() { a } else { b }),
            (a, b) => a.or(b),
        };
        chosen.map(|set| set.into_iter().collect())
    }
}

/// A non-empty text value.
fn text(value: &Value) -> Option<&str> {
    value.as_str().filter(|s| !s.is_empty())
}

/// The texts of a value (one text, or a list of texts), when every item
/// is a non-empty text: anything else may match rows the index leaves out.
fn texts(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::Array(items) => items.iter().map(text).collect(),
        v => text(v).map(|t| vec![t]),
    }
}

/// The integers of a value (one, or a list), when every item is a
/// non-zero integer.
fn integers(value: &Value) -> Option<Vec<i64>> {
    let non_zero = |v: &Value| v.as_i64().filter(|&i| i != 0);
    match value {
        Value::Array(items) => items.iter().map(non_zero).collect(),
        v => non_zero(v).map(|i| vec![i]),
    }
}

/// A row's value before the transaction changed it: `None` for a row it
/// created.
#[derive(Debug)]
pub(super) struct Undo {
    model: String,
    id: i64,
    before: Option<Row>,
}

/// The start of a transaction (or of a part of one): what
/// [`Store::rollback`] goes back to. Given back to [`Store::release`] or
/// [`Store::rollback`], once.
#[derive(Debug)]
#[must_use = "a savepoint must be released or rolled back"]
pub(super) struct Savepoint {
    /// Journal entries before it.
    depth: usize,
    /// It started the journal: releasing or rolling back ends it.
    outermost: bool,
}

impl Store {
    /// Starts journaling changes (or marks the current place in the
    /// journal, inside a transaction).
    pub(super) fn savepoint(&mut self) -> Savepoint {
        match &self.journal {
            Some(journal) => Savepoint {
                depth: journal.len(),
                outermost: false,
            },
            None => {
                self.journal = Some(Vec::new());
                Savepoint {
                    depth: 0,
                    outermost: true,
                }
            }
        }
    }

    /// Keeps the changes made since `savepoint`.
    pub(super) fn release(&mut self, savepoint: Savepoint) {
        if savepoint.outermost {
            self.journal = None;
        }
    }

    /// Undoes every change made since `savepoint`, newest first: each
    /// row the transaction changed gets its previous value back, each row
    /// it created goes. Ids are not given back, as PostgreSQL sequences
    /// are not.
    pub(super) fn rollback(&mut self, savepoint: Savepoint) {
        let undo = match &mut self.journal {
            Some(journal) => journal.split_off(savepoint.depth.min(journal.len())),
            None => Vec::new(),
        };
        for Undo { model, id, before } in undo.into_iter().rev() {
            self.replace_row(&model, id, before);
        }
        if savepoint.outermost {
            self.journal = None;
        }
    }

    /// Runs `f` all or nothing: if it fails, what it changed is undone.
    pub(super) fn atomically<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> super::R<T>,
    ) -> super::R<T> {
        let savepoint = self.savepoint();
        let result = f(self);
        match &result {
            Ok(_) => self.release(savepoint),
            Err(_) => self.rollback(savepoint),
        }
        result
    }

    /// Stores a new row.
    pub(super) fn insert_row(&mut self, model: &str, id: i64, row: Row) {
        self.put_row(model, id, Some(row));
    }

    /// Changes a stored row in place; `false` if there is no such row.
    pub(super) fn update_row(
        &mut self,
        model: &str,
        id: i64,
        change: impl FnOnce(&mut Row),
    ) -> bool {
        let Some(row) = self.tables.get_mut(model).and_then(|t| t.get_mut(&id)) else {
            return false;
        };
        if let Some(journal) = &mut self.journal {
            journal.push(Undo {
                model: model.to_owned(),
                id,
                before: Some(row.clone()),
            });
        }
        let indexed = model == XID_MODEL;
        if indexed {
            self.xids.remove(id, row);
        }
        change(row);
        if indexed {
            self.xids.add(id, row);
        }
        true
    }

    /// Removes a row (nothing else: a record's external ids stay, see
    /// [`Store::delete_record`]); `false` if there was none.
    pub(in crate::test_server) fn remove_row(&mut self, model: &str, id: i64) -> bool {
        self.put_row(model, id, None)
    }

    /// Deletes a record as Odoo's `unlink` does: its row, and the external
    /// ids that name it.
    pub(super) fn delete_record(&mut self, model: &str, id: i64) {
        if self.remove_row(model, id) {
            for data_id in self.xids.of_record(model, id) {
                self.remove_row(XID_MODEL, data_id);
            }
        }
    }

    /// Sets (`Some`) or removes (`None`) a row, journaled; `false` if there
    /// was no row before.
    fn put_row(&mut self, model: &str, id: i64, row: Option<Row>) -> bool {
        let before = self.replace_row(model, id, row);
        let existed = before.is_some();
        if let Some(journal) = &mut self.journal {
            journal.push(Undo {
                model: model.to_owned(),
                id,
                before,
            });
        }
        existed
    }

    /// Sets or removes a row and re-indexes it, without journaling (the
    /// rollback uses it); returns the row it replaced.
    fn replace_row(&mut self, model: &str, id: i64, row: Option<Row>) -> Option<Row> {
        let before = match row {
            Some(new) => self
                .tables
                .entry(model.to_owned())
                .or_default()
                .insert(id, new),
            None => self.tables.get_mut(model).and_then(|t| t.remove(&id)),
        };
        if model == XID_MODEL {
            if let Some(old) = &before {
                self.xids.remove(id, old);
            }
            if let Some(new) = self.tables.get(model).and_then(|t| t.get(&id)) {
                self.xids.add(id, new);
            }
        }
        before
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::Domain;
    use crate::test_server::store::{Field, FieldKind, ModelDef};

    fn store() -> Store {
        let mut store = Store::default();
        store.register(
            ModelDef::new(XID_MODEL)
                .field(Field::new("module", FieldKind::Char))
                .field(Field::new("name", FieldKind::Char))
                .field(Field::new("model", FieldKind::Char))
                .field(Field::new("res_id", FieldKind::Many2OneReference)),
        );
        store.register(ModelDef::new("x.thing").field(Field::new("name", FieldKind::Char)));
        store
    }

    fn object(value: Value) -> Row {
        value.as_object().cloned().unwrap_or_default()
    }

    fn xid(store: &mut Store, module: &str, name: &str, res_id: i64) -> i64 {
        let vals = json!({"module": module, "name": name, "model": "x.thing", "res_id": res_id});
        store.insert(XID_MODEL, &object(vals)).unwrap_or_default()
    }

    /// The kept index equals one built afresh from the table.
    fn assert_exact(store: &Store) {
        let mut fresh = XidIndex::default();
        for (id, row) in store.tables.get(XID_MODEL).into_iter().flatten() {
            fresh.add(*id, row);
        }
        assert_eq!(store.xids, fresh);
    }

    #[test]
    fn the_index_follows_writes_deletes_and_rollbacks() {
        let mut store = store();
        let thing = store.insert("x.thing", &object(json!({"name": "T"})));
        let thing = thing.unwrap_or_default();
        let a = xid(&mut store, "m", "a", thing);
        let b = xid(&mut store, "m", "b", 99);
        let unnamed = json!({"module": "m", "name": false, "model": "x.thing", "res_id": 98});
        let unnamed = store
            .insert(XID_MODEL, &object(unnamed))
            .unwrap_or_default();
        assert_exact(&store);
        assert_eq!(store.xids.find("m", "a"), Some(a));
        // A second `m.a` is refused; renaming `b` to it too.
        let twin = json!({"module": "m", "name": "a", "model": "x.thing", "res_id": 5});
        assert!(store.insert(XID_MODEL, &object(twin)).is_err());
        assert!(
            store
                .write_stored(XID_MODEL, b, json!({"name": "a"}))
                .is_err()
        );
        // A rename moves the key; a rolled-back one puts it back.
        assert!(
            store
                .write_stored(XID_MODEL, b, json!({"name": "b2"}))
                .is_ok()
        );
        assert_eq!(store.xids.find("m", "b2"), Some(b));
        let savepoint = store.savepoint();
        assert!(
            store
                .write_stored(XID_MODEL, b, json!({"name": "b3", "res_id": 7}))
                .is_ok()
        );
        let c = xid(&mut store, "m", "b2", thing);
        assert_exact(&store);
        store.rollback(savepoint);
        assert_exact(&store);
        assert_eq!(store.xids.find("m", "b2"), Some(b));
        assert!(!store.tables[XID_MODEL].contains_key(&c));
        // Deleting the record takes its external ids along.
        assert_eq!(store.xids.of_record("x.thing", thing), [a]);
        store.delete_record("x.thing", thing);
        assert_exact(&store);
        assert_eq!(store.xids.find("m", "a"), None);
        // Searches by module and name look at the rows without a key too.
        let domain = Domain::field("module").eq("m") & Domain::field("name").is_in(["b2", "zz"]);
        let tree = domain.to_tree();
        let mut conjuncts = Vec::new();
        super::super::conjuncts_of(&tree, &mut conjuncts);
        assert_eq!(store.xids.candidates(&conjuncts), Some(vec![b, unnamed]));
    }
}
