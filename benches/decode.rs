//! Decode benchmark (filled in by the odoo-client core work).
fn main() {}
