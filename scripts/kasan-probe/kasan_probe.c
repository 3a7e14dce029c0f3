// SPDX-License-Identifier: GPL-2.0
/*
 * A deliberately broken module, built only by scripts/debug-kernel.sh to
 * prove that a debug kernel reports what the af_custom debug tier relies
 * on: at load it
 *   1. leaks one allocation (kmemleak must report it),
 *   2. triggers one WARN_ON_ONCE (CONFIG_BUG must make it print),
 *   3. on the KASAN kernel, reads freed memory (KASAN must report a
 *      use-after-free),
 *   4. on the KCSAN kernel, makes two threads on two CPUs race on a plain
 *      variable for a second (KCSAN must report a data race),
 * then loads successfully. Never load it anywhere else.
 */

#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>
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

/*
 * The data race: plain (unmarked) accesses to one int, a writer that
 * keeps changing it and a reader, each in a thread bound to a CPU of its
 * own. barrier() makes the compiler access memory on every iteration.
 */
static int kasan_probe_shared;

static noinline int kasan_probe_race_writer(void *unused)
{
	while (!kthread_should_stop()) {
		kasan_probe_shared++;
		barrier();
		cond_resched();
	}
	return 0;
}

static noinline int kasan_probe_race_reader(void *unused)
{
	long sum = 0;

	while (!kthread_should_stop()) {
		sum += kasan_probe_shared;
		barrier();
		cond_resched();
	}
	return sum & 1;
}

static void kasan_probe_data_race(void)
{
	int (*fn[2])(void *) = { kasan_probe_race_writer, kasan_probe_race_reader };
	struct task_struct *t[2] = { };
	int i;

	if (num_online_cpus() < 2) {
		pr_err("kasan_probe: one CPU online, no data race possible\n");
		return;
	}
	for (i = 0; i < 2; i++) {
		t[i] = kthread_create(fn[i], NULL, "kasan_probe/%d", i);
		if (IS_ERR(t[i])) {
			t[i] = NULL;
			break;
		}
		kthread_bind(t[i], i);
		wake_up_process(t[i]);
	}
	msleep(1000);
	for (i = 0; i < 2; i++)
		if (t[i])
			kthread_stop(t[i]);
	pr_info("kasan_probe: data race done\n");
}

static int __init kasan_probe_init(void)
{
	kasan_probe_leak();
	WARN_ON_ONCE(1);
	if (IS_ENABLED(CONFIG_KASAN))
		pr_info("kasan_probe: use-after-free read gave %d\n",
			kasan_probe_use_after_free());
	if (IS_ENABLED(CONFIG_KCSAN))
		kasan_probe_data_race();
	return 0;
}

static void __exit kasan_probe_exit(void)
{
}

module_init(kasan_probe_init);
module_exit(kasan_probe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("af_custom debug-tier self-check: a leak, a WARN, a use-after-free or a data race");
