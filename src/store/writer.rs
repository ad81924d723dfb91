//! The single writer: a thread that owns the store, takes commands from a
//! queue, applies everything that queued up while the last commit ran as one
//! batch (group commit), and answers each command only after its batch is
//! durable and the new state is published.

use std::sync::mpsc;
use std::thread;

use thiserror::Error;
use tokio::sync::oneshot;

use crate::clock::now_ms;

use super::Store;
use super::audit::{AuditEntry, AuditNote};
use super::command::{Command, Reply};
use super::error::AdminError;
use super::state::{Changes, State};

/// The most commands one commit takes.
const MAX_BATCH: usize = 4096;

/// What the writer tells about each commit, and asks about policies.
pub trait Publish: Send + 'static {
    /// The canonical name of a policy the catalog has, if any.
    fn known_policy(&self, name: &str) -> Option<String>;
    /// Called after every commit (and after a catalog change, with `full`).
    fn publish(&mut self, state: &State, changes: &Changes, full: bool);
}

/// A change to the publisher's view that needs a full republish (e.g. a new policy catalog).
pub type Reconfigure<P> = Box<dyn FnOnce(&mut P) + Send>;

/// Audit entries read from the store, or why not.
type AuditPage = Result<Vec<AuditEntry>, String>;

enum Job<P> {
    Command(
        Box<Command>,
        Option<AuditNote>,
        oneshot::Sender<Result<Reply, AdminError>>,
    ),
    ReadAudit(u64, usize, oneshot::Sender<AuditPage>),
    Reconfigure(Reconfigure<P>, oneshot::Sender<()>),
    Ping(oneshot::Sender<()>),
}

/// The writer is gone (it stopped or panicked).
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("the store writer has stopped")]
pub struct WriterError;

/// A handle to the writer thread; cheap to clone.
pub struct Writer<P> {
    tx: mpsc::Sender<Job<P>>,
}

impl<P> Clone for Writer<P> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

impl<P: Publish> Writer<P> {
    /// Starts the writer thread; `publisher` sees the initial state at once.
    /// The thread ends when every handle is dropped, after finishing its queue.
    pub fn spawn(
        mut store: Store,
        mut publisher: P,
    ) -> std::io::Result<(Self, thread::JoinHandle<Store>)> {
        publisher.publish(store.state(), &Changes::default(), true);
        let (tx, rx) = mpsc::channel::<Job<P>>();
        let handle = thread::Builder::new()
            .name("camd-writer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    let mut cmds = Vec::new();
                    let mut replies = Vec::new();
                    for job in jobs {
                        match job {
                            Job::Command(c, note, r) => {
                                cmds.push((*c, note));
                                replies.push(r);
                            }
                            Job::ReadAudit(since, limit, r) => {
                                let _ =
                                    r.send(store.audit(since, limit).map_err(|e| e.to_string()));
                            }
                            Job::Reconfigure(f, done) => {
                                f(&mut publisher);
                                publisher.publish(store.state(), &Changes::default(), true);
                                let _ = done.send(());
                            }
                            Job::Ping(done) => {
                                let _ = done.send(());
                            }
                        }
                    }
                    if cmds.is_empty() {
                        continue;
                    }
                    let outcome = {
                        let p = &publisher;
                        store.execute(cmds, &|n| p.known_policy(n), now_ms())
                    };
                    if outcome.reloaded || !outcome.changes.is_empty() {
                        publisher.publish(store.state(), &outcome.changes, outcome.reloaded);
                    }
                    for (reply, result) in replies.into_iter().zip(outcome.results) {
                        let _ = reply.send(result);
                    }
                }
                store
            })?;
        Ok((Self { tx }, handle))
    }

    /// Queues a command; the receiver resolves once it is durable (or failed).
    pub fn submit(
        &self,
        cmd: Command,
    ) -> Result<oneshot::Receiver<Result<Reply, AdminError>>, WriterError> {
        self.submit_audited(cmd, None)
    }

    /// Queues a command whose audit entry (when it changes something, or is
    /// `Command::Audit`) is committed with it.
    pub fn submit_audited(
        &self,
        cmd: Command,
        note: Option<AuditNote>,
    ) -> Result<oneshot::Receiver<Result<Reply, AdminError>>, WriterError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Job::Command(Box::new(cmd), note, tx))
            .map_err(|_| WriterError)?;
        Ok(rx)
    }

    /// Reads up to `limit` audit entries from `since` on (between commits).
    pub async fn read_audit(&self, since: u64, limit: usize) -> Result<AuditPage, WriterError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Job::ReadAudit(since, limit, tx))
            .map_err(|_| WriterError)?;
        rx.await.map_err(|_| WriterError)
    }

    /// Runs a command and waits for it (not from an async runtime's thread).
    pub fn call(&self, cmd: Command) -> Result<Result<Reply, AdminError>, WriterError> {
        self.submit(cmd)?.blocking_recv().map_err(|_| WriterError)
    }

    /// Runs a command from async code.
    pub async fn call_async(&self, cmd: Command) -> Result<Result<Reply, AdminError>, WriterError> {
        self.submit(cmd)?.await.map_err(|_| WriterError)
    }

    /// Resolves once the writer has taken this from its queue: proof that it
    /// is alive and not stuck (the watchdog's health check).
    pub fn ping(&self) -> Result<oneshot::Receiver<()>, WriterError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Job::Ping(tx)).map_err(|_| WriterError)?;
        Ok(rx)
    }

    /// Changes the publisher (e.g. installs a new policy catalog) between
    /// batches, then republishes everything; resolves when done.
    pub fn reconfigure(&self, f: Reconfigure<P>) -> Result<oneshot::Receiver<()>, WriterError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Job::Reconfigure(f, tx))
            .map_err(|_| WriterError)?;
        Ok(rx)
    }
}
