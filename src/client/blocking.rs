//! The blocking client.

use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

use crate::protocol::{
    AnswerRef, AskRef, Authorize, AuthorizeSigned, Body, Decision, HELLO_LEN, KeyAuth, Op,
    PROTOCOL_VERSION, Ping, Reply, WireError, decode_hello, encode_batch, encode_hello, frame_len,
    read_decisions,
};

use super::{ClientError, MAX_RESPONSE, reply_from, request_frame, typed};

/// A connection to camd.
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: BufWriter<UnixStream>,
    path: String,
    /// Where to connect again after camd closed the connection.
    socket: std::path::PathBuf,
    timeout: Option<std::time::Duration>,
    next_id: u64,
    auth: Option<KeyAuth>,
    /// Cluster mode: the revision the last admin reply carried.
    revision: Option<i64>,
    /// With camd's decision log on: the id the last decision reply carried.
    decision_id: Option<crate::protocol::DecisionId>,
    /// The W3C trace context sent with each request.
    traceparent: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects and exchanges the hello.
    pub fn connect(path: impl AsRef<Path>) -> Result<Self, ClientError> {
        Self::connect_within(path, None)
    }

    /// Connects and exchanges the hello, every read and write of the
    /// connection (the hello's included) bounded by `timeout`.
    pub fn connect_within(
        path: impl AsRef<Path>,
        timeout: Option<std::time::Duration>,
    ) -> Result<Self, ClientError> {
        let shown = path.as_ref().display().to_string();
        let io = |source| ClientError::Io {
            path: shown.clone(),
            cause: source,
        };
        let stream = UnixStream::connect(path.as_ref()).map_err(io)?;
        stream.set_read_timeout(timeout).map_err(io)?;
        stream.set_write_timeout(timeout).map_err(io)?;
        let mut c = Self {
            reader: BufReader::with_capacity(64 * 1024, stream.try_clone().map_err(io)?),
            writer: BufWriter::with_capacity(64 * 1024, stream),
            path: shown.clone(),
            socket: path.as_ref().to_path_buf(),
            timeout,
            next_id: 1,
            revision: None,
            decision_id: None,
            traceparent: None,
            auth: None,
        };
        c.writer
            .write_all(&encode_hello(PROTOCOL_VERSION))
            .map_err(io)?;
        c.writer.flush().map_err(io)?;
        let mut hello = [0u8; HELLO_LEN];
        c.reader.read_exact(&mut hello).map_err(io)?;
        let server = decode_hello(&hello).map_err(|e| ClientError::Protocol(e.to_string()))?;
        if server != PROTOCOL_VERSION {
            return Err(ClientError::Version {
                server,
                client: PROTOCOL_VERSION,
            });
        }
        Ok(c)
    }

    /// Bounds every read and write on the connection (`None`: wait
    /// forever, the default): a camd that stops answering is then an error,
    /// not a hang.
    pub fn set_timeout(&mut self, timeout: Option<std::time::Duration>) -> Result<(), ClientError> {
        let io = |cause| ClientError::Io {
            path: self.path.clone(),
            cause,
        };
        self.reader
            .get_ref()
            .set_read_timeout(timeout)
            .map_err(io)?;
        self.writer
            .get_ref()
            .set_write_timeout(timeout)
            .map_err(io)?;
        self.timeout = timeout;
        Ok(())
    }

    /// A decision (which changes nothing, so it may be asked twice): asked
    /// once more on a new connection when camd had closed this one (it
    /// restarted). A timeout is not retried: a late answer must never
    /// answer the next question, and the connection is left broken.
    fn decide<O: Op + Clone>(&mut self, op: O) -> Result<O::Reply, ClientError> {
        match self.call(op.clone()) {
            Err(ClientError::Io { cause, .. }) if closed(&cause) => {
                let fresh = Self::connect_within(&self.socket, self.timeout)?;
                let (auth, revision) = (self.auth.take(), self.revision);
                let traceparent = self.traceparent.take();
                *self = fresh;
                self.auth = auth;
                self.revision = revision;
                self.traceparent = traceparent;
                self.call(op)
            }
            other => other,
        }
    }

    /// Presents this access key with admin requests (delegated administration).
    pub fn with_key(mut self, key: KeyAuth) -> Self {
        self.auth = Some(key);
        self
    }

    /// Sends this W3C `traceparent` with every request from now on (`None`:
    /// none); camd's decision log records its trace and span ids.
    pub fn set_traceparent(&mut self, traceparent: Option<String>) {
        self.traceparent = traceparent;
    }

    /// With camd's decision log on, the id of the last decision reply's
    /// (first) decision, to log beside the caller's own request
    /// (`camctl decisions get ID` finds its record).
    pub fn last_decision_id(&self) -> Option<crate::protocol::DecisionId> {
        self.decision_id
    }

    fn io(&self, source: std::io::Error) -> ClientError {
        ClientError::Io {
            path: self.path.clone(),
            cause: source,
        }
    }

    fn send(&mut self, body: Body) -> Result<u64, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let frame = request_frame(id, &self.auth, body, self.traceparent.clone())?;
        self.writer.write_all(&frame).map_err(|e| self.io(e))?;
        Ok(id)
    }

    /// Reads the next reply frame's body into `body`.
    fn read_frame(&mut self, body: &mut Vec<u8>) -> Result<(), ClientError> {
        let mut header = [0u8; 4];
        self.reader
            .read_exact(&mut header)
            .map_err(|e| self.io(e))?;
        let len =
            frame_len(header, MAX_RESPONSE).map_err(|e| ClientError::Protocol(e.to_string()))?;
        body.resize(len, 0);
        self.reader.read_exact(body).map_err(|e| self.io(e))
    }

    fn receive(&mut self, id: u64) -> Result<Result<Reply, WireError>, ClientError> {
        let mut body = Vec::new();
        self.read_frame(&mut body)?;
        let (result, trailer) = reply_from(&body, id)?;
        // A decision's revision is the state it read, not a write's.
        if trailer.decision_id.is_none() && trailer.revision.is_some() {
            self.revision = trailer.revision;
        }
        self.decision_id = trailer.decision_id;
        Ok(result)
    }

    /// Cluster mode: the revision of the shared truth the last admin reply
    /// was made at (its own write included). Ask another host to decide at
    /// least at it with [`Client::authorize_at`] to read this write there.
    pub fn revision(&self) -> Option<i64> {
        self.revision
    }

    /// A decision made once the host has reached `min_revision` (cluster
    /// mode; `FailedOperation.ClusterRevisionNotReached` if it does not in
    /// time).
    pub fn authorize_at(
        &mut self,
        min_revision: i64,
        ask: Authorize,
    ) -> Result<Decision, ClientError> {
        self.decide(crate::protocol::AuthorizeAt { min_revision, ask })
    }

    /// Sends one request and waits for its typed reply.
    pub fn call<O: Op>(&mut self, op: O) -> Result<O::Reply, ClientError> {
        typed::<O>(self.call_body(op.into_body())?)
    }

    /// Sends one request body, whatever it is, and waits for its reply.
    pub fn call_body(&mut self, body: Body) -> Result<Reply, ClientError> {
        let id = self.send(body)?;
        self.writer.flush().map_err(|e| self.io(e))?;
        self.receive(id)?.map_err(ClientError::Remote)
    }

    /// Sends every request while reading the replies (in order) on this
    /// thread; writing happens on a helper thread so that neither side's
    /// socket buffer can fill up and stall the other.
    pub fn pipeline(
        &mut self,
        bodies: Vec<Body>,
    ) -> Result<Vec<Result<Reply, WireError>>, ClientError> {
        self.writer.flush().map_err(|e| self.io(e))?;
        let mut frames = Vec::with_capacity(bodies.len());
        let mut ids = Vec::with_capacity(bodies.len());
        for body in bodies {
            let id = self.next_id;
            self.next_id += 1;
            ids.push(id);
            frames.push(request_frame(id, &self.auth, body, None)?);
        }
        let stream = self.writer.get_ref().try_clone().map_err(|e| self.io(e))?;
        let sender = std::thread::spawn(move || -> std::io::Result<()> {
            let mut w = BufWriter::with_capacity(64 * 1024, stream);
            for f in frames {
                w.write_all(&f)?;
            }
            w.flush()
        });
        let replies: Result<Vec<_>, _> = ids.into_iter().map(|id| self.receive(id)).collect();
        if replies.is_err() {
            // The connection is unusable: stop the sender, which could
            // otherwise wait forever on a server waiting for us to read.
            let _ = self.reader.get_ref().shutdown(std::net::Shutdown::Both);
        }
        match sender.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(self.io(e)),
            Err(_) => return Err(ClientError::Protocol("the sending thread panicked".into())),
        }
        replies
    }

    /// Decides each batch of borrowed questions in a frame of its own,
    /// pipelined: a helper thread writes the frames while this one reads
    /// the replies, and hands `each(batch, answer)` every answer in order,
    /// borrowed from its reply frame. Nothing is allocated per question or
    /// per answer; a batch refused whole (e.g. over `max_batch_items`) ends
    /// the call with that error.
    pub fn decide_batches<'q>(
        &mut self,
        batches: &[&[AskRef<'q>]],
        mut each: impl FnMut(usize, AnswerRef<'_>),
    ) -> Result<(), ClientError> {
        self.writer.flush().map_err(|e| self.io(e))?;
        let first = self.next_id;
        self.next_id += batches.len() as u64;
        let stream = self.writer.get_ref().try_clone().map_err(|e| self.io(e))?;
        let path = self.path.clone();
        std::thread::scope(|scope| {
            let sender = scope.spawn(move || -> Result<(), ClientError> {
                let io = |cause| ClientError::Io {
                    path: path.clone(),
                    cause,
                };
                let mut w = BufWriter::with_capacity(64 * 1024, stream);
                let mut frame = Vec::new();
                for (id, asks) in (first..).zip(batches) {
                    frame = encode_batch(id, asks, frame)
                        .map_err(|e| ClientError::Protocol(e.to_string()))?;
                    w.write_all(&frame).map_err(io)?;
                }
                w.flush().map_err(io)
            });
            let mut body = Vec::new();
            let mut first_error = None;
            for (i, id) in (first..).take(batches.len()).enumerate() {
                match self.receive_decisions(id, &mut body, |a| each(i, a)) {
                    Ok(()) => {}
                    // A batch refused whole: the next replies still come.
                    Err(e @ ClientError::Remote(_)) => {
                        first_error.get_or_insert(e);
                    }
                    Err(e) => {
                        // The connection is unusable: stop the sender too.
                        let _ = self.reader.get_ref().shutdown(std::net::Shutdown::Both);
                        first_error.get_or_insert(e);
                        break;
                    }
                }
            }
            let sent = sender.join().unwrap_or_else(|_| {
                Err(ClientError::Protocol("the sending thread panicked".into()))
            });
            match first_error {
                Some(e) => Err(e),
                None => sent,
            }
        })
    }

    /// Reads the decision reply to `id` into `body` and hands over its answers.
    fn receive_decisions(
        &mut self,
        id: u64,
        body: &mut Vec<u8>,
        mut each: impl FnMut(AnswerRef<'_>),
    ) -> Result<(), ClientError> {
        self.read_frame(body)?;
        let protocol = |e: crate::protocol::FrameError| ClientError::Protocol(e.to_string());
        let answers = read_decisions(body)
            .map_err(protocol)?
            .map_err(|e| ClientError::Remote(e.to_owned()))?;
        if answers.id != id {
            return Err(ClientError::Protocol(format!(
                "response {} for request {id}",
                answers.id
            )));
        }
        for answer in answers {
            each(answer.map_err(protocol)?);
        }
        Ok(())
    }

    /// One decision.
    pub fn authorize(&mut self, a: Authorize) -> Result<Decision, ClientError> {
        self.decide(a)
    }

    /// Verifies a TC3-signed request in camd and decides for its signer:
    /// one round trip (see [`crate::client::signed`]).
    pub fn authorize_signed(&mut self, a: AuthorizeSigned) -> Result<Decision, ClientError> {
        self.decide(a)
    }

    /// Several decisions in one frame.
    pub fn authorize_batch(
        &mut self,
        items: Vec<Authorize>,
    ) -> Result<Vec<Result<Decision, WireError>>, ClientError> {
        self.decide(items)
    }

    /// Liveness; returns the server's protocol version.
    pub fn ping(&mut self) -> Result<u16, ClientError> {
        self.call(Ping)
    }
}

/// Whether `e` says the peer closed the connection (camd stopped or
/// restarted), as opposed to a timeout or a refusal.
fn closed(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{
        BrokenPipe, ConnectionAborted, ConnectionReset, NotConnected, UnexpectedEof,
    };
    matches!(
        e.kind(),
        BrokenPipe | ConnectionReset | ConnectionAborted | NotConnected | UnexpectedEof
    )
}
