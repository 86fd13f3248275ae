//! Reconnection delays: exponential, capped, with full jitter, so that many servers that lost
//! the same Redis do not reconnect in step.

use std::time::Duration;

/// The delay before each reconnection attempt.
#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    ceiling: Duration,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            ceiling: min,
        }
    }

    /// A connection held: the next failure starts again from the minimum.
    pub(crate) fn reset(&mut self) {
        self.ceiling = self.min;
    }

    /// The next delay: uniform in `[0, ceiling]`, the ceiling doubling up to the maximum.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling;
        self.ceiling = (self.ceiling * 2).min(self.max);
        // Falling back to the ceiling itself if the OS has no randomness only loses the jitter.
        let random = getrandom::u64().unwrap_or(u64::MAX);
        let fraction = (random >> 11) as f64 / (1u64 << 53) as f64;
        ceiling.mul_f64(fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_a_ceiling_that_doubles_to_the_maximum_and_resets() {
        let min = Duration::from_millis(100);
        let max = Duration::from_millis(800);
        let mut backoff = Backoff::new(min, max);
        for ceiling in [100, 200, 400, 800, 800] {
            let delay = backoff.next_delay();
            assert!(
                delay <= Duration::from_millis(ceiling),
                "{delay:?} > {ceiling} ms"
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() <= min);
        // Jitter: a hundred draws under one ceiling are not all equal.
        let mut backoff = Backoff::new(max, max);
        let first = backoff.next_delay();
        assert!((0..100).any(|_| backoff.next_delay() != first));
    }
}
