// SPDX-License-Identifier: GPL-2.0
/*
 * CONTRACT §8, SOCK_STREAM data and the options of connected sockets.
 *
 * Fixture `data` (SOCK_STREAM): a byte stream, the flags MSG_DONTWAIT,
 * MSG_PEEK, MSG_WAITALL, MSG_NOSIGNAL, buffers that bound the memory in
 * flight, timeouts, poll/epoll (compared with AF_UNIX), SIOCINQ/SIOCOUTQ,
 * SO_PEERCRED, SO_ERROR, EFAULT, unknown flags and a large transfer.
 *
 * Fixture `opts` (SOCK_STREAM and SOCK_SEQPACKET): SO_ACCEPTCONN and the
 * SOL_CUSTOM getsockopt rules, which apply to both.
 */
#include "cu_util.h"
#include <sys/epoll.h>
#include <sys/wait.h>
#include <linux/sockios.h>

#define PORT		4400U
#define BACKLOG		4
#define UNKNOWN_MSG_FLAG	0x400000	/* no MSG_* up to 6.12 */

/* a user pointer that faults, hidden from the compiler's alias checks */
static void *volatile bad_ptr = (void *)1;

FIXTURE(data)
{
	int lfd;
	__u32 port;
	int c, a;		/* client and accepted, connected */
	int fds[CU_MAX_FDS];
	int nfds;
};

FIXTURE_VARIANT(data)
{
	int type;
};

FIXTURE_VARIANT_ADD(data, stream)
{
	.type = SOCK_STREAM,
};

FIXTURE_SETUP(data)
{
	self->nfds = 0;
	self->c = -1;
	self->a = -1;
	cu_setup();
	self->lfd = cu_listener(_metadata, variant->type, PORT, BACKLOG, &self->port);
	self->c = cu_client(_metadata, variant->type, self->port);
	self->a = cu_accept(_metadata, self->lfd);
}

FIXTURE_TEARDOWN(data)
{
	close(self->lfd);
	if (self->c >= 0)
		close(self->c);
	if (self->a >= 0)
		close(self->a);
	cu_close_all(self->fds, &self->nfds);
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
		total += n;
		ASSERT_GT(32u << 20, total) {
			TH_LOG("32 MiB sent to a peer that reads nothing: no flow control");
		}
	}
	ASSERT_EQ(EAGAIN, errno);
	/* top it up byte by byte, so not even one byte fits */
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

/* read `total` bytes from fd, bounded */
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

/* ---- byte stream and flags -------------------------------------------------- */

TEST_F(data, byte_stream_merges_sends)
{
	char buf[64];

	cu_send_str(_metadata, self->c, "ab");
	cu_send_str(_metadata, self->c, "cd");
	cu_send_str(_metadata, self->c, "ef");
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, cu_poll(self->a, POLLIN, CU_WAIT_MS) & POLLERR);
	ASSERT_EQ(6, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_STREQ("abcdef", buf);
}

TEST_F(data, byte_stream_splits_reads)
{
	char buf[64];

	cu_send_str(_metadata, self->c, "0123456789");
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(3, cu_recv_wait(self->a, buf, 3, 0));
	ASSERT_STREQ("012", buf);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(3, recv(self->a, buf, 3, MSG_DONTWAIT));
	ASSERT_STREQ("345", buf);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(4, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_STREQ("6789", buf);
}

TEST_F(data, both_directions)
{
	cu_send_str(_metadata, self->c, "ping");
	cu_send_str(_metadata, self->a, "pong");
	cu_expect_data(_metadata, self->a, "ping");
	cu_expect_data(_metadata, self->c, "pong");
}

TEST_F(data, dontwait_on_empty_eagain)
{
	char buf[8];
	long long t0 = cu_now_ms();

	ASSERT_EQ(-1, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_GT(CU_AT_ONCE_MS, cu_now_ms() - t0);
}

TEST_F(data, nonblocking_socket_on_empty_eagain)
{
	char buf[8];

	cu_set_nonblock(_metadata, self->a, true);
	ASSERT_EQ(-1, recv(self->a, buf, sizeof(buf), 0));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(-1, read(self->a, buf, sizeof(buf)));
	ASSERT_EQ(EAGAIN, errno);
}

TEST_F(data, peek_does_not_consume)
{
	char buf[64];

	cu_send_str(_metadata, self->c, "hello");
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, cu_recv_wait(self->a, buf, sizeof(buf), MSG_PEEK));
	ASSERT_STREQ("hello", buf);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(2, recv(self->a, buf, 2, MSG_PEEK | MSG_DONTWAIT));
	ASSERT_STREQ("he", buf);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_STREQ("hello", buf);
	ASSERT_EQ(-1, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(EAGAIN, errno);
}

struct sender {
	int fd;
	int chunks;
	size_t chunk;
	int gap_ms;
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
		if (i && s->gap_ms)
			cu_sleep_ms(s->gap_ms);
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

TEST_F(data, waitall_gathers_several_sends)
{
	struct sender s = { .fd = self->c, .chunks = 4, .chunk = 1000, .gap_ms = 50 };
	char buf[4000];
	pthread_t t;
	ssize_t n;
	int i;

	cu_set_timeo(_metadata, self->a, SO_RCVTIMEO, CU_WAIT_MS);
	ASSERT_EQ(0, pthread_create(&t, NULL, send_thread, &s));
	n = recv(self->a, buf, sizeof(buf), MSG_WAITALL);
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS));
	ASSERT_EQ(4000, s.ret);
	ASSERT_EQ(4000, n) {
		TH_LOG("MSG_WAITALL returned %zd (%s)", n, n < 0 ? strerror(errno) : "");
	}
	for (i = 0; i < 4000; i++) {
		ASSERT_EQ('A' + i / 1000, buf[i]);
	}
}

TEST_F(data, blocking_recv_wakes_on_data)
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

TEST_F(data, rcvtimeo_elapses_eagain)
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

TEST_F(data, nosignal_send_to_closed_peer_epipe_without_sigpipe)
{
	close(self->a);
	self->a = -1;
	ASSERT_EQ(-1, send(self->c, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(0, cu_sigpipes);
}

TEST_F(data, send_to_closed_peer_raises_sigpipe)
{
	close(self->a);
	self->a = -1;
	ASSERT_EQ(-1, send(self->c, "x", 1, 0));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(1, cu_sigpipes);
	ASSERT_EQ(-1, write(self->c, "x", 1));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(2, cu_sigpipes);
}

/* ---- flow control ------------------------------------------------------------- */

TEST_F(data, full_buffers_nonblocking_send_eagain)
{
	size_t total = fill(_metadata, self->c);

	ASSERT_LT(0u, total);
	/* nothing was lost */
	drain(_metadata, self->a, total);
	cu_send_str(_metadata, self->c, "after");
	cu_expect_data(_metadata, self->a, "after");
}

TEST_F(data, full_buffers_blocking_send_waits_sndtimeo)
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

TEST_F(data, blocked_sender_resumes_when_peer_reads)
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

/* ---- poll / epoll ------------------------------------------------------------- */

#define POLL_ALL	(POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLERR | POLLHUP)

TEST_F(data, poll_pollin_only_when_data)
{
	ASSERT_EQ(POLLOUT, cu_poll(self->a, POLL_ALL, 0));
	cu_send_str(_metadata, self->c, "x");
	ASSERT_EQ(POLLIN | POLLOUT, cu_poll(self->a, POLL_ALL, CU_WAIT_MS));
}

TEST_F(data, poll_pollout_when_writable_not_when_full)
{
	size_t total;

	ASSERT_EQ(POLLOUT, cu_poll(self->c, POLL_ALL, 0));
	total = fill(_metadata, self->c);
	ASSERT_EQ(0, cu_poll(self->c, POLLOUT, 0));
	drain(_metadata, self->a, total);
	ASSERT_EQ(POLLOUT, cu_poll(self->c, POLLOUT, CU_WAIT_MS));
}

struct poller {
	int fd;
	short events;
	int timeout;
	short revents;
	pid_t tid;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;

	p->tid = cu_gettid();
	p->revents = cu_poll(p->fd, p->events, p->timeout);
	return NULL;
}

static void start_poller(struct __test_metadata *_metadata, struct poller *p,
			 pthread_t *t, int fd, short events)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->events = events;
	p->timeout = CU_WAIT_MS;
	ASSERT_EQ(0, pthread_create(t, NULL, poll_thread, p));
	while (!p->tid)
		cu_sleep_ms(1);
	ASSERT_TRUE(cu_wait_blocked(p->tid));
}

TEST_F(data, poll_wakes_reader_on_data)
{
	struct poller p;
	pthread_t t;

	start_poller(_metadata, &p, &t, self->a, POLLIN);
	cu_send_str(_metadata, self->c, "wake");
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS + 1000));
	ASSERT_EQ(POLLIN, p.revents);
}

TEST_F(data, poll_wakes_writer_when_peer_drains)
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

TEST_F(data, poll_rdhup_after_peer_shut_wr)
{
	short rev;

	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	rev = cu_poll(self->a, POLL_ALL, CU_WAIT_MS);
	ASSERT_EQ(POLLIN | POLLRDHUP, rev & (POLLIN | POLLRDHUP));
	ASSERT_EQ(0, rev & (POLLHUP | POLLERR));
}

TEST_F(data, poll_hup_after_peer_close)
{
	short rev;

	close(self->c);
	self->c = -1;
	rev = cu_poll(self->a, POLL_ALL, CU_WAIT_MS);
	ASSERT_EQ(POLLIN | POLLRDHUP | POLLHUP, rev & (POLLIN | POLLRDHUP | POLLHUP));
	ASSERT_EQ(0, rev & POLLERR);
}

TEST_F(data, poll_listener_pollin_when_pending)
{
	int a;

	ASSERT_EQ(0, cu_poll(self->lfd, POLLIN, 0));
	CU_KEEP(self, cu_client(_metadata, variant->type, self->port));
	ASSERT_EQ(POLLIN, cu_poll(self->lfd, POLLIN, CU_WAIT_MS));
	a = CU_KEEP(self, cu_accept(_metadata, self->lfd));
	ASSERT_LE(0, a);
	ASSERT_EQ(0, cu_poll(self->lfd, POLLIN, 0));
}

TEST_F(data, poll_wakes_listener_on_connect)
{
	struct poller p;
	pthread_t t;

	start_poller(_metadata, &p, &t, self->lfd, POLLIN);
	CU_KEEP(self, cu_client(_metadata, variant->type, self->port));
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS + 1000));
	ASSERT_EQ(POLLIN, p.revents);
}

TEST_F(data, epoll_reports_listener_data_and_rdhup)
{
	struct epoll_event ev, out[4];
	int ep = CU_KEEP(self, epoll_create1(0));
	char buf[8];

	ASSERT_LE(0, ep);
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.fd = self->a;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->a, &ev));
	ev.events = EPOLLIN;
	ev.data.fd = self->lfd;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->lfd, &ev));
	ASSERT_EQ(0, epoll_wait(ep, out, 4, 0));

	cu_send_str(_metadata, self->c, "e");
	ASSERT_EQ(1, epoll_wait(ep, out, 4, CU_WAIT_MS));
	ASSERT_EQ(self->a, out[0].data.fd);
	ASSERT_EQ((unsigned)EPOLLIN, out[0].events);
	ASSERT_EQ(1, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(0, epoll_wait(ep, out, 4, 0));

	CU_KEEP(self, cu_client(_metadata, variant->type, self->port));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, CU_WAIT_MS));
	ASSERT_EQ(self->lfd, out[0].data.fd);
	CU_KEEP(self, cu_accept(_metadata, self->lfd));

	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, CU_WAIT_MS));
	ASSERT_EQ(self->a, out[0].data.fd);
	ASSERT_EQ((unsigned)(EPOLLIN | EPOLLRDHUP), out[0].events);
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

TEST_F(data, epoll_wait_wakes_on_data)
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

/*
 * The same steps on an AF_UNIX stream pair and an AF_CUSTOM pair must give
 * the same poll bits ("as for a Unix stream socket").
 */
static void poll_step(struct __test_metadata *_metadata, const char *step,
		      int ufd, int cfd)
{
	short u = cu_poll(ufd, POLL_ALL, 0);
	short c = cu_poll(cfd, POLL_ALL, 0);

	ASSERT_EQ(u, c) {
		TH_LOG("%s: AF_UNIX revents %#x, AF_CUSTOM %#x", step, u, c);
	}
}

TEST_F(data, poll_bits_match_af_unix)
{
	int u[2], x = self->c, y = self->a;
	char buf[64];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, u));
	CU_KEEP(self, u[1]);

	poll_step(_metadata, "idle", u[1], y);
	ASSERT_EQ(10, send(u[0], "0123456789", 10, 0));
	cu_send_str(_metadata, x, "0123456789");
	cu_sleep_ms(10);
	poll_step(_metadata, "data queued", u[1], y);
	poll_step(_metadata, "sender with data in flight", u[0], x);
	ASSERT_EQ(10, recv(u[1], buf, sizeof(buf), 0));
	ASSERT_EQ(10, recv(y, buf, sizeof(buf), 0));
	poll_step(_metadata, "data read", u[1], y);
	ASSERT_EQ(0, shutdown(u[0], SHUT_WR));
	ASSERT_EQ(0, shutdown(x, SHUT_WR));
	poll_step(_metadata, "peer SHUT_WR", u[1], y);
	poll_step(_metadata, "own SHUT_WR", u[0], x);
	ASSERT_EQ(0, shutdown(u[1], SHUT_WR));
	ASSERT_EQ(0, shutdown(y, SHUT_WR));
	poll_step(_metadata, "both SHUT_WR", u[0], x);
	close(u[0]);
	close(x);
	self->c = -1;
	poll_step(_metadata, "peer closed", u[1], y);
}

TEST_F(data, poll_bits_match_af_unix_after_reset)
{
	int u[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, u));
	CU_KEEP(self, u[0]);
	/* the closing side has unread data: the peer is reset */
	ASSERT_EQ(1, send(u[0], "x", 1, 0));
	cu_send_str(_metadata, self->c, "x");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	close(u[1]);
	close(self->a);
	self->a = -1;
	poll_step(_metadata, "peer closed with unread data", u[0], self->c);
}

/* ---- ioctls ------------------------------------------------------------------- */

TEST_F(data, siocinq_counts_queued_bytes)
{
	char buf[300];
	int n = -1;

	memset(buf, 'i', sizeof(buf));
	ASSERT_EQ(0, ioctl(self->a, SIOCINQ, &n));
	ASSERT_EQ(0, n);
	ASSERT_EQ(100, send(self->c, buf, 100, MSG_DONTWAIT));
	ASSERT_EQ(200, send(self->c, buf, 200, MSG_DONTWAIT));
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	ASSERT_EQ(0, ioctl(self->a, SIOCINQ, &n));
	ASSERT_EQ(300, n);
	ASSERT_EQ(50, recv(self->a, buf, 50, 0));
	ASSERT_EQ(0, ioctl(self->a, SIOCINQ, &n));
	ASSERT_EQ(250, n);
	ASSERT_EQ(0, ioctl(self->c, SIOCINQ, &n));
	ASSERT_EQ(0, n);
}

TEST_F(data, siocoutq_counts_bytes_the_peer_has_not_read)
{
	char buf[300];
	int n = -1;

	memset(buf, 'o', sizeof(buf));
	ASSERT_EQ(0, ioctl(self->c, SIOCOUTQ, &n));
	ASSERT_EQ(0, n);
	ASSERT_EQ(300, send(self->c, buf, 300, MSG_DONTWAIT));
	ASSERT_EQ(0, ioctl(self->c, SIOCOUTQ, &n));
	ASSERT_EQ(300, n);
	ASSERT_EQ(100, cu_recv_wait(self->a, buf, 100, 0));
	ASSERT_EQ(0, ioctl(self->c, SIOCOUTQ, &n));
	ASSERT_EQ(200, n);
	ASSERT_EQ(200, recv(self->a, buf, 200, MSG_WAITALL));
	ASSERT_EQ(0, ioctl(self->c, SIOCOUTQ, &n));
	ASSERT_EQ(0, n);
}

/* ---- credentials -------------------------------------------------------------- */

static void get_peercred(struct __test_metadata *_metadata, int fd, struct ucred *uc)
{
	socklen_t len = sizeof(*uc);

	memset(uc, 0xff, sizeof(*uc));
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_PEERCRED, uc, &len));
	ASSERT_EQ(sizeof(*uc), len);
}

/* fork a child with other ids; it runs fn, reports on `rep`, waits on `go` */
struct child {
	pid_t pid;
	int rep[2];		/* child -> parent: one status byte */
	int go[2];		/* parent -> child: exit now */
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

TEST_F(data, peercred_accepted_socket_sees_the_connecting_process)
{
	struct child ch;
	struct ucred uc;
	int a, fd;

	start_child(_metadata, &ch, 2344, 2345);
	if (ch.pid == 0) {
		fd = socket(cu_family(), SOCK_STREAM, 0);
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

TEST_F(data, peercred_client_sees_the_process_that_called_listen)
{
	struct child ch;
	struct ucred uc;
	int s, c;

	/* created and bound here, but put into listening state by a child */
	s = CU_KEEP(self, cu_socket(_metadata, SOCK_STREAM));
	cu_bind(_metadata, s, PORT + 1);
	start_child(_metadata, &ch, 3456, 3457);
	if (ch.pid == 0)
		child_done(&ch, listen(s, BACKLOG) ? 'l' : 'k');
	ASSERT_EQ('k', child_status(_metadata, &ch));

	c = CU_KEEP(self, cu_client(_metadata, SOCK_STREAM, PORT + 1));
	get_peercred(_metadata, c, &uc);
	ASSERT_EQ(ch.pid, uc.pid);
	ASSERT_EQ(3456U, uc.uid);
	ASSERT_EQ(3457U, uc.gid);
	end_child(_metadata, &ch);
}

TEST_F(data, peercred_of_the_setup_pair)
{
	struct ucred uc;

	get_peercred(_metadata, self->a, &uc);
	ASSERT_EQ(getpid(), uc.pid);
	ASSERT_EQ(getuid(), uc.uid);
	ASSERT_EQ(getgid(), uc.gid);
	get_peercred(_metadata, self->c, &uc);
	ASSERT_EQ(getpid(), uc.pid);
	ASSERT_EQ(getuid(), uc.uid);
	ASSERT_EQ(getgid(), uc.gid);
}

/* ---- SO_ERROR ------------------------------------------------------------------ */

TEST_F(data, so_error_zero_on_a_healthy_connection)
{
	ASSERT_EQ(0, cu_sol_int(_metadata, self->c, SO_ERROR));
	ASSERT_EQ(0, cu_sol_int(_metadata, self->a, SO_ERROR));
}

TEST_F(data, so_error_econnreset_on_a_reset_connection)
{
	int l2, c1, c2;

	l2 = CU_KEEP(self, cu_listener(_metadata, SOCK_STREAM, PORT + 1, 2, NULL));
	c1 = CU_KEEP(self, cu_client(_metadata, SOCK_STREAM, PORT + 1));
	c2 = CU_KEEP(self, cu_client(_metadata, SOCK_STREAM, PORT + 1));
	ASSERT_EQ(0, listen(l2, 1));	/* resets c2 */
	ASSERT_EQ(POLLERR, cu_poll(c2, POLLIN, CU_WAIT_MS) & POLLERR);
	ASSERT_EQ(ECONNRESET, cu_sol_int(_metadata, c2, SO_ERROR));
	ASSERT_EQ(0, cu_sol_int(_metadata, c1, SO_ERROR));
}

/* ---- bad pointers and unknown flags -------------------------------------------- */

TEST_F(data, send_from_bad_pointer_efault)
{
	ASSERT_EQ(-1, send(self->c, bad_ptr, 10, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(EFAULT, errno);
	/* nothing half-sent: the stream continues cleanly */
	cu_send_str(_metadata, self->c, "ok");
	cu_expect_data(_metadata, self->a, "ok");
	ASSERT_EQ(0, cu_poll(self->a, POLLIN, 0));
}

TEST_F(data, recv_into_bad_pointer_efault)
{
	cu_send_str(_metadata, self->c, "data");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	ASSERT_EQ(-1, recv(self->a, bad_ptr, 10, MSG_DONTWAIT));
	ASSERT_EQ(EFAULT, errno);
	cu_expect_healthy(_metadata, self->a);
}

TEST_F(data, sendmsg_bad_iovec_pointer_efault)
{
	struct iovec iov[2] = {
		{ .iov_base = "good", .iov_len = 4 },
		{ .iov_base = NULL, .iov_len = 4 },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	iov[1].iov_base = bad_ptr;
	n = sendmsg(self->c, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);

	/* EFAULT, or the bytes before the fault (a short write, as AF_UNIX may) */
	if (n < 0) {
		ASSERT_EQ(EFAULT, errno);
	} else {
		ASSERT_GE(4, n);
	}
	cu_expect_healthy(_metadata, self->c);
}

TEST_F(data, unknown_msg_flags_accepted)
{
	char buf[8];

	ASSERT_EQ(1, send(self->c, "u", 1, UNKNOWN_MSG_FLAG | MSG_NOSIGNAL));
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	ASSERT_EQ(1, recv(self->a, buf, sizeof(buf), UNKNOWN_MSG_FLAG));
	ASSERT_EQ('u', buf[0]);
}

/* ---- a large transfer ------------------------------------------------------- */

#define BIG	(8u << 20)

static inline unsigned char pattern(size_t off)
{
	return (unsigned char)(off ^ (off >> 8) ^ (off >> 16) ^ 0x5a);
}

struct writer {
	int fd;
	size_t sent;
	int err;
};

static void *big_writer(void *arg)
{
	static unsigned char buf[65536 + 4096];
	struct writer *w = arg;
	unsigned int seed = 1;
	size_t off = 0, len, i;
	ssize_t n;

	while (off < BIG) {
		seed = seed * 1103515245u + 12345u;
		len = 1 + (seed >> 8) % 65536;
		if (len > BIG - off)
			len = BIG - off;
		for (i = 0; i < len; i++)
			buf[i] = pattern(off + i);
		n = send(w->fd, buf, len, MSG_NOSIGNAL);
		if (n <= 0) {
			w->err = n < 0 ? errno : EIO;
			break;
		}
		off += n;
	}
	w->sent = off;
	return NULL;
}

TEST_F_TIMEOUT(data, large_transfer_arrives_intact, 90)
{
	static unsigned char buf[65536 + 4096];
	struct writer w = { .fd = self->c };
	unsigned int seed = 7;
	size_t got = 0, i, bad = (size_t)-1;
	pthread_t t;
	ssize_t n;

	alarm(80);
	cu_set_timeo(_metadata, self->c, SO_SNDTIMEO, 20000);
	cu_set_timeo(_metadata, self->a, SO_RCVTIMEO, 20000);
	ASSERT_EQ(0, pthread_create(&t, NULL, big_writer, &w));
	while (got < BIG) {
		seed = seed * 1103515245u + 12345u;
		n = recv(self->a, buf, 1 + (seed >> 8) % sizeof(buf), 0);
		if (n <= 0)
			break;
		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] != pattern(got + i) && bad == (size_t)-1)
				bad = got + i;
		}
		got += n;
	}
	ASSERT_TRUE(cu_join(t, 20000));
	ASSERT_EQ(0, w.err) {
		TH_LOG("writer: %s", strerror(w.err));
	}
	ASSERT_EQ(BIG, w.sent);
	ASSERT_EQ(BIG, got);
	ASSERT_EQ((size_t)-1, bad) {
		TH_LOG("first corrupt byte at offset %zu", bad);
	}
	ASSERT_EQ(-1, recv(self->a, buf, 1, MSG_DONTWAIT));
	ASSERT_EQ(EAGAIN, errno);
}

/* ---- options common to STREAM and SEQPACKET ------------------------------------ */

FIXTURE(opts)
{
	int lfd;
	__u32 port;
	int c, a;
	int fds[CU_MAX_FDS];
	int nfds;
};

FIXTURE_VARIANT(opts)
{
	int type;
};

FIXTURE_VARIANT_ADD(opts, stream)
{
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(opts, seqpacket)
{
	.type = SOCK_SEQPACKET,
};

FIXTURE_SETUP(opts)
{
	self->nfds = 0;
	cu_setup();
	self->lfd = cu_listener(_metadata, variant->type, PORT, BACKLOG, &self->port);
	self->c = cu_client(_metadata, variant->type, self->port);
	self->a = cu_accept(_metadata, self->lfd);
}

FIXTURE_TEARDOWN(opts)
{
	close(self->lfd);
	close(self->c);
	close(self->a);
	cu_close_all(self->fds, &self->nfds);
}

TEST_F(opts, so_acceptconn_only_on_the_listener)
{
	int fresh = CU_KEEP(self, cu_socket(_metadata, variant->type));

	ASSERT_EQ(1, cu_sol_int(_metadata, self->lfd, SO_ACCEPTCONN));
	ASSERT_EQ(0, cu_sol_int(_metadata, self->c, SO_ACCEPTCONN));
	ASSERT_EQ(0, cu_sol_int(_metadata, self->a, SO_ACCEPTCONN));
	ASSERT_EQ(0, cu_sol_int(_metadata, fresh, SO_ACCEPTCONN));
}

TEST_F(opts, so_type_domain_protocol_of_accepted_socket)
{
	ASSERT_EQ(variant->type, cu_sol_int(_metadata, self->a, SO_TYPE));
	ASSERT_EQ(cu_family(), cu_sol_int(_metadata, self->a, SO_DOMAIN));
	ASSERT_EQ(0, cu_sol_int(_metadata, self->a, SO_PROTOCOL));
}

TEST_F(opts, backlog_and_pending_values)
{
	ASSERT_EQ(BACKLOG, cu_backlog(self->lfd));
	ASSERT_EQ(0, cu_pending(self->lfd));
	CU_KEEP(self, cu_client(_metadata, variant->type, self->port));
	ASSERT_EQ(1, cu_pending(self->lfd));
	ASSERT_EQ(0, cu_backlog(self->c));
	ASSERT_EQ(0, cu_pending(self->c));
	ASSERT_EQ(0, cu_backlog(self->a));
}

TEST_F(opts, int_options_short_optlen_einval)
{
	static const int opts[] = { CU_BACKLOG, CU_PENDING };
	unsigned int i;
	socklen_t len;
	int v;

	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		for (len = 0; len < sizeof(int); len++) {
			socklen_t l = len;

			ASSERT_EQ(-1, getsockopt(self->lfd, SOL_CUSTOM, opts[i], &v, &l)) {
				TH_LOG("option %d, optlen %u accepted", opts[i], len);
			}
			ASSERT_EQ(EINVAL, errno);
		}
	}
}

TEST_F(opts, stats_short_optlen_copies_that_many_bytes)
{
	struct cu_listen_stats full;
	unsigned char buf[sizeof(full) + 8];
	static const socklen_t lens[] = { 0, 1, 8, 12, 39 };
	unsigned int i, j;
	socklen_t len;

	cu_stats(_metadata, self->lfd, &full);
	ASSERT_EQ(1ULL, full.queued);
	ASSERT_EQ(1ULL, full.accepted);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		memset(buf, 0xa5, sizeof(buf));
		len = lens[i];
		ASSERT_EQ(0, getsockopt(self->lfd, SOL_CUSTOM, CU_STATS, buf, &len)) {
			TH_LOG("optlen %u: %s", lens[i], strerror(errno));
		}
		ASSERT_EQ(lens[i], len);
		ASSERT_EQ(0, memcmp(buf, &full, len));
		for (j = len; j < sizeof(buf); j++) {
			ASSERT_EQ(0xa5, buf[j]) {
				TH_LOG("optlen %u: byte %u overwritten", lens[i], j);
			}
		}
	}
}

TEST_F(opts, stats_long_optlen_clamped_to_struct)
{
	struct cu_listen_stats full;
	unsigned char buf[sizeof(full) + 24];
	socklen_t len = sizeof(buf);

	cu_stats(_metadata, self->lfd, &full);
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, getsockopt(self->lfd, SOL_CUSTOM, CU_STATS, buf, &len));
	ASSERT_EQ(sizeof(full), len);
	ASSERT_EQ(0, memcmp(buf, &full, sizeof(full)));
	ASSERT_EQ(0xa5, buf[sizeof(full)]);
}

TEST_F(opts, stats_on_any_connection_socket)
{
	struct cu_listen_stats st, zero;

	memset(&zero, 0, sizeof(zero));
	cu_stats(_metadata, self->c, &st);
	ASSERT_EQ(0, memcmp(&zero, &st, sizeof(st)));
	cu_stats(_metadata, self->a, &st);
	ASSERT_EQ(0, memcmp(&zero, &st, sizeof(st)));
}

TEST_F(opts, stats_on_dgram_enoprotoopt)
{
	int d = CU_KEEP(self, cu_socket(_metadata, SOCK_DGRAM));
	struct cu_listen_stats st;
	socklen_t len = sizeof(st);

	ASSERT_EQ(-1, getsockopt(d, SOL_CUSTOM, CU_STATS, &st, &len));
	ASSERT_EQ(ENOPROTOOPT, errno);
}

TEST_F(opts, unknown_sol_custom_option_enoprotoopt)
{
	static const int opts[] = { 0, 4, 5, 100, 0x7fffffff, -1 };
	unsigned char buf[64];
	unsigned int i;
	socklen_t len;

	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		len = sizeof(buf);
		ASSERT_EQ(-1, getsockopt(self->lfd, SOL_CUSTOM, opts[i], buf, &len)) {
			TH_LOG("option %d", opts[i]);
		}
		ASSERT_EQ(ENOPROTOOPT, errno);
		len = sizeof(buf);
		ASSERT_EQ(-1, getsockopt(self->a, SOL_CUSTOM, opts[i], buf, &len));
		ASSERT_EQ(ENOPROTOOPT, errno);
	}
}

TEST_F(opts, sol_custom_options_are_read_only)
{
	int v = 1;

	ASSERT_EQ(-1, setsockopt(self->lfd, SOL_CUSTOM, CU_BACKLOG, &v, sizeof(v)));
	ASSERT_EQ(BACKLOG, cu_backlog(self->lfd));
}

TEST_F(opts, getsockopt_bad_pointers_efault)
{
	socklen_t len = sizeof(int);
	int v;

	ASSERT_EQ(-1, getsockopt(self->lfd, SOL_CUSTOM, CU_BACKLOG, bad_ptr, &len));
	ASSERT_EQ(EFAULT, errno);
	len = sizeof(int);
	ASSERT_EQ(-1, getsockopt(self->lfd, SOL_CUSTOM, CU_PENDING, bad_ptr, &len));
	ASSERT_EQ(EFAULT, errno);
	len = sizeof(struct cu_listen_stats);
	ASSERT_EQ(-1, getsockopt(self->lfd, SOL_CUSTOM, CU_STATS, bad_ptr, &len));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, getsockopt(self->lfd, SOL_CUSTOM, CU_BACKLOG, &v, bad_ptr));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, getsockopt(self->lfd, SOL_CUSTOM, CU_STATS, &v, bad_ptr));
	ASSERT_EQ(EFAULT, errno);
}

TEST_HARNESS_MAIN
