//! Process-wide protections every binary takes at start: no core dump and
//! no ptrace by other processes of the same uid, since memory holds the
//! pepper, the sealing keys, SecretKeys and TLS keys in clear; and the
//! process's view of the system's groups.

/// Marks the process not dumpable (`PR_SET_DUMPABLE` 0): the kernel writes
/// no core file for it and processes of the same uid cannot ptrace it or
/// read its `/proc/PID/mem`. The units add `LimitCORE=0` and keep memory
/// out of swap (`MemorySwapMax=0`). Returns why it could not, if it could not.
pub fn protect_memory() -> Result<(), String> {
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(|e| format!("cannot mark the process not dumpable: {e}"))
}

/// Whether the process is dumpable now (for tests and `status`).
pub fn dumpable() -> bool {
    !matches!(
        rustix::process::dumpable_behavior(),
        Ok(rustix::process::DumpableBehavior::NotDumpable)
    )
}

/// The gid of a group name, from /etc/group.
pub fn gid_of(group: &str) -> Option<u32> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next() == Some(group))
            .then(|| f.nth(1).and_then(|g| g.parse().ok()))
            .flatten()
    })
}
