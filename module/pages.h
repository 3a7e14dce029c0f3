/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CU_PAGES_H
#define _CU_PAGES_H

#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/spinlock.h>

struct page;

/*
 * The spare data pages of a sending socket: pages its peer has read,
 * kept to carry the socket's next writes (see pages.c).
 */
struct cu_pages {
	spinlock_t		lock;		/* list and count */
	struct list_head	list;		/* linked by page->lru */
	unsigned int		count;
};

/* The most spare pages a socket keeps, whatever its SO_SNDBUF. */
#define CU_PAGES_SPARE_MAX	64

void cu_pages_init(struct cu_pages *spare);
struct page *cu_pages_get(struct cu_pages *spare, gfp_t gfp);
void cu_pages_put(struct cu_pages *spare, struct page *page,
		  unsigned int max);
void cu_pages_trim(struct cu_pages *spare, unsigned int max);
void cu_pages_free(struct cu_pages *spare);

#endif /* _CU_PAGES_H */
