/*
 * clusterctl's lines of text built from clusterd's JSON replies: reading
 * a member with a default, and adding to a line in a fixed buffer. Pure:
 * shared by the words of vm move (move_progress.c) and node drain
 * (drain_progress.c).
 */
#ifndef CD_CLI_TEXT_H
#define CD_CLI_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/* The object member key of o, or NULL if absent, null or not an object (o may be NULL). */
struct json_object *text_member(struct json_object *o, const char *key);

/* The array member key of o, or NULL if absent, null or not an array (o may be NULL). */
struct json_object *text_array(struct json_object *o, const char *key);

/* The number member key of o into *out; false if absent or not a number. */
bool text_number(struct json_object *o, const char *key, double *out);

/* The string member key of o, or def if absent, null or empty. */
const char *text_or(struct json_object *o, const char *key, const char *def);

/* Adds to the line in buf (n bytes); what does not fit is cut. */
void text_append(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Cuts the line in buf at width characters (0: not cut). Returns buf. */
const char *text_cut(char *buf, size_t width);

/*
 * A VM's state to show, from its JSON (vm.list, vm.show): the state
 * recorded, or "unknown (node1 lost)" when clusterd says its node is lost
 * ("node_lost": core/lostnode.h), written into buf (n bytes). Returns the
 * text (buf, or a string of v).
 */
const char *text_vm_state(struct json_object *v, char *buf, size_t n);

#endif
