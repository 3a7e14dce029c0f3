// SPDX-License-Identifier: GPL-2.0
/*
 * cu_bench: what AF_CUSTOM costs, against AF_UNIX and TCP on 127.0.0.1,
 * measured in one run on one machine (issues 7 and 16). Cases:
 *
 *   conn    connection rate: connect + accept + close of both ends,
 *           1 client thread and 1 acceptor, then 2 client threads and 4
 *           acceptor threads on one listener
 *   rtt     round-trip latency: 1-byte and 4 KiB ping-pong
 *   tput    one-way throughput with 4 KiB and 64 KiB writes, and the
 *           machine's memcpy() speed with the same buffer sizes (the bound)
 *   accept  a filled queue taken by 1, 2, 4 threads accepting on one listener
 *   listen  AF_CUSTOM only: the time of a listen() that grows the backlog,
 *           leaves it unchanged, or shrinks it to N/2 (resetting N/2), with
 *           N = 16 ... 4096 connections pending
 *   mem     kernel memory (slab) per pending connection, 4096 pending
 *   scale   bind+connect with 10, 1000, 100000 ports bound
 *
 * conn, rtt, tput and accept run in the modes of --modes, each with its
 * own table: unpinned, the threads on any CPU as applications run; the
 * same with SO_BUSY_POLL (rtt and tput only); then pinned, all on one
 * CPU. Before each repetition with threads on any CPU, a probe measures
 * how many of the CPUs the host runs at once (a VM's may take turns).
 * Each measurement is repeated (--reps) and the
 * median kept; the tables give AF_CUSTOM's ratio to AF_UNIX and TCP in the
 * same run, the median of the repetitions' ratios and their range, so a
 * noisy machine (a VM under TCG) still gives comparable figures and shows
 * how noisy it was. The program checks its own work: every connection
 * accepted exactly once, bytes received equal to bytes sent, a checksum
 * of the data stream, the queue lengths and resets that listen() must
 * produce. A check that fails stops the run with exit status 1.
 *
 * Needs af_custom.ko loaded (or --families unix,tcp). Run as root for the
 * full run: the file limit is raised to what the cases need, and the
 * listen and mem cases need net.core.somaxconn >= 2 * 4096.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <linux/af_custom.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define KIB		1024L
#define MIB		(1024L * 1024L)
#define MAX_REPS	101
#define MAX_RESULTS	512
#define ARRAY_SIZE(a)	((int)(sizeof(a) / sizeof((a)[0])))

/* ---- options ------------------------------------------------------------ */

/* The cases before C_LISTEN run once in each mode (--modes), the others once. */
enum { C_CONN, C_RTT, C_TPUT, C_ACCEPT, C_LISTEN, C_MEM, C_SCALE, NCASES };
static const char *const case_names[NCASES] = {
	"conn", "rtt", "tput", "accept", "listen", "mem", "scale",
};

enum fam { CU, UNX, TCP, MEMCPY, NFAM };
static const char *const fam_names[NFAM] = {
	"AF_CUSTOM", "AF_UNIX", "TCP", "memcpy",
};

static const char *const fam_keys[NFAM] = { "cu", "unix", "tcp", "memcpy" };
static const char *const type_keys[] = { "stream", "seqpacket" };

static int opt_reps = 3;
static double opt_time = 0.25;
static long opt_bytes = 256 * MIB;
static long opt_check_bytes = 8 * MIB;
static int opt_pending = 4096;
static int opt_accept = 1024;
static long opt_ports = 100000;
static int opt_max_n = 4096;
static const char *opt_out = "cu_bench-results";
static unsigned int opt_cases = (1u << NCASES) - 1;
static unsigned int opt_fams = (1u << CU) | (1u << UNX) | (1u << TCP);
static unsigned int opt_types = 3;	/* bit 0 stream, bit 1 seqpacket */
static long opt_size;			/* rtt, tput: only this size (0: all) */
static int opt_busy_poll = 200;		/* SO_BUSY_POLL µs of mode busy-poll */
static bool opt_probe_cpus = true;	/* probe the CPUs before repetitions */
static int cu_family = AF_CUSTOM;
static int somaxconn = -1;
static char cmdline[512];

static const char *cur_case = "setup";

/*
 * The modes every case of enum mcase runs in (--modes), each with its own
 * table. unpinned: the threads of a measurement run on any CPU, as an
 * application's do, and wake each other across CPUs. busy-poll: the same
 * with SO_BUSY_POLL (--busy-poll µs) on the data sockets, as an
 * application that trades CPU time for latency sets it (rtt and tput
 * only: conn and accept do not receive). pinned: all of them on
 * one CPU, taking turns, which measures the socket code alone (under
 * TCG, waking a thread on the other vCPU costs whatever the host's
 * scheduler makes it). The other cases (listen, mem, the bind+connect of
 * scale) run once, on one CPU.
 */
enum { M_UNPINNED, M_BUSY, M_PINNED, NMODES, M_NONE = NMODES };
static const char *const mode_names[NMODES + 1] = {
	"unpinned", "busy-poll", "pinned", "-",
};
static const char *const mode_where[NMODES] = {
	"unpinned: threads on any CPU", "busy-poll: threads on any CPU, SO_BUSY_POLL",
	"pinned: all threads on one CPU",
};

static unsigned int opt_modes = (1u << NMODES) - 1;
static int cur_mode = M_NONE;	/* the mode of the case running now */
static double rep_cpus[MAX_REPS];	/* CPUs in parallel before each rep */
static cpu_set_t all_cpus;	/* the affinity the program started with */
static int one_cpu = -1;	/* the lowest CPU of it */

/* ---- small helpers ------------------------------------------------------ */

static void die(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	fprintf(stderr, "cu_bench: error (%s): ", cur_case);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(err));
	exit(1);
}

/* A result that is wrong, not slow: the run must not go on. */
static void check_failed(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cu_bench: CHECK FAILED (%s): ", cur_case);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static double now(void);
static double t_start;

static void progress(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cu_bench: %5.0fs ", now() - t_start);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *xmalloc(size_t size)
{
	void *p = NULL;

	if (posix_memalign(&p, 64, size ? size : 1))
		die("out of memory (%zu bytes)", size);
	memset(p, 0, size);
	return p;
}

static const char *type_name(int type)
{
	return type == SOCK_SEQPACKET ? "seqpacket" : "stream";
}

static int domain_of(enum fam f)
{
	return f == CU ? cu_family : f == UNX ? AF_UNIX : AF_INET;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void pin_init(void)
{
	int i;

	if (sched_getaffinity(0, sizeof(all_cpus), &all_cpus))
		die("sched_getaffinity");
	for (i = 0; i < CPU_SETSIZE && one_cpu < 0; i++)
		if (CPU_ISSET(i, &all_cpus))
			one_cpu = i;
}

/*
 * Run the calling thread, and the threads it starts from now on (they
 * inherit its affinity), on one CPU if @one, else on all the CPUs the
 * program may use.
 */
static void use_one_cpu(bool one)
{
	cpu_set_t set;

	if (one) {
		CPU_ZERO(&set);
		CPU_SET(one_cpu, &set);
	} else {
		set = all_cpus;
	}
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

/*
 * Whether the threads of @mode run on any CPU, as applications do: the
 * modes issue 16's targets are about. Pinned, and the cases outside the
 * modes (M_NONE), run on one CPU.
 */
static bool threads_on_any_cpu(int mode)
{
	return mode == M_UNPINNED || mode == M_BUSY;
}

/* Set the CPUs of a case that runs in @mode, and say how it runs. */
static void enter_mode(int mode)
{
	cur_mode = mode;
	memset(rep_cpus, 0, sizeof(rep_cpus));
	use_one_cpu(!threads_on_any_cpu(mode));
}

static const char *where(void)
{
	return cur_mode == M_NONE ? "on one CPU" : mode_where[cur_mode];
}

/* ---- addresses and sockets ---------------------------------------------- */

struct addr {
	socklen_t len;
	union {
		struct sockaddr sa;
		struct sockaddr_cu cu;
		struct sockaddr_un un;
		struct sockaddr_in in;
		struct sockaddr_storage ss;
	} u;
};

/*
 * The address number @id of family @f: an AF_CUSTOM port, a TCP port on
 * 127.0.0.1, or an abstract AF_UNIX name made of the pid (so two runs never
 * collide) and 4 bytes that are a one-to-one mix of @id. Mixed, not the
 * digits of @id: AF_UNIX hashes an abstract name with a checksum of its
 * bytes, and names that differ in a few digits would crowd a few of its
 * buckets; AF_UNIX gets its best case.
 */
static void addr_make(struct addr *a, enum fam f, unsigned long id)
{
	uint32_t mix = (uint32_t)id * 0x9e3779b1u;
	int n;

	memset(a, 0, sizeof(*a));
	switch (f) {
	case CU:
		a->u.cu.scu_family = cu_family;
		a->u.cu.scu_port = (uint32_t)id;
		a->len = sizeof(a->u.cu);
		break;
	case UNX:
		a->u.un.sun_family = AF_UNIX;
		n = snprintf(a->u.un.sun_path + 1, sizeof(a->u.un.sun_path) - 1,
			     "cu_bench.%d.", (int)getpid());
		memcpy(a->u.un.sun_path + 1 + n, &mix, sizeof(mix));
		a->len = offsetof(struct sockaddr_un, sun_path) + 1 + n + sizeof(mix);
		break;
	default:
		a->u.in.sin_family = AF_INET;
		a->u.in.sin_port = htons((uint16_t)id);
		a->u.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->len = sizeof(a->u.in);
		break;
	}
}

static int xsocket(enum fam f, int type)
{
	int fd = socket(domain_of(f), type, 0);

	if (fd < 0) {
		if (f == CU && errno == EAFNOSUPPORT)
			fprintf(stderr,
				"cu_bench: AF_CUSTOM (family %d) is not available: load af_custom.ko, or run with --families unix,tcp\n",
				cu_family);
		die("socket(%s, %s)", fam_names[f], type_name(type));
	}
	return fd;
}

static void set_int(int fd, int level, int opt, int val, const char *what)
{
	if (setsockopt(fd, level, opt, &val, sizeof(val)))
		die("setsockopt(%s)", what);
}

/*
 * Mode busy-poll: a data socket of rtt or tput spins that long in a
 * blocking receive before it sleeps, where its family does (AF_CUSTOM;
 * AF_UNIX ignores the option, and TCP polls only a device's NAPI
 * context, which loopback does not have).
 */
static void set_busy_poll(int fd)
{
	if (cur_mode == M_BUSY)
		set_int(fd, SOL_SOCKET, SO_BUSY_POLL, opt_busy_poll, "SO_BUSY_POLL");
}

/* Close a TCP socket with a reset, so untimed work leaves no TIME_WAIT. */
static void close_abort(int fd, enum fam f)
{
	if (f == TCP) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(fd);
}

static atomic_ulong listener_seq = 4000000000UL;

/* A listening socket on a fresh address, which is stored in @a. */
static int make_listener(enum fam f, int type, int backlog, struct addr *a)
{
	int fd = xsocket(f, type);
	socklen_t len;

	if (f == UNX) {
		addr_make(a, UNX, atomic_fetch_add(&listener_seq, 1));
	} else {
		if (f == TCP)
			set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
		addr_make(a, f, 0);	/* CU_PORT_ANY, or TCP port 0 */
	}
	if (bind(fd, &a->u.sa, a->len))
		die("bind(%s listener)", fam_names[f]);
	if (f != UNX) {
		len = sizeof(a->u.ss);
		if (getsockname(fd, &a->u.sa, &len))
			die("getsockname()");
		a->len = len;
	}
	if (listen(fd, backlog))
		die("listen(%s, %d)", fam_names[f], backlog);
	return fd;
}

/*
 * Connect a new socket of @f/@type to @a. AF_CUSTOM refuses at once when
 * the queue is full; that is retried (and counted in @refused if given).
 */
static int connect_to(enum fam f, int type, const struct addr *a, long *refused)
{
	int fd;

	for (;;) {
		fd = xsocket(f, type);
		if (connect(fd, &a->u.sa, a->len) == 0)
			return fd;
		if (errno != ECONNREFUSED || f != CU)
			die("connect(%s %s)", fam_names[f], type_name(type));
		close(fd);
		if (refused)
			(*refused)++;
		sched_yield();
	}
}

static int xaccept(int lfd)
{
	int fd;

	do
		fd = accept(lfd, NULL, NULL);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		die("accept()");
	return fd;
}

/* The listener must have nothing left to accept. */
static void check_queue_empty(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	if (poll(&p, 1, 0) < 0)
		die("poll(listener)");
	if (p.revents & POLLIN)
		check_failed("a connection is still pending after every connect was accepted");
}

static void send_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("send(%zu bytes)", len);
		p += n;
		len -= n;
	}
}

/*
 * Receive one message of @len bytes: one record of exactly @len bytes for
 * SOCK_SEQPACKET, @len bytes of the stream otherwise. Returns 0 on EOF
 * before the first byte, @len otherwise.
 */
static size_t recv_msg(int fd, int type, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = recv(fd, p + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("recv()");
		if (n == 0) {
			if (got)
				check_failed("EOF after %zu of %zu bytes of a message", got, len);
			return 0;
		}
		if (type == SOCK_SEQPACKET && (size_t)n != len)
			check_failed("a %zu-byte record arrived as %zd bytes", len, n);
		got += n;
	}
	return got;
}

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	errno = pthread_create(t, NULL, fn, arg);
	if (errno)
		die("pthread_create");
}

/*
 * Under QEMU TCG each CPU of the VM is a thread of the host, and the host
 * does not always run them at once: when it is busy, or is a VM itself
 * whose CPUs are shared, the VM's two CPUs may get one host core between
 * them, and threads "on different CPUs" take turns after all. That
 * changes the unpinned results more than anything the module does
 * (docs/bench.md), so before each repetition of a mode whose threads run
 * on any CPU the program measures it: a loop counts for CPU_PROBE_S on one
 * CPU alone, then on two CPUs at once. The two counts over the one are
 * the CPUs the VM had in parallel: 2 when the host ran both, 1 when they
 * took turns. rep_cpus holds 0 where nothing was probed: enter_mode()
 * clears it, so a case outside these modes records no stale probe.
 */
#define CPU_PROBE_S		0.05
/*
 * The loop reads the clock once per CPU_PROBE_CHUNK counts (about 0.1 ms
 * under TCG), not at every count: in the VM a clock read is not a CPU's
 * own work. With the TSC marked unstable (as TCG's often is) it is a
 * system call reading the HPET, which QEMU serves under its global lock,
 * and even rdtsc goes through one lock of QEMU's; two CPUs reading the
 * clock at every count wait for each other and read as 0.6 to 1.4 CPUs
 * on a host that runs both.
 */
#define CPU_PROBE_CHUNK		16384
#define CPUS_PARALLEL_MIN	1.5	/* below: the CPUs took turns */

/* Whether @cpus (a result's) holds probes: 0 means none were taken. */
static bool cpus_probed(const double *cpus)
{
	return cpus[0] > 0;
}

struct cpu_probe {
	int cpu;
	double until;
	unsigned long count;
};

static void *cpu_probe_loop(void *arg)
{
	struct cpu_probe *probe = arg;
	volatile unsigned long count = 0;
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	CPU_SET(probe->cpu, &set);
	errno = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (errno)
		die("pthread_setaffinity_np");
	while (now() < probe->until) {
		for (i = 0; i < CPU_PROBE_CHUNK; i++)
			count++;
	}
	probe->count = count;
	return NULL;
}

/* The loop counts of @n probes run at once, summed. */
static unsigned long cpu_probe_count(struct cpu_probe *probes, int n)
{
	double until = now() + CPU_PROBE_S;
	unsigned long sum = 0;
	pthread_t t[2];
	int i;

	for (i = 0; i < n; i++) {
		probes[i].until = until;
		start_thread(&t[i], cpu_probe_loop, &probes[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		sum += probes[i].count;
	}
	return sum;
}

/* How many of the VM's CPUs the host runs at once now: about 1 to 2. */
static double cpus_in_parallel(void)
{
	struct cpu_probe probes[2];
	unsigned long alone;
	int i, cpu = -1;

	for (i = 0; i < 2; i++) {
		do
			cpu++;
		while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &all_cpus));
		if (cpu == CPU_SETSIZE)
			return 1;
		probes[i].cpu = cpu;
	}
	alone = cpu_probe_count(probes, 1);
	return alone ? (double)cpu_probe_count(probes, 2) / alone : 1;
}

/* Probe before repetition @rep of a case, if its threads run on any CPU. */
static void probe_cpus(int rep)
{
	rep_cpus[rep] = threads_on_any_cpu(cur_mode) && opt_probe_cpus ?
			cpus_in_parallel() : 0;
}

static void barrier_init(pthread_barrier_t *b, unsigned int n)
{
	errno = pthread_barrier_init(b, NULL, n);
	if (errno)
		die("pthread_barrier_init");
}

static int cu_getint(int fd, int opt)
{
	int val = -1;
	socklen_t len = sizeof(val);

	if (getsockopt(fd, SOL_CUSTOM, opt, &val, &len))
		die("getsockopt(SOL_CUSTOM, %d)", opt);
	return val;
}

static struct cu_listen_stats cu_stats(int fd)
{
	struct cu_listen_stats st;
	socklen_t len = sizeof(st);

	memset(&st, 0, sizeof(st));
	if (getsockopt(fd, SOL_CUSTOM, CU_STATS, &st, &len))
		die("getsockopt(CU_STATS)");
	return st;
}

/* ---- results ------------------------------------------------------------ */

struct result {
	const char *cs;		/* case name */
	const char *metric;	/* key within the case */
	long param;
	enum fam fam;
	int type;
	int mode;		/* M_UNPINNED, M_PINNED or M_NONE */
	const char *unit;
	double med, min, max;
	int reps;
	double v[MAX_REPS];	/* each repetition's value, in order */
	double cpus[MAX_REPS];	/* CPUs in parallel before each; 0: not probed */
};

static struct result results[MAX_RESULTS];
static int nresults;
static char notes[64][240];
static int nnotes;

static void note(const char *fmt, ...)
{
	va_list ap;

	if (nnotes == ARRAY_SIZE(notes))
		return;
	va_start(ap, fmt);
	vsnprintf(notes[nnotes++], sizeof(notes[0]), fmt, ap);
	va_end(ap);
	progress("%s: %s", __func__, notes[nnotes - 1]);
}

static double median(const double *v, int n)
{
	double s[MAX_REPS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static const struct result *record(const char *cs, const char *metric,
				   long param, enum fam f, int type,
				   const char *unit, const double *v, int n)
{
	struct result *r;
	int i;

	if (nresults == MAX_RESULTS)
		check_failed("too many results");
	r = &results[nresults++];
	r->cs = cs;
	r->metric = metric;
	r->param = param;
	r->fam = f;
	r->type = type;
	r->mode = cur_mode;
	r->unit = unit;
	r->reps = n;
	memcpy(r->v, v, n * sizeof(*v));
	memcpy(r->cpus, rep_cpus, n * sizeof(*rep_cpus));
	r->med = median(v, n);
	r->min = v[0];
	r->max = v[0];
	for (i = 1; i < n; i++) {
		if (v[i] < r->min)
			r->min = v[i];
		if (v[i] > r->max)
			r->max = v[i];
	}
	return r;
}

/* The result of @cs/@metric/@param for @f/@type measured in @mode. */
static const struct result *find(int mode, const char *cs, const char *metric,
				 long param, enum fam f, int type)
{
	int i;

	for (i = 0; i < nresults; i++) {
		const struct result *r = &results[i];

		if (!strcmp(r->cs, cs) && !strcmp(r->metric, metric) &&
		    r->param == param && r->fam == f && r->type == type &&
		    r->mode == mode)
			return r;
	}
	return NULL;
}

static const char *fmtv(char *buf, size_t size, double v);

/*
 * @r against @base: the median of the ratios of the repetitions, which
 * took turns (the same repetition of each family ran within a second or
 * two), so a change in the machine's load between repetitions cancels
 * out; the ratio of the medians when they did not.
 */
struct ratio {
	double med, min, max;
	bool paired;		/* from the repetitions' ratios, with a range */
};

static struct ratio ratio_of(const struct result *r, const struct result *base)
{
	struct ratio q = { r->med / base->med, 0, 0, false };
	double v[MAX_REPS];
	int i;

	/* bind+connect runs one family after the other: nothing to pair */
	if (r->reps != base->reps || !strcmp(r->cs, "listen") ||
	    !strcmp(r->metric, "bind_connect"))
		return q;
	for (i = 0; i < r->reps; i++)
		v[i] = base->v[i] > 0 ? r->v[i] / base->v[i] : 0;
	q.med = median(v, r->reps);
	q.min = v[0];
	q.max = v[0];
	for (i = 1; i < r->reps; i++) {
		if (v[i] < q.min)
			q.min = v[i];
		if (v[i] > q.max)
			q.max = v[i];
	}
	q.paired = r->reps > 1;
	return q;
}

static double ratio_to(const struct result *r, const struct result *base)
{
	return ratio_of(r, base).med;
}

static void show(const struct result *r, const char *what)
{
	char b1[32], b2[32], b3[32];

	progress("  %-9s %-9s %-28s %8s %-6s (median of %d, %s .. %s)%s%s",
		 fam_names[r->fam], r->fam == MEMCPY ? "" : type_name(r->type),
		 what, fmtv(b1, sizeof(b1), r->med), r->unit, r->reps,
		 fmtv(b2, sizeof(b2), r->min), fmtv(b3, sizeof(b3), r->max),
		 r->mode == M_NONE ? "" : ", ", r->mode == M_NONE ? "" : mode_names[r->mode]);
}

/* The socket kinds a case runs on, as chosen with --families. */
struct kind {
	enum fam fam;
	int type;
};

static const struct kind all_kinds[] = {
	{ CU, SOCK_STREAM }, { CU, SOCK_SEQPACKET },
	{ UNX, SOCK_STREAM }, { UNX, SOCK_SEQPACKET },
	{ TCP, SOCK_STREAM },
};

#define NKINDS ARRAY_SIZE(all_kinds)

static bool kind_on(const struct kind *k, bool stream_only)
{
	if (!(opt_fams & (1u << k->fam)))
		return false;
	if (!(opt_types & (k->type == SOCK_STREAM ? 1u : 2u)))
		return false;
	return !stream_only || k->type == SOCK_STREAM;
}

/* ---- case conn: connection rate ------------------------------------------ */

#define MAX_ACCEPTORS	4

struct conn_run {
	int lfd;
	struct addr a;
	enum fam fam;
	int type;
	double deadline;
	pthread_barrier_t bar;
	atomic_long connects;
	atomic_long refused;
	atomic_long accepted;	/* accept() calls that returned, all acceptors */
	atomic_long limit;	/* the clients' connects, once they have stopped */
};

static void *conn_client(void *arg)
{
	struct conn_run *r = arg;
	long n = 0, refused = 0;

	pthread_barrier_wait(&r->bar);
	while (now() < r->deadline) {
		close(connect_to(r->fam, r->type, &r->a, &refused));
		n++;
	}
	atomic_fetch_add(&r->connects, n);
	atomic_fetch_add(&r->refused, refused);
	return NULL;
}

/*
 * Accept and close until this thread takes a sentinel: one of the
 * connections the main thread makes, one per acceptor, after the clients
 * have stopped and @limit holds their number. An accept numbered beyond
 * @limit can only be a sentinel's, and a thread takes at most one, so each
 * acceptor takes exactly one and every connection before is accepted.
 */
static void *conn_acceptor(void *arg)
{
	struct conn_run *r = arg;

	pthread_barrier_wait(&r->bar);
	for (;;) {
		close(xaccept(r->lfd));
		if (atomic_fetch_add(&r->accepted, 1) + 1 > atomic_load(&r->limit))
			break;
	}
	return NULL;
}

/* Every connect accepted once, nothing left: by count, and by CU_STATS. */
static void conn_check_counts(struct conn_run *r, long total, int nacc)
{
	long accepted = atomic_load(&r->accepted);

	if (accepted != total + nacc)
		check_failed("%ld connections accepted for %ld connects",
			     accepted - nacc, total);
	check_queue_empty(r->lfd);
	if (r->fam == CU) {
		struct cu_listen_stats st = cu_stats(r->lfd);

		if (st.queued != (uint64_t)(total + nacc) || st.accepted != st.queued)
			check_failed("CU_STATS: queued %llu, accepted %llu, expected %ld",
				     (unsigned long long)st.queued,
				     (unsigned long long)st.accepted, total + nacc);
	}
}

/* One repetition: @ncl client threads, @nacc acceptors; connections per second. */
static double conn_rep(enum fam f, int type, int ncl, int nacc, long *refused)
{
	int i, sentinel[MAX_ACCEPTORS];
	pthread_t acc[MAX_ACCEPTORS], cl[8];
	struct conn_run r;
	double t0, t1;
	long total;

	memset(&r, 0, sizeof(r));
	r.fam = f;
	r.type = type;
	atomic_store(&r.limit, LONG_MAX);
	r.lfd = make_listener(f, type, 4096, &r.a);
	barrier_init(&r.bar, ncl + nacc + 1);
	for (i = 0; i < nacc; i++)
		start_thread(&acc[i], conn_acceptor, &r);
	for (i = 0; i < ncl; i++)
		start_thread(&cl[i], conn_client, &r);
	t0 = now();
	r.deadline = t0 + opt_time;
	pthread_barrier_wait(&r.bar);
	for (i = 0; i < ncl; i++)
		pthread_join(cl[i], NULL);
	total = atomic_load(&r.connects);
	atomic_store(&r.limit, total);
	for (i = 0; i < nacc; i++)
		sentinel[i] = connect_to(f, type, &r.a, NULL);
	for (i = 0; i < nacc; i++)
		pthread_join(acc[i], NULL);
	t1 = now();
	conn_check_counts(&r, total, nacc);
	for (i = 0; i < nacc; i++)
		close(sentinel[i]);
	close(r.lfd);
	pthread_barrier_destroy(&r.bar);
	*refused += atomic_load(&r.refused);
	return total / (t1 - t0);
}

/*
 * The checked pass: every client sends its number and closes; each must
 * be accepted exactly once, with its number then EOF (and, on the two
 * local families, in connect order).
 */
static void conn_check(enum fam f, int type)
{
	enum { N = 256 };
	int fds[N], i, lfd, fd;
	unsigned char seen[N] = { 0 };
	struct addr a;
	uint32_t id;
	char c;

	lfd = make_listener(f, type, N, &a);
	for (i = 0; i < N; i++) {
		fds[i] = connect_to(f, type, &a, NULL);
		id = i;
		send_full(fds[i], &id, sizeof(id));
		close(fds[i]);
	}
	for (i = 0; i < N; i++) {
		fd = xaccept(lfd);
		if (recv_msg(fd, type, &id, sizeof(id)) != sizeof(id))
			check_failed("an accepted connection has no data");
		if (id >= N || seen[id]++)
			check_failed("connection %u accepted twice (or unknown)", id);
		if (f != TCP && id != (uint32_t)i)
			check_failed("accept() returned connection %u as number %d: not FIFO",
				     id, i);
		if (recv(fd, &c, 1, 0) != 0)
			check_failed("no EOF after the client's data");
		close(fd);
	}
	check_queue_empty(lfd);
	close(lfd);
}

/* The connection-rate configurations: client threads, acceptor threads. */
static const struct conn_cfg {
	int clients, acceptors;
	const char *metric, *what;
} conn_cfgs[] = {
	{ 1, 1, "rate", "1 client, 1 acceptor" },
	{ 2, 4, "rate_4acc", "2 clients, 4 acceptors" },
};

static void conn_run_cfg(const struct conn_cfg *cf)
{
	double v[NKINDS][MAX_REPS];
	long refused[NKINDS];
	int k, rep;

	progress("conn: %s (%s), %d reps of %.2f s", cf->what, where(), opt_reps, opt_time);
	memset(refused, 0, sizeof(refused));
	/* the families take turns in each repetition: a load change hits all */
	for (rep = 0; rep < opt_reps; rep++) {
		probe_cpus(rep);
		for (k = 0; k < NKINDS; k++)
			if (kind_on(&all_kinds[k], false))
				v[k][rep] = conn_rep(all_kinds[k].fam, all_kinds[k].type,
						     cf->clients, cf->acceptors, &refused[k]);
	}
	for (k = 0; k < NKINDS; k++) {
		const struct kind *kd = &all_kinds[k];

		if (!kind_on(kd, false))
			continue;
		show(record("conn", cf->metric, cf->clients, kd->fam, kd->type,
			    "conn/s", v[k], opt_reps), cf->what);
		if (refused[k])
			note("conn: %s %s, %s, %s: %ld connects refused (queue full) and retried",
			     fam_names[kd->fam], type_name(kd->type), cf->what,
			     mode_names[cur_mode], refused[k]);
	}
}

static void case_conn(void)
{
	int k, c;

	for (k = 0; k < NKINDS; k++)
		if (kind_on(&all_kinds[k], false))
			conn_check(all_kinds[k].fam, all_kinds[k].type);
	for (c = 0; c < ARRAY_SIZE(conn_cfgs); c++)
		conn_run_cfg(&conn_cfgs[c]);
}

/* ---- case rtt: round-trip latency ---------------------------------------- */

struct echo {
	int fd, type;
	size_t size;
	long bytes;
};

static void *echo_server(void *arg)
{
	struct echo *e = arg;
	char *buf = xmalloc(e->size);

	while (recv_msg(e->fd, e->type, buf, e->size)) {
		send_full(e->fd, buf, e->size);
		e->bytes += e->size;
	}
	free(buf);
	return NULL;
}

struct rtt_conn {
	int lfd, fd, type;
	size_t size;
	long sent;
	char *sbuf, *rbuf;
	struct echo e;
	pthread_t srv;
};

static void rtt_open(struct rtt_conn *c, enum fam f, int type, size_t size)
{
	struct addr a;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->type = type;
	c->size = size;
	c->sbuf = xmalloc(size);
	c->rbuf = xmalloc(size);
	for (i = 0; i < size; i++)
		c->sbuf[i] = (char)(i * 7 + 3);
	c->lfd = make_listener(f, type, 16, &a);
	c->fd = connect_to(f, type, &a, NULL);
	c->e.fd = xaccept(c->lfd);
	set_busy_poll(c->fd);
	set_busy_poll(c->e.fd);
	c->e.type = type;
	c->e.size = size;
	if (f == TCP) {
		set_int(c->fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
		set_int(c->e.fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	}
	start_thread(&c->srv, echo_server, &c->e);
}

/* Ping-pong for @secs; returns the mean µs per round trip. */
static double rtt_measure(struct rtt_conn *c, double secs)
{
	size_t stamp = c->size < sizeof(c->sent) ? c->size : sizeof(c->sent);
	double t0 = now(), t;
	long iters = 0;

	do {
		memcpy(c->sbuf, &c->sent, stamp);	/* every message differs */
		send_full(c->fd, c->sbuf, c->size);
		if (!recv_msg(c->fd, c->type, c->rbuf, c->size))
			check_failed("the echo server closed early");
		if (memcmp(c->sbuf, c->rbuf, c->size))
			check_failed("the echo differs from what was sent");
		c->sent += c->size;
		iters++;
		t = now();
	} while (t < t0 + secs);
	return (t - t0) / iters * 1e6;
}

static void rtt_close(struct rtt_conn *c)
{
	shutdown(c->fd, SHUT_WR);
	pthread_join(c->srv, NULL);
	if (c->e.bytes != c->sent)
		check_failed("the server echoed %ld bytes of %ld", c->e.bytes, c->sent);
	close(c->e.fd);
	close(c->fd);
	close(c->lfd);
	free(c->sbuf);
	free(c->rbuf);
}

static void case_rtt(void)
{
	static const size_t sizes[] = { 1, 4 * KIB };
	static struct rtt_conn conns[NKINDS];
	double v[NKINDS][MAX_REPS];
	int s, k, rep;

	for (s = 0; s < 2; s++) {
		if (opt_size && (long)sizes[s] != opt_size)
			continue;
		progress("rtt: %s ping-pong (%s), %d reps of %.2f s",
			 s ? "4 KiB" : "1-byte", where(), opt_reps, opt_time);
		for (k = 0; k < NKINDS; k++) {
			if (!kind_on(&all_kinds[k], false))
				continue;
			rtt_open(&conns[k], all_kinds[k].fam, all_kinds[k].type, sizes[s]);
			rtt_measure(&conns[k], opt_time / 4);	/* warm-up */
		}
		for (rep = 0; rep < opt_reps; rep++) {
			probe_cpus(rep);
			for (k = 0; k < NKINDS; k++)
				if (kind_on(&all_kinds[k], false))
					v[k][rep] = rtt_measure(&conns[k], opt_time);
		}
		for (k = 0; k < NKINDS; k++) {
			if (!kind_on(&all_kinds[k], false))
				continue;
			rtt_close(&conns[k]);
			show(record("rtt", "rtt", sizes[s], all_kinds[k].fam, all_kinds[k].type,
				    "us", v[k], opt_reps),
			     s ? "round trip, 4 KiB" : "round trip, 1 byte");
		}
	}
}

/* ---- case tput: throughput ------------------------------------------------ */

/* FNV-1a, 64-bit: the checked pass's checksum of the whole stream. */
static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ULL

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct tput {
	int fd, type;
	size_t wsize, total;
	bool full;		/* the checked pass: random data, checksummed */
	uint64_t sum;
	pthread_barrier_t bar;
};

/*
 * Write @total bytes in @wsize writes. The first 8 bytes of write number
 * c hold c (so a lost, repeated or reordered write is seen at once); in
 * the checked pass the rest is random and the whole stream checksummed.
 */
static void *tput_writer(void *arg)
{
	struct tput *t = arg;
	unsigned char *buf = xmalloc(t->wsize);
	uint64_t c, nchunks = t->total / t->wsize, seed = 88172645463325252ULL;
	size_t i;

	for (i = 0; i < t->wsize; i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	t->sum = FNV_INIT;
	pthread_barrier_wait(&t->bar);
	for (c = 0; c < nchunks; c++) {
		if (t->full) {
			for (i = 8; i + 8 <= t->wsize; i += 8) {
				uint64_t r = xorshift(&seed);

				memcpy(buf + i, &r, 8);
			}
		}
		memcpy(buf, &c, 8);
		if (t->full)
			t->sum = fnv(t->sum, buf, t->wsize);
		send_full(t->fd, buf, t->wsize);
	}
	if (shutdown(t->fd, SHUT_WR))
		die("shutdown(SHUT_WR)");
	free(buf);
	return NULL;
}

/* Check the chunk numbers that lie in @buf, bytes [@off, @off + @n) of the stream. */
static void tput_check_headers(const unsigned char *buf, uint64_t off, size_t n,
			       size_t wsize)
{
	uint64_t c, start, end = off + n, p;

	for (c = off / wsize; c * wsize < end; c++) {
		start = c * wsize;
		for (p = start > off ? start : off; p < start + 8 && p < end; p++)
			if (buf[p - off] != ((c >> (8 * (p - start))) & 0xff))
				check_failed("stream byte %llu: write %llu's header is wrong; "
					     "data lost, repeated or reordered",
					     (unsigned long long)p, (unsigned long long)c);
	}
}

static double tput_rep(enum fam f, int type, size_t wsize, size_t total, bool full)
{
	unsigned char *buf = xmalloc(wsize);
	uint64_t off = 0, sum = FNV_INIT;
	struct tput t;
	struct addr a;
	pthread_t w;
	double t0, t1;
	int lfd, fd;
	ssize_t n;

	memset(&t, 0, sizeof(t));
	lfd = make_listener(f, type, 16, &a);
	t.fd = connect_to(f, type, &a, NULL);
	fd = xaccept(lfd);
	close(lfd);
	set_busy_poll(t.fd);
	set_busy_poll(fd);
	t.type = type;
	t.wsize = wsize;
	t.total = total / wsize * wsize;
	t.full = full;
	barrier_init(&t.bar, 2);
	start_thread(&w, tput_writer, &t);
	pthread_barrier_wait(&t.bar);
	t0 = now();
	for (;;) {
		n = recv(fd, buf, wsize, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("recv()");
		if (n == 0)
			break;
		if (type == SOCK_SEQPACKET && (size_t)n != wsize)
			check_failed("a %zu-byte record arrived as %zd bytes", wsize, n);
		tput_check_headers(buf, off, n, wsize);
		if (full)
			sum = fnv(sum, buf, n);
		off += n;
	}
	t1 = now();
	pthread_join(w, NULL);
	if (off != t.total)
		check_failed("received %llu bytes of %zu sent",
			     (unsigned long long)off, t.total);
	if (full && sum != t.sum)
		check_failed("checksum of the received stream %016llx, of the sent one %016llx",
			     (unsigned long long)sum, (unsigned long long)t.sum);
	close(fd);
	close_abort(t.fd, f);
	pthread_barrier_destroy(&t.bar);
	free(buf);
	return t.total / (t1 - t0) / MIB;
}

/* memcpy() of @total bytes in @wsize pieces between two buffers. */
static double memcpy_rep(size_t wsize, size_t total)
{
	char *src = xmalloc(wsize), *dst = xmalloc(wsize);
	size_t i, n = total / wsize;
	double t0, t1;

	memset(src, 0x5a, wsize);
	t0 = now();
	for (i = 0; i < n; i++) {
		memcpy(dst, src, wsize);
		__asm__ __volatile__("" : : "r"(dst), "r"(src) : "memory");
	}
	t1 = now();
	if (dst[wsize - 1] != 0x5a)
		check_failed("memcpy");
	free(src);
	free(dst);
	return n * wsize / (t1 - t0) / MIB;
}

static void case_tput(void)
{
	static const size_t sizes[] = { 4 * KIB, 64 * KIB };
	double v[NKINDS + 1][MAX_REPS];
	int k, s, rep;

	for (s = 0; s < 2; s++) {
		if (opt_size && (long)sizes[s] != opt_size)
			continue;
		progress("tput: %zu KiB writes (%s); "
			 "%d reps of %ld MiB, after a checksummed pass of %ld MiB",
			 sizes[s] / KIB, where(), opt_reps, opt_bytes / MIB, opt_check_bytes / MIB);
		for (k = 0; k < NKINDS; k++)
			if (kind_on(&all_kinds[k], false))
				tput_rep(all_kinds[k].fam, all_kinds[k].type, sizes[s],
					 opt_check_bytes, true);
		for (rep = 0; rep < opt_reps; rep++) {
			probe_cpus(rep);
			v[NKINDS][rep] = memcpy_rep(sizes[s], opt_bytes);
			for (k = 0; k < NKINDS; k++)
				if (kind_on(&all_kinds[k], false))
					v[k][rep] = tput_rep(all_kinds[k].fam, all_kinds[k].type,
							     sizes[s], opt_bytes, false);
		}
		show(record("tput", "throughput", sizes[s], MEMCPY, SOCK_STREAM, "MiB/s",
			    v[NKINDS], opt_reps), s ? "64 KiB copies" : "4 KiB copies");
		for (k = 0; k < NKINDS; k++)
			if (kind_on(&all_kinds[k], false))
				show(record("tput", "throughput", sizes[s], all_kinds[k].fam,
					    all_kinds[k].type, "MiB/s", v[k], opt_reps),
				     s ? "64 KiB writes" : "4 KiB writes");
	}
}

/* ---- case listen: the cost of a second listen() ------------------------- */

static void listen_fill(int lfd, const struct addr *a, int *fds, int from, int to)
{
	int i;

	for (i = from; i < to; i++) {
		fds[i] = xsocket(CU, SOCK_STREAM);
		if (connect(fds[i], &a->u.sa, a->len))
			die("connect() %d of %d to a listener with room", i + 1, to);
	}
	if (cu_getint(lfd, CU_PENDING) != to)
		check_failed("CU_PENDING is %d after %d connects",
			     cu_getint(lfd, CU_PENDING), to);
}

static double timed_listen(int lfd, int backlog)
{
	double t0 = now(), t1;

	if (listen(lfd, backlog))
		die("listen(%d)", backlog);
	t1 = now();
	if (cu_getint(lfd, CU_BACKLOG) != backlog)
		check_failed("CU_BACKLOG is %d after listen(%d)",
			     cu_getint(lfd, CU_BACKLOG), backlog);
	return (t1 - t0) * 1e6;
}

/* The newest @n - @keep clients must see the reset, the oldest @keep must not. */
static void listen_check_resets(int *fds, int keep, int n)
{
	struct pollfd *p = xmalloc(n * sizeof(*p));
	bool hup, reset;
	int i;

	for (i = 0; i < n; i++) {
		p[i].fd = fds[i];
		p[i].events = POLLIN;
	}
	if (poll(p, n, 0) < 0)
		die("poll(clients)");
	for (i = 0; i < n; i++) {
		hup = (p[i].revents & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP);
		reset = i >= keep;
		if (hup != reset)
			check_failed("client %d of %d %s after listen(%d)", i + 1, n,
				     hup ? "was reset" : "was not reset", keep);
	}
	free(p);
}

static void listen_run(int n, int reps)
{
	double grow[MAX_REPS * 3], same[MAX_REPS * 3], shrink[MAX_REPS * 3];
	double per[MAX_REPS * 3];
	int *fds = xmalloc(n * sizeof(int)), lfd, rep, i, half = n / 2;
	struct cu_listen_stats st0, st1;
	struct addr a;

	lfd = make_listener(CU, SOCK_STREAM, n, &a);
	listen_fill(lfd, &a, fds, 0, n);
	for (rep = 0; rep < reps; rep++) {
		/*
		 * Untimed, unchanged: the first call after thousands of connects
		 * would also pay for the caches (and, under TCG, the soft TLB)
		 * those connects emptied, more for a larger N.
		 */
		timed_listen(lfd, n);
		grow[rep] = timed_listen(lfd, 2 * n);
		same[rep] = timed_listen(lfd, 2 * n);
		st0 = cu_stats(lfd);
		shrink[rep] = timed_listen(lfd, half);
		st1 = cu_stats(lfd);
		per[rep] = shrink[rep] * 1e3 / (n - half);
		if (cu_getint(lfd, CU_PENDING) != half ||
		    st1.reset_shrink - st0.reset_shrink != (uint64_t)(n - half))
			check_failed("listen(%d) with %d pending: %d left, %llu reset",
				     half, n, cu_getint(lfd, CU_PENDING),
				     (unsigned long long)(st1.reset_shrink - st0.reset_shrink));
		listen_check_resets(fds, half, n);
		/* back to N pending: room first, then new clients for the reset ones */
		for (i = half; i < n; i++)
			close(fds[i]);
		if (listen(lfd, n))
			die("listen(%d)", n);
		listen_fill(lfd, &a, fds, half, n);
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	close(lfd);
	free(fds);
	show(record("listen", "grow", n, CU, SOCK_STREAM, "us", grow, reps),
	     "listen() grow");
	show(record("listen", "unchanged", n, CU, SOCK_STREAM, "us", same, reps),
	     "listen() unchanged");
	show(record("listen", "shrink", n, CU, SOCK_STREAM, "us", shrink, reps),
	     "listen() shrink");
	record("listen", "shrink_per_reset", n, CU, SOCK_STREAM, "ns", per, reps);
}

static void case_listen(void)
{
	int n, reps = opt_reps * 3 > MAX_REPS ? MAX_REPS : opt_reps * 3;

	if (!(opt_fams & (1u << CU)))
		return;
	for (n = 16; n <= opt_max_n; n *= 4) {
		if (2 * n > somaxconn) {
			note("listen: N = %d skipped; "
			     "growing to %d needs net.core.somaxconn >= %d, it is %d",
			     n, 2 * n, 2 * n, somaxconn);
			continue;
		}
		progress("listen: N = %d pending, %d reps", n, reps);
		listen_run(n, reps);
	}
}

/* ---- case mem: kernel memory per pending connection ---------------------- */

struct meminfo {
	long slab_kb;
};

static struct meminfo read_meminfo(void)
{
	struct meminfo m = { -1 };
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld", &m.slab_kb) == 1)
			break;
	fclose(f);
	if (m.slab_kb < 0)
		check_failed("no Slab: in /proc/meminfo");
	return m;
}

#define MAX_CACHES 512
struct slabsnap {
	int n;
	char name[MAX_CACHES][64];
	long objs[MAX_CACHES], size[MAX_CACHES];
};

static bool read_slabinfo(struct slabsnap *s)
{
	char line[512], name[64];
	long active, num, size;
	FILE *f = fopen("/proc/slabinfo", "r");

	s->n = 0;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f) && s->n < MAX_CACHES) {
		if (sscanf(line, "%63s %ld %ld %ld", name, &active, &num, &size) != 4)
			continue;
		snprintf(s->name[s->n], sizeof(s->name[0]), "%s", name);
		s->objs[s->n] = active;
		s->size[s->n] = size;
		s->n++;
	}
	fclose(f);
	return s->n > 0;
}

/* Where the memory of one pending connection goes: slab caches by bytes. */
static char mem_detail[NFAM][400];

static void slab_detail(enum fam f, const struct slabsnap *b,
			const struct slabsnap *e, int n)
{
	struct { int i; double per; } top[6];
	char *out = mem_detail[f];
	int i, j, k, len = 0;

	for (k = 0; k < 6; k++)
		top[k].i = -1;

	for (i = 0; i < e->n; i++) {
		double per = 0;

		for (j = 0; j < b->n; j++) {
			if (!strcmp(b->name[j], e->name[i])) {
				per = (double)(e->objs[i] - b->objs[j]) / n;
				break;
			}
		}
		if (j == b->n)
			per = (double)e->objs[i] / n;
		if (per < 0.5)
			continue;
		for (k = 0; k < 6; k++) {
			if (top[k].i < 0 || per * e->size[i] > top[k].per * e->size[top[k].i]) {
				memmove(&top[k + 1], &top[k], (5 - k) * sizeof(top[0]));
				top[k].i = i;
				top[k].per = per;
				break;
			}
		}
	}
	for (k = 0; k < 6 && top[k].i >= 0; k++)
		len += snprintf(out + len, sizeof(mem_detail[0]) - len, "%s%s %.2f x %ld B",
				k ? ", " : "", e->name[top[k].i], top[k].per,
				e->size[top[k].i]);
}

/*
 * One repetition for family @f: the growth of Slab: in /proc/meminfo per
 * connection while opt_pending connections wait on a listener. @detail:
 * also which slab caches grew.
 */
static void mem_rep(enum fam f, bool detail, double *slab)
{
	static struct slabsnap sb, se;
	int n = opt_pending, *fds = xmalloc(n * sizeof(int)), lfd, i, fd;
	bool slabinfo = false;
	struct meminfo m0, m1;
	struct addr a;

	lfd = make_listener(f, SOCK_STREAM, n, &a);
	usleep(200000);	/* let RCU free what was closed before */
	if (detail)
		slabinfo = read_slabinfo(&sb);
	m0 = read_meminfo();
	for (i = 0; i < n; i++) {
		fds[i] = xsocket(f, SOCK_STREAM);
		if (connect(fds[i], &a.u.sa, a.len))
			die("connect() %d of %d to a listener with room", i + 1, n);
	}
	m1 = read_meminfo();
	if (slabinfo && read_slabinfo(&se))
		slab_detail(f, &sb, &se, n);
	*slab = (m1.slab_kb - m0.slab_kb) * 1024.0 / n;
	if (f == CU && cu_getint(lfd, CU_PENDING) != n)
		check_failed("CU_PENDING %d with %d connected", cu_getint(lfd, CU_PENDING), n);
	for (i = 0; i < n; i++) {
		fd = xaccept(lfd);
		close_abort(fd, f);
	}
	check_queue_empty(lfd);
	for (i = 0; i < n; i++)
		close_abort(fds[i], f);
	close(lfd);
	free(fds);
}

static void case_mem(void)
{
	double slab[TCP + 1][MAX_REPS];
	enum fam f;
	int rep;

	if (opt_pending > somaxconn) {
		note("mem: %d pending need net.core.somaxconn >= %d (it is %d): case skipped",
		     opt_pending, opt_pending, somaxconn);
		return;
	}
	progress("mem: %d pending connections, %d reps", opt_pending, opt_reps);
	for (rep = 0; rep < opt_reps; rep++)
		for (f = CU; f <= TCP; f++)
			if (opt_fams & (1u << f))
				mem_rep(f, rep == 0, &slab[f][rep]);
	for (f = CU; f <= TCP; f++) {
		if (!(opt_fams & (1u << f)))
			continue;
		show(record("mem", "slab_per_pending", opt_pending, f, SOCK_STREAM, "bytes",
			    slab[f], opt_reps), "slab per pending conn");
	}
}

/* ---- case scale: many ports bound, many acceptors -------------------------- */

/* Address numbers of the sockets that fill the port space, and of the timed ones. */
static unsigned long filler_id(enum fam f, long i)
{
	return f == TCP ? 21000 + i : 100000 + i;
}

static unsigned long fresh_id(enum fam f, long i)
{
	return f == TCP ? 10000 + i % 10000 : 10000000 + i;
}

static void scale_bind(enum fam f)
{
	static const long counts[] = { 10, 1000, 100000 };
	long nfill = 0, fresh = 0, iters, want;
	int *fill = NULL, lfd, c, s, rep, i;
	double v[MAX_REPS], t0, t1, sum, start;
	struct addr a, b;

	lfd = make_listener(f, SOCK_STREAM, 4096, &a);
	for (i = 0; i < 3; i++) {
		want = counts[i];
		if (want > opt_ports)
			break;
		if (f == TCP && want > 10000) {
			note("scale: TCP bind+connect with %ld ports bound skipped; "
			     "TCP ports are 16-bit and 1024..65535 also hold the ephemeral range",
			     want);
			break;
		}
		fill = realloc(fill, want * sizeof(int));
		if (!fill)
			die("realloc");
		progress("scale: %s bind+connect with %ld ports bound, %d reps of %.2f s",
			 fam_names[f], want, opt_reps, opt_time);
		for (; nfill < want; nfill++) {
			fill[nfill] = xsocket(f, SOCK_STREAM);
			if (f == TCP)
				set_int(fill[nfill], SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
			addr_make(&b, f, filler_id(f, nfill));
			if (bind(fill[nfill], &b.u.sa, b.len))
				die("bind() of port %ld", nfill);
		}
		usleep(500000);	/* let a hash table's deferred resize finish */
		for (rep = 0; rep < opt_reps; rep++) {
			sum = 0;
			iters = 0;
			start = now();
			do {
				s = xsocket(f, SOCK_STREAM);
				if (f == TCP)
					set_int(s, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
				addr_make(&b, f, fresh_id(f, fresh++));
				t0 = now();
				if (bind(s, &b.u.sa, b.len))
					die("bind() with %ld ports bound", nfill);
				if (connect(s, &a.u.sa, a.len))
					die("connect() with %ld ports bound", nfill);
				t1 = now();
				sum += t1 - t0;
				iters++;
				c = xaccept(lfd);
				close_abort(s, f);
				close(c);
			} while (t1 < start + opt_time);
			v[rep] = sum / iters * 1e6;
		}
		show(record("scale", "bind_connect", want, f, SOCK_STREAM, "us", v, opt_reps),
		     want == 10 ? "bind+connect, 10 bound" :
		     want == 1000 ? "bind+connect, 1000 bound" : "bind+connect, 100000 bound");
	}
	check_queue_empty(lfd);
	progress("scale: closing %ld %s sockets", nfill, fam_names[f]);
	for (i = 0; i < nfill; i++)
		close(fill[i]);
	free(fill);
	close(lfd);
}

/* ---- case accept: threads taking a filled queue ------------------------ */

struct acc_run {
	int lfd, total;
	int *fds;
	atomic_int claims;
	pthread_barrier_t bar;
};

static void *acc_thread(void *arg)
{
	struct acc_run *r = arg;
	int i;

	pthread_barrier_wait(&r->bar);
	while ((i = atomic_fetch_add(&r->claims, 1)) < r->total)
		r->fds[i] = xaccept(r->lfd);
	return NULL;
}

static double accept_rep(enum fam f, int nthreads, int n)
{
	int *cl = xmalloc(n * sizeof(int)), i;
	unsigned char *seen = xmalloc(n);
	struct acc_run r;
	pthread_t t[MAX_ACCEPTORS];
	struct addr a;
	double t0, t1;
	uint32_t id;

	memset(&r, 0, sizeof(r));
	r.total = n;
	r.fds = xmalloc(n * sizeof(int));
	r.lfd = make_listener(f, SOCK_STREAM, n, &a);
	for (i = 0; i < n; i++) {
		cl[i] = connect_to(f, SOCK_STREAM, &a, NULL);
		id = i;
		send_full(cl[i], &id, sizeof(id));
	}
	barrier_init(&r.bar, nthreads + 1);
	for (i = 0; i < nthreads; i++)
		start_thread(&t[i], acc_thread, &r);
	t0 = now();
	pthread_barrier_wait(&r.bar);
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	t1 = now();
	check_queue_empty(r.lfd);
	for (i = 0; i < n; i++) {
		if (recv_msg(r.fds[i], SOCK_STREAM, &id, sizeof(id)) != sizeof(id))
			check_failed("an accepted connection has no data");
		if (id >= (uint32_t)n || seen[id]++)
			check_failed("connection %u accepted twice (or unknown)", id);
		close(r.fds[i]);
	}
	for (i = 0; i < n; i++)
		close_abort(cl[i], f);
	close(r.lfd);
	pthread_barrier_destroy(&r.bar);
	free(r.fds);
	free(cl);
	free(seen);
	return n / (t1 - t0);
}

static void case_scale(void)
{
	enum fam f;

	for (f = CU; f <= TCP; f++)
		if (opt_fams & (1u << f))
			scale_bind(f);
}

static void case_accept(void)
{
	static const int threads[] = { 1, 2, MAX_ACCEPTORS };
	int n = opt_accept > somaxconn ? somaxconn : opt_accept;
	double v[TCP + 1][MAX_REPS];
	char what[40];
	enum fam f;
	int t, rep;

	for (t = 0; t < 3; t++) {
		progress("accept: %d pending connections taken by %d thread%s (%s), %d reps",
			 n, threads[t], threads[t] > 1 ? "s" : "", where(), opt_reps);
		for (rep = 0; rep < opt_reps; rep++) {
			probe_cpus(rep);
			for (f = CU; f <= TCP; f++)
				if (opt_fams & (1u << f))
					v[f][rep] = accept_rep(f, threads[t], n);
		}
		snprintf(what, sizeof(what), "accept, %d thread%s", threads[t],
			 threads[t] > 1 ? "s" : "");
		for (f = CU; f <= TCP; f++)
			if (opt_fams & (1u << f))
				show(record("accept", "accept_rate", threads[t], f, SOCK_STREAM,
					    "conn/s", v[f], opt_reps), what);
	}
}

/* ---- the report ------------------------------------------------------------ */

static const char *fmtv(char *buf, size_t size, double v)
{
	if (v >= 100)
		snprintf(buf, size, "%.0f", v);
	else if (v >= 10)
		snprintf(buf, size, "%.1f", v);
	else
		snprintf(buf, size, "%.2f", v);
	return buf;
}

static void row_label(char *buf, size_t size, const struct result *r)
{
	const char *t = type_name(r->type);

	if (!strcmp(r->cs, "conn"))
		snprintf(buf, size, "connect+accept+close, %s, %s (conn/s)",
			 !strcmp(r->metric, "rate_4acc") ?
			 "2 clients, 4 acceptor threads on one listener" : "1 client, 1 acceptor",
			 t);
	else if (!strcmp(r->cs, "rtt"))
		snprintf(buf, size, "round trip, %s, %s (µs)",
			 r->param == 1 ? "1 byte" : "4 KiB", t);
	else if (!strcmp(r->cs, "tput"))
		snprintf(buf, size, "throughput, %ld KiB writes, %s (MiB/s)",
			 r->param / KIB, t);
	else if (!strcmp(r->metric, "slab_per_pending"))
		snprintf(buf, size, "slab per pending connection, %ld pending (bytes)",
			 r->param);
	else if (!strcmp(r->metric, "bind_connect"))
		snprintf(buf, size, "bind+connect, %ld ports bound (µs)", r->param);
	else if (!strcmp(r->metric, "accept_rate"))
		snprintf(buf, size, "accept of a filled queue, %ld thread%s (conn/s)",
			 r->param, r->param > 1 ? "s" : "");
	else
		snprintf(buf, size, "%s %s %ld (%s)", r->cs, r->metric, r->param, r->unit);
}

/*
 * The target of a row, as a ratio to AF_UNIX: at least (1) or at most
 * (-1) *@ratio; 0: none. Unpinned, issue 16's: a round trip's time at
 * most half AF_UNIX's for 1 byte and 0.8 of it for 4 KiB; throughput 1.3
 * times AF_UNIX's at 4 KiB and twice at 64 KiB; 1.2 times its connection
 * rate, with one client and with two clients on four acceptors; accept by
 * 2 and 4 threads as fast as AF_UNIX's. Pinned: none; the cases outside
 * the modes keep issue 7's.
 */
static int target_of(const struct result *r, double *ratio)
{
	*ratio = 1.0;
	if (threads_on_any_cpu(r->mode)) {
		if (!strcmp(r->cs, "rtt")) {
			*ratio = r->param == 1 ? 0.5 : 0.8;
			return -1;
		}
		if (!strcmp(r->cs, "tput")) {
			*ratio = r->param >= 64 * KIB ? 2.0 : 1.3;
			return 1;
		}
		if (!strcmp(r->cs, "conn")) {
			*ratio = 1.2;
			return 1;
		}
		return !strcmp(r->cs, "accept") && r->param > 1;
	}
	if (r->mode == M_NONE && !strcmp(r->metric, "slab_per_pending"))
		return -1;
	return 0;
}

static int holds_total, misses_total, turns_total;

/*
 * @spans: the range of the repetitions lies on both sides of the target;
 * @turns: the VM's CPUs took turns (cpus_in_parallel()).
 */
static void verdict(FILE *out, bool holds, bool spans, bool turns)
{
	fprintf(out, " %s%s%s |\n", holds ? "holds" : "**misses**",
		spans ? " (the range spans it)" : "",
		turns ? " (the CPUs took turns)" : "");
	turns_total += turns;
	if (holds)
		holds_total++;
	else
		misses_total++;
}

/* "0.81x (0.70–0.95)": the median ratio and the range of the repetitions' ones. */
static const char *fmt_ratio(char *buf, size_t size, const struct result *r,
			     const struct result *base)
{
	struct ratio q;

	if (!base || base->med <= 0)
		return "–";
	q = ratio_of(r, base);
	if (q.paired)
		snprintf(buf, size, "%.2fx (%.2f–%.2f)", q.med, q.min, q.max);
	else
		snprintf(buf, size, "%.2fx", q.med);
	return buf;
}

/* The CPUs in parallel before @r's repetitions: "1.93 (1.88–1.95)". */
static const char *fmt_cpus(char *buf, size_t size, const struct result *r)
{
	double lo = r->cpus[0], hi = r->cpus[0];
	int i;

	if (!cpus_probed(r->cpus))
		return "–";
	for (i = 1; i < r->reps; i++) {
		lo = r->cpus[i] < lo ? r->cpus[i] : lo;
		hi = r->cpus[i] > hi ? r->cpus[i] : hi;
	}
	snprintf(buf, size, "%.2f (%.2f–%.2f)", median(r->cpus, r->reps), lo, hi);
	return buf;
}

/* Whether the VM's CPUs took turns during most of @r's repetitions. */
static bool cpus_took_turns(const struct result *r)
{
	return cpus_probed(r->cpus) &&
	       median(r->cpus, r->reps) < CPUS_PARALLEL_MIN;
}

/* The target and verdict cells of @r's row, against AF_UNIX's @u. */
static void target_cells(FILE *out, const struct result *r, const struct result *u)
{
	const struct result *base = NULL;
	struct ratio q;
	double want;
	int dir = target_of(r, &want);

	if (r->mode == M_NONE && !strcmp(r->metric, "bind_connect") && r->param > 10)
		base = find(M_NONE, "scale", "bind_connect", 10, CU, r->type);
	if (base) {
		q.med = r->med / base->med;
		fprintf(out, " flat: within 2x of 10 ports: %.2fx |", q.med);
		verdict(out, q.med <= 2, false, false);
	} else if (dir && u && u->med > 0) {
		q = ratio_of(r, u);
		fprintf(out, " %s %.2fx |", dir > 0 ? "≥" : "≤", want);
		verdict(out, dir > 0 ? q.med >= want : q.med <= want,
			q.paired && q.min < want && q.max > want,
			cpus_took_turns(r));
	} else {
		fprintf(out, " | |\n");
	}
}

/*
 * The table of the cases measured in @mode (M_NONE: the cases outside the
 * modes), with the columns of the targets if @targets.
 */
static void write_mode_table(FILE *out, int mode, bool targets)
{
	char label[160], b1[32], b2[32], b3[32], b4[48], b5[48], b6[48];
	bool probed = threads_on_any_cpu(mode);
	const struct result *r, *u, *t;
	int i;

	fprintf(out, "| case | AF_CUSTOM | AF_UNIX | TCP | vs AF_UNIX (range) | vs TCP (range) |");
	fprintf(out, "%s", probed ? " CPUs in parallel (range) |" : "");
	fprintf(out, "%s\n", targets ? " target (vs AF_UNIX) | |" : "");
	fprintf(out, "|---|---:|---:|---:|---:|---:|%s%s\n", probed ? "---:|" : "",
		targets ? "---|---|" : "");
	for (i = 0; i < nresults; i++) {
		r = &results[i];
		if (r->fam != CU || r->mode != mode || !strcmp(r->cs, "listen"))
			continue;
		u = find(mode, r->cs, r->metric, r->param, UNX, r->type);
		t = r->type == SOCK_STREAM ?
			find(mode, r->cs, r->metric, r->param, TCP, r->type) : NULL;
		row_label(label, sizeof(label), r);
		fprintf(out, "| %s | %s | %s | %s | %s | %s |", label,
			fmtv(b1, sizeof(b1), r->med), u ? fmtv(b2, sizeof(b2), u->med) : "–",
			t ? fmtv(b3, sizeof(b3), t->med) : "–", fmt_ratio(b4, sizeof(b4), r, u),
			fmt_ratio(b5, sizeof(b5), r, t));
		if (probed)
			fprintf(out, " %s |", fmt_cpus(b6, sizeof(b6), r));
		if (targets)
			target_cells(out, r, u);
		else
			fprintf(out, "\n");
	}
}

static bool mode_has_results(int mode)
{
	int i;

	for (i = 0; i < nresults; i++)
		if (results[i].mode == mode && results[i].fam == CU &&
		    strcmp(results[i].cs, "listen"))
			return true;
	return false;
}

static void write_tput_table(FILE *out, int mode)
{
	static const long sizes[] = { 4 * KIB, 64 * KIB };
	static const struct kind kinds[] = {
		{ CU, SOCK_STREAM }, { CU, SOCK_SEQPACKET }, { UNX, SOCK_STREAM },
		{ UNX, SOCK_SEQPACKET }, { TCP, SOCK_STREAM },
	};
	const struct result *m, *r;
	char b[32];
	int s, k;

	if (!find(mode, "tput", "throughput", 4 * KIB, MEMCPY, SOCK_STREAM))
		return;
	fprintf(out,
		"\nThroughput against the machine's memcpy() speed with the same buffer size (one thread; a copy-in/copy-out path moves every byte twice):\n\n");
	fprintf(out,
		"| writes | memcpy (MiB/s) | AF_CUSTOM stream | AF_CUSTOM seqpacket | AF_UNIX stream | AF_UNIX seqpacket | TCP |\n");
	fprintf(out, "|---|---:|---:|---:|---:|---:|---:|\n");
	for (s = 0; s < 2; s++) {
		m = find(mode, "tput", "throughput", sizes[s], MEMCPY, SOCK_STREAM);
		if (!m)
			continue;
		fprintf(out, "| %ld KiB | %s |", sizes[s] / KIB, fmtv(b, sizeof(b), m->med));
		for (k = 0; k < 5; k++) {
			r = find(mode, "tput", "throughput", sizes[s], kinds[k].fam, kinds[k].type);
			if (r)
				fprintf(out, " %.2f |", ratio_to(r, m));
			else
				fprintf(out, " – |");
		}
		fprintf(out, "\n");
	}
}

static void write_listen_table(FILE *out)
{
	const struct result *g, *u, *s, *p, *g0 = NULL, *u0 = NULL, *p0 = NULL;
	const struct result *gl = NULL, *ul = NULL, *pl = NULL;
	char b1[32], b2[32], b3[32], b4[32];
	double ratio;
	int n;

	if (!find(M_NONE, "listen", "grow", 16, CU, SOCK_STREAM))
		return;
	fprintf(out,
		"\nAF_CUSTOM listen() on a listener with N connections pending (backlog N; grow: to 2N; unchanged: 2N again; shrink: to N/2, resetting N/2), median µs of one call:\n\n");
	fprintf(out,
		"| N pending | grow (µs) | unchanged (µs) | shrink (µs) | shrink per reset connection (ns) |\n");
	fprintf(out, "|---:|---:|---:|---:|---:|\n");
	for (n = 16; n <= opt_max_n; n *= 4) {
		g = find(M_NONE, "listen", "grow", n, CU, SOCK_STREAM);
		u = find(M_NONE, "listen", "unchanged", n, CU, SOCK_STREAM);
		s = find(M_NONE, "listen", "shrink", n, CU, SOCK_STREAM);
		p = find(M_NONE, "listen", "shrink_per_reset", n, CU, SOCK_STREAM);
		if (!g || !u || !s || !p)
			continue;
		if (!g0) {
			g0 = g;
			u0 = u;
		}
		if (!p0 && n >= 256)	/* where the fixed cost of a call no longer counts */
			p0 = p;
		gl = g;
		ul = u;
		pl = p;
		fprintf(out, "| %d | %s | %s | %s | %s |\n", n, fmtv(b1, sizeof(b1), g->med),
			fmtv(b2, sizeof(b2), u->med), fmtv(b3, sizeof(b3), s->med),
			fmtv(b4, sizeof(b4), p->med));
	}
	if (!g0 || gl == g0)
		return;
	fprintf(out, "\n| listen() target | measured | |\n|---|---|---|\n");
	ratio = gl->med / g0->med;
	fprintf(out,
		"| grow independent of N: N = %ld within 2x of N = %ld (an O(N) one: %ldx) | %.2fx |",
		gl->param, g0->param, gl->param / g0->param, ratio);
	verdict(out, ratio <= 2, false, false);
	ratio = ul->med / u0->med;
	fprintf(out, "| unchanged independent of N: N = %ld within 2x of N = %ld | %.2fx |",
		ul->param, u0->param, ratio);
	verdict(out, ratio <= 2, false, false);
	if (!p0 || pl == p0)
		return;
	ratio = pl->med / p0->med;
	fprintf(out,
		"| shrink linear in the resets: time per reset at N = %ld within 3x of N = %ld (a quadratic one: %ldx) | %.2fx |",
		pl->param, p0->param, pl->param / p0->param, ratio);
	verdict(out, ratio <= 3, false, false);
}

static void write_mem_detail(FILE *out)
{
	enum fam f;
	bool any = false;

	for (f = CU; f <= TCP; f++)
		any |= mem_detail[f][0] != 0;
	if (!any)
		return;
	fprintf(out,
		"\nSlab objects per pending connection (client and server side, from /proc/slabinfo, largest first; merged caches show under one name):\n\n");
	for (f = CU; f <= TCP; f++)
		if (mem_detail[f][0])
			fprintf(out, "- %s: %s\n", fam_names[f], mem_detail[f]);
}

static void machine_line(FILE *out)
{
	struct utsname u;
	char line[256], model[128] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");
	const char *sep;
	int mode;
	char *p;

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			p = strchr(line, ':');
			if (!strncmp(line, "model name", 10) && p) {
				snprintf(model, sizeof(model), "%s", p + 2);
				model[strcspn(model, "\n")] = 0;
				break;
			}
		}
		fclose(f);
	}
	uname(&u);
	fprintf(out,
		"Kernel %s, %ld CPUs (%s); `%s`; medians of %d repetitions (listen: %d), %.2f s per timed repetition, %ld MiB per throughput run; "
		"modes:",
		u.release, sysconf(_SC_NPROCESSORS_ONLN), model, cmdline, opt_reps,
		opt_reps * 3 > MAX_REPS ? MAX_REPS : opt_reps * 3, opt_time, opt_bytes / MIB);
	for (mode = 0, sep = " "; mode < NMODES; mode++) {
		if (!(opt_modes & (1u << mode)))
			continue;
		fprintf(out, "%s%s", sep, mode_names[mode]);
		if (mode == M_BUSY)
			fprintf(out, " (SO_BUSY_POLL %d µs)", opt_busy_poll);
		sep = ", ";
	}
	fprintf(out, ".\n");
}

static const char *const mode_title[NMODES] = {
	"Unpinned: threads on any CPU, as applications run",
	"Busy polling: threads on any CPU, with SO_BUSY_POLL",
	"Pinned: all threads on one CPU, taking turns",
};

static const char *const mode_text[NMODES] = {
	"The threads of a measurement (client and server, reader and writer, acceptors) ran on any CPU, as an application's threads do, and woke each other across CPUs. Targets: issue 16's, as ratios to AF_UNIX (for a round trip, of the times: lower is better).",
	"As unpinned, with SO_BUSY_POLL set on both ends of rtt's and tput's connections: a blocking receive spins before it sleeps (AF_CUSTOM; AF_UNIX accepts the option and ignores it, TCP on loopback has no device to poll). What an application that gives CPU time for latency gets. Targets: issue 16's, as for unpinned.",
	"All the threads of a measurement ran on one CPU, taking turns: the socket code alone, without the cost of waking another CPU (under QEMU TCG whatever the host's scheduler makes it). No targets: for comparison.",
};

static void write_mode_section(FILE *out, int mode)
{
	fprintf(out, "\n### %s\n\n%s\n\n", mode_title[mode], mode_text[mode]);
	write_mode_table(out, mode, threads_on_any_cpu(mode));
	write_tput_table(out, mode);
}

static void write_markdown(FILE *out)
{
	int i, mode;

	holds_total = 0;
	misses_total = 0;
	turns_total = 0;
	fprintf(out, "## cu_bench results\n\n");
	machine_line(out);
	fprintf(out,
		"\nValues are medians of the repetitions. Ratios are AF_CUSTOM's value divided by the other family's, in the same run: the median of the ratios of each repetition, in which the families took turns, and in brackets the lowest and highest of those ratios, the noise (bind+connect: the ratio of the medians). Higher is better for rates and MiB/s, lower for µs and bytes. A verdict is the median's; \"the range spans it\" marks one that a single repetition would not settle. \"CPUs in parallel\" is how many of the VM's CPUs the host ran at once, probed before each repetition (2: both; 1: they took turns, and threads on different CPUs ran one after the other); a verdict on CPUs that took turns (a median below %.1f) says so, as it does not measure what the mode is about.\n", CPUS_PARALLEL_MIN);
	for (mode = 0; mode < NMODES; mode++)
		if (mode_has_results(mode))
			write_mode_section(out, mode);
	if (mode_has_results(M_NONE) || find(M_NONE, "listen", "grow", 16, CU, SOCK_STREAM)) {
		fprintf(out, "\n### Outside the modes (one CPU)\n\n");
		if (mode_has_results(M_NONE))
			write_mode_table(out, M_NONE, true);
	}
	write_listen_table(out);
	write_mem_detail(out);
	if (nnotes) {
		fprintf(out, "\nNotes:\n\n");
		for (i = 0; i < nnotes; i++)
			fprintf(out, "- %s\n", notes[i]);
	}
	fprintf(out, "\nTargets: %d hold, %d missed", holds_total, misses_total);
	if (turns_total)
		fprintf(out, "; %d of these verdicts on CPUs that took turns", turns_total);
	fprintf(out, ".\n");
}

/* One line per result; values: each repetition's, in order, ';'-separated. */
static void write_csv(FILE *out)
{
	int i, j;

	fprintf(out, "case,metric,param,family,type,unit,median,min,max,reps,mode,values,cpus\n");
	for (i = 0; i < nresults; i++) {
		const struct result *r = &results[i];

		fprintf(out, "%s,%s,%ld,%s,%s,%s,%.6g,%.6g,%.6g,%d,%s,", r->cs, r->metric,
			r->param, fam_keys[r->fam], r->fam == MEMCPY ? "-" : type_name(r->type),
			r->unit, r->med, r->min, r->max, r->reps, mode_names[r->mode]);
		for (j = 0; j < r->reps; j++)
			fprintf(out, "%s%.6g", j ? ";" : "", r->v[j]);
		fprintf(out, ",");
		for (j = 0; j < r->reps && cpus_probed(r->cpus); j++)
			fprintf(out, "%s%.3g", j ? ";" : "", r->cpus[j]);
		fprintf(out, "\n");
	}
}

static void mkdirs(const char *dir)
{
	char path[4096], *p;

	snprintf(path, sizeof(path), "%s", dir);
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(path, 0755);
		*p = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		die("mkdir %s", dir);
}

static void write_files(void)
{
	char path[4200];
	FILE *f;

	mkdirs(opt_out);
	snprintf(path, sizeof(path), "%s/results.csv", opt_out);
	f = fopen(path, "w");
	if (!f)
		die("%s", path);
	write_csv(f);
	if (fclose(f))
		die("%s", path);
	snprintf(path, sizeof(path), "%s/results.md", opt_out);
	f = fopen(path, "w");
	if (!f)
		die("%s", path);
	write_markdown(f);
	if (fclose(f))
		die("%s", path);
	progress("results written to %s/results.md and %s/results.csv", opt_out, opt_out);
}

/* ---- setup and options ------------------------------------------------------ */

static void find_family(void)
{
	FILE *f = fopen("/sys/module/af_custom/parameters/family", "r");

	if (!f)
		return;
	if (fscanf(f, "%d", &cu_family) != 1)
		cu_family = AF_CUSTOM;
	fclose(f);
}

static void read_somaxconn(void)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");

	if (!f || fscanf(f, "%d", &somaxconn) != 1)
		somaxconn = 4096;
	if (f)
		fclose(f);
}

/*
 * Raise the file limit to what the chosen cases hold open at once; if it
 * cannot be, bind fewer ports in the scale case.
 */
static void raise_nofile(void)
{
	long base = 3L * opt_pending + 1000, need = base;
	struct rlimit rl;

	if (opt_cases & (1u << C_SCALE))
		need += opt_ports;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit");
	if ((long)rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need;
	if ((long)rl.rlim_max < need)
		rl.rlim_max = need;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		note("the file limit could only be raised to %ld, %ld are needed; "
		     "run as root, or ulimit -n %ld", (long)rl.rlim_max, need, need);
		if ((opt_cases & (1u << C_SCALE)) && (long)rl.rlim_max - base < opt_ports) {
			opt_ports = (long)rl.rlim_max - base;
			note("scale: at most %ld ports bound, for want of file descriptors",
			     opt_ports);
		}
	}
}

static long parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	switch (*end) {
	case 'k':
	case 'K':
		v *= KIB;
		end++;
		break;
	case 'm':
	case 'M':
		v *= MIB;
		end++;
		break;
	case 'g':
	case 'G':
		v *= 1024.0 * MIB;
		end++;
		break;
	}
	if (*end || v < 1) {
		fprintf(stderr, "cu_bench: bad size '%s'\n", s);
		exit(2);
	}
	return (long)v;
}

static unsigned int parse_list(const char *arg, const char *const *names, int n,
			       const char *what)
{
	char buf[256], *tok, *save = NULL;
	unsigned int mask = 0;
	int i;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (!strcmp(tok, "all")) {
			mask |= (1u << n) - 1;
			continue;
		}
		for (i = 0; i < n; i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == n) {
			fprintf(stderr, "cu_bench: unknown %s '%s'\n", what, tok);
			exit(2);
		}
		mask |= 1u << i;
	}
	return mask;
}

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: cu_bench [options]\n"
		"\n"
		"Measures AF_CUSTOM against AF_UNIX and TCP on 127.0.0.1, each case in the\n"
		"same run, and prints tables of medians with AF_CUSTOM's ratios to AF_UNIX\n"
		"and TCP (median and range over the repetitions), and the targets. Progress\n"
		"goes to stderr, the tables to stdout and, as results.md and results.csv, to\n"
		"the results directory.\n"
		"\n"
		"Cases (all by default; SOCK_STREAM, and SOCK_SEQPACKET for AF_CUSTOM and\n"
		"AF_UNIX where marked *). conn, rtt, tput and accept run in each mode of\n"
		"--modes (busy-poll: rtt and tput only), one table per mode; the others\n"
		"once, on one CPU:\n"
		"  conn    connect + accept + close of both ends: 1 client thread and 1\n"
		"          acceptor, then 2 client threads and 4 acceptor threads on one\n"
		"          listener (conn/s) *\n"
		"  rtt     ping-pong round trip, 1 byte and 4 KiB (mean µs per round trip) *\n"
		"  tput    one-way throughput, 4 KiB and 64 KiB writes (MiB/s), and\n"
		"          memcpy() with the same sizes, the bound it is reported against *\n"
		"  accept  --accept connections made first (a filled queue), then taken by\n"
		"          1, 2, 4 threads accepting on one listener (conn/s)\n"
		"  listen  AF_CUSTOM: time of one listen() that grows the backlog (N to 2N),\n"
		"          leaves it (2N), shrinks it to N/2 resetting N/2, N = 16, 64, 256,\n"
		"          1024, 4096 pending (needs net.core.somaxconn >= 2N)\n"
		"  mem     slab bytes per pending connection (client plus server side),\n"
		"          /proc/meminfo Slab: before and after --pending connects\n"
		"  scale   bind+connect with 10, 1000, 100000 ports bound (TCP: up to\n"
		"          1000, ports are 16-bit)\n"
		"\n"
		"Checks (a failure stops the run, exit status 1): each connection accepted\n"
		"exactly once; bytes received equal bytes sent; echoes equal to the sent\n"
		"data; a checksum of a whole stream (a first, untimed throughput pass of\n"
		"--check-bytes) and the number of every write in each timed pass; queue\n"
		"lengths, reset counts and which clients a shrinking listen() resets.\n"
		"\n"
		"Options:\n"
		"  --case NAME[,NAME]   run only these cases (repeatable; 'all')\n"
		"  --families LIST      cu,unix,tcp (default all three)\n"
		"  --types LIST         stream,seqpacket (default both; TCP is stream only)\n"
		"  --size SIZE          rtt and tput: only this message or write size (1, 4K\n"
		"                       or 64K; default all), e.g. to profile one of them\n"
		"  --modes LIST         unpinned,busy-poll,pinned (default all, in that order):\n"
		"                       the threads of a measurement on any CPU, as\n"
		"                       applications run; the same with SO_BUSY_POLL; or all\n"
		"                       on one CPU, taking turns (the socket code alone,\n"
		"                       without cross-CPU wakeups)\n"
		"  --busy-poll USEC     SO_BUSY_POLL of mode busy-poll, on rtt's and tput's\n"
		"                       data sockets: a blocking receive spins that long\n"
		"                       before sleeping (AF_UNIX and TCP on loopback ignore\n"
		"                       it; default %d)\n"
		"  --no-cpu-probe       do not probe, before each repetition of unpinned and\n"
		"                       busy-poll, how many CPUs the host runs at once (a\n"
		"                       profile leaves it out: it spins for 0.1 s)\n"
		"  --reps N             repetitions of each measurement: median and range\n"
		"                       (default %d; the listen case does 3N)\n"
		"  --time SECS          length of a timed repetition of conn, rtt, scale (default %.2f)\n"
		"  --bytes SIZE         bytes per throughput run, K/M/G suffixes (default %ldM)\n"
		"  --check-bytes SIZE   bytes of the checksummed throughput pass (default %ldM)\n"
		"  --pending N          pending connections of the mem case (default %d)\n"
		"  --accept N           connections of the accept case's filled queue (default %d)\n"
		"  --ports N            most ports bound in scale: 10, 1000, 100000 up to N (default %ld)\n"
		"  --max-n N            largest N of the listen case (default %d)\n"
		"  --family N           AF_CUSTOM's number (default: the module's family parameter, or %d)\n"
		"  --out DIR            results directory (default %s)\n"

		"  --help\n"
		"\n"
		"Run as root for the full run: the file limit is raised as needed (scale\n"
		"holds --ports sockets open). Set net.core.somaxconn to 8192 first for the\n"
		"listen case (sysctl -w net.core.somaxconn=8192).\n",
		opt_busy_poll, opt_reps, opt_time, opt_bytes / MIB, opt_check_bytes / MIB,
		opt_pending, opt_accept, opt_ports, opt_max_n, AF_CUSTOM, opt_out);
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "case", required_argument, NULL, 'c' },
		{ "families", required_argument, NULL, 'f' },
		{ "types", required_argument, NULL, 'T' },
		{ "size", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "time", required_argument, NULL, 't' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "check-bytes", required_argument, NULL, 'B' },
		{ "pending", required_argument, NULL, 'p' },
		{ "accept", required_argument, NULL, 'a' },
		{ "modes", required_argument, NULL, 'M' },
		{ "busy-poll", required_argument, NULL, 'y' },
		{ "no-cpu-probe", no_argument, NULL, 'N' },
		{ "ports", required_argument, NULL, 'P' },
		{ "max-n", required_argument, NULL, 'n' },
		{ "family", required_argument, NULL, 'F' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int cases = 0;
	int c, i, len = 0;

	for (i = 0; i < argc && len < (int)sizeof(cmdline) - 1; i++)
		len += snprintf(cmdline + len, sizeof(cmdline) - len, "%s%s",
				i ? " " : "", i ? argv[i] : "cu_bench");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cases |= parse_list(optarg, case_names, NCASES, "case");
			break;
		case 'f':
			opt_fams = parse_list(optarg, fam_keys, TCP + 1, "family");
			break;
		case 'T':
			opt_types = parse_list(optarg, type_keys, 2, "type");
			break;
		case 's':
			opt_size = parse_size(optarg);
			break;
		case 'r':
			opt_reps = atoi(optarg);
			break;
		case 't':
			opt_time = atof(optarg);
			break;
		case 'b':
			opt_bytes = parse_size(optarg);
			break;
		case 'B':
			opt_check_bytes = parse_size(optarg);
			break;
		case 'p':
			opt_pending = atoi(optarg);
			break;
		case 'a':
			opt_accept = atoi(optarg);
			break;
		case 'M':
			opt_modes = parse_list(optarg, mode_names, NMODES, "mode");
			break;
		case 'y':
			opt_busy_poll = atoi(optarg);
			break;
		case 'N':
			opt_probe_cpus = false;
			break;
		case 'P':
			opt_ports = atol(optarg);
			break;
		case 'n':
			opt_max_n = atoi(optarg);
			break;
		case 'F':
			cu_family = atoi(optarg);
			break;
		case 'o':
			opt_out = optarg;
			break;
		case 'h':
			print_usage(stdout);
			exit(0);
		default:
			print_usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cu_bench: unexpected argument '%s'\n", argv[optind]);
		exit(2);
	}
	if (cases)
		opt_cases = cases;
	if (opt_reps < 1 || opt_reps > MAX_REPS / 3 || opt_time <= 0 || !opt_modes ||
	    opt_pending < 1 || opt_accept < 1 || opt_max_n < 16 || opt_bytes < 64 * KIB ||
	    opt_check_bytes < 64 * KIB || opt_busy_poll < 0) {
		fprintf(stderr,
			"cu_bench: --reps 1..%d, --time > 0, --pending and --accept >= 1, --max-n >= 16, --bytes and --check-bytes >= 64K, --busy-poll >= 0\n",
			MAX_REPS / 3);
		exit(2);
	}
}

static void (*const case_fn[NCASES])(void) = {
	case_conn, case_rtt, case_tput, case_accept, case_listen, case_mem, case_scale,
};

static bool case_in_modes(int c)
{
	return c < C_LISTEN;
}

/* Whether case @c runs in @mode: chosen, and busy-poll is for receives. */
static bool runs_in_mode(int c, int mode)
{
	return (opt_cases & (1u << c)) && (opt_modes & (1u << mode)) &&
	       case_in_modes(c) && (mode != M_BUSY || c == C_RTT || c == C_TPUT);
}

/* Run case @c in @mode (M_NONE: a case outside the modes). */
static void run_case(int c, int mode, int *done, int total)
{
	double t1 = now();

	cur_case = case_names[c];
	enter_mode(mode);
	progress("[%d/%d] case %s (%s)", ++*done, total, case_names[c], where());
	case_fn[c]();
	progress("[%d/%d] case %s done in %.1f s", *done, total, case_names[c], now() - t1);
}

/* The mode cases, all in one mode after the other; then the others. */
static void run_cases(void)
{
	int c, mode, done = 0, total = 0;

	for (c = 0; c < NCASES; c++)
		for (mode = 0; mode < NMODES; mode++)
			total += runs_in_mode(c, mode);
	for (c = 0; c < NCASES; c++)
		total += !case_in_modes(c) && (opt_cases & (1u << c));
	for (mode = 0; mode < NMODES; mode++)
		for (c = 0; c < NCASES; c++)
			if (runs_in_mode(c, mode))
				run_case(c, mode, &done, total);
	for (c = 0; c < NCASES; c++)
		if (!case_in_modes(c) && (opt_cases & (1u << c)))
			run_case(c, M_NONE, &done, total);
}

int main(int argc, char **argv)
{
	double t0 = t_start = now();

	find_family();
	parse_args(argc, argv);
	pin_init();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	read_somaxconn();
	raise_nofile();
	if (opt_fams & (1u << CU))
		close(xsocket(CU, SOCK_STREAM));

	run_cases();
	cur_case = "report";
	enter_mode(M_NONE);
	progress("all cases done in %.1f s", now() - t0);
	write_files();
	printf("\n");
	write_markdown(stdout);
	return 0;
}
