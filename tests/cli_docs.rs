//! `docs/cli/` holds the `--help` text of every command, generated from the binary. This test
//! fails when the binary and the docs drift apart; regenerate with
//! `LAZYCHAIN_UPDATE_CLI_DOCS=1 cargo nextest run --test cli_docs`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn help(path: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lazychain"))
        .args(path)
        .arg("--help")
        .env("COLUMNS", "100")
        // clap prints the current value of a flag's environment variable: keep the pages
        // independent of the caller's environment.
        .env_remove("LAZYCHAIN_HOME")
        .env_remove("LAZYCHAIN_TX_KEY")
        .output()
        .expect("runs lazychain");
    assert!(out.status.success(), "{path:?} --help failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Subcommand names listed under "Commands:" in a help text (without `help`).
fn subcommands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("Commands:") {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with("  ") {
                break;
            }
            // A command line is indented by two spaces; wrapped descriptions by more.
            if line.starts_with("   ") {
                continue;
            }
            if let Some(name) = line.split_whitespace().next() {
                if name != "help" {
                    out.push(name.to_owned());
                }
            }
        }
    }
    out
}

fn collect(path: Vec<String>, pages: &mut Vec<(Vec<String>, String)>) {
    let text = help(&path);
    for sub in subcommands(&text) {
        let mut next = path.clone();
        next.push(sub);
        collect(next, pages);
    }
    pages.push((path, text));
}

fn page_file(dir: &Path, path: &[String]) -> PathBuf {
    let name = if path.is_empty() {
        "lazychain".to_owned()
    } else {
        format!("lazychain-{}", path.join("-"))
    };
    dir.join(format!("{name}.md"))
}

fn render(path: &[String], text: &str) -> String {
    let command = std::iter::once("lazychain".to_owned())
        .chain(path.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "# `{command}`\n\n<!-- generated from `{command} --help`; do not edit (see tests/cli_docs.rs) -->\n\n```text\n{}\n```\n",
        text.trim_end()
    )
}

#[test]
fn docs_cli_matches_the_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli");
    let mut pages = Vec::new();
    collect(Vec::new(), &mut pages);
    assert!(pages.len() > 10, "found only {} commands", pages.len());
    let update = std::env::var_os("LAZYCHAIN_UPDATE_CLI_DOCS").is_some();
    if update {
        std::fs::create_dir_all(&dir).expect("docs/cli");
    }
    let mut stale = Vec::new();
    let mut expected_files = Vec::new();
    for (path, text) in &pages {
        let file = page_file(&dir, path);
        let want = render(path, text);
        if update {
            std::fs::write(&file, &want).expect("write page");
        } else if std::fs::read_to_string(&file).ok().as_deref() != Some(want.as_str()) {
            stale.push(file.display().to_string());
        }
        expected_files.push(file);
    }
    // No page for a command that no longer exists.
    for entry in std::fs::read_dir(&dir).expect("docs/cli exists").flatten() {
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "md")
            && p.file_name().is_some_and(|n| n != "README.md")
            && !expected_files.contains(&p)
        {
            if update {
                std::fs::remove_file(&p).expect("remove stale page");
            } else {
                stale.push(format!("{} (no such command)", p.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/cli drifted from the binary: {stale:?}\nregenerate with LAZYCHAIN_UPDATE_CLI_DOCS=1 cargo nextest run --test cli_docs"
    );
}
