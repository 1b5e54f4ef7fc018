//! The Gusto connector (feature `gusto`).
//!
//! **Status.** Being written; nothing public yet.
