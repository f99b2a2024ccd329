/* SPDX-License-Identifier: MIT */
/*
 * What the verbs share: the tenant they act on, pairs of opposite flags, a secret read from
 * a file, the ends of read and write verbs (print the rows or the change envelope, free
 * them), and the runner of table-driven verbs, those that are one library call: their
 * table entry says where each value comes from and what is printed (struct cli_call), so
 * they need no handler.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const char *cli_tenant(struct cli *cli, const char *explicit_value)
{
	if (explicit_value)
		return explicit_value;
	return cli->tenant;
}

/* -f names keys of the schema being printed; anything else is a usage error. */
static int check_fields(struct cli *cli, const struct pbx_rows *rows)
{
	char bad[64];

	if (!rows || !cli->out.fields || cli_render_check_fields(&cli->out, rows->schema, bad,
								  sizeof(bad)) == 0)
		return 0;
	return pbx_errorf(&cli->err, PBX_EINVALID, NULL, "fields",
			  "--fields: '%s' is not a key of %s; see the OUTPUT section of its man page",
			  bad, rows->schema->name);
}

int cli_show_list(struct cli *cli, const struct pbx_rows *rows)
{
	int r = check_fields(cli, rows);

	if (r < 0)
		return cli_fail(cli, r);
	return cli_render_list(stdout, &cli->out, rows);
}

int cli_show_object(struct cli *cli, const struct pbx_rows *rows)
{
	int r = check_fields(cli, rows);

	if (r < 0)
		return cli_fail(cli, r);
	return cli_render_object(stdout, &cli->out, rows, 0);
}

int cli_show_change(struct cli *cli, const char *action, bool changed,
		    const struct pbx_rows *rows)
{
	if (cli->verbosity < 0 && cli->out.mode == CLI_OUT_TABLE)
		return 0;
	return cli_render_change(stdout, &cli->out, action, changed, rows, 0);
}

const char *cli_need_tenant(struct cli *cli, const char *path, const char *value)
{
	const char *t = cli_tenant(cli, value);

	if (!t)
		cli_usage_error(path, NULL,
				"a tenant is required: --tenant SLUG, -t SLUG or $PBXCTL_TENANT");
	return t;
}

const char *cli_need_slug(struct cli *cli, const struct cli_args *a, int i)
{
	const char *t = cli_tenant(cli, i < a->argc ? a->argv[i] : NULL);

	if (!t)
		cli_usage_error(a->path, NULL, "a tenant is required: give its slug, or -t SLUG");
	return t;
}

int cli_open_tenant(struct cli *cli, const char *path, const char *value, const char **ret_tenant,
		    pbx_ctx **ret_ctx)
{
	if (!(*ret_tenant = cli_need_tenant(cli, path, value)))
		return CLI_USAGE;
	if (!(*ret_ctx = cli_ctx(cli)))
		return cli->err.code;
	return 0;
}

int cli_flag_pair(const struct cli_args *a, int on, int off)
{
	if (a->v[on].set && a->v[off].set) {
		cli_usage_error(a->path, NULL, "--%s and --%s contradict each other",
				a->cmd->opts[on].name, a->cmd->opts[off].name);
		return -2;
	}
	return a->v[on].set ? 1 : a->v[off].set ? 0 : -1;
}

int cli_read_secret_line(const char *path, const char *file, const char *what, bool allow_empty,
			 char *buf, size_t n)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;

	if (!f) {
		cli_usage_error(path, NULL, "cannot read the %s from %s", what, file);
		return -1;
	}
	if (!fgets(buf, (int)n, f))
		buf[0] = '\0';
	if (f != stdin)
		fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!allow_empty && !buf[0]) {
		cli_usage_error(path, NULL, "the %s in %s is empty", what, file);
		return -1;
	}
	return 0;
}

int cli_finish_change(struct cli *cli, int r, const char *action, bool changed,
		      struct pbx_rows *rows, void (*free_rows)(struct pbx_rows *))
{
	if (r < 0)
		return cli_fail(cli, r);
	r = cli_show_change(cli, action, changed, rows);
	(free_rows ? free_rows : pbx_rows_free)(rows);
	return r;
}

static int finish_read(struct cli *cli, int r, struct pbx_rows *rows, bool list,
		       void (*free_rows)(struct pbx_rows *))
{
	if (r < 0)
		return cli_fail(cli, r);
	r = list ? cli_show_list(cli, rows) : cli_show_object(cli, rows);
	(free_rows ? free_rows : pbx_rows_free)(rows);
	return r;
}

int cli_finish_list(struct cli *cli, int r, struct pbx_rows *rows)
{
	return finish_read(cli, r, rows, true, NULL);
}

int cli_finish_object(struct cli *cli, int r, struct pbx_rows *rows)
{
	return finish_read(cli, r, rows, false, NULL);
}

/* The value @in names; false after a usage error (a required tenant is missing). */
static bool take(struct cli *cli, const struct cli_args *a, const struct cli_in *in,
		 const char **ret)
{
	const char *arg = in->i < a->argc ? a->argv[in->i] : NULL;

	switch (in->kind) {
	case CLI_IN_ARG:
		*ret = arg;
		return true;
	case CLI_IN_OPT:
		*ret = a->v[in->i].set ? a->v[in->i].s : NULL;
		return true;
	case CLI_IN_TENANT:
		return (*ret = cli_need_tenant(cli, a->path, a->v[in->i].s)) != NULL;
	case CLI_IN_ANY_TENANT:
		*ret = cli_tenant(cli, a->v[in->i].s);
		return true;
	case CLI_IN_SLUG:
		return (*ret = cli_need_slug(cli, a, in->i)) != NULL;
	case CLI_IN_ANY_SLUG:
		*ret = cli_tenant(cli, arg);
		return true;
	default:
		*ret = in->s;
		return true;
	}
}

int cli_run_call(struct cli *cli, struct cli_args *a)
{
	const struct cli_call *c = &a->cmd->call;
	const char *s[3] = { NULL, NULL, NULL };
	bool b = c->flag.kind == CLI_IN_FLAG ? a->v[c->flag.i].set : c->flag.i != 0;
	bool changed = true;
	struct pbx_rows rows;
	pbx_error *err = &cli->err;
	pbx_ctx *ctx;
	int r;

	/* Usage errors come before the context is opened, so they need no configuration. */
	for (size_t k = 0; k < 3; k++)
		if (c->in[k].kind != CLI_IN_NONE && !take(cli, a, &c->in[k], &s[k]))
			return CLI_USAGE;
	if (!(ctx = cli_ctx(cli)))
		return cli->err.code;
	if (c->s0)
		r = c->s0(ctx, &rows, err);
	else if (c->s1)
		r = c->s1(ctx, s[0], &rows, err);
	else if (c->s2)
		r = c->s2(ctx, s[0], s[1], &rows, err);
	else if (c->s3)
		r = c->s3(ctx, s[0], s[1], s[2], &rows, err);
	else if (c->s1_b)
		r = c->s1_b(ctx, s[0], b, &rows, err);
	else if (c->s2_b)
		r = c->s2_b(ctx, s[0], s[1], b, &rows, err);
	else if (c->s2_c)
		r = c->s2_c(ctx, s[0], s[1], &rows, &changed, err);
	else if (c->s3_c)
		r = c->s3_c(ctx, s[0], s[1], s[2], &rows, &changed, err);
	else if (c->s3_bc)
		r = c->s3_bc(ctx, s[0], s[1], s[2], b, &rows, &changed, err);
	else
		PBX_BUG("a verb without a run function or a library call");
	switch (c->show) {
	case CLI_SHOW_LIST:
	case CLI_SHOW_OBJECT:
		return finish_read(cli, r, &rows, c->show == CLI_SHOW_LIST, c->free_rows);
	case CLI_SHOW_CHANGE:
		return cli_finish_change(cli, r, c->action, changed, &rows, c->free_rows);
	default:
		/* A deletion: nothing is left to show. */
		if (r < 0)
			return cli_fail(cli, r);
		r = cli_show_change(cli, c->action, true, NULL);
		(c->free_rows ? c->free_rows : pbx_rows_free)(&rows);
		return r;
	}
}
