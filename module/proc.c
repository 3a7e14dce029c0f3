// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/af_custom: one line per live socket of the reader's netns.
 * /proc/net/af_custom_stat: the netns's family-wide connection counters.
 */

#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "af_custom.h"
#include "compat.h"
#include "conn.h"
#include "netns.h"
#include "proc.h"
#include "stream.h"

static const char *const cu_stat_names[CU_STAT_MAX] = {
	[CU_STAT_QUEUED]		= "queued",
	[CU_STAT_ACCEPTED]		= "accepted",
	[CU_STAT_REFUSED_FULL]		= "refused_full",
	[CU_STAT_REFUSED_NO_LISTENER]	= "refused_no_listener",
	[CU_STAT_RESET_SHRINK]		= "reset_shrink",
	[CU_STAT_RESET_CLOSE]		= "reset_close",
};

static const char *cu_proc_type(const struct sock *sk)
{
	switch (sk->sk_type) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_SEQPACKET:
		return "seqpacket";
	default:
		return "dgram";
	}
}

static const char *cu_proc_state(const struct sock *sk)
{
	switch (READ_ONCE(sk->sk_state)) {
	case TCP_LISTEN:
		return "LISTEN";
	case TCP_ESTABLISHED:
		return "ESTAB";
	default:
		return "UNCONN";
	}
}

static void *cu_proc_start(struct seq_file *seq, loff_t *pos)
	__acquires(cn->sockets_lock)
{
	struct cu_net *cn = cu_net(seq_file_net(seq));

	spin_lock_bh(&cn->sockets_lock);
	return seq_hlist_start_head(&cn->sockets, *pos);
}

static void *cu_proc_next(struct seq_file *seq, void *v, loff_t *pos)
{
	return seq_hlist_next(v, &cu_net(seq_file_net(seq))->sockets, pos);
}

static void cu_proc_stop(struct seq_file *seq, void *v)
	__releases(cn->sockets_lock)
{
	spin_unlock_bh(&cu_net(seq_file_net(seq))->sockets_lock);
}

static int cu_proc_show(struct seq_file *seq, void *v)
{
	struct sock *sk;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, "Type      State  LocalPort  PeerPort   Backlog Pending RxQueue  TxQueue  Uid      Inode\n");
		return 0;
	}
	sk = hlist_entry(v, struct sock, sk_node);
	if (sock_flag(sk, SOCK_DEAD))
		return 0;	/* released, waiting for its last reference */
	seq_printf(seq, "%-9s %-6s %-10u %-10u %-7u %-7u %-8d %-8d %-8u %lu\n",
		   cu_proc_type(sk), cu_proc_state(sk),
		   READ_ONCE(cu_sk(sk)->port), cu_sock_peer_port(sk),
		   cu_conn_backlog(sk), cu_conn_pending(sk),
		   cu_stream_inq(sk), atomic_read(&cu_sk(sk)->unread),
		   from_kuid_munged(seq_user_ns(seq), cu_sock_uid(sk)),
		   sock_i_ino(sk));
	return 0;
}

static const struct seq_operations cu_proc_seq_ops = {
	.start	= cu_proc_start,
	.next	= cu_proc_next,
	.stop	= cu_proc_stop,
	.show	= cu_proc_show,
};

static int cu_proc_stat_show(struct seq_file *seq, void *v)
{
	struct cu_net *cn = cu_net(seq_file_single_net(seq));
	int i;

	for (i = 0; i < CU_STAT_MAX; i++)
		seq_printf(seq, "%s %lld\n", cu_stat_names[i],
			   atomic64_read(&cn->stats[i]));
	return 0;
}

int cu_proc_init_net(struct net *net)
{
	if (!proc_create_net("af_custom", 0444, net->proc_net,
			     &cu_proc_seq_ops, sizeof(struct seq_net_private)))
		return -ENOMEM;
	if (!proc_create_net_single("af_custom_stat", 0444, net->proc_net,
				    cu_proc_stat_show, NULL)) {
		remove_proc_entry("af_custom", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

void cu_proc_exit_net(struct net *net)
{
	remove_proc_entry("af_custom_stat", net->proc_net);
	remove_proc_entry("af_custom", net->proc_net);
}
