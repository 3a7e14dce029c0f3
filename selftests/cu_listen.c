// SPDX-License-Identifier: GPL-2.0
/*
 * docs/semantics.md §4: listen(backlog), the heart of af_custom.
 *
 * The checks in their order, the backlog clamp to [1, somaxconn of the
 * netns], the exact capacity of the queue, and a second listen() that
 * grows, keeps, or shrinks the queue: a shrink resets the NEWEST excess
 * connections and keeps the oldest in order with their data.
 */
#include "cu_util.h"

#define PORT	4000U

/* close the n first fds of fds[] */
static void close_all(int *fds, int *n)
{
	int i;

	for (i = 0; i < *n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	*n = 0;
}

FIXTURE(listen)
{
	int lfd;
	int cl[CU_MAX_FDS];	/* clients in connect order */
	int ncl;
	bool isolated;
};

CU_VARIANTS_CONNECTED(listen);

FIXTURE_SETUP(listen)
{
	self->ncl = 0;
	self->isolated = cu_setup();
	self->lfd = cu_socket(_metadata, variant->type);
}

FIXTURE_TEARDOWN(listen)
{
	cu_close_fd(&self->lfd);
	close_all(self->cl, &self->ncl);
}

/* connect n more clients to port; client i sends "client-i" at once */
static void add_clients(struct __test_metadata *_metadata,
			FIXTURE_DATA(listen) *self, int type, __u32 port, int n,
			int sockflags)
{
	char msg[32];
	int i, fd, err;

	for (i = 0; i < n; i++) {
		ASSERT_GT(CU_MAX_FDS, self->ncl);
		fd = cu_socket(_metadata, type | sockflags);
		self->cl[self->ncl] = fd;
		err = cu_try_connect(fd, port);
		ASSERT_EQ(0, err) {
			TH_LOG("client %d: connect: %s", self->ncl, strerror(err));
		}
		snprintf(msg, sizeof(msg), "client-%d", self->ncl);
		cu_send_str(_metadata, fd, msg);
		self->ncl++;
	}
}

/* bind the listener to PORT, listen(backlog), then connect n clients */
static void listen_with_clients(struct __test_metadata *_metadata,
				FIXTURE_DATA(listen) *self, int type, int backlog, int n)
{
	cu_bind(_metadata, self->lfd, PORT);
	ASSERT_EQ(0, listen(self->lfd, backlog));
	add_clients(_metadata, self, type, PORT, n, 0);
}

/* accept the next connection and check it is client idx, with its data */
static int expect_accept_client(struct __test_metadata *_metadata,
				FIXTURE_DATA(listen) *self, int idx)
{
	char msg[32];
	int a = cu_accept(_metadata, self->lfd);

	ASSERT_EQ(cu_local_port(_metadata, self->cl[idx]), cu_peer_port(_metadata, a)) {
		TH_LOG("accept did not return client %d", idx);
	}
	snprintf(msg, sizeof(msg), "client-%d", idx);
	cu_expect_data(_metadata, a, msg);
	return a;
}

static void expect_queue_empty(struct __test_metadata *_metadata, int lfd)
{
	int fd;

	cu_set_nonblock(_metadata, lfd, true);
	fd = accept(lfd, NULL, NULL);
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(-1, fd);
	ASSERT_EQ(EAGAIN, errno);
	cu_set_nonblock(_metadata, lfd, false);
}

/* backlog N: N connects succeed without accept, the next is refused */
static void check_capacity(struct __test_metadata *_metadata,
			   FIXTURE_DATA(listen) *self, int type, int backlog,
			   int expect, int sockflags)
{
	struct cu_listen_stats st;
	__u32 port;
	int i;

	port = cu_bind(_metadata, self->lfd, PORT);
	ASSERT_EQ(0, listen(self->lfd, backlog));
	ASSERT_EQ(expect, cu_backlog(self->lfd));
	for (i = 0; i < expect; i++) {
		add_clients(_metadata, self, type, port, 1, sockflags);
		ASSERT_EQ(i + 1, cu_pending(self->lfd));
	}
	cu_expect_refused(_metadata, type, port);
	ASSERT_EQ(expect, cu_pending(self->lfd));
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ((__u64)expect, st.queued);
	ASSERT_EQ(1ULL, st.refused_full);
	ASSERT_EQ(0ULL, st.accepted);
	for (i = 0; i < expect; i++)
		cu_expect_healthy(_metadata, self->cl[i]);
}

/* ---- 1. SOCK_DGRAM: EOPNOTSUPP (see listen_dgram below) ---------------- */

/* ---- 2. connected: EISCONN ------------------------------------------------ */

TEST_F(listen, connected_client_eisconn)
{
	int srv = cu_listener(_metadata, variant->type, PORT, 4, NULL);
	int c = cu_client(_metadata, variant->type, PORT);

	ASSERT_EQ(-1, listen(c, 4));
	ASSERT_EQ(EISCONN, errno);
	ASSERT_EQ(0, cu_backlog(c));
	ASSERT_EQ(1, cu_pending(srv));
}

TEST_F(listen, accepted_socket_eisconn)
{
	int srv = cu_listener(_metadata, variant->type, PORT, 4, NULL);
	int a;

	cu_client(_metadata, variant->type, PORT);
	a = cu_accept(_metadata, srv);
	ASSERT_EQ(-1, listen(a, 4));
	ASSERT_EQ(EISCONN, errno);
}

/* ---- 3. not bound, or shut down: EINVAL ---------------------------------- */

TEST_F(listen, unbound_einval)
{
	ASSERT_EQ(-1, listen(self->lfd, 4));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, cu_backlog(self->lfd));
	ASSERT_EQ(0, cu_sol_int(_metadata, self->lfd, SO_ACCEPTCONN));
}

TEST_F(listen, after_shutdown_rd_einval)
{
	cu_bind(_metadata, self->lfd, PORT);
	ASSERT_EQ(0, listen(self->lfd, 4));
	ASSERT_EQ(0, shutdown(self->lfd, SHUT_RD));
	ASSERT_EQ(-1, listen(self->lfd, 4));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, cu_backlog(self->lfd));
}

TEST_F(listen, after_shutdown_rdwr_einval)
{
	cu_bind(_metadata, self->lfd, PORT);
	ASSERT_EQ(0, listen(self->lfd, 4));
	ASSERT_EQ(0, shutdown(self->lfd, SHUT_RDWR));
	ASSERT_EQ(-1, listen(self->lfd, 4));
	ASSERT_EQ(EINVAL, errno);
}

/* ---- 4. another listener on the port: EADDRINUSE ------------------------- */

static int reuse_bound(struct __test_metadata *_metadata, int fd, __u32 port)
{
	int one = 1;

	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	ASSERT_EQ(0, cu_try_bind(fd, port));
	return fd;
}

TEST_F(listen, reuseaddr_twin_of_a_listener_eaddrinuse)
{
	int twin = cu_socket(_metadata, variant->type);

	reuse_bound(_metadata, self->lfd, PORT);
	reuse_bound(_metadata, twin, PORT);
	ASSERT_EQ(0, listen(self->lfd, 4));
	ASSERT_EQ(-1, listen(twin, 4));
	ASSERT_EQ(EADDRINUSE, errno);
	ASSERT_EQ(0, cu_backlog(twin));
	/* connections still go to the first listener */
	add_clients(_metadata, self, variant->type, PORT, 1, 0);
	ASSERT_EQ(1, cu_pending(self->lfd));
}

TEST_F(listen, reuseaddr_twin_listens_once_listener_closed)
{
	int twin = cu_socket(_metadata, variant->type);

	reuse_bound(_metadata, self->lfd, PORT);
	reuse_bound(_metadata, twin, PORT);
	ASSERT_EQ(0, listen(self->lfd, 4));
	cu_close_fd(&self->lfd);
	ASSERT_EQ(0, listen(twin, 4));
	add_clients(_metadata, self, variant->type, PORT, 1, 0);
	ASSERT_EQ(1, cu_pending(twin));
}

TEST_F(listen, reuseaddr_twin_listens_once_listener_shut_down)
{
	int twin = cu_socket(_metadata, variant->type);

	reuse_bound(_metadata, self->lfd, PORT);
	reuse_bound(_metadata, twin, PORT);
	ASSERT_EQ(0, listen(self->lfd, 4));
	ASSERT_EQ(0, shutdown(self->lfd, SHUT_RD));
	ASSERT_EQ(0, listen(twin, 4));
	add_clients(_metadata, self, variant->type, PORT, 1, 0);
	ASSERT_EQ(1, cu_pending(twin));
}

/* ---- effective backlog ----------------------------------------------------- */

TEST_F(listen, not_listening_backlog_and_pending_zero)
{
	ASSERT_EQ(0, cu_backlog(self->lfd));
	ASSERT_EQ(0, cu_pending(self->lfd));
	cu_bind(_metadata, self->lfd, PORT);
	ASSERT_EQ(0, cu_backlog(self->lfd));
	ASSERT_EQ(0, cu_pending(self->lfd));
}

TEST_F(listen, backlog_zero_becomes_one)
{
	check_capacity(_metadata, self, variant->type, 0, 1, 0);
}

TEST_F(listen, backlog_negative_becomes_somaxconn)
{
	int max = cu_somaxconn();

	ASSERT_LT(0, max);
	cu_bind(_metadata, self->lfd, PORT);
	ASSERT_EQ(0, listen(self->lfd, -1));
	ASSERT_EQ(max, cu_backlog(self->lfd));
}

TEST_F(listen, backlog_above_somaxconn_becomes_somaxconn)
{
	int max = cu_somaxconn();
	int b = cu_socket(_metadata, variant->type);
	int c = cu_socket(_metadata, variant->type);

	ASSERT_LT(0, max);
	cu_bind(_metadata, self->lfd, PORT);
	cu_bind(_metadata, b, PORT + 1);
	cu_bind(_metadata, c, PORT + 2);
	ASSERT_EQ(0, listen(self->lfd, 0x7fffffff));	/* Winsock's SOMAXCONN */
	ASSERT_EQ(max, cu_backlog(self->lfd));
	ASSERT_EQ(0, listen(b, max + 1));
	ASSERT_EQ(max, cu_backlog(b));
	ASSERT_EQ(0, listen(c, SOMAXCONN));
	ASSERT_EQ(SOMAXCONN < max ? SOMAXCONN : max, cu_backlog(c));
}

TEST_F(listen, backlog_clamped_to_lowered_somaxconn)
{
	CU_REQUIRE_NETNS(self->isolated);
	ASSERT_EQ(0, cu_set_somaxconn(3));
	ASSERT_EQ(3, cu_somaxconn());
	check_capacity(_metadata, self, variant->type, 10, 3, 0);
}

TEST_F(listen, somaxconn_zero_gives_backlog_one)
{
	CU_REQUIRE_NETNS(self->isolated);
	ASSERT_EQ(0, cu_set_somaxconn(0));
	ASSERT_EQ(0, cu_somaxconn());
	check_capacity(_metadata, self, variant->type, 5, 1, 0);
}

/* ---- exact capacity -------------------------------------------------------- */

TEST_F(listen, backlog_1_holds_exactly_1)
{
	check_capacity(_metadata, self, variant->type, 1, 1, 0);
}

TEST_F(listen, backlog_2_holds_exactly_2)
{
	check_capacity(_metadata, self, variant->type, 2, 2, 0);
}

TEST_F(listen, backlog_5_holds_exactly_5)
{
	check_capacity(_metadata, self, variant->type, 5, 5, 0);
}

TEST_F(listen, backlog_3_holds_exactly_3_nonblocking_clients)
{
	/* connect() of a non-blocking client is 0 too, never EINPROGRESS */
	check_capacity(_metadata, self, variant->type, 3, 3, SOCK_NONBLOCK);
}

/* ---- listen() again: grow, equal, shrink ----------------------------------- */

TEST_F(listen, grow_admits_more_and_touches_nothing)
{
	struct cu_listen_stats st;

	listen_with_clients(_metadata, self, variant->type, 2, 2);
	cu_expect_refused(_metadata, variant->type, PORT);

	ASSERT_EQ(0, listen(self->lfd, 4));
	ASSERT_EQ(4, cu_backlog(self->lfd));
	ASSERT_EQ(2, cu_pending(self->lfd));
	cu_expect_healthy(_metadata, self->cl[0]);
	cu_expect_healthy(_metadata, self->cl[1]);
	add_clients(_metadata, self, variant->type, PORT, 2, 0);
	cu_expect_refused(_metadata, variant->type, PORT);

	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(4ULL, st.queued);
	ASSERT_EQ(2ULL, st.refused_full);
	ASSERT_EQ(0ULL, st.reset_shrink);
	expect_accept_client(_metadata, self, 0);
	expect_accept_client(_metadata, self, 1);
	expect_accept_client(_metadata, self, 2);
	expect_accept_client(_metadata, self, 3);
}

TEST_F(listen, equal_backlog_changes_nothing)
{
	struct cu_listen_stats st;
	int i;

	listen_with_clients(_metadata, self, variant->type, 3, 3);
	ASSERT_EQ(0, listen(self->lfd, 3));
	ASSERT_EQ(3, cu_backlog(self->lfd));
	ASSERT_EQ(3, cu_pending(self->lfd));
	cu_expect_refused(_metadata, variant->type, PORT);
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(0ULL, st.reset_shrink);
	for (i = 0; i < 3; i++)
		cu_expect_healthy(_metadata, self->cl[i]);
	for (i = 0; i < 3; i++)
		expect_accept_client(_metadata, self, i);
}

TEST_F(listen, shrink_above_pending_resets_nothing)
{
	struct cu_listen_stats st;

	listen_with_clients(_metadata, self, variant->type, 5, 2);
	ASSERT_EQ(0, listen(self->lfd, 3));
	ASSERT_EQ(3, cu_backlog(self->lfd));
	ASSERT_EQ(2, cu_pending(self->lfd));
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(0ULL, st.reset_shrink);
	cu_expect_healthy(_metadata, self->cl[0]);
	cu_expect_healthy(_metadata, self->cl[1]);
	/* the new, smaller capacity is exact */
	add_clients(_metadata, self, variant->type, PORT, 1, 0);
	cu_expect_refused(_metadata, variant->type, PORT);
}

TEST_F(listen, shrink_resets_newest)
{
	struct cu_listen_stats st;
	int a, i;

	listen_with_clients(_metadata, self, variant->type, 5, 5);
	ASSERT_EQ(5, cu_pending(self->lfd));

	ASSERT_EQ(0, listen(self->lfd, 2));
	ASSERT_EQ(2, cu_backlog(self->lfd));
	ASSERT_EQ(2, cu_pending(self->lfd));
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(5ULL, st.queued);
	ASSERT_EQ(3ULL, st.reset_shrink);
	ASSERT_EQ(0ULL, st.reset_close);
	ASSERT_EQ(0ULL, st.accepted);

	/* the three newest are reset, the two oldest are intact */
	for (i = 2; i < 5; i++) {
		short rev = cu_poll(self->cl[i], POLLIN, CU_WAIT_MS);

		ASSERT_EQ(POLLERR | POLLHUP, rev & (POLLERR | POLLHUP)) {
			TH_LOG("client %d (newest) revents %#x, want a reset", i, rev);
		}
	}
	cu_expect_healthy(_metadata, self->cl[0]);
	cu_expect_healthy(_metadata, self->cl[1]);

	/* the oldest are accepted in order, with the data they sent before */
	a = expect_accept_client(_metadata, self, 0);
	cu_send_str(_metadata, a, "pong-0");
	cu_expect_data(_metadata, self->cl[0], "pong-0");
	a = expect_accept_client(_metadata, self, 1);
	cu_send_str(_metadata, self->cl[1], "more-1");
	cu_expect_data(_metadata, a, "more-1");
	expect_queue_empty(_metadata, self->lfd);
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(2ULL, st.accepted);
}

TEST_F(listen, shrink_to_one_keeps_only_the_oldest)
{
	struct cu_listen_stats st;

	listen_with_clients(_metadata, self, variant->type, 3, 3);
	ASSERT_EQ(0, listen(self->lfd, 1));
	ASSERT_EQ(1, cu_pending(self->lfd));
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(2ULL, st.reset_shrink);
	cu_expect_healthy(_metadata, self->cl[0]);
	expect_accept_client(_metadata, self, 0);
	expect_queue_empty(_metadata, self->lfd);
}

TEST_F(listen, shrink_leaves_the_queue_full)
{
	struct cu_listen_stats st;

	listen_with_clients(_metadata, self, variant->type, 4, 4);
	ASSERT_EQ(0, listen(self->lfd, 2));
	cu_expect_refused(_metadata, variant->type, PORT);
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(1ULL, st.refused_full);
	ASSERT_EQ(2ULL, st.reset_shrink);
}

TEST_F(listen, shrink_then_grow_admits_again)
{
	listen_with_clients(_metadata, self, variant->type, 3, 3);
	ASSERT_EQ(0, listen(self->lfd, 1));
	ASSERT_EQ(0, listen(self->lfd, 3));
	ASSERT_EQ(3, cu_backlog(self->lfd));
	ASSERT_EQ(1, cu_pending(self->lfd));
	add_clients(_metadata, self, variant->type, PORT, 2, 0);
	cu_expect_refused(_metadata, variant->type, PORT);
	expect_accept_client(_metadata, self, 0);
	expect_accept_client(_metadata, self, 3);
	expect_accept_client(_metadata, self, 4);
}

TEST_F(listen, shrink_reset_client_recv_first_sequence)
{
	listen_with_clients(_metadata, self, variant->type, 2, 2);
	ASSERT_EQ(0, listen(self->lfd, 1));
	/* POLLERR|POLLHUP, recv ECONNRESET, recv 0, send EPIPE (+SIGPIPE) */
	cu_expect_reset(_metadata, self->cl[1], true);
	cu_expect_healthy(_metadata, self->cl[0]);
}

TEST_F(listen, shrink_reset_client_send_first_sequence)
{
	listen_with_clients(_metadata, self, variant->type, 2, 2);
	ASSERT_EQ(0, listen(self->lfd, 1));
	/* POLLERR|POLLHUP, send ECONNRESET, recv 0, send EPIPE (+SIGPIPE) */
	cu_expect_reset(_metadata, self->cl[1], false);
}

/* ---- counters -------------------------------------------------------------- */

TEST_F(listen, stats_zero_before_first_listen)
{
	struct cu_listen_stats st, zero;

	memset(&zero, 0, sizeof(zero));
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(0, memcmp(&zero, &st, sizeof(st)));
	cu_bind(_metadata, self->lfd, PORT);
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(0, memcmp(&zero, &st, sizeof(st)));
}

TEST_F(listen, stats_kept_across_backlog_changes)
{
	struct cu_listen_stats st;

	listen_with_clients(_metadata, self, variant->type, 2, 2);
	cu_expect_refused(_metadata, variant->type, PORT);
	expect_accept_client(_metadata, self, 0);
	ASSERT_EQ(0, listen(self->lfd, 4));
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(2ULL, st.queued);
	ASSERT_EQ(1ULL, st.accepted);
	ASSERT_EQ(1ULL, st.refused_full);
	add_clients(_metadata, self, variant->type, PORT, 1, 0);
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(3ULL, st.queued);
}

/* ---- 1. SOCK_DGRAM: EOPNOTSUPP, before every other check ------------------- */

FIXTURE(listen_dgram)
{
	int fd;
	int peer;
};

FIXTURE_SETUP(listen_dgram)
{
	cu_setup();
	self->peer = -1;
	self->fd = cu_socket(_metadata, SOCK_DGRAM);
}

FIXTURE_TEARDOWN(listen_dgram)
{
	close(self->fd);
	if (self->peer >= 0)
		close(self->peer);
}

TEST_F(listen_dgram, unbound_eopnotsupp)
{
	ASSERT_EQ(-1, listen(self->fd, 4));
	ASSERT_EQ(EOPNOTSUPP, errno);
}

TEST_F(listen_dgram, bound_eopnotsupp)
{
	cu_bind(_metadata, self->fd, PORT);
	ASSERT_EQ(-1, listen(self->fd, 4));
	ASSERT_EQ(EOPNOTSUPP, errno);
}

TEST_F(listen_dgram, connected_eopnotsupp)
{
	self->peer = cu_socket(_metadata, SOCK_DGRAM);
	cu_bind(_metadata, self->peer, PORT);
	ASSERT_EQ(0, cu_try_connect(self->fd, PORT));
	ASSERT_EQ(-1, listen(self->fd, 4));
	ASSERT_EQ(EOPNOTSUPP, errno);
}

TEST_HARNESS_MAIN
