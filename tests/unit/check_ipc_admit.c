#include "config.h"

#include <errno.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/ipc_admit.h"

static const struct cd_ipc_standing ready = {
	.joined = true, .phase = CD_SYNC_DONE, .quorate = true, .admin = true};

START_TEST(test_reads_run_whatever_the_standing)
{
	struct cd_ipc_standing st = {.joined = false, .phase = CD_SYNC_IDLE};

	ck_assert_int_eq(cd_ipc_admit(0, &st), 0);
	st.joined = true;
	st.phase = CD_SYNC_COLLECT;
	ck_assert_int_eq(cd_ipc_admit(0, &st), 0);
	ck_assert_int_eq(cd_ipc_admit(0, &ready), 0);
}
END_TEST

/* The codes, in the order, that cd_replica_submit() refuses a change with. */
START_TEST(test_changes_need_a_synchronised_quorate_node)
{
	struct cd_ipc_standing st = ready;

	ck_assert_int_eq(cd_ipc_admit(CD_IPC_SUBMITS, &st), 0);
	st.quorate = false;
	ck_assert_int_eq(cd_ipc_admit(CD_IPC_SUBMITS, &st), CD_ERR_NOT_QUORATE);
	ck_assert_int_eq(cd_ipc_admit(CD_IPC_QUORUM, &st), CD_ERR_NOT_QUORATE);
	st.phase = CD_SYNC_COLLECT;
	ck_assert_int_eq(cd_ipc_admit(CD_IPC_SUBMITS, &st), CD_ERR_SYNCING);
	st.phase = CD_SYNC_WAIT_SNAPSHOT;
	ck_assert_int_eq(cd_ipc_admit(CD_IPC_SUBMITS, &st), CD_ERR_SYNCING);
	st.phase = CD_SYNC_LEFT_OUT;
	ck_assert_int_eq(cd_ipc_admit(CD_IPC_SUBMITS, &st), CD_ERR_SYNCING);
	st.phase = CD_SYNC_IDLE;
	ck_assert_int_eq(cd_ipc_admit(CD_IPC_SUBMITS, &st), CD_ERR_NOT_JOINED);
	st = ready;
	st.joined = false;
	ck_assert_int_eq(cd_ipc_admit(CD_IPC_SUBMITS, &st), CD_ERR_NOT_JOINED);
	/* Without quorum the text is the one clients and the lab tests know. */
	ck_assert_str_eq(cd_strerror(CD_ERR_NOT_QUORATE), "this node's partition has no quorum");
}
END_TEST

START_TEST(test_admin_commands_need_an_admin)
{
	struct cd_ipc_standing st = ready;

	st.admin = false;
	ck_assert_int_eq(cd_ipc_admit(CD_IPC_ADMIN, &st), -EACCES);
	ck_assert_int_eq(cd_ipc_admit(CD_IPC_SUBMITS, &st), -EACCES);
	ck_assert_int_eq(cd_ipc_admit(0, &st), 0);
	/* A node-local admin command (volume.lease, fence.test) needs no quorum. */
	st = ready;
	st.quorate = false;
	ck_assert_int_eq(cd_ipc_admit(CD_IPC_ADMIN, &st), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ipc_admit");

	add_tcase(s, test_reads_run_whatever_the_standing);
	add_tcase(s, test_changes_need_a_synchronised_quorate_node);
	add_tcase(s, test_admin_commands_need_an_admin);
	return run_suite(s);
}
