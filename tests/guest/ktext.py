#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The running kernel's text, as the kernel itself shows it: symbols from
/proc/kallsyms, bytes from /proc/kcore (root only).

usage: ktext.py entry SYMBOL
  prints "ADDRESS OFFSET BYTES": the symbol's address (hex, no 0x), the
  offset at which the kernel places a kprobe asked for its entry (4 after
  an ENDBR, or the poison that replaces a sealed one, else 0: the rule of
  x86's arch_adjust_kprobe_addr()), and its first 4 bytes (hex)
"""
import struct
import sys

ENDBR64 = bytes.fromhex("f30f1efa")
ENDBR32 = bytes.fromhex("f30f1efb")
ENDBR_POISON = bytes.fromhex("660f1f00")   # osp nopl (%rax), a sealed ENDBR


def symbol_addr(name):
    with open("/proc/kallsyms") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 3 and fields[2] == name and fields[1] in "tT":
                addr = int(fields[0], 16)
                if not addr:
                    sys.exit("ktext.py: kallsyms shows zero addresses (not root?)")
                return addr
    sys.exit(f"ktext.py: no text symbol {name} in /proc/kallsyms")


def kcore_read(addr, n):
    try:
        f = open("/proc/kcore", "rb")
    except OSError as e:
        sys.exit(f"ktext.py: {e}")
    with f:
        ehdr = f.read(64)
        if ehdr[:4] != b"\x7fELF" or ehdr[4] != 2:
            sys.exit("ktext.py: /proc/kcore is not an ELF64 file")
        phoff, = struct.unpack_from("<Q", ehdr, 32)
        phentsize, phnum = struct.unpack_from("<HH", ehdr, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = \
                struct.unpack("<IIQQQQ", f.read(40))
            if p_type == 1 and p_vaddr <= addr and addr + n <= p_vaddr + p_filesz:
                f.seek(p_offset + addr - p_vaddr)
                return f.read(n)
    sys.exit(f"ktext.py: 0x{addr:x} is in no segment of /proc/kcore")


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "entry":
        sys.exit(__doc__)
    addr = symbol_addr(sys.argv[2])
    first = kcore_read(addr, 4)
    offset = 4 if first in (ENDBR64, ENDBR32, ENDBR_POISON) else 0
    print(f"{addr:x} {offset} {first.hex()}")


if __name__ == "__main__":
    main()
