// SPDX-License-Identifier: GPL-2.0
/*
 * The pending-connection queue of a listener.
 *
 * Winsock semantics make the backlog a real, resizable queue: a connect()
 * that finds it full is refused at once, and a listen() that shrinks it
 * below the number pending resets the newest excess connections. The
 * queue is an intrusive FIFO list, so
 *   - add and take are O(1) and never allocate,
 *   - growing or keeping the backlog is O(1), whatever is pending,
 *   - a shrink is linear in the connections it resets: they are cut off
 *     the tail of the list in one piece.
 *
 * Locking: pending->lock (a spinlock, process context only) guards the
 * list, count, backlog and stats. It nests inside the listener's socket
 * lock, inside a connecting client's socket lock, and inside the netns
 * sockets_lock (the sock_diag dump reads the stats); that lock is taken by
 * RCU callbacks, so this one is taken with BHs off too. Nothing else is
 * ever taken under it. Entries handed back to the caller (excess, all) are off
 * the queue and belong to the caller, who resets them outside the lock.
 */

#include <linux/slab.h>

#include "pending.h"

struct cu_pending *cu_pending_alloc(gfp_t gfp)
{
	struct cu_pending *pending = kzalloc(sizeof(*pending), gfp);

	if (!pending)
		return NULL;
	spin_lock_init(&pending->lock);
	INIT_LIST_HEAD(&pending->queue);
	return pending;
}

void cu_pending_free(struct cu_pending *pending)
{
	if (pending)
		WARN_ON_ONCE(!list_empty(&pending->queue));
	kfree(pending);
}

enum cu_pending_verdict cu_pending_add(struct cu_pending *pending,
				       struct list_head *node)
{
	enum cu_pending_verdict verdict = CU_PENDING_QUEUED;

	spin_lock_bh(&pending->lock);
	if (!pending->backlog) {
		verdict = CU_PENDING_CLOSED;
	} else if (pending->count >= pending->backlog) {
		pending->stats.refused_full++;
		verdict = CU_PENDING_FULL;
	} else {
		list_add_tail(node, &pending->queue);
		WRITE_ONCE(pending->count, pending->count + 1);
		pending->stats.queued++;
	}
	spin_unlock_bh(&pending->lock);
	return verdict;
}

/* The oldest pending entry, off the queue, or NULL when there is none. */
struct list_head *cu_pending_take(struct cu_pending *pending)
{
	struct list_head *node = NULL;

	spin_lock_bh(&pending->lock);
	if (pending->count) {
		node = pending->queue.next;
		list_del_init(node);
		WRITE_ONCE(pending->count, pending->count - 1);
		pending->stats.accepted++;
	}
	spin_unlock_bh(&pending->lock);
	return node;
}

/* Move the newest @n entries, in queue order, onto the tail of @out. */
static void cu_pending_cut_newest(struct cu_pending *pending, u32 n,
				  struct list_head *out)
{
	struct list_head *oldest_cut = &pending->queue;
	LIST_HEAD(keep);
	u32 i;

	lockdep_assert_held(&pending->lock);
	for (i = 0; i < n; i++)
		oldest_cut = oldest_cut->prev;
	list_cut_before(&keep, &pending->queue, oldest_cut);
	list_splice_tail_init(&pending->queue, out);
	list_splice(&keep, &pending->queue);
	WRITE_ONCE(pending->count, pending->count - n);
}

/*
 * Open the queue, or change its capacity. Entries beyond the new backlog
 * (the newest ones) are moved to @excess and counted as reset by shrink.
 * Returns the previous backlog.
 */
u32 cu_pending_set_backlog(struct cu_pending *pending, u32 backlog,
			   struct list_head *excess)
{
	LIST_HEAD(cut);
	u32 old, n = 0;

	spin_lock_bh(&pending->lock);
	if (pending->count > backlog) {
		n = pending->count - backlog;
		cu_pending_cut_newest(pending, n, &cut);
		pending->stats.reset_shrink += n;
	}
	old = pending->backlog;
	WRITE_ONCE(pending->backlog, backlog);
	spin_unlock_bh(&pending->lock);
	list_splice_tail(&cut, excess);
	return old;
}

/* Stop listening: hand every entry to @all, counted as reset by close. */
void cu_pending_close(struct cu_pending *pending, struct list_head *all)
{
	spin_lock_bh(&pending->lock);
	pending->stats.reset_close += pending->count;
	WRITE_ONCE(pending->count, 0);
	WRITE_ONCE(pending->backlog, 0);
	list_splice_tail_init(&pending->queue, all);
	spin_unlock_bh(&pending->lock);
}

u32 cu_pending_count(const struct cu_pending *pending)
{
	return pending ? READ_ONCE(pending->count) : 0;
}

u32 cu_pending_backlog(const struct cu_pending *pending)
{
	return pending ? READ_ONCE(pending->backlog) : 0;
}

void cu_pending_stats(struct cu_pending *pending,
		      struct cu_listen_stats *stats)
{
	spin_lock_bh(&pending->lock);
	*stats = pending->stats;
	spin_unlock_bh(&pending->lock);
}

#if IS_BUILTIN(CONFIG_KUNIT)
#include "test/pending-test.c"
#endif
