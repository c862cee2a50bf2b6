/*
 * clusterctl: node drain and node resume. The plan alone (--dry-run), the
 * drain, its cancel, its status, and --wait, which follows the drain to its
 * end by asking clusterd how it stands (the words are drain_progress.c's).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <clusterd/client.h>
#include <clusterd/result.h>

#include "cli/clusterctl.h"
#include "cli/drain_progress.h"
#include "cli/move_progress.h"
#include "cli/text.h"
#include "lib/util.h"

/*
 * --wait asks every DRAIN_POLL_MS. A drain's moves have deadlines of their
 * own in clusterd, so clusterctl waits as long as the drain runs, unless
 * --timeout says how long.
 */
#define DRAIN_POLL_MS 500

/* What a --wait has drawn or said of the drain. */
struct watch {
	bool tty;	  /* the table is redrawn in place */
	size_t drawn;	  /* how many lines of it are on the terminal */
	bool header_said; /* off a terminal: the head of the table was printed */
};

/* Whether status (a drain, or a VM of its "vms") is in state. */
static bool state_is(struct json_object *status, const char *state)
{
	const char *s = jstr(status, "state");

	return s && strcmp(s, state) == 0;
}

/*
 * Fills in the percent of each moving VM of status (a node.drain.status
 * answer), which clusterd leaves at -1 because the drain's record does not
 * follow a move's progress: vm.move.status says it (move_percent()). A VM
 * whose move status cannot be asked keeps -1 ("-" in the table), quietly:
 * that is no failure of the drain or of the wait.
 */
static void fill_percents(struct cd_client *c, struct json_object *status)
{
	struct json_object *vms = text_array(status, "vms"), *vm, *a, *reply;
	size_t i;

	for (i = 0; vms && i < json_object_array_length(vms); i++) {
		vm = json_object_array_get_idx(vms, i);
		if (!state_is(vm, "moving") || !jstr(vm, "vm"))
			continue;
		a = args1("name", jstr(vm, "vm"));
		reply = NULL;
		if (call_quiet(c, "vm.move.status", a, &reply) == 0)
			json_object_object_add(vm, "percent",
					       json_object_new_int(move_percent(reply)));
		json_object_put(reply);
		json_object_put(a);
	}
}

/* The arguments of node.drain: the node, the mode if given, whether a dry run. */
static struct json_object *drain_args(const char *node, const struct ctl_opts *o)
{
	struct json_object *a = args1("node", node);

	if (o->mode)
		json_object_object_add(a, "mode", json_object_new_string(o->mode));
	json_object_object_add(a, "dry_run", json_object_new_boolean(o->dry_run));
	return a;
}

/* The plan of a node.drain answer: the table, then what it comes to. */
static void print_plan(struct json_object *answer)
{
	struct json_object *plan = text_array(answer, "plan");
	char line[1024];
	size_t i;

	printf("%s\n", drain_plan_header(line, sizeof(line)));
	for (i = 0; plan && i < json_object_array_length(plan); i++)
		printf("%s\n", drain_plan_row(json_object_array_get_idx(plan, i), i + 1, line,
					      sizeof(line)));
	printf("%s\n", drain_plan_summary(answer, line, sizeof(line)));
}

/* The VMs of the plan of answer that can move nowhere, one line each. */
static void print_blockers(struct json_object *answer)
{
	struct json_object *plan = text_array(answer, "plan");
	char line[1024];
	size_t i;

	for (i = 0; plan && i < json_object_array_length(plan); i++)
		if (drain_blocker_line(json_object_array_get_idx(plan, i), line, sizeof(line)))
			printf("  %s\n", line);
}

/* The table of status on a terminal, drawn over the one drawn before. */
static void draw(struct watch *w, struct json_object *status)
{
	struct json_object *vms = text_array(status, "vms");
	size_t width = terminal_width(), i, n = vms ? json_object_array_length(vms) : 0;
	char line[1024];

	if (w->drawn)
		printf("\r\033[%zuA", w->drawn);
	printf("%s\033[K\n", drain_status_header(line, sizeof(line)));
	for (i = 0; i < n; i++)
		printf("%s\033[K\n",
		       drain_vm_line(json_object_array_get_idx(vms, i), width, line, sizeof(line)));
	printf("%s\033[K\n\033[J", drain_overall_line(status, width, line, sizeof(line)));
	w->drawn = n + 2;
}

/* Off a terminal: the VMs of status whose state or method changed since prev. */
static void say_changes(struct watch *w, struct json_object *prev, struct json_object *status,
			const struct ctl_opts *o)
{
	struct json_object *vms = text_array(status, "vms"), *vm;
	char line[1024];
	size_t i;

	for (i = 0; vms && i < json_object_array_length(vms); i++) {
		vm = json_object_array_get_idx(vms, i);
		if (!drain_vm_changed(prev, vm))
			continue;
		if (o->json) {
			print_event("vm", vm);
			continue;
		}
		if (!w->header_said)
			printf("%s\n", drain_status_header(line, sizeof(line)));
		w->header_said = true;
		printf("%s\n", drain_vm_line(vm, 0, line, sizeof(line)));
	}
}

/* How the drain stands at the end of a wait, said; returns its result. */
static int show_end(struct json_object *status, const struct ctl_opts *o)
{
	static const char *const keys[] = {"node", "id", "state", "why", "begun_ms", "ended_ms"};
	struct json_object *end, *v;
	char line[1024];
	size_t i;

	if (o->json) {
		end = json_object_new_object();
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (json_object_object_get_ex(status, keys[i], &v))
				json_object_object_add(end, keys[i], json_object_get(v));
		print_event("end", end);
		json_object_put(end);
	} else {
		printf("%s\n", drain_end_line(status, line, sizeof(line)));
	}
	return drain_state_result(status);
}

/*
 * Follows the drain id of node until it no longer runs, and says how it
 * ended. Returns its result (drain_state_result()), or the failure of a
 * call, or CD_ERR_TIMEOUT once --timeout passed (the drain goes on).
 */
static int wait_drain(struct cd_client *c, const char *node, int64_t id, const struct ctl_opts *o)
{
	uint64_t deadline = o->timeout_given ? cd_now_ms() + (uint64_t)o->timeout_ms : 0;
	struct json_object *a = args1("node", node), *status = NULL, *prev = NULL;
	struct watch w = {.tty = !o->json && isatty(STDOUT_FILENO)};
	int rc;

	for (;;) {
		rc = call_quiet(c, "node.drain.status", a, &status);
		if (rc < 0) {
			say_error(rc, status);
			goto out_put;
		}
		/* Another drain: ours was cleared (node resume) and a new one began. */
		if (jint(status, "id") != id && !state_is(status, "none")) {
			fprintf(stderr,
				"clusterctl: %s: drain %lld is no longer the node's drain\n", node,
				(long long)id);
			rc = CD_ERR_NOT_FOUND;
			goto out_put;
		}
		fill_percents(c, status);
		if (w.tty)
			draw(&w, status);
		else
			say_changes(&w, prev, status, o);
		fflush(stdout);
		if (!state_is(status, "running") || (deadline && cd_now_ms() >= deadline))
			break;
		json_object_put(prev);
		prev = status;
		status = NULL;
		nanosleep(&(struct timespec){.tv_nsec = DRAIN_POLL_MS * 1000 * 1000}, NULL);
	}
	rc = show_end(status, o);
	if (rc == CD_ERR_TIMEOUT)
		fprintf(stderr,
			"clusterctl: %s: no longer waiting (--timeout); the drain goes on "
			"(clusterctl node drain %s --status says how it stands)\n",
			node, node);
out_put:
	fflush(stdout);
	json_object_put(prev);
	json_object_put(status);
	json_object_put(a);
	return rc;
}

/* --dry-run: the plan only, which changes nothing. */
static int plan_drain(struct cd_client *c, const char *node, const struct ctl_opts *o)
{
	struct json_object *a = drain_args(node, o), *reply = NULL;
	int rc = call(c, "node.drain", a, &reply);

	json_object_put(a);
	if (rc < 0)
		goto out_put;
	if (o->json)
		print_json(reply);
	else
		print_plan(reply);
	rc = jbool(reply, "blocked") ? CD_ERR_DRAIN_BLOCKED : 0;
out_put:
	json_object_put(reply);
	return rc;
}

/*
 * The drain: clusterd starts it even with VMs that can move nowhere (it
 * moves the others and ends blocked), and says which.
 */
static int start_drain(struct cd_client *c, const char *node, const struct ctl_opts *o)
{
	struct json_object *a = drain_args(node, o), *reply = NULL;
	int rc = call(c, "node.drain", a, &reply);
	char line[1024];

	json_object_put(a);
	if (rc < 0)
		goto out_put;
	say_answer("start", reply, drain_started_line(reply, line, sizeof(line)), o);
	if (!o->json)
		print_blockers(reply);
	fflush(stdout);
	if (o->wait)
		rc = wait_drain(c, node, jint(reply, "id"), o);
	else
		rc = jbool(reply, "blocked") ? CD_ERR_DRAIN_BLOCKED : 0;
out_put:
	json_object_put(reply);
	return rc;
}

/* The answer of node.drain.cancel, as asked (with or without --abort). */
static void show_cancel(struct json_object *reply)
{
	const char *node = jstr(reply, "node") ? jstr(reply, "node") : "?";

	printf("drain %lld of %s cancelled: %s; %s stays in maintenance until clusterctl node "
	       "resume %s\n",
	       (long long)jint(reply, "id"), node,
	       opt.abort_moves ? "the running moves are called off, their VMs stay"
			       : "no new move starts, the running ones finish",
	       node, node);
}

/* --cancel [--abort]: no new moves; with --abort, the running ones are called off too. */
static int cancel_drain(struct cd_client *c, const char *node, const struct ctl_opts *o)
{
	struct json_object *a = args1("node", node);

	json_object_object_add(a, "abort", json_object_new_boolean(o->abort_moves));
	return simple(c, "node.drain.cancel", a, show_cancel);
}

/* --status: the drain as it stands, once. */
static int show_drain(struct cd_client *c, const char *node, const struct ctl_opts *o)
{
	struct json_object *a = args1("node", node), *reply = NULL;
	struct watch w = {.tty = false};
	int rc = call(c, "node.drain.status", a, &reply);
	char line[1024];

	json_object_put(a);
	if (rc < 0)
		goto out_put;
	fill_percents(c, reply);
	if (o->json) {
		print_json(reply);
		goto out_put;
	}
	printf("%s\n", drain_overall_line(reply, 0, line, sizeof(line)));
	if (jstr(reply, "why") && *jstr(reply, "why"))
		printf("why: %s\n", jstr(reply, "why"));
	say_changes(&w, NULL, reply, o);
out_put:
	json_object_put(reply);
	return rc;
}

/*
 * node drain NODE [--mode M] [--dry-run | --wait], node drain NODE --cancel
 * [--abort], node drain NODE --status: the parser rules out the other
 * combinations.
 */
int cmd_node_drain(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	if (o->cancel)
		return cancel_drain(c, argv[0], o);
	if (o->status)
		return show_drain(c, argv[0], o);
	if (o->dry_run)
		return plan_drain(c, argv[0], o);
	return start_drain(c, argv[0], o);
}

static void show_resume(struct json_object *reply)
{
	char line[1024];

	printf("%s\n", drain_resume_line(reply, line, sizeof(line)));
}

/* node resume NODE [--failback W]: the parser checked the word. */
int cmd_node_resume(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a = args1("node", argv[0]);

	if (o->failback)
		json_object_object_add(a, "failback", json_object_new_string(o->failback));
	return simple(c, "node.resume", a, show_resume);
}
