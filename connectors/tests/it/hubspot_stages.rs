#![allow(clippy::unwrap_used)]
//! Deal stages per pipeline: a stage id means open, won or lost by its
//! pipeline's stage metadata, and a stage written is one of the deal's
//! own pipeline (the fake refuses others, as HubSpot does).

use odoo_integration_connectors::hubspot::{HubSpotConnector, ObjectMap, StageMap};
use odoo_integration_connectors::{
    Operation, Outcome, Quota, RateLimiter, Sink, SinkRecord, SourceChange, read_to_end,
};
use odoo_integration_fakes::hubspot::{FakeHubSpot, FakeStage};
use odoo_integration_model::{CanonicalId, Opportunity, OpportunityStage, RemoteId, SystemId};
use std::time::Duration;

fn connector(fake: &FakeHubSpot) -> HubSpotConnector {
    HubSpotConnector::new(fake.token())
        .unwrap()
        .base_url(&fake.url())
        .settle(Duration::ZERO)
        .limiter(RateLimiter::new(Quota::unlimited()))
}

/// The account's second pipeline: numeric stage ids, as HubSpot gives a
/// pipeline an account adds.
fn with_renewals(fake: &FakeHubSpot) {
    fake.add_deal_pipeline(
        "renewals",
        "Renewals",
        [
            FakeStage::open("93000001", "Up for renewal", "0.5"),
            FakeStage::open("93000002", "Quote sent", "0.8"),
            FakeStage::won("93000003", "Renewed"),
            FakeStage::lost("93000004", "Churned"),
        ],
    );
}

fn stage_of(c: &SourceChange<Opportunity>) -> OpportunityStage {
    match &c.operation {
        Operation::Upsert(d) => d.stage,
        Operation::Delete => panic!("{} is a delete", c.remote_id),
    }
}

fn deal(name: &str, stage: OpportunityStage) -> Opportunity {
    Opportunity {
        name: name.into(),
        stage,
        ..Default::default()
    }
}

fn record(origin_id: &str, data: Opportunity) -> SinkRecord<Opportunity> {
    SinkRecord::new(
        CanonicalId::new(),
        SystemId::odoo(),
        RemoteId::new(origin_id),
        Operation::Upsert(data),
    )
}

/// A deal at the won stage of another pipeline reads as won, and one at
/// its lost stage as lost; the stage names of the default pipeline play
/// no part.
#[tokio::test]
async fn stages_of_every_pipeline_read_by_their_meaning() {
    let fake = FakeHubSpot::start().await.unwrap();
    with_renewals(&fake);
    let won = fake.insert(
        "deals",
        [
            ("dealname", "Renewal A"),
            ("pipeline", "renewals"),
            ("dealstage", "93000003"),
        ],
    );
    let lost = fake.insert(
        "deals",
        [
            ("dealname", "Renewal B"),
            ("pipeline", "renewals"),
            ("dealstage", "93000004"),
        ],
    );
    let open = fake.insert(
        "deals",
        [
            ("dealname", "New C"),
            ("pipeline", "default"),
            ("dealstage", "contractsent"),
        ],
    );
    let hs = connector(&fake);
    let (changes, _) = read_to_end::<Opportunity>(&hs, None, 50).await.unwrap();
    let by_id = |id: &str| changes.iter().find(|c| c.remote_id.as_str() == id).unwrap();
    assert_eq!(stage_of(by_id(&won)), OpportunityStage::Won);
    assert_eq!(stage_of(by_id(&lost)), OpportunityStage::Lost);
    assert_eq!(stage_of(by_id(&open)), OpportunityStage::Open);
    assert!(
        by_id(&won)
            .fields
            .as_ref()
            .is_none_or(|f| f.iter().any(|f| f == "stage")),
        "the stage is claimed"
    );
}

/// A deal of another pipeline won in Odoo moves to that pipeline's won
/// stage (HubSpot refuses `closedwon` there); it stays in its pipeline.
#[tokio::test]
async fn a_won_deal_moves_to_the_won_stage_of_its_own_pipeline() {
    let fake = FakeHubSpot::start().await.unwrap();
    with_renewals(&fake);
    let id = fake.insert(
        "deals",
        [
            ("dealname", "Renewal A"),
            ("pipeline", "renewals"),
            ("dealstage", "93000001"),
        ],
    );
    let hs = connector(&fake);
    let update = record("so-1", deal("Renewal A", OpportunityStage::Won))
        .with_target(RemoteId::new(id.clone()))
        .only(["stage"]);
    let out = Sink::<Opportunity>::apply(&hs, vec![update]).await.unwrap();
    assert!(
        matches!(&out[0], Outcome::Updated(r) if r.as_str() == id),
        "{out:?}"
    );
    let stored = fake.record("deals", &id).unwrap();
    assert_eq!(stored.property("dealstage"), Some("93000003"));
    assert_eq!(stored.property("pipeline"), Some("renewals"));
}

/// An open deal written as open again keeps the stage a salesperson moved
/// it to; lost moves it to its pipeline's lost stage.
#[tokio::test]
async fn an_open_deal_keeps_its_open_stage() {
    let fake = FakeHubSpot::start().await.unwrap();
    with_renewals(&fake);
    let id = fake.insert(
        "deals",
        [
            ("dealname", "Renewal A"),
            ("pipeline", "renewals"),
            ("dealstage", "93000002"),
        ],
    );
    let hs = connector(&fake);
    let again = record("so-1", deal("Renewal A", OpportunityStage::Open))
        .with_target(RemoteId::new(id.clone()))
        .only(["stage"]);
    Sink::<Opportunity>::apply(&hs, vec![again]).await.unwrap();
    assert_eq!(
        fake.record("deals", &id).unwrap().property("dealstage"),
        Some("93000002")
    );
    let lost = record("so-1", deal("Renewal A", OpportunityStage::Lost))
        .with_target(RemoteId::new(id.clone()))
        .only(["stage"]);
    Sink::<Opportunity>::apply(&hs, vec![lost]).await.unwrap();
    assert_eq!(
        fake.record("deals", &id).unwrap().property("dealstage"),
        Some("93000004")
    );
}

/// New deals go in the pipeline the map names, at the first stage of the
/// wanted kind.
#[tokio::test]
async fn new_deals_go_in_the_configured_pipeline() {
    let fake = FakeHubSpot::start().await.unwrap();
    with_renewals(&fake);
    fake.unique_property("deals", "integration_sync_id");
    let mut deals = ObjectMap::deals();
    deals.stages = Some(StageMap::deals().new_in("renewals"));
    let hs = connector(&fake).object_map(deals);
    let out = Sink::<Opportunity>::apply(
        &hs,
        vec![
            record("so-1", deal("Open one", OpportunityStage::Open)),
            record("so-2", deal("Won one", OpportunityStage::Won)),
        ],
    )
    .await
    .unwrap();
    let stored = |o: &Outcome| {
        fake.record("deals", o.remote_id().unwrap().as_str())
            .unwrap()
    };
    assert_eq!(stored(&out[0]).property("pipeline"), Some("renewals"));
    assert_eq!(stored(&out[0]).property("dealstage"), Some("93000001"));
    assert_eq!(stored(&out[1]).property("dealstage"), Some("93000003"));
    // With the built-in map, the default pipeline.
    let plain = connector(&fake);
    let out = Sink::<Opportunity>::apply(
        &plain,
        vec![record("so-3", deal("Lost one", OpportunityStage::Lost))],
    )
    .await
    .unwrap();
    assert_eq!(stored(&out[0]).property("pipeline"), Some("default"));
    assert_eq!(stored(&out[0]).property("dealstage"), Some("closedlost"));
}

/// A pipeline added after the connector read them is found: the stage is
/// not known, so the pipelines are read again.
#[tokio::test]
async fn a_pipeline_added_later_is_read_again() {
    let fake = FakeHubSpot::start().await.unwrap();
    let hs = connector(&fake);
    fake.insert("deals", [("dealname", "Old"), ("dealstage", "closedwon")]);
    let (_, cursor) = read_to_end::<Opportunity>(&hs, None, 50).await.unwrap();
    with_renewals(&fake);
    let id = fake.insert(
        "deals",
        [
            ("dealname", "Renewal"),
            ("pipeline", "renewals"),
            ("dealstage", "93000003"),
        ],
    );
    let (changes, _) = read_to_end::<Opportunity>(&hs, Some(cursor), 50)
        .await
        .unwrap();
    let c = changes.iter().find(|c| c.remote_id.as_str() == id).unwrap();
    assert_eq!(stage_of(c), OpportunityStage::Won);
    assert_eq!(fake.call_count("/crm/v3/pipelines/deals"), 2);
}

/// A webhook's stage change names only the stage id: it is told by the
/// pipeline that has it.
#[tokio::test]
async fn a_webhook_stage_change_is_told_by_its_pipeline() {
    use odoo_integration_connectors::hubspot::WebhookEvent;
    let fake = FakeHubSpot::start().await.unwrap();
    with_renewals(&fake);
    let hs = connector(&fake);
    let body = br#"[{"eventId":1,"subscriptionType":"deal.propertyChange","objectId":555,"occurredAt":1795000000000,"propertyName":"dealstage","propertyValue":"93000004"}]"#;
    let events = WebhookEvent::parse_batch(body).unwrap();
    let changes = hs.changes::<Opportunity>(&events).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(stage_of(&changes[0]), OpportunityStage::Lost);
    assert_eq!(
        changes[0].fields.as_deref(),
        Some(&["stage".to_owned()][..])
    );
}
