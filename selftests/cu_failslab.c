// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection (docs/semantics.md §4 step 5, §9): the slab allocations
 * made for this test's own thread fail on purpose, through failslab. Needs
 * a kernel with CONFIG_FAILSLAB and CONFIG_FAULT_INJECTION_DEBUG_FS (the
 * debug kernel of `make check-debug`); elsewhere every test SKIPs, saying
 * why.
 *
 * Two ways of making allocations fail, both limited to this thread:
 *  - failslab's own: task-filter=Y, probability=100 and times=N, then
 *    /proc/thread-self/make-it-fail=1 around one call: its first N slab
 *    allocations fail;
 *  - fail-nth: /proc/thread-self/fail-nth=K fails exactly the K-th one. A
 *    sweep K = 1, 2, ... fails each allocation of a call in turn, until the
 *    call makes fewer than K (fail-nth then reads non-zero).
 * ignore-gfp-wait=N, so GFP_KERNEL allocations fail too; verbose=0, since
 * failslab's default prints a stack trace, which the runner counts as a
 * kernel problem.
 *
 * Every failure must be a clean error (ENOMEM, ENOBUFS, EAGAIN, ENFILE),
 * leave the socket as it was, and let the same call succeed afterwards.
 * Leaks are left to the runner's kmemleak scan and module unload.
 */
#include "cu_util.h"

#include <sys/mman.h>
#include <sys/mount.h>

#define FAILSLAB	"/sys/kernel/debug/failslab"
#define MAX_NTH		200	/* no call here makes that many allocations */
#define PORT		4100U

FIXTURE(failslab)
{
	bool isolated;
	bool available;
	char why[160];
	int times_fd;		/* failslab/times */
	int prob_fd;		/* failslab/probability */
	int mif_fd;		/* /proc/thread-self/make-it-fail */
	int nth_fd;		/* /proc/thread-self/fail-nth */
};

FIXTURE_VARIANT(failslab)
{
	int type;
};

FIXTURE_VARIANT_ADD(failslab, stream)
{
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(failslab, seqpacket)
{
	.type = SOCK_SEQPACKET,
};

FIXTURE_VARIANT_ADD(failslab, dgram)
{
	.type = SOCK_DGRAM,
};

/* debugfs attribute files cannot seek, and ignore the file position */
static int put_str(int fd, const char *s)
{
	ssize_t len = strlen(s);

	return write(fd, s, len) == len ? 0 : -errno;
}

static int put_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -errno;
	ret = put_str(fd, s);
	close(fd);
	return ret;
}

/* /proc/thread-self/fail-nth reads from any position */
static long get_long(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 0);
}

/* a debugfs attribute reads once per open (only with nothing armed) */
static long get_file_long(const char *path)
{
	int fd = open(path, O_RDONLY);
	char buf[32];
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 0);
}

/* Set failslab up; false (and self->why) when this kernel cannot. */
static bool fi_setup(FIXTURE_DATA(failslab) *self)
{
	static const char *const settings[][2] = {
		{ "times", "0" },	/* first: nothing fires while we set up */
		{ "verbose", "0" },
		{ "ignore-gfp-wait", "N" },
		{ "task-filter", "Y" },
		{ "probability", "100" },
		{ "interval", "1" },
		{ "space", "0" },
	};
	char path[128];
	unsigned int i;
	int ret;

	self->times_fd = self->prob_fd = self->mif_fd = self->nth_fd = -1;
	if (access(FAILSLAB, F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (access(FAILSLAB, F_OK)) {
		snprintf(self->why, sizeof(self->why),
			 "no %s (kernel without CONFIG_FAILSLAB; make check-debug has it)",
			 FAILSLAB);
		return false;
	}
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", FAILSLAB, settings[i][0]);
		ret = put_file(path, settings[i][1]);
		if (ret) {
			snprintf(self->why, sizeof(self->why), "cannot write %s: %s",
				 path, strerror(-ret));
			return false;
		}
	}
	/* opened now: arming and disarming must not allocate */
	self->times_fd = open(FAILSLAB "/times", O_WRONLY);
	self->prob_fd = open(FAILSLAB "/probability", O_WRONLY);
	self->mif_fd = open("/proc/thread-self/make-it-fail", O_RDWR);
	self->nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (self->times_fd < 0 || self->prob_fd < 0 || self->mif_fd < 0 ||
	    self->nth_fd < 0) {
		snprintf(self->why, sizeof(self->why),
			 "cannot open the failslab times/probability or /proc/thread-self/{make-it-fail,fail-nth}");
		return false;
	}
	if (get_long(self->nth_fd) != 0 || get_file_long(FAILSLAB "/times") != 0) {
		snprintf(self->why, sizeof(self->why),
			 "cannot read /proc/thread-self/fail-nth or %s/times", FAILSLAB);
		return false;
	}
	/* no page fault (which may allocate) while a failure is armed */
	mlockall(MCL_CURRENT | MCL_FUTURE);
	return true;
}

/* the next n slab allocations of this thread fail */
static void fi_arm(FIXTURE_DATA(failslab) *self, int n)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", n);
	put_str(self->times_fd, buf);
	put_str(self->mif_fd, "1");
}

/* stop failing; returns how many of the armed failures were left unused */
static long fi_disarm(FIXTURE_DATA(failslab) *self)
{
	long left;

	put_str(self->mif_fd, "0");
	left = get_file_long(FAILSLAB "/times");
	put_str(self->times_fd, "0");
	return left;
}

/* only the k-th slab allocation (and any fault site) of this thread fails */
static void fi_nth(FIXTURE_DATA(failslab) *self, int k)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", k);
	put_str(self->nth_fd, buf);
}

/* disarm fail-nth; true if the failure was injected */
static bool fi_nth_fired(FIXTURE_DATA(failslab) *self)
{
	long left = get_long(self->nth_fd);

	put_str(self->nth_fd, "0");
	return left == 0;
}

static bool clean_errno(int e)
{
	return e == ENOMEM || e == ENOBUFS || e == EAGAIN || e == ENFILE;
}

#define REQUIRE_FAILSLAB() do {						\
	if (!self->available)						\
		SKIP(return, "%s", self->why);				\
} while (0)

#define REQUIRE_LISTENING_TYPE() do {					\
	if (variant->type == SOCK_DGRAM)				\
		SKIP(return, "SOCK_DGRAM does not listen");		\
} while (0)

FIXTURE_SETUP(failslab)
{
	self->isolated = cu_setup();
	self->available = fi_setup(self);
}

FIXTURE_TEARDOWN(failslab)
{
	if (self->mif_fd >= 0)
		put_str(self->mif_fd, "0");
	if (self->nth_fd >= 0)
		put_str(self->nth_fd, "0");
	if (self->times_fd >= 0)
		put_str(self->times_fd, "0");
	if (self->prob_fd >= 0)
		put_str(self->prob_fd, "100");
}

/*
 * docs/semantics.md §4 step 5: the first listen() allocates the queue. Its
 * failure is ENOBUFS and changes nothing: still bound, not listening,
 * refusing connections, and a later listen() works.
 */
TEST_F(failslab, first_listen_fails_with_enobufs_and_changes_nothing)
{
	int fd, c, a, ret, err;
	struct cu_listen_stats st;
	long left;
	__u32 port;

	REQUIRE_FAILSLAB();
	REQUIRE_LISTENING_TYPE();
	fd = cu_socket(_metadata, variant->type);
	port = cu_bind(_metadata, fd, CU_PORT_ANY);

	fi_arm(self, 1);
	ret = listen(fd, 5);
	err = errno;
	left = fi_disarm(self);
	ASSERT_EQ(0, left) {
		TH_LOG("listen() made no slab allocation: is the queue still allocated by the first listen()?");
	}
	ASSERT_EQ(-1, ret);
	ASSERT_EQ(ENOBUFS, err) {
		TH_LOG("listen with its allocation failing: %s, want ENOBUFS", strerror(err));
	}

	ASSERT_EQ(port, cu_local_port(_metadata, fd));
	ASSERT_EQ(0, cu_backlog(fd));
	ASSERT_EQ(0, cu_sol_int(_metadata, fd, SO_ACCEPTCONN));
	c = cu_socket(_metadata, variant->type);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c, port));
	ASSERT_EQ(-1, accept4(fd, NULL, NULL, SOCK_NONBLOCK));
	ASSERT_EQ(EINVAL, errno);

	ASSERT_EQ(0, listen(fd, 5)) {
		TH_LOG("listen after the failed one: %s", strerror(errno));
	}
	ASSERT_EQ(5, cu_backlog(fd));
	ASSERT_EQ(0, cu_try_connect(c, port));
	cu_send_str(_metadata, c, "after");
	a = cu_accept(_metadata, fd);
	cu_expect_data(_metadata, a, "after");
	cu_stats(_metadata, fd, &st);
	ASSERT_EQ(1ULL, st.queued);
	ASSERT_EQ(1ULL, st.accepted);
}

/*
 * A listen() on a listener only resizes the intrusive queue: no
 * allocation, so it cannot fail, whatever failslab does. Grow, keep and
 * shrink with every allocation failing: backlog applied, pending
 * connections kept in order with their data, a shrink resets the newest.
 */
TEST_F(failslab, relisten_allocates_nothing_and_keeps_every_connection)
{
	int fd, cl[3], a, i, r_grow, r_keep, r_fit, r_shrink;
	struct cu_listen_stats st;
	char msg[16];
	long left;
	__u32 port;

	REQUIRE_FAILSLAB();
	REQUIRE_LISTENING_TYPE();
	fd = cu_listener(_metadata, variant->type, CU_PORT_ANY, 4, &port);
	for (i = 0; i < 3; i++) {
		cl[i] = cu_client(_metadata, variant->type, port);
		snprintf(msg, sizeof(msg), "client-%d", i);
		cu_send_str(_metadata, cl[i], msg);
	}

	fi_arm(self, 1000);
	r_grow = listen(fd, 8);
	r_keep = listen(fd, 8);
	r_fit = listen(fd, 3);
	left = fi_disarm(self);
	ASSERT_EQ(0, r_grow);
	ASSERT_EQ(0, r_keep);
	ASSERT_EQ(0, r_fit);
	ASSERT_EQ(1000, left) {
		TH_LOG("re-listen made %ld slab allocation(s)", 1000 - left);
	}
	ASSERT_EQ(3, cu_backlog(fd));
	ASSERT_EQ(3, cu_pending(fd));

	fi_arm(self, 1000);
	r_shrink = listen(fd, 1);
	fi_disarm(self);
	ASSERT_EQ(0, r_shrink);
	ASSERT_EQ(1, cu_backlog(fd));
	ASSERT_EQ(1, cu_pending(fd));
	cu_stats(_metadata, fd, &st);
	ASSERT_EQ(3ULL, st.queued);
	ASSERT_EQ(2ULL, st.reset_shrink);

	cu_expect_reset(_metadata, cl[1], true);
	cu_expect_reset(_metadata, cl[2], false);
	a = cu_accept(_metadata, fd);
	cu_expect_data(_metadata, a, "client-0");
	cu_expect_healthy(_metadata, cl[0]);
}

/* socket(), bind() and the first listen() with each allocation failing */
TEST_F(failslab, each_allocation_of_socket_bind_listen_fails_cleanly)
{
	int k, fd, ret, err;
	bool fired;

	REQUIRE_FAILSLAB();
	for (k = 1; k < MAX_NTH; k++) {
		fi_nth(self, k);
		fd = socket(cu_family(), variant->type, 0);
		err = errno;
		fired = fi_nth_fired(self);
		if (fd >= 0)
			close(fd);
		if (!fired) {
			ASSERT_LE(0, fd) {
				TH_LOG("socket() failed with no injected failure: %s", strerror(err));
			}
			break;
		}
		ASSERT_TRUE(fd >= 0 || clean_errno(err)) {
			TH_LOG("socket() with allocation %d failing: %s", k, strerror(err));
		}
	}
	ASSERT_GT(MAX_NTH, k);
	ASSERT_LT(1, k) {
		TH_LOG("no allocation of socket() failed: is fail-nth working?");
	}
	TH_LOG("socket(): %d slab allocation(s)", k - 1);

	for (k = 1; k < MAX_NTH; k++) {
		fd = cu_socket(_metadata, variant->type);
		fi_nth(self, k);
		ret = cu_try_bind(fd, PORT);
		err = ret;
		fired = fi_nth_fired(self);
		if (ret) {
			ASSERT_TRUE(fired && clean_errno(err)) {
				TH_LOG("bind() with allocation %d failing: %s", k, strerror(err));
			}
			/* nothing half-done: the same bind works now */
			ASSERT_EQ(0, cu_try_bind(fd, PORT));
		}
		close(fd);
		if (!fired)
			break;
	}
	ASSERT_GT(MAX_NTH, k);
	TH_LOG("bind(): %d slab allocation(s)", k - 1);

	if (variant->type == SOCK_DGRAM)
		return;
	for (k = 1; k < MAX_NTH; k++) {
		fd = cu_socket(_metadata, variant->type);
		cu_bind(_metadata, fd, CU_PORT_ANY);
		fi_nth(self, k);
		ret = listen(fd, 3);
		err = errno;
		fired = fi_nth_fired(self);
		if (ret) {
			ASSERT_TRUE(fired) {
				TH_LOG("listen() failed with no injected failure: %s", strerror(err));
			}
			ASSERT_EQ(ENOBUFS, err) {
				TH_LOG("listen() with allocation %d failing: %s, want ENOBUFS",
				       k, strerror(err));
			}
			ASSERT_EQ(0, cu_sol_int(_metadata, fd, SO_ACCEPTCONN));
			ASSERT_EQ(0, listen(fd, 3));
		}
		ASSERT_EQ(3, cu_backlog(fd));
		close(fd);
		if (!fired)
			break;
	}
	ASSERT_GT(MAX_NTH, k);
	TH_LOG("listen(): %d slab allocation(s)", k - 1);
}

/*
 * connect() and accept() with each allocation failing. A failed connect
 * queues nothing and can be retried; a failed accept leaves the
 * connection queued (docs/semantics.md §6: nothing is lost).
 */
TEST_F(failslab, each_allocation_of_connect_and_accept_fails_cleanly)
{
	int k, lfd, c, a, ret, err, pending = 0, queued = 0;
	struct cu_listen_stats st;
	bool fired;
	__u32 port;

	REQUIRE_FAILSLAB();
	REQUIRE_LISTENING_TYPE();
	lfd = cu_listener(_metadata, variant->type, CU_PORT_ANY, 64, &port);
	cu_set_nonblock(_metadata, lfd, true);

	for (k = 1; k < MAX_NTH; k++) {
		c = cu_socket(_metadata, variant->type);
		fi_nth(self, k);
		ret = cu_try_connect(c, port);
		err = ret;
		fired = fi_nth_fired(self);
		if (ret) {
			ASSERT_TRUE(fired && clean_errno(err)) {
				TH_LOG("connect() with allocation %d failing: %s", k, strerror(err));
			}
			ASSERT_EQ(pending, cu_pending(lfd));
			ASSERT_EQ(0, cu_try_connect(c, port)) {
				TH_LOG("connect() again after the failed one: %s", strerror(errno));
			}
		}
		pending++;
		queued++;
		ASSERT_EQ(pending, cu_pending(lfd));
		if (!fired)
			break;
	}
	ASSERT_GT(MAX_NTH, k);
	ASSERT_LT(1, k) {
		TH_LOG("no allocation of connect() failed: it allocates the server's socket");
	}
	TH_LOG("connect(): %d slab allocation(s)", k - 1);

	for (k = 1; k < MAX_NTH; k++) {
		if (!pending) {
			c = cu_client(_metadata, variant->type, port);
			pending++;
			queued++;
		}
		fi_nth(self, k);
		a = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		err = errno;
		fired = fi_nth_fired(self);
		if (a < 0) {
			ASSERT_TRUE(fired && clean_errno(err) && err != EAGAIN) {
				TH_LOG("accept() with allocation %d failing and %d pending: %s",
				       k, pending, strerror(err));
			}
			ASSERT_EQ(pending, cu_pending(lfd)) {
				TH_LOG("a failed accept() lost a connection");
			}
		} else {
			close(a);
			pending--;
		}
		if (!fired)
			break;
	}
	ASSERT_GT(MAX_NTH, k);
	ASSERT_LT(1, k) {
		TH_LOG("no allocation of accept() failed: it allocates a file");
	}
	TH_LOG("accept(): %d slab allocation(s)", k - 1);

	while (pending) {
		a = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		ASSERT_LE(0, a);
		close(a);
		pending--;
	}
	cu_stats(_metadata, lfd, &st);
	ASSERT_EQ((__u64)queued, st.queued);
	ASSERT_EQ((__u64)queued, st.accepted);
	ASSERT_EQ(0, cu_pending(lfd));
}

/*
 * send() and recv() with each allocation failing: a failed call is a
 * clean error and loses or duplicates nothing; what was reported sent
 * arrives, in order.
 */
TEST_F(failslab, each_allocation_of_send_and_recv_fails_cleanly)
{
	char sent[4096], got[4096], msg[32];
	size_t nsent = 0, ngot = 0;
	int k, lfd, tx, rx, err;
	bool fired;
	ssize_t n;
	__u32 port;

	REQUIRE_FAILSLAB();
	if (variant->type == SOCK_DGRAM) {
		rx = cu_socket(_metadata, SOCK_DGRAM);
		port = cu_bind(_metadata, rx, CU_PORT_ANY);
		tx = cu_socket(_metadata, SOCK_DGRAM);
		ASSERT_EQ(0, cu_try_connect(tx, port));
	} else {
		lfd = cu_listener(_metadata, variant->type, CU_PORT_ANY, 2, &port);
		tx = cu_client(_metadata, variant->type, port);
		rx = cu_accept(_metadata, lfd);
	}

	for (k = 1; k < MAX_NTH; k++) {
		snprintf(msg, sizeof(msg), "<%d>", k);
		fi_nth(self, k);
		n = send(tx, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
		err = errno;
		fired = fi_nth_fired(self);
		if (n < 0) {
			ASSERT_TRUE(fired && clean_errno(err)) {
				TH_LOG("send() with allocation %d failing: %s", k, strerror(err));
			}
		} else {
			ASSERT_EQ(strlen(msg), (size_t)n);
			ASSERT_GT(sizeof(sent), nsent + n);
			memcpy(sent + nsent, msg, n);
			nsent += n;
		}
		if (!fired)
			break;
	}
	ASSERT_GT(MAX_NTH, k);
	ASSERT_LT(1, k) {
		TH_LOG("no allocation of send() failed: it allocates a buffer");
	}
	TH_LOG("send(): %d slab allocation(s)", k - 1);
	cu_expect_healthy(_metadata, tx);

	/* receive it all, each recv() also with an allocation failing */
	for (k = 1; ngot < nsent; k = k % 8 + 1) {
		fi_nth(self, k);
		n = recv(rx, got + ngot, sizeof(got) - ngot, MSG_DONTWAIT);
		err = errno;
		fi_nth_fired(self);
		if (n < 0) {
			ASSERT_TRUE(clean_errno(err)) {
				TH_LOG("recv() with allocation %d failing: %s", k, strerror(err));
			}
			if (err == EAGAIN)
				ASSERT_LE(0, cu_poll(rx, POLLIN, CU_WAIT_MS));
			continue;
		}
		ASSERT_LT(0, n) {
			TH_LOG("EOF after %zu of %zu bytes", ngot, nsent);
		}
		ngot += n;
	}
	ASSERT_EQ(nsent, ngot);
	ASSERT_EQ(0, memcmp(sent, got, nsent)) {
		got[ngot] = 0;
		sent[nsent] = 0;
		TH_LOG("sent \"%s\", received \"%s\"", sent, got);
	}
	ASSERT_EQ(-1, recv(rx, got, sizeof(got), MSG_DONTWAIT));
	ASSERT_EQ(EAGAIN, errno);
	cu_expect_healthy(_metadata, rx);
}

/*
 * Random failures (one slab allocation in five) through a whole listener
 * life: socket, bind, listen, connects, accept, data, shrink, shutdown,
 * close, many times over. Every error is clean; afterwards the family
 * works and no socket of this netns is left.
 */
TEST_F(failslab, random_failures_through_listener_lives_leave_nothing)
{
	enum { ROUNDS = 150, CLIENTS = 3 };
	static struct { int op, err; } bad[16];
	int round, nbad = 0, lfd, cl[CLIENTS], a, i, left;
	struct sockaddr_cu addr;
	socklen_t alen;
	char buf[64];
	__u32 port;

	REQUIRE_FAILSLAB();
	REQUIRE_LISTENING_TYPE();
	ASSERT_EQ(0, put_str(self->prob_fd, "20"));

#define TRY(step, call, ok) ({					\
	int __r = (call), __e = errno;					\
	if (__r < 0 && !(ok) && nbad < 16) {				\
		bad[nbad].op = (step);					\
		bad[nbad++].err = __e;					\
	}								\
	__r;								\
})
	fi_arm(self, -1);
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < CLIENTS; i++)
			cl[i] = -1;
		a = -1;
		lfd = TRY(0, socket(cu_family(), variant->type | SOCK_NONBLOCK, 0),
			  clean_errno(__e));
		if (lfd < 0)
			continue;
		if (TRY(1, cu_try_bind(lfd, CU_PORT_ANY) ? -1 : 0,
			clean_errno(__e)) < 0)
			goto close_all;
		if (TRY(2, listen(lfd, CLIENTS), __e == ENOBUFS) < 0)
			goto close_all;
		alen = sizeof(addr);
		if (TRY(3, getsockname(lfd, CU_SA(&addr), &alen), false) < 0)
			goto close_all;
		port = addr.scu_port;
		for (i = 0; i < CLIENTS; i++) {
			cl[i] = TRY(4, socket(cu_family(), variant->type | SOCK_NONBLOCK, 0),
				    clean_errno(__e));
			if (cl[i] >= 0)
				TRY(5, cu_try_connect(cl[i], port) ? -1 : 0,
				    clean_errno(__e));
			if (cl[i] >= 0)
				TRY(6, send(cl[i], "ping", 4, MSG_NOSIGNAL),
				    clean_errno(__e) || __e == ENOTCONN);
		}
		a = TRY(7, accept4(lfd, NULL, NULL, SOCK_NONBLOCK), clean_errno(__e));
		if (a >= 0) {
			TRY(8, recv(a, buf, sizeof(buf), 0), clean_errno(__e));
			TRY(9, send(a, "pong", 4, MSG_NOSIGNAL), clean_errno(__e));
		}
		TRY(10, listen(lfd, 1), false);
		if (round % 2)
			TRY(11, shutdown(lfd, SHUT_RDWR), false);
close_all:
		for (i = 0; i < CLIENTS; i++)
			if (cl[i] >= 0)
				close(cl[i]);
		if (a >= 0)
			close(a);
		close(lfd);
	}
	left = fi_disarm(self);
#undef TRY
	ASSERT_EQ(0, put_str(self->prob_fd, "100"));
	for (i = 0; i < nbad; i++)
		TH_LOG("step %d of a round failed with %s", bad[i].op, strerror(bad[i].err));
	ASSERT_EQ(0, nbad);
	ASSERT_EQ(-1, left);	/* times=-1: no limit, still unlimited */

	/* the family still works, and every socket is gone */
	lfd = cu_listener(_metadata, variant->type, CU_PORT_ANY, 1, &port);
	cl[0] = cu_client(_metadata, variant->type, port);
	a = cu_accept(_metadata, lfd);
	close(a);
	close(cl[0]);
	close(lfd);
	cu_expect_no_sockets(_metadata);
}

/* DGRAM: sendto() to a bound port with each allocation failing */
TEST_F(failslab, each_allocation_of_dgram_sendto_fails_cleanly)
{
	int k, rx, tx, err, sent = 0, got = 0;
	char msg[32], buf[64];
	bool fired;
	ssize_t n;
	__u32 port;

	REQUIRE_FAILSLAB();
	if (variant->type != SOCK_DGRAM)
		SKIP(return, "SOCK_DGRAM only");
	rx = cu_socket(_metadata, SOCK_DGRAM);
	port = cu_bind(_metadata, rx, CU_PORT_ANY);
	tx = cu_socket(_metadata, SOCK_DGRAM);	/* unbound: autobinds */
	for (k = 1; k < MAX_NTH; k++) {
		struct sockaddr_cu to = cu_addr(port);

		snprintf(msg, sizeof(msg), "dgram-%d", sent);
		fi_nth(self, k);
		n = sendto(tx, msg, strlen(msg), MSG_DONTWAIT, CU_SA(&to), sizeof(to));
		err = errno;
		fired = fi_nth_fired(self);
		if (n < 0) {
			ASSERT_TRUE(fired && clean_errno(err)) {
				TH_LOG("sendto() with allocation %d failing: %s", k, strerror(err));
			}
		} else {
			sent++;
		}
		if (!fired)
			break;
	}
	ASSERT_GT(MAX_NTH, k);
	ASSERT_LT(1, k) {
		TH_LOG("no allocation of sendto() failed: it allocates a buffer");
	}
	TH_LOG("sendto(): %d slab allocation(s)", k - 1);
	for (got = 0; got < sent; got++) {
		snprintf(msg, sizeof(msg), "dgram-%d", got);
		n = cu_recv_wait(rx, buf, sizeof(buf) - 1, 0);
		ASSERT_EQ((ssize_t)strlen(msg), n);
		buf[n] = 0;
		ASSERT_STREQ(msg, buf);
	}
	ASSERT_EQ(-1, recv(rx, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(EAGAIN, errno);
}

TEST_HARNESS_MAIN
