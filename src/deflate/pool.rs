//! A per-thread pool of compressors and decompressors for directions with no context takeover.
//!
//! Such a direction needs its DEFLATE state only while one message is compressed or inflated, so
//! a connection borrows it here at the start of a message and gives it back, reset, at the end:
//! an idle connection holds none, and a thread serving many connections allocates the state once
//! instead of once per message. Keeping them per thread needs no lock; a connection that moves
//! between threads between messages (a work-stealing runtime) simply borrows from the pool of the
//! thread it runs on.

use std::cell::RefCell;

use flate2::{Compress, Compression, Decompress};

/// How many idle compressors, and separately decompressors, one thread keeps. A thread works on
/// one message at a time, so one of each is reused; the second covers a message left fragmented
/// while another connection's message is worked on. With the default 15-bit window a compressor
/// holds about 370 KiB and a decompressor about 40 KiB, so a thread keeps at most about 820 KiB.
pub(crate) const CAPACITY: usize = 2;

#[derive(Default)]
struct Pool {
    /// Each with the level and window bits it was made with: a reset keeps them.
    compressors: Vec<(u32, u8, Box<Compress>)>,
    /// Each with its window bits.
    decompressors: Vec<(u8, Box<Decompress>)>,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

/// A compressor at a fresh stream: from the pool when one with this level and window is idle.
pub(crate) fn take_compressor(level: u32, window_bits: u8) -> Box<Compress> {
    let pooled = POOL
        .try_with(|pool| {
            let mut pool = pool.borrow_mut();
            let found = pool
                .compressors
                .iter()
                .position(|&(l, w, _)| l == level && w == window_bits)?;
            Some(pool.compressors.swap_remove(found).2)
        })
        .ok()
        .flatten();
    pooled.unwrap_or_else(|| {
        Box::new(Compress::new_with_window_bits(
            Compression::new(level),
            false,
            window_bits,
        ))
    })
}

/// Returns a compressor after its message; it is reset here, so its next message starts a fresh
/// stream. Dropped when the pool is full.
pub(crate) fn give_compressor(level: u32, window_bits: u8, mut compressor: Box<Compress>) {
    compressor.reset();
    // During thread teardown the pool is gone and the compressor is simply dropped.
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.compressors.len() < CAPACITY {
            pool.compressors.push((level, window_bits, compressor));
        }
    });
}

/// A decompressor at a fresh stream: from the pool when one with this window is idle.
pub(crate) fn take_decompressor(window_bits: u8) -> Box<Decompress> {
    let pooled = POOL
        .try_with(|pool| {
            let mut pool = pool.borrow_mut();
            let found = pool
                .decompressors
                .iter()
                .position(|&(w, _)| w == window_bits)?;
            Some(pool.decompressors.swap_remove(found).1)
        })
        .ok()
        .flatten();
    pooled.unwrap_or_else(|| Box::new(Decompress::new_with_window_bits(false, window_bits)))
}

/// Returns a decompressor after its message (or after the peer ended the stream with a final
/// block), reset for the next. Dropped when the pool is full.
pub(crate) fn give_decompressor(window_bits: u8, mut decompressor: Box<Decompress>) {
    decompressor.reset(false);
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.decompressors.len() < CAPACITY {
            pool.decompressors.push((window_bits, decompressor));
        }
    });
}

/// How many compressors and decompressors this thread's pool holds idle.
#[cfg(test)]
pub(crate) fn idle() -> (usize, usize) {
    POOL.with(|pool| {
        let pool = pool.borrow();
        (pool.compressors.len(), pool.decompressors.len())
    })
}
