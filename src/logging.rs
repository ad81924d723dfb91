//! The daemon's log: leveled lines on stderr, filtered like `RUST_LOG`, with
//! syslog priority prefixes (`<3>`…`<7>`) when stderr is the journal.
//!
//! Nothing logged may contain a secret: callers log names, ids and codes only.

use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::sync::OnceLock;

/// How important a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something failed.
    Error = 1,
    /// Something is wrong but camd carries on.
    Warn = 2,
    /// Normal operation: start, stop, reloads.
    Info = 3,
    /// Detail for finding a problem.
    Debug = 4,
}

impl Level {
    fn parse(s: &str) -> Option<Option<Self>> {
        Some(Some(match s.to_ascii_lowercase().as_str() {
            "off" | "none" => return Some(None),
            "error" => Level::Error,
            "warn" | "warning" => Level::Warn,
            "info" => Level::Info,
            "debug" | "trace" => Level::Debug,
            _ => return None,
        }))
    }

    /// The syslog priority journald reads from a `<N>` prefix.
    fn priority(self) -> u8 {
        match self {
            Level::Error => 3,
            Level::Warn => 4,
            Level::Info => 6,
            Level::Debug => 7,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Level::Error => "error: ",
            Level::Warn => "warning: ",
            Level::Info => "",
            Level::Debug => "debug: ",
        }
    }
}

/// Which lines are written: a default level and per-module overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    default: Option<Level>,
    /// (module path prefix, most verbose level shown; `None` = off).
    targets: Vec<(String, Option<Level>)>,
}

impl Default for Filter {
    fn default() -> Self {
        Self {
            default: Some(Level::Info),
            targets: Vec::new(),
        }
    }
}

impl Filter {
    /// Parses a `RUST_LOG`-style spec: `warn`, `camd::reload=debug,info`, `off`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut f = Filter::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some((target, level)) => {
                    let level = Level::parse(level.trim())
                        .ok_or_else(|| format!("unknown log level `{level}` in `{part}`"))?;
                    f.targets.push((target.trim().to_string(), level));
                }
                None => {
                    f.default =
                        Level::parse(part).ok_or_else(|| format!("unknown log level `{part}`"))?;
                }
            }
        }
        // The longest matching prefix wins.
        f.targets.sort_by_key(|(t, _)| std::cmp::Reverse(t.len()));
        Ok(f)
    }

    /// Whether a line at `level` from module `target` is written.
    pub fn enabled(&self, level: Level, target: &str) -> bool {
        let limit = self
            .targets
            .iter()
            .find(|(t, _)| {
                target == t
                    || target
                        .strip_prefix(t.as_str())
                        .is_some_and(|rest| rest.starts_with("::"))
            })
            .map_or(self.default, |(_, l)| *l);
        limit.is_some_and(|l| level <= l)
    }
}

struct Logger {
    filter: Filter,
    journal: bool,
    /// The program's name, which starts each line off the journal.
    program: &'static str,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

/// True when stderr is the stream `JOURNAL_STREAM` (`device:inode`) names.
fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = value.to_str().and_then(|v| v.split_once(':')) else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else {
        return false;
    };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .is_ok_and(|m| m.dev() == dev && m.ino() == ino)
}

/// Sets camd's log up (see [`init_as`]).
pub fn init() -> Option<String> {
    init_as("camd")
}

/// Sets the log of `program` up from `CAMD_LOG` (or `RUST_LOG`) and
/// `JOURNAL_STREAM`. Returns a complaint about a bad spec, which is then
/// ignored.
pub fn init_as(program: &'static str) -> Option<String> {
    let spec = std::env::var("CAMD_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_default();
    let (filter, complaint) = match Filter::parse(&spec) {
        Ok(f) => (f, None),
        Err(e) => (Filter::default(), Some(e)),
    };
    let _ = LOGGER.set(Logger {
        filter,
        journal: stderr_is_journal(),
        program,
    });
    if let Some(c) = &complaint {
        write(
            Level::Warn,
            module_path!(),
            format_args!("ignoring CAMD_LOG/RUST_LOG: {c}"),
        );
    }
    complaint
}

/// Whether a line would be written (skip building expensive messages).
pub fn enabled(level: Level, target: &str) -> bool {
    LOGGER
        .get()
        .map_or(level <= Level::Info, |l| l.filter.enabled(level, target))
}

/// Formats one (possibly multi-line) message as camd's log lines.
pub fn render(journal: bool, level: Level, message: &str) -> String {
    render_as("camd", journal, level, message)
}

/// Formats one (possibly multi-line) message as `program`'s log lines.
pub fn render_as(program: &str, journal: bool, level: Level, message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 16);
    for (i, line) in message.lines().enumerate() {
        if journal {
            out.push_str(&format!("<{}>", level.priority()));
            if i == 0 {
                out.push_str(level.word());
            }
        } else if i == 0 {
            out.push_str(program);
            out.push_str(": ");
            out.push_str(level.word());
        } else {
            out.push_str("  ");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Writes a line if the filter lets it through (use the macros).
pub fn write(level: Level, target: &str, args: std::fmt::Arguments<'_>) {
    if !enabled(level, target) {
        return;
    }
    let journal = LOGGER.get().is_some_and(|l| l.journal);
    let program = LOGGER.get().map_or("camd", |l| l.program);
    let text = render_as(program, journal, level, &args.to_string());
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Logs at error level.
#[macro_export]
macro_rules! log_error {
    ($($arg:tt)*) => { $crate::logging::write($crate::logging::Level::Error, module_path!(), format_args!($($arg)*)) };
}
/// Logs at warning level.
#[macro_export]
macro_rules! log_warn {
    ($($arg:tt)*) => { $crate::logging::write($crate::logging::Level::Warn, module_path!(), format_args!($($arg)*)) };
}
/// Logs at info level.
#[macro_export]
macro_rules! log_info {
    ($($arg:tt)*) => { $crate::logging::write($crate::logging::Level::Info, module_path!(), format_args!($($arg)*)) };
}
/// Logs at debug level.
#[macro_export]
macro_rules! log_debug {
    ($($arg:tt)*) => { $crate::logging::write($crate::logging::Level::Debug, module_path!(), format_args!($($arg)*)) };
}

/// A binary's exit: success, or the error (with its causes) logged and
/// status 1.
pub fn exit<E: std::fmt::Display>(result: Result<(), E>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            crate::log_error!("{e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_spec() {
        let f = Filter::parse("warn,camd::reload=debug,camd::server=off").unwrap();
        assert!(f.enabled(Level::Warn, "camd::app"));
        assert!(!f.enabled(Level::Info, "camd::app"));
        assert!(f.enabled(Level::Debug, "camd::reload"));
        assert!(!f.enabled(Level::Error, "camd::server::connection"));
        assert!(!f.enabled(Level::Debug, "camd::reloader"));
        assert!(Filter::parse("loud").is_err());
        assert_eq!(Filter::parse("").unwrap(), Filter::default());
        assert!(!Filter::parse("off").unwrap().enabled(Level::Error, "camd"));
    }

    #[test]
    fn journal_prefixes_every_line() {
        assert_eq!(
            render(true, Level::Error, "bad\nfile.json: x"),
            "<3>error: bad\n<3>file.json: x\n"
        );
        assert_eq!(render(false, Level::Info, "ready"), "camd: ready\n");
        assert_eq!(
            render(false, Level::Warn, "a\nb"),
            "camd: warning: a\n  b\n"
        );
    }
}
