// SPDX-License-Identifier: GPL-2.0
/*
 * sock_diag for AF_CUSTOM: a netlink dump of the sockets of the
 * requester's network namespace, with each listener's queue and counters.
 * It walks the netns socket list under its lock (see netns.c) and resumes
 * a dump that filled its buffer by position, as unix_diag does.
 */

#include <linux/module.h>
#include <linux/sock_diag.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "af_custom.h"
#include "compat.h"
#include "conn.h"
#include "diag.h"
#include "netns.h"
#include "stream.h"

static int cu_diag_put_attrs(struct sk_buff *skb, struct sock *sk,
			     const struct cu_diag_req *req,
			     struct user_namespace *user_ns)
{
	struct cu_diag_queue queue;
	struct cu_diag_rqlen rqlen;
	struct cu_listen_stats stats;

	if (req->cudiag_show & CUDIAG_SHOW_QUEUE) {
		queue.backlog = cu_conn_backlog(sk);
		queue.pending = cu_conn_pending(sk);
		if (nla_put(skb, CUDIAG_QUEUE, sizeof(queue), &queue))
			return -EMSGSIZE;
	}
	if ((req->cudiag_show & CUDIAG_SHOW_STATS) &&
	    sk->sk_type != SOCK_DGRAM) {
		cu_conn_stats(sk, &stats);
		if (nla_put_64bit(skb, CUDIAG_STATS, sizeof(stats), &stats,
				  CUDIAG_PAD))
			return -EMSGSIZE;
	}
	if (req->cudiag_show & CUDIAG_SHOW_RQLEN) {
		rqlen.rqueue = cu_stream_inq(sk);
		rqlen.wqueue = atomic_read(&cu_sk(sk)->unread);
		if (nla_put(skb, CUDIAG_RQLEN, sizeof(rqlen), &rqlen))
			return -EMSGSIZE;
	}
	if ((req->cudiag_show & CUDIAG_SHOW_UID) &&
	    nla_put_u32(skb, CUDIAG_UID,
			from_kuid_munged(user_ns, cu_sock_uid(sk))))
		return -EMSGSIZE;
	return 0;
}

static int cu_diag_fill(struct sk_buff *skb, struct sock *sk,
			const struct cu_diag_req *req,
			struct netlink_callback *cb)
{
	struct user_namespace *user_ns = sk_user_ns(NETLINK_CB(cb->skb).sk);
	struct cu_diag_msg *rep;
	struct nlmsghdr *nlh;

	nlh = nlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			SOCK_DIAG_BY_FAMILY, sizeof(*rep), NLM_F_MULTI);
	if (!nlh)
		return -EMSGSIZE;

	rep = nlmsg_data(nlh);
	rep->cudiag_family = cu_family;
	rep->cudiag_type = sk->sk_type;
	rep->cudiag_state = READ_ONCE(sk->sk_state);
	rep->cudiag_pad = 0;
	rep->cudiag_port = READ_ONCE(cu_sk(sk)->port);
	rep->cudiag_peer = cu_sock_peer_port(sk);
	rep->cudiag_ino = sock_i_ino(sk);
	sock_diag_save_cookie(sk, rep->cudiag_cookie);

	if (cu_diag_put_attrs(skb, sk, req, user_ns)) {
		nlmsg_cancel(skb, nlh);
		return -EMSGSIZE;
	}
	nlmsg_end(skb, nlh);
	return 0;
}

static bool cu_diag_wanted(struct sock *sk, const struct cu_diag_req *req)
{
	if (sock_flag(sk, SOCK_DEAD))
		return false;
	if (req->cudiag_states &&
	    !(req->cudiag_states & (1U << READ_ONCE(sk->sk_state))))
		return false;
	return !req->cudiag_port ||
	       req->cudiag_port == READ_ONCE(cu_sk(sk)->port);
}

static int cu_diag_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct cu_diag_req *req = nlmsg_data(cb->nlh);
	struct cu_net *cn = cu_net(sock_net(skb->sk));
	long skip = cb->args[0], pos = 0;
	struct sock *sk;

	spin_lock_bh(&cn->sockets_lock);
	sk_for_each(sk, &cn->sockets) {
		if (pos >= skip && cu_diag_wanted(sk, req) &&
		    cu_diag_fill(skb, sk, req, cb))
			break;
		pos++;
	}
	spin_unlock_bh(&cn->sockets_lock);
	cb->args[0] = pos;
	return skb->len;
}

static int cu_diag_handler_dump(struct sk_buff *skb, struct nlmsghdr *nlh)
{
	struct netlink_dump_control control = { .dump = cu_diag_dump };
	struct net *net = sock_net(skb->sk);

	if (nlmsg_len(nlh) < sizeof(struct cu_diag_req))
		return -EINVAL;
	if (!(nlh->nlmsg_flags & NLM_F_DUMP))
		return -EOPNOTSUPP;
	return netlink_dump_start(net->diag_nlsk, skb, nlh, &control);
}

static struct sock_diag_handler cu_diag_handler = {
	.dump	= cu_diag_handler_dump,
};

int cu_diag_init(void)
{
	cu_diag_handler.family = cu_family;
	cu_diag_set_owner(&cu_diag_handler, THIS_MODULE);
	return sock_diag_register(&cu_diag_handler);
}

void cu_diag_exit(void)
{
	sock_diag_unregister(&cu_diag_handler);
}
