/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the AF_CUSTOM tools (cunc, cuss, cu_demo) share: their messages on
 * stderr, errno texts, the family number the module registered, whether
 * the module is loaded, socket type names, decimal port numbers, the
 * address of a port and the module's sock_diag dump. Static inline, as
 * each tool is one static binary built from one file (tools/Makefile).
 */
#ifndef CU_TOOL_H
#define CU_TOOL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/af_custom.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

/* the TCP state numbers the family uses (include/net/tcp_states.h) */
#define CU_ST_ESTABLISHED	1
#define CU_ST_CLOSE		7
#define CU_ST_LISTEN		10

#define CU_MODULE_DIR	"/sys/module/af_custom"
#define CU_NOT_LOADED	"af_custom.ko is not loaded (no " CU_MODULE_DIR "); modprobe af_custom"

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

/* the module is loaded (its /sys/module directory is there) */
static inline bool cu_module_loaded(void)
{
	return access(CU_MODULE_DIR, F_OK) == 0;
}

/*
 * A port number, in decimal whatever its leading zeros (05000 is 5000, as
 * for nc and ss, not octal): true and *port set, or false.
 */
static inline bool cu_parse_port(const char *s, uint32_t *port)
{
	unsigned long long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*port = v;
	return true;
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

/* ---- the module's sock_diag dump ---------------------------------------- */

/*
 * One socket of the dump: its message, and the attributes after it
 * (CUDIAG_*, NULL if absent; see cu_diag_attr()).
 */
struct cu_diag_sock {
	const struct cu_diag_msg *msg;
	const void *attr[CUDIAG_MAX + 1];
	size_t attr_len[CUDIAG_MAX + 1];
};

/* attribute type of s, copied to buf if it has len bytes at least */
static inline bool cu_diag_attr(const struct cu_diag_sock *s, int type,
				void *buf, size_t len)
{
	if (!s->attr[type] || s->attr_len[type] < len)
		return false;
	memcpy(buf, s->attr[type], len);
	return true;
}

static inline void cu_diag_parse(struct cu_diag_sock *s,
				 const struct nlmsghdr *h)
{
	const struct nlattr *a;
	int len;

	memset(s, 0, sizeof(*s));
	s->msg = NLMSG_DATA(h);
	a = (const void *)((const char *)s->msg + NLA_ALIGN(sizeof(*s->msg)));
	len = h->nlmsg_len - NLMSG_LENGTH(NLA_ALIGN(sizeof(*s->msg)));
	for (; len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len))) {
		int type = a->nla_type & NLA_TYPE_MASK;

		if (type <= CUDIAG_MAX) {
			s->attr[type] = (const char *)a + NLA_HDRLEN;
			s->attr_len[type] = a->nla_len - NLA_HDRLEN;
		}
	}
}

static inline int cu_diag_request(int fd, const struct cu_diag_req *req)
{
	struct {
		struct nlmsghdr nlh;
		struct cu_diag_req req;
	} rq;
	struct sockaddr_nl nladdr = { .nl_family = AF_NETLINK };

	memset(&rq, 0, sizeof(rq));
	rq.nlh.nlmsg_len = sizeof(rq);
	rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	rq.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rq.nlh.nlmsg_seq = 1;
	rq.req = *req;
	if (sendto(fd, &rq, sizeof(rq), 0, (struct sockaddr *)&nladdr,
		   sizeof(nladdr)) < 0)
		return errno;
	return 0;
}

/*
 * One message of the reply: 1 more to come, 0 done, or -errno (an error
 * reply); each socket goes to fn.
 */
static inline int cu_diag_reply(const struct nlmsghdr *h,
				void (*fn)(const struct cu_diag_sock *, void *),
				void *arg)
{
	const struct nlmsgerr *ne = NLMSG_DATA(h);
	struct cu_diag_sock s;

	if (h->nlmsg_seq != 1)
		return 1;
	if (h->nlmsg_type == NLMSG_DONE)
		return 0;
	if (h->nlmsg_type == NLMSG_ERROR)
		return h->nlmsg_len >= NLMSG_LENGTH(sizeof(*ne)) && ne->error ?
		       ne->error : -EPROTO;
	if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
	    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct cu_diag_msg))) {
		cu_diag_parse(&s, h);
		fn(&s, arg);
	}
	return 1;
}

/*
 * Dump the sockets req asks for (req->sdiag_family set by the caller),
 * each to fn(socket, arg). Returns 0, or an errno when there is no dump
 * (no netlink, no handler for the family: ENOENT, an error reply).
 */
static inline int cu_diag_dump(const struct cu_diag_req *req,
			       void (*fn)(const struct cu_diag_sock *, void *),
			       void *arg)
{
	static char buf[32768] __attribute__((aligned(8)));
	const struct nlmsghdr *h;
	int fd, err, more = 1;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return errno;
	err = cu_diag_request(fd, req);
	while (!err && more > 0) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n ? errno : EPROTO;
			break;
		}
		for (h = (const void *)buf; more > 0 && NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n))
			more = cu_diag_reply(h, fn, arg);
		if (more < 0)
			err = -more;
	}
	close(fd);
	return err;
}

#endif /* CU_TOOL_H */
