//! What each command does: load files, call the crates, print results.

use std::path::Path;
use std::sync::Arc;

use eyre::{bail, eyre, Context, Result};
use lazychain_config::{
    init_home, Genesis, GenesisFile, InitOptions, LogFormat, NodeConfig, ValidatorKey,
};

use crate::cli::{
    BenchCommand, Cli, Command, ConfigCommand, ExecutorArgs, KeysCommand, LocalnetCommand,
    LogFormatArg, NodeArgs, TxCommand,
};

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(a) => {
            let report = init_home(
                &a.home,
                &InitOptions {
                    moniker: a.moniker,
                    chain_id: a.chain_id,
                    force: a.force,
                },
            )?;
            println!("config:  {}", report.config_path.display());
            println!("genesis: {}", report.genesis_path.display());
            println!("key:     {}", report.key_path.display());
            println!("address: 0x{}", hex::encode(report.address));
            Ok(())
        }
        Command::Keys(KeysCommand::Generate { output, force }) => {
            let key = ValidatorKey::generate();
            key.save(&output, force)?;
            println!("wrote {}", output.display());
            println!("public key: 0x{}", hex::encode(key.public_key()));
            println!("address:    0x{}", hex::encode(key.address()));
            Ok(())
        }
        Command::Keys(KeysCommand::Show { key }) => {
            let key = ValidatorKey::load(&key)?;
            println!("public key: 0x{}", hex::encode(key.public_key()));
            println!("address:    0x{}", hex::encode(key.address()));
            Ok(())
        }
        Command::Validator(mut args) => {
            if args.coupled {
                args.node
                    .set
                    .insert(0, "consensus.coupled_execution=true".into());
            }
            run_node(
                lazychain_data_chain_node::Role::Validator,
                args.node,
                args.fault,
            )
        }
        Command::Fullnode(args) => run_node(lazychain_data_chain_node::Role::FullNode, args, None),
        Command::Executor(args) => run_executor(args),
        Command::Localnet(LocalnetCommand::Up(a)) => {
            let exe = std::env::current_exe().wrap_err("cannot locate the lazychain binary")?;
            lazychain_localnet::up(&lazychain_localnet::UpOptions {
                exe,
                dir: a.dir,
                validators: a.validators,
                full_nodes: a.full_nodes,
                executors: a.executors,
                chain_id: a.chain_id,
                base_port: a.base_port,
                seed: a.seed,
                detach: a.detach,
                faulty_executors: a.faulty_executors,
                fault: a.fault.to_string(),
                netns: a.netns,
                coupled: a.coupled,
                challenge_window_ms: a.challenge_window_ms,
                min_corroboration: a.min_corroboration,
                gas_per_second: a.gas_per_second,
                empty_block_interval_ms: a.empty_block_interval_ms,
            })?;
            Ok(())
        }
        Command::Tx(TxCommand::Send {
            to,
            value,
            rpc,
            key,
            wait_secs,
        }) => {
            let options = crate::client::SendOptions {
                rpc: rpc.unwrap_or_else(|| {
                    crate::client::default_rpc(Path::new(".localnet"), "executor")
                }),
                to,
                value: crate::client::parse_value(&value)?,
                key,
                wait: std::time::Duration::from_secs(wait_secs),
            };
            client_runtime()?.block_on(crate::client::send(&options))
        }
        Command::Status { rpc } => {
            let url = rpc
                .unwrap_or_else(|| crate::client::default_rpc(Path::new(".localnet"), "executor"));
            print!(
                "{}",
                client_runtime()?.block_on(crate::client::status(&url))?
            );
            Ok(())
        }
        Command::Config(ConfigCommand::Show(args)) => {
            let (config, _genesis, key) = load_home(&args.home, &args)?;
            let text =
                toml::to_string_pretty(&config).wrap_err("cannot encode the configuration")?;
            println!(
                "# effective configuration of {} (file, environment and flags merged)",
                args.home.display()
            );
            println!(
                "# validator key: {} (address 0x{}, public key 0x{}; private key not shown)\n",
                args.home
                    .join(lazychain_config::VALIDATOR_KEY_FILE)
                    .display(),
                hex::encode(key.address()),
                hex::encode(key.public_key())
            );
            print!("{text}");
            Ok(())
        }
        Command::Localnet(LocalnetCommand::Partition { groups, dir }) => {
            let groups: Vec<Vec<String>> = groups
                .iter()
                .map(|g| g.split(',').map(|n| n.trim().to_owned()).collect())
                .collect();
            lazychain_localnet::partition(&dir, &groups)?;
            println!(
                "partitioned: {}",
                groups
                    .iter()
                    .map(|g| g.join(","))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
            Ok(())
        }
        Command::Localnet(LocalnetCommand::Heal { dir }) => {
            lazychain_localnet::heal(&dir)?;
            println!("healed: every node reaches every other again");
            Ok(())
        }
        Command::Localnet(LocalnetCommand::Logs { node, lines, dir }) => {
            println!("{}", lazychain_localnet::log_tail(&dir, &node, lines)?);
            Ok(())
        }
        Command::Localnet(LocalnetCommand::Kill { node, dir }) => {
            let pid = lazychain_localnet::kill_node(&dir, &node)?;
            println!("killed {node} (pid {pid}) with SIGKILL");
            Ok(())
        }
        Command::Localnet(LocalnetCommand::Restart { node, dir }) => {
            let exe = std::env::current_exe().wrap_err("cannot locate the lazychain binary")?;
            let pid = lazychain_localnet::restart_node(&dir, &node, &exe)?;
            println!("restarted {node} (pid {pid})");
            Ok(())
        }
        Command::Localnet(LocalnetCommand::Status { dir }) => {
            print!("{}", lazychain_localnet::status(&dir)?);
            Ok(())
        }
        Command::Bench(BenchCommand::All { quick, json }) => {
            let exe = std::env::current_exe().wrap_err("cannot locate the lazychain binary")?;
            if cfg!(debug_assertions) {
                eprintln!("warning: this is a debug build; benchmark with `cargo run --release -- bench ...`");
            }
            let report = lazychain_bench::all::run(&lazychain_bench::all::AllOptions {
                exe,
                quick,
                json: json.clone(),
            })?;
            print!("{}", report.table());
            println!("\nresults written to {}", json.display());
            Ok(())
        }
        Command::Bench(BenchCommand::Coupled { quick }) => {
            let exe = std::env::current_exe().wrap_err("cannot locate the lazychain binary")?;
            if cfg!(debug_assertions) {
                eprintln!("warning: this is a debug build; benchmark with `cargo run --release -- bench ...`");
            }
            let report =
                lazychain_bench::coupled::run(&lazychain_bench::coupled::CoupledOptions {
                    exe,
                    quick,
                })?;
            print!("{}", report.table());
            Ok(())
        }
        Command::Bench(BenchCommand::DataChain {
            validators,
            quick,
            keep,
        }) => {
            let exe = std::env::current_exe().wrap_err("cannot locate the lazychain binary")?;
            if cfg!(debug_assertions) {
                eprintln!("warning: this is a debug build; benchmark with `cargo run --release -- bench ...`");
            }
            eprintln!(
                "starting {validators} validators and signing the load; this takes a while..."
            );
            let report = lazychain_bench::data_chain::run(&lazychain_bench::data_chain::Options {
                exe,
                validators,
                quick,
                keep,
            })?;
            print!("{}", report.table());
            Ok(())
        }
        Command::Bench(BenchCommand::Exec {
            quick,
            accounts,
            seed,
        }) => {
            if cfg!(debug_assertions) {
                eprintln!("warning: this is a debug build; benchmark with `cargo run --release -- bench ...`");
            }
            let report = lazychain_bench::exec::run(&lazychain_bench::exec::Options {
                quick,
                accounts,
                seed,
            })?;
            print!("{}", report.table());
            Ok(())
        }
        Command::Bench(BenchCommand::Fraud {
            quick,
            accounts,
            seed,
            no_network,
        }) => {
            if cfg!(debug_assertions) {
                eprintln!("warning: this is a debug build; benchmark with `cargo run --release -- bench ...`");
            }
            let report = lazychain_bench::fraud::run(&lazychain_bench::fraud::Options {
                quick,
                accounts,
                seed,
            })?;
            print!("{}", report.table());
            if !no_network {
                eprintln!("starting local networks with a faulty executor...");
                let exe = std::env::current_exe().wrap_err("cannot locate the lazychain binary")?;
                let disputes =
                    lazychain_bench::fraud_net::run(&lazychain_bench::fraud_net::NetOptions {
                        exe: exe.clone(),
                        runs: if quick { 1 } else { 3 },
                    })?;
                println!();
                print!("{}", lazychain_bench::fraud_net::table(&disputes));
                eprintln!("starting a local network with a racing liar...");
                let race = lazychain_bench::fraud_net::run_race(&exe)?;
                println!();
                print!("{}", lazychain_bench::fraud_net::race_table(&race));
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Soak {
            minutes,
            rate,
            keep,
            dir,
        }) => {
            let exe = std::env::current_exe().wrap_err("cannot locate the lazychain binary")?;
            if cfg!(debug_assertions) {
                eprintln!("warning: this is a debug build; benchmark with `cargo run --release -- bench ...`");
            }
            if !(rate >= 0.0 && rate.is_finite()) {
                bail!("--rate must be a non-negative number of transactions per second");
            }
            let report = lazychain_bench::soak::run(&lazychain_bench::soak::SoakOptions {
                exe,
                minutes,
                rate,
                keep,
                dir,
            })?;
            println!();
            print!("{}", report.summary());
            if !report.violations.is_empty() {
                bail!(
                    "soak failed: {} violation(s); logs in {}",
                    report.violations.len(),
                    report.dir.display()
                );
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Proofs { cases, seed, json }) => {
            if cfg!(debug_assertions) {
                eprintln!("warning: this is a debug build; benchmark with `cargo run --release -- bench ...`");
            }
            let seed = seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0)
                    ^ u64::from(std::process::id()).rotate_left(32)
            });
            eprintln!("proof fuzzer: {cases} cases, seed {seed} (replay with --seed {seed} --cases {cases})");
            let report =
                lazychain_bench::proofs::run(&lazychain_bench::proofs::Options { cases, seed });
            print!("{}", lazychain_bench::proofs::table(&report));
            if let Some(path) = &json {
                let text = serde_json::to_string_pretty(&lazychain_bench::proofs::json(&report))?;
                std::fs::write(path, text + "\n")
                    .wrap_err_with(|| format!("writing {}", path.display()))?;
                println!("\nresults written to {}", path.display());
            }
            if !report.failures.is_empty() {
                bail!(
                    "{} of {} cases failed (seed {seed})",
                    report.failures.len(),
                    report.cases
                );
            }
            Ok(())
        }
        Command::Localnet(LocalnetCommand::Down { dir }) => {
            let stopped = lazychain_localnet::down(&dir)?;
            println!("stopped {stopped} node(s)");
            Ok(())
        }
    }
}

fn overrides(args: &NodeArgs) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for kv in &args.set {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| eyre!("--set {kv:?}: expected KEY=VALUE"))?;
        out.push((k.trim().to_string(), v.to_string()));
    }
    if let Some(a) = &args.rpc_addr {
        out.push(("rpc.listen_addr".into(), a.clone()));
    }
    if let Some(a) = &args.metrics_addr {
        out.push(("metrics.listen_addr".into(), a.clone()));
    }
    if let Some(a) = &args.p2p_addr {
        out.push(("consensus.listen_addr".into(), a.clone()));
    }
    if let Some(f) = args.log_format {
        let f = match f {
            LogFormatArg::Text => "text",
            LogFormatArg::Json => "json",
        };
        out.push(("log.format".into(), f.into()));
    }
    Ok(out)
}

fn init_logging(config: &NodeConfig) -> Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(f) if !f.trim().is_empty() => {
            EnvFilter::try_new(&f).map_err(|e| eyre!("RUST_LOG={f:?}: invalid log filter: {e}"))?
        }
        _ => EnvFilter::try_new(&config.log.filter).map_err(|e| {
            eyre!(
                "config key log.filter {:?}: invalid log filter: {e}",
                config.log.filter
            )
        })?,
    };
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    Ok(())
}

fn load_home(home: &Path, args: &NodeArgs) -> Result<(NodeConfig, Genesis, ValidatorKey)> {
    if !home.is_dir() {
        bail!(
            "{}: node home does not exist (run `lazychain init --home {}` first)",
            home.display(),
            home.display()
        );
    }
    let config = NodeConfig::load(
        &home.join(lazychain_config::CONFIG_FILE),
        std::env::vars(),
        &overrides(args)?,
    )?;
    let genesis = Genesis::load(&home.join(lazychain_config::GENESIS_FILE))?;
    let key_path = home.join(lazychain_config::VALIDATOR_KEY_FILE);
    let key = ValidatorKey::load(&key_path)?;
    if let Some(w) = lazychain_config::key_file_permission_warning(&key_path) {
        eprintln!("warning: {w}");
    }
    Ok((config, genesis, key))
}

fn run_node(
    role: lazychain_data_chain_node::Role,
    args: NodeArgs,
    fault: Option<lazychain_fraud_node::ValidatorFault>,
) -> Result<()> {
    let (config, genesis, key) = load_home(&args.home, &args)?;
    init_logging(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")?;
    // State consensus runs in every node; a fault is set before the node serves RPC (claims
    // for its height come later).
    let state = Arc::new(lazychain_fraud_node::StateNode::new(&genesis)?);
    if let Some(fault) = fault {
        state.set_fault(fault);
    }
    // The benchmark-only coupled mode: execution on the consensus path, wired in here so that
    // the validator crate executes nothing.
    let coupled = (config.consensus.coupled_execution
        && role == lazychain_data_chain_node::Role::Validator)
        .then(|| lazychain_bench::coupled_execution::for_validator(&genesis, &config.node.moniker))
        .transpose()?
        .map(|c| -> Arc<dyn lazychain_data_chain_node::coupled::CoupledExecution> { c });
    let add_ons = lazychain_data_chain_node::NodeAddOns {
        coupled,
        ..lazychain_data_chain_node::NodeAddOns::new(state)
    };
    runtime.block_on(async {
        lazychain_data_chain_node::run_node_with(
            role,
            &args.home,
            config,
            genesis,
            key,
            add_ons,
            shutdown_signal(),
        )
        .await
    })?;
    Ok(())
}

fn run_executor(args: ExecutorArgs) -> Result<()> {
    let (config, genesis, key) = load_home(&args.node.home, &args.node)?;
    init_logging(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")?;
    let options = lazychain_exec_node::ExecutorOptions {
        durable_every_blocks: args.durable_every_blocks,
        undo_window_blocks: config.executor.state_history_blocks,
        fault: args.fault,
    };
    runtime.block_on(async {
        lazychain_exec_node::run_executor(
            &args.node.home,
            config,
            genesis,
            key,
            options,
            shutdown_signal(),
        )
        .await
    })?;
    Ok(())
}

/// Resolves on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn client_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")
}
