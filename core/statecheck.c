/* Divergence checks of the replicated state: the verdict (statecheck.h). */
#include "config.h"

#include <string.h>

#include <clusterd/result.h>

#include "core/statecheck.h"
#include "lib/jsonget.h"
#include "lib/util.h"

struct json_object *cd_check_sum_to_json(uint64_t check, const struct cd_check_sum *sum)
{
	struct json_object *o = json_object_new_object(), *v = json_object_new_object();

	json_object_object_add(v, "epoch", json_object_new_int64((int64_t)sum->version.epoch));
	json_object_object_add(v, "seq", json_object_new_int64((int64_t)sum->version.seq));
	json_object_object_add(o, "check", json_object_new_int64((int64_t)check));
	json_object_object_add(o, "version", v);
	json_object_object_add(o, "checksum", json_object_new_string(sum->checksum));
	return o;
}

static bool hex64(const char *s)
{
	size_t i;

	if (!s || strlen(s) != 64)
		return false;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int cd_check_sum_from_json(const struct json_object *o, uint32_t node, uint64_t *check,
			   struct cd_check_sum *sum)
{
	struct json_object *v = NULL;
	const char *cs = cd_jget_str(o, "checksum");

	memset(sum, 0, sizeof(*sum));
	if (cd_jget_u64(o, "check", check) < 0 || !*check ||
	    !json_object_object_get_ex(o, "version", &v) ||
	    cd_jget_u64(v, "epoch", &sum->version.epoch) < 0 ||
	    cd_jget_u64(v, "seq", &sum->version.seq) < 0 || !hex64(cs))
		return CD_ERR_PROTOCOL;
	sum->node = node;
	cd_strlcpy(sum->checksum, cs, sizeof(sum->checksum));
	return 0;
}

bool cd_check_sum_same(const struct cd_check_sum *a, const struct cd_check_sum *b)
{
	return cd_version_cmp(a->version, b->version) == 0 && strcmp(a->checksum, b->checksum) == 0;
}

size_t cd_statecheck_verdict(const struct cd_check_sum *sums, size_t n)
{
	size_t i, j, best = 0, best_count = 0;
	uint32_t best_low = UINT32_MAX;

	for (i = 0; i < n; i++) {
		size_t count = 0;
		uint32_t low = UINT32_MAX;

		for (j = 0; j < n; j++)
			if (cd_check_sum_same(&sums[i], &sums[j])) {
				count++;
				if (sums[j].node < low)
					low = sums[j].node;
			}
		if (count > best_count || (count == best_count && low < best_low)) {
			best = i;
			best_count = count;
			best_low = low;
		}
	}
	return best;
}
