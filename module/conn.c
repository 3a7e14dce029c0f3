// SPDX-License-Identifier: GPL-2.0
/*
 * Connections: listen(), connect(), accept(), shutdown() and release of
 * SOCK_STREAM and SOCK_SEQPACKET sockets.
 *
 * connect() creates the server side of the connection (the child) at once
 * and queues it on the listener's pending queue, complete: the client may
 * send before accept(). accept() only takes the oldest child off the queue
 * and grafts it, so it cannot fail after the dequeue, and the core reserves
 * the descriptor before calling it: on EMFILE the connection stays queued.
 *
 * A child leaves the queue in exactly one of three ways, each by the one
 * caller that took it off under the queue lock: accept(), a backlog shrink
 * (the newest excess) or the listener stopping (all). The last two reset
 * it: its client sees ECONNRESET, then EOF and EPIPE.
 *
 * accept() does not take the listener's socket lock: it waits on the
 * listener's wait queue, exclusively, and takes the oldest child under
 * the queue's own lock, so accepting threads neither serialise on the
 * listener nor wake in herds (one wakeup per queued connection). A
 * listener's sk_state changes under lock_sock(listener); the move to
 * TCP_LISTEN also holds the port lock (see ports.c). The lock order of
 * the whole module is written above struct cu_sock (af_custom.h).
 */

#include <linux/cred.h>
#include <linux/sched/signal.h>

#include "af_custom.h"
#include "conn.h"
#include "netns.h"
#include "pending.h"
#include "ports.h"
#include "data.h"
#include "stream.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* The pending queue of @sk, NULL until its first listen(). */
static struct cu_pending *cu_conn_queue_of(struct sock *sk)
{
	/*
	 * Lockless readers (connect, getsockopt, poll) pair this with the
	 * release in cu_conn_start_listening(): no half-made queue is seen.
	 */
	return smp_load_acquire(&cu_sk(sk)->pending);
}

static struct cu_sock *cu_child_of(struct list_head *node)
{
	return list_entry(node, struct cu_sock, pending_node);
}

/*
 * Tell @peer that the other end went away; with @reset, that it lost
 * data (or was refused after all), so the next recv/send says ECONNRESET.
 */
static void cu_conn_hangup_peer(struct sock *peer, bool reset)
{
	struct cu_sock *pcu = cu_sk(peer);

	spin_lock(&pcu->lock);
	WRITE_ONCE(peer->sk_shutdown, SHUTDOWN_MASK);
	if (reset)
		WRITE_ONCE(peer->sk_err, ECONNRESET);
	spin_unlock(&pcu->lock);
	if (reset)
		cu_error_report(peer);
	peer->sk_state_change(peer);
}

/*
 * Close the connection of @sk: no more data may reach it, its peer learns
 * it (with a reset if @reset or if unread data is thrown away), and the
 * reference on the peer is dropped.
 */
static void cu_conn_disconnect(struct sock *sk, bool reset)
{
	struct cu_sock *cu = cu_sk(sk);
	struct sock *peer = cu->peer;
	bool lost;

	spin_lock(&cu->lock);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	lost = !skb_queue_empty(&sk->sk_receive_queue);
	spin_unlock(&cu->lock);

	cu_data_purge(sk);
	if (!peer)
		return;
	WRITE_ONCE(cu->peer, NULL);
	cu_conn_hangup_peer(peer, reset || lost);
	sock_put(peer);
}

/* Reset a child that was taken off a pending queue, and free it. */
static void cu_conn_reset_child(struct cu_sock *child)
{
	cu_conn_disconnect(&child->sk, true);
	sock_set_flag(&child->sk, SOCK_DEAD);
	sock_put(&child->sk);
}

/*
 * Reset every child on @children, taken off @listener's queue; @why counts
 * them in the netns stats.
 */
static void cu_conn_reset_children(struct sock *listener,
				   struct list_head *children,
				   enum cu_net_stat why)
{
	struct net *net = sock_net(listener);
	struct cu_sock *child, *next;
	u64 n = 0;

	list_for_each_entry_safe(child, next, children, pending_node) {
		list_del_init(&child->pending_node);
		trace_cu_reset(net, listener, child->port,
			       cu_sk(child->peer)->port,
			       why == CU_STAT_RESET_SHRINK ? CU_TRACE_SHRINK :
							     CU_TRACE_CLOSE);
		cu_conn_reset_child(child);
		n++;
	}
	if (n)
		cu_net_count(net, why, n);
}

/* Stop listening: reset every pending child, wake accept() callers. */
static void cu_conn_stop_listening(struct sock *sk)
{
	LIST_HEAD(children);

	cu_pending_close(cu_sk(sk)->pending, &children);
	WRITE_ONCE(sk->sk_state, TCP_CLOSE);
	sk->sk_state_change(sk);
	cu_conn_reset_children(sk, &children, CU_STAT_RESET_CLOSE);
}

/* The checks of docs/semantics.md §4 that come before any change. */
static int cu_conn_listen_check(struct sock *sk)
{
	struct cu_sock *cu = cu_sk(sk);

	if (sk->sk_state == TCP_ESTABLISHED)
		return -EISCONN;
	if (!cu->port)
		return -EINVAL;
	if (sk->sk_state != TCP_LISTEN && cu->pending)
		return -EINVAL;		/* was listening, then shut down */
	return 0;
}

static int cu_conn_start_listening(struct sock *sk, u32 backlog)
{
	struct net *net = sock_net(sk);
	struct cu_pending *pending;
	LIST_HEAD(none);
	int err = 0;

	cu_ports_lock(net);
	if (cu_ports_twin_listens(sk)) {
		err = -EADDRINUSE;
		goto out;
	}
	pending = cu_pending_alloc(GFP_KERNEL);
	if (!pending) {
		err = -ENOBUFS;
		goto out;
	}
	cu_set_peercred(sk, task_tgid(current), current_cred());
	cu_pending_set_backlog(pending, backlog, &none);
	trace_cu_backlog(sk, 0, backlog, 0);
	/* pairs with cu_conn_queue_of(): publish the queue initialised */
	smp_store_release(&cu_sk(sk)->pending, pending);
	WRITE_ONCE(sk->sk_state, TCP_LISTEN);
out:
	cu_ports_unlock(net);
	return err;
}

static void cu_conn_resize(struct sock *sk, u32 backlog,
			   struct list_head *excess)
{
	struct cu_pending *pending = cu_sk(sk)->pending;
	u32 old = cu_pending_set_backlog(pending, backlog, excess);

	trace_cu_backlog(sk, old, backlog, cu_pending_count(pending));
}

int cu_conn_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	LIST_HEAD(excess);
	u32 effective;
	int err;

	/* the socket layer already turned backlogs above somaxconn into it */
	effective = clamp_t(int, backlog, 1, cu_net_somaxconn(sock_net(sk)));

	lock_sock(sk);
	err = cu_conn_listen_check(sk);
	if (err)
		goto out;
	if (sk->sk_state == TCP_LISTEN)
		cu_conn_resize(sk, effective, &excess);
	else
		err = cu_conn_start_listening(sk, effective);
out:
	release_sock(sk);
	cu_conn_reset_children(sk, &excess, CU_STAT_RESET_SHRINK);
	return err;
}

/* The server side of a new connection from @client to @listener. */
static struct sock *cu_conn_new_child(struct sock *listener,
				      struct sock *client)
{
	struct sock *child;

	/* a kernel listener's children hold no netns reference either */
	child = cu_sock_alloc(sock_net(listener), NULL, listener->sk_type,
			      GFP_KERNEL, !listener->sk_net_refcnt);
	if (!child)
		return NULL;
	/* /proc and sock_diag see the child from now on: lockless readers */
	WRITE_ONCE(cu_sk(child)->port, READ_ONCE(cu_sk(listener)->port));
	WRITE_ONCE(child->sk_sndbuf, READ_ONCE(listener->sk_sndbuf));
	WRITE_ONCE(child->sk_rcvbuf, READ_ONCE(listener->sk_rcvbuf));
	WRITE_ONCE(child->sk_state, TCP_ESTABLISHED);
	cu_set_peercred(child, task_tgid(current), current_cred());

	sock_hold(client);
	WRITE_ONCE(cu_sk(child)->peer, client);
	return child;
}

/* Refuse @sk's connect() to @listener: its queue is @full, or closed. */
static int cu_conn_refuse(struct sock *sk, struct sock *listener, bool full)
{
	cu_net_count(sock_net(sk), full ? CU_STAT_REFUSED_FULL :
					  CU_STAT_REFUSED_NO_LISTENER, 1);
	trace_cu_refused(sock_net(sk), listener, cu_sk(listener)->port,
			 cu_sk(sk)->port,
			 full ? CU_TRACE_FULL : CU_TRACE_NO_LISTENER);
	return -ECONNREFUSED;
}

/* Free a child that was never queued: nobody else has seen it. */
static void cu_conn_free_unqueued(struct sock *child)
{
	struct sock *client = cu_sk(child)->peer;

	WRITE_ONCE(cu_sk(child)->peer, NULL);
	sock_put(client);
	sock_put(child);
}

/* Make @sk the connected client of @child, which holds a reference. */
static void cu_conn_establish(struct sock *sk, struct sock *child)
{
	/*
	 * Lockless senders and getpeername() load ->peer with READ_ONCE():
	 * publish it with release so they see a fully set-up child.
	 */
	smp_store_release(&cu_sk(sk)->peer, child);
	WRITE_ONCE(sk->sk_state, TCP_ESTABLISHED);
	sk->sk_socket->state = SS_CONNECTED;
}

/*
 * Queue a connection from @sk to @listener. The client's reference on the
 * child is taken before the child is queued: once queued, the child can be
 * reset and its queue reference dropped at any moment. A reset before the
 * client is published still reaches it: the child holds the client.
 */
static int cu_conn_queue(struct sock *sk, struct sock *listener)
{
	struct cu_pending *pending = cu_conn_queue_of(listener);
	enum cu_pending_verdict verdict;
	struct sock *child;

	if (!pending)
		return cu_conn_refuse(sk, listener, false);
	child = cu_conn_new_child(listener, sk);
	if (!child)
		return -ENOMEM;

	sock_hold(child);
	verdict = cu_pending_add(pending, &cu_sk(child)->pending_node);
	if (verdict != CU_PENDING_QUEUED) {
		sock_put(child);
		cu_conn_free_unqueued(child);
		return cu_conn_refuse(sk, listener,
				      verdict == CU_PENDING_FULL);
	}
	cu_conn_establish(sk, child);
	cu_net_count(sock_net(sk), CU_STAT_QUEUED, 1);
	trace_cu_queued(listener, cu_sk(sk)->port, cu_pending_count(pending));
	cu_copy_peercred(sk, listener);
	listener->sk_data_ready(listener);
	return 0;
}

int cu_conn_connect(struct socket *sock, cu_uaddr_t *uaddr, int addr_len,
		    int flags)
{
	struct sock *sk = sock->sk;
	struct sock *listener;
	u32 port;
	int err;

	err = cu_addr_to_port((struct sockaddr *)uaddr, addr_len, &port);
	if (err)
		return err;

	lock_sock(sk);
	if (sk->sk_state == TCP_ESTABLISHED) {
		err = -EISCONN;
		goto out;
	}
	if (sk->sk_state == TCP_LISTEN || cu_sk(sk)->pending) {
		err = -EINVAL;
		goto out;
	}
	err = cu_ports_autobind(sk);
	if (err)
		goto out;

	listener = cu_ports_lookup(sock_net(sk), sk->sk_type, port, true);
	if (!listener) {
		cu_net_count(sock_net(sk), CU_STAT_REFUSED_NO_LISTENER, 1);
		trace_cu_refused(sock_net(sk), NULL, port, cu_sk(sk)->port,
				 CU_TRACE_NO_LISTENER);
		err = -ECONNREFUSED;
		goto out;
	}
	err = cu_conn_queue(sk, listener);
	sock_put(listener);
out:
	release_sock(sk);
	return err;
}

/*
 * Take the oldest pending connection of @sk, waiting for one if need be.
 * Returns an ERR_PTR: EINVAL if @sk is not (or no longer) listening,
 * EAGAIN, EINTR/ERESTARTSYS.
 *
 * No socket lock is held: listen(), shutdown() and connect() change the
 * queue and sk_state under their own locks and then wake sk_sleep()
 * (sk_data_ready() for a new connection, sk_state_change() for a stop),
 * and wait_woken() cannot miss a wakeup that comes between the check and
 * the sleep. The wait is exclusive: a new connection wakes one acceptor.
 * One that leaves without taking a connection while some are queued
 * passes its wakeup on, so no connection waits for a sleeping acceptor.
 */
static struct cu_sock *cu_conn_wait_child(struct sock *sk, long timeo)
{
	struct cu_pending *pending = cu_conn_queue_of(sk);
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct cu_sock *child = NULL;
	struct list_head *node;
	int err = 0;

	add_wait_queue_exclusive(sk_sleep(sk), &wait);
	for (;;) {
		if (!pending || READ_ONCE(sk->sk_state) != TCP_LISTEN) {
			err = -EINVAL;
			break;
		}
		node = cu_pending_take(pending);
		if (node) {
			child = cu_child_of(node);
			break;
		}
		if (!timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			break;
		}
		timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	if (!child && cu_pending_count(pending))
		sk->sk_data_ready(sk);
	return child ?: ERR_PTR(err);
}

int cu_conn_accept(struct socket *sock, struct socket *newsock, int flags)
{
	struct sock *sk = sock->sk;
	struct cu_sock *child;

	child = cu_conn_wait_child(sk, sock_rcvtimeo(sk, flags & O_NONBLOCK));
	if (IS_ERR(child))
		return PTR_ERR(child);
	cu_net_count(sock_net(sk), CU_STAT_ACCEPTED, 1);
	trace_cu_accepted(sk, cu_sk(child->peer)->port, cu_conn_pending(sk));
	lock_sock(&child->sk);
	sock_graft(&child->sk, newsock);
	newsock->state = SS_CONNECTED;
	release_sock(&child->sk);
	return 0;
}

static void cu_conn_shutdown_peer(struct sock *peer, int mode)
{
	int peer_mode = (mode & RCV_SHUTDOWN ? SEND_SHUTDOWN : 0) |
			(mode & SEND_SHUTDOWN ? RCV_SHUTDOWN : 0);
	struct cu_sock *pcu = cu_sk(peer);

	spin_lock(&pcu->lock);
	WRITE_ONCE(peer->sk_shutdown, peer->sk_shutdown | peer_mode);
	spin_unlock(&pcu->lock);
	peer->sk_state_change(peer);
}

int cu_conn_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	struct cu_sock *cu = cu_sk(sk);
	int mode, err = 0;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	mode = how + 1;		/* SHUT_RD -> RCV_SHUTDOWN, ... */

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		/* SHUT_WR alone leaves a listener listening, as on TCP */
		if (mode & RCV_SHUTDOWN) {
			WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | mode);
			cu_conn_stop_listening(sk);
		}
		goto out;
	}
	if (!cu->peer) {
		err = -ENOTCONN;
		goto out;
	}
	spin_lock(&cu->lock);
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | mode);
	spin_unlock(&cu->lock);
	sk->sk_state_change(sk);
	cu_conn_shutdown_peer(cu->peer, mode);
out:
	release_sock(sk);
	return err;
}

/* Called by release(), under lock_sock(sk). */
void cu_conn_release(struct sock *sk)
{
	if (sk->sk_state == TCP_LISTEN)
		cu_conn_stop_listening(sk);
	cu_conn_disconnect(sk, false);
}

/* poll() of SOCK_STREAM and SOCK_SEQPACKET sockets. */
__poll_t cu_conn_poll(struct file *file, struct socket *sock,
		      poll_table *wait)
{
	struct sock *sk = sock->sk;

	sock_poll_wait(file, sock, wait);
	if (READ_ONCE(sk->sk_state) != TCP_LISTEN)
		return cu_stream_poll(sk);
	return cu_conn_pending(sk) ? EPOLLIN | EPOLLRDNORM : 0;
}

u32 cu_conn_backlog(struct sock *sk)
{
	if (READ_ONCE(sk->sk_state) != TCP_LISTEN)
		return 0;
	return cu_pending_backlog(cu_conn_queue_of(sk));
}

u32 cu_conn_pending(struct sock *sk)
{
	return cu_pending_count(cu_conn_queue_of(sk));
}

void cu_conn_stats(struct sock *sk, struct cu_listen_stats *stats)
{
	struct cu_pending *pending = cu_conn_queue_of(sk);

	if (pending)
		cu_pending_stats(pending, stats);
	else
		memset(stats, 0, sizeof(*stats));
}
