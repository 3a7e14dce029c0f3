// SPDX-License-Identifier: GPL-2.0
/*
 * docs/semantics.md §7: close() and shutdown().
 *
 * A listener that is closed, or shut down for reading, stops listening and
 * resets every pending connection (reset_close); close frees the port;
 * SHUT_WR leaves it listening. A connected socket's close gives the peer
 * its data then EOF and EPIPE, or ECONNRESET first if data was lost.
 * SHUT_WR/SHUT_RD half-close; ENOTCONN and EINVAL for bad shutdowns.
 */
#include "cu_util.h"

#define PORT	4300U
#define BACKLOG	4

FIXTURE(close)
{
	int lfd;
	__u32 port;
	int c, a;		/* a connected pair: client and accepted */
	int cl[CU_MAX_FDS];	/* add_pending()'s clients, in connect order */
	int ncl;
};

CU_VARIANTS_CONNECTED(close);

FIXTURE_SETUP(close)
{
	self->ncl = 0;
	self->c = -1;
	self->a = -1;
	cu_setup();
	self->lfd = cu_listener(_metadata, variant->type, PORT, BACKLOG, &self->port);
}

FIXTURE_TEARDOWN(close)
{
	cu_close_pair(&self->lfd, &self->c, &self->a);
}

static void make_pair(struct __test_metadata *_metadata, FIXTURE_DATA(close) *self,
		      int type)
{
	self->c = cu_client(_metadata, type, self->port);
	self->a = cu_accept(_metadata, self->lfd);
}

/* n pending clients, each having sent something */
static void add_pending(struct __test_metadata *_metadata, FIXTURE_DATA(close) *self,
			int type, int n)
{
	int i, c;

	for (i = 0; i < n; i++) {
		ASSERT_GT(CU_MAX_FDS, self->ncl);
		c = cu_client(_metadata, type, self->port);
		self->cl[self->ncl++] = c;
		cu_send_str(_metadata, c, "pending");
	}
}

/* ---- listeners --------------------------------------------------------------- */

TEST_F(close, close_listener_resets_pending)
{
	add_pending(_metadata, self, variant->type, 3);
	cu_close_fd(&self->lfd);
	cu_expect_reset(_metadata, self->cl[0], true);
	cu_expect_reset(_metadata, self->cl[1], true);
	cu_expect_reset(_metadata, self->cl[2], false);
}

TEST_F(close, close_listener_frees_port)
{
	int l2;

	add_pending(_metadata, self, variant->type, 2);
	cu_close_fd(&self->lfd);
	l2 = cu_socket(_metadata, variant->type);
	ASSERT_EQ(0, cu_try_bind(l2, self->port));
	ASSERT_EQ(0, listen(l2, BACKLOG));
	/* the old connections did not move to the new listener */
	ASSERT_EQ(0, cu_pending(l2));
	cu_client(_metadata, variant->type, self->port);
	ASSERT_EQ(1, cu_pending(l2));
}

TEST_F(close, close_listener_refuses_new_connects)
{
	int c = cu_socket(_metadata, variant->type);

	cu_close_fd(&self->lfd);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c, self->port));
}

static void shutdown_stops_listening(struct __test_metadata *_metadata,
				     FIXTURE_DATA(close) *self, int type, int how)
{
	struct cu_listen_stats st;
	int c, a;

	add_pending(_metadata, self, type, 2);
	a = cu_accept(_metadata, self->lfd);
	add_pending(_metadata, self, type, 1);
	ASSERT_EQ(2, cu_pending(self->lfd));

	ASSERT_EQ(0, shutdown(self->lfd, how));
	ASSERT_EQ(0, cu_backlog(self->lfd));
	ASSERT_EQ(0, cu_pending(self->lfd));
	ASSERT_EQ(0, cu_sol_int(_metadata, self->lfd, SO_ACCEPTCONN));
	/* the counters survive, and count the reset connections */
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(3ULL, st.queued);
	ASSERT_EQ(1ULL, st.accepted);
	ASSERT_EQ(2ULL, st.reset_close);
	ASSERT_EQ(0ULL, st.reset_shrink);

	c = cu_socket(_metadata, type);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c, self->port));
	ASSERT_EQ(-1, listen(self->lfd, BACKLOG));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, accept(self->lfd, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);

	/* the two pending clients are reset; the accepted one is not */
	cu_expect_reset(_metadata, self->cl[1], true);
	cu_expect_reset(_metadata, self->cl[2], false);
	cu_expect_healthy(_metadata, self->cl[0]);
	cu_send_str(_metadata, a, "still here");
	cu_expect_data(_metadata, self->cl[0], "still here");
}

TEST_F(close, shutdown_rd_listener_stops_listening)
{
	shutdown_stops_listening(_metadata, self, variant->type, SHUT_RD);
}

TEST_F(close, shutdown_rdwr_listener_stops_listening)
{
	shutdown_stops_listening(_metadata, self, variant->type, SHUT_RDWR);
}

TEST_F(close, shut_down_listener_keeps_its_port)
{
	int b = cu_socket(_metadata, variant->type);

	ASSERT_EQ(0, shutdown(self->lfd, SHUT_RD));
	ASSERT_EQ(self->port, cu_local_port(_metadata, self->lfd));
	ASSERT_EQ(EADDRINUSE, cu_try_bind(b, self->port));
}

TEST_F(close, shutdown_wr_listener_keeps_listening)
{
	struct cu_listen_stats st;
	int a;

	add_pending(_metadata, self, variant->type, 1);
	ASSERT_EQ(0, shutdown(self->lfd, SHUT_WR));
	ASSERT_EQ(BACKLOG, cu_backlog(self->lfd));
	ASSERT_EQ(1, cu_pending(self->lfd));
	ASSERT_EQ(1, cu_sol_int(_metadata, self->lfd, SO_ACCEPTCONN));
	cu_expect_healthy(_metadata, self->cl[0]);
	add_pending(_metadata, self, variant->type, 1);
	ASSERT_EQ(2, cu_pending(self->lfd));
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(0ULL, st.reset_close);

	a = cu_accept(_metadata, self->lfd);
	cu_expect_data(_metadata, a, "pending");
	cu_send_str(_metadata, a, "answer");
	cu_expect_data(_metadata, self->cl[0], "answer");
}

/* ---- connected sockets ----------------------------------------------------- */

/* *closer sends `last` then closes; reader gets it, EOF, then EPIPE on send */
static void close_gives_data_then_eof(struct __test_metadata *_metadata,
				      int *closer, int reader)
{
	char buf[32];

	cu_send_str(_metadata, *closer, "last words");
	cu_close_fd(closer);
	cu_expect_data(_metadata, reader, "last words");
	ASSERT_EQ(0, cu_recv_wait(reader, buf, sizeof(buf), 0));
	ASSERT_EQ(0, recv(reader, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(POLLHUP, cu_poll(reader, POLLIN, 0) & POLLHUP);
	ASSERT_EQ(-1, send(reader, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(0, cu_sigpipes);
	ASSERT_EQ(-1, send(reader, "x", 1, 0));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(1, cu_sigpipes);
}

TEST_F(close, client_close_gives_server_data_then_eof_then_epipe)
{
	make_pair(_metadata, self, variant->type);
	close_gives_data_then_eof(_metadata, &self->c, self->a);
}

TEST_F(close, server_close_gives_client_data_then_eof_then_epipe)
{
	make_pair(_metadata, self, variant->type);
	close_gives_data_then_eof(_metadata, &self->a, self->c);
}

/*
 * *closer had unread data: the reader gets what was delivered to it, then
 * ECONNRESET once, then EOF and EPIPE
 */
static void close_with_unread_data_recv(struct __test_metadata *_metadata,
					int *closer, int reader)
{
	char buf[32];

	cu_send_str(_metadata, reader, "never read");
	cu_send_str(_metadata, *closer, "delivered");
	/* make sure both sides' data has arrived before the close */
	ASSERT_EQ(POLLIN, cu_poll(*closer, POLLIN, CU_WAIT_MS) & POLLIN);
	ASSERT_EQ(POLLIN, cu_poll(reader, POLLIN, CU_WAIT_MS) & POLLIN);
	cu_close_fd(closer);

	cu_expect_data(_metadata, reader, "delivered");
	cu_set_timeo(_metadata, reader, SO_RCVTIMEO, 2000);
	ASSERT_EQ(-1, recv(reader, buf, sizeof(buf), 0));
	ASSERT_EQ(ECONNRESET, errno);
	ASSERT_EQ(0, recv(reader, buf, sizeof(buf), 0));
	ASSERT_EQ(-1, send(reader, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);
}

/* as above, but the reader's next call is a send */
static void close_with_unread_data_send(struct __test_metadata *_metadata,
					int *closer, int reader)
{
	char buf[32];

	cu_send_str(_metadata, reader, "never read");
	ASSERT_EQ(POLLIN, cu_poll(*closer, POLLIN, CU_WAIT_MS) & POLLIN);
	cu_close_fd(closer);

	ASSERT_EQ(POLLERR, cu_poll(reader, POLLIN, CU_WAIT_MS) & POLLERR);
	ASSERT_EQ(-1, send(reader, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(ECONNRESET, errno);
	ASSERT_EQ(0, cu_recv_wait(reader, buf, sizeof(buf), 0));
	ASSERT_EQ(-1, send(reader, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);
}

TEST_F(close, server_close_with_unread_data_client_recv_econnreset)
{
	make_pair(_metadata, self, variant->type);
	close_with_unread_data_recv(_metadata, &self->a, self->c);
}

TEST_F(close, client_close_with_unread_data_server_recv_econnreset)
{
	make_pair(_metadata, self, variant->type);
	close_with_unread_data_recv(_metadata, &self->c, self->a);
}

TEST_F(close, server_close_with_unread_data_client_send_econnreset)
{
	make_pair(_metadata, self, variant->type);
	close_with_unread_data_send(_metadata, &self->a, self->c);
}

TEST_F(close, client_close_with_unread_data_server_send_econnreset)
{
	make_pair(_metadata, self, variant->type);
	close_with_unread_data_send(_metadata, &self->c, self->a);
}

TEST_F(close, close_without_unread_data_is_no_reset)
{
	char buf[32];

	make_pair(_metadata, self, variant->type);
	cu_send_str(_metadata, self->c, "read me");
	cu_expect_data(_metadata, self->a, "read me");
	cu_close_fd(&self->a);
	ASSERT_EQ(0, cu_poll(self->c, POLLIN, CU_WAIT_MS) & POLLERR);
	ASSERT_EQ(0, cu_recv_wait(self->c, buf, sizeof(buf), 0)) {
		TH_LOG("recv: %s, want EOF", strerror(errno));
	}
}

TEST_F(close, shut_wr_peer_reads_data_then_eof)
{
	char buf[32];

	make_pair(_metadata, self, variant->type);
	cu_send_str(_metadata, self->c, "abc");
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	cu_expect_data(_metadata, self->a, "abc");
	ASSERT_EQ(0, cu_recv_wait(self->a, buf, sizeof(buf), 0));
	/* half-close: the other direction still flows */
	cu_send_str(_metadata, self->a, "def");
	cu_expect_data(_metadata, self->c, "def");
	cu_expect_healthy(_metadata, self->a);
}

TEST_F(close, send_after_own_shut_wr_epipe)
{
	make_pair(_metadata, self, variant->type);
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	ASSERT_EQ(-1, send(self->c, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);
}

TEST_F(close, shut_rd_local_reads_return_zero)
{
	char buf[32];
	long long t0;

	make_pair(_metadata, self, variant->type);
	ASSERT_EQ(0, shutdown(self->a, SHUT_RD));
	ASSERT_EQ(0, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	cu_set_timeo(_metadata, self->a, SO_RCVTIMEO, CU_WAIT_MS);
	t0 = cu_now_ms();
	ASSERT_EQ(0, recv(self->a, buf, sizeof(buf), 0));
	ASSERT_GT(CU_AT_ONCE_MS, cu_now_ms() - t0);
}

TEST_F(close, unconnected_shutdown_enotconn)
{
	static const int hows[] = { SHUT_RD, SHUT_WR, SHUT_RDWR };
	int fresh = cu_socket(_metadata, variant->type);
	int bound = cu_socket(_metadata, variant->type);
	unsigned int i;

	cu_bind(_metadata, bound, PORT + 1);
	for (i = 0; i < ARRAY_SIZE(hows); i++) {
		ASSERT_EQ(-1, shutdown(fresh, hows[i]));
		ASSERT_EQ(ENOTCONN, errno);
		ASSERT_EQ(-1, shutdown(bound, hows[i]));
		ASSERT_EQ(ENOTCONN, errno);
	}
}

TEST_F(close, bad_how_einval)
{
	static const int hows[] = { 3, 4, 100, -1 };
	unsigned int i;

	make_pair(_metadata, self, variant->type);
	for (i = 0; i < ARRAY_SIZE(hows); i++) {
		ASSERT_EQ(-1, shutdown(self->c, hows[i]));
		ASSERT_EQ(EINVAL, errno) {
			TH_LOG("how = %d", hows[i]);
		}
	}
	/* and nothing was shut down */
	cu_send_str(_metadata, self->c, "fine");
	cu_expect_data(_metadata, self->a, "fine");
	cu_send_str(_metadata, self->a, "fine too");
	cu_expect_data(_metadata, self->c, "fine too");
}

TEST_HARNESS_MAIN
