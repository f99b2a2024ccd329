/* SPDX-License-Identifier: MIT */
/*
 * The AMI requests apply and diag make: Ping, Command, Reload, the dialplan counts and the
 * apply marker that prove what Asterisk loaded, and AstDB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/ami.h"
#include "pbx/error.h"

#include "ami-internal.h"

int pbx_ami_ping(pbx_ami *ami, pbx_error *err)
{
	struct pbx_ami_response *resp = NULL;
	int r;

	r = pbx_ami_action(ami, "Ping", NULL, &resp, err);
	if (r < 0)
		return r;
	if (!pbx_ami_msg_get(&resp->head, "Ping"))
		r = ami_protocol_error(ami, err, "%s answered Ping without Pong", ami->name);
	pbx_ami_response_free(resp);
	return r;
}

int pbx_ami_command(pbx_ami *ami, const char *command, struct pbx_ami_response **ret,
		    pbx_error *err)
{
	const char *kv[] = { "Command", command, NULL };

	return pbx_ami_action(ami, "Command", kv, ret, err);
}

int pbx_ami_reload(pbx_ami *ami, const char *module, pbx_error *err)
{
	const char *kv[] = { "Module", module, NULL };

	return pbx_ami_action(ami, "Reload", module ? kv : NULL, NULL, err);
}

static int get_count(const pbx_ami *ami, const struct pbx_ami_msg *m, const char *key,
		     int *ret, pbx_error *err)
{
	const char *v = pbx_ami_msg_get(m, key);
	long long n;

	if (!ami_parse_ll(v, &n) || n > 0x7fffffff)
		return ami_protocol_error(ami, err, "%s sent no valid %s in ShowDialPlanComplete",
					  ami->name, key);
	*ret = (int)n;
	return 0;
}

int pbx_ami_dialplan_counts(pbx_ami *ami, const char *context, int *ret_extensions,
			    int *ret_priorities, pbx_error *err)
{
	const char *kv[] = { "Context", context, NULL };
	struct pbx_ami_response *resp = NULL;
	int r, exts = 0, prios = 0;

	ami->list_counts_only = true;
	r = pbx_ami_action(ami, "ShowDialPlan", kv, &resp, err);
	ami->list_counts_only = false;
	if (r < 0)
		return r;
	if (!resp->complete) {
		r = ami_protocol_error(ami, err, "%s answered ShowDialPlan without a list",
				       ami->name);
		goto cleanup;
	}
	r = get_count(ami, resp->complete, "ListExtensions", &exts, err);
	if (r == 0)
		r = get_count(ami, resp->complete, "ListPriorities", &prios, err);
	if (r == 0) {
		*ret_extensions = exts;
		*ret_priorities = prios;
	}
cleanup:
	pbx_ami_response_free(resp);
	return r;
}

/*
 * Parse "  'version' =>      1. NoOp(MARKER)          [file.conf:8]": the marker is what lies
 * between "1. NoOp(" and the last ')' before the registrar column. Returns the marker's
 * start and length, or false.
 */
static bool parse_marker_line(const char *line, const char **start, size_t *len)
{
	static const char head[] = "'version' =>";
	static const char app[] = "1. NoOp(";
	const char *p = line, *end, *bracket;

	while (*p == ' ')
		p++;
	if (strncmp(p, head, sizeof(head) - 1) != 0)
		return false;
	p += sizeof(head) - 1;
	while (*p == ' ')
		p++;
	if (strncmp(p, app, sizeof(app) - 1) != 0)
		return false;
	p += sizeof(app) - 1;
	end = p + strlen(p);
	bracket = strrchr(p, '[');
	if (bracket && bracket > p && bracket[-1] == ' ' && end[-1] == ']')
		end = bracket;
	while (end > p && end[-1] == ' ')
		end--;
	if (end == p || end[-1] != ')')
		return false;
	*start = p;
	*len = (size_t)(end - 1 - p);
	return true;
}

int pbx_ami_read_marker(pbx_ami *ami, const char *meta_context, char *buf, size_t n,
			pbx_error *err)
{
	struct pbx_ami_response *resp = NULL;
	const char *start = NULL;
	char *cmd = NULL;
	size_t len = 0;
	int r;

	if (asprintf(&cmd, "dialplan show version@%s", meta_context) < 0)
		return pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
	r = pbx_ami_command(ami, cmd, &resp, err);
	if (r < 0)
		goto cleanup;
	for (size_t i = 0; i < resp->n_output && !start; i++)
		if (!parse_marker_line(resp->output[i], &start, &len))
			start = NULL;
	if (!start && resp->n_output && strstr(resp->output[0], "There is no existence of"))
		/* Asterisk before 14 answers a failed command with Response: Follows. */
		r = ami_errorf(err, PBX_ENOTFOUND, "%s: command '%s' failed: %s", ami->name, cmd,
			       resp->output[0]);
	else if (!start)
		r = ami_protocol_error(ami, err, "%s: version@%s holds no marker NoOp() at "
				       "priority 1", ami->name, meta_context);
	else if (len + 1 > n)
		r = pbx_errorf(err, PBX_EINVALID, NULL, NULL, "the marker in %s is longer than "
			       "%zu bytes", meta_context, n ? n - 1 : 0);
	else {
		memcpy(buf, start, len);
		buf[len] = '\0';
	}
cleanup:
	free(cmd);
	pbx_ami_response_free(resp);
	return r;
}

int pbx_ami_db_put(pbx_ami *ami, const char *family, const char *key, const char *value,
		   pbx_error *err)
{
	const char *kv[] = { "Family", family, "Key", key, "Val", value, NULL };

	return pbx_ami_action(ami, "DBPut", kv, NULL, err);
}

int pbx_ami_db_get(pbx_ami *ami, const char *family, const char *key, char **ret_value,
		   pbx_error *err)
{
	const char *kv[] = { "Family", family, "Key", key, NULL };
	struct pbx_ami_response *resp = NULL;
	const char *val = NULL;
	char *copy;
	int r;

	r = pbx_ami_action(ami, "DBGet", kv, &resp, err);
	if (r < 0)
		return r;
	/* DBGetResponse event (a list) since Asterisk 13; a header of the response before. */
	for (size_t i = 0; i < resp->n_events && !val; i++)
		val = pbx_ami_msg_get(&resp->events[i], "Val");
	if (!val && !resp->complete)
		val = pbx_ami_msg_get(&resp->head, "Val");
	if (!val) {
		r = ami_protocol_error(ami, err, "%s answered DBGet without a value", ami->name);
		goto cleanup;
	}
	copy = strdup(val);
	if (!copy) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto cleanup;
	}
	*ret_value = copy;
cleanup:
	pbx_ami_response_free(resp);
	return r;
}

int pbx_ami_db_del(pbx_ami *ami, const char *family, const char *key, pbx_error *err)
{
	const char *kv[] = { "Family", family, "Key", key, NULL };

	return pbx_ami_action(ami, "DBDel", kv, NULL, err);
}

int pbx_ami_db_deltree(pbx_ami *ami, const char *family, const char *key, pbx_error *err)
{
	const char *kv[] = { "Family", family, "Key", key, NULL };

	if (!key)
		kv[2] = NULL;
	return pbx_ami_action(ami, "DBDelTree", kv, NULL, err);
}

void pbx_ami_db_entries_free(struct pbx_ami_db_entry *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++) {
		free(e[i].key);
		free(e[i].value);
	}
	free(e);
}

int pbx_ami_db_gettree(pbx_ami *ami, const char *family, struct pbx_ami_db_entry **ret,
		       size_t *ret_n, pbx_error *err)
{
	const char *kv[] = { "Family", family, NULL };
	struct pbx_ami_response *resp = NULL;
	struct pbx_ami_db_entry *e = NULL;
	size_t n = 0;
	int r;

	r = pbx_ami_action(ami, "DBGetTree", kv, &resp, err);
	if (r < 0)
		return r;
	if (resp->n_events && !(e = calloc(resp->n_events, sizeof(*e)))) {
		r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < resp->n_events; i++) {
		const char *k = pbx_ami_msg_get(&resp->events[i], "Key");
		const char *v = pbx_ami_msg_get(&resp->events[i], "Val");

		if (!k || !v) {
			r = ami_protocol_error(ami, err, "%s answered DBGetTree without Key or Val",
					       ami->name);
			goto cleanup;
		}
		e[n].key = strdup(k);
		e[n].value = strdup(v);
		n++;
		if (!e[n - 1].key || !e[n - 1].value) {
			r = pbx_errorf(err, PBX_ERROR, NULL, NULL, "out of memory");
			goto cleanup;
		}
	}
	*ret = e;
	*ret_n = n;
	e = NULL;
	n = 0;
cleanup:
	pbx_ami_db_entries_free(e, n);
	pbx_ami_response_free(resp);
	return r;
}
