// SPDX-License-Identifier: GPL-2.0
/*
 * Unexported kernel symbols.  See ksyms.h.
 *
 * kallsyms_lookup_name() has not been exported since 5.7, and calling it
 * through a pointer found some other way is an indirect call into a
 * function that nothing else calls indirectly: on a kernel with IBT its
 * ENDBR is sealed at boot and the call faults.  So names are resolved by
 * the kprobe core instead: registering a kprobe by name, disabled, runs
 * the kernel's own lookup and patches nothing; its address is the
 * function's entry (after the ENDBR on IBT kernels), and sprint_symbol()
 * (exported) gives the offset back to the start and the size.
 */
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/kallsyms.h>
#include <linux/moduleparam.h>
#include <linux/uaccess.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/slab.h>
#include <asm/cpufeature.h>
#include "ksyms.h"

static bool unexported_calls = true;
module_param(unexported_calls, bool, 0444);
MODULE_PARM_DESC(unexported_calls,
		 "call unexported kernel functions where it is safe (default 1); 0 takes the fallback paths");

/* sprint_symbol()'s buffer; lookups happen at load and activation only */
static DEFINE_MUTEX(ksym_buf_lock);
static char ksym_buf[KSYM_SYMBOL_LEN];

/*
 * Parse "name+0xOFF/0xSIZE [module]" as sprint_symbol() writes it.
 * Returns false when @addr is in no symbol.
 */
static bool symbol_extent(unsigned long addr, unsigned long *offset,
			  unsigned long *size)
{
	const char *plus, *slash;
	bool ok = false;

	mutex_lock(&ksym_buf_lock);
	sprint_symbol(ksym_buf, addr);
	plus = strrchr(ksym_buf, '+');
	slash = plus ? strchr(plus, '/') : NULL;
	if (plus && slash && sscanf(plus + 1, "0x%lx", offset) == 1 &&
	    sscanf(slash + 1, "0x%lx", size) == 1)
		ok = *size != 0;
	mutex_unlock(&ksym_buf_lock);
	return ok;
}

int diag_ksym_addrs(const char *const *names, unsigned long *addrs,
		    unsigned int n)
{
#ifdef CONFIG_KPROBES
	struct kprobe *kps, **regd;
	unsigned long offset, size;
	unsigned int i, nr = 0;

	kps = kcalloc(n, sizeof(*kps), GFP_KERNEL);
	regd = kcalloc(n, sizeof(*regd), GFP_KERNEL);
	if (!kps || !regd) {
		kfree(kps);
		kfree(regd);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		addrs[i] = 0;
		kps[i].symbol_name = names[i];
		/* registered disabled: resolved and checked, never armed */
		kps[i].flags = KPROBE_FLAG_DISABLED;
		if (register_kprobe(&kps[i]))
			continue;
		regd[nr++] = &kps[i];
		addrs[i] = (unsigned long)kps[i].addr;
	}
	/* one grace period for all of them */
	if (nr)
		unregister_kprobes(regd, nr);
	for (i = 0; i < n; i++) {
		if (!addrs[i])
			continue;
		if (!symbol_extent(addrs[i], &offset, &size) || offset >= size)
			addrs[i] = 0;
		else
			addrs[i] -= offset;
	}
	kfree(regd);
	kfree(kps);
	return 0;
#else
	unsigned int i;

	for (i = 0; i < n; i++)
		addrs[i] = 0;
	return 0;
#endif
}

unsigned long diag_ksym_addr(const char *name)
{
	unsigned long addr = 0;

	diag_ksym_addrs(&name, &addr, 1);
	return addr;
}

unsigned long diag_ksym_size(unsigned long addr)
{
	unsigned long offset, size;

	return symbol_extent(addr, &offset, &size) ? size : 0;
}

/* f3 0f 1e fa, read as a little-endian u32 */
#define ENDBR64_INSN	0xfa1e0ff3U

#ifdef CONFIG_X86_KERNEL_IBT
/* An indirect call must land on a live ENDBR64 when IBT is enforced. */
static bool indirect_target_ok(unsigned long addr)
{
	u32 insn;

	if (!cpu_feature_enabled(X86_FEATURE_IBT))
		return true;
	if (copy_from_kernel_nofault(&insn, (void *)addr, sizeof(insn)))
		return false;
	return insn == ENDBR64_INSN;
}
#else
static bool indirect_target_ok(unsigned long addr)
{
	return true;
}
#endif

bool diag_ksym_callable(unsigned long addr)
{
	if (!READ_ONCE(unexported_calls) || !addr)
		return false;
	return indirect_target_ok(addr);
}
