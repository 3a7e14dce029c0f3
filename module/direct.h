/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CU_DIRECT_H
#define _CU_DIRECT_H

#include <linux/types.h>

struct iov_iter;
struct msghdr;
struct page;
struct sock;

/* The most a reader offers at once: 64 KiB at any offset in a page. */
#define CU_DIRECT_PAGES		17

/*
 * A stream reader's own buffer, offered to its peer's writers while the
 * reader sleeps on an empty queue (direct.c). It lives on the reader's
 * stack; the reader does not return before every writer is done with it.
 */
struct cu_rx_direct {
	struct page	*pages[CU_DIRECT_PAGES];	/* pinned, the reader's */
	unsigned int	nr_pages;
	unsigned int	offset;		/* of the first byte, in pages[0] */
	unsigned int	len;		/* bytes offered */
	unsigned int	filled;		/* bytes written; read once done */
	/*
	 * The writer let go: release/acquire. A u8, not a bool: with
	 * CONFIG_UBSAN_BOOL, gcc 12 compiles a bool's smp_load_acquire() to
	 * a plain load, which KCSAN then reports as a data race.
	 */
	u8		done;
};

bool cu_direct_offer(struct sock *sk, struct cu_rx_direct *direct,
		     struct iov_iter *iter);
size_t cu_direct_take_back(struct sock *sk, struct cu_rx_direct *direct,
			   struct iov_iter *iter);
bool cu_direct_filled(const struct cu_rx_direct *direct);
size_t cu_direct_give(struct sock *sk, struct sock *peer, struct msghdr *msg,
		      size_t len);

#endif /* _CU_DIRECT_H */
