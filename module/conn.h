/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CU_CONN_H
#define _CU_CONN_H

#include <linux/af_custom.h>
#include <linux/net.h>
#include <linux/poll.h>

#include "compat.h"

int cu_conn_listen(struct socket *sock, int backlog);
int cu_conn_connect(struct socket *sock, cu_uaddr_t *uaddr, int addr_len,
		    int flags);
int cu_conn_accept(struct socket *sock, struct socket *newsock, int flags);
int cu_conn_shutdown(struct socket *sock, int how);
__poll_t cu_conn_poll(struct file *file, struct socket *sock,
		      poll_table *wait);
void cu_conn_release(struct sock *sk);

u32 cu_conn_backlog(struct sock *sk);
u32 cu_conn_pending(struct sock *sk);
void cu_conn_stats(struct sock *sk, struct cu_listen_stats *stats);

#endif /* _CU_CONN_H */
