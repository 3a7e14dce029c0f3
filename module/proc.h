/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CU_PROC_H
#define _CU_PROC_H

struct net;

int cu_proc_init_net(struct net *net);
void cu_proc_exit_net(struct net *net);

#endif /* _CU_PROC_H */
