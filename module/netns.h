/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CU_NETNS_H
#define _CU_NETNS_H

#include <linux/mutex.h>
#include <linux/rhashtable-types.h>
#include <net/net_namespace.h>

/* Family-wide connection counters of a netns, /proc/net/af_custom_stat. */
enum cu_net_stat {
	CU_STAT_QUEUED,
	CU_STAT_ACCEPTED,
	CU_STAT_REFUSED_FULL,
	CU_STAT_REFUSED_NO_LISTENER,
	CU_STAT_RESET_SHRINK,
	CU_STAT_RESET_CLOSE,
	CU_STAT_MAX
};

/* What af_custom keeps per network namespace. */
struct cu_net {
	struct mutex		port_lock;	/* bind, unbind, start listening */
	struct rhltable		ports;		/* cu_sock by port_key; RCU */

	spinlock_t		sockets_lock;	/* sockets; taken with BHs off */
	struct hlist_head	sockets;	/* every cu_sock, for /proc */

	atomic64_t		stats[CU_STAT_MAX];
};

struct cu_net *cu_net(const struct net *net);
u32 cu_net_somaxconn(const struct net *net);

void cu_net_link(struct sock *sk);
void cu_net_unlink(struct sock *sk);

static inline void cu_net_count(struct net *net, enum cu_net_stat stat,
				u64 n)
{
	atomic64_add(n, &cu_net(net)->stats[stat]);
}

int cu_netns_init(void);
void cu_netns_exit(void);

#endif /* _CU_NETNS_H */
