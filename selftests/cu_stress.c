// SPDX-License-Identifier: GPL-2.0
/*
 * Stress (docs/semantics.md §4-§7, §9): for a fixed time, threads connect
 * and send, accept and read, resize backlogs at random, shut listeners down
 * and listen again on fresh sockets (a shut-down listener cannot listen
 * again, §4), and close clients mid-flight, on STREAM and SEQPACKET ports
 * at once. Then, for every listener that ever lived:
 *
 *   queued = accepted + reset_shrink + reset_close + pending
 *
 * from its CU_STATS, read after its shutdown, and the counters match what
 * the threads saw: queued = connects that succeeded, accepted = accepts
 * that returned a socket, refused_full = connects refused (a listener
 * cannot refuse for another reason while it listens). At the end no
 * socket of the test's netns is left; the runner then unloads the module.
 *
 * Duration: $CU_STRESS_SECONDS, else 20 s (10 s when $CU_FLAVOUR is
 * "debug": a KASAN + lockdep kernel under TCG is many times slower).
 *
 * Every thread checks its own calls: an errno outside the expected set
 * is recorded (threads never ASSERT) and fails the test.
 */
#include "cu_util.h"
#include "cu_thread.h"

#include <stdarg.h>
#include <stdatomic.h>

#define SLOTS		4	/* listening ports: even STREAM, odd SEQPACKET */
#define CLIENTS		4	/* client threads */
#define ACCEPTORS	2	/* acceptor threads */
#define CONNS		16	/* open connections per client or acceptor */
#define MAX_BACKLOG	16
#define PORT_BASE	4200U
#define MAX_ERRORS	16

struct slot {
	pthread_rwlock_t lock;	/* write: replacing the listener */
	int type;
	__u32 port;
	int lfd;
	/* what the threads saw of the current listener (under lock) */
	atomic_long connected;
	atomic_long refused;
	atomic_long accepted;
};

static struct slot slots[SLOTS];
static atomic_bool stop;
static long long deadline_ms;

/* totals over all retired listeners */
static struct cu_listen_stats total;
static long generations;

static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char errors[MAX_ERRORS][160];
static int nerrors;

static void __attribute__((format(printf, 1, 2))) record(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&err_lock);
	if (nerrors < MAX_ERRORS) {
		va_start(ap, fmt);
		vsnprintf(errors[nerrors], sizeof(errors[0]), fmt, ap);
		va_end(ap);
	}
	nerrors++;
	pthread_mutex_unlock(&err_lock);
}

/* per-thread xorshift, seeded from the thread number */
static unsigned int rnd(unsigned int *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static int new_listener(struct slot *sl, unsigned int *seed)
{
	struct sockaddr_cu a = cu_addr(sl->port);
	int fd, one = 1;

	fd = socket(cu_family(), sl->type | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		record("listener socket(): %s", strerror(errno));
		return -1;
	}
	/* the old, shut-down listener may still hold the port */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, CU_SA(&a), sizeof(a)) ||
	    listen(fd, 1 + rnd(seed) % MAX_BACKLOG)) {
		record("new listener on port %u: %s", sl->port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Shut the slot's listener down, check its counters, and (unless final)
 * replace it by a fresh socket listening on the same port; the old one is
 * closed after its successor listens. Takes the slot's write lock.
 */
static void retire(struct slot *sl, unsigned int *seed, bool final)
{
	struct cu_listen_stats st;
	socklen_t len = sizeof(st);
	long connected, refused, accepted;
	int pending, old, ilen = sizeof(int);

	pthread_rwlock_wrlock(&sl->lock);
	old = sl->lfd;
	if (old < 0)
		goto replace;
	if (shutdown(old, SHUT_RDWR))
		record("shutdown(listener): %s", strerror(errno));
	memset(&st, 0, sizeof(st));
	if (getsockopt(old, SOL_CUSTOM, CU_STATS, &st, &len) ||
	    getsockopt(old, SOL_CUSTOM, CU_PENDING, &pending, (socklen_t *)&ilen)) {
		record("getsockopt(CU_STATS/CU_PENDING): %s", strerror(errno));
		goto replace;
	}
	connected = atomic_load(&sl->connected);
	refused = atomic_load(&sl->refused);
	accepted = atomic_load(&sl->accepted);
	if (pending != 0)
		record("port %u: %d pending after shutdown", sl->port, pending);
	if (st.queued != st.accepted + st.reset_shrink + st.reset_close + pending)
		record("port %u: queued %llu != accepted %llu + reset_shrink %llu + reset_close %llu + pending %d",
		       sl->port, st.queued, st.accepted, st.reset_shrink,
		       st.reset_close, pending);
	if (st.queued != (__u64)connected)
		record("port %u: queued %llu, but %ld connects succeeded",
		       sl->port, st.queued, connected);
	if (st.accepted != (__u64)accepted)
		record("port %u: accepted %llu, but %ld accepts returned a socket",
		       sl->port, st.accepted, accepted);
	if (st.refused_full != (__u64)refused)
		record("port %u: refused_full %llu, but %ld connects were refused",
		       sl->port, st.refused_full, refused);
	total.queued += st.queued;
	total.accepted += st.accepted;
	total.refused_full += st.refused_full;
	total.reset_shrink += st.reset_shrink;
	total.reset_close += st.reset_close;
	generations++;
replace:
	atomic_store(&sl->connected, 0);
	atomic_store(&sl->refused, 0);
	atomic_store(&sl->accepted, 0);
	sl->lfd = final ? -1 : new_listener(sl, seed);
	if (old >= 0)
		close(old);
	pthread_rwlock_unlock(&sl->lock);
}

static bool running(void)
{
	return !atomic_load(&stop) && cu_now_ms() < deadline_ms;
}

static bool reset_errno(int e)
{
	return e == EAGAIN || e == ECONNRESET || e == EPIPE;
}

/* poke at an open connection: send or receive a little, never block */
static void poke(int fd, unsigned int *seed, const char *who)
{
	char buf[256];
	ssize_t n;

	if (rnd(seed) % 2) {
		n = send(fd, "stress-data", 11, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && !reset_errno(errno))
			record("%s send: %s", who, strerror(errno));
	} else {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && !reset_errno(errno))
			record("%s recv: %s", who, strerror(errno));
	}
}

/* keep fd among the thread's open connections, closing one if full */
static void keep(int *conns, int fd, unsigned int *seed)
{
	int i = rnd(seed) % CONNS;

	if (conns[i] >= 0)
		close(conns[i]);
	conns[i] = fd;
}

static void close_some(int *conns, unsigned int *seed)
{
	int i = rnd(seed) % CONNS;

	if (conns[i] >= 0) {
		close(conns[i]);
		conns[i] = -1;
	}
}

static void close_all(int *conns)
{
	int i;

	for (i = 0; i < CONNS; i++)
		if (conns[i] >= 0)
			close(conns[i]);
}

static void *client_thread(void *arg)
{
	unsigned int seed = 0x9e3779b9u * (unsigned int)(uintptr_t)arg + 1;
	int conns[CONNS], fd, err, i;
	struct slot *sl;

	for (i = 0; i < CONNS; i++)
		conns[i] = -1;
	while (running()) {
		switch (rnd(&seed) % 4) {
		case 0:
		case 1:
			sl = &slots[rnd(&seed) % SLOTS];
			fd = socket(cu_family(), sl->type | SOCK_NONBLOCK, 0);
			if (fd < 0) {
				record("client socket(): %s", strerror(errno));
				break;
			}
			pthread_rwlock_rdlock(&sl->lock);
			err = cu_try_connect(fd, sl->port);
			if (!err)
				atomic_fetch_add(&sl->connected, 1);
			else if (err == ECONNREFUSED && sl->lfd >= 0)
				atomic_fetch_add(&sl->refused, 1);
			pthread_rwlock_unlock(&sl->lock);
			if (err && err != ECONNREFUSED)
				record("connect(%u): %s", sl->port, strerror(err));
			if (err) {
				close(fd);
				break;
			}
			poke(fd, &seed, "client");
			if (rnd(&seed) % 8 == 0)
				close(fd);	/* before it is even accepted */
			else
				keep(conns, fd, &seed);
			break;
		case 2:
			close_some(conns, &seed);
			break;
		default:
			fd = conns[rnd(&seed) % CONNS];
			if (fd >= 0)
				poke(fd, &seed, "client");
			break;
		}
	}
	close_all(conns);
	return NULL;
}

static void *acceptor_thread(void *arg)
{
	unsigned int seed = 0x85ebca6bu * (unsigned int)(uintptr_t)arg + 7;
	int conns[CONNS], fd, i;
	struct slot *sl;

	for (i = 0; i < CONNS; i++)
		conns[i] = -1;
	while (running()) {
		sl = &slots[rnd(&seed) % SLOTS];
		pthread_rwlock_rdlock(&sl->lock);
		fd = -1;
		if (sl->lfd >= 0 && cu_poll(sl->lfd, POLLIN, 10) > 0) {
			fd = accept4(sl->lfd, NULL, NULL, SOCK_NONBLOCK);
			if (fd >= 0)
				atomic_fetch_add(&sl->accepted, 1);
			else if (errno != EAGAIN)
				record("accept(%u): %s", sl->port, strerror(errno));
		}
		pthread_rwlock_unlock(&sl->lock);
		if (fd >= 0) {
			poke(fd, &seed, "server");
			if (rnd(&seed) % 4 == 0)
				close(fd);
			else
				keep(conns, fd, &seed);
		}
		if (rnd(&seed) % 4 == 0)
			close_some(conns, &seed);
		fd = conns[rnd(&seed) % CONNS];
		if (fd >= 0)
			poke(fd, &seed, "server");
		if (rnd(&seed) % 8 == 0)
			cu_sleep_ms(rnd(&seed) % 10);	/* let queues fill */
	}
	close_all(conns);
	return NULL;
}

/* resize backlogs at random: grow, keep, shrink (resetting the newest) */
static void *resizer_thread(void *arg)
{
	unsigned int seed = 0xc2b2ae35u + (unsigned int)(uintptr_t)arg;
	struct slot *sl;
	int backlog;

	while (running()) {
		sl = &slots[rnd(&seed) % SLOTS];
		backlog = rnd(&seed) % 3 ? 1 + rnd(&seed) % MAX_BACKLOG : 1;
		pthread_rwlock_rdlock(&sl->lock);
		if (sl->lfd >= 0 && listen(sl->lfd, backlog))
			record("listen(%d) on a listener: %s", backlog, strerror(errno));
		pthread_rwlock_unlock(&sl->lock);
		cu_sleep_ms(rnd(&seed) % 5);
	}
	return NULL;
}

/* shut listeners down and listen again on fresh sockets */
static void *cycler_thread(void *arg)
{
	unsigned int seed = 0x27d4eb2fu + (unsigned int)(uintptr_t)arg;

	while (running()) {
		cu_sleep_ms(50 + rnd(&seed) % 200);
		retire(&slots[rnd(&seed) % SLOTS], &seed, false);
	}
	return NULL;
}

static int stress_seconds(void)
{
	const char *s = getenv("CU_STRESS_SECONDS");
	const char *flavour = getenv("CU_FLAVOUR");

	if (s && atoi(s) > 0)
		return atoi(s);
	return flavour && !strcmp(flavour, "debug") ? 10 : 20;
}

FIXTURE(stress)
{
	bool isolated;
};

FIXTURE_SETUP(stress)
{
	self->isolated = cu_setup();
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F_TIMEOUT(stress, listeners_balance_their_counters, 600)
{
	pthread_t clients[CLIENTS], acceptors[ACCEPTORS], resizer, cycler;
	unsigned int seed = 12345;
	int secs = stress_seconds(), i, stuck = 0;
	long long start;

	CU_REQUIRE_NETNS(self->isolated);
	for (i = 0; i < SLOTS; i++) {
		pthread_rwlock_init(&slots[i].lock, NULL);
		slots[i].type = i % 2 ? SOCK_SEQPACKET : SOCK_STREAM;
		slots[i].port = PORT_BASE + i;
		slots[i].lfd = new_listener(&slots[i], &seed);
		ASSERT_LE(0, slots[i].lfd);
	}
	TH_LOG("%d s, %d client and %d acceptor threads, a resizer and a cycler on %d ports",
	       secs, CLIENTS, ACCEPTORS, SLOTS);
	start = cu_now_ms();
	deadline_ms = start + secs * 1000LL;
	for (i = 0; i < CLIENTS; i++)
		ASSERT_EQ(0, pthread_create(&clients[i], NULL, client_thread,
					    (void *)(uintptr_t)(i + 1)));
	for (i = 0; i < ACCEPTORS; i++)
		ASSERT_EQ(0, pthread_create(&acceptors[i], NULL, acceptor_thread,
					    (void *)(uintptr_t)(i + 1)));
	ASSERT_EQ(0, pthread_create(&resizer, NULL, resizer_thread, NULL));
	ASSERT_EQ(0, pthread_create(&cycler, NULL, cycler_thread, NULL));

	/* every call above is non-blocking or bounded: all must finish */
	for (i = 0; i < CLIENTS; i++)
		stuck += !cu_join(clients[i], secs * 1000 + 30000);
	for (i = 0; i < ACCEPTORS; i++)
		stuck += !cu_join(acceptors[i], 30000);
	stuck += !cu_join(resizer, 30000);
	stuck += !cu_join(cycler, 30000);
	ASSERT_EQ(0, stuck) {
		atomic_store(&stop, true);
		TH_LOG("%d thread(s) still running 30 s after the end", stuck);
	}
	for (i = 0; i < SLOTS; i++)
		retire(&slots[i], &seed, true);

	TH_LOG("%lld ms: %ld listeners; queued %llu, accepted %llu, refused_full %llu, reset_shrink %llu, reset_close %llu",
	       cu_now_ms() - start, generations, total.queued, total.accepted,
	       total.refused_full, total.reset_shrink, total.reset_close);
	for (i = 0; i < nerrors && i < MAX_ERRORS; i++)
		TH_LOG("error: %s", errors[i]);
	ASSERT_EQ(0, nerrors);
	/* the run did what it is for */
	ASSERT_LT(0ULL, total.accepted);
	ASSERT_LT(0ULL, total.refused_full);
	ASSERT_LT(0ULL, total.reset_shrink);
	ASSERT_LT(0ULL, total.reset_close);
	ASSERT_LT(SLOTS, generations);

	/* every socket is gone (freed after an RCU grace period) */
	cu_expect_no_sockets(_metadata);
}

TEST_HARNESS_MAIN
