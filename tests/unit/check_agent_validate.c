/*
 * Domain XML as vm.add checks it (agents/validate.c): against libvirt's
 * domain schema, parsed once, then libvirt's parser in its test driver,
 * one connection for every call.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "agents/vm_agent.h"
#include "check_common.h"

static char name[64], uuid[37], err[512];
static uint32_t vcpus;
static uint64_t mem;

static const char *const XML_FMT = "<domain type='kvm'><name>%s</name><uuid>%s</uuid>"
				   "<memory unit='MiB'>%d</memory><vcpu>%d</vcpu>"
				   "<os><type arch='x86_64'>hvm</type></os>%s</domain>";

static int check(const char *dom, const char *id, int mib, int cpus, const char *extra)
{
	char xml[2048];

	snprintf(xml, sizeof(xml), XML_FMT, dom, id, mib, cpus, extra);
	err[0] = '\0';
	return cd_vm_agent_validate(xml, name, sizeof(name), uuid, &vcpus, &mem, err, sizeof(err));
}

START_TEST(test_valid)
{
	ck_assert_int_eq(check("web1", "5ca1e000-0000-4000-8000-000000000001", 256, 2, ""), 0);
	ck_assert_str_eq(name, "web1");
	ck_assert_str_eq(uuid, "5ca1e000-0000-4000-8000-000000000001");
	ck_assert_uint_eq(vcpus, 2);
	ck_assert_uint_eq(mem, 256);
	/* Nothing stays defined: the same domain is valid again, many times. */
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(check("web1", "5ca1e000-0000-4000-8000-000000000001", 256, 2, ""),
				 0);
	/* Another UUID under the same name: nothing of the last one is left. */
	ck_assert_int_eq(check("web1", "5ca1e000-0000-4000-8000-000000000002", 128, 1, ""), 0);
	ck_assert_str_eq(uuid, "5ca1e000-0000-4000-8000-000000000002");
}
END_TEST

/* The test driver's own default domain is "test": a VM may have that name. */
START_TEST(test_name_test)
{
	ck_assert_int_eq(check("test", "5ca1e000-0000-4000-8000-000000000003", 128, 1, ""), 0);
	ck_assert_str_eq(name, "test");
	ck_assert_int_eq(check("test", "5ca1e000-0000-4000-8000-000000000004", 128, 1, ""), 0);
}
END_TEST

START_TEST(test_refused)
{
	char xml[64];

	/* An element the schema does not know. */
	ck_assert_int_eq(check("a1", "5ca1e000-0000-4000-8000-000000000005", 128, 1, "<bogus/>"),
			 CD_ERR_INVALID);
	ck_assert_msg(strstr(err, "invalid domain XML") && strstr(err, "schema"), "%s", err);
	ck_assert_msg(!strchr(err, '\n'), "one line: %s", err);
	/* A value the schema refuses. */
	ck_assert_int_eq(check("a1", "not-a-uuid", 128, 1, ""), CD_ERR_INVALID);
	ck_assert_msg(strstr(err, "invalid domain XML"), "%s", err);
	/* Not XML at all: libvirt's parser says so. */
	snprintf(xml, sizeof(xml), "<domain><name>x</name>");
	ck_assert_int_eq(
		cd_vm_agent_validate(xml, name, sizeof(name), uuid, &vcpus, &mem, err, sizeof(err)),
		CD_ERR_INVALID);
	ck_assert_msg(strstr(err, "invalid domain XML"), "%s", err);
	/* And a good one still passes after the refusals. */
	ck_assert_int_eq(check("a1", "5ca1e000-0000-4000-8000-000000000005", 128, 1, ""), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("agent_validate");

	add_tcase(s, test_valid);
	add_tcase(s, test_name_test);
	add_tcase(s, test_refused);
	return run_suite(s);
}
