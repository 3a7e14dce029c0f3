// SPDX-License-Identifier: GPL-2.0
/*
 * A deliberately broken module, built only by scripts/debug-kernel.sh to
 * prove that the debug kernel reports what the af_custom debug tier
 * relies on: at load it
 *   1. leaks one allocation (kmemleak must report it),
 *   2. triggers one WARN_ON_ONCE (CONFIG_BUG must make it print),
 *   3. reads freed memory (KASAN must report a use-after-free),
 * then loads successfully. Never load it anywhere else.
 */

#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/slab.h>

/* its contents tell the leak apart in kmemleak's hex dump */
static noinline void kasan_probe_leak(void)
{
	char *p = kmalloc(1234, GFP_KERNEL);

	OPTIMIZER_HIDE_VAR(p);
	if (p)
		memcpy(p, "af_custom kasan_probe leak", 27);
	/* p goes out of scope: nothing references the object any more */
}

static noinline int kasan_probe_use_after_free(void)
{
	char *p = kmalloc(64, GFP_KERNEL);
	int v;

	if (!p)
		return -ENOMEM;
	p[0] = 1;
	kfree(p);
	OPTIMIZER_HIDE_VAR(p);
	v = READ_ONCE(p[8]);
	return v;
}

static int __init kasan_probe_init(void)
{
	kasan_probe_leak();
	WARN_ON_ONCE(1);
	pr_info("kasan_probe: use-after-free read gave %d\n",
		kasan_probe_use_after_free());
	return 0;
}

static void __exit kasan_probe_exit(void)
{
}

module_init(kasan_probe_init);
module_exit(kasan_probe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("af_custom debug-tier self-check: a leak, a WARN, a use-after-free");
