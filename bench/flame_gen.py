#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate a folded-stacks input for bench/flame.sh.

usage: flame_gen.py LINES DISTINCT MAXDEPTH SEED > out.folded

DISTINCT distinct stacks (1 to MAXDEPTH frames, call paths sharing prefixes as
real programs do: user frames, a "-" separator and kernel frames "_[k]" for
half of them, C++ template and operator names among them) are written LINES
times in all, in random order, each line with a random count.
"""
import random
import sys


def names(rng, n):
    verbs = ["read", "write", "parse", "alloc", "free", "lookup", "insert", "hash", "copy",
             "flush", "wait", "lock", "unlock", "send", "recv", "encode", "decode", "sort"]
    nouns = ["buf", "page", "node", "entry", "msg", "req", "conn", "key", "blk", "inode",
             "frame", "row", "tree", "list", "map", "str", "file", "sock"]
    out = set()
    while len(out) < n:
        v, o, k = rng.choice(verbs), rng.choice(nouns), rng.randrange(100)
        style = rng.randrange(10)
        if style < 5:
            out.add(f"{v}_{o}{k}")
        elif style < 7:
            out.add(f"ns{k % 7}::{o.capitalize()}<int>::{v}(unsigned long)")
        elif style < 8:
            out.add(f"std::vector<{o}{k}, std::allocator<{o}{k}> >::operator[](unsigned long)")
        else:
            out.add(f"{o}_{v}_{k}")
    return sorted(out)


def main():
    lines, distinct, maxdepth, seed = (int(a) for a in sys.argv[1:5])
    rng = random.Random(seed)
    user = names(rng, 3000)
    kernel = [f"{n}_[k]" for n in names(random.Random(seed + 1), 800)]
    comms = [f"proc{i}" for i in range(24)]
    stacks = set()
    while len(stacks) < distinct:
        depth = min(maxdepth, 1 + int(rng.expovariate(1 / 14)))
        frames = [rng.choice(comms)]
        # small fan-out per level: paths share prefixes like real call trees
        h = hash(frames[0]) & 0xffff
        kdepth = rng.randrange(0, depth // 2 + 1) if rng.random() < 0.5 else 0
        udepth = depth - 1 - kdepth
        for i in range(udepth):
            h = (h * 31 + rng.randrange(4) + i) % len(user)
            frames.append(user[h])
        if kdepth:
            frames.append("-")
            for i in range(kdepth - 1 if kdepth > 1 else 1):
                h = (h * 17 + rng.randrange(3) + i) % len(kernel)
                frames.append(kernel[h])
        stacks.add(";".join(frames[:maxdepth]))
    stacks = list(stacks)
    out = sys.stdout
    buf = []
    for i in range(lines):
        buf.append(f"{stacks[rng.randrange(distinct) if i >= distinct else i]} {rng.randint(1, 50)}\n")
        if len(buf) >= 10000:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))


if __name__ == "__main__":
    main()
