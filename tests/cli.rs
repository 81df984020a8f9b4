//! The `lazychain` binary as an operator meets it: `init` writes a usable home and refuses to
//! overwrite one, `keys` round-trips an address, and `validator` exits 1 at once, naming the
//! file, key or variable at fault, when its home is broken.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A validator that fails to load its home must exit well within this.
const EXIT_DEADLINE: Duration = Duration::from_secs(30);

const HOME_FILES: [&str; 3] = ["config.toml", "genesis.json", "validator_key.json"];

/// The binary with an environment free of this project's variables, so that a developer's
/// `LAZYCHAIN_HOME` or `LAZYCHAIN__*` cannot change what a test sees.
fn lazychain() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lazychain"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("LAZYCHAIN") {
            cmd.env_remove(&name);
        }
    }
    cmd.env_remove("RUST_LOG");
    cmd
}

fn run(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .expect("the lazychain binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success and returns stdout.
fn success(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// The value of the first `address:` line.
fn address_line(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("address:"))
        .map(|a| a.trim().to_string())
        .unwrap_or_else(|| panic!("no address line in:\n{text}"))
}

fn init(home: &Path, force: bool) -> Output {
    let mut cmd = lazychain();
    cmd.arg("init").arg("--home").arg(home);
    if force {
        cmd.arg("--force");
    }
    run(cmd)
}

fn read_home(home: &Path) -> Vec<Vec<u8>> {
    HOME_FILES
        .iter()
        .map(|f| fs::read(home.join(f)).unwrap_or_else(|e| panic!("read {f}: {e}")))
        .collect()
}

fn key_mode(path: &Path) -> u32 {
    fs::metadata(path)
        .expect("key file metadata")
        .permissions()
        .mode()
        & 0o777
}

fn is_hex_address(a: &str) -> bool {
    a.len() == 42 && a.starts_with("0x") && a[2..].chars().all(|c| c.is_ascii_hexdigit())
}

/// A fresh home written by `lazychain init`.
fn initialised_home(dir: &tempfile::TempDir) -> PathBuf {
    let home = dir.path().join("node");
    success(&init(&home, false), "init");
    home
}

/// Runs `lazychain validator --home HOME` with extra environment variables and waits for it to
/// exit; a validator still running after [`EXIT_DEADLINE`] is killed and the test fails.
fn validator(home: &Path, envs: &[(&str, &str)]) -> Output {
    let logs = tempfile::tempdir().expect("tempdir");
    let out_path = logs.path().join("stdout");
    let err_path = logs.path().join("stderr");
    let mut cmd = lazychain();
    cmd.arg("validator")
        .arg("--home")
        .arg(home)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        // Files rather than pipes: nothing can block on a full pipe while we poll.
        .stdout(fs::File::create(&out_path).expect("stdout file"))
        .stderr(fs::File::create(&err_path).expect("stderr file"));
    let mut child = cmd.spawn().expect("spawn lazychain validator");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the validator") {
            break status;
        }
        if start.elapsed() > EXIT_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "lazychain validator --home {} still running after {EXIT_DEADLINE:?}; stderr:\n{}",
                home.display(),
                fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: fs::read(&out_path).expect("read stdout"),
        stderr: fs::read(&err_path).expect("read stderr"),
    }
}

/// Asserts exit code 1 and that stderr mentions every one of `needles`; returns stderr.
fn fails_naming(out: &Output, needles: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit code 1\nstdout:\n{}\nstderr:\n{err}",
        stdout(out)
    );
    for needle in needles {
        assert!(
            err.contains(needle),
            "stderr does not name {needle:?}:\n{err}"
        );
    }
    err
}

#[test]
fn help_lists_the_commands() {
    let mut cmd = lazychain();
    cmd.arg("--help");
    let text = success(&run(cmd), "--help");
    let commands: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for c in ["init", "keys", "validator", "localnet"] {
        assert!(commands.contains(&c), "{c} missing from --help:\n{text}");
    }
}

#[test]
fn init_writes_a_home_and_refuses_to_overwrite_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("node");
    let out = init(&home, false);
    let text = success(&out, "init");
    for f in HOME_FILES {
        assert!(home.join(f).is_file(), "{f} not written");
    }
    let key_path = home.join("validator_key.json");
    assert_eq!(key_mode(&key_path), 0o600, "the key file is private");
    let address = address_line(&text);
    assert!(is_hex_address(&address), "{address}");

    // The printed address is the key's, and the genesis names that key.
    let mut show = lazychain();
    show.args(["keys", "show", "--key"]).arg(&key_path);
    let shown = success(&run(show), "keys show");
    assert_eq!(address_line(&shown), address);
    let public_key = shown
        .lines()
        .find_map(|l| l.strip_prefix("public key:"))
        .map(str::trim)
        .expect("public key line");
    let genesis: serde_json::Value =
        serde_json::from_slice(&fs::read(home.join("genesis.json")).expect("genesis"))
            .expect("genesis is JSON");
    assert_eq!(genesis["validators"][0]["public_key"], public_key);

    // A second init refuses, names the file and changes nothing.
    let before = read_home(&home);
    let again = init(&home, false);
    let err = fails_naming(&again, &["already exists"]);
    assert!(
        HOME_FILES.iter().any(|f| err.contains(f)),
        "no existing file named:\n{err}"
    );
    assert!(stdout(&again).is_empty(), "{}", stdout(&again));
    assert_eq!(read_home(&home), before, "a refused init changed the home");

    // With --force it replaces the home: a new key, still private.
    let forced = success(&init(&home, true), "init --force");
    let new_address = address_line(&forced);
    assert_ne!(new_address, address, "--force generates a new key");
    assert_ne!(read_home(&home)[2], before[2]);
    assert_eq!(key_mode(&key_path), 0o600);
}

#[test]
fn init_refuses_when_any_one_file_exists_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = initialised_home(&dir);
    fs::remove_file(home.join("config.toml")).expect("remove config");
    fs::remove_file(home.join("validator_key.json")).expect("remove key");
    let genesis = fs::read(home.join("genesis.json")).expect("genesis");

    fails_naming(&init(&home, false), &["genesis.json", "already exists"]);
    assert!(
        !home.join("config.toml").exists(),
        "config.toml was written"
    );
    assert!(
        !home.join("validator_key.json").exists(),
        "validator_key.json was written"
    );
    assert_eq!(
        fs::read(home.join("genesis.json")).expect("genesis"),
        genesis
    );
}

#[test]
fn generated_key_shows_the_same_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("key.json");
    let mut generate = lazychain();
    generate.args(["keys", "generate", "--output"]).arg(&key);
    let generated = success(&run(generate), "keys generate");
    assert_eq!(key_mode(&key), 0o600);
    let address = address_line(&generated);
    assert!(is_hex_address(&address), "{address}");

    let mut show = lazychain();
    show.args(["keys", "show", "--key"]).arg(&key);
    assert_eq!(address_line(&success(&run(show), "keys show")), address);

    // Generating over it without --force is refused and keeps the key.
    let bytes = fs::read(&key).expect("key");
    let mut again = lazychain();
    again.args(["keys", "generate", "--output"]).arg(&key);
    fails_naming(&run(again), &["key.json", "already exists"]);
    assert_eq!(fs::read(&key).expect("key"), bytes);
}

#[test]
fn validator_rejects_a_corrupt_key_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = initialised_home(&dir);
    fs::write(home.join("validator_key.json"), b"{ this is not json").expect("corrupt key");
    fails_naming(&validator(&home, &[]), &["validator_key.json"]);
}

#[test]
fn validator_rejects_an_unknown_config_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = initialised_home(&dir);
    let path = home.join("config.toml");
    let text = fs::read_to_string(&path).expect("config");
    assert!(text.contains("\n[rpc]\n"), "config.toml has an [rpc] table");
    fs::write(
        &path,
        text.replacen("\n[rpc]\n", "\n[rpc]\nbogus_key = 1\n", 1),
    )
    .expect("write config");
    fails_naming(
        &validator(&home, &[]),
        &["config.toml", "unknown key", "rpc.bogus_key"],
    );
}

#[test]
fn validator_rejects_a_bad_environment_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = initialised_home(&dir);
    let err = fails_naming(
        &validator(&home, &[("LAZYCHAIN__RPC__LISTEN_ADDR", "notanaddress")]),
        &["LAZYCHAIN__RPC__LISTEN_ADDR"],
    );
    assert!(
        err.contains("notanaddress"),
        "the bad value is shown:\n{err}"
    );
}

#[test]
fn validator_rejects_a_duplicated_genesis_validator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = initialised_home(&dir);
    let path = home.join("genesis.json");
    let mut genesis: serde_json::Value =
        serde_json::from_slice(&fs::read(&path).expect("genesis")).expect("genesis is JSON");
    let validators = genesis["validators"]
        .as_array_mut()
        .expect("validators is an array");
    let first = validators[0].clone();
    validators.push(first);
    fs::write(
        &path,
        serde_json::to_vec_pretty(&genesis).expect("encode genesis"),
    )
    .expect("write genesis");
    let err = fails_naming(&validator(&home, &[]), &["genesis.json"]);
    assert!(err.contains("duplicate"), "{err}");
}

#[test]
fn validator_without_a_home_hints_at_init() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("missing");
    fails_naming(&validator(&home, &[]), &["lazychain init"]);
    assert!(!home.exists(), "a failed start must not create the home");
}
