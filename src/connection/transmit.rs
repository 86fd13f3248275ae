//! Handing out the bytes to write. Every way out drains all of the pending output or says how
//! much is left, so that a driver that writes what it is given and then waits for input never
//! leaves a frame behind (the trap a "first run of bytes" call sets when large payloads are
//! queued by reference, as separate runs).
#![forbid(unsafe_code)]

use std::io::{self, IoSlice, Write};

use bytes::Bytes;

use super::Connection;
use crate::config::CORK_LIMIT;

/// The largest batch whose size the output buffer remembers for the next one: a batch past the
/// cork limit is written before it grows further.
const BATCH_CAPACITY_LIMIT: usize = CORK_LIMIT;

impl Connection {
    /// Appends all pending output to `out` and returns how many bytes it appended; the output
    /// is then empty. The simplest way out: write all of `out` to the transport.
    ///
    /// # Example
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Message, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// server.send(Message::binary(vec![7u8; 100_000]))?; // queued by reference
    /// server.send_text("done")?;
    /// let mut out = Vec::new();
    /// assert_eq!(server.poll_transmit(&mut out), 10 + 100_000 + 6);
    /// assert_eq!(&out[out.len() - 6..], b"\x81\x04done");
    /// assert_eq!(server.pending_transmit(), 0);
    /// # Ok::<(), rfc6455::SendError>(())
    /// ```
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize {
        self.send.drain_into(out)
    }

    /// Writes all pending output to `transport`, with vectored writes where a payload was queued
    /// by reference, until everything is written or a write fails.
    ///
    /// On an error, including `WouldBlock` from a non-blocking transport, what was written is
    /// gone from the output and the rest stays: call again when the transport is writable.
    ///
    /// # Example
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// server.send_text("hi")?;
    /// let mut socket: Vec<u8> = Vec::new(); // any `io::Write`
    /// server.write_transmit(&mut socket)?;
    /// assert_eq!(socket, b"\x81\x02hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_transmit<W: Write + ?Sized>(&mut self, transport: &mut W) -> io::Result<()> {
        while self.pending_transmit() > 0 {
            let mut slices = [IoSlice::new(&[]); 8];
            let filled = self.transmit_chunks(&mut slices);
            let written = match transport.write_vectored(&slices[..filled]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            self.advance_transmit(written);
        }
        Ok(())
    }

    /// Fills `slices` with the runs of pending output, in order, for a vectored write of the
    /// caller's own (`write_vectored`, `writev`, io_uring) that copies nothing; returns how many
    /// it filled. Then [`advance_transmit`](Self::advance_transmit) by what was written, and
    /// repeat until [`pending_transmit`](Self::pending_transmit) is zero: a write may take part
    /// of the runs, and `slices` may be shorter than the runs.
    ///
    /// # Example
    ///
    /// ```
    /// use std::io::{IoSlice, Write};
    /// use rfc6455::{Config, Connection, Message, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// server.send(Message::binary(vec![7u8; 100_000]))?; // queued without a copy
    /// server.send_text("done")?;
    /// let mut socket = Vec::new();
    /// while server.pending_transmit() > 0 {
    ///     let mut slices = [IoSlice::new(&[]); 4];
    ///     let n = server.transmit_chunks(&mut slices);
    ///     assert_eq!(n, 3); // header, payload, the text frame
    ///     let written = socket.write_vectored(&slices[..n])?;
    ///     server.advance_transmit(written);
    /// }
    /// assert_eq!(socket.len(), 10 + 100_000 + 6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn transmit_chunks<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        self.send.chunks(slices)
    }

    /// The buffer frames are encoded into, with room for a batch as large as the last one when a
    /// new batch starts.
    pub(super) fn send_tail(&mut self) -> &mut bytes::BytesMut {
        let tail = self.send.tail();
        if tail.is_empty() && self.batch_capacity_log2 > 0 {
            tail.reserve(1 << self.batch_capacity_log2);
        }
        tail
    }

    /// Marks the first `n` bytes of the pending output as written (they may span the runs of
    /// [`transmit_chunks`](Self::transmit_chunks)).
    pub fn advance_transmit(&mut self, n: usize) {
        let batch = self.send.advance(n);
        if batch > 0 {
            self.batch_capacity_log2 =
                batch.min(BATCH_CAPACITY_LIMIT).next_power_of_two().ilog2() as u8;
        }
    }

    /// How many encoded bytes wait to be written, in all.
    #[must_use]
    pub fn pending_transmit(&self) -> usize {
        self.send.len()
    }

    /// Takes all pending output as one buffer (for transports that want owned buffers, such as
    /// an HTTP/2 stream's data frames). Copies only when large payloads were queued by
    /// reference.
    #[must_use = "the bytes are no longer pending: write them"]
    pub fn take_transmit(&mut self) -> Bytes {
        self.send.take_all()
    }

    /// Queues bytes that are not a frame (the handshake response), ahead of everything else.
    pub(crate) fn queue_raw(&mut self, bytes: &[u8]) {
        self.send_tail().extend_from_slice(bytes);
    }
}
