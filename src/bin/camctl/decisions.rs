//! camctl's decision log commands (`decisions status|tail|get`): the log's
//! state from camd, and its records read from the file sink camd names.

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use camd::client::Client;
use camd::code::Code;
use camd::policy::TimeText;
use camd::protocol::{DecisionId, DecisionLogInfo, DecisionLogStatus};

use super::EXIT_OK;
use super::remote::{Out, remote};
use super::show::Show;

/// `camctl decisions ...` (operator only).
#[derive(Subcommand)]
pub enum DecisionsCommand {
    /// Whether decisions are recorded, where, each sink's health, and drops.
    Status,
    /// The latest records of the file sink, oldest first.
    Tail {
        /// Keep printing records as they are written (follows rotation).
        #[arg(long)]
        follow: bool,
        /// Only this outcome.
        #[arg(long, value_enum)]
        outcome: Option<OutcomeArg>,
        /// Only this principal: a user's name, its uin, or a SecretId.
        #[arg(long)]
        user: Option<String>,
        /// Only this action (`*` matches any run, case-insensitive).
        #[arg(long)]
        action: Option<String>,
        /// How many records (before --follow's new ones).
        #[arg(long, short = 'n', default_value_t = 20)]
        lines: usize,
    },
    /// One record by its decision id (what a decision reply and
    /// `check --json`'s `DecisionId` carry).
    Get {
        /// The decision id (16 hex digits).
        id: DecisionId,
    },
}

/// An outcome to filter on.
#[derive(Clone, Copy, ValueEnum)]
pub enum OutcomeArg {
    /// Allowed.
    Allow,
    /// Denied.
    Deny,
    /// Not decided (an unknown user, a failed authentication, ...).
    Error,
}

impl OutcomeArg {
    fn as_str(self) -> &'static str {
        match self {
            OutcomeArg::Allow => "allow",
            OutcomeArg::Deny => "deny",
            OutcomeArg::Error => "error",
        }
    }
}

/// Runs a `decisions` command.
pub fn run(client: &mut Client, out: &Out, cmd: DecisionsCommand) -> Result<u8> {
    let info = client.call(DecisionLogStatus).map_err(remote)?;
    match cmd {
        DecisionsCommand::Status => {
            out.print(&info);
            Ok(EXIT_OK)
        }
        DecisionsCommand::Tail {
            follow,
            outcome,
            user,
            action,
            lines,
        } => {
            let filter = Filter {
                outcome,
                user,
                action: action.map(|a| camd::decisions::Glob::new(&a)),
            };
            tail(out, &file_of(&info)?, &filter, lines, follow)
        }
        DecisionsCommand::Get { id } => get(out, &file_of(&info)?, id),
    }
}

/// The file sink's path, or why there is none.
fn file_of(info: &DecisionLogInfo) -> Result<PathBuf> {
    info.file.as_ref().map(PathBuf::from).ok_or_else(|| {
        anyhow!(
            "{}: camd writes no decision log file; set `[decision_log] file = \"PATH\"` in its config and reload (SIGHUP or `camctl policy reload`)",
            Code::DecisionLogNoFile
        )
    })
}

struct Filter {
    outcome: Option<OutcomeArg>,
    user: Option<String>,
    action: Option<camd::decisions::Glob>,
}

impl Filter {
    fn keeps(&self, r: &Value) -> bool {
        let s = |v: &Value| v.as_str().map(str::to_string);
        let outcome = self
            .outcome
            .is_none_or(|o| at(r, "/result/outcome").as_str() == Some(o.as_str()));
        let p = at(r, "/input/principal");
        let user = self.user.as_deref().is_none_or(|u| {
            s(at(p, "/name")).as_deref() == Some(u)
                || s(at(p, "/secret_id")).as_deref() == Some(u)
                || at(p, "/uin").as_u64().map(|n| n.to_string()).as_deref() == Some(u)
        });
        let action = self
            .action
            .as_ref()
            .is_none_or(|g| g.matches(at(r, "/input/action").as_str().unwrap_or("")));
        outcome && user && action
    }
}

/// The file and its rotated copies, oldest first.
fn files(path: &Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = (1..=1000)
        .map(|n| {
            let mut p = path.as_os_str().to_owned();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        })
        .take_while(|p| p.exists())
        .collect();
    all.reverse();
    all.push(path.to_path_buf());
    all
}

/// Calls `f` with each whole line of `path`, read
/// line by line (a line still being written is left out).
fn each_line(path: &Path, mut f: impl FnMut(&str)) -> Result<()> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    };
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || !line.ends_with('\n') {
            return Ok(());
        }
        f(&line);
    }
}

fn tail(out: &Out, path: &Path, filter: &Filter, n: usize, follow: bool) -> Result<u8> {
    let mut kept: std::collections::VecDeque<Value> = std::collections::VecDeque::new();
    for f in files(path) {
        each_line(&f, |l| {
            if let Ok(r) = serde_json::from_str::<Value>(l) {
                if filter.keeps(&r) {
                    kept.push_back(r);
                    if kept.len() > n {
                        kept.pop_front();
                    }
                }
            }
        })?;
    }
    for r in kept {
        out.print(&Record(r));
    }
    if follow {
        return follow_file(out, path, filter);
    }
    Ok(EXIT_OK)
}

/// Prints records as they are appended; at a rotation (a new file at the
/// path) the old file is read to its end first, then the new one from its start.
fn follow_file(out: &Out, path: &Path, filter: &Filter) -> Result<u8> {
    use std::os::unix::fs::MetadataExt;
    let open = || -> Result<(BufReader<std::fs::File>, u64)> {
        let f = std::fs::File::open(path)
            .with_context(|| format!("cannot open `{}`", path.display()))?;
        let ino = f.metadata()?.ino();
        Ok((BufReader::new(f), ino))
    };
    let (mut reader, mut ino) = open()?;
    reader.seek(SeekFrom::End(0))?;
    let mut partial = String::new();
    loop {
        let n = reader.read_line(&mut partial)?;
        if n == 0 {
            std::io::Write::flush(&mut std::io::stdout())?;
            std::thread::sleep(std::time::Duration::from_millis(200));
            if std::fs::metadata(path).is_ok_and(|m| m.ino() != ino) {
                // Whatever reached the old file before the rename first.
                while reader.read_line(&mut partial)? > 0 {
                    if partial.ends_with('\n') {
                        print_kept(out, filter, &partial);
                        partial.clear();
                    }
                }
                (reader, ino) = open()?;
                partial.clear();
            }
            continue;
        }
        if partial.ends_with('\n') {
            print_kept(out, filter, &partial);
            partial.clear();
        }
    }
}

fn print_kept(out: &Out, filter: &Filter, line: &str) {
    if let Ok(r) = serde_json::from_str::<Value>(line) {
        if filter.keeps(&r) {
            out.print(&Record(r));
        }
    }
}

fn get(out: &Out, path: &Path, id: DecisionId) -> Result<u8> {
    let wanted = id.to_string();
    let needle = format!("\"decision_id\":\"{wanted}\"");
    for f in files(path).iter().rev() {
        let mut found = None;
        each_line(f, |l| {
            if found.is_none() && l.contains(&needle) {
                found = serde_json::from_str::<Value>(l).ok();
            }
        })?;
        if let Some(r) = found {
            out.print(&Record(r));
            return Ok(EXIT_OK);
        }
    }
    Err(anyhow!(
        "{}: decision `{wanted}` is not in `{}` or its rotated files (not kept by the rules or sampling, rotated away, or never made)",
        Code::DecisionNotExist,
        path.display()
    ))
}

/// The value at JSON pointer `ptr` (null when absent).
fn at<'v>(v: &'v Value, ptr: &str) -> &'v Value {
    v.pointer(ptr).unwrap_or(&Value::Null)
}

/// One record as the file holds it.
struct Record(Value);

impl Show for Record {
    fn json(&self) -> Value {
        self.0.clone()
    }

    fn text(&self) -> String {
        let r = &self.0;
        let p = at(r, "/input/principal");
        let who = at(p, "/name")
            .as_str()
            .map(str::to_string)
            .or_else(|| at(p, "/secret_id").as_str().map(str::to_string))
            .or_else(|| at(p, "/uin").as_u64().map(|u| u.to_string()))
            .unwrap_or_else(|| "?".into());
        format!(
            "{} {} {} {} {} `{}` on `{}`: {}",
            at(r, "/timestamp").as_str().unwrap_or(""),
            at(r, "/decision_id").as_str().unwrap_or(""),
            at(r, "/result/outcome").as_str().unwrap_or(""),
            at(r, "/path").as_str().unwrap_or(""),
            who,
            at(r, "/input/action").as_str().unwrap_or(""),
            at(r, "/input/resource").as_str().unwrap_or(""),
            at(r, "/result/message").as_str().unwrap_or(""),
        )
    }
}

impl Show for DecisionLogInfo {
    fn json(&self) -> Value {
        json!({
            "On": self.on,
            "File": self.file,
            "Sample": self.sample,
            "Queued": self.queued,
            "DroppedQueueFull": self.dropped_queue_full,
            "DroppedSinkFailed": self.dropped_sink_failed,
            "Rejected": self.rejected,
            "Sinks": self.sinks.iter().map(|s| json!({
                "Kind": s.kind, "Target": s.target, "Up": s.up, "Written": s.written,
                "Failed": s.failed, "Error": s.error,
            })).collect::<Vec<_>>(),
        })
    }

    fn text(&self) -> String {
        let mut lines = vec![format!(
            "decision log: {}{}; dropped {} (queue full) and {} (no sink took them); {} waiting",
            if self.on { "on" } else { "off" },
            if self.sample > 1 {
                format!(", one in {} kept", self.sample)
            } else {
                String::new()
            },
            self.dropped_queue_full,
            self.dropped_sink_failed,
            self.queued
        )];
        for s in &self.sinks {
            let health = match (&s.error, s.up) {
                (Some(e), false) => format!(
                    "FAILING since {}: {e}",
                    TimeText::new(s.error_at_ms).as_str()
                ),
                (Some(e), true) => format!("up (last failure: {e})"),
                (None, _) => "up".to_string(),
            };
            lines.push(format!(
                "  {} `{}`: {health}; {} written, {} not",
                s.kind, s.target, s.written, s.failed
            ));
        }
        if let Some(r) = &self.rejected {
            lines.push(format!(
                "  last configuration REJECTED (the one before stays): {r}"
            ));
        }
        lines.join("\n")
    }
}
