// SPDX-License-Identifier: GPL-2.0
/*
 * docs/semantics.md §8, SOCK_STREAM data and the options of connected sockets.
 *
 * Fixture `data` (SOCK_STREAM): a byte stream, the flags MSG_DONTWAIT,
 * MSG_PEEK, MSG_WAITALL, MSG_NOSIGNAL, buffers that bound the memory in
 * flight, timeouts, poll/epoll (compared with AF_UNIX), SIOCINQ/SIOCOUTQ,
 * SO_PEERCRED, SO_ERROR, EFAULT, unknown flags, control messages (EINVAL,
 * nothing sent) and a large transfer.
 *
 * Fixture `opts` (SOCK_STREAM and SOCK_SEQPACKET): SO_ACCEPTCONN and the
 * SOL_CUSTOM getsockopt rules, which apply to both.
 *
 * A rule cu_data_types.c runs on the other types too has its body in
 * cu_util.h (cu_check_*()); the test here only names it for SOCK_STREAM.
 */
#include "cu_util.h"
#include <linux/sockios.h>

#define PORT		4400U
#define BACKLOG		4

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
	cu_setup();
	self->port = cu_pair(_metadata, variant->type, PORT, BACKLOG,
			     &self->lfd, &self->c, &self->a);
}

FIXTURE_TEARDOWN(data)
{
	cu_close_pair(&self->lfd, &self->c, &self->a);
	cu_close_all(self->fds, &self->nfds);
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
	cu_check_dontwait_on_empty_eagain(_metadata, self->a);
}

TEST_F(data, nonblocking_socket_on_empty_eagain)
{
	cu_check_nonblocking_on_empty_eagain(_metadata, self->a);
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
	cu_expect_empty(_metadata, self->a);
}

TEST_F(data, waitall_gathers_several_sends)
{
	struct cu_sender s = { .fd = self->c, .chunks = 4, .chunk = 1000, .gap_ms = 50 };
	char buf[4000];
	pthread_t t;
	ssize_t n;
	int i;

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

TEST_F(data, blocking_recv_wakes_on_data)
{
	cu_check_blocking_recv_wakes_on_data(_metadata, self->c, self->a);
}

TEST_F(data, rcvtimeo_elapses_eagain)
{
	cu_check_rcvtimeo_elapses_eagain(_metadata, self->a);
}

TEST_F(data, nosignal_send_to_closed_peer_epipe_without_sigpipe)
{
	cu_close_fd(&self->a);
	ASSERT_EQ(-1, send(self->c, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(0, cu_sigpipes);
}

TEST_F(data, send_to_closed_peer_raises_sigpipe)
{
	cu_close_fd(&self->a);
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
	size_t total = cu_fill(_metadata, self->c, false);

	ASSERT_LT(0u, total);
	/* nothing was lost */
	cu_drain(_metadata, self->a, total);
	cu_send_str(_metadata, self->c, "after");
	cu_expect_data(_metadata, self->a, "after");
}

TEST_F(data, full_buffers_blocking_send_waits_sndtimeo)
{
	cu_check_full_peer_send_waits_sndtimeo(_metadata, self->c, variant->type);
}

TEST_F(data, blocked_sender_resumes_when_peer_reads)
{
	cu_check_blocked_sender_resumes(_metadata, self->c, self->a, variant->type);
}

/* ---- poll / epoll ------------------------------------------------------------- */

TEST_F(data, poll_pollin_only_when_data)
{
	cu_check_poll_pollin_only_when_data(_metadata, self->c, self->a);
}

TEST_F(data, poll_pollout_when_writable_not_when_full)
{
	cu_check_poll_pollout_not_when_full(_metadata, self->c, self->a, variant->type);
}

TEST_F(data, poll_wakes_reader_on_data)
{
	cu_check_poll_wakes_reader_on_data(_metadata, self->c, self->a);
}

TEST_F(data, poll_wakes_writer_when_peer_drains)
{
	cu_check_poll_wakes_writer(_metadata, self->c, self->a, variant->type);
}

TEST_F(data, poll_rdhup_after_peer_shut_wr)
{
	short rev;

	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	rev = cu_poll(self->a, CU_POLL_ALL, CU_WAIT_MS);
	ASSERT_EQ(POLLIN | POLLRDHUP, rev & (POLLIN | POLLRDHUP));
	ASSERT_EQ(0, rev & (POLLHUP | POLLERR));
}

TEST_F(data, poll_hup_after_peer_close)
{
	short rev;

	cu_close_fd(&self->c);
	rev = cu_poll(self->a, CU_POLL_ALL, CU_WAIT_MS);
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
	struct cu_poller p;
	pthread_t t;

	cu_start_poller(_metadata, &p, &t, self->lfd, POLLIN);
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

TEST_F(data, epoll_wait_wakes_on_data)
{
	cu_check_epoll_wait_wakes_on_data(_metadata, CU_FDS(self), self->c, self->a);
}

/*
 * The same steps on an AF_UNIX stream pair and an AF_CUSTOM pair must give
 * the same poll bits ("as for a Unix stream socket").
 */
TEST_F(data, poll_bits_match_af_unix)
{
	int u[2], x = self->c, y = self->a;
	char buf[64];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, u));
	CU_KEEP(self, u[1]);

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
	cu_poll_step(_metadata, "own SHUT_WR", u[0], x, CU_POLL_ALL);
	ASSERT_EQ(0, shutdown(u[1], SHUT_WR));
	ASSERT_EQ(0, shutdown(y, SHUT_WR));
	cu_poll_step(_metadata, "both SHUT_WR", u[0], x, CU_POLL_ALL);
	close(u[0]);
	cu_close_fd(&self->c);
	cu_poll_step(_metadata, "peer closed", u[1], y, CU_POLL_ALL);
}

TEST_F(data, poll_bits_match_af_unix_after_reset)
{
	cu_check_poll_after_reset_as_af_unix(_metadata, CU_FDS(self), variant->type,
					     self->c, &self->a);
}

/* ---- ioctls ------------------------------------------------------------------- */

TEST_F(data, siocinq_counts_queued_bytes)
{
	char buf[300];

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

TEST_F(data, siocoutq_counts_bytes_the_peer_has_not_read)
{
	char buf[300];

	memset(buf, 'o', sizeof(buf));
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->c, SIOCOUTQ));
	ASSERT_EQ(300, send(self->c, buf, 300, MSG_DONTWAIT));
	ASSERT_EQ(300, cu_ioctl_int(_metadata, self->c, SIOCOUTQ));
	ASSERT_EQ(100, cu_recv_wait(self->a, buf, 100, 0));
	ASSERT_EQ(200, cu_ioctl_int(_metadata, self->c, SIOCOUTQ));
	ASSERT_EQ(200, recv(self->a, buf, 200, MSG_WAITALL));
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->c, SIOCOUTQ));
}

/* ---- credentials -------------------------------------------------------------- */

TEST_F(data, peercred_accepted_socket_sees_the_connecting_process)
{
	cu_check_peercred_of_connecting_process(_metadata, CU_FDS(self), variant->type,
						self->lfd, self->port);
}

TEST_F(data, peercred_client_sees_the_process_that_called_listen)
{
	cu_check_peercred_of_listen_caller(_metadata, CU_FDS(self), variant->type,
					   PORT + 1, BACKLOG);
}

TEST_F(data, peercred_of_the_setup_pair)
{
	cu_expect_peercred(_metadata, self->a, getpid(), getuid(), getgid());
	cu_expect_peercred(_metadata, self->c, getpid(), getuid(), getgid());
}

/* ---- SO_ERROR ------------------------------------------------------------------ */

TEST_F(data, so_error_zero_on_a_healthy_connection)
{
	ASSERT_EQ(0, cu_sol_int(_metadata, self->c, SO_ERROR));
	ASSERT_EQ(0, cu_sol_int(_metadata, self->a, SO_ERROR));
}

TEST_F(data, so_error_econnreset_on_a_reset_connection)
{
	cu_check_so_error_after_reset(_metadata, CU_FDS(self), variant->type, PORT + 1,
				      false);
}

/* ---- bad pointers and unknown flags -------------------------------------------- */

TEST_F(data, send_from_bad_pointer_efault)
{
	ASSERT_EQ(-1, send(self->c, cu_bad_ptr, 10, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(EFAULT, errno);
	/* nothing half-sent: the stream continues cleanly */
	cu_send_str(_metadata, self->c, "ok");
	cu_expect_data(_metadata, self->a, "ok");
	ASSERT_EQ(0, cu_poll(self->a, POLLIN, 0));
}

TEST_F(data, recv_into_bad_pointer_efault)
{
	cu_check_recv_into_bad_pointer_efault(_metadata, self->c, self->a);
}

TEST_F(data, sendmsg_bad_iovec_pointer_efault)
{
	struct iovec iov[2] = {
		{ .iov_base = "good", .iov_len = 4 },
		{ .iov_base = NULL, .iov_len = 4 },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	iov[1].iov_base = cu_bad_ptr;
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
	cu_check_unknown_msg_flags_accepted(_metadata, self->c, self->a);
}

TEST_F(data, sendmsg_scm_rights_einval_sends_nothing)
{
	cu_check_control_message_einval(_metadata, self->c, self->a, CU_CMSG_RIGHTS);
}

TEST_F(data, sendmsg_scm_credentials_einval_sends_nothing)
{
	cu_check_control_message_einval(_metadata, self->c, self->a, CU_CMSG_CREDENTIALS);
}

TEST_F(data, sendmsg_unknown_cmsg_einval_sends_nothing)
{
	cu_check_control_message_einval(_metadata, self->c, self->a, CU_CMSG_UNKNOWN);
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

CU_VARIANTS_CONNECTED(opts);

FIXTURE_SETUP(opts)
{
	self->nfds = 0;
	cu_setup();
	self->port = cu_pair(_metadata, variant->type, PORT, BACKLOG,
			     &self->lfd, &self->c, &self->a);
}

FIXTURE_TEARDOWN(opts)
{
	cu_close_pair(&self->lfd, &self->c, &self->a);
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
