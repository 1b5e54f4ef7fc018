//! Properties and behaviour of the canonical model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use odoo_integration_model::*;
use proptest::prelude::{Just, Strategy as Gen, prop_assert, prop_assert_eq, prop_oneof, proptest};
use rust_decimal::Decimal;

const POLICY: &str = r#"
[client]
default_owner = "odoo"
[client.fields]
industry = "salesforce"
website = { owner = "hubspot", strategy = "latest-wins" }
"address.*" = { owner = "odoo", strategy = "hold-for-review" }
"#;

fn policy() -> Policy {
    Policy::from_toml(POLICY).unwrap()
}

fn system() -> impl Gen<Value = SystemId> {
    prop_oneof![
        Just(SystemId::odoo()),
        Just(SystemId::salesforce()),
        Just(SystemId::hubspot())
    ]
}

fn text() -> impl Gen<Value = FieldValue> {
    prop_oneof![
        Just(FieldValue::Null),
        "[a-z]{0,6}".prop_map(FieldValue::Text)
    ]
}

fn client_field() -> impl Gen<Value = &'static str> {
    prop_oneof![
        Just("industry"),
        Just("website"),
        Just("tax_id"),
        Just("billing_terms"),
        Just("address.city"),
        Just("address.street"),
    ]
}

fn change() -> impl Gen<Value = Change> {
    (
        proptest::collection::btree_map(client_field(), text(), 0..5),
        0i64..1_000_000,
    )
        .prop_map(|(fields, secs)| {
            let mut c = Change::new("c", Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap());
            for (f, v) in fields {
                c = c.with(f, v);
            }
            c
        })
}

fn client() -> impl Gen<Value = ClientCompany> {
    (
        "[a-z]{0,5}",
        proptest::option::of("[a-z]{0,4}"),
        proptest::option::of("[a-z]{0,4}"),
        proptest::option::of("[a-z]{0,4}"),
        proptest::option::of(0i64..100),
    )
        .prop_map(|(legal_name, industry, tax_id, city, n)| ClientCompany {
            legal_name,
            industry,
            tax_id,
            address: Address {
                city,
                ..Default::default()
            },
            billing_terms: n.map(|n| format!("{n} days")),
            ..Default::default()
        })
}

proptest! {
    #[test]
    fn merging_twice_changes_nothing_the_second_time(start in client(), c in change(), src in system()) {
        let p = policy();
        let mut rec = CanonicalRecord::with_id(CanonicalId::from_u128(1), start);
        merge(&mut rec, &c, &src, &p).unwrap();
        let after_first = rec.clone();
        let second = merge(&mut rec, &c, &src, &p).unwrap();
        prop_assert!(second.applied.is_empty());
        prop_assert_eq!(rec, after_first);
    }

    #[test]
    fn non_owner_never_writes_an_owner_wins_field(start in client(), c in change(), src in system()) {
        let p = policy();
        let mut rec = CanonicalRecord::new(start.clone());
        let out = merge(&mut rec, &c, &src, &p).unwrap();
        for field in c.fields.keys() {
            let rule = p.rule("client", field);
            if rule.strategy == odoo_integration_model::Strategy::OwnerWins && rule.owner.as_ref() != Some(&src) {
                prop_assert_eq!(rec.data.get(field), start.get(field));
                prop_assert!(out.applied.iter().all(|a| &a.field != field));
            }
        }
    }

    #[test]
    fn apply_of_diff_gives_the_new_version(a in client(), b in client()) {
        prop_assert_eq!(apply(&diff(&a, &b), &a).unwrap(), b);
    }

    #[test]
    fn invoice_diff_roundtrips(ids_a in proptest::collection::btree_set(0u8..8, 0..6),
                               ids_b in proptest::collection::vec(0u8..8, 0..6),
                               q in 0i64..3) {
        let line = |i: &u8, q: i64| InvoiceLine { id: i.to_string(), quantity: Decimal::from(q + i64::from(*i)), ..Default::default() };
        let a = Invoice { lines: ids_a.iter().map(|i| line(i, 0)).collect(), ..Default::default() };
        let mut seen = std::collections::BTreeSet::new();
        let b = Invoice {
            number: Some("INV-1".into()),
            lines: ids_b.iter().filter(|i| seen.insert(**i)).map(|i| line(i, q)).collect(),
            ..Default::default()
        };
        prop_assert_eq!(InvoiceDiff::between(&a, &b).apply(&a).unwrap(), b);
    }

    #[test]
    fn reconciliation_mirrors(a in proptest::collection::vec((0u8..20, client()), 0..20),
                              b in proptest::collection::vec((0u8..20, client()), 0..20)) {
        let key = |v: Vec<(u8, ClientCompany)>| v.into_iter().map(|(k, c)| (k.to_string(), c)).collect::<Vec<_>>();
        let (a, b) = (key(a), key(b));
        prop_assert_eq!(reconcile(&a, &b, &[]).mirror(), reconcile(&b, &a, &[]));
    }
}

#[test]
fn merge_applies_refuses_and_holds_with_provenance() {
    let p = policy();
    let mut rec = CanonicalRecord::new(ClientCompany {
        legal_name: "Acme NV".into(),
        ..Default::default()
    });
    let t = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
    let c = Change::new("sf-1", t)
        .with("industry", FieldValue::Text("Retail".into()))
        .with("legal_name", FieldValue::Text("ACME".into()))
        .with("address.city", FieldValue::Text("Ghent".into()));
    let out = merge(&mut rec, &c, &SystemId::salesforce(), &p).unwrap();
    assert_eq!(out.applied.len(), 1);
    assert_eq!(out.applied[0].field, "industry");
    assert_eq!(out.refused.len(), 1);
    assert_eq!(out.refused[0].field, "legal_name");
    assert_eq!(out.refused[0].owner, Some(SystemId::odoo()));
    assert_eq!(out.held.len(), 1);
    assert_eq!(out.held[0].field, "address.city");
    assert_eq!(rec.data.legal_name, "Acme NV");
    assert!(rec.data.address.city.is_none());
    let h: Vec<_> = rec.history("industry").collect();
    assert_eq!(h.len(), 1);
    assert_eq!(&*h[0].change_id, "sf-1");
    assert_eq!(h[0].old, FieldValue::Null);
    // The trail serialises and reads back.
    let json = serde_json::to_string(&rec).unwrap();
    let back: CanonicalRecord<ClientCompany> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, rec);
}

#[test]
fn latest_wins_uses_the_source_change_time() {
    let p = policy();
    let mut rec = CanonicalRecord::new(ClientCompany::default());
    let t = |h| Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap();
    let site = |s: &str| FieldValue::Text(s.into());
    merge(
        &mut rec,
        &Change::new("h", t(10)).with("website", site("a.example")),
        &SystemId::hubspot(),
        &p,
    )
    .unwrap();
    let older = merge(
        &mut rec,
        &Change::new("o", t(9)).with("website", site("b.example")),
        &SystemId::odoo(),
        &p,
    )
    .unwrap();
    assert_eq!(older.refused.len(), 1);
    assert_eq!(rec.data.website.as_deref(), Some("a.example"));
    let newer = merge(
        &mut rec,
        &Change::new("o2", t(11)).with("website", site("c.example")),
        &SystemId::odoo(),
        &p,
    )
    .unwrap();
    assert_eq!(newer.applied.len(), 1);
    assert_eq!(rec.data.website.as_deref(), Some("c.example"));
}

#[test]
fn a_bad_field_leaves_the_record_untouched() {
    let p = policy();
    let mut rec = CanonicalRecord::new(ClientCompany::default());
    let c = Change::new("x", Utc::now())
        .with("industry", FieldValue::Text("IT".into()))
        .with("legal_nam", FieldValue::Text("typo".into()));
    let err = merge(&mut rec, &c, &SystemId::salesforce(), &p).unwrap_err();
    assert!(matches!(err, FieldError::UnknownField { .. }));
    assert!(rec.data.industry.is_none());
    assert!(rec.trail().is_empty());
}

#[test]
fn policy_mistakes_point_at_the_place() {
    let cases = [
        (
            "[client]\nstrategy = \"owner-loses\"\n",
            "line 2, column 12: unknown strategy `owner-loses`",
        ),
        (
            "[client.fields]\nindustry = \"salesforce\"\nindustri = \"odoo\"\n",
            "line 3, column 1: unknown field `industri` of client",
        ),
        (
            "[client.fields]\n\"adress.*\" = \"odoo\"\n",
            "line 2, column 1: unknown field `adress.*` of client",
        ),
        ("[clients]\n", "line 1, column 2: unknown entity `clients`"),
        (
            "[employee.fields]\ncost_rate = { owner = \"gusto\", strategy = \"first-wins\" }\n",
            "line 2, column 43: unknown strategy `first-wins`",
        ),
    ];
    for (src, want) in cases {
        let err = Policy::from_toml(src).unwrap_err().to_string();
        assert!(err.starts_with(want), "{src:?}: got {err}");
    }
    let json = [
        (
            r#"{"client": {"fields": {"industri": "odoo"}}}"#,
            "$.client.fields.industri: unknown field",
        ),
        (
            r#"{"client": {"fields": {"address.*": {"strategy": "x"}}}}"#,
            "$.client.fields[\"address.*\"].strategy: unknown strategy `x`",
        ),
        (r#"{"spaceship": {}}"#, "$.spaceship: unknown entity"),
    ];
    for (src, want) in json {
        let err = Policy::from_json(src).unwrap_err().to_string();
        assert!(err.starts_with(want), "{src:?}: got {err}");
    }
    let syntax = Policy::from_toml("[client\n").unwrap_err();
    assert!(
        matches!(
            syntax.mistakes(),
            [PolicyMistake::Syntax {
                at: Location::Toml { line: 1, .. },
                ..
            }]
        ),
        "{syntax:?}"
    );
}

#[test]
fn every_policy_mistake_is_listed_in_file_order() {
    // TOML reads tables sorted by name; the mistakes still come by line.
    let toml = "\
[employee]
strategy = \"first-wins\"
[client.fields]
website = { owner = \"\", seed = \"sometimes\" }
industri = \"odoo\"
[aardvark]
";
    let err = Policy::from_toml(toml).unwrap_err();
    let at: Vec<String> = err.mistakes().iter().map(|m| m.at().to_string()).collect();
    assert_eq!(
        at,
        [
            "line 2, column 12",
            "line 4, column 21",
            "line 4, column 32",
            "line 5, column 1",
            "line 6, column 2"
        ],
        "{err}"
    );
    assert!(matches!(
        err.mistakes()[2],
        PolicyMistake::UnknownSeed { ref seed, .. } if seed == "sometimes"
    ));
    assert_eq!(err.to_string().lines().count(), 5);

    // JSON keeps the order it was written in, not the alphabet's.
    let json = r#"{"employee": {"fields": {"zzz": "odoo"}, "strategy": "x"},
                   "client": {"seed": "all", "fields": {"industry": "odoo", "industry": "hubspot"}}}"#;
    let err = Policy::from_json(json).unwrap_err();
    let at: Vec<String> = err.mistakes().iter().map(|m| m.at().to_string()).collect();
    assert_eq!(
        at,
        [
            "$.employee.fields.zzz",
            "$.employee.strategy",
            "$.client.seed",
            "$.client.fields.industry"
        ],
        "{err}"
    );
    assert!(matches!(err.mistakes()[3], PolicyMistake::Duplicate { .. }));
}

#[test]
fn seeding_is_any_unless_the_policy_says_owner_only() {
    let p = Policy::from_toml(
        r#"
[client]
default_owner = "odoo"
[client.fields]
"address.*" = { owner = "hubspot", seed = "owner-only" }
"address.city" = { strategy = "latest-wins" }
website = { seed = "owner-only" }
[contact]
seed = "owner-only"
[contact.fields]
phone = { owner = "hubspot", seed = "any" }
"#,
    )
    .unwrap();
    let hubspot = SystemId::hubspot();
    // Default: anyone seeds, owned or not.
    assert_eq!(p.rule("client", "industry").seed, Seed::Any);
    assert!(p.rule("client", "industry").seeds_from(&hubspot));
    // A field's own setting, and one inherited from its group with the
    // group's owner when the field names only a strategy.
    assert!(!p.rule("client", "website").seeds_from(&hubspot));
    let city = p.rule("client", "address.city");
    assert_eq!(
        (city.owner, city.strategy, city.seed),
        (Some(hubspot.clone()), Strategy::LatestWins, Seed::OwnerOnly)
    );
    assert!(p.rule("client", "address.city").seeds_from(&hubspot));
    assert!(
        !p.rule("client", "address.city")
            .seeds_from(&SystemId::odoo())
    );
    // The entity's setting, and a field that overrides it. An unowned
    // field is seeded by anyone even under owner-only.
    assert!(p.rule("contact", "email").seeds_from(&hubspot));
    assert_eq!(p.rule("contact", "phone").seed, Seed::Any);
    assert!(p.restricts_seeding("client") && p.restricts_seeding("contact"));
    assert!(!p.restricts_seeding("employee"));
}

#[test]
fn toml_and_json_policies_agree() {
    let json = r#"{"client": {"default_owner": "odoo", "fields": {"industry": "salesforce",
        "website": {"owner": "hubspot", "strategy": "latest-wins"},
        "address.*": {"owner": "odoo", "strategy": "hold-for-review"}}}}"#;
    assert_eq!(Policy::from_json(json).unwrap(), policy());
}

#[test]
fn ambiguous_matches_are_reported_not_merged() {
    let mk = |email: &str| Contact {
        email: Some(email.into()),
        ..Default::default()
    };
    let (x, y) = (mk("ann@example.com"), mk("ANN@example.com "));
    let incoming = mk("Ann@Example.com");
    let keys = [MatchKey::new("email", Normalize::Email)];
    let out = propose_match(
        &incoming,
        [
            (CanonicalId::from_u128(1), &x),
            (CanonicalId::from_u128(2), &y),
        ],
        &keys,
    );
    match out {
        MatchOutcome::Ambiguous(p) => {
            assert_eq!(p.len(), 2);
            assert_eq!(p[0].reasons, ["email = ann@example.com"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn identity_map_refuses_a_second_owner_of_a_remote_id() {
    let mut m = IdentityMap::default();
    let (a, b) = (CanonicalId::from_u128(1), CanonicalId::from_u128(2));
    m.link(a, SystemId::odoo(), RemoteId::new("7")).unwrap();
    m.link(a, SystemId::odoo(), RemoteId::new("7")).unwrap();
    assert!(matches!(
        m.link(b, SystemId::odoo(), RemoteId::new("7")),
        Err(IdentityError::AlreadyLinked { .. })
    ));
    assert!(matches!(
        m.link(a, SystemId::odoo(), RemoteId::new("8")),
        Err(IdentityError::SystemTaken { .. })
    ));
    assert_eq!(m.resolve(&SystemId::odoo(), &RemoteId::new("8")), None);
}

#[test]
fn money_of_two_currencies_does_not_add() {
    let eur: Money = "10.50 EUR".parse().unwrap();
    let usd: Money = "1 USD".parse().unwrap();
    assert!(matches!(
        eur.checked_add(&usd),
        Err(MoneyError::CurrencyMismatch { .. })
    ));
    let json = serde_json::to_string(&eur).unwrap();
    assert_eq!(json, r#"{"amount":"10.50","currency":"EUR"}"#);
    assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"eu"}"#).is_err());
}

#[test]
fn validation_reports_every_failure_with_codes() {
    let e = Engagement {
        billable: true,
        client: Some(CanonicalId::from_u128(1)),
        ..Default::default()
    };
    let f = Validator::billable_engagement().validate(&e);
    assert_eq!(
        f.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
        ["contract", "billing_terms", "tax_treatment"]
    );
    assert!(f.iter().all(|f| f.code == "engagement.billable.missing"));
    let approved = TimesheetEntry {
        approval: ApprovalState::Approved,
        date: chrono::NaiveDate::from_ymd_opt(2026, 1, 5),
        employee: Some(CanonicalId::from_u128(1)),
        engagement: Some(CanonicalId::from_u128(2)),
        ..Default::default()
    };
    assert!(Validator::payroll_ready().validate(&approved).is_empty());
    let draft = TimesheetEntry {
        approval: ApprovalState::Draft,
        ..approved
    };
    assert_eq!(
        Validator::payroll_ready().validate(&draft)[0].code,
        "timesheet.payroll.unapproved"
    );
}

#[test]
fn reconciliation_serialises_to_json_and_csv() {
    let a = vec![(
        "1".to_string(),
        ClientCompany {
            legal_name: "Acme, Inc".into(),
            ..Default::default()
        },
    )];
    let b = vec![(
        "1".to_string(),
        ClientCompany {
            legal_name: "Acme".into(),
            ..Default::default()
        },
    )];
    let r = reconcile(&a, &b, &["legal_name"]);
    assert_eq!(
        r.to_csv(),
        "status,key,field,a,b\nmismatched,1,legal_name,\"Acme, Inc\",Acme\n"
    );
    let v: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(v["mismatched"][0]["a"]["value"], "Acme, Inc");
}

#[test]
fn debug_of_personal_records_hides_pii() {
    let e = Employee {
        name: "Bo Lind".into(),
        work_email: Some("bo@x.example".into()),
        employee_number: "E1".into(),
        ..Default::default()
    };
    let s = format!("{e:?}");
    assert!(!s.contains("Lind") && !s.contains("bo@x"));
}

#[test]
fn records_stored_with_cross_references_still_load() {
    // Before 0.3, a canonical record carried its (never filled)
    // cross-references; the store's copies keep the key.
    let id = CanonicalId::from_u128(7);
    let mut stored = serde_json::to_value(CanonicalRecord::with_id(
        id,
        ClientCompany {
            legal_name: "Acme".into(),
            ..Default::default()
        },
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(stored.get("xrefs").is_none());
    stored["xrefs"] = serde_json::json!({"hubspot": "981"});
    let back: CanonicalRecord<ClientCompany> =
        serde_json::from_value(stored).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((back.id, back.data.legal_name.as_str()), (id, "Acme"));
}
