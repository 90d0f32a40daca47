"""cc_fuzz_test: a minimal, offline stand-in for rules_fuzzing's macro.

For cc_fuzz_test(name = "x", ...) this generates:

  x_lib        cc_library (alwayslink) with the harness, which defines
               LLVMFuzzerTestOneInput and optionally LLVMFuzzerInitialize.
  x            cc_test tagged "fuzz-test": the harness linked with
               //fuzz:replay_main, run over every corpus file. It never fuzzes.
  x_afl        cc_binary tagged "manual". With --config=afl (or
               afl-cmplog) it links AFL++'s driver (libAFLDriver.a);
               otherwise //fuzz:replay_main.
  x_libfuzzer  cc_binary tagged "manual". With --config=libfuzzer
               (--define=engine=libfuzzer) it links libFuzzer's main via
               -fsanitize=fuzzer; otherwise it links //fuzz:replay_main, so
               it builds in every configuration.

Requires in //fuzz:BUILD:
  config_setting(name = "engine_libfuzzer", define_values = {"engine": "libfuzzer"})
  cc_library(name = "replay_main", ...)   # C main() replaying files/dirs from argv
"""

_REPLAY_MAIN = "//fuzz:replay_main"
_ENGINE_LIBFUZZER = "//fuzz:engine_libfuzzer"
_ENGINE_AFL = "//fuzz:engine_afl"

# AFL++ 4.04c's driver for LLVMFuzzerTestOneInput harnesses (persistent
# mode, shared-memory inputs, deferred forkserver): Debian's afl++ package.
_AFL_DRIVER = "/usr/lib/afl/libAFLDriver.a"

# kwargs that only make sense on the library compiling the harness.
_LIB_ONLY_ATTRS = ["copts", "defines", "local_defines", "includes", "hdrs", "textual_hdrs"]

# kwargs shared by all generated targets.
_COMMON_ATTRS = ["visibility", "testonly", "features", "target_compatible_with"]

def cc_fuzz_test(
        name,
        srcs,
        deps = [],
        corpus = [],
        data = [],
        args = [],
        size = "small",
        tags = [],
        **kwargs):
    """Declares a fuzz harness, its replay regression test and a libFuzzer binary.

    Args:
      name: base name of the generated targets.
      srcs: harness sources (define LLVMFuzzerTestOneInput).
      deps: libraries the harness uses.
      corpus: labels (usually filegroups like //corpus:spte) whose files the
        regression test replays; passed as arguments via $(locations).
      data: extra runtime data for the test.
      args: extra arguments appended after the corpus paths.
      size: test size.
      tags: tags for all targets; the test also gets "fuzz-test", the
        libFuzzer binary also gets "manual".
      **kwargs: copts/defines/local_defines/includes/hdrs/textual_hdrs go to
        <name>_lib; visibility/testonly/features/target_compatible_with go to
        all targets; anything else (e.g. timeout, flaky, env, linkstatic,
        linkopts) goes to the cc_test.
    """
    lib_kwargs = {}
    for k in _LIB_ONLY_ATTRS:
        if k in kwargs:
            lib_kwargs[k] = kwargs.pop(k)
    common = {}
    for k in _COMMON_ATTRS:
        if k in kwargs:
            common[k] = kwargs.pop(k)

    lib = name + "_lib"
    native.cc_library(
        name = lib,
        srcs = srcs,
        deps = deps,
        alwayslink = True,
        tags = tags,
        **dict(common, **lib_kwargs)
    )

    # Link statically like the fuzzing binary, so the test exercises the same
    # object layout (and sanitizer runtimes need no shared-library exports).
    linkstatic = kwargs.pop("linkstatic", True)
    native.cc_test(
        name = name,
        deps = [":" + lib, _REPLAY_MAIN],
        data = corpus + data,
        args = ["$(locations %s)" % c for c in corpus] + args,
        size = size,
        tags = tags + ["fuzz-test"],
        linkstatic = linkstatic,
        **dict(common, **kwargs)
    )

    native.cc_binary(
        name = name + "_libfuzzer",
        deps = [":" + lib] + select({
            _ENGINE_LIBFUZZER: [],
            "//conditions:default": [_REPLAY_MAIN],
        }),
        linkopts = select({
            _ENGINE_LIBFUZZER: ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        linkstatic = True,
        tags = tags + ["manual"],
        **common
    )

    # With --config=afl (or afl-cmplog): the harness under AFL++'s driver.
    native.cc_binary(
        name = name + "_afl",
        deps = [":" + lib] + select({
            _ENGINE_AFL: [],
            "//conditions:default": [_REPLAY_MAIN],
        }),
        linkopts = select({
            _ENGINE_AFL: ["-Wl,--whole-archive", _AFL_DRIVER, "-Wl,--no-whole-archive"],
            "//conditions:default": [],
        }),
        linkstatic = True,
        tags = tags + ["manual"],
        **common
    )
