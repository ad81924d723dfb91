//! The secrets camctl handles: a SecretKey or password read from the
//! environment or stdin (never from an argument, where any local user can
//! read it), and the console's credentials CSV file.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};

use camd::code::Code;
use camd::protocol::Credentials;

use super::PasswordArgs;

pub fn secret_from_env_or_stdin() -> Result<String> {
    if let Ok(k) = std::env::var("CAMD_SECRET_KEY") {
        return Ok(k);
    }
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("cannot read the SecretKey from stdin")?;
    let s = s.trim().to_string();
    if s.is_empty() {
        bail!(
            "{ip}: no SecretKey: set CAMD_SECRET_KEY or pipe it on stdin",
            ip = Code::InvalidParameter
        );
    }
    Ok(s)
}

/// The chosen password, from stdin or $CAMD_PASSWORD, never from an argument.
pub fn chosen_password(p: &PasswordArgs) -> Result<Option<String>> {
    if p.password.is_some() {
        bail!(
            "{ip}: --password would put the password on the command line, where any local user can read it; use --password-stdin, or --password-env with CAMD_PASSWORD",
            ip = Code::InvalidParameter
        );
    }
    if p.password_env {
        return std::env::var("CAMD_PASSWORD").map(Some).map_err(|_| {
            anyhow!(
                "{ip}: --password-env needs the password in CAMD_PASSWORD",
                ip = Code::InvalidParameter
            )
        });
    }
    if p.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let pw = line.trim_end_matches(['\n', '\r']).to_string();
        if pw.is_empty() {
            bail!(
                "{ip}: --password-stdin read no password",
                ip = Code::InvalidParameter
            );
        }
        return Ok(Some(pw));
    }
    Ok(None)
}

/// The console's CSV file, opened before anything is created: mode 0600,
/// never overwriting, never through a symbolic link. Removed again if the
/// user cannot be created.
pub struct CsvFile {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl CsvFile {
    pub fn create(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nofollow())
            .open(path)
            .map_err(|e| {
                let why = match e.kind() {
                    std::io::ErrorKind::AlreadyExists => {
                        "already exists (or is a link); refusing to overwrite".to_string()
                    }
                    std::io::ErrorKind::NotFound => "is in a folder that does not exist".into(),
                    _ => format!("cannot be created: {e}"),
                };
                anyhow!(
                    "{ip}: credentials file `{path}` {why}; nothing was created",
                    ip = Code::InvalidParameter,
                    path = path.display()
                )
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            file: Some(file),
        })
    }

    pub fn write(mut self, c: &Credentials) -> Result<()> {
        let Some(mut f) = self.file.take() else {
            bail!("the credentials file was already written");
        };
        write_csv(&mut f, c)?;
        // Written: keep it.
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for CsvFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `O_NOFOLLOW`: `create_new` already refuses an existing link; this also
/// says so where the platform would otherwise follow one.
fn nofollow() -> i32 {
    i32::try_from(rustix::fs::OFlags::NOFOLLOW.bits()).unwrap_or(0)
}

/// The console's CSV layout.
fn write_csv(f: &mut std::fs::File, c: &Credentials) -> Result<()> {
    let field = |v: &Option<String>| v.clone().unwrap_or_default().replace('"', "\"\"");
    let text = format!(
        "LoginLink,Username,Password,SecretId,SecretKey\n\"{}\",\"{}\",\"{}\",\"{}\",\"{}\"\n",
        field(&c.login_link),
        c.name.replace('"', "\"\""),
        field(&c.password),
        field(&c.secret_id),
        field(&c.secret_key)
    );
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}
