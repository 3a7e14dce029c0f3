// SPDX-License-Identifier: GPL-2.0
/*
 * The port table of a network namespace: which socket is bound where.
 *
 * Ports are per socket type: a SOCK_STREAM and a SOCK_DGRAM socket may
 * share a number. Sockets that all set SO_REUSEADDR before bind() may
 * share a port ("twins"); at most one of them listens at a time.
 *
 * The table is an rhltable keyed by (type, port), so lookups stay flat
 * however many ports are bound, and twins live under one key.
 *
 * Locking:
 *   cu_net->port_lock (mutex) serialises every change to the table and
 *   every socket's move to TCP_LISTEN, so the "one listener per port"
 *   check and the state change are atomic. Lookups (connect, sendto) run
 *   under RCU with no lock; a socket in the table has SOCK_RCU_FREE set,
 *   and a lookup takes its reference with refcount_inc_not_zero().
 *   Order: lock_sock(sk), then port_lock.
 */

#include <linux/random.h>
#include <linux/rhashtable.h>
#include <net/net_namespace.h>

#include "af_custom.h"
#include "netns.h"
#include "ports.h"

#define CU_EPHEMERAL_TRIES	64

static const struct rhashtable_params cu_ports_params = {
	.key_len		= sizeof(u64),
	.key_offset		= offsetof(struct cu_sock, port_key),
	.head_offset		= offsetof(struct cu_sock, port_node),
	.automatic_shrinking	= true,
};

int cu_ports_init(struct cu_net *cn)
{
	return rhltable_init(&cn->ports, &cu_ports_params);
}

void cu_ports_exit(struct cu_net *cn)
{
	rhltable_destroy(&cn->ports);
}

void cu_ports_lock(struct net *net)
{
	mutex_lock(&cu_net(net)->port_lock);
}

void cu_ports_unlock(struct net *net)
{
	mutex_unlock(&cu_net(net)->port_lock);
}

/* 0 if @sk may take @port: nobody has it, or all holders are twins. */
static int cu_ports_check_free(struct cu_net *cn, struct sock *sk, u64 key)
{
	struct rhlist_head *list, *pos;
	struct cu_sock *holder;
	int err = 0;

	lockdep_assert_held(&cn->port_lock);
	rcu_read_lock();
	list = rhltable_lookup(&cn->ports, &key, cu_ports_params);
	rhl_for_each_entry_rcu(holder, pos, list, port_node) {
		if (!sk->sk_reuse || !holder->reuse) {
			err = -EADDRINUSE;
			break;
		}
	}
	rcu_read_unlock();
	return err;
}

static int cu_ports_insert(struct cu_net *cn, struct sock *sk, u32 port)
{
	struct cu_sock *cu = cu_sk(sk);
	int err;

	cu->port_key = cu_port_key(sk->sk_type, port);
	cu->reuse = sk->sk_reuse;
	sock_set_flag(sk, SOCK_RCU_FREE);
	err = rhltable_insert(&cn->ports, &cu->port_node, cu_ports_params);
	if (err)
		return err;
	cu->hashed = true;
	WRITE_ONCE(cu->port, port);
	return 0;
}

static int cu_ports_pick_ephemeral(struct cu_net *cn, struct sock *sk)
{
	u32 port;
	int i;

	for (i = 0; i < CU_EPHEMERAL_TRIES; i++) {
		port = CU_PORT_EPHEMERAL | get_random_u32();
		if (!cu_ports_check_free(cn, sk,
					 cu_port_key(sk->sk_type, port)))
			return cu_ports_insert(cn, sk, port);
	}
	return -EADDRINUSE;
}

/*
 * Bind @sk to @port (CU_PORT_ANY: a free ephemeral port), with the errors
 * in the order of docs/semantics.md §3. Called under lock_sock(sk).
 */
int cu_ports_bind(struct sock *sk, u32 port)
{
	struct net *net = sock_net(sk);
	struct cu_net *cn = cu_net(net);
	int err;

	if (cu_sk(sk)->port)
		return -EINVAL;
	if (port && port <= CU_PORT_PRIV_MAX &&
	    !ns_capable(net->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;

	mutex_lock(&cn->port_lock);
	if (port == CU_PORT_ANY) {
		err = cu_ports_pick_ephemeral(cn, sk);
	} else {
		err = cu_ports_check_free(cn, sk,
					  cu_port_key(sk->sk_type, port));
		if (!err)
			err = cu_ports_insert(cn, sk, port);
	}
	mutex_unlock(&cn->port_lock);
	return err;
}

int cu_ports_autobind(struct sock *sk)
{
	return cu_sk(sk)->port ? 0 : cu_ports_bind(sk, CU_PORT_ANY);
}

/* Called by release: frees the port. The socket keeps its number. */
void cu_ports_unbind(struct sock *sk)
{
	struct cu_sock *cu = cu_sk(sk);
	struct cu_net *cn;

	if (!cu->hashed)
		return;
	cn = cu_net(sock_net(sk));
	mutex_lock(&cn->port_lock);
	rhltable_remove(&cn->ports, &cu->port_node, cu_ports_params);
	cu->hashed = false;
	mutex_unlock(&cn->port_lock);
}

/* Whether another socket listens on @sk's port. Under cu_ports_lock(). */
bool cu_ports_twin_listens(struct sock *sk)
{
	struct cu_net *cn = cu_net(sock_net(sk));
	struct rhlist_head *list, *pos;
	struct cu_sock *twin;
	bool found = false;

	lockdep_assert_held(&cn->port_lock);
	rcu_read_lock();
	list = rhltable_lookup(&cn->ports, &cu_sk(sk)->port_key,
			       cu_ports_params);
	rhl_for_each_entry_rcu(twin, pos, list, port_node) {
		if (&twin->sk != sk &&
		    READ_ONCE(twin->sk.sk_state) == TCP_LISTEN) {
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/*
 * The socket of @type bound to @port in @net, with a reference, or NULL.
 * With @listener, only a socket in TCP_LISTEN is returned.
 */
struct sock *cu_ports_lookup(struct net *net, int type, u32 port,
			     bool listener)
{
	struct cu_net *cn = cu_net(net);
	u64 key = cu_port_key(type, port);
	struct rhlist_head *list, *pos;
	struct cu_sock *cu;
	struct sock *found = NULL;

	rcu_read_lock();
	list = rhltable_lookup(&cn->ports, &key, cu_ports_params);
	rhl_for_each_entry_rcu(cu, pos, list, port_node) {
		if (listener && READ_ONCE(cu->sk.sk_state) != TCP_LISTEN)
			continue;
		if (refcount_inc_not_zero(&cu->sk.sk_refcnt)) {
			found = &cu->sk;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}
