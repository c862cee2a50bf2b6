/*
 * A VM's identity in its domain XML: the domain UUID and the MAC address
 * of every interface. libvirt invents both when the XML lacks them, anew on
 * every define or start, so the same XML started on two hosts would be two
 * machines to the guest (new SMBIOS UUID, new NICs) and to the network (a
 * MAC no switch or ARP cache knows). The cluster fixes them once, when a VM
 * is added, and every node starts the VM with exactly these values.
 *
 * Pure apart from cd_vm_mac_random(): libxml2 only, no libvirt.
 */
#ifndef CD_VMIDENT_H
#define CD_VMIDENT_H

#include <stdbool.h>
#include <stddef.h>

/* Interfaces a VM may have (libvirt allows more; no guest here needs them). */
#define CD_VM_NICS_MAX 32
#define CD_MAC_LEN 17 /* "52:54:00:12:34:56" */

struct cd_vm_ident {
	char uuid[37];				   /* lower case; "" if the XML has none */
	size_t n_nics;				   /* <interface> elements, in order */
	char macs[CD_VM_NICS_MAX][CD_MAC_LEN + 1]; /* lower case; "" if none */
};

/*
 * Read the identity of xml (a <domain>). Returns 0, or CD_ERR_INVALID with
 * err set: the XML does not parse, a UUID or MAC is malformed, or there are
 * more than CD_VM_NICS_MAX interfaces.
 */
int cd_vm_ident_read(const char *xml, struct cd_vm_ident *id, char *err, size_t errlen);

/* Whether id has a UUID and a MAC for every interface. */
bool cd_vm_ident_complete(const struct cd_vm_ident *id);

/*
 * Write into xml what it lacks of want: the UUID (after <name>) when it has
 * none, and the MAC of interface i when interface i has none. What xml
 * already has is kept; want must have as many interfaces. Returns 0 with
 * *out a new string (caller frees with free()), or CD_ERR_INVALID with err
 * set (nothing allocated).
 */
int cd_vm_ident_fill(const char *xml, const struct cd_vm_ident *want, char **out, char *err,
		     size_t errlen);

/* Whether s is a MAC address "xx:xx:xx:xx:xx:xx" (hex, any case). */
bool cd_mac_valid(const char *s);

/*
 * A random MAC in libvirt's own range 52:54:00:xx:xx:xx (locally
 * administered, unicast), lower case. Returns 0 or -errno.
 */
int cd_vm_mac_random(char out[CD_MAC_LEN + 1]);

/* A new random UUID (version 4), lower case. 0 or -errno. */
int cd_vm_uuid_random(char out[37]);

/*
 * Complete id: a MAC for each interface that has none, drawn at random
 * until taken(mac, ctx) says no and it is not another interface's of id.
 * Returns 0, or CD_ERR_EXISTS if no free MAC was found after many draws.
 */
int cd_vm_ident_new_macs(struct cd_vm_ident *id, bool (*taken)(const char *mac, void *ctx),
			 void *ctx);

#endif
