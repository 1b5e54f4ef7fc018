//! What the examples share: logs on request, connecting to a real Odoo
//! from the environment, or starting the embedded one.

use odoo_integration::odoo::test_server::TestServer;
use odoo_integration::odoo::{Client, Protocol};
use tracing_subscriber::EnvFilter;

#[allow(dead_code)] // not every example connects to Odoo
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Shows the SDK's spans and events on stderr when `RUST_LOG` is set
/// (`RUST_LOG=debug`, `RUST_LOG=odoo_integration_connectors=debug,odoo_integration_client=trace`);
/// without it nothing is installed, so the output stays as it was. Called
/// first thing in every example's `main`.
pub(crate) fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_none_or(|v| v.is_empty()) {
        return;
    }
    let filter = match EnvFilter::try_from_default_env() {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("RUST_LOG ignored, it is not a filter: {e}");
            return;
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// A client for `ODOO_URL` (with `ODOO_DB`, `ODOO_LOGIN`, `ODOO_API_KEY`
/// or `ODOO_PASSWORD`, and optional `ODOO_PROTOCOL`), or for an embedded
/// test server when `ODOO_URL` is not set.
#[allow(dead_code)] // not every example connects to Odoo
pub(crate) async fn connect() -> Result<(Client, Option<TestServer>), BoxError> {
    if std::env::var_os("ODOO_URL").is_none() {
        let server = TestServer::start().await?;
        println!(
            "server      no ODOO_URL: started the embedded Odoo at {}",
            server.url()
        );
        return Ok((server.client(Protocol::Auto)?, Some(server)));
    }
    Ok((Client::from_env()?, None))
}

/// Prints one pipeline run under `label`, with each field the policy
/// refused or held for review (by name: the values may be personal data).
#[allow(dead_code)] // not every example runs a pipeline
pub(crate) fn print_run(label: &str, run: &odoo_integration::connectors::RunSummary) {
    println!("  {label:<12} {run}");
    for r in &run.refused {
        let owner = r.refused.owner.as_ref().map_or("nobody", |o| o.as_str());
        println!(
            "  {:<12}   refused {}.{}: owned by {owner}",
            "", r.remote_id, r.refused.field
        );
    }
    for h in &run.held {
        println!(
            "  {:<12}   held for review {}.{}",
            "", h.remote_id, h.held.field
        );
    }
}
