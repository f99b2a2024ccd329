/* SPDX-License-Identifier: MIT */
/*
 * A scripted AMI server for unit tests: a thread on one end of a socketpair that either plays
 * a recording in lockstep (greeting, then for each action the client sends, the recorded
 * answer with the client's ActionID), or writes raw bytes. It keeps every byte the client
 * sent, so tests can compare them with the .sent recordings.
 */
#ifndef TEST_AMI_FAKEPEER_H
#define TEST_AMI_FAKEPEER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct fake_chunk {
	char *data;
	size_t len;
};

struct fake_peer {
	int fd;                  /* the peer's end */
	pthread_t thread;
	bool lockstep;
	char *greeting;          /* lockstep: the first line, CRLF included */
	struct fake_chunk *chunks;
	size_t n_chunks;
	char *raw;               /* raw mode: written as soon as the thread starts */
	size_t raw_len;
	bool eof_after_raw;      /* raw mode: shut down the write side after the bytes */
	char *sent;              /* everything the client sent */
	size_t sent_len;
	int actions;             /* actions received */
};

/* Read tests/fixtures/ami/@name whole; aborts the test when missing. */
char *fixture(const char *name, size_t *ret_len);

/*
 * Play the recording @name (.recv) in lockstep; @extra (may be NULL) is appended to the
 * recording as further answers. Returns the client's end of the socketpair.
 */
int fake_start_recording(struct fake_peer *f, const char *name, const char *extra);

/* Write @data (@len bytes) at once, then read until the client closes. */
int fake_start_raw(struct fake_peer *f, const char *data, size_t len, bool eof_after);

/* Wait for the client to close its end, then stop the thread (f->sent stays valid). */
void fake_finish(struct fake_peer *f);
void fake_free(struct fake_peer *f);

/* @s with every "ActionID: <digits>" replaced by "ActionID: N", for comparisons. */
char *mask_action_ids(const char *s, size_t len);

#endif
