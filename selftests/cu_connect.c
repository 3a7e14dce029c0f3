// SPDX-License-Identifier: GPL-2.0
/*
 * docs/semantics.md §5: connect().
 *
 * To a listener with room: 0 at once (blocking or not), queued, and the
 * client may send before accept. No listener or a full queue: ECONNREFUSED
 * at once, even blocking (refused_full counts the latter). EISCONN, EINVAL
 * for a listener, autobind, address errors as for bind. SOCK_DGRAM sets the
 * default peer, ECONNREFUSED if no DGRAM socket is bound to the port.
 */
#include "cu_util.h"
#include "cu_msg.h"

#define PORT		4100U
#define NOBODY_PORT	4199U	/* nothing is bound here */
#define BACKLOG		4

#define cu_connect_raw(fd, family, reserved, port, len)			\
	cu_try_raw((fd), true, (family), (reserved), (port), (len))

FIXTURE(connect)
{
	int lfd;
	__u32 port;
};

FIXTURE_VARIANT(connect)
{
	int type;
	int other_type;		/* the other connection-oriented type */
};

FIXTURE_VARIANT_ADD(connect, stream)
{
	.type = SOCK_STREAM,
	.other_type = SOCK_SEQPACKET,
};

FIXTURE_VARIANT_ADD(connect, seqpacket)
{
	.type = SOCK_SEQPACKET,
	.other_type = SOCK_STREAM,
};

FIXTURE_SETUP(connect)
{
	cu_setup();
	self->lfd = cu_listener(_metadata, variant->type, PORT, BACKLOG, &self->port);
}

FIXTURE_TEARDOWN(connect)
{
	close(self->lfd);
}

TEST_F(connect, returns_zero_at_once_and_queues)
{
	struct cu_listen_stats st;
	int c = cu_socket(_metadata, variant->type);
	long long t0;

	cu_set_timeo(_metadata, c, SO_SNDTIMEO, CU_WAIT_MS);
	t0 = cu_now_ms();
	ASSERT_EQ(0, cu_try_connect(c, self->port));
	ASSERT_GT(CU_AT_ONCE_MS, cu_now_ms() - t0);
	ASSERT_EQ(1, cu_pending(self->lfd));
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(1ULL, st.queued);
	ASSERT_EQ(0ULL, st.accepted);
	cu_expect_healthy(_metadata, c);
}

TEST_F(connect, nonblocking_returns_zero_not_einprogress)
{
	int c = cu_socket(_metadata, variant->type | SOCK_NONBLOCK);
	int err = cu_try_connect(c, self->port);

	ASSERT_EQ(0, err) {
		TH_LOG("non-blocking connect: %s", strerror(err));
	}
	ASSERT_EQ(1, cu_pending(self->lfd));
	ASSERT_EQ(0, cu_sol_int(_metadata, c, SO_ERROR));
}

TEST_F(connect, client_sends_before_accept)
{
	int c = cu_client(_metadata, variant->type, self->port);
	int a;

	ASSERT_EQ(5, send(c, "early", 5, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(1, cu_pending(self->lfd));
	a = cu_accept(_metadata, self->lfd);
	cu_expect_data(_metadata, a, "early");
	cu_send_str(_metadata, a, "late");
	cu_expect_data(_metadata, c, "late");
}

TEST_F(connect, data_before_accept_bounded_by_buffers)
{
	int c = cu_client(_metadata, variant->type, self->port);
	int a, val = 4096;
	size_t total;

	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_SNDBUF, &val, sizeof(val)));
	total = cu_send_until_eagain(_metadata, c, false, 16u << 20);
	ASSERT_LT(0u, total);
	a = cu_accept(_metadata, self->lfd);
	cu_drain(_metadata, a, total);
	/* and the client can send again */
	cu_send_str(_metadata, c, "again");
	cu_expect_data(_metadata, a, "again");
}

TEST_F(connect, no_listener_econnrefused)
{
	cu_expect_refused(_metadata, variant->type, NOBODY_PORT);
}

TEST_F(connect, bound_but_not_listening_econnrefused)
{
	int b = cu_socket(_metadata, variant->type);

	cu_bind(_metadata, b, NOBODY_PORT);
	cu_expect_refused(_metadata, variant->type, NOBODY_PORT);
}

TEST_F(connect, full_queue_econnrefused_at_once)
{
	struct cu_listen_stats st;
	int i, c;

	for (i = 0; i < BACKLOG; i++)
		cu_client(_metadata, variant->type, self->port);
	cu_expect_refused(_metadata, variant->type, self->port);
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(1ULL, st.refused_full);
	ASSERT_EQ((__u64)BACKLOG, st.queued);

	c = cu_socket(_metadata, variant->type | SOCK_NONBLOCK);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c, self->port));
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(2ULL, st.refused_full);
	ASSERT_EQ(BACKLOG, cu_pending(self->lfd));
}

TEST_F(connect, no_listener_is_not_refused_full)
{
	struct cu_listen_stats st;

	cu_expect_refused(_metadata, variant->type, NOBODY_PORT);
	cu_stats(_metadata, self->lfd, &st);
	ASSERT_EQ(0ULL, st.refused_full);
}

TEST_F(connect, already_connected_eisconn)
{
	int l2 = cu_listener(_metadata, variant->type, PORT + 1, 4, NULL);
	int c = cu_client(_metadata, variant->type, self->port);

	ASSERT_EQ(EISCONN, cu_try_connect(c, self->port));
	ASSERT_EQ(EISCONN, cu_try_connect(c, PORT + 1));
	ASSERT_EQ(1, cu_pending(self->lfd));
	ASSERT_EQ(0, cu_pending(l2));
}

TEST_F(connect, accepted_socket_eisconn)
{
	int a;

	cu_client(_metadata, variant->type, self->port);
	a = cu_accept(_metadata, self->lfd);
	ASSERT_EQ(EISCONN, cu_try_connect(a, self->port));
}

TEST_F(connect, listening_socket_einval)
{
	int l2 = cu_listener(_metadata, variant->type, PORT + 1, 4, NULL);

	ASSERT_EQ(EINVAL, cu_try_connect(l2, self->port));
	ASSERT_EQ(EINVAL, cu_try_connect(self->lfd, self->port));
	ASSERT_EQ(0, cu_pending(self->lfd));
	ASSERT_EQ(0, cu_pending(l2));
}

TEST_F(connect, unbound_client_is_autobound)
{
	int c = cu_client(_metadata, variant->type, self->port);
	__u32 p = cu_local_port(_metadata, c);
	int a;

	ASSERT_LE(CU_PORT_EPHEMERAL, p);
	ASSERT_EQ(self->port, cu_peer_port(_metadata, c));
	a = cu_accept(_metadata, self->lfd);
	ASSERT_EQ(p, cu_peer_port(_metadata, a));
}

TEST_F(connect, autobound_client_cannot_bind)
{
	int c = cu_client(_metadata, variant->type, self->port);

	ASSERT_EQ(EINVAL, cu_try_bind(c, 7000));
}

TEST_F(connect, bound_client_keeps_its_port)
{
	int c = cu_socket(_metadata, variant->type);
	int a;

	cu_bind(_metadata, c, 7000);
	ASSERT_EQ(0, cu_try_connect(c, self->port));
	ASSERT_EQ(7000U, cu_local_port(_metadata, c));
	a = cu_accept(_metadata, self->lfd);
	ASSERT_EQ(7000U, cu_peer_port(_metadata, a));
}

TEST_F(connect, short_addrlen_einval)
{
	static const socklen_t lens[] = { 0, 2, 4, 7 };
	int c = cu_socket(_metadata, variant->type);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(EINVAL, cu_connect_raw(c, cu_family(), 0, self->port, lens[i])) {
			TH_LOG("addrlen %u", lens[i]);
		}
	}
	ASSERT_EQ(0, cu_pending(self->lfd));
}

TEST_F(connect, wrong_family_eafnosupport)
{
	/* AF_UNSPEC left out: other families give it a "disconnect" meaning */
	const int families[] = { AF_UNIX, AF_INET, AF_INET6, cu_family() + 1 };
	int c = cu_socket(_metadata, variant->type);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(families); i++) {
		ASSERT_EQ(EAFNOSUPPORT, cu_connect_raw(c, families[i], 0, self->port,
						    sizeof(struct sockaddr_cu))) {
			TH_LOG("scu_family %d", families[i]);
		}
	}
	ASSERT_EQ(0, cu_pending(self->lfd));
}

TEST_F(connect, reserved_nonzero_einval)
{
	int c = cu_socket(_metadata, variant->type);

	ASSERT_EQ(EINVAL, cu_connect_raw(c, cu_family(), 1, self->port,
				      sizeof(struct sockaddr_cu)));
	ASSERT_EQ(0, cu_pending(self->lfd));
	/* nothing happened: the same socket can connect properly */
	ASSERT_EQ(0, cu_try_connect(c, self->port));
}

TEST_F(connect, listener_of_other_type_econnrefused)
{
	int l2 = cu_listener(_metadata, variant->other_type, PORT + 1, 4, NULL);
	int c;

	/* this type to a listener of the other type */
	cu_expect_refused(_metadata, variant->type, PORT + 1);
	/* the other type to this type's listener */
	c = cu_socket(_metadata, variant->other_type);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(c, self->port));
	ASSERT_EQ(0, cu_pending(self->lfd));
	ASSERT_EQ(0, cu_pending(l2));
}

TEST_F(connect, dgram_socket_on_port_econnrefused)
{
	int d = cu_socket(_metadata, SOCK_DGRAM);

	cu_bind(_metadata, d, PORT + 2);
	cu_expect_refused(_metadata, variant->type, PORT + 2);
}

/* ---- SOCK_DGRAM ------------------------------------------------------------ */

FIXTURE(connect_dgram)
{
	int fd;
};

FIXTURE_SETUP(connect_dgram)
{
	cu_setup();
	self->fd = cu_socket(_metadata, SOCK_DGRAM);
}

FIXTURE_TEARDOWN(connect_dgram)
{
	close(self->fd);
}

TEST_F(connect_dgram, unbound_port_econnrefused)
{
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(self->fd, NOBODY_PORT));
}

TEST_F(connect_dgram, bound_port_sets_default_peer)
{
	int d = cu_socket(_metadata, SOCK_DGRAM);

	cu_bind(_metadata, d, PORT);
	ASSERT_EQ(0, cu_try_connect(self->fd, PORT));
	ASSERT_EQ(PORT, cu_peer_port(_metadata, self->fd));
}

TEST_F(connect_dgram, stream_listener_only_econnrefused)
{
	cu_listener(_metadata, SOCK_STREAM, PORT, 4, NULL);
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(self->fd, PORT));
}

TEST_F(connect_dgram, wrong_family_eafnosupport)
{
	int d = cu_socket(_metadata, SOCK_DGRAM);

	cu_bind(_metadata, d, PORT);
	ASSERT_EQ(EAFNOSUPPORT, cu_connect_raw(self->fd, AF_INET, 0, PORT,
					    sizeof(struct sockaddr_cu)));
}

TEST_F(connect_dgram, short_addrlen_einval)
{
	int d = cu_socket(_metadata, SOCK_DGRAM);

	cu_bind(_metadata, d, PORT);
	ASSERT_EQ(EINVAL, cu_connect_raw(self->fd, cu_family(), 0, PORT, 4));
}

TEST_HARNESS_MAIN
