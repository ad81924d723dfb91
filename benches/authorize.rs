//! Decision latency: camd's compiled evaluator against cedar-policy on the same
//! permissions (a user with 10 attached policies, 35 statements, wildcard
//! actions and resources, one `ip_equal` condition), plus compiling 1,000 policies.
//! Prints a table of medians and ratios measured in this run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::str::FromStr;
use std::sync::Arc;

use camd::metrics::{Metrics, Outcome, Way};
use camd::policy::{Policy, PolicySet, Principal, Request};
use cedar_policy::{Authorizer, Context, Entities, EntityUid, RestrictedExpression};
use criterion::{Criterion, criterion_group};
use serde_json::{Value, json};

const OWNER: u64 = 100000000001;
const USER: u64 = 200000000001;

struct Stmt {
    deny: bool,
    actions: Vec<String>,
    resources: Vec<String>,
    ip: Option<&'static str>,
}

fn app(id: &str) -> String {
    format!("qcs::im::uin/{OWNER}:sdkappid/{id}")
}

/// The 10 attached policies, as data from which both CAM JSON and Cedar are written.
fn scenario() -> Vec<Vec<Stmt>> {
    let s = |deny, actions: &[&str], resources: Vec<String>, ip| Stmt {
        deny,
        actions: actions.iter().map(|a| a.to_string()).collect(),
        resources,
        ip,
    };
    (0..10)
        .map(|k| {
            let mut p = vec![
                s(
                    false,
                    &["im:Get*", "im:Describe*"],
                    vec![app(&format!("14000{k}*"))],
                    None,
                ),
                s(
                    false,
                    &["im:*Group*", "im:AddFriend"],
                    vec![app(&format!("15000{k}0001"))],
                    None,
                ),
                s(
                    false,
                    &["im:Import*", "im:SetUserProfile"],
                    vec![app(&format!("16000{k}*"))],
                    None,
                ),
            ];
            match k {
                0 => p.push(s(false, &["im:QueryOnlineStatus"], vec!["*".into()], None)),
                3 => p.push(s(
                    true,
                    &["im:DestroyGroup", "im:DeleteAccount"],
                    vec!["*".into()],
                    None,
                )),
                5 => p.push(s(true, &["im:SetNoSpeaking"], vec![app("*")], None)),
                7 => p.push(s(false, &["cam:GetUser"], vec!["*".into()], None)),
                9 => p.push(s(
                    false,
                    &["im:Send*", "im:RecallMessage"],
                    vec![app("1400000001")],
                    Some("10.0.0.0/8"),
                )),
                _ => {}
            }
            p
        })
        .collect()
}

fn cam_documents(sc: &[Vec<Stmt>]) -> Vec<Value> {
    sc.iter()
        .map(|p| {
            let sts: Vec<Value> = p
                .iter()
                .map(|st| {
                    let mut v = json!({"effect": if st.deny {"deny"} else {"allow"}, "action": st.actions, "resource": st.resources});
                    if let Some(ip) = st.ip {
                        v["condition"] = json!({"ip_equal": {"qcs:ip": ip}});
                    }
                    v
                })
                .collect();
            json!({"version": "2.0", "statement": sts})
        })
        .collect()
}

fn cedar_policies(sc: &[Vec<Stmt>]) -> cedar_policy::PolicySet {
    let mut src = String::new();
    for p in sc {
        for st in p {
            let any = |field: &str, pats: &[String]| {
                pats.iter()
                    .map(|a| format!("context.{field} like \"{}\"", a.to_lowercase()))
                    .collect::<Vec<_>>()
                    .join(" || ")
            };
            let mut conds = vec![format!("({})", any("action", &st.actions))];
            if !st.resources.iter().any(|r| r == "*") {
                conds.push(format!("({})", any("resource", &st.resources)));
            }
            if let Some(ip) = st.ip {
                conds.push(format!("context.ip.isInRange(ip(\"{ip}\"))"));
            }
            let effect = if st.deny { "forbid" } else { "permit" };
            src.push_str(&format!(
                "{effect}(principal, action, resource) when {{ {} }};\n",
                conds.join(" && ")
            ));
        }
    }
    cedar_policy::PolicySet::from_str(&src).unwrap()
}

struct Case {
    name: &'static str,
    action: &'static str,
    resource: String,
    ip: &'static str,
    allowed: bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "allow",
            action: "im:SendMessage",
            resource: app("1400000001"),
            ip: "10.1.2.3",
            allowed: true,
        },
        Case {
            name: "deny",
            action: "im:SendMessage",
            resource: app("1400000002"),
            ip: "10.1.2.3",
            allowed: false,
        },
        Case {
            name: "explicit_deny",
            action: "im:DestroyGroup",
            resource: app("1400000001"),
            ip: "10.1.2.3",
            allowed: false,
        },
    ]
}

fn cedar_request(c: &Case) -> cedar_policy::Request {
    let ctx = Context::from_pairs([
        (
            "action".to_string(),
            RestrictedExpression::new_string(c.action.to_lowercase()),
        ),
        (
            "resource".to_string(),
            RestrictedExpression::new_string(c.resource.to_lowercase()),
        ),
        ("ip".to_string(), RestrictedExpression::new_ip(c.ip)),
    ])
    .unwrap();
    cedar_policy::Request::new(
        EntityUid::from_str(r#"User::"alice""#).unwrap(),
        EntityUid::from_str(r#"Action::"call""#).unwrap(),
        EntityUid::from_str(r#"App::"chat""#).unwrap(),
        ctx,
        None,
    )
    .unwrap()
}

fn bench_authorize(c: &mut Criterion) {
    let sc = scenario();
    assert_eq!(sc.iter().map(Vec::len).sum::<usize>(), 35);
    let docs = cam_documents(&sc);
    let set = PolicySet::new(docs.iter().enumerate().map(|(i, d)| {
        Arc::new(
            Policy::parse(&format!("Chat{i}"), &d.to_string())
                .unwrap()
                .policy,
        )
    }));
    let cedar = cedar_policies(&sc);
    let entities = Entities::empty();
    let authorizer = Authorizer::new();
    let principal = Principal {
        uin: USER,
        owner_uin: OWNER,
    };
    let mut group = c.benchmark_group("authorize");
    for case in cases() {
        let ctx = [("qcs:ip", case.ip)];
        let req = Request::new(case.action, &case.resource, principal, 0, &ctx).unwrap();
        let camd_allowed = set.evaluate(&req).is_allowed();
        let creq = cedar_request(&case);
        let cedar_allowed = authorizer
            .is_authorized(&creq, &cedar, &entities)
            .decision()
            == cedar_policy::Decision::Allow;
        assert_eq!(
            (camd_allowed, cedar_allowed),
            (case.allowed, case.allowed),
            "{}: engines disagree",
            case.name
        );

        group.bench_function(format!("camd_{}", case.name), |b| {
            b.iter(|| {
                let req = Request::new(
                    black_box(case.action),
                    black_box(&case.resource),
                    principal,
                    0,
                    black_box(&ctx),
                )
                .unwrap();
                black_box(set.evaluate(&req).is_allowed())
            })
        });
        if case.name == "allow" {
            group.bench_function("camd_request_only", |b| {
                b.iter(|| {
                    black_box(
                        Request::new(
                            black_box(case.action),
                            black_box(&case.resource),
                            principal,
                            0,
                            black_box(&ctx),
                        )
                        .unwrap()
                        .action_index,
                    )
                })
            });
            group.bench_function("camd_evaluate_only", |b| {
                b.iter(|| black_box(set.evaluate(black_box(&req)).is_allowed()))
            });
            // The same decision as the daemon records it: a per-thread tick
            // (one in 64 timed) and one relaxed increment.
            let metrics = Metrics::new();
            group.bench_function("camd_evaluate_recorded", |b| {
                b.iter(|| {
                    let started = Metrics::start_decision();
                    let allowed = set.evaluate(black_box(&req)).is_allowed();
                    let outcome = if allowed {
                        Outcome::Allow
                    } else {
                        Outcome::ImplicitDeny
                    };
                    metrics.decision(Way::ByUser, outcome, started);
                    black_box(allowed)
                })
            });
        }
        if case.name != "explicit_deny" {
            group.bench_function(format!("cedar_{}", case.name), |b| {
                b.iter(|| {
                    black_box(
                        authorizer
                            .is_authorized(black_box(&creq), &cedar, &entities)
                            .decision(),
                    )
                })
            });
        }
    }
    group.finish();
}

fn bench_compile(c: &mut Criterion) {
    let docs: Vec<(String, String)> = (0..1000)
        .map(|i| {
            let d = json!({"version": "2.0", "statement": [
                {"effect": "allow", "action": ["im:Get*", "im:Send*"], "resource": app(&format!("{}*", 1400000000 + i))},
                {"effect": "deny", "action": "im:DestroyGroup", "resource": "*", "condition": {"ip_not_equal": {"qcs:ip": "10.0.0.0/8"}}}]});
            (format!("Custom{i}"), d.to_string())
        })
        .collect();
    let mut group = c.benchmark_group("compile");
    group.sample_size(20);
    group.bench_function("policies_1000", |b| {
        b.iter(|| {
            let set = PolicySet::new(
                docs.iter()
                    .map(|(n, d)| Arc::new(Policy::parse(n, d).unwrap().policy)),
            );
            black_box(set.len())
        })
    });
    group.finish();
}

/// The same set and requests with and without a permissions boundary (a
/// policy allowing Chat on the apps in use, with one deny): what bounding
/// a user costs per decision.
fn bench_boundary(c: &mut Criterion) {
    let sc = scenario();
    let docs = cam_documents(&sc);
    let compile = |name: &str, doc: &str| Arc::new(Policy::parse(name, doc).unwrap().policy);
    let set = PolicySet::new(
        docs.iter()
            .enumerate()
            .map(|(i, d)| compile(&format!("Chat{i}"), &d.to_string())),
    );
    let boundary = compile(
        "Bound",
        &format!(
            r#"{{"version":"2.0","statement":[
            {{"effect":"allow","action":"im:*","resource":["{}","{}"]}},
            {{"effect":"deny","action":"im:DestroyGroup","resource":"*"}}]}}"#,
            app("1400000001"),
            app("1400000002")
        ),
    );
    let bounded = set
        .clone()
        .bounded(Some(Arc::new(PolicySet::new([boundary]).named("Bound"))));
    let principal = Principal {
        uin: USER,
        owner_uin: OWNER,
    };
    let mut group = c.benchmark_group("boundary");
    for case in cases() {
        let ctx = [("qcs:ip", case.ip)];
        let req = Request::new(case.action, &case.resource, principal, 0, &ctx).unwrap();
        assert_eq!(
            bounded.evaluate(&req).is_allowed(),
            case.allowed,
            "{}",
            case.name
        );
        group.bench_function(format!("unbounded_{}", case.name), |b| {
            b.iter(|| black_box(set.evaluate(black_box(&req)).is_allowed()))
        });
        group.bench_function(format!("bounded_{}", case.name), |b| {
            b.iter(|| black_box(bounded.evaluate(black_box(&req)).is_allowed()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_authorize, bench_compile, bench_boundary);

/// The median of one benchmark from criterion's estimates, in nanoseconds.
fn median_ns(group: &str, name: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let path = format!("{dir}/criterion/{group}/{name}/new/estimates.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    println!("\n| case | camd median | cedar median | cedar / camd |\n|---|---|---|---|");
    for case in ["allow", "deny", "explicit_deny"] {
        let camd = median_ns("authorize", &format!("camd_{case}"));
        let cedar = median_ns("authorize", &format!("cedar_{case}"));
        match (camd, cedar) {
            (Some(a), Some(b)) => println!("| {case} | {a:.0} ns | {b:.0} ns | {:.1}x |", b / a),
            (Some(a), None) => println!("| {case} | {a:.0} ns | - | - |"),
            _ => {}
        }
    }
    if let (Some(bare), Some(recorded)) = (
        median_ns("authorize", "camd_evaluate_only"),
        median_ns("authorize", "camd_evaluate_recorded"),
    ) {
        println!(
            "| recording a decision (metrics) | {bare:.1} ns bare | {recorded:.1} ns recorded | +{:.1} ns (target <= 20 ns) |",
            recorded - bare
        );
    }
    for case in ["allow", "deny", "explicit_deny"] {
        if let (Some(a), Some(b)) = (
            median_ns("boundary", &format!("unbounded_{case}")),
            median_ns("boundary", &format!("bounded_{case}")),
        ) {
            println!(
                "| {case} with a permissions boundary | {a:.0} ns without | {b:.0} ns with | {:.2}x (target <= 1.5x) |",
                b / a
            );
        }
    }
    if let Some(ns) = median_ns("compile", "policies_1000") {
        println!("| compile 1,000 policies | {:.2} ms | | |", ns / 1e6);
    }
}
