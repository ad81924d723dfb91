//! The single writer: a thread that owns the store, takes jobs from a
//! queue, applies everything that queued up while the last commit ran as one
//! batch (group commit), and answers each job only after its batch is
//! durable and the new state is published. A change is queued with its
//! audit entry as a value: there is no way to change the state without one.

use std::sync::mpsc;
use std::thread;

use thiserror::Error;
use tokio::sync::oneshot;

use crate::clock::now_ms;

use super::Store;
use super::audit::{AuditEntry, AuditNote};
use super::error::AdminError;
use super::rules::Ctx;
use super::state::{Changes, State};

/// The most commands one commit takes.
const MAX_BATCH: usize = 4096;

/// What the writer tells about each commit, and asks about policies.
pub trait Publish: Send + 'static {
    /// The canonical name of a policy the catalog has, if any.
    fn known_policy(&self, name: &str) -> Option<String>;
    /// Called after every commit (and after a catalog change, with `full`).
    fn publish(&mut self, state: &State, changes: &Changes, full: bool);
    /// Called after every batch: how long applying and committing took, and
    /// how many jobs it held.
    fn committed(&mut self, _took: std::time::Duration, _jobs: usize) {}
    /// Called after a reconfiguration (a new catalog): republishes what it
    /// changed (by default, everything).
    fn republish(&mut self, state: &State) {
        self.publish(state, &Changes::default(), true);
    }
}

/// A change to the publisher's view that needs a republish (e.g. a new
/// policy catalog); it sees the state, and may refuse (nothing changes then).
pub type Reconfigure<P> = Box<dyn FnOnce(&mut P, &State) -> Result<(), String> + Send>;

/// Audit entries read from the store, or why not.
type AuditPage = Result<Vec<AuditEntry>, String>;

/// A change or a read, queued for the writer; keeps its typed result until
/// the batch it is in has committed.
pub trait Job: Send {
    /// Applies it to the state; on error the state is unchanged.
    fn apply(
        &mut self,
        state: &mut State,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError>;
    /// Its audit entry (taken once; reads and key-use records have none).
    fn take_note(&mut self) -> Option<AuditNote>;
    /// Sends the result, or `failure` when the batch did not commit.
    fn finish(self: Box<Self>, failure: Option<AdminError>);
}

/// A job whose result is a `T`.
struct Typed<T, F> {
    f: Option<F>,
    out: Option<T>,
    note: Option<AuditNote>,
    tx: oneshot::Sender<Result<T, AdminError>>,
}

impl<T, F> Job for Typed<T, F>
where
    T: Send,
    F: FnOnce(&mut State, &Ctx<'_>, &mut Changes) -> Result<T, AdminError> + Send,
{
    fn apply(
        &mut self,
        state: &mut State,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        let f = self
            .f
            .take()
            .ok_or_else(|| AdminError::Storage("a job was applied twice".into()))?;
        self.out = Some(f(state, ctx, changes)?);
        Ok(())
    }

    fn take_note(&mut self) -> Option<AuditNote> {
        self.note.take()
    }

    fn finish(self: Box<Self>, failure: Option<AdminError>) {
        let result = match (failure, self.out) {
            (Some(e), _) => Err(e),
            (None, Some(v)) => Ok(v),
            (None, None) => Err(AdminError::Storage("a job gave no result".into())),
        };
        let _ = self.tx.send(result);
    }
}

/// A result the writer will send once the job's batch has committed.
pub type Pending<T> = oneshot::Receiver<Result<T, AdminError>>;

enum Work<P> {
    Job(Box<dyn Job>),
    ReadAudit(u64, usize, oneshot::Sender<AuditPage>),
    Reconfigure(Reconfigure<P>, oneshot::Sender<Result<(), String>>),
    Ping(oneshot::Sender<()>),
}

/// The writer is gone (it stopped or panicked).
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("the store writer has stopped")]
pub struct WriterError;

/// A handle to the writer thread; cheap to clone.
pub struct Writer<P> {
    tx: mpsc::Sender<Work<P>>,
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
        let (tx, rx) = mpsc::channel::<Work<P>>();
        let handle = thread::Builder::new()
            .name("camd-writer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut work = vec![first];
                    while work.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(w) => work.push(w),
                            Err(_) => break,
                        }
                    }
                    let mut jobs = Vec::new();
                    for w in work {
                        match w {
                            Work::Job(j) => jobs.push(j),
                            Work::ReadAudit(since, limit, r) => {
                                let _ =
                                    r.send(store.audit(since, limit).map_err(|e| e.to_string()));
                            }
                            Work::Reconfigure(f, done) => {
                                let r = f(&mut publisher, store.state());
                                if r.is_ok() {
                                    publisher.republish(store.state());
                                }
                                let _ = done.send(r);
                            }
                            Work::Ping(done) => {
                                let _ = done.send(());
                            }
                        }
                    }
                    if jobs.is_empty() {
                        continue;
                    }
                    let began = std::time::Instant::now();
                    let outcome = {
                        let p = &publisher;
                        store.execute(&mut jobs, &|n| p.known_policy(n), now_ms())
                    };
                    publisher.committed(began.elapsed(), jobs.len());
                    if outcome.reloaded || !outcome.changes.is_empty() {
                        publisher.publish(store.state(), &outcome.changes, outcome.reloaded);
                    }
                    for (job, result) in jobs.into_iter().zip(outcome.results) {
                        job.finish(result.err());
                    }
                }
                store
            })?;
        Ok((Self { tx }, handle))
    }

    fn queue<T, F>(&self, note: Option<AuditNote>, f: F) -> Result<Pending<T>, WriterError>
    where
        T: Send + 'static,
        F: FnOnce(&mut State, &Ctx<'_>, &mut Changes) -> Result<T, AdminError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job = Typed {
            f: Some(f),
            out: None,
            note,
            tx,
        };
        self.tx
            .send(Work::Job(Box::new(job)))
            .map_err(|_| WriterError)?;
        Ok(rx)
    }

    /// Queues a change with its audit entry (committed with it, whatever
    /// the outcome); resolves once the change is durable (or failed).
    pub fn change<T, F>(&self, note: AuditNote, f: F) -> Result<Pending<T>, WriterError>
    where
        T: Send + 'static,
        F: FnOnce(&mut State, &Ctx<'_>, &mut Changes) -> Result<T, AdminError> + Send + 'static,
    {
        self.queue(Some(note), f)
    }

    /// Queues a read of the state as of the writes queued before it.
    pub fn read<T, F>(&self, f: F) -> Result<Pending<T>, WriterError>
    where
        T: Send + 'static,
        F: FnOnce(&State, &Ctx<'_>) -> Result<T, AdminError> + Send + 'static,
    {
        self.queue(None, move |state, ctx, _| f(state, ctx))
    }

    /// Records an audit entry that changes nothing else (a failed
    /// authentication, a refused operation), committed with the next batch.
    pub fn audit(&self, note: AuditNote) -> Result<(), WriterError> {
        self.queue(Some(note), |_, _, _| Ok(())).map(drop)
    }

    /// Records when access keys were last used (not audited: it is
    /// bookkeeping of decisions, not an admin change).
    pub fn record_key_use(&self, uses: Vec<(String, i64)>) -> Result<Pending<()>, WriterError> {
        self.queue(None, move |state, _, changes| {
            state.record_key_use(&uses, changes);
            Ok(())
        })
    }

    /// Reads up to `limit` audit entries from `since` on (between commits).
    pub async fn read_audit(&self, since: u64, limit: usize) -> Result<AuditPage, WriterError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Work::ReadAudit(since, limit, tx))
            .map_err(|_| WriterError)?;
        rx.await.map_err(|_| WriterError)
    }

    /// Resolves once the writer has taken this from its queue: proof that it
    /// is alive and not stuck (the watchdog's health check).
    pub fn ping(&self) -> Result<oneshot::Receiver<()>, WriterError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Work::Ping(tx)).map_err(|_| WriterError)?;
        Ok(rx)
    }

    /// Changes the publisher (e.g. installs a new policy catalog) between
    /// batches, then republishes what changed; resolves when done, with the
    /// refusal if `f` refused.
    pub fn reconfigure(
        &self,
        f: Reconfigure<P>,
    ) -> Result<oneshot::Receiver<Result<(), String>>, WriterError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Work::Reconfigure(f, tx))
            .map_err(|_| WriterError)?;
        Ok(rx)
    }
}
