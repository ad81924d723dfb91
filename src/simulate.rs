//! The local policy simulator: evaluates one request against preset names and
//! policy files, with no daemon (what `camctl policy simulate` runs).

use crate::code::Code;
use std::path::Path;
use std::sync::Arc;

use thiserror::Error;

use crate::catalog::{PolicyFileError, read_policy_file};
use crate::policy::{Policy, PolicySet, Principal, Request, RequestError, preset};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// Preset names, paths of policy files, or names of files in
    /// `policy_dir` (`NAME` for `policy_dir/NAME.json`).
    pub policies: Vec<String>,
    /// Where policy names that are not presets are looked for.
    pub policy_dir: Option<std::path::PathBuf>,
    /// Documents already read (name, text), for the names in `policies`
    /// found neither as presets nor as files: those camctl fetched from camd.
    pub documents: Vec<(String, String)>,
    /// The action, e.g. `im:SendMessage`.
    pub action: String,
    /// The resource, e.g. `qcs::im::uin/12345678:sdkappid/1400000001`.
    pub resource: String,
    /// The caller.
    pub principal: Principal,
    /// `qcs:current_time`, in milliseconds since the epoch.
    pub now_ms: i64,
    /// Request context; a key given twice is multi-valued.
    pub context: Vec<(String, String)>,
}

/// The simulator's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Allowed or not.
    pub allowed: bool,
    /// `Root`, `Allow`, `ExplicitDeny`, `FailClosedDeny` or `ImplicitDeny`.
    pub reason: &'static str,
    /// The deciding policy, if a statement decided.
    pub policy_name: Option<String>,
    /// The deciding statement's index.
    pub statement_index: Option<usize>,
    /// The decision in words.
    pub message: String,
    /// Warnings from the policies read.
    pub warnings: Vec<String>,
}

/// Why the simulation could not run.
#[derive(Debug, Error)]
pub enum SimulateError {
    /// A policy file is unusable.
    #[error(transparent)]
    PolicyFile(#[from] PolicyFileError),
    /// The request is malformed.
    #[error("{code}: {0}", code = Code::InvalidParameter)]
    Request(RequestError),
    /// Neither a preset, an existing file, nor a file in the policy folder.
    #[error("{code}: `{0}` is neither a preset policy, a policy file, nor a policy in the policy folder or camd", code = Code::PolicyIdNotFound)]
    UnknownPolicy(String),
}

/// Where `spec` is found without a daemon: a preset (`Ok(None)`), a file,
/// or `NAME.json` in `dir`.
pub fn local_source(
    spec: &str,
    dir: Option<&Path>,
) -> Result<Option<std::path::PathBuf>, SimulateError> {
    if preset::preset(spec).is_some() {
        return Ok(None);
    }
    let path = Path::new(spec);
    if path.exists() {
        return Ok(Some(path.to_path_buf()));
    }
    let in_dir = dir
        .filter(|_| crate::policy::is_valid_policy_name(spec))
        .map(|d| d.join(format!("{spec}.json")))
        .filter(|p| p.is_file());
    in_dir
        .map(Some)
        .ok_or_else(|| SimulateError::UnknownPolicy(spec.to_string()))
}

/// Resolves a preset name, a policy file, or the name of a file in `dir`
/// into a compiled policy (with warnings).
pub fn load_policy(
    spec: &str,
    dir: Option<&Path>,
) -> Result<(Arc<Policy>, Vec<String>), SimulateError> {
    let Some(path) = local_source(spec, dir)? else {
        return preset::preset(spec)
            .map(|p| (p, Vec::new()))
            .ok_or_else(|| SimulateError::UnknownPolicy(spec.to_string()));
    };
    let compiled = read_policy_file(&path)?;
    let warnings = compiled
        .warnings
        .iter()
        .filter(|w| w.severity == crate::policy::Severity::Warning)
        .map(|w| format!("{spec}: {w}"))
        .collect();
    Ok((Arc::new(compiled.policy), warnings))
}

/// Runs the simulation.
pub fn simulate(sim: &Simulation) -> Result<Outcome, SimulateError> {
    let mut policies = Vec::new();
    let mut warnings = Vec::new();
    // In the order given: the first policy whose statement decides is the
    // one the decision names.
    for spec in &sim.policies {
        let fetched = sim.documents.iter().find(|(name, _)| name == spec);
        let (p, w) = match fetched {
            Some((name, text)) if local_source(spec, sim.policy_dir.as_deref()).is_err() => {
                let (c, _) =
                    crate::catalog::compile_policy_text(Path::new(name), name, text.clone())?;
                let w = c
                    .warnings
                    .iter()
                    .filter(|w| w.severity == crate::policy::Severity::Warning)
                    .map(|w| format!("{name}: {w}"))
                    .collect();
                (Arc::new(c.policy), w)
            }
            _ => load_policy(spec, sim.policy_dir.as_deref())?,
        };
        policies.push(p);
        warnings.extend(w);
    }
    let set = PolicySet::new(policies);
    let context: Vec<(&str, &str)> = sim
        .context
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let req = Request::new(
        &sim.action,
        &sim.resource,
        sim.principal,
        sim.now_ms,
        &context,
    )
    .map_err(SimulateError::Request)?;
    let d = set.evaluate(&req);
    let st = d.statement();
    Ok(Outcome {
        allowed: d.is_allowed(),
        reason: d.reason_code(),
        policy_name: d.policy().map(str::to_string),
        statement_index: st.map(|s| s.statement),
        message: d.to_string(),
        warnings,
    })
}
