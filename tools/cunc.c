// SPDX-License-Identifier: GPL-2.0
/*
 * cunc: netcat for AF_CUSTOM.
 *
 *   cunc [-u | -s] [-v] [-q SECS] PORT          connect, copy stdin <-> socket
 *   cunc -l [-u | -s] [-k] [-v] [-q SECS] [-b BACKLOG] [-B NEWBACKLOG] PORT
 *
 * A listener serves one connection at a time and keeps listening while it
 * does, so further connections wait in its queue (exactly BACKLOG of them,
 * the next one is refused). SIGUSR1 calls listen() again with NEWBACKLOG
 * (default: half the current backlog), which resets the newest pending
 * connections beyond it; SIGUSR2 goes back to BACKLOG. Both are reported on
 * stderr with the listener's CU_BACKLOG, CU_PENDING and CU_STATS.
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
	bool listen, keep, verbose;
	int type;
	int backlog, newbacklog;	/* newbacklog 0: halve */
	long quit_ms;			/* -q; -1: wait for the peer */
	uint32_t port;
} opt = {
	.type = SOCK_STREAM,
	.backlog = 1,
	.quit_ms = -1,
};

static int family = AF_CUSTOM;
static int sigfd = -1;		/* SIGUSR1/SIGUSR2 of a listener */
static int lfd = -1;		/* the listener */
static bool stdin_eof;

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s [-u | -s] [-v] [-q SECS] PORT\n"
"       %s -l [-u | -s] [-k] [-v] [-q SECS] [-b BACKLOG] [-B NEWBACKLOG] PORT\n"
"\n"
"netcat for AF_CUSTOM: connect to PORT (or listen on it with -l) and copy\n"
"standard input to the socket and the socket to standard output.\n"
"\n"
"  -l            listen on PORT (0: an ephemeral port, printed on stderr)\n"
"  -b BACKLOG    backlog of the listener (default 1)\n"
"  -B NEWBACKLOG backlog that SIGUSR1 sets with a second listen() (default:\n"
"                half the current one); SIGUSR2 sets BACKLOG again. A shrink\n"
"                resets the newest pending connections beyond the new backlog.\n"
"  -k            keep listening: serve the next pending connection when one\n"
"                ends (without -k, cunc exits after the first; connections\n"
"                still pending then are reset)\n"
"  -u            SOCK_DGRAM: each read of stdin is one datagram; a listener\n"
"                answers the sender of the last datagram it received\n"
"  -s            SOCK_SEQPACKET: each read of stdin is one record\n"
"  -q SECS       after EOF on stdin, quit SECS seconds later (default: when\n"
"                the peer has finished sending; datagrams: never)\n"
"  -v            say what happens (connections, ports) on stderr\n"
"  -h, --help    this help\n"
"\n"
"A listener serves one connection at a time and keeps listening meanwhile,\n"
"so other clients wait in its queue: exactly BACKLOG of them, the next one\n"
"is refused at once. On EOF on stdin cunc shuts down its sending side and\n"
"goes on reading until the peer has finished too.\n"
"\n"
"exit status: 0 done; 1 other error; 2 usage; 3 refused, the listener's\n"
"queue is full; 4 refused, nobody listening (or bound, -u); 5 refused, could\n"
"not tell which; 6 connection reset; 7 af_custom.ko is not loaded.\n",
		prog, prog);
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
	if (errno == EAFNOSUPPORT) {
		msg("socket(%d, %s): %s: af_custom.ko is not loaded",
		    family, cu_type_name(opt.type), cu_errtext(errno));
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

static void on_signal(void)
{
	struct signalfd_siginfo si;
	int cur;

	while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
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

/*
 * Copy between stdin/stdout and the socket s, connected to peer_port,
 * until both directions are done (or -q says to stop). A datagram listener
 * sends stdin to the sender of the last datagram it received, and reads
 * none before the first. Returns an exit status.
 */
static int copy_loop(int s, uint32_t peer_port)
{
	bool records = opt.type != SOCK_STREAM;
	bool dgram_listener = opt.type == SOCK_DGRAM && opt.listen;
	size_t bufsz = records ? RECORD_BUF : STREAM_BUF;
	static char inbuf[STREAM_BUF], outbuf[STREAM_BUF];
	size_t outlen = 0, outoff = 0;
	bool sock_eof = false, have_dest = !dgram_listener;
	struct sockaddr_cu dest = cu_addr(family, 0);
	long long deadline = -1;
	struct pollfd p[3];
	ssize_t n;
	int timeout;

	if (stdin_eof && opt.type != SOCK_DGRAM)
		shutdown(s, SHUT_WR);
	if (stdin_eof && opt.quit_ms >= 0)
		deadline = now_ms() + opt.quit_ms;

	for (;;) {
		if (sock_eof && (stdin_eof || opt.type == SOCK_DGRAM) && !outlen)
			return 0;
		p[0].fd = sigfd;
		p[0].events = POLLIN;
		p[1].fd = (!stdin_eof && !outlen && have_dest) ? STDIN_FILENO : -1;
		p[1].events = POLLIN;
		p[2].fd = s;
		p[2].events = (sock_eof ? 0 : POLLIN) | (outlen ? POLLOUT : 0);
		timeout = -1;
		if (deadline >= 0) {
			timeout = deadline - now_ms();
			if (timeout <= 0)
				return 0;
		}
		if (poll(p, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			msg("poll: %s", cu_errtext(errno));
			return EX_FAIL;
		}
		if (p[0].revents & POLLIN)
			on_signal();
		/*
		 * POLLHUP after EOF: both directions are shut down, and not
		 * by us (stdin is still open): the peer is gone, nobody
		 * would read what we send.
		 */
		if (sock_eof && (p[2].revents & (POLLHUP | POLLERR)))
			return 0;

		if (p[2].revents & (POLLIN | POLLERR | POLLHUP) && !sock_eof) {
			struct sockaddr_cu from;
			socklen_t fromlen = sizeof(from);

			n = recvfrom(s, inbuf, records ? bufsz : sizeof(inbuf),
				     MSG_DONTWAIT, (struct sockaddr *)&from,
				     &fromlen);
			if (n > 0 || (n == 0 && opt.type == SOCK_DGRAM)) {
				if (dgram_listener) {
					if (!have_dest || dest.scu_port != from.scu_port)
						verbose("datagram from port %u", from.scu_port);
					dest = from;
					have_dest = true;
				}
				if (!write_all(STDOUT_FILENO, inbuf, n)) {
					msg("write to stdout: %s", cu_errtext(errno));
					return EX_FAIL;
				}
			} else if (n == 0) {
				sock_eof = true;
				if (p[2].revents & POLLHUP)
					return 0;
			} else if (errno == ECONNRESET) {
				return reset_error(peer_port);
			} else if (errno == ECONNREFUSED && opt.type == SOCK_DGRAM) {
				msg("port %u: %s: no datagram socket is bound to it",
				    peer_port, cu_errtext(errno));
				return EX_NOLISTENER;
			} else if (errno != EAGAIN && errno != EINTR) {
				msg("recv: %s", cu_errtext(errno));
				return EX_FAIL;
			}
		}

		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(STDIN_FILENO, outbuf, bufsz);
			if (n > 0) {
				outlen = n;
				outoff = 0;
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				if (n < 0)
					msg("read stdin: %s", cu_errtext(errno));
				stdin_eof = true;
				if (opt.type != SOCK_DGRAM)
					shutdown(s, SHUT_WR);
				if (opt.quit_ms >= 0)
					deadline = now_ms() + opt.quit_ms;
			}
		}

		if (outlen) {
			if (dgram_listener)
				n = sendto(s, outbuf, outlen, MSG_DONTWAIT | MSG_NOSIGNAL,
					   (struct sockaddr *)&dest, sizeof(dest));
			else
				n = send(s, outbuf + outoff, outlen - outoff,
					 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n >= 0) {
				outoff += n;
				if (records || outoff == outlen)
					outlen = outoff = 0;
			} else if (errno == ECONNRESET) {
				return reset_error(peer_port);
			} else if (errno == EPIPE) {
				msg("the peer closed the connection; the rest of the input was not sent: %s",
				    cu_errtext(errno));
				return EX_FAIL;
			} else if (errno == ECONNREFUSED && opt.type == SOCK_DGRAM) {
				msg("send to port %u: %s: no datagram socket is bound to it",
				    dgram_listener ? dest.scu_port : peer_port,
				    cu_errtext(errno));
				return EX_NOLISTENER;
			} else if (errno != EAGAIN && errno != EINTR) {
				msg("send: %s", cu_errtext(errno));
				return EX_FAIL;
			}
		}
	}
}

/* ---- modes ------------------------------------------------------------- */

static int do_connect(void)
{
	struct sockaddr_cu a = cu_addr(family, opt.port);
	unsigned long long f0 = 0, n0 = 0, f1 = 0, n1 = 0;
	bool counted;
	int s, err;

	s = new_socket();
	counted = read_refusals(&f0, &n0);
	if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
		err = errno;
		if (err != ECONNREFUSED) {
			msg("connect to port %u: %s", opt.port, cu_errtext(err));
			return EX_FAIL;
		}
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
	verbose("connected to port %u (%s) from port %u", opt.port,
		cu_type_name(opt.type), local_port(s));
	err = copy_loop(s, opt.port);
	close(s);
	return err;
}

static void bind_or_die(int fd)
{
	struct sockaddr_cu a = cu_addr(family, opt.port);
	int err;

	if (!bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		opt.port = local_port(fd);
		return;
	}
	err = errno;
	if (err == EADDRINUSE)
		msg("bind to port %u: %s: another %s socket is bound to it",
		    opt.port, cu_errtext(err), cu_type_name(opt.type));
	else if (err == EACCES)
		msg("bind to port %u: %s: ports 1 to %u need CAP_NET_BIND_SERVICE",
		    opt.port, cu_errtext(err), CU_PORT_PRIV_MAX);
	else
		msg("bind to port %u: %s", opt.port, cu_errtext(err));
	exit(EX_FAIL);
}

static int do_listen_dgram(void)
{
	int s = new_socket(), rc;

	bind_or_die(s);
	if (opt.verbose || !opt.port)
		msg("bound to port %u (dgram)", opt.port);
	rc = copy_loop(s, 0);
	close(s);
	return rc;
}

static int do_listen(void)
{
	struct pollfd p[2];
	int s, rc = 0;

	lfd = new_socket();
	bind_or_die(lfd);
	if (listen(lfd, opt.backlog)) {
		if (errno == EADDRINUSE)
			msg("listen on port %u: %s: another socket already listens on it",
			    opt.port, cu_errtext(errno));
		else
			msg("listen(%d) on port %u: %s", opt.backlog, opt.port,
			    cu_errtext(errno));
		return EX_FAIL;
	}
	if (opt.verbose || !opt.port)
		msg("listening on port %u (%s, backlog %d)", opt.port,
		    cu_type_name(opt.type), getopt_int(lfd, CU_BACKLOG));

	for (;;) {
		p[0].fd = sigfd;
		p[0].events = POLLIN;
		p[1].fd = lfd;
		p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			msg("poll: %s", cu_errtext(errno));
			return EX_FAIL;
		}
		if (p[0].revents & POLLIN)
			on_signal();
		if (!(p[1].revents & POLLIN))
			continue;
		s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (s < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			msg("accept: %s", cu_errtext(errno));
			return EX_FAIL;
		}
		{
			struct sockaddr_cu a;
			socklen_t len = sizeof(a);
			uint32_t peer = 0;

			if (!getpeername(s, (struct sockaddr *)&a, &len))
				peer = a.scu_port;
			verbose("connection from port %u (%d more pending)", peer,
				getopt_int(lfd, CU_PENDING));
			rc = copy_loop(s, peer);
			close(s);
			verbose("connection from port %u ended", peer);
		}
		if (!opt.keep)
			break;
	}
	close(lfd);
	return rc;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		return false;
	*v = strtoul(s, &end, 0);
	return !errno && !*end && *v <= max;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	double secs;
	char *end;
	sigset_t set;
	int c;

	while ((c = getopt_long(argc, argv, "lkusvb:B:q:h", longopts, NULL)) != -1) {
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
		case 's':
			opt.type = SOCK_SEQPACKET;
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'b':
		case 'B':
			if (!parse_uint(optarg, INT_MAX, &v) || !v) {
				msg("-%c: a backlog is a number from 1 to %d", c, INT_MAX);
				return EX_USAGE;
			}
			if (c == 'b')
				opt.backlog = v;
			else
				opt.newbacklog = v;
			break;
		case 'q':
			secs = strtod(optarg, &end);
			if (*end || secs < 0 || secs > 86400) {
				msg("-q: seconds, from 0 to 86400");
				return EX_USAGE;
			}
			opt.quit_ms = secs * 1000;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc - 1 || !parse_uint(argv[optind], UINT32_MAX, &v)) {
		if (optind == argc - 1)
			msg("PORT: a number from 0 to %u", UINT32_MAX);
		usage(stderr);
		return EX_USAGE;
	}
	opt.port = v;
	if (!opt.listen && (opt.keep || opt.newbacklog)) {
		msg("-k and -B go with -l");
		return EX_USAGE;
	}
	if (opt.type == SOCK_DGRAM && (opt.keep || opt.newbacklog)) {
		msg("-k and -B are for connections, not -u");
		return EX_USAGE;
	}

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (opt.listen && opt.type != SOCK_DGRAM) {
		sigprocmask(SIG_BLOCK, &set, NULL);
		sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
		if (sigfd < 0) {
			msg("signalfd: %s", cu_errtext(errno));
			return EX_FAIL;
		}
	} else {
		signal(SIGUSR1, SIG_IGN);
		signal(SIGUSR2, SIG_IGN);
	}
	family = cu_find_family();

	if (!opt.listen)
		return do_connect();
	if (opt.type == SOCK_DGRAM)
		return do_listen_dgram();
	return do_listen();
}
