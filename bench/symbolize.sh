#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Symbolizing speed: our symbolizer against eu-addr2line and perf script on
# the same samples, in one run.
#
# 1. perf record samples the test program's mixed workload (sorting, maps,
#    strings and streams in libstdc++; formatting, qsort and malloc in libc)
#    with frame-pointer call chains: thousands of distinct addresses across
#    the program, libc and libstdc++.
# 2. perf script symbolizes those samples (function names; then also
#    file:line, with srcline); our symbolizer does the same samples from the
#    same mappings (perf's MMAP2 events), names, then with --lines (file:line
#    and inlined frames).
# 3. eu-addr2line -f -C -i symbolizes the distinct addresses (one process
#    per module, addresses on stdin); our symbolizer does the same set with
#    inline frames and file:line.
# Each timing is the best of $RUNS (perf with srcline, minutes long, runs
# once); the ratio is the peer's time over ours.  The names are checked to
# agree with perf's and eu-addr2line's.  Exits non-zero unless ours is
# faster than every peer.
#
# usage: [RUNS=5] [KEEP=1] bench/symbolize.sh [SECONDS_OF_WORKLOAD]
# (KEEP=1 keeps the work files; needs root or
# perf_event_paranoid <= 1; run `make cli progs` first)
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
REPO=$(pwd)
SECS=${1:-3}
RUNS=${RUNS:-5}
BENCH=$REPO/build/cli/diag_symbolize_bench
PROG=$REPO/build/tests/kp_prog_fp
for t in "$BENCH" "$PROG"; do
	[[ -x $t ]] || { echo "missing $t (run: make cli progs)" >&2; exit 1; }
done
for t in perf eu-addr2line python3; do
	command -v $t >/dev/null || { echo "missing $t (run: make deps)" >&2; exit 1; }
done
W=$(mktemp -d /tmp/diag-symbench.XXXXXX)
[[ -n ${KEEP:-} ]] && echo "work files kept in $W" || trap 'rm -rf "$W"' EXIT
cd "$W"

echo "== recording $SECS s of $(basename "$PROG") --bench with perf (frame-pointer call chains)"
perf record -q -F 20000 -e cpu-clock:u -g -o perf.data -- "$PROG" --bench "$SECS" >/dev/null 2>&1

# the samples' raw call chains and the program's executable mappings
perf report -D -i perf.data 2>/dev/null >raw.txt
perf script -i perf.data --show-mmap-events -F ip 2>/dev/null | grep PERF_RECORD_MMAP2 >mmaps.txt
python3 - <<'PY'
import re
samples, chain, want = [], None, 0
for line in open("raw.txt"):
    if "PERF_RECORD_SAMPLE" in line:
        chain = []
        continue
    m = re.match(r"\.\.\. FP chain: nr:(\d+)", line)
    if m and chain is not None:
        want = int(m.group(1))
        continue
    m = re.match(r"\.\.\.\.\.\s+\d+: ([0-9a-f]+)", line)
    if m and chain is not None:
        v = int(m.group(1), 16)
        if v < 0xfffffffffffff000:  # perf's context markers are not frames
            chain.append(v)
        want -= 1
        if want == 0:
            if chain:
                samples.append(chain)
            chain = None
with open("samples.txt", "w") as f:
    for c in samples:
        f.write(" ".join(f"{v:x}" for v in c) + "\n")
with open("maps.txt", "w") as f:
    for line in open("mmaps.txt"):
        m = re.search(r"\[0x([0-9a-f]+)\(0x([0-9a-f]+)\) @ (0x[0-9a-f]+|0) ([0-9a-f]+):([0-9a-f]+) (\d+) \d+\]: (\S+) (.*)$", line)
        if not m or "x" not in m.group(7):
            continue
        start, size = int(m.group(1), 16), int(m.group(2), 16)
        f.write(f"{start:x}-{start + size:x} {m.group(7)} {int(m.group(3), 16):08x} "
                f"{m.group(4)}:{m.group(5)} {m.group(6)} {m.group(8)}\n")
PY
"$BENCH" --maps maps.txt --samples samples.txt --emit-vaddrs .
nsamples=$(wc -l <samples.txt)
nframes=$(wc -w <samples.txt)
nunique=$(wc -l <unique.txt)
echo "   $nsamples samples, $nframes frames, $nunique distinct addresses in $(ls ./*.dso | wc -l) modules:"
for d in ./*.dso; do
	echo "     $(wc -l <"${d%.dso}.addrs") in $(cat "$d")"
done

# best of RUNS runs of a command: "WALL_NS CPU_NS" (each the minimum; CPU
# time is user + system of the command and everything it waited for, which
# other load on the machine disturbs far less than wall time), its output
# kept in the file named first
cat >measure.py <<'PY'
import resource, subprocess, sys, time
out, runs, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
best_wall = best_cpu = None
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    with open(out, "w") as f:
        subprocess.run(cmd, stdout=f, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    best_wall = wall if best_wall is None else min(best_wall, wall)
    best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
print(int(best_wall * 1e9), int(best_cpu * 1e9))
PY
best() {
	local out=$1
	shift
	python3 measure.py "$out" "$RUNS" "$@"
}
# eu-addr2line, one process per module, as a script so it can be timed
for d in ./*.dso; do
	echo "eu-addr2line -e '$(cat "$d")' -f -C -i <'${d%.dso}.addrs'"
done >addr2line_all.sh
addr2line_names() {
	local d
	for d in ./*.dso; do
		eu-addr2line -e "$(cat "$d")" -a -S -C <"${d%.dso}.addrs"
	done
}

echo "== timing (best of $RUNS)"
t_perf_names=$(best perf_names.txt perf script -i perf.data --no-inline -F ip,sym,dso)
t_ours_names=$(best ours_names.txt "$BENCH" --maps maps.txt --samples samples.txt)
# perf resolves source lines through addr2line: slow, so once
t_perf_lines=$(RUNS=1 best perf_lines.txt perf script -i perf.data -F ip,sym,dso,srcline)
t_ours_lines=$(best ours_lines.txt "$BENCH" --maps maps.txt --samples samples.txt --lines)
t_a2l=$(best a2l.txt bash addr2line_all.sh)
t_ours_unique=$(best ours_unique.txt "$BENCH" --maps maps.txt --samples unique.txt --unique --lines)

# do the names agree?  (normalized: no parameters, clones or offsets)
addr2line_names >a2l_names.txt
"$BENCH" --maps maps.txt --samples unique.txt --unique >ours_unique_names.txt
python3 - <<'PY' >agree.txt
import re
def norm(s):
    """A function's name alone: no return type, parameters, clone or offset."""
    s = s.strip()
    if s.endswith("@plt") and s != "@plt":
        return norm(s[:-4]) + "@plt"
    s = re.sub(r" \[clone [^\]]*\]", "", s)
    s = re.sub(r"(\+0x[0-9a-f]+|@@?[A-Z][A-Za-z0-9_.]*)$", "", s)
    s = re.sub(r"\.(part|constprop|isra|cold|lto_priv)\.?[0-9]*", "", s)
    if s in ("[plt]", "") or s.startswith("[unknown]"):
        return {"[plt]": "@plt", "": "@plt"}.get(s, "[unknown]")
    d, start = 0, 0
    for i, c in enumerate(s):
        d += (c == "<") - (c == ">")
        if c == " " and d == 0 and not s[:i].endswith("operator") and \
                not s[i + 1:].startswith("to ") and s[:i] not in ("virtual thunk", "non-virtual thunk"):
            start = i + 1          # a return type ends here
        if c == "(" and d == 0 and i > 0 and not s[:i].endswith("operator"):
            return s[start:i]
    return s[start:]
def samples(path):
    """Per sample, its frames as (function, module file name)."""
    out, cur = [], []
    for line in open(path):
        m = re.match(r"\s+[0-9a-f]+ (.*) \((.*)\)$", line)
        if m:
            cur.append((norm(m.group(1)), m.group(2).rsplit("/", 1)[-1]))
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out
# aliases: every function symbol of each module (and its debug file)
import glob, subprocess
def symtabs(path):
    files = [path]
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    for l in out.splitlines():
        if "Build ID:" in l:
            b = l.split()[-1]
            files.append(f"/usr/lib/debug/.build-id/{b[:2]}/{b[2:]}.debug")
    syms = []
    for f in files:
        out = subprocess.run(["readelf", "-sW", f], capture_output=True, text=True).stdout
        for l in out.splitlines():
            x = l.split()
            if len(x) >= 8 and x[3] in ("FUNC", "IFUNC"):
                syms.append((int(x[1], 16), x[7].split("@")[0]))
    return syms
order = []  # (run-time address, module path) in eu-addr2line's order
for d in sorted(glob.glob("*.dso")):  # the shell's order (LC_ALL=C)
    for line in open(d[:-4] + ".abs"):
        order.append((line.strip(), open(d).read().strip()))
by_module, names = {}, set()
for _, mod in order:
    if mod not in by_module:
        by_module[mod] = symtabs(mod)
        names.update(n for _, n in by_module[mod])
names = sorted(names)
demangled = dict(zip(names, subprocess.run(["c++filt"], input="\n".join(names), capture_output=True,
                                            text=True).stdout.split("\n")))
aliases, starts = {}, {}
for mod, syms in by_module.items():
    for a, n in syms:
        d = norm(demangled.get(n, n))
        aliases.setdefault((mod, a), set()).add(d)
        starts.setdefault((mod.rsplit("/", 1)[-1], d), set()).add(a)
def same_function(x, y):
    """The same name, or two names of one function (aliases at one address)."""
    if x == y:
        return True
    (a, ma), (b, mb) = x, y
    return ma == mb and bool(starts.get((ma, a), set()) & starts.get((mb, b), set()))
p, o = samples("perf_names.txt"), samples("ours_names.txt")
leaf = sum(same_function(a[0], b[0]) for a, b in zip(p, o))
pairs = [(x, y) for a, b in zip(p, o) for x, y in zip(a, b)]
same = sum(same_function(x, y) for x, y in pairs)
print(f"perf script vs ours: sample IPs name the same function (or an alias of it) in "
      f"{leaf}/{len(p)} samples ({100.0 * leaf / max(len(p), 1):.2f}%), all frames in "
      f"{same}/{len(pairs)} ({100.0 * same / max(len(pairs), 1):.2f}%; callers differ where "
      f"frame-pointer-less libraries leave junk in the chain: perf looks up return addresses "
      f"as they are, we at address - 1, inside the call)")
# eu-addr2line -a -S: "0xVADDR", "symbol+0xOFF", "file:line" per address,
# in the order of the *.abs files
lines = [l.rstrip("\n") for l in open("a2l_names.txt")]
ours = {}
for line in open("ours_unique_names.txt"):
    addr, name, _ = line.rstrip("\n").split("\t")[:3]
    ours.setdefault(addr, name)
same = alias = noname = 0
for i, (addr, mod) in enumerate(order):
    vaddr = int(lines[3 * i], 16)
    sym = lines[3 * i + 1]
    if addr not in ours:
        continue
    if sym.startswith("??") or sym.startswith("("):
        noname += 1
        continue
    off = int(sym.rsplit("+0x", 1)[1], 16) if "+0x" in sym else 0
    theirs, mine = norm(sym), norm(ours[addr])
    if theirs == mine:
        same += 1
    elif mine in aliases.get((mod, vaddr - off), ()):
        alias += 1
n = len(order) - noname
print(f"eu-addr2line vs ours: of {n} distinct addresses eu-addr2line names, {same} have the same "
      f"name and {alias} another alias of the same function: {100.0 * (same + alias) / max(n, 1):.2f}% "
      f"agree ({noname} more eu-addr2line cannot name, such as PLT stubs)")
PY
cat agree.txt

# do the inline chains agree?  Per distinct address, the file:line of every
# level (innermost first) from eu-addr2line -i against ours with --lines.
for d in ./*.dso; do
	echo "== $(cat "$d")"
	# (it exits 1 when some address has no line: not a failure here)
	eu-addr2line -e "$(cat "$d")" -a -i -f <"${d%.dso}.addrs" || true
done >a2l_chains.txt
python3 - <<'PY'
import os, re
def loc(s):
    f, _, rest = s.partition(":")
    return os.path.basename(f) + ":" + rest.split(":")[0]
ours = {}
for line in open("ours_unique.txt"):
    f = line.rstrip("\n").split("\t")
    ours.setdefault(int(f[0], 16), []).append(loc(f[3]) if len(f) > 3 else "??:0")
chains, cur = [], None
for line in open("a2l_chains.txt"):
    line = line.rstrip("\n")
    if line.startswith("== "):
        mod = line[3:]
    elif re.fullmatch(r"0x[0-9a-f]+", line):
        cur = [mod, int(line, 16), []]
        chains.append(cur)
    else:
        cur[2].append(line)
vaddr_to_abs = {}
for d in sorted(os.listdir(".")):
    if d.endswith(".dso"):
        mod = open(d).read().strip()
        for v, a in zip(open(d[:-4] + ".addrs"), open(d[:-4] + ".abs")):
            vaddr_to_abs[(mod, int(v, 16))] = int(a, 16)
n = same = 0
for mod, vaddr, lines in chains:
    theirs = [loc(l) for l in lines[1::2]]
    if not theirs or theirs[0].startswith("??"):
        continue
    n += 1
    same += ours.get(vaddr_to_abs.get((mod, vaddr)), []) == theirs
print(f"inline chains (file:line of every level) agree with eu-addr2line -i for {same}/{n} "
      f"addresses ({100.0 * same / max(n, 1):.2f}%)")
PY

python3 - "$nframes" "$nunique" $t_perf_names $t_ours_names $t_perf_lines $t_ours_lines \
	$t_a2l $t_ours_unique <<'PY'
import sys
nframes, nunique = sys.argv[1], sys.argv[2]
t = [int(x) / 1e6 for x in sys.argv[3:]]
rows = [(f"names of {nframes} sample frames: perf script --no-inline", t[0:4]),
        ("... and file:line: perf script -F ip,sym,dso,srcline", t[4:8]),
        (f"{nunique} distinct addresses: eu-addr2line -f -C -i", t[8:12])]
print()
print(f"{'task':56} {'peer CPU':>10} {'ours CPU':>10} {'ratio':>7}   {'peer wall':>10} {'ours wall':>10} {'ratio':>7}")
slow = False
for name, (pw, pc, ow, oc) in rows:
    print(f"{name:56} {pc:8.1f}ms {oc:8.1f}ms {pc / oc:6.1f}x   {pw:8.1f}ms {ow:8.1f}ms {pw / ow:6.1f}x")
    slow |= oc >= pc
print()
print("FAIL: our symbolizer is not faster than every peer" if slow else
      "ours is faster than every peer (CPU time, best of runs)")
sys.exit(1 if slow else 0)
PY
