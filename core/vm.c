#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <clusterd/result.h>

#include "core/drain.h"
#include "core/state.h"
#include "core/vm.h"
#include "core/vm_internal.h"
#include "core/vmident.h"
#include "lib/fsm.h"
#include "lib/jsonget.h"
#include "lib/util.h"

static const char *const prio_names[] = {
	[CD_PRIO_HIGH] = "high",
	[CD_PRIO_MEDIUM] = "medium",
	[CD_PRIO_LOW] = "low",
	[CD_PRIO_NO_AUTO_START] = "no-auto-start",
};
static const char *const state_names[] = {
	[CD_VM_STOPPED] = "stopped", [CD_VM_STARTING] = "starting",
	[CD_VM_RUNNING] = "running", [CD_VM_STOPPING] = "stopping",
	[CD_VM_FAILED] = "failed",   [CD_VM_MIGRATING] = "migrating",
};
static const char *const move_names[] = {
	[CD_MOVE_LIVE] = "live",
	[CD_MOVE_QUICK] = "quick",
	[CD_MOVE_COLD] = "cold",
};
/* The cpu setting, indexed by cpu_baseline. */
static const char *const cpu_names[] = {"as-defined", "cluster-baseline"};
static const char *const failback_names[] = {
	[CD_FAILBACK_NEVER] = "never",
	[CD_FAILBACK_IMMEDIATELY] = "immediately",
	[CD_FAILBACK_WINDOW] = "window",
};

const char *cd_vm_priority_to_str(enum cd_vm_priority p)
{
	return cd_fsm_name(prio_names, N_OF(prio_names), (int)p);
}

const char *cd_vm_state_to_str(enum cd_vm_state s)
{
	return cd_fsm_name(state_names, N_OF(state_names), (int)s);
}

const char *cd_move_mode_to_str(enum cd_move_mode m)
{
	return cd_fsm_name(move_names, N_OF(move_names), (int)m);
}

const char *cd_failback_to_str(enum cd_failback f)
{
	return cd_fsm_name(failback_names, N_OF(failback_names), (int)f);
}

int cd_vm_state_from_str(const char *s, enum cd_vm_state *out)
{
	int i = cd_fsm_index(state_names, N_OF(state_names), s);

	if (i < 0)
		return CD_ERR_INVALID;
	*out = (enum cd_vm_state)i;
	return 0;
}

void cd_vm_free(struct cd_vm *vm)
{
	free(vm->xml);
	vm->xml = NULL;
	vm->xml_len = 0;
	free(vm->macs);
	vm->macs = NULL;
	cd_vm_owners_free(vm);
	cd_vm_print_free(vm->print);
	vm->print = NULL;
}

int cd_vm_copy(struct cd_vm *dst, const struct cd_vm *src)
{
	*dst = *src;
	dst->print = cd_vm_print_hold(src->print);
	dst->xml = src->xml ? strdup(src->xml) : NULL;
	dst->macs = src->macs ? strdup(src->macs) : NULL;
	if ((src->xml && !dst->xml) || (src->macs && !dst->macs) ||
	    cd_vm_owners_copy(dst, src) < 0) {
		cd_vm_free(dst);
		return -ENOMEM;
	}
	return 0;
}

/* --- the VM table of a state --- */

static size_t vm_index(const struct cd_state *s, const char *name, int *found)
{
	size_t lo = 0, hi = s->n_vms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(s->vms[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->n_vms && strcmp(s->vms[lo]->name, name) == 0;
	return lo;
}

size_t cd_state_vm_index(const struct cd_state *s, const char *name)
{
	int found;
	size_t i = vm_index(s, name, &found);

	return found ? i : s->n_vms;
}

const struct cd_vm *cd_state_vm(const struct cd_state *s, const char *name)
{
	int found;
	size_t i = vm_index(s, name, &found);

	return found ? s->vms[i] : NULL;
}

struct cd_vm *cd_state_vm_mut(struct cd_state *s, const char *name)
{
	return (struct cd_vm *)cd_state_vm(s, name);
}

/* --- changes --- */

#define FAIL CD_FAIL

/* --- identity (vmident.h) --- */

/* The MAC list of id as vm->macs keeps it: "m1,m2,"; NULL if none or no memory. */
static char *mac_list(const struct cd_vm_ident *id)
{
	char *l;
	size_t i, k = 0;

	if (id->n_nics == 0)
		return NULL;
	l = malloc(id->n_nics * (CD_MAC_LEN + 1) + 1);
	if (!l)
		return NULL;
	for (i = 0; i < id->n_nics; i++) {
		if (!id->macs[i][0])
			continue;
		memcpy(l + k, id->macs[i], CD_MAC_LEN);
		l[k + CD_MAC_LEN] = ',';
		k += CD_MAC_LEN + 1;
	}
	l[k] = '\0';
	return l;
}

static bool has_mac(const struct cd_vm *vm, const char *mac)
{
	const char *p;

	for (p = vm->macs; p && *p; p += CD_MAC_LEN + 1)
		if (strncmp(p, mac, CD_MAC_LEN) == 0)
			return true;
	return false;
}

/* vm's uuid_key and mac_bloom, from its uuid and macs: wherever those are set. */
static void ident_keys(struct cd_vm *vm)
{
	const char *p;

	vm->uuid_key = vm->uuid[0] ? cd_vm_key_hash(vm->uuid, sizeof(vm->uuid)) : 0;
	vm->mac_bloom = 0;
	for (p = vm->macs; p && *p; p += CD_MAC_LEN + 1)
		vm->mac_bloom |= 1ull << (cd_vm_key_hash(p, CD_MAC_LEN) & 63);
}

const struct cd_vm *cd_vm_uuid_user(const struct cd_state *s, const char *uuid,
				    const struct cd_vm *except)
{
	uint64_t key;
	size_t i;

	if (!uuid || !*uuid)
		return NULL;
	key = cd_vm_key_hash(uuid, strlen(uuid));
	if (cd_vm_keys_none(s, key))
		return NULL;
	for (i = 0; i < s->n_vms; i++)
		if (s->vms[i]->uuid_key == key && s->vms[i] != except &&
		    strcasecmp(s->vms[i]->uuid, uuid) == 0)
			return s->vms[i];
	return NULL;
}

const struct cd_vm *cd_vm_mac_user(const struct cd_state *s, const char *mac,
				   const struct cd_vm *except)
{
	char m[CD_MAC_LEN + 1];
	uint64_t key, bit;
	size_t i;

	if (!cd_mac_valid(mac))
		return NULL;
	for (i = 0; i < CD_MAC_LEN; i++)
		m[i] = (char)tolower((unsigned char)mac[i]);
	m[CD_MAC_LEN] = '\0';
	key = cd_vm_key_hash(m, CD_MAC_LEN);
	if (cd_vm_keys_none(s, key))
		return NULL;
	bit = 1ull << (key & 63);
	for (i = 0; i < s->n_vms; i++)
		if ((s->vms[i]->mac_bloom & bit) && s->vms[i] != except && has_mac(s->vms[i], m))
			return s->vms[i];
	return NULL;
}

bool cd_vm_identity_complete(const struct cd_vm *vm)
{
	return !vm->ident_missing;
}

const char *cd_vm_lapse_report(const struct cd_vm *vm, uint32_t node)
{
	if (vm && vm->state == CD_VM_STOPPING && vm->node == node && !vm->target_started &&
	    !vm->stop_save && !vm->cold_to)
		return "stopped";
	return "failed";
}

/*
 * Check that xml fixes a complete identity that no VM but except uses,
 * and read it into id. 0 or a code with err set.
 */
static int check_identity(const struct cd_state *s, const char *xml, const struct cd_vm *except,
			  struct cd_vm_ident *id, char *err, size_t errlen)
{
	const struct cd_vm *other;
	size_t i;
	int rc;

	if ((rc = cd_vm_ident_read(xml, id, err, errlen)) < 0)
		return rc;
	if (!cd_vm_ident_complete(id))
		FAIL(CD_ERR_INVALID, "the domain XML must fix the UUID and every MAC address");
	if ((other = cd_vm_uuid_user(s, id->uuid, except)))
		FAIL(CD_ERR_EXISTS, "UUID %s belongs to VM '%s' already", id->uuid, other->name);
	for (i = 0; i < id->n_nics; i++)
		if ((other = cd_vm_mac_user(s, id->macs[i], except)))
			FAIL(CD_ERR_EXISTS, "MAC address %s belongs to VM '%s' already",
			     id->macs[i], other->name);
	return 0;
}

/*
 * Domain XML as a state keeps it: libxml2 refuses control characters but
 * tab, CR and LF, and the JSON size budget in state.h counts on that.
 */
static int check_xml(const char *xml, char *err, size_t errlen)
{
	const char *p;

	if (!xml || !*xml || strlen(xml) > CD_VM_XML_MAX)
		FAIL(CD_ERR_INVALID, "missing or oversized domain XML (at most %d bytes)",
		     CD_VM_XML_MAX);
	for (p = xml; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			FAIL(CD_ERR_INVALID, "the domain XML holds a control character");
	return 0;
}

size_t cd_vm_xml_total(const struct cd_state *s, const struct cd_vm *except)
{
	size_t i, total = 0;

	for (i = 0; i < s->n_vms; i++)
		if (s->vms[i] != except)
			total += s->vms[i]->xml_len;
	return total;
}

/* Whether the VMs' XML stays within CD_STATE_XML_MAX with xml instead of except's. */
static int check_xml_room(const struct cd_state *s, const struct cd_vm *except, const char *xml,
			  char *err, size_t errlen)
{
	size_t total;

	if (cd_vm_keys_xml_total(s, &total))
		total -= except ? except->xml_len : 0;
	else
		total = cd_vm_xml_total(s, except);
	if (total + strlen(xml) > CD_STATE_XML_MAX)
		FAIL(CD_ERR_INVALID, "the VMs' domain XML would exceed %d MiB together",
		     CD_STATE_XML_MAX / (1024 * 1024));
	return 0;
}

int cd_vm_op_add(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	const char *name = cd_jget_str(c, "name"), *xml = cd_jget_str(c, "xml"),
		   *uuid = cd_jget_str(c, "uuid");
	uint64_t vcpus, mem;
	struct cd_vm vm, **nv, *nvm;
	struct cd_vm_ident id;
	int found, rc;
	size_t i;

	if (!name || !cd_valid_name(name, sizeof(vm.name) - 1))
		FAIL(CD_ERR_INVALID, "invalid VM name (use 1-63 of A-Z a-z 0-9 . _ -)");
	if ((rc = check_xml(xml, err, errlen)) < 0)
		return rc;
	if (cd_jget_u64(c, "vcpus", &vcpus) < 0 || vcpus == 0 || vcpus > CD_VM_VCPUS_MAX)
		FAIL(CD_ERR_INVALID, "invalid vCPU count");
	if (cd_jget_u64(c, "memory_mb", &mem) < 0 || mem == 0)
		FAIL(CD_ERR_INVALID, "invalid memory size");
	i = vm_index(s, name, &found);
	if (found)
		FAIL(CD_ERR_EXISTS, "VM '%s' exists already", name);
	if (s->n_vms >= CD_MAX_VMS)
		FAIL(CD_ERR_INVALID, "the cluster has %d VMs already, its limit", CD_MAX_VMS);
	cd_vm_keys_ready(s);
	if ((rc = check_xml_room(s, NULL, xml, err, errlen)) < 0)
		return rc;
	if ((rc = check_identity(s, xml, NULL, &id, err, errlen)) < 0)
		return rc;
	if (uuid && strcasecmp(uuid, id.uuid) != 0)
		FAIL(CD_ERR_INVALID, "the UUID %s is not the XML's (%s)", uuid, id.uuid);
	memset(&vm, 0, sizeof(vm));
	cd_strlcpy(vm.name, name, sizeof(vm.name));
	cd_strlcpy(vm.uuid, id.uuid, sizeof(vm.uuid));
	vm.vcpus = (uint32_t)vcpus;
	vm.memory_mb = mem;
	vm.priority = CD_PRIO_MEDIUM;
	vm.move_mode = CD_MOVE_LIVE;
	vm.xml = strdup(xml);
	vm.xml_len = strlen(xml);
	vm.xml_stamp = cd_vm_xml_stamp();
	vm.macs = mac_list(&id);
	ident_keys(&vm);
	nv = s->vms;
	if (s->n_vms + 1 > s->vms_cap) {
		/* Doubling: adding n VMs one by one copies the array log n times, not n. */
		size_t cap = s->vms_cap * 2 > s->n_vms + 1 ? s->vms_cap * 2 : s->n_vms + 1;

		cap = cap < 16 ? 16 : cap;
		nv = realloc(s->vms, cap * sizeof(*nv));
		if (nv) {
			s->vms = nv;
			s->vms_cap = cap;
		}
	}
	nvm = malloc(sizeof(*nvm));
	if (!vm.xml || !nv || !nvm || (id.n_nics && !vm.macs)) {
		cd_vm_free(&vm);
		free(nvm);
		FAIL(-ENOMEM, "out of memory");
	}
	/*
	 * The table holds pointers: what moves to keep it sorted is 8 bytes a
	 * VM, not a whole record, so a VM whose name sorts first costs no
	 * more to add than the last one.
	 */
	*nvm = vm;
	memmove(&nv[i + 1], &nv[i], (s->n_vms - i) * sizeof(*nv));
	nv[i] = nvm;
	s->n_vms++;
	cd_vm_keys_added(s, nvm);
	return 0;
}

/*
 * vm.remove {name, discard_saved}: a VM that runs nowhere leaves the
 * cluster. One with a saved state (vm stop --save, a move that ended
 * saved) only with discard_saved: its memory is lost with it (the client
 * then asks for its state file's removal, ipc_vm.c).
 */
int cd_vm_op_remove(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_vm *vm;
	char when[CD_TIME_LEN];
	size_t i;

	NAMED_VM(vm);
	if ((vm->state != CD_VM_STOPPED && vm->state != CD_VM_FAILED) || vm->node != 0)
		FAIL(CD_ERR_INVALID, "VM '%s' is %s on a node; stop it first", vm->name,
		     cd_vm_state_to_str(vm->state));
	if (vm->saved.volume[0] && !cd_jget_bool_or(c, "discard_saved", false)) {
		cd_format_wall_ms(vm->saved.saved_ms, CD_TIME_UTC, when, sizeof(when));
		FAIL(CD_ERR_INVALID,
		     "VM %s has a saved state (%s/%s, %" PRIu64 " MiB, saved at %s): vm start it "
		     "first, or vm remove --discard-saved",
		     vm->name, vm->saved.volume, vm->saved.file, vm->saved.length >> 20, when);
	}
	i = cd_state_vm_index(s, vm->name);
	cd_vm_keys_removed(s, vm);
	cd_vm_free(vm);
	free(vm);
	memmove(&s->vms[i], &s->vms[i + 1], (s->n_vms - i - 1) * sizeof(*s->vms));
	s->n_vms--;
	return 0;
}

/*
 * vm.identity {name, xml}: a VM of an old state, whose XML lacks its UUID or
 * some MACs, gets them: the node that runs it sends those it runs with, the
 * coordinator new ones for a VM that runs nowhere. Only what was missing may
 * change: the VM lacked a complete identity, the new XML has one that keeps
 * every UUID and MAC the old XML had, with the same interfaces, and no other
 * VM uses it. (The checks read both XMLs; they never compare the text, so
 * every member decides alike whatever its libxml2.)
 */
int cd_vm_op_identity(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	const char *xml = cd_jget_str(c, "xml");
	struct cd_vm_ident old, id;
	struct cd_vm *vm;
	char *x, *m = NULL;
	size_t i;
	int rc;

	NAMED_VM(vm);
	if ((rc = check_xml(xml, err, errlen)) < 0 ||
	    (rc = check_xml_room(s, vm, xml, err, errlen)) < 0)
		return rc;
	if ((rc = cd_vm_ident_read(vm->xml, &old, err, errlen)) < 0)
		return rc;
	if (cd_vm_ident_complete(&old))
		FAIL(CD_ERR_EXISTS, "VM '%s' has its identity already", vm->name);
	if ((rc = check_identity(s, xml, vm, &id, err, errlen)) < 0)
		return rc;
	if (id.n_nics != old.n_nics)
		FAIL(CD_ERR_INVALID, "VM '%s' has %zu interfaces, not %zu", vm->name, old.n_nics,
		     id.n_nics);
	if (old.uuid[0] && strcmp(old.uuid, id.uuid) != 0)
		FAIL(CD_ERR_INVALID, "VM '%s' has UUID %s already", vm->name, old.uuid);
	for (i = 0; i < id.n_nics; i++)
		if (old.macs[i][0] && strcmp(old.macs[i], id.macs[i]) != 0)
			FAIL(CD_ERR_INVALID, "interface %zu of VM '%s' has MAC %s already", i + 1,
			     vm->name, old.macs[i]);
	x = strdup(xml);
	if (!x || (id.n_nics && !(m = mac_list(&id)))) {
		free(x);
		FAIL(-ENOMEM, "out of memory");
	}
	cd_vm_keys_removed(s, vm);
	free(vm->xml);
	free(vm->macs);
	vm->xml = x;
	vm->xml_len = strlen(x);
	vm->xml_stamp = cd_vm_xml_stamp();
	vm->macs = m;
	vm->ident_missing = false;
	cd_strlcpy(vm->uuid, id.uuid, sizeof(vm->uuid));
	ident_keys(vm);
	cd_vm_keys_added(s, vm);
	return 0;
}

/* --- settings (vm.set) --- */

static int parse_hhmm(const char *p, uint16_t *out)
{
	unsigned int h, m;
	int used = 0;

	if (sscanf(p, "%2u:%2u%n", &h, &m, &used) != 2 || used != 5 || h > 23 || m > 59)
		return -1;
	*out = (uint16_t)(h * 60 + m);
	return 0;
}

int cd_vm_op_set(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	const char *key = cd_jget_str(c, "key"), *value = cd_jget_str(c, "value");
	struct cd_vm *vm, t;
	int i, rc;

	NAMED_VM(vm);
	if (!key || !value)
		FAIL(CD_ERR_INVALID, "vm set needs KEY=VALUE");
	/*
	 * Edit a copy: a refused setting changes nothing. A shallow one: it
	 * shares vm's owner lists, and a new list replaces one only once taken.
	 */
	t = *vm;
	if (strcmp(key, "priority") == 0) {
		i = cd_fsm_index(prio_names, N_OF(prio_names), value);
		if (i < 0)
			FAIL(CD_ERR_INVALID, "priority must be high, medium, low or no-auto-start");
		t.priority = (enum cd_vm_priority)i;
	} else if (strcmp(key, "preferred-owners") == 0 || strcmp(key, "possible-owners") == 0) {
		bool pref = key[1] == 'r';
		char(*l)[64] = NULL;
		size_t n = 0;

		if ((rc = cd_vm_owners_parse(s, value, &l, &n, err, errlen)) < 0)
			return rc;
		if (pref) {
			t.preferred = l;
			t.n_preferred = n;
		} else {
			t.possible = l;
			t.n_possible = n;
		}
		if ((rc = cd_vm_owners_check(&t, err, errlen)) < 0) {
			free(l);
			return rc;
		}
		/* t takes the new list; the old one goes (nothing below fails). */
		free(pref ? vm->preferred : vm->possible);
	} else if (strcmp(key, "anti-affinity") == 0) {
		const char *colon = strchr(value, ':');
		size_t len = colon ? (size_t)(colon - value) : strlen(value);

		if (len >= sizeof(t.anti_class))
			FAIL(CD_ERR_INVALID, "anti-affinity class too long");
		memcpy(t.anti_class, value, len);
		t.anti_class[len] = '\0';
		if (len && !cd_valid_name(t.anti_class, sizeof(t.anti_class) - 1))
			FAIL(CD_ERR_INVALID, "invalid anti-affinity class '%s'", t.anti_class);
		if (!colon || strcmp(colon, ":soft") == 0)
			t.anti_hard = false;
		else if (strcmp(colon, ":hard") == 0)
			t.anti_hard = true;
		else
			FAIL(CD_ERR_INVALID, "anti-affinity is CLASS, CLASS:soft or CLASS:hard");
		if (!len && colon)
			FAIL(CD_ERR_INVALID, "anti-affinity needs a class name");
	} else if (strcmp(key, "failback") == 0) {
		if (strcmp(value, "never") == 0) {
			t.failback = CD_FAILBACK_NEVER;
		} else if (strcmp(value, "immediately") == 0) {
			t.failback = CD_FAILBACK_IMMEDIATELY;
		} else if (strlen(value) == 11 && value[5] == '-' &&
			   parse_hhmm(value, &t.fb_start) == 0 &&
			   parse_hhmm(value + 6, &t.fb_end) == 0) {
			if (t.fb_start == t.fb_end)
				FAIL(CD_ERR_INVALID, "failback window is empty");
			t.failback = CD_FAILBACK_WINDOW;
		} else {
			FAIL(CD_ERR_INVALID, "failback must be never, immediately or HH:MM-HH:MM");
		}
	} else if (strcmp(key, "move-mode") == 0) {
		i = cd_fsm_index(move_names, N_OF(move_names), value);
		if (i < 0)
			FAIL(CD_ERR_INVALID, "move-mode must be live, quick or cold");
		t.move_mode = (enum cd_move_mode)i;
	} else if (strcmp(key, "postcopy") == 0) {
		if (strcmp(value, "allowed") != 0 && strcmp(value, "never") != 0)
			FAIL(CD_ERR_INVALID, "postcopy must be allowed or never");
		t.postcopy = value[0] == 'a';
	} else if (strcmp(key, "live-fallback") == 0) {
		if (strcmp(value, "quick") != 0 && strcmp(value, "none") != 0)
			FAIL(CD_ERR_INVALID, "live-fallback must be quick or none");
		t.fallback_none = value[0] == 'n';
	} else if (strcmp(key, "cold-restart") == 0) {
		if (strcmp(value, "allowed") != 0 && strcmp(value, "never") != 0)
			FAIL(CD_ERR_INVALID, "cold-restart must be allowed or never");
		t.cold_never = value[0] == 'n';
	} else if (strcmp(key, "cpu") == 0) {
		if ((i = cd_fsm_index(cpu_names, N_OF(cpu_names), value)) < 0)
			FAIL(CD_ERR_INVALID, "cpu must be as-defined or cluster-baseline");
		t.cpu_baseline = i == 1;
	} else {
		FAIL(CD_ERR_INVALID,
		     "unknown setting '%s' (priority, preferred-owners, possible-owners, "
		     "anti-affinity, failback, move-mode, postcopy, live-fallback, cpu, "
		     "cold-restart)",
		     key);
	}
	*vm = t;
	return 0;
}

/* --- serialization --- */

static struct json_object *u64_json(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

struct json_object *cd_vm_to_json(const struct cd_vm *vm)
{
	struct json_object *o = json_object_new_object(), *dj;
	char win[16] = "";

	if (vm->failback == CD_FAILBACK_WINDOW)
		snprintf(win, sizeof(win), "%02u:%02u-%02u:%02u", vm->fb_start / 60,
			 vm->fb_start % 60, vm->fb_end / 60, vm->fb_end % 60);
	json_object_object_add(o, "name", json_object_new_string(vm->name));
	json_object_object_add(o, "uuid", json_object_new_string(vm->uuid));
	json_object_object_add(o, "vcpus", u64_json(vm->vcpus));
	json_object_object_add(o, "memory_mb", u64_json(vm->memory_mb));
	json_object_object_add(o, "priority",
			       json_object_new_string(cd_vm_priority_to_str(vm->priority)));
	json_object_object_add(o, "preferred_owners",
			       cd_vm_owners_to_json(vm->preferred, vm->n_preferred));
	json_object_object_add(o, "possible_owners",
			       cd_vm_owners_to_json(vm->possible, vm->n_possible));
	json_object_object_add(o, "anti_affinity", json_object_new_string(vm->anti_class));
	json_object_object_add(o, "anti_affinity_hard", json_object_new_boolean(vm->anti_hard));
	json_object_object_add(o, "failback",
			       json_object_new_string(vm->failback == CD_FAILBACK_WINDOW
							      ? win
							      : cd_failback_to_str(vm->failback)));
	json_object_object_add(o, "move_mode",
			       json_object_new_string(cd_move_mode_to_str(vm->move_mode)));
	json_object_object_add(o, "postcopy",
			       json_object_new_string(vm->postcopy ? "allowed" : "never"));
	json_object_object_add(o, "live_fallback",
			       json_object_new_string(vm->fallback_none ? "none" : "quick"));
	json_object_object_add(o, "cpu", json_object_new_string(cpu_names[vm->cpu_baseline]));
	json_object_object_add(o, "cold_restart",
			       json_object_new_string(vm->cold_never ? "never" : "allowed"));
	json_object_object_add(o, "target",
			       json_object_new_string(vm->target_started ? "started" : "stopped"));
	json_object_object_add(o, "force_stop", json_object_new_boolean(vm->force_stop));
	json_object_object_add(o, "state", json_object_new_string(cd_vm_state_to_str(vm->state)));
	json_object_object_add(o, "node", u64_json(vm->node));
	json_object_object_add(o, "action_id", u64_json(vm->action_id));
	json_object_object_add(o, "fail_count", u64_json(vm->fail_count));
	json_object_object_add(o, "failed_on", u64_json(vm->failed_on));
	json_object_object_add(o, "first_fail_ms", u64_json(vm->first_fail_ms));
	json_object_object_add(o, "last_error", json_object_new_string(vm->last_error));
	json_object_object_add(o, "move", cd_vm_move_to_json(vm));
	json_object_object_add(o, "last_move", cd_vm_last_move_to_json(vm));
	json_object_object_add(o, "saved", cd_vm_saved_to_json(&vm->saved));
	if (vm->cold_to)
		json_object_object_add(o, "cold_to", u64_json(vm->cold_to));
	if ((dj = cd_vm_drain_to_json(&vm->drain)))
		json_object_object_add(o, "drain", dj);
	if (vm->stop_save) {
		json_object_object_add(o, "stop_save", json_object_new_boolean(true));
		json_object_object_add(o, "save_volume", json_object_new_string(vm->save_volume));
		json_object_object_add(o, "save_file", json_object_new_string(vm->save_file));
	}
	json_object_object_add(o, "xml", json_object_new_string(vm->xml ? vm->xml : ""));
	return o;
}

static int copy_field(char *dst, size_t n, const char *src)
{
	return src && cd_strlcpy(dst, src, n) < n ? 0 : -1;
}

/* "" (an old state) or 36 characters of hex digits and dashes. */
static bool uuid_field_ok(const char *u)
{
	size_t i;

	if (!*u)
		return true;
	if (strlen(u) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? u[i] != '-' : !isxdigit((unsigned char)u[i]))
			return false;
	}
	return true;
}

#undef FAIL
#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		cd_vm_free(vm);                                                                    \
		return CD_ERR_CORRUPT;                                                             \
	} while (0)

int cd_vm_from_json(struct cd_vm *vm, const struct json_object *o, char *err, size_t errlen)
{
	uint64_t vcpus, node, fc, fo, cold_to = 0;
	struct json_object *dj = NULL;
	const char *fb, *target;
	int i;

	memset(vm, 0, sizeof(*vm));
	if (!json_object_is_type(o, json_type_object) ||
	    copy_field(vm->name, sizeof(vm->name), cd_jget_str(o, "name")) < 0 ||
	    !cd_valid_name(vm->name, sizeof(vm->name) - 1))
		FAIL("a VM has no valid name");
	if (copy_field(vm->uuid, sizeof(vm->uuid), cd_jget_str(o, "uuid")) < 0 ||
	    !uuid_field_ok(vm->uuid) || cd_jget_u64(o, "vcpus", &vcpus) < 0 ||
	    cd_jget_u64(o, "memory_mb", &vm->memory_mb) < 0 || cd_jget_u64(o, "node", &node) < 0 ||
	    node > UINT32_MAX || cd_jget_u64(o, "action_id", &vm->action_id) < 0 ||
	    cd_jget_u64(o, "fail_count", &fc) < 0 || fc > UINT32_MAX ||
	    cd_jget_u64(o, "failed_on", &fo) < 0 || fo > UINT32_MAX ||
	    cd_jget_u64(o, "first_fail_ms", &vm->first_fail_ms) < 0 ||
	    copy_field(vm->last_error, sizeof(vm->last_error), cd_jget_str(o, "last_error")) < 0)
		FAIL("VM %s is malformed", vm->name);
	/* What vm.add checks. */
	if (vcpus == 0 || vcpus > CD_VM_VCPUS_MAX || vm->memory_mb == 0)
		FAIL("VM %s: invalid vCPU count or memory size", vm->name);
	if (check_xml(cd_jget_str(o, "xml"), err, errlen) < 0) {
		char why[128];

		cd_strlcpy(why, err, sizeof(why));
		FAIL("VM %s: %s", vm->name, why);
	}
	/* What vm.set checks. */
	i = cd_vm_owners_from_json(o, "preferred_owners", &vm->preferred, &vm->n_preferred);
	if (i == 0)
		i = cd_vm_owners_from_json(o, "possible_owners", &vm->possible, &vm->n_possible);
	if (i < 0) {
		if (i == -ENOMEM) {
			cd_vm_free(vm);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		FAIL("VM %s: invalid owner list", vm->name);
	}
	if (cd_vm_owners_check(vm, err, errlen) < 0)
		FAIL("VM %s: a preferred owner is not a possible owner", vm->name);
	if (copy_field(vm->anti_class, sizeof(vm->anti_class), cd_jget_str(o, "anti_affinity")) < 0)
		FAIL("VM %s: invalid anti-affinity class", vm->name);
	if (vm->anti_class[0] && !cd_valid_name(vm->anti_class, sizeof(vm->anti_class) - 1))
		FAIL("VM %s: invalid anti-affinity class", vm->name);
	target = cd_jget_str(o, "target");
	if (!target || (strcmp(target, "started") != 0 && strcmp(target, "stopped") != 0))
		FAIL("VM %s: invalid target", vm->name);
	vm->vcpus = (uint32_t)vcpus;
	vm->node = (uint32_t)node;
	vm->fail_count = (uint32_t)fc;
	vm->failed_on = (uint32_t)fo;
	vm->anti_hard = cd_jget_bool_or(o, "anti_affinity_hard", false);
	vm->force_stop = cd_jget_bool_or(o, "force_stop", false);
	vm->target_started = strcmp(target, "started") == 0;
	if ((i = cd_fsm_index(prio_names, N_OF(prio_names), cd_jget_str(o, "priority"))) < 0)
		FAIL("VM %s: invalid priority", vm->name);
	vm->priority = (enum cd_vm_priority)i;
	if ((i = cd_fsm_index(move_names, N_OF(move_names), cd_jget_str(o, "move_mode"))) < 0)
		FAIL("VM %s: invalid move mode", vm->name);
	vm->move_mode = (enum cd_move_mode)i;
	/* Absent in a state written before they existed: the defaults. */
	vm->postcopy =
		cd_jget_str(o, "postcopy") && strcmp(cd_jget_str(o, "postcopy"), "allowed") == 0;
	vm->fallback_none = cd_jget_str(o, "live_fallback") &&
			    strcmp(cd_jget_str(o, "live_fallback"), "none") == 0;
	vm->cold_never = cd_jget_str(o, "cold_restart") &&
			 strcmp(cd_jget_str(o, "cold_restart"), "never") == 0;
	if (json_object_object_get_ex(o, "cold_to", NULL) &&
	    (cd_jget_u64(o, "cold_to", &cold_to) < 0 || cold_to > UINT32_MAX))
		FAIL("VM %s: invalid cold_to", vm->name);
	vm->cold_to = (uint32_t)cold_to;
	json_object_object_get_ex(o, "drain", &dj);
	if (cd_vm_drain_from_json(&vm->drain, dj) < 0)
		FAIL("VM %s: invalid drain record", vm->name);
	if (json_object_object_get_ex(o, "cpu", NULL)) {
		if ((i = cd_fsm_index(cpu_names, N_OF(cpu_names), cd_jget_str(o, "cpu"))) < 0)
			FAIL("VM %s: invalid cpu setting", vm->name);
		vm->cpu_baseline = i == 1;
	}
	if (cd_vm_state_from_str(cd_jget_str(o, "state"), &vm->state) < 0)
		FAIL("VM %s: invalid state", vm->name);
	if (cd_vm_move_from_json(vm, o) < 0)
		FAIL("VM %s: invalid move record", vm->name);
	fb = cd_jget_str(o, "failback");
	if ((i = cd_fsm_index(failback_names, N_OF(failback_names), fb)) >= 0 &&
	    i != CD_FAILBACK_WINDOW) {
		vm->failback = (enum cd_failback)i;
	} else if (fb && strlen(fb) == 11 && fb[5] == '-' && parse_hhmm(fb, &vm->fb_start) == 0 &&
		   parse_hhmm(fb + 6, &vm->fb_end) == 0 && vm->fb_start != vm->fb_end) {
		vm->failback = CD_FAILBACK_WINDOW;
	} else {
		FAIL("VM %s: invalid failback", vm->name);
	}
	vm->xml = strdup(cd_jget_str(o, "xml"));
	if (!vm->xml) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	vm->xml_len = strlen(vm->xml);
	vm->xml_stamp = cd_vm_xml_stamp();
	{
		/*
		 * An old state's XML may lack a UUID or MACs (vm.identity fixes
		 * them); one that does not read at all has no MACs to reserve.
		 */
		struct cd_vm_ident id;
		char e2[128];

		if (cd_vm_ident_read(vm->xml, &id, e2, sizeof(e2)) < 0) {
			vm->ident_missing = true;
			ident_keys(vm);
			return 0;
		}
		vm->ident_missing = !cd_vm_ident_complete(&id);
		if (id.n_nics) {
			vm->macs = mac_list(&id);
			if (!vm->macs) {
				cd_vm_free(vm);
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
		}
	}
	ident_keys(vm);
	return 0;
}
