#!/bin/bash
# Run the policy benchmark (32 nodes, 10,000 VMs unless told otherwise) and
# keep its output in bench/out/policy.txt. Arguments go to bench_policy,
# e.g. bench/policy/run.sh -r 51 -v 20000.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s bench/policy/bench_policy
mkdir -p bench/out
{
	echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m) $(nproc) CPUs"
	bench/policy/bench_policy "$@"
} | tee bench/out/policy.txt
