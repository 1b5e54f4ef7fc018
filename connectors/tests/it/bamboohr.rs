#![allow(clippy::unwrap_used)]
//! The BambooHR connector against the stateful fake: full and incremental
//! employee reads, cost rates, time off, rate limits and errors.

use chrono::{Days, NaiveDate, Utc};
use odoo_integration_connectors::bamboohr::{BambooHrConnector, Conversion, FieldMap};
use odoo_integration_connectors::{
    ConnectorErrorKind, Cursor, Operation, Quota, RateLimiter, Source, SourceChange,
};
use odoo_integration_fakes::bamboohr::{Compensation, FakeBambooHr, FakeTimeOff, Fault};
use odoo_integration_model::{ApprovalState, Currency, Employee, EmploymentStatus, Money, TimeOff};
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use std::time::Duration;

fn connector(fake: &FakeBambooHr) -> BambooHrConnector {
    BambooHrConnector::new(fake.company(), fake.api_key())
        .unwrap()
        .base_url(&fake.url())
        .settle(Duration::ZERO)
        .limiter(RateLimiter::new(Quota::unlimited()))
}

/// Reads until the feed says there is no more; returns the changes and
/// the last cursor.
async fn drain<E: odoo_integration_model::Entity>(
    source: &dyn Source<E>,
    mut cursor: Option<Cursor>,
    limit: usize,
) -> (Vec<SourceChange<E>>, Cursor, usize) {
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let page = source.read(cursor.as_ref(), limit).await.unwrap();
        pages += 1;
        assert!(page.changes.len() <= limit);
        all.extend(page.changes);
        cursor = Some(page.next);
        if !page.has_more {
            return (all, cursor.unwrap(), pages);
        }
        assert!(pages < 1000, "the feed does not end");
    }
}

fn upserted(c: &SourceChange<Employee>) -> &Employee {
    match &c.operation {
        Operation::Upsert(e) => e,
        Operation::Delete => panic!("{} is a delete", c.remote_id),
    }
}

fn has_field<E>(c: &SourceChange<E>, field: &str) -> bool {
    c.fields
        .as_ref()
        .is_some_and(|f| f.iter().any(|x| x == field))
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn seed(fake: &FakeBambooHr, n: usize) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(n);
    for i in 0..n {
        let manager = if i == 0 {
            String::new()
        } else {
            ids[(i - 1) / 10].clone()
        };
        let id = fake.insert_employee([
            ("employeeNumber", format!("E{:04}", i + 1)),
            ("firstName", format!("First{i}")),
            ("lastName", format!("Last{i}")),
            ("workEmail", format!("person{i}@acme.example")),
            ("department", format!("Dept{}", i % 7)),
            ("jobTitle", "Consultant".to_owned()),
            ("supervisorEId", manager),
            ("hireDate", "2020-03-01".to_owned()),
            ("terminationDate", "0000-00-00".to_owned()),
            ("workPhone", "+1 555 0100".to_owned()),
        ]);
        ids.push(id);
    }
    ids
}

#[tokio::test]
async fn first_full_read_of_300_employees_with_manager_references() {
    let fake = FakeBambooHr::start().await.unwrap();
    let ids = seed(&fake, 300);
    let bamboo = connector(&fake).compensation(false);

    let (changes, cursor, pages) = drain::<Employee>(&bamboo, None, 100).await;
    assert_eq!(pages, 3);
    assert_eq!(changes.len(), 300);
    let distinct: BTreeSet<&str> = changes.iter().map(|c| c.remote_id.as_str()).collect();
    assert_eq!(distinct.len(), 300);

    let first = &changes[0];
    assert_eq!(first.remote_id.as_str(), ids[0]);
    let e = upserted(first);
    assert_eq!(e.employee_number, "E0001");
    assert_eq!(e.name, "First0 Last0");
    assert_eq!(e.work_email.as_deref(), Some("person0@acme.example"));
    assert_eq!(e.department.as_deref(), Some("Dept0"));
    assert_eq!(e.job_title.as_deref(), Some("Consultant"));
    assert_eq!(e.status, EmploymentStatus::Active);
    assert_eq!(e.hire_date, Some(day("2020-03-01")));
    assert_eq!(e.termination_date, None);
    assert!(first.refs.is_empty(), "the CEO has no manager");
    // Work phone is the ERP's unless mapped; cost rate not read.
    assert!(e.work_phone.is_none() && !has_field(first, "work_phone"));
    assert!(!has_field(first, "cost_rate"));
    assert!(has_field(first, "manager"));

    let c57 = changes
        .iter()
        .find(|c| c.remote_id.as_str() == ids[57])
        .unwrap();
    let manager = &c57.refs["manager"];
    assert_eq!(manager.entity, "employee");
    assert_eq!(manager.remote_id.as_str(), ids[5]);

    // Nothing changed: nothing more.
    let again = Source::<Employee>::read(&bamboo, Some(&cursor), 100)
        .await
        .unwrap();
    assert!(again.changes.is_empty() && !again.has_more);
    // One report for the whole run, not one per page.
    assert_eq!(fake.call_count("/reports/custom"), 1);
}

#[tokio::test]
async fn mapped_work_phone_and_custom_cost_rate_field() {
    let fake = FakeBambooHr::start().await.unwrap();
    let id = fake.insert_employee([
        ("firstName", "Ann"),
        ("lastName", "Lee"),
        ("workPhone", "+1 555 0101"),
        ("customCostRate", "72.25 EUR"),
    ]);
    let bamboo = connector(&fake)
        .field(FieldMap::text("work_phone", "workPhone"))
        .field(FieldMap::new(
            "cost_rate",
            "customCostRate",
            Conversion::money(),
        ));
    let (changes, _, _) = drain::<Employee>(&bamboo, None, 10).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].remote_id.as_str(), id);
    let e = upserted(&changes[0]);
    assert_eq!(e.work_phone.as_deref(), Some("+1 555 0101"));
    assert_eq!(
        e.cost_rate,
        Some(Money::new(Decimal::new(7225, 2), Currency::EUR))
    );
    // The custom field wins: the compensation table is not read.
    assert_eq!(fake.call_count("/tables/compensation"), 0);
}

#[tokio::test]
async fn changed_since_hands_out_each_change_exactly_once() {
    let fake = FakeBambooHr::start().await.unwrap();
    let ids = seed(&fake, 5);
    let bamboo = connector(&fake).compensation(false);
    let (first, cursor, _) = drain::<Employee>(&bamboo, None, 50).await;
    assert_eq!(first.len(), 5);

    fake.advance(Duration::from_secs(3600));
    assert!(fake.update_employee(&ids[0], [("jobTitle", "Principal")]));
    let newcomer = fake.insert_employee([
        ("employeeNumber", "E0100"),
        ("firstName", "New"),
        ("lastName", "Comer"),
        ("supervisorEId", ids[0].as_str()),
    ]);
    assert!(fake.terminate(&ids[1], day("2026-01-01")));
    assert!(fake.delete_employee(&ids[2]));

    let (changes, cursor, _) = drain::<Employee>(&bamboo, Some(cursor), 50).await;
    let got: Vec<(&str, bool)> = changes
        .iter()
        .map(|c| (c.remote_id.as_str(), c.operation.is_delete()))
        .collect();
    assert_eq!(
        got,
        vec![
            (ids[0].as_str(), false),
            (newcomer.as_str(), false),
            (ids[1].as_str(), false),
            (ids[2].as_str(), true),
        ]
    );
    assert_eq!(
        upserted(&changes[0]).job_title.as_deref(),
        Some("Principal")
    );
    assert_eq!(upserted(&changes[1]).name, "New Comer");
    assert_eq!(
        changes[1].refs["manager"].remote_id.as_str(),
        ids[0].as_str()
    );
    let gone = upserted(&changes[2]);
    assert_eq!(gone.status, EmploymentStatus::Terminated);
    assert_eq!(gone.termination_date, Some(day("2026-01-01")));
    // Each change is stamped with BambooHR's lastChanged.
    assert_eq!(changes[3].at, fake.employee(&ids[2]).unwrap().last_changed);

    // A rerun hands out nothing.
    let (rerun, cursor, _) = drain::<Employee>(&bamboo, Some(cursor), 50).await;
    assert!(rerun.is_empty(), "{rerun:?}");
    // And the next change comes alone.
    fake.update_employee(&ids[3], [("department", "Delivery")]);
    let (next, _, _) = drain::<Employee>(&bamboo, Some(cursor), 50).await;
    assert_eq!(next.len(), 1);
    assert_eq!(upserted(&next[0]).department.as_deref(), Some("Delivery"));
}

#[tokio::test]
async fn changes_in_the_same_second_are_neither_lost_nor_repeated() {
    let fake = FakeBambooHr::start().await.unwrap();
    let ids = seed(&fake, 4);
    let bamboo = connector(&fake).compensation(false);
    let (_, cursor, _) = drain::<Employee>(&bamboo, None, 50).await;

    fake.advance(Duration::from_secs(60));
    fake.set_tick(Duration::ZERO);
    fake.update_employee(&ids[0], [("jobTitle", "A")]);
    fake.update_employee(&ids[1], [("jobTitle", "B")]);
    assert_eq!(
        fake.employee(&ids[0]).unwrap().last_changed,
        fake.employee(&ids[1]).unwrap().last_changed
    );

    // One per page: the cursor stands inside the second.
    let page = Source::<Employee>::read(&bamboo, Some(&cursor), 1)
        .await
        .unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].remote_id.as_str(), ids[0]);
    assert!(page.has_more);
    // Another change lands in that same second after the read.
    fake.update_employee(&ids[2], [("jobTitle", "C")]);

    let (rest, cursor, _) = drain::<Employee>(&bamboo, Some(page.next), 1).await;
    let got: Vec<&str> = rest.iter().map(|c| c.remote_id.as_str()).collect();
    assert_eq!(got, vec![ids[1].as_str(), ids[2].as_str()]);
    let (rerun, _, _) = drain::<Employee>(&bamboo, Some(cursor), 1).await;
    assert!(rerun.is_empty(), "{rerun:?}");
}

#[tokio::test]
async fn cost_rate_from_hourly_and_yearly_compensation() {
    let fake = FakeBambooHr::start().await.unwrap();
    let hourly = fake.insert_employee([("firstName", "Hour")]);
    let yearly = fake.insert_employee([("firstName", "Year")]);
    let odd = fake.insert_employee([("firstName", "Odd")]);
    let future = fake.insert_employee([("firstName", "Future")]);
    let none = fake.insert_employee([("firstName", "None")]);
    fake.set_compensation(
        &hourly,
        [
            Compensation::new(day("2023-01-01"), "70.00", "USD", "Hour"),
            Compensation::new(day("2025-01-01"), "85.50", "USD", "Hour"),
        ],
    );
    fake.set_compensation(
        &yearly,
        [Compensation::new(
            day("2024-06-01"),
            "104000.00",
            "USD",
            "Year",
        )],
    );
    fake.set_compensation(
        &odd,
        [Compensation::new(
            day("2024-06-01"),
            "100000",
            "EUR",
            "Year",
        )],
    );
    fake.set_compensation(
        &future,
        [Compensation::new(day("2999-01-01"), "90", "USD", "Hour")],
    );
    let bamboo = connector(&fake);
    let (changes, _, _) = drain::<Employee>(&bamboo, None, 10).await;
    let by_id = |id: &str| changes.iter().find(|c| c.remote_id.as_str() == id).unwrap();

    assert_eq!(
        upserted(by_id(&hourly)).cost_rate,
        Some(Money::new(Decimal::new(8550, 2), Currency::USD))
    );
    assert_eq!(
        upserted(by_id(&yearly)).cost_rate,
        Some(Money::new(Decimal::from(50), Currency::USD))
    );
    // 100000 / 2080 = 48.076923…, kept to 4 decimals.
    assert_eq!(
        upserted(by_id(&odd)).cost_rate,
        Some(Money::new(Decimal::new(480_769, 4), Currency::EUR))
    );
    assert!(has_field(by_id(&yearly), "cost_rate"));
    // No current row: left out, not cleared.
    for id in [&future, &none] {
        assert!(upserted(by_id(id)).cost_rate.is_none());
        assert!(!has_field(by_id(id), "cost_rate"));
    }

    // Another yearly basis.
    let bamboo = connector(&fake).hours_per_year(Decimal::from(2000));
    let (changes, _, _) = drain::<Employee>(&bamboo, None, 10).await;
    let y = changes
        .iter()
        .find(|c| c.remote_id.as_str() == yearly)
        .unwrap();
    assert_eq!(
        upserted(y).cost_rate,
        Some(Money::new(Decimal::from(52), Currency::USD))
    );
}

#[tokio::test]
async fn a_key_refused_compensation_leaves_cost_rate_out() {
    let fake = FakeBambooHr::builder()
        .forbid_compensation(true)
        .start()
        .await
        .unwrap();
    let ids = seed(&fake, 3);
    for id in &ids {
        fake.set_compensation(
            id,
            [Compensation::new(day("2024-01-01"), "90", "USD", "Hour")],
        );
    }
    let bamboo = connector(&fake);
    let (changes, _, _) = drain::<Employee>(&bamboo, None, 10).await;
    assert_eq!(changes.len(), 3);
    for c in &changes {
        assert!(upserted(c).cost_rate.is_none());
        assert!(!has_field(c, "cost_rate"));
        assert!(has_field(c, "name"));
    }
    // Refused once, not asked again for the rest of the page.
    assert_eq!(fake.call_count("/tables/compensation"), 1);
}

#[tokio::test]
async fn time_off_requests_are_mapped() {
    let fake = FakeBambooHr::start().await.unwrap();
    let ann = fake.insert_employee([("firstName", "Ann")]);
    let today = Utc::now().date_naive();
    let d = |n: u64| today.checked_add_days(Days::new(n)).unwrap();
    let vacation = fake.add_time_off(
        FakeTimeOff::new(&ann, "Vacation", d(10), d(11))
            .days("2")
            .status("approved"),
    );
    let doctor = fake.add_time_off(FakeTimeOff::new(&ann, "Sick", d(3), d(3)).hours("2.5"));
    let denied = fake.add_time_off(
        FakeTimeOff::new(&ann, "Vacation", d(20), d(20))
            .days("0.5")
            .status("denied"),
    );
    let canceled = fake.add_time_off(
        FakeTimeOff::new(&ann, "Vacation", d(30), d(31))
            .days("2")
            .status("canceled"),
    );
    // Far outside the window: not read.
    fake.add_time_off(FakeTimeOff::new(&ann, "Sabbatical", d(900), d(901)));

    let bamboo = connector(&fake).hours_per_day(Decimal::new(75, 1));
    let (changes, cursor, pages) = drain::<TimeOff>(&bamboo, None, 3).await;
    assert_eq!(pages, 2);
    let ids: Vec<&str> = changes.iter().map(|c| c.remote_id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            vacation.as_str(),
            doctor.as_str(),
            denied.as_str(),
            canceled.as_str()
        ]
    );
    let record = |i: usize| match &changes[i].operation {
        Operation::Upsert(t) => t.clone(),
        Operation::Delete => panic!("delete"),
    };
    let v = record(0);
    assert_eq!(v.kind.as_deref(), Some("Vacation"));
    assert_eq!((v.start, v.end), (Some(d(10)), Some(d(11))));
    assert_eq!(v.hours, Some(Decimal::from(15))); // 2 days of 7.5 h
    assert_eq!(v.approval, ApprovalState::Approved);
    assert_eq!(changes[0].refs["employee"].remote_id.as_str(), ann);
    assert_eq!(changes[0].refs["employee"].entity, "employee");
    assert_eq!(record(1).hours, Some(Decimal::new(25, 1)));
    assert_eq!(record(1).approval, ApprovalState::Submitted);
    assert_eq!(record(2).approval, ApprovalState::Rejected);
    assert_eq!(record(2).hours, Some(Decimal::new(375, 2)));
    assert_eq!(record(3).approval, ApprovalState::Rejected);

    // The next pass re-reads the window: same requests, with changes.
    fake.set_time_off_status(&doctor, "approved");
    let (again, _, _) = drain::<TimeOff>(&bamboo, Some(cursor), 10).await;
    assert_eq!(again.len(), 4);
    let doc = again
        .iter()
        .find(|c| c.remote_id.as_str() == doctor)
        .unwrap();
    assert!(
        matches!(&doc.operation, Operation::Upsert(t) if t.approval == ApprovalState::Approved)
    );
    // Status filter on the wire.
    let approved_only = connector(&fake).time_off_statuses(["approved"]);
    let (only, _, _) = drain::<TimeOff>(&approved_only, None, 10).await;
    assert_eq!(only.len(), 2);
    assert!(
        fake.calls()
            .iter()
            .any(|c| c.query.contains("status=approved"))
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_rate_limited_and_pauses_the_limiter() {
    let fake = FakeBambooHr::start().await.unwrap();
    seed(&fake, 2);
    let bamboo = connector(&fake);
    fake.fail_next(Fault::RateLimited {
        retry_after: Duration::from_secs(30),
    });
    let e = Source::<Employee>::read(&bamboo, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
    // The connector's limiter now holds every caller back.
    let waited =
        tokio::time::timeout(Duration::from_millis(200), bamboo.rate_limiter().acquire()).await;
    assert!(waited.is_err(), "the limiter was not paused");
}

/// A `Retry-After` of `u64::MAX` seconds (a broken or hostile proxy)
/// used to overflow the limiter's clock and panic; one of 31 years held
/// every later call. Both now fail the call with the requested wait and
/// leave the limiter free.
#[tokio::test]
async fn an_absurd_retry_after_neither_panics_nor_blocks_later_calls() {
    for secs in [u64::MAX, 1_000_000_000] {
        let fake = FakeBambooHr::start().await.unwrap();
        seed(&fake, 2);
        let bamboo = connector(&fake);
        fake.fail_next(Fault::RateLimited {
            retry_after: Duration::from_secs(secs),
        });
        let e = Source::<Employee>::read(&bamboo, None, 10)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(secs)));
        let free =
            tokio::time::timeout(Duration::from_millis(500), bamboo.rate_limiter().acquire()).await;
        assert!(
            free.is_ok(),
            "{secs} s: the limiter holds every caller back"
        );
        // The next read goes through.
        assert!(Source::<Employee>::read(&bamboo, None, 10).await.is_ok());
    }
}

#[tokio::test]
async fn a_throttling_503_and_a_spent_budget_are_rate_limited() {
    let fake = FakeBambooHr::builder()
        .rate_limit(1, Duration::from_secs(60))
        .retry_after(Duration::from_secs(12))
        .start()
        .await
        .unwrap();
    seed(&fake, 2);
    fake.fail_next(Fault::Throttled {
        retry_after: Duration::from_secs(5),
    });
    let e = Source::<Employee>::read(&connector(&fake), None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(5)));

    // The budget of one: the change log passes, the report is refused.
    let e = Source::<Employee>::read(&connector(&fake), None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(12)));
    assert!(e.message().contains("Rate limit exceeded"), "{e}");
    assert_eq!(fake.calls().last().map(|c| c.status), Some(429));
}

#[tokio::test]
async fn the_error_message_header_becomes_the_message() {
    let fake = FakeBambooHr::start().await.unwrap();
    seed(&fake, 1);
    let bamboo = connector(&fake);
    fake.fail_next(Fault::Message {
        status: 400,
        message: "Invalid since timestamp".into(),
    });
    let e = Source::<Employee>::read(&bamboo, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Invalid);
    assert!(e.message().contains("Invalid since timestamp"), "{e}");
    assert!(e.message().contains("HTTP 400"), "{e}");

    for (status, kind) in [
        (403, ConnectorErrorKind::Forbidden),
        (404, ConnectorErrorKind::NotFound),
        (500, ConnectorErrorKind::Unavailable),
    ] {
        fake.fail_next(Fault::Message {
            status,
            message: "nope".into(),
        });
        let e = Source::<Employee>::read(&bamboo, None, 10)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), kind, "{status}");
    }
}

#[tokio::test]
async fn an_html_503_and_a_truncated_body_are_typed_errors() {
    let fake = FakeBambooHr::start().await.unwrap();
    seed(&fake, 3);
    let bamboo = connector(&fake);

    fake.fail_next(Fault::Status(503));
    let e = Source::<Employee>::read(&bamboo, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Unavailable);
    assert!(e.is_retryable());
    assert!(e.message().contains("HTML"), "{e}");

    fake.fail_next(Fault::Truncated);
    let e = Source::<Employee>::read(&bamboo, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Protocol);

    // A 200 that is an HTML page (a captive portal) is no JSON either.
    fake.fail_next(Fault::Status(200));
    let e = Source::<TimeOff>::read(&bamboo, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Protocol);

    // Afterwards all is well again.
    let (changes, _, _) = drain::<Employee>(&bamboo, None, 10).await;
    assert_eq!(changes.len(), 3);
}

#[tokio::test]
async fn the_api_key_is_never_in_debug_or_errors() {
    let fake = FakeBambooHr::start().await.unwrap();
    seed(&fake, 1);
    let secret = "sk-very-secret-bamboo-key-123";
    let bamboo = BambooHrConnector::new(fake.company(), secret)
        .unwrap()
        .base_url(&fake.url())
        .limiter(RateLimiter::new(Quota::unlimited()));
    assert!(!format!("{bamboo:?}").contains(secret));
    assert!(format!("{bamboo:?}").contains("redacted"));

    let e = Source::<Employee>::read(&bamboo, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Unauthorized);
    for text in [e.to_string(), format!("{e:?}"), e.message().to_owned()] {
        assert!(!text.contains(secret), "{text}");
    }
    // Nor when the server cannot be reached.
    let offline = BambooHrConnector::new("acme", secret)
        .unwrap()
        .base_url("http://127.0.0.1:9");
    let e = Source::<Employee>::read(&offline, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Transport);
    assert!(!format!("{e} {e:?}").contains(secret));
}

#[tokio::test]
async fn the_employee_source_passes_the_conformance_suite() {
    let fake = FakeBambooHr::start().await.unwrap();
    let ids = seed(&fake, 6);
    fake.set_compensation(
        &ids[0],
        [Compensation::new(day("2024-01-01"), "95", "USD", "Hour")],
    );
    fake.delete_employee(&ids[5]);
    let bamboo = connector(&fake);
    odoo_integration_connectors::testkit::check_source::<Employee>(&bamboo)
        .await
        .assert_ok();
}

#[test]
fn the_connector_is_send_sync_and_a_trait_object() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<BambooHrConnector>();
    let c = BambooHrConnector::new("acme", "k").unwrap();
    let _: &dyn Source<Employee> = &c;
    let _: &dyn Source<TimeOff> = &c;
}

/// A field the API key may not see is left out of BambooHR's report,
/// with 200: the connector does not claim it, so the value a sync already
/// has for it (in Odoo, say) is not cleared; the fields it did answer are
/// claimed, empty ones included.
#[tokio::test]
async fn fields_the_key_may_not_see_are_not_claimed() {
    let fake = FakeBambooHr::start().await.unwrap();
    fake.insert_employee([
        ("firstName", "Ann"),
        ("lastName", "Lee"),
        ("jobTitle", "Engineer"),
    ]);
    fake.hide_field("jobTitle");
    let hr = connector(&fake);
    let page = Source::<Employee>::read(&hr, None, 10).await.unwrap();
    let change = &page.changes[0];
    let fields = change.fields.as_ref().unwrap();
    assert!(!fields.contains(&"job_title".to_owned()), "{fields:?}");
    assert!(fields.contains(&"name".to_owned()), "{fields:?}");
    // Answered but empty: claimed, as empty.
    assert!(fields.contains(&"work_email".to_owned()), "{fields:?}");
    let Operation::Upsert(ann) = &change.operation else {
        panic!("{change:?}")
    };
    assert_eq!(ann.job_title, None);
}

/// A field BambooHR does not know at all (a misspelt or deleted custom
/// field) is left out of the report with 200, like a hidden one: it is
/// not claimed, so it clears nothing; a known custom field that is empty
/// is claimed, as empty.
#[tokio::test]
async fn an_unknown_field_is_not_claimed() {
    let fake = FakeBambooHr::start().await.unwrap();
    fake.insert_employee([("firstName", "Ann"), ("lastName", "Lee")]);
    fake.define_field("customBillRate");
    let hr = connector(&fake)
        .compensation(false)
        .field(FieldMap::text("work_phone", "customDeskPhoen"))
        .field(FieldMap::new(
            "bill_rate",
            "customBillRate",
            Conversion::money(),
        ));
    let page = Source::<Employee>::read(&hr, None, 10).await.unwrap();
    let change = &page.changes[0];
    assert!(!has_field(change, "work_phone"), "{:?}", change.fields);
    assert!(has_field(change, "bill_rate"), "{:?}", change.fields);
    assert!(has_field(change, "name"), "{:?}", change.fields);
    assert_eq!(upserted(change).work_phone, None);
}

/// BambooHR names its error in `X-BambooHR-Error-Message` on some
/// endpoints and in `X-BambooHR-Message` (the header its specification
/// documents) on others: both become the error's message.
#[tokio::test]
async fn both_error_message_headers_become_the_message() {
    let fake = FakeBambooHr::start().await.unwrap();
    seed(&fake, 1);
    let bamboo = connector(&fake);
    let faults = [
        Fault::Message {
            status: 403,
            message: "Access to the changed feed denied".into(),
        },
        Fault::OtherMessage {
            status: 403,
            message: "Access to the changed feed denied".into(),
        },
    ];
    for fault in faults {
        fake.fail_next(fault.clone());
        let e = Source::<Employee>::read(&bamboo, None, 10)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ConnectorErrorKind::Forbidden, "{fault:?}");
        assert!(
            e.message().contains("Access to the changed feed denied"),
            "{fault:?}: {e}"
        );
    }
}

/// The base URL is checked: one that is no http(s) address, or that
/// carries a query, a fragment or credentials, is a configuration error
/// on the first request (typed, never a panic, never a request sent
/// elsewhere); a good one, trailing slash or not, is used by every
/// request.
#[tokio::test]
async fn a_bad_base_url_is_a_configuration_error() {
    let fake = FakeBambooHr::start().await.unwrap();
    seed(&fake, 1);
    let bad = [
        "not a url".to_owned(),
        "ftp://127.0.0.1/".to_owned(),
        "http://".to_owned(),
        format!("{}/?debug=1", fake.url()),
        format!("{}#top", fake.url()),
        format!(
            "http://user:pw@{}",
            fake.url().trim_start_matches("http://")
        ),
        String::new(),
    ];
    for url in &bad {
        let hr = connector(&fake).base_url(url);
        let e = Source::<Employee>::read(&hr, None, 10).await.unwrap_err();
        assert_eq!(e.kind(), ConnectorErrorKind::Configuration, "{url}: {e}");
        let e = Source::<TimeOff>::read(&hr, None, 10).await.unwrap_err();
        assert_eq!(e.kind(), ConnectorErrorKind::Configuration, "{url}: {e}");
    }
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
    // A good one after a bad one is used.
    let hr = connector(&fake)
        .base_url("not a url")
        .base_url(&format!("{}/", fake.url()));
    let (changes, _, _) = drain::<Employee>(&hr, None, 10).await;
    assert_eq!(changes.len(), 1);
    assert!(fake.calls().iter().all(|c| c.status == 200));
    // Every kind of request went there, the compensation table included.
    for path in [
        "/employees/changed",
        "/reports/custom",
        "/employees/all/tables/compensation",
    ] {
        assert_eq!(fake.call_count(path), 1, "{path}");
    }
    drain::<TimeOff>(&hr, None, 10).await;
    assert_eq!(fake.call_count("/time_off/requests"), 1);
}

/// Cost rates come from one read of the compensation table for every
/// employee (`/employees/all/tables/compensation`, rows naming their
/// `employeeId`), and the whole-company report is fetched once per run,
/// not once per page; later runs read the changed employees' rows in one
/// call (`/employees/changed/tables/compensation`).
#[tokio::test]
async fn one_compensation_read_and_one_report_per_run() {
    let fake = FakeBambooHr::start().await.unwrap();
    let ids = seed(&fake, 25);
    for (i, id) in ids.iter().enumerate() {
        fake.set_compensation(
            id,
            [Compensation::new(
                day("2024-01-01"),
                format!("{}", 50 + i),
                "USD",
                "Hour",
            )],
        );
    }
    let bamboo = connector(&fake);
    let (changes, cursor, pages) = drain::<Employee>(&bamboo, None, 10).await;
    assert_eq!((changes.len(), pages), (25, 3));
    for (i, id) in ids.iter().enumerate() {
        let c = changes.iter().find(|c| c.remote_id.as_str() == id).unwrap();
        assert_eq!(
            upserted(c).cost_rate,
            Some(Money::new(Decimal::from(50 + i), Currency::USD)),
            "{id}"
        );
    }
    assert_eq!(fake.call_count("/tables/compensation"), 1);
    assert_eq!(fake.call_count("/employees/all/tables/compensation"), 1);
    assert_eq!(fake.call_count("/reports/custom"), 1);

    // A later run: three raises, one read of the changed rows.
    fake.advance(Duration::from_secs(3600));
    for id in &ids[..3] {
        fake.set_compensation(
            id,
            [Compensation::new(day("2024-01-01"), "99", "USD", "Hour")],
        );
    }
    let before = fake.calls().len();
    let (changes, _, _) = drain::<Employee>(&bamboo, Some(cursor), 10).await;
    assert_eq!(changes.len(), 3);
    for c in &changes {
        assert_eq!(
            upserted(c).cost_rate,
            Some(Money::new(Decimal::from(99), Currency::USD))
        );
    }
    let later: Vec<_> = fake.calls()[before..].to_vec();
    let pay: Vec<&str> = later
        .iter()
        .filter(|c| c.path.ends_with("/tables/compensation"))
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(pay, vec!["/employees/changed/tables/compensation"]);
}

/// The change log can list an employee the report does not return yet
/// (the report lags, or the key may not see it): that change is kept in
/// the cursor and asked again on the next run, so the employee arrives
/// once the report has it; the changes around it are not repeated.
#[tokio::test]
async fn a_changed_employee_missing_from_the_report_comes_on_a_later_run() {
    let fake = FakeBambooHr::start().await.unwrap();
    let ids = seed(&fake, 3);
    let bamboo = connector(&fake).compensation(false);
    let (_, cursor, _) = drain::<Employee>(&bamboo, None, 10).await;

    fake.advance(Duration::from_secs(60));
    for (id, title) in ids.iter().zip(["A", "B", "C"]) {
        fake.update_employee(id, [("jobTitle", title)]);
    }
    fake.hide_employee(&ids[1], true);
    let (first, cursor, _) = drain::<Employee>(&bamboo, Some(cursor), 10).await;
    let got: Vec<&str> = first.iter().map(|c| c.remote_id.as_str()).collect();
    assert_eq!(got, vec![ids[0].as_str(), ids[2].as_str()]);

    // Still missing: still kept, nothing else comes again.
    let (second, cursor, _) = drain::<Employee>(&bamboo, Some(cursor), 10).await;
    assert!(second.is_empty(), "{second:?}");

    fake.hide_employee(&ids[1], false);
    let (third, cursor, _) = drain::<Employee>(&bamboo, Some(cursor), 10).await;
    assert_eq!(third.len(), 1, "{third:?}");
    assert_eq!(third[0].remote_id.as_str(), ids[1]);
    assert_eq!(upserted(&third[0]).job_title.as_deref(), Some("B"));
    assert_eq!(third[0].at, fake.employee(&ids[1]).unwrap().last_changed);

    let (fourth, _, _) = drain::<Employee>(&bamboo, Some(cursor), 10).await;
    assert!(fourth.is_empty(), "{fourth:?}");
}
