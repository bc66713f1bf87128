/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random
  numbers: as easy as 1, 2, 3", SC'11). A block of four 32-bit words is a pure function of a
  128-bit counter and a 64-bit key, so any draw of any trajectory can be regenerated alone.

  Layout used by stgssa (DESIGN.md section 3):
    key     = { trajectory index (global, < 2^32), seed }
    counter = { block within the event, event low 32 bits, event high 32 bits, iteration }
  Block 0 of an event drives the forward SSA step; blocks >= 1 are reserved for draws that only
  derivative estimators need, so that the forward path never depends on the estimator (ST-GS:
  reaction i's exponential from word i % 4 of block 1 + i / 4, StgssaUniformOpen32).
*/
#ifndef STGSSA_RNG_H
#define STGSSA_RNG_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint32_t v[4];
} StgssaPhiloxCtr;

typedef struct {
  uint32_t v[2];
} StgssaPhiloxKey;

#define STGSSA_PHILOX_M0 0xD2511F53u
#define STGSSA_PHILOX_M1 0xCD9E8D57u
#define STGSSA_PHILOX_W0 0x9E3779B9u /* golden ratio */
#define STGSSA_PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

static inline void StgssaPhiloxRound(uint32_t c[4], const uint32_t k[2])
{
  const uint64_t p0 = (uint64_t)STGSSA_PHILOX_M0 * c[0];
  const uint64_t p1 = (uint64_t)STGSSA_PHILOX_M1 * c[2];
  const uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
  const uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
  c[0] = hi1 ^ c[1] ^ k[0];
  c[1] = lo1;
  c[2] = hi0 ^ c[3] ^ k[1];
  c[3] = lo0;
}

/* Philox4x32 with 10 rounds: the 4 output words for counter ctr under key key. */
static inline StgssaPhiloxCtr StgssaPhilox4x32_10(StgssaPhiloxCtr ctr, StgssaPhiloxKey key)
{
  uint32_t c[4] = {ctr.v[0], ctr.v[1], ctr.v[2], ctr.v[3]};
  uint32_t k[2] = {key.v[0], key.v[1]};
  for (int r = 0; r < 10; r++) {
    if (r > 0) {
      k[0] += STGSSA_PHILOX_W0;
      k[1] += STGSSA_PHILOX_W1;
    }
    StgssaPhiloxRound(c, k);
  }
  StgssaPhiloxCtr out = {{c[0], c[1], c[2], c[3]}};
  return out;
}

/* Uniform double in the open interval (0, 1) from two words: the top 52 bits b give
   (b + 1/2) 2^-52, exact in double, within [2^-53, 1 - 2^-53], so log(u) and log(-log(u))
   are always finite. */
static inline double StgssaUniformOpen(uint32_t hi, uint32_t lo)
{
  const uint64_t bits = (((uint64_t)hi << 32) | lo) >> 12, dbits = bits | 0x4330000000000000ull; /* 52 bits; the double 2^52 + bits */
  double         d;
  memcpy(&d, &dbits, sizeof(d));
  return ((d - 0x1.0p52) + 0.5) * 0x1.0p-52; /* d - 2^52 = (double)bits exactly; SSE2 vectorizes this, not (double)bits */
}

/* Uniform double in the open interval (0, 1) from one word w: (w + 1/2) 2^-32, within
   [2^-33, 1 - 2^-33] (32 bits: for draws that feed only derivative estimators). */
static inline double StgssaUniformOpen32(uint32_t w)
{
  const uint64_t dbits = (uint64_t)w | 0x4330000000000000ull; /* the double 2^52 + w */
  double         d;
  memcpy(&d, &dbits, sizeof(d));
  return ((d - 0x1.0p52) + 0.5) * 0x1.0p-32;
}

static inline StgssaPhiloxKey StgssaRngKey(uint32_t seed, uint64_t trajectory)
{
  StgssaPhiloxKey key = {{(uint32_t)trajectory, seed}};
  return key;
}

static inline StgssaPhiloxCtr StgssaRngCounter(uint32_t iteration, uint64_t event, uint32_t block)
{
  StgssaPhiloxCtr ctr = {{block, (uint32_t)event, (uint32_t)(event >> 32), iteration}};
  return ctr;
}

/* Eight Philox4x32-10 blocks at once, for counters {block, event0 + i, event_hi, iteration},
   i = 0..7 (the forward blocks of 8 consecutive events); lane i is bitwise StgssaPhilox4x32_10
   of that counter. Requires event0 + 7 not to carry into the high word (the caller aligns
   event0 to 8). With SSE2 (every x86-64) four lanes share each vector instruction. */
#define STGSSA_PHILOX_LANES 8
#if defined(__SSE2__)
  #include <emmintrin.h>
/* lo and hi 32-bit halves of the lane-wise products m * a, for four lanes */
static inline void StgssaMulHiLo4(__m128i a, __m128i m, __m128i *hi, __m128i *lo)
{
  const __m128i p02 = _mm_shuffle_epi32(_mm_mul_epu32(a, m), _MM_SHUFFLE(3, 1, 2, 0));                     /* lo0 lo2 hi0 hi2 */
  const __m128i p13 = _mm_shuffle_epi32(_mm_mul_epu32(_mm_srli_epi64(a, 32), m), _MM_SHUFFLE(3, 1, 2, 0)); /* lo1 lo3 hi1 hi3 */
  *lo               = _mm_unpacklo_epi32(p02, p13);
  *hi               = _mm_unpackhi_epi32(p02, p13);
}

static inline void StgssaPhiloxEvents8SSE2(uint32_t iteration, uint64_t event0, uint32_t block, StgssaPhiloxKey key, uint32_t out[4][STGSSA_PHILOX_LANES])
{
  const __m128i m0 = _mm_set1_epi32((int)STGSSA_PHILOX_M0), m1 = _mm_set1_epi32((int)STGSSA_PHILOX_M1);
  __m128i       c0[2], c1[2], c2[2], c3[2];
  uint32_t      k0 = key.v[0], k1 = key.v[1];
  for (int h = 0; h < 2; h++) {
    const uint32_t e = (uint32_t)event0 + 4u * (uint32_t)h;
    c0[h]            = _mm_set1_epi32((int)block);
    c1[h]            = _mm_setr_epi32((int)e, (int)(e + 1), (int)(e + 2), (int)(e + 3));
    c2[h]            = _mm_set1_epi32((int)(uint32_t)(event0 >> 32));
    c3[h]            = _mm_set1_epi32((int)iteration);
  }
  for (int r = 0; r < 10; r++) {
    if (r > 0) {
      k0 += STGSSA_PHILOX_W0;
      k1 += STGSSA_PHILOX_W1;
    }
    const __m128i kk0 = _mm_set1_epi32((int)k0), kk1 = _mm_set1_epi32((int)k1);
    for (int h = 0; h < 2; h++) {
      __m128i hi0, lo0, hi1, lo1;
      StgssaMulHiLo4(c0[h], m0, &hi0, &lo0);
      StgssaMulHiLo4(c2[h], m1, &hi1, &lo1);
      c0[h] = _mm_xor_si128(_mm_xor_si128(hi1, c1[h]), kk0);
      c2[h] = _mm_xor_si128(_mm_xor_si128(hi0, c3[h]), kk1);
      c1[h] = lo1;
      c3[h] = lo0;
    }
  }
  for (int h = 0; h < 2; h++) {
    _mm_storeu_si128((__m128i *)&out[0][4 * h], c0[h]);
    _mm_storeu_si128((__m128i *)&out[1][4 * h], c1[h]);
    _mm_storeu_si128((__m128i *)&out[2][4 * h], c2[h]);
    _mm_storeu_si128((__m128i *)&out[3][4 * h], c3[h]);
  }
}
  #if defined(__x86_64__) && defined(__GNUC__) && !defined(__AVX2__)
    #include <immintrin.h>
/* The same eight lanes in one 256-bit register per word (AVX2, chosen at run time): the 256-bit
   shuffles and unpacks act on each 128-bit half as the SSE2 ones do, so the words are those above. */
__attribute__((target("avx2"))) static inline void StgssaPhiloxEvents8AVX2(uint32_t iteration, uint64_t event0, uint32_t block, StgssaPhiloxKey key, uint32_t out[4][STGSSA_PHILOX_LANES])
{
  const __m256i m0 = _mm256_set1_epi32((int)STGSSA_PHILOX_M0), m1 = _mm256_set1_epi32((int)STGSSA_PHILOX_M1);
  const uint32_t e  = (uint32_t)event0;
  __m256i        c0 = _mm256_set1_epi32((int)block), c2 = _mm256_set1_epi32((int)(uint32_t)(event0 >> 32)), c3 = _mm256_set1_epi32((int)iteration);
  __m256i        c1 = _mm256_setr_epi32((int)e, (int)(e + 1), (int)(e + 2), (int)(e + 3), (int)(e + 4), (int)(e + 5), (int)(e + 6), (int)(e + 7));
  uint32_t       k0 = key.v[0], k1 = key.v[1];
  for (int r = 0; r < 10; r++) {
    if (r > 0) {
      k0 += STGSSA_PHILOX_W0;
      k1 += STGSSA_PHILOX_W1;
    }
    const __m256i p02a = _mm256_shuffle_epi32(_mm256_mul_epu32(c0, m0), _MM_SHUFFLE(3, 1, 2, 0));
    const __m256i p13a = _mm256_shuffle_epi32(_mm256_mul_epu32(_mm256_srli_epi64(c0, 32), m0), _MM_SHUFFLE(3, 1, 2, 0));
    const __m256i p02b = _mm256_shuffle_epi32(_mm256_mul_epu32(c2, m1), _MM_SHUFFLE(3, 1, 2, 0));
    const __m256i p13b = _mm256_shuffle_epi32(_mm256_mul_epu32(_mm256_srli_epi64(c2, 32), m1), _MM_SHUFFLE(3, 1, 2, 0));
    const __m256i lo0 = _mm256_unpacklo_epi32(p02a, p13a), hi0 = _mm256_unpackhi_epi32(p02a, p13a);
    const __m256i lo1 = _mm256_unpacklo_epi32(p02b, p13b), hi1 = _mm256_unpackhi_epi32(p02b, p13b);
    c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32((int)k0));
    c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32((int)k1));
    c1 = lo1;
    c3 = lo0;
  }
  _mm256_storeu_si256((__m256i *)&out[0][0], c0);
  _mm256_storeu_si256((__m256i *)&out[1][0], c1);
  _mm256_storeu_si256((__m256i *)&out[2][0], c2);
  _mm256_storeu_si256((__m256i *)&out[3][0], c3);
}

static inline void StgssaPhiloxEvents8(uint32_t iteration, uint64_t event0, uint32_t block, StgssaPhiloxKey key, uint32_t out[4][STGSSA_PHILOX_LANES])
{
  if (__builtin_cpu_supports("avx2")) StgssaPhiloxEvents8AVX2(iteration, event0, block, key, out);
  else StgssaPhiloxEvents8SSE2(iteration, event0, block, key, out);
}
  #else
static inline void StgssaPhiloxEvents8(uint32_t iteration, uint64_t event0, uint32_t block, StgssaPhiloxKey key, uint32_t out[4][STGSSA_PHILOX_LANES])
{
  StgssaPhiloxEvents8SSE2(iteration, event0, block, key, out);
}
  #endif
#else
static inline void StgssaPhiloxEvents8(uint32_t iteration, uint64_t event0, uint32_t block, StgssaPhiloxKey key, uint32_t out[4][STGSSA_PHILOX_LANES])
{
  for (int i = 0; i < STGSSA_PHILOX_LANES; i++) {
    const StgssaPhiloxCtr r = StgssaPhilox4x32_10(StgssaRngCounter(iteration, event0 + (uint64_t)i, block), key);
    for (int w = 0; w < 4; w++) out[w][i] = r.v[w];
  }
}
#endif

#ifdef __cplusplus
}
#endif
#endif
