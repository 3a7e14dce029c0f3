// SPDX-License-Identifier: GPL-2.0
/*
 * docs/semantics.md §5, §7, §8: SOCK_DGRAM.
 *
 * sendto() a port reaches the DGRAM socket bound there, and recvfrom()
 * reports the sender's port (an unbound sender is autobound on its first
 * send); datagrams keep their boundaries and order; a short read truncates
 * with MSG_TRUNC; SIOCINQ is the next datagram's size, SIOCOUTQ what
 * receivers have not read. A port with no DGRAM socket bound, or whose
 * socket was closed, is ECONNREFUSED (never a silent drop); a send without
 * an address on an unconnected socket ENOTCONN; a datagram larger than the
 * send buffer allows EMSGSIZE. A receiver's SO_RCVBUF bounds what waits for
 * it: a full receiver makes a blocking sender wait (SO_SNDTIMEO: EAGAIN)
 * and a non-blocking one fail with EAGAIN; a waiting sender (or poller)
 * wakes at once when the receiver reads, shuts down reading (EPIPE) or
 * raises SO_RCVBUF.
 *
 * Elsewhere: listen/accept EOPNOTSUPP in cu_listen.c and cu_accept.c,
 * connect() errors in cu_connect.c, per-netns ports in cu_netns.c, and the
 * flags, options, timeouts and poll rules DGRAM shares with the other
 * types in cu_data.c (its dgram variant).
 */
#include "cu_util.h"
#include "cu_thread.h"
#include "cu_msg.h"
#include <stddef.h>
#include <sys/un.h>
#include <linux/sockios.h>

#define PORT		4700U	/* the receiver */
#define PORT2		4701U	/* a second receiver */
#define SPORT		4710U	/* a bound sender */
#define NOBODY_PORT	4799U	/* nothing is bound here */

FIXTURE(dgram)
{
	int rx;			/* bound to PORT */
	int tx;			/* unbound */
};

FIXTURE_SETUP(dgram)
{
	self->tx = -1;
	cu_setup();
	self->rx = cu_socket(_metadata, SOCK_DGRAM);
	cu_bind(_metadata, self->rx, PORT);
	self->tx = cu_socket(_metadata, SOCK_DGRAM);
}

FIXTURE_TEARDOWN(dgram)
{
	cu_close_fd(&self->rx);
	cu_close_fd(&self->tx);
}

/* sendto(port): the byte count, or -1 with errno */
static ssize_t send_to(int fd, __u32 port, const void *buf, size_t len, int flags)
{
	struct sockaddr_cu a = cu_addr(port);

	return sendto(fd, buf, len, flags | MSG_NOSIGNAL, CU_SA(&a), sizeof(a));
}

static void send_str_to(struct __test_metadata *_metadata, int fd, __u32 port,
			const char *s)
{
	ssize_t len = strlen(s);

	ASSERT_EQ(len, send_to(fd, port, s, len, MSG_DONTWAIT)) {
		TH_LOG("sendto(%u, \"%s\"): %s", port, s, strerror(errno));
	}
}

/* ---- addresses ---------------------------------------------------------- */

TEST_F(dgram, sendto_delivers_with_the_senders_port)
{
	cu_bind(_metadata, self->tx, SPORT);
	send_str_to(_metadata, self->tx, PORT, "hi");
	cu_expect_msg(_metadata, self->rx, "hi", SPORT);
	cu_expect_empty(_metadata, self->rx);
}

TEST_F(dgram, unbound_sender_is_autobound_on_first_send)
{
	__u32 p;

	ASSERT_EQ(0U, cu_local_port(_metadata, self->tx));
	send_str_to(_metadata, self->tx, PORT, "first");
	p = cu_local_port(_metadata, self->tx);
	ASSERT_LE(CU_PORT_EPHEMERAL, p);
	cu_expect_msg(_metadata, self->rx, "first", p);
	/* later sends keep that port */
	send_str_to(_metadata, self->tx, PORT, "second");
	cu_expect_msg(_metadata, self->rx, "second", p);
	ASSERT_EQ(p, cu_local_port(_metadata, self->tx));
}

TEST_F(dgram, two_senders_to_one_receiver_each_reported)
{
	int s2 = cu_socket(_metadata, SOCK_DGRAM);
	__u32 p2;

	cu_bind(_metadata, self->tx, SPORT);
	send_str_to(_metadata, self->tx, PORT, "a1");
	send_str_to(_metadata, s2, PORT, "b1");
	send_str_to(_metadata, self->tx, PORT, "a2");
	send_str_to(_metadata, s2, PORT, "b2");
	p2 = cu_local_port(_metadata, s2);
	cu_expect_msg(_metadata, self->rx, "a1", SPORT);
	cu_expect_msg(_metadata, self->rx, "b1", p2);
	cu_expect_msg(_metadata, self->rx, "a2", SPORT);
	cu_expect_msg(_metadata, self->rx, "b2", p2);
	cu_expect_empty(_metadata, self->rx);
}

/* ---- boundaries, truncation, peek ------------------------------------------ */

TEST_F(dgram, datagrams_keep_their_boundaries_and_order)
{
	struct iovec iov[2] = {
		{ .iov_base = "dd", .iov_len = 2 },
		{ .iov_base = "dd", .iov_len = 2 },
	};
	struct sockaddr_cu to = cu_addr(PORT);
	struct msghdr msg = {
		.msg_name = &to, .msg_namelen = sizeof(to),
		.msg_iov = iov, .msg_iovlen = 2,
	};
	__u32 p;

	send_str_to(_metadata, self->tx, PORT, "a");
	send_str_to(_metadata, self->tx, PORT, "bb");
	send_str_to(_metadata, self->tx, PORT, "ccc");
	ASSERT_EQ(4, sendmsg(self->tx, &msg, MSG_DONTWAIT));
	p = cu_local_port(_metadata, self->tx);
	cu_expect_msg(_metadata, self->rx, "a", p);
	cu_expect_msg(_metadata, self->rx, "bb", p);
	cu_expect_msg(_metadata, self->rx, "ccc", p);
	cu_expect_msg(_metadata, self->rx, "dddd", p);
	cu_expect_empty(_metadata, self->rx);
}

TEST_F(dgram, short_read_truncates_with_msg_trunc_and_drops_the_rest)
{
	cu_bind(_metadata, self->tx, SPORT);
	send_str_to(_metadata, self->tx, PORT, "hello world");
	send_str_to(_metadata, self->tx, PORT, "next");
	cu_expect_recv(_metadata, self->rx, 5, 0, 5, "hello", true, SPORT);
	cu_expect_msg(_metadata, self->rx, "next", SPORT);
	cu_expect_empty(_metadata, self->rx);
}

TEST_F(dgram, recv_flag_trunc_returns_the_real_length)
{
	char buf[64];
	__u32 port;
	int fl;

	cu_bind(_metadata, self->tx, SPORT);
	send_str_to(_metadata, self->tx, PORT, "hello world");
	send_str_to(_metadata, self->tx, PORT, "next");
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(11, cu_recvmsg(_metadata, self->rx, buf, 5, MSG_TRUNC | MSG_DONTWAIT,
				 &fl, &port));
	ASSERT_STREQ("hello", buf);
	ASSERT_EQ(MSG_TRUNC, fl & MSG_TRUNC);
	ASSERT_EQ(4, recv(self->rx, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT));
	cu_expect_msg(_metadata, self->rx, "next", SPORT);
}

TEST_F(dgram, peek_leaves_the_datagram_whole_with_its_address)
{
	cu_bind(_metadata, self->tx, SPORT);
	send_str_to(_metadata, self->tx, PORT, "hello");
	send_str_to(_metadata, self->tx, PORT, "world");
	cu_expect_recv(_metadata, self->rx, 2, MSG_PEEK, 2, "he", true, SPORT);
	cu_expect_recv(_metadata, self->rx, 64, MSG_PEEK, 5, "hello", false, SPORT);
	cu_expect_msg(_metadata, self->rx, "hello", SPORT);
	cu_expect_msg(_metadata, self->rx, "world", SPORT);
}

TEST_F(dgram, zero_length_datagram_delivered_with_its_address)
{
	char buf[8];
	__u32 port = 0;

	cu_bind(_metadata, self->tx, SPORT);
	ASSERT_EQ(0, send_to(self->tx, PORT, "", 0, MSG_DONTWAIT));
	ASSERT_EQ(POLLIN, cu_poll(self->rx, POLLIN, CU_WAIT_MS)) {
		TH_LOG("a queued zero-length datagram does not make the socket readable");
	}
	ASSERT_EQ(0, cu_recvmsg(_metadata, self->rx, buf, sizeof(buf), MSG_DONTWAIT,
				NULL, &port));
	ASSERT_EQ(SPORT, port);
	cu_expect_empty(_metadata, self->rx);
}

/* ---- ioctls -------------------------------------------------------------------- */

TEST_F(dgram, siocinq_is_the_next_datagrams_size)
{
	char buf[300];

	memset(buf, 'i', sizeof(buf));
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->rx, SIOCINQ));
	ASSERT_EQ(100, send_to(self->tx, PORT, buf, 100, MSG_DONTWAIT));
	ASSERT_EQ(200, send_to(self->tx, PORT, buf, 200, MSG_DONTWAIT));
	ASSERT_EQ(100, cu_ioctl_int(_metadata, self->rx, SIOCINQ));
	ASSERT_EQ(100, recv(self->rx, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(200, cu_ioctl_int(_metadata, self->rx, SIOCINQ));
	ASSERT_EQ(200, recv(self->rx, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->rx, SIOCINQ));
}

TEST_F(dgram, siocoutq_counts_what_receivers_have_not_read)
{
	int rx2 = cu_socket(_metadata, SOCK_DGRAM);
	char buf[300];

	cu_bind(_metadata, rx2, PORT2);
	memset(buf, 'o', sizeof(buf));
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->tx, SIOCOUTQ));
	ASSERT_EQ(100, send_to(self->tx, PORT, buf, 100, MSG_DONTWAIT));
	ASSERT_EQ(50, send_to(self->tx, PORT2, buf, 50, MSG_DONTWAIT));
	ASSERT_EQ(30, send_to(self->tx, PORT, buf, 30, MSG_DONTWAIT));
	ASSERT_EQ(180, cu_ioctl_int(_metadata, self->tx, SIOCOUTQ));
	/* a truncated read takes the whole datagram */
	ASSERT_EQ(10, recv(self->rx, buf, 10, MSG_DONTWAIT));
	ASSERT_EQ(80, cu_ioctl_int(_metadata, self->tx, SIOCOUTQ));
	ASSERT_EQ(30, recv(self->rx, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(50, cu_ioctl_int(_metadata, self->tx, SIOCOUTQ));
	/* a receiver closed with the datagram unread: nobody will read it */
	close(rx2);
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->tx, SIOCOUTQ));
}

/* ---- where a datagram may go ------------------------------------------------ */

TEST_F(dgram, send_without_address_unconnected_enotconn)
{
	int bound = cu_socket(_metadata, SOCK_DGRAM);

	cu_bind(_metadata, bound, SPORT);
	ASSERT_EQ(-1, send(self->tx, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(ENOTCONN, errno);
	ASSERT_EQ(-1, send(bound, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(ENOTCONN, errno);
	ASSERT_EQ(-1, write(bound, "x", 1));
	ASSERT_EQ(ENOTCONN, errno);
	ASSERT_EQ(0, cu_sigpipes);
	cu_expect_empty(_metadata, self->rx);
}

TEST_F(dgram, sendto_port_with_no_dgram_socket_econnrefused)
{
	cu_listener(_metadata, SOCK_STREAM, NOBODY_PORT, 4, NULL);
	cu_listener(_metadata, SOCK_SEQPACKET, NOBODY_PORT, 4, NULL);
	ASSERT_EQ(-1, send_to(self->tx, NOBODY_PORT, "x", 1, MSG_DONTWAIT));
	ASSERT_EQ(ECONNREFUSED, errno);
	ASSERT_EQ(-1, send_to(self->tx, NOBODY_PORT + 1, "x", 1, 0));
	ASSERT_EQ(ECONNREFUSED, errno);
	ASSERT_EQ(0, cu_sigpipes);
}

TEST_F(dgram, sendto_after_receiver_closed_econnrefused)
{
	send_str_to(_metadata, self->tx, PORT, "while open");
	cu_close_fd(&self->rx);
	ASSERT_EQ(-1, send_to(self->tx, PORT, "x", 1, MSG_DONTWAIT));
	ASSERT_EQ(ECONNREFUSED, errno);
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->tx, SIOCOUTQ));
	ASSERT_EQ(0, cu_sigpipes);
}

TEST_F(dgram, connected_send_after_receiver_closed_econnrefused_no_sigpipe)
{
	ASSERT_EQ(0, cu_try_connect(self->tx, PORT));
	cu_send_str(_metadata, self->tx, "while open");
	cu_close_fd(&self->rx);
	ASSERT_EQ(-1, send(self->tx, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(ECONNREFUSED, errno);
	ASSERT_EQ(-1, send(self->tx, "x", 1, MSG_DONTWAIT));
	ASSERT_EQ(ECONNREFUSED, errno);
	ASSERT_EQ(0, cu_sigpipes);
}

TEST_F(dgram, connect_sets_the_default_peer_for_send)
{
	__u32 p;

	ASSERT_EQ(0, cu_try_connect(self->tx, PORT));
	p = cu_local_port(_metadata, self->tx);
	ASSERT_LE(CU_PORT_EPHEMERAL, p);	/* connect autobinds */
	ASSERT_EQ(PORT, cu_peer_port(_metadata, self->tx));
	cu_send_str(_metadata, self->tx, "default");
	ASSERT_EQ(5, write(self->tx, "write", 5));
	cu_expect_msg(_metadata, self->rx, "default", p);
	cu_expect_msg(_metadata, self->rx, "write", p);
}

TEST_F(dgram, getpeername_enotconn_before_connect)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	ASSERT_EQ(-1, getpeername(self->tx, CU_SA(&ss), &len));
	ASSERT_EQ(ENOTCONN, errno);
	len = sizeof(ss);
	ASSERT_EQ(-1, getpeername(self->rx, CU_SA(&ss), &len));
	ASSERT_EQ(ENOTCONN, errno);
	/* a refused connect leaves it unconnected */
	ASSERT_EQ(ECONNREFUSED, cu_try_connect(self->tx, NOBODY_PORT));
	len = sizeof(ss);
	ASSERT_EQ(-1, getpeername(self->tx, CU_SA(&ss), &len));
	ASSERT_EQ(ENOTCONN, errno);
}

TEST_F(dgram, sendto_an_address_overrides_the_default_peer)
{
	int rx2 = cu_socket(_metadata, SOCK_DGRAM);
	__u32 p;

	cu_bind(_metadata, rx2, PORT2);
	ASSERT_EQ(0, cu_try_connect(self->tx, PORT));
	p = cu_local_port(_metadata, self->tx);
	send_str_to(_metadata, self->tx, PORT2, "elsewhere");
	cu_send_str(_metadata, self->tx, "default");
	cu_expect_msg(_metadata, rx2, "elsewhere", p);
	cu_expect_msg(_metadata, self->rx, "default", p);
	cu_expect_empty(_metadata, rx2);
}

TEST_F(dgram, sendto_bad_address_einval_or_eafnosupport)
{
	struct sockaddr_storage ss;
	struct sockaddr_cu *a = (struct sockaddr_cu *)&ss;

	memset(&ss, 0, sizeof(ss));
	*a = cu_addr(PORT);
	ASSERT_EQ(-1, sendto(self->tx, "x", 1, MSG_DONTWAIT, CU_SA(a), sizeof(*a) - 1));
	ASSERT_EQ(EINVAL, errno);
	a->scu_family = AF_INET;
	ASSERT_EQ(-1, sendto(self->tx, "x", 1, MSG_DONTWAIT, CU_SA(a), sizeof(*a)));
	ASSERT_EQ(EAFNOSUPPORT, errno);
	*a = cu_addr(PORT);
	a->scu_reserved = 1;
	ASSERT_EQ(-1, sendto(self->tx, "x", 1, MSG_DONTWAIT, CU_SA(a), sizeof(*a)));
	ASSERT_EQ(EINVAL, errno);
	cu_expect_empty(_metadata, self->rx);
	/* a longer address is fine, as for bind */
	*a = cu_addr(PORT);
	ASSERT_EQ(1, sendto(self->tx, "x", 1, MSG_DONTWAIT, CU_SA(a), sizeof(ss)));
}

/* ---- size and memory limits ------------------------------------------------- */

TEST_F(dgram, datagram_larger_than_sndbuf_allows_emsgsize)
{
	static char buf[1 << 17];
	long long t0;
	int sndbuf;
	ssize_t n;

	sndbuf = cu_small_sndbuf(_metadata, self->tx, sizeof(buf));
	memset(buf, 'm', sizeof(buf));

	ASSERT_EQ(-1, send_to(self->tx, PORT, buf, sndbuf - 31, MSG_DONTWAIT));
	ASSERT_EQ(EMSGSIZE, errno);
	t0 = cu_now_ms();
	ASSERT_EQ(-1, send_to(self->tx, PORT, buf, 4 * sndbuf, 0));
	ASSERT_EQ(EMSGSIZE, errno);
	ASSERT_GT(CU_AT_ONCE_MS, cu_now_ms() - t0);
	cu_expect_empty(_metadata, self->rx);

	n = send_to(self->tx, PORT, buf, sndbuf - 32, 0);
	ASSERT_EQ(sndbuf - 32, n) {
		TH_LOG("datagram of SO_SNDBUF - 32 = %d bytes: %s", sndbuf - 32,
		       n < 0 ? strerror(errno) : "short");
	}
	ASSERT_EQ(sndbuf - 32, recv(self->rx, buf, sizeof(buf), MSG_DONTWAIT));
}

TEST_F(dgram, large_datagram_arrives_whole)
{
	static unsigned char out[100000], in[200000];
	int fl = 0, sndbuf;
	__u32 port = 0;
	ssize_t n;
	size_t i;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 13 + (i >> 10));
	/* well below SO_SNDBUF and SO_RCVBUF (208 KiB by default) */
	sndbuf = cu_sol_int(_metadata, self->tx, SO_SNDBUF);
	ASSERT_LT((int)sizeof(out) + 32, sndbuf);
	ASSERT_LT((int)sizeof(out), cu_sol_int(_metadata, self->rx, SO_RCVBUF));
	cu_bind(_metadata, self->tx, SPORT);
	cu_set_timeo(_metadata, self->tx, SO_SNDTIMEO, CU_WAIT_MS);
	n = send_to(self->tx, PORT, out, sizeof(out), 0);
	ASSERT_EQ((ssize_t)sizeof(out), n) {
		TH_LOG("sendto of a %zu-byte datagram, SO_SNDBUF %d: %s", sizeof(out),
		       sndbuf, n < 0 ? strerror(errno) : "short");
	}
	ASSERT_EQ((ssize_t)sizeof(out), cu_recvmsg(_metadata, self->rx, in, sizeof(in),
						    MSG_DONTWAIT, &fl, &port));
	ASSERT_EQ(SPORT, port);
	ASSERT_EQ(0, fl & MSG_TRUNC);
	ASSERT_EQ(0, memcmp(out, in, sizeof(out)));
}

/*
 * Give rx the smallest receive buffer and tx a large send buffer, then send
 * 1000-byte datagrams until EAGAIN, and 1-byte ones until not even one
 * fits: the receiver's SO_RCVBUF is the limit. Returns the bytes queued.
 */
static int fill_receiver(struct __test_metadata *_metadata, int tx, int rx,
			 __u32 port)
{
	static char buf[1000];
	int val = 1, rcvbuf, sndbuf, total = 0, sends = 0;
	size_t len = sizeof(buf);
	ssize_t ret;

	ASSERT_EQ(0, setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &val, sizeof(val)));
	rcvbuf = cu_sol_int(_metadata, rx, SO_RCVBUF);
	/* beyond wmem_max (root): the sender's own buffer stays far from full */
	val = 4 << 20;
	ASSERT_EQ(0, setsockopt(tx, SOL_SOCKET, SO_SNDBUFFORCE, &val, sizeof(val)));
	sndbuf = cu_sol_int(_metadata, tx, SO_SNDBUF);
	ASSERT_LE(2 * val, sndbuf);
	memset(buf, 'F', sizeof(buf));
	for (;;) {
		ret = port ? send_to(tx, port, buf, len, MSG_DONTWAIT) :
			     send(tx, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (ret < 0 && errno == EAGAIN && len > 1) {
			len = 1;
			continue;
		}
		if (ret < 0)
			break;
		ASSERT_EQ(len, (size_t)ret);
		total += ret;
		sends++;
		/* an skb costs less than a page: tx's own limit is far away */
		ASSERT_GT(sndbuf / 2, sends * 4096);
		ASSERT_GE(rcvbuf, total) {
			TH_LOG("%d bytes queued to a receiver with SO_RCVBUF %d",
			       total, rcvbuf);
		}
	}
	ASSERT_EQ(EAGAIN, errno) {
		TH_LOG("send to a full receiver: %s", strerror(errno));
	}
	ASSERT_LE(1000, total);
	return total;
}

/* read datagrams worth `total` bytes, then nothing is left */
static void drain_dgrams(struct __test_metadata *_metadata, int rx, int total)
{
	cu_drain(_metadata, rx, total);
	cu_expect_empty(_metadata, rx);
}

TEST_F(dgram, full_receiver_nonblocking_sender_eagain_nothing_lost)
{
	int total = fill_receiver(_metadata, self->tx, self->rx, PORT);

	drain_dgrams(_metadata, self->rx, total);
	send_str_to(_metadata, self->tx, PORT, "after");
	cu_expect_msg(_metadata, self->rx, "after", cu_local_port(_metadata, self->tx));
}

TEST_F(dgram, full_receiver_blocking_sender_waits_sndtimeo)
{
	long long t0;

	fill_receiver(_metadata, self->tx, self->rx, PORT);
	cu_set_timeo(_metadata, self->tx, SO_SNDTIMEO, 300);
	t0 = cu_now_ms();
	ASSERT_EQ(-1, send_to(self->tx, PORT, "x", 1, 0));
	ASSERT_EQ(EAGAIN, errno);
	cu_expect_timed_out(_metadata, t0);
}

struct dsender {
	int fd;
	__u32 port;
	pid_t tid;
	ssize_t ret;
	int err;
};

static void *dsend_thread(void *arg)
{
	static char buf[1000];
	struct dsender *s = arg;

	s->tid = cu_gettid();
	memset(buf, 'B', sizeof(buf));
	s->ret = send_to(s->fd, s->port, buf, sizeof(buf), 0);
	s->err = errno;
	return NULL;
}

TEST_F(dgram, blocked_sender_resumes_when_receiver_reads)
{
	struct dsender s = { .fd = self->tx, .port = PORT };
	char buf[2000];
	pthread_t t;
	int total;

	total = fill_receiver(_metadata, self->tx, self->rx, PORT);
	cu_set_timeo(_metadata, self->tx, SO_SNDTIMEO, 10000);
	ASSERT_EQ(0, pthread_create(&t, NULL, dsend_thread, &s));
	cu_sleep_ms(100);
	ASSERT_EQ(1000, recv(self->rx, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS)) {
		TH_LOG("the sender still waits after the receiver read");
	}
	ASSERT_EQ(1000, s.ret) {
		TH_LOG("blocked sendto: %s", strerror(s.err));
	}
	drain_dgrams(_metadata, self->rx, total);
}

TEST_F(dgram, full_receiver_does_not_block_other_receivers)
{
	int rx2 = cu_socket(_metadata, SOCK_DGRAM);

	cu_bind(_metadata, rx2, PORT2);
	fill_receiver(_metadata, self->tx, self->rx, PORT);
	send_str_to(_metadata, self->tx, PORT2, "other");
	cu_expect_msg(_metadata, rx2, "other", cu_local_port(_metadata, self->tx));
}

/*
 * A sender waiting for room at its connected peer wakes as soon as the
 * peer makes room, or can take nothing more: shutdown(SHUT_RD) (the send
 * fails with EPIPE) or a larger SO_RCVBUF (the send completes). The sender
 * has SO_SNDTIMEO CU_WAIT_MS, so a missing wakeup shows as a late return.
 */
static void full_connected_pair(struct __test_metadata *_metadata, int tx, int rx)
{
	cu_bind(_metadata, tx, SPORT);
	ASSERT_EQ(0, cu_try_connect(tx, PORT));
	ASSERT_EQ(0, cu_try_connect(rx, SPORT));
	fill_receiver(_metadata, tx, rx, 0);
	cu_set_timeo(_metadata, tx, SO_SNDTIMEO, CU_WAIT_MS);
}

static void receiver_shuts_down_or_grows(struct __test_metadata *_metadata, int rx,
					 bool shut)
{
	int val = 1 << 20;

	if (shut) {
		ASSERT_EQ(0, shutdown(rx, SHUT_RD));
	} else {
		ASSERT_EQ(0, setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &val, sizeof(val)));
	}
}

static void check_blocked_sender_wakes(struct __test_metadata *_metadata, int tx,
				       int rx, bool shut)
{
	struct dsender s = { .fd = tx, .port = PORT };
	sig_atomic_t pipes = cu_sigpipes;
	pthread_t t;

	full_connected_pair(_metadata, tx, rx);
	cu_start_sleeper(_metadata, &t, dsend_thread, &s, &s.tid);
	receiver_shuts_down_or_grows(_metadata, rx, shut);
	ASSERT_TRUE(cu_join(t, CU_AT_ONCE_MS)) {
		TH_LOG("the sender still waits %d ms after the receiver %s", CU_AT_ONCE_MS,
		       shut ? "shut down reading" : "raised SO_RCVBUF");
	}
	if (shut) {
		ASSERT_EQ(-1, s.ret);
		ASSERT_EQ(EPIPE, s.err);
		ASSERT_EQ(pipes, cu_sigpipes);
	} else {
		ASSERT_EQ(1000, s.ret) {
			TH_LOG("send: %s", strerror(s.err));
		}
	}
}

static void check_sender_poll_wakes(struct __test_metadata *_metadata, int tx,
				    int rx, bool shut)
{
	struct cu_poller p;
	pthread_t t;

	full_connected_pair(_metadata, tx, rx);
	ASSERT_EQ(0, cu_poll(tx, POLLOUT, 0));
	cu_start_poller(_metadata, &p, &t, tx, POLLOUT);
	receiver_shuts_down_or_grows(_metadata, rx, shut);
	ASSERT_TRUE(cu_join(t, CU_AT_ONCE_MS)) {
		TH_LOG("poll(POLLOUT) still waits %d ms after the receiver %s", CU_AT_ONCE_MS,
		       shut ? "shut down reading" : "raised SO_RCVBUF");
	}
	ASSERT_EQ(POLLOUT, p.revents & POLLOUT);
}

TEST_F(dgram, blocked_sender_wakes_epipe_when_receiver_shuts_down_reading)
{
	check_blocked_sender_wakes(_metadata, self->tx, self->rx, true);
}

TEST_F(dgram, blocked_sender_completes_when_receiver_raises_rcvbuf)
{
	check_blocked_sender_wakes(_metadata, self->tx, self->rx, false);
}

TEST_F(dgram, sender_poll_wakes_when_receiver_shuts_down_reading)
{
	check_sender_poll_wakes(_metadata, self->tx, self->rx, true);
}

TEST_F(dgram, sender_poll_wakes_when_receiver_raises_rcvbuf)
{
	check_sender_poll_wakes(_metadata, self->tx, self->rx, false);
}

/* ---- poll ----------------------------------------------------------------------- */

TEST_F(dgram, poll_pollin_when_a_datagram_is_queued)
{
	char buf[8];

	ASSERT_EQ(POLLOUT, cu_poll(self->rx, POLLIN | POLLOUT, 0));
	send_str_to(_metadata, self->tx, PORT, "p");
	ASSERT_EQ(POLLIN | POLLOUT, cu_poll(self->rx, POLLIN | POLLOUT, CU_WAIT_MS));
	ASSERT_EQ(1, recv(self->rx, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(POLLOUT, cu_poll(self->rx, POLLIN | POLLOUT, 0));
}

TEST_F(dgram, poll_wakes_receiver_on_datagram)
{
	struct cu_poller p;
	pthread_t t;

	cu_start_poller(_metadata, &p, &t, self->rx, POLLIN);
	send_str_to(_metadata, self->tx, PORT, "wake");
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS + 1000));
	ASSERT_EQ(POLLIN, p.revents);
}

/*
 * A sender connected to a receiver that is full: AF_UNIX drops POLLOUT
 * until the receiver reads (unix_dgram_poll), since a send would fail with
 * EAGAIN. Both families are driven to that state and compared.
 */
TEST_F(dgram, connected_sender_no_pollout_while_receiver_full_as_af_unix)
{
	struct sockaddr_un ua = { .sun_family = AF_UNIX };
	socklen_t ualen = offsetof(struct sockaddr_un, sun_path) + 8;
	int urx, utx, total, un = 0;
	short u, c;
	char buf[1000];

	memcpy(ua.sun_path, "\0cu_dgr", 8);	/* abstract, per netns */
	urx = socket(AF_UNIX, SOCK_DGRAM, 0);
	utx = socket(AF_UNIX, SOCK_DGRAM, 0);
	ASSERT_LE(0, urx);
	ASSERT_LE(0, utx);
	ASSERT_EQ(0, bind(urx, (struct sockaddr *)&ua, ualen));
	ASSERT_EQ(0, connect(utx, (struct sockaddr *)&ua, ualen));
	memset(buf, 'u', sizeof(buf));
	while (send(utx, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
		un++;
		ASSERT_GT(100000, un);
	}
	ASSERT_EQ(EAGAIN, errno);

	ASSERT_EQ(0, cu_try_connect(self->tx, PORT));
	ASSERT_EQ(POLLOUT, cu_poll(self->tx, POLLOUT, 0));
	total = fill_receiver(_metadata, self->tx, self->rx, 0);

	u = cu_poll(utx, POLLIN | POLLOUT, 0);
	c = cu_poll(self->tx, POLLIN | POLLOUT, 0);
	ASSERT_EQ(0, u & POLLOUT);
	ASSERT_EQ(u, c) {
		TH_LOG("receiver full, send gives EAGAIN: AF_UNIX sender revents %#x, AF_CUSTOM %#x",
		       u, c);
	}
	drain_dgrams(_metadata, self->rx, total);
	ASSERT_EQ(POLLOUT, cu_poll(self->tx, POLLOUT, CU_WAIT_MS));
}

TEST_F(dgram, connected_sender_poll_wakes_when_receiver_reads)
{
	struct cu_poller p;
	char buf[2000];
	pthread_t t;
	int total;

	ASSERT_EQ(0, cu_try_connect(self->tx, PORT));
	total = fill_receiver(_metadata, self->tx, self->rx, 0);
	cu_start_poller(_metadata, &p, &t, self->tx, POLLOUT);
	ASSERT_EQ(1000, recv(self->rx, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_TRUE(cu_join(t, CU_WAIT_MS + 1000));
	ASSERT_EQ(POLLOUT, p.revents) {
		TH_LOG("room at the receiver did not wake the sender's poll()");
	}
	drain_dgrams(_metadata, self->rx, total - 1000);
}

/* ---- shutdown, SIGPIPE --------------------------------------------------------- */

TEST_F(dgram, unconnected_shutdown_enotconn)
{
	static const int hows[] = { SHUT_RD, SHUT_WR, SHUT_RDWR };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hows); i++) {
		ASSERT_EQ(-1, shutdown(self->tx, hows[i]));
		ASSERT_EQ(ENOTCONN, errno);
		ASSERT_EQ(-1, shutdown(self->rx, hows[i]));
		ASSERT_EQ(ENOTCONN, errno);
	}
	/* nothing was shut down */
	send_str_to(_metadata, self->tx, PORT, "fine");
	cu_expect_msg(_metadata, self->rx, "fine", cu_local_port(_metadata, self->tx));
}

TEST_F(dgram, send_after_own_shut_wr_epipe_sigpipe_unless_nosignal)
{
	ASSERT_EQ(0, cu_try_connect(self->tx, PORT));
	ASSERT_EQ(0, shutdown(self->tx, SHUT_WR));
	ASSERT_EQ(-1, send(self->tx, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(0, cu_sigpipes);
	ASSERT_EQ(-1, send(self->tx, "x", 1, MSG_DONTWAIT));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(1, cu_sigpipes);
	cu_expect_empty(_metadata, self->rx);
}

/* ---- options and bad pointers -------------------------------------------------- */

TEST_F(dgram, sol_custom_backlog_pending_zero_stats_enoprotoopt)
{
	struct cu_listen_stats st;
	socklen_t len;

	ASSERT_EQ(0, cu_try_connect(self->tx, PORT));
	ASSERT_EQ(0, cu_backlog(self->rx));
	ASSERT_EQ(0, cu_pending(self->rx));
	ASSERT_EQ(0, cu_backlog(self->tx));
	ASSERT_EQ(0, cu_pending(self->tx));
	len = sizeof(st);
	ASSERT_EQ(-1, getsockopt(self->tx, SOL_CUSTOM, CU_STATS, &st, &len));
	ASSERT_EQ(ENOPROTOOPT, errno);
	len = sizeof(st);
	ASSERT_EQ(-1, getsockopt(self->rx, SOL_CUSTOM, CU_STATS, &st, &len));
	ASSERT_EQ(ENOPROTOOPT, errno);
}

TEST_F(dgram, bad_address_pointers_efault)
{
	socklen_t len = sizeof(struct sockaddr_cu);
	char buf[16];

	ASSERT_EQ(-1, sendto(self->tx, "x", 1, MSG_DONTWAIT, cu_bad_ptr,
			     sizeof(struct sockaddr_cu)));
	ASSERT_EQ(EFAULT, errno);
	cu_expect_empty(_metadata, self->rx);

	send_str_to(_metadata, self->tx, PORT, "one");
	send_str_to(_metadata, self->tx, PORT, "two");
	ASSERT_EQ(-1, recvfrom(self->rx, buf, sizeof(buf), MSG_DONTWAIT, cu_bad_ptr, &len));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, recvfrom(self->rx, buf, sizeof(buf), MSG_DONTWAIT,
			       CU_SA(buf), cu_bad_ptr));
	ASSERT_EQ(EFAULT, errno);
	/* the socket still works */
	cu_expect_healthy(_metadata, self->rx);
	send_str_to(_metadata, self->tx, PORT, "three");
	ASSERT_EQ(POLLIN, cu_poll(self->rx, POLLIN, 0));
}

TEST_HARNESS_MAIN
