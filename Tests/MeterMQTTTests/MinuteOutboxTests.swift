// SPDX-License-Identifier: Apache-2.0
import Foundation
import MeterMQTT
import MeterReadings
import MeterStore
import MeterTesting
import Testing

/// The minutes' outbox: a cursor that moves only over acknowledged minutes, in order, and a bounded window.
@Suite struct MinuteOutboxTests {
    @Test func theCursorMovesOverAcknowledgedMinutesInOrderOnly() {
        var outbox = MinuteOutbox(window: 3)
        #expect(!outbox.started && outbox.sentThrough == nil)
        outbox.start(cursor: 60)
        #expect(outbox.sentThrough == 60 && outbox.freeSlots == 3)
        outbox.handed(time: 120, mid: 7, at: 1)
        outbox.handed(time: 180, mid: 8, at: 1)
        outbox.handed(time: 300, mid: 9, at: 2)
        #expect(outbox.freeSlots == 0 && outbox.sentThrough == 300 && outbox.oldestHandedAt == 1)
        // 180 acknowledged before 120: the cursor waits for 120.
        var moved = outbox.acknowledged(mid: 8)
        #expect(!moved)
        #expect(outbox.ackedThrough == 60 && outbox.freeSlots == 0)
        moved = outbox.acknowledged(mid: 7)
        #expect(moved)
        #expect(outbox.ackedThrough == 180 && outbox.freeSlots == 2 && outbox.oldestHandedAt == 2)
        // Other messages' ids (status, discovery, energy) and repeats are ignored.
        let other = outbox.acknowledged(mid: 1234), repeated = outbox.acknowledged(mid: 7)
        #expect(!other && !repeated)
        moved = outbox.acknowledged(mid: 9)
        #expect(moved)
        #expect(outbox.ackedThrough == 300 && outbox.inFlightCount == 0 && outbox.oldestHandedAt == nil)
    }

    @Test func rewindSendsTheUnacknowledgedAgain() {
        var outbox = MinuteOutbox(window: 8)
        outbox.start(cursor: 0)
        outbox.handed(time: 60, mid: 1, at: 0)
        outbox.handed(time: 120, mid: 2, at: 0)
        outbox.acknowledged(mid: 1)
        outbox.rewind()
        #expect(outbox.sentThrough == 60 && outbox.ackedThrough == 60 && outbox.freeSlots == 8)
        let old = outbox.acknowledged(mid: 2)
        #expect(!old, "an id from before the rewind moves nothing")
    }

    @Test func theCursorAndTheMinutesToSendLiveInTheDatabase() throws {
        let folder = TemporaryFolder()
        let store = try SQLiteReadingStore(path: folder.file("meter.db"), logger: quietLogger, features: [MQTTTables.schema])
        defer { store.close() }
        #expect(try store.read("cursor") { db throws(StoreError) in try MQTTTables.cursor(in: db) } == nil)
        try store.write("cursor") { db throws(StoreError) in try MQTTTables.setCursor(1_796_550_060, in: db) }
        try store.write("cursor") { db throws(StoreError) in try MQTTTables.setCursor(1_796_550_120, in: db) }
        #expect(try store.read("cursor") { db throws(StoreError) in try MQTTTables.cursor(in: db) } == 1_796_550_120)
        _ = try store.insert([sampleRow(time: 1_796_550_060), sampleRow(time: 1_796_550_120), sampleRow(time: 1_796_550_240)])
        // Reopened, as after a restart: the cursor is still there.
        store.close()
        let again = try SQLiteReadingStore(path: folder.file("meter.db"), logger: quietLogger, features: [MQTTTables.schema])
        defer { again.close() }
        #expect(try again.read("cursor") { db throws(StoreError) in try MQTTTables.cursor(in: db) } == 1_796_550_120)
        let rows = try again.rows(from: 1_796_550_121, to: .max)
        #expect(rows.map(\.time) == [1_796_550_240])
    }
}
