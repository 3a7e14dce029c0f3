// SPDX-License-Identifier: GPL-2.0
/*
 * docs/semantics.md §6: accept().
 *
 * EINVAL when not listening, EOPNOTSUPP for SOCK_DGRAM, FIFO order, names,
 * the ways an empty queue ends a wait (O_NONBLOCK, SO_RCVTIMEO, signals
 * with and without SA_RESTART, shutdown by another thread), EMFILE losing
 * nothing, a dequeued slot freeing room at once, and a client that closed
 * before accept staying queued with its data.
 */
#include "cu_util.h"
#include "cu_thread.h"
#include <sys/resource.h>

#define PORT	4200U
#define BACKLOG	4

FIXTURE(accept)
{
	int lfd;
	__u32 port;
};

CU_VARIANTS_CONNECTED(accept);

FIXTURE_SETUP(accept)
{
	cu_setup();
	self->lfd = cu_listener(_metadata, variant->type, PORT, BACKLOG, &self->port);
}

FIXTURE_TEARDOWN(accept)
{
	cu_close_fd(&self->lfd);
}

/* a thread that accepts once, or connects once after the main thread blocks */
struct waiter {
	int lfd;		/* accept on this ... */
	int type;		/* ... or connect a socket of this type */
	__u32 port;		/* to this port */
	pid_t tid;		/* thread to wait for / signal */
	pthread_t main;
	int signals;		/* SIGUSR1s to send before connecting */
	bool blocked;		/* the target was seen asleep */
	int ret, err;		/* result of accept / connect */
	int fd;			/* the connecting socket */
};

static void *accept_thread(void *arg)
{
	struct waiter *w = arg;

	w->tid = cu_gettid();
	w->ret = accept(w->lfd, NULL, NULL);
	w->err = errno;
	return NULL;
}

/* wait until the main thread sleeps, signal it, then maybe connect */
static void *poke_thread(void *arg)
{
	struct waiter *w = arg;
	int i;

	for (i = 0; i < w->signals; i++) {
		w->blocked = cu_wait_blocked(w->tid);
		pthread_kill(w->main, SIGUSR1);
		while (cu_usr1_count <= i)
			cu_sleep_ms(1);
	}
	if (w->type) {
		w->blocked = cu_wait_blocked(w->tid);
		w->fd = socket(cu_family(), w->type, 0);
		w->ret = cu_try_connect(w->fd, w->port);
	}
	return NULL;
}

static void start_poke(struct __test_metadata *_metadata, struct waiter *w,
		       pthread_t *t, int signals, int connect_type, __u32 port)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->tid = cu_gettid();
	w->main = pthread_self();
	w->signals = signals;
	w->type = connect_type;
	w->port = port;
	w->ret = -1;
	ASSERT_EQ(0, pthread_create(t, NULL, poke_thread, w));
}

TEST_F(accept, not_listening_einval)
{
	int unbound = cu_socket(_metadata, variant->type);
	int bound = cu_socket(_metadata, variant->type);

	ASSERT_EQ(-1, accept(unbound, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
	cu_bind(_metadata, bound, PORT + 1);
	ASSERT_EQ(-1, accept(bound, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(accept, connected_socket_einval)
{
	int c = cu_client(_metadata, variant->type, self->port);
	int a = cu_accept(_metadata, self->lfd);

	ASSERT_EQ(-1, accept(c, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, accept(a, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(accept, returns_oldest_first)
{
	__u32 ports[BACKLOG];
	char msg[16];
	int i, c, a;

	for (i = 0; i < BACKLOG; i++) {
		c = cu_client(_metadata, variant->type, self->port);
		ports[i] = cu_local_port(_metadata, c);
		snprintf(msg, sizeof(msg), "conn-%d", i);
		cu_send_str(_metadata, c, msg);
	}
	for (i = 0; i < BACKLOG; i++) {
		a = cu_accept(_metadata, self->lfd);
		ASSERT_EQ(ports[i], cu_peer_port(_metadata, a)) {
			TH_LOG("accept %d did not return connection %d", i, i);
		}
		snprintf(msg, sizeof(msg), "conn-%d", i);
		cu_expect_data(_metadata, a, msg);
	}
	ASSERT_EQ(0, cu_pending(self->lfd));
}

TEST_F(accept, accepted_socket_names)
{
	int c = cu_client(_metadata, variant->type, self->port);
	struct sockaddr_storage ss;
	struct sockaddr_cu *peer = (struct sockaddr_cu *)&ss;
	socklen_t len = sizeof(ss);
	int a;

	/* the address accept() reports is the client's too */
	memset(&ss, 0, sizeof(ss));
	a = accept(self->lfd, CU_SA(&ss), &len);
	ASSERT_LE(0, a);
	ASSERT_EQ(sizeof(struct sockaddr_cu), len);
	ASSERT_EQ(cu_family(), peer->scu_family);
	ASSERT_EQ(cu_local_port(_metadata, c), peer->scu_port);

	ASSERT_EQ(self->port, cu_local_port(_metadata, a));
	ASSERT_EQ(cu_local_port(_metadata, c), cu_peer_port(_metadata, a));
	ASSERT_EQ(self->port, cu_peer_port(_metadata, c));
}

TEST_F(accept, nonblocking_listener_eagain)
{
	long long t0;

	cu_set_nonblock(_metadata, self->lfd, true);
	t0 = cu_now_ms();
	ASSERT_EQ(-1, accept(self->lfd, NULL, NULL));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_GT(CU_AT_ONCE_MS, cu_now_ms() - t0);
}

TEST_F(accept, accept4_nonblock_flags_only_the_new_socket)
{
	char buf[8];
	long long t0;
	int a;

	cu_client(_metadata, variant->type, self->port);
	a = accept4(self->lfd, NULL, NULL, SOCK_NONBLOCK);
	ASSERT_LE(0, a);
	ASSERT_EQ(O_NONBLOCK, fcntl(a, F_GETFL) & O_NONBLOCK);
	ASSERT_EQ(0, fcntl(self->lfd, F_GETFL) & O_NONBLOCK);
	/* the new socket really does not block ... */
	ASSERT_EQ(-1, recv(a, buf, sizeof(buf), 0));
	ASSERT_EQ(EAGAIN, errno);
	/* ... and the listener still does: it waits out SO_RCVTIMEO */
	cu_set_timeo(_metadata, self->lfd, SO_RCVTIMEO, 300);
	t0 = cu_now_ms();
	ASSERT_EQ(-1, accept(self->lfd, NULL, NULL));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_LE(250, cu_now_ms() - t0);
}

TEST_F(accept, accept4_cloexec_sets_fd_cloexec)
{
	int a;

	cu_client(_metadata, variant->type, self->port);
	a = accept4(self->lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, a);
	ASSERT_EQ(FD_CLOEXEC, fcntl(a, F_GETFD) & FD_CLOEXEC);
}

TEST_F(accept, new_socket_does_not_inherit_o_nonblock)
{
	int a;

	cu_client(_metadata, variant->type, self->port);
	cu_set_nonblock(_metadata, self->lfd, true);
	a = cu_accept(_metadata, self->lfd);
	ASSERT_EQ(0, fcntl(a, F_GETFL) & O_NONBLOCK);
}

TEST_F(accept, rcvtimeo_elapses_eagain)
{
	long long t0;

	cu_set_timeo(_metadata, self->lfd, SO_RCVTIMEO, 300);
	t0 = cu_now_ms();
	ASSERT_EQ(-1, accept(self->lfd, NULL, NULL));
	ASSERT_EQ(EAGAIN, errno);
	cu_expect_timed_out(_metadata, t0);
}

TEST_F(accept, blocked_accept_wakes_on_connect)
{
	struct waiter w;
	pthread_t t;
	int a;

	start_poke(_metadata, &w, &t, 0, variant->type, self->port);
	a = accept(self->lfd, NULL, NULL);
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS));
	ASSERT_LE(0, a) {
		TH_LOG("accept: %s", strerror(errno));
	}
	ASSERT_EQ(0, w.ret);
	ASSERT_TRUE(w.blocked);
	ASSERT_EQ(cu_local_port(_metadata, w.fd), cu_peer_port(_metadata, a));
}

TEST_F(accept, signal_without_sa_restart_eintr)
{
	struct waiter w;
	pthread_t t;
	int a, err;

	cu_catch_usr1(_metadata, false);
	start_poke(_metadata, &w, &t, 1, 0, 0);
	a = accept(self->lfd, NULL, NULL);
	err = errno;
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS));
	if (a >= 0)
		close(a);
	ASSERT_EQ(-1, a);
	ASSERT_EQ(EINTR, err);
	ASSERT_EQ(1, cu_usr1_count);
	ASSERT_TRUE(w.blocked);
}

TEST_F(accept, signal_with_sa_restart_keeps_waiting)
{
	struct waiter w;
	pthread_t t;
	int a, err;

	cu_catch_usr1(_metadata, true);
	/* two signals while accept sleeps, then a connection */
	start_poke(_metadata, &w, &t, 2, variant->type, self->port);
	a = accept(self->lfd, NULL, NULL);
	err = errno;
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS));
	ASSERT_LE(0, a) {
		TH_LOG("accept: %s (SA_RESTART should restart it)", strerror(err));
	}
	ASSERT_EQ(2, cu_usr1_count);
	ASSERT_EQ(0, w.ret);
	ASSERT_EQ(cu_local_port(_metadata, w.fd), cu_peer_port(_metadata, a));
}

static void shutdown_wakes_accept(struct __test_metadata *_metadata,
				  FIXTURE_DATA(accept) *self, int how)
{
	struct waiter w;
	pthread_t t;

	memset(&w, 0, sizeof(w));
	w.lfd = self->lfd;
	cu_start_sleeper(_metadata, &t, accept_thread, &w, &w.tid);
	ASSERT_EQ(0, shutdown(self->lfd, how));
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS)) {
		TH_LOG("accept blocked in another thread did not wake up");
	}
	if (w.ret >= 0)
		close(w.ret);
	ASSERT_EQ(-1, w.ret);
	ASSERT_EQ(EINVAL, w.err);
}

TEST_F(accept, shutdown_rd_wakes_blocked_accept_einval)
{
	shutdown_wakes_accept(_metadata, self, SHUT_RD);
}

TEST_F(accept, shutdown_rdwr_wakes_blocked_accept_einval)
{
	shutdown_wakes_accept(_metadata, self, SHUT_RDWR);
}

TEST_F(accept, after_shutdown_einval)
{
	ASSERT_EQ(0, shutdown(self->lfd, SHUT_RD));
	ASSERT_EQ(-1, accept(self->lfd, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(accept, emfile_leaves_connection_queued)
{
	struct cu_listen_stats st;
	struct rlimit old, lim;
	int c, a, lowest;

	c = cu_client(_metadata, variant->type, self->port);
	cu_send_str(_metadata, c, "keep me");

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	lowest = fcntl(self->lfd, F_DUPFD, 0);
	ASSERT_LE(0, lowest);
	close(lowest);
	lim = old;
	lim.rlim_cur = lowest;		/* every descriptor below is in use */
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &lim));
	a = accept(self->lfd, NULL, NULL);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	if (a >= 0)
		close(a);
	ASSERT_EQ(-1, a);
	ASSERT_EQ(EMFILE, errno);

	/* untouched: still queued, not counted as accepted, client intact */
	ASSERT_EQ(1, cu_pending(self->lfd));
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(0ULL, st.accepted);
	cu_expect_healthy(_metadata, c);

	a = cu_accept(_metadata, self->lfd);
	ASSERT_EQ(cu_local_port(_metadata, c), cu_peer_port(_metadata, a));
	cu_expect_data(_metadata, a, "keep me");
	cu_send_str(_metadata, a, "kept");
	cu_expect_data(_metadata, c, "kept");
}

TEST_F(accept, dequeued_slot_frees_room_at_once)
{
	int i, c;

	for (i = 0; i < BACKLOG; i++)
		cu_client(_metadata, variant->type, self->port);
	c = cu_socket(_metadata, variant->type);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c, self->port));

	cu_accept(_metadata, self->lfd);
	ASSERT_EQ(BACKLOG - 1, cu_pending(self->lfd));
	c = cu_socket(_metadata, variant->type);
	ASSERT_EQ(0, cu_try_connect(c, self->port));
	c = cu_socket(_metadata, variant->type);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c, self->port));
}

static void closed_client_stays_queued(struct __test_metadata *_metadata,
				       FIXTURE_DATA(accept) *self, int type,
				       bool full_close)
{
	char buf[16];
	int early, i, c, a;

	early = cu_client(_metadata, type, self->port);
	cu_send_str(_metadata, early, "bye");
	if (full_close)
		close(early);
	else
		ASSERT_EQ(0, shutdown(early, SHUT_WR));
	ASSERT_EQ(1, cu_pending(self->lfd));

	/* it still takes one of the BACKLOG slots */
	for (i = 1; i < BACKLOG; i++) {
		c = cu_client(_metadata, type, self->port);
		cu_send_str(_metadata, c, "hi");
	}
	c = cu_socket(_metadata, type);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c, self->port));

	/* accept returns it first, with its data, then EOF */
	a = cu_accept(_metadata, self->lfd);
	cu_expect_data(_metadata, a, "bye");
	ASSERT_EQ(0, cu_recv_wait(a, buf, sizeof(buf), 0));
	if (!full_close) {
		/* half-closed: the other direction still works */
		cu_send_str(_metadata, a, "reply");
		cu_expect_data(_metadata, early, "reply");
		close(early);
	}
	a = cu_accept(_metadata, self->lfd);
	cu_expect_data(_metadata, a, "hi");
}

TEST_F(accept, closed_client_stays_queued_until_accepted)
{
	closed_client_stays_queued(_metadata, self, variant->type, true);
}

TEST_F(accept, shut_down_client_stays_queued_until_accepted)
{
	closed_client_stays_queued(_metadata, self, variant->type, false);
}

TEST_F(accept, stats_count_accepted)
{
	struct cu_listen_stats st;
	int i;

	for (i = 0; i < 3; i++)
		cu_client(_metadata, variant->type, self->port);
	cu_accept(_metadata, self->lfd);
	cu_accept(_metadata, self->lfd);
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(3ULL, st.queued);
	ASSERT_EQ(2ULL, st.accepted);
	ASSERT_EQ(0ULL, st.refused_full);
	ASSERT_EQ(0ULL, st.reset_shrink);
	ASSERT_EQ(0ULL, st.reset_close);
	ASSERT_EQ(1, cu_pending(self->lfd));
}

TEST_F(accept, accepted_socket_is_not_a_listener)
{
	int a;

	cu_client(_metadata, variant->type, self->port);
	a = cu_accept(_metadata, self->lfd);
	ASSERT_EQ(0, cu_backlog(a));
	ASSERT_EQ(0, cu_pending(a));
	ASSERT_EQ(0, cu_sol_int(_metadata, a, SO_ACCEPTCONN));
	ASSERT_EQ(variant->type, cu_sol_int(_metadata, a, SO_TYPE));
}

/* ---- SOCK_DGRAM ------------------------------------------------------------ */

FIXTURE(accept_dgram)
{
	int fd;
};

FIXTURE_SETUP(accept_dgram)
{
	cu_setup();
	self->fd = cu_socket(_metadata, SOCK_DGRAM);
}

FIXTURE_TEARDOWN(accept_dgram)
{
	close(self->fd);
}

TEST_F(accept_dgram, unbound_eopnotsupp)
{
	ASSERT_EQ(-1, accept(self->fd, NULL, NULL));
	ASSERT_EQ(EOPNOTSUPP, errno);
}

TEST_F(accept_dgram, bound_eopnotsupp)
{
	cu_bind(_metadata, self->fd, PORT);
	ASSERT_EQ(-1, accept(self->fd, NULL, NULL));
	ASSERT_EQ(EOPNOTSUPP, errno);
}

TEST_HARNESS_MAIN
