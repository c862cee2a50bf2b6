#include "config.h"

#include "core/quorumview.h"

bool cd_quorum_current(const struct cd_quorum_view *v)
{
	return v->known && v->report_ring.nodeid == v->ring.nodeid &&
	       v->report_ring.seq == v->ring.seq;
}

bool cd_quorum_settled(const struct cd_quorum_view *v)
{
	return cd_quorum_current(v) || v->waited;
}

bool cd_quorum_quorate(const struct cd_quorum_view *v)
{
	return v->joined && cd_quorum_current(v) && v->quorate;
}
