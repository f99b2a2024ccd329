/* SPDX-License-Identifier: MIT */
/*
 * AMI over TLS against amipeer serving TLS (--tls-cert/--tls-key) with a throw-away CA that
 * the test makes (scripts/test-ca): a certificate of the trusted CA naming the host works,
 * by name and by address; a certificate from another CA, or one that does not name the
 * host, is refused with a one-line error and nothing is sent; a plain-TCP peer is refused
 * (never a fallback: the peer sees no Login); an unreadable ca_file is invalid input.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "peerproc.h"

#ifndef TEST_CA_SCRIPT
#error "TEST_CA_SCRIPT must be defined by the build"
#endif

static struct peerproc peer;
static char ca_dir[64];
static char ca[128], cert[128], key[128], other_cert[128], other_key[128];

static void make_ca(void)
{
	char cmd[512];

	snprintf(ca_dir, sizeof(ca_dir), "/tmp/pbxctl-ami-ca-XXXXXX");
	cr_assert(mkdtemp(ca_dir) != NULL);
	snprintf(cmd, sizeof(cmd), "'%s' '%s'", TEST_CA_SCRIPT, ca_dir);
	cr_assert(eq(int, system(cmd), 0), "%s failed", cmd);
	snprintf(ca, sizeof(ca), "%s/ca.pem", ca_dir);
	snprintf(cert, sizeof(cert), "%s/server.pem", ca_dir);
	snprintf(key, sizeof(key), "%s/server.key", ca_dir);
	snprintf(other_cert, sizeof(other_cert), "%s/other-server.pem", ca_dir);
	snprintf(other_key, sizeof(other_key), "%s/other-server.key", ca_dir);
}

static void stop(void)
{
	char cmd[128];

	peer_stop(&peer);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ca_dir);
	cr_assert(eq(int, system(cmd), 0));
}

static void start_tls_peer(const char *c, const char *k, const char *bind)
{
	const char *extra[] = { "--tls-cert", c, "--tls-key", k, bind ? "--bind" : NULL, bind,
				NULL };

	peer_start(&peer, NULL, extra);
}

static struct pbx_ami_config tls_config(const char *host)
{
	struct pbx_ami_config cfg = peer_config(&peer, 3000);

	cfg.host = host;
	cfg.tls = true;
	cfg.ca_file = ca;
	return cfg;
}

Test(ami_tls, a_certificate_of_the_trusted_ca_naming_the_host_works, .init = make_ca,
     .fini = stop)
{
	const char *hosts[] = { "localhost", "127.0.0.1" };
	pbx_error err = PBX_ERROR_INIT;

	start_tls_peer(cert, key, NULL);
	for (size_t i = 0; i < 2; i++) {
		struct pbx_ami_config cfg = tls_config(hosts[i]);
		pbx_ami *ami = NULL;

		cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), 0), "%s: %s", hosts[i],
			  err.message);
		cr_assert(eq(str, (char *)pbx_ami_version(ami), "13.0.0"));
		cr_assert(eq(int, pbx_ami_ping(ami, &err), 0), "%s", err.message);
		pbx_ami_close(ami);
	}
	cr_assert(eq(int, peer_count(&peer, "Login"), 2), "both logins went through TLS");
	cr_assert(eq(int, peer_count(&peer, "Ping"), 2));
}

Test(ami_tls, a_certificate_from_another_ca_is_refused, .init = make_ca, .fini = stop)
{
	struct pbx_ami_config cfg;
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;

	start_tls_peer(other_cert, other_key, NULL);
	cfg = tls_config("localhost");
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), PBX_EUNAVAILABLE));
	cr_assert(eq(ptr, ami, NULL));
	cr_assert(strstr(err.message, "TLS: the server's certificate was refused: unable to get "
			 "local issuer certificate") != NULL, "%s", err.message);
	cr_assert(strchr(err.message, '\n') == NULL);
	cr_assert(eq(int, peer_count(&peer, "Login"), 0), "nothing was sent");
}

Test(ami_tls, a_certificate_not_naming_the_host_is_refused, .init = make_ca, .fini = stop)
{
	struct pbx_ami_config cfg;
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;

	/* The certificate names localhost and 127.0.0.1; the peer is reached as 127.0.0.2. */
	start_tls_peer(cert, key, "127.0.0.2");
	cfg = tls_config("127.0.0.2");
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), PBX_EUNAVAILABLE));
	cr_assert(strstr(err.message, "TLS: the server's certificate was refused: IP address "
			 "mismatch") != NULL, "%s", err.message);
	cr_assert(eq(int, peer_count(&peer, "Login"), 0));
}

Test(ami_tls, a_plain_tcp_peer_is_refused_without_fallback, .init = make_ca, .fini = stop)
{
	struct pbx_ami_config cfg;
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;

	peer_start(&peer, NULL, NULL);
	cfg = tls_config("127.0.0.1");
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), PBX_EUNAVAILABLE));
	cr_assert(strstr(err.message, "TLS handshake failed: the server does not speak TLS") !=
		  NULL, "%s", err.message);
	cr_assert(eq(int, peer_count(&peer, "Login"), 0), "the secret never went out in clear");
}

Test(ami_tls, a_plain_client_gets_nothing_from_a_tls_peer, .init = make_ca, .fini = stop)
{
	struct pbx_ami_config cfg;
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;

	start_tls_peer(cert, key, NULL);
	cfg = peer_config(&peer, 1000);
	cr_assert(lt(int, pbx_ami_connect(&cfg, &ami, &err), 0));
	cr_assert(eq(int, peer_count(&peer, "Login"), 0));
}

Test(ami_tls, an_unreadable_ca_file_is_invalid, .init = make_ca, .fini = stop)
{
	struct pbx_ami_config cfg;
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;

	start_tls_peer(cert, key, NULL);
	cfg = tls_config("localhost");
	cfg.ca_file = "/nonexistent/ca.pem";
	cr_assert(eq(int, pbx_ami_connect(&cfg, &ami, &err), PBX_EINVALID));
	cr_assert(eq(str, err.field, "ca_file"));
	cr_assert(strstr(err.message, "ami.ca_file /nonexistent/ca.pem: cannot load CA "
			 "certificates") != NULL, "%s", err.message);
}

Test(ami_tls, the_default_port_with_tls_is_5039)
{
	struct pbx_ami_config cfg = { .host = "127.0.0.1", .port = 0, .tls = true,
				      .username = "pbxctl", .timeout_ms = 500 };
	pbx_error err = PBX_ERROR_INIT;
	pbx_ami *ami = NULL;

	/* Whether or not something listens there, the handle names port 5039. */
	if (pbx_ami_connect(&cfg, &ami, &err) == 0) {
		pbx_ami_close(ami);
		return;
	}
	cr_assert(strstr(err.message, "ami at 127.0.0.1:5039") != NULL, "%s", err.message);
}
