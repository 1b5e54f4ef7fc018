//! A stateful fake of the Salesforce endpoints the `salesforce` connector uses.
//!
//! **Status.** Being written; nothing public yet.
