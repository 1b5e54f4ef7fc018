#![allow(clippy::unwrap_used)]
//! The Gusto connector against the stateful fake: OAuth with single-use
//! refresh tokens, reads, hours written with one re-merge on 409, limits
//! and typed errors.

use async_trait::async_trait;
use chrono::{Days, NaiveDate, Utc};
use odoo_integration_connectors::gusto::{
    AppCredentials, GustoConnector, MemoryTokenStore, TokenStore, Tokens,
};
use odoo_integration_connectors::{
    ConnectorError, ConnectorErrorKind, Cursor, Operation, Outcome, Page, Sink, SinkRecord, Source,
    SourceChange,
};
use odoo_integration_fakes::gusto::{FakeGusto, Fault};
use odoo_integration_model::{
    ApprovalState, CanonicalId, Employee, EmploymentStatus, PayStatement, PayrollRun, Policy,
    RemoteId, SystemId, TimeOff,
};
use rust_decimal::Decimal;
use serde_json::json;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CLIENT_ID: &str = "app-client-id";
const CLIENT_SECRET: &str = "app-client-secret-DO-NOT-LEAK";

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<GustoConnector>();
    send_sync::<FakeGusto>();
};

async fn fake() -> Arc<FakeGusto> {
    let fake = FakeGusto::start().await.unwrap();
    fake.allow_client(CLIENT_ID, CLIENT_SECRET);
    Arc::new(fake)
}

fn tokens_of(fake: &FakeGusto) -> Tokens {
    let pair = fake.grant();
    Tokens::new(pair.access_token, pair.refresh_token, pair.expires_at)
}

fn connector(fake: &FakeGusto, store: Arc<dyn TokenStore>) -> GustoConnector {
    GustoConnector::builder(
        fake.company_uuid(),
        AppCredentials::new(CLIENT_ID, CLIENT_SECRET),
        store,
    )
    .base_url(fake.url())
    .build()
    .unwrap()
}

async fn setup() -> (Arc<FakeGusto>, Arc<MemoryTokenStore>, GustoConnector) {
    let fake = fake().await;
    let store = Arc::new(MemoryTokenStore::new(tokens_of(&fake)));
    let gusto = connector(&fake, store.clone());
    (fake, store, gusto)
}

fn day(offset: i64) -> NaiveDate {
    let today = Utc::now().date_naive();
    if offset >= 0 {
        today
            .checked_add_days(Days::new(offset.unsigned_abs()))
            .unwrap()
    } else {
        today
            .checked_sub_days(Days::new(offset.unsigned_abs()))
            .unwrap()
    }
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn upsert<E>(c: &SourceChange<E>) -> &E {
    match &c.operation {
        Operation::Upsert(e) => e,
        Operation::Delete => panic!("expected an upsert"),
    }
}

async fn read_all<E: odoo_integration_model::Entity>(
    source: &dyn Source<E>,
    limit: usize,
) -> Vec<SourceChange<E>> {
    let mut cursor: Option<Cursor> = None;
    let mut all = Vec::new();
    for _ in 0..100 {
        let page: Page<E> = source.read(cursor.as_ref(), limit).await.unwrap();
        assert!(page.changes.len() <= limit);
        all.extend(page.changes);
        cursor = Some(page.next);
        if !page.has_more {
            return all;
        }
    }
    panic!("the feed did not end");
}

// ------------------------------------------------------------------ reads

fn seed_employees(fake: &FakeGusto) -> Vec<String> {
    let boss = fake.add_employee(json!({
        "first_name": "Maja", "last_name": "Berg", "employee_code": "E001",
        "work_email": "maja@firm.example", "department": "Delivery",
        "jobs": [{"uuid": "j1", "primary": true, "title": "Partner", "hire_date": "2019-02-01",
                  "rate": "150000.00", "payment_unit": "Year", "current_compensation_uuid": "c1",
                  "compensations": [{"uuid": "c1", "rate": "150000.00", "payment_unit": "Year"}]}]
    }));
    let ann = fake.add_employee(json!({
        "first_name": "Ann", "last_name": "Lee", "employee_code": "E002", "manager_uuid": boss,
        "email": "ann@home.example", "work_email": null, "department": "Delivery",
        "jobs": [{"uuid": "j2", "primary": true, "title": "Consultant", "hire_date": "2024-06-09",
                  "rate": "55.25", "payment_unit": "Hour", "current_compensation_uuid": "c2",
                  "compensations": [{"uuid": "c2", "rate": "55.25", "payment_unit": "Hour"}]}]
    }));
    let gone = fake.add_employee(json!({
        "first_name": "Olle", "last_name": "Sand", "employee_code": "E003", "terminated": true,
        "terminations": [{"uuid": "t1", "active": true, "effective_date": "2025-03-31"}],
        "jobs": [{"uuid": "j3", "primary": true, "title": "Analyst", "hire_date": "2021-01-04"}]
    }));
    let mut ids = vec![boss, ann, gone];
    for i in 4..=5 {
        ids.push(fake.add_employee(json!({"first_name": format!("P{i}"), "last_name": "Person"})));
    }
    ids
}

#[tokio::test]
async fn employees_are_paged_and_mapped() {
    let (fake, _store, gusto) = setup().await;
    let ids = seed_employees(&fake);
    let all = read_all::<Employee>(&gusto, 2).await;
    let got: Vec<&str> = all.iter().map(|c| c.remote_id.as_str()).collect();
    assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
    // Three pages of two, by page/per.
    let queries: Vec<String> = fake
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/employees"))
        .map(|c| c.query.clone())
        .collect();
    assert_eq!(
        queries,
        ["page=1&per=2", "page=2&per=2", "page=3&per=2"].map(String::from)
    );
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.api_version.as_deref() == Some("2025-06-15"))
    );

    let boss = upsert(&all[0]);
    assert_eq!(
        (boss.name.as_str(), boss.employee_number.as_str()),
        ("Maja Berg", "E001")
    );
    assert_eq!(boss.job_title.as_deref(), Some("Partner"));
    assert_eq!(boss.hire_date, NaiveDate::from_ymd_opt(2019, 2, 1));
    assert!(boss.cost_rate.is_none(), "a salary is not an hourly cost");
    assert!(
        !all[0]
            .fields
            .as_ref()
            .unwrap()
            .contains(&"cost_rate".into())
    );

    let ann = upsert(&all[1]);
    // Her only address is personal: not a work email unless opted in.
    assert_eq!(ann.work_email, None);
    assert_eq!(ann.cost_rate.unwrap().amount(), dec("55.25"));
    assert_eq!(ann.cost_rate.unwrap().currency().as_str(), "USD");
    assert_eq!(all[1].refs["manager"].remote_id.as_str(), ids[0]);
    assert_eq!(ann.status, EmploymentStatus::Active);

    let gone = upsert(&all[2]);
    assert_eq!(gone.status, EmploymentStatus::Terminated);
    assert_eq!(gone.termination_date, NaiveDate::from_ymd_opt(2025, 3, 31));

    // The last page starts the next run from the top (a full read).
    let page: Page<Employee> = gusto.read(None, 100).await.unwrap();
    assert!(!page.has_more);
    let again: Page<Employee> = gusto.read(Some(&page.next), 100).await.unwrap();
    assert_eq!(again.changes.len(), 5);
}

#[tokio::test]
async fn employees_pass_the_source_conformance_checks() {
    let (fake, _store, gusto) = setup().await;
    seed_employees(&fake);
    odoo_integration_connectors::testkit::check_source::<Employee>(&gusto)
        .await
        .assert_ok();
}

fn seed_payrolls(fake: &FakeGusto, ann: &str, bo: &str) -> (String, String) {
    let processed = fake.add_payroll(json!({
        "pay_period": {"start_date": day(-30).to_string(), "end_date": day(-16).to_string()},
        "check_date": day(-12).to_string(),
    }));
    fake.add_compensation(
        &processed,
        json!({"employee_uuid": ann, "gross_pay": "2210.00", "net_pay": "1712.37",
               "hourly_compensations": [{"name": "Regular Hours", "hours": "40.000", "job_uuid": "j2", "amount": "2210.00"},
                                        {"name": "Overtime", "hours": "0.000", "job_uuid": "j2"}]}),
    );
    fake.add_compensation(
        &processed,
        json!({"employee_uuid": bo, "gross_pay": 1000.1, "net_pay": "800.05",
               "hourly_compensations": [{"name": "Regular Hours", "hours": "20.500", "job_uuid": "j9"}]}),
    );
    fake.process_payroll(&processed);
    let open = fake.add_payroll(json!({
        "pay_period": {"start_date": day(-15).to_string(), "end_date": day(-1).to_string()},
        "check_date": day(3).to_string(),
    }));
    for e in [ann, bo] {
        fake.add_compensation(
            &open,
            json!({"employee_uuid": e, "gross_pay": null, "net_pay": null,
                   "hourly_compensations": [{"name": "Regular Hours", "hours": "0.000", "job_uuid": "j2"},
                                            {"name": "Overtime", "hours": "0.000", "job_uuid": "j2"}]}),
        );
    }
    (processed, open)
}

#[tokio::test]
async fn payroll_runs_and_pay_statements_are_read() {
    let (fake, _store, gusto) = setup().await;
    let (processed, open) = seed_payrolls(&fake, "emp-ann", "emp-bo");
    // Outside the window (older than the 90-day lookback): not read.
    fake.add_payroll(json!({"pay_period": {"start_date": "2001-01-01", "end_date": "2001-01-15"}, "check_date": "2001-01-20", "processed": true}));

    let runs = read_all::<PayrollRun>(&gusto, 1).await;
    let ids: Vec<&str> = runs.iter().map(|c| c.remote_id.as_str()).collect();
    assert_eq!(ids, [processed.as_str(), open.as_str()]);
    let run = upsert(&runs[0]);
    assert_eq!(run.period_start, Some(day(-30)));
    assert_eq!(run.period_end, Some(day(-16)));
    assert_eq!(run.pay_date, Some(day(-12)));
    let list_call = fake
        .calls()
        .into_iter()
        .find(|c| c.path.ends_with("/payrolls"))
        .unwrap();
    assert!(
        list_call
            .query
            .contains("processing_statuses=processed,unprocessed"),
        "{}",
        list_call.query
    );
    assert!(
        list_call
            .query
            .contains(&format!("start_date={}", day(-90)))
    );

    let statements = read_all::<PayStatement>(&gusto, 10).await;
    assert_eq!(statements.len(), 2, "only the processed payroll's");
    let ann = &statements[0];
    assert_eq!(ann.remote_id.as_str(), format!("{processed}:emp-ann"));
    assert_eq!(ann.refs["run"].remote_id.as_str(), processed);
    assert_eq!(ann.refs["run"].entity, "payroll_run");
    assert_eq!(ann.refs["employee"].remote_id.as_str(), "emp-ann");
    let s = upsert(ann);
    assert_eq!(s.gross.unwrap().amount(), dec("2210.00"));
    assert_eq!(s.net.unwrap().amount(), dec("1712.37"));
    assert_eq!(s.hours, Some(dec("40.000")));
    let bo = upsert(&statements[1]);
    assert_eq!(
        bo.gross.unwrap().amount(),
        dec("1000.1"),
        "a number is read exactly"
    );
    assert_eq!(bo.hours, Some(dec("20.5")));
}

#[tokio::test]
async fn a_payroll_reopened_under_the_reader_reports_no_statements() {
    let (fake, _store, gusto) = setup().await;
    let (processed, _open) = seed_payrolls(&fake, "emp-ann", "emp-bo");
    // A processed payroll listed after it.
    let later = fake.add_payroll(json!({
        "pay_period": {"start_date": day(-20).to_string(), "end_date": day(-18).to_string()},
        "check_date": day(-17).to_string(), "off_cycle": true,
    }));
    fake.add_compensation(
        &later,
        json!({"employee_uuid": "emp-ann", "gross_pay": "100.00", "net_pay": "80.00",
               "fixed_compensations": [{"name": "Bonus", "amount": "100.00", "job_uuid": "j2"}]}),
    );
    fake.process_payroll(&later);
    // Listed as processed, then cancelled and calculated again before its
    // GET: Gusto shows hours but no gross or net pay.
    fake.reopen_before_next_get(&processed);
    let statements = read_all::<PayStatement>(&gusto, 10).await;
    let ids: Vec<&str> = statements.iter().map(|c| c.remote_id.as_str()).collect();
    assert_eq!(
        ids,
        [format!("{later}:emp-ann")],
        "a payroll that is not processed has no pay statements yet, and the next one is not skipped"
    );
    assert_eq!(
        upsert(&statements[0]).gross.unwrap().amount(),
        dec("100.00")
    );
    assert!(
        fake.calls()
            .iter()
            .any(|c| c.method == "GET" && c.path.ends_with(&processed)),
        "the payroll was read"
    );

    // Processed again: its statements, with their figures.
    assert!(fake.process_payroll(&processed));
    let statements = read_all::<PayStatement>(&gusto, 10).await;
    assert_eq!(statements.len(), 3);
    assert_eq!(
        statements[0].remote_id.as_str(),
        format!("{processed}:emp-ann")
    );
    let ann = upsert(&statements[0]);
    assert_eq!(ann.gross.unwrap().amount(), dec("2210.00"));
    assert_eq!(ann.net.unwrap().amount(), dec("1712.37"));
    assert_eq!(ann.hours, Some(dec("40.000")));
}

#[tokio::test]
async fn time_off_requests_are_read() {
    let (fake, _store, gusto) = setup().await;
    fake.add_time_off(
        json!({"status": "approved", "policy_type": "vacation", "request_type": "vacation",
        "days": {day(5).to_string(): "8.000", day(6).to_string(): "4.000"},
        "employee": {"uuid": "emp-ann", "full_name": "Ann Lee"}}),
    );
    fake.add_time_off(json!({"status": "pending", "request_type": "sick",
        "days": {day(-3).to_string(): "8.000"}, "employee": {"uuid": "emp-bo", "full_name": "Bo"}}));
    let all = read_all::<TimeOff>(&gusto, 1).await;
    assert_eq!(all.len(), 2);
    let sick = upsert(&all[0]);
    assert_eq!(sick.kind.as_deref(), Some("sick"));
    assert_eq!(sick.approval, ApprovalState::Submitted);
    let vacation = upsert(&all[1]);
    assert_eq!((vacation.start, vacation.end), (Some(day(5)), Some(day(6))));
    assert_eq!(vacation.hours, Some(dec("12.000")));
    assert_eq!(vacation.approval, ApprovalState::Approved);
    assert_eq!(all[1].refs["employee"].remote_id.as_str(), "emp-ann");
}

// ------------------------------------------------------------------ OAuth

/// A store that records, at each save, whether the new access token had
/// already been used against the API.
struct WatchingStore {
    inner: MemoryTokenStore,
    fake: Arc<FakeGusto>,
    used_before_save: Mutex<Vec<bool>>,
}

#[async_trait]
impl TokenStore for WatchingStore {
    async fn load(&self) -> odoo_integration_connectors::Result<Option<Tokens>> {
        self.inner.load().await
    }
    async fn save(&self, tokens: &Tokens) -> odoo_integration_connectors::Result<()> {
        let used = self
            .fake
            .calls()
            .iter()
            .any(|c| c.access_token.as_deref() == Some(tokens.expose_access_token()));
        self.used_before_save.lock().unwrap().push(used);
        // A slow store: nothing may use the pair until this returns.
        tokio::time::sleep(Duration::from_millis(30)).await;
        self.inner.save(tokens).await
    }
}

async fn sixteen_calls(gusto: &GustoConnector) {
    let calls = (0..16).map(|_| {
        let g = gusto.clone();
        tokio::spawn(async move { Source::<Employee>::read(&g, None, 10).await })
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap().unwrap();
    }
}

fn assert_single_refresh(fake: &FakeGusto, store: &WatchingStore, old: &Tokens) {
    assert_eq!(fake.refreshes(), 1, "exactly one refresh");
    assert_eq!(fake.invalid_grants(), 0);
    let presented = fake.refresh_tokens_presented();
    assert_eq!(presented, [old.expose_refresh_token().to_owned()]);
    assert_eq!(
        *store.used_before_save.lock().unwrap(),
        [false],
        "saved once, before use"
    );
    let new = store.inner.current().unwrap();
    assert_ne!(new, *old);
    let api_calls = fake.calls();
    let with_new = api_calls
        .iter()
        .filter(|c| c.access_token.as_deref() == Some(new.expose_access_token()))
        .count();
    assert_eq!(with_new, 16, "every call went out with the saved pair");
}

#[tokio::test]
async fn sixteen_concurrent_calls_on_an_expired_token_refresh_once() {
    let fake = fake().await;
    fake.add_employee(json!({"first_name": "Ann", "last_name": "Lee"}));
    fake.set_token_delay(Duration::from_millis(50));
    let pair = fake.grant();
    fake.expire_access_tokens();
    // The store knows it is expired: the refresh comes before any call.
    let old = Tokens::new(
        pair.access_token,
        pair.refresh_token,
        Utc::now() - chrono::TimeDelta::minutes(5),
    );
    let store = Arc::new(WatchingStore {
        inner: MemoryTokenStore::new(old.clone()),
        fake: fake.clone(),
        used_before_save: Mutex::new(Vec::new()),
    });
    let gusto = connector(&fake, store.clone());
    sixteen_calls(&gusto).await;
    assert_single_refresh(&fake, &store, &old);
    assert_eq!(fake.calls().len(), 16, "no call with the expired token");
}

#[tokio::test]
async fn sixteen_concurrent_401s_refresh_once() {
    let fake = fake().await;
    fake.add_employee(json!({"first_name": "Ann", "last_name": "Lee"}));
    fake.set_token_delay(Duration::from_millis(50));
    let old = tokens_of(&fake);
    let store = Arc::new(WatchingStore {
        inner: MemoryTokenStore::new(old.clone()),
        fake: fake.clone(),
        used_before_save: Mutex::new(Vec::new()),
    });
    let gusto = connector(&fake, store.clone());
    // Loaded and believed valid; then Gusto expires it.
    Source::<Employee>::read(&gusto, None, 10).await.unwrap();
    fake.expire_access_tokens();
    let before = fake.calls().len();
    sixteen_calls(&gusto).await;
    assert_eq!(fake.refreshes(), 1);
    assert_eq!(fake.invalid_grants(), 0);
    assert_eq!(
        fake.refresh_tokens_presented(),
        [old.expose_refresh_token().to_owned()]
    );
    assert_eq!(*store.used_before_save.lock().unwrap(), [false]);
    let refused = fake.calls()[before..]
        .iter()
        .filter(|c| c.status == 401)
        .count();
    assert!((1..=16).contains(&refused));
}

/// A store whose saves fail until told otherwise.
struct FlakyStore {
    inner: MemoryTokenStore,
    failing: AtomicBool,
}

#[async_trait]
impl TokenStore for FlakyStore {
    async fn load(&self) -> odoo_integration_connectors::Result<Option<Tokens>> {
        self.inner.load().await
    }
    async fn save(&self, tokens: &Tokens) -> odoo_integration_connectors::Result<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Store,
                "vault unreachable",
            ));
        }
        self.inner.save(tokens).await
    }
}

#[tokio::test]
async fn a_failing_token_store_fails_the_call_without_using_the_new_token() {
    let fake = fake().await;
    fake.add_employee(json!({"first_name": "Ann", "last_name": "Lee"}));
    let pair = fake.grant();
    let old = Tokens::new(pair.access_token, pair.refresh_token, Utc::now());
    let store = Arc::new(FlakyStore {
        inner: MemoryTokenStore::new(old.clone()),
        failing: AtomicBool::new(true),
    });
    let gusto = connector(&fake, store.clone());

    let err = Source::<Employee>::read(&gusto, None, 10)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::Store, "{err}");
    assert!(err.message().contains("vault unreachable"));
    assert_eq!(fake.refreshes(), 1);
    assert!(fake.calls().is_empty(), "the new token was not used");
    assert_eq!(store.inner.current().unwrap(), old);

    // Still failing: still not used, and no second refresh.
    assert_eq!(
        Source::<Employee>::read(&gusto, None, 10)
            .await
            .unwrap_err()
            .kind(),
        ConnectorErrorKind::Store
    );
    assert!(fake.calls().is_empty());

    // The store recovers: the kept pair is saved, then used.
    store.failing.store(false, Ordering::SeqCst);
    let page = Source::<Employee>::read(&gusto, None, 10).await.unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(
        fake.refreshes(),
        1,
        "the revoked refresh token is never sent again"
    );
    assert_eq!(fake.invalid_grants(), 0);
    let saved = store.inner.current().unwrap();
    assert_ne!(saved, old);
    assert_eq!(
        fake.calls()[0].access_token.as_deref(),
        Some(saved.expose_access_token())
    );
}

#[tokio::test]
async fn a_revoked_refresh_token_asks_for_reauthorisation() {
    let fake = fake().await;
    let pair = fake.grant();
    // Someone else used the refresh token first.
    let store = Arc::new(MemoryTokenStore::new(Tokens::new(
        pair.access_token.clone(),
        pair.refresh_token.clone(),
        Utc::now(),
    )));
    let other = connector(
        &fake,
        Arc::new(MemoryTokenStore::new(Tokens::new(
            pair.access_token,
            pair.refresh_token,
            Utc::now(),
        ))),
    );
    Source::<Employee>::read(&other, None, 10).await.unwrap();
    let gusto = connector(&fake, store);
    let err = Source::<Employee>::read(&gusto, None, 10)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::ReauthorizationNeeded);
    assert!(!err.is_retryable());
    assert!(err.message().contains("invalid_grant"), "{err}");
    assert!(err.message().contains("authorise the app again"), "{err}");
    assert_eq!(fake.invalid_grants(), 1);
}

/// A refresh whose reply is lost after Gusto rotated the pair: the call
/// fails as retryable, and the next one finds the held refresh token
/// revoked, which is a re-authorisation error, not a retry; the token
/// store saw both attempts and no new pair.
#[tokio::test]
async fn a_lost_refresh_reply_asks_for_reauthorisation() {
    let fake = fake().await;
    let pair = fake.grant();
    let store = Arc::new(MemoryTokenStore::new(Tokens::new(
        pair.access_token,
        pair.refresh_token,
        Utc::now(), // expired: the first call refreshes
    )));
    let gusto = connector(&fake, store.clone());
    fake.lose_token_replies(1);
    let lost = Source::<Employee>::read(&gusto, None, 10)
        .await
        .unwrap_err();
    assert!(lost.is_retryable(), "{lost}");
    let revoked = Source::<Employee>::read(&gusto, None, 10)
        .await
        .unwrap_err();
    assert_eq!(
        revoked.kind(),
        ConnectorErrorKind::ReauthorizationNeeded,
        "{revoked}"
    );
    assert_eq!((store.refreshes(), store.saves()), (2, 0));
    assert_eq!(fake.invalid_grants(), 1);
}

// ------------------------------------------------------------------ hours

struct Ids {
    run: CanonicalId,
    ann: CanonicalId,
    bo: CanonicalId,
}

fn hours_record(
    ids: &Ids,
    employee: CanonicalId,
    payroll: &str,
    employee_uuid: &str,
    hours: &str,
) -> SinkRecord<PayStatement> {
    let statement = PayStatement {
        run: Some(ids.run),
        employee: Some(employee),
        hours: Some(dec(hours)),
        ..PayStatement::default()
    };
    SinkRecord::new(
        CanonicalId::new(),
        SystemId::odoo(),
        RemoteId::new(format!("odoo-{employee_uuid}")),
        Operation::Upsert(statement),
    )
    .with_link(ids.run, RemoteId::new(payroll))
    .with_link(employee, RemoteId::new(employee_uuid))
    .only(["hours"])
}

fn ids() -> Ids {
    Ids {
        run: CanonicalId::new(),
        ann: CanonicalId::new(),
        bo: CanonicalId::new(),
    }
}

fn payroll_puts(fake: &FakeGusto, payroll: &str) -> Vec<u16> {
    fake.calls()
        .iter()
        .filter(|c| c.method == "PUT" && c.path.ends_with(payroll))
        .map(|c| c.status)
        .collect()
}

#[tokio::test]
async fn hours_are_written_to_an_unprocessed_payroll_in_one_put() {
    let (fake, _store, gusto) = setup().await;
    let (_processed, open) = seed_payrolls(&fake, "emp-ann", "emp-bo");
    let ids = ids();
    let batch = vec![
        hours_record(&ids, ids.ann, &open, "emp-ann", "38.5"),
        hours_record(&ids, ids.bo, &open, "emp-bo", "12.25"),
    ];
    let outcomes = gusto.apply(batch.clone()).await.unwrap();
    assert!(
        outcomes.iter().all(|o| matches!(o, Outcome::Updated(_))),
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes[0].remote_id().unwrap().as_str(),
        format!("{open}:emp-ann")
    );
    assert_eq!(
        fake.regular_hours(&open, "emp-ann").as_deref(),
        Some("38.500")
    );
    assert_eq!(
        fake.regular_hours(&open, "emp-bo").as_deref(),
        Some("12.250")
    );
    assert_eq!(
        payroll_puts(&fake, &open),
        [200],
        "both employees in one PUT"
    );
    let put = fake
        .calls()
        .into_iter()
        .find(|c| c.method == "PUT" && c.path.ends_with(&open))
        .unwrap();
    assert_eq!(put.api_version.as_deref(), Some("2025-06-15"));

    // Replayed: nothing to write.
    let again = gusto.apply(batch).await.unwrap();
    assert!(
        again.iter().all(|o| matches!(o, Outcome::Unchanged(_))),
        "{again:?}"
    );
    assert_eq!(payroll_puts(&fake, &open), [200]);

    // A record whose hours the policy did not let through writes nothing;
    // one without links cannot be placed.
    let gross_only = hours_record(&ids, ids.ann, &open, "emp-ann", "1").only(["gross"]);
    let mut unlinked = hours_record(&ids, ids.ann, &open, "emp-ann", "1");
    unlinked.links.clear();
    let o = gusto.apply(vec![gross_only, unlinked]).await.unwrap();
    assert!(matches!(o[0], Outcome::Unchanged(_)));
    match &o[1] {
        Outcome::Failed(e) => assert_eq!(e.kind(), ConnectorErrorKind::UnresolvedReference),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        fake.regular_hours(&open, "emp-ann").as_deref(),
        Some("38.500")
    );
}

fn prepares(fake: &FakeGusto, payroll: &str) -> usize {
    fake.calls()
        .iter()
        .filter(|c| c.method == "PUT" && c.path.ends_with(&format!("{payroll}/prepare")))
        .count()
}

#[tokio::test]
async fn re_syncing_unchanged_hours_leaves_a_calculated_payroll_calculated() {
    let (fake, _store, gusto) = setup().await;
    let (_processed, open) = seed_payrolls(&fake, "emp-ann", "emp-bo");
    fake.set_regular_hours(&open, "emp-ann", "38.500");
    fake.set_regular_hours(&open, "emp-bo", "12.250");
    assert!(fake.calculate_payroll(&open));
    let ids = ids();
    let outcomes = gusto
        .apply(vec![
            hours_record(&ids, ids.ann, &open, "emp-ann", "38.5"),
            hours_record(&ids, ids.bo, &open, "emp-bo", "12.25"),
        ])
        .await
        .unwrap();
    assert!(
        outcomes.iter().all(|o| matches!(o, Outcome::Unchanged(_))),
        "{outcomes:?}"
    );
    assert_eq!(
        prepares(&fake, &open),
        0,
        "a prepare would un-calculate the payroll"
    );
    assert!(payroll_puts(&fake, &open).is_empty());
    assert!(fake.is_calculated(&open), "the payroll is still calculated");

    // One changed hour: that employee is prepared and written, and Gusto
    // then wants the payroll calculated again.
    let outcomes = gusto
        .apply(vec![
            hours_record(&ids, ids.ann, &open, "emp-ann", "38.5"),
            hours_record(&ids, ids.bo, &open, "emp-bo", "16"),
        ])
        .await
        .unwrap();
    assert!(matches!(outcomes[0], Outcome::Unchanged(_)), "{outcomes:?}");
    assert!(matches!(outcomes[1], Outcome::Updated(_)), "{outcomes:?}");
    assert_eq!(prepares(&fake, &open), 1);
    assert_eq!(payroll_puts(&fake, &open), [200]);
    assert_eq!(
        fake.regular_hours(&open, "emp-bo").as_deref(),
        Some("16.000")
    );
    assert_eq!(
        fake.regular_hours(&open, "emp-ann").as_deref(),
        Some("38.500")
    );
    assert!(!fake.is_calculated(&open));
}

#[tokio::test]
async fn a_stale_version_is_refetched_remerged_and_retried_once() {
    let (fake, _store, gusto) = setup().await;
    let (_processed, open) = seed_payrolls(&fake, "emp-ann", "emp-bo");
    let ids = ids();
    // Someone edits Bo's hours in Gusto while we write Ann's.
    fake.edit_before_next_put(&open, &[("emp-bo", "16.000")]);
    let outcomes = gusto
        .apply(vec![hours_record(&ids, ids.ann, &open, "emp-ann", "38.5")])
        .await
        .unwrap();
    assert!(matches!(outcomes[0], Outcome::Updated(_)), "{outcomes:?}");
    assert_eq!(payroll_puts(&fake, &open), [409, 200], "retried once");
    assert_eq!(
        fake.regular_hours(&open, "emp-ann").as_deref(),
        Some("38.500")
    );
    assert_eq!(
        fake.regular_hours(&open, "emp-bo").as_deref(),
        Some("16.000"),
        "the other edit is kept"
    );
    let prepares = fake
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/prepare"))
        .count();
    assert_eq!(prepares, 2, "the versions were fetched again");
}

/// Ann's hours (38.5) are written while someone sets them to 30 in Gusto,
/// under a policy that gives `pay_statement.hours` to `owner`.
async fn conflict_on_ann_hours(owner: &str) -> (Arc<FakeGusto>, String, Vec<Outcome>) {
    let fake = fake().await;
    let store = Arc::new(MemoryTokenStore::new(tokens_of(&fake)));
    let policy =
        Policy::from_toml(&format!("[pay_statement.fields]\nhours = \"{owner}\"\n")).unwrap();
    let gusto = GustoConnector::builder(
        fake.company_uuid(),
        AppCredentials::new(CLIENT_ID, CLIENT_SECRET),
        store,
    )
    .base_url(fake.url())
    .policy(policy)
    .build()
    .unwrap();
    let (_processed, open) = seed_payrolls(&fake, "emp-ann", "emp-bo");
    let ids = ids();
    fake.edit_before_next_put(&open, &[("emp-ann", "30.000")]);
    let outcomes = gusto
        .apply(vec![hours_record(&ids, ids.ann, &open, "emp-ann", "38.5")])
        .await
        .unwrap();
    (fake, open, outcomes)
}

#[tokio::test]
async fn the_remerge_keeps_gustos_hours_when_gusto_owns_them() {
    let (fake, open, outcomes) = conflict_on_ann_hours("gusto").await;
    match &outcomes[0] {
        Outcome::Failed(e) => {
            assert_eq!(e.kind(), ConnectorErrorKind::Conflict);
            assert!(e.message().contains("gusto owns"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        fake.regular_hours(&open, "emp-ann").as_deref(),
        Some("30.000")
    );
    assert_eq!(payroll_puts(&fake, &open), [409], "nothing left to send");
}

#[tokio::test]
async fn the_remerge_writes_our_hours_when_our_side_owns_them() {
    let (fake, open, outcomes) = conflict_on_ann_hours("odoo").await;
    assert!(matches!(outcomes[0], Outcome::Updated(_)), "{outcomes:?}");
    assert_eq!(
        fake.regular_hours(&open, "emp-ann").as_deref(),
        Some("38.500")
    );
    assert_eq!(payroll_puts(&fake, &open), [409, 200]);
}

#[tokio::test]
async fn a_second_stale_version_is_a_conflict_not_a_loop() {
    let (fake, _store, gusto) = setup().await;
    let (_processed, open) = seed_payrolls(&fake, "emp-ann", "emp-bo");
    let ids = ids();
    fake.edit_before_next_put(&open, &[]);
    fake.edit_before_next_put(&open, &[]);
    fake.edit_before_next_put(&open, &[]);
    let outcomes = gusto
        .apply(vec![
            hours_record(&ids, ids.ann, &open, "emp-ann", "38.5"),
            hours_record(&ids, ids.bo, &open, "emp-bo", "7"),
        ])
        .await
        .unwrap();
    for o in &outcomes {
        match o {
            Outcome::Failed(e) => {
                assert_eq!(e.kind(), ConnectorErrorKind::Conflict);
                assert!(e.message().contains("second stale version"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(payroll_puts(&fake, &open), [409, 409], "exactly one retry");
    assert_eq!(
        fake.regular_hours(&open, "emp-ann").as_deref(),
        Some("0.000")
    );
}

#[tokio::test]
async fn a_processed_payroll_refuses_hours() {
    let (fake, _store, gusto) = setup().await;
    let (processed, open) = seed_payrolls(&fake, "emp-ann", "emp-bo");
    let ids = ids();
    let outcomes = gusto
        .apply(vec![
            hours_record(&ids, ids.ann, &processed, "emp-ann", "1"),
            hours_record(&ids, ids.ann, &open, "emp-nobody", "1"),
        ])
        .await
        .unwrap();
    match &outcomes[0] {
        Outcome::Failed(e) => {
            assert_eq!(e.kind(), ConnectorErrorKind::Invalid);
            assert!(e.message().contains("processed"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    match &outcomes[1] {
        Outcome::Failed(e) => assert_eq!(e.kind(), ConnectorErrorKind::NotFound),
        other => panic!("{other:?}"),
    }
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.method != "PUT" || c.path.ends_with("/prepare"))
    );
    assert!(
        !fake
            .calls()
            .iter()
            .any(|c| c.path.contains(&processed) && c.method == "PUT")
    );
    assert_eq!(
        fake.regular_hours(&processed, "emp-ann").as_deref(),
        Some("40.000")
    );
}

// ------------------------------------------------------- limits and errors

#[tokio::test]
async fn a_429_is_rate_limited_and_pauses_the_connector() {
    let (fake, _store, gusto) = setup().await;
    fake.fail_next(
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        1,
    );
    let err = Source::<Employee>::read(&gusto, None, 10)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    let start = std::time::Instant::now();
    Source::<Employee>::read(&gusto, None, 10).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "the limiter held the next call back"
    );

    // The fake's own per-token budget: this token made one counted call.
    fake.set_rate_limit(1);
    let err = Source::<Employee>::read(&gusto, None, 10)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::RateLimited);
    let wait = err.retry_after().unwrap();
    assert!(wait > Duration::ZERO && wait <= Duration::from_secs(60));
    assert_eq!(
        odoo_integration_connectors::Connector::capabilities(&gusto).rate_limit,
        Some(odoo_integration_connectors::Quota::per_minute(200))
    );
}

#[tokio::test]
async fn gusto_errors_become_typed_errors() {
    let (fake, _store, gusto) = setup().await;
    let cases = [
        (
            Fault::Error {
                status: 422,
                category: "invalid_attribute_value".into(),
                message: "Hours must be positive".into(),
            },
            ConnectorErrorKind::Invalid,
        ),
        (
            Fault::Error {
                status: 403,
                category: "forbidden".into(),
                message: "Missing scope".into(),
            },
            ConnectorErrorKind::Forbidden,
        ),
        (
            Fault::Error {
                status: 409,
                category: "invalid_resource_version".into(),
                message: "out-of-date version".into(),
            },
            ConnectorErrorKind::Conflict,
        ),
        (Fault::HtmlPage(503), ConnectorErrorKind::Unavailable),
        (Fault::HtmlPage(404), ConnectorErrorKind::NotFound),
        (Fault::TruncatedBody, ConnectorErrorKind::Protocol),
    ];
    for (fault, kind) in cases {
        fake.fail_next(fault.clone(), 1);
        let err = Source::<Employee>::read(&gusto, None, 10)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{fault:?}: {err}");
        assert_eq!(err.system().map(|s| s.as_str()), Some("gusto"));
    }
    // An unknown company: Gusto's 404.
    let store = Arc::new(MemoryTokenStore::new(tokens_of(&fake)));
    let other = GustoConnector::builder(
        "no-such-company",
        AppCredentials::new(CLIENT_ID, CLIENT_SECRET),
        store,
    )
    .base_url(fake.url())
    .build()
    .unwrap();
    let err = Source::<PayrollRun>::read(&other, None, 10)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::NotFound);
    // A cursor that is not ours.
    let err = Source::<Employee>::read(&gusto, Some(&Cursor::new("garbage")), 10)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::Configuration);
}

#[tokio::test]
async fn secrets_never_reach_debug_or_errors() {
    let fake = fake().await;
    let pair = fake.grant();
    let tokens = Tokens::new(
        pair.access_token.clone(),
        pair.refresh_token.clone(),
        Utc::now(),
    );
    let store = Arc::new(FlakyStore {
        inner: MemoryTokenStore::new(tokens.clone()),
        failing: AtomicBool::new(true),
    });
    let app = AppCredentials::new(CLIENT_ID, CLIENT_SECRET);
    let builder = GustoConnector::builder(fake.company_uuid(), app.clone(), store.clone())
        .base_url(fake.url());
    let builder_debug = format!("{builder:?}");
    let gusto = builder.build().unwrap();
    // Fails after the refresh: the store refuses the new pair.
    let store_err = Source::<Employee>::read(&gusto, None, 10)
        .await
        .unwrap_err();
    // A refresh refused by Gusto (wrong secret).
    let wrong = GustoConnector::builder(
        fake.company_uuid(),
        AppCredentials::new(CLIENT_ID, "another-secret-value"),
        Arc::new(MemoryTokenStore::new(tokens_of(&fake).clone())),
    )
    .base_url(fake.url())
    .build()
    .unwrap();
    fake.expire_access_tokens();
    let refused = Source::<Employee>::read(&wrong, None, 10)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ConnectorErrorKind::Unauthorized);

    let new_pair = store.inner.current().unwrap();
    let texts = [
        builder_debug,
        format!("{gusto:?}"),
        format!("{app:?}"),
        format!("{tokens:?}"),
        format!("{store_err}"),
        format!("{store_err:?}"),
        format!("{refused}"),
        format!("{refused:?}"),
        format!("{:?}", store.inner),
    ];
    let secrets = [
        CLIENT_SECRET,
        "another-secret-value",
        &pair.access_token,
        &pair.refresh_token,
        new_pair.expose_access_token(),
    ];
    for text in &texts {
        for secret in &secrets {
            assert!(!text.contains(secret), "`{text}` shows a secret");
        }
    }
}

#[tokio::test]
async fn a_pair_refreshed_elsewhere_is_adopted_from_the_store() {
    let fake = fake().await;
    fake.add_employee(json!({"first_name": "Ann", "last_name": "Lee"}));
    let pair = fake.grant();
    let shared = Arc::new(MemoryTokenStore::new(Tokens::new(
        pair.access_token,
        pair.refresh_token,
        Utc::now() + chrono::TimeDelta::hours(2),
    )));
    // Two workers, one store: both load the pair.
    let first = connector(&fake, shared.clone());
    let second = connector(&fake, shared.clone());
    Source::<Employee>::read(&first, None, 10).await.unwrap();
    Source::<Employee>::read(&second, None, 10).await.unwrap();
    // The first refreshes (revoking the old refresh token) and saves.
    fake.expire_access_tokens();
    Source::<Employee>::read(&first, None, 10).await.unwrap();
    // The second's refresh is refused; it adopts the stored pair.
    Source::<Employee>::read(&second, None, 10).await.unwrap();
    assert_eq!(fake.refreshes(), 1);
    assert_eq!(fake.invalid_grants(), 1);
    assert_eq!(shared.saves(), 1);
}

#[tokio::test]
async fn pay_schedules_are_read_across_pages() {
    let (fake, _store, gusto) = setup().await;
    let first = fake.add_pay_schedule(json!({
        "frequency": "Every other week", "name": "Staff",
        "anchor_pay_date": "2026-11-20", "anchor_end_of_pay_period": "2026-11-15",
    }));
    for n in 0..100 {
        fake.add_pay_schedule(json!({"frequency": "Monthly", "name": format!("Team {n}")}));
    }
    let schedules = gusto.pay_schedules().await.unwrap();
    assert_eq!(schedules.len(), 101, "two pages of 100");
    let staff = schedules.iter().find(|s| s.uuid == first).unwrap();
    assert_eq!(staff.frequency, "Every other week");
    assert_eq!(
        staff.anchor_end_of_pay_period,
        NaiveDate::from_ymd_opt(2026, 11, 15)
    );
    assert_eq!(staff.name.as_deref(), Some("Staff"));
}

#[tokio::test]
async fn a_huge_token_lifetime_is_clamped_not_a_panic() {
    for lifetime in [i64::MAX, 10_000_000_000_000] {
        let fake = fake().await;
        fake.add_employee(json!({"first_name": "Ann", "last_name": "Lee"}));
        let pair = fake.grant();
        // The token endpoint now answers `expires_in` = `lifetime`.
        fake.set_token_lifetime(Duration::from_secs(lifetime.unsigned_abs()));
        let store = Arc::new(MemoryTokenStore::new(Tokens::new(
            pair.access_token,
            pair.refresh_token,
            Utc::now(),
        )));
        let gusto = connector(&fake, store.clone());
        let page = Source::<Employee>::read(&gusto, None, 10).await.unwrap();
        assert_eq!(page.changes.len(), 1, "expires_in {lifetime}");
        assert_eq!(fake.refreshes(), 1);
        // Trusted for a day at most, and still in the future.
        let saved = store.current().unwrap();
        let now = Utc::now();
        assert!(saved.expires_at() > now, "expires_in {lifetime}");
        assert!(
            saved.expires_at() <= now + chrono::TimeDelta::days(1),
            "expires_in {lifetime}: {:?}",
            saved.expires_at()
        );
        // And it keeps working: a 401 refreshes again, with the same
        // huge answer.
        fake.expire_access_tokens();
        let page = Source::<Employee>::read(&gusto, None, 10).await.unwrap();
        assert_eq!(page.changes.len(), 1);
        assert_eq!(fake.refreshes(), 2);
        assert_eq!(store.saves(), 2);
    }
}
