//! Taking connections off the listening socket cheaply. A connection from a
//! uid already at its cap costs `accept4`, one `getsockopt(SO_PEERCRED)` and
//! `close`, and is never registered with the reactor, so a flood of connects
//! is refused about as fast as it arrives. With a short listen backlog (see
//! `listen_backlog`) the flooder's own connects then wait in the kernel, and
//! a well-behaved client's connect waits behind at most a backlog's worth.

use std::io;
use std::os::unix::net::UnixListener;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::net::UnixStream;

/// Connections refused in one go before the accepting task lets the other
/// tasks on its worker run.
const REFUSALS_PER_TURN: u32 = 128;

/// A connection worth serving, with its peer's credentials.
pub struct Accepted<S> {
    /// The stream, registered with the reactor.
    pub stream: UnixStream,
    /// The peer's uid.
    pub uid: u32,
    /// The peer's gid.
    pub gid: u32,
    /// What `admit` handed back for it (its place in a per-uid count).
    pub slot: S,
}

/// The listening socket, accepted from without the reactor's help.
pub struct Acceptor {
    listener: AsyncFd<UnixListener>,
    refused: u64,
}

impl Acceptor {
    /// Wraps a bound, listening socket (made non-blocking here).
    pub fn new(listener: UnixListener) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        // tokio 1.54 deprecates the safe constructor because a generic `T`
        // could change the descriptor it reports while registered, and asks
        // for the `unsafe` `register_with_interest` instead, which this crate
        // forbids. A `UnixListener` moved into the `AsyncFd` owns one
        // descriptor for its whole life, so the safe path is sound here.
        #[allow(deprecated)]
        let listener = AsyncFd::with_interest(listener, Interest::READABLE)?;
        Ok(Self {
            listener,
            refused: 0,
        })
    }

    /// How many connections `admit` has refused so far.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Waits for the next connection `admit` lets in (it is given the peer's
    /// uid); the ones it refuses, and those whose peer cannot be named, are
    /// closed at once. Cancel-safe: an accepted stream is never held across
    /// an await.
    pub async fn next<S>(
        &mut self,
        mut admit: impl FnMut(u32) -> Option<S>,
    ) -> io::Result<Accepted<S>> {
        loop {
            let mut guard = self.listener.readable().await?;
            let mut refused = 0;
            while refused < REFUSALS_PER_TURN {
                let stream = match guard.try_io(|l| l.get_ref().accept()) {
                    Ok(Ok((stream, _))) => stream,
                    Ok(Err(e)) if transient(&e) => continue,
                    Ok(Err(e)) => return Err(e),
                    // Drained: readiness is cleared, wait for the next connect.
                    Err(_) => break,
                };
                let Ok(cred) = rustix::net::sockopt::socket_peercred(&stream) else {
                    continue;
                };
                let uid = cred.uid.as_raw();
                let Some(slot) = admit(uid) else {
                    self.refused += 1;
                    refused += 1;
                    continue;
                };
                stream.set_nonblocking(true)?;
                return Ok(Accepted {
                    stream: UnixStream::from_std(stream)?,
                    uid,
                    gid: cred.gid.as_raw(),
                    slot,
                });
            }
            drop(guard);
            if refused >= REFUSALS_PER_TURN {
                tokio::task::yield_now().await;
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
