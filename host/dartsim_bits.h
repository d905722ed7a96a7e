/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * dartsim_bits.h - runs of set bits in one 64-bit word of a page bitmap
 * (bit i is page i of the word; here a set bit is a free page), for the
 * simulated DART's free-run index. Portable C, no OS headers.
 */
#ifndef DARTSIM_BITS_H
#define DARTSIM_BITS_H

#include <stdint.h>

/* Bits lo..hi-1 (lo < hi <= 64). */
static inline uint64_t bit_range(unsigned int lo, unsigned int hi)
{
	return (hi == 64 ? ~0ull : (1ull << hi) - 1) & (~0ull << lo);
}

/* Length of the longest run of set bits in x. */
static inline uint32_t longest_ones(uint64_t x)
{
	uint32_t best = 0, r;

	while (x) {
		x >>= __builtin_ctzll(x);
		r = ~x ? (uint32_t)__builtin_ctzll(~x) : 64;
		if (r > best)
			best = r;
		if (r == 64)
			break;
		x >>= r;
	}
	return best;
}

/* First bit of the first run of n (1..64) set bits in x; x has one. */
static inline unsigned int first_ones(uint64_t x, uint64_t n)
{
	uint64_t k = 1, step;

	/* afterwards bit i is set iff bits i..i+k-1 were */
	while (k < n) {
		step = k < n - k ? k : n - k;
		x &= x >> step;
		k += step;
	}
	return (unsigned int)__builtin_ctzll(x);
}

#endif /* DARTSIM_BITS_H */
