/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CU_DATA_H
#define _CU_DATA_H

#include <linux/skbuff.h>
#include <linux/socket.h>
#include <linux/types.h>

struct sock;

struct cu_rx_direct;

/*
 * Where a reader stands in its queue. A reader that peeks has seen
 * @skip unread bytes from the head; @taken is the socket's rx_taken when
 * it began, so it can tell when another reader took bytes meanwhile.
 * @direct is the buffer it offered writers while it sleeps (direct.c).
 */
struct cu_rx_mark {
	u32				skip;
	u64				taken;
	const struct cu_rx_direct	*direct;
};

int cu_data_check_msg(const struct msghdr *msg);
struct sk_buff *cu_data_alloc_skb(struct sock *sk, struct msghdr *msg,
				  size_t size, int *err);
int cu_data_deliver(struct sock *sk, struct sock *peer, struct sk_buff *skb);
long cu_data_wait_room(struct sock *peer, unsigned int len, long timeo);
bool cu_data_peer_has_room(struct sock *peer);
void cu_data_trim_spare(struct sock *sk);
int cu_data_read_record(struct sock *sk, struct msghdr *msg, size_t len,
			int flags);
int cu_data_next_size(struct sock *sk);
void cu_data_purge(struct sock *sk);

struct sk_buff *cu_rx_find(struct sock *sk, struct sk_buff *last, u32 skip,
			   u32 *offset, u8 *shutdown, bool *error);
void cu_rx_mark(struct sock *sk, struct cu_rx_mark *mark, u32 skip);
bool cu_rx_taken_since(struct sock *sk, const struct cu_rx_mark *mark);
int cu_rx_wait(struct sock *sk, long *timeo, const struct cu_rx_mark *mark,
	       size_t copied, u8 shutdown, bool error);
void cu_rx_consume(struct sock *sk, struct sk_buff *skb, unsigned int len);

#endif /* _CU_DATA_H */
