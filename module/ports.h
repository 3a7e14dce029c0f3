/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CU_PORTS_H
#define _CU_PORTS_H

#include <linux/types.h>

struct cu_net;
struct net;
struct sock;

int cu_ports_init(struct cu_net *cn);
void cu_ports_exit(struct cu_net *cn);

int cu_ports_bind(struct sock *sk, u32 port);
int cu_ports_autobind(struct sock *sk);
void cu_ports_unbind(struct sock *sk);

void cu_ports_lock(struct net *net);
void cu_ports_unlock(struct net *net);
bool cu_ports_twin_listens(struct sock *sk);

struct sock *cu_ports_lookup(struct net *net, int type, u32 port,
			     bool listener);

#endif /* _CU_PORTS_H */
