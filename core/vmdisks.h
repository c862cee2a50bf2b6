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
#define CD_VM_DISK_PATH_MAX 255

struct cd_vm_disk {
	char vol[64];
	char file[64];
};

/*
 * Whether path is a csvfs file, RUN_DIR/VOLUME/FILE: 1 with *d filled, 0
 * if it is not under run_dir, -1 if it is but is not VOLUME/FILE.
 */
int cd_vm_disk_split(const char *path, const char *run_dir, struct cd_vm_disk *d);

/*
 * Fill out (at most CD_VM_DISKS_MAX) with the csvfs files of xml's disks,
 * each once. Returns their number, or CD_ERR_INVALID with err set (the
 * XML does not parse, a path under run_dir is not VOLUME/FILE, or too
 * many disks).
 */
int cd_vm_disks(const char *xml, const char *run_dir, struct cd_vm_disk *out, char *err,
		size_t errlen);

/*
 * The disks of xml that are no csvfs files and so exist on one node only:
 * each <disk> source that is a file, block device or directory not under
 * run_dir, or a storage pool's volume (written POOL/VOLUME). Network disks
 * (no path) are not among them. Fills out with at most max, each once, in
 * the XML's order (a longer path is cut to CD_VM_DISK_PATH_MAX). Returns
 * how many there are, which may be more than max, or CD_ERR_INVALID with
 * err set when the XML does not parse.
 */
int cd_vm_disks_local(const char *xml, const char *run_dir, char (*out)[CD_VM_DISK_PATH_MAX + 1],
		      int max, char *err, size_t errlen);

#endif
