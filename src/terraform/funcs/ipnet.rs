//! IP network functions: `cidrhost`, `cidrnetmask`, `cidrsubnet`, `cidrsubnets`, over IPv4
//! and IPv6 prefixes parsed as Terraform parses them (an IPv4 part with leading zeros is
//! decimal, as in Go before 1.17, which Terraform keeps for compatibility).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Func, MANY, Ret, err, s, string, whole};
use crate::terraform::value::Value;

pub(super) const FUNCS: &[Func] = &[
    Func::pure("cidrhost", 2, 2, cidrhost),
    Func::pure("cidrnetmask", 1, 1, cidrnetmask),
    Func::pure("cidrsubnet", 3, 3, cidrsubnet),
    Func::pure("cidrsubnets", 1, MANY, cidrsubnets),
];

/// A network: its address (masked), prefix length and address width (32 or 128).
#[derive(Clone, Copy)]
struct Net {
    addr: u128,
    len: u32,
    bits: u32,
}

impl Net {
    fn mask(len: u32, bits: u32) -> u128 {
        let all = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        all & !all.checked_shr(len).unwrap_or(0)
    }

    fn with_len(addr: u128, len: u32, bits: u32) -> Net {
        Net {
            addr: addr & Net::mask(len, bits),
            len,
            bits,
        }
    }

    /// The last address in the network.
    fn last(&self) -> u128 {
        self.addr | (!Net::mask(self.len, self.bits) & Net::mask(self.bits, self.bits))
    }
}

/// An address as Go prints it.
fn show(addr: u128, bits: u32) -> String {
    if bits == 32 {
        Ipv4Addr::from(addr as u32).to_string()
    } else {
        Ipv6Addr::from(addr).to_string()
    }
}

fn show_net(n: &Net) -> String {
    format!("{}/{}", show(n.addr, n.bits), n.len)
}

/// An IPv4 address, each part decimal (leading zeros allowed).
fn parse_v4(text: &str) -> Option<u32> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut out = 0u32;
    for p in parts {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u32 = p.parse().ok()?;
        if n > 255 {
            return None;
        }
        out = out << 8 | n;
    }
    Some(out)
}

/// A CIDR prefix (`10.0.0.0/16`, `fd00::/8`).
fn parse_cidr(text: &str) -> Result<Net, super::FnError> {
    let invalid = || err("invalid CIDR expression: invalid CIDR address");
    let Some((ip, len)) = text.split_once('/') else {
        return invalid();
    };
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) || len.len() > 3 {
        return invalid();
    }
    let len: u32 = len.parse().unwrap_or(u32::MAX);
    let (addr, bits) = if let Some(v4) = parse_v4(ip) {
        (u128::from(v4), 32)
    } else if let Ok(v6) = ip.parse::<Ipv6Addr>() {
        (u128::from(v6), 128)
    } else {
        return invalid();
    };
    if len > bits {
        return invalid();
    }
    Ok(Net::with_len(addr, len, bits))
}

fn cidrnetmask(a: &[Value]) -> Ret {
    let net = parse_cidr(&string(&a[0], "the prefix")?)?;
    if net.bits != 32 {
        return err("only IPv4 networks are supported");
    }
    Ok(s(show(Net::mask(net.len, 32), 32)))
}

fn cidrhost(a: &[Value]) -> Ret {
    let net = parse_cidr(&string(&a[0], "the prefix")?)?;
    let host = whole(&a[1], "the host number")?;
    let host_bits = net.bits - net.len;
    let max: u128 = if host_bits == 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    let magnitude = if host < 0 {
        u128::from(host.unsigned_abs()) - 1
    } else {
        u128::from(host.unsigned_abs())
    };
    if magnitude > max {
        return err(format!(
            "prefix of {} does not accommodate a host numbered {host}",
            net.len
        ));
    }
    let offset = if host < 0 { max - magnitude } else { magnitude };
    Ok(s(show(net.addr | offset, net.bits)))
}

fn cidrsubnet(a: &[Value]) -> Ret {
    let net = parse_cidr(&string(&a[0], "the prefix")?)?;
    let newbits = whole(&a[1], "newbits")?;
    let netnum = whole(&a[2], "netnum")?;
    if newbits < 0 || net.len as i64 + newbits > net.bits as i64 {
        return err(format!(
            "insufficient address space to extend prefix of {} by {newbits}",
            net.len
        ));
    }
    let newbits = newbits as u32;
    if netnum < 0 {
        // What Terraform (go-cidr) answers: the magnitude shifted into place, with the
        // prefix's own address lost.
        let len = net.len + newbits;
        let shift = net.bits - len;
        let addr = u128::from(netnum.unsigned_abs())
            .checked_shl(shift)
            .unwrap_or(0);
        return Ok(s(show_net(&Net::with_len(addr, len, net.bits))));
    }
    if newbits < 64 && (netnum as u128) >> newbits != 0 {
        return err(format!(
            "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
        ));
    }
    let len = net.len + newbits;
    let shift = net.bits - len;
    let addr = net.addr
        | if shift >= 128 {
            0
        } else {
            (netnum as u128) << shift
        };
    Ok(s(show_net(&Net::with_len(addr, len, net.bits))))
}

fn cidrsubnets(a: &[Value]) -> Ret {
    let net = parse_cidr(&string(&a[0], "the prefix")?)?;
    let newbits: Vec<i64> = a[1..]
        .iter()
        .map(|v| whole(v, "each newbits"))
        .collect::<Result<_, _>>()?;
    let Some(first) = newbits.first() else {
        return Ok(Value::List(Vec::new()));
    };
    let full = Net::mask(net.bits, net.bits);
    // Start just before the network, at the first length.
    let first_len = (net.len as i64 + first).clamp(0, net.bits as i64) as u32;
    let mut current = Net::with_len(net.addr.wrapping_sub(1) & full, first_len, net.bits);
    let mut out = Vec::new();
    for (i, bits) in newbits.iter().enumerate() {
        if *bits < 1 {
            return err(format!(
                "invalid newbits index {i}: must be between 1 and {}",
                net.bits - net.len
            ));
        }
        let len = net.len as i64 + bits;
        if len > net.bits as i64 {
            return err(format!(
                "would extend prefix to {len} bits, which is too long for an IPv{} address",
                if net.bits == 32 { 4 } else { 6 }
            ));
        }
        let len = len as u32;
        // The subnet of this length after the current one.
        let aligned = Net::with_len(current.last(), len, net.bits);
        let next_addr = aligned.last().wrapping_add(1) & full;
        let next = Net::with_len(next_addr, len, net.bits);
        let inside = Net::with_len(next.addr, net.len, net.bits).addr == net.addr;
        if next_addr == 0 || !inside {
            return err(format!(
                "not enough remaining address space for a subnet with a prefix of {len} bits after {}",
                show_net(&current)
            ));
        }
        current = next;
        out.push(s(show_net(&next)));
    }
    Ok(Value::List(out))
}
