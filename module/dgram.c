// SPDX-License-Identifier: GPL-2.0
/*
 * SOCK_DGRAM: datagrams between bound ports of one network namespace.
 *
 * connect() only records a default peer port, after checking that a
 * datagram socket is bound there. Each datagram is looked up by port when
 * sent, so a receiver that goes away is noticed (ECONNREFUSED: a local
 * family never drops a datagram silently). The skb path is stream.c's.
 *
 * A connected sender whose peer is full is not writable. poll() then
 * queues the sender's room_wait on the peer's writers queue; the peer's
 * reader (or its release) wakes it, and the relay below passes the wakeup
 * on to the sender's pollers, as AF_UNIX's peer_wake does. Lock order:
 * the sender's cu->lock, then the peer's writers.lock.
 */

#include <linux/sched/signal.h>
#include <net/sock.h>

#include "af_custom.h"
#include "dgram.h"
#include "ports.h"
#include "data.h"

int cu_dgram_connect(struct socket *sock, cu_uaddr_t *uaddr, int addr_len,
		     int flags)
{
	struct sock *sk = sock->sk;
	struct sock *target;
	u32 port;
	int err;

	err = cu_addr_to_port((struct sockaddr *)uaddr, addr_len, &port);
	if (err)
		return err;

	lock_sock(sk);
	err = cu_ports_autobind(sk);
	if (err)
		goto out;
	target = cu_ports_lookup(sock_net(sk), SOCK_DGRAM, port, false);
	if (!target) {
		err = -ECONNREFUSED;
		goto out;
	}
	sock_put(target);
	WRITE_ONCE(cu_sk(sk)->peer_port, port);
	WRITE_ONCE(sk->sk_state, TCP_ESTABLISHED);
	sock->state = SS_CONNECTED;
out:
	release_sock(sk);
	return err;
}

/* The port a datagram goes to: its address, or the default peer. */
static int cu_dgram_dest(struct sock *sk, struct msghdr *msg, u32 *port)
{
	if (msg->msg_namelen)
		return cu_addr_to_port(msg->msg_name, msg->msg_namelen, port);
	if (READ_ONCE(sk->sk_state) != TCP_ESTABLISHED)
		return -ENOTCONN;
	*port = READ_ONCE(cu_sk(sk)->peer_port);
	return 0;
}

/*
 * Queue @skb on @target, waiting while its receive buffer is full. A
 * receiver that went away meanwhile is refused, as if never found.
 */
static int cu_dgram_deliver(struct sock *sk, struct sock *target,
			    struct sk_buff *skb, bool nonblock)
{
	long timeo = sock_sndtimeo(sk, nonblock);
	int err;

	for (;;) {
		err = cu_data_deliver(sk, target, skb);
		if (err != -EAGAIN)
			break;
		if (!timeo)
			goto drop;
		timeo = cu_data_wait_room(target, skb->len, timeo);
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			goto drop;
		}
	}
	if (err == -EPIPE && sock_flag(target, SOCK_DEAD))
		err = -ECONNREFUSED;
	return err;
drop:
	kfree_skb(skb);
	return err;
}

static int cu_dgram_send(struct sock *sk, struct msghdr *msg, size_t len)
{
	struct sk_buff *skb;
	struct sock *target;
	u32 port;
	int err;

	err = cu_dgram_dest(sk, msg, &port);
	if (err)
		return err;
	if (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN)
		return -EPIPE;
	if (len > READ_ONCE(sk->sk_sndbuf) - 32)
		return -EMSGSIZE;

	lock_sock(sk);
	err = cu_ports_autobind(sk);
	release_sock(sk);
	if (err)
		return err;

	target = cu_ports_lookup(sock_net(sk), SOCK_DGRAM, port, false);
	if (!target)
		return -ECONNREFUSED;
	skb = cu_data_alloc_skb(sk, msg, len, &err);
	if (skb)
		err = cu_dgram_deliver(sk, target, skb,
				       msg->msg_flags & MSG_DONTWAIT);
	sock_put(target);
	return err ? err : len;
}

int cu_dgram_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	int ret;

	ret = cu_data_check_msg(msg);
	if (ret)
		return ret;
	ret = cu_dgram_send(sock->sk, msg, len);
	if (ret == -EPIPE && !(msg->msg_flags & MSG_NOSIGNAL))
		send_sig(SIGPIPE, current, 0);
	return ret;
}

int cu_dgram_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		     int flags)
{
	struct cu_sock *cu = cu_sk(sock->sk);
	int ret;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	mutex_lock(&cu->iolock);
	ret = cu_data_read_record(sock->sk, msg, len, flags);
	mutex_unlock(&cu->iolock);
	return ret;
}

int cu_dgram_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	struct cu_sock *cu = cu_sk(sk);
	int err = 0;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	lock_sock(sk);
	if (sk->sk_state != TCP_ESTABLISHED) {
		err = -ENOTCONN;
		goto out;
	}
	spin_lock(&cu->lock);
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | (how + 1));
	spin_unlock(&cu->lock);
	sk->sk_state_change(sk);
	/* senders asleep on a full receiver now fail with EPIPE */
	if ((how + 1) & RCV_SHUTDOWN)
		wake_up_interruptible_all(&cu->writers);
out:
	release_sock(sk);
	return err;
}

int cu_dgram_room_relay(wait_queue_entry_t *entry, unsigned int mode,
			int flags, void *key)
{
	struct cu_sock *cu = container_of(entry, struct cu_sock, room_wait);

	/* called under the peer's writers.lock: once armed, once woken */
	list_del_init(&entry->entry);
	wake_up_interruptible_poll(sk_sleep(&cu->sk),
				   EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
	return 0;
}

/* Take @cu's room_wait off the queue it is on; returns the peer to put. */
static struct sock *cu_dgram_disarm(struct cu_sock *cu)
{
	struct sock *peer = cu->room_peer;

	lockdep_assert_held(&cu->lock);
	if (!peer)
		return NULL;
	spin_lock(&cu_sk(peer)->writers.lock);
	list_del_init(&cu->room_wait.entry);
	spin_unlock(&cu_sk(peer)->writers.lock);
	cu->room_peer = NULL;
	return peer;
}

/* Have @sk's pollers woken when @peer has room again. */
static void cu_dgram_watch_room(struct sock *sk, struct sock *peer)
{
	struct cu_sock *cu = cu_sk(sk);
	struct sock *old = NULL;

	spin_lock(&cu->lock);
	if (cu->room_peer != peer) {
		old = cu_dgram_disarm(cu);
		sock_hold(peer);
		cu->room_peer = peer;
	}
	spin_lock(&cu_sk(peer)->writers.lock);
	if (list_empty(&cu->room_wait.entry))
		__add_wait_queue(&cu_sk(peer)->writers, &cu->room_wait);
	spin_unlock(&cu_sk(peer)->writers.lock);
	spin_unlock(&cu->lock);
	if (old)
		sock_put(old);
}

/* Called by release(), before the socket loses its wait queue. */
void cu_dgram_unwatch_room(struct sock *sk)
{
	struct cu_sock *cu = cu_sk(sk);
	struct sock *peer;

	spin_lock(&cu->lock);
	peer = cu_dgram_disarm(cu);
	spin_unlock(&cu->lock);
	if (peer)
		sock_put(peer);
}

__poll_t cu_dgram_poll(struct file *file, struct socket *sock,
		       poll_table *wait)
{
	__poll_t writable = EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	__poll_t mask = datagram_poll(file, sock, wait);
	struct sock *sk = sock->sk;
	struct sock *peer;

	if (!(mask & writable) || READ_ONCE(sk->sk_state) != TCP_ESTABLISHED)
		return mask;
	peer = cu_ports_lookup(sock_net(sk), SOCK_DGRAM,
			       READ_ONCE(cu_sk(sk)->peer_port), false);
	if (!peer)
		return mask;
	if (!cu_data_peer_has_room(peer)) {
		/* arm first, then look again: a reader may have just read */
		cu_dgram_watch_room(sk, peer);
		if (!cu_data_peer_has_room(peer)) {
			mask &= ~writable;
			sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
		}
	}
	sock_put(peer);
	return mask;
}
