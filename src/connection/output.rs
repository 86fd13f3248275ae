//! The connection's outgoing bytes: small frames encoded into one buffer, large payloads the
//! application already owns queued by reference, so that they reach the socket without a copy.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

/// Payloads from this size up are queued by reference (in the server role, uncompressed) and
/// written with a vectored write; smaller ones are cheaper to copy next to their header.
pub(super) const SHARE_THRESHOLD: usize = 16 * 1024;

/// The largest output buffer a connection keeps once everything in it is written.
pub(super) const KEPT_TAIL: usize = 256;

/// Pending output, in order: the `shared` chunks, then `tail`.
#[derive(Debug, Default)]
pub(super) struct Output {
    /// Frozen runs of encoded bytes and payloads queued by reference; boxed and dropped once
    /// written, so that a connection that sends only small frames carries one pointer for it.
    #[allow(
        clippy::box_collection,
        reason = "one pointer inline instead of an empty VecDeque's four words"
    )]
    shared: Option<Box<VecDeque<Bytes>>>,
    /// Where frames are encoded; moved into `shared` when a payload is queued by reference.
    tail: BytesMut,
}

impl Output {
    /// Bytes waiting, in total.
    pub(super) fn len(&self) -> usize {
        match &self.shared {
            None => self.tail.len(),
            Some(runs) => runs.iter().map(Bytes::len).sum::<usize>() + self.tail.len(),
        }
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.shared.is_none() && self.tail.is_empty()
    }

    /// The shared runs, in order.
    fn runs(&self) -> impl Iterator<Item = &Bytes> {
        self.shared.iter().flat_map(|runs| runs.iter())
    }

    /// The buffer new frames are encoded into, at the end of the output.
    pub(super) fn tail(&mut self) -> &mut BytesMut {
        &mut self.tail
    }

    /// Queues `payload` after everything so far, without copying it.
    pub(super) fn push_shared(&mut self, payload: Bytes) {
        let tail = (!self.tail.is_empty()).then(|| self.tail.split().freeze());
        let runs = tail
            .into_iter()
            .chain((!payload.is_empty()).then_some(payload));
        self.shared.get_or_insert_with(Box::default).extend(runs);
    }

    /// Appends all pending bytes to `out`, leaving none; returns how many.
    pub(super) fn drain_into(&mut self, out: &mut Vec<u8>) -> usize {
        let len = self.len();
        out.reserve(len);
        for chunk in self
            .shared
            .take()
            .into_iter()
            .flat_map(|runs| runs.into_iter())
        {
            out.extend_from_slice(&chunk);
        }
        out.extend_from_slice(&self.tail);
        self.tail = BytesMut::new();
        len
    }

    /// Fills `slices` with the pending runs in order; returns how many it filled.
    pub(super) fn chunks<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        // The common case, small frames only: the tail alone.
        if self.shared.is_none() {
            let Some(slot) = slices.first_mut().filter(|_| !self.tail.is_empty()) else {
                return 0;
            };
            *slot = IoSlice::new(&self.tail);
            return 1;
        }
        let runs = self
            .runs()
            .map(|chunk| &chunk[..])
            .chain(std::iter::once(&self.tail[..]))
            .filter(|run| !run.is_empty());
        let mut filled = 0;
        for (slot, run) in slices.iter_mut().zip(runs) {
            *slot = IoSlice::new(run);
            filled += 1;
        }
        filled
    }

    /// Drops the first `n` pending bytes (at most all of them), across runs. Returns how many
    /// of them came from the tail if that emptied it (a batch's size, for the next batch), else 0.
    pub(super) fn advance(&mut self, mut n: usize) -> usize {
        if let Some(runs) = self.shared.as_mut() {
            while let Some(front) = runs.front_mut() {
                let step = n.min(front.len());
                front.advance(step);
                n -= step;
                if !front.is_empty() {
                    break;
                }
                runs.pop_front();
            }
            if runs.is_empty() {
                self.shared = None;
            }
        }
        let from_tail = n.min(self.tail.len());
        if from_tail < self.tail.len() {
            self.tail.advance(from_tail);
            return 0;
        }
        // All written. A small buffer is kept for the next frames (sending a message at a time
        // would otherwise allocate and free one per message); a larger one is freed, so an idle
        // connection holds at most `KEPT_TAIL` bytes of output buffer.
        if self.tail.capacity() <= KEPT_TAIL {
            self.tail.clear();
        } else {
            self.tail = BytesMut::new();
        }
        from_tail
    }

    /// All pending bytes as one buffer; copies only if payloads were queued by reference.
    pub(super) fn take_all(&mut self) -> Bytes {
        let len = self.len();
        let Some(runs) = self.shared.take() else {
            return self.tail.split().freeze();
        };
        let mut all = BytesMut::with_capacity(len);
        for chunk in runs.iter() {
            all.extend_from_slice(chunk);
        }
        all.extend_from_slice(&self.tail);
        self.tail = BytesMut::new();
        all.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output() -> Output {
        let mut out = Output::default();
        out.tail().extend_from_slice(b"head1");
        out.push_shared(Bytes::from_static(b"payload"));
        out.tail().extend_from_slice(b"head2");
        out
    }

    #[test]
    fn runs_keep_their_order_and_advance_crosses_them() {
        let mut out = output();
        assert_eq!(out.len(), 17);
        let mut slices = [IoSlice::new(&[]); 4];
        let n = out.chunks(&mut slices);
        let joined: Vec<u8> = slices[..n].iter().flat_map(|s| s.to_vec()).collect();
        assert_eq!(joined, b"head1payloadhead2");
        assert_eq!(out.advance(7), 0); // "head1" and "pa"
        let mut slices = [IoSlice::new(&[]); 4];
        let n = out.chunks(&mut slices);
        assert_eq!(&*slices[0], b"yload");
        assert_eq!(n, 2);
        assert_eq!(out.advance(100), 5, "the tail's part of the batch");
        assert!(out.is_empty());
        assert!(out.shared.is_none(), "written runs leave no queue behind");
        assert_eq!(out.chunks(&mut [IoSlice::new(&[]); 4]), 0);
    }

    #[test]
    fn drain_into_appends_every_run() {
        let mut out = output();
        let mut all = b"before:".to_vec();
        assert_eq!(out.drain_into(&mut all), 17);
        assert_eq!(all, b"before:head1payloadhead2");
        assert!(out.is_empty());
    }

    #[test]
    fn take_all_joins_the_runs() {
        let mut out = output();
        assert_eq!(&out.take_all()[..], b"head1payloadhead2");
        assert!(out.is_empty());
    }

    #[test]
    fn chunks_stop_at_the_slices_given() {
        let out = output();
        let mut slices = [IoSlice::new(&[]); 2];
        assert_eq!(out.chunks(&mut slices), 2);
        assert_eq!(&*slices[1], b"payload");
    }
}
