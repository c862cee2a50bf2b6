/*
 * A call from one member to another over CPG: the pure parts. Some work
 * can be done only on one node (its libvirt has a domain, its clusterd
 * takes a disk lease there); a client may ask any member for it. The
 * member it asks sends a node call (CD_MSG_NODE_CALL) naming the node
 * that does the work, a method and its arguments; that node answers with
 * a node reply (CD_MSG_NODE_REPLY): a result code and a JSON body, which
 * the asking member gives its client as if it had done the work itself.
 *
 * A call's token is cd_msg_token(caller, call id) (core/msg.h), the
 * messages' round field, as a debug dump's: a reply names the call it answers, and
 * a node ignores calls and replies that are not addressed to it.
 */
#ifndef CD_NODECALL_H
#define CD_NODECALL_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* The longest method name. */
#define CD_NODECALL_METHOD_MAX 63

/* A delivered call. method points into the body it was parsed from. */
struct cd_nodecall {
	uint32_t id;
	uint32_t to; /* the node that does the work */
	const char *method;
	struct json_object *args; /* borrowed from the body; never NULL after a parse */
};

/* The call's body: a new object, {"call": id, "to": to, "method": m, "args": args}. args is
 * borrowed (a reference is taken); NULL stands for {}. */
struct json_object *cd_nodecall_build(uint32_t id, uint32_t to, const char *method,
				      struct json_object *args);

/*
 * Check a delivered call: its fields, and that its token (round) names its
 * sender as the caller and its id. Returns 0 with *c filled, or
 * CD_ERR_PROTOCOL with err set.
 */
int cd_nodecall_parse(struct json_object *body, uint64_t token, uint32_t sender,
		      struct cd_nodecall *c, char *err, size_t errlen);

/* A delivered reply. */
struct cd_nodereply {
	uint32_t id;
	uint32_t to;		  /* the caller */
	int rc;			  /* 0, -errno or a CD_ERR_* code */
	struct json_object *body; /* borrowed from the message; never NULL after a parse */
};

/* The reply's body: a new object, {"call": id, "to": caller, "rc": rc, "body": body}; body is
 * borrowed (a reference is taken), NULL stands for {}. */
struct json_object *cd_nodereply_build(uint32_t id, uint32_t caller, int rc,
				       struct json_object *body);

/*
 * Check a delivered reply: its fields, and that its token names the caller
 * it is addressed to and its id. rc must be 0, a -errno or a CD_ERR_* code.
 * Returns 0 with *r filled, or CD_ERR_PROTOCOL with err set.
 */
int cd_nodereply_parse(struct json_object *body, uint64_t token, struct cd_nodereply *r, char *err,
		       size_t errlen);

#endif
