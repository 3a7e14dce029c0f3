/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CU_STREAM_H
#define _CU_STREAM_H

#include <linux/net.h>
#include <linux/poll.h>

int cu_stream_sendmsg(struct socket *sock, struct msghdr *msg, size_t len);
int cu_stream_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		      int flags);
__poll_t cu_stream_poll(struct sock *sk);
int cu_stream_inq(struct sock *sk);

#endif /* _CU_STREAM_H */
