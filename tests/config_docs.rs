//! The configuration key table of docs/operator.md §3.2 is generated from the one description
//! of each key (`KEYS` in config/src/config.rs, via `lazychain_config::key_reference`). This
//! test fails when the table and the code drift apart; regenerate with
//! `LAZYCHAIN_UPDATE_CONFIG_DOCS=1 cargo nextest run --test config_docs`.

use std::path::Path;

const BEGIN: &str = "<!-- config-keys:begin";
const END: &str = "<!-- config-keys:end -->";

fn table() -> String {
    let mut out = format!(
        "{BEGIN} (generated from config/src/config.rs by tests/config_docs.rs; do not edit) -->\n\n\
         | key | default | meaning |\n| --- | --- | --- |\n"
    );
    for key in lazychain_config::key_reference() {
        // A `|` would end the cell.
        let description = key.description.replace('|', "\\|");
        out.push_str(&format!(
            "| `{}` | `{}` | {description} |\n",
            key.key, key.default
        ));
    }
    out.push('\n');
    out.push_str(END);
    out
}

#[test]
fn operator_md_lists_every_config_key() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operator.md");
    let text = std::fs::read_to_string(&path).expect("docs/operator.md");
    let start = text
        .find(BEGIN)
        .expect("docs/operator.md has the config-keys:begin marker");
    let end = text[start..]
        .find(END)
        .map(|at| start + at + END.len())
        .expect("docs/operator.md has the config-keys:end marker after begin");
    let want = format!("{}{}{}", &text[..start], table(), &text[end..]);
    if std::env::var_os("LAZYCHAIN_UPDATE_CONFIG_DOCS").is_some() {
        std::fs::write(&path, &want).expect("write docs/operator.md");
    } else {
        assert!(
            text == want,
            "docs/operator.md's config key table drifted from config/src/config.rs\nregenerate with LAZYCHAIN_UPDATE_CONFIG_DOCS=1 cargo nextest run --test config_docs"
        );
    }
}
