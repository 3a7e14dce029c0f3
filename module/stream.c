// SPDX-License-Identifier: GPL-2.0
/*
 * The data path of connected sockets: SOCK_STREAM and SOCK_SEQPACKET.
 *
 * A sender copies its data into skbs charged to its own send buffer
 * (sock_alloc_send_pskb(), so SO_SNDBUF bounds what is in flight and a
 * full buffer blocks it or gives EAGAIN) and appends them straight to the
 * peer's receive queue. A small message goes in the skb's head; anything
 * bigger goes in order-0 pages, which return to the sender (pages.c) once
 * the peer has read the skb, so a steady stream reuses the same pages.
 * Likewise a small skb read whole becomes its sender's spare skb, which
 * carries the sender's next small message: a ping-pong of small messages
 * allocates nothing (the profile: allocating and freeing a 1-byte
 * message's skb was a seventh of a round trip, clearing included).
 * The two types differ in one place each way: a SEQPACKET record is one
 * skb, sent whole or not at all, and read whole (truncated with
 * MSG_TRUNC); a stream is cut into skbs of any size and read across them.
 *
 * Locking (see af_custom.h): cu->lock of the receiving socket guards its
 * queue, sk_shutdown and sk_err; it is taken briefly and never nested.
 * cu->iolock serialises readers; only a reader takes skbs off the queue,
 * so an skb it peeked stays valid until it unlinks it itself. A reader
 * gives a read skb's pages back to the skb's sender, which is alive while
 * the skb is charged to it (pages.c has the spare list's lock). The
 * spare skb is handed over with xchg() and cmpxchg(), under no lock.
 */

#include <linux/sched/signal.h>
#include <linux/skbuff.h>
#include <net/sock.h>

#include "af_custom.h"
#include "conn.h"
#include "pages.h"
#include "stream.h"

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

static bool cu_is_record(const struct sock *sk)
{
	return sk->sk_type == SOCK_SEQPACKET;
}

static size_t cu_stream_chunk(const struct sock *sk, size_t left)
{
	size_t max = (READ_ONCE(sk->sk_sndbuf) >> 1) - 64;

	max = min_t(size_t, max, CU_SKB_PAGES_MAX);
	return min(left, max);
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
	pcu->rx_bytes += len;
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

/* Sleep until @peer has room for @len bytes, or can take none. */
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

/* Give the pages of @skb, read whole, back to the socket that wrote it. */
static void cu_data_return_pages(struct sk_buff *skb)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);
	struct sock *sender = skb->sk;
	unsigned int max;
	int i;

	if (!shinfo->nr_frags || skb_cloned(skb))
		return;
	max = READ_ONCE(sender->sk_sndbuf) / PAGE_SIZE;
	for (i = 0; i < shinfo->nr_frags; i++)
		cu_pages_put(&cu_sk(sender)->spare,
			     skb_frag_page(&shinfo->frags[i]), max);
	shinfo->nr_frags = 0;
	skb->len -= skb->data_len;
	skb->data_len = 0;
}

/*
 * @sk's spare skb if it has room for @size bytes and nothing would make
 * sock_alloc_send_pskb() wait or fail: errors and waits stay its business.
 */
static struct sk_buff *cu_data_reuse_skb(struct sock *sk, size_t size)
{
	struct cu_sock *cu = cu_sk(sk);
	struct sk_buff *skb = READ_ONCE(cu->spare_skb);

	if (!skb || skb_tailroom(skb) < size || READ_ONCE(sk->sk_err) ||
	    READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN ||
	    sk_wmem_alloc_get(sk) >= READ_ONCE(sk->sk_sndbuf))
		return NULL;
	skb = xchg(&cu->spare_skb, NULL);
	if (skb)
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
	if (cmpxchg(&cu_sk(sender)->spare_skb, NULL, skb))
		consume_skb(skb);
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

int cu_stream_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	struct sock *peer = READ_ONCE(cu_sk(sk)->peer);
	bool record = cu_is_record(sk);
	size_t size, sent = 0;
	struct sk_buff *skb;
	int err;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (msg->msg_namelen)
		return peer ? -EISCONN : -EOPNOTSUPP;
	if (!peer)
		return -ENOTCONN;
	if (!len && !record)
		return 0;
	if (record && len > READ_ONCE(sk->sk_sndbuf) - 32)
		return -EMSGSIZE;

	do {
		size = record ? len : cu_stream_chunk(sk, len - sent);
		skb = cu_data_alloc_skb(sk, msg, size, &err);
		if (!skb)
			break;
		err = cu_data_deliver(sk, peer, skb);
		if (err)
			break;
		sent += size;
	} while (sent < len);

	if (sent)
		return sent;
	if (err == -EPIPE && !(msg->msg_flags & MSG_NOSIGNAL))
		send_sig(SIGPIPE, current, 0);
	return err;
}

/*
 * The skb after @last (the first one if @last is NULL). When there is
 * none, *@shutdown and *@error tell, consistently with the empty queue,
 * whether more data can come.
 */
static struct sk_buff *cu_rx_next(struct sock *sk, struct sk_buff *last,
				  u8 *shutdown, bool *error)
{
	struct cu_sock *cu = cu_sk(sk);
	struct sk_buff_head *queue = &sk->sk_receive_queue;
	struct sk_buff *skb;

	spin_lock(&cu->lock);
	skb = last ? skb_peek_next(last, queue) : skb_peek(queue);
	*shutdown = sk->sk_shutdown;
	*error = sk->sk_err;
	spin_unlock(&cu->lock);
	return skb;
}

/*
 * A reader's wakeup: data, an error or a hangup; not room in the send
 * buffer. Readers and writers share sk_sleep(), and a reader's own peer
 * frees that room each time it reads what the reader sent: in a ping-pong
 * that woke the reader before its answer was there, for nothing, and on
 * one CPU cost two context switches more per message (the profile of
 * make bench PROFILE=1; AF_UNIX's datagram path filters the same way).
 */
static int cu_rx_wake(struct wait_queue_entry *wait, unsigned int mode,
		      int sync, void *key)
{
	if (key && !(key_to_poll(key) & (EPOLLIN | EPOLLERR | EPOLLHUP |
					 EPOLLRDHUP)))
		return 0;
	return autoremove_wake_function(wait, mode, sync, key);
}

/* Sleep until something follows @last in the queue, or no more can. */
static long cu_rx_sleep(struct sock *sk, long timeo, struct sk_buff *last)
{
	struct cu_sock *cu = cu_sk(sk);
	DEFINE_WAIT_FUNC(wait, cu_rx_wake);
	bool more;

	for (;;) {
		prepare_to_wait(sk_sleep(sk), &wait, TASK_INTERRUPTIBLE);
		spin_lock(&cu->lock);
		more = skb_peek_tail(&sk->sk_receive_queue) != last ||
		       sk->sk_err || sk->sk_shutdown & RCV_SHUTDOWN;
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
 * A reader holding @copied bytes found nothing after @last. Returns 0 to
 * look again, 1 to return what it has (end of stream), or -errno. An
 * error waits behind data already read: it is reported by the next call.
 */
static int cu_rx_wait(struct sock *sk, long *timeo, struct sk_buff *last,
		      size_t copied, u8 shutdown, bool error)
{
	struct cu_sock *cu = cu_sk(sk);
	int err;

	if (error) {
		if (copied)
			return 1;
		err = sock_error(sk);
		return err;	/* 0 if another reader took it: look again */
	}
	if (shutdown & RCV_SHUTDOWN)
		return 1;
	if (!*timeo)
		return copied ? 1 : -EAGAIN;

	mutex_unlock(&cu->iolock);
	*timeo = cu_rx_sleep(sk, *timeo, last);
	mutex_lock(&cu->iolock);
	if (signal_pending(current))
		return copied ? 1 : sock_intr_errno(*timeo);
	return 0;
}

/* Mark @len bytes of @skb read; free it once all of it is. */
static void cu_rx_consume(struct sock *sk, struct sk_buff *skb,
			  unsigned int len)
{
	struct cu_sock *cu = cu_sk(sk);
	u32 consumed = CU_SKB_CB(skb)->consumed + len;

	atomic_sub(len, &cu_sk(skb->sk)->unread);
	WRITE_ONCE(CU_SKB_CB(skb)->consumed, consumed);
	spin_lock(&cu->lock);
	cu->rx_bytes -= len;
	if (consumed == skb->len)
		__skb_unlink(skb, &sk->sk_receive_queue);
	spin_unlock(&cu->lock);
	if (consumed < skb->len)
		return;
	cu_data_free_skb(skb);
	if (sk->sk_type == SOCK_DGRAM)
		wake_up_interruptible(&cu->writers);
}

static int cu_stream_read(struct sock *sk, struct msghdr *msg, size_t len,
			  int flags)
{
	int target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	long timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	struct sk_buff *skb, *last = NULL;
	size_t chunk, copied = 0;
	u32 offset;
	u8 shutdown;
	bool error;
	int err = 0;

	while (copied < len) {
		skb = cu_rx_next(sk, last, &shutdown, &error);
		if (!skb) {
			if (copied >= target)
				break;
			err = cu_rx_wait(sk, &timeo, last, copied, shutdown,
					 error);
			if (err)
				break;
			continue;
		}
		offset = CU_SKB_CB(skb)->consumed;
		chunk = min_t(size_t, skb->len - offset, len - copied);
		if (skb_copy_datagram_msg(skb, offset, msg, chunk)) {
			err = -EFAULT;
			break;
		}
		copied += chunk;
		if (flags & MSG_PEEK)
			last = skb;
		else
			cu_rx_consume(sk, skb, chunk);
	}
	if (copied)
		return copied;
	return err > 0 ? 0 : err;
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
	struct sk_buff *skb;
	size_t copied;
	u8 shutdown;
	bool error;
	int err;

	for (;;) {
		skb = cu_rx_next(sk, NULL, &shutdown, &error);
		if (skb)
			break;
		err = cu_rx_wait(sk, &timeo, NULL, 0, shutdown, error);
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

int cu_stream_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		      int flags)
{
	struct sock *sk = sock->sk;
	struct cu_sock *cu = cu_sk(sk);
	int ret;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (READ_ONCE(sk->sk_state) != TCP_ESTABLISHED)
		return -ENOTCONN;

	mutex_lock(&cu->iolock);
	if (cu_is_record(sk))
		ret = cu_data_read_record(sk, msg, len, flags);
	else
		ret = cu_stream_read(sk, msg, len, flags);
	mutex_unlock(&cu->iolock);
	return ret;
}

__poll_t cu_stream_poll(struct file *file, struct socket *sock,
			poll_table *wait)
{
	struct sock *sk = sock->sk;
	u8 state = READ_ONCE(sk->sk_state);
	u8 shutdown = READ_ONCE(sk->sk_shutdown);
	__poll_t mask = 0;

	sock_poll_wait(file, sock, wait);
	if (state == TCP_LISTEN)
		return cu_conn_pending(sk) ? EPOLLIN | EPOLLRDNORM : 0;

	if (READ_ONCE(sk->sk_err))
		mask |= EPOLLERR;
	if (shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
	if (!skb_queue_empty_lockless(&sk->sk_receive_queue))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (sock_writeable(sk))
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	else
		sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
	return mask;
}

/*
 * Throw away what @sk received and did not read, once nothing more can
 * arrive; the senders' SIOCOUTQ forgets it too.
 */
void cu_data_purge(struct sock *sk)
{
	struct sk_buff *skb;

	while ((skb = skb_dequeue(&sk->sk_receive_queue))) {
		atomic_sub(skb->len - CU_SKB_CB(skb)->consumed,
			   &cu_sk(skb->sk)->unread);
		kfree_skb(skb);
	}
	cu_sk(sk)->rx_bytes = 0;
	wake_up_interruptible_all(&cu_sk(sk)->writers);
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

/* SIOCINQ of a connected socket: bytes queued and not yet read. */
int cu_stream_inq(struct sock *sk)
{
	return READ_ONCE(cu_sk(sk)->rx_bytes);
}
