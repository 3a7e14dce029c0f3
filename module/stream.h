/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CU_STREAM_H
#define _CU_STREAM_H

#include <linux/net.h>
#include <linux/poll.h>

int cu_stream_sendmsg(struct socket *sock, struct msghdr *msg, size_t len);
int cu_stream_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		      int flags);
__poll_t cu_stream_poll(struct file *file, struct socket *sock,
			poll_table *wait);
int cu_stream_inq(struct sock *sk);

/* shared with dgram.c */
struct sk_buff *cu_data_alloc_skb(struct sock *sk, struct msghdr *msg,
				  size_t size, int *err);
int cu_data_deliver(struct sock *sk, struct sock *peer, struct sk_buff *skb);
long cu_data_wait_room(struct sock *peer, unsigned int len, long timeo);
bool cu_data_peer_has_room(struct sock *peer);
int cu_data_read_record(struct sock *sk, struct msghdr *msg, size_t len,
			int flags);
int cu_data_next_size(struct sock *sk);
void cu_data_purge(struct sock *sk);

#endif /* _CU_STREAM_H */
