#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "agents/vm_agent.h"
#include "core/change.h"
#include "clusterd/identity.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "core/state.h"
#include "core/vmident.h"
#include "lib/util.h"

#define LIBVIRT_TIMEOUT_MS 10000

/* Names of the VMs whose identity is being read or submitted. */
static char (*busy)[64];
static size_t n_busy;
/* The last scan saw a VM that lacks its identity (or none was made yet). */
static bool lacking = true;

static bool is_busy(const char *name)
{
	size_t i;

	for (i = 0; i < n_busy; i++)
		if (strcmp(busy[i], name) == 0)
			return true;
	return false;
}

static int busy_add(const char *name)
{
	char(*nb)[64] = realloc(busy, (n_busy + 1) * sizeof(*busy));

	if (!nb)
		return -ENOMEM;
	busy = nb;
	cd_strlcpy(busy[n_busy++], name, sizeof(busy[0]));
	return 0;
}

static void busy_remove(const char *name)
{
	size_t i;

	for (i = 0; i < n_busy; i++)
		if (strcmp(busy[i], name) == 0) {
			memmove(&busy[i], &busy[i + 1], (n_busy - i - 1) * sizeof(*busy));
			n_busy--;
			return;
		}
}

static void submitted(void *ctx, int rc, const char *err)
{
	char *name = ctx;

	if (rc < 0)
		qb_log(LOG_WARNING, "vm %s: identity not recorded: %s", name, err);
	else
		qb_log(LOG_NOTICE, "vm %s: its UUID and MAC addresses are fixed in its XML now",
		       name);
	busy_remove(name);
	free(name);
}

static bool mac_taken(const char *mac, void *ctx)
{
	return cd_vm_mac_user(cd_replica_state(), mac, ctx) != NULL;
}

/*
 * Send vm.identity for vm: its stored XML completed with id (what it lacks
 * of it; MACs still missing in id get new ones). Takes the busy mark.
 */
static void submit(const struct cd_vm *vm, struct cd_vm_ident *id)
{
	struct json_object *c;
	char err[256], *xml = NULL, *ctx;
	int rc;

	if ((rc = cd_vm_ident_new_macs(id, mac_taken, (void *)vm)) < 0 ||
	    (rc = cd_vm_ident_fill(vm->xml, id, &xml, err, sizeof(err))) < 0) {
		qb_log(LOG_ERR, "vm %s: cannot fix its identity: %s", vm->name,
		       rc == CD_ERR_EXISTS ? "no free MAC address" : err);
		busy_remove(vm->name);
		return;
	}
	c = json_object_new_object();
	json_object_object_add(c, "op",
			       json_object_new_string(cd_change_name(CD_CHANGE_VM_IDENTITY)));
	json_object_object_add(c, "name", json_object_new_string(vm->name));
	json_object_object_add(c, "xml", json_object_new_string(xml));
	free(xml);
	ctx = strdup(vm->name);
	rc = ctx ? cd_replica_submit(c, submitted, ctx) : -ENOMEM;
	json_object_put(c);
	if (rc < 0) {
		free(ctx);
		busy_remove(vm->name);
	}
}

/* The identity of what runs here, read from libvirt. */
static void live_read(void *ctx, const struct cd_agent_result *r)
{
	char *name = ctx, err[256];
	const struct cd_vm *vm = cd_state_vm(cd_replica_state(), name);
	struct cd_vm_ident have, live;
	size_t i;

	if (!vm || !vm->ident_missing || vm->node != cd_membership_local_nodeid() || r->rc < 0 ||
	    !r->xml) {
		if (r->rc < 0)
			qb_log(LOG_WARNING, "vm %s: cannot read the identity it runs with: %s",
			       name, r->err);
		busy_remove(name);
		free(name);
		return;
	}
	if (cd_vm_ident_read(vm->xml, &have, err, sizeof(err)) < 0 ||
	    cd_vm_ident_read(r->xml, &live, err, sizeof(err)) < 0 || live.n_nics != have.n_nics) {
		qb_log(LOG_ERR, "vm %s: the domain it runs as does not match its XML: %s", name,
		       live.n_nics != have.n_nics ? "other interfaces" : err);
		busy_remove(name);
		free(name);
		return;
	}
	for (i = 0; i < have.n_nics; i++)
		if (!have.macs[i][0])
			cd_strlcpy(have.macs[i], live.macs[i], sizeof(have.macs[i]));
	if (!have.uuid[0])
		cd_strlcpy(have.uuid, live.uuid, sizeof(have.uuid));
	submit(vm, &have);
	free(name);
}

/*
 * Whether a scan can find anything after the batch just applied. Only a VM
 * of an old state lacks its identity, so a scan nearly always finds none;
 * then, until a change brings one (an added XML without it, or anything
 * but the changes cd_replica_batch_vms_only() names), the next would find
 * none either. Any VM found lacking (done or not, busy or failed) makes
 * every batch scan again, as it always did.
 */
static bool scan_needed(const struct cd_state *s)
{
	const char(*vms)[64];
	const struct cd_vm *vm;
	size_t i, n;

	if (lacking || n_busy || !cd_replica_batch_vms_only(&vms, &n))
		return true;
	for (i = 0; i < n; i++)
		if ((vm = cd_state_vm(s, vms[i])) && vm->ident_missing)
			return true;
	return false;
}

void cd_identity_state_changed(void)
{
	const struct cd_state *s = cd_replica_state();
	uint32_t me = cd_membership_local_nodeid();
	bool coordinator = me && cd_replica_coordinator() == me;
	size_t i;

	if (!me || !cd_replica_quorate() || !scan_needed(s))
		return;
	lacking = false;
	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *vm = s->vms[i];
		struct cd_vm_ident id;
		char err[256], *ctx;

		if (!vm->ident_missing)
			continue;
		lacking = true;
		if (is_busy(vm->name))
			continue;
		if (vm->node == me && vm->state == CD_VM_RUNNING) {
			if (busy_add(vm->name) < 0 || !(ctx = strdup(vm->name)))
				return;
			if (cd_vm_agent_call(CD_AGENT_XML, vm->name, NULL, LIBVIRT_TIMEOUT_MS,
					     live_read, ctx) < 0) {
				free(ctx);
				busy_remove(vm->name);
			}
		} else if (vm->node == 0 && coordinator &&
			   (vm->state == CD_VM_STOPPED || vm->state == CD_VM_FAILED)) {
			if (cd_vm_ident_read(vm->xml, &id, err, sizeof(err)) < 0) {
				qb_log(LOG_ERR, "vm %s: cannot read its XML: %s", vm->name, err);
				continue;
			}
			/* The UUID the cluster recorded when the VM was added, if any. */
			if (!id.uuid[0] && !cd_vm_uuid_user(s, vm->uuid, vm))
				cd_strlcpy(id.uuid, vm->uuid, sizeof(id.uuid));
			if (!id.uuid[0] && cd_vm_uuid_random(id.uuid) < 0)
				continue;
			if (busy_add(vm->name) < 0)
				return;
			submit(vm, &id);
		}
	}
}

void cd_identity_fini(void)
{
	free(busy);
	busy = NULL;
	n_busy = 0;
	lacking = true;
}
