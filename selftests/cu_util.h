/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the af_custom selftests (kselftest_harness.h style).
 *
 * Every helper that can fail takes _metadata and ASSERTs, so a test reads
 * as a list of steps. socket(AF_CUSTOM) failing with EAFNOSUPPORT is a
 * FAILURE (the module is missing), never a skip.
 *
 * Hang protection: every fixture calls cu_setup(), which arms a SIGALRM
 * watchdog (CU_WATCHDOG_SECS, below the harness's own 30 s timeout). A
 * blocking call that should have returned kills the test with a message
 * instead of stalling the VM. Waits for data use MSG_DONTWAIT loops with a
 * deadline, so a broken wakeup is reported by the test that checks wakeups,
 * not by every test that reads.
 *
 * Threads never ASSERT (the harness longjmps): they store results for the
 * main thread to check.
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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <linux/capability.h>
#include <linux/af_custom.h>

/* the 6.1 harness has an unused parameter; keep -Wextra clean */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#define CU_WATCHDOG_SECS	20	/* per test; harness timeout is 30 */
#define CU_WAIT_MS		5000	/* longest wait for something that must happen */
#define CU_AT_ONCE_MS		1000	/* "at once", generous for TCG emulation */
#define CU_MAX_FDS		64

#define CU_SA(a)		((struct sockaddr *)(a))

/* The family number: the loaded module's `family` parameter, else 22. */
static inline int cu_family(void)
{
	static int family;
	FILE *f;
	int v;

	if (family)
		return family;
	family = AF_CUSTOM;
	f = fopen("/sys/module/af_custom/parameters/family", "r");
	if (f) {
		if (fscanf(f, "%d", &v) == 1 && v > 0)
			family = v;
		fclose(f);
	}
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

/* ---- watchdog and signals ---------------------------------------------- */

static void __attribute__((unused)) cu_watchdog_fired(int sig)
{
	static const char msg[] =
		"# watchdog: a call that should have returned is still blocked\n";

	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more we can do */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline void cu_watchdog(unsigned int secs)
{
	signal(SIGALRM, cu_watchdog_fired);
	alarm(secs);
}

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

/* Common fixture set-up: watchdog, SIGPIPE counter, own netns. */
static inline bool cu_setup(void)
{
	cu_watchdog(CU_WATCHDOG_SECS);
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

static inline int cu_getopt_int(struct __test_metadata *_metadata, int fd, int opt)
{
	socklen_t len = sizeof(int);
	int v = -12345;

	ASSERT_EQ(0, getsockopt(fd, SOL_CUSTOM, opt, &v, &len)) {
		TH_LOG("getsockopt(SOL_CUSTOM, %d): %s", opt, strerror(errno));
	}
	ASSERT_EQ(sizeof(int), len);
	return v;
}

static inline int cu_sol_int(struct __test_metadata *_metadata, int fd, int opt)
{
	socklen_t len = sizeof(int);
	int v = -12345;

	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, opt, &v, &len)) {
		TH_LOG("getsockopt(SOL_SOCKET, %d): %s", opt, strerror(errno));
	}
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
 * The sequence a reset connection must show (CONTRACT §4, §7): poll
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

/* drop one capability from the effective, permitted and inheritable sets */
static inline int cu_drop_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[cap / 32].effective &= ~(1U << (cap % 32));
	data[cap / 32].permitted &= ~(1U << (cap % 32));
	data[cap / 32].inheritable &= ~(1U << (cap % 32));
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

static inline bool cu_has_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1U << (cap % 32));
}

/* net.core.somaxconn of the current netns, -1 if unreadable */
static inline int cu_somaxconn(void)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
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

/* remember an fd for the fixture's teardown */
#define CU_KEEP(self, fd) ({						\
	int __fd = (fd);						\
	ASSERT_GT(CU_MAX_FDS, (self)->nfds);				\
	(self)->fds[(self)->nfds++] = __fd;				\
	__fd;								\
})

static inline void cu_close_all(int *fds, int *nfds)
{
	int i;

	for (i = 0; i < *nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	*nfds = 0;
}

#endif /* CU_UTIL_H */
