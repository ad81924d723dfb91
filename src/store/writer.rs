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
use super::error::ApplyError;
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
pub type Reconfigure<P> = Box<dyn FnOnce(&mut P, &State) -> Result<(), ReconfigureError> + Send>;

/// Why the writer did not take a reconfiguration.
#[derive(Debug, thiserror::Error)]
pub enum ReconfigureError {
    /// It would take names records in the store hold.
    #[error("it takes names the store holds: {}", .0.join(", "))]
    Clashes(Vec<String>),
    /// The writer has stopped.
    #[error("the store writer has stopped")]
    Stopped,
}

/// Audit entries read from the store, or why not.
type AuditPage = Result<Vec<AuditEntry>, redb::Error>;

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
    /// Its audit entry (reads and key-use records have none).
    fn note(&self) -> Option<AuditNote>;
    /// Sends the result, or `failure` when the batch did not commit.
    fn finish(self: Box<Self>, failure: Option<AdminError>);
}

/// A job whose result is a `T`; it can be applied again (when the shared
/// truth of cluster mode refused a batch, the batch runs again on the
/// newer state).
struct Typed<T, F> {
    f: F,
    out: Option<T>,
    note: Option<AuditNote>,
    tx: oneshot::Sender<Result<T, AdminError>>,
}

impl<T, F> Job for Typed<T, F>
where
    T: Send,
    F: FnMut(&mut State, &Ctx<'_>, &mut Changes) -> Result<T, AdminError> + Send,
{
    fn apply(
        &mut self,
        state: &mut State,
        ctx: &Ctx<'_>,
        changes: &mut Changes,
    ) -> Result<(), AdminError> {
        self.out = None;
        self.out = Some((self.f)(state, ctx, changes)?);
        Ok(())
    }

    fn note(&self) -> Option<AuditNote> {
        self.note.clone()
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

/// Changes from the shared truth (cluster mode).
pub enum Replicated {
    /// Records with their revisions, audit entries, and the revision of
    /// the report (every change up to it is in it or already applied).
    Changes(Vec<(i64, super::Record)>, Vec<Vec<u8>>, i64),
    /// Everything, at one revision (a resync).
    Everything(Vec<super::Record>, i64),
}

enum Work<P> {
    Job(Box<dyn Job>),
    ReadAudit(u64, usize, oneshot::Sender<AuditPage>),
    Reconfigure(
        Reconfigure<P>,
        oneshot::Sender<Result<(), ReconfigureError>>,
    ),
    Ping(oneshot::Sender<()>),
    Replicate(Replicated, oneshot::Sender<Result<i64, ApplyError>>),
}

/// How often a batch the shared truth refused (another host wrote first)
/// runs again on the newer state before it fails.
const MAX_ATTEMPTS: u32 = 8;
/// How long the writer waits for its replica to reach a revision.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(3);

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
        store: Store,
        mut publisher: P,
    ) -> std::io::Result<(Self, thread::JoinHandle<Store>)> {
        publisher.publish(store.state(), &Changes::default(), true);
        let (tx, rx) = mpsc::channel::<Work<P>>();
        let handle = thread::Builder::new()
            .name("camd-writer".into())
            .spawn(move || {
                let mut w = Worker {
                    store,
                    publisher,
                    deferred: Vec::new(),
                };
                loop {
                    let first = match w.deferred.pop() {
                        Some(j) => Work::Job(j),
                        None => match rx.recv() {
                            Ok(first) => first,
                            Err(_) => break,
                        },
                    };
                    let mut work = vec![first];
                    let max = w.store.max_batch().min(MAX_BATCH);
                    while work.len() < max {
                        match w
                            .deferred
                            .pop()
                            .map(Work::Job)
                            .map_or_else(|| rx.try_recv(), Ok)
                        {
                            Ok(item) => work.push(item),
                            Err(_) => break,
                        }
                    }
                    let mut jobs = Vec::new();
                    for item in work {
                        if let Some(j) = w.handle(item) {
                            jobs.push(j);
                        }
                    }
                    if !jobs.is_empty() {
                        w.run_batch(jobs, &rx);
                    }
                }
                w.store
            })?;
        Ok((Self { tx }, handle))
    }

    /// Applies changes from the shared truth (cluster mode); resolves with
    /// the revision the state is at afterwards.
    pub fn replicate(
        &self,
        r: Replicated,
    ) -> Result<oneshot::Receiver<Result<i64, ApplyError>>, WriterError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Work::Replicate(r, tx))
            .map_err(|_| WriterError)?;
        Ok(rx)
    }

    fn queue<T, F>(&self, note: Option<AuditNote>, f: F) -> Result<Pending<T>, WriterError>
    where
        T: Send + 'static,
        F: FnMut(&mut State, &Ctx<'_>, &mut Changes) -> Result<T, AdminError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job = Typed {
            f,
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
        F: FnMut(&mut State, &Ctx<'_>, &mut Changes) -> Result<T, AdminError> + Send + 'static,
    {
        self.queue(Some(note), f)
    }

    /// Queues a read of the state as of the writes queued before it.
    pub fn read<T, F>(&self, f: F) -> Result<Pending<T>, WriterError>
    where
        T: Send + 'static,
        F: FnMut(&State, &Ctx<'_>) -> Result<T, AdminError> + Send + 'static,
    {
        let mut f = f;
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

    /// Binds a CAM API call's signature to its action in the key's record
    /// (see `State::bind_signature`); not audited (bookkeeping of a call
    /// whose own effects are audited).
    pub fn bind_signature(
        &self,
        binding: super::command::SignatureBinding,
        is_change: fn(&str) -> bool,
    ) -> Result<Pending<()>, WriterError> {
        self.queue(None, move |state, _, changes| {
            state.bind_signature(&binding, is_change, changes)
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
    ) -> Result<oneshot::Receiver<Result<(), ReconfigureError>>, WriterError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Work::Reconfigure(f, tx))
            .map_err(|_| WriterError)?;
        Ok(rx)
    }
}

/// The writer thread's own state.
struct Worker<P> {
    store: Store,
    publisher: P,
    /// Jobs that arrived while a refused batch waited to run again.
    deferred: Vec<Box<dyn Job>>,
}

impl<P: Publish> Worker<P> {
    /// Handles one item; a job is handed back for the batch.
    fn handle(&mut self, item: Work<P>) -> Option<Box<dyn Job>> {
        match item {
            Work::Job(j) => return Some(j),
            Work::ReadAudit(since, limit, r) => {
                let _ = r.send(self.store.audit(since, limit));
            }
            Work::Reconfigure(f, done) => {
                let r = f(&mut self.publisher, self.store.state());
                if r.is_ok() {
                    self.publisher.republish(self.store.state());
                }
                let _ = done.send(r);
            }
            Work::Ping(done) => {
                let _ = done.send(());
            }
            Work::Replicate(r, done) => {
                let _ = done.send(self.replicate(r));
            }
        }
        None
    }

    fn replicate(&mut self, r: Replicated) -> Result<i64, ApplyError> {
        match r {
            Replicated::Changes(records, audit, top) => {
                let changes = self.store.apply_remote(records, audit, top, now_ms())?;
                if !changes.is_empty() {
                    self.publisher.publish(self.store.state(), &changes, false);
                }
            }
            Replicated::Everything(records, revision) => {
                self.store.resync(&records, revision, now_ms())?;
                self.publisher
                    .publish(self.store.state(), &Changes::default(), true);
            }
        }
        Ok(self.store.revision())
    }

    /// Runs a batch; in cluster mode, when another host wrote first, waits
    /// for the replica to catch up and runs it again on the newer state.
    fn run_batch(&mut self, mut jobs: Vec<Box<dyn Job>>, rx: &mpsc::Receiver<Work<P>>) {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let began = std::time::Instant::now();
            let outcome = {
                let p = &self.publisher;
                self.store
                    .execute(&mut jobs, &|n| p.known_policy(n), now_ms())
            };
            self.publisher.committed(began.elapsed(), jobs.len());
            if let Some(at) = outcome.conflict {
                if attempt < MAX_ATTEMPTS {
                    self.catch_up(at, rx);
                    continue;
                }
                for job in jobs {
                    job.finish(Some(AdminError::ClusterConflict(attempt)));
                }
                return;
            }
            if outcome.reloaded || !outcome.changes.is_empty() {
                self.publisher
                    .publish(self.store.state(), &outcome.changes, outcome.reloaded);
            }
            for (job, result) in jobs.into_iter().zip(outcome.results) {
                job.finish(result.err());
            }
            return;
        }
    }

    /// Handles queued work (replicated changes above all) until the state
    /// reaches `revision` or `CATCH_UP` passes; jobs wait for later.
    fn catch_up(&mut self, revision: i64, rx: &mpsc::Receiver<Work<P>>) {
        let deadline = std::time::Instant::now() + CATCH_UP;
        while self.store.revision() < revision {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            match rx.recv_timeout(left) {
                Ok(item) => {
                    if let Some(j) = self.handle(item) {
                        self.deferred.insert(0, j);
                    }
                }
                Err(_) => return,
            }
        }
    }
}
