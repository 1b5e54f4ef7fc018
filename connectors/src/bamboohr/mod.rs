//! The BambooHR connector (feature `bamboohr`).
//!
//! **Status.** Being written; nothing public yet.
