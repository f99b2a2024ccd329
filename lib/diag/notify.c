/* SPDX-License-Identifier: MIT */
/*
 * Webhooks (notify.webhooks in pbxctl.conf): a JSON body POSTed with libcurl to every
 * webhook that takes the event, signed "X-Pbxctl-Signature: sha256=<hex HMAC-SHA256 of the
 * body>" with the webhook's secret. Each attempt is bounded (2 s to connect, 3 s in all),
 * a failure (no answer, or a status outside 2xx) is retried twice, after 500 ms and 1 s,
 * and a delivery that still fails is logged: a webhook never fails or blocks an apply for
 * longer than about 10 s per webhook.
 */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbx/diag.h"
#include "ctx.h"

#define ATTEMPTS 3
#define CONNECT_TIMEOUT_MS 2000L
#define TIMEOUT_MS 3000L

static bool wants(const struct pbx_webhook *w, const char *event)
{
	char *copy = strdup(w->events), *save = NULL;
	bool yes = false;

	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && !yes; t = strtok_r(NULL, ",", &save)) {
		t += strspn(t, " ");
		yes = !strcmp(t, "*") || !strcmp(t, event);
	}
	free(copy);
	return yes;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

/* One attempt: 0 on a 2xx answer, else -1 with the reason in @why. */
static int post(const struct pbx_webhook *w, const char *event, const char *body, char *why,
		size_t n)
{
	char sig[32 + 2 * crypto_auth_hmacsha256_BYTES + 1], evh[96], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	long status = 0;
	CURLcode c;
	CURL *curl = curl_easy_init();
	int r = -1;

	if (!curl) {
		snprintf(why, n, "libcurl could not start");
		return -1;
	}
	if (w->secret) {
		unsigned char mac[crypto_auth_hmacsha256_BYTES];
		char hex[2 * sizeof(mac) + 1];

		crypto_auth_hmacsha256_state st;
		crypto_auth_hmacsha256_init(&st, (const unsigned char *)w->secret, strlen(w->secret));
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
		crypto_auth_hmacsha256_final(&st, mac);
		sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
		snprintf(sig, sizeof(sig), "X-Pbxctl-Signature: sha256=%s", hex);
		h = curl_slist_append(h, sig);
	}
	snprintf(evh, sizeof(evh), "X-Pbxctl-Event: %s", event);
	h = curl_slist_append(h, evh);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, w->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "pbxctl");
	c = curl_easy_perform(curl);
	if (c != CURLE_OK)
		snprintf(why, n, "%s", errbuf[0] ? errbuf : curl_easy_strerror(c));
	else if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status), status < 200 || status > 299)
		snprintf(why, n, "HTTP status %ld", status);
	else
		r = 0;
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	return r;
}

int pbx_notify(pbx_ctx *ctx, const char *event, const char *body)
{
	const struct pbx_config *cfg = pbx_ctx_config(ctx);
	int failed = 0;

	for (size_t i = 0; i < cfg->n_webhooks; i++) {
		const struct pbx_webhook *w = &cfg->webhooks[i];
		char why[CURL_ERROR_SIZE + 32] = "";
		bool ok = false;

		if (!wants(w, event))
			continue;
		for (int attempt = 0; attempt < ATTEMPTS && !ok; attempt++) {
			struct timespec ts = { attempt / 2, (attempt % 2) * 500L * 1000000L };

			if (attempt)
				nanosleep(&ts, NULL);
			ok = post(w, event, body, why, sizeof(why)) == 0;
			if (!ok)
				pbx_log(ctx, PBX_LOG_INFO, "webhook %s, attempt %d: %s", w->url,
					attempt + 1, why);
		}
		if (!ok) {
			pbx_log(ctx, PBX_LOG_WARN, "webhook %s: %s event not delivered after %d attempts: %s",
				w->url, event, ATTEMPTS, why);
			failed++;
		}
	}
	return failed;
}

/* @s as a JSON string (with quotes), or null. */
static void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int pbx_notify_fields(pbx_ctx *ctx, const char *event, const char *const *kv)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (!pbx_ctx_config(ctx)->n_webhooks)
		return 0;
	if (!(f = open_memstream(&body, &len)))
		return 1;
	fputs("{\"event\": ", f);
	json_str(f, event);
	for (size_t i = 0; kv && kv[i]; i += 2) {
		fputs(", ", f);
		json_str(f, kv[i]);
		fputs(": ", f);
		json_str(f, kv[i + 1]);
	}
	fputs("}", f);
	if (fclose(f) != 0) {
		free(body);
		return 1;
	}
	r = pbx_notify(ctx, event, body);
	free(body);
	return r;
}
