/*
 * The local IPC between clusterd and its clients (clusterctl and anything
 * linking libclusterd-client).
 *
 * Transport: a libqb IPC service named CD_IPC_NAME (override with the
 * environment variable CLUSTERD_IPC_NAME). Only root and the admin group
 * may connect.
 *
 * Every request is a struct qb_ipc_request_header with id CD_IPC_REQUEST,
 * followed by a NUL-terminated JSON object:
 *     {"v": 1, "cmd": "property.set", "args": {...}}
 * Every response is a struct qb_ipc_response_header with id CD_IPC_RESPONSE
 * and error set to the result code (0 or a negative enum cd_result / -errno),
 * followed by a NUL-terminated JSON object: the command's result, or on
 * failure {"error": "one line for a person"}.
 */
#ifndef CLUSTERD_IPC_H
#define CLUSTERD_IPC_H

#define CD_IPC_NAME "clusterd"
#define CD_IPC_VERSION 1
#define CD_IPC_MAX_MSG (8 * 1024 * 1024)
/*
 * A connection's messages are at most the size its client asked for, up
 * to CD_IPC_MAX_MSG. clusterd sets up three rings of that size for every
 * connection, on its loop (some 36 ms at 8 MiB, measured), so a
 * client whose answers are small asks for CD_IPC_SMALL_MSG: enough for a
 * VM's largest XML.
 */
#define CD_IPC_SMALL_MSG (1024 * 1024)

enum cd_ipc_msg_id {
	CD_IPC_REQUEST = 1,
	CD_IPC_RESPONSE = 2,
};

#endif
