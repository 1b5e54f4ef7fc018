//! The Salesforce connector (feature `salesforce`): REST API over OAuth 2.0.
//!
//! **Status.** Being written; nothing public yet.
