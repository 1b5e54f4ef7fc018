//! The commands: clap's parsing, each command's work, what it prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use super::build::{AnyPipeline, BuildError, Systems, build_pipeline, open_store, reconcile};
use super::config::{Config, ConfigError, load_policy_text};
use super::progress::Progress;
use crate::error::{ConnectorError, ConnectorErrorKind};
use crate::review::{LetterFilter, Review};
use crate::store::{HeldFilter, SyncState};
use clap::{Args, Parser, Subcommand};
use odoo_integration_model::{FieldValue, MatchKey, Normalize, SystemId};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Keeps Odoo in step with a CRM, an HRIS and payroll, from a config file.
#[derive(Debug, Parser)]
#[command(name = "odoo-sync", version, about, long_about = None)]
pub(crate) struct Cli {
    /// The config file (TOML: [state], [systems.NAME], [[pipeline]]).
    #[arg(
        short,
        long,
        global = true,
        default_value = "odoo-sync.toml",
        value_name = "FILE"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs every pipeline on its interval, in `after` order, each under
    /// its lease, until SIGTERM or Ctrl-C (the runs in flight finish their
    /// page first; a second signal stops at once, losing nothing stored).
    Run,
    /// Runs the pipelines named (all when none) once, in `after` order.
    Once {
        /// Pipeline names.
        pipelines: Vec<String>,
    },
    /// Reads and plans the pipelines named (all when none); writes nothing,
    /// the state store included, and prints the plan.
    DryRun {
        /// Pipeline names.
        pipelines: Vec<String>,
    },
    /// Per pipeline: its checkpoint, dead letters, held conflicts and lease.
    Status,
    /// The dead-letter queue: records that failed.
    #[command(subcommand)]
    Dlq(Dlq),
    /// Conflicts the ownership policy held for review.
    #[command(subcommand)]
    Held(Held),
    /// Reads an entity from two systems and lists what differs.
    Reconcile {
        /// The first system (a name in [systems]).
        a: String,
        /// The second system.
        b: String,
        /// The entity (client, contact, employee, ...).
        #[arg(long)]
        entity: String,
        /// The field that pairs records (default: the entity's first match
        /// key, as `tax_id` for clients).
        #[arg(long)]
        key: Option<String>,
        /// Only compare these fields (comma-separated; default: all).
        #[arg(long, value_delimiter = ',')]
        fields: Vec<String>,
        /// Print the report as CSV.
        #[arg(long)]
        csv: bool,
    },
    /// Ownership policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Args)]
struct LetterArgs {
    /// Only this entity.
    #[arg(long)]
    entity: Option<String>,
    /// Only letters whose last error is of this kind (invalid, not_found,
    /// transport, ...).
    #[arg(long)]
    kind: Option<String>,
    /// Only records from this system (hubspot, odoo, ...).
    #[arg(long)]
    system: Option<String>,
    /// Only parked letters (those replay no longer tries).
    #[arg(long)]
    parked: bool,
}

#[derive(Debug, Subcommand)]
enum Dlq {
    /// Lists dead letters, oldest first.
    List(LetterArgs),
    /// Shows one dead letter whole, as JSON.
    Show {
        /// Its key (from `dlq list`).
        key: String,
    },
    /// Replays dead letters through a pipeline: those named (parked ones
    /// too), or with --all every unparked one of its entity and source.
    Replay {
        /// Keys (from `dlq list`).
        keys: Vec<String>,
        /// Every unparked letter of the pipeline's entity and source.
        #[arg(long, conflicts_with = "keys")]
        all: bool,
        /// The pipeline that replays them.
        #[arg(long)]
        pipeline: String,
    },
    /// Removes dead letters (the records are given up): those named, or
    /// those the filters pass.
    Purge {
        /// Keys (from `dlq list`).
        keys: Vec<String>,
        #[command(flatten)]
        filter: LetterArgs,
        /// Needed to purge every letter (no key, no filter).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
enum Held {
    /// Lists the conflicts waiting for a decision.
    List {
        /// Only this pipeline's.
        #[arg(long)]
        pipeline: Option<String>,
        /// Only this entity's.
        #[arg(long)]
        entity: Option<String>,
        /// Decided ones too (they are applied by the pipeline's next run).
        #[arg(long)]
        all: bool,
    },
    /// Takes the source's value: the pipeline's next run writes it.
    Accept {
        /// Its key (from `held list`).
        key: String,
    },
    /// Keeps the current value.
    Reject {
        /// Its key (from `held list`).
        key: String,
    },
    /// Writes another value instead of either side.
    Set {
        /// Its key (from `held list`).
        key: String,
        /// The value: text, or a typed value as JSON, as
        /// {"type":"decimal","value":"12.5"}.
        value: String,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Checks a policy file (TOML, or JSON by its extension) and prints
    /// every mistake with its line and column.
    Check {
        /// The policy file.
        file: PathBuf,
    },
}

/// How a command ended.
pub(crate) enum Failure {
    /// Bad usage or config: exit code 2.
    Usage(String),
    /// A run or a command failed: exit code 1.
    Failed(String),
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Usage(e.to_string())
    }
}

impl From<ConnectorError> for Failure {
    fn from(e: ConnectorError) -> Self {
        Failure::Failed(describe(&e))
    }
}

impl From<BuildError> for Failure {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Config(e) => e.into(),
            BuildError::Failed(e) => e.into(),
        }
    }
}

/// An error as an operator reads it, with a hint for the ones they can act on.
fn describe(e: &ConnectorError) -> String {
    match e.kind() {
        ConnectorErrorKind::Locked => {
            format!("{e} (another odoo-sync holds the state store; stop it, or wait)")
        }
        _ => e.to_string(),
    }
}

type Outcome = Result<(), Failure>;

/// Parses `args` and runs the command.
pub(crate) fn main_with(args: Vec<std::ffi::OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(1)
        }
    }
}

async fn dispatch(cli: Cli) -> Outcome {
    if let Command::Policy(PolicyCommand::Check { file }) = &cli.command {
        return policy_check(file);
    }
    let config = Config::load(&cli.config)?;
    match cli.command {
        Command::Run => super::run::run(&config).await,
        Command::Once { pipelines } => once(&config, &pipelines, false).await,
        Command::DryRun { pipelines } => once(&config, &pipelines, true).await,
        Command::Status => status(&config).await,
        Command::Dlq(cmd) => dlq(&config, cmd).await,
        Command::Held(cmd) => held(&config, cmd).await,
        Command::Reconcile {
            a,
            b,
            entity,
            key,
            fields,
            csv,
        } => reconcile_cmd(&config, &a, &b, &entity, key, &fields, csv).await,
        Command::Policy(_) => Ok(()),
    }
}

fn policy_check(file: &std::path::Path) -> Outcome {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", file.display())))?;
    match load_policy_text(file, &text) {
        Ok(policy) => {
            let _ = policy;
            println!("{}: ok", file.display());
            Ok(())
        }
        Err(e) => {
            for m in e.mistakes() {
                eprintln!("{}: {m}", file.display());
            }
            Err(Failure::Usage(format!(
                "{} mistake(s) in `{}`",
                e.mistakes().len(),
                file.display()
            )))
        }
    }
}

/// Who this process is, as a lease names it.
pub(crate) fn holder() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("odoo-sync pid {} on {host}", std::process::id())
}

/// How long a lease taken for one run lasts, unless released sooner.
pub(crate) const RUN_LEASE: Duration = Duration::from_secs(30 * 60);

/// Runs one pipeline under its lease: refused while a live worker holds it.
pub(crate) async fn run_leased(
    state: &Arc<dyn SyncState>,
    name: &str,
    pipeline: &dyn AnyPipeline,
) -> Result<crate::pipeline::RunSummary, ConnectorError> {
    let Some(lease) = state.acquire(name, &holder(), RUN_LEASE).await? else {
        let who = state
            .lease(name)
            .await?
            .map(|l| {
                format!(
                    "{} until {}",
                    l.holder,
                    l.expires_at.format("%Y-%m-%d %H:%M:%S UTC")
                )
            })
            .unwrap_or_else(|| "another worker".into());
        return Err(ConnectorError::new(
            ConnectorErrorKind::Locked,
            format!("pipeline `{name}` is running elsewhere: leased by {who}"),
        ));
    };
    let result = pipeline.run().await;
    let released = state.release(&lease).await;
    let summary = result?;
    released?;
    Ok(summary)
}

async fn once(config: &Config, names: &[String], dry_run: bool) -> Outcome {
    let order = config.order(names)?;
    let mut systems = Systems::for_pipelines(config, &order)?;
    let state = open_store(config).await?;
    let mut built = Vec::new();
    for p in &order {
        built.push(build_pipeline(
            config,
            &mut systems,
            p,
            state.clone(),
            dry_run,
        )?);
    }
    let mut failed = Vec::new();
    for (p, pipeline) in order.iter().zip(&built) {
        if p.after.iter().any(|a| failed.contains(a)) {
            println!("{}: skipped (a pipeline it runs after failed)", p.name);
            failed.push(p.name.clone());
            continue;
        }
        let progress = Progress::start(&format!(
            "{}: {}",
            p.name,
            if dry_run { "planning" } else { "running" }
        ));
        let result = if dry_run {
            pipeline.run().await
        } else {
            run_leased(&state, &p.name, pipeline.as_ref()).await
        };
        match result {
            Ok(summary) if dry_run => {
                progress.finish(&format!("{}: {}", p.name, plan_counts(&summary)));
                print_plan(&summary);
            }
            Ok(summary) => progress.finish(&format!("{}: {summary}", p.name)),
            Err(e) => {
                progress.finish(&format!("{}: failed: {}", p.name, describe(&e)));
                failed.push(p.name.clone());
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "{} pipeline(s) failed: {}",
            failed.len(),
            failed.join(", ")
        )))
    }
}

/// A dry run's plan, counted.
fn plan_counts(summary: &crate::pipeline::RunSummary) -> String {
    use crate::pipeline::PlannedAction;
    let count =
        |f: fn(&PlannedAction) -> bool| summary.planned.iter().filter(|c| f(&c.action)).count();
    format!(
        "read {}; would create {}, update {}, delete {}, leave {} unchanged, reject {}; refused fields {}, held {}",
        summary.read,
        count(|a| matches!(a, PlannedAction::Create)),
        count(|a| matches!(a, PlannedAction::Update { .. })),
        count(|a| matches!(a, PlannedAction::Delete)),
        count(|a| matches!(a, PlannedAction::Unchanged)),
        count(|a| matches!(a, PlannedAction::Reject { .. })),
        summary.refused.len(),
        summary.held.len()
    )
}

fn print_plan(summary: &crate::pipeline::RunSummary) {
    use crate::pipeline::PlannedAction;
    for c in &summary.planned {
        let what = match &c.action {
            PlannedAction::Create => "create".to_owned(),
            PlannedAction::Update { fields } => format!("update {}", fields.join(", ")),
            PlannedAction::Delete => "delete".to_owned(),
            PlannedAction::Unchanged => "unchanged".to_owned(),
            PlannedAction::Reject { error } => format!("reject: {error}"),
        };
        println!("  {}: {what}", c.remote_id);
    }
    for r in &summary.refused {
        println!(
            "  {}: refused {} ({})",
            r.remote_id, r.refused.field, r.refused.reason
        );
    }
    for h in &summary.held {
        println!("  {}: would hold {}", h.remote_id, h.held.field);
    }
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

async fn status(config: &Config) -> Outcome {
    let state = open_store(config).await?;
    if config.pipelines().is_empty() {
        println!("no pipelines in {}", config.file());
    }
    let review = Review::new(state.clone());
    for p in config.pipelines() {
        println!("{}  ({}: {} → {})", p.name, p.entity, p.from, p.to);
        let checkpoint = state.checkpoint(&p.name).await?;
        println!(
            "  checkpoint: {}",
            checkpoint.map_or_else(|| "none yet".to_owned(), |c| short(c.as_str(), 100))
        );
        match crate::LastRunRecord::load(state.as_ref(), &p.name).await? {
            Some(last) => {
                let now = chrono::Utc::now();
                let outcome = match (&last.summary, &last.error) {
                    (_, Some(e)) => format!("failed: {}", short(e, 200)),
                    (Some(s), None) => s.clone(),
                    (None, None) => "no summary".to_owned(),
                };
                println!(
                    "  last run: {} ({:.1} s): {outcome}",
                    last.finished.format("%Y-%m-%d %H:%M:%S UTC"),
                    (last.finished - last.started).num_milliseconds() as f64 / 1000.0
                );
                match last.lag(now) {
                    Some(lag) => println!("  lag: {} s", lag.num_seconds()),
                    None => println!("  lag: unknown (no change read yet)"),
                }
            }
            None => println!("  last run: never"),
        }
        let source = build_source_id(config, &p.from);
        let letters = review
            .letters(&LetterFilter::default().entity(&p.entity))
            .await?;
        let mine: Vec<_> = letters
            .iter()
            .filter(|l| source.as_ref().is_none_or(|s| *s == l.system))
            .collect();
        let parked = mine.iter().filter(|l| l.parked).count();
        println!("  dead letters: {} ({parked} parked)", mine.len());
        let held = review
            .held(&HeldFilter::default().pipeline(&p.name))
            .await?;
        let undecided = held.iter().filter(|c| c.decision.is_none()).count();
        println!(
            "  held: {undecided} waiting, {} decided",
            held.len() - undecided
        );
        match state.lease(&p.name).await? {
            Some(l) if l.expires_at > chrono::Utc::now() => {
                println!(
                    "  lease: {} until {}",
                    l.holder,
                    l.expires_at.format("%Y-%m-%d %H:%M:%S UTC")
                )
            }
            _ => println!("  lease: free"),
        }
    }
    Ok(())
}

/// The system id a configured system's records carry.
fn build_source_id(config: &Config, name: &str) -> Option<SystemId> {
    use super::config::SystemKind;
    Some(match config.system_kind(name)? {
        SystemKind::Odoo => SystemId::odoo(),
        SystemKind::HubSpot => SystemId::hubspot(),
        SystemKind::Salesforce => SystemId::salesforce(),
        SystemKind::BambooHr => SystemId::bamboohr(),
        SystemKind::Gusto => SystemId::gusto(),
    })
}

fn letter_filter(args: &LetterArgs) -> Result<LetterFilter, Failure> {
    let mut f = LetterFilter::default();
    if let Some(e) = &args.entity {
        if !odoo_integration_model::entity_names().contains(&e.as_str()) {
            return Err(Failure::Usage(format!(
                "unknown entity `{e}` (known: {})",
                odoo_integration_model::entity_names().join(", ")
            )));
        }
        f = f.entity(e.clone());
    }
    if let Some(k) = &args.kind {
        let kind: ConnectorErrorKind = serde_json::from_value(serde_json::Value::String(k.clone()))
            .map_err(|_| Failure::Usage(format!("unknown error kind `{k}` (as `dlq list` shows them: invalid, not_found, transport, ...)")))?;
        f = f.kind(kind);
    }
    if let Some(s) = &args.system {
        f = f.system(SystemId::new(s.clone()));
    }
    if args.parked {
        f = f.parked(true);
    }
    Ok(f)
}

async fn dlq(config: &Config, cmd: Dlq) -> Outcome {
    match cmd {
        Dlq::List(args) => {
            let filter = letter_filter(&args)?;
            let review = Review::new(open_store(config).await?);
            let letters = review.letters(&filter).await?;
            for l in &letters {
                let message = l.error.message.lines().next().unwrap_or("");
                println!(
                    "{}  {}  attempts {}{}  {}",
                    l.key,
                    l.error.kind,
                    l.attempts,
                    if l.parked { " parked" } else { "" },
                    short(message, 120)
                );
            }
            println!("{} dead letter(s)", letters.len());
            Ok(())
        }
        Dlq::Show { key } => {
            let review = Review::new(open_store(config).await?);
            let letter = review
                .letter(&key)
                .await?
                .ok_or_else(|| Failure::Failed(format!("no dead letter `{key}`")))?;
            let text = serde_json::to_string_pretty(&letter)
                .map_err(|e| Failure::Failed(e.to_string()))?;
            println!("{text}");
            Ok(())
        }
        Dlq::Replay {
            keys,
            all,
            pipeline,
        } => {
            if keys.is_empty() && !all {
                return Err(Failure::Usage(
                    "name the keys to replay, or give --all".into(),
                ));
            }
            let p = config.pipeline(&pipeline).ok_or_else(|| {
                Failure::Usage(format!(
                    "no pipeline named `{pipeline}` in {}",
                    config.file()
                ))
            })?;
            let mut systems = Systems::for_pipelines(config, &[p])?;
            let state = open_store(config).await?;
            let built = build_pipeline(config, &mut systems, p, state.clone(), false)?;
            let progress = Progress::start(&format!("{}: replaying", p.name));
            let result = if all {
                built.replay().await
            } else {
                built.replay_keys(&keys).await
            };
            match result {
                Ok(s) => {
                    progress.finish(&format!(
                        "{}: replayed {}, recovered {}, still failing {} ({} parked)",
                        p.name, s.read, s.recovered, s.dead_lettered, s.parked
                    ));
                    Ok(())
                }
                Err(e) => {
                    progress.finish(&format!("{}: replay failed", p.name));
                    Err(e.into())
                }
            }
        }
        Dlq::Purge { keys, filter, yes } => {
            let state = open_store(config).await?;
            let n = if !keys.is_empty() {
                if filter.entity.is_some()
                    || filter.kind.is_some()
                    || filter.system.is_some()
                    || filter.parked
                {
                    return Err(Failure::Usage("give keys or filters, not both".into()));
                }
                let mut missing = Vec::new();
                for k in &keys {
                    if state.letter(k).await?.is_none() {
                        missing.push(k.as_str());
                    }
                }
                if !missing.is_empty() {
                    return Err(Failure::Failed(format!(
                        "no dead letter {}; nothing purged",
                        missing.join(", ")
                    )));
                }
                state.remove_many(&keys).await?
            } else {
                let f = letter_filter(&filter)?;
                if f == LetterFilter::default() && !yes {
                    return Err(Failure::Usage(
                        "this would purge every dead letter: add --yes, or a filter".into(),
                    ));
                }
                Review::new(state).purge(&f).await?
            };
            println!("purged {n} dead letter(s)");
            Ok(())
        }
    }
}

fn show_value(v: &FieldValue) -> String {
    match v {
        FieldValue::Null => "(empty)".into(),
        FieldValue::Text(t) => format!("{t:?}"),
        other => serde_json::to_value(other)
            .ok()
            .and_then(|j| j.get("value").cloned())
            .map_or_else(|| format!("{other:?}"), |j| j.to_string()),
    }
}

async fn held(config: &Config, cmd: Held) -> Outcome {
    let review = Review::new(open_store(config).await?);
    match cmd {
        Held::List {
            pipeline,
            entity,
            all,
        } => {
            let mut f = HeldFilter::default();
            if let Some(p) = pipeline {
                f = f.pipeline(p);
            }
            if let Some(e) = entity {
                f = f.entity(e);
            }
            if !all {
                f = f.undecided();
            }
            let list = review.held(&f).await?;
            for c in &list {
                let decision = match &c.decision {
                    None => String::new(),
                    Some(d) => format!("  decided: {d:?}"),
                };
                println!(
                    "{}  {}  {}: current {} ← {} from {}{decision}",
                    c.key,
                    c.pipeline,
                    c.field,
                    show_value(&c.current),
                    show_value(&c.attempted),
                    c.source
                );
            }
            println!("{} held conflict(s)", list.len());
            Ok(())
        }
        Held::Accept { key } => {
            review.accept(&key).await?;
            println!("{key}: accepted; the pipeline's next run writes it");
            Ok(())
        }
        Held::Reject { key } => {
            review.reject(&key).await?;
            println!("{key}: rejected; the current value stays");
            Ok(())
        }
        Held::Set { key, value } => {
            let v = serde_json::from_str::<FieldValue>(&value).unwrap_or(FieldValue::Text(value));
            review.set(&key, v).await.map_err(|e| match e.kind() {
                ConnectorErrorKind::Invalid => Failure::Usage(e.to_string()),
                _ => e.into(),
            })?;
            println!("{key}: set; the pipeline's next run writes it");
            Ok(())
        }
    }
}

async fn reconcile_cmd(
    config: &Config,
    a: &str,
    b: &str,
    entity: &str,
    key: Option<String>,
    fields: &[String],
    csv: bool,
) -> Outcome {
    for s in [a, b] {
        if config.system_kind(s).is_none() {
            return Err(Failure::Usage(format!(
                "no system named `{s}` in {}",
                config.file()
            )));
        }
    }
    let key = match key {
        Some(k) => {
            if odoo_integration_model::schema(entity).is_some_and(|f| !f.contains(&k.as_str())) {
                return Err(Failure::Usage(format!("{entity} has no field `{k}`")));
            }
            // As the entity's own match key on that field normalises it
            // (names without case or legal form), else as an identifier.
            odoo_integration_model::match_keys_for(entity)
                .into_iter()
                .find(|m| m.field() == k)
                .map_or_else(
                    || MatchKey::new(k.clone(), Normalize::Identifier),
                    |m| MatchKey::new(k.clone(), m.normalize()),
                )
        }
        None => odoo_integration_model::match_keys_for(entity)
            .into_iter()
            .next()
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "{entity} has no default match key: give --key FIELD"
                ))
            })?,
    };
    let mut systems = Systems::default();
    let (sa, sb) = (systems.get(config, a)?, systems.get(config, b)?);
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let progress = Progress::start(&format!("reading {entity} from {a} and {b}"));
    let report = reconcile(&sa, &sb, entity, &key, &fields)
        .await
        .map_err(Failure::Usage)?;
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            progress.finish("reconcile failed");
            return Err(e.into());
        }
    };
    progress.finish(&format!(
        "{entity}: {} matched, {} only in {a}, {} only in {b}, {} field(s) differ",
        report.matched.len(),
        report.only_in_a.len(),
        report.only_in_b.len(),
        report.mismatched.len()
    ));
    if csv {
        print!("{}", report.to_csv());
    } else {
        for k in &report.only_in_a {
            println!("  only in {a}: {k}");
        }
        for k in &report.only_in_b {
            println!("  only in {b}: {k}");
        }
        if !report.mismatched.is_empty() {
            print!("{}", crate::workflows::amounts::table(&report, a, b));
        }
    }
    Ok(())
}
