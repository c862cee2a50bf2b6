/*
 * Divergence checks of the replicated state, the pure part.
 *
 * Members of a synchronised round apply the same changes in the same
 * order, so at any point of the message stream their states are equal. A
 * check makes sure: the coordinator multicasts a check now and then; at its
 * delivery every member takes its state's version and checksum (a copy
 * hashed off the main loop) and multicasts them. Once the sums of every
 * member of the round are delivered, every member reaches the same
 * verdict from the same messages: the (version, checksum) most members
 * hold; on a tie, the one the lowest node id among the tied holds. A
 * member whose sum is not the verdict has diverged: it says so and takes
 * the state again (clusterd/statecheck.c); the others say which did.
 */
#ifndef CD_STATECHECK_H
#define CD_STATECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/state.h"

struct cd_check_sum {
	uint32_t node;
	struct cd_version version;
	char checksum[65];
};

/* A sum as the message carries it ({"check", "version": {epoch, seq}, "checksum"}), and back. */
struct json_object *cd_check_sum_to_json(uint64_t check, const struct cd_check_sum *sum);
int cd_check_sum_from_json(const struct json_object *o, uint32_t node, uint64_t *check,
			   struct cd_check_sum *sum);

/*
 * The verdict over the n sums (n > 0, one per node): the index of a sum
 * holding it.
 */
size_t cd_statecheck_verdict(const struct cd_check_sum *sums, size_t n);

/* Whether two sums hold the same version and checksum. */
bool cd_check_sum_same(const struct cd_check_sum *a, const struct cd_check_sum *b);

#endif
