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
