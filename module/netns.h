/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CU_NETNS_H
#define _CU_NETNS_H

#include <linux/mutex.h>
#include <linux/rhashtable-types.h>
#include <net/net_namespace.h>

/* What af_custom keeps per network namespace. */
struct cu_net {
	struct mutex	port_lock;	/* bind, unbind, start listening */
	struct rhltable	ports;		/* cu_sock by port_key; RCU lookups */
};

struct cu_net *cu_net(const struct net *net);
u32 cu_net_somaxconn(const struct net *net);

int cu_netns_init(void);
void cu_netns_exit(void);

#endif /* _CU_NETNS_H */
