/*
 * A move's preflight report in words and in JSON (move_check.h), and the
 * names of its codes: one table, so the text, the JSON and the clients
 * spell a code alike.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "core/move_check.h"
#include "lib/fsm.h"

static const char *const code_names[CD_MOVE__COUNT] = {
	[CD_MOVE_NOT_QUORATE] = "not-quorate",
	[CD_MOVE_NO_VM] = "no-vm",
	[CD_MOVE_VM_NOT_RUNNING] = "vm-not-running",
	[CD_MOVE_VM_MOVING] = "vm-moving",
	[CD_MOVE_VM_BUSY] = "vm-busy",
	[CD_MOVE_DISK_LOCAL] = "disk-local",
	[CD_MOVE_DISKS_UNREADABLE] = "disks-unreadable",
	[CD_MOVE_NO_NODE] = "no-node",
	[CD_MOVE_TARGET_IS_SOURCE] = "target-is-source",
	[CD_MOVE_NOT_MEMBER] = "not-member",
	[CD_MOVE_NO_TARGET] = "no-target",
	[CD_MOVE_NODE_STATE] = "node-state",
	[CD_MOVE_NOT_POSSIBLE_OWNER] = "not-possible-owner",
	[CD_MOVE_CPU_MODEL] = "cpu-model",
	[CD_MOVE_FAILURE_LIMIT] = "failure-limit",
	[CD_MOVE_ANTI_AFFINITY] = "anti-affinity",
	[CD_MOVE_MEMORY] = "memory",
	[CD_MOVE_CORES] = "cores",
	[CD_MOVE_CPU_INCOMPATIBLE] = "cpu-incompatible",
	[CD_MOVE_BRIDGE_MISSING] = "bridge-missing",
	[CD_MOVE_DISK_MISSING] = "disk-missing",
	[CD_MOVE_SOFT_ANTI_AFFINITY] = "soft-anti-affinity",
};

const char *cd_move_code_to_str(enum cd_move_code c)
{
	return cd_fsm_name(code_names, CD_MOVE__COUNT, (int)c);
}

static void print_items(FILE *f, const char *what, const struct cd_move_item *it, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "  %s: %s [%s]\n", what, it[i].text, cd_move_code_to_str(it[i].code));
}

int cd_move_report_print(FILE *f, const struct cd_move_report *r)
{
	size_t n = r->n_failures + r->n_dropped;

	fprintf(f, "%s: %s move", r->vm, cd_move_mode_to_str(r->mode));
	if (r->source[0])
		fprintf(f, " from %s", r->source);
	if (r->target[0])
		fprintf(f, " to %s", r->target);
	if (cd_move_report_ok(r))
		fprintf(f, ": can go ahead\n");
	else
		fprintf(f, ": refused, %zu reason%s\n", n, n == 1 ? "" : "s");
	if (r->target_chosen)
		fprintf(f, "  target %s: %s\n", r->target, r->target_why);
	print_items(f, "refused", r->failures, r->n_failures);
	print_items(f, "warning", r->warnings, r->n_warnings);
	if (r->n_dropped)
		fprintf(f, "  and %zu more not listed\n", r->n_dropped);
	return ferror(f) ? -EIO : 0;
}

static struct json_object *items_json(const struct cd_move_item *it, size_t n)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; a && i < n; i++) {
		struct json_object *o = json_object_new_object();

		if (!o || json_object_array_add(a, o) < 0) {
			json_object_put(o);
			json_object_put(a);
			return NULL;
		}
		json_object_object_add(o, "code",
				       json_object_new_string(cd_move_code_to_str(it[i].code)));
		json_object_object_add(o, "node",
				       it[i].node[0] ? json_object_new_string(it[i].node) : NULL);
		json_object_object_add(o, "text", json_object_new_string(it[i].text));
	}
	return a;
}

static struct json_object *str_or_null(const char *s)
{
	return s[0] ? json_object_new_string(s) : NULL;
}

struct json_object *cd_move_report_to_json(const struct cd_move_report *r)
{
	struct json_object *o = json_object_new_object();
	struct json_object *failures, *warnings;

	if (!o)
		return NULL;
	failures = items_json(r->failures, r->n_failures);
	warnings = items_json(r->warnings, r->n_warnings);
	if (!failures || !warnings) {
		json_object_put(failures);
		json_object_put(warnings);
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "vm", json_object_new_string(r->vm));
	json_object_object_add(o, "mode", json_object_new_string(cd_move_mode_to_str(r->mode)));
	json_object_object_add(o, "source", str_or_null(r->source));
	json_object_object_add(o, "target", str_or_null(r->target));
	json_object_object_add(o, "target_chosen", json_object_new_boolean(r->target_chosen));
	json_object_object_add(o, "target_why", str_or_null(r->target_why));
	json_object_object_add(o, "ok", json_object_new_boolean(cd_move_report_ok(r)));
	json_object_object_add(o, "failures", failures);
	json_object_object_add(o, "warnings", warnings);
	json_object_object_add(o, "dropped", json_object_new_int64((int64_t)r->n_dropped));
	return o;
}
