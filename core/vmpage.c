/*
 * A page of a state's VMs (vmpage.h). The state keeps its VMs sorted by
 * name (cd_state_from_json() refuses any other order), so a page is a run
 * of the array found by one binary search: O(log n) whatever the page.
 */
#include "config.h"

#include <string.h>

#include "core/state.h"
#include "core/vmpage.h"

void cd_vm_page(const struct cd_state *s, const char *after, size_t limit,
		struct cd_vm *const **out, size_t *n, const char **next)
{
	size_t lo = 0, hi = s->n_vms;

	if (limit == 0)
		limit = CD_VM_PAGE_DEFAULT;
	if (limit > CD_VM_PAGE_MAX)
		limit = CD_VM_PAGE_MAX;
	/* The first VM whose name sorts after after. */
	while (after && *after && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->vms[mid]->name, after) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*out = lo < s->n_vms ? &s->vms[lo] : NULL;
	*n = s->n_vms - lo < limit ? s->n_vms - lo : limit;
	*next = lo + *n < s->n_vms ? s->vms[lo + *n - 1]->name : NULL;
}
