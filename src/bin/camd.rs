//! `camd`: the daemon. The socket server lands with the store; until then this
//! binary only reports its version.

fn main() -> std::process::ExitCode {
    eprintln!(
        "camd {}: the daemon is not built yet; use `camctl policy lint|simulate`",
        env!("CARGO_PKG_VERSION")
    );
    std::process::ExitCode::from(2)
}
