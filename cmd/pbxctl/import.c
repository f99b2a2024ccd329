/* SPDX-License-Identifier: MIT */
/*
 * pbxctl import FILE|-: make the database match a YAML (or JSON) file of tenants and what
 * they hold (users, devices, numbers, trunks, policies), in one transaction. Every problem of the file is printed, one line each, with
 * file:line:column and the YAML path. The plan (--dry-run, or -v) is a list of changes;
 * the summary is the import envelope, whose "changed" Ansible reads. A progress bar is
 * drawn on stderr for large files when it is a terminal, and nothing when it is not.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pbx/bulk.h"
#include "cli.h"

/* Files with at least this many users and devices get a progress bar on a terminal. */
#define PROGRESS_MIN 2000

enum { IMPORT_DRY_RUN, IMPORT_PRUNE, IMPORT_SECRETS_OUT };
static const struct cli_opt import_opts[] = {
	[IMPORT_DRY_RUN] = { "dry-run", 0, NULL, "print the plan and change nothing", CLI_OPT_FLAG, NULL, 0 },
	[IMPORT_PRUNE] = { "prune", 0, NULL, "delete what the file's tenants hold that the file does not list", CLI_OPT_FLAG, NULL, 0 },
	[IMPORT_SECRETS_OUT] = { "secrets-out", 0, "FILE", "write new devices' SIP credentials to FILE (created 0600, never overwritten)", CLI_OPT_FILE, NULL, CLI_ARG_FILE },
};

static int report(struct cli *cli, pbx_diag *diag, int r)
{
	if (diag->n == 0)
		return cli_fail(cli, r);
	/* Every problem, one line each; the exit status is the worst of them. */
	for (size_t i = 0; i < diag->n; i++)
		cli_render_error(stderr, &cli->out, &diag->items[i],
				 cli_exit_status(diag->items[i].code), cli->verbosity > 0);
	return diag->worst ? diag->worst : r;
}

static int show(struct cli *cli, bool dry_run, bool changed, const struct pbx_rows *summary,
		const struct pbx_rows *changes)
{
	struct cli_render_opts o = cli->out;
	int r = 0;

	if (cli->out.mode == CLI_OUT_JSON || cli->out.mode == CLI_OUT_YAML)
		return cli_render_change(stdout, &cli->out, "import", changed, summary, 0);
	if (cli->verbosity < 0 && !dry_run)
		return 0;
	/* People read the plan as a list of changes, then the counts; "changes" is for
	 * machines, and stays out of the text view unless -f asks for it. */
	if ((dry_run || cli->verbosity > 0) && changes->n_rows > 0) {
		struct cli_render_opts lo = cli->out;

		lo.fields = NULL;
		if ((r = cli_render_list(stdout, &lo, changes)) < 0)
			return r;
		if (cli->out.mode == CLI_OUT_TABLE)
			fputc('\n', stdout);
	}
	if (!o.fields)
		o.fields = "result,file,dry_run,tenants_created,tenants_updated,users_created,"
			   "users_updated,users_restored,users_deleted,devices_created,"
			   "devices_updated,devices_deleted,dids_created,dids_updated,dids_deleted,"
			   "trunks_created,trunks_updated,trunks_deleted,policies_created,"
			   "policies_updated,policies_deleted,audit_rows,secrets_written,secrets_out";
	return cli_render_change(stdout, &o, "import", changed, summary, 0);
}

static int cmd_import_run(struct cli *cli, struct cli_args *a)
{
	struct pbx_bulk_import_opts o = PBX_BULK_IMPORT_OPTS_INIT;
	struct pbx_rows summary = { .schema = NULL }, changes = { .schema = NULL };
	const char *path = a->argv[0];
	pbx_diag diag = PBX_DIAG_INIT;
	pbx_bulk_doc *doc = NULL;
	struct cli_bar bar = { .drawn = false };
	bool changed = false;
	pbx_ctx *ctx;
	FILE *in;
	int r;

	if (!strcmp(path, "-")) {
		in = stdin;
	} else if (!(in = fopen(path, "r"))) {
		pbx_errorf(&cli->err, errno == ENOENT ? PBX_ENOTFOUND :
			   errno == EACCES ? PBX_EPERM : PBX_EINVALID, path, NULL,
			   "cannot open: %s", strerror(errno));
		return cli_fail(cli, cli->err.code);
	}
	r = pbx_bulk_parse(path, in, &doc, &diag, &cli->err);
	if (in != stdin)
		fclose(in);
	if (r < 0) {
		r = report(cli, &diag, r);
		goto done;
	}
	if (!(ctx = cli_ctx(cli))) {
		r = cli->err.code;
		goto done;
	}
	o.dry_run = a->v[IMPORT_DRY_RUN].set;
	o.prune = a->v[IMPORT_PRUNE].set;
	o.secrets_out = a->v[IMPORT_SECRETS_OUT].s;
	if (isatty(STDERR_FILENO) && cli->verbosity >= 0 &&
	    pbx_bulk_doc_count(doc, "user") + pbx_bulk_doc_count(doc, "device") >= PROGRESS_MIN) {
		o.progress = cli_bar_progress;
		o.progress_userdata = &bar;
	}
	r = pbx_bulk_import(ctx, doc, &o, &summary, &changes, &changed, &diag, &cli->err);
	cli_bar_clear(&bar);
	if (r < 0) {
		r = report(cli, &diag, r);
		goto done;
	}
	if (!o.dry_run && !o.secrets_out && cli->verbosity >= 0 &&
	    strcmp(pbx_rows_get(&summary, 0, "devices_created"), "0"))
		fprintf(stderr, "pbxctl: warning: %s new device(s) got SIP secrets that were written "
			"nowhere; use --secrets-out FILE next time, or `pbxctl device show USER LABEL "
			"--reveal-secret`\n", pbx_rows_get(&summary, 0, "devices_created"));
	r = show(cli, o.dry_run, changed, &summary, &changes);
done:
	if (summary.schema)
		pbx_rows_free(&summary);
	if (changes.schema)
		pbx_rows_free(&changes);
	pbx_bulk_doc_free(doc);
	pbx_diag_free(&diag);
	return r;
}

const struct cli_cmd cmd_import = {
	.name = "import",
	.summary = "make the database match a YAML file of tenants and everything they hold",
	.synopsis = "import FILE|- [--dry-run] [--prune] [--secrets-out FILE]",
	.opts = CLI_OPTS(import_opts),
	.run = cmd_import_run,
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_PG | CMD_WRITES,
	.args = CLI_ARG_FILE,
};
