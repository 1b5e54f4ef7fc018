//! Small stateful in-memory fakes of the vendor endpoints the connectors use
//! (feature `fakes`), served on loopback, so examples and your own tests run
//! offline.
//!
//! - [`hubspot`]: HubSpot's CRM v3 objects and v4 associations.
//! - [`salesforce`]: Salesforce's OAuth token endpoint and REST API.
//! - [`bamboohr`]: BambooHR's API v1 (employees, changes, time off).
//! - [`gusto`]: Gusto's OAuth token endpoint and API (employees, payrolls).

pub mod bamboohr;
pub mod gusto;
pub mod hubspot;
pub mod salesforce;

use std::net::SocketAddr;

/// A listener on a free loopback port, and its address.
pub(crate) async fn bind() -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
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
