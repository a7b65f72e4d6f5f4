/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * What the CLI and the BPF programs of bpf/ share beyond uapi/diagnose.h:
 * the loader's side of the programs' global data and maps.  Not an ABI
 * with anything else (both halves are built together).
 */
#ifndef DIAG_BPF_ABI_H
#define DIAG_BPF_ABI_H

/*
 * the settings map's value: any function's settings struct, zero-padded
 * (the largest: struct diag_kprobe_settings, 1 KiB of it the CPU bitmap)
 */
#define DIAG_BPF_SETTINGS_MAX	2048
struct diag_settings_blob {
	__u8 bytes[DIAG_BPF_SETTINGS_MAX];
};

/*
 * One deciding function of DIAG_MIGRATE_CAUSE_SITES resolved in the
 * running kernel: a return address in (start, end] is inside it (a return
 * address can be one past a call at the very end).  The CLI hands them to
 * the program sorted by start, without overlaps.
 */
#define DIAG_BPF_MAX_CAUSE_RANGES 32
struct diag_cause_range {
	__u64 start;
	__u64 end;
	__u32 cause;	/* enum diag_migrate_cause or DIAG_CAUSE_SITE_* */
	__u32 reserved;
};

#endif /* DIAG_BPF_ABI_H */
