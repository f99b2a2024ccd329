/* SPDX-License-Identifier: MIT */
/*
 * Voicemail PINs in an import. argon2id is deliberately slow (tens of milliseconds and
 * 19 MiB per hash), so the verifications and hashes of a file run on up to four threads.
 * A PIN the file repeats is verified against the stored hash and kept when it matches, so
 * importing the same file twice changes nothing; the plaintext never leaves this step,
 * except sealed: each changed PIN's *98 verifier, sealed as `user update --pin` seals it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/secret.h"
#include "pbx/user.h"
#include "ctx.h"
#include "parallel.h"
#include "plan.h"

static void run_one(struct bulk_pin_job *j)
{
	j->r = 0;
	j->match = false;
	j->out[0] = '\0';
	if (j->stored) {
		int r = pbx_secret_pin_verify(j->stored, j->pin, &j->err);

		if (r == 0) {
			j->match = true;
			return;
		}
		if (r != PBX_EPERM && r != PBX_EINVALID) {
			j->r = r;
			return;
		}
	}
	if (j->hash)
		j->r = pbx_secret_pin_hash(j->pin, j->out, sizeof(j->out), &j->err);
}

static void run_at(void *jobs, size_t i)
{
	run_one(&((struct bulk_pin_job *)jobs)[i]);
}

int bulk_pin_run(struct bulk_pin_job *jobs, size_t n, pbx_error *err)
{
	pbx_parallel_for(n, run_at, jobs);
	for (size_t i = 0; i < n; i++)
		if (jobs[i].r < 0 && jobs[i].r != PBX_EINVALID) {
			*err = jobs[i].err;
			return jobs[i].r;
		}
	return 0;
}

int bulk_plan_pins(struct bulk_plan *p, struct bulk_report *rep, pbx_error *err)
{
	int ext = bulk_field(&pbx_schema_user, "extension");
	struct bulk_pin_job *jobs = NULL;
	size_t *owner = NULL, n = 0;
	char where[160];
	int r = 0;

	if (!(jobs = calloc(p->n_users + 1, sizeof(*jobs))) ||
	    !(owner = calloc(p->n_users + 1, sizeof(*owner)))) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < p->n_users; i++) {
		struct plan_user *u = &p->users[i];
		const struct bulk_user *fu;
		const char *cur_ext;

		if (u->ui == SIZE_MAX)
			continue;
		fu = &p->doc->tenants[p->tenants[u->pt].fi].users[u->ui];
		cur_ext = u->row >= 0 ? bulk_cell(p->st.users, u->row, p->ucol[ext]) : NULL;
		if (fu->pin && !*fu->pin) {
			/* "" clears the PIN. */
			u->pin_changed = u->pin_hash != NULL;
			u->pin_hash = NULL;
			continue;
		}
		if (fu->pin) {
			pbx_error e = PBX_ERROR_INIT;

			if (!bulk_given(&fu->o, "extension") && u->v[ext] &&
			    pbx_secret_pin_check(fu->pin, u->v[ext], &e) < 0) {
				bulk_plan_path(where, sizeof(where), p, u, SIZE_MAX, "pin");
				bulk_problem_err(rep, fu->pin_pos, where, &e);
				continue;
			}
			jobs[n] = (struct bulk_pin_job){ .pin = fu->pin, .stored = u->pin_hash,
							 .hash = true };
			owner[n++] = i;
		} else if (u->pin_hash && u->v[ext] && cur_ext && strcmp(u->v[ext], cur_ext)) {
			/* A move onto the extension that equals the stored PIN is refused. */
			jobs[n] = (struct bulk_pin_job){ .pin = u->v[ext], .stored = u->pin_hash };
			owner[n++] = i;
		}
	}
	if (n && (r = bulk_pin_run(jobs, n, err)) < 0)
		goto done;
	for (size_t k = 0; k < n; k++) {
		struct plan_user *u = &p->users[owner[k]];
		const struct bulk_user *fu = &p->doc->tenants[p->tenants[u->pt].fi].users[u->ui];

		if (!jobs[k].hash) {
			if (jobs[k].match) {
				bulk_plan_path(where, sizeof(where), p, u, SIZE_MAX, "extension");
				bulk_problem(rep, PBX_EINVALID, bulk_vpos(&fu->o, "extension"), where,
					     "the user's pin equals extension %s; set another pin too",
					     u->v[ext]);
			}
			continue;
		}
		if (jobs[k].match)
			continue;
		if (jobs[k].r < 0) {
			bulk_plan_path(where, sizeof(where), p, u, SIZE_MAX, "pin");
			bulk_problem_err(rep, fu->pin_pos, where, &jobs[k].err);
			continue;
		}
		if (!(u->pin_hash = bulk_strdup(&p->arena, jobs[k].out))) {
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			goto done;
		}
		u->pin_changed = true;
	}
	/* A changed PIN is a change of the user, named "pin" in the plan. */
	for (size_t i = 0; i < p->n_users; i++) {
		struct plan_user *u = &p->users[i];

		if (!u->pin_changed || u->op == OP_CREATE)
			continue;
		if (u->op == OP_NONE)
			u->op = OP_UPDATE;
		u->changed = u->changed ? bulk_printf(&p->arena, "%s, pin", u->changed) : "pin";
	}
done:
	for (size_t k = 0; jobs && k < n; k++)
		pbx_secret_wipe(jobs[k].out, sizeof(jobs[k].out));
	free(jobs);
	free(owner);
	return r;
}

int bulk_plan_pin_verifiers(struct bulk_plan *p, pbx_ctx *ctx, pbx_error *err)
{
	pbx_secret_key *key = NULL;
	int r = 0;

	for (size_t i = 0; r == 0 && i < p->n_users; i++) {
		struct plan_user *u = &p->users[i];
		char v[PBX_SECRET_VERIFIER_BUFSZ], *sealed = NULL;
		const struct bulk_user *fu;

		if (!u->pin_changed || !u->pin_hash || u->ui == SIZE_MAX)
			continue;
		fu = &p->doc->tenants[p->tenants[u->pt].fi].users[u->ui];
		if (!fu->pin)
			continue;
		if (!key && !(key = pbx_ctx_seal_key(ctx, err))) {
			pbx_log(ctx, PBX_LOG_WARN, "the PINs are saved, but *98 cannot check them: "
				"%s; set them again once the secrets key exists", err->message);
			*err = (pbx_error)PBX_ERROR_INIT;
			return 0;
		}
		if ((r = pbx_secret_pin_verifier(fu->pin, v, sizeof(v), err)) == 0 &&
		    (r = pbx_secret_seal(key, v, &sealed, err)) == 0 &&
		    !(u->pin_sealed = bulk_strdup(&p->arena, sealed)))
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		pbx_secret_wipe(v, sizeof(v));
		free(sealed);
	}
	return r;
}
