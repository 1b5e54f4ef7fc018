//! Secrets never appear in Debug, Display, errors or tracing output.
//!
//! A binary of its own: its test installs a thread-local tracing
//! subscriber, and tests running beside it on other threads (with none)
//! can leave tracing's per-callsite cache answering "disabled" for the
//! spans it must see. Alone in its process, it sees them all.
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

#[allow(dead_code)]
#[path = "client/support.rs"]
mod support;

#[path = "client/secrets.rs"]
mod secrets;
