//! Publishing after a commit costs what the commit changed, not the
//! population: at 100,000 users one write's publication allocates a small
//! fraction of what publishing everyone does (bytes counted, not time),
//! while a reader keeps the previous snapshot.

use std::sync::Arc;

use arc_swap::ArcSwap;
use camd::authz::{Publisher, Snapshot};
use camd::catalog::Catalog;
use camd::store::{AddUser, Changes, Ctx, FIRST_UIN, Limits, Publish, State};

const OWNER: u64 = 100_000_000_001;
const USERS: usize = 100_000;

#[test]
fn one_write_at_100000_users_publishes_without_copying_the_population() {
    let limits = Limits {
        users: USERS + 1,
        ..Limits::default()
    };
    let known = |n: &str| camd::policy::preset::canonical_name(n).map(str::to_string);
    let ctx = Ctx {
        limits: &limits,
        now_ms: 0,
        owner_uin: OWNER,
        known_policy: &known,
    };
    let mut state = State {
        next_uin: FIRST_UIN,
        ..State::default()
    };
    let mut everyone = Changes::default();
    for i in 0..USERS {
        let user = AddUser {
            name: format!("u{i}"),
            policies: vec!["QcloudChatReadOnlyAccess".into()],
            ..AddUser::default()
        };
        state.add_user(user, &ctx, &mut everyone).unwrap();
    }
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
    let uin = state.names["u5"];
    assert_eq!(after.users.len(), USERS);
    assert_eq!(after.generation, before.generation + 1);
    assert!(!Arc::ptr_eq(
        &after.users.get(&uin).unwrap().policies,
        &before.users.get(&uin).unwrap().policies
    ));
    let other = state.names["u6"];
    assert!(Arc::ptr_eq(
        after.users.get(&other).unwrap(),
        before.users.get(&other).unwrap()
    ));
}
