/* The csvfs files of a domain's disks (core/vmdisks.c). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/vmdisks.h"

#define DOM(disks)                                                                                 \
	"<domain type='qemu'><name>v</name><memory unit='MiB'>128</memory><devices>" disks         \
	"<interface type='bridge'><source bridge='br0'/></interface></devices></domain>"

START_TEST(test_shared_disks_found_once)
{
	struct cd_vm_disk d[CD_VM_DISKS_MAX];
	char err[256];
	int n = cd_vm_disks(DOM("<disk type='block'><source dev='/run/csvfs/vol1/root'/></disk>"
				"<disk type='file'><source file='/var/lib/local.img'/></disk>"
				"<disk type='block'><source dev='/run/csvfs/vol2/data'/></disk>"
				"<disk type='block'><source dev='/run/csvfs/vol1/root'/></disk>"
				"<disk type='file' device='cdrom'/>"),
			    "/run/csvfs", d, err, sizeof(err));

	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(d[0].vol, "vol1");
	ck_assert_str_eq(d[0].file, "root");
	ck_assert_str_eq(d[1].vol, "vol2");
	ck_assert_str_eq(d[1].file, "data");
}
END_TEST

START_TEST(test_no_shared_disks)
{
	struct cd_vm_disk d[CD_VM_DISKS_MAX];
	char err[256];

	ck_assert_int_eq(cd_vm_disks(DOM(""), "/run/csvfs", d, err, sizeof(err)), 0);
	/* A prefix of the run dir's name is not under it. */
	ck_assert_int_eq(
		cd_vm_disks(DOM("<disk type='block'><source dev='/run/csvfs2/a/b'/></disk>"),
			    "/run/csvfs/", d, err, sizeof(err)),
		0);
}
END_TEST

START_TEST(test_malformed)
{
	static const char *const bad[] = {
		DOM("<disk type='block'><source dev='/run/csvfs/vol1'/></disk>"),
		DOM("<disk type='block'><source dev='/run/csvfs/vol1/a/b'/></disk>"),
		DOM("<disk type='block'><source dev='/run/csvfs/../etc/x'/></disk>"),
		"<domain><devices><disk>",
		"not xml",
	};
	struct cd_vm_disk d[CD_VM_DISKS_MAX];
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(cd_vm_disks(bad[i], "/run/csvfs", d, err, sizeof(err)),
				 CD_ERR_INVALID);
		ck_assert_msg(err[0], "no error text for case %zu", i);
	}
}
END_TEST

START_TEST(test_too_many)
{
	char xml[8192] = "<domain><devices>", one[128];
	struct cd_vm_disk d[CD_VM_DISKS_MAX];
	char err[256];
	int i;

	for (i = 0; i <= CD_VM_DISKS_MAX; i++) {
		snprintf(one, sizeof(one),
			 "<disk type='block'><source dev='/run/csvfs/v/f%d'/></disk>", i);
		strcat(xml, one);
	}
	strcat(xml, "</devices></domain>");
	ck_assert_int_eq(cd_vm_disks(xml, "/run/csvfs", d, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "more than"));
}
END_TEST

/* The disks that are no csvfs files: they exist on one node only. */
START_TEST(test_local_disks)
{
	char paths[2][CD_VM_DISK_PATH_MAX + 1];
	char err[256];
	int n = cd_vm_disks_local(
		DOM("<disk type='block'><source dev='/run/csvfs/vol1/root'/></disk>"
		    "<disk type='file'><source file='/var/lib/local.img'/></disk>"
		    "<disk type='file'><source file='/var/lib/local.img'/></disk>"
		    "<disk type='network'><source protocol='nbd' name='x'/></disk>"
		    "<disk type='file' device='cdrom'/>"
		    "<disk type='volume'><source pool='default' volume='data'/></disk>"
		    "<disk type='dir'><source dir='/srv/share'/></disk>"),
		"/run/csvfs", paths, 2, err, sizeof(err));

	ck_assert_int_eq(n, 3);
	ck_assert_str_eq(paths[0], "/var/lib/local.img");
	ck_assert_str_eq(paths[1], "default/data");
	ck_assert_int_eq(cd_vm_disks_local(DOM("<disk type='block'><source "
					       "dev='/run/csvfs/vol1/root'/></disk>"),
					   "/run/csvfs", paths, 2, err, sizeof(err)),
			 0);
	ck_assert_int_eq(cd_vm_disks_local("<domain", "/run/csvfs", paths, 2, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_str_eq(err, "the domain XML does not parse");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmdisks");

	add_tcase(s, test_shared_disks_found_once);
	add_tcase(s, test_no_shared_disks);
	add_tcase(s, test_malformed);
	add_tcase(s, test_too_many);
	add_tcase(s, test_local_disks);
	return run_suite(s);
}
