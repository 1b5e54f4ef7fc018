//! Held conflicts and leases.
