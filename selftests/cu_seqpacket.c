// SPDX-License-Identifier: GPL-2.0
/*
 * docs/semantics.md §8, SOCK_SEQPACKET records.
 *
 * A record is what one send() (or one sendmsg(), whatever its iovecs)
 * gave: it arrives whole and alone, in order. A short read truncates it,
 * sets MSG_TRUNC in msg_flags and discards the rest; the recv flag
 * MSG_TRUNC returns its real length; MSG_PEEK leaves it whole; MSG_EOR is
 * accepted on send; a record larger than the send buffer allows is
 * EMSGSIZE, and a full buffer never splits one. Zero-length records exist.
 *
 * The listen/connect/accept/close rules of SEQPACKET run as variants in
 * cu_listen.c, cu_connect.c, cu_accept.c and cu_close.c; the flags,
 * options and poll rules shared with the other types in cu_data.c.
 */
#include "cu_util.h"
#include "cu_thread.h"
#include "cu_msg.h"
#include <linux/sockios.h>

#define PORT		4600U
#define BACKLOG		4

FIXTURE(seqpacket)
{
	int lfd;
	__u32 port;
	int c, a;		/* client and accepted, connected */
};

FIXTURE_SETUP(seqpacket)
{
	cu_setup();
	self->port = cu_pair(_metadata, SOCK_SEQPACKET, PORT, BACKLOG,
			     &self->lfd, &self->c, &self->a);
}

FIXTURE_TEARDOWN(seqpacket)
{
	cu_close_pair(&self->lfd, &self->c, &self->a);
}

/* the next record must be `expect` exactly, whole, without MSG_TRUNC */
static void expect_record(struct __test_metadata *_metadata, int fd,
			  const char *expect)
{
	ASSERT_EQ(POLLIN, cu_poll(fd, POLLIN, CU_WAIT_MS));
	cu_expect_recv(_metadata, fd, 255, 0, strlen(expect), expect, false, CU_NO_ADDR);
}

TEST_F(seqpacket, records_kept_whole_across_several_sends)
{
	cu_send_str(_metadata, self->c, "one");
	cu_send_str(_metadata, self->c, "two2");
	cu_send_str(_metadata, self->c, "three");
	expect_record(_metadata, self->a, "one");
	expect_record(_metadata, self->a, "two2");
	expect_record(_metadata, self->a, "three");
	cu_expect_empty(_metadata, self->a);
}

TEST_F(seqpacket, sendmsg_iovecs_form_one_record)
{
	struct iovec iov[3] = {
		{ .iov_base = "ab", .iov_len = 2 },
		{ .iov_base = "cd", .iov_len = 2 },
		{ .iov_base = "ef", .iov_len = 2 },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 3 };

	ASSERT_EQ(6, sendmsg(self->c, &msg, MSG_DONTWAIT));
	cu_send_str(_metadata, self->c, "g");
	expect_record(_metadata, self->a, "abcdef");
	expect_record(_metadata, self->a, "g");
}

TEST_F(seqpacket, large_record_arrives_whole)
{
	static unsigned char out[100000], in[200000];
	int fl, sndbuf;
	ssize_t n;
	size_t i;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + (i >> 9));
	/* well below SO_SNDBUF (208 KiB by default), above 17 pages */
	sndbuf = cu_sol_int(_metadata, self->c, SO_SNDBUF);
	ASSERT_LT((int)sizeof(out) + 32, sndbuf);
	cu_set_timeo(_metadata, self->c, SO_SNDTIMEO, CU_WAIT_MS);
	n = send(self->c, out, sizeof(out), MSG_NOSIGNAL);
	ASSERT_EQ((ssize_t)sizeof(out), n) {
		TH_LOG("send of a %zu-byte record, SO_SNDBUF %d: %s", sizeof(out),
		       sndbuf, n < 0 ? strerror(errno) : "short");
	}
	cu_send_str(_metadata, self->c, "after");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	ASSERT_EQ((ssize_t)sizeof(out), cu_recvmsg(_metadata, self->a, in, sizeof(in),
						   MSG_DONTWAIT, &fl, NULL));
	ASSERT_EQ(0, fl & MSG_TRUNC);
	ASSERT_EQ(0, memcmp(out, in, sizeof(out)));
	expect_record(_metadata, self->a, "after");
}

TEST_F(seqpacket, short_read_truncates_with_msg_trunc_and_drops_the_rest)
{
	cu_send_str(_metadata, self->c, "hello world");
	cu_send_str(_metadata, self->c, "next");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	cu_expect_recv(_metadata, self->a, 5, 0, 5, "hello", true, CU_NO_ADDR);
	/* " world" is gone: the next read is the next record */
	expect_record(_metadata, self->a, "next");
	cu_expect_empty(_metadata, self->a);
}

TEST_F(seqpacket, recv_flag_trunc_returns_the_real_length)
{
	cu_send_str(_metadata, self->c, "hello world");
	cu_send_str(_metadata, self->c, "next");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	cu_expect_recv(_metadata, self->a, 5, MSG_TRUNC, 11, "hello", true, CU_NO_ADDR);
	expect_record(_metadata, self->a, "next");
}

TEST_F(seqpacket, peek_trunc_tells_the_next_record_size)
{
	cu_send_str(_metadata, self->c, "12345678");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	ASSERT_EQ(8, recv(self->a, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT));
	ASSERT_EQ(8, recv(self->a, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT));
	expect_record(_metadata, self->a, "12345678");
}

TEST_F(seqpacket, peek_of_a_record_leaves_it_whole)
{
	cu_send_str(_metadata, self->c, "hello");
	cu_send_str(_metadata, self->c, "world");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	cu_expect_recv(_metadata, self->a, 2, MSG_PEEK, 2, "he", true, CU_NO_ADDR);
	cu_expect_recv(_metadata, self->a, 64, MSG_PEEK, 5, "hello", false, CU_NO_ADDR);
	/* a peek never reaches into the following record */
	expect_record(_metadata, self->a, "hello");
	expect_record(_metadata, self->a, "world");
}

TEST_F(seqpacket, msg_eor_accepted_on_send)
{
	struct iovec iov = { .iov_base = "eor2", .iov_len = 4 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	ASSERT_EQ(4, send(self->c, "eor1", 4, MSG_EOR | MSG_DONTWAIT)) {
		TH_LOG("send(MSG_EOR): %s", strerror(errno));
	}
	ASSERT_EQ(4, sendmsg(self->c, &msg, MSG_EOR | MSG_DONTWAIT));
	expect_record(_metadata, self->a, "eor1");
	expect_record(_metadata, self->a, "eor2");
}

TEST_F(seqpacket, record_larger_than_sndbuf_allows_emsgsize)
{
	static char buf[1 << 17];
	long long t0;
	int sndbuf;
	ssize_t n;

	sndbuf = cu_small_sndbuf(_metadata, self->c, sizeof(buf));
	memset(buf, 'r', sizeof(buf));

	/* one byte over what SO_SNDBUF allows, blocking or not: at once */
	ASSERT_EQ(-1, send(self->c, buf, sndbuf - 31, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(EMSGSIZE, errno);
	t0 = cu_now_ms();
	ASSERT_EQ(-1, send(self->c, buf, sndbuf - 31, MSG_NOSIGNAL));
	ASSERT_EQ(EMSGSIZE, errno);
	ASSERT_GT(CU_AT_ONCE_MS, cu_now_ms() - t0);
	ASSERT_EQ(-1, send(self->c, buf, 4 * sndbuf, MSG_NOSIGNAL));
	ASSERT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(0, cu_poll(self->a, POLLIN, 0)) {
		TH_LOG("part of a refused record reached the peer");
	}

	/* the largest record allowed goes through whole */
	n = send(self->c, buf, sndbuf - 32, MSG_NOSIGNAL);
	ASSERT_EQ(sndbuf - 32, n) {
		TH_LOG("record of SO_SNDBUF - 32 = %d bytes: %s", sndbuf - 32,
		       n < 0 ? strerror(errno) : "short");
	}
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	ASSERT_EQ(sndbuf - 32, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	cu_expect_empty(_metadata, self->a);
}

TEST_F(seqpacket, zero_length_record_is_a_record_not_eof)
{
	char buf[8];
	int fl;

	ASSERT_EQ(1, send(self->c, "a", 1, MSG_DONTWAIT));
	ASSERT_EQ(0, send(self->c, "", 0, MSG_DONTWAIT));
	ASSERT_EQ(1, send(self->c, "b", 1, MSG_DONTWAIT));
	ASSERT_EQ(0, send(self->c, buf, 0, MSG_DONTWAIT));
	expect_record(_metadata, self->a, "a");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, 0));
	ASSERT_EQ(0, cu_recvmsg(_metadata, self->a, buf, sizeof(buf), MSG_DONTWAIT, &fl, NULL));
	ASSERT_EQ(0, fl & MSG_TRUNC);
	expect_record(_metadata, self->a, "b");
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, 0)) {
		TH_LOG("a queued zero-length record does not make the socket readable");
	}
	ASSERT_EQ(0, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	/* both were records, not end of file: the connection is intact */
	cu_expect_empty(_metadata, self->a);
	cu_expect_healthy(_metadata, self->a);
	cu_send_str(_metadata, self->c, "more");
	expect_record(_metadata, self->a, "more");
}

TEST_F(seqpacket, siocinq_counts_all_queued_records)
{
	char buf[300];

	memset(buf, 'q', sizeof(buf));
	ASSERT_EQ(100, send(self->c, buf, 100, MSG_DONTWAIT));
	ASSERT_EQ(200, send(self->c, buf, 200, MSG_DONTWAIT));
	ASSERT_EQ(POLLIN, cu_poll(self->a, POLLIN, CU_WAIT_MS));
	ASSERT_EQ(300, cu_ioctl_int(_metadata, self->a, SIOCINQ));
	/* a short read takes the whole first record off the queue */
	ASSERT_EQ(50, recv(self->a, buf, 50, MSG_DONTWAIT));
	ASSERT_EQ(200, cu_ioctl_int(_metadata, self->a, SIOCINQ));
	ASSERT_EQ(200, recv(self->a, buf, sizeof(buf), MSG_DONTWAIT));
	ASSERT_EQ(0, cu_ioctl_int(_metadata, self->a, SIOCINQ));
}

TEST_F(seqpacket, full_buffer_never_splits_a_record)
{
	static char buf[4096];
	int val = 8192, records = 0, i;
	ssize_t n;

	ASSERT_EQ(0, setsockopt(self->c, SOL_SOCKET, SO_SNDBUF, &val, sizeof(val)));
	memset(buf, 'f', sizeof(buf));
	for (;;) {
		n = send(self->c, buf, 1000, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			break;
		ASSERT_EQ(1000, n);
		records++;
		ASSERT_GT(100000, records) {
			TH_LOG("no flow control: %d records queued", records);
		}
	}
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_LT(0, records);
	/* a bigger record does not fit either: all of it waits, none is sent */
	ASSERT_EQ(-1, send(self->c, buf, 3000, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(EAGAIN, errno);

	for (i = 0; i < records; i++) {
		ASSERT_EQ(1000, cu_recv_wait(self->a, buf, sizeof(buf), 0)) {
			TH_LOG("record %d of %d", i, records);
		}
	}
	cu_expect_empty(_metadata, self->a);
	ASSERT_EQ(3000, send(self->c, buf, 3000, MSG_DONTWAIT | MSG_NOSIGNAL));
	ASSERT_EQ(3000, cu_recv_wait(self->a, buf, sizeof(buf), 0));
}

/* ---- many records through a blocking writer --------------------------------- */

#define NRECORDS	600
#define MAXREC		4000

static size_t rec_len(int i)
{
	return 1 + ((unsigned int)i * 2654435761u >> 7) % MAXREC;
}

static unsigned char rec_byte(int i, size_t off)
{
	return (unsigned char)(i ^ (off * 31) ^ (off >> 8));
}

struct rec_writer {
	int fd;
	int sent;
	int err;
};

static void *rec_writer_thread(void *arg)
{
	static unsigned char buf[MAXREC];
	struct rec_writer *w = arg;
	size_t len, off;
	int i;

	for (i = 0; i < NRECORDS; i++) {
		len = rec_len(i);
		for (off = 0; off < len; off++)
			buf[off] = rec_byte(i, off);
		if (send(w->fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
			w->err = errno ? errno : EIO;
			break;
		}
		w->sent++;
	}
	return NULL;
}

TEST_F(seqpacket, many_records_keep_their_order_and_size)
{
	static unsigned char buf[2 * MAXREC];
	struct rec_writer w = { .fd = self->c };
	int val = 16384, i, bad = -1;
	pthread_t t;
	size_t off;
	ssize_t n;

	/* a small buffer, so the writer blocks and wakes many times */
	ASSERT_EQ(0, setsockopt(self->c, SOL_SOCKET, SO_SNDBUF, &val, sizeof(val)));
	cu_set_timeo(_metadata, self->c, SO_SNDTIMEO, 10000);
	cu_set_timeo(_metadata, self->a, SO_RCVTIMEO, 10000);
	ASSERT_EQ(0, pthread_create(&t, NULL, rec_writer_thread, &w));
	for (i = 0; i < NRECORDS; i++) {
		n = recv(self->a, buf, sizeof(buf), 0);
		if (n != (ssize_t)rec_len(i)) {
			bad = i;
			break;
		}
		for (off = 0; off < (size_t)n; off++) {
			if (buf[off] != rec_byte(i, off) && bad < 0)
				bad = i;
		}
		if (bad >= 0)
			break;
	}
	ASSERT_TRUE(cu_join(t, 10000));
	ASSERT_EQ(0, w.err) {
		TH_LOG("writer: %s after %d records", strerror(w.err), w.sent);
	}
	ASSERT_EQ(-1, bad) {
		TH_LOG("record %d: got %zd bytes, want %zu, or other content",
		       bad, n, rec_len(bad));
	}
	cu_expect_empty(_metadata, self->a);
}

TEST_HARNESS_MAIN
