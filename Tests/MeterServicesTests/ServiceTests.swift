// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ADE9000Sim
import MeterReadings
import MeterClock
import MeterServices
import MeterStore
import Testing

/// The sampler and the storage service together, on a virtual clock, writing a real SQLite file.
@Suite struct ServiceTests {
    let epoch = 1_795_000_020.0 // a minute boundary

    @Test func thirtyMinutesGiveThirtyWholeRowsWithExactEnergy() async throws {
        let rig = ServiceRig(scenario: .balanced(voltage: 230, current: 10, angle: 0), clock: VirtualClock(wall: epoch + 7.3))
        try await rig.run(seconds: 1800)
        let rows = try rig.store().rows(from: 0, to: .max)
        #expect(rows.count == 30)
        for (index, row) in rows.enumerated() {
            #expect(row.time == Int64(epoch) + 60 + Int64(index) * 60)
            #expect(row.flags.isEmpty, "\(row.time) flags \(row.flags)")
            #expect(abs(row.durationSeconds - 60) < 0.01)
            #expect(row.samples == 60)
            for phase in Phase.allCases {
                let energy = row.energy[phase.rawValue].whImport
                #expect(abs(energy - 2300.0 / 60) < 2300.0 / 60 * 0.005, "\(row.time) \(phase): \(energy) Wh")
                #expect(abs(row.phases[phase.rawValue].p * row.durationSeconds / 3600 - energy) < 1e-9)
                #expect(abs(row[phase].v - 230) < 0.1 && abs(row[phase].i - 10) < 0.01)
            }
        }
        // Lifetime totals equal the rows, and survive reopening.
        let totals = try rig.store().totals()
        #expect(abs(totals[.a]!.whImport - rows.reduce(0) { $0 + $1.energy[0].whImport }) < 1e-9)
    }

    @Test func rowsMeasuredBeforeClockSyncAreHeldAndRestamped() async throws {
        // The Pi boots with a clock a day behind and unsynchronised; NTP steps it at service time 700 s.
        let bogus = epoch - 86_400 + 13
        let clock = VirtualClock(wall: bogus, synchronized: false, events: [.init(at: 800, wallJump: 86_400 - 13, synchronize: true)])
        let rig = ServiceRig(clock: clock)
        try await rig.run(seconds: 1500, startOnBoundary: false)
        let store = try rig.store()
        let rows = try store.rows(from: 0, to: .max)
        let aside = try store.conflicts()
        #expect((rows + aside).allSatisfy { $0.time >= Int64(epoch) - 3600 }, "no row under the bogus date")
        // Only a partial row sharing its minute with another partial one around the sync step goes aside.
        #expect(aside.count <= 1 && aside.allSatisfy { $0.flags.contains(.partial) })
        let restamped = rows.filter { $0.flags.contains(.restamped) }
        #expect(restamped.count >= 10)
        #expect(Set(rows.map(\.time)).count == rows.count)
        #expect((rows + aside).allSatisfy { $0.durationSeconds <= 60.01 })
        // Every simulated second is in exactly one row: no gap, no overlap.
        let covered = (rows + aside).reduce(0) { $0 + $1.durationSeconds }
        #expect(abs(covered - 1500) < 2, "covered \(covered) s")
        // Re-stamped rows come before the synced ones, in order.
        let times = rows.map(\.time)
        #expect(times == times.sorted())
    }

    @Test(arguments: [-3600.0, 3600.0])
    func aClockJumpNeverOverwritesDuplicatesOrStretchesARow(jump: Double) async throws {
        let clock = VirtualClock(wall: epoch, events: [.init(at: 100 + 630.5, wallJump: jump, synchronize: nil)])
        let rig = ServiceRig(clock: clock)
        try await rig.run(seconds: 1800)
        let store = try rig.store()
        let rows = try store.rows(from: 0, to: .max), aside = try store.conflicts()
        #expect(Set(rows.map(\.time)).count == rows.count)
        #expect(aside.isEmpty) // one run cannot collide with itself: only an earlier run's rows could
        #expect((rows + aside).allSatisfy { $0.durationSeconds <= 60.01 })
        #expect(rows.filter { $0.flags.contains(.clockJump) }.count == 2)
        let covered = (rows + aside).reduce(0) { $0 + $1.durationSeconds }
        #expect(abs(covered - 1800) < 2)
        let energy = (rows + aside).reduce(0) { $0 + $1.energy[0].whImport }
        #expect(abs(energy - 2300 * covered / 3600) < 2300 * covered / 3600 * 0.001)
    }

    @Test func aSecondRunUnderTheSameMinutesGoesAsideInsteadOfOverwriting() async throws {
        let first = ServiceRig(clock: VirtualClock(wall: epoch))
        try await first.run(seconds: 300)
        let before = try first.store().rows(from: 0, to: .max)
        // The same minutes again (the clock was set back): a new rig on the same database file.
        let second = ServiceRig(scenario: .balanced(voltage: 230, current: 5), clock: VirtualClock(wall: epoch))
        try await SecondRun.copyDatabase(from: first, to: second)
        try await second.run(seconds: 300)
        let store = try second.store()
        #expect(try store.rows(from: 0, to: .max) == before)
        #expect(try store.conflicts().count == 5)
    }
}

enum SecondRun {
    static func copyDatabase(from a: ServiceRig, to b: ServiceRig) async throws {
        let store = try a.store()
        store.close()
        #expect(system("cp '\(a.dbPath)' '\(b.dbPath)'") == 0)
    }
}

#if canImport(Glibc)
import Glibc
#endif
