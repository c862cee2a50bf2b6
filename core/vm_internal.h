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

/* vm_move.c: a VM's move records read back from its JSON (absent: none). 0, or -1 if malformed. */
int cd_vm_move_from_json(struct cd_vm *vm, const struct json_object *o);

#endif
