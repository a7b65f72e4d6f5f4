// SPDX-License-Identifier: GPL-2.0
/*
 * Since 5.7, kallsyms_lookup_name() is no longer exported.  A kprobe can
 * still be placed on it by name (the kprobe core resolves names itself),
 * and the registered probe tells us its address; we unregister at once and
 * call it directly.  kallsyms_lookup_size_offset() is then found the same
 * way.  Everything else in the module uses exported interfaces.
 */
#include <linux/kprobes.h>
#include <linux/printk.h>
#ifdef CONFIG_X86_KERNEL_IBT
#include <asm/ibt.h>
#endif
#include "ksyms.h"

typedef unsigned long (*lookup_name_fn)(const char *name);
typedef int (*lookup_size_offset_fn)(unsigned long addr, unsigned long *size,
				     unsigned long *offset);

static lookup_name_fn lookup_name;
static lookup_size_offset_fn lookup_size_offset;

void diag_ksyms_init(void)
{
#ifdef CONFIG_KPROBES
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;

	if (register_kprobe(&kp)) {
		pr_warn("diagnose: cannot resolve kallsyms_lookup_name; migration causes and kprobe checks are degraded\n");
		return;
	}
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
#ifdef CONFIG_X86_KERNEL_IBT
	/* the probe sits after the ENDBR; an indirect call must land on it */
	if (is_endbr(*(u32 *)(addr - ENDBR_INSN_SIZE)))
		addr -= ENDBR_INSN_SIZE;
#endif
	lookup_name = (lookup_name_fn)addr;
	lookup_size_offset = (lookup_size_offset_fn)
		lookup_name("kallsyms_lookup_size_offset");
#endif
}

unsigned long diag_ksym_addr(const char *name)
{
	return lookup_name ? lookup_name(name) : 0;
}

unsigned long diag_ksym_size(unsigned long addr)
{
	unsigned long size, offset;

	if (!lookup_size_offset || !lookup_size_offset(addr, &size, &offset))
		return 0;
	return size;
}
