//! camd-api's connections to camd: a bounded pool shared by every HTTP
//! connection, so no number of HTTP clients can use up camd's per-uid
//! connection share. A request waits a bounded time for a pooled
//! connection; a broken one is replaced once.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::client::{AsyncClient, ClientError};
use crate::protocol::ApiCall;

/// The pool.
pub struct Pool {
    /// camd's socket.
    socket: PathBuf,
    /// Connections not in use.
    idle: Mutex<Vec<AsyncClient>>,
    /// One permit per connection that may be open.
    permits: Semaphore,
    /// How long a request waits for a connection.
    wait: Duration,
}

/// Why a call did not reach camd or come back.
#[derive(Debug)]
pub enum PoolError {
    /// Every connection stayed busy for the whole wait.
    Busy(Duration),
    /// camd answered with an error, or could not be reached.
    Client(ClientError),
}

impl Pool {
    /// At most `size` connections to camd at `socket`; a request waits up
    /// to `wait` for one.
    pub fn new(socket: PathBuf, size: usize, wait: Duration) -> Self {
        Self {
            socket,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(size.max(1)),
            wait,
        }
    }

    fn take_idle(&self) -> Option<AsyncClient> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    fn put_back(&self, c: AsyncClient) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(c);
    }

    /// Sends `call` to camd on a pooled connection and returns camd's JSON.
    pub async fn call(&self, call: ApiCall) -> Result<String, PoolError> {
        let Ok(Ok(_permit)) = tokio::time::timeout(self.wait, self.permits.acquire()).await else {
            return Err(PoolError::Busy(self.wait));
        };
        let mut conn = self.take_idle();
        for attempt in 0..2 {
            let mut client = match conn.take() {
                Some(c) => c,
                None => AsyncClient::connect(&self.socket)
                    .await
                    .map_err(PoolError::Client)?,
            };
            match client.call(call.clone()).await {
                Ok(answer) => {
                    self.put_back(client);
                    return Ok(answer.json);
                }
                // A pooled connection camd closed (a restart): once more on a new one.
                Err(ClientError::Io { .. }) if attempt == 0 => {}
                Err(e @ ClientError::Remote(_)) => {
                    self.put_back(client);
                    return Err(PoolError::Client(e));
                }
                Err(e) => return Err(PoolError::Client(e)),
            }
        }
        Err(PoolError::Client(ClientError::Protocol(
            "camd closed the connection twice".into(),
        )))
    }
}
