//! A stateful fake of the HubSpot endpoints the `hubspot` connector uses.
//!
//! **Status.** Being written; nothing public yet.
