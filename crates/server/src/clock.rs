//! The log's clock: the real one, or a settable simulated one for exercises.
//!
//! Humanitarian teams train with simulation exercises, and the demo and tests live in March
//! 2022, so "now" can be set: a simulated clock starts at a given instant and runs forward (at
//! `rate` times real speed). Every rule that looks at the present is judged against this clock;
//! the core never reads a clock itself, the shell passes the instant in.

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};

/// Where "now" comes from.
#[derive(Debug, Clone)]
pub struct Clock {
    simulated: Option<(Timestamp, Instant, f64)>,
}

impl Clock {
    /// The host's real clock.
    pub fn system() -> Self {
        Clock { simulated: None }
    }

    /// A simulated clock that reads `start` now and runs at `rate` × real time.
    pub fn simulated(start: Timestamp, rate: f64) -> Self {
        Clock {
            simulated: Some((start, Instant::now(), rate)),
        }
    }

    /// Whether this is an exercise clock; every reply says so.
    pub fn is_simulated(&self) -> bool {
        self.simulated.is_some()
    }

    /// A simulated clock never runs behind the log it serves: restarted from its original
    /// `--clock`, an exercise would otherwise refuse every new command as clock skew.
    pub fn not_before(self, t: Timestamp) -> Self {
        match self.simulated {
            Some((_, _, rate)) if self.now() < t => Clock::simulated(t, rate),
            _ => self,
        }
    }

    /// How long, in real time, until this clock reads `t` (zero if it already has): what a task
    /// that must act at a window boundary sleeps for.
    pub fn real_until(&self, t: Timestamp) -> std::time::Duration {
        let ahead = self.now().duration_until(t);
        if ahead.is_negative() || ahead.is_zero() {
            return std::time::Duration::ZERO;
        }
        let rate = match self.simulated {
            Some((_, _, rate)) if rate > 0.0 => rate,
            Some(_) => return std::time::Duration::MAX,
            None => 1.0,
        };
        std::time::Duration::from_secs_f64(ahead.as_secs_f64() / rate)
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        match self.simulated {
            None => Timestamp::now(),
            Some((start, at, rate)) => {
                let elapsed = at.elapsed().as_secs_f64() * rate;
                start
                    .checked_add(SignedDuration::from_secs_f64(elapsed))
                    .unwrap_or(start)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_clock_starts_where_told_and_runs_forward() {
        let start: Timestamp = "2022-03-03T14:50:00Z".parse().unwrap();
        let c = Clock::simulated(start, 60.0);
        let a = c.now();
        assert!(a >= start && a < start.checked_add(SignedDuration::from_secs(60)).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(c.now() > a);
        assert!(c.is_simulated());
        assert!(!Clock::system().is_simulated());
        let later: Timestamp = "2022-03-04T00:00:00Z".parse().unwrap();
        assert!(c.clone().not_before(later).now() >= later);
        assert!(c.clone().not_before(start).now() < later);
        let soon = c.now().checked_add(SignedDuration::from_secs(120)).unwrap();
        let wait = c.real_until(soon);
        assert!(
            wait > std::time::Duration::from_millis(1900)
                && wait <= std::time::Duration::from_secs(2),
            "{wait:?}"
        );
        assert_eq!(c.real_until(start), std::time::Duration::ZERO);
    }
}
