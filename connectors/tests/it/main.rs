//! The connectors' integration tests, one binary (one link), a module per
//! area; each module needs the features its connector or store does.
//! Fixtures are compiled in (`include_str!` from `tests/data`).

#[cfg(feature = "bamboohr")]
mod bamboohr;
mod breaker;
#[cfg(feature = "cli")]
mod cli;
mod deletes;
mod file_store;
#[cfg(all(feature = "hubspot", feature = "odoo"))]
mod first_sync;
mod flow_control;
#[cfg(feature = "gusto")]
mod gusto;
#[cfg(feature = "hubspot")]
mod hubspot;
#[cfg(feature = "hubspot")]
mod hubspot_objects;
#[cfg(feature = "hubspot")]
mod hubspot_stages;
#[cfg(feature = "odoo")]
mod odoo_pipeline;
#[cfg(feature = "postgres")]
mod postgres_store;
mod review;
mod runner;
#[cfg(feature = "salesforce")]
mod salesforce;
#[cfg(all(feature = "postgres", feature = "hubspot", feature = "odoo"))]
mod scale_out;
#[cfg(all(feature = "csv", feature = "odoo"))]
mod sources;
#[cfg(feature = "sqlite")]
mod sqlite_store;
// The built-in stores run the scenarios here; some helpers only serve the
// SQLite and PostgreSQL modules.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
mod store_scenario;
#[cfg(all(feature = "odoo", feature = "gusto"))]
mod timesheet_flow;
#[cfg(all(feature = "webhooks", feature = "hubspot", feature = "odoo"))]
mod webhooks;
#[cfg(feature = "odoo")]
mod workflows;
