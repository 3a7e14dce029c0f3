// SPDX-License-Identifier: GPL-2.0
/*
 * cunc: netcat for AF_CUSTOM, with OpenBSD nc's options (Debian's nc).
 *
 *   cunc [-uvNn] [-p SRCPORT] [-q SECS] [-w SECS] PORT    connect
 *   cunc -l [-kuvNn] [-q SECS] [-w SECS] [--backlog N] [--relisten N] -p PORT
 *   cunc -z [-uv] PORT[-PORT]                            is anyone there?
 *
 * As nc, cunc copies stdin to the socket and the socket to stdout; at the
 * end of stdin it stops sending, and only shuts its sending side down with
 * -N; a listener stops when its peer has finished sending, a client when
 * both directions are done. -z asks the module's sock_diag dump whether a
 * socket listens on the port, so it takes no slot of the listener's queue.
 * Ports are decimal, whatever their leading zeros.
 *
 * The family's own extras are long options: --seqpacket; --backlog N, the
 * listener's backlog; --relisten N, the backlog that SIGUSR1 sets with a
 * second listen() (default: half the current one), which resets the newest
 * pending connections beyond it; SIGUSR2 goes back to --backlog. Both are
 * reported on stderr with the listener's CU_BACKLOG, CU_PENDING and
 * CU_STATS. SIGHUP shuts the listener down (its counters stay, for cuss
 * -i) and cunc exits after the connection it serves. A listener serves one connection at a time and keeps listening
 * while it does, so further connections wait in its queue (exactly
 * backlog of them, the next one is refused).
 *
 * Errors name the errno and say what it means for AF_CUSTOM; the exit
 * status tells them apart (see usage()). A refused connect is told apart
 * (queue full or nobody listening) by the netns counters in
 * /proc/net/af_custom_stat, read before and after; when something else
 * moved them meanwhile, cunc says it cannot tell.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <linux/af_custom.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>

#include "cu_tool.h"

/* exit statuses */
#define EX_FAIL		1	/* any other error */
#define EX_USAGE	2
#define EX_FULL		3	/* ECONNREFUSED: the listener's queue is full */
#define EX_NOLISTENER	4	/* ECONNREFUSED: nobody listens (or is bound) */
#define EX_REFUSED	5	/* ECONNREFUSED: one of the two, cannot tell */
#define EX_RESET	6	/* ECONNRESET */
#define EX_NOFAMILY	7	/* EAFNOSUPPORT: af_custom.ko is not loaded */

#define STREAM_BUF	65536
#define RECORD_BUF	8192	/* one read of stdin = one record/datagram */
#define STAT_FILE	"/proc/net/af_custom_stat"

static const char *prog = "cunc";

static struct {
	bool listen, keep, verbose, shutdown, probe;
	int type;
	int backlog, newbacklog;	/* newbacklog 0: halve */
	long quit_ms;			/* -q; -1: wait for the peer */
	long idle_ms;			/* -w; -1: no idle timeout */
	uint32_t port, last_port;	/* -z: a range */
	uint32_t src_port;		/* -p when connecting; 0: any */
} opt = {
	.type = SOCK_STREAM,
	.backlog = 1,
	.quit_ms = -1,
	.idle_ms = -1,
};

static int family = AF_CUSTOM;
static int sigfd = -1;		/* SIGUSR1, SIGUSR2, SIGHUP of a listener */
static int lfd = -1;		/* the listener */
static bool stopped;		/* SIGHUP shut the listener down */
static bool stdin_eof;

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s [-uvNn] [-p SRCPORT] [-q SECS] [-w SECS] [--seqpacket] PORT\n"
"       %s -l [-kuvNn] [-q SECS] [-w SECS] [--seqpacket] [--backlog N]\n"
"              [--relisten N] [-p] PORT\n"
"       %s -z [-uv] [--seqpacket] PORT[-PORT]\n"
"\n"
"netcat for AF_CUSTOM, with OpenBSD nc's options: connect to PORT (or\n"
"listen on it with -l) and copy standard input to the socket and the socket\n"
"to standard output. Ports are decimal (05000 is 5000).\n"
"\n"
"  -l            listen on PORT (0: an ephemeral port, printed on stderr)\n"
"  -p PORT       with -l, the port to listen on; else the source port\n"
"  -k            with -l, keep listening: serve the next pending connection\n"
"                when one ends (without -k, cunc exits after the first;\n"
"                connections still pending then are reset)\n"
"  -u            SOCK_DGRAM (as nc's UDP): each read of stdin is a datagram;\n"
"                a listener answers the sender of the last one it received\n"
"  -z            only say (exit 0 or 1) whether a socket listens on PORT, or\n"
"                on one port of PORT-PORT, by asking the module's sock_diag\n"
"                dump: no connection, no slot of the listener's queue taken\n"
"  -N            shut the connection down (SHUT_WR) after EOF on stdin; as\n"
"                for nc, the default is not to\n"
"  -q SECS       after EOF on stdin, quit SECS seconds later (default: never;\n"
"                as nc, cunc still stops when the connection ends)\n"
"  -w SECS       quit when the connection is idle for SECS seconds\n"
"  -v            say what happens (connections, ports) on stderr\n"
"  -n            accepted: ports are always numbers\n"
"      --seqpacket  SOCK_SEQPACKET: each read of stdin is one record\n"
"      --backlog N  backlog of the listener (default 1, as nc)\n"
"      --relisten N backlog that SIGUSR1 sets with a second listen()\n"
"                (default: half the current one); SIGUSR2 sets --backlog\n"
"                again. A shrink resets the newest pending connections.\n"
"                SIGHUP shuts the listener down (it stops listening, its\n"
"                counters stay): cunc exits after the current connection\n"
"  -h, --help    this help\n"
"\n"
"A listener serves one connection at a time and keeps listening meanwhile,\n"
"so other clients wait in its queue: exactly BACKLOG of them, the next one\n"
"is refused at once. A listener stops when its peer has finished sending;\n"
"a client when the peer has, and its standard input has ended.\n"
"\n"
"exit status: 0 done (-z: a socket is there); 1 other error (-z: none is);\n"
"2 usage; 3 refused, the listener's queue is full; 4 refused, nobody\n"
"listening (or bound, -u); 5 refused, could not tell which; 6 connection\n"
"reset; 7 af_custom.ko is not loaded.\n",
		prog, prog, prog);
}

#define msg(...)	cu_msg(prog, __VA_ARGS__)
#define verbose(...) do { if (opt.verbose) msg(__VA_ARGS__); } while (0)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static uint32_t local_port(int fd)
{
	struct sockaddr_cu a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return 0;
	return a.scu_port;
}

static int getopt_int(int fd, int name)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(fd, SOL_CUSTOM, name, &v, &len))
		return -1;
	return v;
}

static void get_stats(int fd, struct cu_listen_stats *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	getsockopt(fd, SOL_CUSTOM, CU_STATS, st, &len);
}

/* refused_full and refused_no_listener of this netns; false if unreadable */
static bool read_refusals(unsigned long long *full, unsigned long long *none)
{
	FILE *f = fopen(STAT_FILE, "r");
	char name[64];
	unsigned long long v;
	int found = 0;

	if (!f)
		return false;
	while (fscanf(f, "%63s %llu", name, &v) == 2) {
		if (!strcmp(name, "refused_full")) {
			*full = v;
			found |= 1;
		} else if (!strcmp(name, "refused_no_listener")) {
			*none = v;
			found |= 2;
		}
	}
	fclose(f);
	return found == 3;
}

static int new_socket(void)
{
	int fd = socket(family, opt.type, 0);

	if (fd >= 0)
		return fd;
	if (errno == EAFNOSUPPORT && !cu_module_loaded()) {
		msg(CU_NOT_LOADED);
		exit(EX_NOFAMILY);
	}
	if (errno == EAFNOSUPPORT) {
		msg("socket(%d, %s): %s: is family %d af_custom's?",
		    family, cu_type_name(opt.type), cu_errtext(errno), family);
		exit(EX_NOFAMILY);
	}
	msg("socket: %s", cu_errtext(errno));
	exit(EX_FAIL);
}

/* ---- the listener's backlog ------------------------------------------ */

static void relisten(int backlog)
{
	struct cu_listen_stats before, after;
	int old, now, pending;

	if (backlog < 1)
		backlog = 1;
	old = getopt_int(lfd, CU_BACKLOG);
	get_stats(lfd, &before);
	if (listen(lfd, backlog)) {
		msg("listen(%d) again on port %u: %s", backlog, opt.port,
		    cu_errtext(errno));
		return;
	}
	now = getopt_int(lfd, CU_BACKLOG);
	pending = getopt_int(lfd, CU_PENDING);
	get_stats(lfd, &after);
	msg("listen(%d) on port %u: backlog %d -> %d, %llu pending connection(s) reset, %d pending",
	    backlog, opt.port, old, now,
	    (unsigned long long)(after.reset_shrink - before.reset_shrink),
	    pending);
}

/*
 * SIGHUP: shutdown(SHUT_RD) of the listener. It stops listening, its
 * pending connections are reset, and its counters stay readable (cuss -i)
 * until cunc exits, after the connection it serves.
 */
static void stop_listening(void)
{
	struct cu_listen_stats st;

	if (stopped)
		return;
	if (shutdown(lfd, SHUT_RD)) {
		msg("shutdown of the listener on port %u: %s", opt.port,
		    cu_errtext(errno));
		return;
	}
	stopped = true;
	get_stats(lfd, &st);
	msg("stopped listening on port %u: %llu pending connection(s) reset; queued %llu, accepted %llu",
	    opt.port, (unsigned long long)st.reset_close,
	    (unsigned long long)st.queued, (unsigned long long)st.accepted);
}

static void on_signal(void)
{
	struct signalfd_siginfo si;
	int cur;

	while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			stop_listening();
		} else if (stopped) {
			msg("not listening any more: no listen() again");
		} else if (si.ssi_signo == SIGUSR1) {
			cur = getopt_int(lfd, CU_BACKLOG);
			relisten(opt.newbacklog ? opt.newbacklog : cur / 2);
		} else if (si.ssi_signo == SIGUSR2) {
			relisten(opt.backlog);
		}
	}
}

/* ---- copying ----------------------------------------------------------- */

static bool write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

static int reset_error(uint32_t port)
{
	msg("connection %s port %u reset: %s: the listener dropped it before accept() (its backlog shrank, or it closed), or the peer closed with data unread",
	    opt.listen ? "from" : "to", port, cu_errtext(ECONNRESET));
	return EX_RESET;
}

#define GO_ON	(-1)	/* a step of the copy: go on, else an exit status */

/* one connection (or datagram socket) being copied */
struct copy {
	int s;
	uint32_t peer_port;
	bool records;		/* seqpacket, dgram: one read, one send */
	bool dgram_listener;	/* answers the last sender, dest */
	bool have_dest, sock_eof;
	struct sockaddr_cu dest;
	size_t outlen, outoff;	/* stdin data not sent yet */
	long long quit_at;	/* -q after EOF on stdin; -1: none */
	long long idle_at;	/* -w; -1: none */
};

static char inbuf[STREAM_BUF], outbuf[STREAM_BUF];

/*
 * As nc: done when the peer has finished sending and what came from stdin
 * is sent, and, for a client, stdin has ended too. A datagram socket has
 * no end: -q or -w ends it.
 */
static bool copy_done(const struct copy *c)
{
	if (c->outlen || opt.type == SOCK_DGRAM)
		return false;
	return c->sock_eof && (stdin_eof || opt.listen);
}

static void active(struct copy *c)
{
	if (opt.idle_ms >= 0)
		c->idle_at = now_ms() + opt.idle_ms;
}

static void end_of_stdin(struct copy *c)
{
	stdin_eof = true;
	if (opt.shutdown && opt.type != SOCK_DGRAM)
		shutdown(c->s, SHUT_WR);
	if (opt.quit_ms >= 0)
		c->quit_at = now_ms() + opt.quit_ms;
}

/* milliseconds to the nearest of -q and -w, -1 for none */
static int poll_timeout(const struct copy *c)
{
	long long t = c->quit_at, now = now_ms();

	if (c->idle_at >= 0 && (t < 0 || c->idle_at < t))
		t = c->idle_at;
	if (t < 0)
		return -1;
	return t > now ? t - now : 0;
}

static void note_sender(struct copy *c, const struct sockaddr_cu *from)
{
	if (!c->have_dest || c->dest.scu_port != from->scu_port)
		verbose("datagram from port %u", from->scu_port);
	c->dest = *from;
	c->have_dest = true;
}

/* errno of a recv or send (call, "recv from" or "send to") with port */
static int socket_error(const struct copy *c, const char *call, uint32_t port)
{
	if (errno == EAGAIN || errno == EINTR)
		return GO_ON;
	if (errno == ECONNRESET)
		return reset_error(c->peer_port);
	if (errno == ECONNREFUSED && opt.type == SOCK_DGRAM) {
		msg("%s port %u: %s: no datagram socket is bound to it", call,
		    port, cu_errtext(errno));
		return EX_NOLISTENER;
	}
	msg("%s port %u: %s", call, port, cu_errtext(errno));
	return EX_FAIL;
}

static int read_socket(struct copy *c, short revents)
{
	struct sockaddr_cu from;
	socklen_t fromlen = sizeof(from);
	ssize_t n;

	n = recvfrom(c->s, inbuf, c->records ? RECORD_BUF : sizeof(inbuf),
		     MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
	if (n > 0 || (n == 0 && opt.type == SOCK_DGRAM)) {
		active(c);
		if (c->dgram_listener)
			note_sender(c, &from);
		if (!write_all(STDOUT_FILENO, inbuf, n)) {
			msg("write to stdout: %s", cu_errtext(errno));
			return EX_FAIL;
		}
		return GO_ON;
	}
	if (n == 0) {
		c->sock_eof = true;
		/* hung up entirely: nobody would read what we send */
		return revents & POLLHUP ? 0 : GO_ON;
	}
	return socket_error(c, "recv from", c->peer_port);
}

static void read_stdin(struct copy *c)
{
	ssize_t n = read(STDIN_FILENO, outbuf,
			 c->records ? RECORD_BUF : sizeof(outbuf));

	if (n > 0) {
		active(c);
		c->outlen = n;
		c->outoff = 0;
		return;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0)
		msg("read stdin: %s", cu_errtext(errno));
	end_of_stdin(c);
}

static int send_stdin_data(struct copy *c)
{
	ssize_t n;

	if (c->dgram_listener)
		n = sendto(c->s, outbuf, c->outlen, MSG_DONTWAIT | MSG_NOSIGNAL,
			   (struct sockaddr *)&c->dest, sizeof(c->dest));
	else
		n = send(c->s, outbuf + c->outoff, c->outlen - c->outoff,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n >= 0) {
		c->outoff += n;
		if (c->records || c->outoff == c->outlen)
			c->outlen = c->outoff = 0;
		return GO_ON;
	}
	if (errno == EPIPE) {
		msg("the peer closed the connection; the rest of the input was not sent: %s",
		    cu_errtext(errno));
		return EX_FAIL;
	}
	return socket_error(c, "send to",
			    c->dgram_listener ? c->dest.scu_port : c->peer_port);
}

/* one poll and what it allows; GO_ON or an exit status */
static int copy_step(struct copy *c)
{
	struct pollfd p[3];
	int timeout = poll_timeout(c), rc = GO_ON;

	p[0].fd = sigfd;
	p[0].events = POLLIN;
	p[1].fd = (!stdin_eof && !c->outlen && c->have_dest) ? STDIN_FILENO : -1;
	p[1].events = POLLIN;
	p[2].fd = c->s;
	p[2].events = (c->sock_eof ? 0 : POLLIN) | (c->outlen ? POLLOUT : 0);
	if (poll(p, 3, timeout) < 0) {
		if (errno == EINTR)
			return GO_ON;
		msg("poll: %s", cu_errtext(errno));
		return EX_FAIL;
	}
	if (timeout >= 0 && poll_timeout(c) == 0)
		return 0;	/* -q or -w */
	if (p[0].revents & POLLIN)
		on_signal();
	/* POLLHUP after EOF: the peer is gone, nobody would read our data */
	if (c->sock_eof && (p[2].revents & (POLLHUP | POLLERR)))
		return 0;
	if ((p[2].revents & (POLLIN | POLLERR | POLLHUP)) && !c->sock_eof)
		rc = read_socket(c, p[2].revents);
	if (rc == GO_ON && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
		read_stdin(c);
	if (rc == GO_ON && c->outlen)
		rc = send_stdin_data(c);
	return rc;
}

/*
 * Copy between stdin/stdout and the socket s, connected to peer_port,
 * until copy_done() (or -q, -w say to stop). A datagram listener sends
 * stdin to the sender of the last datagram it received, and reads none
 * before the first. Returns an exit status.
 */
static int copy_loop(int s, uint32_t peer_port)
{
	struct copy c = {
		.s = s,
		.peer_port = peer_port,
		.records = opt.type != SOCK_STREAM,
		.dgram_listener = opt.type == SOCK_DGRAM && opt.listen,
		.have_dest = !(opt.type == SOCK_DGRAM && opt.listen),
		.quit_at = -1,
		.idle_at = -1,
	};
	int rc = GO_ON;

	c.dest = cu_addr(family, 0);
	active(&c);
	if (stdin_eof)		/* ended during an earlier connection (-k) */
		end_of_stdin(&c);
	while (rc == GO_ON && !copy_done(&c))
		rc = copy_step(&c);
	return rc == GO_ON ? 0 : rc;
}

/* ---- modes ------------------------------------------------------------- */

/* bind fd to port (0: ephemeral); returns the port bound, or exits */
static uint32_t bind_or_die(int fd, uint32_t port)
{
	struct sockaddr_cu a = cu_addr(family, port);
	int err;

	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)))
		return local_port(fd);
	err = errno;
	if (err == EADDRINUSE)
		msg("bind to port %u: %s: another %s socket is bound to it",
		    port, cu_errtext(err), cu_type_name(opt.type));
	else if (err == EACCES)
		msg("bind to port %u: %s: ports 1 to %u need CAP_NET_BIND_SERVICE",
		    port, cu_errtext(err), CU_PORT_PRIV_MAX);
	else
		msg("bind to port %u: %s", port, cu_errtext(err));
	exit(EX_FAIL);
}

/* ECONNREFUSED from connect(): full queue or nobody, by the counters */
static int refused(int err, bool counted, unsigned long long f0,
		   unsigned long long n0)
{
	unsigned long long f1 = 0, n1 = 0;

	if (opt.type == SOCK_DGRAM) {
		msg("connect to port %u: %s: no datagram socket is bound to port %u",
		    opt.port, cu_errtext(err), opt.port);
		return EX_NOLISTENER;
	}
	counted = counted && read_refusals(&f1, &n1);
	if (counted && f1 > f0 && n1 == n0) {
		msg("connect to port %u: %s: the listener's queue is full (all its backlog of pending connections is used)",
		    opt.port, cu_errtext(err));
		return EX_FULL;
	}
	if (counted && n1 > n0 && f1 == f0) {
		msg("connect to port %u: %s: nobody is listening on port %u (for %s sockets)",
		    opt.port, cu_errtext(err), opt.port, cu_type_name(opt.type));
		return EX_NOLISTENER;
	}
	msg("connect to port %u: %s: the listener's queue is full or nobody is listening (cannot tell which)",
	    opt.port, cu_errtext(err));
	return EX_REFUSED;
}

static int do_connect(void)
{
	struct sockaddr_cu a = cu_addr(family, opt.port);
	unsigned long long f0 = 0, n0 = 0;
	bool counted;
	int s, err;

	s = new_socket();
	if (opt.src_port)
		bind_or_die(s, opt.src_port);
	counted = read_refusals(&f0, &n0);
	if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
		err = errno;
		if (err == ECONNREFUSED)
			return refused(err, counted, f0, n0);
		msg("connect to port %u: %s", opt.port, cu_errtext(err));
		return EX_FAIL;
	}
	verbose("connected to port %u (%s) from port %u", opt.port,
		cu_type_name(opt.type), local_port(s));
	err = copy_loop(s, opt.port);
	close(s);
	return err;
}

static int do_listen_dgram(void)
{
	int s = new_socket(), rc;

	opt.port = bind_or_die(s, opt.port);
	if (opt.verbose || !opt.port)
		msg("bound to port %u (dgram)", opt.port);
	rc = copy_loop(s, 0);
	close(s);
	return rc;
}

static void start_listening(void)
{
	lfd = new_socket();
	opt.port = bind_or_die(lfd, opt.port);
	if (listen(lfd, opt.backlog)) {
		if (errno == EADDRINUSE)
			msg("listen on port %u: %s: another socket already listens on it",
			    opt.port, cu_errtext(errno));
		else
			msg("listen(%d) on port %u: %s", opt.backlog, opt.port,
			    cu_errtext(errno));
		exit(EX_FAIL);
	}
	if (opt.verbose || !opt.port)
		msg("listening on port %u (%s, backlog %d)", opt.port,
		    cu_type_name(opt.type), getopt_int(lfd, CU_BACKLOG));
}

/*
 * Wait for a connection (and signals): its socket, -1 after an error, or
 * -2 when SIGHUP stopped the listener.
 */
static int next_connection(void)
{
	struct pollfd p[2];
	int s;

	for (;;) {
		if (stopped)
			return -2;
		p[0].fd = sigfd;
		p[0].events = POLLIN;
		p[1].fd = lfd;
		p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			msg("poll: %s", cu_errtext(errno));
			return -1;
		}
		if (p[0].revents & POLLIN)
			on_signal();
		if (stopped || !(p[1].revents & POLLIN))
			continue;
		s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (s >= 0)
			return s;
		if (errno != EAGAIN && errno != EINTR) {
			msg("accept: %s", cu_errtext(errno));
			return -1;
		}
	}
}

static int serve(int s)
{
	struct sockaddr_cu a;
	socklen_t len = sizeof(a);
	uint32_t peer = 0;
	int rc;

	if (!getpeername(s, (struct sockaddr *)&a, &len))
		peer = a.scu_port;
	verbose("connection from port %u (%d more pending)", peer,
		getopt_int(lfd, CU_PENDING));
	rc = copy_loop(s, peer);
	close(s);
	verbose("connection from port %u ended", peer);
	return rc;
}

static int do_listen(void)
{
	int s, rc;

	start_listening();
	do {
		s = next_connection();
		if (s < 0)
			return s == -2 ? 0 : EX_FAIL;
		rc = serve(s);
	} while (opt.keep && !stopped);
	close(lfd);
	return rc;
}

/* ---- -z: ask sock_diag --------------------------------------------------- */

struct probe {
	bool found;
	struct cu_diag_queue queue;
};

/* a socket of our type: a listener, or a bound datagram socket */
static void probe_one(const struct cu_diag_sock *s, void *arg)
{
	struct probe *p = arg;

	if (s->msg->cudiag_type != opt.type || p->found)
		return;
	if (opt.type != SOCK_DGRAM && s->msg->cudiag_state != CU_ST_LISTEN)
		return;
	p->found = true;
	cu_diag_attr(s, CUDIAG_QUEUE, &p->queue, sizeof(p->queue));
}

/* is port there? 1 yes, 0 no, -1 no dump (said why) */
static int probe_port(uint32_t port)
{
	struct cu_diag_req req = {
		.sdiag_family = family,
		.cudiag_states = opt.type == SOCK_DGRAM ? 0 : 1U << CU_ST_LISTEN,
		.cudiag_port = port,
		.cudiag_show = CUDIAG_SHOW_QUEUE,
	};
	struct probe p = { .found = false };
	int err = cu_diag_dump(&req, probe_one, &p);

	if (err) {
		if (cu_module_loaded())
			msg("-z: no sock_diag dump for family %d: %s", family,
			    cu_errtext(err));
		else
			msg(CU_NOT_LOADED);
		return -1;
	}
	if (p.found && opt.type == SOCK_DGRAM)
		verbose("port %u [dgram] succeeded: a datagram socket is bound to it",
			port);
	else if (p.found)
		verbose("port %u [%s] succeeded: listening, backlog %u, %u pending",
			port, cu_type_name(opt.type), p.queue.backlog,
			p.queue.pending);
	else
		verbose("port %u (%s) failed: nobody is %s", port,
			cu_type_name(opt.type),
			opt.type == SOCK_DGRAM ? "bound to it" : "listening");
	return p.found;
}

/* as nc -z: 0 if a port of the range is there, 1 if none */
static int do_probe(void)
{
	uint32_t port = opt.port;
	int rc = EX_FAIL, r;

	for (;;) {
		r = probe_port(port);
		if (r < 0)
			return cu_module_loaded() ? EX_FAIL : EX_NOFAMILY;
		if (r)
			rc = 0;
		if (port == opt.last_port)
			return rc;
		port++;
	}
}

/* ---- arguments ------------------------------------------------------------ */

/* a decimal number from 1 to INT_MAX */
static bool parse_backlog(const char *s, int *v)
{
	uint32_t n;

	if (!cu_parse_port(s, &n) || !n || n > INT_MAX)
		return false;
	*v = n;
	return true;
}

/* seconds, decimal (a fraction allowed); negative: never */
static bool parse_secs(const char *s, long *ms)
{
	double secs;
	char *end;

	if (!*s || strspn(s, "-0123456789.") != strlen(s))
		return false;
	secs = strtod(s, &end);
	if (*end || secs > 86400)
		return false;
	*ms = secs < 0 ? -1 : (long)(secs * 1000);
	return true;
}

/* PORT, or with -z PORT-PORT */
static bool parse_port_arg(const char *s)
{
	char first[16];
	const char *dash = strchr(s, '-');

	if (!dash || !opt.probe) {
		opt.last_port = 0;
		if (!cu_parse_port(s, &opt.port))
			return false;
		opt.last_port = opt.port;
		return true;
	}
	if ((size_t)(dash - s) >= sizeof(first))
		return false;
	snprintf(first, sizeof(first), "%.*s", (int)(dash - s), s);
	return cu_parse_port(first, &opt.port) &&
	       cu_parse_port(dash + 1, &opt.last_port) &&
	       opt.port <= opt.last_port;
}

enum { OPT_SEQPACKET = 256, OPT_BACKLOG, OPT_RELISTEN };

static const struct option longopts[] = {
	{ "seqpacket", no_argument, NULL, OPT_SEQPACKET },
	{ "backlog", required_argument, NULL, OPT_BACKLOG },
	{ "relisten", required_argument, NULL, OPT_RELISTEN },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char *port_opt;	/* -p */

/* one option; false after a message on a bad value */
static bool parse_option(int c, const char *arg)
{
	switch (c) {
	case 'l':
		opt.listen = true;
		break;
	case 'k':
		opt.keep = true;
		break;
	case 'u':
		opt.type = SOCK_DGRAM;
		break;
	case OPT_SEQPACKET:
		opt.type = SOCK_SEQPACKET;
		break;
	case 'z':
		opt.probe = true;
		break;
	case 'N':
		opt.shutdown = true;
		break;
	case 'v':
		opt.verbose = true;
		break;
	case 'n':
		break;
	case 'p':
		port_opt = arg;
		break;
	case OPT_BACKLOG:
	case OPT_RELISTEN:
		if (parse_backlog(arg, c == OPT_BACKLOG ? &opt.backlog :
						      &opt.newbacklog))
			break;
		msg("--%s: a backlog is a number from 1 to %d",
		    c == OPT_BACKLOG ? "backlog" : "relisten", INT_MAX);
		return false;
	case 'q':
	case 'w':
		if (parse_secs(arg, c == 'q' ? &opt.quit_ms : &opt.idle_ms))
			break;
		msg("-%c: seconds, up to 86400", c);
		return false;
	default:
		usage(stderr);
		return false;
	}
	return true;
}

/* the PORT argument and -p, as nc: -l PORT, -l -p PORT, -p SRC PORT */
static bool parse_ports(int argc, char **argv)
{
	const char *arg = argc == 1 ? argv[0] : NULL;

	if (argc > 1) {
		msg("AF_CUSTOM has no hosts: give the PORT alone");
		return false;
	}
	if (opt.listen && port_opt && arg) {
		msg("-l: the port once, as -p PORT or PORT");
		return false;
	}
	if (opt.listen && port_opt) {
		arg = port_opt;
		port_opt = NULL;
	}
	if (port_opt && (opt.probe ||
			 !cu_parse_port(port_opt, &opt.src_port))) {
		msg(opt.probe ? "-z takes no source port" :
			"-p: a port is a decimal number from 0 to %u", UINT32_MAX);
		return false;
	}
	if (!arg) {
		usage(stderr);
		return false;
	}
	if (!parse_port_arg(arg)) {
		msg("PORT: a decimal number from 0 to %u%s", UINT32_MAX,
		    opt.probe ? " (or a range, PORT-PORT)" : "");
		return false;
	}
	return true;
}

/* the combinations nc refuses too, and ours */
static bool check_options(void)
{
	if (opt.probe && opt.listen) {
		msg("-z and -l: a probe does not listen");
		return false;
	}
	if (!opt.listen && (opt.keep || opt.newbacklog)) {
		msg("-k and --relisten go with -l");
		return false;
	}
	if (opt.type == SOCK_DGRAM && opt.newbacklog) {
		msg("--relisten is for connections, not -u");
		return false;
	}
	return true;
}

static bool parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv, "lkuzNvnp:q:w:h", longopts,
				NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (!parse_option(c, optarg))
			return false;
	}
	return parse_ports(argc - optind, argv + optind) && check_options();
}

/* SIGUSR1, SIGUSR2, SIGHUP for a connection listener, through sigfd */
static void setup_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	if (!opt.listen || opt.type == SOCK_DGRAM) {
		signal(SIGUSR1, SIG_IGN);
		signal(SIGUSR2, SIG_IGN);
		return;
	}
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0) {
		msg("signalfd: %s", cu_errtext(errno));
		exit(EX_FAIL);
	}
}

int main(int argc, char **argv)
{
	if (!parse_args(argc, argv))
		return EX_USAGE;
	family = cu_find_family();
	if (opt.probe)
		return do_probe();
	setup_signals();
	if (!opt.listen)
		return do_connect();
	if (opt.type == SOCK_DGRAM)
		return do_listen_dgram();
	return do_listen();
}
