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
 * Spare pages are memory no skb holds, so they are bounded and charged
 * on their own: a socket keeps at most its SO_SNDBUF worth and never more
 * than CU_PAGES_SPARE_MAX (256 KiB with 4 KiB pages: a little over the
 * default SO_SNDBUF, so a default socket recycles all it has in flight),
 * whatever SO_SNDBUFFORCE says; a smaller SO_SNDBUF trims them at once;
 * and every page is allocated with __GFP_ACCOUNT, so it counts against
 * the writer's memory cgroup for as long as it lives, spare or in flight.
 * They are freed with the socket.
 *
 * Locking: spare->lock guards the list and count. It is taken by the
 * socket's writers, by its peer's readers (under their cu->iolock) and by
 * the socket's release_cb (under its socket-lock spinlock), always in
 * process context; nothing is taken under it.
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
	return page ?: alloc_page(gfp | __GFP_ACCOUNT);
}

/*
 * Give back a page a reader is done with: kept if nobody else holds it
 * and fewer than @max are spare, freed otherwise.
 */
void cu_pages_put(struct cu_pages *spare, struct page *page,
		  unsigned int max)
{
	max = min_t(unsigned int, max, CU_PAGES_SPARE_MAX);
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

/* Free the spare pages beyond @max. */
void cu_pages_trim(struct cu_pages *spare, unsigned int max)
{
	struct page *page, *next;
	LIST_HEAD(excess);

	if (READ_ONCE(spare->count) <= max)
		return;
	spin_lock(&spare->lock);
	while (spare->count > max) {
		page = list_first_entry(&spare->list, struct page, lru);
		list_move(&page->lru, &excess);
		WRITE_ONCE(spare->count, spare->count - 1);
	}
	spin_unlock(&spare->lock);
	list_for_each_entry_safe(page, next, &excess, lru)
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
