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
    let set = PolicySet::new([
        Arc::new(Policy::parse("P", doc).unwrap().policy),
        preset::preset("QcloudChatReadOnlyAccess").unwrap(),
    ]);
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
