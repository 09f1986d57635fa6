#!/usr/bin/env python3
"""Turns the values tests/bench/run measured into its markdown tables.

Input: one "key<TAB>value" line per measurement (a key may repeat: one line per repetition).
Output: the results table (measurement | baseline | ringfence | peers | target | met?) and the
scaling table. Every timing is a median, followed by its ratio to the baseline of the same run.
"""
import statistics
import sys

values = {}
for line in open(sys.argv[1]):
    key, _, value = line.rstrip("\n").partition("\t")
    values.setdefault(key, []).append(value)


def one(key, default=None):
    return values[key][0] if key in values else default


def num(key):
    """The median of a key's numeric values, or None when it was not measured."""
    if key not in values:
        return None
    return statistics.median(float(v) for v in values[key])


def ratio(x, base):
    return "%.2f×" % (x / base) if x is not None and base else "?"


def yes_no(ok, detail):
    return ("**yes**" if ok else "**no**") + (" (" + detail + ")" if detail else "")


rows = []

# Launch /bin/true.
bare, empty, full = num("launch.bare"), num("launch.empty"), num("launch.full")
if bare is None:
    rows.append(["launch `/bin/true`", "n/a: " + one("launch.na", "not measured"), "", "",
                 "full policy ≤ bare + 1.0 ms, below every peer", "n/a"])
else:
    peers, peer_ms = [], []
    for name, label in (("bwrap", "`bwrap --unshare-net`"),
                        ("firejail", "`firejail --noprofile --net=none`"),
                        ("systemd_run", "`systemd-run --scope`")):
        ms = num("launch." + name)
        if ms is None:
            peers.append("%s n/a: %s" % (label, one("launch.%s.na" % name, "not measured")))
        else:
            peers.append("%s %.2f ms (%s)" % (label, ms, ratio(ms, bare)))
            peer_ms.append((label, ms))
    slower_than = [label for label, ms in peer_ms if full >= ms]
    rows.append([
        "launch `/bin/true` (median of %d runs each)" % int(num("launch.bare.runs")),
        "bare exec %.2f ms" % bare,
        "empty policy %.2f ms (%s); full policy %.2f ms (%s, +%.2f ms)"
        % (empty, ratio(empty, bare), full, ratio(full, bare), full - bare),
        "; ".join(peers),
        "full policy ≤ bare + 1.0 ms, below every peer",
        yes_no(full - bare <= 1.0 and not slower_than,
               "+%.2f ms" % (full - bare) +
               ("; not below " + ", ".join(slower_than) if slower_than else "")),
    ])

# Per-packet cost of the egress program.
base = num("packet.base")
costs = {n: num("packet." + n) for n in ("0", "1k", "100k")}
if base is not None and None not in costs.values():
    over = {n: c - base for n, c in costs.items()}
    flat = over["100k"] <= 1.25 * max(over["0"], 1)
    rows.append([
        "per-packet filter cost (egress, p50, `BPF_PROG_TEST_RUN`)",
        "pass-all program %.0f ns" % base,
        "; ".join("%s prefixes %.0f ns (%s, +%.0f)" % (n, c, ratio(c, base), over[n])
                  for n, c in costs.items()),
        "—",
        "≤ 60 ns over pass-all, flat to 100k",
        yes_no(max(over.values()) <= 60 and flat,
               "+%.0f to +%.0f ns" % (over["0"], over["100k"]) + ("" if flat else ", not flat")),
    ])

# Loopback TCP throughput.
direct, filtered = num("tput.direct"), num("tput.filtered")
if direct:
    # Judged by the median of each round's filtered/unfiltered: a round's two runs are next
    # to each other, so drift between rounds cancels; the ratio of the medians does not.
    paired = num("tput.per_round")
    rows.append([
        "loopback TCP throughput (iperf3, median)",
        "unfiltered %.2f Gbit/s" % direct,
        "filtered %.2f Gbit/s (%.1f %% of the medians; per-round median %.1f %%)"
        % (filtered, 100 * filtered / direct, paired),
        "—", "≥ 98 % (per round)",
        yes_no(paired >= 98, "%.1f %%" % paired +
               ("; above 100 %: the noise is larger than the cost" if paired > 102 else "")),
    ])
else:
    rows.append(["loopback TCP throughput (iperf3)", "n/a: " + one("tput.na", "not measured"),
                 "", "—", "≥ 98 %", "n/a"])

# Allowed system call.
none, sfull, floor, stack = (num("sys." + k) for k in ("none", "full", "floor", "systemd"))
if none is not None and sfull is not None:
    rows.append([
        "allowed syscall (`getppid` loop, ns per call, median of %d rounds)"
        % len(values["sys.none"]),
        "no seccomp %.1f ns (one empty filter, the floor: %.1f ns, %s)"
        % (none, floor, ratio(floor, none)),
        "full policy %.1f ns (%s, +%.1f)" % (sfull, ratio(sfull, none), sfull - none),
        "systemd-shaped stack of 13 filters %.1f ns (%s, +%.1f)"
        % (stack, ratio(stack, none), stack - none),
        "≤ +10 ns, ahead of the systemd-shaped stack",
        yes_no(sfull - none <= 10 and sfull < stack, "+%.1f ns; %s the stack"
               % (sfull - none, "ahead of" if sfull < stack else "behind")),
    ])

# Denial events per second, exact count.
if "flood.seconds" in values:
    counted = [v.split() for v in values["flood.counted"]]
    exact = all(a == b == "20000" for a, b in counted)
    rate = 20000 / num("flood.seconds")
    base_rate = 20000 / num("flood.base.seconds")
    rows.append([
        "denial events per second, exact count (20,000 connects to 127.0.0.2)",
        "kernel's own refusal, no listener (ECONNREFUSED) %.0fk/s" % (base_rate / 1000),
        "%.0fk events/s (%s); audit log counted %s"
        % (rate / 1000, ratio(rate, base_rate),
           ", ".join("%s of %s" % (b, a) for a, b in counted)),
        "—", "≥ 500k/s, exact",
        yes_no(rate >= 500000 and exact,
               "%.0fk/s, %s" % (rate / 1000, "exact" if exact else "NOT exact")),
    ])

# Outside processes.
for call, label in (("getppid", "`getppid()`"), ("connect", "UDP `connect()` to 127.0.0.1")):
    idle = num("out.%s.0" % call)
    if idle is None:
        continue
    one_run, ten = num("out.%s.1" % call), num("out.%s.10" % call)
    worst = max(one_run, ten) / idle - 1
    rows.append([
        "outside-process %s loop (ns per call)" % label,
        "no run %.1f ns" % idle,
        "1 run %.1f ns (%+.1f %%); 10 runs %.1f ns (%+.1f %%)"
        % (one_run, 100 * (one_run / idle - 1), ten, 100 * (ten / idle - 1)),
        "—", "≤ 1 %", yes_no(worst <= 0.01, "%+.1f %%" % (100 * worst)),
    ])

# Supervisor memory.
rss = num("rss.ringfence")
if rss is not None:
    peers = ["%s %.1f MB" % (label, num("rss." + name) / 1024)
             for name, label in (("bwrap", "bwrap"), ("firejail", "firejail"))
             if num("rss." + name) is not None]
    rows.append([
        "supervisor RSS while a service runs (full policy)", "—", "%.1f MB" % (rss / 1024),
        "; ".join(peers) or "—", "≤ 8 MB", yes_no(rss <= 8192, "%.1f MB" % (rss / 1024)),
    ])


def table(header, body):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


mode = one("mode")
print("## ringfence benchmarks (`tests/bench/run%s`)\n" % (" --quick" if mode == "quick" else ""))
print("%s CPUs, %s, kernel %s; %s; load %s; commit %s.%s\n"
      % (one("cpus"), one("cpu"), one("kernel"), one("date"), one("load"), one("commit"),
         " **Quick mode: a smoke run, its timings mean nothing.**" if mode == "quick" else ""))
print(table(["measurement", "baseline in the same run", "ringfence", "peers", "target", "met?"],
            rows))

# Scaling: "median p90 rss" per configuration.
scale_rows = []


def scale(key, label, base_key):
    if key not in values:
        return
    median, p90, rss_kb = (float(x) for x in one(key).split())
    base = float(one(base_key).split()[0])
    scale_rows.append([label, "%.2f ms" % median, "%.2f×" % (median / base), "%.2f ms" % p90,
                       "%.1f MB" % (rss_kb / 1024)])


scale("scale.prefixes.bare", "bare exec (reference)", "scale.prefixes.none")
scale("scale.prefixes.none", "ringfence, no policy (baseline)", "scale.prefixes.none")
for n in ("0", "1000", "10000", "100000"):
    scale("scale.prefixes." + n, "%s deny prefixes (+ IPAddressAllow=127.0.0.1)" % n,
          "scale.prefixes.none")
scale("scale.syscalls.bare", "bare exec (reference, 2nd series)", "scale.syscalls.none")
scale("scale.syscalls.none", "ringfence, no policy (baseline, 2nd series)", "scale.syscalls.none")
for n in values.get("scale.syscalls.sizes", []):
    scale("scale.syscalls." + n, "allowlist of %s system calls (EPERM)" % n, "scale.syscalls.none")
print("\n### Scaling: launch time and memory vs policy size (%s runs each; allowlists %s)\n"
      % (one("scale.runs"), "3× as many"))
print(table(["policy", "launch median", "ratio to no policy", "launch p90",
             "peak RSS of `ringfence run`"], scale_rows))
