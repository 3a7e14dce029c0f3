// SPDX-License-Identifier: GPL-2.0
/*
 * CONTRACT §8 for the record types: the rules cu_data.c checks on
 * SOCK_STREAM (fixture `data`), run on SOCK_SEQPACKET and on a connected
 * SOCK_DGRAM pair, so each rule runs for every type it applies to.
 *
 * Fixture `types` (seqpacket, dgram): MSG_PEEK, MSG_DONTWAIT, O_NONBLOCK,
 * MSG_WAITALL (returns one record), blocking reads and their wakeup,
 * SO_RCVTIMEO/SO_SNDTIMEO, buffers bounding what is in flight, poll/epoll
 * (and the poll bits compared with the same steps on an AF_UNIX socketpair
 * of the same type: all bits for SEQPACKET, POLLIN/POLLOUT for DGRAM),
 * SIOCOUTQ, SO_ERROR, SO_TYPE/SO_DOMAIN/SO_PROTOCOL/SO_ACCEPTCONN, EFAULT
 * for bad pointers (never a partial record) and unknown msg_flags.
 *
 * Fixture `connected` (seqpacket; stream is in cu_data.c): the rules of
 * connections only: SO_PEERCRED, SO_ERROR after a reset, the poll bits
 * through shutdown, close and reset (compared with AF_UNIX), and the
 * listener's POLLIN. MSG_NOSIGNAL on a closed connection is in cu_close.c
 * (both connected types), on DGRAM in cu_dgram.c; record truncation,
 * EMSGSIZE and SIOCINQ in cu_seqpacket.c and cu_dgram.c.
 */
#include "cu_util.h"
#include <sys/epoll.h>
#include <sys/wait.h>
#include <linux/sockios.h>

#define PORT		4900U
#define BACKLOG		4
#define UNKNOWN_MSG_FLAG	0x400000	/* no MSG_* up to 6.12 */

#define POLL_ALL	(POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLERR | POLLHUP)

/* a user pointer that faults, hidden from the compiler's alias checks */
static void *volatile bad_ptr = (void *)1;

/*
 * A connected pair of `type`: c is the client (DGRAM: connected to a),
 * a the accepted socket (DGRAM: bound to PORT and connected back to c).
 */
static void make_pair(struct __test_metadata *_metadata, int type,
		      int *lfd, int *c, int *a)
{
	__u32 port;

	if (type == SOCK_DGRAM) {
		*lfd = -1;
		*a = cu_socket(_metadata, SOCK_DGRAM);
		cu_bind(_metadata, *a, PORT);
		*c = cu_socket(_metadata, SOCK_DGRAM);
		ASSERT_EQ(0, cu_try_connect(*c, PORT));
		ASSERT_EQ(0, cu_try_connect(*a, cu_local_port(_metadata, *c)));
		return;
	}
	*lfd = cu_listener(_metadata, type, PORT, BACKLOG, &port);
	*c = cu_client(_metadata, type, port);
	*a = cu_accept(_metadata, *lfd);
}

/* the next message must be `expect` exactly (one whole record) */
static void expect_msg(struct __test_metadata *_metadata, int fd, const char *expect)
{
	ssize_t len = strlen(expect);
	char buf[256];

	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(POLLIN, cu_poll(fd, POLLIN, CU_WAIT_MS) & POLLIN);
	ASSERT_EQ(len, recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) {
		TH_LOG("want \"%s\": %s", expect, strerror(errno));
	}
	ASSERT_STREQ(expect, buf);
}

static void expect_empty(struct __test_metadata *_metadata, int fd)
{
	char buf[8];

	ASSERT_EQ(-1, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(EAGAIN, errno);
}

/* fill fd's path to its peer until EAGAIN; returns the bytes queued */
static size_t fill(struct __test_metadata *_metadata, int fd)
{
	static char buf[1024];
	size_t total = 0;
	int val = 4096, i;
	ssize_t n;

	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &val, sizeof(val)));
	memset(buf, 'f', sizeof(buf));
	for (;;) {
		n = send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			break;
		ASSERT_EQ(sizeof(buf), (size_t)n);
		total += n;
		ASSERT_GT(32u << 20, total) {
			TH_LOG("32 MiB sent to a peer that reads nothing: no flow control");
		}
	}
	ASSERT_EQ(EAGAIN, errno);
	/* top it up with 1-byte messages until not even one fits */
	for (i = 0; i < 65536; i++) {
		n = send(fd, buf, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			break;
		total += n;
	}
	ASSERT_EQ(-1, n);
	ASSERT_EQ(EAGAIN, errno);
	return total;
}

/* read `total` bytes of messages from fd, bounded */
static void drain(struct __test_metadata *_metadata, int fd, size_t total)
{
	static char buf[65536];
	size_t got = 0;
	ssize_t n;

	while (got < total) {
		n = cu_recv_wait(fd, buf, sizeof(buf), 0);
		ASSERT_LT(0, n) {
			TH_LOG("drain: %zu of %zu bytes, then %s", got, total,
			       n ? strerror(errno) : "EOF");
		}
		got += n;
	}
	ASSERT_EQ(total, got);
}

struct sender {
	int fd;
	int chunks;
	size_t chunk;
	pid_t wait_tid;		/* if set: wait until this thread sleeps */
	ssize_t ret;
	int err;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;
	char buf[4096];
	int i;

	if (s->wait_tid)
		cu_wait_blocked(s->wait_tid);
	s->ret = 0;
	for (i = 0; i < s->chunks; i++) {
		ssize_t n;

		memset(buf, 'A' + i, sizeof(buf));
		n = send(s->fd, buf, s->chunk, MSG_NOSIGNAL);
		if (n < 0) {
			s->ret = -1;
			s->err = errno;
			return NULL;
		}
		s->ret += n;
	}
	return NULL;
}

struct poller {
	int fd;
	short events;
	short revents;
	pid_t tid;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;

	p->tid = cu_gettid();
	p->revents = cu_poll(p->fd, p->events, CU_WAIT_MS);
	return NULL;
}

static void start_poller(struct __test_metadata *_metadata, struct poller *p,
			 pthread_t *t, int fd, short events)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->events = events;
	ASSERT_EQ(0, pthread_create(t, NULL, poll_thread, p));
	while (!p->tid)
		cu_sleep_ms(1);
	ASSERT_TRUE(cu_wait_blocked(p->tid));
}

/* the same step on AF_UNIX (ufd) and AF_CUSTOM (cfd): the same bits of mask */
static void poll_step(struct __test_metadata *_metadata, const char *step,
		      int ufd, int cfd, short mask)
{
	short u = cu_poll(ufd, mask, 0);
	short c = cu_poll(cfd, mask, 0);

	ASSERT_EQ(u, c) {
		TH_LOG("%s: AF_UNIX revents %#x, AF_CUSTOM %#x", step, u, c);
	}
}

/* ==== fixture types: SOCK_SEQPACKET and a connected SOCK_DGRAM pair ==== */

FIXTURE(types)
{
	int lfd;		/* -1 for DGRAM */
	int c, a;
	int fds[CU_MAX_FDS];
	int nfds;
};

FIXTURE_VARIANT(types)
{
	int type;
	short poll_mask;	/* the bits compared with AF_UNIX */
};

FIXTURE_VARIANT_ADD(types, seqpacket)
{
	.type = SOCK_SEQPACKET,
	.poll_mask = POLL_ALL,
};

FIXTURE_VARIANT_ADD(types, dgram)
{
	.type = SOCK_DGRAM,
	.poll_mask = POLLIN | POLLOUT,
};

FIXTURE_SETUP(types)
{
	self->nfds = 0;
	self->lfd = self->c = self->a = -1;
	cu_setup();
	make_pair(_metadata, variant->type, &self->lfd, &self->c, &self->a);
}

FIXTURE_TEARDOWN(types)
{
	if (self->lfd >= 0)
		close(self->lfd);
	if (self->c >= 0)
		close(self->c);
	if (self->a >= 0)
		close(self->a);
	cu_close_all(self->fds, &self->nfds);
}

/* ---- flags ---------------------------------------------------------------- */

TEST_F(types, both_directions_one_message_per_send)
{
	cu_send_str(_metadata, self->c, "ping");
	cu_send_str(_metadata, self->c, "ping2");
	cu_send_str(_metadata, self->a, "pong");
	expect_msg(_metadata, self->a, "ping");
	expect_msg(_metadata, self->a, "ping2");
	expect_msg(_metadata, self->c, "pong");
	expect_empty(_metadata, self->a);
	expect_empty(_metadata, self->c);
}

TEST_F(types, dontwait_on_empty_eagain)
{
	char buf[8];
	long long t0 = cu_now_ms();

	ASSERT_EQ(-1, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_GT(CU_AT_ONCE_MS, cu_now_ms() - t0);
}

TEST_F(types, nonblocking_socket_on_empty_eagain)
{
	char buf[8];

	cu_set_nonblock(_metadata, self->a, true);
	ASSERT_EQ(-1, recv(self->a, buf, sizeof(buf), 0));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(-1, read(self->a, buf, sizeof(buf)));
	ASSERT_EQ(EAGAIN, errno);
}

TEST_F(types, peek_does_not_consume)
{
	char buf[64];

	cu_send_str(_metadata, self->c, "hello");
	cu_send_str(_metadata, self->c, "world");
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, cu_recv_wait(self->a, buf, sizeof(buf), MSG_PEEK));
	ASSERT_STREQ("hello", buf);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, recv(self->a, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT));
	ASSERT_STREQ("hello", buf);
	expect_msg(_metadata, self->a, "hello");
	expect_msg(_metadata, self->a, "world");
	expect_empty(_metadata, self->a);
}

/* MSG_WAITALL cannot merge messages: it returns the next one, at once */
TEST_F(types, waitall_returns_one_whole_message)
{
	char buf[100];
	long long t0;

	cu_set_timeo(_metadata, self->a, SO_RCVTIMEO, 3000);
	cu_send_str(_metadata, self->c, "abc");
	cu_send_str(_metadata, self->c, "d");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	t0 = cu_now_ms();
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(3, recv(self->a, buf, sizeof(buf), MSG_WAITALL));
	ASSERT_STREQ("abc", buf);
	ASSERT_EQ(1, recv(self->a, buf, sizeof(buf), MSG_WAITALL));
	ASSERT_EQ('d', buf[0]);
	ASSERT_GT(CU_AT_ONCE_MS, cu_now_ms() - t0);
}

TEST_F(types, blocking_recv_wakes_on_data)
{
	struct sender s = { .fd = self->c, .chunks = 1, .chunk = 100,
			    .wait_tid = cu_gettid() };
	char buf[200];
	pthread_t t;
	ssize_t n;

	cu_set_timeo(_metadata, self->a, SO_RCVTIMEO, CU_WAIT_MS);
	ASSERT_EQ(0, pthread_create(&t, NULL, send_thread, &s));
	n = recv(self->a, buf, sizeof(buf), 0);
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS));
	ASSERT_EQ(100, n) {
		TH_LOG("recv: %s", n < 0 ? strerror(errno) : "EOF");
	}
}

TEST_F(types, rcvtimeo_elapses_eagain)
{
	char buf[8];
	long long t0, dt;

	cu_set_timeo(_metadata, self->a, SO_RCVTIMEO, 300);
	t0 = cu_now_ms();
	ASSERT_EQ(-1, recv(self->a, buf, sizeof(buf), 0));
	ASSERT_EQ(EAGAIN, errno);
	dt = cu_now_ms() - t0;
	ASSERT_LE(250, dt);
	ASSERT_GT(CU_WAIT_MS, dt);
}

TEST_F(types, unknown_msg_flags_accepted)
{
	char buf[8];

	ASSERT_EQ(1, send(self->c, "u", 1, UNKNOWN_MSG_FLAG | MSG_NOSIGNAL));
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	ASSERT_EQ(1, recv(self->a, buf, sizeof(buf), UNKNOWN_MSG_FLAG));
	ASSERT_EQ('u', buf[0]);
}

/* ---- buffers ----------------------------------------------------------------- */

TEST_F(types, full_peer_nonblocking_send_eagain_nothing_lost)
{
	size_t total = fill(_metadata, self->c);

	ASSERT_LT(0u, total);
	drain(_metadata, self->a, total);
	expect_empty(_metadata, self->a);
	cu_send_str(_metadata, self->c, "after");
	expect_msg(_metadata, self->a, "after");
}

TEST_F(types, full_peer_blocking_send_waits_sndtimeo)
{
	long long t0, dt;

	fill(_metadata, self->c);
	cu_set_timeo(_metadata, self->c, SO_SNDTIMEO, 300);
	t0 = cu_now_ms();
	ASSERT_EQ(-1, send(self->c, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EAGAIN, errno);
	dt = cu_now_ms() - t0;
	ASSERT_LE(250, dt);
	ASSERT_GT(CU_WAIT_MS, dt);
}

TEST_F(types, blocked_sender_resumes_when_peer_reads)
{
	struct sender s = { .fd = self->c, .chunks = 16, .chunk = 4096 };
	size_t total = fill(_metadata, self->c);
	pthread_t t;

	cu_set_timeo(_metadata, self->c, SO_SNDTIMEO, 10000);
	ASSERT_EQ(0, pthread_create(&t, NULL, send_thread, &s));
	cu_sleep_ms(100);
	drain(_metadata, self->a, total + 16 * 4096);
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS));
	ASSERT_EQ(16 * 4096, s.ret) {
		TH_LOG("blocked send: %s", strerror(s.err));
	}
}

TEST_F(types, siocoutq_counts_bytes_the_peer_has_not_read)
{
	char buf[300];
	int n = -1;

	memset(buf, 'o', sizeof(buf));
	ASSERT_EQ(0, ioctl(self->c, SIOCOUTQ, &n));
	ASSERT_EQ(0, n);
	ASSERT_EQ(100, send(self->c, buf, 100, MSG_DONTWAIT));
	ASSERT_EQ(200, send(self->c, buf, 200, MSG_DONTWAIT));
	ASSERT_EQ(0, ioctl(self->c, SIOCOUTQ, &n));
	ASSERT_EQ(300, n);
	ASSERT_EQ(0, ioctl(self->a, SIOCOUTQ, &n));
	ASSERT_EQ(0, n);
	ASSERT_EQ(100, cu_recv_wait(self->a, buf, sizeof(buf), 0));
	ASSERT_EQ(0, ioctl(self->c, SIOCOUTQ, &n));
	ASSERT_EQ(200, n);
	ASSERT_EQ(200, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(0, ioctl(self->c, SIOCOUTQ, &n));
	ASSERT_EQ(0, n);
}

/* ---- poll / epoll --------------------------------------------------------------- */

TEST_F(types, poll_pollin_only_when_data)
{
	ASSERT_EQ(POLLOUT, cu_poll(self->a, POLL_ALL, 0));
	cu_send_str(_metadata, self->c, "x");
	ASSERT_EQ(POLLIN | POLLOUT, cu_poll(self->a, POLL_ALL, CU_WAIT_MS));
}

TEST_F(types, poll_pollout_when_writable_not_when_full)
{
	size_t total;

	ASSERT_EQ(POLLOUT, cu_poll(self->c, POLL_ALL, 0));
	total = fill(_metadata, self->c);
	ASSERT_EQ(0, cu_poll(self->c, POLLOUT, 0));
	drain(_metadata, self->a, total);
	ASSERT_EQ(POLLOUT, cu_poll(self->c, POLLOUT, CU_WAIT_MS));
}

TEST_F(types, poll_wakes_reader_on_data)
{
	struct poller p;
	pthread_t t;

	start_poller(_metadata, &p, &t, self->a, POLLIN);
	cu_send_str(_metadata, self->c, "wake");
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS + 1000));
	ASSERT_EQ(POLLIN, p.revents);
}

TEST_F(types, poll_wakes_writer_when_peer_drains)
{
	struct poller p;
	size_t total;
	pthread_t t;

	total = fill(_metadata, self->c);
	start_poller(_metadata, &p, &t, self->c, POLLOUT);
	drain(_metadata, self->a, total);
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS + 1000));
	ASSERT_EQ(POLLOUT, p.revents);
}

struct epoller {
	int ep;
	int n;
	pid_t tid;
};

static void *epoll_thread(void *arg)
{
	struct epoller *e = arg;
	struct epoll_event out;

	e->tid = cu_gettid();
	e->n = epoll_wait(e->ep, &out, 1, CU_WAIT_MS);
	return NULL;
}

TEST_F(types, epoll_wait_wakes_on_data)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct epoller e = { .ep = CU_KEEP(self, epoll_create1(0)) };
	pthread_t t;

	ASSERT_LE(0, e.ep);
	ASSERT_EQ(0, epoll_ctl(e.ep, EPOLL_CTL_ADD, self->a, &ev));
	ASSERT_EQ(0, pthread_create(&t, NULL, epoll_thread, &e));
	while (!e.tid)
		cu_sleep_ms(1);
	ASSERT_TRUE(cu_wait_blocked(e.tid));
	cu_send_str(_metadata, self->c, "wake");
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS + 1000));
	ASSERT_EQ(1, e.n);
}

TEST_F(types, poll_bits_match_af_unix)
{
	short mask = variant->poll_mask;
	int u[2], x = self->c, y = self->a;
	size_t ut, ct;
	char buf[64];

	ASSERT_EQ(0, socketpair(AF_UNIX, variant->type, 0, u));
	CU_KEEP(self, u[0]);
	CU_KEEP(self, u[1]);

	poll_step(_metadata, "idle receiver", u[1], y, mask);
	poll_step(_metadata, "idle sender", u[0], x, mask);
	ASSERT_EQ(10, send(u[0], "0123456789", 10, 0));
	cu_send_str(_metadata, x, "0123456789");
	poll_step(_metadata, "data queued", u[1], y, mask);
	poll_step(_metadata, "sender with data in flight", u[0], x, mask);
	ASSERT_EQ(10, recv(u[1], buf, sizeof(buf), 0));
	ASSERT_EQ(10, recv(y, buf, sizeof(buf), MSG_DONTWAIT));
	poll_step(_metadata, "data read", u[1], y, mask);
	poll_step(_metadata, "sender, data read", u[0], x, mask);
	ut = fill(_metadata, u[0]);
	ct = fill(_metadata, x);
	poll_step(_metadata, "sender, peer full", u[0], x, mask);
	poll_step(_metadata, "receiver with a full queue", u[1], y, mask);
	drain(_metadata, u[1], ut);
	drain(_metadata, y, ct);
	poll_step(_metadata, "sender, peer drained", u[0], x, mask);
	poll_step(_metadata, "receiver drained", u[1], y, mask);
}

/* ---- options ----------------------------------------------------------------------- */

TEST_F(types, so_error_zero_on_a_healthy_pair)
{
	cu_send_str(_metadata, self->c, "x");
	expect_msg(_metadata, self->a, "x");
	ASSERT_EQ(0, cu_sol_int(_metadata, self->c, SO_ERROR));
	ASSERT_EQ(0, cu_sol_int(_metadata, self->a, SO_ERROR));
}

TEST_F(types, so_type_domain_protocol_acceptconn_of_both_ends)
{
	int fds[2] = { self->c, self->a };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		ASSERT_EQ(variant->type, cu_sol_int(_metadata, fds[i], SO_TYPE));
		ASSERT_EQ(cu_family(), cu_sol_int(_metadata, fds[i], SO_DOMAIN));
		ASSERT_EQ(0, cu_sol_int(_metadata, fds[i], SO_PROTOCOL));
		ASSERT_EQ(0, cu_sol_int(_metadata, fds[i], SO_ACCEPTCONN));
	}
}

/* ---- bad pointers ----------------------------------------------------------------- */

TEST_F(types, send_from_bad_pointer_efault_nothing_queued)
{
	ASSERT_EQ(-1, send(self->c, bad_ptr, 10, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, cu_poll(self->a, POLLIN, 0));
	cu_send_str(_metadata, self->c, "ok");
	expect_msg(_metadata, self->a, "ok");
	expect_empty(_metadata, self->a);
}

TEST_F(types, recv_into_bad_pointer_efault)
{
	cu_send_str(_metadata, self->c, "data");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	ASSERT_EQ(-1, recv(self->a, bad_ptr, 10, MSG_DONTWAIT));
	ASSERT_EQ(EFAULT, errno);
	cu_expect_healthy(_metadata, self->a);
	cu_send_str(_metadata, self->a, "still");
	expect_msg(_metadata, self->c, "still");
}

/* records are whole or absent: a fault in the second iovec sends nothing */
TEST_F(types, sendmsg_bad_iovec_sends_no_partial_message)
{
	struct iovec iov[2] = {
		{ .iov_base = "good", .iov_len = 4 },
		{ .iov_base = NULL, .iov_len = 4 },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	iov[1].iov_base = bad_ptr;
	n = sendmsg(self->c, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	ASSERT_EQ(-1, n) {
		TH_LOG("sendmsg with a bad iovec sent %zd bytes", n);
	}
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, cu_poll(self->a, POLLIN, 0)) {
		TH_LOG("part of a faulting message was delivered");
	}
	cu_expect_healthy(_metadata, self->c);
}

TEST_F(types, getsockopt_and_ioctl_bad_pointers_efault)
{
	socklen_t len = sizeof(int);
	int v;

	ASSERT_EQ(-1, getsockopt(self->c, SOL_SOCKET, SO_TYPE, bad_ptr, &len));
	ASSERT_EQ(EFAULT, errno);
	len = sizeof(int);
	ASSERT_EQ(-1, getsockopt(self->c, SOL_CUSTOM, CU_PENDING, bad_ptr, &len));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, getsockopt(self->a, SOL_CUSTOM, CU_BACKLOG, &v, bad_ptr));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->a, SIOCINQ, bad_ptr));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->c, SIOCOUTQ, bad_ptr));
	ASSERT_EQ(EFAULT, errno);
}

/* ==== fixture connected: SOCK_SEQPACKET (SOCK_STREAM: cu_data.c) ==== */

FIXTURE(connected)
{
	int lfd;
	__u32 port;
	int c, a;
	int fds[CU_MAX_FDS];
	int nfds;
};

FIXTURE_VARIANT(connected)
{
	int type;
};

FIXTURE_VARIANT_ADD(connected, seqpacket)
{
	.type = SOCK_SEQPACKET,
};

FIXTURE_SETUP(connected)
{
	self->nfds = 0;
	self->c = self->a = -1;
	cu_setup();
	self->lfd = cu_listener(_metadata, variant->type, PORT, BACKLOG, &self->port);
	self->c = cu_client(_metadata, variant->type, self->port);
	self->a = cu_accept(_metadata, self->lfd);
}

FIXTURE_TEARDOWN(connected)
{
	close(self->lfd);
	if (self->c >= 0)
		close(self->c);
	if (self->a >= 0)
		close(self->a);
	cu_close_all(self->fds, &self->nfds);
}

static void get_peercred(struct __test_metadata *_metadata, int fd, struct ucred *uc)
{
	socklen_t len = sizeof(*uc);

	memset(uc, 0xff, sizeof(*uc));
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_PEERCRED, uc, &len));
	ASSERT_EQ(sizeof(*uc), len);
}

/* a child with other ids; it reports one byte on `rep` and waits on `go` */
struct child {
	pid_t pid;
	int rep[2];
	int go[2];
};

static void child_done(struct child *ch, char status)
{
	char b;

	if (write(ch->rep[1], &status, 1) != 1)
		_exit(3);
	if (read(ch->go[0], &b, 1) < 0)
		_exit(4);
	_exit(0);
}

static void start_child(struct __test_metadata *_metadata, struct child *ch,
			uid_t uid, gid_t gid)
{
	ASSERT_EQ(0, pipe(ch->rep));
	ASSERT_EQ(0, pipe(ch->go));
	ch->pid = fork();
	ASSERT_LE(0, ch->pid);
	if (ch->pid == 0) {
		alarm(CU_WATCHDOG_SECS);
		if (setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			child_done(ch, 'u');
	}
}

static char child_status(struct __test_metadata *_metadata, struct child *ch)
{
	char st = 0;

	ASSERT_EQ(1, read(ch->rep[0], &st, 1));
	return st;
}

static void end_child(struct __test_metadata *_metadata, struct child *ch)
{
	int status;

	ASSERT_EQ(1, write(ch->go[1], "x", 1));
	ASSERT_EQ(ch->pid, waitpid(ch->pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST_F(connected, peercred_accepted_socket_sees_the_connecting_process)
{
	struct child ch;
	struct ucred uc;
	int a, fd;

	start_child(_metadata, &ch, 2344, 2345);
	if (ch.pid == 0) {
		fd = socket(cu_family(), variant->type, 0);
		child_done(&ch, cu_try_connect(fd, self->port) ? 'c' : 'k');
	}
	ASSERT_EQ('k', child_status(_metadata, &ch));
	a = CU_KEEP(self, cu_accept(_metadata, self->lfd));
	get_peercred(_metadata, a, &uc);
	ASSERT_EQ(ch.pid, uc.pid);
	ASSERT_EQ(2344U, uc.uid);
	ASSERT_EQ(2345U, uc.gid);
	end_child(_metadata, &ch);
}

TEST_F(connected, peercred_client_sees_the_process_that_called_listen)
{
	struct child ch;
	struct ucred uc;
	int s, c;

	s = CU_KEEP(self, cu_socket(_metadata, variant->type));
	cu_bind(_metadata, s, PORT + 1);
	start_child(_metadata, &ch, 3456, 3457);
	if (ch.pid == 0)
		child_done(&ch, listen(s, BACKLOG) ? 'l' : 'k');
	ASSERT_EQ('k', child_status(_metadata, &ch));

	c = CU_KEEP(self, cu_client(_metadata, variant->type, PORT + 1));
	get_peercred(_metadata, c, &uc);
	ASSERT_EQ(ch.pid, uc.pid);
	ASSERT_EQ(3456U, uc.uid);
	ASSERT_EQ(3457U, uc.gid);
	end_child(_metadata, &ch);
}

TEST_F(connected, so_error_econnreset_on_a_reset_connection)
{
	int l2, c1, c2;

	l2 = CU_KEEP(self, cu_listener(_metadata, variant->type, PORT + 1, 2, NULL));
	c1 = CU_KEEP(self, cu_client(_metadata, variant->type, PORT + 1));
	c2 = CU_KEEP(self, cu_client(_metadata, variant->type, PORT + 1));
	ASSERT_EQ(0, listen(l2, 1));	/* resets c2 */
	ASSERT_EQ(POLLERR, cu_poll(c2, POLLIN, CU_WAIT_MS) & POLLERR);
	ASSERT_EQ(ECONNRESET, cu_sol_int(_metadata, c2, SO_ERROR));
	/* SO_ERROR reads and clears it, as usual */
	ASSERT_EQ(0, cu_sol_int(_metadata, c2, SO_ERROR));
	ASSERT_EQ(0, cu_sol_int(_metadata, c1, SO_ERROR));
}

TEST_F(connected, poll_listener_pollin_when_pending)
{
	struct poller p;
	pthread_t t;

	ASSERT_EQ(0, cu_poll(self->lfd, POLLIN, 0));
	start_poller(_metadata, &p, &t, self->lfd, POLLIN);
	CU_KEEP(self, cu_client(_metadata, variant->type, self->port));
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS + 1000));
	ASSERT_EQ(POLLIN, p.revents);
	CU_KEEP(self, cu_accept(_metadata, self->lfd));
	ASSERT_EQ(0, cu_poll(self->lfd, POLLIN, 0));
}

TEST_F(connected, poll_bits_match_af_unix_through_shutdown_and_close)
{
	int u[2], x = self->c, y = self->a;
	char buf[64];

	ASSERT_EQ(0, socketpair(AF_UNIX, variant->type, 0, u));
	CU_KEEP(self, u[1]);

	ASSERT_EQ(4, send(u[0], "data", 4, 0));
	cu_send_str(_metadata, x, "data");
	ASSERT_EQ(0, shutdown(u[0], SHUT_WR));
	ASSERT_EQ(0, shutdown(x, SHUT_WR));
	poll_step(_metadata, "peer SHUT_WR, data unread", u[1], y, POLL_ALL);
	ASSERT_EQ(4, recv(u[1], buf, sizeof(buf), 0));
	ASSERT_EQ(4, recv(y, buf, sizeof(buf), MSG_DONTWAIT));
	poll_step(_metadata, "peer SHUT_WR, data read", u[1], y, POLL_ALL);
	poll_step(_metadata, "own SHUT_WR", u[0], x, POLL_ALL);
	ASSERT_EQ(0, shutdown(u[1], SHUT_WR));
	ASSERT_EQ(0, shutdown(y, SHUT_WR));
	poll_step(_metadata, "both SHUT_WR", u[0], x, POLL_ALL);
	close(u[0]);
	close(x);
	self->c = -1;
	poll_step(_metadata, "peer closed", u[1], y, POLL_ALL);
}

TEST_F(connected, poll_bits_match_af_unix_after_reset)
{
	int u[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, variant->type, 0, u));
	CU_KEEP(self, u[0]);
	/* the closing side has unread data: the peer is reset */
	ASSERT_EQ(1, send(u[0], "x", 1, 0));
	cu_send_str(_metadata, self->c, "x");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	close(u[1]);
	close(self->a);
	self->a = -1;
	poll_step(_metadata, "peer closed with unread data", u[0], self->c, POLL_ALL);
}

TEST_HARNESS_MAIN
