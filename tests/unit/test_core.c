/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Unit tests of the host core: requests, batches, refusals, stats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core_rig.h"

static void test_map_unmap(void **state)
{
	struct rig *r = rig_new(NULL, NULL);
	struct adma_resp a, b;
	uint64_t addr, avail;

	(void)state;
	assert_int_equal(exec(r, map_req(0x123456, 5000), &a), ADMA_S_OK);
	assert_int_equal(a.status, ADMA_S_OK);
	assert_int_equal(a.nsegs, 1);
	assert_int_equal(a.seg[0].len, 5000);
	assert_int_equal(a.seg[0].iova % PG, 0x123456 % PG);
	assert_int_not_equal(a.handle, 0);
	/* same GPA again: a different handle */
	assert_int_equal(exec(r, map_req(0x123456, 5000), &b), ADMA_S_OK);
	assert_int_not_equal(a.handle, b.handle);
	assert_int_not_equal(a.seg[0].iova, b.seg[0].iova);
	assert_int_equal(adma_core_stats(r->c)->live_maps, 2);
	/* 0x3456 + 5000 crosses a page boundary: two pages each */
	assert_int_equal(adma_core_stats(r->c)->live_bytes, 4 * PG);

	assert_int_equal(exec(r, unmap_req(a.handle), NULL), ADMA_S_OK);
	assert_int_equal(dartsim_translate(r->d, a.seg[0].iova,
					   DARTSIM_ACC_READ, &addr, &avail), -1);
	assert_int_equal(dartsim_translate(r->d, b.seg[0].iova + 4999,
					   DARTSIM_ACC_WRITE, &addr, &avail), 0);
	assert_int_equal(addr, 0x123456 + 4999);
	/* double unmap, unknown and zero handles */
	assert_int_equal(exec(r, unmap_req(a.handle), NULL), ADMA_S_BAD_HANDLE);
	assert_int_equal(exec(r, unmap_req(0), NULL), ADMA_S_BAD_HANDLE);
	assert_int_equal(exec(r, unmap_req(b.handle + (1ull << 32)), NULL),
			 ADMA_S_BAD_HANDLE);
	assert_int_equal(exec(r, unmap_req(~0ull), NULL), ADMA_S_BAD_HANDLE);
	assert_int_equal(exec(r, unmap_req(b.handle), NULL), ADMA_S_OK);
	assert_int_equal(adma_core_stats(r->c)->live_maps, 0);
	assert_int_equal(adma_core_stats(r->c)->live_bytes, 0);
	assert_int_equal(adma_core_stats(r->c)->peak_maps, 2);
	assert_int_equal(dartsim_stats(r->d)->live_maps, 0);
	rig_free(r);
}

static void test_invalid(void **state)
{
	struct rig *r = rig_new(NULL, NULL);
	struct adma_req q;

	(void)state;
	assert_int_equal(exec(r, map_req(0x1000, 0), NULL), ADMA_S_INVALID);
	assert_int_equal(exec(r, map_req(~0ull - 10, 100), NULL),
			 ADMA_S_INVALID);
	assert_int_equal(exec(r, map_req(~0ull - 2 * PG, 2 * PG - 5), NULL),
			 ADMA_S_INVALID);	/* page-rounded end wraps */
	q = map_req(0x1000, 10);
	q.flags = 0;
	assert_int_equal(exec(r, q, NULL), ADMA_S_INVALID);
	q.flags = 0x80;
	assert_int_equal(exec(r, q, NULL), ADMA_S_INVALID);
	q = map_req(0x1000, 10);
	q.rsvd1 = 1;
	assert_int_equal(exec(r, q, NULL), ADMA_S_INVALID);
	q = map_req(0x1000, 10);
	q.op = 7;
	assert_int_equal(exec(r, q, NULL), ADMA_S_INVALID);
	q = unmap_req(1);
	q.len = 5;
	assert_int_equal(exec(r, q, NULL), ADMA_S_INVALID);
	assert_int_equal(adma_core_stats(r->c)->status[ADMA_S_INVALID], 8);
	assert_int_equal(adma_core_stats(r->c)->requests[ADMA_STAT_BADOP], 1);
	assert_int_equal(adma_core_stats(r->c)->refusals, 8);
	assert_int_equal(dartsim_stats(r->d)->maps, 0);
	rig_free(r);
}

static void test_range(void **state)
{
	struct rig *r = rig_new(NULL, NULL);

	(void)state;
	/* in the hole between the regions, across an end, beyond RAM */
	assert_int_equal(exec(r, map_req(128 * MiB, PG), NULL), ADMA_S_RANGE);
	assert_int_equal(exec(r, map_req(64 * MiB - 10, 11), NULL),
			 ADMA_S_RANGE);
	assert_int_equal(exec(r, map_req((1ull << 32) + 16 * MiB, 1), NULL),
			 ADMA_S_RANGE);
	assert_int_equal(exec(r, map_req(64 * MiB - 10, 10), NULL), ADMA_S_OK);
	assert_int_equal(exec(r, map_req(1ull << 32, 16 * MiB), NULL),
			 ADMA_S_OK);
	assert_int_equal(adma_core_stats(r->c)->status[ADMA_S_RANGE], 3);
	assert_int_equal(dartsim_stats(r->d)->maps, 2);
	rig_free(r);
}

static void test_limits_and_injection(void **state)
{
	struct dartsim_config dc = { .max_maps = 3, .max_bytes = 8 * PG,
				     .fail_nth = 4 };
	struct rig *r = rig_new(NULL, &dc);
	struct adma_resp a;

	(void)state;
	assert_int_equal(exec(r, map_req(0, 4 * PG), &a), ADMA_S_OK);
	assert_int_equal(exec(r, map_req(0, 5 * PG), NULL), ADMA_S_NO_SPACE);
	assert_int_equal(exec(r, map_req(0, PG), NULL), ADMA_S_OK);
	assert_int_equal(exec(r, map_req(0, PG), NULL), ADMA_S_OK);
	assert_int_equal(exec(r, map_req(0, PG), NULL), ADMA_S_NO_SPACE);
	assert_int_equal(exec(r, unmap_req(a.handle), NULL), ADMA_S_OK);
	/* the 4th backend map is the injected failure: nothing stays mapped */
	assert_int_equal(exec(r, map_req(0, PG), NULL), ADMA_S_IO_ERROR);
	assert_int_equal(adma_core_stats(r->c)->live_maps, 2);
	assert_int_equal(dartsim_stats(r->d)->live_maps, 2);
	assert_int_equal(exec(r, map_req(0, PG), NULL), ADMA_S_OK);
	assert_int_equal(adma_core_stats(r->c)->status[ADMA_S_NO_SPACE], 2);
	assert_int_equal(adma_core_stats(r->c)->status[ADMA_S_IO_ERROR], 1);
	rig_free(r);
}

static void test_batch(void **state)
{
	struct rig *r = rig_new(NULL, NULL);
	struct adma_req q[40];
	uint64_t handles[20];
	int i;

	(void)state;
	for (i = 0; i < 20; i++)
		q[i] = map_req(0x100000 + (uint64_t)i * 0x3000, 0x1800);
	q[7] = map_req(0x100000, 0);		/* fails alone */
	put_batch(r, q, 20);
	assert_int_equal(adma_core_doorbell(r->c, CMD), ADMA_S_OK);
	assert_int_equal(cmd_of(r)->status, ADMA_S_OK);
	assert_int_equal(cmd_of(r)->done, 20);
	assert_int_equal(cmd_of(r)->failed, 1);
	for (i = 0; i < 20; i++) {
		assert_int_equal(resp_of(r, i)->status,
				 i == 7 ? ADMA_S_INVALID : ADMA_S_OK);
		handles[i] = resp_of(r, i)->handle;
	}
	assert_int_equal(adma_core_stats(r->c)->live_maps, 19);

	for (i = 0; i < 20; i++)
		q[i] = unmap_req(handles[i]);
	put_batch(r, q, 20);
	assert_int_equal(adma_core_doorbell(r->c, CMD), ADMA_S_OK);
	assert_int_equal(cmd_of(r)->failed, 1);
	assert_int_equal(resp_of(r, 7)->status, ADMA_S_BAD_HANDLE);
	assert_int_equal(adma_core_stats(r->c)->live_maps, 0);
	assert_int_equal(adma_core_stats(r->c)->batches, 2);
	assert_int_equal(adma_core_stats(r->c)->bad_batches, 0);
	assert_int_equal(adma_core_stats(r->c)->requests[ADMA_STAT_MAP], 20);
	assert_int_equal(adma_core_stats(r->c)->requests[ADMA_STAT_UNMAP], 20);

	/* an empty batch is fine */
	put_batch(r, q, 0);
	assert_int_equal(adma_core_doorbell(r->c, CMD), ADMA_S_OK);
	assert_int_equal(cmd_of(r)->done, 0);
	rig_free(r);
}

static void test_bad_batches(void **state)
{
	struct adma_core_config cc = { .max_batch = 8 };
	struct rig *r = rig_new(&cc, NULL);
	struct adma_req q[9];
	struct adma_cmd *cmd;
	int i;

	(void)state;
	for (i = 0; i < 9; i++)
		q[i] = map_req(0x100000, 100);
	/* a block outside RAM, a misaligned one: nothing written anywhere */
	assert_int_equal(adma_core_doorbell(r->c, 100 * MiB), ADMA_S_RANGE);
	assert_int_equal(adma_core_doorbell(r->c, CMD + 4), ADMA_S_RANGE);
	assert_int_equal(r->g.writes, 0);
	/* more requests than advertised: refused whole */
	put_batch(r, q, 9);
	assert_int_equal(adma_core_doorbell(r->c, CMD), ADMA_S_TOO_MANY);
	assert_int_equal(cmd_of(r)->status, ADMA_S_TOO_MANY);
	assert_int_equal(resp_of(r, 0)->status, ADMA_S_PENDING);
	/* bad magic, bad version */
	put_batch(r, q, 1);
	cmd_of(r)->magic = 0;
	assert_int_equal(adma_core_doorbell(r->c, CMD), ADMA_S_BAD_BLOCK);
	put_batch(r, q, 1);
	cmd_of(r)->version = ADMA_VERSION_MAJOR + 1;
	assert_int_equal(adma_core_doorbell(r->c, CMD), ADMA_S_BAD_BLOCK);
	/* response array out of RAM: refused before anything is mapped */
	put_batch(r, q, 4);
	cmd = cmd_of(r);
	cmd->resp_gpa = 64 * MiB - 2 * sizeof(struct adma_resp);
	assert_int_equal(adma_core_doorbell(r->c, CMD), ADMA_S_RANGE);
	assert_int_equal(cmd->done, 0);
	assert_int_equal(adma_core_stats(r->c)->bad_batches, 6);
	assert_int_equal(adma_core_stats(r->c)->live_maps, 0);
	assert_int_equal(dartsim_stats(r->d)->maps, 0);
	rig_free(r);
}

static void test_write_failure_rolls_back(void **state)
{
	struct rig *r = rig_new(NULL, NULL);
	struct adma_req q[40];
	int i;

	(void)state;
	for (i = 0; i < 40; i++)
		q[i] = map_req(0x100000 + (uint64_t)i * PG, PG);
	put_batch(r, q, 40);
	/* the first chunk's answers land, the second's do not */
	r->g.writes_left = 1;
	assert_int_equal(adma_core_doorbell(r->c, CMD), ADMA_S_IO_ERROR);
	assert_int_equal(adma_core_stats(r->c)->live_maps, 16);
	assert_int_equal(dartsim_stats(r->d)->live_maps, 16);
	rig_free(r);
}

static void test_reset(void **state)
{
	struct rig *r = rig_new(NULL, NULL);
	struct adma_resp a;
	uint64_t addr, avail;
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		assert_int_equal(exec(r, map_req((uint64_t)i * PG, 3 * PG), &a),
				 ADMA_S_OK);
	adma_core_reset(r->c);
	assert_int_equal(adma_core_stats(r->c)->live_maps, 0);
	assert_int_equal(adma_core_stats(r->c)->live_bytes, 0);
	assert_int_equal(dartsim_stats(r->d)->live_maps, 0);
	assert_int_equal(dartsim_stats(r->d)->live_bytes, 0);
	assert_int_equal(dartsim_translate(r->d, a.seg[0].iova,
					   DARTSIM_ACC_READ, &addr, &avail), -1);
	/* handles from before the reset are dead */
	assert_int_equal(exec(r, unmap_req(a.handle), NULL), ADMA_S_BAD_HANDLE);
	rig_free(r);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(adma_status_name(ADMA_S_OK), "ok");
	assert_string_equal(adma_status_name(ADMA_S_FRAGMENTED), "fragmented");
	assert_string_equal(adma_status_name(ADMA_S__COUNT), "unknown");
	assert_string_equal(adma_status_name(-1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_unmap),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_limits_and_injection),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_bad_batches),
		cmocka_unit_test(test_write_failure_rolls_back),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_status_names),
	};

	return cmocka_run_group_tests_name("host core", tests, NULL, NULL);
}
