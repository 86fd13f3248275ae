//! A token bucket: the per-connection message rate limit.

use std::time::Instant;

/// Allows `rate` messages per second on average and bursts of up to `burst` messages.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(rate: f64, burst: f64, now: Instant) -> Self {
        let burst = burst.max(1.0);
        Self {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes a token for one message at `now`; false when the bucket is empty.
    pub(crate) fn try_take(&mut self, now: Instant) -> bool {
        if now > self.last {
            let elapsed = (now - self.last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
            self.last = now;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_the_burst_then_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(20.0, 40.0, start);
        assert!((0..40).all(|_| bucket.try_take(start)));
        assert!(!bucket.try_take(start));
        // 50 ms at 20/s refill one token.
        let later = start + Duration::from_millis(50);
        assert!(bucket.try_take(later));
        assert!(!bucket.try_take(later));
    }

    #[test]
    fn refills_no_further_than_the_burst() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(20.0, 40.0, start);
        let much_later = start + Duration::from_secs(3600);
        assert_eq!((0..100).filter(|_| bucket.try_take(much_later)).count(), 40);
    }

    #[test]
    fn a_clock_going_backwards_refills_nothing() {
        let start = Instant::now() + Duration::from_secs(1);
        let mut bucket = TokenBucket::new(1.0, 1.0, start);
        assert!(bucket.try_take(start));
        assert!(!bucket.try_take(start - Duration::from_millis(500)));
    }
}
