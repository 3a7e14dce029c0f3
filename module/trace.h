/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the pending-connection queue: what happens to each
 * connection between connect() and accept(), and every backlog change.
 * Ports identify the listener (port) and the client (peer).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM af_custom

#if !defined(_CU_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _CU_TRACE_H

#include <linux/tracepoint.h>
#include <net/sock.h>

#include "af_custom.h"

/*
 * Every event names the listener by its port, its socket cookie (as
 * SO_COOKIE and sock_diag give it; 0 when there is no listener) and the
 * inode of its network namespace (as /proc/PID/ns/net), so listeners on
 * the same port in two containers are told apart. Each field prints
 * under its own name, so a filter or a bpftrace script reads what perf
 * script shows.
 */
DECLARE_EVENT_CLASS(cu_conn_class,
		    TP_PROTO(struct sock *listener, u32 peer, u32 pending),
		    TP_ARGS(listener, peer, pending),
		    TP_STRUCT__entry(__field(u32, port)
				     __field(u32, peer)
				     __field(u32, pending)
				     __field(u64, cookie)
				     __field(u32, netns_ino)),
		    TP_fast_assign(__entry->port = READ_ONCE(cu_sk(listener)->port);
				   __entry->peer = peer;
				   __entry->pending = pending;
				   __entry->cookie = cu_sock_cookie(listener);
				   __entry->netns_ino = sock_net(listener)->ns.inum;),
		    TP_printk("port=%u peer=%u pending=%u cookie=%llu netns_ino=%u",
			      __entry->port, __entry->peer, __entry->pending,
			      __entry->cookie, __entry->netns_ino));

/* a connection was queued on a listener */
DEFINE_EVENT(cu_conn_class, cu_queued,
	     TP_PROTO(struct sock *listener, u32 peer, u32 pending),
	     TP_ARGS(listener, peer, pending));

/* accept() took a connection off the queue */
DEFINE_EVENT(cu_conn_class, cu_accepted,
	     TP_PROTO(struct sock *listener, u32 peer, u32 pending),
	     TP_ARGS(listener, peer, pending));

#define CU_TRACE_FULL		0	/* refused: the queue was full */
#define CU_TRACE_NO_LISTENER	1	/* refused: nobody listens */
#define CU_TRACE_SHRINK		2	/* reset by a backlog shrink */
#define CU_TRACE_CLOSE		3	/* reset by close or shutdown */

/* @listener is NULL when nobody listens on @port of @net */
DECLARE_EVENT_CLASS(cu_why_class,
		    TP_PROTO(struct net *net, struct sock *listener, u32 port,
			     u32 peer, u8 why),
		    TP_ARGS(net, listener, port, peer, why),
		    TP_STRUCT__entry(__field(u32, port)
				     __field(u32, peer)
				     __field(u8, why)
				     __field(u64, cookie)
				     __field(u32, netns_ino)),
		    TP_fast_assign(__entry->port = port;
				   __entry->peer = peer;
				   __entry->why = why;
				   __entry->cookie = listener ?
					cu_sock_cookie(listener) : 0;
				   __entry->netns_ino = net->ns.inum;),
		    TP_printk("port=%u peer=%u why=%s cookie=%llu netns_ino=%u",
			      __entry->port, __entry->peer,
			      __print_symbolic(__entry->why,
					       { CU_TRACE_FULL, "full" },
					       { CU_TRACE_NO_LISTENER, "no_listener" },
					       { CU_TRACE_SHRINK, "shrink" },
					       { CU_TRACE_CLOSE, "close" }),
			      __entry->cookie, __entry->netns_ino));

/* a connect() was refused: the queue was full, or nobody listens */
DEFINE_EVENT(cu_why_class, cu_refused,
	     TP_PROTO(struct net *net, struct sock *listener, u32 port,
		      u32 peer, u8 why),
	     TP_ARGS(net, listener, port, peer, why));

/* a pending connection was reset: by a backlog shrink, or a close */
DEFINE_EVENT(cu_why_class, cu_reset,
	     TP_PROTO(struct net *net, struct sock *listener, u32 port,
		      u32 peer, u8 why),
	     TP_ARGS(net, listener, port, peer, why));

/* listen() set the backlog (old_backlog is 0 on the first listen()) */
TRACE_EVENT(cu_backlog,
	    TP_PROTO(struct sock *listener, u32 old_backlog, u32 new_backlog,
		     u32 pending),
	    TP_ARGS(listener, old_backlog, new_backlog, pending),
	    TP_STRUCT__entry(__field(u32, port)
			     __field(u32, old_backlog)
			     __field(u32, new_backlog)
			     __field(u32, pending)
			     __field(u64, cookie)
			     __field(u32, netns_ino)),
	    TP_fast_assign(__entry->port = READ_ONCE(cu_sk(listener)->port);
			   __entry->old_backlog = old_backlog;
			   __entry->new_backlog = new_backlog;
			   __entry->pending = pending;
			   __entry->cookie = cu_sock_cookie(listener);
			   __entry->netns_ino = sock_net(listener)->ns.inum;),
	    TP_printk("port=%u old_backlog=%u new_backlog=%u pending=%u cookie=%llu netns_ino=%u",
		      __entry->port, __entry->old_backlog,
		      __entry->new_backlog, __entry->pending,
		      __entry->cookie, __entry->netns_ino));

#endif /* _CU_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
