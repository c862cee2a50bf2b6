/*
 * A generated libvirt domain XML of the size and shape of a production VM,
 * for the state benchmark: about 5 KB, the way `virsh dumpxml` prints a q35
 * guest (a disk on a cluster shared volume, a CD-ROM, two NICs, a serial
 * console, a guest agent channel, VNC graphics, PCIe root ports). Each VM
 * gets its own name, UUID and MACs, so the state's identity checks accept it.
 */
#ifndef BENCH_SCALE_DOMXML_H
#define BENCH_SCALE_DOMXML_H

#include <stddef.h>

/*
 * Write VM number i's XML into buf (len bytes: 8 KiB is ample). vcpus and
 * memory_mb go into the XML as the state records them. Returns the XML's
 * length, or 0 if it did not fit.
 */
size_t bench_domxml(char *buf, size_t len, const char *name, unsigned i, unsigned vcpus,
		    unsigned memory_mb);

#endif
