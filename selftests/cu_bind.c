// SPDX-License-Identifier: GPL-2.0
/*
 * docs/semantics.md §3: bind().
 *
 * Address checks (EINVAL, EAFNOSUPPORT), the per-type per-netns port table
 * (EADDRINUSE, SO_REUSEADDR twins), "already bound" before everything else
 * (EINVAL), CAP_NET_BIND_SERVICE in the netns owner's user namespace for
 * 1..1023 (EACCES), CU_PORT_ANY picking ports >= CU_PORT_EPHEMERAL.
 */
#include "cu_util.h"
#include <sys/syscall.h>
#include <linux/capability.h>

#define PORT		5000U
#define PORT2		5001U

#define cu_bind_raw(fd, family, reserved, port, len)			\
	cu_try_raw((fd), false, (family), (reserved), (port), (len))

/* this process's capability sets into hdr and data[2]; 0 or -errno */
static int cu_capget(struct __user_cap_header_struct *hdr,
		     struct __user_cap_data_struct *data)
{
	hdr->version = _LINUX_CAPABILITY_VERSION_3;
	hdr->pid = 0;
	return syscall(SYS_capget, hdr, data) ? -errno : 0;
}

/* drop one capability from the effective, permitted and inheritable sets */
static int cu_drop_cap(int cap)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	int err = cu_capget(&hdr, data);

	if (err)
		return err;
	data[cap / 32].effective &= ~(1U << (cap % 32));
	data[cap / 32].permitted &= ~(1U << (cap % 32));
	data[cap / 32].inheritable &= ~(1U << (cap % 32));
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

static bool cu_has_cap(int cap)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];

	if (cu_capget(&hdr, data))
		return false;
	return data[cap / 32].effective & (1U << (cap % 32));
}

FIXTURE(bind)
{
	int fd;
	bool isolated;
};

FIXTURE_VARIANT(bind)
{
	int type;
	int other_type;		/* a different type, for "same port, other type" */
};

FIXTURE_VARIANT_ADD(bind, stream)
{
	.type = SOCK_STREAM,
	.other_type = SOCK_DGRAM,
};

FIXTURE_VARIANT_ADD(bind, seqpacket)
{
	.type = SOCK_SEQPACKET,
	.other_type = SOCK_STREAM,
};

FIXTURE_VARIANT_ADD(bind, dgram)
{
	.type = SOCK_DGRAM,
	.other_type = SOCK_STREAM,
};

FIXTURE_SETUP(bind)
{
	self->isolated = cu_setup();
	self->fd = cu_socket(_metadata, variant->type);
}

FIXTURE_TEARDOWN(bind)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int reuse_socket(struct __test_metadata *_metadata, int type, bool reuse)
{
	int fd = cu_socket(_metadata, type);
	int one = 1;

	if (reuse)
		ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	return fd;
}

TEST_F(bind, getsockname_shows_the_bound_port)
{
	ASSERT_EQ(0, cu_try_bind(self->fd, PORT));
	ASSERT_EQ(PORT, cu_local_port(_metadata, self->fd));
}

TEST_F(bind, short_addrlen_einval)
{
	static const socklen_t lens[] = { 0, 1, 2, 4, 7 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(EINVAL, cu_bind_raw(self->fd, cu_family(), 0, PORT, lens[i])) {
			TH_LOG("addrlen %u", lens[i]);
		}
	}
	/* nothing was bound by the failures */
	ASSERT_EQ(0, cu_try_bind(self->fd, PORT));
}

TEST_F(bind, long_addrlen_accepted)
{
	ASSERT_EQ(0, cu_bind_raw(self->fd, cu_family(), 0, PORT,
			      sizeof(struct sockaddr_storage)));
	ASSERT_EQ(PORT, cu_local_port(_metadata, self->fd));
}

TEST_F(bind, wrong_family_eafnosupport)
{
	const int families[] = { AF_UNSPEC, AF_UNIX, AF_INET, AF_INET6,
				 cu_family() + 1 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(families); i++) {
		ASSERT_EQ(EAFNOSUPPORT, cu_bind_raw(self->fd, families[i], 0, PORT,
						 sizeof(struct sockaddr_cu))) {
			TH_LOG("scu_family %d", families[i]);
		}
	}
	ASSERT_EQ(0, cu_try_bind(self->fd, PORT));
}

TEST_F(bind, reserved_nonzero_einval)
{
	static const int reserved[] = { 1, 0x8000, 0xffff };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(reserved); i++) {
		ASSERT_EQ(EINVAL, cu_bind_raw(self->fd, cu_family(), reserved[i], PORT,
					   sizeof(struct sockaddr_cu))) {
			TH_LOG("scu_reserved %#x", reserved[i]);
		}
	}
	ASSERT_EQ(0, cu_try_bind(self->fd, PORT));
}

TEST_F(bind, short_addrlen_checked_before_family)
{
	ASSERT_EQ(EINVAL, cu_bind_raw(self->fd, AF_INET, 0, PORT, 4));
}

TEST_F(bind, family_checked_before_reserved)
{
	ASSERT_EQ(EAFNOSUPPORT, cu_bind_raw(self->fd, AF_INET, 1, PORT,
					 sizeof(struct sockaddr_cu)));
}

TEST_F(bind, port_in_use_same_type_eaddrinuse)
{
	int fd2 = cu_socket(_metadata, variant->type);

	ASSERT_EQ(0, cu_try_bind(self->fd, PORT));
	ASSERT_EQ(EADDRINUSE, cu_try_bind(fd2, PORT));
	/* the failed bind left fd2 unbound */
	ASSERT_EQ(0, cu_try_bind(fd2, PORT2));
}

TEST_F(bind, port_in_use_by_other_type_ok)
{
	int fd2 = cu_socket(_metadata, variant->other_type);

	ASSERT_EQ(0, cu_try_bind(self->fd, PORT));
	ASSERT_EQ(0, cu_try_bind(fd2, PORT));
	ASSERT_EQ(PORT, cu_local_port(_metadata, fd2));
}

TEST_F(bind, port_freed_by_close)
{
	int fd2 = cu_socket(_metadata, variant->type);

	ASSERT_EQ(0, cu_try_bind(self->fd, PORT));
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, cu_try_bind(fd2, PORT));
}

TEST_F(bind, reuseaddr_both_before_bind_ok)
{
	int a = reuse_socket(_metadata, variant->type, true);
	int b = reuse_socket(_metadata, variant->type, true);

	ASSERT_EQ(0, cu_try_bind(a, PORT));
	ASSERT_EQ(0, cu_try_bind(b, PORT));
	ASSERT_EQ(PORT, cu_local_port(_metadata, b));
}

TEST_F(bind, reuseaddr_on_second_only_eaddrinuse)
{
	int a = reuse_socket(_metadata, variant->type, false);
	int b = reuse_socket(_metadata, variant->type, true);

	ASSERT_EQ(0, cu_try_bind(a, PORT));
	ASSERT_EQ(EADDRINUSE, cu_try_bind(b, PORT));
}

TEST_F(bind, reuseaddr_on_first_only_eaddrinuse)
{
	int a = reuse_socket(_metadata, variant->type, true);
	int b = reuse_socket(_metadata, variant->type, false);

	ASSERT_EQ(0, cu_try_bind(a, PORT));
	ASSERT_EQ(EADDRINUSE, cu_try_bind(b, PORT));
}

TEST_F(bind, reuseaddr_set_after_bind_eaddrinuse)
{
	int a = reuse_socket(_metadata, variant->type, false);
	int b = reuse_socket(_metadata, variant->type, true);
	int one = 1;

	ASSERT_EQ(0, cu_try_bind(a, PORT));
	ASSERT_EQ(0, setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	ASSERT_EQ(EADDRINUSE, cu_try_bind(b, PORT));
}

TEST_F(bind, reuseaddr_third_without_it_eaddrinuse)
{
	int a = reuse_socket(_metadata, variant->type, true);
	int b = reuse_socket(_metadata, variant->type, true);
	int c = reuse_socket(_metadata, variant->type, false);
	int d = reuse_socket(_metadata, variant->type, true);

	ASSERT_EQ(0, cu_try_bind(a, PORT));
	ASSERT_EQ(0, cu_try_bind(b, PORT));
	ASSERT_EQ(EADDRINUSE, cu_try_bind(c, PORT));
	ASSERT_EQ(0, cu_try_bind(d, PORT));
}

TEST_F(bind, already_bound_einval)
{
	ASSERT_EQ(0, cu_try_bind(self->fd, PORT));
	ASSERT_EQ(EINVAL, cu_try_bind(self->fd, PORT2));
	ASSERT_EQ(PORT, cu_local_port(_metadata, self->fd));
}

TEST_F(bind, already_bound_same_port_einval)
{
	ASSERT_EQ(0, cu_try_bind(self->fd, PORT));
	ASSERT_EQ(EINVAL, cu_try_bind(self->fd, PORT));
}

TEST_F(bind, already_bound_port_any_einval)
{
	ASSERT_EQ(0, cu_try_bind(self->fd, PORT));
	ASSERT_EQ(EINVAL, cu_try_bind(self->fd, CU_PORT_ANY));
	ASSERT_EQ(PORT, cu_local_port(_metadata, self->fd));
}

TEST_F(bind, already_bound_to_a_used_port_einval)
{
	int fd2 = cu_socket(_metadata, variant->type);

	ASSERT_EQ(0, cu_try_bind(self->fd, PORT));
	ASSERT_EQ(0, cu_try_bind(fd2, PORT2));
	/* "already bound" comes before "in use" */
	ASSERT_EQ(EINVAL, cu_try_bind(fd2, PORT));
}

TEST_F(bind, already_bound_to_port_80_without_cap_einval)
{
	ASSERT_EQ(0, cu_try_bind(self->fd, PORT));
	ASSERT_EQ(0, cu_drop_cap(CAP_NET_BIND_SERVICE));
	/* "already bound" comes before the privilege check */
	ASSERT_EQ(EINVAL, cu_try_bind(self->fd, 80));
}

TEST_F(bind, privileged_port_without_cap_eacces)
{
	static const __u32 ports[] = { 1, 80, 1023 };
	unsigned int i;

	ASSERT_EQ(0, cu_drop_cap(CAP_NET_BIND_SERVICE));
	ASSERT_FALSE(cu_has_cap(CAP_NET_BIND_SERVICE));
	for (i = 0; i < ARRAY_SIZE(ports); i++) {
		ASSERT_EQ(EACCES, cu_try_bind(self->fd, ports[i])) {
			TH_LOG("port %u without CAP_NET_BIND_SERVICE", ports[i]);
		}
	}
	/* 1024 is not privileged, and the failures bound nothing */
	ASSERT_EQ(0, cu_try_bind(self->fd, 1024));
}

TEST_F(bind, privileged_port_with_cap_ok)
{
	int b = cu_socket(_metadata, variant->type);
	int c = cu_socket(_metadata, variant->type);

	if (!cu_has_cap(CAP_NET_BIND_SERVICE))
		SKIP(return, "test process lacks CAP_NET_BIND_SERVICE (not root?)");
	ASSERT_EQ(0, cu_try_bind(self->fd, 1));
	ASSERT_EQ(0, cu_try_bind(b, 80));
	ASSERT_EQ(0, cu_try_bind(c, 1023));
}

/*
 * The capability is checked in the user namespace that owns the socket's
 * netns: a new user namespace owning a new netns may bind port 80 ...
 */
TEST_F(bind, privileged_port_ok_with_cap_over_netns_owner)
{
	int fd;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
		SKIP(return, "unshare(CLONE_NEWUSER|CLONE_NEWNET): %s", strerror(errno));
	fd = cu_socket(_metadata, variant->type);
	ASSERT_EQ(0, cu_try_bind(fd, 80));
}

/* ... but capabilities in a child user namespace do not reach a netns its parent owns */
TEST_F(bind, privileged_port_eacces_with_cap_only_in_child_userns)
{
	int fd;

	if (unshare(CLONE_NEWUSER))
		SKIP(return, "unshare(CLONE_NEWUSER): %s", strerror(errno));
	ASSERT_TRUE(cu_has_cap(CAP_NET_BIND_SERVICE));
	fd = cu_socket(_metadata, variant->type);
	ASSERT_EQ(EACCES, cu_try_bind(fd, 80));
}

TEST_F(bind, port_any_picks_ephemeral_port)
{
	int fd2 = cu_socket(_metadata, variant->type);
	__u32 p1, p2;

	ASSERT_EQ(0, cu_try_bind(self->fd, CU_PORT_ANY));
	p1 = cu_local_port(_metadata, self->fd);
	ASSERT_LE(CU_PORT_EPHEMERAL, p1);
	ASSERT_EQ(0, cu_try_bind(fd2, CU_PORT_ANY));
	p2 = cu_local_port(_metadata, fd2);
	ASSERT_LE(CU_PORT_EPHEMERAL, p2);
	ASSERT_NE(p1, p2);
}

TEST_F(bind, port_any_result_is_really_bound)
{
	int fd2 = cu_socket(_metadata, variant->type);
	__u32 p;

	p = cu_bind(_metadata, self->fd, CU_PORT_ANY);
	ASSERT_EQ(EADDRINUSE, cu_try_bind(fd2, p));
}

TEST_F(bind, same_port_in_two_netns)
{
	int fd2, fd3;

	ASSERT_EQ(0, cu_try_bind(self->fd, PORT));
	if (unshare(CLONE_NEWNET))
		SKIP(return, "unshare(CLONE_NEWNET): %s", strerror(errno));
	fd2 = cu_socket(_metadata, variant->type);
	fd3 = cu_socket(_metadata, variant->type);
	ASSERT_EQ(0, cu_try_bind(fd2, PORT));
	/* and the new netns has its own, working table */
	ASSERT_EQ(EADDRINUSE, cu_try_bind(fd3, PORT));
}

TEST_HARNESS_MAIN
