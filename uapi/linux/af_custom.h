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

#endif /* _UAPI_LINUX_AF_CUSTOM_H */
