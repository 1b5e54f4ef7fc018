//! Sync a firm's clients, contacts and engagements from a JSON file into
//! Odoo through the pipeline, under an ownership policy.
//!
//! ```sh
//! cargo run --example sync_to_odoo
//! ```
//!
//! With no `ODOO_URL` it starts the embedded in-memory Odoo; with
//! `ODOO_URL`, `ODOO_DB`, `ODOO_LOGIN` and `ODOO_API_KEY` (or
//! `ODOO_PASSWORD`) it syncs into that Odoo and keeps its state in
//! `./.sync-state/`, so running it again is a no-op there too.
//!
//! It runs the sync twice (the second run changes nothing), then edits the
//! file's copy of a client the way a colleague might and runs again: the
//! web site (owned by the sheet) goes through, the legal name (owned by
//! Odoo) is refused and reported.
#![allow(clippy::print_stdout, missing_docs)]

mod common;

use common::{BoxError, connect};
use odoo_integration::async_trait;
use odoo_integration::connectors::odoo::OdooConnector;
use odoo_integration::connectors::{
    Capabilities, Connector, Cursor, FileStore, Page, Pipeline, Reference, RunSummary, Source,
    SourceChange, SyncState,
};
use odoo_integration::model::{
    Client, Condition, Contact, Engagement, Entity, Policy, RequiredWhen, SystemId, Validator,
};
use serde::Deserialize;
use std::sync::{Arc, Mutex};

#[derive(Deserialize)]
#[serde(bound = "E: Entity")]
struct Row<E> {
    id: String,
    /// The id of the client this row belongs to, if any.
    #[serde(default)]
    client: Option<String>,
    record: E,
}

#[derive(Deserialize)]
struct Firm {
    clients: Vec<Row<Client>>,
    contacts: Vec<Row<Contact>>,
    engagements: Vec<Row<Engagement>>,
}

/// The file as a source: every row is a change, the cursor is the row
/// index (a real source would read "changed since").
struct Sheet<E> {
    rows: Mutex<Vec<SourceChange<E>>>,
}

impl<E> Sheet<E> {
    fn new(rows: Vec<Row<E>>) -> Arc<Self> {
        let at = odoo_integration::chrono::Utc::now();
        let rows = rows
            .into_iter()
            .map(|r| {
                let mut change = SourceChange::upsert(r.id, at, r.record);
                if let Some(client) = r.client {
                    change = change.with_ref("client", Reference::new("client", client));
                }
                change
            })
            .collect();
        Arc::new(Sheet {
            rows: Mutex::new(rows),
        })
    }
}

impl<E: Entity + Send> Connector for Sheet<E> {
    fn system(&self) -> SystemId {
        SystemId::new("sheet")
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads([E::NAME])
    }
}

#[async_trait]
impl<E: Entity + Send + Sync> Source<E> for Sheet<E> {
    async fn read(
        &self,
        since: Option<&Cursor>,
        limit: usize,
    ) -> odoo_integration::connectors::Result<Page<E>> {
        // A full read each run: the file has no change dates.
        let _ = since;
        let rows = self.rows.lock().map_err(|_| {
            odoo_integration::connectors::ConnectorError::new(
                odoo_integration::connectors::ErrorKind::Store,
                "the sheet's lock is poisoned",
            )
        })?;
        Ok(Page {
            changes: rows.iter().take(limit.max(rows.len())).cloned().collect(),
            next: Cursor::new(rows.len().to_string()),
            has_more: false,
        })
    }
}

struct Sheets {
    clients: Arc<Sheet<Client>>,
    contacts: Arc<Sheet<Contact>>,
    engagements: Arc<Sheet<Engagement>>,
}

fn required(code: &str, fields: &[&str]) -> RequiredWhen {
    RequiredWhen {
        code: code.into(),
        when: Condition::Always,
        required: fields.iter().map(|f| (*f).to_owned()).collect(),
        equal: vec![],
    }
}

async fn sync_all(
    odoo: &Arc<OdooConnector>,
    state: &Arc<dyn SyncState>,
    policy: &Policy,
    sheets: &Sheets,
) -> Result<[RunSummary; 3], BoxError> {
    let clients = Pipeline::<Client>::builder(
        "sheet→odoo/client",
        sheets.clients.clone(),
        odoo.clone(),
        state.clone(),
    )
    .policy(policy.clone())
    .validator(Validator::new().with(required("client.name", &["legal_name"])))
    .build()?
    .run()
    .await?;
    let contacts = Pipeline::<Contact>::builder(
        "sheet→odoo/contact",
        sheets.contacts.clone(),
        odoo.clone(),
        state.clone(),
    )
    .policy(policy.clone())
    .build()?
    .run()
    .await?;
    let engagements = Pipeline::<Engagement>::builder(
        "sheet→odoo/engagement",
        sheets.engagements.clone(),
        odoo.clone(),
        state.clone(),
    )
    .policy(policy.clone())
    .validator(Validator::new().with(required("engagement.client", &["client"])))
    .build()?
    .run()
    .await?;
    Ok([clients, contacts, engagements])
}

fn print_runs(title: &str, runs: &[RunSummary; 3]) {
    println!("{title}");
    for (entity, run) in ["clients", "contacts", "engagements"].iter().zip(runs) {
        common::print_run(entity, run);
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    common::init_tracing();
    let (client, server) = connect().await?;
    let firm: Firm = odoo_integration::serde_json::from_str(include_str!("data/firm.json"))?;
    let policy = Policy::from_toml(include_str!("data/sync_policy.toml"))?;
    // Embedded Odoo: fresh state in a temporary directory. Real Odoo: keep it.
    let temp = tempfile::tempdir()?;
    let dir = if server.is_some() {
        temp.path().to_path_buf()
    } else {
        ".sync-state".into()
    };
    let state: Arc<dyn SyncState> = Arc::new(FileStore::open(&dir).await?);
    let odoo = Arc::new(OdooConnector::new(client.clone()));
    let sheets = Sheets {
        clients: Sheet::new(firm.clients),
        contacts: Sheet::new(firm.contacts),
        engagements: Sheet::new(firm.engagements),
    };

    let first = sync_all(&odoo, &state, &policy, &sheets).await?;
    print_runs("first run", &first);
    for letter in state.letters("engagement").await? {
        println!("  dead letter  {}: {}", letter.key, letter.error.message);
    }

    let second = sync_all(&odoo, &state, &policy, &sheets).await?;
    print_runs("second run (nothing changed)", &second);
    assert!(
        second.iter().all(|r| r.created == 0 && r.updated == 0),
        "a rerun writes nothing"
    );

    // A colleague edits the sheet: a new web site and a new legal name.
    if let Some(change) = sheets
        .clients
        .rows
        .lock()
        .map_err(|_| "poisoned")?
        .first_mut()
    {
        change.at = odoo_integration::chrono::Utc::now();
        if let odoo_integration::connectors::Operation::Upsert(c) = &mut change.operation {
            c.website = Some("https://northwind-traders.example".into());
            c.legal_name = "Northwind (new name from the sheet)".into();
        }
    }
    let third = sync_all(&odoo, &state, &policy, &sheets).await?;
    print_runs("third run (the sheet edited a client)", &third);

    let partners: Vec<
        odoo_integration::serde_json::Map<String, odoo_integration::serde_json::Value>,
    > = client
        .model("res.partner")
        .search_read(
            odoo_integration::odoo::Domain::field("website")
                .eq("https://northwind-traders.example"),
        )
        .fields(["name", "website"])
        .send()
        .await?;
    for p in partners {
        println!("odoo        {} — {}", p["name"], p["website"]);
    }
    Ok(())
}
