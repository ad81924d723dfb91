//! The decision path does not allocate: a counting allocator watches
//! `Request::new` and `PolicySet::evaluate`.

use std::sync::Arc;

use camd::policy::{Policy, PolicySet, Principal, Request, preset};

#[test]
fn deciding_allocates_nothing() {
    let doc = r#"{"version":"2.0","statement":[
        {"effect":"allow","action":["im:Send*","im:*Group*"],"resource":"qcs::im::uin/1:sdkappid/${uin}*",
         "condition":{"ip_equal":{"qcs:ip":["10.0.0.0/8","2001:db8::/32"]},"date_less_than":{"qcs:current_time":"2030-01-01T00:00:00Z"},
                      "for_all_value:string_equal_ignore_case":{"qcs:tag/team":["A","b"]},"string_equal":{"qcs:uin":"${uin}"}}},
        {"effect":"deny","action":"im:DestroyGroup","resource":"*","condition":{"numeric_greater_than":{"im:n":5}}},
        {"effect":"allow","action":"cam:*","resource":"*","condition":{"bool_equal":{"qcs:mfa":true},"null_equal":{"im:x":true}}}]}"#;
    let boundary = r#"{"version":"2.0","statement":[{"effect":"allow","action":["im:*","cam:*"],"resource":"*"},
        {"effect":"deny","action":"im:RecallMessage","resource":"*","condition":{"ip_equal":{"qcs:ip":"10.9.0.0/16"}}}]}"#;
    // Bounded by a permissions boundary: both sets are scanned.
    let set = PolicySet::new([
        Arc::new(Policy::parse("P", doc).unwrap().policy),
        preset::preset("QcloudChatReadOnlyAccess").unwrap(),
    ])
    .bounded(Some(Arc::new(PolicySet::new([Arc::new(
        Policy::parse("B", boundary).unwrap().policy,
    )]))));
    let ctx = [
        ("qcs:ip", "10.1.2.3"),
        ("qcs:tag/team", "a"),
        ("qcs:tag/team", "B"),
        ("im:n", "x"),
        ("qcs:mfa", "true"),
    ];
    let principal = Principal {
        uin: 2,
        owner_uin: 1,
    };
    let requests = [
        ("im:SendMessage", "qcs::im::uin/1:sdkappid/21"),
        ("im:DestroyGroup", "qcs::im::uin/1:sdkappid/2"),
        ("im:GetGroupInfo", "*"),
        ("cam:AddUser", "*"),
        ("im:NotCatalogued", "qcs::im::uin/1:sdkappid/2"),
        ("IM:SENDMESSAGE", "qcs::im:ap-guangzhou:uin/1:sdkappid/2:x"),
        ("im:RecallMessage", "*"),
    ];
    // Warm up lazily built tables (the catalogue index, presets).
    for (a, r) in requests {
        let req = Request::new(a, r, principal, 1_800_000_000_000, &ctx).unwrap();
        std::hint::black_box(set.evaluate(&req));
    }
    let mut allowed = 0;
    let info = allocation_counter::measure(|| {
        for (a, r) in requests {
            let req = Request::new(a, r, principal, 1_800_000_000_000, &ctx).unwrap();
            allowed += usize::from(set.evaluate(&req).is_allowed());
        }
    });
    assert_eq!(info.count_total, 0, "the decision path allocated");
    // The counter works: building a policy set does allocate.
    let info = allocation_counter::measure(|| {
        std::hint::black_box(PolicySet::new([
            preset::preset("AdministratorAccess").unwrap()
        ]));
    });
    assert!(info.count_total > 0);
    assert_eq!(
        allowed, 4,
        "sanity: the requests exercise allows and denies"
    );
}

/// Through the published snapshot too: by user name and by uin, the lookup
/// (sharded maps), the request and the evaluation allocate nothing.
#[test]
fn deciding_by_user_through_the_snapshot_allocates_nothing() {
    use arc_swap::ArcSwap;
    use camd::authz::{Ask, Authorizer, Name, Snapshot, UserEntry, Who};
    use camd::credentials::{KeyHasher, Keyring, Pepper};

    let mut snap = Snapshot {
        owner_uin: 1,
        ..Snapshot::default()
    };
    let set = Arc::new(PolicySet::new([
        preset::preset("QcloudChatReadOnlyAccess").unwrap()
    ]));
    for uin in 2..1002u64 {
        let e = UserEntry {
            uin,
            name: Name::new(&format!("user{uin}")),
            policies: set.clone(),
        };
        snap.names.insert(e.name.clone(), e.clone());
        snap.users.insert(uin, e);
    }
    let authz = Authorizer::new(
        Arc::new(ArcSwap::from_pointee(snap)),
        KeyHasher::new(&Pepper::from_bytes([1; 32])),
        Arc::new(Keyring::from_bytes([2; 32], None).unwrap()),
    );
    let ctx = [("qcs:ip", "10.1.2.3")];
    let ask = |action| Ask {
        action,
        resource: "qcs::im::uin/1:sdkappid/1400000001",
        context: &ctx,
        now_ms: 1_800_000_000_000,
    };
    let mut allowed = 0;
    let mut run = || {
        for (who, action) in [
            (Who::Name("user500"), "im:GetGroupInfo"),
            (Who::Uin(7), "im:SendMessage"),
            (Who::Name("user999"), "im:DescribeGroup"),
        ] {
            allowed += authz.by_user(who, ask(action), |r| {
                usize::from(r.is_ok_and(|(_, d)| d.is_allowed()))
            });
        }
    };
    run();
    let info = allocation_counter::measure(&mut run);
    assert_eq!(
        info.count_total, 0,
        "deciding by user through the snapshot allocated"
    );
    assert_eq!(allowed, 4, "sanity: two of three allowed, twice");
}
