//! A stateful fake of the BambooHR endpoints the `bamboohr` connector uses.
//!
//! **Status.** Being written; nothing public yet.
