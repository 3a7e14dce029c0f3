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
 */
#ifndef _CU_AF_CUSTOM_H
#define _CU_AF_CUSTOM_H

#include <linux/mutex.h>
#include <linux/rhashtable-types.h>
#include <net/sock.h>
#include <linux/af_custom.h>

#include "pages.h"

struct cu_pending;

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
	 * iolock serialises readers, who alone take skbs off the queue.
	 */
	spinlock_t		lock;		/* the receive side, above */
	u32			rx_bytes;	/* unread bytes queued, under lock */
	struct mutex		iolock;		/* one reader at a time */
	atomic_t		unread;		/* bytes sent, not read by peer */
	struct cu_pages		spare;		/* pages for writes, pages.c */
	struct sk_buff		*spare_skb;	/* a read small skb; xchg() */
	wait_queue_head_t	writers;	/* dgram senders awaiting room */

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
			   gfp_t gfp);
int cu_addr_to_port(const struct sockaddr *uaddr, int addr_len, u32 *port);
u32 cu_sock_peer_port(struct sock *sk);

#endif /* _CU_AF_CUSTOM_H */
