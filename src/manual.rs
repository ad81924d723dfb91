//! Shell completions and man pages for camd's binaries, generated from
//! their clap definitions (so they never disagree with `--help`).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Command;
use clap_complete::Shell;

/// Writes `cmd`'s completion script for `shell` to `out`.
pub fn completions(mut cmd: Command, shell: Shell, out: &mut dyn Write) {
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, out);
}

/// Serves a binary's `--completions SHELL` and `--man DIR` flags: true when
/// one was given (and its output written), so the binary stops there.
pub fn serve_flags(
    cmd: impl Fn() -> Command,
    completions: Option<Shell>,
    man: Option<&Path>,
) -> std::io::Result<bool> {
    if let Some(shell) = completions {
        self::completions(cmd(), shell, &mut std::io::stdout());
        return Ok(true);
    }
    if let Some(dir) = man {
        man_pages(&cmd(), dir).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot write man pages into `{}`: {e}", dir.display()),
            )
        })?;
        return Ok(true);
    }
    Ok(false)
}

/// Writes a man page for `cmd` (`<name>.1`) and one for every subcommand,
/// nested ones too (`<name>-<sub>.1`, `<name>-<sub>-<subsub>.1`), into
/// `dir`; returns the files written.
pub fn man_pages(cmd: &Command, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    page(cmd.clone(), cmd.get_name().to_string(), dir, &mut written)?;
    Ok(written)
}

fn page(cmd: Command, name: String, dir: &Path, written: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let cmd = cmd.name(name.clone());
    let path = dir.join(format!("{name}.1"));
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    std::fs::write(&path, out)?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        page(
            sub.clone(),
            format!("{name}-{}", sub.get_name()),
            dir,
            written,
        )?;
    }
    Ok(())
}
