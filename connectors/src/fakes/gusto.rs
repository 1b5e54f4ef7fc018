//! A stateful fake of the Gusto endpoints the `gusto` connector uses.
//!
//! **Status.** Being written; nothing public yet.
