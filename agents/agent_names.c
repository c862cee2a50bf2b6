/* The names of the VM agent's ops and of a domain's status (vm_agent.h). */
#include "config.h"

#include "agents/vm_agent.h"

const char *cd_agent_op_to_str(enum cd_agent_op op)
{
	switch (op) {
	case CD_AGENT_START:
		return "start";
	case CD_AGENT_SHUTDOWN:
		return "shutdown";
	case CD_AGENT_DESTROY:
		return "destroy";
	case CD_AGENT_STATUS:
		return "status";
	case CD_AGENT_LIST:
		return "list";
	case CD_AGENT_SUSPEND:
		return "suspend";
	case CD_AGENT_RESUME:
		return "resume";
	case CD_AGENT_XML:
		return "read XML";
	case CD_AGENT_PEER_FACTS:
		return "peer facts";
	case CD_AGENT_DOMCAPS:
		return "domain capabilities";
	case CD_AGENT_MIGRATE:
		return "migrate";
	case CD_AGENT_ABORT_JOB:
		return "abort job";
	case CD_AGENT_JOB_STATS:
		return "job stats";
	case CD_AGENT_PEER_STATUS:
		return "peer status";
	case CD_AGENT_PEER_DESTROY:
		return "peer destroy";
	case CD_AGENT_POSTCOPY:
		return "post-copy";
	case CD_AGENT_DIRTY_RATE:
		return "dirty rate";
	case CD_AGENT_ANNOUNCE:
		return "announce";
	case CD_AGENT_SAVE:
		return "save";
	case CD_AGENT_RESTORE:
		return "restore";
	case CD_AGENT_DEFINITION:
		return "read definition";
	case CD_AGENT_UNDEFINE:
		return "undefine";
	}
	return "unknown";
}

const char *cd_domain_status_to_str(enum cd_domain_status s)
{
	switch (s) {
	case CD_DOMAIN_RUNNING:
		return "running";
	case CD_DOMAIN_STOPPED:
		return "stopped";
	case CD_DOMAIN_FAILED:
		return "failed";
	case CD_DOMAIN_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}
