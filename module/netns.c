// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state. A module cannot extend struct net, so the
 * state hangs off net_generic(). Sockets hold a reference on their netns,
 * so a namespace's state outlives every socket in it.
 *
 * Locking: sockets_lock guards the list of all sockets of the netns. A
 * socket is linked when it is allocated and unlinked by its destructor,
 * which may run from an RCU callback: the lock is taken with BHs off. The
 * /proc reader and the sock_diag dump hold it while they print; under it
 * they read sockets locklessly, but for a listener's pending->lock (its
 * stats). Its place in the lock order is written above struct cu_sock.
 */

#include <net/netns/generic.h>

#include "af_custom.h"
#include "netns.h"
#include "ports.h"
#include "proc.h"

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

void cu_net_link(struct sock *sk)
{
	struct cu_net *cn = cu_net(sock_net(sk));

	spin_lock_bh(&cn->sockets_lock);
	__sk_add_node(sk, &cn->sockets);
	spin_unlock_bh(&cn->sockets_lock);
}

void cu_net_unlink(struct sock *sk)
{
	struct cu_net *cn = cu_net(sock_net(sk));

	spin_lock_bh(&cn->sockets_lock);
	__sk_del_node_init(sk);
	spin_unlock_bh(&cn->sockets_lock);
}

static int __net_init cu_net_init(struct net *net)
{
	struct cu_net *cn = cu_net(net);
	int err;

	mutex_init(&cn->port_lock);
	spin_lock_init(&cn->sockets_lock);
	INIT_HLIST_HEAD(&cn->sockets);
	err = cu_ports_init(cn);
	if (err)
		return err;
	err = cu_proc_init_net(net);
	if (err)
		cu_ports_exit(cn);
	return err;
}

static void __net_exit cu_net_exit(struct net *net)
{
	cu_proc_exit_net(net);
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
