//! The crate layout of docs/architecture.md §1 as a test: each workspace crate's direct
//! dependencies (`cargo metadata`) against the "must not" column. A crate that gains a
//! dependency it must not have fails here, naming the rule; so does a new crate nobody wrote
//! rules for, or one the architecture table does not list.
//!
//! An edge that breaks the rules for a while is listed in [`KNOWN_VIOLATIONS`] with the reason;
//! each must still exist (the test fails once one is gone, so that the list only shrinks).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Crates that do I/O (network, disk, async runtime).
const IO: &[&str] = &[
    "tokio",
    "redb",
    "jsonrpsee",
    "libp2p",
    "hyper",
    "hyper-util",
    "reqwest",
];
/// The processes: nothing below them may link them.
const NODES: &[&str] = &[
    "lazychain-data-chain-node",
    "lazychain-fraud-node",
    "lazychain-exec-node",
    "lazychain-localnet",
    "lazychain-bench",
    "lazychain",
];
const ENGINE: &[&str] = &[
    "arc-malachitebft-engine",
    "arc-malachitebft-app",
    "arc-malachitebft-app-channel",
    "lazychain-data-chain-consensus",
];
const EXECUTION: &[&str] = &["revm", "lazychain-exec-stf", "lazychain-exec-state-tree"];

/// The shared test helpers: a dev-dependency only.
const TEST_UTILS: &str = "lazychain-test-utils";

/// (crate, what it must not depend on, the architecture's words).
fn rules() -> Vec<(&'static str, Vec<&'static str>, &'static str)> {
    let all = |groups: &[&[&'static str]]| groups.concat();
    vec![
        (
            "lazychain-chainspec",
            all(&[IO, NODES, ENGINE, EXECUTION, &["lazychain-config", "toml"]]),
            "do I/O, hold keys, or know nodes, consensus or execution",
        ),
        (
            "lazychain-data-chain-types",
            all(&[IO, NODES, ENGINE, EXECUTION, &["lazychain-fraud"]]),
            "read state, execute, do I/O",
        ),
        (
            "lazychain-config",
            all(&[IO, NODES, ENGINE]),
            "network, consensus, node logic",
        ),
        (
            "lazychain-data-chain-consensus",
            all(&[
                &["redb", "jsonrpsee"],
                NODES,
                EXECUTION,
                &["lazychain-fraud"],
            ]),
            "own state, storage or RPC",
        ),
        (
            "lazychain-data-chain-node",
            all(&[
                EXECUTION,
                &[
                    "lazychain-fraud",
                    "lazychain-fraud-node",
                    "lazychain-fraud-harness",
                    "lazychain-exec-node",
                    "lazychain-localnet",
                    "lazychain-bench",
                ],
            ]),
            "execute transactions",
        ),
        (
            "lazychain-fraud-node",
            all(&[
                EXECUTION,
                ENGINE,
                &[
                    "lazychain-fraud-harness",
                    "lazychain-exec-node",
                    "lazychain-localnet",
                    "lazychain-bench",
                    "lazychain",
                ],
            ]),
            "execute except through fraud's verifier, link the engine, an executor, localnet or bench",
        ),
        (
            "lazychain-localnet",
            all(&[
                ENGINE,
                EXECUTION,
                &[
                    "lazychain-data-chain-node",
                    "lazychain-exec-node",
                    "lazychain-fraud",
                    "lazychain-bench",
                ],
            ]),
            "link node code (it talks JSON-RPC like any client)",
        ),
        (
            "lazychain-exec-state-tree",
            all(&[IO, NODES, ENGINE, &["revm", "lazychain-exec-stf"]]),
            "I/O",
        ),
        (
            "lazychain-exec-stf",
            all(&[IO, NODES, ENGINE, &["lazychain-fraud"]]),
            "I/O, clocks, databases",
        ),
        (
            "lazychain-fraud",
            all(&[IO, NODES, ENGINE, &["lazychain-config"]]),
            "I/O, clocks",
        ),
        (
            "lazychain-fraud-harness",
            all(&[IO, NODES, ENGINE]),
            "be linked by a node (and do I/O)",
        ),
        (
            "lazychain-exec-node",
            all(&[
                &["revm", "lazychain-data-chain-consensus"],
                &[
                    "lazychain-localnet",
                    "lazychain-bench",
                    "lazychain-fraud-harness",
                ],
            ]),
            "vote, or compute state other than through stf",
        ),
        (
            "lazychain-bench",
            vec!["lazychain"],
            "be used by a node (it may use every library)",
        ),
        ("lazychain", vec![], "contain logic"),
        (
            TEST_UTILS,
            all(&[
                NODES,
                EXECUTION,
                &[
                    "lazychain-data-chain-types",
                    "lazychain-config",
                    "lazychain-data-chain-consensus",
                    "lazychain-fraud",
                    "lazychain-fraud-harness",
                ],
            ]),
            "depend on a workspace crate (any crate's tests use it)",
        ),
    ]
}

/// Edges that break the rules today, each with why it is still there.
const KNOWN_VIOLATIONS: &[(&str, &str, &str)] = &[];

/// Each workspace crate's normal (not dev, not build) dependencies.
fn workspace_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata is JSON");
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str().map(str::to_owned))
                .collect();
            (p["name"].as_str().expect("name").to_owned(), deps)
        })
        .collect()
}

#[test]
fn every_crate_keeps_to_its_layer() {
    let deps = workspace_dependencies();
    let rules = rules();
    let ruled: BTreeSet<&str> = rules.iter().map(|(c, _, _)| *c).collect();
    let crates: BTreeSet<&str> = deps.keys().map(String::as_str).collect();
    assert_eq!(
        crates, ruled,
        "every workspace crate has rules here, and every rule a crate"
    );

    let known: BTreeSet<(&str, &str)> = KNOWN_VIOLATIONS.iter().map(|(a, b, _)| (*a, *b)).collect();
    let mut broken = Vec::new();
    for (krate, forbidden, words) in &rules {
        for dep in &deps[*krate] {
            if forbidden.contains(&dep.as_str()) && !known.contains(&(*krate, dep.as_str())) {
                broken.push(format!(
                    "{krate} depends on {dep}; it must not: {words} (docs/architecture.md §1)"
                ));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));

    for (krate, dep, why) in KNOWN_VIOLATIONS {
        assert!(
            deps[*krate].contains(*dep),
            "{krate} no longer depends on {dep} ({why}): remove it from KNOWN_VIOLATIONS"
        );
    }
}

#[test]
fn the_test_helpers_are_only_a_dev_dependency() {
    let deps = workspace_dependencies();
    let with_helpers: Vec<&String> = deps
        .iter()
        .filter(|(_, deps)| deps.contains(TEST_UTILS))
        .map(|(krate, _)| krate)
        .collect();
    assert!(
        with_helpers.is_empty(),
        "{TEST_UTILS} is a normal dependency of {with_helpers:?}; it must be a dev-dependency only"
    );
    // Any crate's tests use the helpers, so they must not link a workspace crate: a crate
    // under test would be linked twice (as itself and through the helpers).
    let workspace_crates: Vec<&String> = deps[TEST_UTILS]
        .iter()
        .filter(|dep| deps.contains_key(*dep))
        .collect();
    assert!(
        workspace_crates.is_empty(),
        "{TEST_UTILS} depends on workspace crates {workspace_crates:?}; it must link none"
    );
}

#[test]
fn the_architecture_table_lists_every_crate() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"),
    )
    .expect("docs/architecture.md");
    for krate in workspace_dependencies().keys() {
        assert!(
            text.contains(&format!("`{krate}`")),
            "docs/architecture.md does not name crate `{krate}`"
        );
    }
}

/// The rows of docs/architecture.md §2's grid: (package, path shown, kind), in dependency
/// order (a crate only uses crates above it).
const GRID_ROWS: &[(&str, &str, &str)] = &[
    ("lazychain-chainspec", "chainspec", "pure"),
    ("lazychain-data-chain-types", "data-chain/types", "pure"),
    ("lazychain-config", "config", "files"),
    ("lazychain-exec-state-tree", "exec-layer/state-tree", "pure"),
    (
        "lazychain-data-chain-consensus",
        "data-chain/consensus",
        "engine types",
    ),
    ("lazychain-exec-stf", "exec-layer/stf", "pure"),
    ("lazychain-fraud", "fraud", "pure"),
    ("lazychain-fraud-harness", "fraud/harness", "pure (tests)"),
    ("lazychain-data-chain-node", "data-chain/node", "node"),
    ("lazychain-fraud-node", "fraud/node", "node service"),
    ("lazychain-exec-node", "exec-layer/node", "node"),
    ("lazychain-localnet", "localnet", "processes"),
    ("lazychain-bench", "bench", "tool"),
    ("lazychain", "lazychain (src/)", "binary"),
    ("lazychain-test-utils", "test-utils", "tests only"),
];

/// The grid as `cargo metadata` says it is: an `x` where the row's crate depends directly on
/// the column's.
fn dependency_grid(deps: &BTreeMap<String, BTreeSet<String>>) -> String {
    let mut lines = vec![format!(
        "{:>41} {}",
        "uses ->",
        (0..GRID_ROWS.len() - 1)
            .map(|i| format!("{i:>3}"))
            .collect::<String>()
    )];
    for (i, (name, path, kind)) in GRID_ROWS.iter().enumerate() {
        let marks: String = GRID_ROWS[..i]
            .iter()
            .map(|(dep, _, _)| {
                if deps[*name].contains(*dep) {
                    "  x"
                } else {
                    "  ."
                }
            })
            .collect();
        lines.push(
            format!("{i:>3}  {path:<22} {kind:<14}{marks}")
                .trim_end()
                .to_owned(),
        );
    }
    lines.join("\n")
}

#[test]
fn the_architecture_grid_is_the_real_dependency_graph() {
    let deps = workspace_dependencies();
    let unlisted: Vec<&String> = deps
        .keys()
        .filter(|k| !GRID_ROWS.iter().any(|(name, _, _)| name == k))
        .collect();
    assert!(unlisted.is_empty(), "add {unlisted:?} to GRID_ROWS");
    let expected = dependency_grid(&deps);
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"),
    )
    .expect("docs/architecture.md");
    assert!(
        text.contains(&format!("```\n{expected}\n```")),
        "docs/architecture.md §2's grid differs from the crates' dependencies; it should be:\n{expected}"
    );
}
