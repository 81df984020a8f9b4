//! `lazychain`: run a validator, initialise a node home, manage keys, launch a local network.
//! The binary only parses flags, wires the crates together, prints errors and exits 1.

mod cli;
mod client;
mod commands;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    if let Err(e) = commands::run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
