// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the pending queue, #included at the end of pending.c
 * when the kernel has KUnit built in; they run when the module loads.
 * Entries are plain test structs: the queue knows nothing of sockets.
 */

#include <kunit/test.h>

#define CU_TEST_ENTRIES	8

struct cu_test_entry {
	struct list_head	node;
	int			id;
};

struct cu_test_queue {
	struct cu_pending	*pending;
	struct cu_test_entry	entries[CU_TEST_ENTRIES];
};

static int cu_test_init(struct kunit *test)
{
	struct cu_test_queue *q;
	int i;

	q = kunit_kzalloc(test, sizeof(*q), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	q->pending = cu_pending_alloc(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q->pending);
	for (i = 0; i < CU_TEST_ENTRIES; i++) {
		INIT_LIST_HEAD(&q->entries[i].node);
		q->entries[i].id = i;
	}
	test->priv = q;
	return 0;
}

static void cu_test_exit(struct kunit *test)
{
	struct cu_test_queue *q = test->priv;
	LIST_HEAD(rest);

	cu_pending_close(q->pending, &rest);
	cu_pending_free(q->pending);
}

/* Queue entries 0..n-1 with backlog @backlog; all must be admitted. */
static struct cu_pending *cu_test_fill(struct kunit *test, u32 backlog, int n)
{
	struct cu_test_queue *q = test->priv;
	LIST_HEAD(none);
	int i;

	cu_pending_set_backlog(q->pending, backlog, &none);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, cu_pending_add(q->pending,
						     &q->entries[i].node),
				CU_PENDING_QUEUED);
	return q->pending;
}

static int cu_test_id(struct list_head *node)
{
	return list_entry(node, struct cu_test_entry, node)->id;
}

/* The ids on @list, in order, must be @first, @first + 1, ... */
static void cu_test_expect_run(struct kunit *test, struct list_head *list,
			       int first, int n)
{
	struct list_head *node;
	int i = 0;

	list_for_each(node, list) {
		KUNIT_EXPECT_EQ(test, cu_test_id(node), first + i);
		i++;
	}
	KUNIT_EXPECT_EQ(test, i, n);
}

static void cu_test_expect_balanced(struct kunit *test,
				    struct cu_pending *pending)
{
	struct cu_listen_stats s;

	cu_pending_stats(pending, &s);
	KUNIT_EXPECT_EQ(test, s.queued, s.accepted + s.reset_shrink +
			s.reset_close + cu_pending_count(pending));
}

static void cu_test_take_is_fifo(struct kunit *test)
{
	struct cu_pending *pending = cu_test_fill(test, 5, 5);
	int i;

	for (i = 0; i < 5; i++)
		KUNIT_EXPECT_EQ(test, cu_test_id(cu_pending_take(pending)), i);
	KUNIT_EXPECT_NULL(test, cu_pending_take(pending));
	KUNIT_EXPECT_EQ(test, cu_pending_count(pending), 0U);
	cu_test_expect_balanced(test, pending);
}

static void cu_test_capacity_is_exact(struct kunit *test)
{
	struct cu_test_queue *q = test->priv;
	struct cu_pending *pending = cu_test_fill(test, 3, 3);
	struct cu_listen_stats s;

	KUNIT_EXPECT_EQ(test, cu_pending_add(pending, &q->entries[3].node),
			CU_PENDING_FULL);
	cu_pending_stats(pending, &s);
	KUNIT_EXPECT_EQ(test, s.refused_full, 1ULL);
	KUNIT_EXPECT_EQ(test, s.queued, 3ULL);

	/* a taken slot frees room at once */
	KUNIT_EXPECT_EQ(test, cu_test_id(cu_pending_take(pending)), 0);
	KUNIT_EXPECT_EQ(test, cu_pending_add(pending, &q->entries[3].node),
			CU_PENDING_QUEUED);
}

static void cu_test_closed_refuses(struct kunit *test)
{
	struct cu_test_queue *q = test->priv;

	/* a new queue is closed until it gets a backlog */
	KUNIT_EXPECT_EQ(test, cu_pending_add(q->pending, &q->entries[0].node),
			CU_PENDING_CLOSED);
	KUNIT_EXPECT_EQ(test, cu_pending_backlog(q->pending), 0U);
}

static void cu_test_grow_keeps_all(struct kunit *test)
{
	struct cu_test_queue *q = test->priv;
	struct cu_pending *pending = cu_test_fill(test, 2, 2);
	LIST_HEAD(excess);

	KUNIT_EXPECT_EQ(test, cu_pending_set_backlog(pending, 4, &excess), 2U);
	KUNIT_EXPECT_TRUE(test, list_empty(&excess));
	KUNIT_EXPECT_EQ(test, cu_pending_add(pending, &q->entries[2].node),
			CU_PENDING_QUEUED);
	KUNIT_EXPECT_EQ(test, cu_pending_count(pending), 3U);
	KUNIT_EXPECT_EQ(test, cu_test_id(cu_pending_take(pending)), 0);
}

static void cu_test_shrink_hands_back_newest(struct kunit *test)
{
	struct cu_pending *pending = cu_test_fill(test, 6, 6);
	struct cu_listen_stats s;
	LIST_HEAD(excess);
	int i;

	KUNIT_EXPECT_EQ(test, cu_pending_set_backlog(pending, 2, &excess), 6U);
	cu_test_expect_run(test, &excess, 2, 4);
	KUNIT_EXPECT_EQ(test, cu_pending_count(pending), 2U);
	KUNIT_EXPECT_EQ(test, cu_pending_backlog(pending), 2U);
	cu_pending_stats(pending, &s);
	KUNIT_EXPECT_EQ(test, s.reset_shrink, 4ULL);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test, cu_test_id(cu_pending_take(pending)), i);
	cu_test_expect_balanced(test, pending);
}

static void cu_test_shrink_to_one_keeps_oldest(struct kunit *test)
{
	struct cu_pending *pending = cu_test_fill(test, 3, 3);
	LIST_HEAD(excess);

	cu_pending_set_backlog(pending, 1, &excess);
	cu_test_expect_run(test, &excess, 1, 2);
	KUNIT_EXPECT_EQ(test, cu_test_id(cu_pending_take(pending)), 0);
}

static void cu_test_shrink_above_count_resets_none(struct kunit *test)
{
	struct cu_pending *pending = cu_test_fill(test, 6, 3);
	LIST_HEAD(excess);

	cu_pending_set_backlog(pending, 3, &excess);
	KUNIT_EXPECT_TRUE(test, list_empty(&excess));
	cu_pending_set_backlog(pending, 4, &excess);
	KUNIT_EXPECT_TRUE(test, list_empty(&excess));
	KUNIT_EXPECT_EQ(test, cu_pending_count(pending), 3U);
}

static void cu_test_close_hands_back_all(struct kunit *test)
{
	struct cu_test_queue *q = test->priv;
	struct cu_pending *pending = cu_test_fill(test, 4, 4);
	struct cu_listen_stats s;
	LIST_HEAD(all);

	cu_pending_close(pending, &all);
	cu_test_expect_run(test, &all, 0, 4);
	KUNIT_EXPECT_EQ(test, cu_pending_count(pending), 0U);
	KUNIT_EXPECT_EQ(test, cu_pending_backlog(pending), 0U);
	KUNIT_EXPECT_EQ(test, cu_pending_add(pending, &q->entries[4].node),
			CU_PENDING_CLOSED);
	cu_pending_stats(pending, &s);
	KUNIT_EXPECT_EQ(test, s.reset_close, 4ULL);
	cu_test_expect_balanced(test, pending);
}

static struct kunit_case cu_pending_test_cases[] = {
	KUNIT_CASE(cu_test_take_is_fifo),
	KUNIT_CASE(cu_test_capacity_is_exact),
	KUNIT_CASE(cu_test_closed_refuses),
	KUNIT_CASE(cu_test_grow_keeps_all),
	KUNIT_CASE(cu_test_shrink_hands_back_newest),
	KUNIT_CASE(cu_test_shrink_to_one_keeps_oldest),
	KUNIT_CASE(cu_test_shrink_above_count_resets_none),
	KUNIT_CASE(cu_test_close_hands_back_all),
	{}
};

static struct kunit_suite cu_pending_test_suite = {
	.name		= "af_custom_pending",
	.init		= cu_test_init,
	.exit		= cu_test_exit,
	.test_cases	= cu_pending_test_cases,
};

kunit_test_suite(cu_pending_test_suite);
