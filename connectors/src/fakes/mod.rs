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
