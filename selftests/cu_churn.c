// SPDX-License-Identifier: GPL-2.0
/*
 * Helper for cu_cycles.sh (not a test by itself).
 *
 *   cu_churn FAMILY [netns]
 *
 * Create one of every kind of AF_CUSTOM object and close them all with
 * something still in flight: a STREAM and a SEQPACKET listener, each with
 * an accepted connection holding unread data in both directions and a
 * pending connection that was never accepted, and a bound DGRAM socket
 * with an unread datagram. With "netns", all of it lives in a new network
 * namespace, which dies with the process. Exit 0 when every call worked,
 * 1 (with a message) otherwise, 2 for EAFNOSUPPORT (family not registered).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/af_custom.h>

static int family;

static void fail(const char *what)
{
	fprintf(stderr, "cu_churn: %s: %s\n", what, strerror(errno));
	exit(errno == EAFNOSUPPORT ? 2 : 1);
}

static int sock(int type)
{
	int fd = socket(family, type, 0);

	if (fd < 0)
		fail("socket");
	return fd;
}

static void to(int fd, __u32 port, bool do_bind)
{
	struct sockaddr_cu a = { .scu_family = family, .scu_port = port };

	if (do_bind ? bind(fd, (struct sockaddr *)&a, sizeof(a)) :
		      connect(fd, (struct sockaddr *)&a, sizeof(a)))
		fail(do_bind ? "bind" : "connect");
}

static __u32 port_of(int fd)
{
	struct sockaddr_cu a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len))
		fail("getsockname");
	return a.scu_port;
}

static void say(int fd, const char *s)
{
	if (send(fd, s, strlen(s), MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)strlen(s))
		fail("send");
}

static void connection_kinds(int type)
{
	int l = sock(type), c1, c2, a;
	__u32 port;

	to(l, CU_PORT_ANY, true);
	if (listen(l, 4))
		fail("listen");
	port = port_of(l);
	c1 = sock(type);
	to(c1, port, false);
	say(c1, "to the server, unread");
	a = accept(l, NULL, NULL);
	if (a < 0)
		fail("accept");
	say(a, "to the client, unread");
	c2 = sock(type);
	to(c2, port, false);
	say(c2, "pending, never accepted");
	/* close in an order that leaves data and a queue to tear down */
	close(c1);
	close(l);
	close(a);
	close(c2);
}

int main(int argc, char **argv)
{
	int rx, tx;

	if (argc < 2) {
		fprintf(stderr, "usage: cu_churn FAMILY [netns]\n");
		return 1;
	}
	family = atoi(argv[1]);
	if (argc > 2 && !strcmp(argv[2], "netns") && unshare(CLONE_NEWNET))
		fail("unshare(CLONE_NEWNET)");
	connection_kinds(SOCK_STREAM);
	connection_kinds(SOCK_SEQPACKET);
	rx = sock(SOCK_DGRAM);
	to(rx, CU_PORT_ANY, true);
	tx = sock(SOCK_DGRAM);
	to(tx, port_of(rx), false);
	say(tx, "datagram, unread");
	close(tx);
	close(rx);
	return 0;
}
