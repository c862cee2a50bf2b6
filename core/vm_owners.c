/*
 * A VM's owner lists (preferred and possible owners): node names, each
 * list an array of exactly as many names as it holds, on the heap (NULL
 * when empty), owned by the record. Set by vm.set, read back from a state's
 * JSON, copied and freed with the record.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/state.h"
#include "core/vm.h"
#include "core/vm_internal.h"
#include "lib/util.h"

#define FAIL CD_FAIL

/* A new list of the n names at names (n 0: NULL); NULL also without memory. */
static char (*owners_dup(char (*names)[64], size_t n))[64]
{
	char(*l)[64];

	if (n == 0)
		return NULL;
	l = malloc(n * sizeof(*l));
	if (l)
		memcpy(l, names, n * sizeof(*l));
	return l;
}

int cd_vm_owners_set(char (**list)[64], size_t *n_list, const char *const *names, size_t n)
{
	char(*l)[64] = NULL;
	size_t i;

	if (n) {
		l = calloc(n, sizeof(*l));
		if (!l)
			return -ENOMEM;
		for (i = 0; i < n; i++)
			cd_strlcpy(l[i], names[i], sizeof(l[i]));
	}
	free(*list);
	*list = l;
	*n_list = n;
	return 0;
}

int cd_vm_owners_copy(struct cd_vm *dst, const struct cd_vm *src)
{
	dst->preferred = owners_dup(src->preferred, src->n_preferred);
	dst->possible = owners_dup(src->possible, src->n_possible);
	if ((src->n_preferred && !dst->preferred) || (src->n_possible && !dst->possible)) {
		cd_vm_owners_free(dst);
		return -ENOMEM;
	}
	return 0;
}

static void drop(char (**list)[64], size_t *n)
{
	free(*list);
	*list = NULL;
	*n = 0;
}

void cd_vm_owners_free(struct cd_vm *vm)
{
	drop(&vm->preferred, &vm->n_preferred);
	drop(&vm->possible, &vm->n_possible);
}

int cd_vm_owners_parse(const struct cd_state *s, const char *value, char (**list)[64], size_t *n,
		       char *err, size_t errlen)
{
	char buf[CD_VM_MAX_OWNERS * 64 + 64], *tok, *save = NULL;
	char names[CD_VM_MAX_OWNERS][64];
	size_t i, count = 0;

	if (cd_strlcpy(buf, value, sizeof(buf)) >= sizeof(buf))
		FAIL(CD_ERR_INVALID, "owner list too long");
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!cd_state_node_by_name(s, tok))
			FAIL(CD_ERR_NOT_FOUND, "no node '%s' (see 'clusterctl node list')", tok);
		for (i = 0; i < count; i++)
			if (strcmp(names[i], tok) == 0)
				FAIL(CD_ERR_INVALID, "node '%s' is listed twice", tok);
		if (count == CD_VM_MAX_OWNERS)
			FAIL(CD_ERR_INVALID, "at most %d owners", CD_VM_MAX_OWNERS);
		cd_strlcpy(names[count++], tok, 64);
	}
	*list = owners_dup(names, count);
	if (count && !*list)
		FAIL(-ENOMEM, "out of memory");
	*n = count;
	return 0;
}

static bool in_list(char (*names)[64], size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

int cd_vm_owners_check(const struct cd_vm *vm, char *err, size_t errlen)
{
	size_t i;

	if (vm->n_possible == 0)
		return 0;
	for (i = 0; i < vm->n_preferred; i++)
		if (!in_list(vm->possible, vm->n_possible, vm->preferred[i]))
			FAIL(CD_ERR_INVALID, "preferred owner '%s' is not a possible owner of '%s'",
			     vm->preferred[i], vm->name);
	return 0;
}

struct json_object *cd_vm_owners_to_json(char (*names)[64], size_t n)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(names[i]));
	return a;
}

int cd_vm_owners_from_json(const struct json_object *o, const char *key, char (**list)[64],
			   size_t *n)
{
	struct json_object *a;
	size_t i, k, len;

	*n = 0;
	if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > CD_VM_MAX_OWNERS)
		return -1;
	len = json_object_array_length(a);
	if (len == 0)
		return 0;
	*list = calloc(len, sizeof(**list));
	if (!*list)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);

		if (!json_object_is_type(e, json_type_string) ||
		    !cd_valid_name(json_object_get_string(e), 63))
			return -1;
		cd_strlcpy((*list)[i], json_object_get_string(e), 64);
		for (k = 0; k < i; k++)
			if (strcmp((*list)[k], (*list)[i]) == 0)
				return -1;
		(*n)++;
	}
	return 0;
}
