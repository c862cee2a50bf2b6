/*
 * One VM against one node, and the node placement would choose for a VM
 * that leaves its own (fit.h). Only the set-up is written here: the rules
 * and the choice are rules.c's, the ones decide uses.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "policy/fit.h"
#include "policy/rules.h"

/*
 * The picture of in for VM vm: every VM that holds an alive node counts
 * against it, as in placement's first pass (policy.c, settle()), except vm
 * itself. Returns 0 or what cd_pctx_prepare() returns, with err set; the
 * caller frees c with cd_pctx_free() in any case.
 */
static int picture(struct cd_pctx *c, struct cd_policy_result *res,
		   const struct cd_policy_input *in, size_t vm, char *err, size_t errlen)
{
	size_t u;
	int rc;

	memset(c, 0, sizeof(*c));
	memset(res, 0, sizeof(*res));
	c->in = in;
	c->out = res;
	if (vm >= in->n_vms) {
		snprintf(err, errlen, "no VM number %zu", vm);
		return CD_ERR_INVALID;
	}
	rc = cd_pctx_prepare(c);
	if (rc) {
		snprintf(err, errlen, "%s", res->error[0] ? res->error : cd_strerror(rc));
		return rc;
	}
	for (u = 0; u < in->n_vms; u++) {
		int on = c->facts[u].on;

		if (u != vm && on >= 0 && cd_pnode_alive(c->slots[on].node->state))
			cd_pctx_occupy_held(c, u, on);
	}
	return 0;
}

static void fit_slot(struct cd_pctx *c, size_t vm, int s, struct cd_policy_fit *f)
{
	struct cd_policy_note note;

	memset(f, 0, sizeof(*f));
	f->fails = cd_pctx_fails(c, vm, s, &note);
	f->soft_clash = cd_pctx_soft_clash(c, vm, s);
	f->here = c->facts[vm].on == s;
	f->node = c->slots[s].node->id;
	f->idx = c->slots[s].idx;
	f->free_vcpus = note.free_vcpus;
	f->used_vcpus = note.used_vcpus;
	f->free_memory_mb = note.free_memory_mb;
}

int cd_policy_fit_node(const struct cd_policy_input *in, size_t vm, uint32_t node,
		       struct cd_policy_fit *out, char *err, size_t errlen)
{
	struct cd_policy_result res;
	struct cd_pctx c;
	int rc, s;

	memset(out, 0, sizeof(*out));
	rc = picture(&c, &res, in, vm, err, errlen);
	if (rc == 0) {
		s = cd_pctx_slot_of(&c, node);
		if (s >= 0) {
			fit_slot(&c, vm, s, out);
		} else {
			snprintf(err, errlen, "no node with id %u", node);
			rc = CD_ERR_NOT_FOUND;
		}
	}
	cd_pctx_free(&c);
	return rc;
}

int cd_policy_pick_node(const struct cd_policy_input *in, size_t vm, uint32_t except,
			struct cd_policy_pick *out, char *err, size_t errlen)
{
	struct cd_policy_note notes[CD_POLICY_MAX_NODES];
	struct cd_policy_vm_result r;
	struct cd_policy_result res;
	struct cd_pctx c;
	uint32_t fits, apart, left = 0, cand;
	int rc, s, best, furthest;

	memset(out, 0, sizeof(*out));
	rc = picture(&c, &res, in, vm, err, errlen);
	if (rc)
		goto out_free;
	/* The same survey as placement's, then without the node left behind. */
	fits = cd_pctx_survey(&c, vm, notes, &apart, &furthest);
	for (s = 0; s < c.n_slots; s++) {
		if (c.slots[s].node->id == except || c.facts[vm].on == s)
			continue;
		left |= 1u << s;
		fit_slot(&c, vm, s, &out->fits[out->n_fits++]);
	}
	fits &= left;
	apart &= left;
	cand = apart ? apart : fits;
	if (!cand)
		goto out_free;
	memset(&r, 0, sizeof(r));
	best = cd_pctx_choose(&c, vm, cand, notes, &r);
	out->node = c.slots[best].node->id;
	out->idx = c.slots[best].idx;
	out->why = r.why;
	out->rank = r.rank;
	out->soft_shared = !apart;
out_free:
	cd_pctx_free(&c);
	return rc;
}

void cd_policy_fit_text(const struct cd_policy_input *in, size_t vm, const struct cd_policy_fit *f,
			enum cd_policy_excl excl, char *buf, size_t len)
{
	const struct cd_policy_vm *v = &in->vms[vm];
	struct cd_policy_note note = {
		.node = (uint16_t)f->idx,
		.excl = (uint8_t)excl,
		.free_vcpus = f->free_vcpus,
		.used_vcpus = f->used_vcpus,
		.free_memory_mb = f->free_memory_mb,
	};

	/* Explain's words say what placement did ("avoided"); a move is the admin's call. */
	if (excl == CD_EXCL_ANTI_SOFT)
		snprintf(buf, len,
			 "%s runs a VM of class %s (soft anti-affinity: placement avoids it)",
			 in->nodes[f->idx].name, v->anti_class);
	else
		cd_policy_note_text(in, v, &note, buf, len);
}

void cd_policy_pick_text(const struct cd_policy_input *in, size_t vm,
			 const struct cd_policy_pick *p, char *buf, size_t len)
{
	const struct cd_policy_vm *v = &in->vms[vm];
	const char *name = p->node ? in->nodes[p->idx].name : "?";
	int n = 0;

	if (len == 0)
		return;
	switch (p->why) {
	case CD_WHY_PREFERRED:
		n = snprintf(buf, len, "%s is preferred owner %u of %u", name, p->rank,
			     v->n_preferred);
		break;
	case CD_WHY_RESTART:
		n = snprintf(buf, len, "%s is where it failed (%u of %u failures allowed there)",
			     name, v->failures, v->failure_limit);
		break;
	case CD_WHY_MOST_FREE:
	case CD_WHY_STAYS:
	case CD_WHY_BUSY:
	case CD_WHY_STOPPED:
	case CD_WHY_STOP:
	case CD_WHY_NO_AUTO_START:
	case CD_WHY_UNPLACED:
	case CD_WHY_FAILBACK:
	case CD_WHY__COUNT:
		n = snprintf(buf, len, "%s%s has the most free memory of the nodes that fit",
			     v->n_preferred ? "no preferred owner can take it, and " : "", name);
		break;
	}
	if (p->soft_shared && n > 0 && (size_t)n < len)
		snprintf(
			buf + n, len - (size_t)n,
			"; every node that fits runs a VM of class %s (soft anti-affinity: shared)",
			v->anti_class);
}
