//! The loop that moves bytes between an async stream and the sans-IO connection: reads into the
//! connection's buffer, hands out events, writes what it queued, runs its timers on tokio's
//! clock, and ends the transport when the connection says so. No protocol decision is made here.
#![forbid(unsafe_code)]

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite};

use super::read_buffer::{READ_CHUNK, release_read_buffer, take_read_buffer};
use crate::close::CloseCode;
use crate::config::CORK_LIMIT;

use crate::connection::{Connection, Transport};
use crate::io_error::Error;
use crate::message::Message;

#[derive(Debug)]
pub(super) struct Inner<S> {
    pub(super) stream: S,
    pub(super) conn: Connection,
    /// Our side of the transport has been shut down (a FIN sent) after the connection closed.
    /// The connection is over once, in addition, the core says the transport may be released.
    pub(super) shut_down: bool,
    /// Wakes the reader at the connection's next timer deadline; allocated only while one is due.
    pub(super) sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The waker `sleep` was last polled with: while it is this task's and the sleep ends no
    /// later than the next deadline, the sleep is left as it is (see `poll_timers`).
    pub(super) sleep_waker: Option<Waker>,
    /// The error that failed the connection (a protocol violation, a timer giving up, the
    /// transport ending early), held back until the connection is over: the output queued before
    /// it (the echoes of earlier messages, the Close that tells the peer why) written, our side
    /// shut down and the peer's end awaited, at most the linger. The obvious loop returns on the
    /// error and drops the WebSocket; returned earlier, a write still waiting for the transport
    /// (a full socket, an HTTP/2 stream awaiting send capacity) would be lost, and unread input
    /// would make the transport reset, which can destroy the Close before the peer reads it.
    pub(super) failure: Option<Error>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Inner<S> {
    /// Writes all queued output and flushes the stream.
    pub(super) fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        while self.conn.pending_transmit() > 0 {
            let mut slices = [IoSlice::new(&[]); 8];
            let runs = self.conn.transmit_chunks(&mut slices);
            // Large payloads are queued by reference: write them with their headers in one go.
            let n = if runs > 1 && self.stream.is_write_vectored() {
                ready!(Pin::new(&mut self.stream).poll_write_vectored(cx, &slices[..runs]))?
            } else {
                ready!(Pin::new(&mut self.stream).poll_write(cx, &slices[0]))?
            };
            if n == 0 {
                return Poll::Ready(Err(io::Error::from(io::ErrorKind::WriteZero).into()));
            }
            self.conn.advance_transmit(n);
        }
        ready!(Pin::new(&mut self.stream).poll_flush(cx))?;
        Poll::Ready(Ok(()))
    }

    pub(super) fn poll_next_message(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, Error>>> {
        // The time read after the last read in this call, reused to arm the timers before the
        // task waits. Not kept across calls: the application may take its time in between.
        let mut read_time = None;
        loop {
            match self.conn.poll_recv() {
                Ok(Some(message)) => {
                    if message.is_close() {
                        // Start writing the echoed Close now; a pending write finishes later.
                        if let Poll::Ready(Err(error)) = self.poll_write_out(cx) {
                            return Poll::Ready(Some(Err(error)));
                        }
                    }
                    return Poll::Ready(Some(Ok(message)));
                }
                Ok(None) => {}
                // The connection failed: its Close is queued. The error is reported once the
                // connection is over, as below, so an application that drops the WebSocket on
                // it loses nothing (see `failure`).
                Err(error) => self.failure = Some(error.into()),
            }
            if self.shut_down && self.conn.transport() == Transport::Release {
                return self.finish(None);
            }
            // Input ran dry: this is where corked sends go out, in one write.
            match self.poll_write_out(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(error)) => return self.finish(Some(error)),
                // Past the send buffer's high-water mark, wait for the peer to read (the write's
                // waker wakes us): a peer that sends pings and never reads cannot grow our memory.
                // The timers run meanwhile, so keepalive still gives up on a peer that never reads.
                Poll::Pending if self.conn.transport() == Transport::PauseReading => {
                    ready!(self.poll_timer_before_waiting(cx, read_time.take()));
                    continue;
                }
                Poll::Pending => {}
            }
            let transport = self.conn.transport();
            if let Transport::ShutdownWrite | Transport::Release = transport {
                // Output still pending is waited for while shutting down (bounded by the linger),
                // not once the connection releases the transport: then it goes out only if the
                // transport took it above, so a peer that never reads cannot hold the task.
                if transport == Transport::ShutdownWrite && self.conn.pending_transmit() > 0 {
                    ready!(self.poll_timer_before_waiting(cx, read_time.take()));
                    continue;
                }
                if !self.shut_down {
                    // Half-close (our FIN); ignore errors: the connection is over either way.
                    if Pin::new(&mut self.stream).poll_shutdown(cx).is_pending() {
                        ready!(self.poll_timer_before_waiting(cx, read_time.take()));
                        continue;
                    }
                    self.shut_down = true;
                }
                // Then linger: read (and discard) until the peer's FIN or the linger runs out.
                if transport == Transport::Release {
                    return self.finish(None);
                }
            }
            // The timers are armed only before the task waits: while data flows, those that are
            // due fire after each read (below).
            let Poll::Ready(read) = self.poll_read(cx) else {
                ready!(self.poll_timer_before_waiting(cx, read_time.take()));
                continue;
            };
            match read {
                Ok(0) => self.conn.handle_eof(),
                Ok(_) => {}
                // After the closing handshake only the end of the stream is awaited; a reset ends
                // it just as well.
                Err(_) if self.conn.state() == crate::State::Closed => self.conn.handle_eof(),
                Err(error) => return self.finish(Some(error.into())),
            }
            // Tell the core the time after each read: it marks the activity that keepalive and
            // idle timers measure, and dates a pong's arrival.
            if self.conn.timers_running() {
                let time = now();
                self.conn.handle_timeout(time);
                read_time = Some(time);
            }
        }
    }

    /// Where the loop would wait: arms a sleep for the connection's next deadline and stays
    /// `Pending`, or is `Ready` when a timer was due instead, so the loop goes round again.
    fn poll_timer_before_waiting(
        &mut self,
        cx: &mut Context<'_>,
        time: Option<Instant>,
    ) -> Poll<()> {
        if self.poll_timers(cx, time) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// How the message stream ends: with the error that failed the connection if there was one
    /// (a transport error after it is a consequence, not the cause), else with `end`.
    fn finish(&mut self, end: Option<Error>) -> Poll<Option<Result<Message, Error>>> {
        Poll::Ready(self.failure.take().or(end).map(Err))
    }

    /// Reads once from the stream into the connection's buffer, without zero-filling it first.
    ///
    /// An idle connection holds no read buffer: when the read finds nothing and nothing is
    /// buffered, the buffer goes back to the thread's pool (or is freed) before the task sleeps,
    /// and the next wake-up (data has arrived) takes one from the pool. Bytes are read where they
    /// will be decoded, so no payload is copied between reading and unmasking.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        // Room for the rest of a large frame at once: no copies as the buffer grows.
        let wanted = READ_CHUNK.max(self.conn.frame_bytes_missing());
        let buf = self.conn.input_buffer();
        if buf.capacity() == 0 {
            *buf = take_read_buffer();
        }
        buf.reserve(wanted);
        let result = tokio_util::io::poll_read_buf(Pin::new(&mut self.stream), cx, buf);
        if result.is_pending() && buf.is_empty() {
            release_read_buffer(std::mem::take(buf));
        }
        result
    }

    /// Runs the connection's timers: fires what is due and arms a sleep for the next deadline.
    /// Returns true when a timer fired, so the caller looks for the events and output it made.
    /// `time` is a reading of the clock taken a moment ago in the same pass, if any.
    fn poll_timers(&mut self, cx: &mut Context<'_>, time: Option<Instant>) -> bool {
        if !self.conn.timers_running() {
            self.sleep = None;
            self.sleep_waker = None;
            return false;
        }
        let time = time.unwrap_or_else(now);
        let Some(deadline) = self.conn.poll_timeout().or_else(|| {
            // Timers start at the first tick.
            self.conn.handle_timeout(time);
            self.conn.poll_timeout()
        }) else {
            self.sleep = None;
            return false;
        };
        if deadline <= time {
            self.conn.handle_timeout(time);
            return true;
        }
        let deadline = tokio::time::Instant::from_std(deadline);
        // Every frame that arrives moves the keepalive deadline later, so it moves on nearly
        // every wake-up. A sleep still armed for an earlier time, for this task, wakes us before
        // the deadline anyway: it is left alone (resetting and polling it again on each wake-up
        // cost more than the one early wake-up per interval that re-arms it here).
        if let (Some(sleep), Some(waker)) = (&self.sleep, &self.sleep_waker) {
            if sleep.deadline() <= deadline && !sleep.is_elapsed() && waker.will_wake(cx.waker()) {
                return false;
            }
        }
        match &mut self.sleep {
            Some(sleep) if sleep.deadline() == deadline => {}
            Some(sleep) => sleep.as_mut().reset(deadline),
            None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
        match self.sleep.as_mut().map(|sleep| sleep.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => {
                self.sleep_waker = None;
                self.conn.handle_timeout(now());
                true
            }
            _ => {
                if !self
                    .sleep_waker
                    .as_ref()
                    .is_some_and(|waker| waker.will_wake(cx.waker()))
                {
                    self.sleep_waker = Some(cx.waker().clone());
                }
                false
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Inner<S> {
    /// Room for another message: past the cork limit, write first.
    pub(super) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.conn.pending_transmit() >= CORK_LIMIT {
            ready!(self.poll_write_out(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    /// `Sink::poll_close`: sends a normal Close unless one was sent, and writes it.
    pub(super) fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.conn.state() == crate::State::Open {
            self.conn.close(CloseCode::NORMAL, "")?;
        }
        self.poll_write_out(cx)
    }
}

/// The time from tokio's clock, so that paused-time tests drive the connection's timers too.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}
