//! The operator CLI (feature `cli`): the `odoo-sync` binary, over a
//! config file.
//!
//! ```text
//! odoo-sync [-c odoo-sync.toml] <command>
//!
//!   run                      every pipeline on its interval, until SIGTERM / Ctrl-C
//!   once [PIPELINE...]       each pipeline named (all when none) once, in `after` order
//!   dry-run [PIPELINE...]    read and plan, write nothing; prints the plan
//!   status                   per pipeline: checkpoint, dead letters, held conflicts, lease
//!   dlq list [--entity E] [--kind K] [--system S] [--parked]
//!   dlq show KEY
//!   dlq replay (KEY... | --all) --pipeline P
//!   dlq purge (KEY... | --entity/--kind/--system/--parked | --yes)
//!   held list [--pipeline P] [--entity E] [--all]
//!   held accept KEY | held reject KEY | held set KEY VALUE
//!   reconcile A B --entity E [--key FIELD] [--fields a,b] [--csv]
//!   policy check FILE
//! ```
//!
//! Every command has `--help`. Exit codes: 0 done, 1 a run or a command
//! failed (a system, the store, a lease held by a live worker), 2 bad
//! usage or config (every config mistake names its file, line and
//! column). Long work shows a spinner on a terminal and plain lines
//! otherwise.
//!
//! The config file ([`Config`]) names the state store (`memory:`,
//! `file:DIR`, `sqlite:PATH` with the feature `sqlite`, `postgres://...`
//! with the feature `postgres`), the systems (`[systems.NAME]`, of kind
//! odoo, hubspot, salesforce, bamboohr or gusto, their secrets read from
//! environment variables the config names, never from the file), the
//! ownership policy files and the pipelines (`[[pipeline]]`: name, entity,
//! from, to, policy, batch_size, interval, after).
//!
//! **Nothing stored is lost on bad input.** The config is checked whole
//! before anything opens; a state store another process holds (the file
//! store's lock), or of a newer schema (SQLite, PostgreSQL), is refused
//! as it is found; `once` and `run` take each pipeline's lease
//! ([`LeaseStore`](crate::LeaseStore)) for the run: `once` refuses (exit
//! code 1) a pipeline a live worker holds, `run` skips its round. `run`
//! is the [`Runner`](crate::Runner) (intervals, `after` order, leases
//! renewed while a run lasts, back-off on failures); on SIGTERM or Ctrl-C
//! the runs in flight finish their page (checkpoint saved) and it exits
//! 0; a second signal stops at once, which a pipeline survives too (its
//! checkpoint lags at most a page).
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let policy = dir.path().join("policy.toml");
//! std::fs::write(&policy, "[client.fields]\nindustri = \"salesforce\"\n")?;
//! // `odoo-sync policy check policy.toml`: one mistake, exit code 2.
//! let code = odoo_integration_connectors::cli::main_with(["odoo-sync", "policy", "check", policy.to_str().unwrap()]);
//! assert_eq!(code, std::process::ExitCode::from(2));
//! # Ok(()) }
//! ```

mod build;
mod commands;
mod config;
mod progress;
mod run;

pub use config::{Config, ConfigError, PipelineConfig, SystemKind};

use std::process::ExitCode;

/// The `odoo-sync` binary: parses the process's arguments and runs the
/// command.
///
/// # Example
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     odoo_integration_connectors::cli::main()
/// }
/// ```
pub fn main() -> ExitCode {
    main_with(std::env::args_os())
}

/// As [`main`], with the arguments given (the first is the program's
/// name).
///
/// # Example
///
/// ```
/// let code = odoo_integration_connectors::cli::main_with(["odoo-sync", "--help"]);
/// assert_eq!(code, std::process::ExitCode::SUCCESS);
/// let code = odoo_integration_connectors::cli::main_with(["odoo-sync", "no-such-command"]);
/// assert_eq!(code, std::process::ExitCode::from(2));
/// ```
pub fn main_with<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString>,
{
    commands::main_with(args.into_iter().map(Into::into).collect())
}
