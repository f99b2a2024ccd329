/* SPDX-License-Identifier: MIT */
/*
 * amipeer's views of the dialplan: AMI ShowDialPlan (ListDialplan events and
 * ShowDialPlanComplete with its counts) and the CLI "dialplan show [[exten@]context]", in
 * the formats of Asterisk's pbx.c, following includes when an extension is asked for.
 */
#include <stdio.h>
#include <string.h>

#include "peer.h"

#define MAX_INCLUDE_DEPTH 128

struct counters {
	int items, contexts, extens, prios;
	bool context_found, exten_found;
};

/* Contexts are walked newest first, as Asterisk prepends them to its list. */
#define FOR_CONTEXTS(dp, c) \
	for (struct dp_context *c = (dp)->n ? &(dp)->ctx[(dp)->n - 1] : NULL; \
	     c && c >= (dp)->ctx; c = c > (dp)->ctx ? c - 1 : NULL)

static bool on_stack(const char **stack, size_t depth, const char *name)
{
	for (size_t i = 0; i < depth; i++)
		if (strcmp(stack[i], name) == 0)
			return true;
	return false;
}

/* The context name of an include ("ctx" of "ctx,timing"). */
static void include_name(const char *inc, char *buf, size_t n)
{
	snprintf(buf, n, "%.*s", (int)strcspn(inc, ",|"), inc);
}

static void mgr_walk(struct peer *p, const struct req *r, struct sb *out, const char *context,
		     const char *exten, struct counters *k, const char **stack, size_t depth)
{
	FOR_CONTEXTS(&p->dp, c) {
		if (context && strcmp(c->name, context) != 0)
			continue;
		k->context_found = true;
		k->contexts++;
		for (size_t i = 0; i < c->n_ext; i++) {
			const struct dp_ext *e = &c->ext[i];

			if (exten && !dp_ext_match(e->name, exten))
				continue;
			k->exten_found = true;
			k->extens++;
			for (size_t j = 0; j < e->n; j++) {
				const struct dp_prio *pr = &e->p[j];

				k->prios++;
				if (!k->items++)
					send_listack(out, r, "DialPlan list will follow");
				sb_add(out, "Event: ListDialplan\r\n");
				action_id(out, r);
				sb_add(out, "Context: %s\r\nExtension: %s\r\n", c->name, e->name);
				if (pr->label)
					sb_add(out, "ExtensionLabel: %s\r\n", pr->label);
				if (pr->prio == PRIO_HINT)
					sb_add(out, "Priority: hint\r\nApplication: %s\r\n", pr->app);
				else
					sb_add(out, "Priority: %d\r\nApplication: %s\r\nAppData: %s\r\n",
					       pr->prio, pr->app, pr->data);
				sb_add(out, "Registrar: pbx_config\r\n\r\n");
			}
		}
		for (size_t i = 0; i < c->n_inc; i++) {
			char name[256];

			include_name(c->inc[i], name, sizeof(name));
			if (exten) {
				if (depth < MAX_INCLUDE_DEPTH && !on_stack(stack, depth, name)) {
					stack[depth] = name;
					mgr_walk(p, r, out, name, exten, k, stack, depth + 1);
				}
				continue;
			}
			if (!k->items++)
				send_listack(out, r, "DialPlan list will follow");
			sb_add(out, "Event: ListDialplan\r\n");
			action_id(out, r);
			sb_add(out, "Context: %s\r\nIncludeContext: %s\r\nRegistrar: pbx_config\r\n\r\n",
			       c->name, c->inc[i]);
		}
	}
}

void peer_show_dialplan(struct peer *p, const struct req *r, struct sb *out)
{
	const char *context = req_get(r, "Context"), *exten = req_get(r, "Extension");
	const char *stack[MAX_INCLUDE_DEPTH + 1];
	struct counters k = { 0 };
	struct sb events = { 0 };
	char msg[1024];

	stack[0] = context;
	mgr_walk(p, r, &events, *context ? context : NULL, *exten ? exten : NULL, &k, stack,
		 *context ? 1 : 0);
	if (*context && !k.context_found) {
		snprintf(msg, sizeof(msg), "Did not find context %s", context);
		send_error(out, r, msg);
	} else if (*exten && !k.exten_found) {
		if (*context)
			snprintf(msg, sizeof(msg), "Did not find extension %s@%s", exten, context);
		else
			snprintf(msg, sizeof(msg), "Did not find extension %s in any context", exten);
		send_error(out, r, msg);
	} else {
		if (!k.items)
			send_listack(out, r, "DialPlan list will follow");
		if (events.len)
			sb_addn(out, events.p, events.len);
		send_list_complete(out, r, "ShowDialPlanComplete", k.items);
		sb_add(out, "ListExtensions: %d\r\nListPriorities: %d\r\nListContexts: %d\r\n\r\n",
		       k.extens, k.prios, k.contexts);
	}
	sb_free(&events);
}

/* ---- the CLI "dialplan show" ---- */

static void print_ext(const struct dp_prio *pr, char *buf, size_t n)
{
	if (pr->prio == PRIO_HINT)
		snprintf(buf, n, "hint: %s", pr->app);
	else
		snprintf(buf, n, "%d. %s(%s)", pr->prio, pr->app, pr->data);
}

static void cli_walk(struct peer *p, struct sb *out, const char *context, const char *exten,
		     bool included, struct counters *k, const char **stack, size_t depth)
{
	FOR_CONTEXTS(&p->dp, c) {
		bool printed = false;

		if (context && strcmp(c->name, context) != 0)
			continue;
		k->context_found = true;
		if (!exten) {
			k->contexts++;
			sb_add(out, "[ Context '%s' created by 'pbx_config' ]\n", c->name);
			printed = true;
		}
		for (size_t i = 0; i < c->n_ext; i++) {
			const struct dp_ext *e = &c->ext[i];
			char buf[1024], buf2[8192];

			if (exten && !dp_ext_match(e->name, exten))
				continue;
			k->exten_found = true;
			if (!printed) {
				k->contexts++;
				sb_add(out, "[ %s '%s' created by 'pbx_config' ]\n",
				       included ? "Included context" : "Context", c->name);
				printed = true;
			}
			for (size_t j = 0; j < e->n; j++) {
				const struct dp_prio *pr = &e->p[j];

				k->prios++;
				if (j == 0 && e->cid)
					snprintf(buf, sizeof(buf), "'%s' (CID match '%s') => ",
						 e->name, e->cid);
				else if (j == 0)
					snprintf(buf, sizeof(buf), "'%s' =>", e->name);
				else if (pr->label)
					snprintf(buf, sizeof(buf), "   [%s]", pr->label);
				else
					buf[0] = '\0';
				print_ext(pr, buf2, sizeof(buf2));
				sb_add(out, "  %-17s %-45s [%s:%d]\n", buf, buf2, pr->file, pr->line);
			}
			k->extens++;
		}
		for (size_t i = 0; i < c->n_inc; i++) {
			char name[256], quoted[300];

			include_name(c->inc[i], name, sizeof(name));
			if (exten) {
				if (depth < MAX_INCLUDE_DEPTH && !on_stack(stack, depth, name)) {
					stack[depth] = name;
					cli_walk(p, out, name, exten, true, k, stack, depth + 1);
				}
				continue;
			}
			snprintf(quoted, sizeof(quoted), "'%s'", c->inc[i]);
			sb_add(out, "  Include =>        %-45s [pbx_config]\n", quoted);
		}
		if (printed)
			sb_add(out, "\n");
	}
}

bool cli_dialplan_show(struct peer *p, const char *context, const char *exten,
		       struct sb *out)
{
	const char *stack[MAX_INCLUDE_DEPTH + 1];
	struct counters k = { 0 };

	stack[0] = context;
	cli_walk(p, out, context, exten, false, &k, stack, context ? 1 : 0);
	if (context && !k.context_found) {
		sb_add(out, "There is no existence of '%s' context\n", context);
		return false;
	}
	if (exten && !k.exten_found) {
		if (context)
			sb_add(out, "There is no existence of %s@%s extension\n", exten, context);
		else
			sb_add(out, "There is no existence of '%s' extension in all contexts\n",
			       exten);
		return false;
	}
	sb_add(out, "-= %d %s (%d %s) in %d %s. =-\n", k.extens,
	       k.extens == 1 ? "extension" : "extensions", k.prios,
	       k.prios == 1 ? "priority" : "priorities", k.contexts,
	       k.contexts == 1 ? "context" : "contexts");
	return true;
}
