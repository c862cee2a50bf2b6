#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/vmident.h"

static char err[256];

/* A domain as an admin writes it: no UUID, two interfaces, one with a MAC. */
static const char *bare = "<domain type='qemu'>\n"
			  "  <name>web1</name>\n"
			  "  <memory unit='MiB'>128</memory>\n"
			  "  <devices>\n"
			  "    <interface type='bridge'>\n"
			  "      <source bridge='br0'/>\n"
			  "      <model type='virtio'/>\n"
			  "    </interface>\n"
			  "    <disk type='block'/>\n"
			  "    <interface type='network'>\n"
			  "      <mac address='52:54:00:AB:CD:EF'/>\n"
			  "      <source network='default'/>\n"
			  "    </interface>\n"
			  "  </devices>\n"
			  "</domain>\n";

START_TEST(test_read)
{
	struct cd_vm_ident id;

	ck_assert_int_eq(cd_vm_ident_read(bare, &id, err, sizeof(err)), 0);
	ck_assert_str_eq(id.uuid, "");
	ck_assert_uint_eq(id.n_nics, 2);
	ck_assert_str_eq(id.macs[0], "");
	ck_assert_str_eq(id.macs[1], "52:54:00:ab:cd:ef");
	ck_assert(!cd_vm_ident_complete(&id));

	ck_assert_int_eq(cd_vm_ident_read("<domain><uuid> 6F1D7C2E-0B6A-4F6E-9D1E-3A5B7C9D0E1F\n"
					  "</uuid></domain>",
					  &id, err, sizeof(err)),
			 0);
	ck_assert_str_eq(id.uuid, "6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f");
	ck_assert_uint_eq(id.n_nics, 0);
	ck_assert(cd_vm_ident_complete(&id));
}
END_TEST

START_TEST(test_read_bad)
{
	static const char *const bad[] = {
		"",
		"<domain>",
		"<network/>",
		"<domain><uuid>not-a-uuid</uuid></domain>",
		"<domain><uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1</uuid></domain>",
		"<domain><devices><interface><mac address='52:54:00:ab:cd'/></interface>"
		"</devices></domain>",
		"<domain><devices><interface><mac address='52-54-00-ab-cd-ef'/></interface>"
		"</devices></domain>",
	};
	struct cd_vm_ident id;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cd_vm_ident_read(bad[i], &id, err, sizeof(err)) == CD_ERR_INVALID,
			      "accepted: %s", bad[i]);
}
END_TEST

START_TEST(test_too_many_nics)
{
	char xml[8192] = "<domain><devices>";
	struct cd_vm_ident id;
	int i;

	for (i = 0; i <= CD_VM_NICS_MAX; i++)
		strcat(xml, "<interface type='network'/>");
	strcat(xml, "</devices></domain>");
	ck_assert_int_eq(cd_vm_ident_read(xml, &id, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "interfaces"));
}
END_TEST

START_TEST(test_fill)
{
	struct cd_vm_ident want, got;
	char *out, *again;

	ck_assert_int_eq(cd_vm_ident_read(bare, &want, err, sizeof(err)), 0);
	strcpy(want.uuid, "6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f");
	strcpy(want.macs[0], "52:54:00:01:02:03");
	ck_assert_int_eq(cd_vm_ident_fill(bare, &want, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_vm_ident_read(out, &got, err, sizeof(err)), 0);
	ck_assert(cd_vm_ident_complete(&got));
	ck_assert_str_eq(got.uuid, want.uuid);
	ck_assert_str_eq(got.macs[0], "52:54:00:01:02:03");
	ck_assert_str_eq(got.macs[1], "52:54:00:ab:cd:ef");
	/* Where libvirt writes them, indented like their neighbours, the rest kept. */
	ck_assert_ptr_nonnull(strstr(out, "  <name>web1</name>\n"
					  "  <uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f</uuid>\n"
					  "  <memory unit=\"MiB\">128</memory>\n"));
	ck_assert_ptr_nonnull(strstr(out, "    <interface type=\"bridge\">\n"
					  "      <mac address=\"52:54:00:01:02:03\"/>\n"
					  "      <source bridge=\"br0\"/>\n"));
	ck_assert_ptr_nonnull(strstr(out, "<mac address=\"52:54:00:AB:CD:EF\"/>"));
	ck_assert_ptr_null(strstr(out, "<?xml"));
	/* What an XML has already is never changed. */
	strcpy(want.uuid, "00000000-0000-4000-8000-000000000001");
	strcpy(want.macs[0], "52:54:00:09:09:09");
	strcpy(want.macs[1], "52:54:00:09:09:0a");
	ck_assert_int_eq(cd_vm_ident_fill(out, &want, &again, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_vm_ident_read(again, &got, err, sizeof(err)), 0);
	ck_assert_str_eq(got.uuid, "6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f");
	ck_assert_str_eq(got.macs[0], "52:54:00:01:02:03");
	ck_assert_str_eq(got.macs[1], "52:54:00:ab:cd:ef");
	free(again);
	/* An identity for other interfaces, or none to give: refused. */
	want.n_nics = 1;
	ck_assert_int_eq(cd_vm_ident_fill(bare, &want, &again, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_ptr_null(again);
	want.n_nics = 2;
	strcpy(want.macs[0], "");
	ck_assert_int_eq(cd_vm_ident_fill(bare, &want, &again, err, sizeof(err)), CD_ERR_INVALID);
	strcpy(want.macs[0], "52:54:00:09:09:09");
	strcpy(want.uuid, "");
	ck_assert_int_eq(cd_vm_ident_fill(bare, &want, &again, err, sizeof(err)), CD_ERR_INVALID);
	free(out);
}
END_TEST

START_TEST(test_fill_empty_mac_element)
{
	struct cd_vm_ident want, got;
	const char *xml = "<domain><name>x</name><uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f</uuid>"
			  "<devices><interface type='user'><mac/></interface></devices></domain>";
	char *out;

	ck_assert_int_eq(cd_vm_ident_read(xml, &want, err, sizeof(err)), 0);
	strcpy(want.macs[0], "52:54:00:01:02:03");
	ck_assert_int_eq(cd_vm_ident_fill(xml, &want, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_vm_ident_read(out, &got, err, sizeof(err)), 0);
	ck_assert_str_eq(got.macs[0], "52:54:00:01:02:03");
	ck_assert_ptr_null(strstr(strstr(out, "<mac") + 4, "<mac"));
	free(out);
}
END_TEST

static int calls;

/* Every MAC but the 5th drawn is taken. */
static bool taken_but_fifth(const char *mac, void *ctx)
{
	(void)ctx;
	ck_assert(cd_mac_valid(mac));
	return ++calls != 5;
}

static bool never_free(const char *mac, void *ctx)
{
	(void)mac;
	(void)ctx;
	return true;
}

START_TEST(test_new_macs)
{
	struct cd_vm_ident id;
	int i;

	ck_assert_int_eq(cd_vm_ident_read(bare, &id, err, sizeof(err)), 0);
	calls = 0;
	ck_assert_int_eq(cd_vm_ident_new_macs(&id, taken_but_fifth, NULL), 0);
	ck_assert_int_eq(calls, 5);
	ck_assert(cd_mac_valid(id.macs[0]));
	ck_assert(strncmp(id.macs[0], "52:54:00:", 9) == 0);
	ck_assert_str_eq(id.macs[1], "52:54:00:ab:cd:ef");
	id.macs[0][0] = '\0';
	ck_assert_int_eq(cd_vm_ident_new_macs(&id, never_free, NULL), CD_ERR_EXISTS);
	/* Many interfaces: all distinct. */
	id.n_nics = CD_VM_NICS_MAX;
	for (i = 0; i < CD_VM_NICS_MAX; i++)
		id.macs[i][0] = '\0';
	ck_assert_int_eq(cd_vm_ident_new_macs(&id, NULL, NULL), 0);
	for (i = 0; i < CD_VM_NICS_MAX; i++)
		for (int k = i + 1; k < CD_VM_NICS_MAX; k++)
			ck_assert_str_ne(id.macs[i], id.macs[k]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmident");

	add_tcase(s, test_read);
	add_tcase(s, test_read_bad);
	add_tcase(s, test_too_many_nics);
	add_tcase(s, test_fill);
	add_tcase(s, test_fill_empty_mac_element);
	add_tcase(s, test_new_macs);
	return run_suite(s);
}
