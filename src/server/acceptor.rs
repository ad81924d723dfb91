//! Taking connections off the listening socket, on a thread of its own. A
//! connection from a uid already at its cap costs `accept4`, one
//! `getsockopt(SO_PEERCRED)` and `close` there, and never reaches the tokio
//! workers: a connect flood then competes for a CPU like any other process,
//! instead of queueing the connections camd serves behind its refusals (on
//! a worker, it made their p99 several times worse; off them, it does not).
//! With a short listen backlog (`listen_backlog`) the flooder's own connects
//! wait in the kernel, and a good client's connect waits behind at most a
//! backlog's worth.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags};
use tokio::runtime::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

/// A connection worth serving, with its peer's credentials.
pub struct Accepted<S> {
    /// The stream (blocking; the server makes it non-blocking for tokio).
    pub stream: UnixStream,
    /// The peer's uid.
    pub uid: u32,
    /// The peer's gid.
    pub gid: u32,
    /// The peer's pid when it connected (0 when the kernel gave none).
    pub pid: u32,
    /// What `admit` handed back for it (its place in a per-uid count).
    pub slot: S,
    /// Its place among `max_connections`.
    pub permit: OwnedSemaphorePermit,
}

/// The accepting thread, and the connections it lets in.
pub struct Acceptor<S> {
    rx: mpsc::Receiver<Accepted<S>>,
    wake: OwnedFd,
    thread: JoinHandle<()>,
}

impl<S: Send + 'static> Acceptor<S> {
    /// Starts accepting on `listener`: a connection is taken only with a
    /// permit from `permits` (so at `max_connections` new ones wait in the
    /// kernel's backlog), and kept only when `admit` (given the peer's uid)
    /// says so. Must be called inside the tokio runtime.
    pub fn spawn(
        listener: UnixListener,
        permits: Arc<Semaphore>,
        admit: impl FnMut(u32) -> Option<S> + Send + 'static,
    ) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        let (wake_rx, wake) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        let (tx, rx) = mpsc::channel(64);
        let runtime = Handle::current();
        let thread = std::thread::Builder::new()
            .name("camd-accept".into())
            .spawn(move || {
                let mut t = Thread {
                    listener,
                    wake: wake_rx,
                    permits,
                    runtime,
                    tx,
                };
                t.run(admit);
            })?;
        Ok(Self { rx, wake, thread })
    }

    /// The next connection let in; `None` once the thread has stopped.
    pub async fn next(&mut self) -> Option<Accepted<S>> {
        self.rx.recv().await
    }

    /// Stops accepting and closes the listening socket (the permits must be
    /// closed first if the thread may be waiting for one).
    pub async fn stop(self) {
        let _ = rustix::io::write(&self.wake, &[1]);
        drop(self.rx);
        let thread = self.thread;
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
}

struct Thread<S> {
    listener: UnixListener,
    wake: OwnedFd,
    permits: Arc<Semaphore>,
    runtime: Handle,
    tx: mpsc::Sender<Accepted<S>>,
}

impl<S> Thread<S> {
    fn run(&mut self, mut admit: impl FnMut(u32) -> Option<S>) {
        let mut backoff = Duration::from_millis(10);
        loop {
            // A permit before taking anything off the backlog (one that
            // ends up unused, because every connection was refused, is
            // given back at the end of the turn).
            let Ok(permit) = self.runtime.block_on(self.permits.clone().acquire_owned()) else {
                return;
            };
            let mut fds = [
                PollFd::new(&self.listener, PollFlags::IN),
                PollFd::new(&self.wake, PollFlags::IN),
            ];
            match rustix::event::poll(&mut fds, None) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    crate::log_error!("cannot wait for connections: {e}");
                    return;
                }
            }
            if fds.get(1).is_some_and(|f| !f.revents().is_empty()) {
                return;
            }
            let mut refused = 0u64;
            loop {
                let stream = match self.listener.accept() {
                    Ok((stream, _)) => stream,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if transient(&e) => continue,
                    Err(e) => {
                        crate::log_error!("accept failed: {e}; retrying in {backoff:?}");
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                        break;
                    }
                };
                backoff = Duration::from_millis(10);
                let Ok(cred) = rustix::net::sockopt::socket_peercred(&stream) else {
                    continue;
                };
                let uid = cred.uid.as_raw();
                let Some(slot) = admit(uid) else {
                    refused += 1;
                    continue;
                };
                let accepted = Accepted {
                    stream,
                    uid,
                    gid: cred.gid.as_raw(),
                    pid: u32::try_from(cred.pid.as_raw_nonzero().get()).unwrap_or(0),
                    slot,
                    permit,
                };
                if self.tx.blocking_send(accepted).is_err() {
                    return;
                }
                // The next connection needs a permit of its own.
                break;
            }
            if refused > 0 {
                crate::log_debug!(
                    "closed {refused} connections from uids that held their share of connections already"
                );
            }
        }
    }
}

/// Errors that concern one connection, not the listener: the peer gave up
/// before it was accepted, or a signal interrupted the call.
fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
    )
}
