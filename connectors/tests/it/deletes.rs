#![allow(clippy::unwrap_used)]
//! A delete is applied once: reported twice (pushed, then seen by the
//! next poll; or a source that reports it on every read), the sink is
//! asked once. A record that comes back after its delete is written again.

use async_trait::async_trait;
use odoo_integration_connectors::{
    Capabilities, Connector, Cursor, MemoryStore, Operation, Outcome, Page, Pipeline, Sink,
    SinkRecord, Source, SourceChange,
};
use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
use std::sync::{Arc, Mutex};

/// A log of changes, read after the cursor.
#[derive(Default)]
struct Log(Mutex<Vec<SourceChange<ClientCompany>>>);

impl Log {
    fn upsert(&self, id: &str, name: &str) {
        let c = ClientCompany {
            legal_name: name.into(),
            ..Default::default()
        };
        self.0
            .lock()
            .unwrap()
            .push(SourceChange::upsert(id, chrono::Utc::now(), c));
    }
    fn delete(&self, id: &str) {
        self.0
            .lock()
            .unwrap()
            .push(SourceChange::delete(id, chrono::Utc::now()));
    }
}

impl Connector for Log {
    fn system(&self) -> SystemId {
        SystemId::hubspot()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads(["client"]).incremental(true)
    }
}

#[async_trait]
impl Source<ClientCompany> for Log {
    async fn read(
        &self,
        since: Option<&Cursor>,
        limit: usize,
    ) -> odoo_integration_connectors::Result<Page<ClientCompany>> {
        let all = self.0.lock().unwrap();
        let from: usize = since.map_or(0, |c| c.as_str().parse().unwrap());
        let to = (from + limit).min(all.len());
        Ok(Page {
            changes: all[from..to].to_vec(),
            next: Cursor::new(to.to_string()),
            has_more: to < all.len(),
        })
    }
}

/// Records what it is asked: "upsert NAME" or "delete ID".
#[derive(Default)]
struct Erp(Mutex<Vec<String>>);

impl Connector for Erp {
    fn system(&self) -> SystemId {
        SystemId::odoo()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().writes(["client"])
    }
}

#[async_trait]
impl Sink<ClientCompany> for Erp {
    async fn apply(
        &self,
        batch: Vec<SinkRecord<ClientCompany>>,
    ) -> odoo_integration_connectors::Result<Vec<Outcome>> {
        let mut asked = self.0.lock().unwrap();
        Ok(batch
            .into_iter()
            .map(|r| match &r.operation {
                Operation::Upsert(c) => {
                    asked.push(format!("upsert {}", c.legal_name));
                    match r.target_id {
                        Some(t) => Outcome::Updated(t),
                        None => Outcome::Created(RemoteId::new(format!("erp-{}", r.origin_id))),
                    }
                }
                Operation::Delete => {
                    let target = r.target_id.unwrap();
                    asked.push(format!("delete {target}"));
                    Outcome::Deleted(target)
                }
            })
            .collect())
    }
}

#[tokio::test]
async fn a_delete_reported_twice_reaches_the_sink_once() {
    let (log, erp) = (Arc::new(Log::default()), Arc::new(Erp::default()));
    let p = Pipeline::<ClientCompany>::builder(
        "hubspot→odoo/client",
        log.clone(),
        erp.clone(),
        Arc::new(MemoryStore::new()),
    )
    .build()
    .unwrap();
    log.upsert("7", "Acme");
    p.run().await.unwrap();
    log.delete("7");
    assert_eq!(p.run().await.unwrap().deleted, 1);
    // The same deletion again (the poll after a push, or a source that
    // reports deletions on every read).
    log.delete("7");
    let again = p.run().await.unwrap();
    assert_eq!((again.deleted, again.unchanged), (0, 1));
    assert_eq!(*erp.0.lock().unwrap(), ["upsert Acme", "delete erp-7"]);

    // Restored at the source: written again, and a later delete applies.
    log.upsert("7", "Acme NV");
    assert_eq!(p.run().await.unwrap().updated, 1);
    log.delete("7");
    assert_eq!(p.run().await.unwrap().deleted, 1);
    assert_eq!(
        *erp.0.lock().unwrap(),
        [
            "upsert Acme",
            "delete erp-7",
            "upsert Acme NV",
            "delete erp-7"
        ]
    );
}
