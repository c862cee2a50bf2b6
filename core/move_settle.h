/*
 * How a live move is settled: from the real state of the VM's domain at
 * both ends (the node that settles it, "here", and the other end,
 * "there"), what that node does. Pure: the LRM (clusterd/lrm_move.c) looks
 * at the domains and carries the answer out.
 *
 * The rules: the VM runs where a domain runs unpaused. A domain paused by
 * libvirt at the source is resumed only once nothing of the VM is left at
 * the target (a paused copy there is powered off first). A copy found
 * running at both ends is cut down to the source, the cluster's record.
 * What cannot be told (the other end cannot be asked) is asked again, as is
 * a target found paused while the source is gone, a few times, before it is
 * powered off: libvirt may be about to resume it. The target of a move whose
 * source died keeps a copy that runs; a paused one's memory is incomplete.
 */
#ifndef CD_MOVE_SETTLE_H
#define CD_MOVE_SETTLE_H

#include <stdbool.h>

/* Looks at a target found paused, with the source gone, before it is cut down. */
#define CD_SETTLE_PAUSED_LOOKS 10

/* A domain at one end, as its libvirtd said. */
enum cd_settle_end {
	CD_END_GONE,	/* no such active domain */
	CD_END_RUNS,	/* active, vCPUs running */
	CD_END_PAUSED,	/* active, paused */
	CD_END_UNKNOWN, /* libvirtd could not be asked, or did not say */
};

/* What the settling node does. */
enum cd_settle_do {
	CD_SETTLE_STAYED,	    /* report it runs here, on the source */
	CD_SETTLE_OFF_THERE_STAYED, /* power the target's copy off, then STAYED */
	CD_SETTLE_RESUME,	    /* resume it here, then STAYED */
	CD_SETTLE_OFF_THERE_RESUME, /* power the target's copy off, then RESUME */
	CD_SETTLE_MOVED,	    /* give the leases up, report it runs on the target */
	CD_SETTLE_OFF_HERE_MOVED,   /* power the copy here off, then MOVED */
	CD_SETTLE_FAILED,	    /* give the leases up, report it runs nowhere */
	CD_SETTLE_OFF_THERE_FAILED, /* power the target's copy off, then FAILED */
	CD_SETTLE_OFF_HERE_FAILED,  /* power the copy here off, then FAILED */
	CD_SETTLE_KEPT,		    /* (orphaned) report it runs here, the target */
	CD_SETTLE_AGAIN,	    /* undecided: look again later */
};

struct cd_settle_in {
	bool orphan; /* here is the target of a move whose source died */
	enum cd_settle_end here;
	enum cd_settle_end there; /* GONE if the other end is known dead */
	int paused_looks;	  /* earlier looks that found: gone here, paused there */
};

/* What to do, and why in words (a static string) into *why if not NULL. */
enum cd_settle_do cd_settle_decide(const struct cd_settle_in *in, const char **why);

const char *cd_settle_end_to_str(enum cd_settle_end e);

#endif
