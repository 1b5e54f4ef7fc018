//! `odoo-sync`: the operator CLI (see `odoo_integration_connectors::cli`).

fn main() -> std::process::ExitCode {
    odoo_integration_connectors::cli::main()
}
