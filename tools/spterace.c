/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The spterace CLI (reached through the root launcher ./spterace):
 *
 *   spterace mutants                    every mutant with a one-line description
 *   spterace repro FILE [--json] [--html OUT]
 *                                       replay a crash file and explain it
 *   spterace minimize FILE [-o OUT]     shrink a diverging input
 *   spterace decode FILE                an input's program in its text form
 *   spterace encode TEXT -o OUT         the text form back into an input
 *   spterace regress FILE SLUG [--what TEXT] [--root DIR]
 *                                       minimize a crash and add it to the corpus
 *   spterace signature FILE             one line naming the divergence, for
 *                                       deduplication (the campaign runner)
 *   spterace explore FILE [--preemptions K] ...
 *                                       every schedule with at most K preemptions
 *                                       (tools/explore_cli.c, fuzz/explore.h)
 *
 * A crash file's sidecar (FILE.txt: "key: value" lines) names its target,
 * mutant and format version, and may give its size; no other flag is
 * needed.  Exit status: repro and minimize 1 when the divergence reproduces
 * (minimize: was minimized; signature: diverges), 0 when the input passes; 2 for bad usage or an
 * empty, truncated or malformed file, with a one-line error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/program.h"
#include "tools/explore_cli.h"
#include "tools/report.h"

static int usage(void)
{
	fprintf(stderr, "usage: spterace mutants [--markdown REGRESSION...] | repro FILE [--json] [--html OUT] | minimize FILE "
			"[-o OUT] | decode FILE | encode TEXT -o OUT | regress FILE SLUG "
			"[--what TEXT] [--root DIR] | stats TARGET DIR | signature FILE | explore FILE "
			"[--preemptions K] [--target T] [--mutant NAME] [--mm sc|tso|relaxed|both|all] [--budget N] "
			"[--out DIR] [--seeds DIR] [--report-known]\n");
	return 2;
}

static int fail(const char *path, const char *what)
{
	fprintf(stderr, "spterace: %s: %s\n", path, what);
	return 2;
}

/* The sidecar of path, or a one-line error and 2. */
static int read_sidecar(const char *path, struct fz_sidecar *out)
{
	char err[600];

	if (fz_sidecar_read(path, out, err, sizeof(err)) != 0) {
		fprintf(stderr, "spterace: %s\n", err);
		return 2;
	}
	return 0;
}

/* Read a crash file: empty, truncated and malformed files are errors here. */
static int read_input(const char *path, const struct fz_sidecar *sc, uint8_t *buf, size_t cap,
		      size_t *len)
{
	FILE *f = fopen(path, "rb");
	char msg[200];

	if (!f)
		return fail(path, strerror(errno));
	*len = fread(buf, 1, cap, f);
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		return fail(path, e == EISDIR ? "is a directory, not an input file" : strerror(e));
	}
	if (!feof(f) && fgetc(f) != EOF) {
		fclose(f);
		return fail(path, "malformed: longer than any spterace input");
	}
	fclose(f);
	if (*len == 0)
		return fail(path, "empty file: not an spterace input");
	if (sc->size >= 0 && (size_t)sc->size != *len) {
		snprintf(msg, sizeof(msg), "truncated or altered: %zu bytes, its sidecar says %ld",
			 *len, sc->size);
		return fail(path, msg);
	}
	/*
	 * Any non-empty byte string is a program (the decoder is total and
	 * reads every format-version byte but 1 as format 2, as the
	 * harness does), so beyond emptiness only the sidecar can show that a
	 * file was cut short or altered.
	 */
	return 0;
}

static int load(const char *path, struct fz_sidecar *sc, uint8_t *buf, size_t *len)
{
	int rc = read_sidecar(path, sc);

	return rc ? rc : read_input(path, sc, buf, FZ_INPUT_MAX, len);
}

static struct fz_exec *exec_or_die(void)
{
	struct fz_exec *x = fz_exec_new();

	if (!x) {
		fprintf(stderr, "spterace: out of memory for the simulator\n");
		exit(2);
	}
	return x;
}

static int cmd_mutants(void)
{
	for (int m = 1; m < MMU_MUTANT_COUNT; m++) {
		const struct mmu_mutant_info *i = mmu_mutant_info((enum mmu_mutant)m);

		printf("%-28s %s\n", i->name, i->summary);
	}
	return 0;
}

/*
 * The mutants a target can express: those whose "needs" names the target
 * before its first comma ("spte target", "spte or mmu target", "mmu target
 * (input format 2) or spte target").
 */
static int cmd_mutants_for(const char *target)
{
	size_t tl = strlen(target);

	if (strcmp(target, "spte") != 0 && strcmp(target, "mmu") != 0) {
		fprintf(stderr, "spterace: unknown target '%s' (targets: spte, mmu)\n", target);
		return 2;
	}
	for (int m = 1; m < MMU_MUTANT_COUNT; m++) {
		const struct mmu_mutant_info *i = mmu_mutant_info((enum mmu_mutant)m);
		const char *end = strchr(i->needs, ',');
		size_t len = end ? (size_t)(end - i->needs) : strlen(i->needs);

		for (const char *p = i->needs; p + tl <= i->needs + len; p++)
			if (strncmp(p, target, tl) == 0 && (p == i->needs || p[-1] == ' ') &&
			    (p[tl] == ' ' || p[tl] == ',' || p[tl] == '\0')) {
				printf("%s\n", i->name);
				break;
			}
	}
	return 0;
}

/* The path below "corpus/" if it has one, for a stable listing. */
static const char *corpus_relative(const char *path)
{
	const char *c = strstr(path, "corpus/");

	return c ? c : path;
}

static int by_corpus_path(const void *a, const void *b)
{
	return strcmp(corpus_relative(*(char *const *)a), corpus_relative(*(char *const *)b));
}

/*
 * docs/mutants.md: the catalogue, with the witnesses among `files` (the
 * regression inputs, whose sidecars name their mutant).  Generated, so it
 * cannot drift from the code; //tools:mutants_doc_test compares.
 */
static int cmd_mutants_markdown(int nfiles, char **files)
{
	qsort(files, (size_t)nfiles, sizeof(*files), by_corpus_path);
	printf("# The mutants\n\n"
	       "Generated by `./spterace mutants --markdown` from the catalogue in\n"
	       "`mmu/spte.c` and the sidecars of `corpus/regressions/`; do not edit.\n"
	       "`bazel test //tools:mutants_doc_test` fails when it is out of date.\n\n"
	       "Each mutant brings back one historical bug or race class of the Linux\n"
	       "3.11 shadow MMU (`--mutant NAME` on every command). Its witnesses are\n"
	       "minimized inputs that diverge with the mutant and pass on the faithful\n"
	       "model; `bazel test //...` replays them both ways.\n\n"
	       "| mutant | what it breaks | kernel commit or race class | caught by | needs | "
	       "witnesses |\n|---|---|---|---|---|---|\n");
	for (int m = 1; m < MMU_MUTANT_COUNT; m++) {
		const struct mmu_mutant_info *i = mmu_mutant_info((enum mmu_mutant)m);
		int shown = 0;

		printf("| `%s` | %s | %s | %s | %s | ", i->name, i->summary, i->origin,
		       i->caught_by, i->needs);
		for (int f = 0; f < nfiles; f++) {
			struct fz_sidecar sc;
			char err[300];
			size_t len = strlen(files[f]);

			if (len > 4 && strcmp(files[f] + len - 4, ".txt") == 0)
				continue;
			if (fz_sidecar_read(files[f], &sc, err, sizeof(err)) != 0) {
				fprintf(stderr, "spterace: %s\n", err);
				return 2;
			}
			if (sc.mutant != (enum mmu_mutant)m)
				continue;
			printf("%s`%s`", shown++ ? "<br>" : "", corpus_relative(files[f]));
		}
		printf("%s |\n", shown ? "" : "none yet");
	}
	return 0;
}

static int cmd_decode(const char *path)
{
	static uint8_t buf[FZ_INPUT_MAX];
	static struct fz_program p;
	struct fz_sidecar sc;
	size_t len;
	int rc = load(path, &sc, buf, &len);

	if (rc)
		return rc;
	fz_decode(sc.target, buf, len, &p);
	fz_program_print(stdout, &p);
	return 0;
}

static int write_file(const char *path, const void *data, size_t len, bool exclusive)
{
	char tmp[4200];
	FILE *f;
	struct stat st;

	if (exclusive && stat(path, &st) == 0)
		return fail(path, "exists already; not overwritten");
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "wb");
	if (!f)
		return fail(tmp, strerror(errno));
	if (fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		remove(tmp);
		return fail(tmp, "write failed");
	}
	/*
	 * Atomic: a reader sees the old file or the whole new one.  Exclusive
	 * writes use link(), which fails instead of replacing a file that
	 * appeared since the check above.
	 */
	if (exclusive) {
		int rc = link(tmp, path);
		int saved = errno;

		remove(tmp);
		if (rc != 0)
			return fail(path, saved == EEXIST ? "exists already; not overwritten"
							   : strerror(saved));
		return 0;
	}
	if (rename(tmp, path) != 0) {
		remove(tmp);
		return fail(path, strerror(errno));
	}
	return 0;
}

static int cmd_encode(const char *text_path, const char *out)
{
	static char text[1 << 20];
	static struct fz_program p;
	static uint8_t buf[FZ_INPUT_MAX];
	char err[200];
	size_t n;
	FILE *f = fopen(text_path, "r");

	if (!f)
		return fail(text_path, strerror(errno));
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	if (!fz_program_parse(text, &p, err, sizeof(err)))
		return fail(text_path, err);
	n = fz_encode(&p, buf, sizeof(buf));
	if (write_file(out, buf, n, false))
		return 2;
	if (p.target != FZ_TARGET_SPTE) {
		/* The bytes do not say their target: the sidecar does. */
		char side[4200], line[128];
		int len;

		snprintf(side, sizeof(side), "%s.txt", out);
		len = snprintf(line, sizeof(line), "target: %s\nformat: %u\nsize: %zu\n",
			       fz_target_name(p.target), p.version, n);
		return write_file(side, line, (size_t)len, false);
	}
	return 0;
}

/*
 * Run an input with its event log and build the report of that run.  The
 * report names the input as `display`; the caller frees the executor after
 * rendering (the timeline is copied, the log is not needed after).
 */
static struct fz_exec *run_for_report(struct repro *rp, const char *display,
				      const struct fz_sidecar *sc, const uint8_t *buf, size_t len)
{
	static struct fz_program p;
	static struct fz_options o;
	static struct fz_result r;
	struct fz_exec *x = exec_or_die();
	const struct sim_event *log;
	size_t count;

	memset(&o, 0, sizeof(o));
	o.mutant = sc->mutant;
	o.strict = sc->strict;
	o.force = sc->force;
	o.log = true;
	fz_decode(sc->target, buf, len, &p);
	fz_program_apply(&p, &o);   /* the report shows the overrides */
	fz_exec_run(x, &p, &o, &r);
	log = sim_log(fz_exec_sim(x), &count);
	rp->path = display;
	rp->prog = &p;
	rp->opts = &o;
	rp->res = &r;
	rp->log = log;
	rp->log_count = count;
	snprintf(rp->command, sizeof(rp->command), "./spterace repro %s", display);
	timeline_build(&rp->tl, &p, &r, log, count);
	return x;
}

static int cmd_repro(const char *path, bool json, const char *html)
{
	static uint8_t buf[FZ_INPUT_MAX];
	static struct repro rp;
	struct fz_sidecar sc;
	struct fz_exec *x;
	size_t len;
	int rc = load(path, &sc, buf, &len);

	if (rc)
		return rc;
	x = run_for_report(&rp, path, &sc, buf, len);
	if (html) {
		FILE *f = fopen(html, "w");

		if (!f) {
			fz_exec_free(x);
			return fail(html, strerror(errno));
		}
		report_html(f, &rp);
		fclose(f);
	}
	if (json)
		report_json(stdout, &rp);
	else
		report_text(stdout, &rp);
	if (html && !json)
		printf("html: %s\n", html);
	fz_exec_free(x);
	return rp.res->divergence ? 1 : 0;
}

static int minimize_into(const char *path, const struct fz_sidecar *sc, const uint8_t *buf,
			 size_t len, uint8_t *out, size_t *out_len, struct fz_min_stats *st)
{
	struct fz_options o = { 0 };
	struct fz_exec *x = exec_or_die();
	bool ok;

	o.mutant = sc->mutant;
	o.strict = sc->strict;
	o.force = sc->force;
	ok = fz_minimize(x, sc->target, &o, buf, len, out, out_len, st);
	fz_exec_free(x);
	if (!ok) {
		fprintf(stderr, "spterace: %s: does not diverge (mutant %s); nothing to minimize\n",
			path, mmu_mutant_info(sc->mutant)->name);
		return 0;
	}
	return 1;
}

static int write_sidecar(const char *path, const struct fz_sidecar *sc, const uint8_t *data,
			 size_t size, const char *what, const char *origin, const char *report_of,
			 const char *display)
{
	char name[4200], final[4200];
	FILE *f;

	snprintf(name, sizeof(name), "%s.txt.tmp.%d", path, (int)getpid());
	snprintf(final, sizeof(final), "%s.txt", path);
	f = fopen(name, "w");
	if (!f)
		return fail(name, strerror(errno));
	fprintf(f, "target: %s\nmutant: %s\nformat: %u\nsize: %zu\nexpect: divergence\n",
		fz_target_name(sc->target), mmu_mutant_info(sc->mutant)->name,
		data[0] == FZ_FORMAT_LEGACY || data[0] == FZ_FORMAT_EXT ? data[0] : FZ_FORMAT_VERSION,
		size);
	fz_sidecar_write_overrides(f, &sc->force);
	if (sc->mutant == MMU_MUTANT_NONE)
		fprintf(f, "faithful: divergence\n");
	if (origin)
		fprintf(f, "found: %s\n", origin);
	if (what)
		fprintf(f, "what: %s\n", what);
	fprintf(f, "\n");
	if (report_of) {
		static uint8_t buf[FZ_INPUT_MAX];
		static struct repro rp;
		struct fz_exec *x;
		size_t len;
		FILE *in = fopen(report_of, "rb");

		if (!in) {
			fclose(f);
			remove(name);
			return fail(report_of, strerror(errno));
		}
		len = fread(buf, 1, sizeof(buf), in);
		fclose(in);
		x = run_for_report(&rp, display, sc, buf, len);
		report_text(f, &rp);
		fz_exec_free(x);
	}
	if (fclose(f) != 0) {
		remove(name);
		return fail(name, "write failed");
	}
	/* Atomic, like the input itself. */
	if (rename(name, final) != 0) {
		remove(name);
		return fail(final, strerror(errno));
	}
	return 0;
}

static int cmd_minimize(const char *path, const char *out)
{
	static uint8_t buf[FZ_INPUT_MAX], min[FZ_INPUT_MAX];
	char out_default[4200];
	struct fz_min_stats st;
	struct fz_sidecar sc;
	size_t len, min_len;
	int rc = load(path, &sc, buf, &len);

	if (rc)
		return rc;
	if (!minimize_into(path, &sc, buf, len, min, &min_len, &st))
		return 0;
	if (!out) {
		snprintf(out_default, sizeof(out_default), "%s.min", path);
		out = out_default;
	}
	if ((rc = write_file(out, min, min_len, false)) ||
	    (rc = write_sidecar(out, &sc, min, min_len, NULL, "./spterace minimize", NULL, NULL)))
		return rc;
	printf("minimized %s -> %s\n", path, out);
	printf("  bytes       %zu -> %zu\n", st.size_before, st.size_after);
	printf("  operations  %u -> %u\n", st.ops_before, st.ops_after);
	printf("  schedule    %zu -> %zu bytes\n", st.sched_before, st.sched_after);
	printf("  runs        %u (every step re-checked: same verdict and class)\n", st.runs);
	return 1;
}

static int cmd_regress(const char *path, const char *slug, const char *what, const char *root)
{
	static uint8_t buf[FZ_INPUT_MAX], min[FZ_INPUT_MAX];
	char dest[4200];
	struct fz_min_stats st;
	struct fz_sidecar sc;
	size_t len, min_len;
	int rc = load(path, &sc, buf, &len);

	if (rc)
		return rc;
	for (const char *c = slug; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return fail(slug, "a slug is lower-case letters, digits and '-'");
	if (!*slug)
		return fail("slug", "empty");
	if (!minimize_into(path, &sc, buf, len, min, &min_len, &st)) {
		fprintf(stderr, "spterace: %s: not added: it does not diverge\n", path);
		return 1;
	}
	snprintf(dest, sizeof(dest), "%s/corpus/%s/%s", root,
		 sc.mutant == MMU_MUTANT_NONE ? "findings" : "regressions",
		 fz_target_name(sc.target));
	for (char *c = dest + strlen(root) + 1; ; c++) {
		/* mkdir -p below the root */
		char saved = *c;

		if (saved != '/' && saved != 0)
			continue;
		*c = 0;
		if (mkdir(dest, 0777) != 0 && errno != EEXIST)
			return fail(dest, strerror(errno));
		*c = saved;
		if (!saved)
			break;
	}
	snprintf(dest + strlen(dest), sizeof(dest) - strlen(dest), "/%s", slug);
	if ((rc = write_file(dest, min, min_len, true)))
		return rc;
	if ((rc = write_sidecar(dest, &sc, min, min_len, what ? what : "(describe what it shows)",
				"./spterace regress", dest, dest + strlen(root) + 1)))
		return rc;
	printf("added %s (%zu -> %zu bytes, %u -> %u operations)\n", dest, st.size_before,
	       st.size_after, st.ops_before, st.ops_after);
	printf("sidecar %s.txt; bazel test //... replays it from now on\n", dest);
	return 0;
}

/*
 * `stats TARGET DIR`: what a corpus reaches.  For the mmu target, how many
 * inputs run each guest paging mode (initially or after a mode change);
 * for the spte target, how many use each operation.
 */
static int cmd_stats(const char *target_name, const char *dir)
{
	static uint8_t buf[FZ_INPUT_MAX];
	static struct fz_program p;
	enum fz_target t = fz_target_by_name(target_name);
	uint32_t counts[16] = { 0 }, files = 0;
	char cmd[4400];
	FILE *list;
	char line[4200];

	if (t == FZ_TARGET_COUNT)
		return fail(target_name, "unknown target");
	snprintf(cmd, sizeof(cmd), "find '%s' -maxdepth 1 -type f ! -name '*.txt' 2>/dev/null", dir);
	list = popen(cmd, "r");
	if (!list)
		return fail(dir, "cannot list");
	while (fgets(line, sizeof(line), list)) {
		size_t len;
		FILE *f;
		uint32_t seen = 0;

		line[strcspn(line, "\n")] = 0;
		f = fopen(line, "rb");
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		fz_decode(t, buf, len, &p);
		files++;
		if (t == FZ_TARGET_MMU) {
			/* A 32-bit host runs PAE where long mode is asked for. */
			unsigned first = p.config_high & 3;

			if (first == 3 && p.width == MMU_HOST_32)
				first = 2;
			seen |= 1u << first;
			for (uint32_t i = 0; i < p.ops_count; i++) {
				unsigned m = p.ops[i].a & 3;

				if (p.ops[i].kind != FZ_MMU_MODE)
					continue;
				if (m == 3 && p.width == MMU_HOST_32)
					m = 2;
				seen |= 1u << m;
			}
		} else {
			for (uint32_t i = 0; i < p.ops_count; i++)
				seen |= 1u << p.ops[i].kind;
		}
		for (unsigned k = 0; k < 16; k++)
			counts[k] += (seen >> k) & 1;
	}
	pclose(list);
	printf("corpus: %u inputs\n", files);
	if (t == FZ_TARGET_MMU) {
		static const char *const names[] = { "off (direct map)", "32-bit", "PAE", "long mode" };

		for (unsigned m = 0; m < 4; m++)
			printf("paging %-17s %u inputs\n", names[m], counts[m]);
	} else {
		for (unsigned k = 0; k < fz_target_op_count(t); k++)
			printf("op %-14s %u inputs\n", fz_target_op_name(t, k), counts[k]);
	}
	return 0;
}

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * A free-text message as one word: every number (a word that starts with
 * a digit, or a hex word with a digit in it, such as a7f000) becomes N,
 * blanks become _.
 */
static void message_template(char *out, size_t cap, const char *msg)
{
	size_t n = 0;

	for (const char *c = msg; *c && n + 2 < cap; c++) {
		if (is_alnum(*c)) {
			const char *end = c;
			bool digit = false, hex = true;

			for (; is_alnum(*end); end++) {
				digit |= *end >= '0' && *end <= '9';
				hex &= (*end >= '0' && *end <= '9') || (*end >= 'a' && *end <= 'f') ||
				       (*end >= 'A' && *end <= 'F');
			}
			if ((*c >= '0' && *c <= '9') || (hex && digit)) {
				out[n++] = 'N';
			} else {
				for (const char *w = c; w < end && n + 2 < cap; w++)
					out[n++] = *w;
			}
			c = end - 1;
		} else if (*c == ' ' || *c == '\t' || *c == '\n') {
			if (n && out[n - 1] != '_')
				out[n++] = '_';
		} else {
			out[n++] = *c;
		}
	}
	while (n && out[n - 1] == '_')
		n--;
	out[n] = 0;
}

/* A function name as one word (the hardware's have blanks). */
static void print_word(const char *s)
{
	for (; *s; s++)
		putchar(*s == ' ' ? '_' : *s);
}

/* The spte-level functions that begin a logical write for their caller. */
static bool writer_fn(uint64_t f)
{
	return f == MMU_FN_MMU_SPTE_SET || f == MMU_FN_MMU_SPTE_UPDATE ||
	       f == MMU_FN_MMU_SPTE_CLEAR_TRACK_BITS || f == MMU_FN_MMU_SPTE_CLEAR_NO_TRACK ||
	       f == MMU_FN_MARK_MMIO_SPTE || f == MMU_FN_FAST_PF_FIX_DIRECT_SPTE ||
	       f == MMU_FN_HW_SET_AD;
}

/* An event that writes memory (or makes a buffered store visible). */
static bool is_store(uint8_t kind)
{
	return kind == SIM_EV_STORE32 || kind == SIM_EV_STORE64 || kind == SIM_EV_DRAIN32 ||
	       kind == SIM_EV_DRAIN64 || kind == SIM_EV_XCHG32 || kind == SIM_EV_AND32 ||
	       kind == SIM_EV_OR32 || kind == SIM_EV_CMPXCHG32 || kind == SIM_EV_CMPXCHG64;
}

/*
 * `signature FILE`: one line that names a divergence, equal for two inputs
 * that show the same bug the same way, whatever their other operations:
 *
 *   TARGET MUTANT KIND/CLASS read@OP:READER write@FN[,FN...]
 *
 * KIND/CLASS is the verdict (torn, blend, ...) and fz_divergence_class();
 * the code sites are the reading operation and reader (lockless
 * mmu_spte_get_lockless or the hardware walk) and the spte functions whose
 * writes to the same spte were under way during the read: begun before its
 * end, with a store (or a store buffer's drain) at or after its start
 * (sorted; "-" when none was).  A divergence of the mmu target that is not a read (a
 * translation, fault or invariant check) is named by its class, its
 * operation and its message with every number replaced by N.  Prints
 * "pass" and exits 0 when the input does not diverge.
 */
static int cmd_signature(const char *path)
{
	static uint8_t buf[FZ_INPUT_MAX];
	static struct repro rp;
	struct fz_sidecar sc;
	struct fz_exec *x;
	const struct fz_result *r;
	const struct fz_program *p;
	size_t len;
	int rc = load(path, &sc, buf, &len);

	if (rc)
		return rc;
	x = run_for_report(&rp, path, &sc, buf, len);
	r = rp.res;
	p = rp.prog;
	if (!r->divergence) {
		printf("pass\n");
		fz_exec_free(x);
		return 0;
	}
	printf("%s %s ", fz_target_name(p->target), mmu_mutant_info(sc.mutant)->name);
	if (r->message[0]) {
		char tmpl[sizeof(r->message) * 2];

		message_template(tmpl, sizeof(tmpl), r->message);
		printf("%s op@%s msg@%s\n", r->divergence_class,
		       fz_target_op_name(p->target, p->ops[r->op_index].kind), tmpl);
	} else {
		uint64_t api[SIM_CPUS_MAX] = { 0 };
		bool have[SIM_CPUS_MAX] = { false }, seen[MMU_FN_COUNT] = { false }, any = false;
		sim_addr sptep = 0;

		/* The spte of the divergent read, from its note. */
		for (size_t i = 0; i < rp.log_count; i++) {
			const struct sim_event *e = &rp.log[i];

			if (e->kind == SIM_EV_NOTE && e->note == MMU_NOTE_READ && e->cpu == r->cpu &&
			    e->value == r->verdict.value && e->step == r->verdict.end) {
				sptep = e->addr;
				break;
			}
		}
		/*
		 * Each logical write on the spte: its CPU and function, the
		 * step it began and the step of its CPU's last store to the
		 * spte before that CPU's next write on it.
		 */
		struct { uint32_t cpu, fn; uint64_t begin, last; } w[256];
		uint32_t nw = 0, open[SIM_CPUS_MAX];

		for (uint32_t c = 0; c < SIM_CPUS_MAX; c++)
			open[c] = UINT32_MAX;
		for (size_t i = 0; i < rp.log_count; i++) {
			const struct sim_event *e = &rp.log[i];

			if (e->cpu >= SIM_CPUS_MAX)
				continue;
			if (e->kind == SIM_EV_NOTE && e->note == MMU_NOTE_FN && writer_fn(e->value)) {
				api[e->cpu] = e->value;
				have[e->cpu] = true;
			} else if (e->kind == SIM_EV_NOTE && e->note == MMU_NOTE_WRITE &&
				   e->addr == sptep) {
				open[e->cpu] = UINT32_MAX;
				if (have[e->cpu] && nw < 256) {
					w[nw].cpu = e->cpu;
					w[nw].fn = (uint32_t)api[e->cpu];
					w[nw].begin = w[nw].last = e->step;
					open[e->cpu] = nw++;
				}
			} else if (e->kind != SIM_EV_NOTE && open[e->cpu] != UINT32_MAX &&
				   (e->addr == sptep || e->addr == sptep + 1) && is_store(e->kind)) {
				w[open[e->cpu]].last = e->step;
			}
		}
		/* The writes under way at some step of the read's window. */
		for (uint32_t i = 0; i < nw; i++)
			if (w[i].begin <= r->verdict.end && w[i].last >= r->verdict.start)
				seen[w[i].fn] = true;
		printf("%s/%s read@%s:%s write@", orc_kind_name(r->verdict.kind),
		       r->divergence_class, fz_target_op_name(p->target, p->ops[r->op_index].kind),
		       r->read_kind == MMU_READ_HW_WALK ? "hardware_walk" : "mmu_spte_get_lockless");
		/* Sorted by name, so the line does not depend on the enum's order. */
		for (;;) {
			int best = -1;

			for (int f = 0; f < MMU_FN_COUNT; f++)
				if (seen[f] && (best < 0 ||
						strcmp(mmu_fn_name((enum mmu_fn)f),
						       mmu_fn_name((enum mmu_fn)best)) < 0))
					best = f;
			if (best < 0)
				break;
			printf("%s", any ? "," : "");
			print_word(mmu_fn_name((enum mmu_fn)best));
			seen[best] = false;
			any = true;
		}
		printf("%s\n", any ? "" : "-");
	}
	fz_exec_free(x);
	return 1;
}

/* explore's report of the divergence it saved: exactly repro's. */
static int repro_report(const char *path)
{
	return cmd_repro(path, false, NULL);
}

int main(int argc, char **argv)
{
	const char *cmd = argc >= 2 ? argv[1] : "";

	/* A crash found with a plugged protocol: the launcher rebuilt it. */
	if (fz_protocol_load(getenv("SPTERACE_PROTOCOL")) != 0)
		return 2;

	if (strcmp(cmd, "mutants") == 0 && argc == 2)
		return cmd_mutants();
	if (strcmp(cmd, "mutants") == 0 && argc == 4 && strcmp(argv[2], "--target") == 0)
		return cmd_mutants_for(argv[3]);
	if (strcmp(cmd, "mutants") == 0 && argc >= 3 && strcmp(argv[2], "--markdown") == 0)
		return cmd_mutants_markdown(argc - 3, argv + 3);
	if (strcmp(cmd, "stats") == 0 && argc == 4)
		return cmd_stats(argv[2], argv[3]);
	if (strcmp(cmd, "signature") == 0 && argc == 3)
		return cmd_signature(argv[2]);
	if (strcmp(cmd, "explore") == 0)
		return explore_main(argc - 2, argv + 2, repro_report);
	if (strcmp(cmd, "decode") == 0 && argc == 3)
		return cmd_decode(argv[2]);
	if (strcmp(cmd, "encode") == 0 && argc == 5 && strcmp(argv[3], "-o") == 0)
		return cmd_encode(argv[2], argv[4]);
	if (strcmp(cmd, "repro") == 0 && argc >= 3) {
		bool json = false;
		const char *html = NULL, *file = NULL;

		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--json") == 0)
				json = true;
			else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc)
				html = argv[++i];
			else if (argv[i][0] != '-' && !file)
				file = argv[i];
			else
				return usage();
		}
		return file ? cmd_repro(file, json, html) : usage();
	}
	if (strcmp(cmd, "minimize") == 0 && (argc == 3 || (argc == 5 && strcmp(argv[3], "-o") == 0)))
		return cmd_minimize(argv[2], argc == 5 ? argv[4] : NULL);
	if (strcmp(cmd, "regress") == 0 && argc >= 4) {
		const char *what = NULL, *root = ".";

		for (int i = 4; i < argc; i++) {
			if (strcmp(argv[i], "--what") == 0 && i + 1 < argc)
				what = argv[++i];
			else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
				root = argv[++i];
			else
				return usage();
		}
		return cmd_regress(argv[2], argv[3], what, root);
	}
	return usage();
}
