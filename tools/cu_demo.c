// SPDX-License-Identifier: GPL-2.0
/*
 * cu_demo: shows, in plain words, what makes AF_CUSTOM's listen() different:
 * a real queue of `backlog` connections, refused at once when full, and a
 * second listen() that shrinks it by resetting the newest pending
 * connections (the Windows Sockets rule). docs/semantics.md sections 4 to 7.
 *
 * Every step is also checked: the exit status is 1 when anything differs
 * from the contract, so `make demo` doubles as a smoke test.
 *
 * Needs af_custom.ko loaded; runs as any user (the port is not privileged).
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <linux/af_custom.h>
#include "cu_tool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PORT		5000
#define BACKLOG		4
#define SHRUNK		2
#define NCLIENTS	6
#define WATCHDOG_SECS	20

static int family = AF_CUSTOM;
static int deviations;

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "unknown errno";
}

/* Report a difference from the contract and carry on. */
static void unexpected(const char *fmt, ...)
{
	va_list ap;

	deviations++;
	printf("    UNEXPECTED: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void die(const char *what)
{
	printf("    UNEXPECTED: %s failed: %s (%s)\n", what, errname(errno),
	       strerror(errno));
	printf("\nResult: the demo could not go on.\n");
	exit(1);
}

static void on_alarm(int sig)
{
	static const char msg[] =
		"    UNEXPECTED: a call blocked for too long; giving up.\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static unsigned int local_port(int fd)
{
	struct sockaddr_cu addr;
	socklen_t len = sizeof(addr);

	if (getsockname(fd, (struct sockaddr *)&addr, &len))
		die("getsockname()");
	return addr.scu_port;
}

static unsigned int peer_port(int fd)
{
	struct sockaddr_cu addr;
	socklen_t len = sizeof(addr);

	if (getpeername(fd, (struct sockaddr *)&addr, &len))
		die("getpeername()");
	return addr.scu_port;
}

static int get_int_opt(int fd, int opt, const char *name)
{
	int val = -1;
	socklen_t len = sizeof(val);

	if (getsockopt(fd, SOL_CUSTOM, opt, &val, &len))
		die(name);
	return val;
}

static void show_queue(int srv, int want_backlog, int want_pending)
{
	int backlog = get_int_opt(srv, CU_BACKLOG, "getsockopt(CU_BACKLOG)");
	int pending = get_int_opt(srv, CU_PENDING, "getsockopt(CU_PENDING)");

	printf("  Server: getsockopt CU_PENDING = %d, CU_BACKLOG = %d\n",
	       pending, backlog);
	if (backlog != want_backlog)
		unexpected("CU_BACKLOG should be %d", want_backlog);
	if (pending != want_pending)
		unexpected("CU_PENDING should be %d", want_pending);
}

static void message_for(int client, char *buf, size_t size)
{
	snprintf(buf, size, "hello from client %d", client);
}

static int start_server(void)
{
	struct sockaddr_cu addr = cu_addr(family, PORT);
	int srv = socket(family, SOCK_STREAM, 0);

	if (srv < 0) {
		if (errno == EAFNOSUPPORT)
			printf("AF_CUSTOM (family %d) is not available: is af_custom.ko loaded?\n",
			       family);
		die("socket(AF_CUSTOM, SOCK_STREAM)");
	}
	if (bind(srv, (struct sockaddr *)&addr, sizeof(addr)))
		die("bind()");
	if (listen(srv, BACKLOG))
		die("listen()");
	printf("Server: socket(AF_CUSTOM, SOCK_STREAM), bound to port %d, listen(backlog %d)\n",
	       PORT, BACKLOG);
	printf("  The queue now holds at most %d connections that wait for accept().\n",
	       BACKLOG);
	return srv;
}

/*
 * Connect NCLIENTS clients without accepting: the first BACKLOG are queued,
 * the rest refused at once. Returns the client fds (-1 when refused) and
 * their ports.
 */
static void connect_clients(int fds[], unsigned int ports[])
{
	struct sockaddr_cu addr = cu_addr(family, PORT);
	int i, ret;

	printf("\n%d clients connect; nobody calls accept() yet:\n", NCLIENTS);
	for (i = 0; i < NCLIENTS; i++) {
		int fd = socket(family, SOCK_STREAM, 0);

		if (fd < 0)
			die("socket() for a client");
		ret = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
		if (ret == 0) {
			ports[i] = local_port(fd);
			fds[i] = fd;
			printf("  client %d (port %u): connect() returned 0 at once: queued, %d of %d\n",
			       i + 1, ports[i], i + 1, BACKLOG);
			if (i >= BACKLOG)
				unexpected("the queue is full, connect() should fail with ECONNREFUSED");
			continue;
		}
		printf("  client %d: connect() failed at once: %s (the queue is full)\n",
		       i + 1, errname(errno));
		if (i < BACKLOG || errno != ECONNREFUSED)
			unexpected("expected %s", i < BACKLOG ? "success" : "ECONNREFUSED");
		close(fd);
		fds[i] = -1;
	}
	printf("  (Linux TCP would silently drop the extra SYNs and retry; an AF_UNIX\n"
	       "   connect() would block until there is room.)\n");
}

static void send_messages(int fds[])
{
	char msg[64];
	int i;

	printf("\nThe queued clients send a message before they are accepted:\n");
	for (i = 0; i < BACKLOG; i++) {
		if (fds[i] < 0)
			continue;
		message_for(i + 1, msg, sizeof(msg));
		if (send(fds[i], msg, strlen(msg), MSG_NOSIGNAL) != (ssize_t)strlen(msg))
			die("send()");
		printf("  client %d sent \"%s\"\n", i + 1, msg);
	}
}

/* What a client whose pending connection was reset sees, step by step. */
static void show_reset_client(int client, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
	char buf[64];
	ssize_t n;

	if (poll(&pfd, 1, 1000) < 0)
		die("poll()");
	printf("  client %d: poll() reports%s%s%s\n", client,
	       pfd.revents & POLLERR ? " POLLERR" : "",
	       pfd.revents & POLLHUP ? " POLLHUP" : "",
	       pfd.revents & (POLLERR | POLLHUP) ? "" : " neither POLLERR nor POLLHUP");
	if ((pfd.revents & (POLLERR | POLLHUP)) != (POLLERR | POLLHUP))
		unexpected("poll() should report POLLERR and POLLHUP");

	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		printf("  client %d: recv() failed: %s (reset by the shrink)\n",
		       client, errname(errno));
	else
		printf("  client %d: recv() returned %zd\n", client, n);
	if (n >= 0 || errno != ECONNRESET)
		unexpected("the first recv() should fail with ECONNRESET");

	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		printf("  client %d: recv() again failed: %s\n", client, errname(errno));
	else
		printf("  client %d: recv() again returned %zd (end of stream)\n", client, n);
	if (n != 0)
		unexpected("after the reset, recv() should return 0");

	n = send(fd, "x", 1, MSG_NOSIGNAL);
	if (n < 0)
		printf("  client %d: send() failed: %s\n", client, errname(errno));
	else
		printf("  client %d: send() returned %zd\n", client, n);
	if (n >= 0 || errno != EPIPE)
		unexpected("send() after the reset should fail with EPIPE");
}

static void shrink_backlog(int srv, int fds[])
{
	int i;

	printf("\nServer calls listen(%d) on the listening socket: the backlog shrinks\n"
	       "from %d to %d, so the %d newest pending connections are reset:\n",
	       SHRUNK, BACKLOG, SHRUNK, BACKLOG - SHRUNK);
	if (listen(srv, SHRUNK))
		die("listen() again");
	show_queue(srv, SHRUNK, SHRUNK);
	for (i = SHRUNK; i < BACKLOG; i++)
		if (fds[i] >= 0)
			show_reset_client(i + 1, fds[i]);
	printf("  (On Linux TCP or AF_UNIX a second listen() only changes the limit;\n"
	       "   nothing is reset.)\n");
}

static int client_with_port(const unsigned int ports[], const int fds[],
			    unsigned int port)
{
	int i;

	for (i = 0; i < NCLIENTS; i++)
		if (fds[i] >= 0 && ports[i] == port)
			return i + 1;
	return 0;
}

static void accept_survivors(int srv, const int fds[], const unsigned int ports[])
{
	char want[64], buf[64];
	int i, fd, client;
	size_t got;
	ssize_t n;

	printf("\nServer accepts the survivors, oldest first:\n");
	for (i = 0; i < SHRUNK; i++) {
		fd = accept(srv, NULL, NULL);
		if (fd < 0)
			die("accept()");
		client = client_with_port(ports, fds, peer_port(fd));
		message_for(i + 1, want, sizeof(want));
		for (got = 0; got < strlen(want); got += n) {
			n = recv(fd, buf + got, strlen(want) - got, 0);
			if (n <= 0)
				break;
		}
		buf[got] = '\0';
		printf("  accept() gave client %d; it had sent \"%s\"\n", client, buf);
		if (client != i + 1)
			unexpected("accept() should give client %d (FIFO order)", i + 1);
		if (strcmp(buf, want))
			unexpected("the message should be \"%s\"", want);
		close(fd);
	}

	if (fcntl(srv, F_SETFL, O_NONBLOCK))
		die("fcntl(O_NONBLOCK)");
	fd = accept(srv, NULL, NULL);
	if (fd >= 0) {
		printf("  accept() once more gave another connection\n");
		unexpected("the queue should be empty");
		close(fd);
	} else {
		printf("  accept() once more (non-blocking): %s, the queue is empty\n",
		       errname(errno));
		if (errno != EAGAIN)
			unexpected("expected EAGAIN");
	}
}

static void check_counter(const char *name, unsigned long long got,
			  unsigned long long want)
{
	if (got != want)
		unexpected("%s should be %llu", name, want);
}

static void show_stats(int srv)
{
	struct cu_listen_stats st;
	socklen_t len = sizeof(st);

	memset(&st, 0, sizeof(st));
	if (getsockopt(srv, SOL_CUSTOM, CU_STATS, &st, &len))
		die("getsockopt(CU_STATS)");
	printf("\nListener counters (getsockopt CU_STATS):\n"
	       "  queued %llu, accepted %llu, refused_full %llu, reset_shrink %llu, reset_close %llu\n",
	       (unsigned long long)st.queued, (unsigned long long)st.accepted,
	       (unsigned long long)st.refused_full,
	       (unsigned long long)st.reset_shrink,
	       (unsigned long long)st.reset_close);
	check_counter("queued", st.queued, BACKLOG);
	check_counter("accepted", st.accepted, SHRUNK);
	check_counter("refused_full", st.refused_full, NCLIENTS - BACKLOG);
	check_counter("reset_shrink", st.reset_shrink, BACKLOG - SHRUNK);
	check_counter("reset_close", st.reset_close, 0);
}

int main(void)
{
	unsigned int ports[NCLIENTS] = { 0 };
	int fds[NCLIENTS];
	int srv, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	alarm(WATCHDOG_SECS);
	family = cu_find_family();

	printf("AF_CUSTOM demo: listen() with the Windows Sockets semantics (family %d)\n\n",
	       family);
	srv = start_server();
	show_queue(srv, BACKLOG, 0);
	connect_clients(fds, ports);
	send_messages(fds);
	show_queue(srv, BACKLOG, BACKLOG);
	shrink_backlog(srv, fds);
	accept_survivors(srv, fds, ports);
	show_stats(srv);

	for (i = 0; i < NCLIENTS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(srv);

	if (deviations) {
		printf("\nResult: %d thing(s) above differ from the AF_CUSTOM contract.\n",
		       deviations);
		return 1;
	}
	printf("\nResult: everything happened as the AF_CUSTOM contract says.\n");
	return 0;
}
