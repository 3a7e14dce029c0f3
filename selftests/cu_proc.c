// SPDX-License-Identifier: GPL-2.0
/*
 * docs/semantics.md §9: /proc/net/af_custom and /proc/net/af_custom_stat.
 *
 * /proc/net/af_custom: a header line, then one line per live socket of the
 * reader's netns (pending server sides included, with the listener's port):
 *   Type State LocalPort PeerPort Backlog Pending RxQueue TxQueue Uid Inode
 * Type stream|seqpacket|dgram, State LISTEN|ESTAB|UNCONN, RxQueue the bytes
 * queued to the socket and unread, TxQueue the bytes it sent that its peer
 * has not read (so they agree with SIOCINQ/SIOCOUTQ), Uid munged into the
 * reader's user namespace, Inode as fstat() and /proc/self/fd show it.
 *
 * /proc/net/af_custom_stat: `name value` lines, per netns: queued,
 * accepted, refused_full, refused_no_listener, reset_shrink, reset_close.
 *
 * Every test runs in its own netns, so the lines and counters it reads
 * are its own; counters are still compared as deltas.
 */
#include "cu_util.h"
#include <sys/stat.h>
#include <linux/sockios.h>

#define PORT		4800U
#define NOBODY_PORT	4899U
#define PROC_SOCKS	"/proc/net/af_custom"
#define PROC_STAT	"/proc/net/af_custom_stat"
#define MAX_LINES	64
#define OTHER_UID	1234

static const char *const header_cols[] = {
	"Type", "State", "LocalPort", "PeerPort", "Backlog", "Pending",
	"RxQueue", "TxQueue", "Uid", "Inode",
};

struct proc_sock {
	char type[16];
	char state[16];
	unsigned int lport, pport, backlog, pending;
	long rxq, txq;
	unsigned int uid;
	unsigned long ino;
};

struct proc_table {
	char header[256];
	int n;
	struct proc_sock s[MAX_LINES];
};

/* the whole file from offset 0 of an open fd */
static void read_fd(struct __test_metadata *_metadata, int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	for (;;) {
		ASSERT_GT(size - 1, got) {
			TH_LOG("more than %zu bytes in the file", size);
		}
		n = read(fd, buf + got, size - 1 - got);
		ASSERT_LE(0, n) {
			TH_LOG("read: %s", strerror(errno));
		}
		if (!n)
			break;
		got += n;
	}
	buf[got] = 0;
}

static void parse_socks(struct __test_metadata *_metadata, char *buf,
			struct proc_table *t)
{
	char *line, *save = NULL;
	int first = 1;

	memset(t, 0, sizeof(*t));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct proc_sock *s;
		int used = -1;

		if (first) {
			snprintf(t->header, sizeof(t->header), "%s", line);
			first = 0;
			continue;
		}
		ASSERT_GT(MAX_LINES, t->n);
		s = &t->s[t->n++];
		ASSERT_EQ(10, sscanf(line, "%15s %15s %u %u %u %u %ld %ld %u %lu %n",
				     s->type, s->state, &s->lport, &s->pport,
				     &s->backlog, &s->pending, &s->rxq, &s->txq,
				     &s->uid, &s->ino, &used)) {
			TH_LOG("line \"%s\"", line);
		}
		ASSERT_EQ(strlen(line), (size_t)used) {
			TH_LOG("trailing text in \"%s\"", line);
		}
	}
	ASSERT_FALSE(first) {
		TH_LOG("%s is empty, not even a header", PROC_SOCKS);
	}
}

static void read_socks_fd(struct __test_metadata *_metadata, int fd,
			  struct proc_table *t)
{
	static char buf[16384];

	read_fd(_metadata, fd, buf, sizeof(buf));
	parse_socks(_metadata, buf, t);
}

static int open_proc(struct __test_metadata *_metadata, const char *path)
{
	int fd = open(path, O_RDONLY);

	ASSERT_LE(0, fd) {
		TH_LOG("open %s: %s", path, strerror(errno));
	}
	return fd;
}

static void read_socks(struct __test_metadata *_metadata, struct proc_table *t)
{
	int fd = open_proc(_metadata, PROC_SOCKS);

	read_socks_fd(_metadata, fd, t);
	close(fd);
}

static unsigned long ino_of(struct __test_metadata *_metadata, int fd)
{
	struct stat st;

	ASSERT_EQ(0, fstat(fd, &st));
	return st.st_ino;
}

/* the line of the socket behind fd; fails if there is not exactly one */
static struct proc_sock *line_of(struct __test_metadata *_metadata,
				 struct proc_table *t, int fd)
{
	unsigned long ino = ino_of(_metadata, fd);
	struct proc_sock *found = NULL;
	int i;

	for (i = 0; i < t->n; i++) {
		if (t->s[i].ino != ino)
			continue;
		ASSERT_EQ(NULL, found) {
			TH_LOG("two lines with inode %lu", ino);
		}
		found = &t->s[i];
	}
	ASSERT_NE(NULL, found) {
		TH_LOG("no line with inode %lu (fd %d)", ino, fd);
	}
	return found;
}

static int count_lines(struct proc_table *t, const char *state, __u32 lport, __u32 pport)
{
	int i, n = 0;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->s[i].state, state) && t->s[i].lport == lport &&
		    t->s[i].pport == pport)
			n++;
	return n;
}

/* ---- af_custom_stat ------------------------------------------------------- */

enum { ST_QUEUED, ST_ACCEPTED, ST_REFUSED_FULL, ST_REFUSED_NO_LISTENER,
       ST_RESET_SHRINK, ST_RESET_CLOSE, ST_MAX };

static const char *const stat_names[ST_MAX] = {
	"queued", "accepted", "refused_full", "refused_no_listener",
	"reset_shrink", "reset_close",
};

struct stats {
	long long v[ST_MAX];
};

/* every counter exactly once, nothing else */
static void read_stats_fd(struct __test_metadata *_metadata, int fd, struct stats *st)
{
	char buf[4096], name[64], *line, *save = NULL;
	bool seen[ST_MAX] = { false };
	long long v;
	int i, used;

	read_fd(_metadata, fd, buf, sizeof(buf));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		used = -1;
		ASSERT_EQ(2, sscanf(line, "%63s %lld %n", name, &v, &used)) {
			TH_LOG("line \"%s\"", line);
		}
		ASSERT_EQ(strlen(line), (size_t)used);
		for (i = 0; i < ST_MAX; i++)
			if (!strcmp(name, stat_names[i]))
				break;
		ASSERT_GT(ST_MAX, i) {
			TH_LOG("unknown counter \"%s\"", name);
		}
		ASSERT_FALSE(seen[i]) {
			TH_LOG("counter %s listed twice", name);
		}
		ASSERT_LE(0, v);
		seen[i] = true;
		st->v[i] = v;
	}
	for (i = 0; i < ST_MAX; i++) {
		ASSERT_TRUE(seen[i]) {
			TH_LOG("counter %s missing", stat_names[i]);
		}
	}
}

static void read_stats(struct __test_metadata *_metadata, struct stats *st)
{
	int fd = open_proc(_metadata, PROC_STAT);

	read_stats_fd(_metadata, fd, st);
	close(fd);
}

/* after - before must be exactly `delta` for each counter */
static void expect_deltas(struct __test_metadata *_metadata, const struct stats *before,
			  const struct stats *after, const long long delta[ST_MAX])
{
	int i;

	for (i = 0; i < ST_MAX; i++) {
		ASSERT_EQ(delta[i], after->v[i] - before->v[i]) {
			TH_LOG("%s: %lld -> %lld, want +%lld", stat_names[i],
			       before->v[i], after->v[i], delta[i]);
		}
	}
}

/* the counters now, minus `before`, must be exactly `delta` */
static void expect_deltas_since(struct __test_metadata *_metadata, const struct stats *before,
				const long long delta[ST_MAX])
{
	struct stats now;

	read_stats(_metadata, &now);
	expect_deltas(_metadata, before, &now, delta);
}

/* ==== fixture proc: stream sockets, and the counters ==== */

FIXTURE(proc)
{
	bool isolated;
};

FIXTURE_SETUP(proc)
{
	self->isolated = cu_setup();
}

FIXTURE_TEARDOWN(proc)
{
}

TEST_F(proc, header_line_names_the_columns)
{
	struct proc_table t;
	char *tok, *save = NULL;
	unsigned int i = 0;

	CU_REQUIRE_NETNS(self->isolated);
	read_socks(_metadata, &t);
	for (tok = strtok_r(t.header, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save), i++) {
		ASSERT_GT(ARRAY_SIZE(header_cols), i) {
			TH_LOG("extra column \"%s\"", tok);
		}
		ASSERT_STREQ(header_cols[i], tok);
	}
	ASSERT_EQ(ARRAY_SIZE(header_cols), i);
	/* a new netns has no socket: the header alone */
	ASSERT_EQ(0, t.n);
}

TEST_F(proc, listener_line_shows_backlog_and_pending)
{
	struct proc_table t;
	struct proc_sock *s;
	int lfd;

	lfd = cu_listener(_metadata, SOCK_STREAM, PORT, 3, NULL);
	read_socks(_metadata, &t);
	s = line_of(_metadata, &t, lfd);
	ASSERT_STREQ("stream", s->type);
	ASSERT_STREQ("LISTEN", s->state);
	ASSERT_EQ(PORT, s->lport);
	ASSERT_EQ(0U, s->pport);
	ASSERT_EQ(3U, s->backlog);
	ASSERT_EQ(0U, s->pending);
	ASSERT_EQ(0, s->rxq);
	ASSERT_EQ(0, s->txq);

	cu_client(_metadata, SOCK_STREAM, PORT);
	cu_client(_metadata, SOCK_STREAM, PORT);
	read_socks(_metadata, &t);
	s = line_of(_metadata, &t, lfd);
	ASSERT_EQ(3U, s->backlog);
	ASSERT_EQ(2U, s->pending);

	ASSERT_EQ(0, listen(lfd, 1));	/* shrink: one reset */
	read_socks(_metadata, &t);
	s = line_of(_metadata, &t, lfd);
	ASSERT_EQ(1U, s->backlog);
	ASSERT_EQ(1U, s->pending);
}

TEST_F(proc, pending_server_sides_listed_with_the_listeners_port)
{
	struct proc_table t;
	struct proc_sock *s;
	int lfd, c1, c2, a;
	__u32 p1, p2;

	CU_REQUIRE_NETNS(self->isolated);
	lfd = cu_listener(_metadata, SOCK_STREAM, PORT, 4, NULL);
	c1 = cu_client(_metadata, SOCK_STREAM, PORT);
	c2 = cu_client(_metadata, SOCK_STREAM, PORT);
	p1 = cu_local_port(_metadata, c1);
	p2 = cu_local_port(_metadata, c2);
	/* data sent before accept waits on the pending server side */
	cu_send_str(_metadata, c1, "early bytes");

	read_socks(_metadata, &t);
	ASSERT_EQ(5, t.n);	/* listener, two clients, two pending */
	ASSERT_EQ(1, count_lines(&t, "ESTAB", PORT, p1));
	ASSERT_EQ(1, count_lines(&t, "ESTAB", PORT, p2));
	ASSERT_EQ(1, count_lines(&t, "ESTAB", p1, PORT));
	ASSERT_EQ(1, count_lines(&t, "ESTAB", p2, PORT));
	s = line_of(_metadata, &t, c1);
	ASSERT_EQ(11, s->txq);
	for (s = t.s; s < t.s + t.n; s++) {
		if (s->lport == PORT && s->pport == p1) {
			ASSERT_EQ(11, s->rxq);
			ASSERT_EQ(0U, s->backlog);
			ASSERT_EQ(0U, s->pending);
		}
	}

	/* accepted: the same line, now with the new descriptor's inode */
	a = cu_accept(_metadata, lfd);
	read_socks(_metadata, &t);
	ASSERT_EQ(5, t.n);
	s = line_of(_metadata, &t, a);
	ASSERT_STREQ("ESTAB", s->state);
	ASSERT_EQ(PORT, s->lport);
	ASSERT_EQ(p1, s->pport);
	ASSERT_EQ(11, s->rxq);
	ASSERT_EQ(1, count_lines(&t, "ESTAB", PORT, p2));
}

TEST_F(proc, established_pair_queues_match_siocinq_siocoutq)
{
	struct proc_table t;
	struct proc_sock *sc, *sa;
	char buf[200];
	int lfd, c, a;
	__u32 pc;

	lfd = cu_listener(_metadata, SOCK_STREAM, PORT, 4, NULL);
	c = cu_client(_metadata, SOCK_STREAM, PORT);
	a = cu_accept(_metadata, lfd);
	pc = cu_local_port(_metadata, c);
	memset(buf, 'q', sizeof(buf));
	ASSERT_EQ(100, send(c, buf, 100, MSG_DONTWAIT));
	ASSERT_EQ(30, send(a, buf, 30, MSG_DONTWAIT));
	ASSERT_EQ(40, cu_recv_wait(a, buf, 40, 0));

	read_socks(_metadata, &t);
	sc = line_of(_metadata, &t, c);
	sa = line_of(_metadata, &t, a);
	ASSERT_STREQ("ESTAB", sc->state);
	ASSERT_EQ(pc, sc->lport);
	ASSERT_EQ(PORT, sc->pport);
	ASSERT_EQ(PORT, sa->lport);
	ASSERT_EQ(pc, sa->pport);
	ASSERT_EQ(30, sc->rxq);
	ASSERT_EQ(60, sc->txq);
	ASSERT_EQ(60, sa->rxq);
	ASSERT_EQ(30, sa->txq);
	ASSERT_EQ(cu_ioctl_int(_metadata, c, SIOCINQ), sc->rxq);
	ASSERT_EQ(cu_ioctl_int(_metadata, c, SIOCOUTQ), sc->txq);
	ASSERT_EQ(cu_ioctl_int(_metadata, a, SIOCINQ), sa->rxq);
	ASSERT_EQ(cu_ioctl_int(_metadata, a, SIOCOUTQ), sa->txq);
}

/* a socket created with the fsuid OTHER_UID */
static int other_uid_socket(struct __test_metadata *_metadata, int type)
{
	int fd;

	ASSERT_EQ(0, seteuid(OTHER_UID));
	fd = socket(cu_family(), type, 0);
	ASSERT_EQ(0, seteuid(0));
	ASSERT_LE(0, fd);
	return fd;
}

TEST_F(proc, uid_and_inode_match_the_socket)
{
	struct proc_table t;
	struct proc_sock *s;
	char path[64], link[64], want[64];
	ssize_t n;
	int mine, other;

	mine = cu_socket(_metadata, SOCK_STREAM);
	/* a socket inode belongs to the fsuid that created it */
	other = other_uid_socket(_metadata, SOCK_DGRAM);

	read_socks(_metadata, &t);
	s = line_of(_metadata, &t, mine);
	ASSERT_EQ(0U, s->uid);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mine);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = 0;
	snprintf(want, sizeof(want), "socket:[%lu]", s->ino);
	ASSERT_STREQ(want, link);

	s = line_of(_metadata, &t, other);
	ASSERT_STREQ("dgram", s->type);
	ASSERT_EQ((unsigned int)OTHER_UID, s->uid);
}

static unsigned int overflowuid(void)
{
	int v;

	return cu_read_int("/proc/sys/kernel/overflowuid", &v) ? (unsigned int)v : 65534;
}

TEST_F(proc, uid_munged_into_the_readers_user_namespace)
{
	unsigned int overflow = overflowuid();
	struct proc_table t;
	int root, other, fd;

	root = cu_socket(_metadata, SOCK_STREAM);
	other = other_uid_socket(_metadata, SOCK_STREAM);

	if (unshare(CLONE_NEWUSER))
		SKIP(return, "unshare(CLONE_NEWUSER): %s", strerror(errno));
	/* only our own uid may be mapped: root outside is 5000 inside */
	fd = open("/proc/self/uid_map", O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(9, write(fd, "5000 0 1\n", 9));
	close(fd);

	read_socks(_metadata, &t);
	ASSERT_EQ(5000U, line_of(_metadata, &t, root)->uid);
	ASSERT_EQ(overflow, line_of(_metadata, &t, other)->uid) {
		TH_LOG("uid %u, unmapped in the reader's userns, not shown as %u",
		       OTHER_UID, overflow);
	}
}

TEST_F(proc, closed_sockets_disappear)
{
	struct proc_table t;
	unsigned long ino;
	int plain, lfd, c;

	CU_REQUIRE_NETNS(self->isolated);
	plain = cu_socket(_metadata, SOCK_DGRAM);
	ino = ino_of(_metadata, plain);
	read_socks(_metadata, &t);
	ASSERT_EQ(1, t.n);
	ASSERT_EQ(ino, t.s[0].ino);
	close(plain);
	read_socks(_metadata, &t);
	ASSERT_EQ(0, t.n);

	/* a listener closed with a pending connection: both lines go */
	lfd = cu_listener(_metadata, SOCK_STREAM, PORT, 4, NULL);
	c = cu_client(_metadata, SOCK_STREAM, PORT);
	read_socks(_metadata, &t);
	ASSERT_EQ(3, t.n);
	close(lfd);
	read_socks(_metadata, &t);
	ASSERT_EQ(1, t.n);
	ASSERT_EQ(ino_of(_metadata, c), t.s[0].ino);
}

TEST_F(proc, reader_in_another_netns_sees_only_its_own_sockets)
{
	struct proc_table t;
	int lfd, old_fd, mine;

	CU_REQUIRE_NETNS(self->isolated);
	lfd = cu_listener(_metadata, SOCK_STREAM, PORT, 4, NULL);
	cu_client(_metadata, SOCK_STREAM, PORT);
	old_fd = open_proc(_metadata, PROC_SOCKS);

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	read_socks(_metadata, &t);
	ASSERT_EQ(0, t.n) {
		TH_LOG("a new netns lists %d sockets of its parent", t.n);
	}
	mine = cu_socket(_metadata, SOCK_SEQPACKET);
	read_socks(_metadata, &t);
	ASSERT_EQ(1, t.n);
	ASSERT_EQ(ino_of(_metadata, mine), t.s[0].ino);

	/* a file opened in the first netns keeps listing that one */
	read_socks_fd(_metadata, old_fd, &t);
	ASSERT_EQ(3, t.n);
	ASSERT_STREQ("LISTEN", line_of(_metadata, &t, lfd)->state);
}

TEST_F(proc, stat_lists_six_counters_zero_in_a_new_netns)
{
	struct stats st;
	int i;

	CU_REQUIRE_NETNS(self->isolated);
	read_stats(_metadata, &st);
	for (i = 0; i < ST_MAX; i++) {
		ASSERT_EQ(0, st.v[i]) {
			TH_LOG("%s = %lld in a new netns", stat_names[i], st.v[i]);
		}
	}
}

TEST_F(proc, stat_queued_and_accepted_count_connections)
{
	static const long long d[ST_MAX] = { [ST_QUEUED] = 3, [ST_ACCEPTED] = 2 };
	struct stats before;
	int lfd, i;

	read_stats(_metadata, &before);
	lfd = cu_listener(_metadata, SOCK_STREAM, PORT, 4, NULL);
	cu_listener(_metadata, SOCK_SEQPACKET, PORT, 4, NULL);
	cu_client(_metadata, SOCK_STREAM, PORT);
	cu_client(_metadata, SOCK_STREAM, PORT);
	cu_client(_metadata, SOCK_SEQPACKET, PORT);
	for (i = 0; i < 2; i++) {
		cu_accept(_metadata, lfd);
	}
	expect_deltas_since(_metadata, &before, d);
}

TEST_F(proc, stat_refused_full_counts_connects_to_a_full_queue)
{
	static const long long d[ST_MAX] = { [ST_QUEUED] = 1, [ST_REFUSED_FULL] = 2 };
	struct stats before;
	int i;

	read_stats(_metadata, &before);
	cu_listener(_metadata, SOCK_STREAM, PORT, 1, NULL);
	cu_client(_metadata, SOCK_STREAM, PORT);
	for (i = 0; i < 2; i++) {
		int c = cu_socket(_metadata, SOCK_STREAM);

		ASSERT_EQ(ECONNREFUSED, cu_try_connect(c, PORT));
	}
	expect_deltas_since(_metadata, &before, d);
}

TEST_F(proc, stat_refused_no_listener_counts_connects_to_nobody)
{
	static const long long d[ST_MAX] = { [ST_REFUSED_NO_LISTENER] = 4 };
	static const struct { int type; __u32 port; } to[] = {
		{ SOCK_STREAM, NOBODY_PORT },	/* nothing bound */
		{ SOCK_STREAM, PORT },		/* bound, not listening */
		{ SOCK_SEQPACKET, PORT + 1 },	/* a listener that was shut down */
		{ SOCK_SEQPACKET, PORT },	/* a socket of another type only */
	};
	struct stats before;
	unsigned int i;
	int bound, shut, c;

	bound = cu_socket(_metadata, SOCK_STREAM);
	cu_bind(_metadata, bound, PORT);
	shut = cu_listener(_metadata, SOCK_SEQPACKET, PORT + 1, 4, NULL);
	ASSERT_EQ(0, shutdown(shut, SHUT_RDWR));

	read_stats(_metadata, &before);
	for (i = 0; i < ARRAY_SIZE(to); i++) {
		c = cu_socket(_metadata, to[i].type);
		ASSERT_EQ(ECONNREFUSED, cu_try_connect(c, to[i].port));
	}
	expect_deltas_since(_metadata, &before, d);
}

TEST_F(proc, stat_reset_shrink_counts_dropped_connections)
{
	static const long long d[ST_MAX] = { [ST_QUEUED] = 4, [ST_RESET_SHRINK] = 3 };
	struct stats before;
	int lfd, i;

	read_stats(_metadata, &before);
	lfd = cu_listener(_metadata, SOCK_STREAM, PORT, 4, NULL);
	for (i = 0; i < 4; i++) {
		cu_client(_metadata, SOCK_STREAM, PORT);
	}
	ASSERT_EQ(0, listen(lfd, 1));
	ASSERT_EQ(0, listen(lfd, 1));	/* equal: no change */
	expect_deltas_since(_metadata, &before, d);
}

TEST_F(proc, stat_reset_close_counts_close_and_shutdown)
{
	static const long long d[ST_MAX] = { [ST_QUEUED] = 5, [ST_RESET_CLOSE] = 5 };
	struct stats before;
	int l1, l2, i;

	read_stats(_metadata, &before);
	l1 = cu_listener(_metadata, SOCK_STREAM, PORT, 4, NULL);
	l2 = cu_listener(_metadata, SOCK_SEQPACKET, PORT, 4, NULL);
	for (i = 0; i < 2; i++) {
		cu_client(_metadata, SOCK_STREAM, PORT);
	}
	for (i = 0; i < 3; i++) {
		cu_client(_metadata, SOCK_SEQPACKET, PORT);
	}
	close(l1);
	ASSERT_EQ(0, shutdown(l2, SHUT_RD));
	expect_deltas_since(_metadata, &before, d);
}

TEST_F(proc, stat_counters_are_per_netns)
{
	static const long long parent_delta[ST_MAX] = { [ST_QUEUED] = 1 };
	struct stats before, after, child;
	int old_fd, c, i;

	CU_REQUIRE_NETNS(self->isolated);
	old_fd = open_proc(_metadata, PROC_STAT);
	read_stats_fd(_metadata, old_fd, &before);
	cu_listener(_metadata, SOCK_STREAM, PORT, 1, NULL);
	cu_client(_metadata, SOCK_STREAM, PORT);

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	c = cu_socket(_metadata, SOCK_STREAM);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c, PORT));
	/* here: only this netns's refusal, not the parent's connection */
	read_stats(_metadata, &child);
	for (i = 0; i < ST_MAX; i++) {
		ASSERT_EQ(i == ST_REFUSED_NO_LISTENER ? 1 : 0, child.v[i]) {
			TH_LOG("%s = %lld in the new netns", stat_names[i], child.v[i]);
		}
	}
	/* there, through a file opened before: only its own connection */
	read_stats_fd(_metadata, old_fd, &after);
	expect_deltas(_metadata, &before, &after, parent_delta);
}

/* ==== fixture proc_types: the columns for each socket type ==== */

FIXTURE(proc_types)
{
};

FIXTURE_VARIANT(proc_types)
{
	int type;
	const char *name;
};

FIXTURE_VARIANT_ADD(proc_types, stream)
{
	.type = SOCK_STREAM,
	.name = "stream",
};

FIXTURE_VARIANT_ADD(proc_types, seqpacket)
{
	.type = SOCK_SEQPACKET,
	.name = "seqpacket",
};

FIXTURE_VARIANT_ADD(proc_types, dgram)
{
	.type = SOCK_DGRAM,
	.name = "dgram",
};

FIXTURE_SETUP(proc_types)
{
	cu_setup();
}

FIXTURE_TEARDOWN(proc_types)
{
}

/*
 * *a on PORT and *c connected to it: a DGRAM socket bound there, or
 * the accepted socket of a listener there.
 */
static void make_pair(struct __test_metadata *_metadata, int type, int *c, int *a)
{
	int lfd;

	if (type == SOCK_DGRAM) {
		*a = cu_socket(_metadata, SOCK_DGRAM);
		cu_bind(_metadata, *a, PORT);
		*c = cu_client(_metadata, SOCK_DGRAM, PORT);
		return;
	}
	lfd = cu_listener(_metadata, type, PORT, 4, NULL);
	*c = cu_client(_metadata, type, PORT);
	*a = cu_accept(_metadata, lfd);
}

TEST_F(proc_types, unbound_and_bound_sockets_unconn)
{
	struct proc_table t;
	struct proc_sock *s;
	int fresh, bound;

	fresh = cu_socket(_metadata, variant->type);
	bound = cu_socket(_metadata, variant->type);
	cu_bind(_metadata, bound, PORT);
	read_socks(_metadata, &t);

	s = line_of(_metadata, &t, fresh);
	ASSERT_STREQ(variant->name, s->type);
	ASSERT_STREQ("UNCONN", s->state);
	ASSERT_EQ(0U, s->lport);
	ASSERT_EQ(0U, s->pport);
	ASSERT_EQ(0U, s->backlog);
	ASSERT_EQ(0U, s->pending);
	ASSERT_EQ(0, s->rxq);
	ASSERT_EQ(0, s->txq);
	ASSERT_EQ(0U, s->uid);

	s = line_of(_metadata, &t, bound);
	ASSERT_STREQ(variant->name, s->type);
	ASSERT_STREQ("UNCONN", s->state);
	ASSERT_EQ(PORT, s->lport);
	ASSERT_EQ(0U, s->pport);
}

TEST_F(proc_types, connected_socket_estab_with_peer_port_and_queues)
{
	struct proc_table t;
	struct proc_sock *sc, *sa;
	char buf[100];
	int c, a;
	__u32 pc;

	make_pair(_metadata, variant->type, &c, &a);
	pc = cu_local_port(_metadata, c);
	memset(buf, 'p', sizeof(buf));
	ASSERT_EQ(100, send(c, buf, 100, MSG_DONTWAIT));

	read_socks(_metadata, &t);
	sc = line_of(_metadata, &t, c);
	sa = line_of(_metadata, &t, a);
	ASSERT_STREQ(variant->name, sc->type);
	ASSERT_STREQ("ESTAB", sc->state);
	ASSERT_EQ(pc, sc->lport);
	ASSERT_EQ(PORT, sc->pport);
	ASSERT_EQ(PORT, sa->lport);
	if (variant->type == SOCK_DGRAM) {
		/* only a default peer makes a datagram socket ESTAB */
		ASSERT_STREQ("UNCONN", sa->state);
		ASSERT_EQ(0U, sa->pport);
	} else {
		ASSERT_STREQ("ESTAB", sa->state);
		ASSERT_EQ(pc, sa->pport);
	}
	ASSERT_EQ(100, sa->rxq);
	ASSERT_EQ(100, sc->txq);
	ASSERT_EQ(0, sa->txq);
	ASSERT_EQ(0, sc->rxq);
	ASSERT_EQ(cu_ioctl_int(_metadata, a, SIOCINQ), sa->rxq);
	ASSERT_EQ(cu_ioctl_int(_metadata, c, SIOCOUTQ), sc->txq);

	ASSERT_EQ(60, recv(a, buf, 60, MSG_DONTWAIT));
	read_socks(_metadata, &t);
	sc = line_of(_metadata, &t, c);
	sa = line_of(_metadata, &t, a);
	if (variant->type == SOCK_STREAM) {
		ASSERT_EQ(40, sa->rxq);
		ASSERT_EQ(40, sc->txq);
	} else {
		/* a short read took the whole record */
		ASSERT_EQ(0, sa->rxq);
		ASSERT_EQ(0, sc->txq);
	}
}

TEST_F(proc_types, rx_queue_counts_every_unread_byte)
{
	struct proc_table t;
	int c, a;

	make_pair(_metadata, variant->type, &c, &a);
	cu_send_str(_metadata, c, "0123456789");
	cu_send_str(_metadata, c, "01234");
	read_socks(_metadata, &t);
	ASSERT_EQ(15, line_of(_metadata, &t, a)->rxq);
	ASSERT_EQ(15, line_of(_metadata, &t, c)->txq);
}

TEST_HARNESS_MAIN
