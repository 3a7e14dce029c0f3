// SPDX-License-Identifier: GPL-2.0
/*
 * The af_custom tracepoints (module/trace.h, TRACE_SYSTEM af_custom):
 * cu_queued, cu_accepted, cu_refused (full / no_listener), cu_reset
 * (shrink / close) and cu_backlog, read back from tracefs.
 *
 * Each test enables every event of events/af_custom in a tracefs instance
 * of this program's own (so nothing else that traces is disturbed), emptied
 * first, with the global trace clock so that the order of events from
 * different CPUs is the order they happened in; does socket calls; and
 * compares the events it finds in the instance's `trace` file, field by
 * field, with the ports the sockets report. tracefs is mounted on /sys/kernel/tracing when it is not there.
 */
#include "cu_util.h"
#include <sys/mount.h>
#include <sys/stat.h>

#define TRACEFS		"/sys/kernel/tracing"
#define PORT		7300U
#define NOBODY		7399U
#define MAX_EVENTS	64

struct cu_events {
	int n;
	char line[MAX_EVENTS][160];	/* "cu_queued: port=7300 peer=... pending=1" */
};

/* tracefs, mounted if need be; false if this kernel has none */
static bool tracefs_mounted(void)
{
	if (!access(TRACEFS "/instances", F_OK))
		return true;
	mkdir(TRACEFS, 0755);
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY)
		return false;
	return !access(TRACEFS "/instances", F_OK);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static char *read_file(const char *path, size_t *len)
{
	size_t cap = 65536, got = 0;
	char *buf = malloc(cap + 1);
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + got, cap - got)) > 0) {
		got += n;
		if (got == cap) {
			char *more = realloc(buf, 2 * cap + 1);

			if (!more)
				break;
			buf = more;
			cap *= 2;
		}
	}
	close(fd);
	buf[got] = 0;
	if (len)
		*len = got;
	return buf;
}

FIXTURE(trace)
{
	bool isolated;
	char inst[96];
};

FIXTURE_VARIANT(trace)
{
	int type;
};

FIXTURE_VARIANT_ADD(trace, stream)
{
	.type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(trace, seqpacket)
{
	.type = SOCK_SEQPACKET,
};

/* SKIP in a FIXTURE_SETUP does not stop the test: each test checks */
#define CU_NEED_TRACEFS(self) do {					\
	if (!(self)->inst[0])						\
		SKIP(return, "no tracefs in this kernel (CONFIG_TRACING)"); \
} while (0)

static void inst_path(char *buf, size_t len, const char *inst, const char *file)
{
	snprintf(buf, len, "%s/%s", inst, file);
}

/*
 * One instance for every test: creating one makes the files of every event
 * of the kernel, which takes seconds under emulation. The first test makes
 * it, each test empties it, and the harness's main process (the tests'
 * parent, which names it) removes it when it exits.
 */
static char cu_inst_of_parent[96];

static void __attribute__((destructor)) cu_remove_instance(void)
{
	char path[192];

	if (!cu_inst_of_parent[0] || access(cu_inst_of_parent, F_OK))
		return;
	inst_path(path, sizeof(path), cu_inst_of_parent, "events/af_custom/enable");
	write_file(path, "0");
	rmdir(cu_inst_of_parent);
}

static void __attribute__((constructor)) cu_name_instance(void)
{
	snprintf(cu_inst_of_parent, sizeof(cu_inst_of_parent),
		 TRACEFS "/instances/cu_trace.%d", getpid());
}

FIXTURE_SETUP(trace)
{
	char path[192];
	int err;

	self->inst[0] = 0;
	self->isolated = cu_setup();
	if (!tracefs_mounted())
		SKIP(return, "no tracefs in this kernel (CONFIG_TRACING)");
	snprintf(self->inst, sizeof(self->inst), "%s", cu_inst_of_parent);
	if (mkdir(self->inst, 0755) && errno != EEXIST) {
		ASSERT_EQ(0, -errno) {
			TH_LOG("mkdir %s: %s", self->inst, strerror(errno));
		}
	}
	inst_path(path, sizeof(path), self->inst, "events/af_custom/enable");
	ASSERT_EQ(0, access(path, F_OK)) {
		TH_LOG("%s: %s: the module has no tracepoints?", path, strerror(errno));
	}
	inst_path(path, sizeof(path), self->inst, "trace_clock");
	err = write_file(path, "global");
	ASSERT_EQ(0, err) {
		TH_LOG("trace_clock global: %s", strerror(-err));
	}
	inst_path(path, sizeof(path), self->inst, "trace");
	err = write_file(path, "");		/* O_TRUNC: empties the buffer */
	ASSERT_EQ(0, err) {
		TH_LOG("empty the trace: %s", strerror(-err));
	}
	inst_path(path, sizeof(path), self->inst, "events/af_custom/enable");
	err = write_file(path, "1");
	ASSERT_EQ(0, err) {
		TH_LOG("enable af_custom events: %s", strerror(-err));
	}
}

FIXTURE_TEARDOWN(trace)
{
	char path[192];

	if (!self->inst[0])
		return;
	inst_path(path, sizeof(path), self->inst, "events/af_custom/enable");
	write_file(path, "0");
}

/* the af_custom events traced so far, without the common prefix */
static void events(struct __test_metadata *_metadata, const char *inst,
		   struct cu_events *ev)
{
	char path[192], *buf, *line, *save = NULL, *p;

	inst_path(path, sizeof(path), inst, "trace");
	buf = read_file(path, NULL);
	ASSERT_NE(NULL, buf);
	ev->n = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		p = strstr(line, ": cu_");
		if (!p)
			continue;
		ASSERT_GT(MAX_EVENTS, ev->n);
		snprintf(ev->line[ev->n++], sizeof(ev->line[0]), "%s", p + 2);
	}
	free(buf);
}

static void show_events(struct __test_metadata *_metadata,
			const struct cu_events *ev)
{
	int i;

	for (i = 0; i < ev->n; i++)
		TH_LOG("  traced: %s", ev->line[i]);
}

/*
 * The events must be exactly want[0..n), in that order, except that
 * entries of want marked with a leading '~' match in any order among a run
 * of such entries (resets of several connections at once).
 */
static void expect_events(struct __test_metadata *_metadata, const char *inst,
			  const char *const *want, int n)
{
	bool used[MAX_EVENTS] = { false };
	struct cu_events ev;
	int i, j, start, end;

	events(_metadata, inst, &ev);
	ASSERT_EQ(n, ev.n) {
		TH_LOG("%d af_custom events traced, want %d:", ev.n, n);
		for (i = 0; i < n; i++)
			TH_LOG("  want:   %s", want[i]);
		show_events(_metadata, &ev);
	}
	for (i = 0; i < n; i = end) {
		if (want[i][0] != '~') {
			EXPECT_STREQ(want[i], ev.line[i]) {
				show_events(_metadata, &ev);
			}
			end = i + 1;
			continue;
		}
		start = i;
		for (end = i; end < n && want[end][0] == '~'; end++)
			;
		for (j = start; j < end; j++) {
			int k;

			for (k = start; k < end; k++)
				if (!used[k] && !strcmp(want[j] + 1, ev.line[k]))
					break;
			EXPECT_LT(k, end) {
				TH_LOG("no event '%s' among events %d to %d", want[j] + 1,
				       start, end - 1);
				show_events(_metadata, &ev);
			}
			if (k < end)
				used[k] = true;
		}
	}
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	static char bufs[16][160];
	static int next;
	char *b = bufs[next++ % 16];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(bufs[0]), f, ap);
	va_end(ap);
	return b;
}

/*
 * The end of every event line for listener @fd (-1: no listener): its
 * socket cookie and the inode of this network namespace.
 */
static void listener_ids(struct __test_metadata *_metadata, int fd,
			 char *buf, size_t len)
{
	socklen_t optlen = sizeof(__u64);
	__u64 cookie = 0;
	struct stat ns;

	if (fd >= 0)
		ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &optlen));
	ASSERT_EQ(0, stat("/proc/self/ns/net", &ns));
	snprintf(buf, len, " cookie=%llu netns_ino=%lu",
		 (unsigned long long)cookie, (unsigned long)ns.st_ino);
}

/* the format of each event: its fields, their types */
TEST_F(trace, event_formats)
{
	static const struct {
		const char *event;
		const char *fields[6];
	} formats[] = {
		{ "cu_queued",   { "u32 port;", "u32 peer;", "u32 pending;",
				   "u64 cookie;", "u32 netns_ino;" } },
		{ "cu_accepted", { "u32 port;", "u32 peer;", "u32 pending;",
				   "u64 cookie;", "u32 netns_ino;" } },
		{ "cu_refused",  { "u32 port;", "u32 peer;", "u8 why;",
				   "u64 cookie;", "u32 netns_ino;" } },
		{ "cu_reset",    { "u32 port;", "u32 peer;", "u8 why;",
				   "u64 cookie;", "u32 netns_ino;" } },
		{ "cu_backlog",  { "u32 port;", "u32 old_backlog;", "u32 new_backlog;",
				   "u32 pending;", "u64 cookie;", "u32 netns_ino;" } },
	};
	char path[256], *text;
	size_t i, j;

	CU_NEED_TRACEFS(self);
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		snprintf(path, sizeof(path), "%s/events/af_custom/%s/format",
			 self->inst, formats[i].event);
		text = read_file(path, NULL);
		ASSERT_NE(NULL, text) {
			TH_LOG("%s: %s", path, strerror(errno));
		}
		for (j = 0; j < 6 && formats[i].fields[j]; j++) {
			char want[64];

			snprintf(want, sizeof(want), "field:%s", formats[i].fields[j]);
			EXPECT_NE(NULL, strstr(text, want)) {
				TH_LOG("%s: no '%s' in\n%s", formats[i].event, want, text);
			}
		}
		free(text);
	}
}

/* first listen(), two connections queued, both accepted in order */
TEST_F(trace, queued_and_accepted)
{
	char ids[64];
	int l, c1, c2;
	__u32 p1, p2;

	CU_NEED_TRACEFS(self);
	l = cu_listener(_metadata, variant->type, PORT, 2, NULL);
	listener_ids(_metadata, l, ids, sizeof(ids));
	c1 = cu_client(_metadata, variant->type, PORT);
	c2 = cu_client(_metadata, variant->type, PORT);
	p1 = cu_local_port(_metadata, c1);
	p2 = cu_local_port(_metadata, c2);
	cu_accept(_metadata, l);
	cu_accept(_metadata, l);
	expect_events(_metadata, self->inst, (const char *const[]){
		fmt("cu_backlog: port=%u old_backlog=0 new_backlog=2 pending=0%s", PORT, ids),
		fmt("cu_queued: port=%u peer=%u pending=1%s", PORT, p1, ids),
		fmt("cu_queued: port=%u peer=%u pending=2%s", PORT, p2, ids),
		fmt("cu_accepted: port=%u peer=%u pending=1%s", PORT, p1, ids),
		fmt("cu_accepted: port=%u peer=%u pending=0%s", PORT, p2, ids),
	}, 5);
}

/* a connect to a full queue: refused, why=full */
TEST_F(trace, refused_full)
{
	char ids[64];
	int l, c1, c2;
	__u32 p1, p2;

	CU_NEED_TRACEFS(self);
	l = cu_listener(_metadata, variant->type, PORT, 1, NULL);
	listener_ids(_metadata, l, ids, sizeof(ids));
	c1 = cu_client(_metadata, variant->type, PORT);
	c2 = cu_socket(_metadata, variant->type);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c2, PORT));
	p1 = cu_local_port(_metadata, c1);
	p2 = cu_local_port(_metadata, c2);	/* autobound by connect() */
	expect_events(_metadata, self->inst, (const char *const[]){
		fmt("cu_backlog: port=%u old_backlog=0 new_backlog=1 pending=0%s", PORT, ids),
		fmt("cu_queued: port=%u peer=%u pending=1%s", PORT, p1, ids),
		fmt("cu_refused: port=%u peer=%u why=full%s", PORT, p2, ids),
	}, 3);
}

/* nobody listening (no socket, or a listener that was shut down) */
TEST_F(trace, refused_no_listener)
{
	char ids[64], none[64];
	int l, c1, c2;
	__u32 p1, p2;

	CU_NEED_TRACEFS(self);
	listener_ids(_metadata, -1, none, sizeof(none));
	c1 = cu_socket(_metadata, variant->type);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c1, NOBODY));
	p1 = cu_local_port(_metadata, c1);
	l = cu_listener(_metadata, variant->type, PORT, 3, NULL);
	listener_ids(_metadata, l, ids, sizeof(ids));
	ASSERT_EQ(0, shutdown(l, SHUT_RDWR));
	c2 = cu_socket(_metadata, variant->type);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c2, PORT));
	p2 = cu_local_port(_metadata, c2);
	expect_events(_metadata, self->inst, (const char *const[]){
		fmt("cu_refused: port=%u peer=%u why=no_listener%s", NOBODY, p1, none),
		fmt("cu_backlog: port=%u old_backlog=0 new_backlog=3 pending=0%s", PORT, ids),
		fmt("cu_refused: port=%u peer=%u why=no_listener%s", PORT, p2, none),
	}, 3);
}

/* listen() again, smaller: the newest pending connections are reset */
TEST_F(trace, shrink_resets_the_newest)
{
	char ids[64];
	int l, c[4], i;
	__u32 p[4];

	CU_NEED_TRACEFS(self);
	l = cu_listener(_metadata, variant->type, PORT, 4, NULL);
	listener_ids(_metadata, l, ids, sizeof(ids));
	for (i = 0; i < 4; i++) {
		c[i] = cu_client(_metadata, variant->type, PORT);
		p[i] = cu_local_port(_metadata, c[i]);
	}
	ASSERT_EQ(0, listen(l, 2));
	ASSERT_EQ(2, cu_pending(l));
	expect_events(_metadata, self->inst, (const char *const[]){
		fmt("cu_backlog: port=%u old_backlog=0 new_backlog=4 pending=0%s", PORT, ids),
		fmt("cu_queued: port=%u peer=%u pending=1%s", PORT, p[0], ids),
		fmt("cu_queued: port=%u peer=%u pending=2%s", PORT, p[1], ids),
		fmt("cu_queued: port=%u peer=%u pending=3%s", PORT, p[2], ids),
		fmt("cu_queued: port=%u peer=%u pending=4%s", PORT, p[3], ids),
		fmt("cu_backlog: port=%u old_backlog=4 new_backlog=2 pending=2%s", PORT, ids),
		fmt("~cu_reset: port=%u peer=%u why=shrink%s", PORT, p[2], ids),
		fmt("~cu_reset: port=%u peer=%u why=shrink%s", PORT, p[3], ids),
	}, 8);
}

/* closing a listener resets what is pending, why=close */
TEST_F(trace, close_resets_pending)
{
	char ids[64];
	int l, c1, c2;
	__u32 p1, p2;

	CU_NEED_TRACEFS(self);
	l = cu_listener(_metadata, variant->type, PORT, 2, NULL);
	listener_ids(_metadata, l, ids, sizeof(ids));
	c1 = cu_client(_metadata, variant->type, PORT);
	c2 = cu_client(_metadata, variant->type, PORT);
	p1 = cu_local_port(_metadata, c1);
	p2 = cu_local_port(_metadata, c2);
	ASSERT_EQ(0, close(l));
	expect_events(_metadata, self->inst, (const char *const[]){
		fmt("cu_backlog: port=%u old_backlog=0 new_backlog=2 pending=0%s", PORT, ids),
		fmt("cu_queued: port=%u peer=%u pending=1%s", PORT, p1, ids),
		fmt("cu_queued: port=%u peer=%u pending=2%s", PORT, p2, ids),
		fmt("~cu_reset: port=%u peer=%u why=close%s", PORT, p1, ids),
		fmt("~cu_reset: port=%u peer=%u why=close%s", PORT, p2, ids),
	}, 5);
}

/* every listen() traces the effective backlog: grow, same, clamped */
TEST_F(trace, backlog_changes)
{
	char ids[64];
	int l, c, max = cu_somaxconn();
	__u32 p;

	CU_NEED_TRACEFS(self);
	ASSERT_LT(5, max);
	l = cu_listener(_metadata, variant->type, PORT, 2, NULL);
	listener_ids(_metadata, l, ids, sizeof(ids));
	c = cu_client(_metadata, variant->type, PORT);
	p = cu_local_port(_metadata, c);
	ASSERT_EQ(0, listen(l, 5));
	ASSERT_EQ(0, listen(l, 5));
	ASSERT_EQ(0, listen(l, max + 1000));
	ASSERT_EQ(0, listen(l, 0));
	expect_events(_metadata, self->inst, (const char *const[]){
		fmt("cu_backlog: port=%u old_backlog=0 new_backlog=2 pending=0%s", PORT, ids),
		fmt("cu_queued: port=%u peer=%u pending=1%s", PORT, p, ids),
		fmt("cu_backlog: port=%u old_backlog=2 new_backlog=5 pending=1%s", PORT, ids),
		fmt("cu_backlog: port=%u old_backlog=5 new_backlog=5 pending=1%s", PORT, ids),
		fmt("cu_backlog: port=%u old_backlog=5 new_backlog=%d pending=1%s", PORT, max, ids),
		fmt("cu_backlog: port=%u old_backlog=%d new_backlog=1 pending=1%s", PORT, max, ids),
	}, 6);
}

TEST_HARNESS_MAIN
