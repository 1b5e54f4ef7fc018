//! Wire tests of the Odoo client against wiremock servers replaying
//! responses recorded from a real Odoo 19 (trimmed copies under
//! `tests/fixtures/`). One test binary with modules: one link, faster CI.
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

mod classify;
mod failures;
mod fuzz;
mod hostile;
mod json2;
mod jsonrpc;
mod scale;
mod support;
