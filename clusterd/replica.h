/*
 * The replicated state of this member: the state, its sync round,
 * persistence, and changes submitted by local clients.
 */
#ifndef CD_REPLICA_H
#define CD_REPLICA_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <qb/qbloop.h>

#include "clusterd/membership.h"
#include "core/msg.h"
#include "core/state.h"
#include "core/sync.h"

/*
 * Called once a submitted change is applied and persisted (rc 0), or
 * refused (rc < 0, err says why). ctx is the submitter's.
 */
typedef void (*cd_replica_done_fn)(void *ctx, int rc, const char *err);

/* Load the persisted state from state_dir (created if missing). */
int cd_replica_init(const char *state_dir);
void cd_replica_fini(void);

/*
 * The loop sync rounds time out on, and the bound: a member that has not
 * reported (or sent the awaited snapshot) sync_timeout_ms after a round
 * started is left out of it (sync.h). Without it rounds never time out.
 */
void cd_replica_set_sync_timeout(qb_loop_t *loop, uint64_t sync_timeout_ms);

/* The callbacks clusterd's membership link drives. */
extern const struct cd_membership_ops cd_replica_membership_ops;

/*
 * Submit a change (borrowed JSON). Returns 0 if it was sent: done() is
 * called later, exactly once. Returns a negative code if it was refused at
 * once (no quorum, sync under way, not joined, -EMSGSIZE above the change
 * cap of msg.h, or not sent): done() is not called.
 */
int cd_replica_submit(const struct json_object *change, cd_replica_done_fn done, void *ctx);

/*
 * This node's own information (cd_membership_local_info()) changed since it
 * joined: the CPU models libvirt told late. It reaches the state the way
 * node information always does, through a sync round's report: the next
 * report carries it; if the report went out already, a new round is asked
 * for once the current one is over, quorate, and the state records
 * something else (cd_sync_info_needs_round()).
 */
void cd_replica_local_info_changed(void);

/*
 * For the listener: whether the batch of deliveries it is told of may
 * alter the coordinator's decisions. False only when every change it
 * applied is one no decision depends on (cd_change_needs_decision()) and
 * nothing else of the state changed; a batch with no change at all (the
 * world may have moved: members, leases) counts as needing one.
 */
bool cd_replica_decision_needed(void);

/* The VMs a batch can name for cd_replica_batch_vms_only(); more: anything. */
#define CD_REPLICA_BATCH_VMS 32

/*
 * For the listener: whether the batch of deliveries it is told of changed
 * nothing of the state but, at most, VMs that run nowhere and are not to
 * run, added, set or removed (cd_change_scope()): then *vms holds their n
 * names (for this call only), and work that looks at every VM for what
 * this node runs or is to run need not, unless the node has a record of
 * one of those. False for anything else, and for a batch with no change
 * at all (the world may have moved: members, quorum, leases).
 */
bool cd_replica_batch_vms_only(const char (**vms)[64], size_t *n);

/* Called after every batch of deliveries, once the state is persisted. */
void cd_replica_set_listener(void (*fn)(void));

const struct cd_state *cd_replica_state(void);

/* The SHA-256 of the state's canonical JSON (hex): equal states, equal sums. */
const char *cd_replica_checksum(void);
enum cd_sync_phase cd_replica_phase(void);
/* Quorate partition with a finished round. */
bool cd_replica_quorate(void);
/*
 * This member was left out of the current round (it did not report in
 * time): to the others it has left, so it counts itself inquorate until a
 * round takes it in again, which it asks for itself.
 */
bool cd_replica_left_out(void);
/* Whether the current round left this node id out. */
bool cd_replica_node_left_out(uint32_t nodeid);
/* The coordinator's node id (lowest member of the quorate partition), or 0. */
uint32_t cd_replica_coordinator(void);

/* For the divergence checks (statecheck.h): the current round, its members (sorted). */
uint64_t cd_replica_round(void);
size_t cd_replica_members(const uint32_t **members);
/* Multicast a message of the current round. Returns 0 or -errno. */
int cd_replica_send(enum cd_msg_type type, struct json_object *body);
/*
 * This node's state diverged from the others': its version is forgotten
 * (0.0, so that a sync round never takes it over another's) and a new
 * round asked for, in which it takes the others' state.
 */
void cd_replica_resync(void);
#ifdef CD_TEST_HOOKS
/* Test aid: change this node's state without a change, as a bug would. */
int cd_replica_debug_diverge(void);
#endif

#endif
