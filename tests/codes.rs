//! The CAM error codes: docs/errors.md lists exactly the codes `camd::code::Code`
//! has, with the same "when", and no source file outside `src/code.rs`
//! spells a code out.

use camd::code::Code;

/// docs/errors.md as it must read.
fn expected_doc() -> String {
    let mut s = String::from(
        "# Error codes\n\n\
         Every error camd returns (an error reply on the socket, camctl's message,\n\
         which starts with the code, exit 2) carries one of these codes. They are\n\
         CAM's own codes, or Tencent Cloud API 3.0's common ones, so that users can\n\
         search for them. `src/code.rs` defines them; a test keeps this page equal\n\
         to it.\n\n\
         | code | when |\n|---|---|\n",
    );
    for c in Code::ALL {
        s.push_str(&format!("| `{}` | {} |\n", c.as_str(), c.when()));
    }
    s
}

#[test]
fn the_error_page_lists_exactly_the_codes() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/errors.md");
    let have = std::fs::read_to_string(path).unwrap_or_default();
    let want = expected_doc();
    if have != want {
        let out = std::env::temp_dir().join("camd-errors.md");
        std::fs::write(&out, &want).unwrap();
        panic!(
            "docs/errors.md differs from src/code.rs; the expected page is in {}",
            out.display()
        );
    }
}

/// The first words of every code camd has or Tencent Cloud uses.
fn categories() -> Vec<String> {
    let mut c: Vec<String> = Code::ALL
        .iter()
        .map(|c| c.as_str().split('.').next().unwrap().to_string())
        .collect();
    for more in [
        "FailedOperation",
        "InvalidAction",
        "InvalidParameterValue",
        "MissingParameter",
        "UnknownParameter",
        "UnauthorizedOperation",
        "UnsupportedOperation",
        "ResourceInUse",
        "ResourceUnavailable",
        "NoSuchVersion",
        "UnsupportedProtocol",
    ] {
        c.push(more.to_string());
    }
    c.sort();
    c.dedup();
    c
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_code_is_spelled_out_outside_the_code_module() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let cats = categories();
    let mut found = Vec::new();
    for f in files.iter().filter(|f| !f.ends_with("src/code.rs")) {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            for (at, _) in line.match_indices('"') {
                let rest = &line[at + 1..];
                if let Some(cat) = cats.iter().find(|c| rest.starts_with(c.as_str())) {
                    let after = rest[cat.len()..].chars().next();
                    if matches!(after, Some('.' | ':' | '"')) {
                        found.push(format!(
                            "{}:{}: {}",
                            f.strip_prefix(root).unwrap().display(),
                            i + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "codes spelled out (use camd::code::Code):\n{}",
        found.join("\n")
    );
}
