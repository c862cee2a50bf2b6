/*
 * Making an existing libvirt domain a cluster VM (clusterctl vm import):
 * whether it can be highly available, every reason it cannot at once, and
 * its disks pointed at copies on a shared volume. Pure: libxml2, json-c
 * and the replicated state, no libvirt.
 *
 * A domain can fail over only if every node can start it from the XML the
 * cluster stores: each disk (CD-ROMs included) a csvfs file of a volume
 * the cluster knows (vmdisks.h), no host device passed through, no
 * directory of one host shared into the guest, no UEFI variable store
 * outside a shared volume; a directly booted kernel, initrd and device
 * tree on a shared volume too, and a firmware loader either there or one
 * the nodes' packages ship read-only (under /usr/share or /usr/lib: the
 * same file on every node with the same packages); and it must keep its
 * own identity (its name, UUID and MACs), which no cluster VM may have
 * already.
 */
#ifndef CD_VM_IMPORT_H
#define CD_VM_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "core/vmdisks.h"

struct cd_state;

#define CD_IMPORT_REASONS_MAX 32
#define CD_IMPORT_TEXT_MAX 320

/*
 * Why a domain cannot be imported. Names are stable (clients match "code"
 * in the JSON); new codes are added at the end.
 */
enum cd_import_code {
	CD_IMPORT_XML = 1,	       /* "xml": the XML does not parse */
	CD_IMPORT_DISK_LOCAL,	       /* "disk-local": a disk outside the shared volumes */
	CD_IMPORT_CDROM_LOCAL,	       /* "cdrom-local": a CD-ROM image outside them */
	CD_IMPORT_DISK_MALFORMED,      /* "disk-malformed": under the run dir, not VOLUME/FILE */
	CD_IMPORT_VOLUME_UNKNOWN,      /* "volume-unknown": a volume the cluster does not have */
	CD_IMPORT_TOO_MANY_DISKS,      /* "too-many-disks": more than CD_VM_DISKS_MAX shared */
	CD_IMPORT_HOSTDEV,	       /* "hostdev": a host device passed through */
	CD_IMPORT_FILESYSTEM,	       /* "filesystem": a host directory shared into the guest */
	CD_IMPORT_NVRAM_LOCAL,	       /* "nvram-local": UEFI variables outside the volumes */
	CD_IMPORT_NAME_TAKEN,	       /* "name-taken": a cluster VM has the name */
	CD_IMPORT_UUID_TAKEN,	       /* "uuid-taken" */
	CD_IMPORT_MAC_TAKEN,	       /* "mac-taken" */
	CD_IMPORT_IDENTITY_INCOMPLETE, /* "identity-incomplete": no UUID, or a NIC without MAC */
	/* Found by the daemon, not by cd_vm_import_judge(): */
	CD_IMPORT_INVALID,	/* "invalid": libvirt's own parser refuses the XML */
	CD_IMPORT_MANAGED_SAVE, /* "managed-save": libvirt holds a saved memory image of it */
	CD_IMPORT_LEASE,	/* "lease": a disk lease could not be taken on the node */
	CD_IMPORT_RUNNING_COPY, /* "running-copy": --copy-disks of a running domain */
	/* Found by cd_vm_import_judge() again: */
	CD_IMPORT_BOOT_LOCAL,	/* "boot-local": a kernel, initrd or dtb outside the volumes */
	CD_IMPORT_LOADER_LOCAL, /* "loader-local": firmware neither packaged read-only nor shared */
	CD_IMPORT__COUNT
};

/* The code's name ("disk-local"), "unknown" out of range. */
const char *cd_import_code_to_str(enum cd_import_code c);

struct cd_import_reason {
	enum cd_import_code code;
	char text[CD_IMPORT_TEXT_MAX];
};

/* A disk that is not on a shared volume, which --copy-disks may copy. */
struct cd_import_local {
	char path[CD_VM_DISK_PATH_MAX + 1];
	char target[32]; /* the guest's name for it (<target dev>), "" if none */
	bool cdrom;
};

struct cd_import_report;

/* Add a reason to r (counted as dropped once the array is full). */
void cd_vm_import_reason(struct cd_import_report *r, enum cd_import_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct cd_import_report {
	struct cd_import_reason reasons[CD_IMPORT_REASONS_MAX];
	size_t n_reasons;
	size_t n_dropped; /* reasons beyond the array */
	/* The disks and CD-ROM images that are files of one host, in the XML's order. */
	struct cd_import_local local[CD_VM_DISKS_MAX];
	size_t n_local;
};

/*
 * Judge domain xml, to be cluster VM name, against s (NULL: no identity
 * or volume checks): every reason it cannot be made highly available goes
 * into *r (overwritten). run_dir: where csvfs files are exposed;
 * boot_dirs: the directories kept alike on every node (':' between them,
 * NULL or "" for none), where a kernel, initrd or device tree may be.
 * Returns the number of reasons (0: it may be imported).
 */
size_t cd_vm_import_judge(const struct cd_state *s, const char *name, const char *xml,
			  const char *run_dir, const char *boot_dirs, struct cd_import_report *r);

/*
 * r as JSON: {"ok", "reasons": [{"code", "text"}], "dropped", "local_disks":
 * [{"path", "target", "cdrom"}]}. A new reference, NULL if out of memory.
 */
struct json_object *cd_vm_import_report_to_json(const struct cd_import_report *r);

/*
 * xml with each disk whose source path is a key of map (a JSON object
 * {old path: new path}) pointed at the new path, as a block device (csvfs
 * files are block devices on every node). Every key must match a disk.
 * Returns 0 with *out a new string (the caller frees it), or
 * CD_ERR_INVALID with err set, or -ENOMEM.
 */
int cd_vm_import_repoint(const char *xml, struct json_object *map, char **out, char *err,
			 size_t errlen);

#endif
