//! Matching on a first sync: before a record new to the sync is created
//! in the sink, ask whether the sink already holds it.

use super::Pipeline;
use super::plan::Known;
use crate::connector::{Operation, SourceChange};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use odoo_integration_model::{CanonicalRecord, Entity, MatchKey, MatchOutcome, RemoteId};

/// What the sink holds that may be a record new to the sync.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::SinkMatch;
/// use odoo_integration_model::{ClientCompany, RemoteId};
/// let found = SinkMatch::One {
///     remote_id: RemoteId::new("42"),
///     record: ClientCompany { legal_name: "Northwind Traders".into(), ..Default::default() },
///     reasons: vec!["tax_id = BE0123456789".into()],
/// };
/// assert!(matches!(found, SinkMatch::One { .. }));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SinkMatch<E> {
    /// Nothing: the record is created.
    None,
    /// One record, confidently: it is linked, then updated under the
    /// ownership policy (the sink's values count as its owner's).
    One {
        /// Its id in the sink.
        remote_id: RemoteId,
        /// Its values, as the sink holds them.
        record: E,
        /// Why it is the one (`tax_id = BE0123456789`), for the log.
        reasons: Vec<String>,
    },
    /// Several: the record is held for review (a dead letter of kind
    /// [`Ambiguous`](ConnectorErrorKind::Ambiguous) naming them), never
    /// created.
    Several(Vec<(RemoteId, Vec<String>)>),
}

impl<E: Entity> SinkMatch<E> {
    /// The verdict of [`propose_match`](odoo_integration_model::propose_match)
    /// on `candidates` (records the sink holds, with their ids there) for
    /// `incoming`, by `keys`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::SinkMatch;
    /// use odoo_integration_model::{ClientCompany, MatchKey, Normalize, RemoteId};
    /// let acme = |vat: &str| ClientCompany { legal_name: "Acme".into(), tax_id: Some(vat.into()), ..Default::default() };
    /// let keys = [MatchKey::new("tax_id", Normalize::Identifier)];
    /// let held = vec![(RemoteId::new("7"), acme("BE 0123.456.789")), (RemoteId::new("8"), acme("FR1"))];
    /// match SinkMatch::propose(&acme("BE0123456789"), held, &keys) {
    ///     SinkMatch::One { remote_id, .. } => assert_eq!(remote_id.as_str(), "7"),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn propose(incoming: &E, candidates: Vec<(RemoteId, E)>, keys: &[MatchKey]) -> Self {
        // propose_match speaks canonical ids; give each candidate one.
        let ids: Vec<odoo_integration_model::CanonicalId> = candidates
            .iter()
            .map(|_| odoo_integration_model::CanonicalId::new())
            .collect();
        let outcome = odoo_integration_model::propose_match(
            incoming,
            ids.iter().copied().zip(candidates.iter().map(|(_, e)| e)),
            keys,
        );
        let position = |id| ids.iter().position(|x| *x == id);
        match outcome {
            MatchOutcome::Unique(p) => {
                match position(p.candidate).and_then(|i| candidates.into_iter().nth(i)) {
                    Some((remote_id, record)) => SinkMatch::One {
                        remote_id,
                        record,
                        reasons: p.reasons,
                    },
                    None => SinkMatch::None,
                }
            }
            MatchOutcome::Ambiguous(all) => SinkMatch::Several(
                all.into_iter()
                    .filter_map(|p| position(p.candidate).map(|i| (i, p.reasons)))
                    .map(|(i, reasons)| (candidates[i].0.clone(), reasons))
                    .collect(),
            ),
            _ => SinkMatch::None,
        }
    }
}

/// Looks in the sink for records that may be ones new to the sync: the
/// seam through which a first sync matches instead of duplicating.
///
/// The pipeline asks it, once per page, about the records it has never
/// seen (no cross-reference from their source) before creating them; see
/// [`PipelineBuilder::matcher`](crate::PipelineBuilder::matcher). An
/// implementation searches the sink by natural keys (a VAT number, a
/// website's domain, an email) and usually decides with
/// [`SinkMatch::propose`].
///
/// # Example
///
/// ```
/// use async_trait::async_trait;
/// use odoo_integration_connectors::{Matcher, SinkMatch};
/// use odoo_integration_model::{ClientCompany, MatchKey, Normalize, RemoteId};
///
/// /// What the ERP already holds, by its ids.
/// struct Held(Vec<(RemoteId, ClientCompany)>);
///
/// #[async_trait]
/// impl Matcher<ClientCompany> for Held {
///     async fn find(&self, records: &[&ClientCompany]) -> odoo_integration_connectors::Result<Vec<SinkMatch<ClientCompany>>> {
///         let keys = [MatchKey::new("legal_name", Normalize::Exact)];
///         Ok(records.iter().map(|r| SinkMatch::propose(*r, self.0.clone(), &keys)).collect())
///     }
/// }
/// ```
#[async_trait]
pub trait Matcher<E: Entity>: Send + Sync {
    /// For each of `records`, in order, what the sink holds that may be it.
    ///
    /// # Errors
    ///
    /// The sink could not be searched: the page is not processed (the run
    /// fails, and resumes from its checkpoint).
    async fn find(&self, records: &[&E]) -> Result<Vec<SinkMatch<E>>>;
}

impl<E: Entity + Default + Send + Sync + 'static> Pipeline<E> {
    /// Asks the matcher about the page's records new to the sync. A match
    /// becomes what is known of the record (the sink's id, and its values
    /// as a stored record owned by the sink), so planning updates it under
    /// the policy; several matches give the error the record is held with.
    pub(super) async fn match_new(
        &self,
        changes: &[SourceChange<E>],
        knowns: &mut [Option<Known<E>>],
    ) -> Result<Vec<Option<ConnectorError>>> {
        let mut held: Vec<Option<ConnectorError>> = changes.iter().map(|_| None).collect();
        let Some(matcher) = &self.matcher else {
            return Ok(held);
        };
        let mut asked = Vec::new();
        let mut records = Vec::new();
        for (i, (change, known)) in changes.iter().zip(knowns.iter()).enumerate() {
            if let (Operation::Upsert(record), Some(known)) = (&change.operation, known)
                && known.current.is_none()
                && known.target.is_none()
            {
                asked.push(i);
                records.push(record);
            }
        }
        if records.is_empty() {
            return Ok(held);
        }
        let found = self.find_in_sink(matcher.as_ref(), &records).await?;
        if found.len() != records.len() {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Protocol,
                format!(
                    "the matcher answered {} times for {} records",
                    found.len(),
                    records.len()
                ),
            ));
        }
        for (i, verdict) in asked.into_iter().zip(found) {
            let Some(known) = knowns[i].as_mut() else {
                continue;
            };
            match verdict {
                SinkMatch::None => {}
                SinkMatch::One {
                    remote_id,
                    record,
                    reasons,
                } => {
                    tracing::info!(pipeline = %self.name, remote = %changes[i].remote_id, sink_id = %remote_id, reasons = %reasons.join(", "), "matched a record the sink holds");
                    let fresh = E::default();
                    known.current = Some(CanonicalRecord::seed(
                        known.id,
                        record,
                        &fresh,
                        &self.sink_system,
                        format!("{}:{remote_id}@match", self.sink_system).into(),
                        chrono::DateTime::<chrono::Utc>::MIN_UTC,
                    ));
                    known.target = Some(remote_id);
                }
                SinkMatch::Several(all) => {
                    let listed: Vec<String> = all
                        .iter()
                        .map(|(id, why)| format!("{id} ({})", why.join(", ")))
                        .collect();
                    held[i] = Some(
                        ConnectorError::new(
                            ConnectorErrorKind::Ambiguous,
                            format!(
                                "{} records of {} may be this {}: {}; link one by hand, or fix the data",
                                all.len(),
                                self.sink_system,
                                E::NAME,
                                listed.join("; ")
                            ),
                        )
                        .with_system(self.sink_system.clone()),
                    );
                }
            }
        }
        Ok(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Capabilities, Connector, Cursor, DeadLetterQueue, MemoryStore, Outcome, Page, Sink,
        SinkRecord, Source,
    };
    use odoo_integration_model::{ClientCompany, Normalize, Policy, SystemId};
    use std::sync::{Arc, Mutex};

    fn client(name: &str, vat: &str, industry: &str) -> ClientCompany {
        ClientCompany {
            legal_name: name.into(),
            tax_id: Some(vat.into()),
            industry: Some(industry.into()),
            ..Default::default()
        }
    }

    /// A CRM with the given clients, all in one page.
    struct Crm(Vec<ClientCompany>);
    impl Connector for Crm {
        fn system(&self) -> SystemId {
            SystemId::hubspot()
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::new().reads(["client"])
        }
    }
    #[async_trait]
    impl Source<ClientCompany> for Crm {
        async fn read(&self, _: Option<&Cursor>, _: usize) -> Result<Page<ClientCompany>> {
            let at = chrono::Utc::now();
            let changes = self
                .0
                .iter()
                .enumerate()
                .map(|(i, c)| SourceChange::upsert(format!("crm{i}"), at, c.clone()))
                .collect();
            Ok(Page {
                changes,
                next: Cursor::new("1"),
                has_more: false,
            })
        }
    }

    /// An ERP holding some clients already; it keeps what it is sent.
    struct Erp {
        held: Vec<(RemoteId, ClientCompany)>,
        sent: Mutex<Vec<SinkRecord<ClientCompany>>>,
    }
    impl Connector for Erp {
        fn system(&self) -> SystemId {
            SystemId::odoo()
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::new().writes(["client"])
        }
    }
    #[async_trait]
    impl Sink<ClientCompany> for Erp {
        async fn apply(&self, batch: Vec<SinkRecord<ClientCompany>>) -> Result<Vec<Outcome>> {
            let out = batch
                .iter()
                .map(|r| match &r.target_id {
                    Some(id) => Outcome::Updated(id.clone()),
                    None => Outcome::Created(RemoteId::new(format!("new-{}", r.origin_id))),
                })
                .collect();
            self.sent
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(batch);
            Ok(out)
        }
    }
    #[async_trait]
    impl Matcher<ClientCompany> for Erp {
        async fn find(&self, records: &[&ClientCompany]) -> Result<Vec<SinkMatch<ClientCompany>>> {
            let keys = [MatchKey::new("tax_id", Normalize::Identifier)];
            Ok(records
                .iter()
                .map(|r| SinkMatch::propose(*r, self.held.clone(), &keys))
                .collect())
        }
    }

    #[tokio::test]
    async fn a_first_sync_links_what_the_sink_holds_under_the_policy() {
        let erp = Arc::new(Erp {
            held: vec![
                (
                    RemoteId::new("7"),
                    client("Northwind Traders SA", "BE 0123.456.789", "Retail"),
                ),
                (RemoteId::new("8"), client("Globex", "FR1", "Energy")),
                (
                    RemoteId::new("9"),
                    client("Globex Europe", "FR-1", "Energy"),
                ),
            ],
            sent: Mutex::new(Vec::new()),
        });
        let crm = Arc::new(Crm(vec![
            client("Northwind", "BE0123456789", "Wholesale"),
            client("Initech", "US9", "Software"),
            client("Globex Inc", "FR1", "Energy"),
        ]));
        // Odoo owns the legal name, the CRM the industry.
        let policy = Policy::from_toml(
            "[client]\ndefault_owner = \"odoo\"\n[client.fields]\nindustry = \"hubspot\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let state = Arc::new(MemoryStore::new());
        let p = Pipeline::<ClientCompany>::builder("crm→erp", crm, erp.clone(), state.clone())
            .policy(policy)
            .matcher(erp.clone())
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let summary = p.run().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (summary.created, summary.updated, summary.dead_lettered),
            (1, 1, 1),
            "{summary}"
        );
        let sent = erp.sent.lock().unwrap_or_else(|e| e.into_inner()).clone();
        // Northwind: linked to 7, and only the CRM's field written.
        let northwind = sent
            .iter()
            .find(|r| r.target_id.as_ref().map(RemoteId::as_str) == Some("7"))
            .unwrap_or_else(|| panic!("7 was not written: {sent:?}"));
        assert_eq!(northwind.fields, Some(vec!["industry".to_owned()]));
        // The name the CRM sent was refused: Odoo owns it.
        assert!(
            summary
                .refused
                .iter()
                .any(|r| r.refused.field == "legal_name")
        );
        // Initech is new: created whole.
        assert!(
            sent.iter()
                .any(|r| r.target_id.is_none() && r.origin_id.as_str() == "crm1")
        );
        // Globex matches two: held, never sent.
        assert!(!sent.iter().any(|r| r.origin_id.as_str() == "crm2"));
        let letters = state
            .letters("client")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].error.kind, ConnectorErrorKind::Ambiguous);
        assert!(
            letters[0].error.message.contains("8 (tax_id"),
            "{}",
            letters[0].error.message
        );

        // The link is stored: a second run writes nothing new.
        let again = p.run().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((again.created, again.updated), (0, 0), "{again}");
    }
}
