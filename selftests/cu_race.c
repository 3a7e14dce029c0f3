// SPDX-License-Identifier: GPL-2.0
/*
 * Races on shared sockets (docs/semantics.md §6, §8, §9): several threads on one
 * socket at once, each test bounded in time, each failing by itself when
 * the kernel log reports a problem while it runs (the debug kernel's
 * KASAN, lockdep and might_sleep checks), besides what it checks itself.
 *
 * - accept: clients connect, a thread accepts (blocking, SO_RCVTIMEO) and
 *   another resizes the backlog at random, all on one listener.
 * - peek: a reader sleeping in recv(MSG_PEEK) with MSG_WAITALL or
 *   SO_RCVLOWAT after peeking two messages, while another reader takes
 *   them and new data arrives: it must wake, return only bytes of the
 *   stream (never taken ones after the ones it had peeked), and consume
 *   nothing (§8).
 * - senders: threads sending messages of 1 to 1024 bytes on one socket
 *   (sharing one CPU) while the peer reads them whole (on another): each
 *   byte delivered once, in order per sender (§8); a SEQPACKET record is
 *   one sender's message.
 * - spare pages: after a 32 MiB write read back, a socket keeps little
 *   memory (a bounded number of spare pages, MemFree), also with
 *   SO_SNDBUFFORCE; shrinking SO_SNDBUF gives its spare pages back, which
 *   were charged to the writer's memory cgroup (skips without cgroup v2's
 *   memory controller).
 * - one copy: writers filling a stream reader's own buffer while it
 *   sleeps (or spins, SO_BUSY_POLL), with threads peeking, resizing
 *   buffers, switching busy polling and sending signals beside them;
 *   and the connection shut down or closed under a reader whose buffer
 *   is offered: each byte once, in order, none lost (§8).
 * - teardown: listeners with pending connections closed while other
 *   threads read /proc/net/af_custom and dump sock_diag.
 *
 * Durations: $CU_RACE_SECONDS per stress, else 3 s (6 s when $CU_FLAVOUR
 * is "debug").
 */
#include "cu_util.h"
#include "cu_thread.h"
#include "cu_msg.h"
#include "cu_kmsg.h"
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <linux/sock_diag.h>

#define PORT		5300U	/* accept */
#define PEEK_PORT	5310U
#define SIDE_PORT	5311U
#define SEND_PORT	5320U

/* ---- what every stress shares ---------------------------------------------- */

struct race {
	long long deadline;
	atomic_int errors;
	char first[160];	/* the first error, written once */
};

static int race_seconds(void)
{
	const char *s = getenv("CU_RACE_SECONDS");
	const char *flavour = getenv("CU_FLAVOUR");

	if (s && atoi(s) > 0)
		return atoi(s);
	return flavour && !strcmp(flavour, "debug") ? 6 : 3;
}

static void race_start(struct race *r)
{
	memset(r, 0, sizeof(*r));
	r->deadline = cu_now_ms() + race_seconds() * 1000LL;
}

static bool race_running(const struct race *r)
{
	return cu_now_ms() < r->deadline;
}

/* a thread saw something wrong: remembered, the test fails */
static void __attribute__((format(printf, 2, 3)))
race_error(struct race *r, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&r->errors, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(r->first, sizeof(r->first), fmt, ap);
	va_end(ap);
}

static void race_expect_clean(struct __test_metadata *_metadata, struct race *r)
{
	ASSERT_EQ(0, atomic_load(&r->errors)) {
		TH_LOG("%d error(s), the first: %s", atomic_load(&r->errors), r->first);
	}
}

/* per-thread xorshift */
static unsigned int rnd(unsigned int *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* start n threads of fn(arg); the stress's length bounds them all */
static void start_threads(struct __test_metadata *_metadata, pthread_t *t, int n,
			  void *(*fn)(void *), void *arg)
{
	int i;

	for (i = 0; i < n; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fn, arg));
}

static void join_threads(struct __test_metadata *_metadata, pthread_t *t, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ASSERT_TRUE(cu_join(t[i], race_seconds() * 1000 + 30000)) {
			TH_LOG("thread %d still runs 30 s after the end", i);
		}
}

FIXTURE(race)
{
	struct cu_kmsg kmsg;
};

/* The kernel log since cu_kmsg_open() reports no problem (closes it). */
static void cu_expect_kernel_quiet(struct __test_metadata *_metadata,
				   struct cu_kmsg *kmsg)
{
	char rec[1024];
	const char *problem;
	int found = 0;

	while ((problem = cu_kmsg_next_problem(kmsg, rec, sizeof(rec))))
		if (found++ < 8)
			TH_LOG("kernel: %s", problem);
	cu_kmsg_close(kmsg);
	ASSERT_EQ(0, found);
}

FIXTURE_SETUP(race)
{
	cu_setup();
	cu_kmsg_open(&self->kmsg);
}

FIXTURE_TEARDOWN(race)
{
}

/* ==== accept(), connect() and listen() on one listener ======================== */

struct accept_race {
	struct race r;
	__u32 port;
	int lfd;
	atomic_long connected, accepted;
};

static void *connect_thread(void *arg)
{
	struct accept_race *ar = arg;
	int fd, err;

	while (race_running(&ar->r)) {
		fd = socket(cu_family(), SOCK_STREAM, 0);
		if (fd < 0) {
			race_error(&ar->r, "socket: %s", strerror(errno));
			break;
		}
		err = cu_try_connect(fd, ar->port);
		if (!err)
			atomic_fetch_add(&ar->connected, 1);
		else if (err != ECONNREFUSED)
			race_error(&ar->r, "connect: %s", strerror(err));
		close(fd);
	}
	return NULL;
}

static void *accept_thread(void *arg)
{
	struct accept_race *ar = arg;
	int fd;

	while (race_running(&ar->r)) {
		fd = accept(ar->lfd, NULL, NULL);
		if (fd >= 0) {
			atomic_fetch_add(&ar->accepted, 1);
			close(fd);
		} else if (errno != EAGAIN) {
			race_error(&ar->r, "accept: %s", strerror(errno));
		}
	}
	return NULL;
}

static void *relisten_thread(void *arg)
{
	struct accept_race *ar = arg;
	unsigned int seed = 0x2545f491;

	while (race_running(&ar->r)) {
		if (listen(ar->lfd, 1 + rnd(&seed) % 8))
			race_error(&ar->r, "listen: %s", strerror(errno));
		if (!(rnd(&seed) % 16))
			sched_yield();
	}
	return NULL;
}

/* 4 connecting threads, one accepting (blocking), one calling listen() */
TEST_F_TIMEOUT(race, accept_while_clients_connect_and_backlog_changes, 120)
{
	struct accept_race ar = { 0 };
	pthread_t t[6];

	race_start(&ar.r);
	ar.lfd = cu_listener(_metadata, SOCK_STREAM, PORT, 4, &ar.port);
	cu_set_timeo(_metadata, ar.lfd, SO_RCVTIMEO, 100);
	start_threads(_metadata, t, 4, connect_thread, &ar);
	start_threads(_metadata, t + 4, 1, accept_thread, &ar);
	start_threads(_metadata, t + 5, 1, relisten_thread, &ar);
	join_threads(_metadata, t, 6);
	TH_LOG("%ld connects, %ld accepts", atomic_load(&ar.connected),
	       atomic_load(&ar.accepted));
	race_expect_clean(_metadata, &ar.r);
	ASSERT_LT(0, atomic_load(&ar.accepted));
	cu_expect_kernel_quiet(_metadata, &self->kmsg);
}

/* ==== a peeking reader asleep while another reader takes the data ============ */

#define PEEK_LEN	100
#define TAKEN		"helloworld"	/* two messages, peeked, then taken */
#define FRESH_LEN	300		/* written after: more than PEEK_LEN */

/* byte i of what is written after the other reader took TAKEN */
static char fresh_byte(size_t i)
{
	return 'A' + i % 26;
}

struct peeker {
	int fd;
	int flags;
	pid_t tid;
	ssize_t ret;
	int err;
	char buf[PEEK_LEN];
};

static void *peek_thread(void *arg)
{
	struct peeker *p = arg;

	p->tid = cu_gettid();
	p->ret = recv(p->fd, p->buf, sizeof(p->buf), p->flags);
	p->err = errno;
	return NULL;
}

/* len bytes of buf are consecutive bytes of the fresh data */
static bool fresh_run(const char *buf, size_t len)
{
	size_t i;

	for (i = 1; i < len; i++)
		if (buf[i] != fresh_byte(buf[i - 1] - 'A' + 1))
			return false;
	return !len || (buf[0] >= 'A' && buf[0] <= 'Z');
}

/*
 * What the peeker returned: what it had peeked (TAKEN) followed by fresh
 * bytes, or only fresh bytes, in stream order; never taken bytes after it
 * slept (docs/semantics.md §8).
 */
static void expect_peeked(struct __test_metadata *_metadata, struct peeker *p)
{
	size_t taken = strlen(TAKEN);
	const char *rest = p->buf;
	size_t len;

	ASSERT_LT(0, p->ret) {
		TH_LOG("the peeker's recv: %s", p->ret ? strerror(p->err) : "EOF");
	}
	len = p->ret;
	ASSERT_GE((size_t)PEEK_LEN, len);
	if (len >= taken && !memcmp(p->buf, TAKEN, taken)) {
		rest += taken;
		len -= taken;
	}
	ASSERT_TRUE(fresh_run(rest, len)) {
		TH_LOG("the peeker returned %zd bytes: \"%.*s\"", p->ret, (int)p->ret, p->buf);
	}
}

static void send_fresh(struct __test_metadata *_metadata, int c)
{
	char buf[FRESH_LEN];
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = fresh_byte(i);
	ASSERT_EQ((ssize_t)sizeof(buf), send(c, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL));
}

static void expect_fresh(struct __test_metadata *_metadata, int a)
{
	char buf[FRESH_LEN];
	size_t i;

	cu_recv_exact(_metadata, a, buf, sizeof(buf));
	for (i = 0; i < sizeof(buf); i++)
		ASSERT_EQ(fresh_byte(i), buf[i]) {
			TH_LOG("byte %zu of what was written after the peek", i);
		}
	cu_expect_empty(_metadata, a);
}

/*
 * Small messages queued on another pair, left unread: they take the
 * memory the other reader just freed, so the skb the peeker last saw is
 * not reborn as the fresh data's (which would hide the bug on a kernel
 * that reuses freed memory at once).
 */
static void side_traffic(struct __test_metadata *_metadata)
{
	int lfd, c, a, i;

	cu_pair(_metadata, SOCK_STREAM, SIDE_PORT, 1, &lfd, &c, &a);
	for (i = 0; i < 16; i++)
		cu_send_str(_metadata, c, "side");
}

static void check_peeker_outlives_what_it_peeked(struct __test_metadata *_metadata,
						 bool lowat)
{
	struct peeker p = { .flags = MSG_PEEK | (lowat ? 0 : MSG_WAITALL) };
	int lfd, c, val = PEEK_LEN;
	pthread_t t;

	cu_pair(_metadata, SOCK_STREAM, PEEK_PORT, 1, &lfd, &c, &p.fd);
	if (lowat)
		ASSERT_EQ(0, setsockopt(p.fd, SOL_SOCKET, SO_RCVLOWAT, &val, sizeof(val)));
	cu_set_timeo(_metadata, p.fd, SO_RCVTIMEO, 3000);
	cu_send_str(_metadata, c, "hello");
	cu_send_str(_metadata, c, "world");
	cu_start_sleeper(_metadata, &t, peek_thread, &p, &p.tid);

	cu_expect_data(_metadata, p.fd, TAKEN);		/* the other reader */
	side_traffic(_metadata);
	send_fresh(_metadata, c);
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS)) {
		TH_LOG("the peeker still sleeps with %d bytes queued", FRESH_LEN);
	}
	expect_peeked(_metadata, &p);
	expect_fresh(_metadata, p.fd);			/* the peek took nothing */
}

TEST_F(race, peek_waitall_sleeper_survives_another_reader_taking_its_data)
{
	check_peeker_outlives_what_it_peeked(_metadata, false);
	cu_expect_kernel_quiet(_metadata, &self->kmsg);
}

TEST_F(race, peek_rcvlowat_sleeper_survives_another_reader_taking_its_data)
{
	check_peeker_outlives_what_it_peeked(_metadata, true);
	cu_expect_kernel_quiet(_metadata, &self->kmsg);
}

/* ==== several senders on one socket, one reader reading whole ================= */

#define SENDERS		4	/* the sender's number is in a byte's top 2 bits */
#define MSG_MAX		1024

/*
 * Byte k of sender s's output (its k-th byte sent) is s << 6 | (k & 63): a
 * reader can tell every byte's sender and position, whatever the
 * interleaving.
 */
struct send_race {
	struct race r;
	int c;
	atomic_int next_id;
	atomic_int done;
	atomic_llong sent[SENDERS];
};

static void fill_msg(unsigned char *buf, size_t len, int s, long long k)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = s << 6 | ((k + i) & 63);
}

/*
 * Run the calling thread on CPU cpu only, when there are two or more: the
 * senders share one CPU, so the scheduler switches from one to another at
 * any point of a send (the debug kernel preempts), while the reader runs
 * on the other and frees what they sent.
 */
static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *small_sender_thread(void *arg)
{
	struct send_race *sr = arg;
	int s = atomic_fetch_add(&sr->next_id, 1);
	unsigned int seed = 0x9e3779b9u * (s + 1);
	unsigned char buf[MSG_MAX];
	long long k = 0;
	size_t len;
	ssize_t n;

	pin_to_cpu(0);
	while (race_running(&sr->r)) {
		/* tiny and large: a spare skb's room rarely fits the next one */
		len = rnd(&seed) % 2 ? 1 + rnd(&seed) % 64 :
				       MSG_MAX / 2 + 1 + rnd(&seed) % (MSG_MAX / 2);
		fill_msg(buf, len, s, k);
		n = send(sr->c, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			k += n;
			atomic_store(&sr->sent[s], k);
		} else if (errno != EAGAIN) {
			race_error(&sr->r, "sender %d: send: %s", s, strerror(errno));
			break;
		}
	}
	atomic_fetch_add(&sr->done, 1);
	return NULL;
}

/* the reader's view: the next position expected of each sender */
struct send_check {
	long long got[SENDERS];
	long long bytes;
};

/* check n bytes read (one record if whole_records) against their senders */
static bool check_read(struct send_check *sc, const unsigned char *buf, size_t n,
		       bool one_sender, char *why, size_t whysize)
{
	int s, first = buf[0] >> 6;
	size_t i;

	for (i = 0; i < n; i++) {
		s = buf[i] >> 6;
		if (s >= SENDERS || (one_sender && s != first)) {
			snprintf(why, whysize, "byte %lld: sender %d in a record of sender %d",
				 sc->bytes + i, s, first);
			return false;
		}
		if ((buf[i] & 63) != (sc->got[s] & 63)) {
			snprintf(why, whysize, "sender %d: byte %lld is %d, expected %lld",
				 s, sc->got[s], buf[i] & 63, sc->got[s] & 63);
			return false;
		}
		sc->got[s]++;
	}
	sc->bytes += n;
	return true;
}

static long long total_sent(struct send_race *sr)
{
	long long total = 0;
	int s;

	for (s = 0; s < SENDERS; s++)
		total += atomic_load(&sr->sent[s]);
	return total;
}

/* read until the senders are done and all they sent is read */
static void read_all(struct __test_metadata *_metadata, struct send_race *sr, int a,
		     bool records, struct send_check *sc)
{
	static unsigned char buf[65536];
	long long limit = sr->r.deadline + 30000;
	char why[128];
	ssize_t n;

	cu_set_timeo(_metadata, a, SO_RCVTIMEO, 100);
	while (atomic_load(&sr->done) < SENDERS || sc->bytes < total_sent(sr)) {
		ASSERT_GT(limit, cu_now_ms()) {
			TH_LOG("%lld bytes read of %lld sent", sc->bytes, total_sent(sr));
		}
		n = recv(a, buf, records ? MSG_MAX : sizeof(buf), 0);
		if (n < 0 && errno == EAGAIN)
			continue;
		ASSERT_LT(0, n) {
			TH_LOG("recv: %s", n ? strerror(errno) : "EOF");
		}
		ASSERT_TRUE(check_read(sc, buf, n, records, why, sizeof(why))) {
			TH_LOG("%s", why);
		}
	}
}

static void check_small_senders(struct __test_metadata *_metadata, int type)
{
	struct send_race sr = { 0 };
	struct send_check sc = { 0 };
	pthread_t t[SENDERS];
	int lfd, a, s, sndbuf = 4096;

	cu_pair(_metadata, type, SEND_PORT, 1, &lfd, &sr.c, &a);
	/* a few messages in flight: senders sleep and wake all the time */
	ASSERT_EQ(0, setsockopt(sr.c, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)));
	cu_set_timeo(_metadata, sr.c, SO_SNDTIMEO, 200);
	pin_to_cpu(1);
	race_start(&sr.r);
	start_threads(_metadata, t, SENDERS, small_sender_thread, &sr);
	read_all(_metadata, &sr, a, type == SOCK_SEQPACKET, &sc);
	join_threads(_metadata, t, SENDERS);
	TH_LOG("%lld bytes from %d senders", sc.bytes, SENDERS);
	race_expect_clean(_metadata, &sr.r);
	for (s = 0; s < SENDERS; s++)
		ASSERT_EQ(atomic_load(&sr.sent[s]), sc.got[s]);
	cu_expect_empty(_metadata, a);
}

TEST_F_TIMEOUT(race, stream_small_senders_each_byte_once_in_order, 120)
{
	check_small_senders(_metadata, SOCK_STREAM);
	cu_expect_kernel_quiet(_metadata, &self->kmsg);
}

TEST_F_TIMEOUT(race, seqpacket_small_senders_each_record_once_in_order, 120)
{
	check_small_senders(_metadata, SOCK_SEQPACKET);
	cu_expect_kernel_quiet(_metadata, &self->kmsg);
}

/* ==== spare pages: what a socket keeps after its data was read ================ */

#define BIG_WRITE	(32u << 20)	/* per socket, unread until it is all sent */
#define BIG_PAIRS	2
/*
 * All of them may keep this much, no more. The fixed module keeps at most
 * 64 pages a socket; the rest is the kernel's own noise: a few hundred KiB
 * in a memory cgroup (per-CPU charge batches), but up to 40 MiB in MemFree
 * on 6.12, whose per-CPU free lists grow and are not counted there.
 * Without the bound the pairs keep all 64 MiB.
 */
#define KEEP_MAX_KB	(16 << 10)
#define TRIM_PAIRS	64
#define TRIM_WRITE	(128u << 10)	/* each keeps up to this much spare */
#define TRIM_MIN_KB	(4 << 10)	/* shrinking SO_SNDBUF frees at least this */

/*
 * MemFree of /proc/meminfo in KiB, -1 if unreadable. The count of free
 * pages lags behind (per-CPU deltas, folded every second or so): fold
 * them first.
 */
static long mem_free_kb(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	char line[128];
	long kb = -1;
	FILE *f;

	if (fd >= 0) {
		if (write(fd, "1", 1) < 0) {
			/* an older kernel: the count is a little late */
		}
		close(fd);
	}
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* write `total` bytes on c without blocking or reading, then read them on a */
static void write_then_read(struct __test_metadata *_metadata, int c, int a,
			    size_t total)
{
	static char buf[65536];
	size_t sent = 0;
	ssize_t n;

	memset(buf, 'p', sizeof(buf));
	while (sent < total) {
		n = total - sent < sizeof(buf) ? total - sent : sizeof(buf);
		n = send(c, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		ASSERT_LT(0, n) {
			TH_LOG("send after %zu bytes: %s", sent, strerror(errno));
		}
		sent += n;
	}
	cu_drain(_metadata, a, sent);
	cu_expect_empty(_metadata, a);
}

/* a connected stream pair; with sndbuf, SO_SNDBUFFORCE sndbuf on *c */
static void big_pair(struct __test_metadata *_metadata, int sndbuf, int *c, int *a)
{
	int lfd;

	cu_pair(_metadata, SOCK_STREAM, CU_PORT_ANY, 1, &lfd, c, a);
	close(lfd);
	if (sndbuf)
		ASSERT_EQ(0, setsockopt(*c, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
					sizeof(sndbuf)));
}

/*
 * The trim is measured in the memory cgroup the pages are charged to:
 * freed pages linger on per-CPU lists before MemFree counts them. The
 * test process moves to a cgroup of its own (cgroup v2, mounted if need
 * be). False if that is impossible: no memory controller in this kernel.
 */
#define CGROUPS		"/sys/fs/cgroup"

static bool put_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok;
}

static bool own_memcg(char *dir, size_t size)
{
	char path[160], pid[16];

	if (access(CGROUPS "/cgroup.controllers", F_OK))
		mount("none", CGROUPS, "cgroup2", 0, NULL);
	put_str(CGROUPS "/cgroup.subtree_control", "+memory");
	snprintf(dir, size, CGROUPS "/cu_race.%d", getpid());
	if (mkdir(dir, 0755) && errno != EEXIST)
		return false;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (!put_str(path, pid))
		return false;
	snprintf(path, sizeof(path), "%s/memory.current", dir);
	return access(path, R_OK) == 0;
}

static void leave_memcg(const char *dir)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", getpid());
	put_str(CGROUPS "/cgroup.procs", pid);
	rmdir(dir);
}

/* memory.current of cgroup dir, in KiB */
static long memcg_kb(struct __test_metadata *_metadata, const char *dir)
{
	char path[160];
	long long bytes = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.current", dir);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%lld", &bytes));
	fclose(f);
	return bytes / 1024;
}

/*
 * Measured in this test's own memory cgroup, where the spare pages are
 * charged and a freed page is uncharged at once; without one, in MemFree.
 */
TEST_F_TIMEOUT(race, spare_pages_bounded_after_a_32m_write_is_read, 180)
{
	int c[BIG_PAIRS], a[BIG_PAIRS], i;
	bool memcg;
	long before, after, kept;
	char dir[128];

	for (i = 0; i < BIG_PAIRS; i++)
		big_pair(_metadata, 64 << 20, &c[i], &a[i]);
	memcg = own_memcg(dir, sizeof(dir));
	before = memcg ? memcg_kb(_metadata, dir) : mem_free_kb();
	ASSERT_LT(0, before);
	for (i = 0; i < BIG_PAIRS; i++)
		write_then_read(_metadata, c[i], a[i], BIG_WRITE);
	after = memcg ? memcg_kb(_metadata, dir) : mem_free_kb();
	kept = memcg ? after - before : before - after;
	TH_LOG("%d sockets wrote %u MiB each, read back: %s %ld -> %ld kB",
	       BIG_PAIRS, BIG_WRITE >> 20, memcg ? "memory.current" : "MemFree",
	       before, after);
	if (memcg)
		leave_memcg(dir);
	/* every socket is open still: what they keep is not free */
	ASSERT_GT(KEEP_MAX_KB, kept) {
		TH_LOG("%ld kB kept by %d idle sockets", kept, BIG_PAIRS);
	}
}

/*
 * Pairs that each wrote TRIM_WRITE and read it back (their spare pages,
 * charged to this cgroup), then shrink SO_SNDBUF. More fds than the
 * fixture's list holds: closed here (or with the test's process).
 */
TEST_F_TIMEOUT(race, spare_pages_trimmed_when_sndbuf_shrinks, 180)
{
	int c[TRIM_PAIRS], a[TRIM_PAIRS], i, small = 4096;
	long before, after;
	char dir[128];

	if (!own_memcg(dir, sizeof(dir)))
		SKIP(return, "no cgroup v2 memory controller: %s", strerror(errno));
	for (i = 0; i < TRIM_PAIRS; i++) {
		big_pair(_metadata, 0, &c[i], &a[i]);
		write_then_read(_metadata, c[i], a[i], TRIM_WRITE);
	}
	before = memcg_kb(_metadata, dir);
	for (i = 0; i < TRIM_PAIRS; i++) {
		ASSERT_EQ(0, setsockopt(c[i], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)));
		/* one paged write and its read, should trimming wait for one */
		write_then_read(_metadata, c[i], a[i], 2000);
	}
	after = memcg_kb(_metadata, dir);
	for (i = 0; i < TRIM_PAIRS; i++) {
		close(c[i]);
		close(a[i]);
	}
	leave_memcg(dir);
	TH_LOG("SO_SNDBUF 4096 on %d sockets: memory.current %ld -> %ld kB",
	       TRIM_PAIRS, before, after);
	ASSERT_LT(TRIM_MIN_KB, before - after) {
		TH_LOG("%ld kB uncharged by shrinking the send buffers", before - after);
	}
}

/* ==== one copy: writers filling a sleeping reader's buffer ==================== */

/*
 * A stream reader asleep on an empty queue offers its buffer and a writer
 * copies straight into it (module/direct.c). Each stress shares the two
 * ends between threads: big and tiny writes from several senders, reads
 * of every size, at any offset in a page, split over two iovecs, with
 * MSG_WAITALL or not, interrupted by signals, beside threads that peek,
 * resize both buffers and ask SIOCINQ/SIOCOUTQ and poll() the whole time.
 * Each byte must arrive once, in order per sender, none lost to a signal,
 * and no byte of the reader's memory around what a read returned may change.
 */
#define DIRECT_MSG_MAX	(128u << 10)
#define DIRECT_BUF	(256u << 10)

/* a reader asleep in recv() of 64 KiB, at an odd offset of its buffer */
#define WHOLE_LEN	(64u << 10)
#define WHOLE_AT	100
#define WHOLE_BUF	(WHOLE_LEN + 4096)

#define UNWRITTEN	0xa5

/* where in buf[from, to) a byte is no longer UNWRITTEN, or -1 */
static long first_written(const unsigned char *buf, size_t from, size_t to)
{
	for (; from < to; from++)
		if (buf[from] != UNWRITTEN)
			return from;
	return -1;
}

struct whole_reader {
	int a;
	unsigned char *buf;	/* WHOLE_BUF bytes */
	volatile pid_t tid;
	ssize_t got;
	bool intact;
};

static void *whole_reader_thread(void *arg)
{
	struct whole_reader *w = arg;
	unsigned char *p = w->buf + WHOLE_AT;
	ssize_t i;

	w->tid = cu_gettid();
	w->got = recv(w->a, p, WHOLE_LEN, 0);
	w->intact = true;
	for (i = 0; i < w->got; i++)
		w->intact &= p[i] == (unsigned char)(i % 251);
	return NULL;
}

/*
 * One send() of len bytes (at most 64 KiB) to a reader already asleep
 * with its buffer at rbuf, from a socket whose SO_SNDBUF is at its
 * minimum: through the queue it goes in pieces of a few KiB, and the send
 * times out after sndtimeo_ms with the rest unsent. rbuf is UNWRITTEN
 * before. Returns what send() returned.
 */
static ssize_t write_to_sleeper(struct __test_metadata *_metadata,
				struct whole_reader *w, unsigned char *rbuf,
				int sndtimeo_ms, size_t len)
{
	static unsigned char buf[WHOLE_LEN];
	int sndbuf = 4096, c, i;
	pthread_t t;
	ssize_t sent;

	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = i % 251;
	big_pair(_metadata, 0, &c, &w->a);
	memset(rbuf, UNWRITTEN, WHOLE_BUF);
	w->buf = rbuf;
	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)));
	cu_set_timeo(_metadata, c, SO_SNDTIMEO, sndtimeo_ms);
	cu_start_sleeper(_metadata, &t, whole_reader_thread, w, &w->tid);
	sent = send(c, buf, len, 0);
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS));
	close(c);
	close(w->a);
	return sent;
}

/*
 * The path exists: the 64 KiB write reaches the sleeping reader whole in
 * one recv(), though through the queue it would come in pieces.
 */
TEST_F(race, stream_one_copy_write_reaches_a_sleeping_reader_whole)
{
	static unsigned char rbuf[WHOLE_BUF];
	struct whole_reader w = { .tid = 0 };

	ASSERT_EQ((ssize_t)WHOLE_LEN,
		  write_to_sleeper(_metadata, &w, rbuf, CU_WAIT_MS, WHOLE_LEN));
	ASSERT_EQ((ssize_t)WHOLE_LEN, w.got);
	ASSERT_TRUE(w.intact);
	cu_expect_kernel_quiet(_metadata, &self->kmsg);
}

/*
 * A write shorter than the sleeping reader's buffer fills what it
 * delivers and nothing else of the reader's pages: not the bytes before
 * the buffer in its first page, not the rest of the buffer, not past it.
 */
TEST_F(race, stream_one_copy_writes_nothing_it_does_not_deliver)
{
	static unsigned char rbuf[WHOLE_BUF];
	struct whole_reader w = { .tid = 0 };
	size_t len = 3 * 4096 + 7;

	ASSERT_EQ((ssize_t)len, write_to_sleeper(_metadata, &w, rbuf, CU_WAIT_MS, len));
	ASSERT_EQ((ssize_t)len, w.got);
	ASSERT_TRUE(w.intact);
	ASSERT_EQ(-1, first_written(rbuf, 0, WHOLE_AT));
	ASSERT_EQ(-1, first_written(rbuf, WHOLE_AT + len, WHOLE_BUF));
	cu_expect_kernel_quiet(_metadata, &self->kmsg);
}

/*
 * Only anonymous memory is offered: a reader whose buffer is a shared
 * file mapping (a memfd here) reads through the queue, a piece at a time,
 * and the write times out with most of it unsent.
 */
TEST_F(race, stream_one_copy_not_into_a_shared_file_mapping)
{
	struct whole_reader w = { .tid = 0 };
	size_t size = WHOLE_BUF;
	unsigned char *rbuf;
	ssize_t sent;
	int mfd;

	mfd = memfd_create("cu_race", 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, size));
	rbuf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, rbuf);
	sent = write_to_sleeper(_metadata, &w, rbuf, 300, WHOLE_LEN);
	ASSERT_LT(0, sent);
	ASSERT_GT((ssize_t)WHOLE_LEN, sent);
	ASSERT_LT(0, w.got);
	ASSERT_GE(sent, w.got);
	ASSERT_TRUE(w.intact);
	munmap(rbuf, size);
	close(mfd);
	cu_expect_kernel_quiet(_metadata, &self->kmsg);
}

struct direct_race {
	struct send_race sr;
	int a;
	pthread_t reader;
	atomic_long peeks, signals;
};

static void *big_sender_thread(void *arg)
{
	struct send_race *sr = arg;
	int s = atomic_fetch_add(&sr->next_id, 1);
	unsigned int seed = 0x85ebca6bu * (s + 1);
	unsigned char *buf = malloc(DIRECT_MSG_MAX);
	long long k = 0;
	size_t len;
	ssize_t n;

	while (buf && race_running(&sr->r)) {
		len = rnd(&seed) % 3 ? 1 + rnd(&seed) % DIRECT_MSG_MAX :
				       1 + rnd(&seed) % 64;
		fill_msg(buf, len, s, k);
		n = send(sr->c, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			k += n;
			atomic_store(&sr->sent[s], k);
		} else if (errno != EAGAIN && errno != EINTR) {
			race_error(&sr->r, "sender %d: send: %s", s, strerror(errno));
			break;
		}
	}
	free(buf);
	atomic_fetch_add(&sr->done, 1);
	return NULL;
}

/*
 * peek, resize the buffers, switch busy polling, ask the queues' sizes,
 * poll; and interrupt
 */
static void *direct_meddler_thread(void *arg)
{
	static const int sizes[] = { 4096, 65536, 212992, 1 << 20 };
	struct direct_race *dr = arg;
	unsigned int seed = 0xc2b2ae35u;
	unsigned char peek[8192];
	struct pollfd pfd[2] = {
		{ .fd = dr->a, .events = POLLIN },
		{ .fd = dr->sr.c, .events = POLLOUT },
	};
	int v, i;
	ssize_t n;

	while (race_running(&dr->sr.r)) {
		v = sizes[rnd(&seed) % 4];
		setsockopt(dr->a, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
		v = sizes[rnd(&seed) % 4];
		setsockopt(dr->sr.c, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
		v = rnd(&seed) % 2 ? 200 : 0;
		setsockopt(dr->a, SOL_SOCKET, SO_BUSY_POLL, &v, sizeof(v));
		ioctl(dr->a, SIOCINQ, &v);
		ioctl(dr->sr.c, SIOCOUTQ, &v);
		poll(pfd, 2, 0);
		n = recv(dr->a, peek, 1 + rnd(&seed) % sizeof(peek),
			 MSG_PEEK | (rnd(&seed) % 2 ? MSG_DONTWAIT : 0));
		for (i = 0; i < n; i++)
			if (peek[i] >> 6 >= SENDERS)
				race_error(&dr->sr.r, "peeked byte %d: %#x", i, peek[i]);
		atomic_fetch_add(&dr->peeks, 1);
		if (rnd(&seed) % 4 == 0) {
			pthread_kill(dr->reader, SIGUSR1);
			atomic_fetch_add(&dr->signals, 1);
		}
	}
	return NULL;
}

/*
 * One read of any size, at any offset, maybe in two iovecs or MSG_WAITALL.
 * *stray is where in buf the read wrote outside the bytes it returned (the
 * rest of its pages and a page past them: a writer filling the reader's
 * pinned pages at the wrong offset lands there), or -1.
 */
static ssize_t varied_read(int a, unsigned char *buf, unsigned int *seed,
			   long *stray)
{
	size_t len = 1 + rnd(seed) % (DIRECT_BUF / 2);
	size_t at = rnd(seed) % 4096, end = at + len + 4096;
	unsigned char *p = buf + at;
	size_t cut = rnd(seed) % len;
	struct iovec iov[2] = {
		{ .iov_base = p, .iov_len = cut },
		{ .iov_base = p + cut, .iov_len = len - cut },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	memset(buf, UNWRITTEN, end);
	if (rnd(seed) % 2)
		n = recvmsg(a, &msg, rnd(seed) % 4 ? 0 : MSG_WAITALL);
	else
		n = recv(a, p, len, rnd(seed) % 4 ? 0 : MSG_WAITALL);
	*stray = first_written(buf, 0, at);
	if (*stray < 0)
		*stray = first_written(buf, at + (n > 0 ? n : 0), end);
	if (n > 0 && p != buf)
		memmove(buf, p, n);
	return n;
}

TEST_F_TIMEOUT(race, stream_one_copy_each_byte_once_in_order_under_meddlers, 120)
{
	struct direct_race dr = { 0 };
	struct send_check sc = { 0 };
	unsigned char *buf = malloc(DIRECT_BUF);
	unsigned int seed = 0x27d4eb2fu;
	long long limit;
	pthread_t t[SENDERS + 1];
	char why[128];
	long stray;
	int lfd, s;
	ssize_t n;

	ASSERT_NE(NULL, buf);
	cu_catch_usr1(_metadata, false);
	cu_pair(_metadata, SOCK_STREAM, SEND_PORT, 1, &lfd, &dr.sr.c, &dr.a);
	cu_set_timeo(_metadata, dr.a, SO_RCVTIMEO, 50);
	dr.reader = pthread_self();
	race_start(&dr.sr.r);
	limit = dr.sr.r.deadline + 30000;
	start_threads(_metadata, t, SENDERS, big_sender_thread, &dr.sr);
	start_threads(_metadata, t + SENDERS, 1, direct_meddler_thread, &dr);
	while (atomic_load(&dr.sr.done) < SENDERS || sc.bytes < total_sent(&dr.sr)) {
		ASSERT_GT(limit, cu_now_ms()) {
			TH_LOG("%lld bytes read of %lld sent", sc.bytes, total_sent(&dr.sr));
		}
		n = varied_read(dr.a, buf, &seed, &stray);
		ASSERT_EQ(-1, stray) {
			TH_LOG("recv() returned %zd and wrote byte %ld of its buffer's pages",
			       n, stray);
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		ASSERT_LT(0, n) {
			TH_LOG("recv: %s", n ? strerror(errno) : "EOF");
		}
		ASSERT_TRUE(check_read(&sc, buf, n, false, why, sizeof(why))) {
			TH_LOG("%s", why);
		}
	}
	join_threads(_metadata, t, SENDERS + 1);
	TH_LOG("%lld bytes from %d senders, %ld peeks, %ld signals", sc.bytes,
	       SENDERS, atomic_load(&dr.peeks), atomic_load(&dr.signals));
	race_expect_clean(_metadata, &dr.sr.r);
	for (s = 0; s < SENDERS; s++)
		ASSERT_EQ(atomic_load(&dr.sr.sent[s]), sc.got[s]);
	cu_expect_empty(_metadata, dr.a);
	free(buf);
	cu_expect_kernel_quiet(_metadata, &self->kmsg);
}

/*
 * A reader asleep with its buffer offered (in half the lives spinning
 * first, SO_BUSY_POLL), and the connection ending under it:
 * shutdown(SHUT_RD) of the reader, shutdown(SHUT_WR) or close() of the
 * writer, or a signal first; at a random moment of a big write. The reader
 * gets a prefix of the stream, all of it unless it shut its own side.
 */
#define LIFE_BYTES	(1u << 20)

enum life_end { END_SHUT_RD, END_SHUT_WR, END_CLOSE, END_SIGNAL, END_KINDS };

struct direct_life {
	int a, c;
	atomic_llong sent;
	long long got;
	char why[128];
};

static unsigned char life_byte(long long pos)
{
	return pos % 251;
}

static void *life_writer_thread(void *arg)
{
	static __thread unsigned char buf[DIRECT_MSG_MAX];
	struct direct_life *l = arg;
	unsigned int seed = 0x165667b1u ^ l->c;
	long long k = 0;
	size_t len, i;
	ssize_t n;

	while (k < LIFE_BYTES) {
		len = 1 + rnd(&seed) % DIRECT_MSG_MAX;
		for (i = 0; i < len; i++)
			buf[i] = life_byte(k + i);
		n = send(l->c, buf, len, MSG_NOSIGNAL);
		if (n <= 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		k += n;
		atomic_store(&l->sent, k);
	}
	return NULL;
}

static void *life_reader_thread(void *arg)
{
	static __thread unsigned char buf[DIRECT_BUF];
	struct direct_life *l = arg;
	unsigned int seed = 0xd3a2646cu ^ l->a;
	ssize_t n, i;
	long stray;

	for (;;) {
		n = varied_read(l->a, buf, &seed, &stray);
		if (stray >= 0) {
			snprintf(l->why, sizeof(l->why),
				 "recv() returned %zd and wrote byte %ld of its buffer's pages",
				 n, stray);
			return NULL;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (i = 0; i < n; i++, l->got++)
			if (buf[i] != life_byte(l->got)) {
				snprintf(l->why, sizeof(l->why), "byte %lld is %d, not %d",
					 l->got, buf[i], life_byte(l->got));
				return NULL;
			}
	}
	if (n < 0)
		snprintf(l->why, sizeof(l->why), "recv: %s", strerror(errno));
	return NULL;
}

static void end_life(struct direct_life *l, enum life_end end, pthread_t reader)
{
	switch (end) {
	case END_SHUT_RD:
		shutdown(l->a, SHUT_RD);
		break;
	case END_SHUT_WR:
		shutdown(l->c, SHUT_WR);
		break;
	case END_CLOSE:
		close(l->c);
		l->c = -1;
		break;
	default:
		pthread_kill(reader, SIGUSR1);
		cu_sleep_ms(1);
		shutdown(l->c, SHUT_WR);
	}
}

TEST_F_TIMEOUT(race, stream_one_copy_reader_outlives_shutdown_close_and_signals, 120)
{
	struct race r;
	unsigned int seed = 0x61c88647u;
	long lives[END_KINDS] = { 0 };
	enum life_end end;
	pthread_t t[2];
	int busy_us;

	cu_catch_usr1(_metadata, false);
	race_start(&r);
	while (race_running(&r)) {
		struct direct_life l = { .got = 0 };

		big_pair(_metadata, 0, &l.c, &l.a);
		busy_us = rnd(&seed) % 2 ? 200 : 0;
		ASSERT_EQ(0, setsockopt(l.a, SOL_SOCKET, SO_BUSY_POLL, &busy_us,
					sizeof(busy_us)));
		start_threads(_metadata, &t[0], 1, life_reader_thread, &l);
		start_threads(_metadata, &t[1], 1, life_writer_thread, &l);
		usleep(rnd(&seed) % 3000);
		end = rnd(&seed) % END_KINDS;
		end_life(&l, end, t[0]);
		join_threads(_metadata, &t[1], 1);
		if (end == END_SHUT_RD)
			shutdown(l.c, SHUT_WR);	/* the writer may have been done */
		join_threads(_metadata, &t[0], 1);
		ASSERT_EQ(0, l.why[0]) {
			TH_LOG("%s", l.why);
		}
		ASSERT_GE(atomic_load(&l.sent), l.got);
		if (end != END_SHUT_RD)
			ASSERT_EQ(atomic_load(&l.sent), l.got);
		lives[end]++;
		if (l.c >= 0)
			close(l.c);
		close(l.a);
	}
	TH_LOG("lives ended by SHUT_RD %ld, SHUT_WR %ld, close %ld, signal %ld",
	       lives[END_SHUT_RD], lives[END_SHUT_WR], lives[END_CLOSE],
	       lives[END_SIGNAL]);
	cu_expect_kernel_quiet(_metadata, &self->kmsg);
}

/* ==== listeners closed under /proc and sock_diag readers ====================== */

#define LISTENERS_BACKLOG	4
#define CLIENTS_PER_LISTENER	6	/* two refused: full */

struct teardown_race {
	struct race r;
	atomic_long lives, proc_reads, dumps;
};

/* the port fd is bound to (0 if none), for threads, which never ASSERT */
static __u32 port_of(int fd)
{
	struct sockaddr_cu a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (getsockname(fd, CU_SA(&a), &len))
		return 0;
	return a.scu_port;
}

/* a listener, its clients (some queued, some refused), all closed */
static void one_listener_life(struct teardown_race *tr, int type, unsigned int *seed)
{
	int lfd, fds[CLIENTS_PER_LISTENER], i, err;

	lfd = socket(cu_family(), type, 0);
	if (lfd < 0 || cu_try_bind(lfd, CU_PORT_ANY) || listen(lfd, LISTENERS_BACKLOG)) {
		race_error(&tr->r, "listener: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < CLIENTS_PER_LISTENER; i++) {
		fds[i] = socket(cu_family(), type, 0);
		err = cu_try_connect(fds[i], port_of(lfd));
		if (err && err != ECONNREFUSED)
			race_error(&tr->r, "connect: %s", strerror(err));
		if (!err)
			send(fds[i], "data", 4, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	if (rnd(seed) % 2)
		shutdown(lfd, SHUT_RD);
	close(lfd);
	lfd = -1;
	for (i = 0; i < CLIENTS_PER_LISTENER; i++)
		close(fds[i]);
	atomic_fetch_add(&tr->lives, 1);
out:
	if (lfd >= 0)
		close(lfd);
}

static void *listener_life_thread(void *arg)
{
	struct teardown_race *tr = arg;
	unsigned int seed = 0x68e31da4u ^ (unsigned int)cu_gettid();

	while (race_running(&tr->r))
		one_listener_life(tr, rnd(&seed) % 2 ? SOCK_STREAM : SOCK_SEQPACKET, &seed);
	return NULL;
}

static void *proc_reader_thread(void *arg)
{
	struct teardown_race *tr = arg;
	char buf[4096];
	int fd;

	while (race_running(&tr->r)) {
		fd = open("/proc/net/af_custom", O_RDONLY);
		if (fd < 0) {
			race_error(&tr->r, "/proc/net/af_custom: %s", strerror(errno));
			break;
		}
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		atomic_fetch_add(&tr->proc_reads, 1);
	}
	return NULL;
}

/* one sock_diag dump of every socket with every attribute; 0 or -errno */
static int diag_dump_all(int nl)
{
	static char buf[32768] __attribute__((aligned(8)));	/* one diag thread */
	struct {
		struct nlmsghdr nlh;
		struct cu_diag_req req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = cu_family(), .cudiag_show = 0xf },
	};
	struct nlmsghdr *h;
	ssize_t n;

	if (send(nl, &msg, sizeof(msg), 0) < 0)
		return -errno;
	for (;;) {
		n = recv(nl, buf, sizeof(buf), 0);
		if (n <= 0)
			return n ? -errno : -EPROTO;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -EPROTO;
		}
	}
}

static void *diag_thread(void *arg)
{
	struct teardown_race *tr = arg;
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int err;

	if (nl < 0) {
		race_error(&tr->r, "socket(NETLINK_SOCK_DIAG): %s", strerror(errno));
		return NULL;
	}
	while (race_running(&tr->r)) {
		err = diag_dump_all(nl);
		if (err) {
			race_error(&tr->r, "sock_diag dump: %s", strerror(-err));
			break;
		}
		atomic_fetch_add(&tr->dumps, 1);
	}
	close(nl);
	return NULL;
}

TEST_F_TIMEOUT(race, listeners_closed_with_pending_under_proc_and_diag_readers, 120)
{
	struct teardown_race tr = { 0 };
	pthread_t t[4];

	race_start(&tr.r);
	start_threads(_metadata, t, 2, listener_life_thread, &tr);
	start_threads(_metadata, t + 2, 1, proc_reader_thread, &tr);
	start_threads(_metadata, t + 3, 1, diag_thread, &tr);
	join_threads(_metadata, t, 4);
	TH_LOG("%ld listener lives, %ld /proc reads, %ld sock_diag dumps",
	       atomic_load(&tr.lives), atomic_load(&tr.proc_reads), atomic_load(&tr.dumps));
	race_expect_clean(_metadata, &tr.r);
	ASSERT_LT(0, atomic_load(&tr.lives));
	ASSERT_LT(0, atomic_load(&tr.proc_reads));
	ASSERT_LT(0, atomic_load(&tr.dumps));
	cu_expect_no_sockets(_metadata);
	cu_expect_kernel_quiet(_metadata, &self->kmsg);
}

TEST_HARNESS_MAIN
