/*
 * A page of a state's VMs (core/vmpage.h): name order, where a page
 * starts and ends, and that following "next" visits every VM once.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/state.h"
#include "core/vmpage.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Initialise s with VMs named names (n of them, any order), kept in name
 * order as the state keeps them. Caller frees with cd_state_free().
 */
static void state_of(struct cd_state *s, const char **names, size_t n)
{
	const char **sorted = malloc(n * sizeof(*sorted));
	size_t i;

	ck_assert_ptr_nonnull(sorted);
	memcpy(sorted, names, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), by_name);
	cd_state_init(s);
	s->vms = calloc(n ? n : 1, sizeof(*s->vms));
	ck_assert_ptr_nonnull(s->vms);
	for (i = 0; i < n; i++) {
		s->vms[i] = calloc(1, sizeof(*s->vms[i]));
		ck_assert_ptr_nonnull(s->vms[i]);
		snprintf(s->vms[i]->name, sizeof(s->vms[i]->name), "%s", sorted[i]);
	}
	s->n_vms = n;
	free(sorted);
}

/* VMs vm00000 .. vm(n-1) in s. */
static void state_numbered(struct cd_state *s, size_t n)
{
	const char **names = malloc(n * sizeof(*names));
	char *buf = malloc(n * 8);
	size_t i;

	ck_assert(names && buf);
	for (i = 0; i < n; i++) {
		snprintf(buf + i * 8, 8, "vm%05zu", i);
		names[i] = buf + i * 8;
	}
	state_of(s, names, n);
	free(names);
	free(buf);
}

/*
 * Walk s page by page, limit at a time: every VM once, in order, each page
 * at most expect_page long. Returns the number of pages.
 */
static size_t walk(const struct cd_state *s, size_t limit, size_t expect_page)
{
	char after[64] = "";
	struct cd_vm *const *page;
	const char *next;
	size_t seen = 0, pages = 0, n, i;

	for (;;) {
		cd_vm_page(s, after, limit, &page, &n, &next);
		pages++;
		ck_assert_uint_le(n, expect_page);
		for (i = 0; i < n; i++, seen++)
			ck_assert_ptr_eq(page[i], s->vms[seen]);
		if (!next)
			break;
		ck_assert_uint_eq(n, expect_page);
		ck_assert_str_eq(next, page[n - 1]->name);
		snprintf(after, sizeof(after), "%s", next);
	}
	ck_assert_uint_eq(seen, s->n_vms);
	return pages;
}

/*
 * The page of s after after, limit long, is the VMs names (space-separated,
 * "" for none) and its next is next (NULL: none).
 */
static void page_is(const struct cd_state *s, const char *after, size_t limit, const char *names,
		    const char *next)
{
	struct cd_vm *const *page;
	const char *got_next;
	char got[512] = "";
	size_t n, i;

	cd_vm_page(s, after, limit, &page, &n, &got_next);
	for (i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
			 page[i]->name);
	ck_assert_msg(strcmp(got, names) == 0, "after '%s': '%s', not '%s'", after ? after : "",
		      got, names);
	if (next)
		ck_assert_str_eq(got_next, next);
	else
		ck_assert_ptr_null(got_next);
}

START_TEST(test_empty_state)
{
	static struct cd_vm unset, *const unset_p = &unset;
	struct cd_state s;
	struct cd_vm *const *page = &unset_p;
	const char *next = "x";
	size_t n = 9;

	cd_state_init(&s);
	cd_vm_page(&s, NULL, 0, &page, &n, &next);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(page);
	ck_assert_ptr_null(next);
	page_is(&s, "web", 5, "", NULL);
	cd_state_free(&s);
}
END_TEST

/* strcmp order: capitals before small letters, "a-1" before "a1" before "b". */
START_TEST(test_name_order)
{
	const char *names[] = {"b", "a1", "Zeta", "a-1", "a", "web10", "web9"};
	struct cd_state s;

	state_of(&s, names, 7);
	page_is(&s, NULL, 0, "Zeta a a-1 a1 b web10 web9", NULL);
	/* "" is from the first, as NULL is. */
	page_is(&s, "", 3, "Zeta a a-1", "a-1");
	page_is(&s, "a-1", 3, "a1 b web10", "web10");
	cd_state_free(&s);
}
END_TEST

/*
 * Where a page starts: after the last (nothing), before the first, and
 * after a name that is no VM's (one removed between two pages): on from
 * where it would sort.
 */
START_TEST(test_where_a_page_starts)
{
	static const struct {
		const char *after;
		size_t limit;
		const char *names, *next;
	} cases[] = {
		{"web", 10, "", NULL},	       {"zzz", 10, "", NULL},	{"db", 10, "web", NULL},
		{"db", 1, "web", NULL},	       {"A", 1, "app", "app"},	{"ap", 2, "app db", "db"},
		{"cache", 10, "db web", NULL}, {"dba", 1, "web", NULL}, {"app", 1, "db", "db"},
	};
	const char *names[] = {"db", "web", "app"};
	struct cd_state s;
	size_t i;

	state_of(&s, names, 3);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		page_is(&s, cases[i].after, cases[i].limit, cases[i].names, cases[i].next);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_limit_one_walk)
{
	struct cd_state s;

	state_numbered(&s, 37);
	ck_assert_uint_eq(walk(&s, 1, 1), 37);
	cd_state_free(&s);
}
END_TEST

/* 0 is the default; more than the most is the most; a page that ends exactly at the last. */
START_TEST(test_limit_bounds)
{
	struct cd_state s;
	struct cd_vm *const *page;
	const char *next;
	size_t n;

	state_numbered(&s, CD_VM_PAGE_MAX + 10);
	cd_vm_page(&s, NULL, 0, &page, &n, &next);
	ck_assert_uint_eq(n, CD_VM_PAGE_DEFAULT);
	ck_assert_str_eq(next, "vm00499");
	cd_vm_page(&s, NULL, CD_VM_PAGE_MAX * 10, &page, &n, &next);
	ck_assert_uint_eq(n, CD_VM_PAGE_MAX);
	ck_assert_str_eq(next, "vm01999");
	cd_vm_page(&s, "vm01999", CD_VM_PAGE_MAX, &page, &n, &next);
	ck_assert_uint_eq(n, 10);
	ck_assert_ptr_null(next);
	/* Exactly the VMs left: no next, though the page is full. */
	page_is(&s, "vm02006", 3, "vm02007 vm02008 vm02009", NULL);
	page_is(&s, "vm02006", 2, "vm02007 vm02008", "vm02008");
	cd_state_free(&s);
}
END_TEST

/* More VMs than a state may hold today: twenty default pages, none over the default. */
START_TEST(test_ten_thousand)
{
	struct cd_state s;

	state_numbered(&s, 10000);
	ck_assert_uint_eq(walk(&s, 0, CD_VM_PAGE_DEFAULT), 20);
	ck_assert_uint_eq(walk(&s, 3000, CD_VM_PAGE_MAX), 5);
	ck_assert_uint_eq(walk(&s, 7, 7), 1429);
	cd_state_free(&s);
}
END_TEST

/* The changes keep the VMs in name order, whatever order they were added in. */
START_TEST(test_added_out_of_order)
{
	static const char *names[] = {"web", "app", "db", "Mail", "cache"};
	struct cd_state s;
	char change[512], err[256];
	size_t i;

	fixture_three_nodes(&s);
	for (i = 0; i < 5; i++) {
		snprintf(change, sizeof(change),
			 "{\"op\":\"vm.add\",\"name\":\"%s\",\"vcpus\":1,\"memory_mb\":64,"
			 "\"xml\":\"<domain><name>%s</name>"
			 "<uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1%zu</uuid>"
			 "<devices><interface type='network'><mac address='52:54:00:aa:bb:0%zu'/>"
			 "</interface></devices></domain>\"}",
			 names[i], names[i], i, i);
		ck_assert_msg(fixture_apply(&s, change, err, sizeof(err)) == 0, "%s", err);
	}
	page_is(&s, "b", 2, "cache db", "db");
	page_is(&s, NULL, 0, "Mail app cache db web", NULL);
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmpage");

	add_tcase(s, test_empty_state);
	add_tcase(s, test_name_order);
	add_tcase(s, test_where_a_page_starts);
	add_tcase(s, test_limit_one_walk);
	add_tcase(s, test_limit_bounds);
	add_tcase(s, test_ten_thousand);
	add_tcase(s, test_added_out_of_order);
	return run_suite(s);
}
