//! # odoo-integration-fakes
//!
//! Small stateful in-memory fakes of the vendor APIs the
//! `odoo-integration-connectors` crate talks to, served on loopback, so
//! examples and your own tests run offline and fast. Each fake keeps what
//! you write to it, pages, limits and fails as the vendor does (same status
//! codes and error bodies), lets you seed and inspect its state, inject
//! faults and read its call log; each module says what it models and what
//! it does not.
//!
//! - [`hubspot`]: HubSpot's CRM v3 objects and v4 associations.
//! - [`salesforce`]: Salesforce's OAuth token endpoint and REST API.
//! - [`bamboohr`]: BambooHR's API v1 (employees, changes, time off).
//! - [`gusto`]: Gusto's OAuth token endpoint and API (employees, payrolls).
//!
//! Add it as a dev-dependency (it depends on no other crate of the
//! family, so it fits any HTTP client under test):
//!
//! ```toml
//! [dev-dependencies]
//! odoo-integration-fakes = "0.2"
//! ```
//!
//! Each fake starts on a free port of `127.0.0.1` (or one you choose, with
//! `start_on`) and stops when dropped; it needs a tokio runtime. The
//! `vendor-fakes` binary starts all four with demo data and prints one JSON
//! line with their URLs and the credentials they accept, so you can point
//! a connector or any tool at them by hand (`cargo install
//! odoo-integration-fakes`, or in the repository):
//!
//! ```sh
//! cargo run -p odoo-integration-fakes --bin vendor-fakes -- --hubspot-port 8101
//! ```
//!
//! ## Example
//!
//! ```
//! use odoo_integration_fakes::hubspot::FakeHubSpot;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let hubspot = FakeHubSpot::start().await?;
//! let acme = hubspot.insert("companies", [("name", "Acme NV")]);
//! // Point the client under test at hubspot.url() with hubspot.token().
//! assert!(hubspot.url().starts_with("http://127.0.0.1:"));
//! assert_eq!(hubspot.record("companies", &acme).unwrap().property("name"), Some("Acme NV"));
//! # Ok(()) }
//! ```
//!
//! ## Optional features
//!
//! - `ring` (default) or `aws-lc-rs`: the rustls crypto provider the
//!   Salesforce fake checks JWT bearer signatures with (a provider your
//!   process installed is used first). With neither, JWT assertions are
//!   refused.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bamboohr;
pub mod gusto;
pub mod hubspot;
mod rs256;
pub mod salesforce;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// A fake's state, even if a handler panicked while holding it (a fake
/// keeps serving what it has).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Owned `(name, value)` pairs from what the seeding helpers take.
pub(crate) fn owned<I, K, V, C>(pairs: I) -> C
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
    C: FromIterator<(String, String)>,
{
    pairs
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

/// A request budget over a rolling window, on tokio's clock (so it works
/// under `tokio::time::pause`).
#[derive(Debug)]
pub(crate) struct RollingWindow {
    max: u32,
    interval: Duration,
    hits: VecDeque<tokio::time::Instant>,
}

impl RollingWindow {
    /// `max` requests per rolling `interval`.
    pub(crate) fn new(max: u32, interval: Duration) -> Self {
        RollingWindow {
            max,
            interval,
            hits: VecDeque::new(),
        }
    }

    /// The budget per window.
    pub(crate) fn max(&self) -> u32 {
        self.max
    }

    /// The window's length.
    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    /// What is left of the budget now.
    pub(crate) fn remaining(&mut self) -> u32 {
        let now = tokio::time::Instant::now();
        while self
            .hits
            .front()
            .is_some_and(|first| now.duration_since(*first) >= self.interval)
        {
            self.hits.pop_front();
        }
        let used = u32::try_from(self.hits.len()).unwrap_or(u32::MAX);
        self.max.saturating_sub(used)
    }

    /// Spends one request; false when the budget is spent.
    pub(crate) fn take(&mut self) -> bool {
        if self.remaining() == 0 {
            return false;
        }
        self.hits.push_back(tokio::time::Instant::now());
        true
    }
}

/// Where a fake listens by default: a free port on `127.0.0.1`.
pub(crate) const LOOPBACK: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// A listener on `addr` (port 0: a free port), and its address.
pub(crate) async fn bind(
    addr: SocketAddr,
) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// What every fake runs on: an axum app served on loopback until dropped
/// (a graceful shutdown, then the task is aborted).
#[derive(Debug)]
pub(crate) struct Served {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    /// Serves `app` on `listener` (bound to `addr`).
    pub(crate) fn new(
        listener: tokio::net::TcpListener,
        addr: SocketAddr,
        app: axum::Router,
    ) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Served {
            addr,
            stop: Some(stop),
            task,
        }
    }

    /// The address served.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

/// The README's code blocks, compiled as doctests so they never drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
