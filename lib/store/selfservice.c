/* SPDX-License-Identifier: MIT */
/*
 * Self-service state between PostgreSQL and Asterisk's AstDB (pbx/selfservice.h): writing
 * a user's keys from PostgreSQL (push), taking a phone-made change into PostgreSQL with its
 * audit row (take), the UserEvent consumer and the reconciliation apply runs. The SQL of
 * this state lives here; the trigger of migration 0012 marks every other change pending.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbx/ami.h"
#include "pbx/dialplan.h"
#include "pbx/policy.h"
#include "pbx/secret.h"
#include "pbx/selfservice.h"
#include "pbx/valid.h"
#include "ctx.h"
#include "pg.h"
#include "selfservice-internal.h"
#include "user-internal.h"

void ss_user_free(struct ss_user *u)
{
	free(u->sealed);
	u->sealed = NULL;
}

void ss_keys_free(struct ss_keys *k)
{
	free(k->dnd);
	free(k->forward);
	free(k->pin);
	*k = (struct ss_keys){ .dnd = NULL };
}

void ss_fill(const PGresult *res, int i, struct ss_user *u)
{
	*u = (struct ss_user){ .active = false };
	snprintf(u->id, sizeof(u->id), "%s", PQgetvalue(res, i, 0));
	snprintf(u->username, sizeof(u->username), "%s", PQgetvalue(res, i, 1));
	snprintf(u->slug, sizeof(u->slug), "%s", PQgetvalue(res, i, 2));
	snprintf(u->ext, sizeof(u->ext), "%s", PQgetvalue(res, i, 3));
	u->active = PQgetvalue(res, i, 4)[0] == 't';
	u->dnd = PQgetvalue(res, i, 5)[0] == 't';
	u->voicemail = PQgetvalue(res, i, 6)[0] == 't';
	u->pending = PQgetvalue(res, i, 7)[0] == 't';
	snprintf(u->forward, sizeof(u->forward), "%s", PQgetvalue(res, i, 8));
	u->sealed = PQgetisnull(res, i, 9) ? NULL : strdup(PQgetvalue(res, i, 9));
	u->ext_min = strtol(PQgetvalue(res, i, 10), NULL, 10);
	u->ext_max = strtol(PQgetvalue(res, i, 11), NULL, 10);
}

static int load_user(PGconn *pg, const char *id, struct ss_user *u, pbx_error *err);

/* Find @user of @tenant the way people name it, and load its state. */
static int find_user(pbx_ctx *ctx, const char *tenant, const char *user, PGconn **ret_pg,
		     struct ss_user *u, pbx_error *err)
{
	struct pbx_tenant_ref t;
	struct pbx_user_ref ref;
	PGconn *pg = pbx_ctx_pg(ctx, err);
	int r;

	if (!pg)
		return err->code;
	if ((r = pbx_user_find(pg, tenant, user, &t, &ref, err)) < 0 ||
	    (r = load_user(pg, ref.id, u, err)) < 0)
		return r;
	*ret_pg = pg;
	return 0;
}

static int load_user(PGconn *pg, const char *id, struct ss_user *u, pbx_error *err)
{
	const char *p[1] = { id };
	PGresult *res = pbx_pg_query(pg, "SELECT " SS_COLUMNS "WHERE u.id = $1::bigint", 1, p,
				     "user", err);
	int r = 0;

	if (!res)
		return err->code;
	if (PQntuples(res) != 1)
		r = pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "user #%s does not exist", id);
	else
		ss_fill(res, 0, u);
	PQclear(res);
	return r;
}

int pbx_user_seal_verifier(pbx_ctx *ctx, const char *pin, char **ret, pbx_error *err)
{
	char v[PBX_SECRET_VERIFIER_BUFSZ];
	pbx_secret_key *key;
	int r;

	*ret = NULL;
	if (!(key = pbx_ctx_key(ctx, err))) {
		/* The PIN is still saved (argon2id); only *98 cannot check it yet. */
		pbx_log(ctx, PBX_LOG_WARN, "the PIN is saved, but *98 cannot check it: %s; set it "
			"again once the secrets key exists", err->message);
		*err = (pbx_error)PBX_ERROR_INIT;
		return 0;
	}
	if ((r = pbx_secret_pin_verifier(pin, v, sizeof(v), err)) == 0)
		r = pbx_secret_seal(key, v, ret, err);
	pbx_secret_wipe(v, sizeof(v));
	return r;
}

int pbx_user_store_verifier(PGconn *pg, const char *id, const char *sealed, pbx_error *err)
{
	const char *p[2] = { id, sealed };

	return pbx_pg_exec(pg, "UPDATE users SET vm_pin_verifier_sealed = $2 WHERE id = $1::bigint",
			   2, p, "user", err);
}

void ss_family(const char *slug, const char *ext, char *buf, size_t n)
{
	snprintf(buf, n, PBX_DP_ASTDB_FAMILY "/%s/%s", slug, ext);
}

int ss_db_del_gone_check(pbx_ami *ami, const char *fam, const char *key, pbx_error *err)
{
	char *v = NULL;
	int r = pbx_ami_db_get(ami, fam, key, &v, err);

	free(v);
	return r == PBX_ENOTFOUND ? 0 : r < 0 ? r : pbx_errorf(err, PBX_ERROR, NULL, NULL,
		"AstDB key %s/%s could not be deleted", fam, key);
}

int ss_db_del_gone(pbx_ami *ami, const char *fam, const char *key, pbx_error *err)
{
	int r = pbx_ami_db_del(ami, fam, key, err);

	if (r != PBX_ERROR && r != PBX_ENOTFOUND)
		return r;
	return ss_db_del_gone_check(ami, fam, key, err);
}

/* One attempt at writing @u's keys. */
static int write_keys(pbx_ctx *ctx, pbx_ami *ami, const struct ss_user *u, pbx_error *err)
{
	char fam[96], *verifier = NULL;
	int r;

	ss_family(u->slug, u->ext, fam, sizeof(fam));
	if (!u->active) {
		r = pbx_ami_db_deltree(ami, fam, NULL, err);
		return r == PBX_ENOTFOUND ? 0 : r;
	}
	if ((r = pbx_ami_db_put(ami, fam, "dnd", u->dnd ? "1" : "0", err)) < 0)
		return r;
	r = u->forward[0] ? pbx_ami_db_put(ami, fam, "forward", u->forward, err)
			  : ss_db_del_gone(ami, fam, "forward", err);
	if (r < 0)
		return r;
	if (!u->voicemail || !u->sealed)
		return ss_db_del_gone(ami, fam, "pin", err);
	{
		pbx_secret_key *key = pbx_ctx_key(ctx, err);

		if (!key)
			return err->code;
		if ((r = pbx_secret_open(key, u->sealed, &verifier, err)) < 0)
			return r;
	}
	r = pbx_ami_db_put(ami, fam, "pin", verifier, err);
	pbx_secret_free_str(verifier);
	return r;
}

/*
 * Clear the pending marks of @users[0..@n), in one UPDATE; a user whose row changed since
 * it was read (another dnd, forward, verifier or extension) stays pending. The UPDATE does
 * not test astdb_pending: with that test, statistics taken while nobody was pending (every
 * user is, after an import) made PostgreSQL walk the users_astdb_pending index for each
 * listed user, 2 s a tenant of 100 users among 100 000 pending, instead of looking each one
 * up by id. Clearing a mark already cleared changes nothing.
 */
int ss_clear_pending(PGconn *pg, const struct ss_user *const *users, size_t n, pbx_error *err)
{
	static const char *const sql =
		"UPDATE users u SET astdb_pending = false FROM unnest($1::bigint[], "
		"$2::boolean[], $3::text[], $4::text[], $5::int[]) AS v(id, dnd, fwd, sealed, ext) "
		"WHERE u.id = v.id AND u.dnd = v.dnd AND "
		"coalesce(u.forward_to, '') = v.fwd AND "
		"u.vm_pin_verifier_sealed IS NOT DISTINCT FROM v.sealed AND u.extension = v.ext";
	struct pbx_pg_array col[5];
	const char *text[5];
	int r = 0, bad = 0;

	if (n == 0)
		return 0;
	for (int j = 0; j < 5; j++)
		bad |= pbx_pg_array_open(&col[j]);
	for (size_t i = 0; i < n; i++) {
		pbx_pg_array_add(&col[0], users[i]->id);
		pbx_pg_array_add(&col[1], users[i]->dnd ? "t" : "f");
		pbx_pg_array_add(&col[2], users[i]->forward);
		pbx_pg_array_add(&col[3], users[i]->sealed);
		pbx_pg_array_add(&col[4], users[i]->ext);
	}
	for (int j = 0; j < 5; j++) {
		bad |= pbx_pg_array_close(&col[j]);
		text[j] = col[j].text;
	}
	r = bad ? pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory") :
		  pbx_pg_exec(pg, sql, 5, text, "users", err);
	for (int j = 0; j < 5; j++)
		free(col[j].text);
	return r;
}

/* Write @u's keys, retrying with a fresh connection; then clear its pending mark. */
static int push_user(pbx_ctx *ctx, PGconn *pg, const struct ss_user *u, pbx_error *err)
{
	struct timespec pause = { .tv_nsec = 200 * 1000 * 1000 };
	int r = PBX_ERROR;

	for (int i = 0; i < PBX_SELFSERVICE_ATTEMPTS; i++) {
		pbx_ami *ami;

		if (i) {
			pbx_ctx_ami_reset(ctx);
			nanosleep(&pause, NULL);
		}
		ami = pbx_ctx_ami(ctx, err);
		r = ami ? write_keys(ctx, ami, u, err) : err->code;
		if (r == 0 || r == PBX_EINVALID)
			break;
	}
	if (r < 0)
		return r;
	return ss_clear_pending(pg, &u, 1, err);
}

int pbx_selfservice_push(pbx_ctx *ctx, const char *tenant, const char *user, pbx_error *err)
{
	struct ss_user u = { .sealed = NULL };
	PGconn *pg = NULL;
	int r;

	if ((r = find_user(ctx, tenant, user, &pg, &u, err)) < 0)
		return r;
	r = push_user(ctx, pg, &u, err);
	if (r < 0 && r != PBX_EINVALID) {
		char why[PBX_ERR_MESSAGE];

		snprintf(why, sizeof(why), "%s", err->message);
		pbx_errorf(err, PBX_EUNAVAILABLE, NULL, NULL,
			   "user %s: saved, but Asterisk's AstDB did not take it (%s); calls use "
			   "the old setting until `pbxctl apply` writes it", u.username, why);
		pbx_log(ctx, PBX_LOG_WARN, "%s", err->message);
		r = PBX_EUNAVAILABLE;
	}
	ss_user_free(&u);
	return r;
}

/* The name of the policy that applies to user @id: its own, else the tenant's default. */
static int user_policy(PGconn *pg, const char *id, char **ret, pbx_error *err)
{
	const char *p[1] = { id };
	PGresult *res = pbx_pg_query(pg,
		"SELECT coalesce((SELECT name FROM policies WHERE id = u.policy_id), "
		"(SELECT name FROM policies WHERE id = t.default_policy_id)) "
		"FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.id = $1::bigint",
		1, p, "user", err);

	if (!res)
		return err->code;
	*ret = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ? strdup(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	return 0;
}

/* The rules of check_forward (user.c) for an extension, and the policy for a number. */
static int check_forward(pbx_ctx *ctx, PGconn *pg, const struct ss_user *u, const char *fwd,
			 pbx_error *err)
{
	char object[64], *policy = NULL;
	struct pbx_rows rows;
	const char *result;
	int r;

	snprintf(object, sizeof(object), "user %s", u->username);
	if (!fwd || !*fwd)
		return 0;
	if (pbx_valid_extension(fwd)) {
		long f = strtol(fwd, NULL, 10);

		if (f < u->ext_min || f > u->ext_max)
			return pbx_errorf(err, PBX_EINVALID, object, "forward_to",
					  "forward destination %s is outside %s's range %ld-%ld",
					  fwd, u->slug, u->ext_min, u->ext_max);
		if (!strcmp(fwd, u->ext))
			return pbx_errorf(err, PBX_EINVALID, object, "forward_to",
					  "a user cannot forward to its own extension %s", fwd);
		return 0;
	}
	if (pbx_policy_check_number(object, fwd, err) < 0) {
		snprintf(err->field, sizeof(err->field), "forward_to");
		return PBX_EINVALID;
	}
	if ((r = user_policy(pg, u->id, &policy, err)) < 0)
		return r;
	if (!policy)
		return pbx_errorf(err, PBX_EINVALID, object, "forward_to",
				  "forward destination %s is not an extension and no outbound "
				  "policy applies to %s", fwd, u->username);
	r = pbx_policy_test(ctx, u->slug, policy, fwd, &rows, err);
	if (r == 0) {
		result = pbx_rows_get(&rows, 0, "result");
		if (!result || strcmp(result, "allowed"))
			r = pbx_errorf(err, PBX_EINVALID, object, "forward_to",
				       "forward destination %s is blocked by outbound policy %s",
				       fwd, policy);
		pbx_rows_free(&rows);
	}
	free(policy);
	return r;
}

int pbx_selfservice_check_forward(pbx_ctx *ctx, const char *tenant, const char *user,
				  const char *forward, pbx_error *err)
{
	struct ss_user u = { .sealed = NULL };
	PGconn *pg = NULL;
	int r;

	if ((r = find_user(ctx, tenant, user, &pg, &u, err)) < 0)
		return r;
	r = check_forward(ctx, pg, &u, forward, err);
	ss_user_free(&u);
	return r;
}

/* Read @u's keys from AstDB. */
static int read_keys(pbx_ami *ami, const struct ss_user *u, struct ss_keys *k, pbx_error *err)
{
	static const char *const names[] = { "dnd", "forward", "pin" };
	char **slot[] = { &k->dnd, &k->forward, &k->pin }, fam[96];
	int r;

	ss_family(u->slug, u->ext, fam, sizeof(fam));
	*k = (struct ss_keys){ .dnd = NULL };
	for (size_t i = 0; i < 3; i++) {
		r = pbx_ami_db_get(ami, fam, names[i], slot[i], err);
		if (r == PBX_ENOTFOUND)
			continue;
		if (r < 0) {
			ss_keys_free(k);
			return r;
		}
	}
	return 0;
}

bool ss_same_state(const struct ss_user *u, const struct ss_keys *k)
{
	return k->dnd && !strcmp(k->dnd, u->dnd ? "1" : "0") &&
	       !strcmp(k->forward ? k->forward : "", u->forward);
}

/*
 * Take AstDB's dnd and forward into PostgreSQL, audited as the user's own change from
 * @source. The transaction setting keeps the trigger from marking the user pending: AstDB
 * already holds this state.
 */
static int take(pbx_ctx *ctx, PGconn *pg, const struct ss_user *u, const struct ss_keys *k,
		const char *source, pbx_error *err)
{
	char actor[80], *before = NULL;
	const char *p[8];
	PGresult *res;
	int r;

	snprintf(actor, sizeof(actor), "%s/%s", u->slug, u->username);
	if ((r = pbx_pg_begin(pg, err)) < 0)
		return r;
	p[0] = u->id;
	res = pbx_pg_query(pg, "SELECT to_jsonb(x)::text, set_config('pbxctl.astdb_sync', 'on', "
			   "true) FROM (" USER_SELECT "WHERE u.id = $1::bigint FOR UPDATE OF u) x",
			   1, p, "user", err);
	if (!res) {
		r = err->code;
		goto fail;
	}
	before = PQntuples(res) == 1 ? strdup(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	if (!before) {
		r = pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL, "user %s vanished", u->username);
		goto fail;
	}
	p[1] = k->dnd && !strcmp(k->dnd, "1") ? "true" : "false";
	p[2] = k->forward ? k->forward : "";
	if ((r = pbx_pg_exec(pg, "UPDATE users SET dnd = $2::boolean, forward_to = nullif($3, ''), "
			     "astdb_pending = false, updated_at = now() WHERE id = $1::bigint",
			     3, p, "user", err)) < 0)
		goto fail;
	p[1] = actor;
	p[2] = source;
	p[3] = u->slug;
	p[4] = before;
	r = pbx_pg_exec(pg, "SELECT audit_append_as($2, $3, $4, 'update', 'user', $1::text, $5::jsonb, "
			"(SELECT to_jsonb(x) FROM (" USER_SELECT "WHERE u.id = $1::bigint) x))",
			5, p, "audit log", err);
	if (r == 0)
		r = pbx_pg_commit(pg, err);
	if (r == 0) {
		free(before);
		return 0;
	}
fail:
	pbx_pg_rollback(pg);
	free(before);
	return r;
}

/* The keys may hold a phone's change (not pending, dnd key present): PostgreSQL takes it
 * when it validates. */
int ss_reconcile_user(pbx_ctx *ctx, PGconn *pg, const struct ss_user *u,
			  const struct ss_keys *k, const char *source, int *what, pbx_error *err)
{
	pbx_error why = PBX_ERROR_INIT;
	struct ss_user now = *u;
	char *verifier = NULL;
	bool pin_ok;
	int r;

	*what = 0;
	if (u->voicemail && u->sealed) {
		pbx_secret_key *key = pbx_ctx_key(ctx, err);

		if (!key)
			return err->code;
		if ((r = pbx_secret_open(key, u->sealed, &verifier, err)) < 0)
			return r;
		pin_ok = k->pin && !strcmp(k->pin, verifier);
		pbx_secret_free_str(verifier);
	} else {
		pin_ok = !k->pin;
	}
	if (!u->pending && k->dnd && !ss_same_state(u, k)) {
		if ((strcmp(k->dnd, "0") && strcmp(k->dnd, "1")) ||
		    check_forward(ctx, pg, u, k->forward, &why) < 0) {
			pbx_log(ctx, PBX_LOG_WARN, "user %s of %s: the change made on the phone "
				"is refused (%s); PostgreSQL's setting is written back", u->username,
				u->slug, why.code ? why.message : "dnd must be 0 or 1");
		} else {
			if ((r = take(ctx, pg, u, k, source, err)) < 0)
				return r;
			*what = 2;
			if (pin_ok)
				return 0;
			/* The PIN still needs writing: push what PostgreSQL holds now. */
			now.dnd = !strcmp(k->dnd, "1");
			snprintf(now.forward, sizeof(now.forward), "%s", k->forward ? k->forward : "");
		}
	} else if (!u->pending && k->dnd && pin_ok) {
		return 0;
	}
	if ((r = push_user(ctx, pg, &now, err)) < 0)
		return r;
	if (*what == 0)
		*what = 1;
	return 0;
}

/* The endpoint of "PJSIP/<endpoint>-<8 hex>", as the source of a phone's change. */
static void event_source(const struct pbx_ami_msg *ev, char *buf, size_t n)
{
	const char *ch = pbx_ami_msg_get(ev, "Channel"), *slash, *dash;

	if (!ch || !(slash = strchr(ch, '/')) || !(dash = strrchr(slash, '-')) || dash == slash + 1) {
		snprintf(buf, n, "ami");
		return;
	}
	snprintf(buf, n, "phone %.*s", (int)(dash - slash - 1), slash + 1);
}

int pbx_selfservice_event(pbx_ctx *ctx, const struct pbx_ami_msg *event, bool *ret_changed,
			  pbx_error *err)
{
	const char *name = pbx_ami_msg_get(event, "UserEvent");
	const char *slug = pbx_ami_msg_get(event, "Tenant");
	const char *ext = pbx_ami_msg_get(event, "Extension");
	struct ss_user u = { .sealed = NULL };
	struct ss_keys k = { .dnd = NULL };
	char source[96];
	const char *p[2];
	PGresult *res;
	PGconn *pg;
	pbx_ami *ami;
	int r, what = 0;

	if (ret_changed)
		*ret_changed = false;
	if (!name || strcmp(name, PBX_DP_SELFSERVICE_EVENT))
		return 0;
	if (!pbx_dialplan_valid_slug(slug) || !pbx_valid_extension(ext))
		return pbx_errorf(err, PBX_EINVALID, "event " PBX_DP_SELFSERVICE_EVENT, "tenant",
				  "the event names no valid tenant and extension");
	if (!(pg = pbx_ctx_pg(ctx, err)) || !(ami = pbx_ctx_ami(ctx, err)))
		return err->code;
	p[0] = slug;
	p[1] = ext;
	res = pbx_pg_query(pg, "SELECT " SS_COLUMNS "WHERE t.slug = $1 AND u.extension = $2::int "
			   "AND u.status = 'active' AND t.status = 'active'", 2, p, "user", err);
	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return pbx_errorf(err, PBX_ENOTFOUND, NULL, NULL,
				  "tenant %s has no active user with extension %s", slug, ext);
	}
	ss_fill(res, 0, &u);
	PQclear(res);
	event_source(event, source, sizeof(source));
	if ((r = read_keys(ami, &u, &k, err)) == 0)
		r = ss_reconcile_user(ctx, pg, &u, &k, source, &what, err);
	if (r == 0 && ret_changed)
		*ret_changed = what == 2;
	ss_keys_free(&k);
	ss_user_free(&u);
	return r;
}
