//! The pipeline's metrics in Prometheus' text format: the firm's clients
//! sheet synced into Odoo twice, then what a Prometheus scrape would read
//! (records by outcome, call latency per system, lag, queues, the circuit
//! breaker).
//!
//! ```sh
//! cargo run --example metrics
//! ```
//!
//! The SDK reports through the `metrics` facade (feature `metrics`); this
//! example installs `metrics-exporter-prometheus`' recorder and prints its
//! rendering. A service would serve the same text on `/metrics` (the
//! exporter's HTTP listener, or a route of its own web server). With no
//! `ODOO_URL` it syncs into the embedded Odoo; with the `ODOO_*` variables
//! (see `examples/common`) into that Odoo, keeping its state in memory.
#![allow(clippy::print_stdout, missing_docs)]

mod common;

use common::{BoxError, connect};
use metrics_exporter_prometheus::PrometheusBuilder;
use odoo_integration::connectors::odoo::OdooConnector;
use odoo_integration::connectors::sources::FileSource;
use odoo_integration::connectors::{MemoryStore, Pipeline};
use odoo_integration::model::ClientCompany;
use std::path::Path;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    common::init_tracing();
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    let (client, _server) = connect().await?;
    let sheet = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/clients.csv");
    let pipeline = Pipeline::<ClientCompany>::builder(
        "sheet→odoo/client",
        Arc::new(FileSource::csv("sheet", sheet)),
        Arc::new(OdooConnector::new(client)),
        Arc::new(MemoryStore::new()),
    )
    .build()?;
    let first = pipeline.run().await?;
    common::print_run("first run", &first);
    let again = pipeline.run().await?;
    common::print_run("second run", &again);

    let text = prometheus.render();
    println!("\n{text}");
    let created = text
        .lines()
        .find(|l| l.starts_with("sync_records_total") && l.contains("outcome=\"created\""));
    if first.created == 0 || created.is_none() || !text.contains("sync_call_seconds") {
        return Err("the metrics do not show the run".into());
    }
    Ok(())
}
