/*
 * What the VM module shares between its files: vm.c (the VM records and
 * the changes on them) and vm_lifecycle.c (the lifecycle). Not an
 * interface: nothing else includes it.
 */
#ifndef CD_VM_INTERNAL_H
#define CD_VM_INTERNAL_H

#include "core/state.h"
#include "core/vm.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* cd_state_vm() for a change that edits the VM. */
struct cd_vm *cd_state_vm_mut(struct cd_state *s, const char *name);

/*
 * The VM a change names, or a failure. For the changes: s, c, err and
 * errlen in scope, FAIL(code, ...) defined by the file that uses it.
 */
#define NAMED_VM(vm)                                                                               \
	do {                                                                                       \
		const char *n_ = cd_jget_str(c, "name");                                           \
		if (!n_)                                                                           \
			FAIL(CD_ERR_INVALID, "missing VM name");                                   \
		(vm) = cd_state_vm_mut(s, n_);                                                     \
		if (!(vm))                                                                         \
			FAIL(CD_ERR_NOT_FOUND, "no VM '%s' (see 'clusterctl vm list')", n_);       \
	} while (0)

/*
 * vm_owners.c: the owner lists. copy: dst's lists become copies of src's
 * (0, or -ENOMEM with dst's lists empty); free: frees both and leaves them
 * empty.
 */
int cd_vm_owners_copy(struct cd_vm *dst, const struct cd_vm *src);
void cd_vm_owners_free(struct cd_vm *vm);
/*
 * Parse vm set's comma list of node names into a new list (*list, *n: its
 * count; NULL when empty); every name must be a node of s, none twice. 0,
 * or a code with err set and *list untouched.
 */
int cd_vm_owners_parse(const struct cd_state *s, const char *value, char (**list)[64], size_t *n,
		       char *err, size_t errlen);
/* A preferred owner that can never own the VM is a mistake, not a wish: 0 or CD_ERR_INVALID. */
int cd_vm_owners_check(const struct cd_vm *vm, char *err, size_t errlen);
/* An owner list as a JSON array of names. */
struct json_object *cd_vm_owners_to_json(char (*names)[64], size_t n);
/*
 * The list under key of o as vm set keeps it: distinct valid names, at
 * most CD_VM_MAX_OWNERS, into *list (NULL before; allocated unless empty)
 * and *n. 0, -1 if invalid or -ENOMEM; on failure *list may hold what was
 * read so far: the caller frees it (cd_vm_free() of the record).
 */
int cd_vm_owners_from_json(const struct json_object *o, const char *key, char (**list)[64],
			   size_t *n);

/*
 * vm_keys.c: what vm.add asks of every VM (its identity's hashes, its
 * XML's bytes), counted in s->vm_keys so it need not ask them.
 *   cd_vm_key_hash  FNV-1a of up to n bytes at p, lowercase: a UUID's or MAC's key
 *   ready           count s's VMs unless counted (no memory: not counted)
 *   none            true: no VM of s has an identity of this key (false: ask them)
 *   xml_total       true with *total the bytes of XML of s's VMs (false: sum them)
 *   added           vm is in s now (s->n_vms counts it); before: removed
 *   removed         vm leaves s (s->n_vms still counts it), or its identity or XML changes
 */
uint64_t cd_vm_key_hash(const char *p, size_t n);
void cd_vm_keys_ready(struct cd_state *s);
bool cd_vm_keys_none(const struct cd_state *s, uint64_t key);
bool cd_vm_keys_xml_total(const struct cd_state *s, size_t *total);
void cd_vm_keys_added(struct cd_state *s, const struct cd_vm *vm);
void cd_vm_keys_removed(struct cd_state *s, const struct cd_vm *vm);

/* vm_move.c: a VM's move records read back from its JSON (absent: none). 0, or -1 if malformed. */
int cd_vm_move_from_json(struct cd_vm *vm, const struct json_object *o);

#endif
