/*
 * Everything a peer sends is checked where it is applied: changes by
 * cd_state_apply(), snapshots and saved states by cd_state_from_json().
 * A refused change leaves the state as it was; a refused snapshot is
 * refused as a whole. That the largest records the rules let through fit
 * the size budget is tested in check_state_budget.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/fencedev.h"
#include "core/state.h"
#include "lib/util.h"

static char err[512];

static int apply(struct cd_state *s, const char *change)
{
	return fixture_apply(s, change, err, sizeof(err));
}

static int applyf(struct cd_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int applyf(struct cd_state *s, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return apply(s, buf);
}

/* The change is refused with a reason, and the state is as it was. */
static void refused(struct cd_state *s, const char *change)
{
	char *before = fixture_text(s), *after;
	int rc = apply(s, change);

	ck_assert_msg(rc < 0, "accepted %s", change);
	ck_assert_msg(err[0] != '\0', "no reason for refusing %s", change);
	after = fixture_text(s);
	ck_assert_msg(strcmp(before, after) == 0, "%s changed the state", change);
	free(before);
	free(after);
}

#define MIB 1048576ull

/* One file of a volume.done list. */
static const char *vfile(char *buf, size_t n, const char *name, unsigned index,
			 unsigned long long size, unsigned long long offset,
			 unsigned long long alloc)
{
	snprintf(buf, n,
		 "{\"name\":\"%s\",\"index\":%u,\"size\":%llu,\"offset\":%llu,\"alloc\":%llu,"
		 "\"generation\":1}",
		 name, index, size, offset, alloc);
	return buf;
}

START_TEST(test_name_and_path_rules)
{
	static const char *bad_path_names[] = {
		"",	".",
		"..",	".x",
		"../x", "a/b",
		"x y",	"0123456789012345678901234567890123456789012345678901234567890123"};
	static const char *good_paths[] = {"/dev/loop3", "/dev/disk/by-id/wwn-0x5000:part1",
					   "/a/..b/c.", "//dev//sdb"};
	static const char *bad_paths[] = {
		"", "dev/loop3", "/dev/../etc/passwd", "/..", "/a/..", "/a/./b", "/.", "/dev/a\nb"};
	size_t i;

	for (i = 0; i < sizeof(bad_path_names) / sizeof(bad_path_names[0]); i++)
		ck_assert_msg(!cd_valid_path_name(bad_path_names[i], 63), "accepted '%s'",
			      bad_path_names[i]);
	ck_assert(cd_valid_path_name("vol1", 63));
	ck_assert(cd_valid_path_name("a..b", 63));
	ck_assert(cd_valid_path_name("disk.qcow2", 63));
	for (i = 0; i < sizeof(good_paths) / sizeof(good_paths[0]); i++)
		ck_assert_msg(cd_valid_abs_path(good_paths[i], 255), "refused '%s'", good_paths[i]);
	for (i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++)
		ck_assert_msg(!cd_valid_abs_path(bad_paths[i], 255), "accepted '%s'", bad_paths[i]);
	ck_assert(!cd_valid_abs_path("/dev/loop3", 5));
	ck_assert(cd_valid_text("fence:dev1", 15));
	ck_assert(cd_valid_text("", 15));
	ck_assert(!cd_valid_text("0123456789abcdef", 15));
	ck_assert(!cd_valid_text("a\tb", 15));
}
END_TEST

/* No change may name a volume or file that leads out of the run directory. */
START_TEST(test_path_names_in_changes)
{
	static const char *bad[] = {
		"{\"op\":\"volume.add\",\"name\":\"../x\",\"device\":\"/dev/loop4\",\"uuid\":\"u2\","
		"\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}",
		"{\"op\":\"volume.add\",\"name\":\"..\",\"device\":\"/dev/loop4\",\"uuid\":\"u2\","
		"\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}",
		"{\"op\":\"volume.add\",\"name\":\".\",\"device\":\"/dev/loop4\",\"uuid\":\"u2\","
		"\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}",
		"{\"op\":\"volume.add\",\"name\":\".hidden\",\"device\":\"/dev/loop4\",\"uuid\":\"u2\","
		"\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}",
		"{\"op\":\"volume.add\",\"name\":\"vol2\",\"device\":\"dev/loop4\",\"uuid\":\"u2\","
		"\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}",
		"{\"op\":\"volume.add\",\"name\":\"vol2\",\"device\":\"/dev/../etc/passwd\","
		"\"uuid\":\"u2\",\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}",
		"{\"op\":\"volume.add\",\"name\":\"vol2\",\"device\":\"/dev/loop4\",\"uuid\":\"u 2\","
		"\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}",
		"{\"op\":\"volume.add\",\"name\":\"vol2\",\"device\":\"/dev/loop4\",\"uuid\":\"u2\","
		"\"hosts\":65,\"expiry_ms\":10000,\"renewal_ms\":1250}",
		"{\"op\":\"volume.request\",\"name\":\"vol1\",\"id\":8,\"node\":1,\"fop\":\"create\","
		"\"file\":\"../x\",\"size\":1048576}",
		"{\"op\":\"volume.request\",\"name\":\"vol1\",\"id\":8,\"node\":1,\"fop\":\"remove\","
		"\"file\":\"..\"}",
		"{\"op\":\"volume.request\",\"name\":\"vol1\",\"id\":8,\"node\":1,\"fop\":\"create\","
		"\"file\":\".x\",\"size\":1048576}",
		"{\"op\":\"volume.request\",\"name\":\"vol1\",\"id\":8,\"node\":1,\"fop\":\"create\","
		"\"file\":\"a/b\",\"size\":1048576}",
		"{\"op\":\"volume.done\",\"name\":\"vol1\",\"id\":0,\"rc\":0,\"meta_generation\":3,"
		"\"files\":[{\"name\":\"../x\",\"index\":0,\"size\":1048576,\"offset\":1048576,"
		"\"alloc\":1048576,\"generation\":1}]}",
		"{\"op\":\"volume.done\",\"name\":\"vol1\",\"id\":0,\"rc\":0,\"meta_generation\":3,"
		"\"files\":[{\"name\":\"..\",\"index\":0,\"size\":1048576,\"offset\":1048576,"
		"\"alloc\":1048576,\"generation\":1}]}",
		/* An older list is not taken, but it is checked all the same. */
		"{\"op\":\"volume.done\",\"name\":\"vol1\",\"id\":0,\"rc\":0,\"meta_generation\":1,"
		"\"files\":[{\"name\":\"../x\",\"index\":0,\"size\":1048576,\"offset\":1048576,"
		"\"alloc\":1048576,\"generation\":1}]}",
		"{\"op\":\"fence.add\",\"name\":\"dev2\",\"agent\":\"../../bin/sh\"}",
		"{\"op\":\"fence.add\",\"name\":\"dev2\",\"agent\":\"/usr/../bin/sh\"}",
		"{\"op\":\"fence.add\",\"name\":\"dev2\",\"agent\":\"..\"}",
		"{\"op\":\"node.dead\",\"node\":4294967298,\"how\":\"lease\"}",
		"{\"op\":\"node.dead\",\"node\":2,\"how\":\"0123456789abcdefg\"}",
		"{\"op\":\"node.dead\",\"node\":2,\"how\":\"a\\nb\"}",
		"{\"op\":\"vm.place\",\"name\":\"web\",\"node\":4294967297}",
	};
	struct cd_state s;
	size_t i;

	fixture_full_state(&s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(&s, bad[i]);
	/* The same changes with good names are taken. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"volume.add\",\"name\":\"vol2\",\"device\":"
				   "\"/dev/disk/by-id/wwn-0x5000\",\"uuid\":\"u2\",\"hosts\":64,"
				   "\"expiry_ms\":10000,\"renewal_ms\":1250}"),
			 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"volume.request\",\"name\":\"vol1\",\"id\":8,"
				   "\"node\":1,\"fop\":\"create\",\"file\":\"a..b\",\"size\":1}"),
			 0);
	ck_assert_int_eq(
		apply(&s, "{\"op\":\"fence.add\",\"name\":\"dev2\",\"agent\":\"/bin/false\"}"), 0);
	cd_state_free(&s);
}
END_TEST

/* A file list is held to the csvfs rules: whole units, in range, no overlap. */
START_TEST(test_file_extents_in_changes)
{
	struct {
		const char *name;
		unsigned index;
		unsigned long long size, offset, alloc;
	} bad[] = {
		{"f", 0, MIB, 0, MIB},				     /* the superblock's place */
		{"f", 0, MIB, 5 * MIB + 512, MIB},		     /* not on a unit */
		{"f", 0, MIB, 5 * MIB, MIB + 4096},		     /* not whole units */
		{"f", 0, 0, 5 * MIB, MIB},			     /* empty */
		{"f", 0, 2 * MIB, 5 * MIB, MIB},		     /* larger than its extent */
		{"f", 0, (1ull << 60) + 1, MIB, (1ull << 60) + MIB}, /* larger than csvfs allows */
		{"f", 0, MIB, 9223372036853727232ull, MIB},	     /* ends beyond a loop device */
		{"f", 4096, MIB, 5 * MIB, MIB},			     /* index out of range */
	};
	struct cd_state s;
	char f[256], f2[256], change[1024];
	size_t i;
	int k;

	fixture_full_state(&s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(change, sizeof(change),
			 "{\"op\":\"volume.done\",\"name\":\"vol1\",\"id\":0,\"rc\":0,"
			 "\"meta_generation\":3,\"files\":[%s]}",
			 vfile(f, sizeof(f), bad[i].name, bad[i].index, bad[i].size, bad[i].offset,
			       bad[i].alloc));
		refused(&s, change);
	}
	/* Two files over the same units, the same name or the same index. */
	vfile(f, sizeof(f), "a", 0, MIB, 5 * MIB, 2 * MIB);
	vfile(f2, sizeof(f2), "b", 1, MIB, 6 * MIB, MIB);
	snprintf(change, sizeof(change),
		 "{\"op\":\"volume.done\",\"name\":\"vol1\",\"id\":0,\"rc\":0,"
		 "\"meta_generation\":3,\"files\":[%s,%s]}",
		 f, f2);
	refused(&s, change);
	vfile(f2, sizeof(f2), "a", 1, MIB, 7 * MIB, MIB);
	snprintf(change, sizeof(change),
		 "{\"op\":\"volume.done\",\"name\":\"vol1\",\"id\":0,\"rc\":0,"
		 "\"meta_generation\":3,\"files\":[%s,%s]}",
		 f, f2);
	refused(&s, change);
	vfile(f2, sizeof(f2), "b", 0, MIB, 7 * MIB, MIB);
	snprintf(change, sizeof(change),
		 "{\"op\":\"volume.done\",\"name\":\"vol1\",\"id\":0,\"rc\":0,"
		 "\"meta_generation\":3,\"files\":[%s,%s]}",
		 f, f2);
	refused(&s, change);
	/* Requests: sizes in range, a node id that fits. */
	refused(&s, "{\"op\":\"volume.request\",\"name\":\"vol1\",\"id\":8,\"node\":1,"
		    "\"fop\":\"create\",\"file\":\"f\",\"size\":0}");
	refused(&s, "{\"op\":\"volume.request\",\"name\":\"vol1\",\"id\":8,\"node\":1,"
		    "\"fop\":\"resize\",\"file\":\"f\",\"size\":1152921504606846977}");
	refused(&s, "{\"op\":\"volume.request\",\"name\":\"vol1\",\"id\":8,\"node\":4294967297,"
		    "\"fop\":\"create\",\"file\":\"f\",\"size\":1}");
	refused(&s, "{\"op\":\"volume.request\",\"name\":\"vol1\",\"id\":0,\"node\":1,"
		    "\"fop\":\"create\",\"file\":\"f\",\"size\":1}");
	refused(&s, "{\"op\":\"volume.done\",\"name\":\"vol1\",\"id\":0,\"rc\":4294967296,"
		    "\"meta_generation\":3,\"files\":[]}");
	/* More files than a volume holds: refused before anything is read. */
	{
		struct json_object *c = json_object_new_object(), *a = json_object_new_array();
		char *before = fixture_text(&s), *after;

		for (k = 0; k < (int)CD_VOL_MAX_FILES + 1; k++)
			json_object_array_add(a, json_object_new_object());
		json_object_object_add(c, "op", json_object_new_string("volume.done"));
		json_object_object_add(c, "name", json_object_new_string("vol1"));
		json_object_object_add(c, "id", json_object_new_int(0));
		json_object_object_add(c, "rc", json_object_new_int(0));
		json_object_object_add(c, "meta_generation", json_object_new_int(3));
		json_object_object_add(c, "files", a);
		ck_assert_int_eq(cd_state_apply(&s, c, err, sizeof(err)), CD_ERR_INVALID);
		ck_assert_ptr_nonnull(strstr(err, "at most"));
		after = fixture_text(&s);
		ck_assert_str_eq(before, after);
		free(before);
		free(after);
		json_object_put(c);
	}
	/* Adjacent extents, the largest file csvfs allows, the last unit a loop device reaches. */
	vfile(f, sizeof(f), "a", 0, 1, 5 * MIB, MIB);
	vfile(f2, sizeof(f2), "b", 4095, 1ull << 60, 6 * MIB, 1ull << 60);
	snprintf(change, sizeof(change),
		 "{\"op\":\"volume.done\",\"name\":\"vol1\",\"id\":0,\"rc\":0,"
		 "\"meta_generation\":3,\"files\":[%s,%s,%s]}",
		 f, f2,
		 "{\"name\":\"c\",\"index\":7,\"size\":1048576,\"offset\":9223372036852678656,"
		 "\"alloc\":1048576,\"generation\":1}");
	ck_assert_int_eq(apply(&s, change), 0);
	ck_assert_uint_eq(s.volumes[0].n_files, 3);
	cd_state_free(&s);
}
END_TEST

/* Counts and sizes the changes enforce. */
START_TEST(test_counts_in_changes)
{
	struct cd_state s;
	char change[512];
	int i;

	cd_state_init(&s);
	for (i = 0; i < CD_MAX_PROPS; i++)
		ck_assert_int_eq(
			applyf(&s, "{\"op\":\"property.set\",\"key\":\"p%03d\",\"value\":\"v\"}",
			       i),
			0);
	refused(&s, "{\"op\":\"property.set\",\"key\":\"one-more\",\"value\":\"v\"}");
	/* Changing one that exists is still fine. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"property.set\",\"key\":\"p000\",\"value\":\"w\"}"),
			 0);
	for (i = 0; i < CD_MAX_FENCEDEVS; i++)
		ck_assert_int_eq(applyf(&s,
					"{\"op\":\"fence.add\",\"name\":\"f%02d\",\"agent\":"
					"\"fence_lab\"}",
					i),
				 0);
	refused(&s, "{\"op\":\"fence.add\",\"name\":\"one-more\",\"agent\":\"fence_lab\"}");
	for (i = 0; i < CD_MAX_VOLUMES; i++)
		ck_assert_int_eq(applyf(&s,
					"{\"op\":\"volume.add\",\"name\":\"v%02d\",\"device\":"
					"\"/dev/loop%d\",\"uuid\":\"u%d\",\"hosts\":8,"
					"\"expiry_ms\":10000,\"renewal_ms\":1250}",
					i, i, i),
				 0);
	refused(&s, "{\"op\":\"volume.add\",\"name\":\"one-more\",\"device\":\"/dev/sdz\","
		    "\"uuid\":\"uz\",\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}");
	for (i = 0; i < CD_MAX_VMS; i++) {
		snprintf(change, sizeof(change),
			 "{\"op\":\"vm.add\",\"name\":\"vm%05d\",\"vcpus\":1,\"memory_mb\":64,"
			 "\"xml\":\"<domain><uuid>00000000-0000-4000-8000-%012d</uuid><devices>"
			 "<interface type='network'><mac address='52:54:00:00:%02x:%02x'/>"
			 "</interface></devices></domain>\"}",
			 i, i, i >> 8, i & 0xff);
		ck_assert_msg(apply(&s, change) == 0, "%s: %s", change, err);
	}
	refused(&s, "{\"op\":\"vm.add\",\"name\":\"one-more\",\"vcpus\":1,\"memory_mb\":64,"
		    "\"xml\":\"<domain><uuid>00000000-0000-4000-8000-999999999999</uuid>"
		    "</domain>\"}");
	refused(&s, "{\"op\":\"vm.add\",\"name\":\"one-more\",\"vcpus\":4097,\"memory_mb\":64,"
		    "\"xml\":\"<domain/>\"}");
	cd_state_free(&s);
}
END_TEST

/* The VMs' XML together stays within CD_STATE_XML_MAX. */
START_TEST(test_xml_total_in_changes)
{
	struct cd_state s;
	struct json_object *c;
	size_t pad = CD_VM_XML_MAX - 200;
	char *xml = malloc(CD_VM_XML_MAX + 1), name[16];
	int i, n = CD_STATE_XML_MAX / CD_VM_XML_MAX, rc;

	cd_state_init(&s);
	for (i = 0; i <= n; i++) {
		int k = snprintf(xml, 200, "<domain><uuid>00000000-0000-4000-8000-%012d</uuid><!--",
				 i);

		memset(xml + k, 'x', pad - (size_t)k);
		strcpy(xml + pad, "--></domain>");
		snprintf(name, sizeof(name), "vm%03d", i);
		c = json_object_new_object();
		json_object_object_add(c, "op", json_object_new_string("vm.add"));
		json_object_object_add(c, "name", json_object_new_string(name));
		json_object_object_add(c, "vcpus", json_object_new_int(1));
		json_object_object_add(c, "memory_mb", json_object_new_int(64));
		json_object_object_add(c, "xml", json_object_new_string(xml));
		rc = cd_state_apply(&s, c, err, sizeof(err));
		json_object_put(c);
		if (i < n)
			ck_assert_msg(rc == 0, "VM %d: %s", i, err);
		else
			ck_assert_int_eq(rc, CD_ERR_INVALID);
	}
	ck_assert_uint_eq(s.n_vms, (size_t)n);
	ck_assert_uint_le(cd_vm_xml_total(&s, NULL), CD_STATE_XML_MAX);
	/* A control character is no XML. */
	refused(&s, "{\"op\":\"vm.add\",\"name\":\"ctl\",\"vcpus\":1,\"memory_mb\":64,"
		    "\"xml\":\"<domain>\\u0001</domain>\"}");
	free(xml);
	cd_state_free(&s);
}
END_TEST

static char *replace_first(const char *base, const char *from, const char *to)
{
	const char *p = strstr(base, from);
	char *out;

	ck_assert_msg(p != NULL, "'%s' is not in the state", from);
	out = malloc(strlen(base) - strlen(from) + strlen(to) + 1);
	memcpy(out, base, (size_t)(p - base));
	strcpy(out + (p - base), to);
	strcat(out, p + strlen(from));
	return out;
}

/* from_json refuses o as a whole and leaves s empty. */
static void snapshot_refused(const struct json_object *o, const char *what)
{
	struct cd_state s;
	int rc;

	err[0] = '\0';
	rc = cd_state_from_json(&s, o, err, sizeof(err));
	ck_assert_msg(rc == CD_ERR_CORRUPT, "%s: got %d (%s)", what, rc, err);
	ck_assert_msg(err[0] != '\0', "%s: no reason", what);
	ck_assert(s.n_nodes == 0 && s.n_vms == 0 && s.n_volumes == 0 && s.n_props == 0 &&
		  s.n_fencedevs == 0);
}

START_TEST(test_snapshot_checked_as_a_whole)
{
	static const char *const mutations[][2] = {
		{"\"name\":\"vol1\"", "\"name\":\"../x\""},
		{"\"name\":\"vol1\"", "\"name\":\"..\""},
		{"\"name\":\"vol1\"", "\"name\":\".vol1\""},
		{"\"device\":\"\\/dev\\/loop3\"", "\"device\":\"dev/loop3\""},
		{"\"device\":\"\\/dev\\/loop3\"", "\"device\":\"/dev/../etc/passwd\""},
		{"\"hosts\":8", "\"hosts\":0"},
		{"\"hosts\":8", "\"hosts\":65"},
		{"\"renewal_ms\":1250", "\"renewal_ms\":10001"},
		{"\"name\":\"disk0\"", "\"name\":\"../disk0\""},
		{"\"name\":\"disk0\"", "\"name\":\".\""},
		{"\"offset\":5242880", "\"offset\":5242881"},
		{"\"offset\":5242880", "\"offset\":0"},
		{"\"offset\":5242880", "\"offset\":6291456"},
		{"\"offset\":5242880", "\"offset\":9223372036853727232"},
		{"\"alloc\":1048576", "\"alloc\":1048575"},
		{"\"size\":1048576", "\"size\":0"},
		{"\"size\":1048576", "\"size\":2097152"},
		{"\"index\":1", "\"index\":0"},
		{"\"index\":1", "\"index\":4096"},
		{"\"file\":\"disk1\"", "\"file\":\"../x\""},
		{"\"size\":16777216", "\"size\":0"},
		{"\"size\":16777216", "\"size\":1152921504606846977"},
		{"\"error\":\"bad\"",
		 "\"error\":\"0123456789012345678901234567890123456789012345678901"
		 "234567890123456789012345678901234567890123456789012345678901"
		 "2345678901234567\""},
		{"\"name\":\"web\"", "\"name\":\"a/b\""},
		{"\"vcpus\":1", "\"vcpus\":0"},
		{"\"vcpus\":1", "\"vcpus\":4097"},
		{"<domain>", "<domain>\\u0001"},
		{"\"preferred_owners\":[\"node1\"]", "\"preferred_owners\":[\"node 1\"]"},
		{"\"preferred_owners\":[\"node1\"]", "\"preferred_owners\":[\"node1\",\"node1\"]"},
		{"\"possible_owners\":[]", "\"possible_owners\":[\"node2\"]"},
		{"\"failback\":\"never\"", "\"failback\":\"06:00-06:00\""},
		{"\"target\":\"stopped\"", "\"target\":\"bogus\""},
		{"\"uuid\":\"6f1d7c2e", "\"uuid\":\"6f1d7c2e/"},
		{"\"failover-grace-ms\":\"20000\"", "\"failover-grace-ms\":\"5s\""},
		{"\"k\":\"v\"", "\"bad key\":\"v\""},
		{"\"agent\":\"fence_lab\"", "\"agent\":\"../../bin/sh\""},
		{"\"agent\":\"fence_lab\"", "\"agent\":\"/usr/../bin/sh\""},
		{"\"dead_how\":\"\"", "\"dead_how\":\"0123456789abcdefg\""},
		{"\"rejoins\":[0,0,0]", "\"rejoins\":[\"x\",0,0]"},
		{"\"rejoins\":[0,0,0]", "\"rejoins\":[0,0,0,0]"},
		{"\"left_ms\":0", "\"left_ms\":\"soon\""},
	};
	struct cd_state s, cur, back;
	struct json_object *o, *a;
	char *base, *cur_text, *t;
	size_t i;
	int k;

	fixture_full_state(&s);
	base = fixture_text(&s);
	/* The state itself passes, and comes back the same. */
	o = json_tokener_parse(base);
	ck_assert_msg(cd_state_from_json(&back, o, err, sizeof(err)) == 0, "%s", err);
	json_object_put(o);
	t = fixture_text(&back);
	ck_assert_str_eq(t, base);
	free(t);
	cd_state_free(&back);

	/* What the holder of a state does with a refused snapshot: keeps its state. */
	fixture_full_state(&cur);
	ck_assert_int_eq(apply(&cur, "{\"op\":\"property.set\",\"key\":\"mine\",\"value\":\"1\"}"),
			 0);
	cur_text = fixture_text(&cur);
	for (i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		char *bad = replace_first(base, mutations[i][0], mutations[i][1]);

		o = json_tokener_parse(bad);
		ck_assert_msg(o != NULL, "bad test JSON for %s", mutations[i][1]);
		if (cd_state_from_json(&back, o, err, sizeof(err)) == 0) {
			cd_state_free(&cur);
			cur = back;
		}
		snapshot_refused(o, mutations[i][1]);
		json_object_put(o);
		free(bad);
	}
	t = fixture_text(&cur);
	ck_assert_str_eq(t, cur_text);
	free(t);
	free(cur_text);
	cd_state_free(&cur);

	/* The same volume twice. */
	o = json_tokener_parse(base);
	json_object_object_get_ex(o, "volumes", &a);
	json_object_array_add(a, json_object_get(json_object_array_get_idx(a, 0)));
	snapshot_refused(o, "a volume twice");
	json_object_put(o);

	/* More of anything than the changes would ever make. */
	{
		static const char *const lists[] = {"nodes", "vms", "volumes", "fence_devices"};
		static const int limits[] = {CD_MAX_NODES, CD_MAX_VMS, CD_MAX_VOLUMES,
					     CD_MAX_FENCEDEVS};

		for (i = 0; i < 4; i++) {
			o = json_tokener_parse(base);
			a = json_object_new_array();
			for (k = 0; k <= limits[i]; k++)
				json_object_array_add(a, json_object_new_object());
			json_object_object_add(o, lists[i], a);
			snapshot_refused(o, lists[i]);
			ck_assert_msg(strstr(err, "at most") != NULL, "%s: %s", lists[i], err);
			json_object_put(o);
		}
		o = json_tokener_parse(base);
		a = json_object_new_object();
		for (k = 0; k <= CD_MAX_PROPS; k++) {
			char key[16];

			snprintf(key, sizeof(key), "p%d", k);
			json_object_object_add(a, key, json_object_new_string("v"));
		}
		json_object_object_add(o, "properties", a);
		snapshot_refused(o, "properties");
		json_object_put(o);
	}
	free(base);
	cd_state_free(&s);
}
END_TEST

/* A snapshot whose VMs' XML exceeds CD_STATE_XML_MAX together. */
START_TEST(test_snapshot_xml_total)
{
	struct cd_state s;
	struct json_object *o, *vms, *web;
	char *xml = malloc(CD_VM_XML_MAX + 1);
	int i, n = CD_STATE_XML_MAX / CD_VM_XML_MAX + 1;

	memset(xml, 0, CD_VM_XML_MAX + 1);
	strcpy(xml, "<domain><!--");
	memset(xml + 12, 'x', CD_VM_XML_MAX - 12 - 13);
	strcat(xml, "--></domain>");
	fixture_full_state(&s);
	o = cd_state_to_json(&s);
	json_object_object_get_ex(o, "vms", &vms);
	web = json_object_array_get_idx(vms, 0);
	for (i = 0; i < n; i++) {
		struct json_object *v = NULL;
		char name[16];

		ck_assert_int_eq(json_object_deep_copy(web, &v, NULL), 0);
		snprintf(name, sizeof(name), "x%03d", i);
		json_object_object_add(v, "name", json_object_new_string(name));
		json_object_object_add(v, "uuid", json_object_new_string(""));
		json_object_object_add(v, "xml", json_object_new_string(xml));
		json_object_array_add(vms, v);
	}
	snapshot_refused(o, "XML total");
	ck_assert_ptr_nonnull(strstr(err, "MiB"));
	json_object_put(o);
	free(xml);
	cd_state_free(&s);
}
END_TEST

/* A joiner beyond CD_MAX_NODES is not recorded, so the state still loads. */
START_TEST(test_node_limit_in_sync)
{
	struct cd_node_info m[CD_MAX_NODES + 1];
	struct cd_state s, back;
	struct json_object *o;
	int i;

	memset(m, 0, sizeof(m));
	for (i = 0; i <= CD_MAX_NODES; i++) {
		m[i].id = (uint32_t)i + 1;
		snprintf(m[i].name, sizeof(m[i].name), "node%d", i + 1);
	}
	cd_state_init(&s);
	cd_state_sync_finish(&s, m, CD_MAX_NODES + 1, 1, 0);
	ck_assert_uint_eq(s.n_nodes, CD_MAX_NODES);
	ck_assert_ptr_null(cd_state_node_by_id(&s, CD_MAX_NODES + 1));
	o = cd_state_to_json(&s);
	ck_assert_msg(cd_state_from_json(&back, o, err, sizeof(err)) == 0, "%s", err);
	json_object_put(o);
	cd_state_free(&back);
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("validate");

	add_tcase(s, test_name_and_path_rules);
	add_tcase(s, test_path_names_in_changes);
	add_tcase(s, test_file_extents_in_changes);
	add_long_tcase(s, test_counts_in_changes);
	add_long_tcase(s, test_xml_total_in_changes);
	add_tcase(s, test_snapshot_checked_as_a_whole);
	add_tcase(s, test_snapshot_xml_total);
	add_tcase(s, test_node_limit_in_sync);
	return run_suite(s);
}
