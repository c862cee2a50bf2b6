/*
 * The local resource manager's disk leases (lrm_int.h): a VM's shared disks'
 * leases, taken before its start and given back before its report.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "clusterd/lrm_int.h"
#include "clusterd/replica.h"
#include "core/cpumodels.h"
#include "core/vmdisks.h"
#include "clusterd/volmgr.h"
#include "lib/util.h"

/* --- disk leases: taken before a start, given back before a report --- */

/* One VM's leases acquired or released together, then "then" runs. */
struct batch {
	char name[64];
	uint64_t action;
	bool acquire;
	bool shared; /* an acquisition in shared mode (a move's) */
	int pending;
	int rc;
	char err[256];
	struct cd_vm_disk disks[CD_VM_DISKS_MAX];
	size_t n;
	/* After a release: the report to send. */
	char result[16];
	char report_err[256];
	struct lrm_times times;
	void (*then)(struct batch *b);
	lrm_leases_done_fn *mode_done;				     /* after lrm_leases_mode() */
	void (*after)(const char *name, uint64_t action, void *ctx); /* lrm_release_then() */
	void *after_ctx;
};

static void batch_put(struct batch *b)
{
	if (--b->pending > 0)
		return;
	b->then(b);
	free(b);
}

static void lease_done(void *ctx, int rc, const char *err)
{
	struct batch *b = ctx;

	if (rc < 0 && b->rc == 0) {
		b->rc = rc;
		snprintf(b->err, sizeof(b->err), "%s", err ? err : cd_strerror(rc));
	}
	batch_put(b);
}

/* Start b's lease calls; then(b) runs once all have answered. */
static void batch_run(struct batch *b)
{
	size_t i;
	int rc;

	b->pending = 1;
	for (i = 0; i < b->n; i++) {
		rc = cd_volmgr_lease(b->disks[i].vol, b->disks[i].file, b->acquire, b->shared,
				     lease_done, b);
		if (rc == 0) {
			b->pending++;
		} else if (b->rc == 0) {
			b->rc = rc;
			snprintf(b->err, sizeof(b->err), "volume %s: %s", b->disks[i].vol,
				 rc == CD_ERR_NOT_FOUND ? "not a volume of this cluster"
							: cd_strerror(rc));
		}
	}
	batch_put(b);
}

static void released(struct batch *b)
{
	struct lvm *v = lvm_get(b->name);

	if (v)
		lrm_step(v, CD_LRM_EV_RELEASED, b->rc < 0 ? "not released" : NULL);
	if (b->rc < 0)
		vm_log(LOG_WARNING, b->name, "disk lease not released: %s", b->err);
	if (b->result[0])
		lrm_report_times(b->name, b->action, b->result,
				 b->report_err[0] ? b->report_err : NULL, &b->times);
	if (b->after)
		b->after(b->name, b->action, b->after_ctx);
	cd_lrm_state_changed();
}

/*
 * Give back v's disk leases, then report result (if not NULL): the next
 * node must find them free when the report makes the cluster start the VM
 * there.
 */
void lrm_release_then_report(struct lvm *v, uint64_t action, const char *result, const char *err)
{
	lrm_release_then_report_times(v, action, result, err, NULL);
}

/*
 * v's leases in a batch that gives them back (v holds none after), or
 * NULL if it held none (or memory ran out: they are dropped all the same).
 */
static struct batch *release_batch(struct lvm *v, uint64_t action)
{
	struct batch *b = v->n_held ? calloc(1, sizeof(*b)) : NULL;

	if (b) {
		cd_strlcpy(b->name, v->name, sizeof(b->name));
		b->action = action;
		b->n = v->n_held;
		memcpy(b->disks, v->held, v->n_held * sizeof(v->held[0]));
		b->then = released;
	}
	v->n_held = 0;
	v->held_shared = false;
	return b;
}

void lrm_release_then_report_times(struct lvm *v, uint64_t action, const char *result,
				   const char *err, const struct lrm_times *t)
{
	struct batch *b = release_batch(v, action);

	if (!b) {
		if (result)
			lrm_report_times(v->name, action, result, err, t);
		return;
	}
	if (t)
		b->times = *t;
	if (result)
		cd_strlcpy(b->result, result, sizeof(b->result));
	if (err)
		cd_strlcpy(b->report_err, err, sizeof(b->report_err));
	lrm_step(v, CD_LRM_EV_RELEASE, result);
	batch_run(b);
}

void lrm_release_then(struct lvm *v, uint64_t action,
		      void (*after)(const char *name, uint64_t action, void *ctx), void *ctx)
{
	struct batch *b = release_batch(v, action);

	if (!b) {
		if (after)
			after(v->name, action, ctx);
		return;
	}
	b->after = after;
	b->after_ctx = ctx;
	lrm_step(v, CD_LRM_EV_RELEASE, NULL);
	batch_run(b);
}

/* Add name to the list of names text (len bytes), space-separated. */
static void add_name(char *text, size_t len, const char *name)
{
	size_t used = strlen(text);

	snprintf(text + used, len - used, "%s%s", used ? " " : "", name);
}

/*
 * The libvirt call that starts vm: as its XML defines it, or, set to
 * cpu=cluster-baseline, with the CPU baseline of every node the state
 * knows now, members or not, so that it can move to any of them later. A
 * node that has told no host CPU (an older clusterd, or libvirt offers no
 * host model there) is left out of it. A VM that QEMU emulates
 * (<domain type='qemu'>, TCG) has the same CPU on every node whatever their
 * hosts run: it starts as defined.
 */
static void start_domain(struct lvm *v, const struct cd_vm *vm)
{
	const struct cd_state *s = cd_replica_state();
	const char *cpus[CD_MAX_NODES];
	char in[CD_MAX_NODES * (CD_NAME_MAX + 1) + 1] = "", out[sizeof(in)] = "";
	struct cd_vm_cpu cpu;
	char err[128];
	size_t i, n = 0;
	int rc;

	if (vm->cpu_baseline && cd_vm_cpu_read(vm->xml, &cpu, err, sizeof(err)) == 0 &&
	    cpu.emulated)
		vm_log(LOG_NOTICE, vm->name,
		       "emulated (TCG): its CPU is the same on every node, so it starts as its "
		       "XML defines it (the cluster baseline is for KVM VMs)");
	if (vm->saved.volume[0]) {
		lrm_quick_restore_start(v, vm);
		return;
	}
	lrm_quick_plain_start(v, vm);
	if (!vm->cpu_baseline || cpu.emulated) {
		rc = lrm_call_agent(v, CD_LRM_EV_START, CD_AGENT_START, vm->xml, vm->action_id,
				    lrm_start_done);
	} else {
		for (i = 0; i < s->n_nodes && n < CD_MAX_NODES; i++) {
			const struct cd_node_info *ni = &s->nodes[i].info;

			if (ni->cap.host_cpu_xml[0])
				cpus[n++] = ni->cap.host_cpu_xml;
			add_name(ni->cap.host_cpu_xml[0] ? in : out, sizeof(in), ni->name);
		}
		vm_log(LOG_NOTICE, vm->name, "starts with the CPU baseline of %s%s%s%s",
		       n ? "nodes " : "no node", in, out[0] ? "; no host CPU known of " : "", out);
		rc = lrm_call_start_baseline(v, vm->xml, cpus, n, vm->action_id, lrm_start_done);
	}
	if (rc < 0)
		vm_log(LOG_ERR, vm->name, "cannot start a libvirt call");
}

static void acquired(struct batch *b)
{
	struct lvm *v = lvm_get(b->name);
	const struct cd_vm *vm = lrm_state_vm(b->name);
	bool cancelled;

	if (!v)
		return;
	/* Whatever came of it, these are to be given back if the VM does not run. */
	memcpy(v->held, b->disks, b->n * sizeof(b->disks[0]));
	v->n_held = b->n;
	/* The start is under way again only once its libvirt call goes out. */
	cancelled = v->phase == CD_LRM_VOIDED;
	lrm_step(v, CD_LRM_EV_LEASES_DONE, b->rc < 0 ? "not taken" : NULL);
	if (cancelled) {
		/* The storage path powers it off and reports it: no start. */
		vm_log(LOG_WARNING, b->name, "start called off: the disk leases were voided");
		lrm_release_then_report(v, 0, NULL, NULL);
		return;
	}
	if (b->rc < 0) {
		vm_log(LOG_ERR, b->name, "cannot start: disk lease: %s", b->err);
		lrm_release_then_report(v, b->action, "failed", b->err);
		return;
	}
	if (!lrm_mine(vm) || vm->state != CD_VM_STARTING || vm->action_id != b->action) {
		vm_log(LOG_NOTICE, b->name, "no longer to start here: giving the disk leases back");
		lrm_release_then_report(v, 0, NULL, NULL);
		return;
	}
	if (lrm_may_start(v, b->name) != GATE_OPEN) {
		/* Not now: the start is tried again if this node may start later. */
		v->done_action = 0;
		lrm_release_then_report(v, 0, NULL, NULL);
		return;
	}
	vm_log(LOG_INFO, b->name, "holds the disk leases of its %zu shared disk(s)", b->n);
	start_domain(v, vm);
}

/* Start vm: its shared disks' leases first, if it has any. */
void lrm_begin_start(struct lvm *v, const struct cd_vm *vm)
{
	struct batch *b;
	int n;

	b = calloc(1, sizeof(*b));
	if (!b) {
		vm_log(LOG_ERR, vm->name, "cannot start: out of memory");
		return;
	}
	n = cd_vm_disks(vm->xml, lrm.cfg.csvfs_run_dir, b->disks, b->err, sizeof(b->err));
	if (n < 0)
		lrm_report(vm->name, vm->action_id, "failed", b->err);
	if (n <= 0) {
		free(b);
		if (n < 0)
			return;
		start_domain(v, vm);
		return;
	}
	cd_strlcpy(b->name, vm->name, sizeof(b->name));
	b->action = vm->action_id;
	b->acquire = true;
	b->n = (size_t)n;
	b->then = acquired;
	lrm_step(v, CD_LRM_EV_LEASE, NULL);
	batch_run(b);
}

/* --- a move's lease changes: shared while it moves, exclusive where it runs --- */

static void mode_changed(struct batch *b)
{
	struct lvm *v = lvm_get(b->name);
	bool voided = v && v->phase == CD_LRM_VOIDED;
	int rc = voided && b->rc == 0 ? CD_ERR_SLOT_LOST : b->rc;

	if (!v)
		return;
	/* Taken or not, each is given back with the others when the VM leaves. */
	memcpy(v->held, b->disks, b->n * sizeof(b->disks[0]));
	v->n_held = b->n;
	if (rc == 0)
		v->held_shared = b->shared;
	lrm_step(v, CD_LRM_EV_LEASES_DONE, rc < 0 ? "not taken" : NULL);
	b->mode_done(v, b->action, rc, voided ? "the disk leases were voided" : b->err);
}

void lrm_leases_mode(struct lvm *v, const struct cd_vm *vm, bool shared, lrm_leases_done_fn *done)
{
	struct batch *b = calloc(1, sizeof(*b));
	int n;

	if (!b) {
		done(v, vm->action_id, -ENOMEM, "out of memory");
		return;
	}
	n = cd_vm_disks(vm->xml, lrm.cfg.csvfs_run_dir, b->disks, b->err, sizeof(b->err));
	if (n <= 0) {
		/* No shared disk: nothing to lease (n < 0: its XML names none it can read). */
		if (n == 0)
			v->held_shared = shared;
		done(v, vm->action_id, n < 0 ? CD_ERR_INVALID : 0, n < 0 ? b->err : NULL);
		free(b);
		return;
	}
	cd_strlcpy(b->name, vm->name, sizeof(b->name));
	b->action = vm->action_id;
	b->acquire = true;
	b->shared = shared;
	b->n = (size_t)n;
	b->then = mode_changed;
	b->mode_done = done;
	lrm_step(v, CD_LRM_EV_LEASE, shared ? "shared, for a move" : "exclusive");
	batch_run(b);
}

/* --- an import's leases: taken before the cluster records it running here --- */

/* Leases taken for an import not yet recorded (or refused). */
struct import_held {
	char name[64];
	struct cd_vm_disk disks[CD_VM_DISKS_MAX];
	size_t n;
	struct import_held *next;
};

static struct import_held *imports;

struct import_batch {
	cd_lrm_import_fn *done;
	void *ctx;
};

static struct import_held *import_find(const char *name)
{
	struct import_held *h;

	for (h = imports; h; h = h->next)
		if (strcmp(h->name, name) == 0)
			return h;
	return NULL;
}

static struct import_held *import_take(const char *name)
{
	struct import_held **p, *h;

	for (p = &imports; *p; p = &(*p)->next)
		if (strcmp((*p)->name, name) == 0) {
			h = *p;
			*p = h->next;
			return h;
		}
	return NULL;
}

static void import_released(struct batch *b)
{
	if (b->rc < 0)
		vm_log(LOG_WARNING, b->name, "import: disk lease not given back: %s", b->err);
	if (b->after_ctx) {
		struct import_batch *ib = b->after_ctx;

		ib->done(ib->ctx, CD_ERR_REFUSED, b->report_err);
		free(ib);
	}
}

/* Give disks back; then, if ib, tell its caller that the import failed with why. */
static void import_release(const char *name, const struct cd_vm_disk *disks, size_t n,
			   struct import_batch *ib, const char *why)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (!b) {
		vm_log(LOG_ERR, name, "import: out of memory: disk leases not given back");
		if (ib) {
			ib->done(ib->ctx, -ENOMEM, why);
			free(ib);
		}
		return;
	}
	cd_strlcpy(b->name, name, sizeof(b->name));
	memcpy(b->disks, disks, n * sizeof(disks[0]));
	b->n = n;
	b->then = import_released;
	b->after_ctx = ib;
	if (why)
		cd_strlcpy(b->report_err, why, sizeof(b->report_err));
	batch_run(b);
}

static void import_acquired(struct batch *b)
{
	struct import_batch *ib = b->after_ctx;
	struct import_held *h;

	if (b->rc < 0) {
		char why[300];

		snprintf(why, sizeof(why), "disk lease: %s", b->err);
		vm_log(LOG_WARNING, b->name, "import refused: %s", why);
		/* Those taken are given back (a release of one not taken changes nothing). */
		import_release(b->name, b->disks, b->n, ib, why);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		import_release(b->name, b->disks, b->n, ib, "out of memory");
		return;
	}
	cd_strlcpy(h->name, b->name, sizeof(h->name));
	memcpy(h->disks, b->disks, b->n * sizeof(b->disks[0]));
	h->n = b->n;
	h->next = imports;
	imports = h;
	vm_log(LOG_INFO, b->name, "import: holds the disk leases of its %zu shared disk(s)", b->n);
	ib->done(ib->ctx, 0, NULL);
	free(ib);
}

int cd_lrm_import_leases(const char *name, const char *xml, cd_lrm_import_fn *done, void *ctx,
			 char *err, size_t errlen)
{
	struct import_batch *ib;
	struct batch *b;
	char vol[64] = "";
	int n;

	if (lrm.no_starts || !lrm.up || !cd_replica_quorate()) {
		snprintf(err, errlen, "this node may not run VMs now (%s)",
			 !cd_replica_quorate() ? "no quorum" : "it is powering off its VMs");
		return CD_ERR_REFUSED;
	}
	if (!cd_volmgr_leases_held(vol, sizeof(vol))) {
		snprintf(err, errlen, "this node does not hold its host lease on volume %s", vol);
		return CD_ERR_REFUSED;
	}
	if (lvm_find(name) || import_find(name)) {
		snprintf(err, errlen, "this node has '%s' under way already", name);
		return CD_ERR_EXISTS;
	}
	b = calloc(1, sizeof(*b));
	ib = calloc(1, sizeof(*ib));
	if (!b || !ib) {
		free(b);
		free(ib);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n = cd_vm_disks(xml, lrm.cfg.csvfs_run_dir, b->disks, err, errlen);
	if (n < 0) {
		free(b);
		free(ib);
		return n;
	}
	ib->done = done;
	ib->ctx = ctx;
	cd_strlcpy(b->name, name, sizeof(b->name));
	b->acquire = true;
	b->n = (size_t)n;
	b->then = import_acquired;
	b->after_ctx = ib;
	batch_run(b);
	return 0;
}

void cd_lrm_import_adopted(const char *name)
{
	struct import_held *h = import_take(name);
	struct lvm *v;

	if (!h)
		return;
	v = lvm_get(name);
	if (!v) {
		import_release(name, h->disks, h->n, NULL, NULL);
	} else {
		/* The VM's now: given back with the others when it stops or leaves. */
		memcpy(v->held, h->disks, h->n * sizeof(h->disks[0]));
		v->n_held = h->n;
		v->held_shared = false;
		v->seen = true;
	}
	free(h);
	cd_lrm_state_changed();
}

void cd_lrm_import_abandon(const char *name)
{
	struct import_held *h = import_take(name);

	if (!h)
		return;
	vm_log(LOG_NOTICE, name, "import refused by the cluster: giving the disk leases back");
	import_release(name, h->disks, h->n, NULL, NULL);
	free(h);
}
