/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the af_custom selftests (kselftest_harness.h style).
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
 * Threads never ASSERT (the harness longjmps): they store results for the
 * main thread to check.
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
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/af_custom.h>

/* the 6.1 harness has an unused parameter; keep -Wextra clean */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#define CU_CHILD_SECS		20	/* a forked helper child's limit (alarm) */
#define CU_WAIT_MS		5000	/* longest wait for something that must happen */
#define CU_AT_ONCE_MS		1000	/* "at once", generous for TCG emulation */
#define CU_MAX_FDS		64

#define CU_SA(a)		((struct sockaddr *)(a))
#define CU_POLL_ALL		(POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLERR | POLLHUP)
#define CU_UNKNOWN_MSG_FLAG	0x400000	/* no MSG_* up to 6.12 */

/* a user pointer that faults, hidden from the compiler's alias checks */
static void *volatile cu_bad_ptr __attribute__((unused)) = (void *)1;

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

/* ---- signals ---------------------------------------------------------- */

static volatile sig_atomic_t cu_sigpipes __attribute__((unused));

static void __attribute__((unused)) cu_on_sigpipe(int sig)
{
	(void)sig;
	cu_sigpipes++;
}

/* Count SIGPIPEs instead of dying of them. */
static inline void cu_catch_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cu_on_sigpipe;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	cu_sigpipes = 0;
}

/*
 * Give the test its own network namespace (the VM runs as root). Returns
 * false if that is impossible (an environment limit, not af_custom
 * behaviour): tests then run in the current netns, which is safe because
 * the harness runs tests one at a time and every socket dies with the test
 * process; tests that change a netns sysctl skip.
 */
static inline bool cu_isolate(void)
{
	return unshare(CLONE_NEWNET) == 0;
}

#define CU_REQUIRE_NETNS(isolated) do {					\
	if (!(isolated))						\
		SKIP(return, "unshare(CLONE_NEWNET) not permitted here"); \
} while (0)

/* Common fixture set-up: SIGPIPE counter, own netns. */
static inline bool cu_setup(void)
{
	cu_catch_sigpipe();
	return cu_isolate();
}

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

/* 0 or the errno of bind() */
static inline int cu_try_bind(int fd, __u32 port)
{
	struct sockaddr_cu a = cu_addr(port);

	return bind(fd, CU_SA(&a), sizeof(a)) ? errno : 0;
}

/* 0 or the errno of connect() */
static inline int cu_try_connect(int fd, __u32 port)
{
	struct sockaddr_cu a = cu_addr(port);

	return connect(fd, CU_SA(&a), sizeof(a)) ? errno : 0;
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

#define cu_bind_raw(fd, family, reserved, port, len)			\
	cu_try_raw((fd), false, (family), (reserved), (port), (len))
#define cu_connect_raw(fd, family, reserved, port, len)			\
	cu_try_raw((fd), true, (family), (reserved), (port), (len))

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

static inline __u32 cu_local_port(struct __test_metadata *_metadata, int fd)
{
	return cu_name(_metadata, fd, false);
}

static inline __u32 cu_peer_port(struct __test_metadata *_metadata, int fd)
{
	return cu_name(_metadata, fd, true);
}

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

/* getsockopt() of the int option opt at level into *v; returns the optlen it gave */
static inline socklen_t cu_getsockopt_int(struct __test_metadata *_metadata, int fd,
					  int level, int opt, int *v)
{
	socklen_t len = sizeof(int);

	*v = -12345;
	ASSERT_EQ(0, getsockopt(fd, level, opt, v, &len)) {
		TH_LOG("getsockopt(%s, %d): %s",
		       level == SOL_SOCKET ? "SOL_SOCKET" : "SOL_CUSTOM", opt,
		       strerror(errno));
	}
	return len;
}

/* a SOL_CUSTOM int option, which must be an int long */
static inline int cu_getopt_int(struct __test_metadata *_metadata, int fd, int opt)
{
	int v;

	ASSERT_EQ(sizeof(int), cu_getsockopt_int(_metadata, fd, SOL_CUSTOM, opt, &v));
	return v;
}

/* a SOL_SOCKET int option */
static inline int cu_sol_int(struct __test_metadata *_metadata, int fd, int opt)
{
	int v;

	cu_getsockopt_int(_metadata, fd, SOL_SOCKET, opt, &v);
	return v;
}

/* the int an ioctl (SIOCINQ, SIOCOUTQ) stores */
static inline int cu_ioctl_int(struct __test_metadata *_metadata, int fd,
			       unsigned long req)
{
	int v = -1;

	ASSERT_EQ(0, ioctl(fd, req, &v));
	return v;
}

#define cu_backlog(fd)	cu_getopt_int(_metadata, (fd), CU_BACKLOG)
#define cu_pending(fd)	cu_getopt_int(_metadata, (fd), CU_PENDING)

static inline void cu_stats(struct __test_metadata *_metadata, int fd,
			    struct cu_listen_stats *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0xa5, sizeof(*st));
	ASSERT_EQ(0, getsockopt(fd, SOL_CUSTOM, CU_STATS, st, &len)) {
		TH_LOG("getsockopt(CU_STATS): %s", strerror(errno));
	}
	ASSERT_EQ(sizeof(*st), len);
}

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

/* read exactly len bytes (stream or records) or fail */
static inline void cu_recv_exact(struct __test_metadata *_metadata, int fd,
				 void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = cu_recv_wait(fd, (char *)buf + got, len - got, 0);
		ASSERT_LT(0, n) {
			TH_LOG("recv after %zu of %zu bytes: %zd (%s)", got, len, n,
			       n < 0 ? strerror(errno) : "EOF");
		}
		got += n;
	}
}

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
	if (recv_first) {
		ASSERT_EQ(-1, recv(fd, buf, sizeof(buf), 0));
		ASSERT_EQ(ECONNRESET, errno);
	} else {
		ASSERT_EQ(-1, send(fd, "x", 1, MSG_NOSIGNAL));
		ASSERT_EQ(ECONNRESET, errno);
	}
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

/* ---- process and thread helpers ---------------------------------------- */

static inline pid_t cu_gettid(void)
{
	return syscall(SYS_gettid);
}

/* state letter of a thread of this process ('?' if /proc is unreadable) */
static inline char cu_task_state(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return (p && p[1] == ' ') ? p[2] : '?';
}

/*
 * Wait until thread tid sleeps in a syscall (three reads in a row), so a
 * test knows its wakeup really wakes a sleeper. Without /proc, sleeps a
 * little and hopes. Returns false on timeout.
 */
static inline bool cu_wait_blocked(pid_t tid)
{
	long long deadline = cu_now_ms() + CU_WAIT_MS;
	int seen = 0;
	char st;

	while (cu_now_ms() < deadline) {
		st = cu_task_state(tid);
		if (st == '?') {
			cu_sleep_ms(300);
			return true;
		}
		seen = (st == 'S' || st == 'D') ? seen + 1 : 0;
		if (seen >= 3) {
			cu_sleep_ms(20);
			return true;
		}
		cu_sleep_ms(10);
	}
	return false;
}

/* join with a deadline; false if the thread is still running */
static inline bool cu_join(pthread_t t, int timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_timedjoin_np(t, NULL, &ts) == 0;
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

/* sockets of this netns listed in /proc/net/af_custom, -1 if unreadable */
static inline int cu_sockets_left(void)
{
	FILE *f = fopen("/proc/net/af_custom", "r");
	char line[512];
	int n = -1;		/* the header line */

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

/*
 * Every socket of this netns is gone: closed sockets are freed after an RCU
 * grace period, so wait for them (CU_WAIT_MS at most).
 */
static inline void cu_expect_no_sockets(struct __test_metadata *_metadata)
{
	long long deadline = cu_now_ms() + CU_WAIT_MS;
	int n;

	while ((n = cu_sockets_left()) > 0 && cu_now_ms() < deadline)
		cu_sleep_ms(20);
	ASSERT_EQ(0, n) {
		TH_LOG("%d socket(s) of this netns still listed in /proc/net/af_custom", n);
	}
}

/* ---- the kernel log --------------------------------------------------------- */

#include "cu_kmsg.h"

/* The kernel log since cu_kmsg_open() reports no problem (closes kmsg). */
static inline void cu_expect_kernel_quiet(struct __test_metadata *_metadata, int kmsg)
{
	char rec[1024];
	const char *msg;
	int found = 0;

	while ((msg = cu_kmsg_next(kmsg, rec, sizeof(rec))))
		if (cu_kmsg_problem(msg) && found++ < 8)
			TH_LOG("kernel: %s", msg);
	if (kmsg >= 0)
		close(kmsg);
	ASSERT_EQ(0, found);
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

	cu_set_timeo(_metadata, fd, SO_SNDTIMEO, 3000);
	t0 = cu_now_ms();
	err = cu_try_connect(fd, port);
	ASSERT_EQ(ECONNREFUSED, err) {
		TH_LOG("connect(%u): %s, want ECONNREFUSED", port,
		       err ? strerror(err) : "succeeded");
	}
	ASSERT_GT(CU_AT_ONCE_MS, cu_now_ms() - t0);
}

/* ---- data ------------------------------------------------------------------ */

/*
 * recvmsg() of at most len bytes into buf; *msg_flags (if set) gets
 * msg_flags. With from, the sender's address is asked for too: it must be
 * a whole sockaddr_cu of the family with scu_reserved 0, and *from gets its
 * port. Returns recvmsg()'s result, errno set when it is -1.
 */
static inline ssize_t cu_recvmsg(struct __test_metadata *_metadata, int fd, void *buf,
				 size_t len, int flags, int *msg_flags, __u32 *from)
{
	struct sockaddr_storage ss;
	struct sockaddr_cu *a = (struct sockaddr_cu *)&ss;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int err;

	if (from) {
		memset(&ss, 0xa5, sizeof(ss));
		msg.msg_name = &ss;
		msg.msg_namelen = sizeof(ss);
	}
	n = recvmsg(fd, &msg, flags);
	err = errno;
	if (msg_flags)
		*msg_flags = msg.msg_flags;
	if (n >= 0 && from) {
		ASSERT_EQ(sizeof(struct sockaddr_cu), msg.msg_namelen);
		ASSERT_EQ(cu_family(), a->scu_family);
		ASSERT_EQ(0, a->scu_reserved);
		*from = a->scu_port;
	}
	errno = err;
	return n;
}

#define CU_NO_ADDR	(-1LL)	/* cu_expect_recv(): the sender's address not asked for */

/*
 * The next message, read by recvmsg(len, flags | MSG_DONTWAIT) into a
 * zeroed buffer: the result is ret, the bytes `expect`, MSG_TRUNC is set
 * in msg_flags iff trunc, and it came from port `from` (CU_NO_ADDR: the
 * address is not asked for).
 */
static inline void cu_expect_recv(struct __test_metadata *_metadata, int fd, size_t len,
				  int flags, ssize_t ret, const char *expect, bool trunc,
				  long long from)
{
	char buf[256];
	__u32 port = 0;
	ssize_t n;
	int fl = 0;

	ASSERT_GT(sizeof(buf), len);
	memset(buf, 0, sizeof(buf));
	n = cu_recvmsg(_metadata, fd, buf, len, flags | MSG_DONTWAIT, &fl,
		       from == CU_NO_ADDR ? NULL : &port);
	ASSERT_EQ(ret, n) {
		TH_LOG("want \"%s\" (%zd bytes): %s", expect, ret,
		       n < 0 ? strerror(errno) : "other length");
	}
	ASSERT_STREQ(expect, buf);
	if (from != CU_NO_ADDR) {
		ASSERT_EQ(from, (long long)port);
	}
	ASSERT_EQ(trunc ? MSG_TRUNC : 0, fl & MSG_TRUNC) {
		TH_LOG("read of %zu bytes, flags %#x: msg_flags %#x", len, flags, fl);
	}
}

/* nothing to read: recv(MSG_DONTWAIT) is EAGAIN */
static inline void cu_expect_empty(struct __test_metadata *_metadata, int fd)
{
	char buf[8];

	ASSERT_EQ(-1, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(EAGAIN, errno);
}

/* a call that began at t0 waited out a 300 ms timeout, and no more */
static inline void cu_expect_timed_out(struct __test_metadata *_metadata, long long t0)
{
	long long dt = cu_now_ms() - t0;

	ASSERT_LE(250, dt);
	ASSERT_GT(CU_WAIT_MS, dt);
}

/*
 * Send 1024-byte chunks on fd without blocking until EAGAIN; with `whole`
 * (records) each send must take all of its chunk. Failing before max bytes:
 * no flow control. Returns the bytes sent.
 */
static inline size_t cu_send_until_eagain(struct __test_metadata *_metadata, int fd,
					  bool whole, size_t max)
{
	static char buf[1024];
	size_t total = 0;
	ssize_t n;

	memset(buf, 'f', sizeof(buf));
	for (;;) {
		n = send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			break;
		if (whole) {
			ASSERT_EQ(sizeof(buf), (size_t)n);
		}
		total += n;
		ASSERT_GT(max, total) {
			TH_LOG("%zu MiB sent to a peer that reads nothing: no flow control",
			       max >> 20);
		}
	}
	ASSERT_EQ(EAGAIN, errno);
	return total;
}

/* read `total` bytes (of a stream or of messages) from fd, bounded */
static inline void cu_drain(struct __test_metadata *_metadata, int fd, size_t total)
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

/*
 * Set-up to send messages around the size SO_SNDBUF allows: SO_SNDBUF
 * 8192 on fd (what it becomes must stay below bufsize / 4), SO_SNDTIMEO
 * 3 s. Returns SO_SNDBUF.
 */
static inline int cu_small_sndbuf(struct __test_metadata *_metadata, int fd,
				  size_t bufsize)
{
	int val = 8192, sndbuf;

	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &val, sizeof(val)));
	sndbuf = cu_sol_int(_metadata, fd, SO_SNDBUF);
	ASSERT_GT((int)bufsize / 4, sndbuf);
	cu_set_timeo(_metadata, fd, SO_SNDTIMEO, 3000);
	return sndbuf;
}

/* ---- threads that block ---------------------------------------------------- */

/*
 * Start fn(arg) in *t; fn stores its tid in *tid first. Returns once that
 * thread sleeps (in the call it is there to make).
 */
static inline void cu_start_sleeper(struct __test_metadata *_metadata, pthread_t *t,
				    void *(*fn)(void *), void *arg, volatile pid_t *tid)
{
	ASSERT_EQ(0, pthread_create(t, NULL, fn, arg));
	while (!*tid)
		cu_sleep_ms(1);
	ASSERT_TRUE(cu_wait_blocked(*tid));
}

/* a poll() of fd for events, for at most CU_WAIT_MS */
struct cu_poller {
	int fd;
	short events;
	short revents;
	pid_t tid;
};

static inline void *cu_poll_thread(void *arg)
{
	struct cu_poller *p = arg;

	p->tid = cu_gettid();
	p->revents = cu_poll(p->fd, p->events, CU_WAIT_MS);
	return NULL;
}

/* a thread in poll(fd, events); returns once it sleeps there */
static inline void cu_start_poller(struct __test_metadata *_metadata, struct cu_poller *p,
				   pthread_t *t, int fd, short events)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->events = events;
	cu_start_sleeper(_metadata, t, cu_poll_thread, p, &p->tid);
}

/* ---- child processes ----------------------------------------------------- */

/* the child exited, with status 0 */
static inline void cu_expect_exit0(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

#endif /* CU_UTIL_H */
