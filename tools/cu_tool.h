/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the AF_CUSTOM tools (cunc, cuss, cu_demo) share: their messages on
 * stderr, errno texts, the family number the module registered, socket
 * type names and the address of a port. Static inline, as each tool is one
 * static binary built from one file (tools/Makefile).
 */
#ifndef CU_TOOL_H
#define CU_TOOL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/af_custom.h>

/* "PROG: message", a line on stderr */
static inline void __attribute__((format(printf, 2, 3)))
cu_msg(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* "Connection refused (ECONNREFUSED)" */
static inline const char *cu_errtext(int err)
{
	static char buf[160];
	const char *name = strerrorname_np(err);

	snprintf(buf, sizeof(buf), "%s (%s)", strerror(err), name ? name : "?");
	return buf;
}

/*
 * The family number af_custom.ko registered (its family parameter), or
 * AF_CUSTOM when the module says none (not loaded: socket() will tell).
 */
static inline int cu_find_family(void)
{
	FILE *f = fopen("/sys/module/af_custom/parameters/family", "r");
	int v, family = AF_CUSTOM;

	if (!f)
		return family;
	if (fscanf(f, "%d", &v) == 1 && v > 0)
		family = v;
	fclose(f);
	return family;
}

/* "stream", "seqpacket" or "dgram" */
static inline const char *cu_type_name(int type)
{
	switch (type) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_SEQPACKET:
		return "seqpacket";
	case SOCK_DGRAM:
		return "dgram";
	default:
		return "?";
	}
}

/* the address of port in family */
static inline struct sockaddr_cu cu_addr(int family, uint32_t port)
{
	struct sockaddr_cu a;

	memset(&a, 0, sizeof(a));
	a.scu_family = family;
	a.scu_port = port;
	return a;
}

#endif /* CU_TOOL_H */
