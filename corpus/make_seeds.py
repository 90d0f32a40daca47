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

# The same lockless races under PCT (format 3), so one fuzzing run tries
# every schedule source.  The schedule bytes are PCT's parameters: depth 3
# with a change-point bound of 128 relevant steps, a priority per agent,
# and three change points.
PCT_PARAMS = [3 | 4 << 2, 40, 200, 120, 90, 10, 250, 60, 30, 70, 0, 15, 0, 95, 0]
for name in ("change-pte-aba-vs-fast-pf", "walkers-vs-zap-tso", "fast-pf-dirty-log",
             "notifier-remap-vs-fault", "dirty-bit-vs-unmap", "mmio-walk-direct"):
    data = MMU_SEEDS[name]
    # The same program: version 3, the extension byte, then its operations.
    n = data[2]
    MMU_SEEDS[name + "-pct"] = (bytes([3, data[1], n, 0x02]) + data[3:3 + 4 * n] +
                                bytes(PCT_PARAMS))

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
