// SPDX-License-Identifier: Apache-2.0

import Logging
import MeterGPIO
import MeterClock
import MeterTesting
import Testing

/// Raw samples every `step` seconds from `start` to `end`, taking each time's level from `timeline`
/// ((time, level) steps; the level before the first step is `initial`).
func samples(_ timeline: [(Double, Bool)], initial: Bool, from start: Double = 0, to end: Double, step: Double = 0.001)
    -> [(time: Double, level: Bool)] {
    var result: [(Double, Bool)] = []
    var i = 0
    while true {
        let t = start + Double(i) * step
        if t > end + 1e-12 { break }
        result.append((t, timeline.last(where: { $0.0 <= t + 1e-12 })?.1 ?? initial))
        i += 1
    }
    return result
}

@Suite("Debouncer (pure)")
struct DebouncerTests {
    @Test("bounces shorter than the debounce time are ignored", arguments: [0.001, 0.005, 0.015, 0.029])
    func shortExcursions(_ width: Double) {
        var debouncer = Debouncer(interval: 0.03, initial: true)
        // Five excursions to low, each `width` long, 40 ms apart.
        var timeline: [(Double, Bool)] = []
        for k in 0..<5 {
            let t = 0.1 + Double(k) * 0.04
            timeline += [(t, false), (t + width, true)]
        }
        for sample in samples(timeline, initial: true, to: 0.5) {
            #expect(debouncer.update(sample.level, at: sample.time) == nil, "accepted a \(width) s excursion at \(sample.time)")
        }
        #expect(debouncer.level)
    }

    @Test("a level held for the debounce time is accepted, stamped with when it began")
    func accepted() throws {
        var debouncer = Debouncer(interval: 0.03, initial: true)
        var changes: [(Bool, Double, Double)] = []
        let timeline: [(Double, Bool)] = [(0.100, false), (0.103, true), (0.106, false), (0.400, true)]
        for sample in samples(timeline, initial: true, to: 0.6) {
            if let change = debouncer.update(sample.level, at: sample.time) { changes.append((change.level, change.since, sample.time)) }
        }
        try #require(changes.count == 2)
        #expect(changes[0].0 == false && abs(changes[0].1 - 0.106) < 1e-9 && abs(changes[0].2 - 0.136) < 1e-9)
        #expect(changes[1].0 == true && abs(changes[1].1 - 0.400) < 1e-9 && abs(changes[1].2 - 0.430) < 1e-9)
    }

    @Test("10 ms polling accepts after exactly 30 ms")
    func polling() {
        var debouncer = Debouncer(interval: 0.03, initial: true)
        var accepted: Double?
        for k in 0...10 {
            let t = 0.5 + Double(k) * 0.01
            if debouncer.update(false, at: t) != nil { accepted = t }
        }
        #expect(accepted.map { abs($0 - 0.53) < 1e-9 } == true)
    }
}

@Suite("Reset button: press classifier (pure)")
struct ResetButtonTests {
    /// A press from `down` to `up` with 3 ms bounces on both edges; the line is high when released.
    func press(_ down: Double, _ up: Double) -> [(Double, Bool)] {
        [(down, false), (down + 0.003, true), (down + 0.006, false), (down + 0.009, true), (down + 0.012, false),
         (up, true), (up + 0.002, false), (up + 0.004, true)]
    }

    func events(_ timeline: [(Double, Bool)], to end: Double, step: Double = 0.01) -> [(time: Double, event: ResetButtonEvent)] {
        var button = ResetButton()
        var result: [(Double, ResetButtonEvent)] = []
        for sample in samples(timeline, initial: true, to: end, step: step) {
            for event in button.sample(level: sample.level, at: sample.time) { result.append((sample.time, event)) }
        }
        return result
    }

    @Test("a short press is reported on release, with its duration; bounces do not add presses")
    func shortPress() throws {
        let seen = events(press(1.0, 1.25), to: 3, step: 0.001)
        try #require(seen.count == 1)
        guard case .shortPress(let seconds) = seen[0].event else { Issue.record("not a short press: \(seen)"); return }
        // From the start of the stable press (the last bounce down, 1.012) to the start of the stable release
        // (the last bounce up, 1.254).
        #expect(abs(seconds - 0.242) < 1e-6)
        #expect(seen[0].event.action == .showStatus)
    }

    @Test("bursts of bounces alone (no press lasting 30 ms) report nothing")
    func noiseOnly() {
        var timeline: [(Double, Bool)] = []
        for k in 0..<50 { let t = 1 + Double(k) * 0.05; timeline += [(t, false), (t + 0.02, true)] }
        #expect(events(timeline, to: 5, step: 0.001).isEmpty)
    }

    @Test("holding 5 s is a long press, reported once while still held, and no short press on release")
    func longPress() throws {
        let seen = events(press(2.0, 9.0), to: 12)
        try #require(seen.count == 1)
        guard case .longPress(let seconds) = seen[0].event else { Issue.record("not a long press: \(seen)"); return }
        // Held since the last bounce down at 2.012; first 10 ms sample at or after 7.012 is 7.02.
        #expect(abs(seen[0].time - 7.02) < 1e-9)
        #expect(seconds >= ResetButton.longPressSeconds && seconds < ResetButton.longPressSeconds + 0.011)
        #expect(seen[0].event.action == .restartService)
        #expect(ResetButton.restartExitCode == 75)
    }

    @Test("4.9 s is still a short press", arguments: [0.05, 1.0, 4.9])
    func belowLongPress(_ held: Double) throws {
        let seen = events(press(1.0, 1.012 + held), to: 8)
        try #require(seen.count == 1)
        guard case .shortPress(let seconds) = seen[0].event else { Issue.record("not a short press: \(seen)"); return }
        #expect(abs(seconds - held) < 0.011)
    }

    @Test("two presses give two events")
    func twoPresses() {
        let seen = events(press(1.0, 1.3) + press(2.0, 8.0), to: 10)
        #expect(seen.map(\.event.action) == [.showStatus, .restartService])
    }
}

@Suite("Reset button monitor on the simulated chip")
struct ResetButtonMonitorTests {
    let button = 7

    func makeChip() throws -> (VirtualClock, SimulatedGPIO, ResetButtonMonitor) {
        let clock = VirtualClock(monotonic: 0)
        let chip = SimulatedGPIO(clock: clock)
        try chip.requestInput(offset: button, consumer: "test", bias: .pullUp)
        return (clock, chip, ResetButtonMonitor(backend: chip, offset: button, clock: clock, logger: Fixture.logger))
    }

    @Test("an idle pull-up input reads released; nothing is reported")
    func idle() async throws {
        let (_, chip, monitor) = try makeChip()
        #expect(try chip.get(offset: button))
        #expect(try await monitor.waitForPress(timeout: 10) == nil)
    }

    @Test("a bouncing short press, then a long press, are reported in order with their times")
    func presses() async throws {
        let (clock, chip, monitor) = try makeChip()
        // Times sit between the 10 ms polls, so which samples see what is unambiguous.
        chip.scheduleInput(offset: button, [
            // bounce-only burst: the polls at 0.51 and 0.53 see low, each for one poll only: ignored
            (0.503, false), (0.513, true), (0.523, false), (0.538, true),
            // short press 1.003–1.4065 with bounces between polls
            (1.003, false), (1.0065, true), (1.0085, false), (1.403, true), (1.4045, false), (1.4065, true),
            // long press from 3.003, held 7 s
            (3.003, false), (3.0065, true), (3.0085, false), (10.003, true),
        ])
        var seen: [(Double, ResetButtonEvent)] = []
        try await monitor.run(until: 12) { event in
            seen.append((clock.monotonic(), event))
            return .continue
        }
        #expect(seen.map(\.1.action) == [.showStatus, .restartService])
        // Pressed from the 1.01 poll, released from the 1.41 poll; the release is accepted 30 ms later.
        #expect(abs(seen[0].0 - 1.44) < 1e-9)
        #expect(seen[0].1 == .shortPress(seconds: 0.4) || abs(seconds(seen[0].1) - 0.4) < 1e-9)
        // Pressed from the 3.01 poll: a long press 5 s later, while still held.
        #expect(abs(seen[1].0 - 8.01) < 1e-9)
    }

    func seconds(_ event: ResetButtonEvent) -> Double {
        switch event { case .shortPress(let s), .longPress(let s): s }
    }

    @Test("waitForPress stops at the first press")
    func waitForPress() async throws {
        let (_, chip, monitor) = try makeChip()
        chip.scheduleInput(offset: button, [(2.005, false), (2.205, true)])
        let event = try await monitor.waitForPress(timeout: 5)
        guard case .shortPress(let seconds) = event else { Issue.record("expected a short press, got \(String(describing: event))"); return }
        // Seen from the 2.01 poll to the 2.21 poll.
        #expect(abs(seconds - 0.2) < 1e-9)
    }
}
