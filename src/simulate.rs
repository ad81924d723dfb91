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
    /// Preset names or paths of policy files.
    pub policies: Vec<String>,
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
    /// Neither a preset nor an existing file.
    #[error("{code}: `{0}` is neither a preset policy nor a policy file", code = Code::PolicyIdNotFound)]
    UnknownPolicy(String),
}

/// Resolves a preset name or a policy file into a compiled policy (with warnings).
pub fn load_policy(spec: &str) -> Result<(Arc<Policy>, Vec<String>), SimulateError> {
    if let Some(p) = preset::preset(spec) {
        return Ok((p, Vec::new()));
    }
    let path = Path::new(spec);
    if !path.exists() {
        return Err(SimulateError::UnknownPolicy(spec.to_string()));
    }
    let compiled = read_policy_file(path)?;
    let warnings = compiled
        .warnings
        .iter()
        .map(|w| format!("{spec}: {w}"))
        .collect();
    Ok((Arc::new(compiled.policy), warnings))
}

/// Runs the simulation.
pub fn simulate(sim: &Simulation) -> Result<Outcome, SimulateError> {
    let mut policies = Vec::new();
    let mut warnings = Vec::new();
    for spec in &sim.policies {
        let (p, w) = load_policy(spec)?;
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
