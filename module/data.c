// SPDX-License-Identifier: GPL-2.0
/*
 * The skb path shared by every socket type: building an skb from a
 * sender's message, queueing it to the receiver, and taking it off the
 * receiver's queue. stream.c and dgram.c decide what a message is (a cut
 * of a stream, a record, a datagram); this file moves it.
 *
 * A sender copies its data into an skb charged to its own send buffer
 * (sock_alloc_send_pskb(), so SO_SNDBUF bounds what is in flight and a
 * full buffer blocks it or gives EAGAIN) and appends it straight to the
 * peer's receive queue. A small message goes in the skb's head; anything
 * bigger goes in order-0 pages. Two fast paths recycle what a reader is
 * done with back to the sender that wrote it, so a steady stream
 * allocates (and clears, with init_on_alloc) nothing:
 *   - the pages of an skb read whole go back to the sender's spare pages
 *     (pages.c), which carry its next big writes;
 *   - a small skb read whole becomes the sender's spare skb, which
 *     carries its next small message (the profile: allocating and
 *     freeing a 1-byte message's skb was a seventh of a round trip).
 * Each says at its definition why it holds with any number of threads on
 * either end. The lock order is written above struct cu_sock.
 */

#include <linux/sched/signal.h>
#include <linux/skbuff.h>
#include <net/busy_poll.h>
#include <net/sock.h>

#include "af_custom.h"
#include "data.h"
#include "direct.h"
#include "pages.h"

struct cu_skb_cb {
	u32	consumed;	/* bytes of a stream skb already read */
	u32	port;		/* the sender's port, for recvfrom() */
};

#define CU_SKB_CB(skb)		((struct cu_skb_cb *)(skb)->cb)

/*
 * Messages up to this size go in the skb's head: smaller than a page, and
 * a head this small costs less than taking a page.
 */
#define CU_SKB_LINEAR_MAX	1024

/* The most data an skb carries in pages. */
#define CU_SKB_PAGES_MAX	(MAX_SKB_FRAGS * PAGE_SIZE)

/*
 * A message the family cannot carry as asked: out-of-band data, or any
 * control message (no descriptor or credential passing: refused rather
 * than dropped, as TCP and UDP do).
 */
int cu_data_check_msg(const struct msghdr *msg)
{
	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (msg->msg_controllen)
		return -EINVAL;
	return 0;
}

/*
 * Whether @sk may take @len more bytes: a datagram socket's SO_RCVBUF.
 * Called under cu->lock of @sk.
 */
static bool cu_rx_has_room(const struct sock *sk, unsigned int len)
{
	const struct cu_sock *cu = cu_sk(sk);

	if (sk->sk_type != SOCK_DGRAM || skb_queue_empty(&sk->sk_receive_queue))
		return true;
	return cu->rx_bytes + len <= READ_ONCE(sk->sk_rcvbuf);
}

/*
 * Append @skb to @peer's queue. Fails with EPIPE, freeing @skb, if @peer
 * stopped receiving; with EAGAIN, keeping @skb, if a datagram receiver
 * has no room for it yet.
 */
int cu_data_deliver(struct sock *sk, struct sock *peer, struct sk_buff *skb)
{
	struct cu_sock *pcu = cu_sk(peer);
	unsigned int len = skb->len;

	spin_lock(&pcu->lock);
	if (peer->sk_shutdown & RCV_SHUTDOWN) {
		spin_unlock(&pcu->lock);
		kfree_skb(skb);
		return -EPIPE;
	}
	if (!cu_rx_has_room(peer, len)) {
		spin_unlock(&pcu->lock);
		return -EAGAIN;
	}
	atomic_add(len, &cu_sk(sk)->unread);
	WRITE_ONCE(pcu->rx_bytes, pcu->rx_bytes + len);
	__skb_queue_tail(&peer->sk_receive_queue, skb);
	spin_unlock(&pcu->lock);
	peer->sk_data_ready(peer);
	return 0;
}

/* Whether @peer, a datagram socket, has room for a small datagram. */
bool cu_data_peer_has_room(struct sock *peer)
{
	struct cu_sock *pcu = cu_sk(peer);
	bool room;

	spin_lock(&pcu->lock);
	room = cu_rx_has_room(peer, 1) || peer->sk_shutdown & RCV_SHUTDOWN;
	spin_unlock(&pcu->lock);
	return room;
}

/*
 * Sleep until @peer has room for @len bytes, or can take none. Everything
 * that changes the answer wakes the writers queue: a read, a purge, a
 * shutdown(SHUT_RD) and a larger SO_RCVBUF (cu_sock_release_cb()).
 */
long cu_data_wait_room(struct sock *peer, unsigned int len, long timeo)
{
	struct cu_sock *pcu = cu_sk(peer);
	DEFINE_WAIT(wait);
	bool ready;

	for (;;) {
		prepare_to_wait(&pcu->writers, &wait, TASK_INTERRUPTIBLE);
		spin_lock(&pcu->lock);
		ready = cu_rx_has_room(peer, len) ||
			peer->sk_shutdown & RCV_SHUTDOWN;
		spin_unlock(&pcu->lock);
		if (ready || !timeo || signal_pending(current))
			break;
		timeo = schedule_timeout(timeo);
	}
	finish_wait(&pcu->writers, &wait);
	return timeo;
}

/* How many spare pages @sk may keep: its send buffer's worth, capped. */
static unsigned int cu_data_spare_max(const struct sock *sk)
{
	return min_t(unsigned int, READ_ONCE(sk->sk_sndbuf) / PAGE_SIZE,
		     CU_PAGES_SPARE_MAX);
}

/* Give back the spare pages @sk may no longer keep (SO_SNDBUF shrank). */
void cu_data_trim_spare(struct sock *sk)
{
	cu_pages_trim(&cu_sk(sk)->spare, cu_data_spare_max(sk));
}

/*
 * Append @len bytes of pages to @skb, spare ones of @sk first, each
 * charged to @sk's send buffer as it is added (so kfree_skb() undoes a
 * partial fill).
 */
static int cu_data_add_pages(struct sock *sk, struct sk_buff *skb,
			     size_t len)
{
	struct cu_pages *spare = &cu_sk(sk)->spare;
	struct page *page;
	size_t bytes;
	int i;

	for (i = 0; len; i++, len -= bytes) {
		page = cu_pages_get(spare, sk->sk_allocation | __GFP_NOWARN);
		if (!page)
			return -ENOBUFS;
		bytes = min_t(size_t, len, PAGE_SIZE);
		skb_fill_page_desc(skb, i, page, 0, bytes);
		skb->len += bytes;
		skb->data_len += bytes;
		skb->truesize += PAGE_SIZE;
		refcount_add(PAGE_SIZE, &sk->sk_wmem_alloc);
	}
	return 0;
}

/*
 * Give the pages of @skb, read whole, back to the socket that wrote it.
 *
 * Why this holds with any number of threads on either end: the caller is
 * the one reader that unlinked @skb (under the receiver's iolock, which
 * every reader, peeking or not, holds while it touches an skb), so no
 * reader copies from these pages any more; an skb is never cloned or
 * spliced here, and a page someone else still holds (page count above 1)
 * is freed rather than kept. The sender is alive: @skb is still charged
 * to it. Its writers take spare pages under the spare list's lock, and
 * overwrite a page before any reader can see it.
 */
static void cu_data_return_pages(struct sk_buff *skb)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);
	struct sock *sender = skb->sk;
	unsigned int max;
	int i;

	if (!shinfo->nr_frags || skb_cloned(skb))
		return;
	max = cu_data_spare_max(sender);
	for (i = 0; i < shinfo->nr_frags; i++)
		cu_pages_put(&cu_sk(sender)->spare,
			     skb_frag_page(&shinfo->frags[i]), max);
	shinfo->nr_frags = 0;
	skb->len -= skb->data_len;
	skb->data_len = 0;
}

/*
 * Make @skb (uncharged, empty) the spare skb of @sk unless it has one;
 * free it otherwise.
 */
static void cu_data_keep_spare(struct sock *sk, struct sk_buff *skb)
{
	if (cmpxchg(&cu_sk(sk)->spare_skb, NULL, skb))
		consume_skb(skb);
}

/*
 * @sk's spare skb if it has room for @size bytes and nothing would make
 * sock_alloc_send_pskb() wait or fail: errors and waits stay its business.
 *
 * Why this holds with any number of threads on either end: the slot is
 * only ever emptied with xchg() and filled with cmpxchg() from empty, so
 * each spare skb has exactly one owner at a time. A writer takes the
 * spare first and only then looks at it: what it checks is what it owns,
 * and no other writer, nor the peer's reader installing a new spare, can
 * free or swap it in between. One too small goes back (or is freed).
 */
static struct sk_buff *cu_data_reuse_skb(struct sock *sk, size_t size)
{
	struct cu_sock *cu = cu_sk(sk);
	struct sk_buff *skb;

	if (!READ_ONCE(cu->spare_skb) || READ_ONCE(sk->sk_err) ||
	    READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN ||
	    sk_wmem_alloc_get(sk) >= READ_ONCE(sk->sk_sndbuf))
		return NULL;
	skb = xchg(&cu->spare_skb, NULL);
	if (!skb)
		return NULL;
	if (skb_tailroom(skb) < size) {
		cu_data_keep_spare(sk, skb);
		return NULL;
	}
	skb_set_owner_w(skb, sk);
	return skb;
}

/*
 * Free @skb, read whole; a small one becomes its sender's spare skb
 * unless the sender has one (or is going away). The sender is held
 * across skb_orphan(), which uncharges it and may drop its last hold.
 */
static void cu_data_free_skb(struct sk_buff *skb)
{
	struct sock *sender = skb->sk;

	if (skb_is_nonlinear(skb) || skb_cloned(skb) ||
	    READ_ONCE(cu_sk(sender)->spare_skb) ||
	    !refcount_inc_not_zero(&sender->sk_refcnt)) {
		cu_data_return_pages(skb);
		consume_skb(skb);
		return;
	}
	skb_orphan(skb);
	skb->len = 0;
	skb_reset_tail_pointer(skb);
	cu_data_keep_spare(sender, skb);
	sock_put(sender);
}

/*
 * An skb of @size bytes of @msg, charged to @sk's send buffer: a small
 * message in its head, a bigger one in pages; a record too big for
 * MAX_SKB_FRAGS pages keeps the rest in its head, as AF_UNIX does.
 */
struct sk_buff *cu_data_alloc_skb(struct sock *sk, struct msghdr *msg,
				  size_t size, int *err)
{
	size_t paged = size > CU_SKB_LINEAR_MAX ? size : 0;
	struct sk_buff *skb;

	paged = min_t(size_t, paged, CU_SKB_PAGES_MAX);
	skb = paged ? NULL : cu_data_reuse_skb(sk, size);
	if (!skb)
		skb = sock_alloc_send_pskb(sk, size - paged, 0,
					   msg->msg_flags & MSG_DONTWAIT, err,
					   0);
	if (!skb)
		return NULL;
	skb_put(skb, size - paged);
	*err = cu_data_add_pages(sk, skb, paged);
	if (!*err)
		*err = skb_copy_datagram_from_iter(skb, 0, &msg->msg_iter,
						   size);
	if (*err) {
		kfree_skb(skb);
		return NULL;
	}
	CU_SKB_CB(skb)->consumed = 0;
	CU_SKB_CB(skb)->port = READ_ONCE(cu_sk(sk)->port);
	return skb;
}

/*
 * The unread skb holding byte @skip of the queue (counted from the first
 * unread byte), with in *@offset where that byte is in it. Called under
 * cu->lock. @skip is 0 but for a peeking reader, so the walk is short.
 */
static struct sk_buff *cu_rx_seek(struct sk_buff_head *queue, u32 skip,
				  u32 *offset)
{
	struct sk_buff *skb;
	u32 unread;

	skb_queue_walk(queue, skb) {
		unread = skb->len - CU_SKB_CB(skb)->consumed;
		if (!skip || skip < unread) {
			*offset = CU_SKB_CB(skb)->consumed + skip;
			return skb;
		}
		skip -= unread;
	}
	return NULL;
}

/*
 * The next skb for a reader, under its iolock: the one after @last, an skb
 * it found since it last took the iolock, or else the one holding unread
 * byte @skip. When there is none, *@shutdown and *@error tell,
 * consistently with the empty queue, whether more data can come.
 */
struct sk_buff *cu_rx_find(struct sock *sk, struct sk_buff *last, u32 skip,
			   u32 *offset, u8 *shutdown, bool *error)
{
	struct cu_sock *cu = cu_sk(sk);
	struct sk_buff_head *queue = &sk->sk_receive_queue;
	struct sk_buff *skb;

	spin_lock(&cu->lock);
	if (last) {
		skb = skb_peek_next(last, queue);
		*offset = 0;
	} else {
		skb = cu_rx_seek(queue, skip, offset);
	}
	*shutdown = sk->sk_shutdown;
	*error = sk->sk_err;
	spin_unlock(&cu->lock);
	return skb;
}

/* Remember, under the iolock, where a reader that has seen @skip stands. */
void cu_rx_mark(struct sock *sk, struct cu_rx_mark *mark, u32 skip)
{
	mark->skip = skip;
	mark->taken = cu_sk(sk)->rx_taken;
	mark->direct = NULL;
}

/* Whether another reader took bytes since @mark (under the iolock). */
bool cu_rx_taken_since(struct sock *sk, const struct cu_rx_mark *mark)
{
	return cu_sk(sk)->rx_taken != mark->taken;
}

/*
 * Whether a reader at @mark has something new: anything queued, or its
 * offered buffer filled, or for a peeking reader, bytes past those it has
 * seen, or its view gone stale. Called under cu->lock, or without it by
 * the busy wait, for which an answer is only a hint.
 */
static bool cu_rx_has_news(const struct sock *sk, const struct cu_rx_mark *mark)
{
	const struct cu_sock *cu = cu_sk(sk);

	if (mark->direct && cu_direct_filled(mark->direct))
		return true;
	if (!mark->skip)
		return !skb_queue_empty_lockless(&sk->sk_receive_queue);
	return READ_ONCE(cu->rx_bytes) > mark->skip ||
	       READ_ONCE(cu->rx_taken) != mark->taken;
}

/*
 * Whether a reader at @mark should stop waiting: news, an error, or no
 * more to come. Decided under cu->lock; the busy wait looks without it.
 */
static bool cu_rx_ready(const struct sock *sk, const struct cu_rx_mark *mark)
{
	return cu_rx_has_news(sk, mark) || READ_ONCE(sk->sk_err) ||
	       READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN;
}

/*
 * SO_BUSY_POLL (or net.core.busy_read) asks a blocking receive to spin
 * for up to sk_ll_usec microseconds before it sleeps. A reader with a
 * CPU of its own then sees data as soon as a writer on another CPU
 * queues it, without the wakeup of a sleeping task (an IPI, an exit from
 * idle and a context switch), for the CPU time it spends spinning.
 *
 * Why it holds with any number of threads: the spin only looks, without
 * a lock (cu_rx_ready() is a hint there); the reader decides under
 * cu->lock in cu_rx_sleep() as it would without the spin, so the spin
 * changes when a reader notices, never what it finds or takes. It holds
 * no lock (the iolock is dropped before) and does not sleep. One reader
 * spins per socket, claimed by an atomic exchange: a second would see
 * the same data at the same moment and only take CPU time from the
 * threads that provide it; the others sleep as without the option.
 *
 * It stops for a signal and when @timeo (SO_RCVTIMEO) runs out, and
 * returns what is left of @timeo. A task that needs the CPU meanwhile
 * gets it (cond_resched(), as napi_busy_loop() does; RCU asks this way
 * too), and the spin goes on once it is back.
 */
static long cu_rx_busy_wait(struct sock *sk, long timeo,
			    const struct cu_rx_mark *mark)
{
	struct cu_sock *cu = cu_sk(sk);
	unsigned long begin = jiffies, start;
	long elapsed;

	if (!sk_can_busy_loop(sk) || atomic_xchg(&cu->spinning, 1))
		return timeo;
	start = busy_loop_current_time();
	for (;;) {
		elapsed = jiffies - begin;
		if (cu_rx_ready(sk, mark) || !sk_can_busy_loop(sk) ||
		    sk_busy_loop_timeout(sk, start) ||
		    (timeo != MAX_SCHEDULE_TIMEOUT && elapsed >= timeo))
			break;
		if (need_resched())
			cond_resched();
		else
			cpu_relax();
	}
	atomic_set(&cu->spinning, 0);
	if (timeo == MAX_SCHEDULE_TIMEOUT)
		return timeo;
	return max(timeo - elapsed, 0L);
}

/*
 * Whether a wakeup for room in the send buffer should wake a reader
 * anyway: only one that last ran on another CPU than the waker's. The
 * waker is then, nearly always, the peer reading what this reader sent,
 * and the answer the reader waits for is likely on its way. Woken now,
 * the reader's CPU leaves idle (an IPI, and in a VM a host thread's
 * wakeup: 30-60 us under QEMU TCG, more than the socket's own work)
 * while the peer writes that answer, instead of after; the reader finds
 * the answer, or sleeps again. This took a quarter to a third off the
 * unpinned round trip (docs/bench.md, issue 16), and is what AF_UNIX's
 * stream readers get from their unfiltered wakeups. On the waker's own
 * CPU the early wakeup would only cost two context switches, so it is
 * filtered there.
 */
static bool cu_rx_wake_early(const struct wait_queue_entry *wait)
{
	const struct task_struct *reader = wait->private;

	return task_cpu(reader) != smp_processor_id();
}

/*
 * A reader's wakeup: data, an error or a hangup; room in the send buffer
 * only as cu_rx_wake_early() says. Readers and writers share sk_sleep(),
 * and a reader's own peer frees that room each time it reads what the
 * reader sent: on one CPU, a ping-pong woke the reader before its answer
 * was there, for nothing, at a cost of two context switches more per
 * message (the profile of make bench PROFILE=1; AF_UNIX's datagram path
 * filters the same way).
 *
 * Why no reader misses a wakeup, however many sleep: a reader waits
 * non-exclusively and checks its condition (cu_rx_has_news(), sk_err,
 * RCV_SHUTDOWN) under cu->lock after queueing itself, and everything that
 * can make that condition true wakes with a key this lets through:
 * sk_data_ready() (EPOLLIN) after queueing, sk_error_report() (EPOLLERR),
 * sk_state_change() (no key) after a shutdown or hangup. What it drops
 * carries only write-space bits, which no reader waits for; what it
 * lets through early is one more look. A peeker whose view went stale
 * because another reader took bytes is not woken for that alone: it has
 * nothing new to read until more data comes, which wakes it. The early
 * wakeup adds at most one wakeup per reader per message read, as
 * sk_data_ready() already costs every reader.
 */
static int cu_rx_wake(struct wait_queue_entry *wait, unsigned int mode,
		      int sync, void *key)
{
	if (key && !(key_to_poll(key) & (EPOLLIN | EPOLLERR | EPOLLHUP |
					 EPOLLRDHUP)) &&
	    !cu_rx_wake_early(wait))
		return 0;
	return autoremove_wake_function(wait, mode, sync, key);
}

/* Sleep until the reader at @mark has news, or no more can come. */
static long cu_rx_sleep(struct sock *sk, long timeo,
			const struct cu_rx_mark *mark)
{
	struct cu_sock *cu = cu_sk(sk);
	DEFINE_WAIT_FUNC(wait, cu_rx_wake);
	bool more;

	timeo = cu_rx_busy_wait(sk, timeo, mark);
	for (;;) {
		prepare_to_wait(sk_sleep(sk), &wait, TASK_INTERRUPTIBLE);
		spin_lock(&cu->lock);
		more = cu_rx_ready(sk, mark);
		spin_unlock(&cu->lock);
		if (more || !timeo || signal_pending(current))
			break;
		sk_set_bit(SOCKWQ_ASYNC_WAITDATA, sk);
		timeo = schedule_timeout(timeo);
		sk_clear_bit(SOCKWQ_ASYNC_WAITDATA, sk);
	}
	finish_wait(sk_sleep(sk), &wait);
	return timeo;
}

/*
 * A reader at @mark holding @copied bytes found nothing more. Returns 0 to
 * look again, 1 to return what it has (end of stream), or -errno. An
 * error waits behind data already read: it is reported by the next call.
 * The iolock is dropped while it sleeps: any skb the reader found before
 * may be gone when this returns.
 */
int cu_rx_wait(struct sock *sk, long *timeo, const struct cu_rx_mark *mark,
	       size_t copied, u8 shutdown, bool error)
{
	struct cu_sock *cu = cu_sk(sk);

	if (error) {
		if (copied)
			return 1;
		return sock_error(sk);	/* 0 if another reader took it */
	}
	if (shutdown & RCV_SHUTDOWN)
		return 1;
	if (!*timeo)
		return copied ? 1 : -EAGAIN;

	mutex_unlock(&cu->iolock);
	*timeo = cu_rx_sleep(sk, *timeo, mark);
	mutex_lock(&cu->iolock);
	if (signal_pending(current))
		return copied ? 1 : sock_intr_errno(*timeo);
	return 0;
}

/* Mark @len bytes of @skb read; free it once all of it is. */
void cu_rx_consume(struct sock *sk, struct sk_buff *skb, unsigned int len)
{
	struct cu_sock *cu = cu_sk(sk);
	u32 consumed = CU_SKB_CB(skb)->consumed + len;

	atomic_sub(len, &cu_sk(skb->sk)->unread);
	spin_lock(&cu->lock);
	CU_SKB_CB(skb)->consumed = consumed;
	WRITE_ONCE(cu->rx_bytes, cu->rx_bytes - len);
	WRITE_ONCE(cu->rx_taken, cu->rx_taken + len);
	if (consumed == skb->len)
		__skb_unlink(skb, &sk->sk_receive_queue);
	spin_unlock(&cu->lock);
	if (consumed < skb->len)
		return;
	cu_data_free_skb(skb);
	if (sk->sk_type == SOCK_DGRAM)
		wake_up_interruptible(&cu->writers);
}

static void cu_data_name(struct msghdr *msg, u32 port)
{
	DECLARE_SOCKADDR(struct sockaddr_cu *, addr, msg->msg_name);

	if (!addr)
		return;
	addr->scu_family = cu_family;
	addr->scu_reserved = 0;
	addr->scu_port = port;
	msg->msg_namelen = sizeof(*addr);
}

/*
 * Read one record (SEQPACKET) or datagram, whole or truncated with
 * MSG_TRUNC. Called under cu->iolock.
 */
int cu_data_read_record(struct sock *sk, struct msghdr *msg, size_t len,
			int flags)
{
	long timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	struct cu_rx_mark mark;
	struct sk_buff *skb;
	size_t copied;
	u32 offset;
	u8 shutdown;
	bool error;
	int err;

	cu_rx_mark(sk, &mark, 0);
	for (;;) {
		skb = cu_rx_find(sk, NULL, 0, &offset, &shutdown, &error);
		if (skb)
			break;
		err = cu_rx_wait(sk, &timeo, &mark, 0, shutdown, error);
		if (err)
			return err > 0 ? 0 : err;
	}
	copied = min_t(size_t, skb->len, len);
	if (copied < skb->len)
		msg->msg_flags |= MSG_TRUNC;
	if (skb_copy_datagram_msg(skb, 0, msg, copied))
		return -EFAULT;
	cu_data_name(msg, CU_SKB_CB(skb)->port);
	if (flags & MSG_TRUNC)
		copied = skb->len;
	if (!(flags & MSG_PEEK))
		cu_rx_consume(sk, skb, skb->len);
	return copied;
}

/*
 * Throw away what @sk received and did not read, once nothing more can
 * arrive; the senders' SIOCOUTQ forgets it too.
 */
void cu_data_purge(struct sock *sk)
{
	struct cu_sock *cu = cu_sk(sk);
	struct sk_buff_head unread;
	struct sk_buff *skb;

	__skb_queue_head_init(&unread);
	spin_lock(&cu->lock);
	skb_queue_splice_init(&sk->sk_receive_queue, &unread);
	WRITE_ONCE(cu->rx_bytes, 0);
	spin_unlock(&cu->lock);

	while ((skb = __skb_dequeue(&unread))) {
		atomic_sub(skb->len - CU_SKB_CB(skb)->consumed,
			   &cu_sk(skb->sk)->unread);
		kfree_skb(skb);
	}
	wake_up_interruptible_all(&cu->writers);
}

/* SIOCINQ of a datagram socket: the size of the next datagram. */
int cu_data_next_size(struct sock *sk)
{
	struct cu_sock *cu = cu_sk(sk);
	struct sk_buff *skb;
	int bytes;

	spin_lock(&cu->lock);
	skb = skb_peek(&sk->sk_receive_queue);
	bytes = skb ? skb->len : 0;
	spin_unlock(&cu->lock);
	return bytes;
}
