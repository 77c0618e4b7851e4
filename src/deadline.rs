//! Every connection's deadline, whatever arrived on it before.
//!
//! actix-http times the first request head of a connection and the idle gap
//! after an answer, but once one byte of a later request arrives it times
//! nothing: one byte after a complete request held a socket for good, and 512
//! such sockets kept the kubelet's probes from the health listener. Here the
//! connection's own stream keeps the clock: while no request of it is being
//! answered, the next one must arrive whole (head, and the body of one that
//! was answered without reading it) within the limit of the last answer, or
//! of the last bytes written of it; past that, reads and writes fail and the
//! connection closes.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::rt::net::{ActixStream, TcpStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf, Ready};
use tokio::time::{Instant, Sleep};

/// A connection's clock, shared by its stream and the requests served on it.
#[derive(Clone)]
pub struct ConnectionClock(Rc<ClockState>);

struct ClockState {
    limit: Duration,
    /// Requests of the connection being answered: no deadline while any is.
    answering: Cell<usize>,
    /// The last answer, the last bytes written, or the connection's start.
    since: Cell<Instant>,
}

impl ConnectionClock {
    fn new(limit: Duration) -> Self {
        Self(Rc::new(ClockState {
            limit,
            answering: Cell::new(0),
            since: Cell::new(Instant::now()),
        }))
    }

    /// Stops the clock until the guard is dropped, when the answer is ready.
    pub fn answering(&self) -> Answering {
        self.0.answering.set(self.0.answering.get() + 1);
        Answering(self.clone())
    }

    fn deadline(&self) -> Option<Instant> {
        (self.0.answering.get() == 0).then(|| self.0.since.get() + self.0.limit)
    }

    fn restart(&self) {
        self.0.since.set(Instant::now());
    }
}

/// While it lives, a request of the connection is being answered.
pub struct Answering(ConnectionClock);

impl Drop for Answering {
    fn drop(&mut self) {
        let state = &self.0 .0;
        state.answering.set(state.answering.get().saturating_sub(1));
        self.0.restart();
    }
}

/// A stream that fails once its connection's deadline passes.
pub struct Deadlined<IO> {
    io: IO,
    clock: ConnectionClock,
    timer: Pin<Box<Sleep>>,
}

impl<IO> Deadlined<IO> {
    pub fn new(io: IO, limit: Duration) -> Self {
        let clock = ConnectionClock::new(limit);
        let timer = Box::pin(tokio::time::sleep(limit));
        Self { io, clock, timer }
    }

    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// An error once the deadline has passed; else the timer wakes the
    /// connection's task when it does.
    fn check(&mut self, context: &mut Context<'_>) -> io::Result<()> {
        let Some(deadline) = self.clock.deadline() else {
            return Ok(());
        };
        if self.timer.deadline() != deadline {
            self.timer.as_mut().reset(deadline);
        }
        match self.timer.as_mut().poll(context) {
            Poll::Ready(()) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no complete request within the connection's time limit",
            )),
            Poll::Pending => Ok(()),
        }
    }
}

/// The clock of a connection, for the requests served on it.
pub trait Clocked {
    fn clock(&self) -> ConnectionClock;
}

impl<IO> Clocked for Deadlined<IO> {
    fn clock(&self) -> ConnectionClock {
        self.clock.clone()
    }
}

impl Clocked for TlsStream<Deadlined<TcpStream>> {
    fn clock(&self) -> ConnectionClock {
        self.get_ref().0.clock()
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Deadlined<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(context)?;
        Pin::new(&mut this.io).poll_read(context, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Deadlined<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(context)?;
        let written = Pin::new(&mut this.io).poll_write(context, buf);
        // A client reading a long answer slowly but steadily keeps its time.
        if matches!(written, Poll::Ready(Ok(bytes)) if bytes > 0) {
            this.clock.restart();
        }
        written
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(context)?;
        Pin::new(&mut this.io).poll_flush(context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(context)
    }
}

impl<IO: ActixStream> ActixStream for Deadlined<IO> {
    fn poll_read_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<Ready>> {
        self.io.poll_read_ready(context)
    }

    fn poll_write_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<Ready>> {
        self.io.poll_write_ready(context)
    }
}
