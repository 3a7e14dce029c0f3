// SPDX-License-Identifier: GPL-2.0
/*
 * docs/semantics.md §3, §4, §5, §9: network namespaces.
 *
 * A socket only sees ports of its own netns, whichever netns the calling
 * process is in later; somaxconn is read from the socket's netns; a netns
 * that dies with sockets still in it is cleaned up.
 */
#include "cu_util.h"
#include "cu_thread.h"

#define PORT	4242U

FIXTURE(netns)
{
	bool isolated;
};

CU_VARIANTS_ALL(netns);

FIXTURE_SETUP(netns)
{
	self->isolated = cu_setup();
}

FIXTURE_TEARDOWN(netns)
{
}

/* a socket waiting on PORT: a listener, or a bound DGRAM socket */
static int server(struct __test_metadata *_metadata, int type)
{
	int fd = cu_socket(_metadata, type);

	cu_bind(_metadata, fd, PORT);
	if (type != SOCK_DGRAM) {
		ASSERT_EQ(0, listen(fd, 4));
	}
	return fd;
}

static void enter_new_netns(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, unshare(CLONE_NEWNET)) {
		TH_LOG("unshare(CLONE_NEWNET): %s", strerror(errno));
	}
}

TEST_F(netns, other_netns_does_not_see_the_port)
{
	int srv, c;

	CU_REQUIRE_NETNS(self->isolated);
	srv = server(_metadata, variant->type);
	enter_new_netns(_metadata);
	c = cu_socket(_metadata, variant->type);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c, PORT));
	if (variant->type != SOCK_DGRAM) {
		ASSERT_EQ(0, cu_pending(srv));
	}
}

TEST_F(netns, other_netns_can_bind_and_use_the_same_port)
{
	int srv, srv2, c, dup;

	CU_REQUIRE_NETNS(self->isolated);
	srv = server(_metadata, variant->type);
	enter_new_netns(_metadata);
	srv2 = server(_metadata, variant->type);
	dup = cu_socket(_metadata, variant->type);
	ASSERT_EQ(EADDRINUSE, cu_try_bind(dup, PORT));
	c = cu_socket(_metadata, variant->type);
	ASSERT_EQ(0, cu_try_connect(c, PORT));
	if (variant->type != SOCK_DGRAM) {
		ASSERT_EQ(1, cu_pending(srv2));
		ASSERT_EQ(0, cu_pending(srv));
	}
}

TEST_F(netns, socket_keeps_the_netns_it_was_created_in)
{
	int srv, c;

	CU_REQUIRE_NETNS(self->isolated);
	srv = server(_metadata, variant->type);
	c = cu_socket(_metadata, variant->type);
	enter_new_netns(_metadata);
	/* created before the unshare: still sees the old netns's port */
	ASSERT_EQ(0, cu_try_connect(c, PORT));
	if (variant->type != SOCK_DGRAM) {
		ASSERT_EQ(1, cu_pending(srv));
	}
}

TEST_F(netns, autobind_ports_are_per_netns)
{
	int a, b;

	CU_REQUIRE_NETNS(self->isolated);
	a = cu_socket(_metadata, variant->type);
	cu_bind(_metadata, a, CU_PORT_ANY);
	enter_new_netns(_metadata);
	b = cu_socket(_metadata, variant->type);
	/* the port taken in the first netns is free here */
	ASSERT_EQ(0, cu_try_bind(b, cu_local_port(_metadata, a)));
}

/* a netns dies with a listener, pending and accepted connections in it */
TEST_F(netns, netns_exit_with_open_sockets)
{
	pid_t pid;
	int i;

	CU_REQUIRE_NETNS(self->isolated);
	for (i = 0; i < 3; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			int srv, c;

			alarm(CU_CHILD_SECS);
			if (unshare(CLONE_NEWNET))
				_exit(2);
			srv = socket(cu_family(), variant->type, 0);
			if (srv < 0 || cu_try_bind(srv, PORT))
				_exit(3);
			if (variant->type == SOCK_DGRAM) {
				c = socket(cu_family(), SOCK_DGRAM, 0);
				if (c < 0 || cu_try_connect(c, PORT))
					_exit(4);
				_exit(0);
			}
			if (listen(srv, 4))
				_exit(5);
			c = socket(cu_family(), variant->type, 0);
			if (c < 0 || cu_try_connect(c, PORT) ||
			    send(c, "x", 1, MSG_NOSIGNAL) != 1)
				_exit(6);
			if (accept(srv, NULL, NULL) < 0)
				_exit(7);
			c = socket(cu_family(), variant->type, 0);
			if (c < 0 || cu_try_connect(c, PORT))
				_exit(8);
			_exit(0);	/* nothing closed by hand */
		}
		cu_expect_exit0(_metadata, pid);
	}
}

/* ---- somaxconn: listening types only ---------------------------------- */

FIXTURE(netns_listen)
{
	bool isolated;
};

CU_VARIANTS_CONNECTED(netns_listen);

FIXTURE_SETUP(netns_listen)
{
	self->isolated = cu_setup();
}

FIXTURE_TEARDOWN(netns_listen)
{
}

TEST_F(netns_listen, backlog_clamped_by_somaxconn_of_the_socket_netns)
{
	int old, young;

	CU_REQUIRE_NETNS(self->isolated);
	ASSERT_EQ(0, cu_set_somaxconn(3));
	old = cu_socket(_metadata, variant->type);
	cu_bind(_metadata, old, PORT);
	enter_new_netns(_metadata);
	ASSERT_LT(3, cu_somaxconn());
	young = cu_socket(_metadata, variant->type);
	cu_bind(_metadata, young, PORT);

	/* called from the new netns: each socket uses its own netns's value */
	ASSERT_EQ(0, listen(old, 10));
	ASSERT_EQ(3, cu_backlog(old));
	ASSERT_EQ(0, listen(young, 10));
	ASSERT_EQ(10, cu_backlog(young));
}

TEST_HARNESS_MAIN
