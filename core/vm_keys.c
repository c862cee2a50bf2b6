/*
 * What vm.add asks of every VM, kept so that it need not ask them: how
 * many VMs' identities hash to each slot (their UUID and each MAC), and
 * the bytes of domain XML they hold. A slot at 0 proves that no VM has a
 * UUID or MAC of that hash, so the uniqueness check of a new identity is
 * done without a look at the VMs; any other count (the name taken, or a
 * collision) sends the check to the VMs themselves, as before. Counts may
 * be too high (a collision), never too low.
 *
 * Not state: a state's VMs are what counts. Built from them at the first
 * vm.add, kept by vm.add, vm.remove and vm.identity (the only changes of a
 * VM's identity or XML), dropped with the state, never copied: a copy or a
 * state read back builds its own. A table that counts another number of
 * VMs than the state holds (VMs set by hand) is not used, and rebuilt.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"
#include "core/vm.h"
#include "core/vm_internal.h"
#include "core/vmident.h"

struct cd_vm_keys {
	uint32_t *count; /* per slot */
	size_t mask;	 /* slots - 1, a power of two */
	size_t n_keys;	 /* keys counted */
	size_t n_vms;	 /* VMs counted */
	size_t xml_total;
};

uint64_t cd_vm_key_hash(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	size_t i;

	for (i = 0; i < n && p[i]; i++) {
		h ^= (unsigned char)tolower((unsigned char)p[i]);
		h *= 1099511628211ull;
	}
	return h;
}

static size_t slot(const struct cd_vm_keys *k, uint64_t key)
{
	/* FNV's low bits are weak alone: fold the high ones in. */
	return (size_t)((key ^ (key >> 31)) * 0x9e3779b97f4a7c15ull >> 20) & k->mask;
}

/* The keys of vm: its UUID's, if it has one, and its MACs'. */
static size_t n_keys_of(const struct cd_vm *vm)
{
	return (vm->uuid[0] != 0) + (vm->macs ? strlen(vm->macs) / (CD_MAC_LEN + 1) : 0);
}

/* Count vm into k (in true) or out of it. */
static void count_vm(struct cd_vm_keys *k, const struct cd_vm *vm, bool in)
{
	const char *p;

	if (vm->uuid[0]) {
		if (in)
			k->count[slot(k, vm->uuid_key)]++;
		else
			k->count[slot(k, vm->uuid_key)]--;
	}
	for (p = vm->macs; p && *p; p += CD_MAC_LEN + 1) {
		if (in)
			k->count[slot(k, cd_vm_key_hash(p, CD_MAC_LEN))]++;
		else
			k->count[slot(k, cd_vm_key_hash(p, CD_MAC_LEN))]--;
	}
	if (in) {
		k->n_keys += n_keys_of(vm);
		k->xml_total += vm->xml_len;
		k->n_vms++;
	} else {
		k->n_keys -= n_keys_of(vm);
		k->xml_total -= vm->xml_len;
		k->n_vms--;
	}
}

/* k counting every VM of s, its slots at most a quarter full; NULL without memory. */
static struct cd_vm_keys *build(const struct cd_state *s)
{
	struct cd_vm_keys *k = calloc(1, sizeof(*k));
	size_t i, keys = 0, slots = 1024;

	if (!k)
		return NULL;
	for (i = 0; i < s->n_vms; i++)
		keys += n_keys_of(&s->vms[i]);
	while (slots < 4 * keys)
		slots *= 2;
	k->count = calloc(slots, sizeof(*k->count));
	if (!k->count) {
		free(k);
		return NULL;
	}
	k->mask = slots - 1;
	for (i = 0; i < s->n_vms; i++)
		count_vm(k, &s->vms[i], true);
	return k;
}

void cd_vm_keys_free(struct cd_vm_keys *k)
{
	if (!k)
		return;
	free(k->count);
	free(k);
}

/* s's table if it counts s's VMs; NULL: ask the VMs. */
static const struct cd_vm_keys *current(const struct cd_state *s)
{
	return s->vm_keys && s->vm_keys->n_vms == s->n_vms ? s->vm_keys : NULL;
}

void cd_vm_keys_ready(struct cd_state *s)
{
	if (current(s))
		return;
	cd_vm_keys_free(s->vm_keys);
	s->vm_keys = build(s); /* without memory: none, the VMs are asked */
}

bool cd_vm_keys_none(const struct cd_state *s, uint64_t key)
{
	const struct cd_vm_keys *k = current(s);

	return k && k->count[slot(k, key)] == 0;
}

bool cd_vm_keys_xml_total(const struct cd_state *s, size_t *total)
{
	const struct cd_vm_keys *k = current(s);

	if (k)
		*total = k->xml_total;
	return k != NULL;
}

void cd_vm_keys_added(struct cd_state *s, const struct cd_vm *vm)
{
	struct cd_vm_keys *k = s->vm_keys;

	/* s->n_vms counts vm already: the table must have counted the others. */
	if (!k || k->n_vms + 1 != s->n_vms)
		return;
	count_vm(k, vm, true);
	if (k->n_keys * 2 > k->mask + 1) {
		/* Grown past half full: a larger one at the next vm.add. */
		cd_vm_keys_free(k);
		s->vm_keys = NULL;
	}
}

void cd_vm_keys_removed(struct cd_state *s, const struct cd_vm *vm)
{
	if (current(s))
		count_vm(s->vm_keys, vm, false);
}
