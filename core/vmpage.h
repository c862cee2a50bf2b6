/*
 * One page of the VMs of a state, in name order, for answers that list
 * them (vm.list): an answer holds at most a page, so it stays far below
 * the IPC cap whatever the number of VMs, and the asker follows "next".
 * Pure: no I/O.
 */
#ifndef CD_VMPAGE_H
#define CD_VMPAGE_H

#include <stddef.h>

#define CD_VM_PAGE_DEFAULT 500 /* VMs in a page when the asker names no limit */
#define CD_VM_PAGE_MAX 2000    /* the most VMs in a page, whatever the asker names */

struct cd_state;
struct cd_vm;

/*
 * The VMs of s whose names sort (strcmp) strictly after after (NULL or "":
 * from the first), at most limit of them (0: CD_VM_PAGE_DEFAULT; above
 * CD_VM_PAGE_MAX: CD_VM_PAGE_MAX). after need not name a VM: the page
 * goes on from where it would sort. *out points to the first of the *n
 * VMs' pointers, which follow each other in s->vms (kept sorted by name,
 * state.h);
 * *n is 0 when none follow after. *next is the name of the page's last VM
 * when more follow it, else NULL. *out and *next point into s: they are
 * valid until s changes.
 */
void cd_vm_page(const struct cd_state *s, const char *after, size_t limit,
		struct cd_vm *const **out, size_t *n, const char **next);

#endif
