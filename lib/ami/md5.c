/* SPDX-License-Identifier: MIT */
/*
 * A compact MD5 (RFC 1321) written from the specification, for the AMI challenge login.
 * MD5 is broken as a hash; AMI's challenge uses it only to avoid sending the secret in clear.
 */
#include <string.h>

#include "md5.h"

static const uint32_t K[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
	0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
	0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
	0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
	0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
	0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
	0xeb86d391,
};

static const unsigned char S[64] = {
	7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
	5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
	4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
	6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};

static uint32_t rotl(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void transform(uint32_t state[4], const unsigned char block[64])
{
	uint32_t m[16], a = state[0], b = state[1], c = state[2], d = state[3];

	for (int i = 0; i < 16; i++)
		m[i] = (uint32_t)block[i * 4] | (uint32_t)block[i * 4 + 1] << 8 |
		       (uint32_t)block[i * 4 + 2] << 16 | (uint32_t)block[i * 4 + 3] << 24;
	for (int i = 0; i < 64; i++) {
		uint32_t f;
		int g;

		if (i < 16) {
			f = (b & c) | (~b & d);
			g = i;
		} else if (i < 32) {
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
		} else if (i < 48) {
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
		} else {
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
		}
		f += a + K[i] + m[g];
		a = d;
		d = c;
		c = b;
		b += rotl(f, S[i]);
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
}

void pbx_ami_md5_init(struct pbx_ami_md5 *c)
{
	*c = (struct pbx_ami_md5){
		.state = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 },
	};
}

void pbx_ami_md5_update(struct pbx_ami_md5 *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t used = (size_t)(c->bytes % 64);

	c->bytes += len;
	while (len > 0) {
		size_t take = 64 - used < len ? 64 - used : len;

		memcpy(c->block + used, p, take);
		used += take;
		p += take;
		len -= take;
		if (used == 64) {
			transform(c->state, c->block);
			used = 0;
		}
	}
}

void pbx_ami_md5_final(struct pbx_ami_md5 *c, unsigned char digest[16])
{
	static const unsigned char pad[64] = { 0x80 };
	uint64_t bits = c->bytes * 8;
	unsigned char len[8];
	size_t used = (size_t)(c->bytes % 64);

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (8 * i));
	pbx_ami_md5_update(c, pad, used < 56 ? 56 - used : 120 - used);
	pbx_ami_md5_update(c, len, 8);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			digest[i * 4 + j] = (unsigned char)(c->state[i] >> (8 * j));
	memset(c, 0, sizeof(*c));
}

void pbx_ami_md5_hex(const void *data, size_t len, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	struct pbx_ami_md5 c;
	unsigned char d[16];

	pbx_ami_md5_init(&c);
	pbx_ami_md5_update(&c, data, len);
	pbx_ami_md5_final(&c, d);
	for (int i = 0; i < 16; i++) {
		out[i * 2] = hex[d[i] >> 4];
		out[i * 2 + 1] = hex[d[i] & 15];
	}
	out[32] = '\0';
}
