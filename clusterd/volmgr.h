/*
 * This node's side of the cluster shared volumes.
 *
 * For every volume in the state it holds a host lease (slot = node id),
 * renewed by a thread of its own that does nothing else, so renewals never
 * wait behind a slow lease acquisition, and never run in the qb loop. A
 * second thread per volume carries out lease and metadata work. The loop
 * watches the host lease's validity itself: when it passes (storage lost,
 * renewals stuck) every lease on that volume is dropped and it says so
 * loudly, before any other node can take those leases over.
 *
 * The cluster's coordinator holds each volume's metadata lease and carries
 * out the file requests recorded in the state; every node exposes each
 * file as a loop device with direct I/O at RUN_DIR/VOLUME/FILE.
 */
#ifndef CD_VOLMGR_H
#define CD_VOLMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <qb/qbloop.h>

#include "core/deadrule.h"

/*
 * lost(vol, dir, off, ctx) is called when this node's host lease on vol
 * ends: everything using files under dir must stop now, and off(ctx, ok)
 * be called once it has (ok false if something may still run).
 */
typedef void (*cd_volmgr_off_fn)(void *ctx, bool ok);
int cd_volmgr_init(qb_loop_t *loop, const char *run_dir,
		   void (*lost)(const char *vol, const char *dir, cd_volmgr_off_fn off, void *ctx));
/* release: give the host slots up (only when no VM runs here any more). */
void cd_volmgr_fini(bool release);

/* The state changed: volumes, files, requests, the coordinator. */
void cd_volmgr_state_changed(void);

typedef void (*cd_volmgr_done_fn)(void *ctx, int rc, const char *err);

/*
 * Call done once the file request id on vol has its result in the state,
 * or when timeout_ms passes (CD_ERR_TIMEOUT).
 */
int cd_volmgr_wait_result(const char *vol, uint64_t id, int timeout_ms, cd_volmgr_done_fn done,
			  void *ctx);

/* Acquire or release the lease of a file for this node. done from the loop. */
int cd_volmgr_lease(const char *vol, const char *file, bool acquire, bool shared,
		    cd_volmgr_done_fn done, void *ctx);

/*
 * Whether node id's host lease is known dead (expired as watched from here,
 * or released) on every volume: 1; 0 if not known dead (yet); -1 if no
 * volume can tell: the cluster has none, or the node never joined one
 * (deadrule.h).
 */
int cd_volmgr_host_dead(uint32_t nodeid);

/*
 * What this node sees of node id's host slot on each volume it watches,
 * into out (at most max): for a lost node's status (core/lostnode.h).
 * Returns how many were filled.
 */
size_t cd_volmgr_host_slots(uint32_t nodeid, struct cd_slot_view *out, size_t max);

/*
 * suspend: this node has stopped everything it ran: release its host leases
 * and do not rejoin until called with false.
 */
void cd_volmgr_suspend(bool suspend);

/*
 * Whether this node holds its host lease on every volume it can use; if
 * not, and lacking is not NULL, the name of one it lacks is copied there.
 * Until it holds them all, no VM may start here: the others may call this
 * node dead by the volumes whose leases it lacks (deadrule.h), and a lapse
 * means every VM of the node is being powered off.
 */
bool cd_volmgr_leases_held(char *lacking, size_t len);

/*
 * Whether node id holds its host lease on every volume, as far as this node
 * can tell: the node itself by cd_volmgr_leases_held(), another by its slot
 * seen renewed within the lease expiry time (a volume this node cannot
 * read does not count against it).
 * A node back from a restart takes VMs' disk leases only once it does, so
 * a move into it waits for that. If not, the volume it lacks goes into
 * lacking (when not NULL).
 */
bool cd_volmgr_host_ready(uint32_t nodeid, char *lacking, size_t len);

/*
 * Whether node id sees volume vol with its UUID, as far as this node can
 * tell: 1 if it holds its host lease there (a node joins only after it
 * read the volume's superblock and found the UUID the state records; this
 * node itself, or another whose slot was seen renewed within the expiry
 * time), 0 if not, -1 if this node cannot read the volume itself.
 */
int cd_volmgr_host_sees(const char *vol, uint32_t nodeid);

#ifdef CD_TEST_HOOKS
/*
 * Test aid: stall (or resume) this node's host-lease renewals on vol, as a
 * hung storage path would. Only in builds configured with
 * --enable-test-hooks: it powers off every VM of the volume on this node.
 * Returns 0 or CD_ERR_NOT_FOUND.
 */
enum cd_volmgr_fault {
	CD_VOLMGR_FAULT_NONE,
	CD_VOLMGR_FAULT_STALL, /* host-lease renewals stop */
	CD_VOLMGR_FAULT_ERROR, /* every I/O of this node on the volume fails (EIO) */
};
int cd_volmgr_debug_fault(const char *vol, enum cd_volmgr_fault fault);
#endif

/* This node's view of a volume (host lease, metadata lease, devices), or NULL. */
struct json_object *cd_volmgr_local_json(const char *vol);

/*
 * Read a csvfs volume's superblock to add it to the cluster (blocking but
 * local and short). Returns 0 or a negative code with err set.
 */
int cd_volmgr_probe(const char *device, char *uuid, size_t uuid_len, uint32_t *hosts,
		    uint32_t *expiry_ms, uint32_t *renewal_ms, char *err, size_t errlen);

#endif
