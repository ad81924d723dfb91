//! Where records go: a file rotated by size (mode 0640, its group), the
//! journal (native protocol), or a local collector's Unix socket. Each takes
//! whole lines and either takes them all or reports why not.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::protocol::DecisionId;

use super::settings::{DecisionLogConfig, SocketType};

/// One sink, opened lazily and again after a failure.
#[derive(Debug)]
pub enum Sink {
    /// A file of JSON lines.
    File(FileSink),
    /// The journal.
    Journal {
        /// The journal's socket.
        path: PathBuf,
        /// Bound once opened.
        socket: Option<UnixDatagram>,
    },
    /// A collector's socket.
    Socket {
        /// Its path.
        path: PathBuf,
        /// Datagrams or a stream.
        kind: SocketType,
        /// Connected once opened.
        conn: Option<Conn>,
    },
}

/// A collector connection.
#[derive(Debug)]
pub enum Conn {
    /// `SOCK_DGRAM`, connected.
    Datagram(UnixDatagram),
    /// `SOCK_STREAM`.
    Stream(UnixStream),
}

/// A datagram larger than this is not sent (it would fail with EMSGSIZE
/// and take the sink down); the record stays in the file sink.
const MAX_DATAGRAM: usize = 160 << 10;

/// A sink may take this long to take a write before it counts as failed.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(1);

impl Sink {
    /// The sinks a configuration names (`gid`: the file's group).
    pub fn all(c: &DecisionLogConfig, gid: Option<u32>) -> Vec<Sink> {
        let mut sinks = Vec::new();
        if let Some(path) = &c.file {
            sinks.push(Sink::File(FileSink {
                path: path.clone(),
                max_bytes: c.max_file_bytes,
                max_files: c.max_files,
                gid,
                file: None,
                len: 0,
            }));
        }
        if c.journald {
            sinks.push(Sink::Journal {
                path: c.journald_socket.clone(),
                socket: None,
            });
        }
        if let Some(path) = &c.socket {
            sinks.push(Sink::Socket {
                path: path.clone(),
                kind: c.socket_type,
                conn: None,
            });
        }
        sinks
    }

    /// Its kind, for status and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Sink::File(_) => "file",
            Sink::Journal { .. } => "journald",
            Sink::Socket { .. } => "socket",
        }
    }

    /// Where it writes.
    pub fn target(&self) -> &Path {
        match self {
            Sink::File(f) => &f.path,
            Sink::Journal { path, .. } | Sink::Socket { path, .. } => path,
        }
    }

    /// Closes it (the next write opens it again).
    pub fn close(&mut self) {
        match self {
            Sink::File(f) => f.file = None,
            Sink::Journal { socket, .. } => *socket = None,
            Sink::Socket { conn, .. } => *conn = None,
        }
    }

    /// Writes `lines` (whole JSON lines, each with its newline); `ids[i]` is
    /// the i-th line's decision id, for the journal's field.
    pub fn write(&mut self, lines: &[u8], ids: &[DecisionId]) -> io::Result<()> {
        match self {
            Sink::File(f) => f.write(lines),
            Sink::Journal { path, socket } => {
                let s = match socket {
                    Some(s) => s,
                    None => socket.insert(unbound(path)?),
                };
                for (line, id) in split(lines).zip(ids.iter()) {
                    let entry = journal_entry(line, &id.to_string());
                    if entry.len() <= MAX_DATAGRAM {
                        s.send(&entry)?;
                    }
                }
                Ok(())
            }
            Sink::Socket { path, kind, conn } => {
                let c = match conn {
                    Some(c) => c,
                    None => conn.insert(connect(path, *kind)?),
                };
                match c {
                    Conn::Datagram(s) => {
                        for line in split(lines).filter(|l| l.len() <= MAX_DATAGRAM) {
                            s.send(line)?;
                        }
                        Ok(())
                    }
                    Conn::Stream(s) => s.write_all(lines),
                }
            }
        }
    }
}

/// The lines of `buf`, each without its newline.
fn split(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    buf.split(|b| *b == b'\n').filter(|l| !l.is_empty())
}

fn unbound(path: &Path) -> io::Result<UnixDatagram> {
    let s = UnixDatagram::unbound()?;
    s.connect(path)?;
    s.set_write_timeout(Some(SOCKET_TIMEOUT))?;
    Ok(s)
}

fn connect(path: &Path, kind: SocketType) -> io::Result<Conn> {
    Ok(match kind {
        SocketType::Datagram => Conn::Datagram(unbound(path)?),
        SocketType::Stream => {
            let s = UnixStream::connect(path)?;
            s.set_write_timeout(Some(SOCKET_TIMEOUT))?;
            Conn::Stream(s)
        }
    })
}

/// A journal entry in the native protocol: the record as `MESSAGE`, with
/// its id in a field of its own so `journalctl CAMD_DECISION_ID=…` finds it.
fn journal_entry(line: &[u8], id: &str) -> Vec<u8> {
    let mut e = Vec::with_capacity(line.len() + 96);
    e.extend_from_slice(b"SYSLOG_IDENTIFIER=camd-decisions\nPRIORITY=6\nCAMD_DECISION_ID=");
    e.extend_from_slice(id.as_bytes());
    e.extend_from_slice(b"\nMESSAGE=");
    e.extend_from_slice(line);
    e.push(b'\n');
    e
}

/// The file sink: appends whole lines, rotates before a line would take the
/// file past `max_bytes`, and cuts off a write that failed half-way, so the
/// file only ever holds whole records.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    max_bytes: u64,
    max_files: u32,
    gid: Option<u32>,
    file: Option<File>,
    len: u64,
}

impl FileSink {
    fn open(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o640)
                .open(&self.path)?;
            // Only a file of our own gets our mode and group (never what a
            // symlink points at, e.g. a device).
            let meta = f.metadata()?;
            if meta.file_type().is_file() {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(std::fs::Permissions::from_mode(0o640))?;
                if let Some(gid) = self.gid {
                    std::os::unix::fs::fchown(&f, None, Some(gid))?;
                }
            }
            self.len = meta.len();
            self.file = Some(f);
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the decision log file is not open"))
    }

    /// `FILE` becomes `FILE.1`, `FILE.1` becomes `FILE.2`, ...; the oldest
    /// beyond `max_files` is deleted.
    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        let numbered = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        if self.max_files == 0 {
            return std::fs::remove_file(&self.path);
        }
        let _ = std::fs::remove_file(numbered(self.max_files));
        for n in (1..self.max_files).rev() {
            match std::fs::rename(numbered(n), numbered(n + 1)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        std::fs::rename(&self.path, numbered(1))
    }

    fn write(&mut self, lines: &[u8]) -> io::Result<()> {
        let mut rest = lines;
        while !rest.is_empty() {
            self.open()?;
            // As many whole lines as fit; at least one, into an empty file.
            let room = self.max_bytes.saturating_sub(self.len);
            let mut take = 0;
            for line in rest.split_inclusive(|b| *b == b'\n') {
                if (take + line.len()) as u64 > room && !(take == 0 && self.len == 0) {
                    break;
                }
                take += line.len();
            }
            if take == 0 {
                self.rotate()?;
                continue;
            }
            let (chunk, after) = rest.split_at(take);
            let before = self.len;
            let f = self.open()?;
            if let Err(e) = f.write_all(chunk) {
                // Cut off the part of a line that reached the file.
                let _ = f.set_len(before);
                self.file = None;
                return Err(e);
            }
            self.len = before + chunk.len() as u64;
            rest = after;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_file_rotates_by_size_and_keeps_whole_lines() {
        let dir = std::env::temp_dir().join(format!("camd-sink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.log");
        let c = DecisionLogConfig {
            file: Some(path.clone()),
            max_file_bytes: 100,
            max_files: 2,
            ..DecisionLogConfig::default()
        };
        let mut sinks = Sink::all(&c, None);
        let line = |i: usize| format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "x".repeat(20));
        for i in 0..20 {
            let l = line(i);
            sinks[0].write(l.as_bytes(), &[DecisionId(0)]).unwrap();
        }
        let mut seen = Vec::new();
        for name in ["d.log.2", "d.log.1", "d.log"] {
            let text = std::fs::read_to_string(dir.join(name)).unwrap();
            assert!(text.len() <= 100 && text.ends_with('\n'), "{name}: {text}");
            for l in text.lines() {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                seen.push(v["n"].as_u64().unwrap());
            }
        }
        assert!(!dir.join("d.log.3").exists());
        assert_eq!(seen, (20 - seen.len() as u64..20).collect::<Vec<_>>());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
