/*
 * What vm.add asks of every VM, kept so that it need not ask them: how
 * many VMs have each identity key (the hash of their UUID and of each
 * MAC), and the bytes of domain XML they hold. A key no VM has proves the
 * UUID or MAC unused, so the uniqueness check of a new identity is done
 * without a look at the VMs; a key some VM has (the name taken, or a
 * collision of 64-bit hashes) sends the check to the VMs themselves, as
 * before. The answers are the VMs' own.
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

/*
 * Open addressing, linear probing. A slot once used stays used (count 0:
 * its key is gone, the probe goes on past it) until the table is rebuilt.
 */
struct key_slot {
	uint64_t key;
	uint32_t count; /* VMs with this key */
	bool used;
};

struct cd_vm_keys {
	struct key_slot *slots;
	size_t mask;   /* slots - 1, a power of two */
	size_t n_used; /* slots used */
	size_t n_vms;  /* VMs counted */
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

/* key's slot in k, or the free slot where it would go. */
static struct key_slot *find(const struct cd_vm_keys *k, uint64_t key)
{
	/* FNV's low bits are weak alone: fold the high ones in. */
	size_t i = (size_t)((key ^ (key >> 31)) * 0x9e3779b97f4a7c15ull >> 20) & k->mask;

	while (k->slots[i].used && k->slots[i].key != key)
		i = (i + 1) & k->mask;
	return &k->slots[i];
}

static void count_key(struct cd_vm_keys *k, uint64_t key, bool in)
{
	struct key_slot *sl = find(k, key);

	if (!in) {
		if (sl->used && sl->count)
			sl->count--;
		return;
	}
	if (!sl->used) {
		sl->used = true;
		sl->key = key;
		k->n_used++;
	}
	sl->count++;
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

	if (vm->uuid[0])
		count_key(k, vm->uuid_key, in);
	for (p = vm->macs; p && *p; p += CD_MAC_LEN + 1)
		count_key(k, cd_vm_key_hash(p, CD_MAC_LEN), in);
	if (in) {
		k->xml_total += vm->xml_len;
		k->n_vms++;
	} else {
		k->xml_total -= vm->xml_len;
		k->n_vms--;
	}
}

/* k counting every VM of s, its slots at most a quarter used; NULL without memory. */
static struct cd_vm_keys *build(const struct cd_state *s)
{
	struct cd_vm_keys *k = calloc(1, sizeof(*k));
	size_t i, keys = 0, slots = 1024;

	if (!k)
		return NULL;
	for (i = 0; i < s->n_vms; i++)
		keys += n_keys_of(s->vms[i]);
	while (slots < 4 * keys)
		slots *= 2;
	k->slots = calloc(slots, sizeof(*k->slots));
	if (!k->slots) {
		free(k);
		return NULL;
	}
	k->mask = slots - 1;
	for (i = 0; i < s->n_vms; i++)
		count_vm(k, s->vms[i], true);
	return k;
}

void cd_vm_keys_free(struct cd_vm_keys *k)
{
	if (!k)
		return;
	free(k->slots);
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

	return k && find(k, key)->count == 0;
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
	if (k->n_used * 2 > k->mask + 1) {
		/* Half its slots used: the probes grow long. A new one at the next vm.add. */
		cd_vm_keys_free(k);
		s->vm_keys = NULL;
	}
}

void cd_vm_keys_removed(struct cd_state *s, const struct cd_vm *vm)
{
	if (current(s))
		count_vm(s->vm_keys, vm, false);
}
