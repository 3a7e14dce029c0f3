// SPDX-License-Identifier: GPL-2.0
/*
 * Spare data pages of a sending socket.
 *
 * Writes bigger than a small message carry their data in order-0 pages
 * (stream.c). Once the peer has read such an skb whole, its pages go back
 * to the socket that wrote them, which takes them for its next writes
 * before asking the page allocator. This is what the profile of make bench
 * PROFILE=1 asked for: with init_on_alloc (Debian's default) every fresh
 * page is cleared, and clearing plus allocating cost about a sixth of a
 * 64 KiB write, as much as one of its two copies. A recycled page holds
 * the same socket's old data, overwritten by the next write before anyone
 * can read it.
 *
 * A socket keeps at most its SO_SNDBUF worth of spare pages (the caller
 * passes the bound), so spare plus in-flight memory stays within twice
 * the send buffer; they are freed with the socket.
 *
 * Locking: spare->lock guards the list and count. It is taken by the
 * socket's writers and by its peer's readers (under their cu->iolock,
 * never under a spinlock), and nothing is taken under it.
 */

#include <linux/mm.h>

#include "pages.h"

void cu_pages_init(struct cu_pages *spare)
{
	spin_lock_init(&spare->lock);
	INIT_LIST_HEAD(&spare->list);
	spare->count = 0;
}

/* A page for a write: a spare one, else a new one. */
struct page *cu_pages_get(struct cu_pages *spare, gfp_t gfp)
{
	struct page *page = NULL;

	if (READ_ONCE(spare->count)) {
		spin_lock(&spare->lock);
		page = list_first_entry_or_null(&spare->list, struct page, lru);
		if (page) {
			list_del(&page->lru);
			WRITE_ONCE(spare->count, spare->count - 1);
		}
		spin_unlock(&spare->lock);
	}
	return page ?: alloc_page(gfp);
}

/*
 * Give back a page a reader is done with: kept if nobody else holds it
 * and fewer than @max are spare, freed otherwise.
 */
void cu_pages_put(struct cu_pages *spare, struct page *page,
		  unsigned int max)
{
	if (page_ref_count(page) == 1 && !PageCompound(page) &&
	    READ_ONCE(spare->count) < max) {
		spin_lock(&spare->lock);
		if (spare->count < max) {
			list_add(&page->lru, &spare->list);
			WRITE_ONCE(spare->count, spare->count + 1);
			page = NULL;
		}
		spin_unlock(&spare->lock);
	}
	if (page)
		put_page(page);
}

/* Called by the socket's destructor: nobody else can reach the list. */
void cu_pages_free(struct cu_pages *spare)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, &spare->list, lru)
		put_page(page);
	INIT_LIST_HEAD(&spare->list);
	spare->count = 0;
}
