// SPDX-License-Identifier: GPL-2.0
/*
 * cuss: ss(8) for AF_CUSTOM sockets, with ss's options and filters.
 *
 * Lists the sockets of the caller's network namespace from the af_custom
 * sock_diag dump (NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY; the structs are in
 * uapi/linux/af_custom.h), or from /proc/net/af_custom when the dump is not
 * there (or with --proc). /proc has no CU_STATS counters nor cookies.
 *
 *   cuss [-ltuaneimpHO] [--seqpacket] [--json] [--proc] [FILTER]
 *   cuss -s
 *
 * -t is SOCK_STREAM (as ss's TCP), -u SOCK_DGRAM (as UDP). A listener's
 * Recv-Q and Send-Q are its pending connections and its backlog, as ss
 * shows a TCP listener's. FILTER is ss's: `state NAME`, `exclude NAME`,
 * then an expression of `sport = :N` and `dport OP :N` with and, or, not
 * and parentheses, in one argument or in several.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <linux/af_custom.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cu_tool.h"

#define PROC_FILE	"/proc/net/af_custom"
#define STAT_FILE	"/proc/net/af_custom_stat"

#define ST_ALL		0xffffffffU

#define EX_FAIL		1
#define EX_USAGE	2

static const char *prog = "cuss";

#define msg(...)	cu_msg(prog, __VA_ARGS__)

struct entry {
	uint8_t type, state;
	uint32_t port, peer, ino, uid;
	uint64_t cookie;
	bool has_cookie, has_stats;
	struct cu_diag_queue queue;
	struct cu_listen_stats stats;
	struct cu_diag_rqlen rqlen;
};

/* a process holding a socket (-p): users:(("name",pid=N,fd=N)) */
struct owner {
	uint32_t ino;
	int pid, fd;
	char name[32];
};

static struct {
	uint32_t states;	/* 1 << CU_ST_*; ST_ALL */
	unsigned int types;	/* 1 << SOCK_*; 0: all */
	bool header, oneline, extended, processes, memory, info, json;
	bool summary, proc;
} opt = {
	.states = 1U << CU_ST_ESTABLISHED,
	.header = true,
};

static int family = AF_CUSTOM;
static struct entry *entries;
static size_t nentries, capacity;
static struct owner *owners;
static size_t nowners, owners_cap;

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s [-ltuaneimpHO] [--seqpacket] [--json] [--proc] [FILTER]\n"
"       %s -s [--proc]\n"
"\n"
"ss(8) for AF_CUSTOM sockets: the sockets of this network namespace, with\n"
"their state, queues, ports, and on request owners, uid, inode, cookie and\n"
"a listener's CU_STATS counters.\n"
"\n"
"  (default)       connected sockets (ESTAB)\n"
"  -l, --listening listening sockets (for dgram: the unconnected ones)\n"
"  -a, --all       every socket\n"
"  -t, --tcp, --stream   SOCK_STREAM sockets (ss's TCP)\n"
"  -u, --udp, --dgram    SOCK_DGRAM sockets (ss's UDP)\n"
"      --seqpacket SOCK_SEQPACKET sockets (types add up; none: all)\n"
"  -n, --numeric   accepted: ports are always numbers\n"
"  -e, --extended  uid, inode and socket cookie (uid:N ino:N sk:HEX)\n"
"  -p, --processes the processes holding each socket\n"
"                  (users:((\"name\",pid=N,fd=N)), from /proc/*/fd)\n"
"  -m, --memory    bytes queued: skmem:(rN,tN) (received, sent unread)\n"
"  -i, --info      a listener's backlog, pending and CU_STATS counters, kept\n"
"                  after it stops listening\n"
"  -O, --oneline   -m and -i on the socket's line, not the next one\n"
"  -H, --no-header no header line\n"
"      --json      one JSON object per line and socket, every field\n"
"  -s, --summary   the family's counters (/proc/net/af_custom_stat) and the\n"
"                  sockets by type and state\n"
"      --proc      read /proc/net/af_custom, not the sock_diag dump (no\n"
"                  counters, no cookies)\n"
"  -h, --help      this help\n"
"\n"
"A listener's Recv-Q and Send-Q are its pending connections and its\n"
"backlog, as ss shows them for a TCP listener.\n"
"\n"
"FILTER (one argument or several words), as ss's:\n"
"  state NAME, exclude NAME  listening, established (connected),\n"
"                unconnected (closed), all; first, any number of times\n"
"  sport OP :N, dport OP :N  local or peer port; OP is = == != < <= > >=\n"
"                (or eq ne lt le gt ge), = when left out; `port` is sport\n"
"  and (&&), or (||), not (!), ( ): `sport = :5000 or sport = :6000`\n"
"\n"
"A connection accepted by nobody yet (pending on a listener) is listed with\n"
"the listener's port, inode 0 and `not-accepted`.\n",
		prog, prog);
}

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? 2 * *cap : 64;
	p = realloc(p, *cap * size);
	if (!p) {
		msg("out of memory");
		exit(EX_FAIL);
	}
	return p;
}

static struct entry *new_entry(void)
{
	entries = grow(entries, &capacity, nentries, sizeof(*entries));
	memset(&entries[nentries], 0, sizeof(*entries));
	return &entries[nentries++];
}

static const char *state_name(int state)
{
	static char buf[16];

	switch (state) {
	case CU_ST_LISTEN:
		return "LISTEN";
	case CU_ST_ESTABLISHED:
		return "ESTAB";
	case CU_ST_CLOSE:
		return "UNCONN";
	default:
		snprintf(buf, sizeof(buf), "STATE%d", state);
		return buf;
	}
}

/* ---- sock_diag ---------------------------------------------------------- */

static void add_diag_entry(const struct cu_diag_sock *s, void *arg)
{
	const struct cu_diag_msg *m = s->msg;
	struct entry *e = new_entry();

	(void)arg;
	e->type = m->cudiag_type;
	e->state = m->cudiag_state;
	e->port = m->cudiag_port;
	e->peer = m->cudiag_peer;
	e->ino = m->cudiag_ino;
	e->cookie = m->cudiag_cookie[0] |
		    (uint64_t)m->cudiag_cookie[1] << 32;
	e->has_cookie = true;
	cu_diag_attr(s, CUDIAG_QUEUE, &e->queue, sizeof(e->queue));
	cu_diag_attr(s, CUDIAG_RQLEN, &e->rqlen, sizeof(e->rqlen));
	cu_diag_attr(s, CUDIAG_UID, &e->uid, sizeof(e->uid));
	e->has_stats = cu_diag_attr(s, CUDIAG_STATS, &e->stats,
				    sizeof(e->stats));
}

/* every socket (cuss filters itself); 0 or an errno */
static int read_diag(void)
{
	struct cu_diag_req req = {
		.sdiag_family = family,
		.cudiag_show = CUDIAG_SHOW_QUEUE | CUDIAG_SHOW_STATS |
			       CUDIAG_SHOW_RQLEN | CUDIAG_SHOW_UID,
	};
	int err = cu_diag_dump(&req, add_diag_entry, NULL);

	if (err)
		nentries = 0;
	return err;
}

/* ---- /proc/net/af_custom ------------------------------------------------ */

static int type_of(const char *name)
{
	if (!strcmp(name, "stream"))
		return SOCK_STREAM;
	if (!strcmp(name, "seqpacket"))
		return SOCK_SEQPACKET;
	return SOCK_DGRAM;
}

static int state_of(const char *name)
{
	if (!strcmp(name, "LISTEN"))
		return CU_ST_LISTEN;
	if (!strcmp(name, "ESTAB"))
		return CU_ST_ESTABLISHED;
	return CU_ST_CLOSE;
}

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
		e->type = type_of(type);
		e->state = state_of(state);
		e->port = port;
		e->peer = peer;
		e->ino = ino;
		e->queue.backlog = backlog;
		e->queue.pending = pending;
		e->rqlen.rqueue = rx;
		e->rqlen.wqueue = tx;
		e->uid = uid;
	}
	fclose(f);
	return 0;
}

/* ---- owners (-p): the socket inodes in /proc/PID/fd --------------------- */

static void process_name(int pid, char *name, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f || !fgets(name, len, f))
		snprintf(name, len, "?");
	name[strcspn(name, "\n")] = 0;
	if (f)
		fclose(f);
}

static bool listed_inode(uint32_t ino)
{
	size_t i;

	for (i = 0; i < nentries; i++)
		if (ino && entries[i].ino == ino)
			return true;
	return false;
}

static void add_owner(int pid, int fd, uint32_t ino)
{
	struct owner *o;

	owners = grow(owners, &owners_cap, nowners, sizeof(*owners));
	o = &owners[nowners++];
	o->ino = ino;
	o->pid = pid;
	o->fd = fd;
	process_name(pid, o->name, sizeof(o->name));
}

static void scan_process(int pid)
{
	char dir[64], path[320], link[64];
	struct dirent *d;
	unsigned long ino;
	ssize_t n;
	DIR *fds;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	fds = opendir(dir);
	if (!fds)
		return;
	while ((d = readdir(fds))) {
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (sscanf(link, "socket:[%lu]", &ino) == 1 && listed_inode(ino))
			add_owner(pid, atoi(d->d_name), ino);
	}
	closedir(fds);
}

static void find_owners(void)
{
	DIR *proc = opendir("/proc");
	struct dirent *d;

	if (!proc)
		return;
	while ((d = readdir(proc)))
		if (isdigit((unsigned char)d->d_name[0]))
			scan_process(atoi(d->d_name));
	closedir(proc);
}

/* ---- the filter: ss's expression language -------------------------------- */

enum node_kind { N_TRUE, N_AND, N_OR, N_NOT, N_PORT };
enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct node {
	enum node_kind kind;
	struct node *a, *b;	/* AND, OR: a and b; NOT: a */
	bool peer;		/* N_PORT: dport, else sport */
	enum cmp_op op;
	uint32_t port;
};

#define MAX_TOKENS	256

static struct {
	char *tok[MAX_TOKENS];
	int n, pos;
	struct node nodes[MAX_TOKENS];
	int nnodes;
	struct node *root;
} flt;

static const char *peek(void)
{
	return flt.pos < flt.n ? flt.tok[flt.pos] : NULL;
}

static bool next_is(const char *a, const char *b)
{
	const char *t = peek();

	return t && (!strcmp(t, a) || (b && !strcmp(t, b)));
}

static struct node *new_node(enum node_kind kind, struct node *a,
			     struct node *b)
{
	struct node *n = &flt.nodes[flt.nnodes++];

	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->a = a;
	n->b = b;
	return n;
}

/* the words of argv, split at blanks, parentheses and operators */
static bool tokenize(int argc, char **argv)
{
	static const char ops[] = "=<>!&|";
	int i;

	for (i = 0; i < argc; i++) {
		const char *s = argv[i];

		while (*s) {
			size_t len;

			if (isspace((unsigned char)*s)) {
				s++;
				continue;
			}
			if (*s == '(' || *s == ')')
				len = 1;
			else if (strchr(ops, *s))
				len = strspn(s, ops);
			else
				len = strcspn(s, " \t\n()=<>!&|");
			if (flt.n == MAX_TOKENS) {
				msg("the filter is too long");
				return false;
			}
			flt.tok[flt.n++] = strndup(s, len);
			s += len;
		}
	}
	return true;
}

static bool parse_state_name(const char *name, uint32_t *mask)
{
	static const struct {
		const char *name;
		uint32_t mask;
	} names[] = {
		{ "listening", 1U << CU_ST_LISTEN },
		{ "listen", 1U << CU_ST_LISTEN },
		{ "established", 1U << CU_ST_ESTABLISHED },
		{ "estab", 1U << CU_ST_ESTABLISHED },
		{ "connected", 1U << CU_ST_ESTABLISHED },
		{ "synchronized", 1U << CU_ST_ESTABLISHED },
		{ "unconnected", 1U << CU_ST_CLOSE },
		{ "unconn", 1U << CU_ST_CLOSE },
		{ "close", 1U << CU_ST_CLOSE },
		{ "closed", 1U << CU_ST_CLOSE },
		{ "all", ST_ALL },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(name, names[i].name)) {
			*mask = names[i].mask;
			return true;
		}
	}
	msg("state %s: want listening, established, connected, unconnected, closed or all",
	    name);
	return false;
}

/* state NAME, exclude NAME: before the expression, as in ss */
static bool parse_states(void)
{
	bool saw_states = false;

	while (next_is("state", "exclude") || next_is("excl", NULL)) {
		bool exclude = strcmp(peek(), "state");
		uint32_t mask;

		flt.pos++;
		if (!peek()) {
			msg("%s: a state name is missing", flt.tok[flt.pos - 1]);
			return false;
		}
		if (!parse_state_name(flt.tok[flt.pos++], &mask))
			return false;
		if (!saw_states)	/* the first replaces -l, -a */
			opt.states = exclude ? ST_ALL : 0;
		saw_states = true;
		if (exclude)
			opt.states &= ~mask;
		else
			opt.states |= mask;
	}
	return true;
}

static bool parse_op(enum cmp_op *op)
{
	static const struct {
		const char *name;
		enum cmp_op op;
	} ops[] = {
		{ "=", OP_EQ }, { "==", OP_EQ }, { "eq", OP_EQ },
		{ "!=", OP_NE }, { "ne", OP_NE }, { "neq", OP_NE },
		{ "<", OP_LT }, { "lt", OP_LT }, { "<=", OP_LE }, { "le", OP_LE },
		{ ">", OP_GT }, { "gt", OP_GT }, { ">=", OP_GE }, { "ge", OP_GE },
	};
	size_t i;

	for (i = 0; peek() && i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (!strcmp(peek(), ops[i].name)) {
			*op = ops[i].op;
			flt.pos++;
			return true;
		}
	}
	*op = OP_EQ;
	return false;
}

/* ":5000", "*:5000" or "5000", decimal */
static bool parse_port_word(const char *s, uint32_t *port)
{
	if (!strncmp(s, "*:", 2))
		s += 2;
	else if (*s == ':')
		s++;
	return cu_parse_port(s, port);
}

static struct node *parse_expr(void);

/* sport OP :N, dport OP :N, port OP :N */
static struct node *parse_cond(void)
{
	const char *word = peek();
	struct node *n;

	if (!word) {
		msg("the filter ends too early");
		return NULL;
	}
	if (strcmp(word, "sport") && strcmp(word, "dport") &&
	    strcmp(word, "port")) {
		msg("unknown filter word '%s' (want sport, dport, and, or, not, parentheses)",
		    word);
		return NULL;
	}
	flt.pos++;
	n = new_node(N_PORT, NULL, NULL);
	n->peer = !strcmp(word, "dport");
	parse_op(&n->op);
	if (!peek() || !parse_port_word(peek(), &n->port)) {
		msg("%s: '%s' is not a port (:N, decimal)", word,
		    peek() ? peek() : "");
		return NULL;
	}
	flt.pos++;
	return n;
}

static struct node *parse_unary(void)
{
	struct node *n;

	if (next_is("not", "!")) {
		flt.pos++;
		n = parse_unary();
		return n ? new_node(N_NOT, n, NULL) : NULL;
	}
	if (!next_is("(", NULL))
		return parse_cond();
	flt.pos++;
	n = parse_expr();
	if (n && !next_is(")", NULL)) {
		msg("a ')' is missing");
		return NULL;
	}
	flt.pos++;
	return n;
}

/* a b (juxtaposed), a and b, a && b, a & b */
static struct node *parse_and(void)
{
	struct node *n = parse_unary();

	while (n && peek() && !next_is("or", "||") && !next_is("|", ")")) {
		if (next_is("and", "&&") || next_is("&", NULL))
			flt.pos++;
		n = new_node(N_AND, n, parse_unary());
		if (!n->b)
			return NULL;
	}
	return n;
}

static struct node *parse_expr(void)
{
	struct node *n = parse_and();

	while (n && (next_is("or", "||") || next_is("|", NULL))) {
		flt.pos++;
		n = new_node(N_OR, n, parse_and());
		if (!n->b)
			return NULL;
	}
	return n;
}

static bool parse_filter(int argc, char **argv)
{
	if (!tokenize(argc, argv) || !parse_states())
		return false;
	if (!peek()) {
		flt.root = new_node(N_TRUE, NULL, NULL);
		return true;
	}
	flt.root = parse_expr();
	if (flt.root && peek()) {
		msg("unexpected '%s' in the filter", peek());
		return false;
	}
	return flt.root;
}

static bool compare(uint32_t v, enum cmp_op op, uint32_t port)
{
	switch (op) {
	case OP_EQ:
		return v == port;
	case OP_NE:
		return v != port;
	case OP_LT:
		return v < port;
	case OP_LE:
		return v <= port;
	case OP_GT:
		return v > port;
	case OP_GE:
		return v >= port;
	}
	return false;
}

static bool matches(const struct node *n, const struct entry *e)
{
	switch (n->kind) {
	case N_TRUE:
		return true;
	case N_AND:
		return matches(n->a, e) && matches(n->b, e);
	case N_OR:
		return matches(n->a, e) || matches(n->b, e);
	case N_NOT:
		return !matches(n->a, e);
	case N_PORT:
		return compare(n->peer ? e->peer : e->port, n->op, n->port);
	}
	return false;
}

/* ---- output ------------------------------------------------------------- */

static bool is_listener(const struct entry *e)
{
	return e->state == CU_ST_LISTEN;
}

/* a connection type not connected: a listener, or one that was */
static bool has_counters(const struct entry *e)
{
	return e->type != SOCK_DGRAM && e->state != CU_ST_ESTABLISHED;
}

static bool not_accepted(const struct entry *e)
{
	return e->state == CU_ST_ESTABLISHED && e->type != SOCK_DGRAM &&
	       !e->ino;
}

/* the state bits of e; a datagram socket not connected counts as listening */
static uint32_t state_bits(const struct entry *e)
{
	uint32_t bits = 1U << e->state;

	if (e->type == SOCK_DGRAM && e->state == CU_ST_CLOSE)
		bits |= 1U << CU_ST_LISTEN;
	return bits;
}

static bool wanted(const struct entry *e)
{
	if (opt.states != ST_ALL && !(opt.states & state_bits(e)))
		return false;
	if (opt.types && !(opt.types & (1U << e->type)))
		return false;
	return matches(flt.root, e);
}

static int cmp_entries(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (is_listener(a) != is_listener(b))
		return is_listener(a) ? -1 : 1;
	if (a->peer != b->peer)
		return a->peer < b->peer ? -1 : 1;
	return a->ino < b->ino ? -1 : a->ino > b->ino;
}

/* Recv-Q and Send-Q: bytes, or a listener's pending and backlog (as ss) */
static void queues(const struct entry *e, uint32_t *recvq, uint32_t *sendq)
{
	*recvq = is_listener(e) ? e->queue.pending : e->rqlen.rqueue;
	*sendq = is_listener(e) ? e->queue.backlog : e->rqlen.wqueue;
}

static void port_text(char *buf, size_t len, uint32_t port)
{
	if (port)
		snprintf(buf, len, "*:%u", port);
	else
		snprintf(buf, len, "*:*");
}

/* one column of Netid when more than one type is listed, as ss */
static bool show_netid(void)
{
	return !opt.types || (opt.types & (opt.types - 1));
}

static void print_header(void)
{
	if (show_netid())
		printf("%-9s ", "Netid");
	printf("%-6s %6s %6s %-20s %-20s %s\n", "State", "Recv-Q", "Send-Q",
	       "Local Address:Port", "Peer Address:Port", "Process");
}

static void print_users(const struct entry *e)
{
	const char *sep = " users:(";
	size_t i;

	for (i = 0; i < nowners; i++) {
		if (owners[i].ino != e->ino)
			continue;
		printf("%s(\"%s\",pid=%d,fd=%d)", sep, owners[i].name,
		       owners[i].pid, owners[i].fd);
		sep = ",";
	}
	if (*sep == ',')
		putchar(')');
}

static void print_extended(const struct entry *e)
{
	printf(" uid:%u ino:%u", e->uid, e->ino);
	if (e->has_cookie)
		printf(" sk:%llx", (unsigned long long)e->cookie);
}

/* the CU_STATS counters, each as fmt (separator, name, value) */
static void print_stats(const struct entry *e, const char *fmt,
			const char *sep)
{
	static const char *const names[] = {
		"queued", "accepted", "refused_full", "reset_shrink",
		"reset_close",
	};
	const uint64_t values[] = {
		e->stats.queued, e->stats.accepted, e->stats.refused_full,
		e->stats.reset_shrink, e->stats.reset_close,
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		printf(fmt, i ? sep : "", names[i],
		       (unsigned long long)values[i]);
}

static void print_counters(const struct entry *e)
{
	printf("backlog:%u pending:%u", e->queue.backlog, e->queue.pending);
	if (e->has_stats)
		print_stats(e, " %s%s:%llu", "");
}

/* -m and -i: on a line of their own, after a tab, unless -O */
static void print_details(const struct entry *e)
{
	bool counters = opt.info && has_counters(e);

	if (!opt.memory && !counters)
		return;
	fputs(opt.oneline ? " " : "\n\t ", stdout);
	if (opt.memory)
		printf("skmem:(r%u,t%u)%s", e->rqlen.rqueue, e->rqlen.wqueue,
		       counters ? " " : "");
	if (counters)
		print_counters(e);
}

static void print_entry(const struct entry *e)
{
	char local[16], peer[16];
	uint32_t recvq, sendq;

	port_text(local, sizeof(local), e->port);
	port_text(peer, sizeof(peer), e->peer);
	queues(e, &recvq, &sendq);
	if (show_netid())
		printf("%-9s ", cu_type_name(e->type));
	printf("%-6s %6u %6u %-20s %-20s", state_name(e->state), recvq, sendq,
	       local, peer);
	if (opt.processes)
		print_users(e);
	if (opt.extended)
		print_extended(e);
	if (not_accepted(e))
		printf(" not-accepted");
	print_details(e);
	putchar('\n');
}

/* a JSON string: the name of a process */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_users(const struct entry *e)
{
	const char *sep = "";
	size_t i;

	printf(",\"users\":[");
	for (i = 0; i < nowners; i++) {
		if (owners[i].ino != e->ino)
			continue;
		printf("%s{\"name\":", sep);
		json_string(owners[i].name);
		printf(",\"pid\":%d,\"fd\":%d}", owners[i].pid, owners[i].fd);
		sep = ",";
	}
	putchar(']');
}

static void json_stats(const struct entry *e)
{
	if (!e->has_stats) {
		printf(",\"stats\":null");
		return;
	}
	printf(",\"stats\":{");
	print_stats(e, "%s\"%s\":%llu", ",");
	putchar('}');
}

/* one object per line; a port 0 (none) and an unknown cookie are null */
static void print_json(const struct entry *e)
{
	uint32_t recvq, sendq;

	queues(e, &recvq, &sendq);
	printf("{\"netid\":\"%s\",\"state\":\"%s\",\"recv_q\":%u,\"send_q\":%u",
	       cu_type_name(e->type), state_name(e->state), recvq, sendq);
	printf(e->port ? ",\"local_port\":%u" : ",\"local_port\":null", e->port);
	printf(e->peer ? ",\"peer_port\":%u" : ",\"peer_port\":null", e->peer);
	printf(",\"uid\":%u,\"inode\":%u", e->uid, e->ino);
	if (e->has_cookie)
		printf(",\"cookie\":%llu", (unsigned long long)e->cookie);
	else
		printf(",\"cookie\":null");
	printf(",\"backlog\":%u,\"pending\":%u,\"rqueue\":%u,\"wqueue\":%u",
	       e->queue.backlog, e->queue.pending, e->rqlen.rqueue,
	       e->rqlen.wqueue);
	printf(",\"not_accepted\":%s", not_accepted(e) ? "true" : "false");
	json_stats(e);
	json_users(e);
	printf("}\n");
}

static void list(void)
{
	size_t i;

	qsort(entries, nentries, sizeof(*entries), cmp_entries);
	if (opt.processes || opt.json)
		find_owners();
	if (opt.header && !opt.json)
		print_header();
	for (i = 0; i < nentries; i++) {
		if (!wanted(&entries[i]))
			continue;
		if (opt.json)
			print_json(&entries[i]);
		else
			print_entry(&entries[i]);
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
		n[t][entries[i].state == CU_ST_LISTEN ? 0 :
		     entries[i].state == CU_ST_ESTABLISHED ? 1 : 2]++;
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

enum { OPT_SEQPACKET = 256, OPT_JSON, OPT_PROC };

static bool parse_option(int c)
{
	switch (c) {
	case 'l':
		opt.states = 1U << CU_ST_LISTEN;
		break;
	case 'a':
		opt.states = ST_ALL;
		break;
	case 't':
		opt.types |= 1U << SOCK_STREAM;
		break;
	case 'u':
		opt.types |= 1U << SOCK_DGRAM;
		break;
	case OPT_SEQPACKET:
		opt.types |= 1U << SOCK_SEQPACKET;
		break;
	case 'e':
		opt.extended = true;
		break;
	case 'p':
		opt.processes = true;
		break;
	case 'm':
		opt.memory = true;
		break;
	case 'i':
		opt.info = true;
		break;
	case 'O':
		opt.oneline = true;
		break;
	case 'H':
		opt.header = false;
		break;
	case 's':
		opt.summary = true;
		break;
	case OPT_JSON:
		opt.json = true;
		break;
	case OPT_PROC:
		opt.proc = true;
		break;
	case 'n':
	case 'r':
		break;
	default:
		return false;
	}
	return true;
}

/* the dump, or /proc; the source's name, or NULL after saying why not */
static const char *read_sockets(void)
{
	int err = opt.proc ? -1 : read_diag();

	if (!err)
		return "sock_diag";
	if (!cu_module_loaded()) {
		msg(CU_NOT_LOADED);
		return NULL;
	}
	if (read_proc()) {
		msg("no sock_diag dump for family %d (%s), and %s: %s", family,
		    cu_errtext(err > 0 ? err : ENOENT), PROC_FILE,
		    cu_errtext(errno));
		return NULL;
	}
	if (err > 0)
		msg("no sock_diag dump for family %d (%s); read %s, which has no CU_STATS counters",
		    family, cu_errtext(err), PROC_FILE);
	return PROC_FILE;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listening", no_argument, NULL, 'l' },
		{ "all", no_argument, NULL, 'a' },
		{ "tcp", no_argument, NULL, 't' },
		{ "stream", no_argument, NULL, 't' },
		{ "udp", no_argument, NULL, 'u' },
		{ "dgram", no_argument, NULL, 'u' },
		{ "seqpacket", no_argument, NULL, OPT_SEQPACKET },
		{ "numeric", no_argument, NULL, 'n' },
		{ "resolve", no_argument, NULL, 'r' },
		{ "extended", no_argument, NULL, 'e' },
		{ "processes", no_argument, NULL, 'p' },
		{ "memory", no_argument, NULL, 'm' },
		{ "info", no_argument, NULL, 'i' },
		{ "oneline", no_argument, NULL, 'O' },
		{ "no-header", no_argument, NULL, 'H' },
		{ "summary", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "proc", no_argument, NULL, OPT_PROC },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *source;
	int c;

	while ((c = getopt_long(argc, argv, "latunrepmiOHsh", longopts,
				NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (!parse_option(c)) {
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (!parse_filter(argc - optind, argv + optind))
		return EX_USAGE;

	family = cu_find_family();
	source = read_sockets();
	if (!source)
		return EX_FAIL;
	if (opt.summary)	/* every socket, whatever the filters */
		return summary(source);
	list();
	return 0;
}
