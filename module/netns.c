// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state. A module cannot extend struct net, so the
 * state hangs off net_generic(). Sockets hold a reference on their netns,
 * so a namespace's state outlives every socket in it.
 */

#include <net/netns/generic.h>

#include "netns.h"
#include "ports.h"

static unsigned int cu_net_id __read_mostly;

struct cu_net *cu_net(const struct net *net)
{
	return net_generic(net, cu_net_id);
}

/* The largest backlog listen() grants: somaxconn, with 0 read as 1. */
u32 cu_net_somaxconn(const struct net *net)
{
	int somaxconn = READ_ONCE(net->core.sysctl_somaxconn);

	return max(somaxconn, 1);
}

static int __net_init cu_net_init(struct net *net)
{
	struct cu_net *cn = cu_net(net);

	mutex_init(&cn->port_lock);
	return cu_ports_init(cn);
}

static void __net_exit cu_net_exit(struct net *net)
{
	cu_ports_exit(cu_net(net));
}

static struct pernet_operations cu_net_ops = {
	.init = cu_net_init,
	.exit = cu_net_exit,
	.id   = &cu_net_id,
	.size = sizeof(struct cu_net),
};

int cu_netns_init(void)
{
	return register_pernet_subsys(&cu_net_ops);
}

void cu_netns_exit(void)
{
	unregister_pernet_subsys(&cu_net_ops);
}
