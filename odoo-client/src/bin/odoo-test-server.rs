//! `odoo-test-server`: the embedded Odoo 19, with the demo dataset, as a
//! process, for Python scripts, Odoo's own external-API examples or any
//! service not written in Rust.
//!
//! ```sh
//! cargo run -p odoo-integration-client --features test-server --bin odoo-test-server -- --port 0
//! ```
//!
//! It prints one JSON line on stdout, then serves on loopback until killed:
//!
//! ```json
//! {"url":"http://127.0.0.1:8069","database":"test","login":"admin","password":"admin","api_key":"test-server-admin-api-key"}
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use odoo_integration_client::test_server::{
    ADMIN_API_KEY, ADMIN_LOGIN, ADMIN_PASSWORD, DATABASE, TestServer,
};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "\
usage: odoo-test-server [--port N]

Serves an in-memory Odoo 19 with demo data on 127.0.0.1 until killed, after
printing one JSON line: url, database, login, password, api_key.

  --port N   the port to listen on; 0 picks a free one (default 8069)
  --help     this text";

/// The port asked for, `None` for `--help`.
fn port(args: &[String]) -> Result<Option<u16>, String> {
    let mut port = 8069;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--help" | "-h" => return Ok(None),
            "--port" => {
                let value = args.next().ok_or("--port needs a number")?;
                port = value
                    .parse()
                    .map_err(|_| format!("--port: `{value}` is not a port (0-65535)"))?;
            }
            other => match other.strip_prefix("--port=") {
                Some(value) => {
                    port = value
                        .parse()
                        .map_err(|_| format!("--port: `{value}` is not a port (0-65535)"))?;
                }
                None => return Err(format!("unknown argument `{other}`")),
            },
        }
    }
    Ok(Some(port))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match port(&args) {
        Ok(Some(port)) => port,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("odoo-test-server: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("odoo-test-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let server = match TestServer::builder()
            .with_demo_data()
            .port(port)
            .start()
            .await
        {
            Ok(server) => server,
            Err(e) => {
                eprintln!("odoo-test-server: {e}");
                return ExitCode::FAILURE;
            }
        };
        let line = serde_json::json!({
            "url": server.url(),
            "database": DATABASE,
            "login": ADMIN_LOGIN,
            "password": ADMIN_PASSWORD,
            "api_key": ADMIN_API_KEY,
        });
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            return ExitCode::FAILURE;
        }
        drop(out);
        // Serve until the process is killed.
        std::future::pending::<()>().await;
        ExitCode::SUCCESS
    })
}
