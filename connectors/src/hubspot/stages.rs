//! Deal stages per pipeline: a record's stage id means open, won or lost
//! by its pipeline's stage metadata, not by its name.

use super::HubSpotConnector;
use super::maps::text;
use crate::connector::{Operation, SinkRecord};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use odoo_integration_model::{Entity, FieldValue, SystemId};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long a pipeline listing is trusted before it is read again.
const FRESH_FOR: Duration = Duration::from_secs(10 * 60);

/// A canonical open/won/lost field ⇄ an object's stage in its pipeline.
///
/// HubSpot's stage ids are per pipeline: only the default pipeline's are
/// readable (`closedwon`); a pipeline an account adds has numeric ids,
/// and a stage of one pipeline is refused on a deal of another. So the
/// connector reads the object's pipelines (`GET /crm/v3/pipelines/{object}`,
/// kept ten minutes) and tells a stage by its metadata: closed with
/// probability 1 is won, closed with probability 0 is lost, not closed is
/// open (a closed stage with another probability is left out, with a
/// warning).
///
/// Writing, a new record goes in [`new_in`](Self::new_in) at the first
/// stage (in display order) of the wanted kind; a record that exists
/// keeps its pipeline, and its stage is left alone when it already has
/// the wanted kind (a deal at "Contract sent" stays there while it is
/// open), else it moves to the first stage of that kind in its pipeline.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::hubspot::{ObjectMap, StageMap};
/// let mut deals = ObjectMap::deals();
/// deals.stages = Some(StageMap::deals().new_in("93000000")); // new deals go in this pipeline
/// assert_eq!(deals.stages.as_ref().unwrap().stage_property, "dealstage");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageMap {
    /// The canonical field (`stage`), with the codes `open`, `won`, `lost`.
    pub canonical: String,
    /// The property holding the stage id (`dealstage`).
    pub stage_property: String,
    /// The property holding the pipeline id (`pipeline`).
    pub pipeline_property: String,
    /// The pipeline new records go in (`default`).
    pub new_in: String,
}

impl StageMap {
    /// Deals: `dealstage` in `pipeline`, new deals in the default pipeline.
    ///
    /// # Example
    ///
    /// ```
    /// let s = odoo_integration_connectors::hubspot::StageMap::deals();
    /// assert_eq!((s.canonical.as_str(), s.new_in.as_str()), ("stage", "default"));
    /// ```
    pub fn deals() -> Self {
        StageMap {
            canonical: "stage".into(),
            stage_property: "dealstage".into(),
            pipeline_property: "pipeline".into(),
            new_in: "default".into(),
        }
    }

    /// The pipeline new records go in, by id.
    ///
    /// # Example
    ///
    /// ```
    /// let s = odoo_integration_connectors::hubspot::StageMap::deals().new_in("renewals");
    /// assert_eq!(s.new_in, "renewals");
    /// ```
    #[must_use]
    pub fn new_in(mut self, pipeline: impl Into<String>) -> Self {
        self.new_in = pipeline.into();
        self
    }
}

impl StageMap {
    /// Sets the canonical field of `record` to `kind`, and claims it.
    pub(crate) fn set<E: Entity>(
        &self,
        record: &mut E,
        fields: &mut Vec<String>,
        kind: Kind,
    ) -> Result<()> {
        super::maps::set_field(
            record,
            &self.canonical,
            FieldValue::Text(kind.code().into()),
        )?;
        fields.push(self.canonical.clone());
        Ok(())
    }
}

/// What a stage means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Open,
    Won,
    Lost,
}

impl Kind {
    /// The canonical code.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Kind::Open => "open",
            Kind::Won => "won",
            Kind::Lost => "lost",
        }
    }

    /// From the canonical code.
    pub(crate) fn from_code(code: &str) -> Option<Kind> {
        match code {
            "open" => Some(Kind::Open),
            "won" => Some(Kind::Won),
            "lost" => Some(Kind::Lost),
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Listing {
    #[serde(default)]
    results: Vec<WirePipeline>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePipeline {
    id: String,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    stages: Vec<WireStage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStage {
    id: String,
    #[serde(default)]
    display_order: i64,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    metadata: HashMap<String, Value>,
}

/// A metadata value as text: HubSpot writes `"true"` and `"0.2"`, but a
/// bare boolean or number means the same.
fn meta(m: &HashMap<String, Value>, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl WireStage {
    fn kind(&self) -> Option<Kind> {
        let closed = meta(&self.metadata, "isClosed").is_some_and(|c| c == "true");
        if !closed {
            return Some(Kind::Open);
        }
        let p: rust_decimal::Decimal = meta(&self.metadata, "probability")?.parse().ok()?;
        if p == rust_decimal::Decimal::ONE {
            Some(Kind::Won)
        } else if p.is_zero() {
            Some(Kind::Lost)
        } else {
            None
        }
    }
}

/// One pipeline's stages, in display order; `None` for a stage of no
/// known kind.
#[derive(Debug)]
struct Pipeline {
    id: String,
    stages: Vec<(String, Option<Kind>)>,
}

/// An object's pipelines.
#[derive(Debug)]
pub(crate) struct Pipelines {
    pipelines: Vec<Pipeline>,
}

impl Pipelines {
    fn from_listing(listing: Listing) -> Self {
        let pipelines = listing
            .results
            .into_iter()
            .filter(|p| !p.archived)
            .map(|p| {
                let mut stages: Vec<WireStage> =
                    p.stages.into_iter().filter(|s| !s.archived).collect();
                stages.sort_by_key(|s| s.display_order);
                Pipeline {
                    id: p.id,
                    stages: stages.iter().map(|s| (s.id.clone(), s.kind())).collect(),
                }
            })
            .collect();
        Pipelines { pipelines }
    }

    /// What `stage` means, in `pipeline` when known, else in whichever
    /// pipeline has it (stage ids are unique in an account).
    pub(crate) fn kind_of(&self, pipeline: Option<&str>, stage: &str) -> Option<Kind> {
        self.pipelines
            .iter()
            .filter(|p| pipeline.is_none_or(|id| p.id == id))
            .flat_map(|p| &p.stages)
            .find(|(id, _)| id == stage)
            .and_then(|(_, kind)| *kind)
    }

    fn has(&self, pipeline: &str) -> bool {
        self.pipelines.iter().any(|p| p.id == pipeline)
    }

    /// The first stage of `kind` in `pipeline`.
    pub(crate) fn first(&self, pipeline: &str, kind: Kind) -> Result<&str> {
        let p = self
            .pipelines
            .iter()
            .find(|p| p.id == pipeline)
            .ok_or_else(|| {
                ConnectorError::new(
                    ConnectorErrorKind::Configuration,
                    format!("HubSpot has no pipeline `{pipeline}` (see StageMap::new_in)"),
                )
            })?;
        p.stages
            .iter()
            .find(|(_, k)| *k == Some(kind))
            .map(|(id, _)| id.as_str())
            .ok_or_else(|| {
                ConnectorError::new(
                    ConnectorErrorKind::Invalid,
                    format!("HubSpot pipeline `{pipeline}` has no {} stage", kind.code()),
                )
            })
    }
}

/// The pipelines read so far, per object, with when they were read.
#[derive(Debug, Default)]
pub(crate) struct PipelineCache {
    read: tokio::sync::Mutex<HashMap<String, (Instant, Arc<Pipelines>)>>,
}

impl HubSpotConnector {
    /// `object`'s pipelines: those read in the last ten minutes, else
    /// read now; `again` reads them now whatever their age (a stage not
    /// found may be a pipeline added since).
    pub(crate) async fn pipelines(&self, object: &str, again: bool) -> Result<Arc<Pipelines>> {
        let mut read = self.pipelines.read.lock().await;
        if let Some((at, p)) = read.get(object)
            && !again
            && at.elapsed() < FRESH_FOR
        {
            return Ok(Arc::clone(p));
        }
        let path = format!("/crm/v3/pipelines/{object}");
        let listing: Listing = self
            .client
            .json(reqwest::Method::GET, &path, None)
            .await
            .map_err(|e| e.with_system(SystemId::hubspot()))?;
        let p = Arc::new(Pipelines::from_listing(listing));
        read.insert(object.to_owned(), (Instant::now(), Arc::clone(&p)));
        Ok(p)
    }

    /// What `stage` means, reading the pipelines again once if it is not
    /// known (`*fresh` says whether that was done in this call's run).
    pub(crate) async fn stage_kind(
        &self,
        object: &str,
        pipelines: &mut Arc<Pipelines>,
        fresh: &mut bool,
        pipeline: Option<&str>,
        stage: &str,
    ) -> Result<Option<Kind>> {
        if let Some(kind) = pipelines.kind_of(pipeline, stage) {
            return Ok(Some(kind));
        }
        if !*fresh {
            *pipelines = self.pipelines(object, true).await?;
            *fresh = true;
        }
        Ok(pipelines.kind_of(pipeline, stage))
    }
}

/// What a batch's stage writes need: the pipelines, and the pipeline and
/// stage each record being updated is at now.
pub(crate) struct StageWrites<'a> {
    map: &'a StageMap,
    pipelines: Arc<Pipelines>,
    /// HubSpot id → (pipeline, stage).
    now: HashMap<String, (Option<String>, Option<String>)>,
}

impl StageWrites<'_> {
    /// The stage properties to send for `record`: for a new record its
    /// pipeline and first stage of the wanted kind; for one that exists
    /// nothing when its stage has that kind already, else the first stage
    /// of that kind in its pipeline.
    pub(crate) fn properties<E: Entity>(
        &self,
        record: &SinkRecord<E>,
        data: &E,
    ) -> Result<Map<String, Value>> {
        let mut out = Map::new();
        if !record.writes(&self.map.canonical) {
            return Ok(out);
        }
        let code = match data.get(&self.map.canonical) {
            Some(FieldValue::Text(code)) => code,
            _ => return Ok(out),
        };
        let kind = Kind::from_code(&code).ok_or_else(|| {
            ConnectorError::new(
                ConnectorErrorKind::Mapping,
                format!("{}: `{code}` is not open, won or lost", self.map.canonical),
            )
        })?;
        let stage = match &record.target_id {
            None => {
                let pipeline = &self.map.new_in;
                out.insert(
                    self.map.pipeline_property.clone(),
                    Value::String(pipeline.clone()),
                );
                self.pipelines.first(pipeline, kind)?
            }
            Some(id) => {
                let (pipeline, stage) = self.now.get(id.as_str()).cloned().unwrap_or_default();
                let pipeline = pipeline.unwrap_or_else(|| DEFAULT_PIPELINE.into());
                let already = stage
                    .is_some_and(|s| self.pipelines.kind_of(Some(&pipeline), &s) == Some(kind));
                if already {
                    return Ok(out);
                }
                self.pipelines.first(&pipeline, kind)?
            }
        };
        out.insert(
            self.map.stage_property.clone(),
            Value::String(stage.to_owned()),
        );
        Ok(out)
    }
}

/// The pipeline of a deal that names none (HubSpot puts such deals in it).
const DEFAULT_PIPELINE: &str = "default";

impl HubSpotConnector {
    /// Prepares the stage writes of `batch`: `None` when no record writes
    /// the stage. Reads the pipelines, and the pipeline and stage of the
    /// records being updated (one `batch/read` per 100).
    pub(crate) async fn stage_writes<'a, E: Entity>(
        &self,
        object: &str,
        map: &'a StageMap,
        batch: &[SinkRecord<E>],
    ) -> Result<Option<StageWrites<'a>>> {
        let writing: Vec<&SinkRecord<E>> = batch
            .iter()
            .filter(|r| matches!(r.operation, Operation::Upsert(_)) && r.writes(&map.canonical))
            .collect();
        if writing.is_empty() {
            return Ok(None);
        }
        let ids: Vec<String> = writing
            .iter()
            .filter_map(|r| r.target_id.as_ref().map(ToString::to_string))
            .collect();
        let now: HashMap<String, (Option<String>, Option<String>)> = if ids.is_empty() {
            HashMap::new()
        } else {
            let properties = [map.pipeline_property.as_str(), map.stage_property.as_str()];
            self.batch_read(object, &properties, &ids)
                .await?
                .into_iter()
                .map(|f| {
                    let get = |p: &str| text(&f.properties, p).map(str::to_owned);
                    let at = (get(&map.pipeline_property), get(&map.stage_property));
                    (f.id, at)
                })
                .collect()
        };
        let mut pipelines = self.pipelines(object, false).await?;
        let unknown = std::iter::once(map.new_in.as_str())
            .chain(now.values().filter_map(|(p, _)| p.as_deref()))
            .any(|p| !pipelines.has(p));
        if unknown {
            // A pipeline added since they were read.
            pipelines = self.pipelines(object, true).await?;
        }
        Ok(Some(StageWrites {
            map,
            pipelines,
            now,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listing() -> Pipelines {
        let l: Listing = serde_json::from_value(json!({"results": [
            {"id": "default", "stages": [
                {"id": "closedwon", "displayOrder": 5, "metadata": {"isClosed": "true", "probability": "1.0"}},
                {"id": "qualifiedtobuy", "displayOrder": 1, "metadata": {"isClosed": "false", "probability": "0.4"}},
                {"id": "appointmentscheduled", "displayOrder": 0, "metadata": {"isClosed": "false", "probability": "0.2"}},
                {"id": "closedlost", "displayOrder": 6, "metadata": {"isClosed": true, "probability": 0}},
            ]},
            {"id": "renewals", "stages": [
                {"id": "11", "displayOrder": 0, "metadata": {"isClosed": "false", "probability": "0.5"}},
                {"id": "12", "displayOrder": 1, "metadata": {"isClosed": "true", "probability": "1.0"}},
                {"id": "13", "displayOrder": 2, "metadata": {"isClosed": "true", "probability": "0.5"}},
                {"id": "14", "displayOrder": 3, "archived": true, "metadata": {"isClosed": "true", "probability": "0.0"}},
            ]},
        ]}))
        .unwrap();
        Pipelines::from_listing(l)
    }

    #[test]
    fn stages_are_told_by_their_metadata() {
        let p = listing();
        assert_eq!(p.kind_of(Some("renewals"), "12"), Some(Kind::Won));
        assert_eq!(p.kind_of(None, "12"), Some(Kind::Won));
        assert_eq!(p.kind_of(None, "closedlost"), Some(Kind::Lost));
        assert_eq!(
            p.kind_of(Some("default"), "qualifiedtobuy"),
            Some(Kind::Open)
        );
        // closed at 50%: neither won nor lost
        assert_eq!(p.kind_of(None, "13"), None);
        // a stage of another pipeline, or archived, is not known
        assert_eq!(p.kind_of(Some("default"), "12"), None);
        assert_eq!(p.kind_of(None, "14"), None);
    }

    #[test]
    fn writes_pick_the_first_stage_of_a_kind_in_display_order() {
        let p = listing();
        assert_eq!(
            p.first("default", Kind::Open).unwrap(),
            "appointmentscheduled"
        );
        assert_eq!(p.first("renewals", Kind::Won).unwrap(), "12");
        let none = p.first("renewals", Kind::Lost).unwrap_err();
        assert_eq!(none.kind(), ConnectorErrorKind::Invalid);
        let missing = p.first("nope", Kind::Won).unwrap_err();
        assert_eq!(missing.kind(), ConnectorErrorKind::Configuration);
    }
}
