// SPDX-License-Identifier: Apache-2.0

import ADE9000Sim
import Logging
import MeterApp
import MeterClock
import MeterReadings
import MeterServices
import MeterStore
import MeterTesting
import Synchronization
import Testing

/// The hub's row broadcast with the whole service built by `MeterApp`: consumers that keep up see every row,
/// a stalled one loses only its own rows, visibly, and never slows sampling or storage.
@Suite struct RowBroadcastTests {
    let epoch = 1_795_000_020.0 // a minute boundary

    @Test func twoConsumersSeeEveryRowOnceInOrderWhileAThirdIsStalled() async throws {
        let rig = ServiceRig(scenario: .balanced(voltage: 230, current: 10, angle: 0), clock: VirtualClock(wall: epoch + 7.3))
        let recorder = LogRecorder()
        let app = try rig.makeApp(seconds: 1800, logger: recorder.logger)
        // Subscribed before the group runs, as every feature does in its init.
        let first = app.hub.rows.subscribe("first", buffer: .newest(64))
        let second = app.hub.rows.subscribe("second", buffer: .newest(64))
        let stalled = app.hub.rows.subscribe("stalled", buffer: .newest(2))
        let readings = app.hub.readings.subscribe("readings", buffer: .newest(4096))

        let collect: @Sendable (AsyncStream<MinuteRow>) async -> [MinuteRow] = { stream in
            var seen: [MinuteRow] = []
            for await row in stream { seen.append(row) }
            return seen
        }
        async let firstRows = collect(first)
        async let secondRows = collect(second)
        try await app.run()
        let (a, b) = await (firstRows, secondRows)
        _ = stalled  // never read: its buffer fills after two rows

        let stored = try rig.store().rows(from: 0, to: .max)
        #expect(stored.count == 30)
        #expect(a.map(\.time) == stored.map(\.time), "the first consumer saw every stored row, once, in order")
        #expect(b.map(\.time) == stored.map(\.time), "so did the second")
        #expect(a == stored, "the broadcast rows are the final rows: stamped and flagged as stored")
        // The stalled consumer lost all but its buffer, and that was logged, once.
        #expect(app.hub.rows.dropped(by: "stalled") == 28)
        #expect(app.hub.rows.dropped(by: "first") == 0 && app.hub.rows.dropped(by: "second") == 0)
        let warnings = recorder.entries(.warning).filter { $0.contains("not keeping up") }
        #expect(warnings.count == 1 && warnings[0].contains("consumer=stalled"), "\(warnings)")
        // Sampling kept its grid: every row whole, 60 snapshots each, no missed samples.
        for row in stored {
            #expect(row.flags.isEmpty && row.samples == 60 && abs(row.durationSeconds - 60) < 0.01, "\(row.time): \(row.flags)")
        }
        // The live reading is there without touching the bus, and the readings stream carried each snapshot.
        let latest = try #require(app.hub.latest)
        #expect(abs(latest.phases[0].p - 2300) < 5)
        var count = 0
        for await _ in readings { count += 1 }
        #expect(count == app.sampler.samplesTaken)
    }

    @Test func aSubscriberAfterTheEndGetsAFinishedStream() async {
        let broadcast = Broadcast<Int>("numbers", logger: Logger(label: "test"))
        let early = broadcast.subscribe("early", buffer: .lossless)
        for n in 0..<5 { broadcast.publish(n) }
        broadcast.finish()
        var got: [Int] = []
        for await n in early { got.append(n) }
        #expect(got == [0, 1, 2, 3, 4])
        var late = 0
        for await _ in broadcast.subscribe("late", buffer: .newest(1)) { late += 1 }
        #expect(late == 0)
    }

    @Test func aConsumerThatCatchesUpIsLoggedOnce() async {
        let recorder = LogRecorder()
        let broadcast = Broadcast<Int>("numbers", logger: recorder.logger)
        let slow = broadcast.subscribe("slow", buffer: .newest(2))
        var iterator = slow.makeAsyncIterator()
        for n in 0..<5 { broadcast.publish(n) }      // 3 dropped
        #expect(await iterator.next() == 3)
        #expect(await iterator.next() == 4)
        broadcast.publish(5)                           // buffer empty again: caught up
        #expect(broadcast.dropped(by: "slow") == 3)
        #expect(recorder.entries(.warning).count == 1)
        #expect(recorder.entries(.notice).filter { $0.contains("caught up") }.count == 1)
    }
}
