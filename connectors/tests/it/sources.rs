#![allow(clippy::unwrap_used)]
//! The ready-made sources: a log in memory, JSON Lines and CSV files.

use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, DATABASE, TestServer};
use odoo_integration_client::{Credentials, Protocol};
use odoo_integration_connectors::odoo::OdooConnector;
use odoo_integration_connectors::sources::{FileSource, ReadMode, VecSource};
use odoo_integration_connectors::{
    ConnectorErrorKind, Cursor, MemoryStore, Pipeline, Source, SourceChange, testkit,
};
use odoo_integration_model::{ApprovalState, ClientCompany, Contact, Expense, TimesheetEntry};
use rust_decimal::Decimal;
use std::path::Path;
use std::sync::Arc;

fn clients_jsonl(n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"id\": \"c{i}\", \"legal_name\": \"Client {i}\"}}\n"))
        .collect()
}

/// Reads the whole feed in pages of `limit`, checking each page's size.
async fn read_all<E: odoo_integration_model::Entity>(
    source: &dyn Source<E>,
    limit: usize,
) -> (Vec<SourceChange<E>>, Cursor) {
    let mut cursor: Option<Cursor> = None;
    let mut all = Vec::new();
    loop {
        let page = source.read(cursor.as_ref(), limit).await.unwrap();
        assert!(page.changes.len() <= limit, "a page over its limit");
        all.extend(page.changes);
        cursor = Some(page.next);
        if !page.has_more {
            return (all, cursor.unwrap());
        }
    }
}

#[tokio::test]
async fn a_vec_source_pages_by_its_limit_and_refuses_a_checkpoint_past_its_end() {
    let at = chrono::Utc::now();
    let source = VecSource::from_records(
        "sheet",
        at,
        (0..25).map(|i| (format!("c{i}"), ClientCompany::default())),
    );
    testkit::check_source::<ClientCompany>(&source)
        .await
        .assert_ok();
    let (all, end) = read_all::<ClientCompany>(&source, 7).await;
    assert_eq!(all.len(), 25);
    assert!(end.as_str().starts_with("25:"), "{end:?}");

    // An unchanged snapshot: nothing more; a changed one: read again whole.
    assert!(source.read(Some(&end), 7).await.unwrap().changes.is_empty());
    source.push(SourceChange::delete("c3", at));
    let (again, _) = read_all::<ClientCompany>(&source, 7).await;
    let page = source.read(Some(&end), 7).await.unwrap();
    assert_eq!(page.changes[0].remote_id.as_str(), "c0", "from the start");
    assert_eq!(again.len(), 26);

    // A log reads only what was pushed; rebuilt shorter after a restart,
    // its old checkpoint is refused.
    let log = VecSource::from_records("app", at, [("a", ClientCompany::default())])
        .mode(ReadMode::AppendOnly);
    let (_, end) = read_all::<ClientCompany>(&log, 7).await;
    log.push(SourceChange::delete("a", at));
    let page = log.read(Some(&end), 7).await.unwrap();
    assert_eq!(page.changes.len(), 1);
    assert!(page.changes[0].operation.is_delete());
    let shorter = VecSource::<ClientCompany>::new("app", Vec::new()).mode(ReadMode::AppendOnly);
    let err = shorter.read(Some(&page.next), 7).await.unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::Configuration);
    assert!(err.message().contains("rebuilt shorter"), "{err}");
}

#[tokio::test]
async fn a_json_lines_file_is_read_in_pages_with_a_byte_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clients.jsonl");
    // Blank lines anywhere, and a last line without a line break.
    let mut text = clients_jsonl(25);
    text.insert(0, '\n');
    text.push_str("\n{\"id\": \"last\", \"legal_name\": \"Last\"}");
    std::fs::write(&path, text).unwrap();
    let source = FileSource::<ClientCompany>::json_lines("sheet", &path);
    testkit::check_source::<ClientCompany>(&source)
        .await
        .assert_ok();
    let (all, end) = read_all::<ClientCompany>(&source, 4).await;
    assert_eq!(all.len(), 26);
    assert_eq!(all[25].remote_id.as_str(), "last");
    assert!(
        all.iter()
            .all(|c| c.fields.as_deref() == Some(&["legal_name".to_owned()][..]))
    );
    // Unchanged: nothing more.
    let again = source.read(Some(&end), 4).await.unwrap();
    assert!(again.changes.is_empty() && !again.has_more);
}

#[tokio::test]
async fn cells_are_read_by_the_fields_type_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("time.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"id": 1, "date": "2026-12-01", "hours": 0.1, "billable": "yes", "approval": "approved", "task": null}"#,
            "\n",
            r#"{"id": 2, "date": "2026-12-02", "hours": "7.25", "billable": false}"#,
            "\n",
        ),
    )
    .unwrap();
    let page = FileSource::<TimesheetEntry>::json_lines("sheet", &path)
        .read(None, 10)
        .await
        .unwrap();
    let first = page.changes[0].operation.record().unwrap();
    assert_eq!(first.hours, Decimal::new(1, 1), "0.1 exactly, not a float");
    assert!(first.billable);
    assert_eq!(first.approval, ApprovalState::Approved);
    assert_eq!(first.date.unwrap().to_string(), "2026-12-01");
    let second = page.changes[1].operation.record().unwrap();
    assert_eq!(second.hours, Decimal::new(725, 2));
    assert_eq!(page.changes[0].remote_id.as_str(), "1");

    // Money, and a wrong value named with its file and line.
    let path = dir.path().join("expenses.csv");
    std::fs::write(
        &path,
        "id,date,amount,description\n\
         e1,2026-12-01,12.50 EUR,\"Train, Ghent\"\n\
         e2,2026-13-01,3 EUR,Taxi\n",
    )
    .unwrap();
    let source = FileSource::<Expense>::csv("sheet", &path);
    let page = source.read(None, 1).await.unwrap();
    let expense = page.changes[0].operation.record().unwrap();
    assert_eq!(
        expense.amount.as_ref().map(ToString::to_string).as_deref(),
        Some("12.50 EUR")
    );
    assert_eq!(expense.description.as_deref(), Some("Train, Ghent"));
    let err = source.read(Some(&page.next), 1).await.unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::Mapping);
    assert!(
        err.message()
            .contains("expenses.csv:3: `date`: `2026-13-01` is not a date"),
        "{err}"
    );
    // The checkpoint stays before the bad row: reading it again fails again.
    assert_eq!(
        source.read(Some(&page.next), 1).await.unwrap_err().kind(),
        ConnectorErrorKind::Mapping
    );
}

#[tokio::test]
async fn an_append_only_log_reads_what_was_added_and_refuses_a_truncated_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, clients_jsonl(3)).unwrap();
    let source = FileSource::<ClientCompany>::json_lines("app", &path).mode(ReadMode::AppendOnly);
    let (first, end) = read_all::<ClientCompany>(&source, 10).await;
    assert_eq!(first.len(), 3);

    // One line added, and one still being written.
    let mut text = clients_jsonl(4);
    text.push_str("{\"id\": \"c4\", \"legal_na");
    std::fs::write(&path, &text).unwrap();
    let page = source.read(Some(&end), 10).await.unwrap();
    let ids: Vec<&str> = page.changes.iter().map(|c| c.remote_id.as_str()).collect();
    assert_eq!(ids, ["c3"], "the half-written line waits");

    text.push_str("me\": \"Client 4\"}\n");
    std::fs::write(&path, &text).unwrap();
    let rest = source.read(Some(&page.next), 10).await.unwrap();
    assert_eq!(rest.changes.len(), 1);
    assert_eq!(rest.changes[0].remote_id.as_str(), "c4");

    std::fs::write(&path, clients_jsonl(1)).unwrap();
    let err = source.read(Some(&rest.next), 10).await.unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::Configuration);
    assert!(err.message().contains("truncated or replaced"), "{err}");
}

#[tokio::test]
async fn a_snapshot_is_read_again_from_the_start_when_the_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clients.jsonl");
    std::fs::write(&path, clients_jsonl(3)).unwrap();
    let source = FileSource::<ClientCompany>::json_lines("sheet", &path);
    let (_, end) = read_all::<ClientCompany>(&source, 2).await;
    assert!(source.read(Some(&end), 2).await.unwrap().changes.is_empty());

    std::fs::write(&path, clients_jsonl(3).replace("Client 1", "Client One")).unwrap();
    let (again, _) = read_all::<ClientCompany>(&source, 2).await;
    assert_eq!(again.len(), 3, "the whole new snapshot");
    assert_eq!(
        again[1].operation.record().unwrap().legal_name,
        "Client One"
    );
}

#[tokio::test]
async fn unknown_columns_are_named_not_read_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clients.csv");
    std::fs::write(&path, "id,legal_nam,webiste,notes\nacme,Acme,a.example,x\n").unwrap();
    let source = FileSource::<ClientCompany>::csv("sheet", &path);
    let err = source.read(None, 10).await.unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::Configuration);
    assert!(
        err.message()
            .contains("unknown columns `legal_nam`, `webiste`, `notes` for client"),
        "{err}"
    );
    std::fs::write(&path, "legal_name\nAcme\n").unwrap();
    let err = source.read(None, 10).await.unwrap_err();
    assert!(err.message().contains("no `id` column"), "{err}");
}

fn write_sheets(dir: &Path, acme_city: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let clients = dir.join("clients.csv");
    std::fs::write(
        &clients,
        format!(
            "id,legal_name,website,address.city\n\
             acme,\"Acme, Inc.\",https://acme.example,{acme_city}\n\
             globex,Globex,,\"Springfield\"\n"
        ),
    )
    .unwrap();
    let contacts = dir.join("contacts.csv");
    std::fs::write(
        &contacts,
        "id,name,email,client,gone\n\
         ann,Ann Lee,ann@acme.example,acme,\n\
         \"bo\",\"Bo\nChen\",bo@globex.example,globex,no\n\
         cy,Cy,cy@acme.example,acme,yes\n",
    )
    .unwrap();
    (clients, contacts)
}

/// Clients and their contacts from two CSV files into Odoo: created once,
/// a second run changes nothing, an edited cell is one update.
#[tokio::test]
async fn csv_sheets_sync_into_odoo_once_and_then_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (clients_csv, contacts_csv) = write_sheets(dir.path(), "Ghent");
    let server = TestServer::builder().start().await.unwrap();
    let client = odoo_integration_client::Client::builder(server.url())
        .database(DATABASE)
        .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
        .protocol(Protocol::Json2)
        .build()
        .unwrap();
    let odoo = Arc::new(OdooConnector::new(client));
    let state = Arc::new(MemoryStore::new());
    let clients = Arc::new(FileSource::<ClientCompany>::csv("sheet", &clients_csv));
    let contacts = Arc::new(
        FileSource::<Contact>::csv("sheet", &contacts_csv)
            .reference("client", "client")
            .deleted_field("gone"),
    );
    testkit::check_source::<ClientCompany>(&*clients)
        .await
        .assert_ok();
    testkit::check_source::<Contact>(&*contacts)
        .await
        .assert_ok();

    let run = || async {
        let c = Pipeline::<ClientCompany>::builder(
            "sheet→odoo/client",
            clients.clone(),
            odoo.clone(),
            state.clone(),
        )
        .batch_size(1)
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
        let p = Pipeline::<Contact>::builder(
            "sheet→odoo/contact",
            contacts.clone(),
            odoo.clone(),
            state.clone(),
        )
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
        (c, p)
    };
    let (c, p) = run().await;
    assert_eq!((c.created, p.created), (2, 2), "{c}\n{p}");
    let partners = server.records("res.partner").unwrap();
    let ann = partners.iter().find(|r| r["name"] == "Ann Lee").unwrap();
    let acme = partners.iter().find(|r| r["name"] == "Acme, Inc.").unwrap();
    assert_eq!(ann["parent_id"][0], acme["id"], "the reference resolved");
    assert_eq!(acme["city"], "Ghent");
    assert!(partners.iter().any(|r| r["name"] == "Bo\nChen"));
    assert!(!partners.iter().any(|r| r["name"] == "Cy"), "a deleted row");

    let (c, p) = run().await;
    assert_eq!((c.created, c.updated, p.created, p.updated), (0, 0, 0, 0));

    write_sheets(dir.path(), "Antwerp");
    let (c, _) = run().await;
    assert_eq!((c.created, c.updated), (0, 1), "{c}");
    let partners = server.records("res.partner").unwrap();
    let acme = partners.iter().find(|r| r["name"] == "Acme, Inc.").unwrap();
    assert_eq!(acme["city"], "Antwerp");
}
