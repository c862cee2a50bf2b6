/* How a live move is settled (move_settle.h). */
#include "config.h"

#include "core/move_settle.h"
#include "lib/fsm.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const end_names[] = {
	[CD_END_GONE] = "gone",
	[CD_END_RUNS] = "running",
	[CD_END_PAUSED] = "paused",
	[CD_END_UNKNOWN] = "unknown",
};

const char *cd_settle_end_to_str(enum cd_settle_end e)
{
	return cd_fsm_name(end_names, N_OF(end_names), (int)e);
}

#define SAY(text)                                                                                  \
	do {                                                                                       \
		if (why)                                                                           \
			*why = (text);                                                             \
	} while (0)

static enum cd_settle_do orphan(const struct cd_settle_in *in, const char **why)
{
	switch (in->here) {
	case CD_END_RUNS:
		SAY("the source died after the switch-over: the copy here runs, it is kept");
		return CD_SETTLE_KEPT;
	case CD_END_PAUSED:
		SAY("the source died before the switch-over: the paused copy here is incomplete");
		return CD_SETTLE_OFF_HERE_FAILED;
	case CD_END_GONE:
		SAY("the source died and nothing runs here: it runs nowhere");
		return CD_SETTLE_FAILED;
	case CD_END_UNKNOWN:
		break;
	}
	SAY("the domain here cannot be looked at");
	return CD_SETTLE_AGAIN;
}

enum cd_settle_do cd_settle_decide(const struct cd_settle_in *in, const char **why)
{
	if (in->here == CD_END_UNKNOWN) {
		SAY("the domain here cannot be looked at");
		return CD_SETTLE_AGAIN;
	}
	if (in->orphan)
		return orphan(in, why);
	if (in->here == CD_END_RUNS && in->there == CD_END_RUNS) {
		SAY("it runs at both ends: the target's copy goes, the source is the record");
		return CD_SETTLE_OFF_THERE_STAYED;
	}
	if (in->here == CD_END_RUNS) {
		SAY("it runs here, on the source");
		return CD_SETTLE_STAYED;
	}
	if (in->there == CD_END_RUNS) {
		SAY("it runs on the target");
		return in->here == CD_END_PAUSED ? CD_SETTLE_OFF_HERE_MOVED : CD_SETTLE_MOVED;
	}
	if (in->there == CD_END_UNKNOWN) {
		SAY("the target cannot be asked, and it does not run here");
		return CD_SETTLE_AGAIN;
	}
	if (in->here == CD_END_PAUSED) {
		SAY("paused here and not running on the target: resumed here");
		return in->there == CD_END_PAUSED ? CD_SETTLE_OFF_THERE_RESUME : CD_SETTLE_RESUME;
	}
	if (in->there == CD_END_PAUSED && in->paused_looks + 1 < CD_SETTLE_PAUSED_LOOKS) {
		SAY("gone here, paused on the target: libvirt may yet resume it there");
		return CD_SETTLE_AGAIN;
	}
	if (in->there == CD_END_PAUSED) {
		SAY("gone here, and still paused on the target: it runs nowhere");
		return CD_SETTLE_OFF_THERE_FAILED;
	}
	SAY("gone at both ends: it runs nowhere");
	return CD_SETTLE_FAILED;
}
