#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the hand-made seed programs of corpus/spte/.

Each seed is a scenario from docs/kvm-shadow-mmu.md 3 (a writer under
mmu_lock against lockless readers), in fuzz/program.h's format (1 for the spte target, 2 for mmu, 3 for
the mmu seeds' PCT variants), with a
few schedules.  Run from the repository root: python3 corpus/make_seeds.py
"""
import os

OP = dict(set=0, update=1, clear=2, clear_notrack=3, remap=4, age=5, mmio=6,
          read=7, fast_pf=8, hw_walk=9)


def program(ops, sched=b"", cpus=2, host64=False, sc=False, bytes_sched=False):
    config = int(host64) | int(sc) << 1 | int(bytes_sched) << 2 | (cpus - 2) << 3
    out = bytes([1, config, len(ops)])
    for kind, cpu, slot, a, b in ops:
        out += bytes([OP[kind], cpu << 4 | slot, a, b])
    return out + bytes(sched)


# pfn selector a: bits 0-1 low part (0x12345, 0x1, 0xfffff, 0xa0b), bits 2-3
# high part (0, 1, 7, 0xff); a high part != 0 puts the pfn above 4 GiB.
HIGH7 = 0x08            # pfn 0x712345, read-only, not accessed: rewrite keeps low
LOW_ONLY = 0x00         # pfn 0x12345: same low 20 bits, high part 0
VOLATILE = 0x02         # b: host-writable + MMU-writable (locklessly modifiable)
WRITABLE = 0x03

SEEDS = {
    # kvm_set_pte_rmapp ABA: A(pfn 0x712345) -> 0 -> B(pfn 0x12345), equal low halves.
    "remap-aba-reader": program(
        [("set", 0, 0, HIGH7, 0), ("remap", 0, 0, LOW_ONLY, 0), ("remap", 0, 0, HIGH7, 0),
         ("read", 1, 0, 0, 0), ("read", 1, 0, 0, 0), ("read", 1, 0, 0, 0)],
        sched=[9, 1, 3, 0, 4, 1, 2, 0]),
    "remap-aba-bytes": program(
        [("set", 0, 0, HIGH7, 0), ("remap", 0, 0, LOW_ONLY, 0), ("read", 1, 0, 0, 0),
         ("remap", 0, 0, HIGH7, 0), ("read", 1, 0, 0, 0)],
        sched=[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0],
        bytes_sched=True, sc=True),
    # W1 of a value above 4 GiB while readers and the hardware walker look.
    "set-high-pfn-walkers": program(
        [("set", 0, 1, HIGH7 | 0x40, WRITABLE), ("read", 1, 1, 0, 0), ("hw_walk", 1, 1, 0, 0),
         ("read", 1, 1, 0, 0), ("hw_walk", 1, 1, 0, 0)],
        sched=[3, 1, 2, 0, 1, 1]),
    # W2/W3 clears of a present high-pfn spte against a reader.
    "clear-high-pfn-reader": program(
        [("set", 0, 2, 0x0c, 0), ("clear", 0, 2, 0, 0), ("set", 0, 2, 0x0c | 0x10, VOLATILE),
         ("clear", 0, 2, 0, 0), ("read", 1, 2, 0, 0), ("read", 1, 2, 0, 0)],
        sched=[12, 1, 4, 0, 2, 1]),
    # In-place permission updates (fast and slow path) racing fast page fault.
    "update-vs-fast-pf": program(
        [("set", 0, 0, 0x14, VOLATILE), ("update", 0, 0, 0x54, VOLATILE),
         ("update", 0, 0, 0x14, 0x01), ("fast_pf", 1, 0, 0, 0), ("fast_pf", 2, 0, 0, 0),
         ("read", 1, 0, 0, 0)],
        cpus=3, sched=[8, 1, 2, 2, 3, 0]),
    # Aging (clear_bit A) against the hardware walker, on a 64-bit host.
    "age-64bit": program(
        [("set", 0, 3, 0x1d, WRITABLE), ("age", 0, 3, 0, 0), ("hw_walk", 1, 3, 0, 0),
         ("read", 1, 3, 0, 0), ("fast_pf", 1, 3, 0, 0)],
        host64=True, sched=[5, 1]),
    # MMIO spte installed and cleared while a reader walks.
    "mmio-clear-reader": program(
        [("mmio", 0, 1, 0, 6), ("clear_notrack", 0, 1, 0, 0), ("read", 1, 1, 0, 0),
         ("read", 1, 1, 0, 0)],
        sched=[6, 1, 2, 0]),
    "empty": b"",
}

MMU_OP = dict(access=0, gpte_write=1, invlpg=2, mov_cr3=3, mode=4, invalidate=5,
              change_pte=6, age=7, dirty_log=8, zap_all=9)


def mmu_program(paging, ops, wp=True, host64=True, sc=False, vcpus=2, sched=b"",
                bytes_sched=False):
    """paging: 0 off, 1 32-bit, 2 PAE, 3 long mode; ops: (kind, a, b) on vCPU 0,
    or (kind, cpu, a, b): a vCPU for guest operations, host thread cpu & 1 for
    host operations (invalidate, change_pte, age, dirty_log, zap_all)."""
    config = (int(host64) | int(sc) << 1 | int(bytes_sched) << 2 | (vcpus - 2) << 3 |
              (paging | (4 if wp else 0)) << 5)
    # Format 2: the CPUs set the sptes' accessed and dirty bits.
    out = bytes([2, config, len(ops)])
    for op in ops:
        kind, cpu, a, b = op if len(op) == 4 else (op[0], 0, op[1], op[2])
        out += bytes([MMU_OP[kind], cpu << 4, a, b])
    return out + bytes(sched)


# a: high nibble table (0-2), low nibble entry (0-15); access b: W=1 U=2 F=4.
ACCESS_SWEEP = [("access", t << 4 | i, b) for t in (0, 1, 2) for i in (0, 1, 2, 3, 5, 10)
                for b in (0, 1, 3)]
MMU_SEEDS = {
    "long-mode-sweep": mmu_program(3, ACCESS_SWEEP[:24]),
    "pae-sweep-32bit-host": mmu_program(2, ACCESS_SWEEP[:24], host64=False),
    "two-level-sweep": mmu_program(1, [op for op in ACCESS_SWEEP if op[1] >> 4 < 2][:24]),
    "nonpaging-direct": mmu_program(0, [("access", i, 1) for i in range(12)]),
    "gpte-write-invlpg": mmu_program(3, [("access", 0x01, 3), ("gpte_write", 0x01, 0x0f),
                                         ("access", 0x01, 3), ("invlpg", 0x01, 0),
                                         ("access", 0x01, 3), ("gpte_write", 0x11, 0x4b),
                                         ("mov_cr3", 0, 0), ("access", 0x01, 1)]),
    "mode-changes": mmu_program(3, [("access", 0x02, 1), ("mode", 2, 1), ("access", 0x02, 1),
                                    ("mode", 1, 0), ("access", 0x02, 1), ("mode", 0, 0),
                                    ("access", 0x02, 1), ("mov_cr3", 0, 1)]),
    "unsync-resync": mmu_program(3, [("access", 0x0d, 1), ("access", 0x0d, 1),
                                     ("gpte_write", 0x03, 0x1f), ("gpte_write", 0x03, 0x1b),
                                     ("mov_cr3", 0, 0), ("access", 0x03, 3),
                                     ("mov_cr3", 0, 1), ("access", 0x03, 3)]),
    # Several vCPUs and the host threads (issue 5); the preemption lists were
    # picked (by trying schedules) to reach the lockless paths.  Direct map on a 32-bit
    # host: fast page fault's lockless walk and cmpxchg64 against dirty
    # logging's write protection and get_dirty_log.
    "fast-pf-dirty-log": mmu_program(
        0, [("access", 0, 0x00, 1), ("access", 1, 0x01, 1), ("dirty_log", 0, 0, 0),
            ("access", 0, 0x00, 1), ("access", 1, 0x00, 1), ("dirty_log", 0, 0, 1),
            ("access", 1, 0x01, 1), ("access", 0, 0x00, 1), ("dirty_log", 0, 0, 1)],
        host64=False, sched=[32, 3, 31, 2]),
    # A write-protected (dirty-logged) spte made writable by fast page fault
    # and dirtied by the CPU while the host unmaps the frame: the dirty bit
    # must reach the host.
    "dirty-bit-vs-unmap": mmu_program(
        0, [("access", 0, 0x00, 0), ("dirty_log", 0, 0, 0), ("dirty_log", 0, 0, 1),
            ("access", 1, 0x00, 1), ("access", 1, 0x00, 1), ("invalidate", 0, 0x00, 1),
            ("access", 0, 0x01, 1), ("invalidate", 0, 0x01, 1)],
        host64=False, sched=[40, 2, 6, 1, 10, 2]),
    # The same race on sequentially consistent memory, with the second vCPU
    # busy first (its invlpg) so that dirty logging can begin without it.
    "dirty-bit-vs-unmap-sc": mmu_program(
        0, [("access", 0, 0x00, 0), ("dirty_log", 0, 0, 0), ("dirty_log", 0, 0, 1),
            ("invlpg", 1, 0x05, 0), ("access", 1, 0x00, 1), ("invalidate", 0, 0x00, 1)],
        host64=False, sc=True),
    # A 32-bit guest clears a PDE on one vCPU while another vCPU's fault is
    # between its guest walk and FNAME(fetch) (the gpte_changed re-check).
    "pde-write-vs-fault-32bit": mmu_program(
        1, [("access", 0, 0x00, 0), ("gpte_write", 1, 0x05, 0), ("invlpg", 0, 0x00, 0)],
        host64=False, sc=True),
    # A written page's spte rewritten by sync_page: mov cr3 after the page
    # table went unsync.
    "sync-page-32bit": mmu_program(
        1, [("access", 0, 0x00, 1), ("gpte_write", 0, 0x19, 0), ("mov_cr3", 0, 0x00, 0)],
        host64=False, sc=True),
    # MMU notifiers: remaps of a mapped frame against faults on it.
    "notifier-remap-vs-fault": mmu_program(
        0, [("access", 0, 0x02, 1), ("invalidate", 0, 0x02, 1), ("access", 1, 0x02, 1),
            ("change_pte", 1, 0x02, 2), ("access", 0, 0x02, 0), ("invalidate", 0, 0x02, 0),
            ("access", 1, 0x02, 1), ("age", 1, 0x02, 0)],
        host64=False, vcpus=3, sched=[38, 0, 28, 2, 14, 4, 6, 2]),
    # Fast zap-all and page recycling while other vCPUs walk (zap waits for them).
    "zap-all-vs-walkers": mmu_program(
        0, [("access", 0, 0x00, 1), ("access", 1, 0x10, 1), ("zap_all", 0, 0, 0),
            ("access", 0, 0x01, 1), ("access", 1, 0x0a, 0), ("access", 1, 0x0a, 0),
            ("zap_all", 1, 0, 0), ("access", 0, 0x00, 1)],
        host64=False, sched=[20, 1, 17, 3, 19, 0]),
    # The MMIO walk: a second access to the MMIO hole faults with RSVD.
    "mmio-walk-direct": mmu_program(
        0, [("access", 0, 0x0a, 0), ("access", 0, 0x0a, 0), ("access", 1, 0x0a, 1),
            ("zap_all", 0, 0, 0), ("access", 1, 0x0a, 0)], host64=False,
        sched=[37, 0, 30, 1, 25, 3, 11, 2]),
    # Shadow paging on two vCPUs: one writes a gpte of an unsync table, the
    # other resyncs on mov cr3 and faults.
    "shadow-two-vcpus-unsync": mmu_program(
        3, [("access", 0, 0x0d, 1), ("access", 1, 0x03, 1), ("gpte_write", 0, 0x03, 0x1f),
            ("access", 1, 0x03, 3), ("mov_cr3", 1, 0, 0), ("access", 1, 0x03, 3),
            ("invlpg", 0, 0x03, 0), ("access", 0, 0x03, 1)],
        host64=False, sched=[9, 1, 4, 0, 7, 1]),
    # Lockless walkers (fast page fault under dirty logging, the MMIO walk of
    # both MMIO holes) on three vCPUs while the host zaps every page.
    "walkers-vs-zap-tso": mmu_program(
        0, [("access", 0, 0x00, 1), ("access", 1, 0x01, 1), ("access", 2, 0x0a, 0),
            ("dirty_log", 0, 0, 0), ("access", 0, 0x00, 1), ("access", 1, 0x1a, 0),
            ("zap_all", 1, 0, 0), ("access", 2, 0x01, 1), ("access", 0, 0x0a, 0),
            ("dirty_log", 0, 0, 1), ("access", 1, 0x00, 1), ("zap_all", 1, 0, 0),
            ("access", 2, 0x1a, 0), ("access", 0, 0x01, 1)],
        host64=False, vcpus=3, bytes_sched=True,
        sched=[0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 0, 1, 2, 3]),
    # kvm_set_pte_rmapp twice on a mapped frame (to frames with the same low
    # 20 bits: the second rewrite keeps the low half) while vCPUs write to it
    # (every write fault walks locklessly first): the race the count is for.
    "change-pte-aba-vs-fast-pf": mmu_program(
        0, [("access", 0, 0x00, 1), ("access", 1, 0x00, 1), ("age", 0, 0x00, 1),
            ("age", 0, 0x00, 1), ("age", 0, 0x00, 1), ("change_pte", 0, 0x00, 1),
            ("access", 0, 0x00, 1), ("access", 1, 0x00, 1), ("change_pte", 0, 0x00, 2),
            ("access", 0, 0x00, 1), ("access", 1, 0x00, 1), ("change_pte", 0, 0x00, 1),
            ("access", 0, 0x00, 1), ("access", 1, 0x00, 1), ("change_pte", 0, 0x00, 2),
            ("access", 0, 0x00, 1), ("access", 1, 0x00, 1)],
        host64=False, bytes_sched=True, sched=[]),
    "shadow-pae-aging-tso": mmu_program(
        2, [("access", 0, 0x00, 1), ("access", 1, 0x01, 0), ("age", 0, 0x00, 0),
            ("age", 1, 0x01, 1), ("access", 0, 0x00, 1), ("access", 1, 0x00, 0)],
        host64=False, vcpus=4, bytes_sched=True,
        sched=[0, 1, 2, 3, 4, 5, 0, 0, 1, 1, 4, 4, 5, 5, 2, 3]),
}


# The schedules of the lockless-race seeds, picked by fuzz/pick_schedule:
#   bazel-bin/fuzz/pick_schedule corpus/mmu/NAME --tries 3000 --seed 1
#   bazel-bin/fuzz/pick_schedule corpus/mmu/NAME-pct --pct --len 24 --tries 3000 --seed 1
# (the byte stream: the choices of the run with the most lockless spte
# reads among 3000 random schedules, cut to the shortest prefix that still
# reaches as many; PCT: its parameters).  A schedule
# stops reaching its race when the model changes: fuzz/seeds_test checks
# that each of these seeds still runs a lockless read; pick again then.
PICKED = {
    "change-pte-aba-vs-fast-pf": bytes.fromhex(
        "25fd99f836fbb2a3ab1c4c049b4d48d7551487dbf0f0fbcfff41634e46dffaffe8e7e1e9"
        "7529d44cc7b15bfadf3cd279449481b61515fa28e2544e4c96f3a8e473bef058dcdfa20a"
        "8492677837274f5d437fce4ae93a1ef1874b8646eadc1e12449b3378d7790503b88ed785"
        "8ce36b0181a378bed195aca8ded51f93d19865a0735f652f487fd7ffe717f9dfce3a273f"
        "1dc3df18cf1f5c99aaa6f0d463a6d77287e53bec8b7022d6a00acd43692c7583e8248b25"
        "8a35f6719e17278b0afc687a86d290d5633b0bf5426437ca374361a4c18fb657dfb0eef0"
        "892faedf87456660e5dab267a0c32d2aa7e068d06acf6f616fd6857f3a835a71a741fd63"
        "6e3eb17cae789df1593370717aefcf5ad2135b7987c0495b649fbd56de5eb7cf06a8a5f8"
        "649e13ba84d8e5c1702b6b1b3031021d52070cf6892b44be8dc688b364a0e4a72c8f24c0"
        "cffc682aa7e142584294e099ef543591dba195ea5d6b95b779624458c3fac6a048969ef6"
        "b7b76e23e16559e59626933aa1e0909b90c44bf72da53c017bce3fd532396637b103aeea"
        "db0909f67744a8c562e9f4818f42568645783701a6632e37fb"),
    "fast-pf-dirty-log": bytes.fromhex(
        "0915a0441d63dc404508eeb2b12d8a172a21fc6f47fcc9090d15060b0c02684f2337a6c7"
        "1c69ced6d8ef82e7998aedaf0e399e27cfad56f3db5984cc5060a91b5d52996b"),
    "dirty-bit-vs-unmap": bytes.fromhex(
        "8836206c11cad5325d9a4208df2f13c48b500bad25315e8efe1c3a897a4d7dcc4de920ab"
        "ecc6228c6fc23de7241d05ce2663ea1aa6747fda98be3ab39bb25bb3a9593daea63ddf31"
        "1416ddb76c554f6aac596f49a9d68997c0ac2bdc223a14c5372e069967a681bf28194a7f"
        "106f21652f3eedd142d905c2913f4c701a54ed8ae84a24f678588e8c9c2a6e8356a973ac"
        "a6b1b34ca4324d35549538df8cfa2fc5647567af589c440e304201a5b874bfdbe383cb61"
        "29e44f607af4c0c234ac2561b6c9020f8b00affaddd1d8d3d83bf1b713ae960295a162f6"
        "046a53d2f08344c25a06aa205c340793afb717dc0d0df993364fc3e5e0f226a17810a90e"
        "98501b201a136e61136819614d0ae96b"),
    "dirty-bit-vs-unmap-sc": bytes.fromhex(
        "42cd582e74a55652cdfd466079074edaafa15b889846ee9607e599394c6a9432d52ec90a"
        "0f9560e1e0e7e3c788b75a1470dca55103a3a5a8b7ac359adfc22cc71418a571fbea1e74"
        "ab6a18567dbc1e2e92e70a57a68441c065623fcc8da90ef6853001953fa294a5e93a9745"
        "303eef55c4c952529ebdf102830c8162efb340c2c20e12c5a8dd6526b8ca106de98faae7"
        "1b6a0a3df7611f01b4e639732962f133d898e5eb3190787163e0acf165da60d761579638"
        "31b0d580262559b717da7f33a9d89313866ffb3e9bd57777d22ff802f441473d2570"),
    "mmio-walk-direct": bytes.fromhex(
        "bc1de719f1a387467ea6dfba59d89b87a87f68bf460626f490027307908426aee7765bbc"
        "fc63b90fa4666df4a70164d875f6464606e732c97c2589a2afbd6c6ad04c538dcb7e91fc"
        "7a08d0115fc4ea094dc8453c2ef27b96b4a42639ec1e3cf0577472eadebd7ac0fac2dc9a"),
    "walkers-vs-zap-tso": bytes.fromhex(
        "b864c5ef17910e28e029493dfc4bff1617341ef705612f7fff50ed8f18d7135145e05ebe"
        "2ff054723c8998bd34e4652469f01d91059180f471938b47035a31a59c64d81b2f7901d9"
        "404eac5d92be07be2d27a0a09a21047f747d5dd79ed03015c65aade52280ff118ab375e5"
        "ec62dc41895a2159b2bd399f989a6302b772c30af34159b4abe1126cf945e0cf06b0c58c"
        "cda65fd91d2574ff9e94f90b049899143fb2ea09f5aa68b17b5ef7f16a5aa6c35acad9bb"
        "2fd1deb9223774e3d2582bf0a34d58b12670bf99d949d8b1470a49432d804171fdb622c5"
        "4e020b26c66bbb49a007d2c0fba0ad52c70ebdbece2a29142cc4d5a3c6c0a44637ad6656"
        "937e889b712092399c465001428d22f9b369c6d049278cdb9aa9b43f2b7b06e84ff205c2"
        "52fe532aad10ee8a5e28f5ec4dc312871ec6ca6b1afc6483420f21537d9cc116b0f08cbc"
        "fe519358b0d5ad5cde72b4b0baf55d6e52d602caa50086c7e520a43b459b5a0bd27f9f62"
        "27b49d0baa6728773ff658b1cb6026a2e6c13529eb15d913941b2d731304ba5cdf7d98ad"
        "cb16e67691d529b299905314c8c94599c11a8208ead346baee338531af9beddf40a4e455"
        "c85d3217c0ca5c197a29e0cfd651be1fdd2e0e97b766c475fd9e7203aba42fe787f1e1a6"
        "8258550185aed8ee345ed14d3bb32d1fd659e88b713e3ebe9d645d30de624c7d00773ebc"
        "7c853d266f6381f6ba8052935177ceecc4da845e60033ea47d44751fa076b26c05895a63"
        "7e68840d6497440598dce9d8bdcffff1b2a9bad4e3b35a0b2ced12f9792c68c4d8882cce"
        "34d9925b59dbf49013ef0b57c11b8b96977ed6614ac0e01727981d7382ffc0180fdc9c69"
        "4fa010b672c3dce681c2b6d067cf74682adfadd9725fa6d15d5ae8278743aafee617fd92"
        "aff314fac887312abd16b8"),
}
PICKED_PCT = {
    "change-pte-aba-vs-fast-pf": bytes.fromhex(
        "32db60d50bcf1cb6a1de931c6d503842cd0a485eafe5fefd"),
    "fast-pf-dirty-log": bytes.fromhex(
        "574904a35e54b9ec25268da8e4709bbb38f8cf0e7f551fdd"),
    "dirty-bit-vs-unmap": bytes.fromhex(
        "6e2ab9af246554b389c1aa0b81b67224fc76fc58a6b1501b"),
    "mmio-walk-direct": bytes.fromhex(
        "2eeadb70e281b3ba88e7ff840636dbb18e3fea1157076689"),
    "walkers-vs-zap-tso": bytes.fromhex(
        "5291c2b5b4e4f3186fb247baae4e2bdc117a1bd63ac689f6"),
}

for name, sched in PICKED.items():
    data = MMU_SEEDS[name]
    n = data[2]
    # The same program with its picked byte-stream schedule (config bit 2).
    MMU_SEEDS[name] = bytes([data[0], data[1] | 4, n]) + data[3:3 + 4 * n] + sched

# The same lockless races under PCT (format 3), so one fuzzing run tries
# every schedule source: PCT's parameters (a depth and bound, a priority
# per agent, the change points), picked as above.  notifier-remap-vs-fault
# runs no lockless walk: its PCT variant keeps parameters that were not picked.
PCT_PARAMS = [3 | 4 << 2, 40, 200, 120, 90, 10, 250, 60, 30, 70, 0, 15, 0, 95, 0]
for name in ("change-pte-aba-vs-fast-pf", "walkers-vs-zap-tso", "fast-pf-dirty-log",
             "notifier-remap-vs-fault", "dirty-bit-vs-unmap", "mmio-walk-direct"):
    data = MMU_SEEDS[name]
    # The same program: version 3, the extension byte, then its operations.
    n = data[2]
    MMU_SEEDS[name + "-pct"] = (bytes([3, data[1] & ~4, n, 0x02]) + data[3:3 + 4 * n] +
                                PICKED_PCT.get(name, bytes(PCT_PARAMS)))

if __name__ == "__main__":
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spte")
    os.makedirs(here, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(here, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {here}")
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mmu")
    os.makedirs(here, exist_ok=True)
    for name, data in MMU_SEEDS.items():
        with open(os.path.join(here, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(MMU_SEEDS)} seeds to {here}")
