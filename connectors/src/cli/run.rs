//! `run`: every pipeline under the [`Runner`](crate::Runner) until a signal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use super::build::{Systems, build_pipeline, open_store};
use super::commands::{Failure, holder};
use super::config::Config;
use crate::runner::{Job, LastRun, Runner, Shutdown};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Waits for SIGTERM or Ctrl-C.
#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// A line for a run that ended, or was skipped.
fn describe(name: &str, last: &LastRun) -> String {
    match last {
        LastRun::Finished(r) => format!("{name}: {r}"),
        LastRun::Skipped { holder } => format!("{name}: skipped: leased by {holder}"),
        other => format!("{name}: {other}"),
    }
}

/// Runs every pipeline on its interval under the runner (leases, `after`
/// order, back-off on failures), printing each run as it ends, until
/// SIGTERM or Ctrl-C; then the runs in flight finish their page, their
/// checkpoints saved, and it returns. A second signal exits at once.
pub(crate) async fn run(config: &Config) -> Result<(), Failure> {
    let order = config.order(&[])?;
    if order.is_empty() {
        return Err(Failure::Usage(format!("no pipelines in {}", config.file())));
    }
    let mut systems = Systems::for_pipelines(config, &order)?;
    let state = open_store(config).await?;
    let mut builder = Runner::builder(state.clone()).worker_id(holder());
    for p in &order {
        let pipeline = build_pipeline(config, &mut systems, p, state.clone(), false)?;
        let job: Arc<dyn Job> = pipeline;
        builder = builder.job(job, p.interval);
        for a in &p.after {
            builder = builder.after(p.name.clone(), a.clone());
        }
    }
    let runner = builder.build().map_err(|e| Failure::Usage(e.to_string()))?;
    let shutdown = Shutdown::on_signals()?;
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            shutdown.tripped().await;
            eprintln!("stopping: the runs in flight finish their page (signal again to stop now)");
            wait_for_signal().await;
            eprintln!("stopping now");
            std::process::exit(130);
        }
    });
    println!(
        "running {} pipeline(s) as {}; SIGTERM or Ctrl-C stops",
        order.len(),
        holder()
    );
    let running = tokio::spawn({
        let (runner, shutdown) = (runner.clone(), shutdown.clone());
        async move { runner.run(&shutdown).await }
    });
    // Print each run as it ends: the job's count of ends moves.
    let mut seen: HashMap<String, (u64, u64)> = HashMap::new();
    let report = |seen: &mut HashMap<String, (u64, u64)>| {
        for job in runner.status().jobs {
            let count = (job.runs, job.skipped_held);
            if seen.get(&job.name) != Some(&count) && !job.running {
                if let Some(last) = &job.last {
                    println!("{}", describe(&job.name, last));
                }
                seen.insert(job.name.clone(), count);
            }
        }
    };
    while !running.is_finished() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        report(&mut seen);
    }
    let result = running
        .await
        .map_err(|e| Failure::Failed(format!("the runner stopped: {e}")))?;
    report(&mut seen);
    result?;
    println!("stopped");
    Ok(())
}
