//! The read buffers of idle connections, pooled per thread: a busy server reuses a handful of
//! buffers instead of allocating and freeing one per wake-up, and an idle connection holds none.
#![forbid(unsafe_code)]

use bytes::BytesMut;

/// Space offered to each read from the stream.
pub(super) const READ_CHUNK: usize = 16 * 1024;

/// How many released read buffers each thread keeps for the next connection that wakes up.
const POOLED_READ_BUFFERS: usize = 8;

thread_local! {
    /// Read buffers that connections released when they went idle, for other connections on this
    /// thread to take when data arrives: a busy server reuses a handful of buffers instead of
    /// allocating and freeing one per wake-up, and idle connections still hold none. At most
    /// [`POOLED_READ_BUFFERS`] of at most 4 × [`READ_CHUNK`] each, so the pool is bounded.
    static READ_BUFFERS: std::cell::RefCell<Vec<BytesMut>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// A read buffer from this thread's pool, or an empty one (allocated by the first `reserve`).
pub(super) fn take_read_buffer() -> BytesMut {
    READ_BUFFERS
        .try_with(|pool| pool.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Gives an empty read buffer back to this thread's pool, or frees it if the pool is full or
/// the buffer grew large (for one big frame).
///
/// Only a buffer whose memory this connection alone holds is kept: one still shared with a
/// message handed out (a large echo still being written, say) could not be reused for reading,
/// and in the pool it would keep that message's whole allocation alive.
pub(super) fn release_read_buffer(mut buffer: BytesMut) {
    debug_assert!(buffer.is_empty());
    if !buffer.try_reclaim(READ_CHUNK) || buffer.capacity() > 4 * READ_CHUNK {
        return;
    }
    let _ = READ_BUFFERS.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < POOLED_READ_BUFFERS {
            pool.push(buffer);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_read_buffer_is_taken_again() {
        let buffer = BytesMut::with_capacity(READ_CHUNK);
        let storage = buffer.as_ptr();
        release_read_buffer(buffer);
        let again = take_read_buffer();
        assert_eq!(again.as_ptr(), storage);
        assert!(again.capacity() >= READ_CHUNK);
        assert_eq!(take_read_buffer().capacity(), 0, "the pool is empty again");
    }

    #[test]
    fn a_buffer_still_shared_with_a_message_is_not_pooled() {
        let mut buffer = BytesMut::with_capacity(READ_CHUNK);
        buffer.extend_from_slice(b"message");
        let message = buffer.split().freeze();
        release_read_buffer(buffer);
        assert_eq!(take_read_buffer().capacity(), 0);
        drop(message);
    }

    #[test]
    fn the_read_buffer_pool_is_bounded() {
        // A buffer grown for one large frame is freed, not kept.
        release_read_buffer(BytesMut::with_capacity(8 * READ_CHUNK));
        assert_eq!(take_read_buffer().capacity(), 0);
        for _ in 0..POOLED_READ_BUFFERS + 3 {
            release_read_buffer(BytesMut::with_capacity(READ_CHUNK));
        }
        let kept = std::iter::repeat_with(take_read_buffer)
            .take_while(|buffer| buffer.capacity() > 0)
            .count();
        assert_eq!(kept, POOLED_READ_BUFFERS);
    }
}
