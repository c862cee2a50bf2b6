/*
 * When a lost node's host leases prove it dead: the rule, kept pure.
 *
 * A node whose host lease lapses on any one volume powers off every VM it
 * runs (lrm_sweep.c), not only those on that volume, and the watchdog process
 * kills every QEMU if that does not happen in time. A node is dead, its VMs
 * free to start elsewhere, only when every shared volume shows its slot
 * expired or released: then each of its VMs is surely off. A volume where
 * its slot is still renewed, or not yet watched long enough, keeps it alive,
 * whatever the others show.
 *
 * A slot the node never joined proves nothing: no lease of it ever lapsed
 * there, so nothing was powered off for it and no watchdog was armed by it.
 * A node runs VMs without a slot on a volume when they started before the
 * volume was added and it has not joined yet, or when it cannot read the
 * volume's LUN at all (volmgr.c lets it start VMs then), and it does not
 * power them off for that. Such a node, lost, is not dead by its leases: the
 * volumes cannot tell (as with no volume at all), and a fence device or an
 * admin's confirm-dead must.
 */
#ifndef CD_DEADRULE_H
#define CD_DEADRULE_H

#include <stddef.h>
#include <stdint.h>

enum cd_slot_seen {
	CD_SLOT_UNKNOWN, /* not watched long enough */
	CD_SLOT_ALIVE,	 /* renewed while watched */
	CD_SLOT_DEAD,	 /* not renewed for the expiry time */
	CD_SLOT_GONE,	 /* released, or taken by a newer incarnation */
	CD_SLOT_NEVER,	 /* never joined: blank */
};

/*
 * What one node sees of another's host slot on one shared volume: what it
 * shows, and about how long until it would be called expired if it is not
 * renewed again (for CD_SLOT_ALIVE and CD_SLOT_UNKNOWN; 0: now, or not known).
 */
struct cd_slot_view {
	char volume[64];
	enum cd_slot_seen seen;
	uint64_t expires_in_ms;
};

/*
 * What n volumes (seen[i] each) say of one node: 1 dead (every one dead or
 * gone); 0 not (yet): one is alive or unknown; -1 the volumes cannot tell:
 * n == 0, or the others dead or gone and at least one never joined.
 */
int cd_host_dead_rule(const enum cd_slot_seen *seen, size_t n);

#endif
