#![allow(clippy::unwrap_used)]
//! Workflows against the embedded Odoo as a stock Community server has it.

use odoo_integration_client::Protocol;
use odoo_integration_client::test_server::{Field, FieldKind, TestServer};
use odoo_integration_connectors::odoo::OdooConnector;
use odoo_integration_connectors::workflows::Approval;
use odoo_integration_connectors::{ConnectorErrorKind, Operation, read_to_end};
use odoo_integration_model::{ApprovalState, TimesheetEntry};

/// Timesheet lines as a workflow reads them, each judged by `approval`.
async fn lines(server: &TestServer, approval: &Approval) -> Vec<TimesheetEntry> {
    let odoo = OdooConnector::new(server.client(Protocol::Json2).unwrap())
        .with_map(approval.timesheet_map());
    let (changes, _) = read_to_end::<TimesheetEntry>(&odoo, None, 100)
        .await
        .unwrap();
    changes
        .into_iter()
        .filter_map(|c| match c.operation {
            Operation::Upsert(mut line) => {
                approval.judge(&mut line);
                Some(line)
            }
            Operation::Delete => None,
        })
        .collect()
}

/// On a stock Community server (no approval field): a custom field that
/// is not there is refused before anything is read or written, naming the
/// field and the way out; Enterprise's is not detected; approval up to a
/// cutoff reads the demo timesheets and splits them by date.
#[tokio::test]
async fn approval_on_a_stock_community_server() {
    let server = TestServer::builder()
        .with_demo_data()
        .start()
        .await
        .unwrap();
    let odoo = server.client(Protocol::Json2).unwrap();
    assert_eq!(Approval::detect(&odoo).await.unwrap(), None);
    let before = server.calls().len();
    let e = Approval::field("x_approved")
        .check(&odoo)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Configuration);
    let text = e.to_string();
    for hint in ["has no field `x_approved`", "boolean", "Approval::UpTo"] {
        assert!(text.contains(hint), "{text}");
    }
    let e = Approval::Validated.check(&odoo).await.unwrap_err();
    assert!(e.to_string().contains("Enterprise"), "{e}");
    // Only fields_get was asked: nothing read, nothing written.
    assert!(
        server.calls()[before..]
            .iter()
            .all(|c| c.method == "fields_get")
    );

    let all = lines(&server, &Approval::UpTo(chrono::NaiveDate::MAX)).await;
    assert!(!all.is_empty(), "the demo data has timesheets");
    assert!(all.iter().all(|l| l.approval == ApprovalState::Approved));
    let dates: Vec<_> = all.iter().filter_map(|l| l.date).collect();
    let cutoff = *dates.iter().min().unwrap();
    let split = lines(&server, &Approval::UpTo(cutoff)).await;
    let approved = split
        .iter()
        .filter(|l| l.approval == ApprovalState::Approved)
        .count();
    let at_cutoff = dates.iter().filter(|d| **d <= cutoff).count();
    assert_eq!(approved, at_cutoff);
}

/// A custom boolean that is there is read as the approval.
#[tokio::test]
async fn approval_by_a_custom_field() {
    let server = TestServer::builder()
        .with_demo_data()
        .field(
            "account.analytic.line",
            Field::new("x_approved", FieldKind::Boolean),
        )
        .start()
        .await
        .unwrap();
    let odoo = server.client(Protocol::Json2).unwrap();
    let approval = Approval::field("x_approved");
    approval.check(&odoo).await.unwrap();
    let first = server.records("account.analytic.line").unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    odoo.model("account.analytic.line")
        .write([first], &serde_json::json!({"x_approved": true}))
        .send()
        .await
        .unwrap();
    let read = lines(&server, &approval).await;
    let approved = read
        .iter()
        .filter(|l| l.approval == ApprovalState::Approved)
        .count();
    assert_eq!(approved, 1);
    assert!(read.len() > 1);
}

/// Invoices into an Odoo whose books are locked up to 31 October: the one
/// dated inside the locked period is held for review (never written, as
/// Odoo would quietly book it in November), the other goes through.
/// Without the hold (no `period_date`), the embedded Odoo shows what a
/// real one does: the invoice is written and its accounting date moved.
#[tokio::test]
async fn invoices_dated_in_a_locked_period_are_held() {
    use odoo_integration_connectors::odoo::ModelMap;
    use odoo_integration_connectors::sources::VecSource;
    use odoo_integration_connectors::{DeadLetterQueue, MemoryStore, Pipeline, SourceChange};
    use odoo_integration_model::Invoice;
    use std::sync::Arc;

    let server = TestServer::builder().start().await.unwrap();
    let odoo = server.client(Protocol::Json2).unwrap();
    let company = server.records("res.company").unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    odoo.model("res.company")
        .write(
            [company],
            &serde_json::json!({"fiscalyear_lock_date": "2026-10-31"}),
        )
        .send()
        .await
        .unwrap();
    let invoice = |d: u32, m: u32| Invoice {
        date: chrono::NaiveDate::from_ymd_opt(2026, m, d),
        ..Default::default()
    };
    let at = chrono::Utc::now();
    let changes = vec![
        SourceChange::upsert("october", at, invoice(15, 10)),
        SourceChange::upsert("november", at, invoice(15, 11)),
    ];
    let dated = |day: &str| {
        server
            .records("account.move")
            .unwrap()
            .into_iter()
            .filter(|m| m["invoice_date"] == day)
            .collect::<Vec<_>>()
    };

    let state = Arc::new(MemoryStore::new());
    let summary = Pipeline::<Invoice>::builder(
        "billing",
        Arc::new(VecSource::new("billing", changes.clone())),
        Arc::new(OdooConnector::new(odoo.clone())),
        state.clone(),
    )
    .build()
    .unwrap()
    .run()
    .await
    .unwrap();
    assert_eq!(
        (summary.created, summary.dead_lettered),
        (1, 1),
        "{summary:?}"
    );
    let letters = state.letters("invoice").await.unwrap();
    assert_eq!(letters[0].error.kind, ConnectorErrorKind::PeriodLocked);
    assert!(
        letters[0]
            .error
            .message
            .contains("fiscalyear_lock_date 2026-10-31"),
        "{:?}",
        letters[0].error
    );
    assert!(
        dated("2026-10-15").is_empty(),
        "nothing written into the locked period"
    );
    assert_eq!(dated("2026-11-15").len(), 1);

    // What the hold prevents: the same invoice sent without it.
    let mut unguarded = ModelMap::invoice();
    unguarded.period_date = None;
    let summary = Pipeline::<Invoice>::builder(
        "billing-unguarded",
        Arc::new(VecSource::new("other", changes)),
        Arc::new(OdooConnector::new(odoo).with_map(unguarded)),
        Arc::new(MemoryStore::new()),
    )
    .build()
    .unwrap()
    .run()
    .await
    .unwrap();
    assert_eq!(summary.created, 2, "{summary:?}");
    let moved = dated("2026-10-15");
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0]["date"], "2026-11-01", "booked after the lock");
}
