//! Publishing after a commit or a reload costs what changed, not the
//! population: at 100,000 users one write's publication allocates a small
//! fraction of what publishing everyone does (bytes counted, not time),
//! while a reader keeps the previous snapshot; a reload rebuilds only the
//! users of the policies it changed.

use std::sync::Arc;

use arc_swap::ArcSwap;
use camd::authz::{Publisher, Snapshot, UserEntry};
use camd::catalog::Catalog;
use camd::store::{AddUser, Changes, Ctx, Limits, Publish, State};

const OWNER: u64 = 100_000_000_001;
const USERS: usize = 100_000;

/// `USERS` users with Chat's read-only preset; the first `ten` also have `Ten`.
fn population(ctx: &Ctx<'_>, ten: usize) -> (State, Changes) {
    let mut state = State::default();
    let mut everyone = Changes::default();
    for i in 0..USERS {
        let mut policies = vec!["QcloudChatReadOnlyAccess".to_string()];
        if i < ten {
            policies.push("Ten".into());
        }
        let user = AddUser {
            name: format!("u{i}"),
            policies,
            ..AddUser::default()
        };
        state.add_user(user, ctx, &mut everyone).unwrap();
    }
    (state, everyone)
}

fn known(n: &str) -> Option<String> {
    match n {
        "Ten" | "Later" => Some(n.to_string()),
        _ => camd::policy::preset::canonical_name(n).map(str::to_string),
    }
}

fn limits() -> Limits {
    Limits {
        users: USERS + 1,
        ..Limits::default()
    }
}

/// The rules' context: no clock, `known` policies.
fn ctx(limits: &Limits) -> Ctx<'_> {
    Ctx {
        limits,
        now_ms: 0,
        owner_uin: OWNER,
        known_policy: &known,
    }
}

fn catalog(ten: &str) -> Arc<Catalog> {
    let doc = format!(
        r#"{{"version":"2.0","statement":[{{"effect":"allow","action":"{ten}","resource":"*"}}]}}"#
    );
    Arc::new(Catalog::with_custom([Arc::new(
        camd::policy::Policy::parse("Ten", &doc).unwrap().policy,
    )]))
}

#[test]
fn one_write_at_100000_users_publishes_without_copying_the_population() {
    let limits = limits();
    let ctx = ctx(&limits);
    let (mut state, everyone) = population(&ctx, 0);
    let shared = Arc::new(ArcSwap::from_pointee(Snapshot::default()));
    let mut publisher = Publisher::new(shared.clone(), Arc::new(Catalog::presets_only()), OWNER);
    let full = allocation_counter::measure(|| publisher.publish(&state, &everyone, true));
    // Deciding holds the published snapshot while the next one is made.
    let before = shared.load_full();
    assert_eq!(before.users.len(), USERS);

    let mut one = Changes::default();
    state
        .attach_user_policy("u5", "QcloudAVCFullAccess", &ctx, &mut one)
        .unwrap();
    let write = allocation_counter::measure(|| publisher.publish(&state, &one, false));
    let after = shared.load_full();
    eprintln!(
        "publishing {USERS} users: {} bytes; one write: {} bytes in {} allocations",
        full.bytes_total, write.bytes_total, write.count_total
    );
    assert!(
        write.bytes_total * 200 < full.bytes_total,
        "one write allocated {} bytes, more than 1/200 of publishing everyone ({})",
        write.bytes_total,
        full.bytes_total
    );
    // The change is there, the rest is shared, the reader's copy untouched.
    let uin = state.uin_named("u5").unwrap();
    assert_eq!(after.users.len(), USERS);
    assert_eq!(after.generation, before.generation + 1);
    assert!(!Arc::ptr_eq(
        &after.users.get(&uin).unwrap().policies,
        &before.users.get(&uin).unwrap().policies
    ));
    let other = state.uin_named("u6").unwrap();
    assert!(same_entry(
        after.users.get(&other).unwrap(),
        before.users.get(&other).unwrap()
    ));
}

/// A reload that changes one policy held by 10 of 100,000 users rebuilds
/// those 10 and shares every other user's entry with the snapshot before.
#[test]
fn a_reload_rebuilds_only_the_users_of_the_changed_policy() {
    let limits = limits();
    let ctx = ctx(&limits);
    let (state, everyone) = population(&ctx, 10);
    let shared = Arc::new(ArcSwap::from_pointee(Snapshot::default()));
    let mut publisher = Publisher::new(shared.clone(), catalog("im:SendMessage"), OWNER);
    publisher.publish(&state, &everyone, true);
    let before = shared.load_full();

    let reload = allocation_counter::measure(|| {
        publisher.set_catalog(catalog("im:DestroyGroup"));
        publisher.republish(&state);
    });
    let after = shared.load_full();
    let rebuilt: Vec<u64> = state
        .users()
        .keys()
        .filter(|u| !same_entry(after.users.get(*u).unwrap(), before.users.get(*u).unwrap()))
        .copied()
        .collect();
    assert_eq!(rebuilt.len(), 10, "rebuilt {} users", rebuilt.len());
    assert!(
        rebuilt
            .iter()
            .all(|u| state.users()[u].policies.iter().any(|a| a.policy == "Ten"))
    );
    assert!(
        reload.bytes_total < 1 << 20,
        "a reload for 10 users allocated {} bytes",
        reload.bytes_total
    );
    // The 10 decide by the new document, the rest as before.
    let decide = |snap: &Snapshot, user: &str, action: &str| {
        let e = snap.names.get(user).unwrap();
        let p = camd::policy::Principal {
            uin: e.uin,
            owner_uin: OWNER,
        };
        let r = camd::policy::Request::new(action, "*", p, 0, &[]).unwrap();
        e.policies.evaluate(&r).is_allowed()
    };
    assert!(decide(&before, "u3", "im:SendMessage") && !decide(&after, "u3", "im:SendMessage"));
    assert!(decide(&after, "u3", "im:DestroyGroup") && !decide(&after, "u11", "im:DestroyGroup"));

    // A policy that only dangling attachments named: its users pick it up.
    let mut state = state;
    let mut ch = Changes::default();
    state
        .attach_user_policy("u20", "Later", &ctx, &mut ch)
        .unwrap();
    publisher.publish(&state, &ch, false);
    assert!(!decide(&shared.load_full(), "u20", "im:DeleteGroupMember"));
    let doc = r#"{"version":"2.0","statement":[{"effect":"allow","action":"im:DeleteGroupMember","resource":"*"}]}"#;
    let later = Arc::new(camd::policy::Policy::parse("Later", doc).unwrap().policy);
    let mut with_later: Vec<_> = catalog("im:DestroyGroup").custom().cloned().collect();
    with_later.push(later);
    publisher.set_catalog(Arc::new(Catalog::with_custom(with_later)));
    publisher.republish(&state);
    assert!(decide(&shared.load_full(), "u20", "im:DeleteGroupMember"));
}

/// Whether two snapshots hold the same entry, not a rebuilt one: a rebuilt
/// entry has a set of its own.
fn same_entry(a: &UserEntry, b: &UserEntry) -> bool {
    a.uin == b.uin && Arc::ptr_eq(&a.policies, &b.policies)
}
