/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Threads, blocking calls and child processes for the af_custom selftests
 * that block a thread in a call and wake it; include after cu_util.h.
 *
 * Threads never ASSERT (the harness longjmps): they store results for the
 * main thread to check. A thread stores its tid first, so the test can wait
 * until it sleeps in its call (cu_start_sleeper) before it acts.
 */
#ifndef CU_THREAD_H
#define CU_THREAD_H

#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "cu_util.h"

#define CU_CHILD_SECS		20	/* a forked helper child's limit (alarm) */

/* SIGUSR1s caught since cu_catch_usr1() */
static volatile sig_atomic_t cu_usr1_count __attribute__((unused));

static inline void cu_on_usr1(int sig)
{
	(void)sig;
	cu_usr1_count++;
}

/*
 * Count SIGUSR1s instead of dying of them, so a thread can interrupt
 * another's blocking call: with restart, the call restarts (SA_RESTART);
 * without, it fails with EINTR.
 */
static inline void cu_catch_usr1(struct __test_metadata *_metadata, bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cu_on_usr1;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	cu_usr1_count = 0;
}

static inline pid_t cu_gettid(void)
{
	return syscall(SYS_gettid);
}

/*
 * The fields of /proc/self/task/<tid>/stat after the thread's name, from
 * its state letter on, in buf; NULL if unreadable.
 */
static inline const char *cu_task_stat(pid_t tid, char *buf, size_t len)
{
	char path[64], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return (p && p[1] == ' ') ? p + 2 : NULL;
}

/* state letter of a thread of this process ('?' if /proc is unreadable) */
static inline char cu_task_state(pid_t tid)
{
	char buf[512];
	const char *fields = cu_task_stat(tid, buf, sizeof(buf));

	return fields ? fields[0] : '?';
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

/* a call that began at t0 waited out a 300 ms timeout, and no more */
static inline void cu_expect_timed_out(struct __test_metadata *_metadata, long long t0)
{
	long long dt = cu_now_ms() - t0;

	ASSERT_LE(250, dt);
	ASSERT_GT(CU_WAIT_MS, dt);
}

/* the child exited, with status 0 */
static inline void cu_expect_exit0(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

#endif /* CU_THREAD_H */
