/*
 * Fixing the identity of VMs that a state from before identities were kept
 * holds without one (their XML lacks the UUID or a MAC, so libvirt invented
 * new ones at every start). Each such VM gets one through vm.identity:
 *   - a VM running here: the UUID and MACs it runs with, read from libvirt,
 *     so nothing changes for the running guest;
 *   - a VM that runs nowhere: the coordinator gives the UUID the cluster
 *     recorded for it and new unique MACs.
 * A VM starting or stopping waits for the next state change.
 */
#ifndef CD_IDENTITY_H
#define CD_IDENTITY_H

/* After every batch of changes (and at start). */
void cd_identity_state_changed(void);

/* Forget what is under way (clusterd stops). */
void cd_identity_fini(void);

#endif
