//! Sync a firm's clients, contacts and engagements from its CSV sheets into
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
//! It runs the sync twice (the second run changes nothing), then edits a
//! client in the clients sheet the way a colleague might and runs again: the
//! web site (owned by the sheet) goes through, the legal name (owned by
//! Odoo) is refused and reported.
#![allow(clippy::print_stdout, missing_docs)]

mod common;

use common::{BoxError, connect};
use odoo_integration::connectors::odoo::OdooConnector;
use odoo_integration::connectors::sources::FileSource;
use odoo_integration::connectors::{FileStore, Pipeline, RunSummary, SyncState, testkit};
use odoo_integration::model::{
    ClientCompany, Condition, Contact, Engagement, Policy, RequiredWhen, Validator,
};
use std::path::Path;
use std::sync::Arc;

/// The firm's sheets, as CSV files: `FileSource` reads them in pages with
/// a byte cursor and, as snapshots, again from the top when a file changes.
struct Sheets {
    clients: Arc<FileSource<ClientCompany>>,
    contacts: Arc<FileSource<Contact>>,
    engagements: Arc<FileSource<Engagement>>,
}

impl Sheets {
    /// The sheets in `dir`; contacts and engagements name their client by
    /// its id in the clients sheet.
    fn open(dir: &Path) -> Self {
        Sheets {
            clients: Arc::new(FileSource::csv("sheet", dir.join("clients.csv"))),
            contacts: Arc::new(
                FileSource::csv("sheet", dir.join("contacts.csv")).reference("client", "client"),
            ),
            engagements: Arc::new(
                FileSource::csv("sheet", dir.join("engagements.csv")).reference("client", "client"),
            ),
        }
    }

    /// What the pipeline relies on of a source, checked before it runs.
    async fn check(&self) {
        testkit::check_source::<ClientCompany>(&*self.clients)
            .await
            .assert_ok();
        testkit::check_source::<Contact>(&*self.contacts)
            .await
            .assert_ok();
        testkit::check_source::<Engagement>(&*self.engagements)
            .await
            .assert_ok();
    }
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
    let clients = Pipeline::<ClientCompany>::builder(
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
    // The sheets are copied to a scratch folder, where a colleague edits one.
    let sheets_dir = tempfile::tempdir()?;
    for sheet in ["clients.csv", "contacts.csv", "engagements.csv"] {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/data")
            .join(sheet);
        std::fs::copy(from, sheets_dir.path().join(sheet))?;
    }
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
    let sheets = Sheets::open(sheets_dir.path());
    sheets.check().await;

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
    let clients_csv = sheets_dir.path().join("clients.csv");
    let edited = std::fs::read_to_string(&clients_csv)?.replace(
        "Northwind Traders BV,https://northwind.example",
        "Northwind (new name from the sheet),https://northwind-traders.example",
    );
    std::fs::write(&clients_csv, edited)?;
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
