// SPDX-License-Identifier: Apache-2.0

import Logging
import Synchronization
import MeterClock
import MeterGPIO
import MeterTesting
import Testing

/// The patterns as documented in Sources/MeterGPIO/README.md: (on ms, off ms) pairs of one 2 s (or shorter) period.
/// Written out here, not taken from the code.
let documentedPatterns: [(StatusLEDState, [(on: Int, off: Int)])] = [
    (.starting, [(100, 100)]),
    (.waitingForClockSync, [(500, 500)]),
    (.healthy, [(1900, 100)]),
    (.meterFault, [(200, 200), (200, 1400)]),
    (.chipUnresponsive, [(100, 150), (100, 150), (100, 150), (100, 1150)]),
    (.storageFault, [(200, 200), (200, 200), (200, 1000)]),
    (.exporterBacklog, [(200, 1800)]),
]

/// The rising and falling edge times (ms) of `pairs` repeated until `until` ms, starting on at 0.
func expectedEdges(_ pairs: [(on: Int, off: Int)], until: Int) -> [(ms: Int, level: Int)] {
    var result: [(Int, Int)] = []
    var t = 0
    while t < until {
        for pair in pairs {
            if t < until { result.append((t, 1)) }
            t += pair.on
            if t < until { result.append((t, 0)) }
            t += pair.off
        }
    }
    return result
}

@Suite("LED patterns (pure)")
struct LEDPatternTests {
    @Test("every state has its documented pattern", arguments: documentedPatterns.map(\.0))
    func documented(_ state: StatusLEDState) {
        let pairs = documentedPatterns.first { $0.0 == state }!.1
        let period = pairs.reduce(0) { $0 + $1.on + $1.off }
        #expect(state.pattern.periodMilliseconds == period)
        // Sample every millisecond of two periods against the table.
        var t = 0
        for _ in 0..<2 {
            for pair in pairs {
                for ms in t..<(t + pair.on) { #expect(ledLevel(state, at: Double(ms) / 1000), "\(state) at \(ms) ms") }
                t += pair.on
                for ms in t..<(t + pair.off) { #expect(!ledLevel(state, at: Double(ms) / 1000), "\(state) at \(ms) ms") }
                t += pair.off
            }
        }
    }

    @Test("nextChange lands on the documented edges", arguments: documentedPatterns.map(\.0))
    func nextChange(_ state: StatusLEDState) {
        let pairs = documentedPatterns.first { $0.0 == state }!.1
        let expected = expectedEdges(pairs, until: 6000).map(\.ms).dropFirst()
        var t: Int64 = 0
        var seen: [Int] = []
        while t < 6000 {
            t = state.pattern.nextChange(afterMilliseconds: t)
            if t < 6000 { seen.append(Int(t)) }
        }
        #expect(seen == Array(expected))
    }

    @Test("patterns are told apart by a person: no two states share a pattern")
    func distinct() {
        #expect(Set(StatusLEDState.allCases.map(\.pattern)).count == StatusLEDState.allCases.count)
    }

    @Test("the most urgent state wins")
    func urgency() {
        #expect(StatusLEDState.mostUrgent([.healthy, .exporterBacklog]) == .exporterBacklog)
        #expect(StatusLEDState.mostUrgent([.exporterBacklog, .storageFault, .meterFault]) == .meterFault)
        #expect(StatusLEDState.mostUrgent([.meterFault, .chipUnresponsive, .storageFault]) == .chipUnresponsive)
        #expect(StatusLEDState.mostUrgent([.waitingForClockSync, .storageFault]) == .storageFault)
        #expect(StatusLEDState.mostUrgent([.starting, .waitingForClockSync]) == .starting)
        #expect(StatusLEDState.mostUrgent([]) == .healthy)
    }

    @Test("a single-level pattern has no change within a period")
    func steady() {
        let on = LEDPattern([(true, 1000)])
        #expect(on.level(atMilliseconds: 123_456))
        #expect(on.nextChange(afterMilliseconds: 250) == 1250)
        let merged = LEDPattern([(true, 100), (true, 100), (false, 200)])
        #expect(merged.nextChange(afterMilliseconds: 0) == 200)
    }
}

@Suite("Status LED driver on the simulated chip")
struct StatusLEDDriverTests {
    let led = 25

    func makeDriver(_ initial: StatusLEDState) throws -> (VirtualClock, SimulatedGPIO, StatusLEDDriver) {
        let clock = VirtualClock(monotonic: 0)
        let chip = SimulatedGPIO(clock: clock)
        try chip.requestOutput(offset: led, consumer: "test", initial: false)
        let driver = StatusLEDDriver(backend: chip, offset: led, clock: clock, initial: initial, logger: Fixture.logger)
        return (clock, chip, driver)
    }

    @Test("the driver plays each documented pattern with exact edge times", arguments: documentedPatterns.map(\.0))
    func plays(_ state: StatusLEDState) async throws {
        let (_, chip, driver) = try makeDriver(state)
        try await driver.run(until: 6)
        let pairs = documentedPatterns.first { $0.0 == state }!.1
        // The request's initial off at 0, then the pattern's edges.
        let expected: [(ms: Int, level: Int)] = [(0, 0)] + expectedEdges(pairs, until: 6000)
        let seen = edges(chip.transitions(offset: led))
        #expect(seen.map(\.ms) == expected.map(\.ms), "\(state)")
        #expect(seen.map(\.level) == expected.map(\.level), "\(state)")
    }

    @Test("a new state restarts its pattern at once; the same state does not")
    func stateChange() async throws {
        let (clock, chip, driver) = try makeDriver(.healthy)
        try await driver.run(until: 1.0)
        driver.show(.meterFault)
        try await driver.run(until: 3.0)
        driver.show(.meterFault)
        try await driver.run(until: 3.5)
        #expect(driver.state == .meterFault)
        let seen = edges(chip.transitions(offset: led)).filter { $0.ms >= 1000 }
        // Healthy was on at 1.0 s; meter fault starts with its first flash (on, so no edge), off at 1.2 s, …
        // and showing it again at 3.0 s does not restart it (it would be on until 3.2 s, as it is anyway).
        #expect(seen.map(\.ms) == [1200, 1400, 1600, 3000, 3200, 3400])
        #expect(seen.map(\.level) == [0, 1, 0, 1, 0, 1])
        #expect(clock.monotonic() == 3.5)
    }

    @Test("a short press shows the acknowledgement for 1 s, then the status pattern from its start")
    func acknowledge() async throws {
        let (_, chip, driver) = try makeDriver(.waitingForClockSync)
        try await driver.run(until: 0.7)
        driver.acknowledge()
        try await driver.run(until: 2.0)
        let seen = edges(chip.transitions(offset: led)).filter { $0.ms >= 700 }
        // 10 Hz from 0.7 s to 1.7 s (on 50, off 50), then waiting-for-clock-sync from its start at 1.7 s: on until 2.2 s.
        let flashes = stride(from: 700, to: 1700, by: 100).flatMap { [($0, 1), ($0 + 50, 0)] }
        let expected = flashes + [(1700, 1)]
        #expect(seen.map(\.ms) == expected.map(\.0))
        #expect(seen.map(\.level) == expected.map(\.1))
    }

    @Test("cancelling the driver leaves the LED off")
    func cancel() async throws {
        let (_, chip, driver) = try makeDriver(.healthy)
        let task = Task { try await driver.run() }
        while chip.transitions(offset: led).count < 2 { await Task.yield() }
        task.cancel()
        _ = await task.result
        #expect(chip.transitions(offset: led).last?.level == false)
    }

    @Test("a failing LED line is retried, not fatal")
    func failingLine() async throws {
        let (_, chip, driver) = try makeDriver(.starting)
        chip.injectFault(offset: led, GPIOError(.io, subject: "GPIO 25", detail: "EIO", remedy: "none", errno: 5))
        try await driver.run(until: 0.25)
        chip.injectFault(offset: led, nil)
        try await driver.run(until: 0.45)
        // Nothing changes while the line fails; once it works the pattern continues where it is (on at 0.25 s).
        let seen = edges(chip.transitions(offset: led))
        #expect(seen.map(\.ms) == [0, 250, 300, 400])
        #expect(seen.map(\.level) == [0, 1, 0, 1])
    }
}

/// Counts the driver's sleeps, to check it wakes only at edges and every 50 ms.
final class CountingClock: MeterClock {
    let inner = VirtualClock(monotonic: 0)
    private let count = Mutex(0)
    var sleeps: Int { count.withLock { $0 } }
    func monotonic() -> Double { inner.monotonic() }
    func wall() -> Double { inner.wall() }
    func isSynchronized() -> Bool { true }
    func sleep(untilMonotonic deadline: Double) async throws {
        count.withLock { $0 += 1 }
        try await inner.sleep(untilMonotonic: deadline)
    }
}

@Suite("Status LED driver wake-ups")
struct StatusLEDDriverWakeupTests {
    @Test("the driver wakes at the pattern's edges and every 50 ms, not more", arguments: StatusLEDState.allCases)
    func wakeups(_ state: StatusLEDState) async throws {
        let clock = CountingClock()
        let chip = SimulatedGPIO(clock: clock)
        try chip.requestOutput(offset: 25, consumer: "test", initial: false)
        let driver = StatusLEDDriver(backend: chip, offset: 25, clock: clock, initial: state, logger: Fixture.logger)
        try await driver.run(until: 10)
        // 10 s / 50 ms = 200 polls; edges fall on poll times or add one wake-up each.
        let edgesIn10s = chip.transitions(offset: 25).count
        #expect(clock.sleeps <= 200 + edgesIn10s, "\(state): \(clock.sleeps) sleeps")
    }
}
