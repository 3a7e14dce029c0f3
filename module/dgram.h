/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CU_DGRAM_H
#define _CU_DGRAM_H

#include <linux/net.h>
#include <linux/poll.h>

#include "compat.h"

int cu_dgram_connect(struct socket *sock, cu_uaddr_t *uaddr, int addr_len,
		     int flags);
int cu_dgram_sendmsg(struct socket *sock, struct msghdr *msg, size_t len);
int cu_dgram_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		     int flags);
int cu_dgram_shutdown(struct socket *sock, int how);
__poll_t cu_dgram_poll(struct file *file, struct socket *sock,
		       poll_table *wait);
int cu_dgram_room_relay(wait_queue_entry_t *entry, unsigned int mode,
			int flags, void *key);
void cu_dgram_unwatch_room(struct sock *sk);

#endif /* _CU_DGRAM_H */
