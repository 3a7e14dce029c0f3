// SPDX-License-Identifier: GPL-2.0
/*
 * docs/semantics.md §8 for the record types: the rules cu_data.c checks on
 * SOCK_STREAM (fixture `data`), run on SOCK_SEQPACKET and on a connected
 * SOCK_DGRAM pair, so each rule runs for every type it applies to. Where
 * the steps are the same as for SOCK_STREAM, both files call one body,
 * cu_check_*() in cu_util.h.
 *
 * Fixture `types` (seqpacket, dgram): MSG_PEEK, MSG_DONTWAIT, O_NONBLOCK,
 * MSG_WAITALL (returns one record), blocking reads and their wakeup,
 * SO_RCVTIMEO/SO_SNDTIMEO, buffers bounding what is in flight, poll/epoll
 * (and the poll bits compared with the same steps on an AF_UNIX socketpair
 * of the same type: all bits for SEQPACKET, POLLIN/POLLOUT for DGRAM),
 * SIOCOUTQ, SO_ERROR, SO_TYPE/SO_DOMAIN/SO_PROTOCOL/SO_ACCEPTCONN, EFAULT
 * for bad pointers (never a partial record), unknown msg_flags, and
 * control messages (SCM_RIGHTS, SCM_CREDENTIALS, any other: EINVAL, nothing
 * sent).
 *
 * Fixture `connected` (seqpacket; stream is in cu_data.c): the rules of
 * connections only: SO_PEERCRED, SO_ERROR after a reset, the poll bits
 * through shutdown, close and reset (compared with AF_UNIX), and the
 * listener's POLLIN. MSG_NOSIGNAL on a closed connection is in cu_close.c
 * (both connected types), on DGRAM in cu_dgram.c; record truncation,
 * EMSGSIZE and SIOCINQ in cu_seqpacket.c and cu_dgram.c.
 */
#include "cu_util.h"
#include <linux/sockios.h>

#define PORT		4900U
#define BACKLOG		4

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
	.poll_mask = CU_POLL_ALL,
};

FIXTURE_VARIANT_ADD(types, dgram)
{
	.type = SOCK_DGRAM,
	.poll_mask = POLLIN | POLLOUT,
};

FIXTURE_SETUP(types)
{
	self->nfds = 0;
	cu_setup();
	cu_pair(_metadata, variant->type, PORT, BACKLOG, &self->lfd, &self->c, &self->a);
}

FIXTURE_TEARDOWN(types)
{
	cu_close_pair(&self->lfd, &self->c, &self->a);
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
	cu_expect_empty(_metadata, self->a);
	cu_expect_empty(_metadata, self->c);
}

TEST_F(types, dontwait_on_empty_eagain)
{
	cu_check_dontwait_on_empty_eagain(_metadata, self->a);
}

TEST_F(types, nonblocking_socket_on_empty_eagain)
{
	cu_check_nonblocking_on_empty_eagain(_metadata, self->a);
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
	cu_expect_empty(_metadata, self->a);
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
	cu_check_blocking_recv_wakes_on_data(_metadata, self->c, self->a);
}

TEST_F(types, rcvtimeo_elapses_eagain)
{
	cu_check_rcvtimeo_elapses_eagain(_metadata, self->a);
}

TEST_F(types, unknown_msg_flags_accepted)
{
	cu_check_unknown_msg_flags_accepted(_metadata, self->c, self->a);
}

TEST_F(types, sendmsg_scm_rights_einval_sends_nothing)
{
	cu_check_control_message_einval(_metadata, self->c, self->a, CU_CMSG_RIGHTS);
}

TEST_F(types, sendmsg_scm_credentials_einval_sends_nothing)
{
	cu_check_control_message_einval(_metadata, self->c, self->a, CU_CMSG_CREDENTIALS);
}

TEST_F(types, sendmsg_unknown_cmsg_einval_sends_nothing)
{
	cu_check_control_message_einval(_metadata, self->c, self->a, CU_CMSG_UNKNOWN);
}

/* ---- buffers ----------------------------------------------------------------- */

TEST_F(types, full_peer_nonblocking_send_eagain_nothing_lost)
{
	size_t total = cu_fill(_metadata, self->c, true);

	ASSERT_LT(0u, total);
	cu_drain(_metadata, self->a, total);
	cu_expect_empty(_metadata, self->a);
	cu_send_str(_metadata, self->c, "after");
	expect_msg(_metadata, self->a, "after");
}

TEST_F(types, full_peer_blocking_send_waits_sndtimeo)
{
	cu_check_full_peer_send_waits_sndtimeo(_metadata, self->c, variant->type);
}

TEST_F(types, blocked_sender_resumes_when_peer_reads)
{
	cu_check_blocked_sender_resumes(_metadata, self->c, self->a, variant->type);
}

TEST_F(types, siocoutq_counts_bytes_the_peer_has_not_read)
{
	char buf[300];

	memset(buf, 'o', sizeof(buf));
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->c, SIOCOUTQ));
	ASSERT_EQ(100, send(self->c, buf, 100, MSG_DONTWAIT));
	ASSERT_EQ(200, send(self->c, buf, 200, MSG_DONTWAIT));
	ASSERT_EQ(300, cu_ioctl_int(_metadata, self->c, SIOCOUTQ));
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->a, SIOCOUTQ));
	ASSERT_EQ(100, cu_recv_wait(self->a, buf, sizeof(buf), 0));
	ASSERT_EQ(200, cu_ioctl_int(_metadata, self->c, SIOCOUTQ));
	ASSERT_EQ(200, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->c, SIOCOUTQ));
}

/* ---- poll / epoll --------------------------------------------------------------- */

TEST_F(types, poll_pollin_only_when_data)
{
	cu_check_poll_pollin_only_when_data(_metadata, self->c, self->a);
}

TEST_F(types, poll_pollout_when_writable_not_when_full)
{
	cu_check_poll_pollout_not_when_full(_metadata, self->c, self->a, variant->type);
}

TEST_F(types, poll_wakes_reader_on_data)
{
	cu_check_poll_wakes_reader_on_data(_metadata, self->c, self->a);
}

TEST_F(types, poll_wakes_writer_when_peer_drains)
{
	cu_check_poll_wakes_writer(_metadata, self->c, self->a, variant->type);
}

TEST_F(types, epoll_wait_wakes_on_data)
{
	cu_check_epoll_wait_wakes_on_data(_metadata, CU_FDS(self), self->c, self->a);
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
	ASSERT_EQ(-1, send(self->c, cu_bad_ptr, 10, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, cu_poll(self->a, POLLIN, 0));
	cu_send_str(_metadata, self->c, "ok");
	expect_msg(_metadata, self->a, "ok");
	cu_expect_empty(_metadata, self->a);
}

TEST_F(types, recv_into_bad_pointer_efault)
{
	cu_check_recv_into_bad_pointer_efault(_metadata, self->c, self->a);
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

	iov[1].iov_base = cu_bad_ptr;
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
	cu_setup();
	self->port = cu_pair(_metadata, variant->type, PORT, BACKLOG,
			     &self->lfd, &self->c, &self->a);
}

FIXTURE_TEARDOWN(connected)
{
	cu_close_pair(&self->lfd, &self->c, &self->a);
	cu_close_all(self->fds, &self->nfds);
}

TEST_F(connected, peercred_accepted_socket_sees_the_connecting_process)
{
	cu_check_peercred_of_connecting_process(_metadata, CU_FDS(self), variant->type,
						self->lfd, self->port);
}

TEST_F(connected, peercred_client_sees_the_process_that_called_listen)
{
	cu_check_peercred_of_listen_caller(_metadata, CU_FDS(self), variant->type,
					   PORT + 1, BACKLOG);
}

TEST_F(connected, so_error_econnreset_on_a_reset_connection)
{
	cu_check_so_error_after_reset(_metadata, CU_FDS(self), variant->type, PORT + 1,
				      true);
}

TEST_F(connected, poll_listener_pollin_when_pending)
{
	struct cu_poller p;
	pthread_t t;

	ASSERT_EQ(0, cu_poll(self->lfd, POLLIN, 0));
	cu_start_poller(_metadata, &p, &t, self->lfd, POLLIN);
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
	cu_poll_step(_metadata, "peer SHUT_WR, data unread", u[1], y, CU_POLL_ALL);
	ASSERT_EQ(4, recv(u[1], buf, sizeof(buf), 0));
	ASSERT_EQ(4, recv(y, buf, sizeof(buf), MSG_DONTWAIT));
	cu_poll_step(_metadata, "peer SHUT_WR, data read", u[1], y, CU_POLL_ALL);
	cu_poll_step(_metadata, "own SHUT_WR", u[0], x, CU_POLL_ALL);
	ASSERT_EQ(0, shutdown(u[1], SHUT_WR));
	ASSERT_EQ(0, shutdown(y, SHUT_WR));
	cu_poll_step(_metadata, "both SHUT_WR", u[0], x, CU_POLL_ALL);
	close(u[0]);
	cu_close_fd(&self->c);
	cu_poll_step(_metadata, "peer closed", u[1], y, CU_POLL_ALL);
}

TEST_F(connected, poll_bits_match_af_unix_after_reset)
{
	cu_check_poll_after_reset_as_af_unix(_metadata, CU_FDS(self), variant->type,
					     self->c, &self->a);
}

TEST_HARNESS_MAIN
