//! One connection: the first byte picks binary frames or JSON lines; requests
//! are answered in order, and responses are flushed once no more requests
//! are buffered (so pipelined requests share writes). A malformed but
//! well-framed request gets an error reply and the connection goes on; a
//! broken, oversized or silent connection is closed, harming no other.

use crate::code::Code;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::UnixStream;
use tokio::sync::watch;

use crate::protocol::{
    FrameError, HELLO_LEN, PROTOCOL_VERSION, Response, decode_decision, decode_hello,
    decode_request, encode_hello, encode_response, frame_len, json_request, json_response,
    peek_batch,
};

use super::answer::{batch_too_large, wire};
use super::budget::Held;
use super::daemon::Daemon;
use super::peer::Peer;

/// The read and write buffers of each connection.
const CONNECTION_BUFFER: usize = 16 * 1024;

/// Why a connection ended early.
#[derive(Debug)]
pub enum End {
    /// Clean close or shutdown.
    Done,
    /// The peer broke the protocol or went silent; the reason is logged.
    Dropped(String),
}

fn malformed(e: &FrameError) -> Response {
    Response {
        id: 0,
        result: Err(wire(Code::MalformedRequest, e.to_string())),
        revision: None,
        decision_id: None,
    }
}

/// The read half of a connection, buffered.
type Reader = BufReader<tokio::net::unix::OwnedReadHalf>;
/// The write half, buffered.
type Writer = BufWriter<tokio::net::unix::OwnedWriteHalf>;

/// Serves one connection until it closes, breaks, idles out or the daemon stops.
pub async fn serve(
    daemon: Arc<Daemon>,
    stream: UnixStream,
    (uid, gid, pid): (u32, u32, u32),
    mut stop: watch::Receiver<bool>,
) -> End {
    let peer = Peer::new(uid, gid, &daemon.config).with_pid(pid);
    let idle = Duration::from_secs(daemon.config.idle_timeout_secs);
    let max = daemon.config.max_frame_bytes;
    let (r, w) = stream.into_split();
    // Small fixed buffers: every connection holds them, so they are what
    // many idle or hostile peers cost. Large frames bypass the read buffer
    // (read_frame reads into the frame's own buffer) and large replies the
    // write buffer.
    let mut reader = BufReader::with_capacity(CONNECTION_BUFFER, r);
    let mut writer = BufWriter::with_capacity(CONNECTION_BUFFER, w);

    let first = tokio::select! {
        r = tokio::time::timeout(idle, reader.fill_buf()) => match r {
            Ok(Ok([])) => return End::Done,
            Ok(Ok(buf)) => buf.first().copied(),
            Ok(Err(e)) => return End::Dropped(format!("read failed: {e}")),
            Err(_) => return End::Dropped("idle before the first byte".into()),
        },
        _ = stop.changed() => return End::Done,
    };
    if first == Some(b'{') || first.is_some_and(|b| b.is_ascii_whitespace()) {
        return json_loop(&daemon, peer, reader, writer, idle, max, stop).await;
    }
    if let Err(end) = hello(&mut reader, &mut writer, idle).await {
        return end;
    }
    binary_loop(&daemon, peer, reader, writer, stop).await
}

/// The binary protocol's hello: the client's version read, camd's sent,
/// and the two compared.
async fn hello(reader: &mut Reader, writer: &mut Writer, idle: Duration) -> Result<(), End> {
    let mut hello = [0u8; HELLO_LEN];
    match tokio::time::timeout(idle, reader.read_exact(&mut hello)).await {
        Ok(Ok(_)) => {}
        _ => return Err(End::Dropped("incomplete hello".into())),
    }
    let version = decode_hello(&hello).map_err(|e| End::Dropped(e.to_string()))?;
    if send(writer, &encode_hello(PROTOCOL_VERSION), true, idle, None)
        .await
        .is_err()
    {
        return Err(End::Dropped("cannot answer the hello".into()));
    }
    if version != PROTOCOL_VERSION {
        return Err(End::Dropped(format!(
            "client speaks protocol {version}, camd speaks {PROTOCOL_VERSION}"
        )));
    }
    Ok(())
}

/// Frames in, answers out, in order, until the connection ends.
async fn binary_loop(
    daemon: &Daemon,
    peer: Peer,
    mut reader: Reader,
    mut writer: Writer,
    mut stop: watch::Receiver<bool>,
) -> End {
    let idle = Duration::from_secs(daemon.config.idle_timeout_secs);
    let mut held = Held::new(daemon.buffers.clone(), peer.uid);
    let mut clock = IdleClock::new(idle);
    loop {
        // The request buffer is kept while requests keep coming (a client
        // pipelining large batches reuses it); before a wait it is released
        // if large, so a silent connection holds no large frame.
        if !request_waiting(&mut reader) {
            shrink(&mut held.buf);
            held.sync();
        }
        let next = next_frame(
            daemon,
            &mut reader,
            &mut writer,
            &mut held,
            &mut clock,
            &mut stop,
        );
        if let Err(end) = next.await {
            return end;
        }
        let frame = answer(daemon, peer, &mut held).await;
        if frame.is_empty() {
            return End::Dropped("cannot encode a response".into());
        }
        let flush = reader.buffer().is_empty();
        let sent = send(&mut writer, &frame, flush, idle, Some(&mut held.buf)).await;
        held.sync();
        if let Err(end) = sent {
            return end;
        }
        clock.touch();
    }
}

/// Reads the next frame into `held`: its header within the idle time (or
/// until the daemon stops: `End::Done`), then its bytes within the frame's
/// deadline and the daemon's budget (a frame begun is read whole, and
/// answered, stop or not).
async fn next_frame(
    daemon: &Daemon,
    reader: &mut Reader,
    writer: &mut Writer,
    held: &mut Held,
    clock: &mut IdleClock,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), End> {
    let mut header = [0u8; 4];
    let read = tokio::select! {
        r = clock.run(reader.read_exact(&mut header)) => r,
        _ = stop.changed() => return Err(End::Done),
    };
    match read {
        Ok(Ok(_)) => {}
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(End::Done),
        Ok(Err(e)) => return Err(End::Dropped(format!("read failed: {e}"))),
        Err(Idle) => return Err(End::Dropped("idle timeout".into())),
    }
    let len = match frame_len(header, daemon.config.max_frame_bytes) {
        Ok(l) => l,
        Err(e) => {
            if let Ok(f) = encode_response(&malformed(&e)) {
                let _ = send(writer, &f, true, clock.idle(), None).await;
            }
            return Err(End::Dropped(e.to_string()));
        }
    };
    // The frame's bytes are buffered as they arrive, within the
    // daemon's budget, and must all be there by the frame's deadline.
    let deadline = Duration::from_secs(daemon.config.frame_timeout_secs);
    match tokio::time::timeout(deadline, read_frame(reader, held, len)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(end)) => Err(end),
        Err(_) => Err(End::Dropped(
            "a frame did not arrive whole within frame_timeout_secs".into(),
        )),
    }
}

/// The answer to the frame in `held`, as a frame (empty if it cannot be
/// encoded).
async fn answer(daemon: &Daemon, peer: Peer, held: &mut Held) -> Vec<u8> {
    let body = &mut held.buf;
    let max_batch = daemon.config.max_batch_items;
    match peek_batch(body) {
        // Refused before decoding: an oversized batch costs no memory.
        Some((id, n)) if n > max_batch as u64 => encoded(&Response {
            id,
            result: Err(batch_too_large(n, max_batch)),
            revision: None,
            decision_id: None,
        }),
        _ => match decode_decision(body) {
            // Decisions read in place and answered straight into
            // their frame: no allocation per string either way.
            Some(req) => daemon.decision_frame(peer, &req),
            None => {
                let request = decode_request(body);
                // Admin requests may wait (on the writer): not with a large buffer.
                shrink(body);
                held.sync();
                match request {
                    Ok(req) => encoded(&daemon.handle(peer, req).await),
                    Err(e) => encoded(&malformed(&e)),
                }
            }
        },
    }
}

/// Reads a frame of `len` bytes into `held`, growing it only as bytes
/// arrive (at most 64 KiB ahead of them) and within the daemon's budget.
async fn read_frame(
    reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
    held: &mut Held,
    len: usize,
) -> Result<(), End> {
    held.buf.clear();
    while held.buf.len() < len {
        let want = (len - held.buf.len()).min(64 * 1024);
        if held.reserve(want).is_err() {
            return Err(End::Dropped(
                "the daemon's request buffers are full (max_buffered_bytes)".into(),
            ));
        }
        let start = held.buf.len();
        held.buf.resize(start + want, 0);
        let n = match held.buf.get_mut(start..) {
            Some(room) => reader.read(room).await,
            None => Ok(0),
        };
        match n {
            Ok(0) => return Err(End::Dropped("truncated frame".into())),
            Ok(n) => held.buf.truncate(start + n),
            Err(e) => return Err(End::Dropped(format!("read failed: {e}"))),
        }
    }
    Ok(())
}

/// A response's frame; a response that cannot be encoded becomes the
/// malformed-request error, and failing that an empty frame.
fn encoded(r: &Response) -> Vec<u8> {
    match encode_response(r) {
        Ok(f) => f,
        Err(e) => encode_response(&malformed(&e)).unwrap_or_default(),
    }
}

/// The connection was silent for its idle timeout.
struct Idle;

/// One timer per connection instead of one per read: a request only notes
/// the time it was answered; the timer fires at most once per idle period,
/// and is moved to the new deadline when there was activity since.
struct IdleClock {
    limit: Duration,
    last: tokio::time::Instant,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl IdleClock {
    fn new(limit: Duration) -> Self {
        Self {
            limit,
            last: tokio::time::Instant::now(),
            timer: Box::pin(tokio::time::sleep(limit)),
        }
    }

    /// The idle limit.
    fn idle(&self) -> Duration {
        self.limit
    }

    /// Notes activity: the idle period starts again (no timer is touched).
    fn touch(&mut self) {
        self.last = tokio::time::Instant::now();
    }

    /// `fut`'s output, or `Idle` once nothing happened for the limit.
    async fn run<F: Future>(&mut self, fut: F) -> Result<F::Output, Idle> {
        let mut fut = std::pin::pin!(fut);
        loop {
            tokio::select! {
                biased;
                out = &mut fut => return Ok(out),
                () = self.timer.as_mut() => {
                    let deadline = self.last + self.limit;
                    if tokio::time::Instant::now() >= deadline {
                        return Err(Idle);
                    }
                    self.timer.as_mut().reset(deadline);
                }
            }
        }
    }
}

/// A request buffer larger than this is released when the connection
/// waits for its next request, so an idle or blocked connection holds no
/// large frame.
const KEPT_BUFFER: usize = 64 * 1024;

/// Whether the next request has already (at least partly) arrived: asked
/// without waiting, by polling the read once with a waker that does nothing
/// (the wait that follows polls again with the task's own).
fn request_waiting(reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>) -> bool {
    if !reader.buffer().is_empty() {
        return true;
    }
    let mut now = std::task::Context::from_waker(std::task::Waker::noop());
    matches!(
        std::pin::Pin::new(reader).poll_fill_buf(&mut now),
        std::task::Poll::Ready(Ok(buf)) if !buf.is_empty()
    )
}

fn shrink(buf: &mut Vec<u8>) {
    if buf.capacity() > KEPT_BUFFER {
        *buf = Vec::new();
    }
}

/// Writes one reply, flushing when no more requests are buffered. Nothing
/// is read while a reply waits, so a connection has at most one reply (its
/// size bounded by `max_frame_bytes` and `max_batch_items`) plus the write
/// buffer pending; a peer that stops reading is closed after `idle`. Most
/// replies go out at once (into the buffer or the socket): the deadline's
/// timer is armed only for a write that has to wait, and `kept` (the
/// request buffer) is released before such a wait: a peer that does not
/// read pins no large request buffer.
async fn send(
    writer: &mut BufWriter<tokio::net::unix::OwnedWriteHalf>,
    bytes: &[u8],
    flush: bool,
    idle: Duration,
    kept: Option<&mut Vec<u8>>,
) -> Result<(), End> {
    let write = async {
        writer.write_all(bytes).await?;
        if flush {
            writer.flush().await?;
        }
        Ok::<(), std::io::Error>(())
    };
    let mut write = std::pin::pin!(write);
    let first = {
        let mut at_once = std::task::Context::from_waker(std::task::Waker::noop());
        write.as_mut().poll(&mut at_once)
    };
    if first.is_pending() {
        if let Some(buf) = kept {
            shrink(buf);
        }
    }
    let written = match first {
        std::task::Poll::Ready(r) => r,
        // Polled again with the task's own waker, which replaces the no-op one.
        std::task::Poll::Pending => match tokio::time::timeout(idle, write).await {
            Ok(r) => r,
            Err(_) => {
                return Err(End::Dropped(
                    "the peer did not read its replies within the idle timeout".into(),
                ));
            }
        },
    };
    written.map_err(|e| End::Dropped(format!("write failed: {e}")))
}

async fn json_loop(
    daemon: &Daemon,
    peer: Peer,
    mut reader: BufReader<tokio::net::unix::OwnedReadHalf>,
    mut writer: BufWriter<tokio::net::unix::OwnedWriteHalf>,
    idle: Duration,
    max: usize,
    mut stop: watch::Receiver<bool>,
) -> End {
    let mut held = Held::new(daemon.buffers.clone(), peer.uid);
    loop {
        held.buf.clear();
        // Read one line, refusing to buffer more than `max` bytes of it.
        let got = tokio::select! {
            r = tokio::time::timeout(idle, read_line(&mut reader, &mut held, max)) => r,
            _ = stop.changed() => return End::Done,
        };
        match got {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => return End::Done,
            Ok(Err(e)) => {
                let text = json_response(&malformed(&FrameError::Malformed(e.clone())));
                let _ = send(&mut writer, &text, true, idle, None).await;
                return End::Dropped(e);
            }
            Err(_) => return End::Dropped("idle timeout".into()),
        }
        if held.buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let request = json_request(&held.buf);
        shrink(&mut held.buf);
        held.sync();
        let response = match request {
            Ok(req) => daemon.handle(peer, req).await,
            Err(e) => malformed(&e),
        };
        let text = json_response(&response);
        drop(response);
        let flush = reader.buffer().is_empty();
        if let Err(end) = send(&mut writer, &text, flush, idle, None).await {
            return end;
        }
    }
}

/// Reads up to and excluding a newline; false at a clean end of input.
async fn read_line(
    reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
    held: &mut Held,
    max: usize,
) -> Result<bool, String> {
    loop {
        let line = &mut held.buf;
        let buf = reader
            .fill_buf()
            .await
            .map_err(|e| format!("read failed: {e}"))?;
        if buf.is_empty() {
            return if line.is_empty() {
                Ok(false)
            } else {
                Err("truncated line".into())
            };
        }
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (buf.get(..i).unwrap_or_default(), Some(i + 1)),
            None => (buf, None),
        };
        if line.len() + chunk.len() > max {
            return Err(format!("line exceeds the limit of {max} bytes"));
        }
        let n = chunk.len();
        if held.reserve(n).is_err() {
            return Err("the daemon's request buffers are full (max_buffered_bytes)".into());
        }
        let Ok(buf) = reader.fill_buf().await else {
            return Err("read failed".into());
        };
        held.buf.extend_from_slice(buf.get(..n).unwrap_or_default());
        let used = done.unwrap_or(buf.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(true);
        }
    }
}
