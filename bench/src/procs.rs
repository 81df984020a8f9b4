//! The node processes of a generated local network, for the benchmarks that run one.

use std::path::Path;
use std::process::Child;
use std::time::Duration;

use lazychain_localnet::{spawn_node, stop_pid, wait_ready, Manifest};

use crate::data_chain::BenchError;

/// Every node of a manifest as a running process; all are stopped (SIGTERM, then SIGKILL after
/// 10 s) when this is dropped, whether the benchmark finished or failed.
pub struct Running {
    children: Vec<Child>,
}

impl Running {
    /// Starts every node of `manifest` with `exe` and waits until all are ready.
    pub fn start(exe: &Path, manifest: &Manifest) -> Result<Self, BenchError> {
        let mut running = Running {
            children: Vec::with_capacity(manifest.nodes.len()),
        };
        for node in &manifest.nodes {
            running.children.push(spawn_node(exe, node, false)?);
        }
        wait_ready(manifest, Duration::from_secs(120))?;
        Ok(running)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for child in &mut self.children {
            stop_pid(child.id(), Duration::from_secs(10));
            let _ = child.wait();
        }
    }
}
