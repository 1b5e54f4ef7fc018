//! Deal pipelines and their stages: what `GET /crm/v3/pipelines/deals`
//! answers, and the rule every deal write is checked against (a deal's
//! `dealstage` must be a stage of its `pipeline`).

use serde_json::{Value, json};

/// A stage of a fake deal pipeline.
///
/// HubSpot tells a stage's meaning by its metadata, not its id: a closed
/// stage with probability 1 is won, a closed one with probability 0 is
/// lost, every other stage is open. Only the default pipeline's stages
/// have readable ids (`closedwon`); the stages of a pipeline an account
/// adds have numeric ids.
///
/// # Example
///
/// ```
/// use odoo_integration_fakes::hubspot::FakeStage;
/// let won = FakeStage::won("93000003", "Signed");
/// assert_eq!(won.id, "93000003");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeStage {
    /// The stage's id (`dealstage`'s value).
    pub id: String,
    /// Its label.
    pub label: String,
    /// `metadata.isClosed`.
    pub closed: bool,
    /// `metadata.probability`, as HubSpot writes it (`"0.2"`).
    pub probability: String,
}

impl FakeStage {
    /// An open stage with a win probability (`"0.4"`).
    ///
    /// # Example
    ///
    /// ```
    /// let s = odoo_integration_fakes::hubspot::FakeStage::open("93000001", "Scoping", "0.4");
    /// assert!(!s.closed);
    /// ```
    pub fn open(id: &str, label: &str, probability: &str) -> Self {
        FakeStage {
            id: id.into(),
            label: label.into(),
            closed: false,
            probability: probability.into(),
        }
    }

    /// A closed-won stage (closed, probability 1.0).
    ///
    /// # Example
    ///
    /// ```
    /// let s = odoo_integration_fakes::hubspot::FakeStage::won("93000003", "Signed");
    /// assert_eq!(s.probability, "1.0");
    /// ```
    pub fn won(id: &str, label: &str) -> Self {
        FakeStage {
            closed: true,
            ..FakeStage::open(id, label, "1.0")
        }
    }

    /// A closed-lost stage (closed, probability 0.0).
    ///
    /// # Example
    ///
    /// ```
    /// let s = odoo_integration_fakes::hubspot::FakeStage::lost("93000004", "No deal");
    /// assert!(s.closed);
    /// ```
    pub fn lost(id: &str, label: &str) -> Self {
        FakeStage {
            closed: true,
            ..FakeStage::open(id, label, "0.0")
        }
    }
}

/// A deal pipeline.
#[derive(Debug, Clone)]
struct Pipeline {
    id: String,
    label: String,
    stages: Vec<FakeStage>,
}

/// The deal pipelines of the fake account: HubSpot's default one (id
/// `default`) from the start, and those a test adds.
#[derive(Debug, Clone)]
pub(super) struct Pipelines {
    deals: Vec<Pipeline>,
}

impl Pipelines {
    pub(super) fn new() -> Self {
        let stages = [
            ("appointmentscheduled", "Appointment Scheduled", "0.2"),
            ("qualifiedtobuy", "Qualified To Buy", "0.4"),
            ("presentationscheduled", "Presentation Scheduled", "0.6"),
            ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
            ("contractsent", "Contract Sent", "0.9"),
        ]
        .into_iter()
        .map(|(id, label, p)| FakeStage::open(id, label, p))
        .chain([
            FakeStage::won("closedwon", "Closed Won"),
            FakeStage::lost("closedlost", "Closed Lost"),
        ])
        .collect();
        Pipelines {
            deals: vec![Pipeline {
                id: DEFAULT.into(),
                label: "Sales Pipeline".into(),
                stages,
            }],
        }
    }

    /// Adds (or replaces) a deal pipeline.
    pub(super) fn add(&mut self, id: &str, label: &str, stages: Vec<FakeStage>) {
        self.deals.retain(|p| p.id != id);
        self.deals.push(Pipeline {
            id: id.into(),
            label: label.into(),
            stages,
        });
    }

    /// Whether `object`'s records live in pipelines here.
    pub(super) fn has(object: &str) -> bool {
        object == "deals"
    }

    /// `GET /crm/v3/pipelines/{object}`: HubSpot's shape, stage metadata
    /// as text.
    pub(super) fn to_json(&self, object: &str) -> Option<Value> {
        if !Self::has(object) {
            return None;
        }
        let results: Vec<Value> = self
            .deals
            .iter()
            .enumerate()
            .map(|(n, p)| {
                let stages: Vec<Value> = p
                    .stages
                    .iter()
                    .enumerate()
                    .map(|(k, s)| {
                        json!({
                            "id": s.id,
                            "label": s.label,
                            "displayOrder": k,
                            "metadata": {
                                "isClosed": s.closed.to_string(),
                                "probability": s.probability,
                            },
                            "archived": false,
                            "createdAt": "2026-01-01T00:00:00.000Z",
                            "updatedAt": "2026-01-01T00:00:00.000Z",
                            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                        })
                    })
                    .collect();
                json!({
                    "id": p.id,
                    "label": p.label,
                    "displayOrder": n,
                    "stages": stages,
                    "archived": false,
                    "createdAt": "2026-01-01T00:00:00.000Z",
                    "updatedAt": "2026-01-01T00:00:00.000Z",
                })
            })
            .collect();
        Some(json!({ "results": results }))
    }

    /// Why a deal whose pipeline would be `pipeline` and stage `stage`
    /// is refused: the property at fault and the message, as HubSpot
    /// refuses a stage of another pipeline (`INVALID_OPTION`).
    pub(super) fn refuse(
        &self,
        pipeline: &str,
        stage: Option<&str>,
    ) -> Option<(&'static str, String)> {
        let Some(p) = self.deals.iter().find(|p| p.id == pipeline) else {
            return Some((
                PIPELINE,
                format!("{pipeline} was not one of the allowed options: no such deal pipeline"),
            ));
        };
        let stage = stage?;
        if p.stages.iter().any(|s| s.id == stage) {
            return None;
        }
        Some((
            STAGE,
            format!(
                "{stage} was not one of the allowed options: it is not a stage of pipeline {pipeline} ({})",
                p.label
            ),
        ))
    }
}

/// The default pipeline's id.
pub(super) const DEFAULT: &str = "default";
/// The property holding a deal's pipeline.
pub(super) const PIPELINE: &str = "pipeline";
/// The property holding a deal's stage.
pub(super) const STAGE: &str = "dealstage";
