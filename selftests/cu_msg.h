/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Messages and flow control for the af_custom selftests that check the
 * data path (records, datagrams, full send buffers); include after
 * cu_util.h.
 */
#ifndef CU_MSG_H
#define CU_MSG_H

#include "cu_util.h"

/* a user pointer that faults, hidden from the compiler's alias checks */
static void *volatile cu_bad_ptr __attribute__((unused)) = (void *)1;

/*
 * recvmsg() of at most len bytes into buf; *msg_flags (if set) gets
 * msg_flags. With from, the sender's address is asked for too: it must be
 * a whole sockaddr_cu of the family with scu_reserved 0, and *from gets its
 * port. Returns recvmsg()'s result, errno set when it is -1.
 */
static inline ssize_t cu_recvmsg(struct __test_metadata *_metadata, int fd, void *buf,
				 size_t len, int flags, int *msg_flags, __u32 *from)
{
	struct sockaddr_storage ss;
	struct sockaddr_cu *a = (struct sockaddr_cu *)&ss;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int err;

	if (from) {
		memset(&ss, 0xa5, sizeof(ss));
		msg.msg_name = &ss;
		msg.msg_namelen = sizeof(ss);
	}
	n = recvmsg(fd, &msg, flags);
	err = errno;
	if (msg_flags)
		*msg_flags = msg.msg_flags;
	if (n >= 0 && from) {
		ASSERT_EQ(sizeof(struct sockaddr_cu), msg.msg_namelen);
		ASSERT_EQ(cu_family(), a->scu_family);
		ASSERT_EQ(0, a->scu_reserved);
		*from = a->scu_port;
	}
	errno = err;
	return n;
}

#define CU_NO_ADDR	(-1LL)	/* cu_expect_recv(): the sender's address not asked for */

/*
 * The next message, read by recvmsg(len, flags | MSG_DONTWAIT) into a
 * zeroed buffer: the result is ret, the bytes `expect`, MSG_TRUNC is set
 * in msg_flags iff trunc, and it came from port `from` (CU_NO_ADDR: the
 * address is not asked for).
 */
static inline void cu_expect_recv(struct __test_metadata *_metadata, int fd, size_t len,
				  int flags, ssize_t ret, const char *expect, bool trunc,
				  long long from)
{
	char buf[256];
	__u32 port = 0;
	ssize_t n;
	int fl = 0;

	ASSERT_GT(sizeof(buf), len);
	memset(buf, 0, sizeof(buf));
	n = cu_recvmsg(_metadata, fd, buf, len, flags | MSG_DONTWAIT, &fl,
		       from == CU_NO_ADDR ? NULL : &port);
	ASSERT_EQ(ret, n) {
		TH_LOG("want \"%s\" (%zd bytes): %s", expect, ret,
		       n < 0 ? strerror(errno) : "other length");
	}
	ASSERT_STREQ(expect, buf);
	if (from != CU_NO_ADDR) {
		ASSERT_EQ(from, (long long)port);
	}
	ASSERT_EQ(trunc ? MSG_TRUNC : 0, fl & MSG_TRUNC) {
		TH_LOG("read of %zu bytes, flags %#x: msg_flags %#x", len, flags, fl);
	}
}

/* the next message, waited for: `expect`, whole, from `from` (or CU_NO_ADDR) */
static inline void cu_expect_msg(struct __test_metadata *_metadata, int fd,
				 const char *expect, long long from)
{
	ASSERT_EQ(POLLIN, cu_poll(fd, POLLIN, CU_WAIT_MS) & POLLIN);
	cu_expect_recv(_metadata, fd, 255, 0, strlen(expect), expect, false, from);
}

/* nothing to read: recv(MSG_DONTWAIT) is EAGAIN */
static inline void cu_expect_empty(struct __test_metadata *_metadata, int fd)
{
	char buf[8];

	ASSERT_EQ(-1, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(EAGAIN, errno);
}

/*
 * Send 1024-byte chunks on fd without blocking until EAGAIN; with `whole`
 * (records) each send must take all of its chunk. Failing before max bytes:
 * no flow control. Returns the bytes sent.
 */
static inline size_t cu_send_until_eagain(struct __test_metadata *_metadata, int fd,
					  bool whole, size_t max)
{
	static char buf[1024];
	size_t total = 0;
	ssize_t n;

	memset(buf, 'f', sizeof(buf));
	for (;;) {
		n = send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			break;
		if (whole) {
			ASSERT_EQ(sizeof(buf), (size_t)n);
		}
		total += n;
		ASSERT_GT(max, total) {
			TH_LOG("%zu MiB sent to a peer that reads nothing: no flow control",
			       max >> 20);
		}
	}
	ASSERT_EQ(EAGAIN, errno);
	return total;
}

/*
 * Set-up to send messages around the size SO_SNDBUF allows: SO_SNDBUF
 * 8192 on fd (what it becomes must stay below bufsize / 4), SO_SNDTIMEO
 * 3 s. Returns SO_SNDBUF.
 */
static inline int cu_small_sndbuf(struct __test_metadata *_metadata, int fd,
				  size_t bufsize)
{
	int val = 8192, sndbuf;

	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &val, sizeof(val)));
	sndbuf = cu_sol_int(_metadata, fd, SO_SNDBUF);
	ASSERT_GT((int)bufsize / 4, sndbuf);
	cu_set_timeo(_metadata, fd, SO_SNDTIMEO, 3000);
	return sndbuf;
}

#endif /* CU_MSG_H */
