/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * AF_CUSTOM: a local socket family whose listen() follows the Windows
 * Sockets semantics: the backlog is a real queue that a second listen()
 * resizes, resetting the newest pending connections when it shrinks.
 *
 * Userspace: include <sys/socket.h> before this header.
 */
#ifndef _UAPI_LINUX_AF_CUSTOM_H
#define _UAPI_LINUX_AF_CUSTOM_H

#include <linux/types.h>
#include <linux/socket.h>

#define AF_CUSTOM	22	/* default; never used in mainline (AF_SNA) */
#define PF_CUSTOM	AF_CUSTOM
#define SOL_CUSTOM	399	/* setsockopt/getsockopt level */

struct sockaddr_cu {
	__kernel_sa_family_t	scu_family;	/* AF_CUSTOM */
	__u16			scu_reserved;	/* must be 0 */
	__u32			scu_port;	/* host byte order */
};

#define CU_PORT_ANY		0U		/* bind: pick a free ephemeral port */
#define CU_PORT_PRIV_MAX	1023U		/* 1..1023 need CAP_NET_BIND_SERVICE */
#define CU_PORT_EPHEMERAL	0x80000000U	/* autobind picks ports >= this */

/* SOL_CUSTOM options, read-only (getsockopt), int unless noted */
#define CU_BACKLOG	1	/* effective backlog of a listener, 0 otherwise */
#define CU_PENDING	2	/* connections queued, not yet accepted */
#define CU_STATS	3	/* struct cu_listen_stats */

struct cu_listen_stats {
	__u64	queued;		/* connections ever queued on this listener */
	__u64	accepted;	/* ... taken by accept() */
	__u64	refused_full;	/* connects refused because the queue was full */
	__u64	reset_shrink;	/* pending connections reset by a backlog shrink */
	__u64	reset_close;	/* pending connections reset by close/shutdown */
};

/*
 * sock_diag: a NETLINK_SOCK_DIAG dump (SOCK_DIAG_BY_FAMILY, NLM_F_DUMP) of
 * the requester's network namespace, as unix_diag does for AF_UNIX.
 */
struct cu_diag_req {
	__u8	sdiag_family;	/* the family number (AF_CUSTOM by default) */
	__u8	sdiag_protocol;	/* 0 */
	__u16	cudiag_pad;
	__u32	cudiag_states;	/* 1 << TCP_LISTEN etc.; 0 means all */
	__u32	cudiag_port;	/* only this local port; 0 means all */
	__u32	cudiag_show;	/* CUDIAG_SHOW_*: attributes wanted */
};

#define CUDIAG_SHOW_QUEUE	0x01	/* CUDIAG_QUEUE */
#define CUDIAG_SHOW_STATS	0x02	/* CUDIAG_STATS (connection types) */
#define CUDIAG_SHOW_RQLEN	0x04	/* CUDIAG_RQLEN */
#define CUDIAG_SHOW_UID		0x08	/* CUDIAG_UID */

struct cu_diag_msg {
	__u8	cudiag_family;
	__u8	cudiag_type;	/* SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM */
	__u8	cudiag_state;	/* TCP_LISTEN, TCP_ESTABLISHED, TCP_CLOSE */
	__u8	cudiag_pad;
	__u32	cudiag_port;	/* local port, 0 if unbound */
	__u32	cudiag_peer;	/* peer port, 0 if none */
	__u32	cudiag_ino;	/* socket inode number */
	__u32	cudiag_cookie[2];
};

enum {
	CUDIAG_UNSPEC,
	CUDIAG_QUEUE,	/* struct cu_diag_queue */
	CUDIAG_STATS,	/* struct cu_listen_stats */
	CUDIAG_RQLEN,	/* struct cu_diag_rqlen */
	CUDIAG_UID,	/* __u32, in the requester's user namespace */
	CUDIAG_PAD,
	__CUDIAG_MAX,
};

#define CUDIAG_MAX	(__CUDIAG_MAX - 1)

struct cu_diag_queue {
	__u32	backlog;	/* CU_BACKLOG */
	__u32	pending;	/* CU_PENDING */
};

struct cu_diag_rqlen {
	__u32	rqueue;		/* bytes queued to this socket, unread */
	__u32	wqueue;		/* bytes it sent that its peer has not read */
};

#endif /* _UAPI_LINUX_AF_CUSTOM_H */
