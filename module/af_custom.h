/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The af_custom socket, shared by every file of the module.
 *
 * sk_state holds TCP_* values so that generic code reads true
 * (SO_ACCEPTCONN tests TCP_LISTEN):
 *   TCP_CLOSE        new, bound, or a listener that was shut down
 *   TCP_LISTEN       listening: cu->pending is open
 *   TCP_ESTABLISHED  connected: cu->peer is set (SOCK_DGRAM: default peer)
 *
 * A connection is two sockets, each holding a reference on the other
 * through ->peer. The server side ("child") is created by connect(); until
 * accept() grafts it onto a struct socket it sits on the listener's pending
 * queue, which owns it.
 *
 * Lock order, for every lock of the module, outermost first (a lock may
 * be taken with any subset of those above it held, never the reverse):
 *
 *   1. lock_sock() of one socket, never two at once: bind, listen,
 *      connect, shutdown, release, dgram autobind, accept's graft of the
 *      child (the listener's lock is not held by accept).
 *   2. cu->iolock (mutex) of the reading socket: one reader at a time.
 *      Dropped while the reader sleeps.
 *   3. cu_net.port_lock (mutex): the port table and every move to
 *      TCP_LISTEN (ports.c).
 *   4. cu_net.sockets_lock (spinlock, BHs off: the destructor unlinks from
 *      RCU callbacks): the netns list walked by /proc and sock_diag.
 *   5. cu_pending.lock (spinlock, BHs off as it nests in 4): a listener's
 *      queue, backlog and stats (pending.c).
 *   6. cu->lock (spinlock) of one socket: its receive queue, rx_bytes,
 *      rx_taken, sk_shutdown and sk_err; a reader's offer, direct
 *      (direct.c); and room_peer (dgram.c). Never nested in another
 *      socket's cu->lock.
 *   7. the writers wait-queue lock of a datagram peer, taken under the
 *      sender's cu->lock to arm room_wait (dgram.c); wakeups under it
 *      take the sender's sk_sleep() queue lock.
 *   8. cu_pages.lock (spinlock) of a sender's spare pages: taken by its
 *      writers, by its peer's readers under their iolock, and by
 *      release_cb under the socket's lock spinlock (pages.c).
 * Nothing of the module is taken under the core's sk_callback_lock or a
 * wait-queue lock, but for 7's relay. Fast paths that take no lock (the
 * spare skb, the readers' wake filter) say why where they are defined
 * (data.c), as do the busy wait (data.c) and the one-copy path
 * (direct.c).
 */
#ifndef _CU_AF_CUSTOM_H
#define _CU_AF_CUSTOM_H

#include <linux/mutex.h>
#include <linux/rhashtable-types.h>
#include <net/sock.h>
#include <linux/af_custom.h>

#include "pages.h"

struct cu_pending;
struct cu_rx_direct;

struct cu_sock {
	struct sock		sk;		/* first: cu_sk() is a cast */

	/* bind(): set under the netns port lock, read under RCU */
	struct rhlist_head	port_node;
	u64			port_key;	/* cu_port_key(type, port) */
	u32			port;		/* 0 until bound */
	bool			reuse;		/* SO_REUSEADDR at bind() time */
	bool			hashed;		/* in the port table */

	/* connect(): set before the socket is published, cleared by release */
	struct sock		*peer;
	u32			peer_port;	/* SOCK_DGRAM: default peer */

	/* listen(): allocated by the first listen(), freed with the socket */
	struct cu_pending	*pending;
	struct list_head	pending_node;	/* child: on a listener's queue */

	/*
	 * Data path. lock guards sk_receive_queue, sk_shutdown and sk_err:
	 * a sender queues to its peer only under the peer's lock, after
	 * checking it may, so nothing is queued after a shutdown or release.
	 * iolock serialises readers, who alone take skbs off the queue (but
	 * for the purge of a socket nobody can read any more).
	 */
	spinlock_t		lock;		/* the receive side, above */
	u32			rx_bytes;	/* unread bytes queued, under lock */
	u64			rx_taken;	/* bytes ever read; lock + iolock */
	struct mutex		iolock;		/* one reader at a time */
	atomic_t		unread;		/* bytes sent, not read by peer */
	struct cu_pages		spare;		/* pages for writes, pages.c */
	struct sk_buff		*spare_skb;	/* a read small skb; xchg() */
	struct cu_rx_direct	*direct;	/* a sleeping reader's buffer */
	wait_queue_head_t	writers;	/* dgram senders awaiting room */
	int			rcvbuf_seen;	/* sk_rcvbuf writers were woken for */
	atomic_t		spinning;	/* a reader busy-waits: data.c */

	/*
	 * SOCK_DGRAM poll(): while its connected peer is full, room_wait sits
	 * on that peer's writers queue (whose lock guards it) and relays the
	 * peer's wakeups to this socket's pollers. room_peer holds a reference
	 * on that peer; it changes under lock.
	 */
	wait_queue_entry_t	room_wait;
	struct sock		*room_peer;
};

static inline struct cu_sock *cu_sk(const struct sock *sk)
{
	return (struct cu_sock *)sk;
}

static inline u64 cu_port_key(int type, u32 port)
{
	return (u64)type << 32 | port;
}

extern int cu_family;
extern struct proto cu_proto;

/* sock.c */
int cu_sock_create(struct net *net, struct socket *sock, int protocol,
		   int kern);
struct sock *cu_sock_alloc(struct net *net, struct socket *sock, int type,
			   gfp_t gfp, int kern);
void cu_sock_init_ops(void);
int cu_addr_to_port(const struct sockaddr *uaddr, int addr_len, u32 *port);
u32 cu_sock_peer_port(struct sock *sk);
u64 cu_sock_cookie(struct sock *sk);

#endif /* _CU_AF_CUSTOM_H */
