// SPDX-License-Identifier: GPL-2.0
/*
 * The data path of connected sockets: SOCK_STREAM and SOCK_SEQPACKET.
 *
 * The two types differ in one place each way: a SEQPACKET record is one
 * skb, sent whole or not at all, and read whole (truncated with
 * MSG_TRUNC); a stream is cut into skbs of any size and read across them.
 * Building, queueing and taking skbs is data.c's.
 *
 * Senders are not serialised: each skb is queued whole under the peer's
 * cu->lock, so bytes of one send() may interleave with another thread's
 * at skb boundaries, as on AF_UNIX. Readers are serialised by cu->iolock,
 * which they drop only to sleep (data.c). A reader that sleeps on an
 * empty stream offers its buffer, and a writer that finds the offer
 * copies into it instead of queueing (direct.c).
 */

#include <linux/sched/signal.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "af_custom.h"
#include "data.h"
#include "direct.h"
#include "stream.h"

static bool cu_is_record(const struct sock *sk)
{
	return sk->sk_type == SOCK_SEQPACKET;
}

static size_t cu_stream_chunk(const struct sock *sk, size_t left)
{
	size_t max = (READ_ONCE(sk->sk_sndbuf) >> 1) - 64;

	max = min_t(size_t, max, MAX_SKB_FRAGS * PAGE_SIZE);
	return min(left, max);
}

int cu_stream_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	struct sock *peer = READ_ONCE(cu_sk(sk)->peer);
	bool record = cu_is_record(sk);
	size_t size, sent = 0;
	struct sk_buff *skb;
	int err;

	err = cu_data_check_msg(msg);
	if (err)
		return err;
	if (msg->msg_namelen)
		return peer ? -EISCONN : -EOPNOTSUPP;
	if (!peer)
		return -ENOTCONN;
	if (!len && !record)
		return 0;
	if (record && len > READ_ONCE(sk->sk_sndbuf) - 32)
		return -EMSGSIZE;

	do {
		size = record ? 0 : cu_direct_give(sk, peer, msg, len - sent);
		if (size) {
			sent += size;
			continue;
		}
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
 * A peeking reader slept, and another reader took bytes it had seen:
 * start its peek again from the new head, so it never returns data that
 * is no longer there to read.
 */
static void cu_stream_repeek(struct sock *sk, struct msghdr *msg,
			     size_t *copied, struct cu_rx_mark *mark)
{
	iov_iter_revert(&msg->msg_iter, *copied);
	*copied = 0;
	cu_rx_mark(sk, mark, 0);
}

/*
 * Wait for more to read. A reader that is not peeking offers the rest of
 * its buffer to the writers meanwhile (direct.c), and *@copied grows by
 * what they put straight into it. Returns as cu_rx_wait().
 */
static int cu_stream_wait(struct sock *sk, struct msghdr *msg, bool peek,
			  long *timeo, struct cu_rx_mark *mark, size_t *copied,
			  u8 shutdown, bool error)
{
	bool may_offer = !peek && !error && *timeo &&
			 !(shutdown & RCV_SHUTDOWN);
	struct cu_rx_direct direct;
	size_t given;
	int err;

	if (may_offer && cu_direct_offer(sk, &direct, &msg->msg_iter))
		mark->direct = &direct;
	err = cu_rx_wait(sk, timeo, mark, *copied, shutdown, error);
	if (!mark->direct)
		return err;
	mark->direct = NULL;
	given = cu_direct_take_back(sk, &direct, &msg->msg_iter);
	*copied += given;
	return err < 0 && given ? 1 : err;
}

/*
 * Read (or peek) up to @len bytes across skbs, under cu->iolock. A peeking
 * reader walks on from the skb it peeked last while it holds the iolock;
 * once it has slept, that skb may be gone, so it finds its place again by
 * the count of bytes it has seen.
 */
static int cu_stream_read(struct sock *sk, struct msghdr *msg, size_t len,
			  int flags)
{
	int target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	long timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	bool peek = flags & MSG_PEEK;
	struct sk_buff *skb, *last = NULL;
	struct cu_rx_mark mark;
	size_t chunk, copied = 0;
	u32 offset;
	u8 shutdown;
	bool error;
	int err = 0;

	cu_rx_mark(sk, &mark, 0);
	while (copied < len) {
		skb = cu_rx_find(sk, last, mark.skip, &offset, &shutdown,
				 &error);
		if (!skb) {
			if (copied >= target)
				break;
			err = cu_stream_wait(sk, msg, peek, &timeo, &mark,
					     &copied, shutdown, error);
			last = NULL;
			if (peek && cu_rx_taken_since(sk, &mark)) {
				cu_stream_repeek(sk, msg, &copied, &mark);
				continue;
			}
			if (err)
				break;
			continue;
		}
		chunk = min_t(size_t, skb->len - offset, len - copied);
		if (skb_copy_datagram_msg(skb, offset, msg, chunk)) {
			err = -EFAULT;
			break;
		}
		copied += chunk;
		if (peek) {
			last = skb;
			mark.skip += chunk;
		} else {
			cu_rx_consume(sk, skb, chunk);
		}
	}
	if (copied)
		return copied;
	return err > 0 ? 0 : err;
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

/* poll() of a connected (or closed) socket; conn.c answers for listeners. */
__poll_t cu_stream_poll(struct sock *sk)
{
	u8 state = READ_ONCE(sk->sk_state);
	u8 shutdown = READ_ONCE(sk->sk_shutdown);
	__poll_t mask = 0;

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

/* SIOCINQ of a connected socket: bytes queued and not yet read. */
int cu_stream_inq(struct sock *sk)
{
	return READ_ONCE(cu_sk(sk)->rx_bytes);
}
