//! `run`: every pipeline on its interval until a signal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use super::build::{Systems, build_pipeline, open_store};
use super::commands::{Failure, run_leased};
use super::config::Config;
use super::progress::Progress;
use std::time::Instant;
use tokio::sync::watch;

/// Resolves when SIGTERM or Ctrl-C arrives; the watch turns true on the
/// first, and a second one exits the process at once (every stored
/// change is already durable; the checkpoint lags at most one page).
fn on_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            wait_for_signal().await;
            seen += 1;
            if seen == 1 {
                eprintln!("stopping after the runs in progress (signal again to stop now)");
                let _ = tx.send(true);
            } else {
                eprintln!("stopping now");
                std::process::exit(130);
            }
        }
    });
    rx
}

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

/// Runs every pipeline, each round in `after` order, each when its
/// interval has passed since its last run, until a signal.
pub(crate) async fn run(config: &Config) -> Result<(), Failure> {
    let order = config.order(&[])?;
    if order.is_empty() {
        return Err(Failure::Usage(format!("no pipelines in {}", config.file())));
    }
    let mut systems = Systems::for_pipelines(config, &order)?;
    let state = open_store(config).await?;
    let mut built = Vec::new();
    for p in &order {
        built.push(build_pipeline(
            config,
            &mut systems,
            p,
            state.clone(),
            false,
        )?);
    }
    let mut stop = on_signal();
    let mut due: Vec<Instant> = vec![Instant::now(); order.len()];
    println!(
        "running {} pipeline(s); SIGTERM or Ctrl-C stops",
        order.len()
    );
    loop {
        for (i, (p, pipeline)) in order.iter().zip(&built).enumerate() {
            if *stop.borrow() {
                break;
            }
            if Instant::now() < due[i] {
                continue;
            }
            let progress = Progress::start(&format!("{}: running", p.name));
            match run_leased(&state, &p.name, pipeline.as_ref()).await {
                Ok(summary) => progress.finish(&format!("{}: {summary}", p.name)),
                Err(e) => progress.finish(&format!("{}: failed: {e}", p.name)),
            }
            due[i] = Instant::now() + p.interval;
        }
        if *stop.borrow() {
            break;
        }
        let next = due.iter().min().copied().unwrap_or_else(Instant::now);
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
    println!("stopped");
    Ok(())
}
