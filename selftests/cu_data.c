// SPDX-License-Identifier: GPL-2.0
/*
 * docs/semantics.md §8, data on a connected pair and the options of its
 * sockets: one fixture, `data`, with a variant per socket type (stream,
 * seqpacket, and a connected dgram pair). Each rule is one test; a test
 * whose rule does not apply to a type SKIPs on it, and where the steps of
 * a rule differ between a byte stream and records, the test says both.
 *
 * The rules: a byte stream (STREAM), whole records (SEQPACKET, DGRAM), the
 * flags MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL, MSG_NOSIGNAL, buffers that
 * bound the memory in flight, timeouts, poll/epoll (compared with AF_UNIX),
 * SIOCINQ/SIOCOUTQ, SO_PEERCRED, SO_ERROR, SO_TYPE and the rest, EFAULT,
 * unknown flags, control messages (EINVAL, nothing sent), a large
 * transfer, and the SOL_CUSTOM getsockopt rules.
 * Elsewhere: MSG_NOSIGNAL on a closed SEQPACKET connection in cu_close.c,
 * on DGRAM in cu_dgram.c; record truncation, EMSGSIZE and SIOCINQ of
 * records in cu_seqpacket.c and cu_dgram.c.
 */
#include "cu_util.h"
#include "cu_thread.h"
#include "cu_msg.h"
#include <sys/epoll.h>
#include <linux/sockios.h>

#define PORT		4400U
#define BACKLOG		4
#define CU_POLL_ALL		(POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLERR | POLLHUP)
#define CU_UNKNOWN_MSG_FLAG	0x400000	/* no MSG_* up to 6.12 */

/*
 * Fill fd's path to its peer: SO_SNDBUF 4096, chunks until EAGAIN, then
 * single bytes (1-byte messages) until not even one fits. Returns the bytes
 * queued.
 */
static size_t cu_fill(struct __test_metadata *_metadata, int fd, bool whole)
{
	size_t total;
	int val = 4096, i;
	ssize_t n;

	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &val, sizeof(val)));
	total = cu_send_until_eagain(_metadata, fd, whole, 32u << 20);
	for (i = 0; i < 65536; i++) {
		n = send(fd, "f", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			break;
		total += n;
	}
	ASSERT_EQ(-1, n);
	ASSERT_EQ(EAGAIN, errno);
	return total;
}

/* the same step on AF_UNIX (ufd) and AF_CUSTOM (cfd): the same bits of mask */
static void cu_poll_step(struct __test_metadata *_metadata, const char *step,
			 int ufd, int cfd, short mask)
{
	short u = cu_poll(ufd, mask, 0);
	short c = cu_poll(cfd, mask, 0);

	ASSERT_EQ(u, c) {
		TH_LOG("%s: AF_UNIX revents %#x, AF_CUSTOM %#x", step, u, c);
	}
}

/* `chunks` blocking sends of `chunk` bytes (at most 4096): 'A', 'B', ... */
struct cu_sender {
	int fd;
	int chunks;
	size_t chunk;
	int gap_ms;		/* pause between two sends */
	pid_t wait_tid;		/* if set: wait until this thread sleeps */
	ssize_t ret;		/* bytes sent, or -1 ... */
	int err;		/* ... and errno */
};

static void *cu_send_thread(void *arg)
{
	struct cu_sender *s = arg;
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

/* an epoll_wait() for one event, for at most CU_WAIT_MS */
struct cu_epoller {
	int ep;
	int n;
	pid_t tid;
};

static void *cu_epoll_thread(void *arg)
{
	struct cu_epoller *e = arg;
	struct epoll_event out;

	e->tid = cu_gettid();
	e->n = epoll_wait(e->ep, &out, 1, CU_WAIT_MS);
	return NULL;
}

/* a child with other ids; it reports one byte on `rep` and waits on `go` */
struct cu_child {
	pid_t pid;
	int rep[2];		/* child -> parent: one status byte */
	int go[2];		/* parent -> child: exit now */
};

/* in the child: report status, wait for the parent, exit */
static void cu_child_done(struct cu_child *ch, char status)
{
	char b;

	if (write(ch->rep[1], &status, 1) != 1)
		_exit(3);
	if (read(ch->go[0], &b, 1) < 0)
		_exit(4);
	_exit(0);
}

/* fork; the child (ch->pid 0) returns with uid and gid, or reports 'u' */
static void cu_start_child(struct __test_metadata *_metadata, struct cu_child *ch,
			   uid_t uid, gid_t gid)
{
	ASSERT_EQ(0, pipe(ch->rep));
	ASSERT_EQ(0, pipe(ch->go));
	ch->pid = fork();
	ASSERT_LE(0, ch->pid);
	if (ch->pid == 0) {
		alarm(CU_CHILD_SECS);
		if (setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			cu_child_done(ch, 'u');
	}
}

static char cu_child_status(struct __test_metadata *_metadata, struct cu_child *ch)
{
	char st = 0;

	ASSERT_EQ(1, read(ch->rep[0], &st, 1));
	return st;
}

static void cu_end_child(struct __test_metadata *_metadata, struct cu_child *ch)
{
	ASSERT_EQ(1, write(ch->go[1], "x", 1));
	cu_expect_exit0(_metadata, ch->pid);
}

/* SO_PEERCRED of fd must be pid, uid, gid */
static void cu_expect_peercred(struct __test_metadata *_metadata, int fd,
			       pid_t pid, uid_t uid, gid_t gid)
{
	socklen_t len = sizeof(struct ucred);
	struct ucred uc;

	memset(&uc, 0xff, sizeof(uc));
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len));
	ASSERT_EQ(sizeof(uc), len);
	ASSERT_EQ(pid, uc.pid);
	ASSERT_EQ(uid, uc.uid);
	ASSERT_EQ(gid, uc.gid);
}

FIXTURE(data)
{
	int lfd;		/* -1 for DGRAM */
	__u32 port;
	int c, a;		/* client and accepted (DGRAM: two connected ends) */
};

FIXTURE_VARIANT(data)
{
	int type;
	short poll_mask;	/* the bits poll_bits_match_af_unix compares */
};

FIXTURE_VARIANT_ADD(data, stream)
{
	.type = SOCK_STREAM,
	.poll_mask = CU_POLL_ALL,
};

FIXTURE_VARIANT_ADD(data, seqpacket)
{
	.type = SOCK_SEQPACKET,
	.poll_mask = CU_POLL_ALL,
};

FIXTURE_VARIANT_ADD(data, dgram)
{
	.type = SOCK_DGRAM,
	.poll_mask = POLLIN | POLLOUT,
};

FIXTURE_SETUP(data)
{
	cu_setup();
	self->port = cu_pair(_metadata, variant->type, PORT, BACKLOG,
			     &self->lfd, &self->c, &self->a);
}

FIXTURE_TEARDOWN(data)
{
	cu_close_pair(&self->lfd, &self->c, &self->a);
}

#define RECORDS		(variant->type != SOCK_STREAM)

/* the rule is one of connections (a listener, accept, peers) */
#define NEED_CONNECTION() do {						\
	if (variant->type == SOCK_DGRAM)				\
		SKIP(return, "a rule of connections");			\
} while (0)

/* the rule is one of byte streams; why: where the other types are checked */
#define NEED_STREAM(why) do {						\
	if (variant->type != SOCK_STREAM)				\
		SKIP(return, "a rule of byte streams%s", why);		\
} while (0)

#define NEED_RECORDS() do {						\
	if (variant->type == SOCK_STREAM)				\
		SKIP(return, "a rule of records");			\
} while (0)

/* fd receives `expect`: one whole record, or bytes of the stream */
static void expect_sent(struct __test_metadata *_metadata, int type, int fd,
			const char *expect)
{
	if (type == SOCK_STREAM)
		cu_expect_data(_metadata, fd, expect);
	else
		cu_expect_msg(_metadata, fd, expect, CU_NO_ADDR);
}

/* ---- byte stream, records and flags ------------------------------------------ */

TEST_F(data, byte_stream_merges_sends)
{
	char buf[64];

	NEED_STREAM("");
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

	NEED_STREAM("");
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

/* records: one message per send, each read whole */
TEST_F(data, both_directions)
{
	cu_send_str(_metadata, self->c, "ping");
	if (RECORDS)
		cu_send_str(_metadata, self->c, "ping2");
	cu_send_str(_metadata, self->a, "pong");
	expect_sent(_metadata, variant->type, self->a, "ping");
	if (RECORDS)
		cu_expect_msg(_metadata, self->a, "ping2", CU_NO_ADDR);
	expect_sent(_metadata, variant->type, self->c, "pong");
	if (RECORDS) {
		cu_expect_empty(_metadata, self->a);
		cu_expect_empty(_metadata, self->c);
	}
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

/* a stream peeks part of its bytes; records peek the first one whole */
TEST_F(data, peek_does_not_consume)
{
	char buf[64];

	cu_send_str(_metadata, self->c, "hello");
	if (RECORDS)
		cu_send_str(_metadata, self->c, "world");
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, cu_recv_wait(self->a, buf, sizeof(buf), MSG_PEEK));
	ASSERT_STREQ("hello", buf);
	memset(buf, 0, sizeof(buf));
	if (RECORDS) {
		ASSERT_EQ(5, recv(self->a, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT));
		ASSERT_STREQ("hello", buf);
		cu_expect_msg(_metadata, self->a, "hello", CU_NO_ADDR);
		cu_expect_msg(_metadata, self->a, "world", CU_NO_ADDR);
	} else {
		ASSERT_EQ(2, recv(self->a, buf, 2, MSG_PEEK | MSG_DONTWAIT));
		ASSERT_STREQ("he", buf);
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ(5, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
		ASSERT_STREQ("hello", buf);
	}
	cu_expect_empty(_metadata, self->a);
}

TEST_F(data, waitall_gathers_several_sends)
{
	struct cu_sender s = { .fd = self->c, .chunks = 4, .chunk = 1000, .gap_ms = 50 };
	char buf[4000];
	pthread_t t;
	ssize_t n;
	int i;

	NEED_STREAM(": records see waitall_returns_one_whole_message");
	cu_set_timeo(_metadata, self->a, SO_RCVTIMEO, CU_WAIT_MS);
	ASSERT_EQ(0, pthread_create(&t, NULL, cu_send_thread, &s));
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

/* MSG_WAITALL cannot merge messages: it returns the next one, at once */
TEST_F(data, waitall_returns_one_whole_message)
{
	char buf[100];
	long long t0;

	NEED_RECORDS();
	cu_set_timeo(_metadata, self->a, SO_RCVTIMEO, CU_WAIT_MS);
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

TEST_F(data, blocking_recv_wakes_on_data)
{
	struct cu_sender s = { .fd = self->c, .chunks = 1, .chunk = 100,
			       .wait_tid = cu_gettid() };
	char buf[200];
	pthread_t t;
	ssize_t n;

	cu_set_timeo(_metadata, self->a, SO_RCVTIMEO, CU_WAIT_MS);
	ASSERT_EQ(0, pthread_create(&t, NULL, cu_send_thread, &s));
	n = recv(self->a, buf, sizeof(buf), 0);
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS));
	ASSERT_EQ(100, n) {
		TH_LOG("recv: %s", n < 0 ? strerror(errno) : "EOF");
	}
}

TEST_F(data, rcvtimeo_elapses_eagain)
{
	char buf[8];
	long long t0;

	cu_set_timeo(_metadata, self->a, SO_RCVTIMEO, 300);
	t0 = cu_now_ms();
	ASSERT_EQ(-1, recv(self->a, buf, sizeof(buf), 0));
	ASSERT_EQ(EAGAIN, errno);
	cu_expect_timed_out(_metadata, t0);
}

#define CLOSED_ELSEWHERE	": SEQPACKET in cu_close.c, DGRAM in cu_dgram.c"

TEST_F(data, nosignal_send_to_closed_peer_epipe_without_sigpipe)
{
	NEED_STREAM(CLOSED_ELSEWHERE);
	cu_close_fd(&self->a);
	ASSERT_EQ(-1, send(self->c, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(0, cu_sigpipes);
}

TEST_F(data, send_to_closed_peer_raises_sigpipe)
{
	NEED_STREAM(CLOSED_ELSEWHERE);
	cu_close_fd(&self->a);
	ASSERT_EQ(-1, send(self->c, "x", 1, 0));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(1, cu_sigpipes);
	ASSERT_EQ(-1, write(self->c, "x", 1));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(2, cu_sigpipes);
}

TEST_F(data, unknown_msg_flags_accepted)
{
	char buf[8];

	ASSERT_EQ(1, send(self->c, "u", 1, CU_UNKNOWN_MSG_FLAG | MSG_NOSIGNAL));
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	ASSERT_EQ(1, recv(self->a, buf, sizeof(buf), CU_UNKNOWN_MSG_FLAG));
	ASSERT_EQ('u', buf[0]);
}

/* ---- buffers ------------------------------------------------------------------ */

TEST_F(data, full_peer_nonblocking_send_eagain_nothing_lost)
{
	size_t total = cu_fill(_metadata, self->c, RECORDS);

	ASSERT_LT(0u, total);
	cu_drain(_metadata, self->a, total);
	if (RECORDS)
		cu_expect_empty(_metadata, self->a);
	cu_send_str(_metadata, self->c, "after");
	expect_sent(_metadata, variant->type, self->a, "after");
}

TEST_F(data, full_peer_blocking_send_waits_sndtimeo)
{
	long long t0;

	cu_fill(_metadata, self->c, RECORDS);
	cu_set_timeo(_metadata, self->c, SO_SNDTIMEO, 300);
	t0 = cu_now_ms();
	ASSERT_EQ(-1, send(self->c, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EAGAIN, errno);
	cu_expect_timed_out(_metadata, t0);
}

TEST_F(data, blocked_sender_resumes_when_peer_reads)
{
	struct cu_sender s = { .fd = self->c, .chunks = 16, .chunk = 4096 };
	size_t total = cu_fill(_metadata, self->c, RECORDS);
	pthread_t t;

	cu_set_timeo(_metadata, self->c, SO_SNDTIMEO, 10000);
	ASSERT_EQ(0, pthread_create(&t, NULL, cu_send_thread, &s));
	cu_sleep_ms(100);
	cu_drain(_metadata, self->a, total + 16 * 4096);
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS));
	ASSERT_EQ(16 * 4096, s.ret) {
		TH_LOG("blocked send: %s", strerror(s.err));
	}
}

/* ---- poll / epoll ------------------------------------------------------------- */

TEST_F(data, poll_pollin_only_when_data)
{
	ASSERT_EQ(POLLOUT, cu_poll(self->a, CU_POLL_ALL, 0));
	cu_send_str(_metadata, self->c, "x");
	ASSERT_EQ(POLLIN | POLLOUT, cu_poll(self->a, CU_POLL_ALL, CU_WAIT_MS));
}

TEST_F(data, poll_pollout_when_writable_not_when_full)
{
	size_t total;

	ASSERT_EQ(POLLOUT, cu_poll(self->c, CU_POLL_ALL, 0));
	total = cu_fill(_metadata, self->c, RECORDS);
	ASSERT_EQ(0, cu_poll(self->c, POLLOUT, 0));
	cu_drain(_metadata, self->a, total);
	ASSERT_EQ(POLLOUT, cu_poll(self->c, POLLOUT, CU_WAIT_MS));
}

TEST_F(data, poll_wakes_reader_on_data)
{
	struct cu_poller p;
	pthread_t t;

	cu_start_poller(_metadata, &p, &t, self->a, POLLIN);
	cu_send_str(_metadata, self->c, "wake");
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS + 1000));
	ASSERT_EQ(POLLIN, p.revents);
}

TEST_F(data, poll_wakes_writer_when_peer_drains)
{
	struct cu_poller p;
	size_t total;
	pthread_t t;

	total = cu_fill(_metadata, self->c, RECORDS);
	cu_start_poller(_metadata, &p, &t, self->c, POLLOUT);
	cu_drain(_metadata, self->a, total);
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS + 1000));
	ASSERT_EQ(POLLOUT, p.revents);
}

#define SHUTDOWN_ELSEWHERE	": SEQPACKET in poll_bits_match_af_unix_through_shutdown_and_close"

TEST_F(data, poll_rdhup_after_peer_shut_wr)
{
	short rev;

	NEED_STREAM(SHUTDOWN_ELSEWHERE);
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	rev = cu_poll(self->a, CU_POLL_ALL, CU_WAIT_MS);
	ASSERT_EQ(POLLIN | POLLRDHUP, rev & (POLLIN | POLLRDHUP));
	ASSERT_EQ(0, rev & (POLLHUP | POLLERR));
}

TEST_F(data, poll_hup_after_peer_close)
{
	short rev;

	NEED_STREAM(SHUTDOWN_ELSEWHERE);
	cu_close_fd(&self->c);
	rev = cu_poll(self->a, CU_POLL_ALL, CU_WAIT_MS);
	ASSERT_EQ(POLLIN | POLLRDHUP | POLLHUP, rev & (POLLIN | POLLRDHUP | POLLHUP));
	ASSERT_EQ(0, rev & POLLERR);
}

TEST_F(data, poll_listener_pollin_when_pending)
{
	NEED_CONNECTION();
	ASSERT_EQ(0, cu_poll(self->lfd, POLLIN, 0));
	cu_client(_metadata, variant->type, self->port);
	ASSERT_EQ(POLLIN, cu_poll(self->lfd, POLLIN, CU_WAIT_MS));
	ASSERT_LE(0, cu_accept(_metadata, self->lfd));
	ASSERT_EQ(0, cu_poll(self->lfd, POLLIN, 0));
}

TEST_F(data, poll_wakes_listener_on_connect)
{
	struct cu_poller p;
	pthread_t t;

	NEED_CONNECTION();
	ASSERT_EQ(0, cu_poll(self->lfd, POLLIN, 0));
	cu_start_poller(_metadata, &p, &t, self->lfd, POLLIN);
	cu_client(_metadata, variant->type, self->port);
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS + 1000));
	ASSERT_EQ(POLLIN, p.revents);
	cu_accept(_metadata, self->lfd);
	ASSERT_EQ(0, cu_poll(self->lfd, POLLIN, 0));
}

TEST_F(data, epoll_reports_listener_data_and_rdhup)
{
	struct epoll_event ev, out[4];
	int ep = epoll_create1(0);
	char buf[8];

	NEED_STREAM(SHUTDOWN_ELSEWHERE);
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
	ASSERT_EQ((unsigned int)EPOLLIN, out[0].events);
	ASSERT_EQ(1, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(0, epoll_wait(ep, out, 4, 0));

	cu_client(_metadata, variant->type, self->port);
	ASSERT_EQ(1, epoll_wait(ep, out, 4, CU_WAIT_MS));
	ASSERT_EQ(self->lfd, out[0].data.fd);
	cu_accept(_metadata, self->lfd);

	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, CU_WAIT_MS));
	ASSERT_EQ(self->a, out[0].data.fd);
	ASSERT_EQ((unsigned int)(EPOLLIN | EPOLLRDHUP), out[0].events);
}

TEST_F(data, epoll_wait_wakes_on_data)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct cu_epoller e = { .ep = epoll_create1(0) };
	pthread_t t;

	ASSERT_LE(0, e.ep);
	ASSERT_EQ(0, epoll_ctl(e.ep, EPOLL_CTL_ADD, self->a, &ev));
	cu_start_sleeper(_metadata, &t, cu_epoll_thread, &e, &e.tid);
	cu_send_str(_metadata, self->c, "wake");
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS + 1000));
	ASSERT_EQ(1, e.n);
}

/*
 * The same steps on an AF_UNIX pair and an AF_CUSTOM pair of the type must
 * give the same poll bits ("as for a Unix socket"): variant->poll_mask
 * (SEQPACKET all, DGRAM POLLIN and POLLOUT). A stream goes through
 * shutdown and close; records through a full and a drained queue.
 */
/*
 * The end of both ways through shutdown and close, the peer having shut
 * down writing: own SHUT_WR, both, then *c and u[0] closed.
 */
static void close_steps(struct __test_metadata *_metadata, int u[2], int *c, int y)
{
	int x = *c;

	cu_poll_step(_metadata, "own SHUT_WR", u[0], x, CU_POLL_ALL);
	ASSERT_EQ(0, shutdown(u[1], SHUT_WR));
	ASSERT_EQ(0, shutdown(y, SHUT_WR));
	cu_poll_step(_metadata, "both SHUT_WR", u[0], x, CU_POLL_ALL);
	close(u[0]);
	cu_close_fd(c);
	cu_poll_step(_metadata, "peer closed", u[1], y, CU_POLL_ALL);
}

static void stream_poll_steps(struct __test_metadata *_metadata, int *c, int y)
{
	int u[2], x = *c;
	char buf[64];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, u));
	cu_poll_step(_metadata, "idle", u[1], y, CU_POLL_ALL);
	ASSERT_EQ(10, send(u[0], "0123456789", 10, 0));
	cu_send_str(_metadata, x, "0123456789");
	cu_sleep_ms(10);
	cu_poll_step(_metadata, "data queued", u[1], y, CU_POLL_ALL);
	cu_poll_step(_metadata, "sender with data in flight", u[0], x, CU_POLL_ALL);
	ASSERT_EQ(10, recv(u[1], buf, sizeof(buf), 0));
	ASSERT_EQ(10, recv(y, buf, sizeof(buf), 0));
	cu_poll_step(_metadata, "data read", u[1], y, CU_POLL_ALL);
	ASSERT_EQ(0, shutdown(u[0], SHUT_WR));
	ASSERT_EQ(0, shutdown(x, SHUT_WR));
	cu_poll_step(_metadata, "peer SHUT_WR", u[1], y, CU_POLL_ALL);
	close_steps(_metadata, u, c, y);
}

static void record_poll_steps(struct __test_metadata *_metadata, int type, short mask,
			      int x, int y)
{
	size_t ut, ct;
	char buf[64];
	int u[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, type, 0, u));
	cu_poll_step(_metadata, "idle receiver", u[1], y, mask);
	cu_poll_step(_metadata, "idle sender", u[0], x, mask);
	ASSERT_EQ(10, send(u[0], "0123456789", 10, 0));
	cu_send_str(_metadata, x, "0123456789");
	cu_poll_step(_metadata, "data queued", u[1], y, mask);
	cu_poll_step(_metadata, "sender with data in flight", u[0], x, mask);
	ASSERT_EQ(10, recv(u[1], buf, sizeof(buf), 0));
	ASSERT_EQ(10, recv(y, buf, sizeof(buf), MSG_DONTWAIT));
	cu_poll_step(_metadata, "data read", u[1], y, mask);
	cu_poll_step(_metadata, "sender, data read", u[0], x, mask);
	ut = cu_fill(_metadata, u[0], true);
	ct = cu_fill(_metadata, x, true);
	cu_poll_step(_metadata, "sender, peer full", u[0], x, mask);
	cu_poll_step(_metadata, "receiver with a full queue", u[1], y, mask);
	cu_drain(_metadata, u[1], ut);
	cu_drain(_metadata, y, ct);
	cu_poll_step(_metadata, "sender, peer drained", u[0], x, mask);
	cu_poll_step(_metadata, "receiver drained", u[1], y, mask);
}

TEST_F(data, poll_bits_match_af_unix)
{
	if (RECORDS)
		record_poll_steps(_metadata, variant->type, variant->poll_mask,
				  self->c, self->a);
	else
		stream_poll_steps(_metadata, &self->c, self->a);
}

TEST_F(data, poll_bits_match_af_unix_through_shutdown_and_close)
{
	int u[2], x = self->c, y = self->a;
	char buf[64];

	NEED_CONNECTION();
	if (variant->type == SOCK_STREAM)
		SKIP(return, "SOCK_STREAM: in poll_bits_match_af_unix");
	ASSERT_EQ(0, socketpair(AF_UNIX, variant->type, 0, u));
	ASSERT_EQ(4, send(u[0], "data", 4, 0));
	cu_send_str(_metadata, x, "data");
	ASSERT_EQ(0, shutdown(u[0], SHUT_WR));
	ASSERT_EQ(0, shutdown(x, SHUT_WR));
	cu_poll_step(_metadata, "peer SHUT_WR, data unread", u[1], y, CU_POLL_ALL);
	ASSERT_EQ(4, recv(u[1], buf, sizeof(buf), 0));
	ASSERT_EQ(4, recv(y, buf, sizeof(buf), MSG_DONTWAIT));
	cu_poll_step(_metadata, "peer SHUT_WR, data read", u[1], y, CU_POLL_ALL);
	close_steps(_metadata, u, &self->c, y);
}

/* the same steps on an AF_UNIX pair: a closed with unread data resets c */
TEST_F(data, poll_bits_match_af_unix_after_reset)
{
	int u[2];

	NEED_CONNECTION();
	ASSERT_EQ(0, socketpair(AF_UNIX, variant->type, 0, u));
	/* the closing side has unread data: the peer is reset */
	ASSERT_EQ(1, send(u[0], "x", 1, 0));
	cu_send_str(_metadata, self->c, "x");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	close(u[1]);
	cu_close_fd(&self->a);
	cu_poll_step(_metadata, "peer closed with unread data", u[0], self->c, CU_POLL_ALL);
}

/* ---- ioctls ------------------------------------------------------------------- */

TEST_F(data, siocinq_counts_queued_bytes)
{
	char buf[300];

	NEED_STREAM(": records in cu_seqpacket.c and cu_dgram.c");
	memset(buf, 'i', sizeof(buf));
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->a, SIOCINQ));
	ASSERT_EQ(100, send(self->c, buf, 100, MSG_DONTWAIT));
	ASSERT_EQ(200, send(self->c, buf, 200, MSG_DONTWAIT));
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	ASSERT_EQ(300, cu_ioctl_int(_metadata, self->a, SIOCINQ));
	ASSERT_EQ(50, recv(self->a, buf, 50, 0));
	ASSERT_EQ(250, cu_ioctl_int(_metadata, self->a, SIOCINQ));
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->c, SIOCINQ));
}

/* a stream is read in parts; records one whole message at a time */
TEST_F(data, siocoutq_counts_bytes_the_peer_has_not_read)
{
	char buf[300];

	memset(buf, 'o', sizeof(buf));
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->c, SIOCOUTQ));
	if (RECORDS) {
		ASSERT_EQ(100, send(self->c, buf, 100, MSG_DONTWAIT));
		ASSERT_EQ(200, send(self->c, buf, 200, MSG_DONTWAIT));
	} else {
		ASSERT_EQ(300, send(self->c, buf, 300, MSG_DONTWAIT));
	}
	ASSERT_EQ(300, cu_ioctl_int(_metadata, self->c, SIOCOUTQ));
	if (RECORDS) {
		ASSERT_EQ(0, cu_ioctl_int(_metadata, self->a, SIOCOUTQ));
		ASSERT_EQ(100, cu_recv_wait(self->a, buf, sizeof(buf), 0));
		ASSERT_EQ(200, cu_ioctl_int(_metadata, self->c, SIOCOUTQ));
		ASSERT_EQ(200, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	} else {
		ASSERT_EQ(100, cu_recv_wait(self->a, buf, 100, 0));
		ASSERT_EQ(200, cu_ioctl_int(_metadata, self->c, SIOCOUTQ));
		ASSERT_EQ(200, recv(self->a, buf, 200, MSG_WAITALL));
	}
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->c, SIOCOUTQ));
}

/* ---- credentials -------------------------------------------------------------- */

TEST_F(data, peercred_accepted_socket_sees_the_connecting_process)
{
	struct cu_child ch;
	int a, fd;

	NEED_CONNECTION();
	cu_start_child(_metadata, &ch, 2344, 2345);
	if (ch.pid == 0) {
		fd = socket(cu_family(), variant->type, 0);
		cu_child_done(&ch, cu_try_connect(fd, self->port) ? 'c' : 'k');
	}
	ASSERT_EQ('k', cu_child_status(_metadata, &ch));
	a = cu_accept(_metadata, self->lfd);
	cu_expect_peercred(_metadata, a, ch.pid, 2344, 2345);
	cu_end_child(_metadata, &ch);
}

/* a socket created and bound here, put into listening state by a child */
TEST_F(data, peercred_client_sees_the_process_that_called_listen)
{
	struct cu_child ch;
	int s, c;

	NEED_CONNECTION();
	s = cu_socket(_metadata, variant->type);
	cu_bind(_metadata, s, PORT + 1);
	cu_start_child(_metadata, &ch, 3456, 3457);
	if (ch.pid == 0)
		cu_child_done(&ch, listen(s, BACKLOG) ? 'l' : 'k');
	ASSERT_EQ('k', cu_child_status(_metadata, &ch));

	c = cu_client(_metadata, variant->type, PORT + 1);
	cu_expect_peercred(_metadata, c, ch.pid, 3456, 3457);
	cu_end_child(_metadata, &ch);
}

TEST_F(data, peercred_of_the_setup_pair)
{
	NEED_CONNECTION();
	cu_expect_peercred(_metadata, self->a, getpid(), getuid(), getgid());
	cu_expect_peercred(_metadata, self->c, getpid(), getuid(), getgid());
}

/* ---- SO_ERROR and the other socket options ------------------------------------ */

TEST_F(data, so_error_zero_on_a_healthy_pair)
{
	if (RECORDS) {
		cu_send_str(_metadata, self->c, "x");
		cu_expect_msg(_metadata, self->a, "x", CU_NO_ADDR);
	}
	ASSERT_EQ(0, cu_sol_int(_metadata, self->c, SO_ERROR));
	ASSERT_EQ(0, cu_sol_int(_metadata, self->a, SO_ERROR));
}

/* a listener on PORT + 1 shrunk to 1 resets its second client */
TEST_F(data, so_error_econnreset_on_a_reset_connection)
{
	int l2, c1, c2;

	NEED_CONNECTION();
	l2 = cu_listener(_metadata, variant->type, PORT + 1, 2, NULL);
	c1 = cu_client(_metadata, variant->type, PORT + 1);
	c2 = cu_client(_metadata, variant->type, PORT + 1);
	ASSERT_EQ(0, listen(l2, 1));	/* resets c2 */
	ASSERT_EQ(POLLERR, cu_poll(c2, POLLIN, CU_WAIT_MS) & POLLERR);
	ASSERT_EQ(ECONNRESET, cu_sol_int(_metadata, c2, SO_ERROR));
	if (variant->type == SOCK_SEQPACKET) {
		/* SO_ERROR reads and clears it, as usual */
		ASSERT_EQ(0, cu_sol_int(_metadata, c2, SO_ERROR));
	}
	ASSERT_EQ(0, cu_sol_int(_metadata, c1, SO_ERROR));
}

TEST_F(data, so_type_domain_protocol_acceptconn_of_both_ends)
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

/* ---- bad pointers ------------------------------------------------------------- */

/* nothing half-sent: the stream continues cleanly, no record is queued */
TEST_F(data, send_from_bad_pointer_efault_nothing_queued)
{
	ASSERT_EQ(-1, send(self->c, cu_bad_ptr, 10, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(EFAULT, errno);
	if (RECORDS) {
		ASSERT_EQ(0, cu_poll(self->a, POLLIN, 0));
	}
	cu_send_str(_metadata, self->c, "ok");
	expect_sent(_metadata, variant->type, self->a, "ok");
	if (RECORDS) {
		cu_expect_empty(_metadata, self->a);
	} else {
		ASSERT_EQ(0, cu_poll(self->a, POLLIN, 0));
	}
}

TEST_F(data, recv_into_bad_pointer_efault)
{
	cu_send_str(_metadata, self->c, "data");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	ASSERT_EQ(-1, recv(self->a, cu_bad_ptr, 10, MSG_DONTWAIT));
	ASSERT_EQ(EFAULT, errno);
	cu_expect_healthy(_metadata, self->a);
	if (RECORDS) {
		cu_send_str(_metadata, self->a, "still");
		cu_expect_msg(_metadata, self->c, "still", CU_NO_ADDR);
	}
}

/*
 * A fault in the second iovec: a stream may send the bytes before it (a
 * short write, as AF_UNIX may) or fail with EFAULT; records are whole or
 * absent, so they fail and nothing is delivered.
 */
TEST_F(data, sendmsg_bad_iovec_sends_no_partial_message)
{
	struct iovec iov[2] = {
		{ .iov_base = "good", .iov_len = 4 },
		{ .iov_base = NULL, .iov_len = 4 },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	iov[1].iov_base = cu_bad_ptr;
	n = sendmsg(self->c, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (RECORDS) {
		ASSERT_EQ(-1, n) {
			TH_LOG("sendmsg with a bad iovec sent %zd bytes", n);
		}
		ASSERT_EQ(EFAULT, errno);
		ASSERT_EQ(0, cu_poll(self->a, POLLIN, 0)) {
			TH_LOG("part of a faulting message was delivered");
		}
	} else if (n < 0) {
		ASSERT_EQ(EFAULT, errno);
	} else {
		ASSERT_GE(4, n);
	}
	cu_expect_healthy(_metadata, self->c);
}

TEST_F(data, getsockopt_and_ioctl_bad_pointers_efault)
{
	socklen_t len = sizeof(int);
	int v;

	ASSERT_EQ(-1, getsockopt(self->c, SOL_SOCKET, SO_TYPE, cu_bad_ptr, &len));
	ASSERT_EQ(EFAULT, errno);
	len = sizeof(int);
	ASSERT_EQ(-1, getsockopt(self->c, SOL_CUSTOM, CU_PENDING, cu_bad_ptr, &len));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, getsockopt(self->a, SOL_CUSTOM, CU_BACKLOG, &v, cu_bad_ptr));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->a, SIOCINQ, cu_bad_ptr));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->c, SIOCOUTQ, cu_bad_ptr));
	ASSERT_EQ(EFAULT, errno);
}

/* ---- control messages ------------------------------------------------------- */

/* the control messages of control_message_einval() */
enum cmsg_kind {
	CMSG_KIND_RIGHTS,	/* SCM_RIGHTS: an fd */
	CMSG_KIND_CREDENTIALS,	/* SCM_CREDENTIALS: this process's own ids */
	CMSG_KIND_UNKNOWN,	/* SOL_SOCKET, a type no kernel defines */
};

#define UNKNOWN_CMSG_TYPE	0x7ead

/* fill msg's control buffer cbuf (64 bytes) with one message of kind */
static void one_cmsg(struct msghdr *msg, char *cbuf, int kind, int fd)
{
	struct ucred uc = { .pid = getpid(), .uid = getuid(), .gid = getgid() };
	size_t len = kind == CMSG_KIND_CREDENTIALS ? sizeof(uc) : sizeof(int);
	struct cmsghdr *cm;

	memset(cbuf, 0, 64);
	msg->msg_control = cbuf;
	msg->msg_controllen = CMSG_SPACE(len);
	cm = CMSG_FIRSTHDR(msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_len = CMSG_LEN(len);
	if (kind == CMSG_KIND_CREDENTIALS) {
		cm->cmsg_type = SCM_CREDENTIALS;
		memcpy(CMSG_DATA(cm), &uc, sizeof(uc));
	} else {
		cm->cmsg_type = kind == CMSG_KIND_RIGHTS ? SCM_RIGHTS : UNKNOWN_CMSG_TYPE;
		memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	}
}

/*
 * docs/semantics.md §8: sendmsg() of "x" with one control message of `kind` fails
 * with EINVAL and sends nothing (a reads nothing); a plain send then
 * arrives alone.
 */
static void control_message_einval(struct __test_metadata *_metadata, int c, int a,
				   int kind)
{
	char cbuf[64] __attribute__((aligned(8)));
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	one_cmsg(&msg, cbuf, kind, c);
	n = sendmsg(c, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	ASSERT_EQ(-1, n) {
		TH_LOG("sendmsg with a control message (kind %d) sent %zd byte(s)",
		       kind, n);
	}
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, cu_poll(a, POLLIN, 100));
	cu_expect_empty(_metadata, a);
	cu_send_str(_metadata, c, "y");
	cu_expect_recv(_metadata, a, 8, 0, 1, "y", false, CU_NO_ADDR);
	cu_expect_empty(_metadata, a);
}

TEST_F(data, sendmsg_scm_rights_einval_sends_nothing)
{
	control_message_einval(_metadata, self->c, self->a, CMSG_KIND_RIGHTS);
}

TEST_F(data, sendmsg_scm_credentials_einval_sends_nothing)
{
	control_message_einval(_metadata, self->c, self->a, CMSG_KIND_CREDENTIALS);
}

TEST_F(data, sendmsg_unknown_cmsg_einval_sends_nothing)
{
	control_message_einval(_metadata, self->c, self->a, CMSG_KIND_UNKNOWN);
}

/* ---- a large transfer --------------------------------------------------------- */

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

	NEED_STREAM(": records are bounded by the buffer");
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

/* ---- SOL_CUSTOM options ------------------------------------------------------ */

TEST_F(data, so_acceptconn_only_on_the_listener)
{
	int fresh = cu_socket(_metadata, variant->type);

	NEED_CONNECTION();
	ASSERT_EQ(1, cu_sol_int(_metadata, self->lfd, SO_ACCEPTCONN));
	ASSERT_EQ(0, cu_sol_int(_metadata, self->c, SO_ACCEPTCONN));
	ASSERT_EQ(0, cu_sol_int(_metadata, self->a, SO_ACCEPTCONN));
	ASSERT_EQ(0, cu_sol_int(_metadata, fresh, SO_ACCEPTCONN));
}

TEST_F(data, so_type_domain_protocol_of_accepted_socket)
{
	NEED_CONNECTION();
	ASSERT_EQ(variant->type, cu_sol_int(_metadata, self->a, SO_TYPE));
	ASSERT_EQ(cu_family(), cu_sol_int(_metadata, self->a, SO_DOMAIN));
	ASSERT_EQ(0, cu_sol_int(_metadata, self->a, SO_PROTOCOL));
}

TEST_F(data, backlog_and_pending_values)
{
	NEED_CONNECTION();
	ASSERT_EQ(BACKLOG, cu_backlog(self->lfd));
	ASSERT_EQ(0, cu_pending(self->lfd));
	cu_client(_metadata, variant->type, self->port);
	ASSERT_EQ(1, cu_pending(self->lfd));
	ASSERT_EQ(0, cu_backlog(self->c));
	ASSERT_EQ(0, cu_pending(self->c));
	ASSERT_EQ(0, cu_backlog(self->a));
}

TEST_F(data, int_options_short_optlen_einval)
{
	static const int opts[] = { CU_BACKLOG, CU_PENDING };
	unsigned int i;
	socklen_t len;
	int v;

	NEED_CONNECTION();
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

TEST_F(data, stats_short_optlen_copies_that_many_bytes)
{
	struct cu_listen_stats full;
	unsigned char buf[sizeof(full) + 8];
	static const socklen_t lens[] = { 0, 1, 8, 12, 39 };
	unsigned int i, j;
	socklen_t len;

	NEED_CONNECTION();
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

TEST_F(data, stats_long_optlen_clamped_to_struct)
{
	struct cu_listen_stats full;
	unsigned char buf[sizeof(full) + 24];
	socklen_t len = sizeof(buf);

	NEED_CONNECTION();
	cu_stats(_metadata, self->lfd, &full);
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, getsockopt(self->lfd, SOL_CUSTOM, CU_STATS, buf, &len));
	ASSERT_EQ(sizeof(full), len);
	ASSERT_EQ(0, memcmp(buf, &full, sizeof(full)));
	ASSERT_EQ(0xa5, buf[sizeof(full)]);
}

TEST_F(data, stats_on_any_connection_socket)
{
	struct cu_listen_stats st, zero;

	NEED_CONNECTION();
	memset(&zero, 0, sizeof(zero));
	cu_stats(_metadata, self->c, &st);
	ASSERT_EQ(0, memcmp(&zero, &st, sizeof(st)));
	cu_stats(_metadata, self->a, &st);
	ASSERT_EQ(0, memcmp(&zero, &st, sizeof(st)));
}

TEST_F(data, stats_on_dgram_enoprotoopt)
{
	int d = cu_socket(_metadata, SOCK_DGRAM);
	struct cu_listen_stats st;
	socklen_t len = sizeof(st);

	ASSERT_EQ(-1, getsockopt(d, SOL_CUSTOM, CU_STATS, &st, &len));
	ASSERT_EQ(ENOPROTOOPT, errno);
}

TEST_F(data, unknown_sol_custom_option_enoprotoopt)
{
	static const int opts[] = { 0, 4, 5, 100, 0x7fffffff, -1 };
	unsigned char buf[64];
	unsigned int i;
	socklen_t len;

	NEED_CONNECTION();
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

TEST_F(data, sol_custom_options_are_read_only)
{
	int v = 1;

	NEED_CONNECTION();
	ASSERT_EQ(-1, setsockopt(self->lfd, SOL_CUSTOM, CU_BACKLOG, &v, sizeof(v)));
	ASSERT_EQ(BACKLOG, cu_backlog(self->lfd));
}

TEST_F(data, getsockopt_bad_pointers_efault)
{
	socklen_t len = sizeof(int);
	int v;

	NEED_CONNECTION();
	ASSERT_EQ(-1, getsockopt(self->lfd, SOL_CUSTOM, CU_BACKLOG, cu_bad_ptr, &len));
	ASSERT_EQ(EFAULT, errno);
	len = sizeof(int);
	ASSERT_EQ(-1, getsockopt(self->lfd, SOL_CUSTOM, CU_PENDING, cu_bad_ptr, &len));
	ASSERT_EQ(EFAULT, errno);
	len = sizeof(struct cu_listen_stats);
	ASSERT_EQ(-1, getsockopt(self->lfd, SOL_CUSTOM, CU_STATS, cu_bad_ptr, &len));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, getsockopt(self->lfd, SOL_CUSTOM, CU_BACKLOG, &v, cu_bad_ptr));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, getsockopt(self->lfd, SOL_CUSTOM, CU_STATS, &v, cu_bad_ptr));
	ASSERT_EQ(EFAULT, errno);
}

TEST_HARNESS_MAIN
