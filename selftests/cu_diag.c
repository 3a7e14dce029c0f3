// SPDX-License-Identifier: GPL-2.0
/*
 * The af_custom sock_diag dump (uapi/linux/af_custom.h: cu_diag_req,
 * cu_diag_msg, CUDIAG_*): NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY with
 * NLM_F_DUMP, of the requester's network namespace.
 *
 * Every field of every socket is checked against what the socket itself
 * says: getsockopt(CU_BACKLOG, CU_PENDING, CU_STATS), SIOCINQ/SIOCOUTQ,
 * getsockname/getpeername, SO_TYPE/SO_ACCEPTCONN and fstat (inode, owner),
 * for listeners (through queueing, refusals, a shrink and a shutdown),
 * connected pairs, connections not accepted yet, and datagram sockets. Then
 * the request's state and port filters, the CUDIAG_SHOW_* flags, a dump
 * larger than one netlink message batch, and network namespaces: a socket
 * of another netns is never dumped.
 */
#include "cu_util.h"
#include <stddef.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <linux/sock_diag.h>
#include <sys/fsuid.h>
#include <sys/stat.h>

/* sock_diag's state numbers (include/net/tcp_states.h) */
#define ST_ESTABLISHED	1
#define ST_CLOSE	7
#define ST_LISTEN	10

#define SHOW_ALL	(CUDIAG_SHOW_QUEUE | CUDIAG_SHOW_STATS | \
			 CUDIAG_SHOW_RQLEN | CUDIAG_SHOW_UID)
#define BIT(a)		(1U << (a))

#define PORT		7100U
#define PORT2		7200U
#define MANY		600	/* sockets: well over one 32 KiB batch */

struct cu_dent {
	struct cu_diag_msg m;
	unsigned int seen;		/* BIT(CUDIAG_*) of the attributes */
	int bad_attr;			/* an attribute of a wrong size, or unknown */
	struct cu_diag_queue queue;
	struct cu_listen_stats stats;
	struct cu_diag_rqlen rqlen;
	__u32 uid;
};

struct cu_dump {
	struct cu_dent *e;
	int n, cap;
	int batches;			/* recv() calls that carried entries */
};

static __u32 cu_seq;

static void dump_free(struct cu_dump *d)
{
	free(d->e);
	memset(d, 0, sizeof(*d));
}

static void parse_attrs(struct cu_dent *e, const char *p, int len)
{
	const struct nlattr *a;

	while (len >= NLA_HDRLEN) {
		size_t dlen;
		int type;

		a = (const struct nlattr *)p;
		if (a->nla_len < NLA_HDRLEN || a->nla_len > len) {
			e->bad_attr = -1;
			return;
		}
		dlen = a->nla_len - NLA_HDRLEN;
		type = a->nla_type & NLA_TYPE_MASK;
		switch (type) {
		case CUDIAG_QUEUE:
			if (dlen != sizeof(e->queue))
				e->bad_attr = type;
			memcpy(&e->queue, p + NLA_HDRLEN, sizeof(e->queue));
			break;
		case CUDIAG_STATS:
			if (dlen != sizeof(e->stats))
				e->bad_attr = type;
			memcpy(&e->stats, p + NLA_HDRLEN, sizeof(e->stats));
			break;
		case CUDIAG_RQLEN:
			if (dlen != sizeof(e->rqlen))
				e->bad_attr = type;
			memcpy(&e->rqlen, p + NLA_HDRLEN, sizeof(e->rqlen));
			break;
		case CUDIAG_UID:
			if (dlen != sizeof(e->uid))
				e->bad_attr = type;
			memcpy(&e->uid, p + NLA_HDRLEN, sizeof(e->uid));
			break;
		case CUDIAG_PAD:
			break;
		default:
			e->bad_attr = type;
			break;
		}
		if (type < 32)
			e->seen |= BIT(type);
		len -= NLA_ALIGN(a->nla_len);
		p += NLA_ALIGN(a->nla_len);
	}
}

/* Send a request with nlmsg flags and a payload of len bytes. */
static int diag_send(int nl, __u16 flags, const struct cu_diag_req *req,
		     size_t len)
{
	struct {
		struct nlmsghdr nlh;
		struct cu_diag_req req;
	} msg;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = NLMSG_LENGTH(len);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = flags;
	msg.nlh.nlmsg_seq = ++cu_seq;
	memcpy(&msg.req, req, len);
	if (sendto(nl, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *)&to,
		   sizeof(to)) < 0)
		return -errno;
	return 0;
}

/*
 * Receive the answer to the last request: 0 and the entries in *d at
 * NLMSG_DONE, or the negative errno of an NLMSG_ERROR (or of recv).
 */
static int diag_collect(int nl, struct cu_dump *d)
{
	static char buf[32768] __attribute__((aligned(8)));
	const struct nlmsghdr *h;
	int got;
	ssize_t n;

	for (;;) {
		n = recv(nl, buf, sizeof(buf), 0);
		if (n < 0)
			return errno == EINTR ? -EINTR : -errno;
		if (n == 0)
			return -EPROTO;
		got = 0;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			const struct cu_diag_msg *m = NLMSG_DATA(h);
			struct cu_dent *e;

			if (h->nlmsg_seq != cu_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = NLMSG_DATA(h);

				return err->error ? err->error : -EPROTO;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				return -EBADMSG;
			if (d->n == d->cap) {
				d->cap = d->cap ? 2 * d->cap : 64;
				d->e = realloc(d->e, d->cap * sizeof(*d->e));
				if (!d->e)
					return -ENOMEM;
			}
			e = &d->e[d->n++];
			memset(e, 0, sizeof(*e));
			e->m = *m;
			parse_attrs(e, (const char *)m + NLMSG_ALIGN(sizeof(*m)),
				    h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*m))));
			got = 1;
		}
		d->batches += got;
	}
}

static int diag_dump(int nl, __u32 states, __u32 port, __u32 show,
		     struct cu_dump *d)
{
	struct cu_diag_req req = {
		.sdiag_family = cu_family(),
		.cudiag_states = states,
		.cudiag_port = port,
		.cudiag_show = show,
	};
	int err;

	dump_free(d);
	err = diag_send(nl, NLM_F_REQUEST | NLM_F_DUMP, &req, sizeof(req));
	return err ? err : diag_collect(nl, d);
}

static int diag_socket(struct __test_metadata *_metadata)
{
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	ASSERT_LE(0, nl) {
		TH_LOG("socket(NETLINK_SOCK_DIAG): %s", strerror(errno));
	}
	return nl;
}

/* dump everything with every attribute; asserts that it works */
#define DUMP(nl, d, states, port) do {					\
	int __err = diag_dump((nl), (states), (port), SHOW_ALL, (d));	\
	ASSERT_EQ(0, __err) {						\
		TH_LOG("sock_diag dump: %s", strerror(-__err));		\
	}								\
} while (0)

static ino_t ino_of(struct __test_metadata *_metadata, int fd)
{
	struct stat st;

	ASSERT_EQ(0, fstat(fd, &st));
	return st.st_ino;
}

/* the entry of inode ino; NULL if absent; fails if it is there twice */
static const struct cu_dent *find_ino(struct __test_metadata *_metadata,
				      const struct cu_dump *d, __u32 ino)
{
	const struct cu_dent *found = NULL;
	int i;

	for (i = 0; i < d->n; i++) {
		if (d->e[i].m.cudiag_ino != ino)
			continue;
		EXPECT_EQ(NULL, found) {
			TH_LOG("inode %u dumped twice", ino);
		}
		found = &d->e[i];
	}
	return found;
}

/* the entry of fd, which must be there */
static const struct cu_dent *entry_of(struct __test_metadata *_metadata,
				      const struct cu_dump *d, int fd)
{
	__u32 ino = ino_of(_metadata, fd);
	const struct cu_dent *e = find_ino(_metadata, d, ino);

	ASSERT_NE(NULL, e) {
		TH_LOG("socket with inode %u missing from the dump (%d entries)",
		       ino, d->n);
	}
	return e;
}

/* entries with no socket file: connections not accepted yet */
static const struct cu_dent *find_unaccepted(const struct cu_dump *d,
					     __u32 port, __u32 peer)
{
	int i;

	for (i = 0; i < d->n; i++)
		if (!d->e[i].m.cudiag_ino && d->e[i].m.cudiag_port == port &&
		    d->e[i].m.cudiag_peer == peer)
			return &d->e[i];
	return NULL;
}

static int count_state(const struct cu_dump *d, int state)
{
	int i, n = 0;

	for (i = 0; i < d->n; i++)
		n += d->e[i].m.cudiag_state == state;
	return n;
}

/* 0 or the errno of getpeername; *port the peer's port */
static int peer_of(int fd, __u32 *port)
{
	struct sockaddr_cu a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (getpeername(fd, CU_SA(&a), &len))
		return errno;
	*port = a.scu_port;
	return 0;
}

/*
 * Check every field of e (dumped with SHOW_ALL) against the socket fd.
 * SIOCINQ of a datagram socket is the size of its next datagram while the
 * dump's rqueue counts every byte queued: the datagram test checks that.
 */
static void check_entry(struct __test_metadata *_metadata,
			const struct cu_dent *e, int fd)
{
	int type = cu_sol_int(_metadata, fd, SO_TYPE);
	int listening = cu_sol_int(_metadata, fd, SO_ACCEPTCONN);
	struct cu_listen_stats st;
	socklen_t len = sizeof(st);
	__u32 peer = 0;
	struct stat sb;
	int inq = -1, outq = -1, state;

	ASSERT_EQ(0, fstat(fd, &sb));
	EXPECT_EQ(cu_family(), e->m.cudiag_family);
	EXPECT_EQ(type, e->m.cudiag_type);
	EXPECT_EQ(0, e->m.cudiag_pad);
	EXPECT_EQ(sb.st_ino, e->m.cudiag_ino);
	EXPECT_EQ(cu_local_port(_metadata, fd), e->m.cudiag_port);
	state = listening ? ST_LISTEN : peer_of(fd, &peer) ? ST_CLOSE : ST_ESTABLISHED;
	EXPECT_EQ(state, e->m.cudiag_state);
	EXPECT_EQ(peer, e->m.cudiag_peer);
	EXPECT_EQ(0, e->bad_attr) {
		TH_LOG("attribute %d has the wrong size or is unknown", e->bad_attr);
	}

	EXPECT_TRUE(!!(e->seen & BIT(CUDIAG_QUEUE)));
	EXPECT_EQ((__u32)cu_backlog(fd), e->queue.backlog);
	EXPECT_EQ((__u32)cu_pending(fd), e->queue.pending);

	if (type == SOCK_DGRAM) {
		EXPECT_FALSE(!!(e->seen & BIT(CUDIAG_STATS)));
		EXPECT_EQ(-1, getsockopt(fd, SOL_CUSTOM, CU_STATS, &st, &len));
		EXPECT_EQ(ENOPROTOOPT, errno);
	} else {
		EXPECT_TRUE(!!(e->seen & BIT(CUDIAG_STATS)));
		cu_stats(_metadata, fd, &st);
		EXPECT_EQ(st.queued, e->stats.queued);
		EXPECT_EQ(st.accepted, e->stats.accepted);
		EXPECT_EQ(st.refused_full, e->stats.refused_full);
		EXPECT_EQ(st.reset_shrink, e->stats.reset_shrink);
		EXPECT_EQ(st.reset_close, e->stats.reset_close);
	}

	EXPECT_TRUE(!!(e->seen & BIT(CUDIAG_RQLEN)));
	EXPECT_EQ(0, ioctl(fd, SIOCOUTQ, &outq));
	EXPECT_EQ((__u32)outq, e->rqlen.wqueue);
	if (listening) {
		EXPECT_EQ(-1, ioctl(fd, SIOCINQ, &inq));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(0U, e->rqlen.rqueue);
	} else if (type != SOCK_DGRAM) {
		EXPECT_EQ(0, ioctl(fd, SIOCINQ, &inq));
		EXPECT_EQ((__u32)inq, e->rqlen.rqueue);
	}

	EXPECT_TRUE(!!(e->seen & BIT(CUDIAG_UID)));
	EXPECT_EQ(sb.st_uid, e->uid);
}

/* dump and check fd's entry */
static void check_fd(struct __test_metadata *_metadata, int nl, int fd)
{
	struct cu_dump d = { 0 };

	DUMP(nl, &d, 0, 0);
	check_entry(_metadata, entry_of(_metadata, &d, fd), fd);
	dump_free(&d);
}

/* the entry of a connection not accepted yet, from client c to port */
static void check_unaccepted(struct __test_metadata *_metadata, int nl,
			     int type, __u32 port, int c, int bytes)
{
	__u32 cport = cu_local_port(_metadata, c);
	const struct cu_dent *e;
	struct cu_dump d = { 0 };

	DUMP(nl, &d, 0, 0);
	e = find_unaccepted(&d, port, cport);
	ASSERT_NE(NULL, e) {
		TH_LOG("no entry for the pending connection from port %u", cport);
	}
	EXPECT_EQ(cu_family(), e->m.cudiag_family);
	EXPECT_EQ(type, e->m.cudiag_type);
	EXPECT_EQ(ST_ESTABLISHED, e->m.cudiag_state);
	EXPECT_EQ(0, e->bad_attr);
	EXPECT_EQ(0U, e->queue.backlog);
	EXPECT_EQ(0U, e->queue.pending);
	EXPECT_EQ(0ULL, e->stats.queued + e->stats.accepted + e->stats.refused_full +
		     e->stats.reset_shrink + e->stats.reset_close);
	EXPECT_EQ((__u32)bytes, e->rqlen.rqueue);
	EXPECT_EQ(0U, e->rqlen.wqueue);
	dump_free(&d);
}

/* ---- connection types -------------------------------------------------- */

FIXTURE(diag)
{
	bool isolated;
	int nl;
};

FIXTURE_VARIANT(diag)
{
	int type;
};

FIXTURE_VARIANT_ADD(diag, stream)
{
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(diag, seqpacket)
{
	.type = SOCK_SEQPACKET,
};

FIXTURE_SETUP(diag)
{
	self->isolated = cu_setup();
	self->nl = diag_socket(_metadata);
}

FIXTURE_TEARDOWN(diag)
{
}

/* a listener's fields at each step of its life, as getsockopt sees them */
TEST_F(diag, listener_follows_its_queue)
{
	int l, c[5], a, i;

	l = cu_listener(_metadata, variant->type, PORT, 3, NULL);
	check_fd(_metadata, self->nl, l);		/* empty */

	for (i = 0; i < 3; i++)
		c[i] = cu_client(_metadata, variant->type, PORT);
	c[3] = cu_socket(_metadata, variant->type);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c[3], PORT));
	check_fd(_metadata, self->nl, l);		/* full, one refused */
	ASSERT_EQ(3, cu_pending(l));

	a = cu_accept(_metadata, l);
	check_fd(_metadata, self->nl, l);		/* one accepted */
	check_fd(_metadata, self->nl, a);

	ASSERT_EQ(0, listen(l, 1));			/* shrink: one reset */
	check_fd(_metadata, self->nl, l);
	ASSERT_EQ(1, cu_pending(l));

	ASSERT_EQ(0, listen(l, 5));			/* grow */
	c[4] = cu_client(_metadata, variant->type, PORT);
	check_fd(_metadata, self->nl, l);

	ASSERT_EQ(0, shutdown(l, SHUT_RDWR));		/* stops: counters stay */
	check_fd(_metadata, self->nl, l);
	{
		struct cu_listen_stats st;

		cu_stats(_metadata, l, &st);
		EXPECT_EQ(4ULL, st.queued);
		EXPECT_EQ(1ULL, st.accepted);
		EXPECT_EQ(1ULL, st.refused_full);
		EXPECT_EQ(1ULL, st.reset_shrink);
		EXPECT_EQ(2ULL, st.reset_close);
	}
}

/* both ends of a connection, before and after accept(), with data queued */
TEST_F(diag, connected_pair_and_unaccepted_connection)
{
	int l, c, a;

	l = cu_listener(_metadata, variant->type, PORT, 2, NULL);
	c = cu_client(_metadata, variant->type, PORT);
	cu_send_str(_metadata, c, "hello");		/* waits for accept() */
	check_fd(_metadata, self->nl, c);
	check_unaccepted(_metadata, self->nl, variant->type, PORT, c, 5);

	a = cu_accept(_metadata, l);
	check_fd(_metadata, self->nl, a);		/* rqueue 5 */
	check_fd(_metadata, self->nl, c);		/* wqueue 5 */
	cu_send_str(_metadata, a, "abc");
	check_fd(_metadata, self->nl, a);		/* wqueue 3 */
	check_fd(_metadata, self->nl, c);		/* rqueue 3 */
	cu_expect_data(_metadata, a, "hello");
	check_fd(_metadata, self->nl, a);
	check_fd(_metadata, self->nl, c);		/* wqueue back to 0 */

	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	check_fd(_metadata, self->nl, c);
	check_fd(_metadata, self->nl, a);
}

/* a socket that is neither bound nor connected, then only bound */
TEST_F(diag, unbound_and_bound_sockets)
{
	int s = cu_socket(_metadata, variant->type);
	struct cu_dump d = { 0 };
	const struct cu_dent *e;

	DUMP(self->nl, &d, 0, 0);
	e = entry_of(_metadata, &d, s);
	EXPECT_EQ(0U, e->m.cudiag_port);
	EXPECT_EQ(ST_CLOSE, e->m.cudiag_state);
	check_entry(_metadata, e, s);
	cu_bind(_metadata, s, PORT2);
	check_fd(_metadata, self->nl, s);
	dump_free(&d);
}

/* ---- datagrams, filters, flags, namespaces ------------------------------ */

FIXTURE(diag_misc)
{
	bool isolated;
	int nl;
};

FIXTURE_SETUP(diag_misc)
{
	self->isolated = cu_setup();
	self->nl = diag_socket(_metadata);
}

FIXTURE_TEARDOWN(diag_misc)
{
}

TEST_F(diag_misc, dgram_sockets)
{
	struct sockaddr_cu to = cu_addr(PORT);
	int r, s, c, inq = -1, outq = -1;
	struct cu_dump d = { 0 };
	const struct cu_dent *e;
	char buf[16];

	r = cu_socket(_metadata, SOCK_DGRAM);
	cu_bind(_metadata, r, PORT);
	s = cu_socket(_metadata, SOCK_DGRAM);
	c = cu_socket(_metadata, SOCK_DGRAM);
	ASSERT_EQ(0, cu_try_connect(c, PORT));
	check_fd(_metadata, self->nl, r);
	check_fd(_metadata, self->nl, s);		/* unbound */
	check_fd(_metadata, self->nl, c);		/* connected: ESTAB */

	ASSERT_EQ(5, sendto(s, "12345", 5, 0, CU_SA(&to), sizeof(to)));
	ASSERT_EQ(3, sendto(s, "abc", 3, 0, CU_SA(&to), sizeof(to)));
	check_fd(_metadata, self->nl, s);		/* autobound, wqueue 8 */
	DUMP(self->nl, &d, 0, 0);
	e = entry_of(_metadata, &d, r);
	check_entry(_metadata, e, r);
	ASSERT_EQ(0, ioctl(r, SIOCINQ, &inq));
	EXPECT_EQ(5, inq);				/* the next datagram */
	EXPECT_EQ(8U, e->rqlen.rqueue);			/* every byte queued */
	e = entry_of(_metadata, &d, s);
	ASSERT_EQ(0, ioctl(s, SIOCOUTQ, &outq));
	EXPECT_EQ(8, outq);
	EXPECT_EQ(8U, e->rqlen.wqueue);
	EXPECT_EQ(ST_CLOSE, e->m.cudiag_state);
	EXPECT_LT(CU_PORT_EPHEMERAL - 1, e->m.cudiag_port);

	ASSERT_EQ(5, recv(r, buf, sizeof(buf), 0));
	DUMP(self->nl, &d, 0, 0);
	e = entry_of(_metadata, &d, r);
	check_entry(_metadata, e, r);
	EXPECT_EQ(3U, e->rqlen.rqueue);
	check_entry(_metadata, entry_of(_metadata, &d, s), s);
	dump_free(&d);
}

/* cudiag_states: only the sockets in those states */
TEST_F(diag_misc, state_filter)
{
	int l, c, a, u, g, i, j;
	struct cu_dump d = { 0 };
	const struct {
		__u32 states;
		int n;
	} cases[] = {
		{ 0, 7 },
		{ BIT(ST_LISTEN), 1 },
		{ BIT(ST_ESTABLISHED), 4 },
		{ BIT(ST_CLOSE), 2 },
		{ BIT(ST_LISTEN) | BIT(ST_CLOSE), 3 },
		{ BIT(ST_LISTEN) | BIT(ST_ESTABLISHED) | BIT(ST_CLOSE), 7 },
		{ BIT(2) | BIT(3), 0 },
	};

	l = cu_listener(_metadata, SOCK_STREAM, PORT, 4, NULL);
	c = cu_client(_metadata, SOCK_STREAM, PORT);
	a = cu_accept(_metadata, l);
	/* a client not accepted yet, and its connection: 2 more ESTAB */
	cu_client(_metadata, SOCK_STREAM, PORT);
	u = cu_socket(_metadata, SOCK_SEQPACKET);	/* unbound */
	g = cu_socket(_metadata, SOCK_DGRAM);
	cu_bind(_metadata, g, PORT);

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		DUMP(self->nl, &d, cases[i].states, 0);
		EXPECT_EQ(cases[i].n, d.n) {
			TH_LOG("states %#x: %d entries, want %d", cases[i].states,
			       d.n, cases[i].n);
		}
		for (j = 0; j < d.n && cases[i].states; j++)
			EXPECT_TRUE(!!(cases[i].states & BIT(d.e[j].m.cudiag_state)));
	}
	DUMP(self->nl, &d, 0, 0);
	EXPECT_EQ(1, count_state(&d, ST_LISTEN));
	EXPECT_EQ(4, count_state(&d, ST_ESTABLISHED));
	EXPECT_EQ(2, count_state(&d, ST_CLOSE));
	DUMP(self->nl, &d, BIT(ST_ESTABLISHED), 0);
	check_entry(_metadata, entry_of(_metadata, &d, c), c);
	check_entry(_metadata, entry_of(_metadata, &d, a), a);
	EXPECT_EQ(NULL, find_ino(_metadata, &d, ino_of(_metadata, l)));
	DUMP(self->nl, &d, BIT(ST_CLOSE), 0);
	check_entry(_metadata, entry_of(_metadata, &d, u), u);
	check_entry(_metadata, entry_of(_metadata, &d, g), g);
	DUMP(self->nl, &d, BIT(ST_LISTEN), 0);
	check_entry(_metadata, entry_of(_metadata, &d, l), l);
	dump_free(&d);
}

/* cudiag_port: only the sockets whose local port it is */
TEST_F(diag_misc, port_filter)
{
	int l1, l2, c1, g, i;
	struct cu_dump d = { 0 };

	l1 = cu_listener(_metadata, SOCK_STREAM, PORT, 4, NULL);
	l2 = cu_listener(_metadata, SOCK_SEQPACKET, PORT2, 4, NULL);
	c1 = cu_client(_metadata, SOCK_STREAM, PORT);
	cu_client(_metadata, SOCK_SEQPACKET, PORT2);
	g = cu_socket(_metadata, SOCK_DGRAM);
	cu_bind(_metadata, g, PORT2);

	DUMP(self->nl, &d, 0, PORT);		/* l1 and its pending connection */
	EXPECT_EQ(2, d.n);
	for (i = 0; i < d.n; i++)
		EXPECT_EQ(PORT, d.e[i].m.cudiag_port);
	check_entry(_metadata, entry_of(_metadata, &d, l1), l1);
	EXPECT_NE(NULL, find_unaccepted(&d, PORT, cu_local_port(_metadata, c1)));

	DUMP(self->nl, &d, 0, PORT2);		/* l2, its pending one, g */
	EXPECT_EQ(3, d.n);
	check_entry(_metadata, entry_of(_metadata, &d, l2), l2);
	check_entry(_metadata, entry_of(_metadata, &d, g), g);

	DUMP(self->nl, &d, BIT(ST_LISTEN), PORT2);	/* both filters */
	EXPECT_EQ(1, d.n);
	check_entry(_metadata, entry_of(_metadata, &d, l2), l2);

	DUMP(self->nl, &d, 0, cu_local_port(_metadata, c1));	/* the client */
	EXPECT_EQ(1, d.n);
	check_entry(_metadata, entry_of(_metadata, &d, c1), c1);

	DUMP(self->nl, &d, 0, 4242);		/* nobody */
	EXPECT_EQ(0, d.n);
	dump_free(&d);
}

/* cudiag_show: each flag brings its attribute, and only it */
TEST_F(diag_misc, show_flags)
{
	const struct {
		__u32 show;
		unsigned int conn, dgram;	/* attributes expected */
	} cases[] = {
		{ 0, 0, 0 },
		{ CUDIAG_SHOW_QUEUE, BIT(CUDIAG_QUEUE), BIT(CUDIAG_QUEUE) },
		{ CUDIAG_SHOW_STATS, BIT(CUDIAG_STATS), 0 },
		{ CUDIAG_SHOW_RQLEN, BIT(CUDIAG_RQLEN), BIT(CUDIAG_RQLEN) },
		{ CUDIAG_SHOW_UID, BIT(CUDIAG_UID), BIT(CUDIAG_UID) },
		{ SHOW_ALL, BIT(CUDIAG_QUEUE) | BIT(CUDIAG_STATS) |
			    BIT(CUDIAG_RQLEN) | BIT(CUDIAG_UID),
		  BIT(CUDIAG_QUEUE) | BIT(CUDIAG_RQLEN) | BIT(CUDIAG_UID) },
	};
	struct cu_dump d = { 0 };
	int l, g, i, err;
	const struct cu_dent *e;

	l = cu_listener(_metadata, SOCK_STREAM, PORT, 2, NULL);
	g = cu_socket(_metadata, SOCK_DGRAM);
	cu_bind(_metadata, g, PORT);

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		err = diag_dump(self->nl, 0, 0, cases[i].show, &d);
		ASSERT_EQ(0, err);
		ASSERT_EQ(2, d.n);
		e = entry_of(_metadata, &d, l);
		EXPECT_EQ(cases[i].conn, e->seen & ~BIT(CUDIAG_PAD)) {
			TH_LOG("show %#x: listener attributes %#x", cases[i].show, e->seen);
		}
		EXPECT_EQ(0, e->bad_attr);
		e = entry_of(_metadata, &d, g);
		EXPECT_EQ(cases[i].dgram, e->seen & ~BIT(CUDIAG_PAD)) {
			TH_LOG("show %#x: dgram attributes %#x", cases[i].show, e->seen);
		}
		EXPECT_EQ(0, e->bad_attr);
	}
	dump_free(&d);
}

/* a request that is not a dump, or too short, is answered with an error */
TEST_F(diag_misc, bad_requests)
{
	struct cu_diag_req req = {
		.sdiag_family = cu_family(),
		.cudiag_show = SHOW_ALL,
	};
	struct cu_dump d = { 0 };

	ASSERT_EQ(0, diag_send(self->nl, NLM_F_REQUEST, &req, sizeof(req)));
	EXPECT_EQ(-EOPNOTSUPP, diag_collect(self->nl, &d));
	ASSERT_EQ(0, diag_send(self->nl, NLM_F_REQUEST | NLM_F_DUMP, &req,
			       offsetof(struct cu_diag_req, cudiag_show)));
	EXPECT_EQ(-EINVAL, diag_collect(self->nl, &d));
	EXPECT_EQ(0, d.n);
	/* and the socket still works */
	DUMP(self->nl, &d, 0, 0);
	dump_free(&d);
}

/* the owner: the fsuid of the process that created the socket */
TEST_F(diag_misc, uid_is_the_creators)
{
	struct cu_dump d = { 0 };
	const struct cu_dent *e;
	int s;

	if (geteuid() != 0)
		SKIP(return, "needs root to change its fsuid");
	setfsuid(4321);
	s = socket(cu_family(), SOCK_STREAM, 0);
	setfsuid(0);
	ASSERT_LE(0, s);
	DUMP(self->nl, &d, 0, 0);
	e = entry_of(_metadata, &d, s);
	EXPECT_EQ(4321U, e->uid);
	check_entry(_metadata, e, s);
	dump_free(&d);
}

/* the cookie tells sockets apart and stays the same from dump to dump */
TEST_F(diag_misc, cookies)
{
	struct cu_dump d1 = { 0 }, d2 = { 0 };
	int i, j, fd[4];

	fd[0] = cu_listener(_metadata, SOCK_STREAM, PORT, 2, NULL);
	fd[1] = cu_client(_metadata, SOCK_STREAM, PORT);
	fd[2] = cu_accept(_metadata, fd[0]);
	fd[3] = cu_socket(_metadata, SOCK_DGRAM);
	DUMP(self->nl, &d1, 0, 0);
	DUMP(self->nl, &d2, 0, 0);
	ASSERT_EQ(4, d1.n);
	for (i = 0; i < 4; i++) {
		const struct cu_dent *a = entry_of(_metadata, &d1, fd[i]);
		const struct cu_dent *b = entry_of(_metadata, &d2, fd[i]);

		EXPECT_EQ(0, memcmp(a->m.cudiag_cookie, b->m.cudiag_cookie,
				    sizeof(a->m.cudiag_cookie)));
		EXPECT_NE(0U, a->m.cudiag_cookie[0] | a->m.cudiag_cookie[1]);
		for (j = 0; j < i; j++)
			EXPECT_NE(0, memcmp(a->m.cudiag_cookie,
					    entry_of(_metadata, &d1, fd[j])->m.cudiag_cookie,
					    sizeof(a->m.cudiag_cookie)));
	}
	dump_free(&d1);
	dump_free(&d2);
}

/* a dump that does not fit one batch resumes where it stopped */
TEST_F(diag_misc, many_sockets)
{
	static int fd[MANY];
	static __u32 ino[MANY];
	struct cu_dump d = { 0 };
	int i;

	for (i = 0; i < MANY; i++) {
		fd[i] = socket(cu_family(), i % 2 ? SOCK_DGRAM : SOCK_STREAM, 0);
		ASSERT_LE(0, fd[i]) {
			TH_LOG("socket %d: %s", i, strerror(errno));
		}
		ino[i] = ino_of(_metadata, fd[i]);
	}
	DUMP(self->nl, &d, 0, 0);
	EXPECT_EQ(MANY, d.n);
	EXPECT_LT(1, d.batches) {
		TH_LOG("the dump came in %d batch(es)", d.batches);
	}
	for (i = 0; i < MANY; i++)
		EXPECT_NE(NULL, find_ino(_metadata, &d, ino[i]));
	dump_free(&d);
	for (i = 0; i < MANY; i++)
		close(fd[i]);
}

/* a netlink socket dumps its own netns only, whatever process asks */
TEST_F(diag_misc, other_netns_is_not_dumped)
{
	struct cu_dump d = { 0 };
	int x, y, nl2;
	__u32 xino, yino;

	CU_REQUIRE_NETNS(self->isolated);
	x = cu_listener(_metadata, SOCK_STREAM, PORT, 2, NULL);
	xino = ino_of(_metadata, x);
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	y = cu_listener(_metadata, SOCK_STREAM, PORT, 2, NULL);
	yino = ino_of(_metadata, y);
	nl2 = diag_socket(_metadata);

	DUMP(self->nl, &d, 0, 0);		/* opened in the first netns */
	EXPECT_EQ(1, d.n);
	check_entry(_metadata, entry_of(_metadata, &d, x), x);
	EXPECT_EQ(NULL, find_ino(_metadata, &d, yino));
	DUMP(self->nl, &d, 0, PORT);
	EXPECT_EQ(1, d.n);
	EXPECT_EQ(NULL, find_ino(_metadata, &d, yino));

	DUMP(nl2, &d, 0, 0);			/* the second netns */
	EXPECT_EQ(1, d.n);
	check_entry(_metadata, entry_of(_metadata, &d, y), y);
	EXPECT_EQ(NULL, find_ino(_metadata, &d, xino));
	dump_free(&d);
}

TEST_HARNESS_MAIN
