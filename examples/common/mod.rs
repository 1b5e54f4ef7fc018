//! What the examples share: connecting to a real Odoo from the environment,
//! or starting the embedded one.

use odoo_client::test_server::TestServer;
use odoo_client::{Client, Credentials, Protocol};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A client for `ODOO_URL` (with `ODOO_DB`, `ODOO_LOGIN`, `ODOO_API_KEY`
/// or `ODOO_PASSWORD`, and optional `ODOO_PROTOCOL`), or for an embedded
/// test server when `ODOO_URL` is not set.
pub(crate) async fn connect() -> Result<(Client, Option<TestServer>), BoxError> {
    let Ok(url) = std::env::var("ODOO_URL") else {
        let server = TestServer::start().await?;
        println!(
            "server      no ODOO_URL: started the embedded Odoo at {}",
            server.url()
        );
        return Ok((server.client(Protocol::Auto)?, Some(server)));
    };
    let login = std::env::var("ODOO_LOGIN").unwrap_or_else(|_| "admin".to_owned());
    let credentials = match (
        std::env::var("ODOO_API_KEY"),
        std::env::var("ODOO_PASSWORD"),
    ) {
        (Ok(key), _) => Credentials::api_key(login, key),
        (_, Ok(password)) => Credentials::password(login, password),
        _ => return Err("set ODOO_API_KEY or ODOO_PASSWORD with ODOO_URL".into()),
    };
    let protocol: Protocol = std::env::var("ODOO_PROTOCOL").unwrap_or_default().parse()?;
    let mut builder = Client::builder(url)
        .credentials(credentials)
        .protocol(protocol);
    if let Ok(db) = std::env::var("ODOO_DB") {
        builder = builder.database(db);
    }
    Ok((builder.build()?, None))
}

/// Prints one pipeline run under `label`, with each field the policy
/// refused or held for review (by name: the values may be personal data).
#[allow(dead_code)] // not every example runs a pipeline
pub(crate) fn print_run(label: &str, run: &connectors::RunSummary) {
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
