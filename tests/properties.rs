//! Property tests: the compiled evaluator against the reference on random
//! policy sets and requests, the algebraic properties of evaluation, and a
//! parser that never panics.

use std::sync::Arc;

use camd::policy::{Policy, PolicySet, Principal, Request};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::reference::{self, RefDecision, Req};

const ACTIONS: &[&str] = &[
    "*",
    "im:*",
    "im:Send*",
    "im:*Message",
    "im:SendMessage",
    "im:GetGroupInfo",
    "im:Get*",
    "im:*Group*",
    "cam:*",
    "*:*",
    "name/im:SendMessage",
    "im:DescribeBizTypes",
    "IM:sendmessage",
    "im:S*e*e",
    "cam:AddUser",
];
const RESOURCES: &[&str] = &[
    "*",
    "qcs::im::uin/1:sdkappid/*",
    "qcs::im::uin/1:sdkappid/14*",
    "qcs::im::uin/1:sdkappid/1400000001",
    "qcs:::::sdkappid/*",
    "qcs::im:ap-guangzhou::sdkappid/*",
    "qcs::im::uin/1:user/${uin}",
    "qcs::im::uin/*:sdkappid/*1",
    "qcs::im::uin/1:user/${owner_uin}/*",
    // Literals shorter than the engine's eight-byte prefilter word.
    "qcs::im::uin/1:user/2",
    "qcs::im::uin/1:u*",
];
fn conditions() -> Vec<Value> {
    vec![
        json!({"ip_equal": {"qcs:ip": "10.0.0.0/8"}}),
        json!({"ip_not_equal": {"qcs:ip": ["10.0.0.0/8", "192.168.0.0/16"]}}),
        json!({"ip_equal_if_exist": {"qcs:ip": "192.168.0.0/16"}}),
        json!({"string_equal": {"im:c": ["a", "b"]}}),
        json!({"string_not_equal_if_exist": {"im:c": "a"}}),
        json!({"string_equal_ignore_case": {"im:c": "A"}}),
        json!({"string_not_equal": {"im:c": "b"}}),
        json!({"for_any_value:string_equal": {"im:t": ["a", "b"]}}),
        json!({"for_all_value:string_equal": {"im:t": ["a", "b"]}}),
        json!({"for_any_value:string_not_equal": {"im:t": "a"}}),
        json!({"for_all_value:string_not_equal_if_exist": {"im:t": "b"}}),
        json!({"numeric_less_than": {"im:n": 10}}),
        json!({"numeric_greater_than_equal": {"im:n": "15"}}),
        json!({"numeric_not_equal": {"im:n": 5}}),
        json!({"date_greater_than": {"qcs:current_time": "2026-01-01T00:00:00Z"}}),
        json!({"date_less_than_equal": {"qcs:current_time": "2026-06-01T00:00:00Z"}}),
        json!({"bool_equal": {"qcs:mfa": true}}),
        json!({"null_equal": {"im:c": true}}),
        json!({"null_equal": {"qcs:mfa": false}}),
        json!({"string_equal": {"qcs:uin": "${uin}"}}),
        json!({"string_equal": {"qcs:uin": "2", "im:c": "a"}}),
        json!({"binary_equal": {"im:c": "YQ=="}}),
        json!({"ip_equal": {"qcs:ip": "10.0.0.0/8"}, "string_equal": {"im:c": "a"}}),
    ]
}

const REQ_ACTIONS: &[&str] = &[
    "im:SendMessage",
    "im:sendmessage",
    "im:GetGroupInfo",
    "im:SendGroupMessage",
    "im:DescribeBizTypes",
    "im:CreateGroup",
    "cam:AddUser",
    "im:RecallMessage",
    "name/im:SendMessage",
    "im:SetNoSpeaking",
];
const REQ_RESOURCES: &[&str] = &[
    "*",
    "qcs::im::uin/1:sdkappid/1400000001",
    "qcs::im::uin/1:sdkappid/1500000001",
    "qcs::im:ap-guangzhou:uin/1:sdkappid/1400000002",
    "qcs::im:ap-beijing:uin/9:sdkappid/1400000001",
    "qcs::im::uin/1:user/2",
    "qcs::im::uin/1:user/3",
    "qcs::im::uin/1:user/1/x",
    "qcs::cos::uin/1:sdkappid/1400000001",
];
const CONTEXT: &[(&str, &[&str])] = &[
    (
        "qcs:ip",
        &[
            "10.1.1.1",
            "192.168.1.1",
            "8.8.8.8",
            "garbage",
            "::ffff:10.0.0.1",
        ],
    ),
    ("im:c", &["a", "b", "z", "YQ=="]),
    ("im:t", &["a", "b", "c"]),
    ("im:n", &["5", "15", "x", "9.5"]),
    ("qcs:mfa", &["true", "false", "maybe"]),
    ("qcs:uin", &["2"]),
];

fn statement() -> impl Strategy<Value = Value> {
    let n_cond = conditions().len();
    (
        prop::bool::weighted(0.3),
        prop::collection::vec(0..ACTIONS.len(), 1..3),
        prop::collection::vec(0..RESOURCES.len(), 1..3),
        prop::option::weighted(0.4, 0..n_cond),
    )
        .prop_map(|(deny, a, r, c)| {
            let mut st = json!({
                "effect": if deny { "deny" } else { "allow" },
                "action": a.iter().map(|i| ACTIONS[*i]).collect::<Vec<_>>(),
                "resource": r.iter().map(|i| RESOURCES[*i]).collect::<Vec<_>>(),
            });
            if let Some(c) = c {
                st["condition"] = conditions()[c].clone();
            }
            st
        })
}

fn document() -> impl Strategy<Value = Value> {
    prop::collection::vec(statement(), 1..5)
        .prop_map(|sts| json!({"version": "2.0", "statement": sts}))
}

fn request() -> impl Strategy<Value = Req> {
    (
        0..REQ_ACTIONS.len(),
        0..REQ_RESOURCES.len(),
        prop::sample::select(vec![1u64, 2, 3]),
        prop::bool::ANY,
        prop::collection::vec((0..CONTEXT.len(), 0..8usize), 0..4),
    )
        .prop_map(|(a, r, uin, late, ctx)| Req {
            action: REQ_ACTIONS[a].to_string(),
            resource: REQ_RESOURCES[r].to_string(),
            uin,
            owner_uin: 1,
            now_ms: if late {
                1_790_000_000_000
            } else {
                1_760_000_000_000
            },
            context: ctx
                .into_iter()
                .map(|(k, v)| {
                    let (key, vals) = CONTEXT[k];
                    (key.to_string(), vals[v % vals.len()].to_string())
                })
                .collect(),
        })
}

fn compile(docs: &[Value]) -> PolicySet {
    PolicySet::new(docs.iter().enumerate().map(|(i, d)| {
        Arc::new(
            Policy::parse(&format!("P{i}"), &d.to_string())
                .unwrap()
                .policy,
        )
    }))
}

/// The compiled decision, classified like the reference's.
fn decide(set: &PolicySet, r: &Req) -> RefDecision {
    let pairs: Vec<(&str, &str)> = r
        .context
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let req = Request::new(
        &r.action,
        &r.resource,
        Principal {
            uin: r.uin,
            owner_uin: r.owner_uin,
        },
        r.now_ms,
        &pairs,
    )
    .unwrap();
    let d = set.evaluate(&req);
    match d.reason_code() {
        "Root" | "Allow" => RefDecision::Allow,
        "ExplicitDeny" | "FailClosedDeny" | "BoundaryDeny" | "BoundaryFailClosedDeny" => {
            RefDecision::ExplicitDeny
        }
        _ => RefDecision::ImplicitDeny,
    }
}

/// Requests per random policy set: 10,000 sets x 10 = 100,000 pairs (about
/// half of the sets with a permissions boundary).
const REQUESTS_PER_SET: usize = 10;

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn compiled_matches_reference(
        docs in prop::collection::vec(document(), 0..4),
        boundary in prop::option::of(document()),
        reqs in prop::collection::vec(request(), REQUESTS_PER_SET),
    ) {
        let set = compile(&docs).bounded(boundary.as_ref().map(|b| Arc::new(compile(std::slice::from_ref(b)))));
        for r in &reqs {
            prop_assert_eq!(decide(&set, r), reference::evaluate_bounded(&docs, boundary.as_ref(), r), "request {:?}\npolicies {}\nboundary {:?}", r, serde_json::to_string(&docs).unwrap(), boundary);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_policies_means_deny(r in request()) {
        let set = PolicySet::default();
        let got = decide(&set, &r);
        if r.uin == r.owner_uin {
            prop_assert_eq!(got, RefDecision::Allow);
        } else {
            prop_assert_eq!(got, RefDecision::ImplicitDeny);
        }
    }

    #[test]
    fn adding_a_deny_never_allows(
        docs in prop::collection::vec(document(), 0..4),
        extra in statement(),
        reqs in prop::collection::vec(request(), REQUESTS_PER_SET),
    ) {
        let mut extra = extra;
        extra["effect"] = json!("deny");
        let mut more = docs.clone();
        more.push(json!({"version": "2.0", "statement": [extra]}));
        let (before, after) = (compile(&docs), compile(&more));
        for r in &reqs {
            if decide(&before, r) != RefDecision::Allow {
                prop_assert_ne!(decide(&after, r), RefDecision::Allow);
            }
        }
    }

    #[test]
    fn order_changes_nothing(
        docs in prop::collection::vec(document(), 1..4),
        reqs in prop::collection::vec(request(), REQUESTS_PER_SET),
    ) {
        let mut reordered: Vec<Value> = docs.iter().rev().cloned().collect();
        for d in &mut reordered {
            d["statement"].as_array_mut().unwrap().reverse();
        }
        let (a, b) = (compile(&docs), compile(&reordered));
        for r in &reqs {
            prop_assert_eq!(decide(&a, r), decide(&b, r));
        }
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "2.0",
            "allow",
            "deny",
            "*",
            "im:*",
            "qcs::im::uin/1:sdkappid/*",
            "10.0.0.0/8",
            "${uin}",
            "${x"
        ])
        .prop_map(|s| Value::String(s.to_string())),
        ".*".prop_map(Value::String),
    ];
    let keys = prop::sample::select(vec![
        "version",
        "statement",
        "effect",
        "action",
        "resource",
        "condition",
        "principal",
        "ip_equal",
        "qcs:ip",
        "for_any_value:string_equal",
        "null_equal",
        "numeric_less_than_if_exist",
        "x",
    ]);
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Policy::parse("P", &String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn parser_never_panics_on_json(v in arbitrary_json()) {
        let _ = Policy::parse("P", &v.to_string());
    }

    #[test]
    fn parser_never_panics_on_mutated_documents(doc in document(), cuts in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut bytes = doc.to_string().into_bytes();
        for (at, b) in cuts {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let _ = Policy::parse("P", &String::from_utf8_lossy(&bytes));
    }
}
