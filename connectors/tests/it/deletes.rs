#![allow(clippy::unwrap_used)]
//! A delete is applied once: reported twice (pushed, then seen by the
//! next poll; or a source that reports it on every read), the sink is
//! asked once. A record that comes back after its delete is written again.

use async_trait::async_trait;
use odoo_integration_connectors::sources::{ReadMode, VecSource};
use odoo_integration_connectors::{
    Capabilities, Connector, MemoryStore, Operation, Outcome, Pipeline, Sink, SinkRecord,
    SourceChange,
};
use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
use std::sync::{Arc, Mutex};

/// A log of changes, read after the cursor.
fn log() -> VecSource<ClientCompany> {
    VecSource::new(SystemId::hubspot(), Vec::new()).mode(ReadMode::AppendOnly)
}

fn upsert(id: &str, name: &str) -> SourceChange<ClientCompany> {
    let c = ClientCompany {
        legal_name: name.into(),
        ..Default::default()
    };
    SourceChange::upsert(id, chrono::Utc::now(), c)
}

fn delete(id: &str) -> SourceChange<ClientCompany> {
    SourceChange::delete(id, chrono::Utc::now())
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
    let (log, erp) = (Arc::new(log()), Arc::new(Erp::default()));
    let p = Pipeline::<ClientCompany>::builder(
        "hubspot→odoo/client",
        log.clone(),
        erp.clone(),
        Arc::new(MemoryStore::new()),
    )
    .build()
    .unwrap();
    log.push(upsert("7", "Acme"));
    p.run().await.unwrap();
    log.push(delete("7"));
    assert_eq!(p.run().await.unwrap().deleted, 1);
    // The same deletion again (the poll after a push, or a source that
    // reports deletions on every read).
    log.push(delete("7"));
    let again = p.run().await.unwrap();
    assert_eq!((again.deleted, again.unchanged), (0, 1));
    assert_eq!(*erp.0.lock().unwrap(), ["upsert Acme", "delete erp-7"]);

    // Restored at the source: written again, and a later delete applies.
    log.push(upsert("7", "Acme NV"));
    assert_eq!(p.run().await.unwrap().updated, 1);
    log.push(delete("7"));
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
