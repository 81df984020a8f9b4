//! Network namespaces for a local network, so that partitions can be made on purpose.
//!
//! With `localnet up --netns` every node runs in its own namespace (`ip netns`), with one end
//! of a veth pair inside and the other on a bridge in the host namespace; node `i` gets
//! `10.231.S.(i + 2)/24`, the host `10.231.S.1` on the bridge (S is derived from the network
//! folder, so that two networks do not collide). The host reaches every node (RPC, metrics),
//! and nodes reach each other through the bridge. A partition adds, inside each node's
//! namespace, a blackhole route to every node of the other groups, so what it sends there is
//! dropped; healing flushes those routes. It needs root and iproute2 (`ip`); without them
//! `up --netns` refuses with a clear error and plain loopback networks work as before.

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

/// The namespaces of one local network, as recorded in `localnet.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct NamespaceNet {
    pub bridge: String,
    pub host_ip: Ipv4Addr,
    pub nodes: Vec<NamespaceNode>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct NamespaceNode {
    pub netns: String,
    /// The interface inside the namespace.
    pub dev: String,
    pub ip: Ipv4Addr,
}

/// Why the network namespaces could not be made, checked or partitioned.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// A command could not be started (e.g. `ip` is not installed).
    #[error("{command}: {error}")]
    Spawn {
        /// The command line.
        command: String,
        #[source]
        error: std::io::Error,
    },
    /// A command ran and failed.
    #[error("`{command}` failed: {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// What it printed on stderr, trimmed.
        stderr: String,
    },
    /// This process does not run as root.
    #[error("network namespaces need root (this process runs as uid {uid}); run without --netns for a loopback network")]
    NotRoot {
        /// The process's real uid, or `?` when `/proc/self/status` does not tell.
        uid: String,
    },
    /// `ip netns list` does not work.
    #[error("network namespaces need iproute2 (`ip netns`): {error}; run without --netns")]
    NoIproute2 {
        #[source]
        error: Box<NetnsError>,
    },
    /// More nodes than addresses in the /24.
    #[error("{count} nodes do not fit one /24")]
    TooManyNodes { count: usize },
    /// A partition names a node the network does not have.
    #[error("no node {index}")]
    NoSuchNode { index: usize },
}

fn run(args: &[&str]) -> Result<(), NetnsError> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|error| NetnsError::Spawn {
            command: args.join(" "),
            error,
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(NetnsError::Failed {
            command: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// Whether this machine lets us make namespaces: root, and `ip netns` answering.
pub fn check_available() -> Result<(), NetnsError> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("?");
    if uid != "0" {
        return Err(NetnsError::NotRoot {
            uid: uid.to_owned(),
        });
    }
    run(&["ip", "netns", "list"]).map_err(|error| NetnsError::NoIproute2 {
        error: Box::new(error),
    })
}

/// Creates `count` namespaces on a new bridge. `tag` (4 hex digits) and `subnet` (the third
/// octet) come from the network folder. On failure, whatever was made is removed again.
pub fn create(tag: &str, subnet: u8, count: usize) -> Result<NamespaceNet, NetnsError> {
    if count > 250 {
        return Err(NetnsError::TooManyNodes { count });
    }
    let bridge = format!("lcbr{tag}");
    let host_ip = Ipv4Addr::new(10, 231, subnet, 1);
    let mut net = NamespaceNet {
        bridge: bridge.clone(),
        host_ip,
        nodes: Vec::new(),
    };
    let result = (|| {
        run(&["ip", "link", "add", &bridge, "type", "bridge"])?;
        run(&[
            "ip",
            "addr",
            "add",
            &format!("{host_ip}/24"),
            "dev",
            &bridge,
        ])?;
        run(&["ip", "link", "set", &bridge, "up"])?;
        for i in 0..count {
            let ns = format!("lc{tag}n{i}");
            let host_end = format!("lc{tag}h{i}");
            let dev = format!("lc{tag}v{i}");
            let ip = Ipv4Addr::new(10, 231, subnet, i as u8 + 2);
            run(&["ip", "netns", "add", &ns])?;
            net.nodes.push(NamespaceNode {
                netns: ns.clone(),
                dev: dev.clone(),
                ip,
            });
            run(&[
                "ip", "link", "add", &host_end, "type", "veth", "peer", "name", &dev,
            ])?;
            run(&["ip", "link", "set", &dev, "netns", &ns])?;
            run(&["ip", "link", "set", &host_end, "master", &bridge, "up"])?;
            run(&[
                "ip",
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                &dev,
            ])?;
            run(&["ip", "-n", &ns, "link", "set", &dev, "up"])?;
            run(&["ip", "-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(net),
        Err(e) => {
            destroy(&net);
            Err(e)
        }
    }
}

/// Removes the namespaces (with their veth pairs) and the bridge; errors are ignored, so that
/// it also cleans up after a half-made network.
pub fn destroy(net: &NamespaceNet) {
    for node in &net.nodes {
        let _ = run(&["ip", "netns", "del", &node.netns]);
    }
    let _ = run(&["ip", "link", "del", &net.bridge]);
}

/// Cuts the network into `groups` (indexes into `net.nodes`): in every member's namespace, a
/// blackhole route for each node of another group, so what it sends there is dropped. Nodes in
/// no group keep talking to everyone who talks to them. The host still reaches every node.
pub fn partition(net: &NamespaceNet, groups: &[Vec<usize>]) -> Result<(), NetnsError> {
    heal(net);
    for (g, group) in groups.iter().enumerate() {
        let others: Vec<Ipv4Addr> = groups
            .iter()
            .enumerate()
            .filter(|(h, _)| *h != g)
            .flat_map(|(_, members)| members.iter().filter_map(|m| net.nodes.get(*m)))
            .map(|n| n.ip)
            .collect();
        for &member in group {
            let node = net
                .nodes
                .get(member)
                .ok_or(NetnsError::NoSuchNode { index: member })?;
            for ip in &others {
                run(&[
                    "ip",
                    "-n",
                    &node.netns,
                    "route",
                    "add",
                    "blackhole",
                    &format!("{ip}/32"),
                ])?;
            }
        }
    }
    Ok(())
}

/// Removes every partition route.
pub fn heal(net: &NamespaceNet) {
    for node in &net.nodes {
        let _ = run(&[
            "ip",
            "-n",
            &node.netns,
            "route",
            "flush",
            "type",
            "blackhole",
        ]);
    }
}

/// Rewrites every `127.0.0.1:PORT` and `/ip4/127.0.0.1/tcp/PORT` in `text` to the address of
/// the node that owns `PORT` (`owner`); other text is unchanged.
pub fn rewrite_addresses(text: &str, owner: &dyn Fn(u16) -> Option<Ipv4Addr>) -> String {
    const LOOPBACK: &str = "127.0.0.1";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(LOOPBACK) {
        out.push_str(&rest[..at]);
        let after = &rest[at + LOOPBACK.len()..];
        let port_text = after
            .strip_prefix(':')
            .or_else(|| after.strip_prefix("/tcp/"))
            .map(|p| {
                p.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            });
        match port_text
            .and_then(|p| p.parse::<u16>().ok())
            .and_then(owner)
        {
            Some(ip) => out.push_str(&ip.to_string()),
            None => out.push_str(LOOPBACK),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_namespaces_are_explained() {
        assert_eq!(
            NetnsError::NotRoot { uid: "1000".into() }.to_string(),
            "network namespaces need root (this process runs as uid 1000); run without --netns for a loopback network"
        );
        let failed = NetnsError::Failed {
            command: "ip netns list".into(),
            stderr: "Object \"netns\" is unknown".into(),
        };
        assert_eq!(
            NetnsError::NoIproute2 {
                error: Box::new(failed)
            }
            .to_string(),
            "network namespaces need iproute2 (`ip netns`): `ip netns list` failed: Object \"netns\" is unknown; run without --netns"
        );
    }

    #[test]
    fn rewrites_the_owners_address_only() {
        let owner = |p: u16| match p {
            100..=103 => Some(Ipv4Addr::new(10, 231, 7, 2)),
            104..=107 => Some(Ipv4Addr::new(10, 231, 7, 3)),
            _ => None,
        };
        let text = "listen_addr = \"/ip4/127.0.0.1/tcp/100\"\npeers = [\"/ip4/127.0.0.1/tcp/105\"]\nrpc = \"127.0.0.1:102\"\nother = \"127.0.0.1:9\"\n";
        assert_eq!(
            rewrite_addresses(text, &owner),
            "listen_addr = \"/ip4/10.231.7.2/tcp/100\"\npeers = [\"/ip4/10.231.7.3/tcp/105\"]\nrpc = \"10.231.7.2:102\"\nother = \"127.0.0.1:9\"\n"
        );
    }
}
