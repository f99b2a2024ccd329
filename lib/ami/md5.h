/* SPDX-License-Identifier: MIT */
/*
 * MD5 (RFC 1321), needed only for AMI's challenge login: Key = md5hex(challenge + secret).
 * Self-contained so the test AMI peer can compile it too.
 */
#ifndef PBX_AMI_MD5_H
#define PBX_AMI_MD5_H

#include <stddef.h>
#include <stdint.h>

struct pbx_ami_md5 {
	uint32_t state[4];
	uint64_t bytes;
	unsigned char block[64];
};

void pbx_ami_md5_init(struct pbx_ami_md5 *c);
void pbx_ami_md5_update(struct pbx_ami_md5 *c, const void *data, size_t len);
void pbx_ami_md5_final(struct pbx_ami_md5 *c, unsigned char digest[16]);

/* Lower-case hex digest of @data into @out (33 bytes with the NUL). */
void pbx_ami_md5_hex(const void *data, size_t len, char out[33]);

#endif
