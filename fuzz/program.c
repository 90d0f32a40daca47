/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The input format: total decoder, canonical encoder, text form and the
 * structured value domain.
 *
 * The value domain is built to reach the interesting cases with few bits:
 * pfns share their low 20 bits across four different high parts (so a
 * present -> 0 -> present rewrite can keep the low half equal while the
 * high half changes), NX toggles the high half on its own, and the
 * write-permission ladder produces exactly the flag sets that make an spte
 * volatile (host-writable + MMU-writable) or not.
 */
#include "fuzz/program.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[FZ_OP_COUNT] = {
	[FZ_OP_SET] = "set",           [FZ_OP_UPDATE] = "update",
	[FZ_OP_CLEAR_TRACK] = "clear", [FZ_OP_CLEAR_NOTRACK] = "clear-notrack",
	[FZ_OP_REMAP] = "remap",       [FZ_OP_AGE] = "age",
	[FZ_OP_MMIO] = "mmio",         [FZ_OP_READ] = "read",
	[FZ_OP_FAST_PF] = "fast-pf",   [FZ_OP_HW_WALK] = "hw-walk",
};

const char *fz_op_name(enum fz_op_kind k)
{
	return k < FZ_OP_COUNT ? op_names[k] : "?";
}

const char *fz_target_name(enum fz_target t)
{
	return t == FZ_TARGET_SPTE ? "spte" : t == FZ_TARGET_MMU ? "mmu" : "?";
}

enum fz_target fz_target_by_name(const char *name)
{
	if (strcmp(name, "spte") == 0)
		return FZ_TARGET_SPTE;
	if (strcmp(name, "mmu") == 0)
		return FZ_TARGET_MMU;
	return FZ_TARGET_COUNT;
}

static const char *const mmu_op_names[FZ_MMU_OP_COUNT] = {
	[FZ_MMU_ACCESS] = "access",   [FZ_MMU_GPTE_WRITE] = "gpte-write",
	[FZ_MMU_INVLPG] = "invlpg",   [FZ_MMU_MOV_CR3] = "mov-cr3",
	[FZ_MMU_MODE] = "mode",       [FZ_MMU_INVALIDATE] = "invalidate",
	[FZ_MMU_CHANGE_PTE] = "change-pte", [FZ_MMU_AGE] = "age",
	[FZ_MMU_DIRTY_LOG] = "dirty-log", [FZ_MMU_ZAP_ALL] = "zap-all",
	[FZ_MMU_MEMSLOT] = "memslot",
};

unsigned fz_target_op_count(enum fz_target t)
{
	return t == FZ_TARGET_MMU ? FZ_MMU_OP_COUNT : FZ_OP_COUNT;
}

const char *fz_target_op_name(enum fz_target t, unsigned kind)
{
	if (t == FZ_TARGET_MMU)
		return kind < FZ_MMU_OP_COUNT ? mmu_op_names[kind] : "?";
	return fz_op_name((enum fz_op_kind)kind);
}

/* pfn low 20 bits (physical address bits 12..31) and high parts (>= 4 GiB). */
static const uint32_t pfn_low[4] = { 0x12345, 0x00001, 0xfffff, 0x00a0b };
static const uint32_t pfn_high[4] = { 0x0, 0x1, 0x7, 0xff };

uint64_t fz_pfn(uint8_t a)
{
	return (uint64_t)pfn_high[(a >> 2) & 3] << 20 | pfn_low[a & 3];
}

/*
 * a: bits 0-3 pfn, 4 A, 5 D, 6 NX, 7 U.
 * b: bits 0-1 write ladder: none, host-writable, + MMU-writable, + W
 *    (set_spte gives W only with MMU-writable, MMU-writable only with
 *    host-writable); the other bits are read by the op itself.
 */
uint64_t fz_value(uint8_t a, uint8_t b)
{
	uint64_t spte = PT_PRESENT_MASK | fz_pfn(a) << PAGE_SHIFT;
	unsigned ladder = b & 3;

	if (a & 0x10)
		spte |= PT_ACCESSED_MASK;
	if (a & 0x20)
		spte |= PT_DIRTY_MASK;
	if (a & 0x40)
		spte |= PT64_NX_MASK;
	if (a & 0x80)
		spte |= PT_USER_MASK;
	if (ladder >= 1)
		spte |= SPTE_HOST_WRITEABLE;
	if (ladder >= 2)
		spte |= SPTE_MMU_WRITEABLE;
	if (ladder >= 3)
		spte |= PT_WRITABLE_MASK;
	return spte;
}

static uint8_t byte_at(const uint8_t *data, size_t size, size_t i)
{
	return i < size ? data[i] : 0;
}

bool fz_program_needs_ext(const struct fz_program *p)
{
	return p->mm == SIM_MM_RELAXED || p->sched_kind == SIM_SCHED_PCT || p->knobs != 0;
}

void fz_decode(enum fz_target target, const uint8_t *data, size_t size, struct fz_program *p)
{
	uint8_t config = byte_at(data, size, 1), version = byte_at(data, size, 0), ext = 0;
	size_t pos = FZ_HEADER_BYTES, n;

	memset(p, 0, sizeof(*p));
	p->version = version == FZ_FORMAT_LEGACY || version == FZ_FORMAT_EXT ? version
									    : FZ_FORMAT_VERSION;
	if (p->version == FZ_FORMAT_EXT) {
		ext = byte_at(data, size, 3);
		pos = FZ_HEADER_BYTES_EXT;
	}
	p->target = target;
	p->width = (config & 1) ? MMU_HOST_64 : MMU_HOST_32;
	p->mm = (config & 2) ? SIM_MM_SC : SIM_MM_TSO;
	p->sched_kind = (config & 4) ? SIM_SCHED_BYTES : SIM_SCHED_PREEMPT;
	/* The mmu target's checks assume x86 ordering: relaxed is the spte target's. */
	if ((ext & 1) && target == FZ_TARGET_SPTE)
		p->mm = SIM_MM_RELAXED;
	if (ext & 2)
		p->sched_kind = SIM_SCHED_PCT;
	p->knobs = (ext >> 2) & FZ_KNOBS_ALL;
	p->cpus = 2 + ((config >> 3) & 3);
	if (p->cpus > 4)
		p->cpus = 4;
	/* Bits 5-7 mean something to the mmu target only; elsewhere they are ignored. */
	p->config_high = target == FZ_TARGET_MMU ? config >> 5 : 0;
	n = byte_at(data, size, 2) % (FZ_OPS_MAX + 1);
	for (size_t i = 0; i < n && pos < size; i++, pos += FZ_OP_BYTES) {
		struct fz_op *op = &p->ops[p->ops_count++];
		uint8_t where = byte_at(data, size, pos + 1);

		op->kind = byte_at(data, size, pos) % fz_target_op_count(target);
		op->cpu = (where >> 4) % p->cpus;
		op->slot = (where & 15) % FZ_SLOTS;
		op->a = byte_at(data, size, pos + 2);
		op->b = byte_at(data, size, pos + 3);
	}
	if (pos < size) {
		p->sched_len = size - pos;
		if (p->sched_len > FZ_SCHED_MAX)
			p->sched_len = FZ_SCHED_MAX;
		memcpy(p->sched, data + pos, p->sched_len);
	}
	p->seed = fz_program_seed(p);
}

static uint8_t ext_byte(const struct fz_program *p)
{
	return (uint8_t)((p->mm == SIM_MM_RELAXED) | (p->sched_kind == SIM_SCHED_PCT) << 1 |
			 (p->knobs & FZ_KNOBS_ALL) << 2);
}

static void fnv_byte(uint64_t *h, uint8_t b)
{
	*h ^= b;
	*h *= 0x100000001b3ull;
}

/*
 * The PRNG seed of a byte-stream schedule: a hash of the configuration and
 * the schedule bytes, not of the operations.  Every encoding of a program
 * (raw fuzzer bytes, re-encoded bytes, the text form) behaves the same, and
 * removing or changing an operation leaves the continuation of the
 * schedule alone, which is what minimization and mutation want.
 */
uint64_t fz_program_seed(const struct fz_program *p)
{
	uint64_t h = 0xcbf29ce484222325ull;

	fnv_byte(&h, 1);   /* not the version: a format never reshuffles a schedule */
	fnv_byte(&h, (uint8_t)((p->width == MMU_HOST_64) | (p->mm == SIM_MM_SC) << 1 |
			       (p->sched_kind == SIM_SCHED_BYTES) << 2 |
			       ((p->cpus < 2 ? 2 : p->cpus) - 2) << 3 | p->config_high << 5));
	/* The extension joins the hash only when used: older inputs keep their seeds. */
	if (fz_program_needs_ext(p))
		fnv_byte(&h, ext_byte(p));
	for (size_t i = 0; i < p->sched_len; i++)
		fnv_byte(&h, p->sched[i]);
	return h;
}

/*
 * A format-1 program keeps format 1 and cannot carry the extension (it is
 * dropped); every other program is written as format 3 if it needs the
 * extension, else as format 2.
 */
size_t fz_encode(const struct fz_program *p, uint8_t *out, size_t cap)
{
	bool ext = p->version != FZ_FORMAT_LEGACY && fz_program_needs_ext(p);
	size_t header = ext ? FZ_HEADER_BYTES_EXT : FZ_HEADER_BYTES;
	size_t len = header + p->ops_count * FZ_OP_BYTES + p->sched_len;
	size_t pos = header;

	assert(cap >= len);
	out[0] = p->version == FZ_FORMAT_LEGACY ? FZ_FORMAT_LEGACY
						: ext ? FZ_FORMAT_EXT : FZ_FORMAT_VERSION;
	if (ext)
		out[3] = ext_byte(p);
	out[1] = (p->width == MMU_HOST_64) | (p->mm == SIM_MM_SC) << 1 |
		 (p->sched_kind == SIM_SCHED_BYTES) << 2 |
		 (uint8_t)(((p->cpus < 2 ? 2 : p->cpus) - 2) << 3) | (uint8_t)(p->config_high << 5);
	out[2] = (uint8_t)p->ops_count;
	for (uint32_t i = 0; i < p->ops_count; i++, pos += FZ_OP_BYTES) {
		const struct fz_op *op = &p->ops[i];

		out[pos] = op->kind;
		out[pos + 1] = (uint8_t)(op->cpu << 4 | op->slot);
		out[pos + 2] = op->a;
		out[pos + 3] = op->b;
	}
	memcpy(out + pos, p->sched, p->sched_len);
	return len;
}

bool fz_spte_is_mmio(uint64_t spte)
{
	/* A private kvm, only to reach the model's own MMIO predicate. */
	static struct kvm kvm;
	static bool ready;

	if (!ready) {
		mmu_init(&kvm, NULL, MMU_HOST_32, MMU_MUTANT_NONE, NULL, NULL);
		ready = true;
	}
	return is_mmio_spte(&kvm, spte);
}

void fz_spte_describe(char *buf, size_t cap, uint64_t spte)
{
	if (spte == 0) {
		snprintf(buf, cap, "0x%016llx (empty)", (unsigned long long)spte);
	} else if (fz_spte_is_mmio(spte)) {
		snprintf(buf, cap, "0x%016llx MMIO gfn=0x%llx gen=0x%x access=%s%s",
			 (unsigned long long)spte,
			 (unsigned long long)((spte & ((1ull << MMU_PHYS_BITS) - 1)) >> PAGE_SHIFT),
			 get_mmio_spte_generation(spte), spte & PT_WRITABLE_MASK ? "W" : "",
			 spte & PT_USER_MASK ? "U" : "");
	} else {
		snprintf(buf, cap, "0x%016llx %s pfn=0x%llx%s%s%s%s%s%s%s",
			 (unsigned long long)spte,
			 spte & PT_PRESENT_MASK ? "P" : "not-present",
			 (unsigned long long)spte_to_pfn(spte),
			 spte & PT_WRITABLE_MASK ? " W" : "", spte & PT_USER_MASK ? " U" : "",
			 spte & PT_ACCESSED_MASK ? " A" : "", spte & PT_DIRTY_MASK ? " D" : "",
			 spte & PT64_NX_MASK ? " NX" : "",
			 spte & SPTE_HOST_WRITEABLE ? " host-writable" : "",
			 spte & SPTE_MMU_WRITEABLE ? " mmu-writable" : "");
	}
}

void fz_program_print(FILE *f, const struct fz_program *p)
{
	char desc[160];

	fprintf(f, "format %u\n", p->version == FZ_FORMAT_LEGACY ? FZ_FORMAT_LEGACY
				 : fz_program_needs_ext(p) ? FZ_FORMAT_EXT : FZ_FORMAT_VERSION);
	fprintf(f, "target %s\n", fz_target_name(p->target));
	fprintf(f, "host %s\n", p->width == MMU_HOST_64 ? "64" : "32");
	fprintf(f, "memory %s\n", sim_mm_name(p->mm));
	fprintf(f, "schedule %s\n", sim_sched_name(p->sched_kind));
	if (p->knobs) {
		char knobs[64];

		fz_knobs_names(p->knobs, knobs, sizeof(knobs));
		fprintf(f, "knobs %s\n", knobs);
	}
	fprintf(f, "cpus %u\n", p->cpus);
	if (p->target == FZ_TARGET_MMU)
		fprintf(f, "paging %s%s\n", (const char *[]){ "off", "32", "pae", "64" }[p->config_high & 3],
			p->config_high & 4 ? " wp" : "");
	for (uint32_t i = 0; i < p->ops_count; i++) {
		const struct fz_op *op = &p->ops[i];

		fprintf(f, "op cpu%u %-13s slot%u a=0x%02x b=0x%02x", op->cpu,
			fz_target_op_name(p->target, op->kind), op->slot, op->a, op->b);
		switch (p->target == FZ_TARGET_SPTE ? op->kind : FZ_OP_COUNT) {
		case FZ_OP_SET:
		case FZ_OP_UPDATE:
			fz_spte_describe(desc, sizeof(desc), fz_value(op->a, op->b));
			fprintf(f, "  # %s", desc);
			break;
		case FZ_OP_REMAP:
			fprintf(f, "  # new pfn=0x%llx%s", (unsigned long long)fz_pfn(op->a),
				op->b & 0x80 ? ", host pte writable: drop" : "");
			break;
		case FZ_OP_MMIO:
			fprintf(f, "  # access=%s%s", op->b & 2 ? "W" : "", op->b & 4 ? "U" : "");
			break;
		default:
			break;
		}
		fputc('\n', f);
	}
	/* 32 schedule bytes per line; an empty schedule is one empty line. */
	for (size_t i = 0; i == 0 || i < p->sched_len; i += 32) {
		fprintf(f, "sched");
		for (size_t j = i; j < i + 32 && j < p->sched_len; j++)
			fprintf(f, " %02x", p->sched[j]);
		fputc('\n', f);
	}
}

/* ---- text form parser ---- */

static const char *const knob_names[FZ_KNOBS_COUNT] = { "narrow-count", "force-slow", "volatile",
							   "lazy-drains" };

/* "none or a comma-separated list of narrow-count, ...": from knob_names. */
static const char *knobs_expected(void)
{
	static char text[128];
	size_t len;

	if (text[0])
		return text;
	len = (size_t)snprintf(text, sizeof(text), "none or a comma-separated list of ");
	for (unsigned k = 0; k < FZ_KNOBS_COUNT && len < sizeof(text); k++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", k ? ", " : "",
					knob_names[k]);
	return text;
}

static bool parse_fail(char *err, size_t cap, unsigned line, const char *what)
{
	snprintf(err, cap, "line %u: %s", line, what);
	return false;
}

static bool parse_byte(const char *s, uint8_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 16);

	if (end == s || *end || v > 0xff)
		return false;
	*out = (uint8_t)v;
	return true;
}

bool fz_program_parse(const char *text, struct fz_program *p, char *err, size_t cap)
{
	char line[8192];
	unsigned n = 0;
	bool have_target = false;
	const char *pos = text;

	memset(p, 0, sizeof(*p));
	p->version = FZ_FORMAT_VERSION;
	p->width = MMU_HOST_32;
	p->mm = SIM_MM_TSO;
	p->sched_kind = SIM_SCHED_PREEMPT;
	p->cpus = 2;
	while (*pos) {
		const char *nl = strchr(pos, '\n');
		size_t len = nl ? (size_t)(nl - pos) : strlen(pos);
		char *words[40], *save = NULL, *w;
		int count = 0;

		n++;
		if (len >= sizeof(line))
			return parse_fail(err, cap, n, "line too long");
		memcpy(line, pos, len);
		line[len] = 0;
		pos += len + (nl ? 1 : 0);
		if (strchr(line, '#'))
			*strchr(line, '#') = 0;
		for (w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
			if (count == 40)
				return parse_fail(err, cap, n, "too many words (at most 32 schedule "
							       "bytes per sched line)");
			words[count++] = w;
		}
		if (count == 0)
			continue;
		if (strcmp(words[0], "format") == 0 && count == 2) {
			if (strcmp(words[1], "1") == 0)
				p->version = FZ_FORMAT_LEGACY;
			else if (strcmp(words[1], "3") == 0)
				p->version = FZ_FORMAT_EXT;
			else if (strcmp(words[1], "2") != 0)
				return parse_fail(err, cap, n, "unsupported format (this build reads formats 1, 2 and 3)");
		} else if (strcmp(words[0], "target") == 0 && count == 2) {
			p->target = fz_target_by_name(words[1]);
			if (p->target == FZ_TARGET_COUNT)
				return parse_fail(err, cap, n, "unknown target");
			have_target = true;
		} else if (strcmp(words[0], "host") == 0 && count == 2) {
			if (strcmp(words[1], "32") == 0)
				p->width = MMU_HOST_32;
			else if (strcmp(words[1], "64") == 0)
				p->width = MMU_HOST_64;
			else
				return parse_fail(err, cap, n, "host must be 32 or 64");
		} else if (strcmp(words[0], "memory") == 0 && count == 2) {
			if (!fz_mm_by_name(words[1], &p->mm))
				return parse_fail(err, cap, n, "memory must be tso, sc or relaxed");
		} else if (strcmp(words[0], "schedule") == 0 && count == 2) {
			if (!fz_sched_by_name(words[1], &p->sched_kind))
				return parse_fail(err, cap, n, "schedule must be preempt, bytes or pct");
		} else if (strcmp(words[0], "knobs") == 0 && count == 2) {
			if (!fz_knobs_by_names(words[1], &p->knobs)) {
				char what[160];

				snprintf(what, sizeof(what), "knobs are %s", knobs_expected());
				return parse_fail(err, cap, n, what);
			}
		} else if (strcmp(words[0], "cpus") == 0 && count == 2) {
			if (strlen(words[1]) != 1 || words[1][0] < '2' || words[1][0] > '4')
				return parse_fail(err, cap, n, "cpus must be 2, 3 or 4");
			p->cpus = (uint32_t)(words[1][0] - '0');
		} else if (strcmp(words[0], "paging") == 0 && (count == 2 || count == 3)) {
			static const char *const modes[] = { "off", "32", "pae", "64" };
			int mode = -1;

			for (int k = 0; k < 4; k++)
				if (strcmp(words[1], modes[k]) == 0)
					mode = k;
			if (mode < 0 || (count == 3 && strcmp(words[2], "wp") != 0))
				return parse_fail(err, cap, n, "paging is off, 32, pae or 64, then wp or nothing");
			p->config_high = (uint8_t)(mode | (count == 3 ? 4 : 0));
		} else if (strcmp(words[0], "op") == 0 && count == 6) {
			struct fz_op *op;
			int kind = -1;

			if (p->ops_count == FZ_OPS_MAX)
				return parse_fail(err, cap, n, "too many operations (at most 32)");
			op = &p->ops[p->ops_count];
			for (unsigned k = 0; k < fz_target_op_count(p->target); k++)
				if (strcmp(words[2], fz_target_op_name(p->target, k)) == 0)
					kind = (int)k;
			if (kind < 0)
				return parse_fail(err, cap, n, "unknown operation");
			if (strncmp(words[1], "cpu", 3) != 0 || strlen(words[1]) != 4 ||
			    words[1][3] < '0' || words[1][3] > '3')
				return parse_fail(err, cap, n, "expected cpu0..cpu3");
			if (strncmp(words[3], "slot", 4) != 0 || strlen(words[3]) != 5 ||
			    words[3][4] < '0' || words[3][4] > '3')
				return parse_fail(err, cap, n, "expected slot0..slot3");
			if (strncmp(words[4], "a=", 2) != 0 || !parse_byte(words[4] + 2, &op->a) ||
			    strncmp(words[5], "b=", 2) != 0 || !parse_byte(words[5] + 2, &op->b))
				return parse_fail(err, cap, n, "expected a=0xNN b=0xNN");
			op->kind = (uint8_t)kind;
			op->cpu = (uint8_t)(words[1][3] - '0');
			op->slot = (uint8_t)(words[3][4] - '0');
			p->ops_count++;
		} else if (strcmp(words[0], "sched") == 0) {
			for (int i = 1; i < count; i++) {
				if (p->sched_len == FZ_SCHED_MAX)
					return parse_fail(err, cap, n, "schedule too long");
				if (!parse_byte(words[i], &p->sched[p->sched_len]))
					return parse_fail(err, cap, n, "schedule bytes are hex, like 0a");
				p->sched_len++;
			}
			/* Long schedules continue on further sched lines. */
		} else {
			return parse_fail(err, cap, n, "unknown line (expected format, target, host, "
						       "memory, schedule, knobs, cpus, op or sched)");
		}
	}
	if (!have_target)
		return parse_fail(err, cap, n, "missing 'target' line");
	if (p->mm == SIM_MM_RELAXED && p->target != FZ_TARGET_SPTE)
		return parse_fail(err, cap, n, "memory relaxed is for the spte target only");
	if (p->version == FZ_FORMAT_LEGACY && fz_program_needs_ext(p))
		return parse_fail(err, cap, n, "format 1 has no relaxed memory, PCT or knobs (use format 3)");
	p->version = p->version == FZ_FORMAT_LEGACY ? FZ_FORMAT_LEGACY
		     : fz_program_needs_ext(p) ? FZ_FORMAT_EXT : FZ_FORMAT_VERSION;
	for (uint32_t i = 0; i < p->ops_count; i++)
		if (p->ops[i].cpu >= p->cpus)
			return parse_fail(err, cap, n, "an operation names a CPU beyond 'cpus'");
	p->seed = fz_program_seed(p);
	return true;
}

/* ---- overrides and names (--mm, --sched, --knobs) ---- */

void fz_program_apply(struct fz_program *p, const struct fz_options *o)
{
	bool changed = false;

	if (o->force.mm && p->mm != (enum sim_mm)(o->force.mm - 1) &&
	    (o->force.mm - 1 != SIM_MM_RELAXED || p->target == FZ_TARGET_SPTE)) {
		p->mm = (enum sim_mm)(o->force.mm - 1);
		changed = true;
	}
	if (o->force.sched && p->sched_kind != (enum sim_sched_kind)(o->force.sched - 1)) {
		p->sched_kind = (enum sim_sched_kind)(o->force.sched - 1);
		changed = true;
	}
	if ((p->knobs | o->force.knobs) != p->knobs) {
		p->knobs |= o->force.knobs & FZ_KNOBS_ALL;
		changed = true;
	}
	if (!changed)
		return;
	if (p->version != FZ_FORMAT_LEGACY)
		p->version = fz_program_needs_ext(p) ? FZ_FORMAT_EXT : FZ_FORMAT_VERSION;
	p->seed = fz_program_seed(p);
}

bool fz_mm_by_name(const char *name, enum sim_mm *out)
{
	for (int m = 0; m < SIM_MM_COUNT; m++) {
		if (strcmp(name, sim_mm_name((enum sim_mm)m)) == 0) {
			*out = (enum sim_mm)m;
			return true;
		}
	}
	return false;
}

bool fz_sched_by_name(const char *name, enum sim_sched_kind *out)
{
	for (int k = 0; k < SIM_SCHED_COUNT; k++) {
		if (strcmp(name, sim_sched_name((enum sim_sched_kind)k)) == 0) {
			*out = (enum sim_sched_kind)k;
			return true;
		}
	}
	return false;
}

bool fz_knobs_by_names(const char *list, uint8_t *out)
{
	char buf[128], *save = NULL;

	*out = 0;
	if (strcmp(list, "none") == 0)
		return true;
	if (strlen(list) >= sizeof(buf) || !*list)
		return false;
	strcpy(buf, list);
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		unsigned k = 0;

		while (k < FZ_KNOBS_COUNT && strcmp(w, knob_names[k]) != 0)
			k++;
		if (k == FZ_KNOBS_COUNT)
			return false;
		*out |= (uint8_t)(1u << k);
	}
	return true;
}

bool fz_overrides_set(struct fz_overrides *f, const char *key, const char *value)
{
	enum sim_mm mm;
	enum sim_sched_kind k;

	if (strcmp(key, "mm") == 0 && fz_mm_by_name(value, &mm))
		f->mm = (uint8_t)(mm + 1);
	else if (strcmp(key, "sched") == 0 && fz_sched_by_name(value, &k))
		f->sched = (uint8_t)(k + 1);
	else if (strcmp(key, "knobs") != 0 || !fz_knobs_by_names(value, &f->knobs))
		return false;
	return true;
}

const char *fz_overrides_expected(const char *key)
{
	if (strcmp(key, "mm") == 0)
		return "sc, tso or relaxed";
	if (strcmp(key, "sched") == 0)
		return "preempt, bytes or pct";
	return knobs_expected();
}

void fz_knobs_names(uint8_t knobs, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = 0;
	for (unsigned k = 0; k < FZ_KNOBS_COUNT; k++)
		if (knobs >> k & 1)
			len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%s",
						len ? "," : "", knob_names[k]);
	if (!len)
		snprintf(buf, cap, "none");
}

void fz_guards_text(const struct fz_result *r, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = 0;
	for (uint32_t g = 0; g < MMU_GUARD_NR; g++)
		if (r->guards[g])
			len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%s %llu",
						len ? ", " : "", mmu_guard_name(g),
						(unsigned long long)r->guards[g]);
	if (!len)
		snprintf(buf, cap, "none");
}
