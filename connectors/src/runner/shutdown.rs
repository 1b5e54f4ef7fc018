//! The stop signal: tripped once, seen by every clone.

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use std::sync::Arc;
use tokio::sync::watch;

/// A stop signal, tripped once and seen by every clone: the
/// [`Runner`](crate::Runner) starts no new run once it trips, and a run in
/// flight finishes its page and stops
/// ([`Pipeline::run_until`](crate::Pipeline::run_until)).
///
/// [`on_signals`](Self::on_signals) trips it on SIGTERM or ctrl-c; trip
/// it yourself from anywhere else (a health check, an admin endpoint).
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::Shutdown;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let shutdown = Shutdown::new();
/// let seen = shutdown.clone();
/// let waiter = tokio::spawn(async move { seen.tripped().await });
/// assert!(!shutdown.is_tripped());
/// shutdown.trip();
/// waiter.await.unwrap();
/// assert!(shutdown.is_tripped());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
    /// Tripped with it too (see [`child`](Self::child)).
    parent: Option<Box<Shutdown>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    /// A signal not tripped yet.
    ///
    /// # Example
    ///
    /// See [`Shutdown`].
    pub fn new() -> Self {
        Shutdown {
            tx: Arc::new(watch::Sender::new(false)),
            parent: None,
        }
    }

    /// A signal of its own that also counts as tripped once `self` is:
    /// one run's stop, tripped by the runner's shutdown at once (no task
    /// in between to race a page boundary), or alone when the run's lease
    /// is lost.
    pub(crate) fn child(&self) -> Shutdown {
        Shutdown {
            parent: Some(Box::new(self.clone())),
            ..Shutdown::new()
        }
    }

    /// A signal tripped by the process's first SIGTERM (on Unix) or ctrl-c
    /// (SIGINT; CTRL_C on Windows). The handlers are installed before this
    /// returns, and stay for the life of the process: a second signal does
    /// not kill it, so stop a process that hangs with SIGKILL.
    ///
    /// Call it inside a Tokio runtime whose I/O driver is on
    /// (`#[tokio::main]`, or a builder's `enable_all()`).
    ///
    /// # Errors
    ///
    /// [`Configuration`](ConnectorErrorKind::Configuration): no Tokio
    /// runtime is running here, or the handlers could not be installed.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use odoo_integration_connectors::Shutdown;
    /// # #[tokio::main]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// let shutdown = Shutdown::on_signals()?;
    /// shutdown.tripped().await; // until SIGTERM or ctrl-c
    /// # Ok(()) }
    /// ```
    pub fn on_signals() -> Result<Self> {
        let handle = tokio::runtime::Handle::try_current().map_err(|e| {
            ConnectorError::new(
                ConnectorErrorKind::Configuration,
                "listening for shutdown signals needs a running Tokio runtime",
            )
            .with_source(e)
        })?;
        let _entered = handle.enter();
        #[cfg(unix)]
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| {
                ConnectorError::new(
                    ConnectorErrorKind::Configuration,
                    "could not listen for SIGTERM",
                )
                .with_source(e)
            })?;
        let shutdown = Shutdown::new();
        let trip = shutdown.clone();
        handle.spawn(async move {
            let ctrl_c = async {
                if let Err(e) = tokio::signal::ctrl_c().await {
                    tracing::warn!(error = %e, "cannot listen for ctrl-c");
                    std::future::pending::<()>().await;
                }
            };
            #[cfg(unix)]
            tokio::select! {
                () = ctrl_c => tracing::info!("ctrl-c: shutting down"),
                _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            }
            #[cfg(not(unix))]
            {
                ctrl_c.await;
                tracing::info!("ctrl-c: shutting down");
            }
            trip.trip();
        });
        Ok(shutdown)
    }

    /// Trips the signal (again is a no-op).
    ///
    /// # Example
    ///
    /// See [`Shutdown`].
    pub fn trip(&self) {
        self.tx.send_replace(true);
    }

    /// Whether it has tripped.
    ///
    /// # Example
    ///
    /// See [`Shutdown`].
    pub fn is_tripped(&self) -> bool {
        *self.tx.borrow() || self.parent.as_ref().is_some_and(|p| p.is_tripped())
    }

    /// Waits until it trips (at once when it has).
    ///
    /// # Example
    ///
    /// See [`Shutdown`].
    pub async fn tripped(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`: the wait ends only by tripping.
        let own = async {
            let _ = rx.wait_for(|tripped| *tripped).await;
        };
        match &self.parent {
            None => own.await,
            Some(parent) => {
                tokio::select! {
                    () = own => {}
                    () = Box::pin(parent.tripped()) => {}
                }
            }
        }
    }
}
