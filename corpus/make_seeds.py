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
# reads among 3000 random schedules; PCT: its parameters).  A schedule
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
        "db0909f67744a8c562e9f4818f42568645783701a6632e37fbba22e9163a061a76d6fa02"
        "cf18d6561dad55a3797a6d25327b5d7585193114549a8abd60efaa42c309a9c816f220bd"
        "c0746c0b5521730181d21dd83a8a723bdd6f71b6b9381069b8edec69dcdafc0819d2d29d"
        "0a20ba7d466802459f7d13e1d4fcab4ad94b493d0fcee00f70bb7942d2bf8ed3ef657ec4"
        "764f9869fc4240b7ce68c32bf8b0b0f858b70c0af0214294e72d2cdf475e04057d8991d9"
        "d643b3a822c0e9fa25db05fd88ba013f76394a49c4be54357a9fdc483b7b09dc4471d7a0"
        "4696c74fd279cfeb143ed1615ff3d824db3a4b6b1510c59ac30cc68ba9b64f07d4679c66"
        "1824b0b60686f49df136829ca8df2aa0e22f73600bbfaee50a1724d765525e6f244cda80"
        "e929c705e10d70fc85049f6274bf38594677d6a8b11bc50d7b52be50492f7ce52cf1a0c2"
        "5bd128519eae4ea2cd2318a9d618bfe19fb59356ee3a150043a70f825a2cb02ce593ae14"
        "b946bd80cb616ba006ec0b8df46b398b465d4a20ac464a47ee70757c60ce067c184f513e"
        "75fc0cbbc615"),
    "fast-pf-dirty-log": bytes.fromhex(
        "0915a0441d63dc404508eeb2b12d8a172a21fc6f47fcc9090d15060b0c02684f2337a6c7"
        "1c69ced6d8ef82e7998aedaf0e399e27cfad56f3db5984cc5060a91b5d52996b4d030f3e"
        "1ef9583d6929935eb4fd97bc00ede5686bc42c729ee38d6f4675704b712c13c411917c0e"
        "3a447fb1109d9beb595c95b6cf520888974d22162d879442c529be050c2d6e9bd56c13bc"
        "c8332e56e45cb4ae7ba6c0c206f64108710059056dc4f616faec5743d6e27db3a12dcaac"
        "e21cd6775dc5d8836e6c4d53ba17f060d841e138848b227bff9a7892a9f48022d8742d00"
        "9d2ce86e41f0277cb9a224db9541d32fc05f276cd862c81752c9a14ecaba2993615e2252"
        "5db0f38f4f312cda25b4a9ea5677b4bd43de37d3fafeabbf4d63c53b1a5917e70856dab1"
        "46512e9c2d35a5ac19616bc769ea1ae562973be5db77d6c2b2451a4640b98233388c3635"
        "5af182ae6abcfc99409364196bd43ea11e55a2867283934443db388c038d6ab2fd50ab8f"
        "998f706d219640edc6107cf31fe144804dac57a0f049edbd1afcdcecc95614629ef5f209"
        "ec048ad780df3fc187dcc42fbfbf4e6ad275a0bc8bbd212f46094ed81a4a9dba992b67f8"
        "c71efec17b61955d29e5d91feeb6ba065914e36f7de0d1b300972dfd3427c629a25dc4c0"
        "4d1e61a66f83e443e1c4cb3154a6ca74061c52099e42e0359f067b44c6c49746f9aeaf29"
        "1724ce28ce630e1c252d4b93e898d6cc189dd6aee73d995144992ba48be6018b1bb12f91"
        "318570fcddfdfcbd2ec3a81bb09606df897f4fe014f4a57a882fa77691633c39cde559be"
        "3ffda64a6b71c6fd3031dca0faf2c80b915f4dd88136a31c88a1d15b8c2e3b99e31806fb"
        "352d0d3219e4d02622ad18575dcbd8e3e976139246c14db7de84db9c63b2618ada1a0538"
        "0bf1766ab12876c7445dc7b243cc0375cbd35b4e5521c801d986689ffb7841edc862c11c"
        "85bf679da7a55e9d71522f6dc3101ece319c2cfea4b340b22463d2cd4ad3629dc6c7da86"
        "3dba02db44230e8a84a53c72f317a7b1edc4c7b6ef603e11b28a6b89b43d332ffe8984b4"
        "d0e89427fa4d2561e7a6304f39993e4692d190db0da15078efda0b1f11d6818b062963dd"
        "07641f72dad77b5045e2ca7897a4d00ced2e4b7d29b042b39cec2a3eba611f48a2d8c305"
        "b3f6dae9ff88590dc0a98f9ebdc891c4c3074e49000f33d5d8c6f05ce70b6c36cb12ff93"
        "4a779ec87d043432ec9b9189e463f27a2c9529"),
    "dirty-bit-vs-unmap": bytes.fromhex(
        "8836206c11cad5325d9a4208df2f13c48b500bad25315e8efe1c3a897a4d7dcc4de920ab"
        "ecc6228c6fc23de7241d05ce2663ea1aa6747fda98be3ab39bb25bb3a9593daea63ddf31"
        "1416ddb76c554f6aac596f49a9d68997c0ac2bdc223a14c5372e069967a681bf28194a7f"
        "106f21652f3eedd142d905c2913f4c701a54ed8ae84a24f678588e8c9c2a6e8356a973ac"
        "a6b1b34ca4324d35549538df8cfa2fc5647567af589c440e304201a5b874bfdbe383cb61"
        "29e44f607af4c0c234ac2561b6c9020f8b00affaddd1d8d3d83bf1b713ae960295a162f6"
        "046a53d2f08344c25a06aa205c340793afb717dc0d0df993364fc3e5e0f226a17810a90e"
        "98501b201a136e61136819614d0ae96b94b9aaf0bde58c17c290834a7db1a37c675cfe12"
        "618595218e656de6e43bcc4695ab8245478bb5865df12ce5b56f06fd7c7c13f6b5627555"
        "29057f7e018b818c176e2ec747064911c0d43f41650e42169df4ec87f52fac578ce618cb"
        "eddb6f5375293ed74ced16fd03d8b507d8e6db966e542e12e70ecbef2a8d1451b6eca9cd"
        "19a76265462907ee9cbf135f88de8926c315b7a005bb4b5d5ae4ad024391a9d2107a64db"
        "38154be93d9e6be33fb86a1726c2440c178d18508acd37b546aa4380a612322825f9b00d"
        "468405ed1b1c5a669b9da3a1ed4d4df02cb93ac80ee5ae9da9e6769c45747953d67e060d"
        "0711c656724acc9f01151422ab2061649ba5d3fa4a2a67f82c1c7407bd6522d5f2f46cde"
        "f12b81d128beef8dd4ef570b22a6f069720a6e492028313da5b99c713c159c872ff72115"
        "fc4d00ee6ad2d1744027d702e1f2b63edcf37dccf777c6194628f38b05a68636b2aa44d4"
        "d70b88686b9efb9e198bc85b2d984716a8ed11e1c147ac355fc6c37484d55198176da097"
        "3518fafdea2ccd7afdffc44c278b01915fe528a964dcbba6db305378e93c104710931c99"
        "bc1404e4e0be374874d83af19c530aa5d86bc28b4010b0a5fba8fdd1888c3591c0444b31"
        "47bbbe86612092ee3d83903167c655b2a3fa060d6f64ea8e4b59c832cf1daf95e6376d64"
        "5828b2139dd5a7edc8e67116011075bdbc1fb6318346ad"),
    "dirty-bit-vs-unmap-sc": bytes.fromhex(
        "42cd582e74a55652cdfd466079074edaafa15b889846ee9607e599394c6a9432d52ec90a"
        "0f9560e1e0e7e3c788b75a1470dca55103a3a5a8b7ac359adfc22cc71418a571fbea1e74"
        "ab6a18567dbc1e2e92e70a57a68441c065623fcc8da90ef6853001953fa294a5e93a9745"
        "303eef55c4c952529ebdf102830c8162efb340c2c20e12c5a8dd6526b8ca106de98faae7"
        "1b6a0a3df7611f01b4e639732962f133d898e5eb3190787163e0acf165da60d761579638"
        "31b0d580262559b717da7f33a9d89313866ffb3e9bd57777d22ff802f441473d2570bff2"
        "66860237dad8a340ff221a564ecc65cddb53c5396c0a9811fe0fe04035e6023e48d22aa3"
        "c88593562494b6cd6b5478f04650245a934655e359e72acdb437b97fa9065f97be95d47b"
        "f8aedc07917f9811f926e931794146839854790e5261129cceeca0ea25c667fc7d487af8"
        "fe245407c0ca914229811bacfdf07fafb57eeced27b0ebba99750965cdd78d2684f72f60"
        "f763a08e260566ab1b4a365a57df53535b8e4e6b748b6728a3e3380d8e7921050151d894"
        "9184efacce95f4d9a142f9358514fe049b9aa85e02a726e6beec30469cfa006e82ad87a6"
        "be4da733f69a1e504c38d79d9e13966ddf758a6b5ef73aee0dd40467b220b8d6f125321a"
        "44f636d7cd8e2af1cc6fab6e437cd4f41c4d7f5c00aa6bbca533dc27d22f080b0aa19b6d"
        "0104250265"),
    "mmio-walk-direct": bytes.fromhex(
        "bc1de719f1a387467ea6dfba59d89b87a87f68bf460626f490027307908426aee7765bbc"
        "fc63b90fa4666df4a70164d875f6464606e732c97c2589a2afbd6c6ad04c538dcb7e91fc"
        "7a08d0115fc4ea094dc8453c2ef27b96b4a42639ec1e3cf0577472eadebd7ac0fac2dc9a"
        "2d443cd193f51c0826edaefa5630a377cabebb9c616597726979a964ba0c6d2246d3fe6e"
        "cc32f8d704f926a148bff2c75664d9eabf8f77d86d9bd8f501c3e08eedeefba3c71ef2ad"
        "e2f4b67e632c2a691cd6752ee688498f5a72a4ddf863a259f25e31245eafc4904000c793"
        "308d87a62f2eb3b02ba9c567dc34edb6"),
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
        "aff314fac887312abd16b8f857cb591911e011ad66f89172ec27db14701174328da82999"
        "35bd4d5c1895a6b3b6e00efeb9b83cbcd5f8d56e8e7574fc1a10d9c7fc7fd6cfb49e731f"
        "d06d3e5910ae7b3b5c26e02a69aaf6be1aece7390bb79ede00e271860a1e5a7cd1bca004"
        "34d9834015f45320e643ee2deb306a36c4ac1c51f19aa9e798ffb8c78255c4249cd0053b"
        "4b58e87f4357047f9adacf00a2dd9edbb3e56ddebd50ef7a4a1afaa93c6ade74f1db0218"
        "75c4fd7d2a5aa40c33966048697b6aba489e15280899e99fcf47e1df6a9f26ff31d27507"
        "1af20cdd2ae49d4fb6b6f4a4b5ff8eca4830e7621903456e2a90d45188edfb80007d0327"
        "f946afbaeb2ee27133a54728cba06572fcca28601e1fb69e57f333b2dc9845befbc5bfeb"
        "00f0e8805c219564f1262a4a8e0232e00c867f1eef8ca529f9ddb3d1785dbf2fced8be4a"
        "d0a8d0972be25548244daf0c1570f588d68b70e5c22454999f333e557b14946188b2b3f6"
        "c299fa3b8d767ed5e9f9892daad128f5b9dfc119daa1a68816c5c8a0e11c2f20501c9a5c"
        "d50da817c3c73b5342e3fd7a5a1cf539d21e1ca30d64db986fb408d1d6ba778470"),
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
