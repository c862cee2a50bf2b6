/*
 * clusterctl: vm move. The preflight alone (--check), the move, its
 * cancel, and --wait, which follows the move to its end by asking clusterd
 * how it stands (the words are move_progress.c's).
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
#include "cli/move_progress.h"
#include "lib/util.h"

/*
 * --wait asks every MOVE_POLL_MS. A move has deadlines of its own in
 * clusterd, so clusterctl waits as long as it takes, and gives up only on
 * a move that showed no change (state, phase, percent; of a quick move the
 * percents saved and restored) for MOVE_STALL_MS.
 */
#define MOVE_POLL_MS 200
#define MOVE_STALL_MS (30 * 60 * 1000)

/* What a --wait has seen of the move action_id of vm. */
struct watch {
	const char *vm;
	int64_t action_id;
	bool tty;	     /* the progress line is rewritten in place */
	size_t drawn;	     /* how long the line now on the terminal is */
	char key[128];	     /* the state, phase and percents last seen */
	char phase[64];	     /* the phase (or state) last printed, off a terminal */
	uint64_t changed_ms; /* when key last changed */
};

/* The move's status as --wait shows it: a JSON line, a new line or the line redrawn. */
static void show_status(struct watch *w, struct json_object *status, bool changed,
			const struct ctl_opts *o)
{
	struct json_object *move = move_of(status);
	const char *phase = jstr(move ? move : status, move ? "phase" : "state");
	char line[512];
	size_t len;

	if (o->json) {
		if (changed)
			print_event("status", status);
	} else if (w->tty) {
		move_progress_line(status, terminal_width(), line, sizeof(line));
		len = strlen(line);
		printf("\r%s%*s", line, w->drawn > len ? (int)(w->drawn - len) : 0, "");
		w->drawn = len;
	} else if (strcmp(phase ? phase : "", w->phase) != 0) {
		cd_strlcpy(w->phase, phase ? phase : "", sizeof(w->phase));
		printf("%s\n", move_progress_line(status, 0, line, sizeof(line)));
	}
	fflush(stdout);
}

/* The move the first status is about when the caller knows no action id. */
static int find_action(struct watch *w, struct json_object *status)
{
	struct json_object *last = NULL;

	if (move_of(status)) {
		w->action_id = jint(move_of(status), "action_id");
		return 0;
	}
	/* It ended before the first look: then it is the last one. */
	json_object_object_get_ex(status, "last_move", &last);
	if (!last || !json_object_is_type(last, json_type_object))
		return CD_ERR_NOT_FOUND;
	w->action_id = jint(last, "action_id");
	return 0;
}

/* How the move ended, said; returns its result (move_outcome_result()). */
static int show_end(const struct watch *w, struct json_object *last, const struct ctl_opts *o)
{
	char line[512];

	if (o->json)
		print_event("end", last);
	else
		printf("%s\n", move_end_line(w->vm, last, line, sizeof(line)));
	return move_outcome_result(last);
}

/*
 * Follows the move action_id of vm (or, if !known, the one the first
 * status shows) until it ended, and says how. Returns its result, or the
 * failure of a call, or CD_ERR_TIMEOUT after MOVE_STALL_MS without change.
 */
static int wait_move(struct cd_client *c, const char *vm, int64_t action_id, bool known,
		     const struct ctl_opts *o)
{
	struct watch w = {.vm = vm, .action_id = action_id, .changed_ms = cd_now_ms()};
	struct json_object *a = args1("name", vm), *status = NULL, *last = NULL;
	char key[sizeof(w.key)];
	bool changed, asked = true;
	int rc;

	w.tty = !o->json && isatty(STDOUT_FILENO);
	for (;;) {
		rc = call_quiet(c, "vm.move.status", a, &status);
		if (rc < 0) {
			asked = false;
			break;
		}
		if (!known && (rc = find_action(&w, status)) < 0)
			break;
		known = true;
		if ((last = move_ended(status, w.action_id)))
			break;
		move_change_key(status, key, sizeof(key));
		changed = strcmp(key, w.key) != 0;
		if (changed) {
			cd_strlcpy(w.key, key, sizeof(w.key));
			w.changed_ms = cd_now_ms();
		}
		show_status(&w, status, changed, o);
		if (cd_now_ms() - w.changed_ms >= MOVE_STALL_MS) {
			rc = CD_ERR_TIMEOUT;
			break;
		}
		json_object_put(status);
		status = NULL;
		nanosleep(&(struct timespec){.tv_nsec = MOVE_POLL_MS * 1000 * 1000}, NULL);
	}
	/* The progress line ends before anything else is said. */
	if (w.drawn)
		putchar('\n');
	fflush(stdout);
	if (last)
		rc = show_end(&w, last, o);
	else if (!asked)
		say_error(rc, status);
	else if (rc == CD_ERR_TIMEOUT)
		fprintf(stderr,
			"clusterctl: %s: the move showed no change for %d minutes; no longer "
			"waiting (clusterctl vm show %s says how it stands)\n",
			vm, MOVE_STALL_MS / 60000, vm);
	else
		fprintf(stderr, "clusterctl: %s: no move to wait for\n", vm);
	fflush(stdout);
	json_object_put(status);
	json_object_put(a);
	return rc;
}

/* The arguments of vm.move.check and vm.move: the VM, its target and mode if given. */
static struct json_object *move_args(char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a = args1("name", argv[0]);

	if (argc > 1)
		json_object_object_add(a, "target", json_object_new_string(argv[1]));
	if (o->mode)
		json_object_object_add(a, "mode", json_object_new_string(o->mode));
	return a;
}

/*
 * The preflight's report in clusterd's words (with --json, the report).
 * Returns 0 if it lets the move go ahead, CD_ERR_REFUSED if not.
 */
static int print_report(struct json_object *reply, const struct ctl_opts *o)
{
	struct json_object *report = NULL;
	const char *text = jstr(reply, "text"), *facts_error = jstr(reply, "facts_error");

	json_object_object_get_ex(reply, "report", &report);
	/* The target's libvirtd could not be asked: what only it knows is missing. */
	if (facts_error && report)
		json_object_object_add(report, "facts_error", json_object_new_string(facts_error));
	if (o->json)
		print_json(report);
	else
		fputs(text ? text : "", stdout);
	if (!o->json && facts_error)
		printf("  not asked: %s\n", facts_error);
	return jbool(report, "ok") ? 0 : CD_ERR_REFUSED;
}

/* --check: the preflight only, which changes nothing. */
static int check_move(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a = move_args(argv, argc, o), *reply = NULL;
	int rc = call(c, "vm.move.check", a, &reply);

	json_object_put(a);
	if (rc == 0)
		rc = print_report(reply, o);
	json_object_put(reply);
	return rc;
}

/*
 * The move: clusterd runs the preflight first, and a move it refuses is
 * reported as --check reports it.
 */
static int start_move(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a = move_args(argv, argc, o), *reply = NULL, *move = NULL;
	int rc = call_quiet(c, "vm.move", a, &reply);
	char line[512];

	json_object_put(a);
	if (rc == CD_ERR_REFUSED && json_object_object_get_ex(reply, "report", NULL)) {
		print_report(reply, o);
		goto out_put;
	}
	if (rc < 0) {
		say_error(rc, reply);
		goto out_put;
	}
	if (!json_object_object_get_ex(reply, "move", &move) ||
	    !json_object_is_type(move, json_type_object)) {
		fprintf(stderr, "clusterctl: %s: clusterd's answer names no move\n", argv[0]);
		rc = CD_ERR_PROTOCOL;
		goto out_put;
	}
	snprintf(line, sizeof(line), "%s: moving from %s to %s (%s)", argv[0], jstr(move, "source"),
		 jstr(move, "target"), jstr(move, "mode"));
	say_answer("start", move, line, o);
	if (o->wait)
		rc = wait_move(c, argv[0], jint(move, "action_id"), true, o);
out_put:
	json_object_put(reply);
	return rc;
}

/*
 * --cancel: allowed until the switch-over (of a quick move: until its
 * restore begins); later clusterd refuses it, and its words are said.
 * With --wait, the VM staying on its source is what was asked for.
 */
static int cancel_move(struct cd_client *c, const char *vm, const struct ctl_opts *o)
{
	struct json_object *a = args1("name", vm), *reply = NULL;
	int rc = call(c, "vm.move.cancel", a, &reply);
	char line[512];

	json_object_put(a);
	if (rc < 0)
		goto out_put;
	snprintf(line, sizeof(line), "%s: cancelling the move; it stays on %s", vm,
		 jstr(reply, "source"));
	say_answer("cancel", reply, line, o);
	if (o->wait) {
		rc = wait_move(c, vm, 0, false, o);
		if (rc == CD_ERR_MOVE_STAYED)
			rc = 0;
	}
out_put:
	json_object_put(reply);
	return rc;
}

/*
 * vm move NAME [NODE] [--mode M] [--check | --wait], vm move NAME --cancel
 * [--wait]: the parser rules out the other combinations.
 */
int cmd_vm_move(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	if (o->cancel)
		return cancel_move(c, argv[0], o);
	if (o->check)
		return check_move(c, argv, argc, o);
	return start_move(c, argv, argc, o);
}
