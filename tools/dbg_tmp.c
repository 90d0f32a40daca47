#include "fuzz/program.h"
#include "mmu/shadow.h"
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
	static uint8_t buf[FZ_INPUT_MAX]; FILE *f = fopen(argv[1], "rb"); size_t n = fread(buf,1,sizeof buf,f);
	static struct fz_program p; struct fz_options o = {0}; static struct fz_result r;
	o.log = true; if (argc > 2) o.mutant = mmu_mutant_by_name(argv[2]);
	fz_decode(FZ_TARGET_MMU, buf, n, &p);
	struct fz_exec *x = fz_exec_new(); fz_exec_run(x, &p, &o, &r);
	size_t cnt; const struct sim_event *ev = sim_log(fz_exec_sim(x), &cnt);
	for (size_t i = 0; i < cnt; i++) {
		const struct sim_event *e = &ev[i];
		if (e->kind == SIM_EV_NOTE && e->note != 16 && e->note != MMU_NOTE_FN) continue;
		if (e->kind == SIM_EV_NOTE && e->note == MMU_NOTE_FN) { printf("%5u cpu%u   [%s]\n", e->step, e->cpu, mmu_fn_name((enum mmu_fn)e->value)); continue; }
		if (e->kind == SIM_EV_NOTE) { printf("%5u cpu%u == op %llu\n", e->step, e->cpu, (unsigned long long)e->value); continue; }
		printf("%5u cpu%u %-12s %6u %llx %llx\n", e->step, e->cpu, sim_ev_name(e->kind), e->addr, (unsigned long long)e->value, (unsigned long long)e->value2);
	}
	printf("div=%d %s: %s\n", r.divergence, r.divergence_class, r.message);
}
