// SPDX-License-Identifier: GPL-2.0
/*
 * cu_fuzz: a seeded syscall fuzzer for AF_CUSTOM (docs/semantics.md §9:
 * whatever userspace does, no kernel warning, oops, KASAN, lockdep or kmemleak
 * report, no hang, nothing left behind).
 *
 *   cu_fuzz [--seed N] [--seconds S] [--rounds R] [--threads T] [--no-fail-nth]
 *
 * --seed N runs the round of seed N (R rounds: seeds N .. N+R-1), --seconds
 * is the length of each round.
 *
 * Each round runs one seed in a child process of its own, in a network
 * namespace of its own: T threads pick random calls (socket, bind,
 * listen, connect, accept, send*, recv*, poll, epoll, shutdown, close,
 * setsockopt, getsockopt, ioctl, getsockname, fcntl, dup, a somaxconn
 * write) with random and hostile arguments (bad and half-mapped pointers,
 * read-only buffers, huge and negative lengths, wrong families, garbage
 * control messages, negative backlogs, random flags) on a shared table of
 * sockets. Where the kernel has failslab (the debug kernel), some calls
 * also run with one of their slab allocations failing (fail-nth).
 *
 * The first slots of that table are shared on purpose ("hot"): connected
 * pairs and listeners on which all threads make well-formed calls at
 * once: sends of mixed sizes (1 to 1024 bytes, up to 16 KiB, up to 64 KiB)
 * while others receive with MSG_PEEK, MSG_WAITALL or SO_RCVLOWAT, change
 * SO_SNDBUF/SO_RCVBUF, shut down, close, accept (blocking), connect and
 * listen again. This is what finds races between threads sharing one
 * socket: a reader peeking while another takes the data, senders
 * sharing the socket's spare skb, accept() racing listen() and connect().
 *
 * Nothing may block for long: every socket gets 20 ms send and receive
 * timeouts, which the fuzzer never lifts, and poll/epoll waits are short.
 * A round fails when a thread is still inside a call 30 s (debug: 90 s)
 * after the round's end, when the child dies of a signal, when the
 * kernel log gets a report during the round, or when module references
 * (one per socket) are still held 30 s after the child and its namespace
 * are gone.
 *
 * Reproducing: each round prints its seed and the command line that runs
 * exactly that round again. Every thread draws its calls from its own
 * generator (seed, thread number), so the calls of a thread are the same
 * on every run; how threads interleave is not. --threads 1 replays one
 * sequence exactly.
 *
 * Defaults: seed from the clock, 4 threads, 4 rounds sharing
 * $CU_FUZZ_SECONDS seconds (12; 40 when $CU_FLAVOUR is "debug"). Run
 * without arguments (as the test runner does), the options are taken from
 * $CU_FUZZ_ARGS: make check-debug TESTS=cu_fuzz CU_FUZZ_ARGS="--seed N ..."
 * replays a round in the test VM.
 * Output: TAP, one result per round. Exit status 0 when every round passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/sockios.h>
#include <linux/af_custom.h>

#include "cu_kmsg.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_THREADS	16
#define TABLE		32		/* sockets shared by the threads */
#define HOT		6		/* its first slots: see "shared sockets" */
#define HOT_LISTENER	4
#define HOT_EXTRA	5
#define TIMEO_US	20000		/* SO_RCVTIMEO / SO_SNDTIMEO */
#define BIG		(64 * 1024)
/* the most control data a receive can get: 253 fds (SCM_MAX_FD), creds */
#define MAX_CONTROL	(CMSG_SPACE(253 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred)))
#define FAILSLAB	"/sys/kernel/debug/failslab"
#define POOL_PORT(t)	(5000 + pick(t, 4))	/* few ports: they collide */

/* ---- options and shared state -------------------------------------------- */

static unsigned long long opt_seed;
static int opt_seconds, opt_rounds = 4, opt_threads = 4;
static bool opt_seed_given, opt_fail_nth = true;
static bool debug_flavour;
static int family = AF_CUSTOM;

static atomic_int table[TABLE];		/* fds, -1 when empty */
static long long deadline_ms;
static bool fail_nth_usable;
static bool own_netns;

/*
 * Buffers the calls use: good, read-only, and ending at a PROT_NONE page.
 * The kernel may write wherever a call points it, so every pointer the
 * fuzzer passes is one of these or a buffer of its own big enough for the
 * most the call can write: a stray pointer into the fuzzer's own memory
 * would have it crash on what it asked the kernel to write.
 */
static char *good;			/* BIG bytes, read-write, then a hole */
static char *rdonly;			/* one page, read-only */
static char *edge;			/* last 16 bytes before a PROT_NONE page */
static char *hole;			/* the PROT_NONE page */

struct thread_state {
	unsigned long long rng;
	int idx;
	int epfd;
	int nth_fd;
	const char *volatile op;	/* the call in progress, for a hang report */
	atomic_long calls;		/* calls finished */
	atomic_bool done;
};

/* shared with the parent, which names the calls of a child that died */
static struct thread_state *threads;
static pthread_barrier_t start_line;	/* no call before every thread's fds are open */

/* what the calls achieved, to show the round did reach the module */
static atomic_long n_sockets, n_connects, n_accepts, n_sent, n_received;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* xorshift64*: the same sequence for the same (seed, thread) everywhere */
static unsigned long long next(struct thread_state *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 2685821657736338717ULL;
}

static unsigned int pick(struct thread_state *t, unsigned int n)
{
	return next(t) % n;
}

static bool chance(struct thread_state *t, unsigned int percent)
{
	return pick(t, 100) < percent;
}

/* ---- hostile arguments ----------------------------------------------------- */

/* a pointer to `len` bytes of user memory, often not a good one */
static void *any_ptr(struct thread_state *t, size_t len)
{
	switch (pick(t, 12)) {
	case 0:
		return NULL;
	case 1:
		return (void *)1;
	case 2:
		return (void *)0xffffffff81000000UL;	/* kernel text */
	case 3:
		return hole;
	case 4:
		return edge;		/* the first 16 bytes are good */
	case 5:
		return rdonly;		/* good to read, EFAULT to write */
	case 6:
		return (void *)-1L;
	default:
		return len <= BIG ? good + pick(t, BIG - len + 1) : good;
	}
}

static size_t any_len(struct thread_state *t)
{
	static const size_t lens[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 64, 100, 4096, BIG,
		(size_t)-1, (size_t)INT32_MAX, (size_t)INT32_MAX + 1, 1UL << 40,
	};

	if (chance(t, 70))
		return pick(t, 256);
	return lens[pick(t, sizeof(lens) / sizeof(lens[0]))];
}

static int any_int(struct thread_state *t)
{
	static const int ints[] = { 0, 1, -1, 2, 3, 5, 16, 128, 4096, 65535,
				    INT32_MAX, INT32_MIN, 0x7ffffffe };

	if (chance(t, 40))
		return (int)next(t);
	return ints[pick(t, sizeof(ints) / sizeof(ints[0]))];
}

static int any_flags(struct thread_state *t)
{
	static const int flags[] = { MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL, MSG_TRUNC,
				     MSG_OOB, MSG_EOR, MSG_MORE, MSG_CONFIRM,
				     MSG_ERRQUEUE, MSG_CMSG_CLOEXEC, MSG_ZEROCOPY,
				     MSG_FASTOPEN, MSG_BATCH, MSG_PROXY };
	int f = MSG_NOSIGNAL, i, n = pick(t, 4);

	if (chance(t, 5))
		return (int)next(t);
	for (i = 0; i < n; i++)
		f |= flags[pick(t, sizeof(flags) / sizeof(flags[0]))];
	if (chance(t, 60))
		f |= MSG_DONTWAIT;
	return f;
}

static __u32 any_port(struct thread_state *t)
{
	static const __u32 ports[] = { CU_PORT_ANY, 1, 80, 1023, 1024,
				       CU_PORT_EPHEMERAL, CU_PORT_EPHEMERAL + 1,
				       0xffffffffU };

	if (chance(t, 75))
		return POOL_PORT(t);
	return ports[pick(t, sizeof(ports) / sizeof(ports[0]))];
}

/* an address for bind/connect/sendto in `buf`; returns its length */
static int any_addr(struct thread_state *t, struct sockaddr_storage *ss,
		    const void **ptr)
{
	struct sockaddr_cu *a = (struct sockaddr_cu *)ss;
	static const int lens[] = { 0, 1, 2, 4, 7, 9, 16, 128, -1, 1 << 30 };

	memset(ss, 0, sizeof(*ss));
	a->scu_family = family;
	a->scu_port = any_port(t);
	if (chance(t, 10))
		a->scu_family = chance(t, 50) ? AF_UNIX : pick(t, 64);
	if (chance(t, 5))
		a->scu_reserved = 1 + pick(t, 0xffff);
	*ptr = ss;
	if (chance(t, 8))
		*ptr = any_ptr(t, sizeof(*a));
	if (chance(t, 85))
		return sizeof(*a);
	return lens[pick(t, sizeof(lens) / sizeof(lens[0]))];
}

/* ---- the socket table -------------------------------------------------------- */

static int any_fd(struct thread_state *t)
{
	if (chance(t, 3))
		return chance(t, 50) ? -1 : 0;	/* not a socket */
	return atomic_load(&table[pick(t, TABLE)]);
}

/*
 * Closing a table fd. Another thread may have read the number from the
 * table just before and be about to use it: had the number been freed, the
 * next socket() could get it, and that thread would use a socket that has
 * no timeouts yet, and might block for good. So the number is not freed at
 * once: /dev/null is dup2()ed over it, which releases the socket exactly
 * as close() would (a call in progress on it keeps it until it returns),
 * and the number goes to a graveyard. It is closed once every thread has
 * finished the call it was in: no stale copy of it is left then.
 */
#define GRAVES		128
static int devnull = -1;
static pthread_mutex_t grave_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int fd;
	long seen[MAX_THREADS];		/* each thread's calls at retirement */
} graves[GRAVES];
static int ngraves;

static void reap_locked(void)
{
	int i, j, kept = 0;
	bool safe;

	for (i = 0; i < ngraves; i++) {
		safe = true;
		for (j = 0; j < opt_threads && safe; j++)
			safe = atomic_load(&threads[j].done) ||
			       atomic_load(&threads[j].calls) > graves[i].seen[j];
		if (safe)
			close(graves[i].fd);
		else
			graves[kept++] = graves[i];
	}
	ngraves = kept;
}

static void reap(void)
{
	pthread_mutex_lock(&grave_lock);
	reap_locked();
	pthread_mutex_unlock(&grave_lock);
}

static void retire(int fd)
{
	int j;

	if (fd < 0 || dup2(devnull, fd) < 0)
		return;
	pthread_mutex_lock(&grave_lock);
	if (ngraves == GRAVES)
		reap_locked();
	if (ngraves < GRAVES) {
		graves[ngraves].fd = fd;
		for (j = 0; j < opt_threads; j++)
			graves[ngraves].seen[j] = atomic_load(&threads[j].calls);
		ngraves++;
	}	/* else the number stays on /dev/null for the round */
	pthread_mutex_unlock(&grave_lock);
}

static void bound_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = TIMEO_US };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* put a new fd in a random slot but a hot one (below), closing what was there */
static void table_put(struct thread_state *t, int fd)
{
	if (fd < 0)
		return;
	bound_timeouts(fd);
	retire(atomic_exchange(&table[HOT + pick(t, TABLE - HOT)], fd));
}

/* ---- fail-nth around one call ------------------------------------------------- */

static void nth_arm(struct thread_state *t)
{
	char buf[8];

	if (t->nth_fd < 0 || !chance(t, 15))
		return;
	snprintf(buf, sizeof(buf), "%u", 1 + pick(t, 8));
	if (write(t->nth_fd, buf, strlen(buf)) < 0)
		t->nth_fd = -1;
}

static void nth_disarm(struct thread_state *t)
{
	if (t->nth_fd >= 0 && write(t->nth_fd, "0", 1) < 0)
		t->nth_fd = -1;
}

/* ---- the calls ------------------------------------------------------------------- */

static void count(atomic_long *counter, long ret)
{
	if (ret > 0)
		atomic_fetch_add(counter, ret);
}

static void op_socket(struct thread_state *t)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
	int type = types[pick(t, 3)], proto = 0, fam = family, fd;

	if (chance(t, 30))
		type |= SOCK_NONBLOCK;
	if (chance(t, 30))
		type |= SOCK_CLOEXEC;
	if (chance(t, 5))
		type = any_int(t);
	if (chance(t, 5))
		proto = any_int(t);
	if (chance(t, 3))
		fam = chance(t, 50) ? family + 1 : any_int(t);
	fd = socket(fam, type, proto);
	if (fd >= 0 && fam != family) {
		close(fd);
		return;
	}
	if (fd >= 0)
		atomic_fetch_add(&n_sockets, 1);
	table_put(t, fd);
}

static void op_close(struct thread_state *t)
{
	retire(atomic_exchange(&table[pick(t, TABLE)], -1));
}

static void op_bind(struct thread_state *t)
{
	struct sockaddr_storage ss;
	const void *p;
	int len, fd = any_fd(t), one = 1;

	len = any_addr(t, &ss, &p);
	if (chance(t, 30))
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	syscall(SYS_bind, fd, p, len);
}

static void op_listen(struct thread_state *t)
{
	static const int backlogs[] = { -1, 0, 1, 2, 3, 8, SOMAXCONN, INT32_MAX, INT32_MIN };
	int backlog = chance(t, 60) ? backlogs[pick(t, 9)] : any_int(t);

	syscall(SYS_listen, any_fd(t), backlog);
}

static void op_connect(struct thread_state *t)
{
	struct sockaddr_storage ss;
	const void *p;
	int len = any_addr(t, &ss, &p);

	if (syscall(SYS_connect, any_fd(t), p, len) == 0)
		atomic_fetch_add(&n_connects, 1);
}

static void op_accept(struct thread_state *t)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	void *addr = NULL, *lenp = NULL;
	int flags = 0, fd;

	if (chance(t, 50)) {
		addr = chance(t, 80) ? (void *)&ss : any_ptr(t, sizeof(ss));
		lenp = chance(t, 80) ? (void *)&len : any_ptr(t, sizeof(len));
		if (chance(t, 20))
			len = any_int(t);
	}
	if (chance(t, 50))
		flags = SOCK_NONBLOCK;
	if (chance(t, 20))
		flags |= SOCK_CLOEXEC;
	if (chance(t, 5))
		flags = any_int(t);
	fd = syscall(SYS_accept4, any_fd(t), addr, lenp, flags);
	if (fd >= 0)
		atomic_fetch_add(&n_accepts, 1);
	table_put(t, fd);
}

/*
 * An iovec array in `iov`, sometimes hostile; returns its count. All `max`
 * entries are set and a hostile count is never one the kernel would take
 * past them: it would read the stack beyond as iovecs, and a receive
 * would write over whatever they point at.
 */
static int any_iov(struct thread_state *t, struct iovec *iov, int max)
{
	int i, n = 1 + pick(t, 4);

	for (i = 0; i < max; i++) {
		iov[i].iov_len = any_len(t);
		iov[i].iov_base = chance(t, 85) && iov[i].iov_len <= BIG ?
				  good + pick(t, BIG - iov[i].iov_len + 1) :
				  any_ptr(t, iov[i].iov_len);
	}
	if (!chance(t, 5))
		return n < max ? n : max;
	n = any_int(t);
	return n > max && n <= IOV_MAX ? max : n;	/* past IOV_MAX: EMSGSIZE */
}

/* random bytes, or a plausible cmsg header with garbage, as control data */
static void any_control(struct thread_state *t, struct msghdr *m, char *buf, size_t size)
{
	struct cmsghdr *c = (struct cmsghdr *)buf;
	size_t i;

	if (chance(t, 70))
		return;
	for (i = 0; i < size; i++)
		buf[i] = next(t);
	if (chance(t, 60)) {
		c->cmsg_len = CMSG_LEN(pick(t, 4) * sizeof(int));
		c->cmsg_level = chance(t, 70) ? SOL_SOCKET : any_int(t);
		c->cmsg_type = chance(t, 50) ? SCM_RIGHTS : SCM_CREDENTIALS;
		if (c->cmsg_type == SCM_RIGHTS)
			for (i = 0; i < 4; i++)
				((int *)CMSG_DATA(c))[i] = atomic_load(&table[pick(t, TABLE)]);
	}
	m->msg_control = chance(t, 90) ? (void *)buf : any_ptr(t, size);
	m->msg_controllen = chance(t, 80) ? size : any_len(t);
}

static void op_send(struct thread_state *t)
{
	struct sockaddr_storage ss;
	struct iovec iov[8];
	struct msghdr m;
	char control[64];
	const void *p;
	size_t len;
	int alen, fd = any_fd(t);

	switch (pick(t, 3)) {
	case 0:
		len = any_len(t);
		count(&n_sent, syscall(SYS_sendto, fd, any_ptr(t, len), len, any_flags(t), NULL, 0));
		break;
	case 1:
		alen = any_addr(t, &ss, &p);
		len = any_len(t);
		count(&n_sent, syscall(SYS_sendto, fd, any_ptr(t, len), len, any_flags(t), p, alen));
		break;
	default:
		memset(&m, 0, sizeof(m));
		if (chance(t, 30)) {
			alen = any_addr(t, &ss, &p);
			m.msg_name = (void *)p;
			m.msg_namelen = alen;
		}
		m.msg_iov = iov;
		m.msg_iovlen = any_iov(t, iov, 8);
		if (chance(t, 5))
			m.msg_iov = any_ptr(t, sizeof(iov));
		any_control(t, &m, control, sizeof(control));
		if (chance(t, 5))
			m.msg_flags = any_int(t);
		count(&n_sent, syscall(SYS_sendmsg, fd,
				       chance(t, 97) ? (void *)&m : any_ptr(t, sizeof(m)),
				       any_flags(t)));
		break;
	}
}

static void op_recv(struct thread_state *t)
{
	struct sockaddr_storage ss;
	struct iovec iov[8];
	struct msghdr m;
	char control[MAX_CONTROL];
	socklen_t alen = sizeof(ss);
	size_t len;
	int fd = any_fd(t);

	switch (pick(t, 3)) {
	case 0:
		len = any_len(t);
		count(&n_received, syscall(SYS_recvfrom, fd, any_ptr(t, len), len,
					   any_flags(t), NULL, NULL));
		break;
	case 1:
		len = any_len(t);
		if (chance(t, 20))
			alen = any_int(t);
		count(&n_received, syscall(SYS_recvfrom, fd, any_ptr(t, len), len, any_flags(t),
					   chance(t, 80) ? (void *)&ss : any_ptr(t, sizeof(ss)),
					   chance(t, 80) ? (void *)&alen : any_ptr(t, sizeof(alen))));
		break;
	default:
		memset(&m, 0, sizeof(m));
		if (chance(t, 50)) {
			m.msg_name = chance(t, 80) ? (void *)&ss : any_ptr(t, sizeof(ss));
			m.msg_namelen = chance(t, 80) ? sizeof(ss) : (socklen_t)any_int(t);
		}
		m.msg_iov = iov;
		m.msg_iovlen = any_iov(t, iov, 8);
		if (chance(t, 30)) {
			m.msg_control = chance(t, 80) ? (void *)control : any_ptr(t, sizeof(control));
			m.msg_controllen = chance(t, 80) ? sizeof(control) : any_len(t);
		}
		count(&n_received, syscall(SYS_recvmsg, fd,
					   chance(t, 97) ? (void *)&m : any_ptr(t, sizeof(m)),
					   any_flags(t)));
		break;
	}
}

static void op_poll(struct thread_state *t)
{
	struct pollfd p[TABLE];
	struct epoll_event ev[8];
	int i, n = 1 + pick(t, TABLE);

	if (chance(t, 50)) {
		for (i = 0; i < n; i++) {
			p[i].fd = any_fd(t);
			p[i].events = chance(t, 80) ? POLLIN | POLLOUT | POLLRDHUP : (short)next(t);
			p[i].revents = 0;
		}
		poll(chance(t, 97) ? p : any_ptr(t, sizeof(p)), n, pick(t, 3));
		return;
	}
	if (t->epfd < 0)
		return;
	if (chance(t, 60)) {
		ev[0].events = chance(t, 80) ? EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLERR :
					       (__u32)next(t) & ~EPOLLEXCLUSIVE;
		ev[0].data.u64 = next(t);
		epoll_ctl(t->epfd, EPOLL_CTL_ADD + pick(t, 3), any_fd(t), ev);
	}
	epoll_wait(t->epfd, ev, 8, pick(t, 3));
}

static void op_shutdown(struct thread_state *t)
{
	int how = chance(t, 85) ? (int)pick(t, 3) : any_int(t);

	syscall(SYS_shutdown, any_fd(t), how);
}

/* SOL_SOCKET options, never the timeouts (they keep calls short) */
static int any_sol_socket_opt(struct thread_state *t)
{
	static const int opts[] = {
		SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE,
		SO_RCVBUFFORCE, SO_RCVLOWAT, SO_SNDLOWAT, SO_KEEPALIVE, SO_OOBINLINE,
		SO_PASSCRED, SO_PEERCRED, SO_PEEK_OFF, SO_PRIORITY, SO_MARK,
		SO_BROADCAST, SO_TIMESTAMP, SO_TIMESTAMPNS, SO_ERROR, SO_TYPE,
		SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN, SO_PEERNAME, SO_ZEROCOPY,
		SO_BINDTODEVICE, SO_ATTACH_FILTER, SO_DETACH_FILTER, SO_LOCK_FILTER,
		SO_SELECT_ERR_QUEUE, SO_INCOMING_CPU, SO_MEMINFO, SO_COOKIE,
		SO_PEERSEC, SO_PASSSEC, SO_RXQ_OVFL, SO_WIFI_STATUS, SO_NOFCS,
		SO_BUSY_POLL, SO_MAX_PACING_RATE, SO_TXTIME, SO_BUF_LOCK,
	};
	int o;

	if (chance(t, 80))
		return opts[pick(t, sizeof(opts) / sizeof(opts[0]))];
	o = pick(t, 80);
	if (o == SO_RCVTIMEO_OLD || o == SO_SNDTIMEO_OLD || o == SO_LINGER ||
	    o == SO_RCVTIMEO_NEW || o == SO_SNDTIMEO_NEW)
		o = SO_SNDBUF;
	return o;
}

static void any_sockopt(struct thread_state *t, int *level, int *name)
{
	switch (pick(t, 10)) {
	case 0: case 1: case 2: case 3:
		*level = SOL_SOCKET;
		*name = any_sol_socket_opt(t);
		break;
	case 4: case 5: case 6: case 7:
		*level = SOL_CUSTOM;
		*name = chance(t, 80) ? (int)pick(t, 6) : any_int(t);
		break;
	default:
		*level = chance(t, 50) ? (int)pick(t, 300) : any_int(t);
		if (*level == SOL_SOCKET)
			*level = SOL_CUSTOM;
		*name = any_int(t);
		break;
	}
}

static void op_setsockopt(struct thread_state *t)
{
	int level, name, len, i;

	any_sockopt(t, &level, &name);
	/*
	 * The core vmalloc()s a classic BPF program, and logs a failure of
	 * that with a stack dump (warn_alloc()), which would fail the round
	 * for an allocation that is not this module's: not failed.
	 */
	if (level == SOL_SOCKET &&
	    (name == SO_ATTACH_FILTER || name == SO_ATTACH_REUSEPORT_CBPF))
		nth_disarm(t);
	len = chance(t, 70) ? (int)sizeof(int) : (int)any_len(t);
	for (i = 0; i < 16; i++)
		((int *)good)[i] = chance(t, 50) ? any_int(t) : (int)pick(t, 3);
	syscall(SYS_setsockopt, any_fd(t), level, name,
		chance(t, 90) ? (void *)good : any_ptr(t, len), len);
}

static void op_getsockopt(struct thread_state *t)
{
	socklen_t len = chance(t, 70) ? 64 : (socklen_t)any_int(t);
	char val[256];
	int level, name;

	any_sockopt(t, &level, &name);
	syscall(SYS_getsockopt, any_fd(t), level, name,
		chance(t, 85) ? (void *)val : any_ptr(t, sizeof(val)),
		chance(t, 90) ? (void *)&len : any_ptr(t, sizeof(len)));
}

static void op_ioctl(struct thread_state *t)
{
	static const unsigned long cmds[] = {
		SIOCINQ, SIOCOUTQ, FIONBIO, FIOASYNC, SIOCATMARK, SIOCGSTAMP,
		SIOCGSTAMPNS, SIOCOUTQNSD, SIOCGPGRP, SIOCSPGRP, FIOCLEX, FIONCLEX,
		SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFFLAGS, SIOCGIFCONF,
	};
	/* room for what the ioctls write: an ifreq, an ifconf, a timeval */
	union {
		int val;
		char room[64];
	} arg;
	unsigned long cmd;

	memset(&arg, 0, sizeof(arg));
	arg.val = pick(t, 2);
	if (chance(t, 85))
		cmd = cmds[pick(t, sizeof(cmds) / sizeof(cmds[0]))];
	else
		cmd = chance(t, 50) ? 0x8900 + pick(t, 0x100) : (unsigned int)next(t);
	/* interface ioctls may reconfigure loopback: only in a netns of our own */
	if (!own_netns && cmd >= 0x8900 && cmd < 0x8a00)
		cmd = SIOCINQ;
	syscall(SYS_ioctl, any_fd(t), cmd,
		chance(t, 85) ? (void *)&arg : any_ptr(t, sizeof(arg)));
}

static void op_names(struct thread_state *t)
{
	struct sockaddr_storage ss;
	socklen_t len = chance(t, 80) ? sizeof(ss) : (socklen_t)any_int(t);

	syscall(chance(t, 50) ? SYS_getsockname : SYS_getpeername, any_fd(t),
		chance(t, 85) ? (void *)&ss : any_ptr(t, sizeof(ss)),
		chance(t, 90) ? (void *)&len : any_ptr(t, sizeof(len)));
}

static void op_misc(struct thread_state *t)
{
	int fd = any_fd(t), fl, sv[2];
	char buf[16];

	switch (pick(t, 5)) {
	case 0:
		fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl ^ O_NONBLOCK);
		break;
	case 1:
		if (fd >= 0)
			table_put(t, dup(fd));
		break;
	case 2:
		if (socketpair(family, SOCK_STREAM + pick(t, 5), 0, sv) == 0) {
			table_put(t, sv[0]);
			table_put(t, sv[1]);
		}
		break;
	case 3:
		/* net.core.somaxconn of the round's namespace */
		fd = open("/proc/sys/net/core/somaxconn", O_WRONLY);
		if (fd >= 0) {
			snprintf(buf, sizeof(buf), "%d", (int[]){ 0, 1, 2, 5, 128, 4096 }[pick(t, 6)]);
			if (write(fd, buf, strlen(buf)) < 0) {
				/* not allowed: fine */
			}
			close(fd);
		}
		break;
	default:
		/* replace the socket behind a number, under other threads' feet */
		sv[0] = atomic_load(&table[pick(t, TABLE)]);
		if (fd > 2 && sv[0] >= 0)
			dup2(sv[0], fd);
		break;
	}
}

/*
 * Well-formed steps that build state for the hostile calls to hit: a
 * listener on a pool port, a client connected to one, an accept, a bound
 * datagram socket and a datagram sent to it.
 */
static void op_setup(struct thread_state *t)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
	struct sockaddr_cu a = { .scu_family = family, .scu_port = POOL_PORT(t) };
	int type = types[pick(t, 3)], fd, one = 1;

	switch (pick(t, 4)) {
	case 0:		/* listener (or bound datagram socket) */
		fd = socket(family, type | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return;
		if (chance(t, 50))
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
		    (type != SOCK_DGRAM && listen(fd, 1 + pick(t, 8)))) {
			close(fd);
			return;
		}
		atomic_fetch_add(&n_sockets, 1);
		table_put(t, fd);
		break;
	case 1:
	case 2:		/* client */
		fd = socket(family, type | (chance(t, 50) ? SOCK_NONBLOCK : 0), 0);
		if (fd < 0)
			return;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
			close(fd);
			return;
		}
		atomic_fetch_add(&n_connects, 1);
		if (chance(t, 70))
			count(&n_sent, send(fd, "setup", 5, MSG_DONTWAIT | MSG_NOSIGNAL));
		table_put(t, fd);
		break;
	default:	/* accept from whatever listens in one of a few random slots */
		for (one = 0; one < 4; one++) {
			fd = accept4(atomic_load(&table[pick(t, TABLE)]), NULL, NULL,
				     SOCK_NONBLOCK);
			if (fd >= 0) {
				atomic_fetch_add(&n_accepts, 1);
				table_put(t, fd);
				break;
			}
		}
		break;
	}
}

/* ---- shared sockets: well-formed calls of several threads on the same socket ---- */

/*
 * The first HOT slots of the table are shared on purpose: slots 0-1 and
 * 2-3 each hold the two ends of a connected pair, slot 4 a listener and
 * slot 5 what was last accepted from it or connected to it. Every thread
 * makes well-formed calls there at once: sends of small and large sizes
 * while others read (with MSG_PEEK, MSG_WAITALL, SO_RCVLOWAT), change the
 * buffers, shut down, close, accept, connect and listen again. Most data
 * calls go to the first pair, so two threads meet on one socket often.
 * Other calls put their new sockets in the other slots only, but the
 * hostile calls reach these slots too (any_fd() picks from the whole
 * table).
 *
 * Measured against issue 13's bugs (debug kernel, --seconds 60, 4
 * threads): the peek use-after-free in the second round, about 75 s in
 * (on the stock kernel an oops about 2 s in); the accept() might_sleep
 * warning, alone, in the second round, about 65 s in; the spare skb race,
 * alone, not in 3 rounds (cu_race's senders test finds it).
 */

/* a slot of one of the two pairs, mostly of the first */
static int hot_slot(struct thread_state *t)
{
	return chance(t, 60) ? (int)pick(t, 2) : (int)pick(t, 4);
}

static int hot_fd(struct thread_state *t)
{
	return atomic_load(&table[hot_slot(t)]);
}

/* the listener's slot mostly, else any hot one */
static int hot_listener(struct thread_state *t)
{
	return atomic_load(&table[chance(t, 80) ? HOT_LISTENER : (int)pick(t, HOT)]);
}

/* put fd in hot slot i, retiring what was there */
static void hot_put(int i, int fd)
{
	if (fd < 0)
		return;
	bound_timeouts(fd);
	retire(atomic_exchange(&table[i], fd));
}

/* the sizes a sender mixes: mostly small messages, some spanning pages */
static size_t hot_len(struct thread_state *t)
{
	if (chance(t, 60))
		return 1 + pick(t, 1024);
	if (chance(t, 75))
		return 1025 + pick(t, 16384 - 1024);
	return 1 + pick(t, BIG);
}

/* a listener, a client connected to it and the accepted socket: a hot pair */
static void op_hot_pair(struct thread_state *t)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET };
	struct sockaddr_cu a = { .scu_family = family };
	socklen_t alen = sizeof(a);
	int type = types[pick(t, 2)], lfd, c = -1, s = -1, pair;

	lfd = socket(family, type, 0);
	if (lfd < 0)
		return;
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1 + pick(t, 8)) ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen))
		goto out;
	c = socket(family, type, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
		goto out;
	s = accept4(lfd, NULL, NULL, 0);
	if (s < 0)
		goto out;
	atomic_fetch_add(&n_connects, 1);
	atomic_fetch_add(&n_accepts, 1);
	pair = 2 * pick(t, 2);
	hot_put(pair, c);
	hot_put(pair + 1, s);
	c = -1;
	s = -1;
	if (chance(t, 50)) {
		hot_put(HOT_LISTENER, lfd);	/* for accept, connect, listen */
		lfd = -1;
	}
out:
	close(lfd);
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
}

static void op_hot_send(struct thread_state *t)
{
	size_t len = hot_len(t);

	count(&n_sent, send(hot_fd(t), good + pick(t, BIG - len + 1), len,
			    MSG_NOSIGNAL | (chance(t, 40) ? MSG_DONTWAIT : 0)));
}

static void op_hot_recv(struct thread_state *t)
{
	static const int flags[] = { 0, MSG_PEEK, MSG_WAITALL, MSG_PEEK | MSG_WAITALL,
				     MSG_DONTWAIT, MSG_PEEK | MSG_DONTWAIT, MSG_TRUNC };
	size_t len = hot_len(t);
	int fd = hot_fd(t), lowat;

	if (chance(t, 15)) {
		lowat = chance(t, 50) ? 1 : 1 + (int)pick(t, 8192);
		setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat));
	}
	count(&n_received, recv(fd, good + pick(t, BIG - len + 1), len,
				flags[pick(t, ARRAY_SIZE(flags))]));
}

/* buffers, shutdown, close and listen on a hot socket */
static void op_hot_ctl(struct thread_state *t)
{
	static const int sizes[] = { 1, 2048, 4096, 16384, 65536, 1 << 20, 4 << 20 };
	static const int opts[] = { SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE };
	int fd = hot_fd(t), val = sizes[pick(t, ARRAY_SIZE(sizes))];

	switch (pick(t, 6)) {
	case 0:
	case 1:
		setsockopt(fd, SOL_SOCKET, opts[pick(t, 4)], &val, sizeof(val));
		break;
	case 2:
		shutdown(fd, pick(t, 3));
		break;
	case 3:
		retire(atomic_exchange(&table[pick(t, HOT)], -1));
		break;
	default:
		listen(hot_listener(t), 1 + pick(t, 8));
		break;
	}
}

/* accept on the hot listener (a blocking one waits its 20 ms) */
static void op_hot_accept(struct thread_state *t)
{
	int fd = accept4(hot_listener(t), NULL, NULL, chance(t, 30) ? SOCK_NONBLOCK : 0);

	if (fd >= 0) {
		atomic_fetch_add(&n_accepts, 1);
		hot_put(HOT_EXTRA, fd);
	}
}

/* connect to the hot listener's port, with a socket of its type */
static void op_hot_connect(struct thread_state *t)
{
	struct sockaddr_cu a;
	socklen_t alen = sizeof(a), tlen = sizeof(int);
	int fd = hot_listener(t), type, c;

	if (getsockname(fd, (struct sockaddr *)&a, &alen) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen))
		return;
	c = socket(family, type, 0);
	if (c < 0)
		return;
	bound_timeouts(c);
	if (connect(c, (struct sockaddr *)&a, sizeof(a))) {
		close(c);
		return;
	}
	atomic_fetch_add(&n_connects, 1);
	if (chance(t, 30)) {
		close(c);	/* leaves a pending connection without a client */
		return;
	}
	hot_put(HOT_EXTRA, c);
}

static const struct {
	const char *name;
	void (*fn)(struct thread_state *t);
	int weight;
} ops[] = {
	{ "socket", op_socket, 10 },
	{ "close", op_close, 5 },
	{ "bind", op_bind, 8 },
	{ "listen", op_listen, 8 },
	{ "connect", op_connect, 10 },
	{ "accept", op_accept, 8 },
	{ "send", op_send, 12 },
	{ "recv", op_recv, 12 },
	{ "poll", op_poll, 5 },
	{ "shutdown", op_shutdown, 4 },
	{ "setsockopt", op_setsockopt, 6 },
	{ "getsockopt", op_getsockopt, 6 },
	{ "ioctl", op_ioctl, 4 },
	{ "getname", op_names, 3 },
	{ "misc", op_misc, 5 },
	{ "setup", op_setup, 14 },
	{ "hot_pair", op_hot_pair, 2 },
	{ "hot_send", op_hot_send, 14 },
	{ "hot_recv", op_hot_recv, 14 },
	{ "hot_ctl", op_hot_ctl, 4 },
	{ "hot_accept", op_hot_accept, 5 },
	{ "hot_connect", op_hot_connect, 6 },
};

#define NOPS	(sizeof(ops) / sizeof(ops[0]))

static void *fuzz_thread(void *arg)
{
	struct thread_state *t = arg;
	unsigned int total = 0, i, r;
	char path[64];

	for (i = 0; i < NOPS; i++)
		total += ops[i].weight;
	if (fail_nth_usable) {
		/* this thread's own file: the one opened for it was its parent's */
		close(t->nth_fd);
		snprintf(path, sizeof(path), "/proc/thread-self/fail-nth");
		t->nth_fd = open(path, O_RDWR);
	}
	pthread_barrier_wait(&start_line);
	while (now_ms() < deadline_ms) {
		r = pick(t, total);
		for (i = 0; r >= (unsigned int)ops[i].weight; i++)
			r -= ops[i].weight;
		t->op = ops[i].name;
		nth_arm(t);
		ops[i].fn(t);
		nth_disarm(t);
		t->op = NULL;
		atomic_fetch_add(&t->calls, 1);
		if (!(atomic_load(&t->calls) % 64))
			reap();
	}
	atomic_store(&t->done, true);
	return NULL;
}

/* ---- one round, in a child ----------------------------------------------------- */

static void setup_memory(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *m;

	/* any_ptr() gives good for lengths past BIG: they end in a fault */
	good = mmap(NULL, BIG + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (good == MAP_FAILED || m == MAP_FAILED) {
		perror("cu_fuzz: mmap");
		_exit(2);
	}
	mprotect(good + BIG, page, PROT_NONE);
	memset(good, 'g', BIG);
	memset(m, 'r', page);
	rdonly = m;
	mprotect(rdonly, page, PROT_READ);
	edge = m + 2 * page - 16;
	hole = m + 2 * page;
	mprotect(hole, page, PROT_NONE);
}

/* the call thread i is in, for a hang or a death report */
static const char *call_in_progress(int i)
{
	const char *op = threads[i].op;

	return op ? op : "(between calls)";
}

static int run_round(unsigned long long seed, int seconds)
{
	pthread_t tid[MAX_THREADS];
	struct rlimit rl = { 256, 256 };
	long long grace = debug_flavour ? 90000 : 30000, calls = 0;
	int i, stuck = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGIO, SIG_IGN);
	signal(SIGURG, SIG_IGN);
	own_netns = unshare(CLONE_NEWNET) == 0;
	if (!own_netns)
		printf("# unshare(CLONE_NEWNET): %s; fuzzing in the current netns\n",
		       strerror(errno));
	setrlimit(RLIMIT_NOFILE, &rl);
	devnull = open("/dev/null", O_RDWR);
	setup_memory();
	for (i = 0; i < TABLE; i++)
		atomic_store(&table[i], -1);
	deadline_ms = now_ms() + seconds * 1000LL;
	pthread_barrier_init(&start_line, NULL, opt_threads);
	for (i = 0; i < opt_threads; i++) {
		threads[i].epfd = epoll_create1(0);
		threads[i].nth_fd = fail_nth_usable ? open("/dev/null", O_RDONLY) : -1;
	}
	for (i = 0; i < opt_threads; i++) {
		threads[i].idx = i;
		threads[i].rng = seed * 0x9e3779b97f4a7c15ULL + i + 1;
		if (pthread_create(&tid[i], NULL, fuzz_thread, &threads[i])) {
			printf("# pthread_create failed\n");
			return 2;
		}
	}
	for (i = 0; i < opt_threads; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (deadline_ms - now_ms() + grace) / 1000 + 1;
		if (pthread_timedjoin_np(tid[i], NULL, &ts)) {
			printf("# thread %d still in a %s call %lld s after the end\n",
			       i, call_in_progress(i), grace / 1000);
			stuck++;
		}
		calls += atomic_load(&threads[i].calls);
	}
	printf("# %lld calls: %ld sockets, %ld connects, %ld accepts, %ld bytes sent, %ld received\n",
	       calls, atomic_load(&n_sockets), atomic_load(&n_connects),
	       atomic_load(&n_accepts), atomic_load(&n_sent), atomic_load(&n_received));
	fflush(stdout);
	if (stuck)
		return 3;
	for (i = 0; i < TABLE; i++)
		if (atomic_load(&table[i]) >= 0)
			close(atomic_load(&table[i]));
	return 0;
}

/* ---- the parent: kernel log, module references --------------------------------- */

/* new kernel log records reporting a problem; prints them, returns how many */
static int kernel_reports(struct cu_kmsg *kmsg)
{
	char rec[2048];
	const char *problem;
	int found = 0;

	while ((problem = cu_kmsg_next_problem(kmsg, rec, sizeof(rec))))
		if (found++ < 20)
			printf("# kernel: %s\n", problem);
	return found;
}

static long module_refs(void)
{
	FILE *f = fopen("/sys/module/af_custom/refcnt", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int put_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -1;
	close(fd);
	return ret;
}

/* fail-nth needs failslab to fail GFP_KERNEL allocations, quietly */
static void setup_failslab(void)
{
	if (!opt_fail_nth)
		return;
	if (access(FAILSLAB, F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (access(FAILSLAB, F_OK) || access("/proc/thread-self/fail-nth", W_OK))
		return;
	if (put_file(FAILSLAB "/verbose", "0") ||
	    put_file(FAILSLAB "/ignore-gfp-wait", "N") ||
	    put_file(FAILSLAB "/task-filter", "Y"))
		return;
	fail_nth_usable = true;
}

static bool wait_child(pid_t pid, int seconds, int *status)
{
	long long end = now_ms() + seconds * 1000LL;

	while (now_ms() < end) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		usleep(20000);
	}
	return false;
}

/* what each thread of a child that died was doing */
static void print_calls_in_progress(void)
{
	int i;

	for (i = 0; i < opt_threads; i++)
		printf("# thread %d was in a %s call\n", i, call_in_progress(i));
}

static int round_result(int n, unsigned long long seed, int seconds,
			struct cu_kmsg *kmsg)
{
	long base = module_refs(), refs;
	int status = 0, reports, grace = debug_flavour ? 150 : 60;
	char why[160] = "";
	long long start;
	pid_t pid;

	printf("# round %d: seed %llu, %d s, %d threads%s (again: cu_fuzz --seed %llu --seconds %d --threads %d%s)\n",
	       n, seed, seconds, opt_threads, fail_nth_usable ? ", fail-nth" : "",
	       seed, seconds, opt_threads, opt_fail_nth ? "" : " --no-fail-nth");
	fflush(stdout);
	memset(threads, 0, MAX_THREADS * sizeof(*threads));
	pid = fork();
	if (pid < 0) {
		printf("not ok %d seed %llu: fork: %s\n", n, seed, strerror(errno));
		return 1;
	}
	if (pid == 0)
		_exit(run_round(seed, seconds));

	if (!wait_child(pid, seconds + grace, &status)) {
		kill(pid, SIGKILL);
		if (!wait_child(pid, 10, &status))
			snprintf(why, sizeof(why), "the child is stuck in the kernel, SIGKILL does not end it");
		else
			snprintf(why, sizeof(why), "the child hung (killed after %d s)", seconds + grace);
	} else if (WIFSIGNALED(status)) {
		snprintf(why, sizeof(why), "the child died of signal %d", WTERMSIG(status));
		print_calls_in_progress();
	} else if (WEXITSTATUS(status) == 3) {
		snprintf(why, sizeof(why), "a thread never returned from its call");
	} else if (WEXITSTATUS(status)) {
		snprintf(why, sizeof(why), "the child exited with status %d", WEXITSTATUS(status));
	}

	/* sockets (and the namespace) are freed asynchronously: wait for them */
	start = now_ms();
	refs = module_refs();
	while (!why[0] && base >= 0 && refs > base && now_ms() - start < 30000) {
		usleep(50000);
		refs = module_refs();
	}
	if (!why[0] && refs > base)
		snprintf(why, sizeof(why), "%ld module reference(s) still held 30 s after the round (was %ld)",
			 refs, base);

	reports = kernel_reports(kmsg);
	if (reports && !why[0])
		snprintf(why, sizeof(why), "%d kernel log line(s) report a problem", reports);
	if (why[0]) {
		printf("not ok %d seed %llu: %s\n", n, seed, why);
		return 1;
	}
	printf("ok %d seed %llu\n", n, seed);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: cu_fuzz [--seed N] [--seconds S] [--rounds R] [--threads T] [--no-fail-nth]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *env;
	struct cu_kmsg kmsg;
	int i, failed = 0, total;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	env = getenv("CU_FLAVOUR");
	debug_flavour = env && !strcmp(env, "debug");
	total = debug_flavour ? 40 : 12;
	if ((env = getenv("CU_FUZZ_SECONDS")) && atoi(env) > 0)
		total = atoi(env);
	if (argc == 1 && (env = getenv("CU_FUZZ_ARGS")) && *env) {
		static char *args[32];
		char *copy = strdup(env), *tok;

		argc = 0;
		args[argc++] = argv[0];
		for (tok = strtok(copy, " \t"); tok && argc < 31; tok = strtok(NULL, " \t"))
			args[argc++] = tok;
		argv = args;
		printf("# CU_FUZZ_ARGS: %s\n", env);
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			opt_seed = strtoull(argv[++i], NULL, 0);
			opt_seed_given = true;
			opt_rounds = 1;
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			opt_seconds = atoi(argv[++i]);
			if (opt_seconds < 1)
				usage();
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
			opt_rounds = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			opt_threads = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--no-fail-nth")) {
			opt_fail_nth = false;
		} else {
			usage();
		}
	}
	if (!opt_seconds)
		opt_seconds = total / opt_rounds > 0 ? total / opt_rounds : 1;
	if (opt_seconds < 1 || opt_rounds < 1 || opt_threads < 1 || opt_threads > MAX_THREADS)
		usage();
	if (!opt_seed_given)
		opt_seed = (unsigned long long)time(NULL) * 1000 + getpid() % 1000;
	f = fopen("/sys/module/af_custom/parameters/family", "r");
	if (f) {
		if (fscanf(f, "%d", &family) != 1)
			family = AF_CUSTOM;
		fclose(f);
	}
	setup_failslab();
	threads = mmap(NULL, MAX_THREADS * sizeof(*threads), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (threads == MAP_FAILED) {
		perror("cu_fuzz: mmap");
		return 2;
	}

	printf("TAP version 13\n1..%d\n", opt_rounds);
	cu_kmsg_open(&kmsg);
	for (i = 0; i < opt_rounds; i++)
		failed += round_result(i + 1, opt_seed + i, opt_seconds, &kmsg);
	printf("# Totals: pass:%d fail:%d\n", opt_rounds - failed, failed);
	return failed ? 1 : 0;
}
