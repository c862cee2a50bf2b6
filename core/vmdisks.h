/*
 * Which csvfs files a VM's disks are: the <disk> sources of its domain XML
 * that lie under the csvfs run directory (RUN_DIR/VOLUME/FILE). The LRM
 * takes each one's disk lease before the VM starts and gives it back after
 * the VM is off: a second guard, independent of the cluster state, against
 * one VM writing its disks from two nodes.
 */
#ifndef CD_VMDISKS_H
#define CD_VMDISKS_H

#include <stddef.h>

#define CD_VM_DISKS_MAX 16

struct cd_vm_disk {
	char vol[64];
	char file[64];
};

/*
 * Fill out (at most CD_VM_DISKS_MAX) with the csvfs files of xml's disks,
 * each once. Returns their number, or CD_ERR_INVALID with err set (the
 * XML does not parse, a path under run_dir is not VOLUME/FILE, or too
 * many disks).
 */
int cd_vm_disks(const char *xml, const char *run_dir, struct cd_vm_disk *out, char *err,
		size_t errlen);

#endif
