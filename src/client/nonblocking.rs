//! The async client (tokio).

use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use crate::protocol::{
    Authorize, AuthorizeSigned, Body, Decision, HELLO_LEN, KeyAuth, Op, PROTOCOL_VERSION, Reply,
    WireError, decode_hello, encode_hello, frame_len,
};

use super::{ClientError, MAX_RESPONSE, reply_from, request_frame, typed};

/// An async connection to camd.
pub struct AsyncClient {
    reader: BufReader<OwnedReadHalf>,
    writer: BufWriter<OwnedWriteHalf>,
    path: String,
    next_id: u64,
    auth: Option<KeyAuth>,
}

impl AsyncClient {
    /// Connects and exchanges the hello.
    pub async fn connect(path: impl AsRef<Path>) -> Result<Self, ClientError> {
        let shown = path.as_ref().display().to_string();
        let io = |source| ClientError::Io {
            path: shown.clone(),
            cause: source,
        };
        let (r, w) = UnixStream::connect(path.as_ref())
            .await
            .map_err(io)?
            .into_split();
        let mut c = Self {
            reader: BufReader::with_capacity(64 * 1024, r),
            writer: BufWriter::with_capacity(64 * 1024, w),
            path: shown.clone(),
            next_id: 1,
            auth: None,
        };
        c.writer
            .write_all(&encode_hello(PROTOCOL_VERSION))
            .await
            .map_err(io)?;
        c.writer.flush().await.map_err(io)?;
        let mut hello = [0u8; HELLO_LEN];
        c.reader.read_exact(&mut hello).await.map_err(io)?;
        let server = decode_hello(&hello).map_err(|e| ClientError::Protocol(e.to_string()))?;
        if server != PROTOCOL_VERSION {
            return Err(ClientError::Version {
                server,
                client: PROTOCOL_VERSION,
            });
        }
        Ok(c)
    }

    /// Presents this access key with admin requests.
    pub fn with_key(mut self, key: KeyAuth) -> Self {
        self.auth = Some(key);
        self
    }

    fn io(&self, source: std::io::Error) -> ClientError {
        ClientError::Io {
            path: self.path.clone(),
            cause: source,
        }
    }

    async fn send(&mut self, body: Body) -> Result<u64, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let frame = request_frame(id, &self.auth, body, None)?;
        self.writer
            .write_all(&frame)
            .await
            .map_err(|e| self.io(e))?;
        Ok(id)
    }

    async fn receive(&mut self, id: u64) -> Result<Result<Reply, WireError>, ClientError> {
        read_reply(&mut self.reader, id).await
    }

    /// Sends one request and waits for its typed reply.
    pub async fn call<O: Op>(&mut self, op: O) -> Result<O::Reply, ClientError> {
        typed::<O>(self.call_body(op.into_body()).await?)
    }

    /// Sends one request body, whatever it is, and waits for its reply.
    pub async fn call_body(&mut self, body: Body) -> Result<Reply, ClientError> {
        let id = self.send(body).await?;
        self.writer.flush().await.map_err(|e| self.io(e))?;
        self.receive(id).await?.map_err(ClientError::Remote)
    }

    /// Sends every request while reading the replies (in order), so that
    /// neither side's socket buffer can fill up and stall the other.
    pub async fn pipeline(
        &mut self,
        bodies: Vec<Body>,
    ) -> Result<Vec<Result<Reply, WireError>>, ClientError> {
        let mut frames = Vec::with_capacity(bodies.len());
        let mut ids = Vec::with_capacity(bodies.len());
        for body in bodies {
            let id = self.next_id;
            self.next_id += 1;
            ids.push(id);
            frames.push(request_frame(id, &self.auth, body, None)?);
        }
        let path = self.path.clone();
        let io = |source| ClientError::Io {
            path: path.clone(),
            cause: source,
        };
        let writer = &mut self.writer;
        let reader = &mut self.reader;
        let send = async {
            for f in &frames {
                writer.write_all(f).await?;
            }
            writer.flush().await
        };
        let receive = async {
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                out.push(read_reply(reader, *id).await?);
            }
            Ok::<_, ClientError>(out)
        };
        let (sent, received) = tokio::join!(send, receive);
        sent.map_err(io)?;
        received
    }

    /// One decision.
    pub async fn authorize(&mut self, a: Authorize) -> Result<Decision, ClientError> {
        self.call(a).await
    }

    /// Verifies a TC3-signed request in camd and decides for its signer.
    pub async fn authorize_signed(&mut self, a: AuthorizeSigned) -> Result<Decision, ClientError> {
        self.call(a).await
    }
}

async fn read_reply(
    reader: &mut BufReader<OwnedReadHalf>,
    id: u64,
) -> Result<Result<Reply, WireError>, ClientError> {
    let io = |source| ClientError::Io {
        path: "camd socket".into(),
        cause: source,
    };
    let mut header = [0u8; 4];
    reader.read_exact(&mut header).await.map_err(io)?;
    let len = frame_len(header, MAX_RESPONSE).map_err(|e| ClientError::Protocol(e.to_string()))?;
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).await.map_err(io)?;
    reply_from(&body, id).map(|(r, _)| r)
}
