/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading the kernel log from a test: the records since a point, and
 * whether one reports a problem. Shared by cu_race, a harness program,
 * and the fuzzer, which is not one.
 */
#ifndef CU_KMSG_H
#define CU_KMSG_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * The kernel log since cu_kmsg_open(). A KCSAN report spans many records,
 * from "BUG: KCSAN:" to "Reported by Kernel Concurrency Sanitizer", and
 * whether it is ours shows only in its stack frames, so the reader keeps
 * the report it is inside.
 */
struct cu_kmsg {
	int fd;			/* /dev/kmsg, or -1 if unreadable */
	bool in_kcsan;		/* inside a KCSAN report */
	bool kcsan_ours;	/* ... which names a function of the module */
	char kcsan_title[256];	/* ... whose first line this is */
};

/* Start reading after the last record there is now. */
static inline void cu_kmsg_open(struct cu_kmsg *log)
{
	memset(log, 0, sizeof(*log));
	log->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (log->fd >= 0)
		lseek(log->fd, 0, SEEK_END);
}

static inline void cu_kmsg_close(struct cu_kmsg *log)
{
	if (log->fd >= 0)
		close(log->fd);
	log->fd = -1;
}

/*
 * The text of the next record (in @rec, of @len bytes), or NULL when there
 * is none yet.
 */
static inline const char *cu_kmsg_next(struct cu_kmsg *log, char *rec,
				       size_t len)
{
	char *msg;
	ssize_t n;

	if (log->fd < 0)
		return NULL;
	do
		n = read(log->fd, rec, len - 1);
	while (n < 0 && errno == EPIPE);	/* records overwritten: read on */
	if (n <= 0)
		return NULL;
	rec[n] = 0;
	msg = strchr(rec, ';');
	msg = msg ? msg + 1 : rec;
	msg[strcspn(msg, "\n")] = 0;
	return msg;
}

/*
 * Whether a record reports a problem, by the runner's list
 * (scripts/vm.sh), so that a test the debug kernel catches fails by
 * itself, not only at the run's final kernel check.
 */
static inline bool cu_kmsg_listed_problem(const char *msg)
{
	static const char *const problems[] = {
		"WARNING:", "BUG:", "Oops", "Call Trace", "general protection",
		"refcount_t", "list_add corruption", "list_del corruption",
		"UBSAN:", "KASAN:", "suspected memory leak", "soft lockup",
		"blocked for more than", "detected stall", "Kernel panic",
		"INFO: trying to register non-static key",
		"possible circular locking", "suspicious RCU usage",
		"inconsistent lock state", "sleeping function called",
		"do not call blocking ops", "ODEBUG:",
	};
	size_t i;

	for (i = 0; i < sizeof(problems) / sizeof(*problems); i++)
		if (strstr(msg, problems[i]))
			return true;
	return false;
}

/* A line of a report in the module: a frame " cu_...+0x" or "[af_custom]". */
static inline bool cu_kmsg_names_module(const char *msg)
{
	return strstr(msg, "[af_custom]") ||
	       (!strncmp(msg, " cu_", 4) && strstr(msg, "+0x"));
}

/*
 * A KCSAN report begins with @msg, its title. The debug kernel's core code
 * races with itself now and then (in 6.1, at random): a report counts only
 * if it names the module, as the end-of-run check in scripts/guest-init.sh
 * (scan_kcsan) judges it. Whether it does shows in the frames that follow.
 */
static inline bool cu_kmsg_kcsan_begins(struct cu_kmsg *log, const char *msg)
{
	if (strncmp(msg, "BUG: KCSAN: ", 12))
		return false;
	log->in_kcsan = true;
	log->kcsan_ours = false;
	snprintf(log->kcsan_title, sizeof(log->kcsan_title), "%s", msg);
	return true;
}

/*
 * Follow the KCSAN report we are inside, if any, through @msg: the title
 * of one that names the module once it ends, else NULL.
 */
static inline const char *cu_kmsg_kcsan_follow(struct cu_kmsg *log,
					       const char *msg)
{
	if (!log->in_kcsan)
		return NULL;
	if (cu_kmsg_names_module(msg))
		log->kcsan_ours = true;
	if (!strstr(msg, "Reported by Kernel Concurrency Sanitizer"))
		return NULL;
	log->in_kcsan = false;
	return log->kcsan_ours ? log->kcsan_title : NULL;
}

/*
 * The next problem in the log: the record that reports it, or the title
 * of a KCSAN report; NULL when there is none (yet). A listed problem
 * inside a KCSAN report (another CPU's warning) still counts.
 */
static inline const char *cu_kmsg_next_problem(struct cu_kmsg *log,
					       char *rec, size_t len)
{
	const char *msg, *problem;

	while ((msg = cu_kmsg_next(log, rec, len))) {
		if (cu_kmsg_kcsan_begins(log, msg))
			continue;
		problem = cu_kmsg_kcsan_follow(log, msg);
		if (!problem && cu_kmsg_listed_problem(msg))
			problem = msg;
		if (problem)
			return problem;
	}
	return NULL;
}

#endif /* CU_KMSG_H */
