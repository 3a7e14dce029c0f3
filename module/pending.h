/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CU_PENDING_H
#define _CU_PENDING_H

#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/af_custom.h>

/*
 * The queue of a listener's pending connections. Entries are list nodes
 * embedded in the caller's objects; the queue never allocates per entry.
 * A backlog of 0 means "not listening": nothing can be added.
 */
struct cu_pending {
	spinlock_t		lock;		/* all of the below */
	struct list_head	queue;		/* oldest first */
	u32			count;		/* entries in queue */
	u32			backlog;	/* capacity, 0 when closed */
	struct cu_listen_stats	stats;
};

enum cu_pending_verdict {
	CU_PENDING_QUEUED,
	CU_PENDING_FULL,
	CU_PENDING_CLOSED,
};

struct cu_pending *cu_pending_alloc(gfp_t gfp);
void cu_pending_free(struct cu_pending *pending);

enum cu_pending_verdict cu_pending_add(struct cu_pending *pending,
				       struct list_head *node);
struct list_head *cu_pending_take(struct cu_pending *pending);
u32 cu_pending_set_backlog(struct cu_pending *pending, u32 backlog,
			   struct list_head *excess);
void cu_pending_close(struct cu_pending *pending, struct list_head *all);

u32 cu_pending_count(const struct cu_pending *pending);
u32 cu_pending_backlog(const struct cu_pending *pending);
void cu_pending_stats(struct cu_pending *pending,
		      struct cu_listen_stats *stats);

#endif /* _CU_PENDING_H */
