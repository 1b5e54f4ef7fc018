//! Across the three crates, through the facade: clients from a CRM-like
//! source reach the embedded Odoo through the pipeline with its state in
//! SQLite; a restart from the same file is a no-op; reading the clients
//! back from Odoo reconciles with what was sent.
#![allow(clippy::unwrap_used, missing_docs)]

use odoo_integration::async_trait;
use odoo_integration::connectors::odoo::OdooConnector;
use odoo_integration::connectors::{
    Capabilities, Connector, Cursor, Operation, Page, Pipeline, Source, SourceChange, SqliteStore,
    XrefStore,
};
use odoo_integration::model::{ClientCompany, RemoteId, SystemId, reconcile};
use odoo_integration::odoo::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, DATABASE, TestServer};
use odoo_integration::odoo::{Client as Odoo, Credentials};
use std::sync::Arc;

/// Every client, every run (a source without change tracking).
struct Crm(Vec<(String, ClientCompany)>);
impl Connector for Crm {
    fn system(&self) -> SystemId {
        SystemId::new("crm")
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads(["client"])
    }
}
#[async_trait]
impl Source<ClientCompany> for Crm {
    async fn read(
        &self,
        _: Option<&Cursor>,
        _: usize,
    ) -> odoo_integration::connectors::Result<Page<ClientCompany>> {
        let at = odoo_integration::chrono::DateTime::from_timestamp(1_795_000_000, 0)
            .unwrap_or_default();
        Ok(Page {
            changes: self
                .0
                .iter()
                .map(|(id, c)| SourceChange::upsert(id.clone(), at, c.clone()))
                .collect(),
            next: Cursor::new("all"),
            has_more: false,
        })
    }
}

fn clients() -> Vec<(String, ClientCompany)> {
    (0..120)
        .map(|i| {
            let c = ClientCompany {
                legal_name: format!("Client {i:03} BV"),
                website: Some(format!("https://client{i}.example")),
                tax_id: Some(format!("BE0{i:09}")),
                ..Default::default()
            };
            (format!("crm-{i}"), c)
        })
        .collect()
}

#[tokio::test]
async fn crm_to_odoo_with_sqlite_state_resumes_and_reconciles() {
    let server = TestServer::builder().start().await.unwrap();
    let odoo = Arc::new(OdooConnector::new(
        Odoo::builder(server.url())
            .database(DATABASE)
            .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
            .build()
            .unwrap(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sync.db");
    let sent = clients();
    let run = |state: SqliteStore| {
        let odoo = odoo.clone();
        let source = Arc::new(Crm(sent.clone()));
        async move {
            Pipeline::<ClientCompany>::builder("crm→odoo/client", source, odoo, Arc::new(state))
                .batch_size(50)
                .build()
                .unwrap()
                .run()
                .await
                .unwrap()
        }
    };
    let first = run(SqliteStore::open(&path).await.unwrap()).await;
    assert_eq!((first.created, first.dead_lettered), (120, 0), "{first}");
    // A new process on the same state file: nothing to do.
    let again = run(SqliteStore::open(&path).await.unwrap()).await;
    assert!(again.is_no_op(), "{again}");
    assert_eq!(again.unchanged, 120);

    // Read Odoo back as a source and compare with what the CRM holds.
    let mut back = Vec::new();
    let mut cursor = None;
    loop {
        let page = Source::<ClientCompany>::read(&*odoo, cursor.as_ref(), 100)
            .await
            .unwrap();
        for change in page.changes {
            if let Operation::Upsert(c) = change.operation {
                back.push((change.remote_id.to_string(), c));
            }
        }
        cursor = Some(page.next);
        if !page.has_more {
            break;
        }
    }
    // Keyed by the CRM's ids, through the cross-references of the sync.
    let state = SqliteStore::open(&path).await.unwrap();
    let mut ours: Vec<(String, ClientCompany)> = Vec::new();
    for (odoo_id, c) in back {
        let remote = RemoteId::new(odoo_id);
        let Some(id) = state
            .resolve("client", &SystemId::odoo(), &remote)
            .await
            .unwrap()
        else {
            continue; // a partner the sync did not write (the demo data)
        };
        let refs = state.cross_refs(id).await.unwrap();
        ours.push((refs[&SystemId::new("crm")].to_string(), c));
    }
    let r = reconcile(&sent, &ours, &["legal_name", "website", "tax_id"]);
    assert_eq!(r.matched.len(), 120, "{r:?}");
    assert!(r.mismatched.is_empty() && r.only_in_a.is_empty() && r.only_in_b.is_empty());
}
