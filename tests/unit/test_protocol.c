/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * The wire layout, byte by byte: what a guest of either endianness and the
 * device must agree on. (Sizes are also static-asserted in the header; this
 * checks the encoding of each field on the wire.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "apple_dma.h"

static void test_sizes(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct adma_req), 32);
	assert_int_equal(sizeof(struct adma_resp), 80);
	assert_int_equal(sizeof(struct adma_cmd), 40);
	assert_int_equal(offsetof(struct adma_cmd, status), 12);
	assert_int_equal(offsetof(struct adma_cmd, resp_gpa), 24);
	assert_int_equal(offsetof(struct adma_cmd, failed), 36);
	assert_int_equal(offsetof(struct adma_resp, nsegs), 4);
	assert_int_equal(offsetof(struct adma_req, len), 16);
	/* requests and responses stay 8-byte aligned in arrays */
	assert_int_equal(sizeof(struct adma_req) % 8, 0);
	assert_int_equal(sizeof(struct adma_resp) % 8, 0);
}

static void test_registers(void **state)
{
	(void)state;
	/* every register inside BAR0, 32-bit aligned, doorbell 64-bit */
	assert_true(ADMA_REG_DOORBELL % 8 == 0);
	assert_true(ADMA_REG_DOORBELL + 8 <= ADMA_BAR0_SIZE);
	assert_true(ADMA_REG_BAD_BATCHES < ADMA_REG_DOORBELL);
	assert_int_equal(ADMA_PAGE_SIZE, 16384);
	assert_int_equal(ADMA_VERSION_GET_MAJOR(ADMA_VERSION),
			 ADMA_VERSION_MAJOR);
	assert_int_equal(ADMA_VERSION_GET_MINOR(ADMA_VERSION),
			 ADMA_VERSION_MINOR);
	assert_int_equal(ADMA_MANAGED_BUS(0x80000312u), 3);
	assert_int_equal(ADMA_MANAGED_DEVFN(0x80000312u), 0x12);
}

static void test_status_zero_is_pending(void **state)
{
	static const char *const names[] = ADMA_STATUS_NAMES;
	struct adma_cmd cmd;
	struct adma_resp resp;

	(void)state;
	/* zeroed memory - what a guest finds before the device answered -
	 * must never read as success */
	memset(&cmd, 0, sizeof(cmd));
	memset(&resp, 0, sizeof(resp));
	assert_int_not_equal(cmd.status, ADMA_S_OK);
	assert_int_equal(resp.status, ADMA_S_PENDING);
	assert_int_not_equal(ADMA_S_OK, 0);
	assert_int_equal(sizeof(names) / sizeof(names[0]), ADMA_S__COUNT);
	assert_string_equal(names[ADMA_S_NO_SPACE], "no_space");
}

static void test_little_endian_encoding(void **state)
{
	struct adma_req q = { .op = ADMA_OP_MAP, .flags = ADMA_DIR_TO_DEVICE,
			      .gpa = 0x0102030405060708ull, .len = 0x1000 };
	unsigned char b[sizeof(q)];

	(void)state;
	memcpy(b, &q, sizeof(q));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	assert_int_equal(b[0], ADMA_OP_MAP);
	assert_int_equal(b[1], ADMA_DIR_TO_DEVICE);
	assert_int_equal(b[8], 0x08);
	assert_int_equal(b[15], 0x01);
	assert_int_equal(b[17], 0x10);
#else
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_status_zero_is_pending),
		cmocka_unit_test(test_little_endian_encoding),
	};

	return cmocka_run_group_tests_name("protocol", tests, NULL, NULL);
}
