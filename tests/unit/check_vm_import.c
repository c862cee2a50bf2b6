/*
 * Importing a libvirt domain (core/vm_import.c): the judgement of whether it
 * can be highly available, its disks pointed at copies, and the vm.import
 * change that adds it and adopts it where it runs.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/state.h"
#include "core/vm_import.h"
#include "core/volume.h"
#include "lib/util.h"

#define RUN "/run/csvfs"
/* The directories kept alike on every node (clusterd.conf boot_file_dirs). */
#define BOOT "/var/cache/guest:/srv/boot/"
#define UUID_A "00000000-0000-4000-8000-00000000000a"
#define UUID_B "00000000-0000-4000-8000-00000000000b"
#define MAC_A "52:54:00:00:00:0a"
#define MAC_B "52:54:00:00:00:0b"

#define DOM(name, uuid, mac, devices, os)                                                          \
	"<domain type='qemu'><name>" name "</name><uuid>" uuid "</uuid>"                           \
	"<memory unit='MiB'>128</memory><os><type>hvm</type>" os "</os><devices>" devices          \
	"<interface type='bridge'><mac address='" mac "'/><source bridge='br0'/></interface>"      \
	"</devices></domain>"
#define SHARED_DISK "<disk type='block'><source dev='" RUN "/vol1/root'/><target dev='vda'/></disk>"

static struct cd_state st;
static struct cd_import_report rep;
static char err[512];

/* node1-3 members, volume vol1, and VM "web" (UUID_A, MAC_A). */
static void setup(void)
{
	fixture_three_nodes(&st);
	ck_assert_int_eq(
		fixture_apply(&st,
			      "{\"op\":\"volume.add\",\"name\":\"vol1\",\"device\":"
			      "\"/dev/lun\",\"uuid\":\"u1\",\"hosts\":8,\"expiry_ms\":8000,"
			      "\"renewal_ms\":1000}",
			      err, sizeof(err)),
		0);
	ck_assert_int_eq(
		fixture_apply(&st,
			      "{\"op\":\"vm.add\",\"name\":\"web\",\"vcpus\":1,"
			      "\"memory_mb\":64,\"xml\":\"<domain><name>web</name><uuid>" UUID_A
			      "</uuid><devices><interface type='bridge'><mac address='" MAC_A
			      "'/></interface></devices></domain>\"}",
			      err, sizeof(err)),
		0);
}

static void teardown(void)
{
	cd_state_free(&st);
}

/* Whether rep has a reason of code. */
static bool has(enum cd_import_code code)
{
	size_t i;

	for (i = 0; i < rep.n_reasons; i++)
		if (rep.reasons[i].code == code)
			return true;
	return false;
}

START_TEST(test_shared_domain_ok)
{
	ck_assert_uint_eq(cd_vm_import_judge(&st, "db",
					     DOM("db", UUID_B, MAC_B,
						 SHARED_DISK "<disk type='network'><source "
							     "protocol='nbd' name='x'/></disk>"
							     "<disk type='file' device='cdrom'/>",
						 "<nvram>" RUN "/vol1/db.nvram</nvram>"),
					     RUN, BOOT, &rep),
			  0);
	ck_assert_uint_eq(rep.n_local, 0);
}
END_TEST

/* Every reason at once, each with its words. */
START_TEST(test_every_reason_listed)
{
	size_t n = cd_vm_import_judge(
		&st, "web",
		DOM("web", UUID_A, MAC_A,
		    SHARED_DISK "<disk type='file'><source file='/var/lib/libvirt/images/a.qcow2'/>"
				"<target dev='vdb'/></disk>"
				"<disk type='file' device='cdrom'><source file='/srv/iso/d.iso'/>"
				"<target dev='sda'/></disk>"
				"<disk type='block'><source dev='" RUN "/nosuch/f'/></disk>"
				"<disk type='block'><source dev='" RUN "/vol1/a/b'/></disk>"
				"<hostdev mode='subsystem' type='pci'/>"
				"<filesystem type='mount'><source dir='/srv/share'/>"
				"<target dir='share'/></filesystem>",
		    "<nvram>/var/lib/libvirt/qemu/nvram/web_VARS.fd</nvram>"),
		RUN, BOOT, &rep);

	ck_assert_uint_eq(n, rep.n_reasons);
	ck_assert(has(CD_IMPORT_DISK_LOCAL));
	ck_assert(has(CD_IMPORT_CDROM_LOCAL));
	ck_assert(has(CD_IMPORT_VOLUME_UNKNOWN));
	ck_assert(has(CD_IMPORT_DISK_MALFORMED));
	ck_assert(has(CD_IMPORT_HOSTDEV));
	ck_assert(has(CD_IMPORT_FILESYSTEM));
	ck_assert(has(CD_IMPORT_NVRAM_LOCAL));
	ck_assert(has(CD_IMPORT_NAME_TAKEN));
	ck_assert(has(CD_IMPORT_UUID_TAKEN));
	ck_assert(has(CD_IMPORT_MAC_TAKEN));
	ck_assert_uint_eq(n, 10);
	/* The local ones, for --copy-disks, in the XML's order. */
	ck_assert_uint_eq(rep.n_local, 2);
	ck_assert_str_eq(rep.local[0].path, "/var/lib/libvirt/images/a.qcow2");
	ck_assert_str_eq(rep.local[0].target, "vdb");
	ck_assert(!rep.local[0].cdrom);
	ck_assert_str_eq(rep.local[1].path, "/srv/iso/d.iso");
	ck_assert(rep.local[1].cdrom);
	ck_assert(strstr(rep.reasons[0].text, "a.qcow2") != NULL);
}
END_TEST

START_TEST(test_without_state)
{
	/* No state: no identity or volume checks, the host ties still. */
	ck_assert_uint_eq(
		cd_vm_import_judge(NULL, "web",
				   DOM("web", UUID_A, MAC_A,
				       "<disk type='block'><source dev='" RUN "/nosuch/f'/></disk>",
				       ""),
				   RUN, BOOT, &rep),
		0);
	ck_assert_uint_eq(cd_vm_import_judge(NULL, "x", "not xml", RUN, BOOT, &rep), 1);
	ck_assert(has(CD_IMPORT_XML));
	/* No MAC on an interface: its identity would not be its own. */
	ck_assert_uint_eq(cd_vm_import_judge(NULL, "x",
					     "<domain><name>x</name><uuid>" UUID_B
					     "</uuid><devices><interface type='bridge'/>"
					     "</devices></domain>",
					     RUN, BOOT, &rep),
			  1);
	ck_assert(has(CD_IMPORT_IDENTITY_INCOMPLETE));
}
END_TEST

START_TEST(test_report_json)
{
	struct json_object *o, *a;

	cd_vm_import_judge(
		&st, "db",
		DOM("db", UUID_B, MAC_B,
		    "<disk type='file'><source file='/l.img'/><target dev='vda'/></disk>", ""),
		RUN, BOOT, &rep);
	o = cd_vm_import_report_to_json(&rep);
	ck_assert(!json_object_get_boolean(json_object_object_get(o, "ok")));
	a = json_object_object_get(o, "reasons");
	ck_assert_uint_eq(json_object_array_length(a), 1);
	ck_assert_str_eq(json_object_get_string(
				 json_object_object_get(json_object_array_get_idx(a, 0), "code")),
			 "disk-local");
	a = json_object_object_get(o, "local_disks");
	ck_assert_str_eq(json_object_get_string(
				 json_object_object_get(json_object_array_get_idx(a, 0), "path")),
			 "/l.img");
	json_object_put(o);
	ck_assert_str_eq(cd_import_code_to_str(CD_IMPORT_LEASE), "lease");
	ck_assert_str_eq(cd_import_code_to_str(CD_IMPORT_BOOT_LOCAL), "boot-local");
	ck_assert_str_eq(cd_import_code_to_str(CD_IMPORT_LOADER_LOCAL), "loader-local");
	ck_assert_str_eq(cd_import_code_to_str((enum cd_import_code)99), "unknown");
}
END_TEST

/*
 * The files the domain boots from (<os>): each os fragment of a domain that
 * is otherwise importable, the reasons it gets (0 or 1 code, n of them),
 * and words two of them must have.
 */
static const struct boot_case {
	const char *os;
	size_t n;
	enum cd_import_code code;
	const char *words[2];
} boot_cases[] = {
	/* No boot path at all, or a loader libvirt picks itself: nothing to say. */
	{"<boot dev='hd'/>", 0, 0, {NULL, NULL}},
	{"<loader secure='yes'/><boot dev='hd'/>", 0, 0, {NULL, NULL}},
	/* Kernel and initrd of this host's /boot: both named, with what to do. */
	{"<kernel>/boot/vmlinuz-6.1.0-18-amd64</kernel><initrd>/boot/initrd.img-6.1.0-18-amd64"
	 "</initrd><cmdline>console=ttyS0</cmdline>",
	 2,
	 CD_IMPORT_BOOT_LOCAL,
	 {"kernel /boot/vmlinuz-6.1.0-18-amd64 is a file of this node only",
	  "initrd /boot/initrd.img-6.1.0-18-amd64"}},
	{"<kernel>" RUN "/vol1/vmlinuz</kernel><dtb>/var/lib/vm/board.dtb</dtb>",
	 1,
	 CD_IMPORT_BOOT_LOCAL,
	 {"point <dtb> there", "--copy-disks copies disks only"}},
	/* Packaged is not enough for a kernel: versions differ from node to node. */
	{"<kernel>/usr/lib/linux/vmlinuz</kernel>", 1, CD_IMPORT_BOOT_LOCAL, {"kernel", NULL}},
	/* Under the run dir but not VOLUME/FILE: on no volume. */
	{"<initrd>" RUN "/vol1/a/initrd</initrd>", 1, CD_IMPORT_BOOT_LOCAL, {"initrd", NULL}},
	/* On the shared volumes, or kept alike on every node: the same files everywhere. */
	{"<loader readonly='yes' type='pflash'>" RUN "/vol1/code.fd</loader><kernel>" RUN
	 "/vol1/vmlinuz</kernel><initrd>/var/cache/guest/initrd.img</initrd><dtb>" RUN
	 "/vol1/board.dtb</dtb>",
	 0,
	 0,
	 {NULL, NULL}},
	{"<kernel>/var/cache/guest/vmlinuz</kernel><initrd>/srv/boot/a/initrd.img</initrd>",
	 0,
	 0,
	 {NULL, NULL}},
	/* QEMU reads no initrd from a block device: one on a volume cannot boot. */
	{"<kernel>" RUN "/vol1/vmlinuz</kernel><initrd>" RUN "/vol1/initrd.img</initrd>",
	 1,
	 CD_IMPORT_BOOT_LOCAL,
	 {"QEMU cannot read", "boot_file_dirs"}},
	/* Only whole directories of the list count, and no ".." leaves them. */
	{"<kernel>/srv/bootx/vmlinuz</kernel>",
	 1,
	 CD_IMPORT_BOOT_LOCAL,
	 {"now /var/cache/guest:/srv/boot/", NULL}},
	{"<kernel>/var/cache/guest/../../../etc/vmlinuz</kernel>",
	 1,
	 CD_IMPORT_BOOT_LOCAL,
	 {"kernel", NULL}},
	{"<kernel>/var/cache/guest</kernel>", 1, CD_IMPORT_BOOT_LOCAL, {"kernel", NULL}},
	{"<kernel>" RUN "/nosuch/vmlinuz</kernel>",
	 1,
	 CD_IMPORT_VOLUME_UNKNOWN,
	 {"kernel " RUN "/nosuch/vmlinuz: no volume 'nosuch'", NULL}},
	/* Firmware the packages ship, read-only: the same on every node. */
	{"<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader><nvram>" RUN
	 "/vol1/db_VARS.fd</nvram>",
	 0,
	 0,
	 {NULL, NULL}},
	{"<loader type='rom'>/usr/share/seabios/bios-256k.bin</loader>", 0, 0, {NULL, NULL}},
	{"<loader readonly='yes'>/usr/lib/u-boot/qemu_arm64/u-boot.bin</loader>",
	 0,
	 0,
	 {NULL, NULL}},
	/* Written by the guest, or a firmware file of this host only. */
	{"<loader type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>",
	 1,
	 CD_IMPORT_LOADER_LOCAL,
	 {"is written by the guest", "readonly='yes'"}},
	{"<loader readonly='yes' type='pflash'>/var/lib/libvirt/qemu/fw/db_CODE.fd</loader>",
	 1,
	 CD_IMPORT_LOADER_LOCAL,
	 {"/var/lib/libvirt/qemu/fw/db_CODE.fd is a file of this node", "<loader>"}},
	{"<loader readonly='yes'>/usr/share/../../srv/fw.fd</loader>",
	 1,
	 CD_IMPORT_LOADER_LOCAL,
	 {"a file of this node only", NULL}},
};

START_TEST(test_boot_files)
{
	const struct boot_case *c = &boot_cases[_i];
	char xml[2048];
	size_t i, k;

	snprintf(xml, sizeof(xml), DOM("db", UUID_B, MAC_B, SHARED_DISK, "%s"), c->os);
	ck_assert_uint_eq(cd_vm_import_judge(&st, "db", xml, RUN, BOOT, &rep), c->n);
	for (i = 0; i < rep.n_reasons; i++)
		ck_assert_msg(rep.reasons[i].code == c->code, "%s: %s", c->os, rep.reasons[i].text);
	for (k = 0; k < 2 && c->words[k]; k++) {
		bool found = false;

		for (i = 0; i < rep.n_reasons; i++)
			found = found || strstr(rep.reasons[i].text, c->words[k]);
		ck_assert_msg(found, "no \"%s\" in the reasons for %s", c->words[k], c->os);
	}
	/* Boot files are no disks: --copy-disks has nothing of them to copy. */
	ck_assert_uint_eq(rep.n_local, 0);
}
END_TEST

START_TEST(test_reasons_beyond_the_array)
{
	size_t i;

	memset(&rep, 0, sizeof(rep));
	for (i = 0; i < CD_IMPORT_REASONS_MAX + 3; i++)
		cd_vm_import_reason(&rep, CD_IMPORT_HOSTDEV, "r%zu", i);
	ck_assert_uint_eq(rep.n_reasons, CD_IMPORT_REASONS_MAX);
	ck_assert_uint_eq(rep.n_dropped, 3);
}
END_TEST

START_TEST(test_repoint)
{
	const char *xml = DOM("db", UUID_B, MAC_B,
			      "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
			      "<source file='/l/a.qcow2'/><target dev='vda'/></disk>"
			      "<disk type='file' device='cdrom'><source file='/l/b.iso'/></disk>",
			      "");
	struct json_object *map = json_object_new_object();
	char *out = NULL;

	json_object_object_add(map, "/l/a.qcow2", json_object_new_string(RUN "/vol1/db-vda"));
	ck_assert_int_eq(cd_vm_import_repoint(xml, map, &out, err, sizeof(err)), 0);
	ck_assert(strstr(out, "<disk type=\"block\" device=\"disk\">") != NULL);
	ck_assert(strstr(out, "<source dev=\"" RUN "/vol1/db-vda\"/>") != NULL);
	ck_assert(strstr(out, "qcow2\"/>") != NULL);
	ck_assert(strstr(out, "/l/a.qcow2") == NULL);
	ck_assert(strstr(out, "/l/b.iso") != NULL);
	/* Repointed, only the CD-ROM is left local. */
	cd_vm_import_judge(&st, "db", out, RUN, BOOT, &rep);
	ck_assert_uint_eq(rep.n_reasons, 1);
	ck_assert(has(CD_IMPORT_CDROM_LOCAL));
	free(out);
	/* A path the domain has no disk of is refused. */
	json_object_object_add(map, "/l/none", json_object_new_string(RUN "/vol1/x"));
	ck_assert_int_eq(cd_vm_import_repoint(xml, map, &out, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert(strstr(err, "/l/none") != NULL);
	ck_assert_ptr_null(out);
	json_object_put(map);
	map = json_object_new_array();
	ck_assert_int_eq(cd_vm_import_repoint(xml, map, &out, err, sizeof(err)), CD_ERR_INVALID);
	json_object_put(map);
}
END_TEST

/* --- the vm.import change --- */

#define IMPORT(name, uuid, mac, node, running)                                                     \
	"{\"op\":\"vm.import\",\"name\":\"" name "\",\"vcpus\":1,\"memory_mb\":64,"                \
	"\"node\":" #node ",\"running\":" #running ",\"xml\":\"<domain><name>" name                \
	"</name><uuid>" uuid "</uuid><devices><interface type='bridge'><mac address='" mac         \
	"'/></interface></devices></domain>\"}"

static char *state_text(void)
{
	return fixture_text(&st);
}

/* Refused with code by sender, and the state as it was. */
static void refused(uint32_t sender, const char *change, int code)
{
	char *before = state_text(), *after;

	ck_assert_int_eq(fixture_apply_from(&st, sender, change, err, sizeof(err)), code);
	ck_assert_msg(err[0], "no error text");
	after = state_text();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}

START_TEST(test_import_running_adopted)
{
	const struct cd_vm *vm;
	uint64_t last = st.last_action_id;

	ck_assert_int_eq(
		fixture_apply_from(&st, 2, IMPORT("db", UUID_B, MAC_B, 2, true), err, sizeof(err)),
		0);
	vm = cd_state_vm(&st, "db");
	ck_assert_ptr_nonnull(vm);
	ck_assert_int_eq(vm->state, CD_VM_RUNNING);
	ck_assert_uint_eq(vm->node, 2);
	ck_assert(vm->target_started);
	ck_assert_uint_eq(vm->action_id, last + 1);
	ck_assert_str_eq(vm->uuid, UUID_B);
	/* Its node's monitor report is taken as for any VM that runs there. */
	ck_assert_int_eq(fixture_apply_from(&st, 2,
					    "{\"op\":\"vm.report\",\"name\":\"db\",\"node\":2,"
					    "\"action_id\":0,\"result\":\"running\"}",
					    err, sizeof(err)),
			 0);
}
END_TEST

START_TEST(test_import_stopped_added)
{
	const struct cd_vm *vm;

	ck_assert_int_eq(
		fixture_apply_from(&st, 1, IMPORT("db", UUID_B, MAC_B, 1, false), err, sizeof(err)),
		0);
	vm = cd_state_vm(&st, "db");
	ck_assert_int_eq(vm->state, CD_VM_STOPPED);
	ck_assert_uint_eq(vm->node, 0);
	ck_assert(!vm->target_started);
}
END_TEST

START_TEST(test_import_refused_changes_nothing)
{
	/* Another VM's UUID or MAC, or its name. */
	refused(2, IMPORT("db", UUID_A, MAC_B, 2, true), CD_ERR_EXISTS);
	refused(2, IMPORT("db", UUID_B, MAC_A, 2, true), CD_ERR_EXISTS);
	refused(2, IMPORT("web", UUID_B, MAC_B, 2, true), CD_ERR_EXISTS);
	/* Only the node it names may send it. */
	refused(3, IMPORT("db", UUID_B, MAC_B, 2, true), CD_ERR_INVALID);
	/* No such node; a node in maintenance takes no running VM. */
	refused(9, IMPORT("db", UUID_B, MAC_B, 9, true), CD_ERR_INVALID);
	ck_assert_int_eq(fixture_apply(&st,
				       "{\"op\":\"node.maintenance\",\"node\":\"node2\","
				       "\"on\":true}",
				       err, sizeof(err)),
			 0);
	ck_assert(cd_state_node_by_id(&st, 2)->maintenance);
	refused(2, IMPORT("db", UUID_B, MAC_B, 2, true), CD_ERR_INVALID);
	ck_assert_ptr_null(cd_state_vm(&st, "db"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vm_import");
	TCase *tc = tcase_create("import");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_shared_domain_ok);
	tcase_add_test(tc, test_every_reason_listed);
	tcase_add_test(tc, test_without_state);
	tcase_add_test(tc, test_report_json);
	tcase_add_test(tc, test_reasons_beyond_the_array);
	tcase_add_loop_test(tc, test_boot_files, 0,
			    (int)(sizeof(boot_cases) / sizeof(boot_cases[0])));
	tcase_add_test(tc, test_repoint);
	tcase_add_test(tc, test_import_running_adopted);
	tcase_add_test(tc, test_import_stopped_added);
	tcase_add_test(tc, test_import_refused_changes_nothing);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
