//! The action catalogue's page: docs/actions.md lists exactly the actions
//! of `camd::policy::actions::ACTIONS`, each with its access, level and
//! where it comes from.

use camd::policy::actions::{ACTIONS, Access, Level, Origin};

/// docs/actions.md as it must read.
fn expected_doc() -> String {
    let mut s = String::from(
        "# Actions\n\n\
         Every action a policy may name. A literal action that is not here is an\n\
         error (`InvalidParameter.ActionNotExist`); a wildcard matches these.\n\
         `src/policy/actions.rs` defines them; a test keeps this page equal to it.\n\n\
         - **Tencent's**: a CAM API action camd serves, or a Chat action of Tencent's\n  \
         CAM pages for Chat (docs 598/69962, 598/57125, 269/47105, 629/96636).\n\
         - **not served**: a CAM API action camd does not serve (roles, MFA,\n  \
         identity providers, ...); a policy may name it, and it grants nothing here.\n\
         - **camd's own**: not Tencent's; the Chat server operations a co-located Chat\n  \
         process asks about, named after Chat's REST API, and camd's\n  \
         `cam:ReloadPolicies`. A policy naming them works on camd only;\n  \
         `camctl policy lint` notes each.\n\n\
         An operation-level action is granted only by a statement whose resource is `*`.\n\n\
         | action | access | level | origin |\n|---|---|---|---|\n",
    );
    for a in ACTIONS {
        let access = match a.access {
            Access::Read => "read",
            Access::Write => "write",
        };
        let level = match a.level {
            Level::Resource => "resource",
            Level::Operation => "operation",
        };
        let origin = match a.origin {
            Origin::Tencent => "Tencent's",
            Origin::NotServed => "not served",
            Origin::Camd => "camd's own",
        };
        s.push_str(&format!(
            "| `{}:{}` | {access} | {level} | {origin} |\n",
            a.service, a.name
        ));
    }
    s
}

#[test]
fn the_action_page_lists_exactly_the_catalogue() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/actions.md");
    let want = expected_doc();
    if std::env::var_os("CAMD_BLESS").is_some() {
        std::fs::write(path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    if have != want {
        let out = std::env::temp_dir().join("camd-actions.md");
        std::fs::write(&out, &want).unwrap();
        panic!(
            "docs/actions.md differs from src/policy/actions.rs; the expected page is in {} (CAMD_BLESS=1 rewrites it)",
            out.display()
        );
    }
}
