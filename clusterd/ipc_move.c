/*
 * The IPC commands about moves: vm.move.check (the preflight), vm.move
 * (the preflight, then the move), vm.move.status (where a move stands, with
 * the source's libvirt job statistics) and vm.move.cancel.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "agents/vm_agent.h"
#include "agents/vmstate.h"
#include "clusterd/conf.h"
#include "clusterd/events.h"
#include "clusterd/ipc_cmd.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "core/move_check.h"
#include "core/move_peer.h"
#include "lib/jsonget.h"
#include "lib/util.h"

static const char *node_name(uint32_t id)
{
	const struct cd_node *n = id ? cd_state_node_by_id(cd_replica_state(), id) : NULL;

	return n ? n->info.name : NULL;
}

static struct json_object *name_json(uint32_t id)
{
	const char *n = node_name(id);

	return n ? json_object_new_string(n) : NULL;
}

struct json_object *cd_ipc_move_json(const struct cd_vm *vm, bool last)
{
	struct json_object *o = last ? cd_vm_last_move_to_json(vm) : cd_vm_move_to_json(vm);
	uint64_t now = cd_wall_ms();

	if (!o)
		return NULL;
	/* The state's record, with node names for its node ids. */
	json_object_object_add(o, "source",
			       name_json(last ? vm->last_move.source : vm->move.source));
	json_object_object_add(o, "target",
			       name_json(last ? vm->last_move.target : vm->move.target));
	if (last) {
		if (!vm->last_move.error[0])
			json_object_object_add(o, "error", NULL);
		return o;
	}
	json_object_object_add(o, "action_id", json_object_new_int64((int64_t)vm->action_id));
	json_object_object_add(o, "elapsed_ms",
			       json_object_new_int64(vm->move.begun_ms && now > vm->move.begun_ms
							     ? (int64_t)(now - vm->move.begun_ms)
							     : 0));
	return o;
}

/* A move its preflight refused is an event of the VM: every reason's code. */
static void say_refused(const struct cd_move_report *rep)
{
	char codes[256] = "";
	size_t i, n = 0;

	for (i = 0; i < rep->n_failures && n < sizeof(codes); i++)
		n += (size_t)snprintf(codes + n, sizeof(codes) - n, "%s%s", i ? ", " : "",
				      cd_move_code_to_str(rep->failures[i].code));
	cd_event("vm", rep->vm, "%s move to %s refused by its preflight: %s",
		 cd_move_mode_to_str(rep->mode), rep->target[0] ? rep->target : "any node", codes);
}

/* --- submitting a change and answering with what it made --- */

/* A change on its way, and how its client is answered once it is applied. */
struct pending {
	qb_ipcs_connection_t *c;
	char name[CD_NAME_MAX + 1];
	struct json_object *body; /* the answer's start (the preflight's report) */
	struct json_object *(*view)(const struct cd_vm *vm, struct json_object *body);
};

static void pending_done(void *ctx, int rc, const char *err)
{
	struct pending *p = ctx;
	const struct cd_vm *vm = cd_state_vm(cd_replica_state(), p->name);

	if (rc == 0 && vm) {
		p->body = p->view(vm, p->body);
		cd_ipc_send_reply(p->c, 0, p->body);
	} else {
		cd_ipc_send_error(p->c, rc < 0 ? rc : CD_ERR_NOT_FOUND, err);
	}
	json_object_put(p->body);
	qb_ipcs_connection_unref(p->c);
	free(p);
}

/*
 * Submit change ch (taken) about VM name for client c; once applied, c is
 * answered view(vm, body). 0 (body taken), or a negative code with *out set.
 */
static int submit_then(qb_ipcs_connection_t *c, const char *name, struct json_object *ch,
		       struct json_object *body,
		       struct json_object *(*view)(const struct cd_vm *, struct json_object *),
		       struct json_object **out)
{
	struct pending *p = calloc(1, sizeof(*p));
	int rc;

	if (!p) {
		json_object_put(ch);
		*out = cd_ipc_error_obj("out of memory");
		return -ENOMEM;
	}
	p->c = c;
	p->body = body ? body : json_object_new_object();
	p->view = view;
	cd_strlcpy(p->name, name, sizeof(p->name));
	qb_ipcs_connection_ref(c);
	rc = cd_replica_submit(ch, pending_done, p);
	json_object_put(ch);
	if (rc < 0) {
		qb_ipcs_connection_unref(c);
		p->body = NULL;
		free(p);
		*out = cd_ipc_error_obj("%s", cd_strerror(rc));
		return rc;
	}
	return 0;
}

static struct json_object *move_begun_view(const struct cd_vm *vm, struct json_object *body)
{
	struct json_object *m = json_object_new_object();

	json_object_object_add(m, "vm", json_object_new_string(vm->name));
	/* A cold move is a stop where it runs, then a start on cold_to. */
	json_object_object_add(m, "source", name_json(vm->cold_to ? vm->node : vm->move.source));
	json_object_object_add(m, "target", name_json(vm->cold_to ? vm->cold_to : vm->move.target));
	json_object_object_add(m, "mode",
			       json_object_new_string(cd_move_mode_to_str(
				       vm->cold_to ? CD_MOVE_COLD : vm->move.mode)));
	json_object_object_add(m, "action_id", json_object_new_int64((int64_t)vm->action_id));
	json_object_object_add(body, "move", m);
	return body;
}

/*
 * The move rep allows, submitted for c: 0 (*reply, the preflight's answer,
 * taken: it is the start of c's answer) or a negative code with *reply
 * the error instead.
 */
static int submit_move(qb_ipcs_connection_t *c, const struct cd_move_report *rep,
		       enum cd_move_mode mode, struct json_object **reply)
{
	const struct cd_state *s = cd_replica_state();
	const struct cd_node *n = cd_state_node_by_id(s, rep->target_id);
	const struct cd_vm *vm = cd_state_vm(s, rep->vm);
	struct json_object *ch, *body = *reply;
	char why[200];
	int rc;

	if (!n || !vm) {
		json_object_put(body);
		*reply = n ? cd_ipc_error_obj("no VM '%s'", rep->vm)
			   : cd_ipc_error_obj("no node '%s'", rep->target);
		return CD_ERR_NOT_FOUND;
	}
	ch = cd_vm_move_change(s, vm, n->info.id, mode, cd_config_str(CD_CFG_CSVFS_RUN_DIR),
			       cd_wall_ms(), why, sizeof(why));
	if (!ch) {
		json_object_put(body);
		*reply = cd_ipc_error_obj("%s", why);
		return CD_ERR_INVALID;
	}
	*reply = NULL;
	rc = submit_then(c, rep->vm, ch, body, move_begun_view, reply);
	if (rc < 0)
		json_object_put(body);
	return rc;
}

/* The mode a client named, or the VM's own (live for no VM: it is reported missing). */
static int move_mode_arg(struct json_object *args, const char *vm_name, enum cd_move_mode *mode)
{
	const char *want = cd_ipc_arg_str(args, "mode");
	const struct cd_vm *vm = cd_state_vm(cd_replica_state(), vm_name);
	enum cd_move_mode m;

	*mode = vm ? vm->move_mode : CD_MOVE_LIVE;
	if (!want)
		return 0;
	for (m = CD_MOVE_LIVE; m <= CD_MOVE_COLD; m++)
		if (strcmp(want, cd_move_mode_to_str(m)) == 0) {
			*mode = m;
			return 0;
		}
	return CD_ERR_INVALID;
}

/* {"report": the report's JSON, "text": it in words}, or NULL if out of memory. */
static struct json_object *move_report_reply(const struct cd_move_report *rep)
{
	struct json_object *o = json_object_new_object(), *j = cd_move_report_to_json(rep);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = f ? cd_move_report_print(f, rep) : -ENOMEM;

	if (f && fclose(f) != 0)
		rc = -EIO;
	if (rc < 0 || !o || !j) {
		free(text);
		json_object_put(j);
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "report", j);
	json_object_object_add(o, "text", json_object_new_string_len(text, (int)len));
	free(text);
	return o;
}

/* A move's preflight under way: the question to the target's libvirtd is out. */
struct move_check {
	qb_ipcs_connection_t *c;
	char name[CD_NAME_MAX + 1], target[CD_NAME_MAX + 1];
	enum cd_move_mode mode;
	bool chosen;		    /* the preflight chose the target: say so again */
	char why[CD_MOVE_TEXT_MAX]; /* and why */
	bool go;		    /* vm.move: carry it out if the preflight allows it */
};

/*
 * The preflight of name's move to target (NULL: the one it chooses), with
 * facts: 0 and *rep filled (the caller frees it), or a negative code with
 * *out set to the error.
 */
static int preflight(const char *name, const char *target, enum cd_move_mode mode,
		     const struct cd_move_facts *facts, struct cd_move_report **rep,
		     struct json_object **out)
{
	int rc;

	*rep = malloc(sizeof(**rep));
	if (!*rep) {
		*out = cd_ipc_error_obj("out of memory");
		return -ENOMEM;
	}
	rc = cd_move_preflight(cd_replica_state(), name, target, mode, facts, *rep);
	if (rc < 0) {
		*out = cd_ipc_error_obj("cannot check the move of '%s': %s", name,
					(*rep)->error[0] ? (*rep)->error : cd_strerror(rc));
		free(*rep);
		*rep = NULL;
	}
	return rc;
}

/* The preflight with facts, answered to m's client (or its error). */
static void move_check_answer(const struct move_check *m, const struct cd_move_facts *facts,
			      const char *facts_error)
{
	struct cd_move_report *rep;
	struct json_object *o = NULL;
	int rc = preflight(m->name, m->target, m->mode, facts, &rep, &o);

	if (rc == 0) {
		/* Asked of the target the first pass chose: the same words as that pass. */
		if (m->chosen) {
			rep->target_chosen = true;
			cd_strlcpy(rep->target_why, m->why, sizeof(rep->target_why));
		}
		o = move_report_reply(rep);
		if (!o)
			rc = -ENOMEM;
		else if (facts_error)
			json_object_object_add(o, "facts_error",
					       json_object_new_string(facts_error));
		/* A move the preflight allows is carried out; its answer comes then. */
		if (o && m->go && cd_move_report_ok(rep)) {
			rc = submit_move(m->c, rep, m->mode, &o);
			if (rc == 0) {
				free(rep);
				return;
			}
		}
		/* Refused: the report is the answer, with the refusal's code. */
		if (o && m->go && !cd_move_report_ok(rep)) {
			say_refused(rep);
			rc = CD_ERR_REFUSED;
		}
		free(rep);
	}
	/* o: the report, or an error; none only when out of memory. */
	if (o)
		cd_ipc_send_reply(m->c, rc, o);
	else
		cd_ipc_send_error(m->c, rc, NULL);
	json_object_put(o);
}

static struct cd_move_facts local_facts(void)
{
	struct cd_move_facts f = {
		.quorate = cd_replica_quorate(),
		.csvfs_run_dir = cd_config_str(CD_CFG_CSVFS_RUN_DIR),
		.cpu_compatible = CD_MOVE_CPU_UNKNOWN,
	};

	return f;
}

static void peer_facts_done(void *ctx, const struct cd_agent_result *r)
{
	struct move_check *m = ctx;
	struct cd_move_facts facts = local_facts();
	struct cd_move_peer_answer a;
	char why[320] = "";

	if (r->rc < 0)
		snprintf(why, sizeof(why), "%s's libvirtd did not answer: %s", m->target, r->err);
	else if (cd_move_peer_answer_read(r->xml, &a) < 0)
		snprintf(why, sizeof(why), "%s's libvirtd gave no answer that parses", m->target);
	else
		cd_move_peer_answer_facts(&a, &facts);
	move_check_answer(m, &facts, why[0] ? why : NULL);
	qb_ipcs_connection_unref(m->c);
	free(m);
}

/* The libvirtd of node n (libvirt_peer_uri, its first address for %s), in uri. */
static int peer_uri(const struct cd_node *n, char *uri, size_t len)
{
	if (!n || n->info.n_addrs == 0)
		return CD_ERR_NOT_FOUND;
	return cd_config_peer_uri(n->info.addrs[0], uri, len);
}

/*
 * Ask the target's libvirtd what only it can say (its CPU, its bridges and
 * networks) when the preflight found a target that is a member: CD_IPC_ASYNC,
 * or < 0 if it cannot be asked (then the report goes without).
 */
static int ask_target(qb_ipcs_connection_t *c, const struct cd_move_report *rep,
		      enum cd_move_mode mode, bool go)
{
	const struct cd_state *s = cd_replica_state();
	const struct cd_node *n = cd_state_node_by_name(s, rep->target);
	const struct cd_vm *vm = cd_state_vm(s, rep->vm);
	struct json_object *q;
	struct move_check *m;
	char uri[512], err[160];
	size_t i;
	int rc;

	for (i = 0; i < rep->n_failures; i++)
		if (rep->failures[i].code == CD_MOVE_NOT_MEMBER ||
		    rep->failures[i].code == CD_MOVE_NO_NODE)
			return CD_ERR_NOT_FOUND;
	if (!vm || !vm->xml || !n || !n->member || peer_uri(n, uri, sizeof(uri)) < 0)
		return CD_ERR_NOT_FOUND;
	q = cd_move_peer_ask(vm->xml, err, sizeof(err));
	m = calloc(1, sizeof(*m));
	if (!q || !m) {
		json_object_put(q);
		free(m);
		return CD_ERR_INVALID;
	}
	m->c = c;
	m->mode = mode;
	m->go = go;
	cd_strlcpy(m->name, rep->vm, sizeof(m->name));
	cd_strlcpy(m->target, rep->target, sizeof(m->target));
	m->chosen = rep->target_chosen;
	cd_strlcpy(m->why, rep->target_why, sizeof(m->why));
	rc = cd_vm_agent_peer_facts(
		rep->target, uri, json_object_to_json_string_ext(q, JSON_C_TO_STRING_PLAIN),
		(int)cd_config_uint(CD_CFG_LIBVIRT_TIMEOUT_MS), peer_facts_done, m);
	json_object_put(q);
	if (rc < 0) {
		free(m);
		return rc;
	}
	qb_ipcs_connection_ref(c);
	return CD_IPC_ASYNC;
}

/*
 * The preflight of a move, then (go) the move: answered without quorum
 * too for a check, since its absence is one of the reasons reported. The
 * report is the answer whether or not the move may go ahead; a move it
 * allows is submitted and answered once the cluster has it (submit_move).
 * Once the state names a target, its libvirtd is asked what only it can
 * say (ask_target), and the preflight runs again with that.
 */
static int move_or_check(qb_ipcs_connection_t *c, struct json_object *args,
			 struct json_object **out, bool go)
{
	const char *name = cd_ipc_arg_str(args, "name");
	struct cd_move_facts facts = local_facts();
	struct cd_move_report *rep;
	enum cd_move_mode mode;
	int rc;

	if (!name) {
		*out = cd_ipc_error_obj("missing VM name");
		return CD_ERR_INVALID;
	}
	if (move_mode_arg(args, name, &mode) < 0) {
		*out = cd_ipc_error_obj("no move mode '%s' (live, quick or cold)",
					cd_ipc_arg_str(args, "mode"));
		return CD_ERR_INVALID;
	}
	rc = preflight(name, cd_ipc_arg_str(args, "target"), mode, &facts, &rep, out);
	if (rc < 0)
		return rc;
	if (rep->target[0] && (rc = ask_target(c, rep, mode, go)) == CD_IPC_ASYNC) {
		*out = NULL;
	} else if (!(*out = move_report_reply(rep))) {
		*out = cd_ipc_error_obj("out of memory");
		rc = -ENOMEM;
	} else if (go && cd_move_report_ok(rep)) {
		rc = submit_move(c, rep, mode, out);
		if (rc == 0)
			rc = CD_IPC_ASYNC;
	} else if (go) {
		/* Refused: the report is the answer, with the refusal's code. */
		say_refused(rep);
		cd_ipc_send_reply(c, CD_ERR_REFUSED, *out);
		json_object_put(*out);
		*out = NULL;
		rc = CD_IPC_ASYNC;
	} else {
		rc = 0;
	}
	free(rep);
	return rc;
}

static int cmd_vm_move_check(qb_ipcs_connection_t *c, struct json_object *args,
			     struct json_object **out)
{
	return move_or_check(c, args, out, false);
}

static int cmd_vm_move(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	return move_or_check(c, args, out, true);
}

/* --- where a move stands --- */

struct status {
	qb_ipcs_connection_t *c;
	struct json_object *body;
};

static void stats_done(void *ctx, const struct cd_agent_result *r)
{
	struct status *x = ctx;
	struct json_object *p = r->rc == 0 && r->xml ? json_tokener_parse(r->xml) : NULL;

	if (p)
		json_object_object_add(x->body, "progress", p);
	else
		json_object_object_add(
			x->body, "progress_error",
			json_object_new_string(r->rc < 0 && r->err ? r->err : "no statistics"));
	cd_ipc_send_reply(x->c, 0, x->body);
	json_object_put(x->body);
	qb_ipcs_connection_unref(x->c);
	free(x);
}

/*
 * A quick move's progress, as the state file's blocks say it, read here
 * through this node's view of the file: {"type": "quick", "saved_bytes",
 * "restored_bytes", "memory_bytes", "complete"}; NULL if it cannot be read.
 */
static struct json_object *quick_progress(const struct cd_vm *vm)
{
	struct cd_vmstate_head h = {0};
	struct cd_vmstate_tail t = {0};
	struct json_object *o;
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", cd_config_str(CD_CFG_CSVFS_RUN_DIR),
		 vm->move.state_volume, vm->move.state_file);
	fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	cd_vmstate_peek(fd, &h, &t);
	close(fd);
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("quick"));
	json_object_object_add(
		o, "saved_bytes",
		json_object_new_int64((int64_t)(h.action_id == vm->action_id ? h.length : 0)));
	json_object_object_add(
		o, "restored_bytes",
		json_object_new_int64((int64_t)(t.action_id == vm->action_id ? t.read : 0)));
	json_object_object_add(o, "memory_bytes",
			       json_object_new_int64((int64_t)(vm->memory_mb << 20)));
	json_object_object_add(o, "complete",
			       json_object_new_boolean(h.action_id == vm->action_id && h.complete));
	return o;
}

/*
 * vm.move.status: the VM's state, its move (if any) and its last move,
 * and while its memory is copied the source's libvirt job statistics
 * (asked of the source's libvirtd, this node's own or over libvirt_peer_uri).
 */
static int cmd_vm_move_status(qb_ipcs_connection_t *c, struct json_object *args,
			      struct json_object **out)
{
	const char *name = cd_ipc_arg_str(args, "name");
	const struct cd_vm *vm = name ? cd_state_vm(cd_replica_state(), name) : NULL;
	const struct cd_node *src;
	struct status *x;
	char uri[512];
	int rc;

	if (!vm) {
		*out = cd_ipc_error_obj(name ? "no VM '%s' (see 'clusterctl vm list')"
					     : "missing VM name%s",
					name ? name : "");
		return name ? CD_ERR_NOT_FOUND : CD_ERR_INVALID;
	}
	*out = json_object_new_object();
	json_object_object_add(*out, "vm", json_object_new_string(vm->name));
	json_object_object_add(*out, "state",
			       json_object_new_string(cd_vm_state_to_str(vm->state)));
	json_object_object_add(*out, "node", name_json(vm->node));
	json_object_object_add(*out, "move", cd_ipc_move_json(vm, false));
	json_object_object_add(*out, "last_move", cd_ipc_move_json(vm, true));
	json_object_object_add(*out, "progress", NULL);
	if (vm->state == CD_VM_MIGRATING && vm->move.mode == CD_MOVE_QUICK) {
		json_object_object_add(*out, "progress", quick_progress(vm));
		return 0;
	}
	if (vm->state != CD_VM_MIGRATING ||
	    (vm->move.phase != CD_MOVE_COPYING && vm->move.phase != CD_MOVE_ABORTING))
		return 0;
	src = cd_state_node_by_id(cd_replica_state(), vm->node);
	x = calloc(1, sizeof(*x));
	if (!x || !src)
		goto out_free;
	if (vm->node == cd_membership_local_nodeid())
		uri[0] = '\0';
	else if (src->info.n_addrs == 0 ||
		 cd_config_peer_uri(src->info.addrs[0], uri, sizeof(uri)) < 0)
		goto out_free;
	x->c = c;
	x->body = *out;
	rc = cd_vm_agent_job_stats(vm->name, uri[0] ? uri : NULL, false,
				   (int)cd_config_uint(CD_CFG_LIBVIRT_TIMEOUT_MS), stats_done, x);
	if (rc < 0)
		goto out_free;
	qb_ipcs_connection_ref(c);
	*out = NULL;
	return CD_IPC_ASYNC;
out_free:
	free(x);
	json_object_object_add(*out, "progress_error",
			       json_object_new_string("the source's statistics cannot be asked"));
	return 0;
}

static struct json_object *cancel_view(const struct cd_vm *vm, struct json_object *body)
{
	json_object_object_add(body, "vm", json_object_new_string(vm->name));
	json_object_object_add(body, "source", name_json(vm->node));
	return body;
}

static int cmd_vm_move_cancel(qb_ipcs_connection_t *c, struct json_object *args,
			      struct json_object **out)
{
	const char *name = cd_ipc_arg_str(args, "name");
	struct json_object *ch;
	int rc;

	if (!name) {
		*out = cd_ipc_error_obj("missing VM name");
		return CD_ERR_INVALID;
	}
	ch = cd_vm_move_cancel_change(name);
	rc = submit_then(c, name, ch, NULL, cancel_view, out);
	return rc < 0 ? rc : CD_IPC_ASYNC;
}

/*
 * vm.move.check is a read: this node's copy of the state, without quorum.
 * vm.move submits only if its preflight allows the move.
 */
const struct cd_ipc_cmd cd_ipc_move_cmds[] = {
	{"vm.move.check", 0, cmd_vm_move_check},
	{"vm.move", CD_IPC_SUBMITS, cmd_vm_move},
	{"vm.move.status", 0, cmd_vm_move_status},
	{"vm.move.cancel", CD_IPC_SUBMITS, cmd_vm_move_cancel},
};
const size_t cd_ipc_move_n_cmds = sizeof(cd_ipc_move_cmds) / sizeof(cd_ipc_move_cmds[0]);
