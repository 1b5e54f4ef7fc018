//! When each job runs next: pure decisions over plain values (intervals,
//! jitter, back-off, ordering), so the runner's loop only acts on them.

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};
use std::time::Duration;
use tokio::time::Instant;

/// How a round of a job ended, as far as scheduling cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    /// It ran (to the end, or stopped early).
    Ran,
    /// Another worker holds its lease: it is that worker's round.
    Skipped,
    /// It failed; `retry_after` when the error said when to come back.
    Failed { retry_after: Option<Duration> },
}

/// One job's clock.
#[derive(Debug, Clone)]
pub(super) struct Clock {
    pub(super) interval: Duration,
    /// The tick the next run belongs to (without jitter).
    tick: Instant,
    /// When the next run may start (the tick plus jitter).
    pub(super) next_at: Instant,
    pub(super) running: bool,
    /// Event numbers (the runner's, growing): the last start, the last
    /// end of a round (run, skip or failure).
    pub(super) started: Option<u64>,
    pub(super) concluded: Option<u64>,
    /// Failures in a row.
    pub(super) failures: u32,
}

impl Clock {
    /// A clock whose first run is due `now`.
    pub(super) fn new(interval: Duration, now: Instant) -> Self {
        Clock {
            interval,
            tick: now,
            next_at: now,
            running: false,
            started: None,
            concluded: None,
            failures: 0,
        }
    }

    /// Sets the next run after a round that ended `now`; how many ticks
    /// were missed while it ran (skipped, not queued). `sample` is in
    /// `[0, 1)`; `jitter` the fraction of the interval it may add.
    pub(super) fn schedule(
        &mut self,
        ended: Ended,
        now: Instant,
        jitter: f64,
        sample: f64,
        max_backoff: Duration,
    ) -> u64 {
        let spread = self.interval.mul_f64((jitter * sample).clamp(0.0, 1.0));
        match ended {
            Ended::Ran | Ended::Skipped => {
                if ended == Ended::Ran {
                    self.failures = 0;
                }
                let (tick, missed) = next_tick(self.tick, self.interval, now);
                self.tick = tick;
                self.next_at = tick + spread;
                missed
            }
            Ended::Failed { retry_after } => {
                self.failures = self.failures.saturating_add(1);
                let wait = match retry_after {
                    // The system said when: then, not sooner, not later.
                    Some(after) => {
                        self.tick = now + after;
                        self.next_at = self.tick;
                        return 0;
                    }
                    None => backoff(self.interval, self.failures, max_backoff),
                };
                self.tick = now + wait;
                self.next_at = self.tick + spread;
                0
            }
        }
    }
}

/// The first tick `interval` apart from `tick` that is after `now`, and
/// how many ticks in between were missed.
fn next_tick(tick: Instant, interval: Duration, now: Instant) -> (Instant, u64) {
    let next = tick + interval;
    if next > now {
        return (next, 0);
    }
    let behind = now - tick;
    let n = behind.as_nanos() / interval.as_nanos().max(1);
    let missed = u64::try_from(n).unwrap_or(u64::MAX);
    let n = u32::try_from(n.saturating_add(1)).unwrap_or(u32::MAX);
    // Far behind (a suspended machine): from now on.
    let next = interval.checked_mul(n).map_or(now + interval, |d| tick + d);
    (next, missed)
}

/// The wait after `failures` failures in a row: the interval doubled for
/// each, at most `max` (or the interval, when that is longer).
pub(super) fn backoff(interval: Duration, failures: u32, max: Duration) -> Duration {
    let factor = 2u32.saturating_pow(failures.min(31));
    interval
        .checked_mul(factor)
        .unwrap_or(Duration::MAX)
        .min(max.max(interval))
}

/// A number in `[0, 1)` for the `n`th round of `name`, different in each
/// runner (std's `RandomState` is seeded from the OS): no random-number
/// crate is needed to spread workers apart.
pub(super) fn sample(random: &RandomState, name: &str, n: u64) -> f64 {
    let mut h = random.build_hasher();
    name.hash(&mut h);
    n.hash(&mut h);
    // 53 bits: exactly representable.
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether job `i` may start now as far as ordering goes: each of its
/// prerequisites is not running and has ended a round since `i` last
/// started (or, before `i`'s first run, has ended one at all).
pub(super) fn ordered(clocks: &[Clock], prerequisites: &[usize], i: usize) -> bool {
    let since = clocks[i].started;
    prerequisites.iter().all(|&p| {
        let p = &clocks[p];
        !p.running && p.concluded.is_some_and(|c| since.is_none_or(|s| c > s))
    })
}

/// Each job's prerequisites as indexes, from `(job, prerequisite)` name
/// pairs.
///
/// # Errors
///
/// [`Configuration`](ConnectorErrorKind::Configuration): a name that is
/// no job's, or a cycle (a job that must wait for itself).
pub(super) fn prerequisites(names: &[&str], after: &[(String, String)]) -> Result<Vec<Vec<usize>>> {
    let index = |name: &str| {
        names.iter().position(|n| *n == name).ok_or_else(|| {
            ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("runner: `after` names `{name}`, which is not one of its jobs"),
            )
        })
    };
    let mut before = vec![Vec::new(); names.len()];
    for (job, prerequisite) in after {
        let (j, p) = (index(job)?, index(prerequisite)?);
        if !before[j].contains(&p) {
            before[j].push(p);
        }
    }
    // Depth-first, colouring: 1 on the path, 2 done.
    fn visit(
        i: usize,
        before: &[Vec<usize>],
        mark: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        match mark[i] {
            2 => return None,
            1 => {
                let from = path.iter().position(|&p| p == i).unwrap_or(0);
                let mut cycle = path[from..].to_vec();
                cycle.push(i);
                return Some(cycle);
            }
            _ => {}
        }
        mark[i] = 1;
        path.push(i);
        for &p in &before[i] {
            if let Some(cycle) = visit(p, before, mark, path) {
                return Some(cycle);
            }
        }
        path.pop();
        mark[i] = 2;
        None
    }
    let mut mark = vec![0u8; names.len()];
    for i in 0..names.len() {
        if let Some(cycle) = visit(i, &before, &mut mark, &mut Vec::new()) {
            let names: Vec<&str> = cycle.iter().map(|&i| names[i]).collect();
            return Err(ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!(
                    "runner: the jobs' order has a cycle ({}): none of them could ever run",
                    names.join(" after ")
                ),
            ));
        }
    }
    Ok(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn a_run_longer_than_its_interval_skips_the_missed_ticks() {
        let t0 = Instant::now();
        let mut c = Clock::new(MIN, t0);
        // Ran from t0 to t0 + 150 s: the ticks at 60 and 120 are missed.
        let missed = c.schedule(Ended::Ran, t0 + Duration::from_secs(150), 0.0, 0.5, MIN);
        assert_eq!(missed, 2);
        assert_eq!(c.next_at, t0 + Duration::from_secs(180));
        // A short run keeps the rhythm.
        let missed = c.schedule(Ended::Ran, t0 + Duration::from_secs(185), 0.0, 0.5, MIN);
        assert_eq!((missed, c.next_at), (0, t0 + Duration::from_secs(240)));
    }

    #[test]
    fn jitter_adds_at_most_its_fraction_and_does_not_drift() {
        let t0 = Instant::now();
        let mut c = Clock::new(MIN, t0);
        c.schedule(Ended::Ran, t0, 0.1, 0.999, MIN);
        assert!(c.next_at > t0 + MIN && c.next_at < t0 + Duration::from_secs(66));
        c.schedule(Ended::Ran, c.next_at, 0.1, 0.0, MIN);
        assert_eq!(c.next_at, t0 + 2 * MIN); // the tick, not the jittered start
    }

    #[test]
    fn failures_double_the_wait_up_to_the_max_and_a_success_resets() {
        let t0 = Instant::now();
        let max = Duration::from_secs(300);
        let mut c = Clock::new(MIN, t0);
        let waits: Vec<Duration> = (0..5)
            .map(|_| {
                c.schedule(Ended::Failed { retry_after: None }, t0, 0.0, 0.0, max);
                c.next_at - t0
            })
            .collect();
        let secs: Vec<u64> = waits.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [120, 240, 300, 300, 300]);
        c.schedule(Ended::Ran, t0, 0.0, 0.0, max);
        assert_eq!(c.failures, 0);
    }

    #[test]
    fn retry_after_sets_the_next_run_exactly() {
        let t0 = Instant::now();
        let mut c = Clock::new(MIN, t0);
        let after = Duration::from_secs(30 * 60);
        c.schedule(
            Ended::Failed {
                retry_after: Some(after),
            },
            t0,
            0.5,
            0.9,
            MIN,
        );
        assert_eq!(c.next_at, t0 + after);
    }

    #[test]
    fn a_job_waits_for_a_round_of_its_prerequisite() {
        let t0 = Instant::now();
        let mut clocks = vec![Clock::new(MIN, t0), Clock::new(MIN, t0)];
        let before = [1];
        assert!(!ordered(&clocks, &before, 0), "clients have not run yet");
        clocks[1].running = true;
        assert!(!ordered(&clocks, &before, 0));
        clocks[1].running = false;
        clocks[1].concluded = Some(1);
        assert!(ordered(&clocks, &before, 0));
        clocks[0].started = Some(2);
        assert!(
            !ordered(&clocks, &before, 0),
            "a new round of clients first"
        );
        clocks[1].concluded = Some(3);
        assert!(ordered(&clocks, &before, 0));
    }

    #[test]
    fn unknown_names_and_cycles_are_refused() {
        let names = ["a", "b", "c"];
        let pair = |j: &str, p: &str| (j.to_owned(), p.to_owned());
        let ok = prerequisites(&names, &[pair("b", "a"), pair("c", "b")]).unwrap_or_default();
        assert_eq!(ok, vec![vec![], vec![0], vec![1]]);
        let e = prerequisites(&names, &[pair("b", "x")])
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("`x`")));
        let e = prerequisites(&names, &[pair("a", "c"), pair("b", "a"), pair("c", "b")]).err();
        assert!(e.is_some_and(
            |e| e.kind() == ConnectorErrorKind::Configuration && e.message().contains("cycle")
        ));
        assert!(prerequisites(&names, &[pair("a", "a")]).is_err());
    }

    #[test]
    fn samples_are_fractions_that_differ_by_round() {
        let r = RandomState::new();
        let s: Vec<f64> = (0..100).map(|n| sample(&r, "job", n)).collect();
        assert!(s.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(s.iter().any(|x| *x != s[0]));
    }
}
