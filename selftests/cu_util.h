/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the af_custom selftests (kselftest_harness.h style).
 * Those for threads and child processes are in cu_thread.h, those for
 * messages and full send buffers in cu_msg.h.
 *
 * Every helper that can fail takes _metadata and ASSERTs, so a test reads
 * as a list of steps. socket(AF_CUSTOM) failing with EAFNOSUPPORT is a
 * FAILURE (the module is missing), never a skip.
 *
 * Hang protection is the harness's timeout (30 s a test, TEST_F_TIMEOUT
 * for longer ones). Waits for data use MSG_DONTWAIT loops with a deadline,
 * so a broken wakeup is reported by the test that checks wakeups, not by
 * every test that reads.
 *
 * Every test runs in a process of its own: the descriptors it opens are
 * closed when it ends, so tests and helpers need not keep a list of them.
 */
#ifndef CU_UTIL_H
#define CU_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <linux/af_custom.h>

/* the 6.1 harness has an unused parameter; keep -Wextra clean */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#define CU_WAIT_MS		5000	/* longest wait for something that must happen */
#define CU_AT_ONCE_MS		2000	/* "at once": TCG and the debug kernels stall */
#define CU_MAX_FDS		64

#define CU_SA(a)		((struct sockaddr *)(a))

/* the integer at the start of a file (/proc, /sys); false if unreadable */
static inline bool cu_read_int(const char *path, int *v)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fscanf(f, "%d", v) == 1;
	fclose(f);
	return ok;
}

/* The family number: the loaded module's `family` parameter, else 22. */
static inline int cu_family(void)
{
	static int family;
	int v;

	if (family)
		return family;
	family = AF_CUSTOM;
	if (cu_read_int("/sys/module/af_custom/parameters/family", &v) && v > 0)
		family = v;
	return family;
}

static inline long long cu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static inline void cu_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- fixture set-up ---------------------------------------------------- */

static volatile sig_atomic_t cu_sigpipes __attribute__((unused));

static void __attribute__((unused)) cu_on_sigpipe(int sig)
{
	(void)sig;
	cu_sigpipes++;
}

/*
 * Common fixture set-up: count SIGPIPEs instead of dying of them, and give
 * the test its own network namespace (the VM runs as root). Returns false
 * if that is impossible (an environment limit, not af_custom behaviour):
 * tests then run in the current netns, which is safe because the harness
 * runs tests one at a time and every socket dies with the test process;
 * tests that change a netns sysctl skip.
 */
static inline bool cu_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cu_on_sigpipe;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	cu_sigpipes = 0;
	return unshare(CLONE_NEWNET) == 0;
}

#define CU_REQUIRE_NETNS(isolated) do {					\
	if (!(isolated))						\
		SKIP(return, "unshare(CLONE_NEWNET) not permitted here"); \
} while (0)

/* ---- addresses and sockets --------------------------------------------- */

static inline struct sockaddr_cu cu_addr(__u32 port)
{
	struct sockaddr_cu a;

	memset(&a, 0, sizeof(a));
	a.scu_family = cu_family();
	a.scu_reserved = 0;
	a.scu_port = port;
	return a;
}

static inline int cu_socket(struct __test_metadata *_metadata, int type)
{
	int fd = socket(cu_family(), type, 0);
	int err = errno;

	if (fd < 0 && err == EAFNOSUPPORT)
		TH_LOG("socket(%d, ...) gives EAFNOSUPPORT: af_custom.ko is not loaded",
		       cu_family());
	ASSERT_LE(0, fd) {
		TH_LOG("socket(AF_CUSTOM, %#x, 0): %s", type, strerror(err));
	}
	return fd;
}

/*
 * 0 or the errno of bind() (do_connect false) or connect() to an address
 * with any family, scu_reserved and length (up to sockaddr_storage)
 */
static inline int cu_try_raw(int fd, bool do_connect, int family, int reserved,
			     __u32 port, socklen_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_cu *a = (struct sockaddr_cu *)&ss;
	int ret;

	memset(&ss, 0, sizeof(ss));
	a->scu_family = family;
	a->scu_reserved = reserved;
	a->scu_port = port;
	ret = do_connect ? connect(fd, CU_SA(&ss), len) : bind(fd, CU_SA(&ss), len);
	return ret ? errno : 0;
}

#define cu_try_bind(fd, port)						\
	cu_try_raw((fd), false, cu_family(), 0, (port), sizeof(struct sockaddr_cu))
#define cu_try_connect(fd, port)					\
	cu_try_raw((fd), true, cu_family(), 0, (port), sizeof(struct sockaddr_cu))

/* the port of fd's own address, or with peer of its peer's */
static inline __u32 cu_name(struct __test_metadata *_metadata, int fd, bool peer)
{
	struct sockaddr_storage ss;
	struct sockaddr_cu *a = (struct sockaddr_cu *)&ss;
	socklen_t len = sizeof(ss);
	int ret;

	memset(&ss, 0xa5, sizeof(ss));
	ret = peer ? getpeername(fd, CU_SA(&ss), &len) :
		     getsockname(fd, CU_SA(&ss), &len);
	ASSERT_EQ(0, ret) {
		TH_LOG("%s: %s", peer ? "getpeername" : "getsockname", strerror(errno));
	}
	ASSERT_EQ(sizeof(struct sockaddr_cu), len);
	ASSERT_EQ(cu_family(), a->scu_family);
	ASSERT_EQ(0, a->scu_reserved);
	return a->scu_port;
}

#define cu_local_port(_metadata, fd)	cu_name((_metadata), (fd), false)
#define cu_peer_port(_metadata, fd)	cu_name((_metadata), (fd), true)

/* bind fd to port (CU_PORT_ANY allowed); returns the bound port */
static inline __u32 cu_bind(struct __test_metadata *_metadata, int fd, __u32 port)
{
	int err = cu_try_bind(fd, port);

	ASSERT_EQ(0, err) {
		TH_LOG("bind(%u): %s", port, strerror(err));
	}
	return cu_local_port(_metadata, fd);
}

/* socket + bind(port) + listen(backlog); *portp gets the bound port */
static inline int cu_listener(struct __test_metadata *_metadata, int type,
			      __u32 port, int backlog, __u32 *portp)
{
	int fd = cu_socket(_metadata, type);
	__u32 bound = cu_bind(_metadata, fd, port);

	ASSERT_EQ(0, listen(fd, backlog)) {
		TH_LOG("listen(%d): %s", backlog, strerror(errno));
	}
	if (portp)
		*portp = bound;
	return fd;
}

/* a socket of `type` connected to port; asserts success */
static inline int cu_client(struct __test_metadata *_metadata, int type, __u32 port)
{
	int fd = cu_socket(_metadata, type);
	int err = cu_try_connect(fd, port);

	ASSERT_EQ(0, err) {
		TH_LOG("connect(%u): %s", port, strerror(err));
	}
	return fd;
}

static inline int cu_accept(struct __test_metadata *_metadata, int lfd)
{
	int fd = accept(lfd, NULL, NULL);

	ASSERT_LE(0, fd) {
		TH_LOG("accept: %s", strerror(errno));
	}
	return fd;
}

#define CU_IOCTL	(-1)	/* cu_getopt(), cu_int(): opt is an ioctl request */

/*
 * getsockopt(level, opt) into v, which must give exactly len bytes; with
 * level CU_IOCTL, ioctl(opt, v) (SIOCINQ, SIOCOUTQ)
 */
static inline void cu_getopt(struct __test_metadata *_metadata, int fd, int level,
			     unsigned long opt, void *v, socklen_t len)
{
	socklen_t got = len;
	int ret;

	memset(v, 0xa5, len);
	ret = level == CU_IOCTL ? ioctl(fd, opt, v) : getsockopt(fd, level, opt, v, &got);
	ASSERT_EQ(0, ret) {
		TH_LOG("%s(%d, %#lx): %s", level == CU_IOCTL ? "ioctl" : "getsockopt",
		       level, opt, strerror(errno));
	}
	ASSERT_EQ(len, got);
}

/* an int option, or the int an ioctl stores */
static inline int cu_int(struct __test_metadata *_metadata, int fd, int level,
			 unsigned long opt)
{
	int v;

	cu_getopt(_metadata, fd, level, opt, &v, sizeof(v));
	return v;
}

#define cu_sol_int(_metadata, fd, opt)	cu_int((_metadata), (fd), SOL_SOCKET, (opt))
#define cu_ioctl_int(_metadata, fd, req) cu_int((_metadata), (fd), CU_IOCTL, (req))
#define cu_backlog(fd)	cu_int(_metadata, (fd), SOL_CUSTOM, CU_BACKLOG)
#define cu_pending(fd)	cu_int(_metadata, (fd), SOL_CUSTOM, CU_PENDING)
#define cu_stats(_metadata, fd, st)					\
	cu_getopt((_metadata), (fd), SOL_CUSTOM, CU_STATS, (st), sizeof(struct cu_listen_stats))

static inline void cu_set_timeo(struct __test_metadata *_metadata, int fd,
				int opt, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)));
}

static inline void cu_set_nonblock(struct __test_metadata *_metadata, int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	ASSERT_LE(0, fl);
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fl));
}

/* revents of fd for `events` after at most timeout_ms (0 = now) */
static inline short cu_poll(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	if (poll(&p, 1, timeout_ms) < 0)
		return -1;
	return p.revents;
}

/*
 * recv() without relying on the module's wakeups: MSG_DONTWAIT retried
 * until something other than EAGAIN happens or CU_WAIT_MS passes.
 * Returns recv()'s result; errno is set when it is -1.
 */
static inline ssize_t cu_recv_wait(int fd, void *buf, size_t len, int flags)
{
	long long deadline = cu_now_ms() + CU_WAIT_MS;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, len, flags | MSG_DONTWAIT);
		if (n >= 0 || errno != EAGAIN || cu_now_ms() > deadline)
			return n;
		cu_sleep_ms(2);
	}
}

/*
 * Read exactly len bytes (of a stream or of messages) into buf, or with
 * buf NULL read them (64 KiB a call) and drop them, bounded.
 */
static inline void cu_recv_exact(struct __test_metadata *_metadata, int fd,
				 void *buf, size_t len)
{
	static char scratch[65536];
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = buf ? cu_recv_wait(fd, (char *)buf + got, len - got, 0) :
			  cu_recv_wait(fd, scratch, sizeof(scratch), 0);
		ASSERT_LT(0, n) {
			TH_LOG("recv after %zu of %zu bytes: %zd (%s)", got, len, n,
			       n < 0 ? strerror(errno) : "EOF");
		}
		got += n;
	}
	ASSERT_EQ(len, got);
}

#define cu_drain(_metadata, fd, total)	cu_recv_exact((_metadata), (fd), NULL, (total))

/* receive one message and compare it with the NUL-terminated `expect` */
static inline void cu_expect_data(struct __test_metadata *_metadata, int fd,
				  const char *expect)
{
	size_t len = strlen(expect);
	char buf[256];

	ASSERT_GT(sizeof(buf), len);
	memset(buf, 0, sizeof(buf));
	cu_recv_exact(_metadata, fd, buf, len);
	ASSERT_STREQ(expect, buf);
}

static inline void cu_send_str(struct __test_metadata *_metadata, int fd,
			       const char *s)
{
	ssize_t len = strlen(s);

	ASSERT_EQ(len, send(fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT)) {
		TH_LOG("send(\"%s\"): %s", s, strerror(errno));
	}
}

/* a connection that is neither reset nor closed by the other side */
static inline void cu_expect_healthy(struct __test_metadata *_metadata, int fd)
{
	short rev = cu_poll(fd, POLLIN | POLLOUT, 0);

	ASSERT_LE(0, rev);
	ASSERT_EQ(0, rev & (POLLERR | POLLHUP)) {
		TH_LOG("revents %#x on a connection that should be intact", rev);
	}
}

/*
 * The sequence a reset connection must show (docs/semantics.md §4, §7): poll
 * POLLERR|POLLHUP; the first recv (or send) ECONNRESET; then recv 0 and
 * send EPIPE, with SIGPIPE unless MSG_NOSIGNAL. Reads are bounded by
 * SO_RCVTIMEO so a missing reset fails instead of hanging.
 */
static inline void cu_expect_reset(struct __test_metadata *_metadata, int fd,
				   bool recv_first)
{
	sig_atomic_t pipes;
	short rev;
	char buf[64];

	cu_set_timeo(_metadata, fd, SO_RCVTIMEO, 2000);
	cu_set_timeo(_metadata, fd, SO_SNDTIMEO, 2000);
	rev = cu_poll(fd, POLLIN, CU_WAIT_MS);
	ASSERT_EQ(POLLERR | POLLHUP, rev & (POLLERR | POLLHUP)) {
		TH_LOG("reset connection: revents %#x, want POLLERR|POLLHUP", rev);
	}
	ASSERT_EQ(-1, recv_first ? recv(fd, buf, sizeof(buf), 0) :
				   send(fd, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(ECONNRESET, errno);
	ASSERT_EQ(0, recv(fd, buf, sizeof(buf), 0)) {
		TH_LOG("recv after ECONNRESET: %s", strerror(errno));
	}
	ASSERT_EQ(0, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	pipes = cu_sigpipes;
	ASSERT_EQ(-1, send(fd, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(pipes, cu_sigpipes);
	ASSERT_EQ(-1, send(fd, "x", 1, 0));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(pipes + 1, cu_sigpipes) {
		TH_LOG("send without MSG_NOSIGNAL on a reset connection: no SIGPIPE");
	}
}

/* net.core.somaxconn of the current netns, -1 if unreadable */
static inline int cu_somaxconn(void)
{
	int v;

	return cu_read_int("/proc/sys/net/core/somaxconn", &v) ? v : -1;
}

static inline int cu_set_somaxconn(int v)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "w");
	int ret;

	if (!f)
		return -errno;
	ret = fprintf(f, "%d\n", v) < 0 ? -EIO : 0;
	if (fclose(f))
		ret = -errno;
	return ret;
}

/*
 * Every socket of this netns is gone from /proc/net/af_custom: closed
 * sockets are freed after an RCU grace period, so wait for them
 * (CU_WAIT_MS at most).
 */
static inline void cu_expect_no_sockets(struct __test_metadata *_metadata)
{
	long long deadline = cu_now_ms() + CU_WAIT_MS;
	char line[512];
	FILE *f;
	int n;

	for (;;) {
		f = fopen("/proc/net/af_custom", "r");
		n = -1;		/* the header line; -1 if unreadable */
		while (f && fgets(line, sizeof(line), f))
			n++;
		if (f)
			fclose(f);
		if (n <= 0 || cu_now_ms() >= deadline)
			break;
		cu_sleep_ms(20);
	}
	ASSERT_EQ(0, n) {
		TH_LOG("%d socket(s) of this netns still listed in /proc/net/af_custom", n);
	}
}

/* ---- closing ------------------------------------------------------------ */

/* close *fd unless it is -1 already, and make it -1 */
static inline void cu_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* the teardown of a listener and a connected pair (each may be -1) */
static inline void cu_close_pair(int *lfd, int *c, int *a)
{
	cu_close_fd(lfd);
	cu_close_fd(c);
	cu_close_fd(a);
}

/* ---- fixture variants: one per socket type ----------------------------- */

/* FIXTURE_VARIANT(f) { int type; } with variants f.stream and f.seqpacket */
#define CU_VARIANTS_CONNECTED(f)					\
	FIXTURE_VARIANT(f) { int type; };				\
	FIXTURE_VARIANT_ADD(f, stream) { .type = SOCK_STREAM, };	\
	FIXTURE_VARIANT_ADD(f, seqpacket) { .type = SOCK_SEQPACKET, }

/* the same with f.dgram as well */
#define CU_VARIANTS_ALL(f)						\
	CU_VARIANTS_CONNECTED(f);					\
	FIXTURE_VARIANT_ADD(f, dgram) { .type = SOCK_DGRAM, }

/* ---- connected pairs ----------------------------------------------------- */

/*
 * A connected pair of `type` on port. SOCK_STREAM, SOCK_SEQPACKET: *lfd
 * listens with backlog, *c is a client and *a its accepted socket.
 * SOCK_DGRAM: *lfd is -1, *a is bound to port, *c connected to it and *a
 * connected back to c. Returns the port *lfd (DGRAM: *a) is bound to.
 */
static inline __u32 cu_pair(struct __test_metadata *_metadata, int type, __u32 port,
			    int backlog, int *lfd, int *c, int *a)
{
	__u32 bound;

	if (type == SOCK_DGRAM) {
		*lfd = -1;
		*a = cu_socket(_metadata, SOCK_DGRAM);
		bound = cu_bind(_metadata, *a, port);
		*c = cu_socket(_metadata, SOCK_DGRAM);
		ASSERT_EQ(0, cu_try_connect(*c, port));
		ASSERT_EQ(0, cu_try_connect(*a, cu_local_port(_metadata, *c)));
		return bound;
	}
	*lfd = cu_listener(_metadata, type, port, backlog, &bound);
	*c = cu_client(_metadata, type, bound);
	*a = cu_accept(_metadata, *lfd);
	return bound;
}

/* a new blocking client of `type` must be refused at once */
static inline void cu_expect_refused(struct __test_metadata *_metadata, int type, __u32 port)
{
	int fd = cu_socket(_metadata, type);
	long long t0;
	int err;

	cu_set_timeo(_metadata, fd, SO_SNDTIMEO, CU_WAIT_MS);
	t0 = cu_now_ms();
	err = cu_try_connect(fd, port);
	ASSERT_EQ(ECONNREFUSED, err) {
		TH_LOG("connect(%u): %s, want ECONNREFUSED", port,
		       err ? strerror(err) : "succeeded");
	}
	ASSERT_GT(CU_AT_ONCE_MS, cu_now_ms() - t0);
}

#endif /* CU_UTIL_H */
