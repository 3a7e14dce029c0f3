// SPDX-License-Identifier: GPL-2.0
/*
 * cuss: like ss(8), for AF_CUSTOM sockets.
 *
 * Lists the sockets of the caller's network namespace from the af_custom
 * sock_diag dump (NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY; the structs are in
 * uapi/linux/af_custom.h), or from /proc/net/af_custom when the dump is not
 * there (or with --proc). /proc has no CU_STATS counters.
 *
 *   cuss [-l | -a] [-H] [-t TYPE] [-p PORT] [--proc] [FILTER...]
 *   cuss -s
 *
 * FILTER: `state NAME` (repeatable), `port = N` / `sport = N` (local port),
 * `dport = N` (peer port).
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <linux/af_custom.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu_tool.h"

#define PROC_FILE	"/proc/net/af_custom"
#define STAT_FILE	"/proc/net/af_custom_stat"

/* the TCP state numbers sock_diag uses (include/net/tcp_states.h) */
#define ST_ESTABLISHED	1
#define ST_CLOSE	7
#define ST_LISTEN	10
#define ST_ALL		0xffffffffU

#define EX_FAIL		1
#define EX_USAGE	2

static const char *prog = "cuss";

#define msg(...)	cu_msg(prog, __VA_ARGS__)

struct entry {
	uint8_t type, state;
	uint32_t port, peer, ino;
	bool has_queue, has_stats, has_rqlen, has_uid;
	struct cu_diag_queue queue;
	struct cu_listen_stats stats;
	struct cu_diag_rqlen rqlen;
	uint32_t uid;
};

static struct {
	uint32_t states;	/* 1 << ST_*; ST_ALL */
	bool states_given;
	uint32_t sport, dport;
	bool has_sport, has_dport;
	int type;		/* 0: any */
	bool header, summary, proc;
} opt = {
	.states = 1U << ST_ESTABLISHED,
	.header = true,
};

static int family = AF_CUSTOM;
static struct entry *entries;
static size_t nentries, capacity;

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s [-l | -a] [-H] [-t TYPE] [-p PORT] [--proc] [FILTER...]\n"
"       %s -s [--proc]\n"
"\n"
"Lists the AF_CUSTOM sockets of this network namespace, like ss(8): type,\n"
"state, queued bytes, local and peer port, owner, inode; for a listener\n"
"also its backlog, pending connections and CU_STATS counters.\n"
"\n"
"  (default)     connected sockets (state ESTAB)\n"
"  -l, --listening  listening sockets, and unconnected ones (bound datagram\n"
"                sockets), as ss -l\n"
"  -a, --all     every socket\n"
"  -t, --type TYPE  only stream, seqpacket or dgram sockets\n"
"  -p, --port PORT  only sockets whose local port is PORT (as `port = PORT`)\n"
"  -H, --no-header  no header line\n"
"  -s, --summary the family-wide counters of this network namespace\n"
"                (/proc/net/af_custom_stat) and the sockets by type and state\n"
"      --proc    read /proc/net/af_custom instead of the sock_diag dump (it\n"
"                has no CU_STATS counters)\n"
"  -n            accepted and ignored (ports are always numbers)\n"
"  -h, --help    this help\n"
"\n"
"FILTER, words combined with AND (states with OR):\n"
"  state NAME    listening, established, unconnected, connected, all\n"
"                (also LISTEN, ESTAB, UNCONN as printed)\n"
"  port = N, sport = N   local port N\n"
"  dport = N     peer port N\n"
"\n"
"A connection accepted by nobody yet (pending on a listener) is listed with\n"
"the listener's port, inode 0 and `not-accepted`.\n",
		prog, prog);
}

static struct entry *new_entry(void)
{
	if (nentries == capacity) {
		capacity = capacity ? 2 * capacity : 64;
		entries = realloc(entries, capacity * sizeof(*entries));
		if (!entries) {
			msg("out of memory");
			exit(EX_FAIL);
		}
	}
	memset(&entries[nentries], 0, sizeof(*entries));
	return &entries[nentries++];
}

static const char *state_name(int state)
{
	static char buf[16];

	switch (state) {
	case ST_LISTEN:
		return "LISTEN";
	case ST_ESTABLISHED:
		return "ESTAB";
	case ST_CLOSE:
		return "UNCONN";
	default:
		snprintf(buf, sizeof(buf), "STATE%d", state);
		return buf;
	}
}

/* ---- sock_diag ---------------------------------------------------------- */

static void parse_attrs(struct entry *e, struct nlattr *a, int len)
{
	for (; len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len))) {
		void *data = (char *)a + NLA_HDRLEN;
		size_t dlen = a->nla_len - NLA_HDRLEN;

		switch (a->nla_type & NLA_TYPE_MASK) {
		case CUDIAG_QUEUE:
			if (dlen >= sizeof(e->queue)) {
				memcpy(&e->queue, data, sizeof(e->queue));
				e->has_queue = true;
			}
			break;
		case CUDIAG_STATS:
			if (dlen >= sizeof(e->stats)) {
				memcpy(&e->stats, data, sizeof(e->stats));
				e->has_stats = true;
			}
			break;
		case CUDIAG_RQLEN:
			if (dlen >= sizeof(e->rqlen)) {
				memcpy(&e->rqlen, data, sizeof(e->rqlen));
				e->has_rqlen = true;
			}
			break;
		case CUDIAG_UID:
			if (dlen >= sizeof(e->uid)) {
				memcpy(&e->uid, data, sizeof(e->uid));
				e->has_uid = true;
			}
			break;
		}
	}
}

/*
 * Fill entries from the dump. Returns 0, or an errno when the dump is not
 * available (no netlink, no handler for the family, an error reply).
 */
static int read_diag(void)
{
	struct {
		struct nlmsghdr nlh;
		struct cu_diag_req req;
	} rq;
	struct sockaddr_nl nladdr = { .nl_family = AF_NETLINK };
	static char buf[32768] __attribute__((aligned(8)));
	struct nlmsghdr *h;
	int fd, err = 0;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return errno;
	memset(&rq, 0, sizeof(rq));
	rq.nlh.nlmsg_len = sizeof(rq);
	rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	rq.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rq.nlh.nlmsg_seq = 1;
	rq.req.sdiag_family = family;
	rq.req.cudiag_states = opt.states == ST_ALL ? 0 : opt.states;
	rq.req.cudiag_port = opt.has_sport ? opt.sport : 0;
	rq.req.cudiag_show = CUDIAG_SHOW_QUEUE | CUDIAG_SHOW_STATS |
			     CUDIAG_SHOW_RQLEN | CUDIAG_SHOW_UID;
	if (sendto(fd, &rq, sizeof(rq), 0, (struct sockaddr *)&nladdr,
		   sizeof(nladdr)) < 0) {
		err = errno;
		goto out;
	}
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto out;
		}
		if (n == 0) {
			err = EPROTO;
			goto out;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			struct cu_diag_msg *m;
			struct entry *e;

			if (h->nlmsg_seq != 1)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *ne = NLMSG_DATA(h);

				err = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*ne)) &&
				      ne->error ? -ne->error : EPROTO;
				goto out;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			m = NLMSG_DATA(h);
			e = new_entry();
			e->type = m->cudiag_type;
			e->state = m->cudiag_state;
			e->port = m->cudiag_port;
			e->peer = m->cudiag_peer;
			e->ino = m->cudiag_ino;
			parse_attrs(e, (struct nlattr *)((char *)m + NLA_ALIGN(sizeof(*m))),
				    h->nlmsg_len - NLMSG_LENGTH(NLA_ALIGN(sizeof(*m))));
		}
	}
out:
	close(fd);
	if (err)
		nentries = 0;
	return err;
}

/* ---- /proc/net/af_custom ------------------------------------------------ */

static int read_proc(void)
{
	FILE *f = fopen(PROC_FILE, "r");
	char line[512], type[16], state[16];
	unsigned int port, peer, backlog, pending, uid;
	int rx, tx;
	unsigned long ino;
	struct entry *e;

	if (!f)
		return errno;
	if (!fgets(line, sizeof(line), f)) {	/* the header */
		fclose(f);
		return EPROTO;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s %15s %u %u %u %u %d %d %u %lu", type, state,
			   &port, &peer, &backlog, &pending, &rx, &tx, &uid,
			   &ino) != 10)
			continue;
		e = new_entry();
		e->type = !strcmp(type, "stream") ? SOCK_STREAM :
			  !strcmp(type, "seqpacket") ? SOCK_SEQPACKET : SOCK_DGRAM;
		e->state = !strcmp(state, "LISTEN") ? ST_LISTEN :
			   !strcmp(state, "ESTAB") ? ST_ESTABLISHED : ST_CLOSE;
		e->port = port;
		e->peer = peer;
		e->ino = ino;
		e->queue.backlog = backlog;
		e->queue.pending = pending;
		e->has_queue = true;
		e->rqlen.rqueue = rx;
		e->rqlen.wqueue = tx;
		e->has_rqlen = true;
		e->uid = uid;
		e->has_uid = true;
	}
	fclose(f);
	return 0;
}

/* ---- output ------------------------------------------------------------- */

static bool wanted(const struct entry *e)
{
	if (opt.states != ST_ALL && !(opt.states & (1U << e->state)))
		return false;
	if (opt.type && e->type != opt.type)
		return false;
	if (opt.has_sport && e->port != opt.sport)
		return false;
	return !opt.has_dport || e->peer == opt.dport;
}

static int cmp_entries(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if ((a->state == ST_LISTEN) != (b->state == ST_LISTEN))
		return a->state == ST_LISTEN ? -1 : 1;
	if (a->peer != b->peer)
		return a->peer < b->peer ? -1 : 1;
	return a->ino < b->ino ? -1 : a->ino > b->ino;
}

static void port_text(char *buf, size_t len, uint32_t port)
{
	if (port)
		snprintf(buf, len, "%u", port);
	else
		snprintf(buf, len, "*");
}

static void list(void)
{
	char local[16], peer[16];
	size_t i;

	qsort(entries, nentries, sizeof(*entries), cmp_entries);
	if (opt.header)
		printf("%-9s %-6s %7s %7s %-10s %-10s %5s %7s  %s\n", "Type", "State",
		       "Recv-Q", "Send-Q", "Local", "Peer", "Uid", "Inode",
		       "Queue/counters");
	for (i = 0; i < nentries; i++) {
		const struct entry *e = &entries[i];

		if (!wanted(e))
			continue;
		port_text(local, sizeof(local), e->port);
		port_text(peer, sizeof(peer), e->peer);
		printf("%-9s %-6s %7u %7u %-10s %-10s %5u %7u ", cu_type_name(e->type),
		       state_name(e->state), e->rqlen.rqueue, e->rqlen.wqueue,
		       local, peer, e->uid, e->ino);
		if (e->state == ST_LISTEN && e->has_queue)
			printf(" backlog:%u pending:%u", e->queue.backlog,
			       e->queue.pending);
		if (e->state == ST_LISTEN && e->has_stats)
			printf(" queued:%llu accepted:%llu refused_full:%llu reset_shrink:%llu reset_close:%llu",
			       (unsigned long long)e->stats.queued,
			       (unsigned long long)e->stats.accepted,
			       (unsigned long long)e->stats.refused_full,
			       (unsigned long long)e->stats.reset_shrink,
			       (unsigned long long)e->stats.reset_close);
		if (e->state == ST_ESTABLISHED && e->type != SOCK_DGRAM && !e->ino)
			printf(" not-accepted");
		putchar('\n');
	}
}

static int summary(const char *source)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
	FILE *f = fopen(STAT_FILE, "r");
	char name[64];
	long long v;
	size_t i, t, n[3][3];

	memset(n, 0, sizeof(n));
	for (i = 0; i < nentries; i++) {
		for (t = 0; t < 3 && types[t] != entries[i].type; t++)
			;
		if (t == 3)
			continue;
		n[t][entries[i].state == ST_LISTEN ? 0 :
		     entries[i].state == ST_ESTABLISHED ? 1 : 2]++;
	}
	printf("AF_CUSTOM (family %d) sockets in this network namespace: %zu (from %s)\n",
	       family, nentries, source);
	for (t = 0; t < 3; t++)
		printf("  %-9s %4zu  listening %zu, established %zu, unconnected %zu\n",
		       cu_type_name(types[t]), n[t][0] + n[t][1] + n[t][2],
		       n[t][0], n[t][1], n[t][2]);
	if (!f) {
		msg("%s: %s", STAT_FILE, cu_errtext(errno));
		return EX_FAIL;
	}
	printf("Connection counters of this network namespace (%s):\n", STAT_FILE);
	while (fscanf(f, "%63s %lld", name, &v) == 2)
		printf("  %-20s %lld\n", name, v);
	fclose(f);
	return 0;
}

/* ---- arguments ---------------------------------------------------------- */

static bool parse_port(const char *s, uint32_t *port)
{
	unsigned long v;
	char *end;

	if (*s == ':')
		s++;
	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*port = v;
	return true;
}

static bool add_state(const char *name)
{
	static const struct {
		const char *name;
		uint32_t mask;
	} names[] = {
		{ "listening", 1U << ST_LISTEN },
		{ "listen", 1U << ST_LISTEN },
		{ "established", 1U << ST_ESTABLISHED },
		{ "estab", 1U << ST_ESTABLISHED },
		{ "connected", 1U << ST_ESTABLISHED },
		{ "unconnected", 1U << ST_CLOSE },
		{ "unconn", 1U << ST_CLOSE },
		{ "close", 1U << ST_CLOSE },
		{ "closed", 1U << ST_CLOSE },
		{ "all", ST_ALL },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(name, names[i].name))
			continue;
		if (!opt.states_given)
			opt.states = 0;
		opt.states_given = true;
		opt.states |= names[i].mask;
		return true;
	}
	return false;
}

/* the words after the options: state NAME, [s|d]port [=|==] N */
static bool parse_filter(int argc, char **argv)
{
	int i = 0;

	while (i < argc) {
		char word[32], *eq;
		const char *value = NULL;
		uint32_t port;

		if (!strcmp(argv[i], "state")) {
			if (i + 1 >= argc || !add_state(argv[i + 1])) {
				msg("state: want listening, established, unconnected, connected or all");
				return false;
			}
			i += 2;
			continue;
		}
		snprintf(word, sizeof(word), "%s", argv[i++]);
		eq = strchr(word, '=');
		if (eq) {		/* port=N, port==N, port= N */
			value = argv[i - 1] + (eq - word);
			*eq = 0;
			while (*value == '=')
				value++;
		}
		if (strcmp(word, "port") && strcmp(word, "sport") &&
		    strcmp(word, "dport")) {
			msg("unknown filter word '%s'", argv[i - 1]);
			return false;
		}
		if (!value || !*value) {
			if (i < argc && (!strcmp(argv[i], "=") || !strcmp(argv[i], "==")))
				i++;
			if (i >= argc) {
				msg("%s: a port number is missing", word);
				return false;
			}
			value = argv[i++];
		}
		if (!parse_port(value, &port)) {
			msg("%s: '%s' is not a port number", word, value);
			return false;
		}
		if (!strcmp(word, "dport")) {
			opt.dport = port;
			opt.has_dport = true;
		} else {
			opt.sport = port;
			opt.has_sport = true;
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listening", no_argument, NULL, 'l' },
		{ "all", no_argument, NULL, 'a' },
		{ "type", required_argument, NULL, 't' },
		{ "port", required_argument, NULL, 'p' },
		{ "no-header", no_argument, NULL, 'H' },
		{ "summary", no_argument, NULL, 's' },
		{ "proc", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *source = "sock_diag";
	int c, err;

	while ((c = getopt_long(argc, argv, "lat:p:Hsnh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			opt.states = (1U << ST_LISTEN) | (1U << ST_CLOSE);
			opt.states_given = true;
			break;
		case 'a':
			opt.states = ST_ALL;
			opt.states_given = true;
			break;
		case 't':
			if (!strcmp(optarg, "stream"))
				opt.type = SOCK_STREAM;
			else if (!strcmp(optarg, "seqpacket"))
				opt.type = SOCK_SEQPACKET;
			else if (!strcmp(optarg, "dgram"))
				opt.type = SOCK_DGRAM;
			else {
				msg("-t: stream, seqpacket or dgram");
				return EX_USAGE;
			}
			break;
		case 'p':
			if (!parse_port(optarg, &opt.sport)) {
				msg("-p: '%s' is not a port number", optarg);
				return EX_USAGE;
			}
			opt.has_sport = true;
			break;
		case 'H':
			opt.header = false;
			break;
		case 's':
			opt.summary = true;
			break;
		case 'P':
			opt.proc = true;
			break;
		case 'n':
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (!parse_filter(argc - optind, argv + optind))
		return EX_USAGE;
	if (opt.summary) {	/* every socket, whatever the filters */
		opt.states = ST_ALL;
		opt.has_sport = opt.has_dport = false;
		opt.type = 0;
	}

	family = cu_find_family();
	err = opt.proc ? -1 : read_diag();
	if (err) {
		int perr = read_proc();

		if (perr) {
			if (err > 0)
				msg("sock_diag dump for family %d: %s", family,
				    cu_errtext(err));
			msg("%s: %s%s", PROC_FILE, cu_errtext(perr),
			    perr == ENOENT ? ": af_custom.ko is not loaded" : "");
			return EX_FAIL;
		}
		if (err > 0)
			msg("no sock_diag dump for family %d (%s); read %s, which has no CU_STATS counters",
			    family, cu_errtext(err), PROC_FILE);
		source = PROC_FILE;
	}
	if (opt.summary)
		return summary(source);
	list();
	return 0;
}
