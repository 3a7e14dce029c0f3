// SPDX-License-Identifier: GPL-2.0
/*
 * One copy for a stream: when a reader is already waiting, the writer
 * copies straight into the reader's buffer instead of into an skb the
 * reader would copy again.
 *
 * A SOCK_STREAM reader (not peeking) that is about to sleep on an empty
 * queue pins the pages of its buffer and offers them: cu->direct points
 * at a struct cu_rx_direct on its stack. A writer that finds the offer,
 * with the queue still empty, takes it, copies up to the offered length
 * into those pages, marks it done and wakes the reader. Anything it does
 * not copy goes through the queue as before (stream.c, data.c). Nothing
 * offered is ever queued, so SIOCINQ, MSG_PEEK and the queue's order are
 * untouched: the writer takes an offer only while the queue is empty, and
 * the reader collects its offer before it looks at the queue again.
 *
 * Why this holds with any number of threads on either end:
 *   - cu->direct is set and cleared only under cu->lock of the reading
 *     socket (lock order 6). It is set by a reader holding the iolock,
 *     which every reader holds from its offer until it has collected it,
 *     so there is one offer at a time and it belongs to the one reader
 *     that is asleep with it (the iolock is dropped while it sleeps, so
 *     other readers may run, find cu->direct taken, and sleep as usual;
 *     a peeker never offers).
 *   - Exactly one party ends an offer: under cu->lock, either a writer
 *     takes it (clearing cu->direct) or the reader withdraws it (same).
 *     A writer that took it owns the pages until it sets ->done with a
 *     release store, and touches neither the pages nor the offer after
 *     that; the reader reads ->filled after an acquire of ->done and
 *     only then unpins. So no writer touches a page the reader released,
 *     and the reader's stack outlives every writer's use of the offer.
 *   - The writer copies with page faults disabled, so the time it holds
 *     an offer is bounded by one copy of at most CU_DIRECT_PAGES pages:
 *     a reader withdrawing a taken offer (a signal, a timeout, a
 *     shutdown) waits for it uninterruptibly without risk of hanging on
 *     a fault in the writer's memory (userfaultfd, swap). A short copy
 *     ends the offer with what was copied; the rest is queued.
 *   - A writer takes an offer only when its socket may send (no error,
 *     no SEND_SHUTDOWN) and the reader may receive (no RCV_SHUTDOWN),
 *     checked under the same lock as a queued send checks it.
 *   - The reader's wakeups are the queue's: the writer calls the reader's
 *     sk_data_ready(), and cu_rx_has_news() (data.c) counts a done offer
 *     as news; a reader withdrawing a taken offer sleeps on the offer's
 *     address (wake_up_var()), which the writer calls after ->done. Both
 *     use only the socket, held by the writer's ->peer, or the address.
 *     The writer's are too: a reader that collected bytes calls the
 *     writer's sk_write_space(), as freeing a queued skb would.
 *
 * The pin is FOLL_LONGTERM because a reader may sleep for as long as no
 * one writes: the pages are moved out of movable zones first. Only
 * anonymous memory is offered (a private mapping's pages are, once the
 * write pin has broken copy-on-write); anything else reads through the
 * queue. At most CU_DIRECT_PAGES pages per sleeping reader, which are
 * its own buffer, and released when its recvmsg() returns.
 */

#include <linux/mm.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/wait_bit.h>
#include <net/sock.h>

#include "af_custom.h"
#include "compat.h"
#include "direct.h"

/*
 * Below this a read is cheaper through the queue: it would fit an skb's
 * head (CU_SKB_LINEAR_MAX), and pinning costs more than the copy saved.
 */
#define CU_DIRECT_MIN		1024

/*
 * Whether all @pages are anonymous memory. A page of a shared file
 * mapping must not be written behind its filesystem's back while it is
 * pinned (writeback may clean it meanwhile; 6.4 refuses such long-term
 * pins, 6.1 does not), and shmem or hugetlbfs are not worth the case: a
 * reader with such a buffer reads through the queue.
 */
static bool cu_direct_all_anon(struct page **pages, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		if (!PageAnon(pages[i]))
			return false;
	return true;
}

/*
 * Pin the reader's next buffer segment, up to CU_DIRECT_PAGES pages, for
 * @direct. Returns false when there is nothing worth offering.
 */
static bool cu_direct_pin(struct cu_rx_direct *direct, struct iov_iter *iter)
{
	void __user *base = cu_iter_user_addr(iter);
	unsigned long addr = (unsigned long)base;
	size_t len = iov_iter_single_seg_count(iter);
	int pinned;

	if (!base || len <= CU_DIRECT_MIN)
		return false;
	direct->offset = offset_in_page(addr);
	len = min_t(size_t, len,
		    CU_DIRECT_PAGES * PAGE_SIZE - direct->offset);
	pinned = pin_user_pages_fast(addr & PAGE_MASK,
				     DIV_ROUND_UP(direct->offset + len,
						  PAGE_SIZE),
				     FOLL_WRITE | FOLL_LONGTERM,
				     direct->pages);
	if (pinned <= 0)
		return false;
	if (!cu_direct_all_anon(direct->pages, pinned)) {
		unpin_user_pages(direct->pages, pinned);
		return false;
	}
	direct->nr_pages = pinned;
	direct->len = min_t(size_t, len, pinned * PAGE_SIZE - direct->offset);
	direct->filled = 0;
	direct->done = 0;
	return true;
}

/*
 * Offer the reader's buffer to @sk's writers before sleeping, if the
 * queue is still empty and data can still come. Called under the iolock;
 * the caller collects the offer with cu_direct_take_back() once it wakes,
 * whatever woke it.
 */
bool cu_direct_offer(struct sock *sk, struct cu_rx_direct *direct,
		     struct iov_iter *iter)
{
	struct cu_sock *cu = cu_sk(sk);
	bool offered;

	/* another reader's offer is out: no use pinning */
	if (READ_ONCE(cu->direct) || !cu_direct_pin(direct, iter))
		return false;
	spin_lock(&cu->lock);
	offered = !cu->direct && skb_queue_empty(&sk->sk_receive_queue) &&
		  !sk->sk_err && !(sk->sk_shutdown & RCV_SHUTDOWN);
	if (offered)
		WRITE_ONCE(cu->direct, direct);
	spin_unlock(&cu->lock);
	if (!offered)
		unpin_user_pages(direct->pages, direct->nr_pages);
	return offered;
}

/* Whether a writer is done with @direct: under cu->lock, or by its owner. */
bool cu_direct_filled(const struct cu_rx_direct *direct)
{
	/* Pairs with cu_direct_give(): ->filled and the pages are written. */
	return smp_load_acquire(&direct->done);
}

/*
 * Tell @sk's peer that a reader took what it wrote into an offer, as a
 * queued message's sender is told when the reader frees it (sock_wfree()
 * calls sk_write_space()): its own readers on another CPU are then woken
 * early, while their answer is being written (data.c,
 * cu_rx_wake_early()). ->peer stays set and held until @sk's release,
 * which cannot run while its reader is in recvmsg().
 */
static void cu_direct_tell_writer(struct sock *sk)
{
	struct sock *peer = READ_ONCE(cu_sk(sk)->peer);

	if (peer)
		peer->sk_write_space(peer);
}

/*
 * Collect an offer: withdraw it if no writer took it, or wait for the
 * writer that did. Advances @iter past what was written and returns that
 * count. The pages written are dirtied; all are unpinned.
 */
size_t cu_direct_take_back(struct sock *sk, struct cu_rx_direct *direct,
			   struct iov_iter *iter)
{
	struct cu_sock *cu = cu_sk(sk);
	unsigned int written = 0;
	bool taken;

	spin_lock(&cu->lock);
	taken = cu->direct != direct;
	if (!taken)
		WRITE_ONCE(cu->direct, NULL);
	spin_unlock(&cu->lock);

	if (taken) {
		wait_var_event(direct, cu_direct_filled(direct));
		if (direct->filled)
			written = DIV_ROUND_UP(direct->offset + direct->filled,
					       PAGE_SIZE);
	}
	unpin_user_pages_dirty_lock(direct->pages, written, true);
	unpin_user_pages(direct->pages + written, direct->nr_pages - written);
	if (!taken)
		return 0;
	if (direct->filled)
		cu_direct_tell_writer(sk);
	iov_iter_advance(iter, direct->filled);
	return direct->filled;
}

/* Take @peer's offer if it may be filled now; NULL if there is none. */
static struct cu_rx_direct *cu_direct_take(struct sock *sk, struct sock *peer)
{
	struct cu_sock *pcu = cu_sk(peer);
	struct cu_rx_direct *direct;

	if (READ_ONCE(sk->sk_err) || READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN)
		return NULL;
	spin_lock(&pcu->lock);
	direct = pcu->direct;
	if (direct && skb_queue_empty(&peer->sk_receive_queue) &&
	    !(peer->sk_shutdown & RCV_SHUTDOWN))
		WRITE_ONCE(pcu->direct, NULL);
	else
		direct = NULL;
	spin_unlock(&pcu->lock);
	return direct;
}

/*
 * Copy up to @len bytes of @msg into @direct's pages, without sleeping:
 * a fault ends the copy short.
 */
static size_t cu_direct_fill(struct cu_rx_direct *direct, struct msghdr *msg,
			     size_t len)
{
	size_t pos = 0, at, bytes, copied;

	len = min_t(size_t, len, direct->len);
	pagefault_disable();
	while (pos < len) {
		at = direct->offset + pos;
		bytes = min_t(size_t, len - pos, PAGE_SIZE - offset_in_page(at));
		copied = copy_page_from_iter_atomic(direct->pages[at >> PAGE_SHIFT],
						    offset_in_page(at), bytes,
						    &msg->msg_iter);
		pos += copied;
		if (copied < bytes)
			break;
	}
	pagefault_enable();
	return pos;
}

/*
 * A writer's first try for the next @len bytes of @msg: straight into the
 * buffer of a reader of @peer that is waiting for them. Returns the bytes
 * so delivered, 0 if none (then they go through the queue).
 */
size_t cu_direct_give(struct sock *sk, struct sock *peer, struct msghdr *msg,
		      size_t len)
{
	struct cu_rx_direct *direct;
	size_t copied;

	if (!READ_ONCE(cu_sk(peer)->direct))
		return 0;
	/* Fault the source in now: the copy itself must not sleep. */
	len = min_t(size_t, len, CU_DIRECT_PAGES * PAGE_SIZE);
	len -= cu_fault_in_readable(&msg->msg_iter, len);
	if (!len)
		return 0;
	direct = cu_direct_take(sk, peer);
	if (!direct)
		return 0;
	copied = cu_direct_fill(direct, msg, len);
	direct->filled = copied;
	/* The pages and ->filled are the reader's again once it sees this. */
	smp_store_release(&direct->done, 1);
	/* Order ->done before wake_up_var()'s look for a waiter. */
	smp_mb();
	wake_up_var(direct);
	peer->sk_data_ready(peer);
	return copied;
}
