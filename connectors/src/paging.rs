//! Reading a source page by page, with a guard against a feed that moves
//! nowhere.

use crate::connector::{Cursor, Page, Source};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use odoo_integration_model::Entity;
use std::collections::HashSet;

/// Checks that each page of a feed moves it forward.
///
/// A page that says there is more must carry a cursor the feed has not
/// given before in this read: the cursor just read again (a page that
/// moved nowhere) or an older one (a loop) would have a reader ask the same
/// pages forever. Such a page is a [`ConnectorErrorKind::NoProgress`] error
/// instead. [`Pages`], [`read_to_end`](crate::read_to_end), the pipeline and
/// [`testkit::check_source`](crate::testkit::check_source) all read through
/// one.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{ConnectorErrorKind, Cursor, Page, PageGuard};
/// use odoo_integration_model::ClientCompany;
///
/// let mut guard = PageGuard::new(None);
/// let page = |next: &str| Page::<ClientCompany> { changes: vec![], next: Cursor::new(next), has_more: true };
/// assert!(guard.check(&page("a")).is_ok());
/// assert!(guard.check(&page("b")).is_ok());
/// let stuck = guard.check(&page("b")).unwrap_err();
/// assert_eq!(stuck.kind(), ConnectorErrorKind::NoProgress);
/// ```
#[derive(Debug, Default, Clone)]
pub struct PageGuard {
    seen: HashSet<String>,
}

impl PageGuard {
    /// A guard for a read that starts at `since` (`None`: the beginning).
    ///
    /// # Example
    ///
    /// See [`PageGuard`].
    pub fn new(since: Option<&Cursor>) -> Self {
        let mut seen = HashSet::new();
        if let Some(since) = since {
            seen.insert(since.as_str().to_owned());
        }
        PageGuard { seen }
    }

    /// Accepts `page` when it ends the feed or moves it to a cursor not
    /// seen in this read.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::NoProgress`], naming the cursor.
    ///
    /// # Example
    ///
    /// See [`PageGuard`].
    pub fn check<E>(&mut self, page: &Page<E>) -> Result<()> {
        if !page.has_more || self.seen.insert(page.next.as_str().to_owned()) {
            return Ok(());
        }
        Err(ConnectorError::new(
            ConnectorErrorKind::NoProgress,
            format!(
                "the source says it has more, but its page of {} changes leads back to cursor {:?}, \
                 which this read has already been at",
                page.changes.len(),
                page.next.as_str()
            ),
        ))
    }
}

/// The pages of a source from a cursor to the end of the feed, checked by
/// a [`PageGuard`].
///
/// # Example
///
/// ```
/// # use async_trait::async_trait;
/// # use odoo_integration_connectors::*;
/// # use odoo_integration_model::{ClientCompany, SystemId};
/// /// A feed stuck on its first page.
/// struct Stuck;
/// # impl Connector for Stuck {
/// #     fn system(&self) -> SystemId { SystemId::new("stuck") }
/// #     fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["client"]) }
/// # }
/// #[async_trait]
/// impl Source<ClientCompany> for Stuck {
///     async fn read(&self, _: Option<&Cursor>, _: usize) -> Result<Page<ClientCompany>> {
///         Ok(Page { changes: vec![], next: Cursor::new("0"), has_more: true })
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut pages = Pages::new(&Stuck, None, 100);
/// assert!(pages.next_page().await.unwrap().is_some()); // to cursor "0"
/// let error = pages.next_page().await.unwrap_err(); // "0" again
/// assert_eq!(error.kind(), ConnectorErrorKind::NoProgress);
/// # }
/// ```
pub struct Pages<'a, E: Entity> {
    source: &'a dyn Source<E>,
    cursor: Option<Cursor>,
    limit: usize,
    guard: PageGuard,
    done: bool,
}

impl<E: Entity> std::fmt::Debug for Pages<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("source", &self.source.system())
            .field("cursor", &self.cursor)
            .field("limit", &self.limit)
            .field("done", &self.done)
            .finish()
    }
}

impl<'a, E: Entity> Pages<'a, E> {
    /// Pages of `source` from `since`, `limit` changes at most each.
    ///
    /// # Example
    ///
    /// See [`Pages`].
    pub fn new(source: &'a dyn Source<E>, since: Option<Cursor>, limit: usize) -> Self {
        Pages {
            source,
            guard: PageGuard::new(since.as_ref()),
            cursor: since,
            limit,
            done: false,
        }
    }

    /// The next page, or `None` after the last one.
    ///
    /// # Errors
    ///
    /// The source's error, or [`ConnectorErrorKind::NoProgress`].
    ///
    /// # Example
    ///
    /// See [`Pages`].
    pub async fn next_page(&mut self) -> Result<Option<Page<E>>> {
        if self.done {
            return Ok(None);
        }
        let page = self.source.read(self.cursor.as_ref(), self.limit).await?;
        self.guard.check(&page)?;
        self.done = !page.has_more;
        self.cursor = Some(page.next.clone());
        Ok(Some(page))
    }

    /// Where the next page starts: the last page's cursor.
    ///
    /// # Example
    ///
    /// See [`Pages`].
    pub fn cursor(&self) -> Option<&Cursor> {
        self.cursor.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Capabilities, Connector, MemoryStore, Outcome, Pipeline, Sink, SinkRecord, SourceChange,
    };
    use async_trait::async_trait;
    use odoo_integration_model::{ClientCompany, SystemId};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A feed of `cursors.len()` pages, each of one change, leading to
    /// the cursors given in turn. It says it has more until the last, or
    /// always when it is `endless`.
    struct Feed {
        cursors: Vec<&'static str>,
        endless: bool,
        reads: AtomicUsize,
    }

    impl Feed {
        fn new(cursors: Vec<&'static str>) -> Arc<Self> {
            Arc::new(Feed {
                cursors,
                endless: false,
                reads: AtomicUsize::new(0),
            })
        }
        fn stuck(cursors: Vec<&'static str>) -> Arc<Self> {
            Arc::new(Feed {
                cursors,
                endless: true,
                reads: AtomicUsize::new(0),
            })
        }
    }

    impl Connector for Feed {
        fn system(&self) -> SystemId {
            SystemId::new("feed")
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::new().reads(["client"])
        }
    }

    #[async_trait]
    impl Source<ClientCompany> for Feed {
        async fn read(&self, _: Option<&Cursor>, _: usize) -> Result<Page<ClientCompany>> {
            let n = self.reads.fetch_add(1, Ordering::SeqCst);
            let Some(next) = self.cursors.get(n) else {
                return Err(ConnectorError::new(
                    ConnectorErrorKind::Protocol,
                    "read past the end",
                ));
            };
            let record = ClientCompany {
                legal_name: format!("Client {n}"),
                ..Default::default()
            };
            Ok(Page {
                changes: vec![SourceChange::upsert(
                    n.to_string(),
                    chrono::Utc::now(),
                    record,
                )],
                next: Cursor::new(*next),
                has_more: self.endless || n + 1 < self.cursors.len(),
            })
        }
    }

    struct Ledger;
    impl Connector for Ledger {
        fn system(&self) -> SystemId {
            SystemId::odoo()
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::new().writes(["client"])
        }
    }
    #[async_trait]
    impl Sink<ClientCompany> for Ledger {
        async fn apply(&self, batch: Vec<SinkRecord<ClientCompany>>) -> Result<Vec<Outcome>> {
            Ok(batch
                .into_iter()
                .map(|r| Outcome::Created(r.origin_id))
                .collect())
        }
    }

    #[tokio::test]
    async fn a_feed_that_moves_forward_is_read_to_its_end() {
        let feed = Feed::new(vec!["a", "b", "c"]);
        let (changes, last) = crate::read_to_end(&*feed, None, 10)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((changes.len(), last.as_str()), (3, "c"));
    }

    #[tokio::test]
    async fn a_feed_that_comes_back_to_a_cursor_is_no_progress_everywhere() {
        for cursors in [vec!["a", "a"], vec!["a", "b", "a", "b"]] {
            let stuck = Feed::stuck(cursors.clone());
            let e = crate::read_to_end(&*stuck, None, 10)
                .await
                .err()
                .unwrap_or_else(|| panic!("{cursors:?} was read to an end"));
            assert_eq!(e.kind(), ConnectorErrorKind::NoProgress, "{e}");

            let stuck = Feed::stuck(cursors.clone());
            let p = Pipeline::<ClientCompany>::builder(
                "stuck",
                stuck.clone(),
                Arc::new(Ledger),
                Arc::new(MemoryStore::new()),
            )
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
            let e = p.run().await.err().unwrap_or_else(|| panic!("ran"));
            assert_eq!(e.kind(), ConnectorErrorKind::NoProgress, "{e}");
            // It stopped at the first page that led back.
            let first_repeat = (1..cursors.len())
                .find(|&i| cursors[..i].contains(&cursors[i]))
                .unwrap_or(cursors.len());
            assert_eq!(stuck.reads.load(Ordering::SeqCst), first_repeat + 1);

            let report = crate::testkit::check_source(&*Feed::stuck(cursors)).await;
            assert!(!report.is_ok(), "the testkit saw no loop");
        }
    }

    #[tokio::test]
    async fn a_read_resumed_from_a_cursor_may_not_lead_back_to_it() {
        let stuck = Feed::new(vec!["s"]);
        let mut guard = PageGuard::new(Some(&Cursor::new("s")));
        let page = stuck.read(None, 1).await.unwrap_or_else(|e| panic!("{e}"));
        // The last page may repeat the cursor: nothing more is read.
        assert!(!page.has_more);
        assert!(guard.check(&page).is_ok());
        let more = Page::<ClientCompany> {
            changes: vec![],
            next: Cursor::new("s"),
            has_more: true,
        };
        assert_eq!(
            guard.check(&more).map_err(|e| e.kind()),
            Err(ConnectorErrorKind::NoProgress)
        );
    }
}
