// SPDX-License-Identifier: GPL-2.0
/*
 * docs/semantics.md §2: socket().
 *
 * SOCK_STREAM and SOCK_SEQPACKET are connection-oriented, SOCK_DGRAM is
 * connectionless, any other type is ESOCKTNOSUPPORT, a protocol other than
 * 0 is EPROTONOSUPPORT, SOCK_NONBLOCK/SOCK_CLOEXEC are honoured.
 */
#include "cu_util.h"

FIXTURE(socket)
{
	int fd;
};

CU_VARIANTS_ALL(socket);

FIXTURE_SETUP(socket)
{
	self->fd = -1;
}

FIXTURE_TEARDOWN(socket)
{
	cu_close_fd(&self->fd);
}

TEST_F(socket, create_succeeds)
{
	self->fd = cu_socket(_metadata, variant->type);
}

TEST_F(socket, so_type_is_the_requested_type)
{
	self->fd = cu_socket(_metadata, variant->type);
	ASSERT_EQ(variant->type, cu_sol_int(_metadata, self->fd, SO_TYPE));
}

TEST_F(socket, so_domain_is_af_custom)
{
	self->fd = cu_socket(_metadata, variant->type);
	ASSERT_EQ(cu_family(), cu_sol_int(_metadata, self->fd, SO_DOMAIN));
}

TEST_F(socket, so_protocol_is_zero)
{
	self->fd = cu_socket(_metadata, variant->type);
	ASSERT_EQ(0, cu_sol_int(_metadata, self->fd, SO_PROTOCOL));
}

TEST_F(socket, nonzero_protocol_eprotonosupport)
{
	static const int protos[] = { 1, 2, 6, 17, 255, 0x7fffffff, -1 };
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		fd = socket(cu_family(), variant->type, protos[i]);
		if (fd >= 0)
			close(fd);
		ASSERT_EQ(-1, fd) {
			TH_LOG("protocol %d accepted", protos[i]);
		}
		ASSERT_EQ(EPROTONOSUPPORT, errno) {
			TH_LOG("protocol %d: %s", protos[i], strerror(errno));
		}
	}
}

TEST_F(socket, sock_nonblock_sets_o_nonblock)
{
	int fl;

	self->fd = cu_socket(_metadata, variant->type);
	fl = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(0, fl & O_NONBLOCK);
	close(self->fd);

	self->fd = cu_socket(_metadata, variant->type | SOCK_NONBLOCK);
	fl = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(O_NONBLOCK, fl & O_NONBLOCK);
}

TEST_F(socket, sock_cloexec_sets_fd_cloexec)
{
	self->fd = cu_socket(_metadata, variant->type);
	ASSERT_EQ(0, fcntl(self->fd, F_GETFD) & FD_CLOEXEC);
	close(self->fd);

	self->fd = cu_socket(_metadata, variant->type | SOCK_CLOEXEC);
	ASSERT_EQ(FD_CLOEXEC, fcntl(self->fd, F_GETFD) & FD_CLOEXEC);
}

TEST_F(socket, new_socket_is_not_listening)
{
	self->fd = cu_socket(_metadata, variant->type);
	ASSERT_EQ(0, cu_sol_int(_metadata, self->fd, SO_ACCEPTCONN));
}

/* Every type the socket core passes to the family, other than the three. */
FIXTURE(socket_type)
{
	int fd;
};

FIXTURE_VARIANT(socket_type)
{
	int type;
};

FIXTURE_VARIANT_ADD(socket_type, zero)		{ .type = 0, };
FIXTURE_VARIANT_ADD(socket_type, raw)		{ .type = SOCK_RAW, };
FIXTURE_VARIANT_ADD(socket_type, rdm)		{ .type = SOCK_RDM, };
FIXTURE_VARIANT_ADD(socket_type, dccp)		{ .type = SOCK_DCCP, };
FIXTURE_VARIANT_ADD(socket_type, type7)		{ .type = 7, };
FIXTURE_VARIANT_ADD(socket_type, type8)		{ .type = 8, };
FIXTURE_VARIANT_ADD(socket_type, type9)		{ .type = 9, };
FIXTURE_VARIANT_ADD(socket_type, packet)	{ .type = SOCK_PACKET, };

FIXTURE_SETUP(socket_type)
{
	self->fd = -1;
}

FIXTURE_TEARDOWN(socket_type)
{
	cu_close_fd(&self->fd);
}

TEST_F(socket_type, unsupported_esocktnosupport)
{
	self->fd = socket(cu_family(), variant->type, 0);
	ASSERT_EQ(-1, self->fd);
	ASSERT_EQ(ESOCKTNOSUPPORT, errno) {
		TH_LOG("type %d: %s", variant->type, strerror(errno));
	}
}

TEST_F(socket_type, unsupported_with_flags_esocktnosupport)
{
	self->fd = socket(cu_family(), variant->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_EQ(-1, self->fd);
	ASSERT_EQ(ESOCKTNOSUPPORT, errno);
}

TEST_HARNESS_MAIN
