// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading a plugged protocol: the shared object tools/protocol_build.sh
 * made from a developer's FILE.c (docs/your-protocol.md).  Its table,
 * `spterace_protocol`, becomes the split-spte primitives of every kvm set
 * up afterwards (mmu_set_protocol).  The object's instrumentation callbacks
 * and shim functions resolve to mmu/plug.c in the executable, which is
 * linked with -rdynamic for that.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz/program.h"
#include "mmu/mmu.h"

int fz_protocol_load(const char *path)
{
	const struct mmu_protocol *proto;
	void *handle;

	if (!path || !*path)
		return 0;
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		fprintf(stderr, "spterace: cannot load the protocol: %s\n", dlerror());
		return -1;
	}
	proto = dlsym(handle, "spterace_protocol");
	if (!proto) {
		fprintf(stderr, "spterace: %s: no spterace_protocol table\n", path);
		return -1;
	}
	if (proto->abi != MMU_PROTOCOL_ABI) {
		fprintf(stderr, "spterace: %s: protocol table version %u, want %u (rebuild it)\n",
			path, proto->abi, MMU_PROTOCOL_ABI);
		return -1;
	}
	mmu_set_protocol(proto);
	return 0;
}
