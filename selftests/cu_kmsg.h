/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading the kernel log from a test: the records since a point, and
 * whether one reports a problem. Shared by the harness tests (cu_util.h)
 * and the fuzzer, which is not a harness program.
 */
#ifndef CU_KMSG_H
#define CU_KMSG_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

/* /dev/kmsg, positioned after the last record; -1 if unreadable */
static inline int cu_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * The text of the next record of @kmsg (in @rec, of @len bytes), or NULL
 * when there is none yet (or @kmsg is -1).
 */
static inline const char *cu_kmsg_next(int kmsg, char *rec, size_t len)
{
	char *msg;
	ssize_t n;

	if (kmsg < 0)
		return NULL;
	do
		n = read(kmsg, rec, len - 1);
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
 * Whether one kernel log record (its text after ';') reports a problem:
 * the runner's list (scripts/vm.sh), so that a test the debug kernel
 * catches fails by itself, not only at the run's final kernel check.
 */
static inline bool cu_kmsg_problem(const char *msg)
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

#endif /* CU_KMSG_H */
