//! The dead-letter queue's side of a run: filing what failed, and links
//! that conflict.

use super::{Pipeline, RunSummary};
use crate::connector::SourceChange;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::store::{DeadLetter, Link};
use odoo_integration_model::{Entity, RemoteId};

/// Enough to file a dead letter: the change is only encoded if it fails.
pub(super) struct Letter<E> {
    pub(super) remote_id: RemoteId,
    /// The change; `None` keeps the payload already filed.
    pub(super) change: Option<SourceChange<E>>,
    /// Whether `change` has been through the mapping step.
    pub(super) mapped: bool,
}

impl<E> Letter<E> {
    /// A letter for `change`.
    pub(super) fn of(change: SourceChange<E>, mapped: bool) -> Self {
        Letter {
            remote_id: change.remote_id.clone(),
            change: Some(change),
            mapped,
        }
    }
}

impl<E: Entity + Default + Send + Sync + 'static> Pipeline<E> {
    /// Stores the sink's ids. A link that conflicts with an existing one
    /// (two source records written to one sink record) is dead-lettered;
    /// any other failure of the store fails the run.
    pub(super) async fn record_links(
        &self,
        links: Vec<Link>,
        rejected: &mut Vec<(Letter<E>, ConnectorError)>,
    ) -> Result<()> {
        if links.is_empty() {
            return Ok(());
        }
        match self.state.link(&links).await {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() != ConnectorErrorKind::LinkConflict => return Err(e),
            Err(_) => {}
        }
        // One of them conflicts: link them one by one to find which.
        for link in links {
            let Err(e) = self.state.link(std::slice::from_ref(&link)).await else {
                continue;
            };
            if e.kind() != ConnectorErrorKind::LinkConflict {
                return Err(e);
            }
            let remote_id = self
                .state
                .cross_refs(link.id)
                .await?
                .get(&self.source_system)
                .cloned()
                .unwrap_or_else(|| link.remote_id.clone());
            rejected.push((
                Letter {
                    remote_id,
                    change: None,
                    mapped: false,
                },
                e,
            ));
        }
        Ok(())
    }

    /// Files (or refiles) a dead letter; parks it after
    /// [`park_after`](super::PipelineBuilder::park_after) attempts.
    pub(super) async fn dead_letter(
        &self,
        letter: Letter<E>,
        error: &ConnectorError,
        summary: &mut RunSummary,
    ) -> Result<()> {
        let system = self.source_system.clone();
        let payload = match &letter.change {
            Some(change) => serde_json::to_value(change)
                .map_err(|e| ConnectorError::store(format!("encoding a dead letter: {e}")))?,
            None => serde_json::Value::Null,
        };
        let mut l = DeadLetter::new(E::NAME, system, letter.remote_id, payload, error);
        l.mapped = letter.mapped;
        if let Some(previous) = self.state.letter(&l.key).await? {
            l.attempts = previous.attempts.saturating_add(1);
            l.first_seen = previous.first_seen;
            if l.payload.is_null() {
                l.payload = previous.payload;
                l.mapped = previous.mapped;
            }
        }
        l.parked = l.attempts >= self.park_after;
        tracing::warn!(pipeline = %self.name, key = %l.key, kind = %error.kind(), attempts = l.attempts, parked = l.parked, "dead-lettered");
        summary.dead_lettered += 1;
        if l.parked {
            summary.parked += 1;
        }
        self.state.put(l).await
    }
}
