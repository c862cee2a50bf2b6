/*
 * When a lost node's host leases prove it dead: the rule, kept pure.
 *
 * A node whose host lease lapses on any one volume powers off every VM it
 * runs (lrm_sweep.c), not only those on that volume, and the watchdog process
 * kills every QEMU if that does not happen in time. A node is dead, its VMs
 * free to start elsewhere, only when every shared volume shows its slot
 * expired or released (or never joined): then each of its VMs is surely
 * off. A volume where its slot is still renewed, or not yet watched long
 * enough, keeps it alive, whatever the others show.
 */
#ifndef CD_DEADRULE_H
#define CD_DEADRULE_H

#include <stddef.h>

enum cd_slot_seen {
	CD_SLOT_UNKNOWN, /* not watched long enough */
	CD_SLOT_ALIVE,	 /* renewed while watched */
	CD_SLOT_DEAD,	 /* not renewed for the expiry time */
	CD_SLOT_GONE,	 /* released, never joined, or taken by a newer incarnation */
};

/*
 * What n volumes (seen[i] each) say of one node: 1 dead, 0 not (yet), -1
 * no volume can tell (n == 0).
 */
int cd_host_dead_rule(const enum cd_slot_seen *seen, size_t n);

#endif
