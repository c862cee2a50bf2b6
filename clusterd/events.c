#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <qb/qblog.h>

#include "core/change.h"
#include "clusterd/events.h"
#include "clusterd/replica.h"
#include "lib/jsonget.h"
#include "lib/util.h"

#define RING 1024

struct event {
	uint64_t seq;
	uint64_t wall_ms;
	char kind[16];
	char subject[64];
	char text[256];
};

static struct {
	struct event ring[RING];
	uint64_t last;
} events;

void cd_event(const char *kind, const char *subject, const char *fmt, ...)
{
	struct event *e = &events.ring[events.last % RING];
	va_list ap;

	e->seq = ++events.last;
	e->wall_ms = cd_wall_ms();
	cd_strlcpy(e->kind, kind, sizeof(e->kind));
	cd_strlcpy(e->subject, subject, sizeof(e->subject));
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	qb_log(LOG_NOTICE, "event: %s %s: %s", kind, subject, e->text);
}

static const char *node_name(uint64_t id)
{
	const struct cd_node *n = cd_state_node_by_id(cd_replica_state(), (uint32_t)id);

	return n ? n->info.name : "?";
}

void cd_event_change(const struct json_object *c, uint32_t from)
{
	const char *op = cd_jget_str(c, "op"), *name = cd_jget_str(c, "name");
	const char *err = cd_jget_str(c, "error");
	enum cd_change kind;
	uint64_t node = 0, id = 0;

	if (cd_change_lookup(op, &kind) < 0)
		return;
	cd_jget_u64(c, "node", &node);
	switch (kind) {
	case CD_CHANGE_VM_PLACE:
		cd_event("vm", name, "placed on %s by the coordinator", node_name(node));
		break;
	case CD_CHANGE_VM_REPORT: {
		const char *result = cd_jget_str(c, "result");

		/* A move's end has its own event (move_ended). */
		if (result && strcmp(result, "moved") == 0)
			break;

		cd_event("vm", name, "%s on %s%s%s", result ? result : "?", node_name(node),
			 err ? ": " : "", err ? err : "");
		break;
	}
	case CD_CHANGE_VM_IMPORT:
		cd_event("vm", name, "imported from %s's libvirt, %s", node_name(node),
			 cd_jget_bool_or(c, "running", false)
				 ? "running there: adopted without a restart"
				 : "stopped");
		break;
	case CD_CHANGE_VM_STOP:
		if (cd_jget_bool_or(c, "save", false)) {
			cd_event(
				"vm", name, "stop, saving its memory into %s/%s%s (asked on %s)",
				cd_jget_str(c, "state_volume") ? cd_jget_str(c, "state_volume")
							       : "?",
				cd_jget_str(c, "state_file") ? cd_jget_str(c, "state_file") : "?",
				cd_jget_bool_or(c, "resume", false)
					? "; still wanted running: restored where the cluster places it"
					: "",
				node_name(from));
			break;
		}
		/* fall through */
	case CD_CHANGE_VM_START:
	case CD_CHANGE_VM_ADD:
	case CD_CHANGE_VM_REMOVE:
		/* "start" of "vm.start" */
		cd_event("vm", name, "%s (asked on %s)", op + 3, node_name(from));
		break;
	case CD_CHANGE_VM_MOVE: {
		struct json_object *d = NULL;
		uint64_t job = 0, tries = 0;
		const char *why;

		json_object_object_get_ex(c, "drain", &d);
		cd_jget_u64(d, "job", &job);
		cd_jget_u64(d, "tries", &tries);
		why = d ? cd_jget_str(d, "why") : NULL;
		if (job)
			cd_event("vm", name,
				 "%s move to %s begins (drain %" PRIu64 ", try %" PRIu64 "%s%s)",
				 cd_jget_str(c, "mode") ? cd_jget_str(c, "mode") : "?",
				 node_name(cd_jget_u64(c, "target", &id) == 0 ? id : 0), job, tries,
				 why && *why ? ", after: " : "", why && *why ? why : "");
		else
			cd_event("vm", name, "%s move to %s begins (asked on %s)",
				 cd_jget_str(c, "mode") ? cd_jget_str(c, "mode") : "?",
				 node_name(cd_jget_u64(c, "target", &id) == 0 ? id : 0),
				 node_name(from));
		break;
	}
	case CD_CHANGE_NODE_DRAIN:
		cd_event("node", cd_jget_str(c, "node"), "drain begins, %s first (asked on %s)",
			 cd_jget_str(c, "mode") ? cd_jget_str(c, "mode") : "?", node_name(from));
		break;
	case CD_CHANGE_NODE_DRAIN_END:
		cd_event("node", cd_jget_str(c, "node"), "drain %s%s%s", cd_jget_str(c, "state"),
			 cd_jget_str(c, "why") && *cd_jget_str(c, "why") ? ": " : "",
			 cd_jget_str(c, "why") ? cd_jget_str(c, "why") : "");
		break;
	case CD_CHANGE_NODE_DRAIN_CANCEL:
		cd_event("node", cd_jget_str(c, "node"), "drain cancelled (asked on %s)%s",
			 node_name(from),
			 cd_jget_bool_or(c, "abort", false) ? ": moves under way are aborted" : "");
		break;
	case CD_CHANGE_NODE_RESUME:
		cd_event("node", cd_jget_str(c, "node"), "resumed, failback %s (asked on %s)",
			 cd_jget_str(c, "failback") ? cd_jget_str(c, "failback") : "policy",
			 node_name(from));
		break;
	case CD_CHANGE_VM_MOVE_STEP:
		cd_event("vm", name, "move: %s %s on %s%s%s", cd_jget_str(c, "phase"),
			 cd_jget_bool_or(c, "ok", false) ? "done" : "failed", node_name(node),
			 err ? ": " : "", err ? err : "");
		break;
	case CD_CHANGE_VM_MOVE_CANCEL:
		cd_event("vm", name, "move cancelled (asked on %s)", node_name(from));
		break;
	case CD_CHANGE_NODE_DEAD:
		cd_event("node", node_name(node), "declared dead (%s): its VMs may run elsewhere",
			 cd_jget_str(c, "how") ? cd_jget_str(c, "how") : "?");
		break;
	case CD_CHANGE_VOLUME_COORDINATOR:
		cd_event("volume", name, "coordinated by %s (holds the metadata lease)",
			 node_name(node));
		break;
	case CD_CHANGE_VOLUME_DONE:
		if (cd_jget_u64(c, "id", &id) == 0 && id)
			cd_event("volume", name, "file request done%s%s", err && *err ? ": " : "",
				 err ? err : "");
		break;
	case CD_CHANGE_MAINT_ADD:
	case CD_CHANGE_MAINT_REMOVE:
	case CD_CHANGE_MAINT_CANCEL:
	case CD_CHANGE_MAINT_RUN:
	case CD_CHANGE_MAINT_STEP:
	case CD_CHANGE_MAINT_HOOK:
		cd_event_maint(c, kind, node_name(from));
		break;
	default:
		break;
	}
}

/* A move is over: how, for people (vm.h: struct cd_vm_last_move). */
static void move_ended(const struct cd_vm *vm)
{
	const struct cd_vm_last_move *l = &vm->last_move;
	char from[64], to[64];

	cd_strlcpy(from, node_name(l->source), sizeof(from));
	cd_strlcpy(to, node_name(l->target), sizeof(to));
	if (l->outcome == CD_MOVE_OUT_MOVED)
		cd_event("vm", vm->name,
			 "%s move %s -> %s done: runs on %s (%s %" PRIu64 " ms, %" PRIu64
			 " ms in all)",
			 cd_move_mode_to_str(l->mode), from, to, to,
			 l->mode == CD_MOVE_QUICK ? "paused for" : "libvirt downtime",
			 l->downtime_ms, l->total_ms);
	else if (l->outcome == CD_MOVE_OUT_SAVED)
		cd_event("vm", vm->name,
			 "%s move %s -> %s ended with the VM saved: it is restored where it is "
			 "placed%s%s",
			 cd_move_mode_to_str(l->mode), from, to, l->error[0] ? ": " : "", l->error);
	else
		cd_event("vm", vm->name, "%s move %s -> %s %s%s%s", cd_move_mode_to_str(l->mode),
			 from, to,
			 l->outcome == CD_MOVE_OUT_FAILED
				 ? "failed: it runs nowhere, failover restarts it"
			 : l->outcome == CD_MOVE_OUT_CANCELLED ? "cancelled: it stays on the source"
							       : "failed: it stays on the source",
			 l->error[0] ? ": " : "", l->error);
}

void cd_event_vm_transition(void *ctx, const struct cd_vm_transition_rec *t)
{
	const char *how = "";

	switch (t->ev) {
	case CD_VM_EV_START:
	case CD_VM_EV_STOP:
		break;
	case CD_VM_EV_PLACE:
	case CD_VM_EV_ADOPT:
		how = " on ";
		break;
	case CD_VM_EV_REPORT_RUNNING:
	case CD_VM_EV_REPORT_STOPPED:
	case CD_VM_EV_REPORT_FAILED:
	case CD_VM_EV_REPORT_OTHER:
	case CD_VM_EV_REPORT_MOVED:
	case CD_VM_EV_REPORT_SAVED:
	case CD_VM_EV_RESTORED:
	case CD_VM_EV_MOVE_STEP:
		how = " from ";
		break;
	case CD_VM_EV_NODE_DEAD:
		how = ": ";
		break;
	case CD_VM_EV_MOVE:
		how = " to ";
		break;
	case CD_VM_EV_MOVE_CANCEL:
		break;
	}
	if (t->from == CD_VM_MIGRATING && t->to != CD_VM_MIGRATING)
		move_ended(t->vm);
	qb_log(LOG_INFO, "vm %s: %s -> %s (%s%s%s)", t->vm->name, cd_vm_state_to_str(t->from),
	       cd_vm_state_to_str(t->to), cd_vm_event_to_str(t->ev), how,
	       *how ? node_name(t->node) : "");
}

struct json_object *cd_events_since(uint64_t seq)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	uint64_t first = events.last > RING ? events.last - RING + 1 : 1, s;

	for (s = seq + 1 > first ? seq + 1 : first; s <= events.last; s++) {
		const struct event *e = &events.ring[(s - 1) % RING];
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "seq", json_object_new_int64((int64_t)e->seq));
		json_object_object_add(j, "time_ms", json_object_new_int64((int64_t)e->wall_ms));
		json_object_object_add(j, "kind", json_object_new_string(e->kind));
		json_object_object_add(j, "subject", json_object_new_string(e->subject));
		json_object_object_add(j, "text", json_object_new_string(e->text));
		json_object_array_add(a, j);
	}
	json_object_object_add(o, "events", a);
	json_object_object_add(o, "last", json_object_new_int64((int64_t)events.last));
	return o;
}
