// SPDX-License-Identifier: GPL-2.0
/*
 * Busy polling (docs/semantics.md §8): with SO_BUSY_POLL set, a blocking
 * receive spins for up to that many microseconds before it sleeps, one
 * thread per socket.
 *
 * A spinning thread is running in the kernel, so its system time grows
 * while it waits; a sleeping one's does not. Each test first sees that
 * growth (which without busy polling never comes), then gives the thread
 * what it waits for, from a thread on another CPU: it must return it at
 * once, having never slept. Two threads waiting on one socket spin one
 * at a time. The spin must also end, as a sleep does, for a signal, for
 * SO_RCVTIMEO, and for a shutdown.
 *
 * Without it, a receive sleeps, and one more wakeup hides part of what
 * that costs (module/data.c, cu_rx_wake_early()): a thread asleep in
 * recv() is woken when its peer, on another CPU, reads what the thread
 * sent, before its answer comes; it looks, finds nothing, and sleeps
 * again. On the peer's own CPU it is not woken for that.
 */
#include "cu_util.h"
#include "cu_thread.h"
#include <sched.h>
#include <sys/resource.h>

#define PORT		5400U
#define SPIN_US		(10 * 1000 * 1000)	/* longer than any test waits */
#define MSG_LEN		8192	/* over direct.c's minimum: a stream offers */
#define SPIN_TICKS	3	/* system time that shows a spin: 30 ms at USER_HZ 100 */
#define ATTEMPTS	5	/* another task may take the CPU: the spinner then sleeps */

/* user + system time of a thread of this process, in clock ticks; -1 if unknown */
static long task_ticks(pid_t tid)
{
	const char *fields;
	unsigned long utime, stime;
	char buf[1024];

	fields = cu_task_stat(tid, buf, sizeof(buf));
	/* state and ten more fields, then utime and stime */
	if (!fields || sscanf(fields, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			      &utime, &stime) != 2)
		return -1;
	return utime + stime;
}

/*
 * Whether thread @tid spins: its CPU time grows by SPIN_TICKS while it
 * waits in a call (within CU_WAIT_MS). A sleeping thread's does not.
 */
static bool spins(pid_t tid)
{
	long long deadline = cu_now_ms() + CU_WAIT_MS;
	long t0 = task_ticks(tid), t;

	while (t0 >= 0 && cu_now_ms() < deadline) {
		t = task_ticks(tid);
		if (t < 0)
			return false;
		if (t - t0 >= SPIN_TICKS)
			return true;
		cu_sleep_ms(10);
	}
	return false;
}

static cpu_set_t allowed;	/* the test's CPUs, before it chose any */

/* Put the calling thread on the CPU numbered @nth among those allowed. */
static bool run_on_cpu(int nth)
{
	cpu_set_t one;
	int cpu, seen = 0;

	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed) || seen++ != nth)
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		return !sched_setaffinity(0, sizeof(one), &one);
	}
	return false;
}

static void set_busy_poll(struct __test_metadata *_metadata, int fd, int us)
{
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)));
	ASSERT_EQ(us, cu_sol_int(_metadata, fd, SO_BUSY_POLL));
}

/* one blocking recv() in a thread of its own, on CPU 0 (or 1 with other_cpu) */
struct waiter {
	int fd;
	bool other_cpu;
	char buf[MSG_LEN * 2];
	pid_t tid;
	ssize_t ret;		/* recv's count, or -1 */
	int err;		/* errno of a -1 */
	long slept;		/* voluntary context switches during the call */
};

static void *waiter_thread(void *arg)
{
	struct waiter *w = arg;
	struct rusage before, after;

	run_on_cpu(w->other_cpu);
	getrusage(RUSAGE_THREAD, &before);
	w->tid = cu_gettid();
	w->ret = recv(w->fd, w->buf, sizeof(w->buf), 0);
	w->err = errno;
	getrusage(RUSAGE_THREAD, &after);
	w->slept = after.ru_nvcsw - before.ru_nvcsw;
	return NULL;
}

/* start @w in @t; returns once it is in its call and spinning there */
static void start_spinner(struct __test_metadata *_metadata, pthread_t *t,
			  struct waiter *w)
{
	w->tid = 0;
	ASSERT_EQ(0, pthread_create(t, NULL, waiter_thread, w));
	while (!w->tid)
		cu_sleep_ms(1);
	ASSERT_TRUE(spins(w->tid)) {
		TH_LOG("the thread waiting in recv did not spin");
	}
}

static void join_waiter(struct __test_metadata *_metadata, pthread_t t, long long t0)
{
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS));
	ASSERT_GT(CU_AT_ONCE_MS, cu_now_ms() - t0);
}

FIXTURE(busy) {
	int lfd, c, a;
};

CU_VARIANTS_ALL(busy);

FIXTURE_SETUP(busy)
{
	ASSERT_TRUE(cu_setup());
	cu_pair(_metadata, variant->type, PORT, 4, &self->lfd, &self->c, &self->a);
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(allowed), &allowed));
	if (!run_on_cpu(1))
		SKIP(return, "a spinning thread needs a second CPU to feed it");
}

FIXTURE_TEARDOWN(busy)
{
	cu_close_pair(&self->lfd, &self->c, &self->a);
}

/*
 * A receive with SO_BUSY_POLL spins, and takes the message when it comes
 * without having slept. A stream receive of this size has offered its
 * buffer (direct.c): the writer fills it while its reader spins.
 */
TEST_F(busy, receive_spins_and_takes_the_message_awake)
{
	static struct waiter w;
	char msg[MSG_LEN];
	int attempt, i;
	pthread_t t;

	for (i = 0; i < MSG_LEN; i++)
		msg[i] = (char)(i * 13 + 1);
	set_busy_poll(_metadata, self->a, SPIN_US);
	w.fd = self->a;
	for (attempt = 0; attempt < ATTEMPTS; attempt++) {
		start_spinner(_metadata, &t, &w);
		ASSERT_EQ(MSG_LEN, send(self->c, msg, MSG_LEN, 0));
		ASSERT_TRUE(cu_join(t, CU_WAIT_MS));
		ASSERT_EQ(MSG_LEN, w.ret) {
			TH_LOG("recv: %s", w.ret < 0 ? strerror(w.err) : "short");
		}
		ASSERT_EQ(0, memcmp(msg, w.buf, MSG_LEN));
		if (!w.slept)
			break;
	}
	ASSERT_GT(ATTEMPTS, attempt) {
		TH_LOG("the receive slept in each of %d attempts", ATTEMPTS);
	}
}

/* The spin is part of the wait SO_RCVTIMEO bounds: EAGAIN on time. */
TEST_F(busy, receive_spin_ends_at_rcvtimeo)
{
	char buf[16];
	long long t0;

	set_busy_poll(_metadata, self->a, SPIN_US);
	cu_set_timeo(_metadata, self->a, SO_RCVTIMEO, 300);
	t0 = cu_now_ms();
	ASSERT_EQ(-1, recv(self->a, buf, sizeof(buf), 0));
	ASSERT_EQ(EAGAIN, errno);
	cu_expect_timed_out(_metadata, t0);
}

/* A signal ends the spin as it ends a sleep: EINTR without SA_RESTART. */
TEST_F(busy, receive_spin_ends_for_a_signal)
{
	static struct waiter w;
	long long t0;
	pthread_t t;

	cu_catch_usr1(_metadata, false);
	set_busy_poll(_metadata, self->a, SPIN_US);
	w.fd = self->a;
	start_spinner(_metadata, &t, &w);
	t0 = cu_now_ms();
	ASSERT_EQ(0, pthread_kill(t, SIGUSR1));
	join_waiter(_metadata, t, t0);
	ASSERT_EQ(-1, w.ret);
	ASSERT_EQ(EINTR, w.err);
}

/* SHUT_RD by another thread ends the spin: end of file. */
TEST_F(busy, receive_spin_ends_at_shutdown)
{
	static struct waiter w;
	long long t0;
	pthread_t t;

	set_busy_poll(_metadata, self->a, SPIN_US);
	w.fd = self->a;
	start_spinner(_metadata, &t, &w);
	t0 = cu_now_ms();
	ASSERT_EQ(0, shutdown(self->a, SHUT_RD));
	join_waiter(_metadata, t, t0);
	ASSERT_EQ(0, w.ret);
}

/* Without SO_BUSY_POLL (and net.core.busy_read 0) a receive sleeps. */
TEST_F(busy, receive_without_busy_poll_sleeps)
{
	static struct waiter w;
	int busy_read = 0;
	pthread_t t;

	if (cu_read_int("/proc/sys/net/core/busy_read", &busy_read) && busy_read)
		SKIP(return, "net.core.busy_read is set");
	ASSERT_EQ(0, cu_sol_int(_metadata, self->a, SO_BUSY_POLL));
	w.fd = self->a;
	cu_start_sleeper(_metadata, &t, waiter_thread, &w, &w.tid);
	ASSERT_FALSE(spins(w.tid));
	ASSERT_EQ(1, send(self->c, "x", 1, 0));
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS));
	ASSERT_EQ(1, w.ret);
	ASSERT_LT(0, w.slept);
}

/* voluntary context switches of thread @tid so far; -1 if unknown */
static long task_sleeps(pid_t tid)
{
	char path[64], line[128];
	long sleeps = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &sleeps) == 1)
			break;
	fclose(f);
	return sleeps;
}

/*
 * Wait, for at most @ms, until thread @tid, which had slept @sleeps times,
 * has been woken and sleeps again. A woken thread's CPU may take a while
 * to run it on a busy host: a fixed pause could answer it first.
 */
static void wait_for_another_sleep(pid_t tid, long sleeps, int ms)
{
	long long deadline = cu_now_ms() + ms;

	while (cu_now_ms() < deadline) {
		if (task_sleeps(tid) > sleeps && cu_task_state(tid) == 'S')
			return;
		cu_sleep_ms(5);
	}
}

/*
 * Put a thread to sleep in recv() on @c, on the test's CPU with
 * @same_cpu, else on the other; have c's question read on its peer @a,
 * then answer it. With @reader_waits, a thread on the test's CPU is
 * asleep in recv() on @a when the question comes, and a stream's question
 * goes straight into its buffer (direct.c); else the test reads it from
 * a's queue. On another CPU the thread is woken early and sleeps twice in
 * its call; on the same CPU once, for its answer.
 */
static void expect_early_wakeup(struct __test_metadata *_metadata, int c,
				int a, bool same_cpu, bool reader_waits)
{
	ssize_t len = reader_waits ? MSG_LEN : 8;
	static struct waiter w, reader;
	static char question[MSG_LEN];
	pthread_t t, rt;
	long sleeps;

	memset(&w, 0, sizeof(w));
	w.fd = c;
	w.other_cpu = same_cpu;		/* the test runs on the second CPU */
	cu_start_sleeper(_metadata, &t, waiter_thread, &w, &w.tid);
	sleeps = task_sleeps(w.tid);
	if (reader_waits) {
		memset(&reader, 0, sizeof(reader));
		reader.fd = a;
		reader.other_cpu = true;
		cu_start_sleeper(_metadata, &rt, waiter_thread, &reader,
				 &reader.tid);
	}
	ASSERT_EQ(len, send(c, question, len, 0));
	if (reader_waits) {
		ASSERT_TRUE(cu_join(rt, CU_WAIT_MS));
		ASSERT_EQ(len, reader.ret);
	} else {
		ASSERT_EQ(len, recv(a, reader.buf, sizeof(reader.buf), 0));
	}
	/* an early wakeup comes within a few ms, or never: 100 ms is plenty */
	wait_for_another_sleep(w.tid, sleeps, same_cpu ? 100 : CU_WAIT_MS);
	ASSERT_EQ(6, send(a, "answer", 6, 0));
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS));
	ASSERT_EQ(6, w.ret);
	ASSERT_EQ(0, memcmp(w.buf, "answer", 6));
	if (same_cpu) {
		ASSERT_EQ(1, w.slept) {
			TH_LOG("slept %ld times: woken before its answer came",
			       w.slept);
		}
	} else {
		ASSERT_LE(2, w.slept) {
			TH_LOG("slept %ld times: not woken when its message was read",
			       w.slept);
		}
	}
}

/* The peer on another CPU reads: woken early, the thread sleeps twice. */
TEST_F(busy, receive_woken_early_when_peer_reads_on_another_cpu)
{
	expect_early_wakeup(_metadata, self->c, self->a, false, false);
}

/* The same when the peer's reader was waiting: a stream's one copy. */
TEST_F(busy, receive_woken_early_when_peer_reader_waited_on_another_cpu)
{
	expect_early_wakeup(_metadata, self->c, self->a, false, true);
}

/* The peer on the same CPU reads: the thread sleeps once, for its answer. */
TEST_F(busy, receive_not_woken_early_on_the_same_cpu)
{
	expect_early_wakeup(_metadata, self->c, self->a, true, false);
}

/* Nor when the peer's reader waited there. */
TEST_F(busy, receive_not_woken_early_on_the_same_cpu_by_a_waiting_reader)
{
	expect_early_wakeup(_metadata, self->c, self->a, true, true);
}

/*
 * Two threads waiting on one socket, each on a CPU of its own: one spins,
 * the other sleeps (the CPU time of both grows as one thread's, not two).
 */
TEST_F(busy, receive_one_thread_spins_per_socket)
{
	static struct waiter w[2];
	long long t0, elapsed;
	long before, after;
	pthread_t t[2];
	int i;

	set_busy_poll(_metadata, self->a, SPIN_US);
	for (i = 0; i < 2; i++) {
		w[i].fd = self->a;
		w[i].other_cpu = i;
		w[i].tid = 0;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, waiter_thread, &w[i]));
		while (!w[i].tid)
			cu_sleep_ms(1);
	}
	ASSERT_TRUE(spins(w[0].tid) || spins(w[1].tid));
	before = task_ticks(w[0].tid) + task_ticks(w[1].tid);
	t0 = cu_now_ms();
	cu_sleep_ms(500);
	after = task_ticks(w[0].tid) + task_ticks(w[1].tid);
	elapsed = cu_now_ms() - t0;
	/*
	 * A tick is 10 ms of CPU time: one thread spinning makes elapsed / 10
	 * of them, two make twice that. Measured against the time that
	 * passed, not the 500 ms asked for, as the VM may stall this thread.
	 */
	ASSERT_GT(elapsed * 3 / 2, (after - before) * 10) {
		TH_LOG("%ld ticks of CPU time in %lld ms", after - before, elapsed);
	}
	ASSERT_EQ(0, shutdown(self->a, SHUT_RD));
	for (i = 0; i < 2; i++) {
		ASSERT_TRUE(cu_join(t[i], CU_WAIT_MS));
		ASSERT_EQ(0, w[i].ret);
	}
}

TEST_HARNESS_MAIN
