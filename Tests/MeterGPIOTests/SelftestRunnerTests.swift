// SPDX-License-Identifier: Apache-2.0

import Logging
import MeterGPIO
import MeterClock
import MeterTesting
import Testing

@Suite("gpio-selftest checks on the simulated chip")
struct SelftestRunnerTests {
    func makeRunner(_ chip: SimulatedGPIO, _ clock: VirtualClock, file: OutputStateFile? = nil) throws -> GPIOSelftestRunner {
        let board = BoardIO(configuration: try Fixture.gpio(), backend: chip, stateFile: file, logger: Fixture.logger)
        return GPIOSelftestRunner(board: board, clock: clock, logger: Fixture.logger)
    }

    @Test("every check passes; outputs are toggled, read back and left in their stored state")
    func allPass() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = OutputStateFile(path: folder.path + "/outputs.state")
        try file.save(OutputStates(a: false, b: true))
        let clock = VirtualClock(monotonic: 0)
        let chip = SimulatedGPIO(clock: clock)
        let checks = try await makeRunner(chip, clock, file: file).run()
        #expect(checks.filter { !$0.passed }.isEmpty, "\(checks)")
        #expect(checks.map(\.name) == ["request status LED", "request output A", "request output B", "request input B",
                                       "request reset button", "status LED patterns", "output A", "output B", "input B",
                                       "reset button (idle)"])
        #expect(chip.transitions(offset: 21).map(\.level) == [false, true, false])
        #expect(chip.transitions(offset: 20).map(\.level) == [true, false, true])
        // Each pattern plays whole periods for at least 1 s: 1 + 1 + 2 + 2 + 2 + 2 + 2 s.
        #expect(abs(clock.monotonic() - 12) < 1e-9)
        #expect(chip.transitions(offset: 25).last?.level == false)
    }

    @Test("a line held by someone else is a failed row, and that output is not toggled")
    func failures() async throws {
        let clock = VirtualClock(monotonic: 0)
        let chip = SimulatedGPIO(clock: clock)
        try chip.requestOutput(offset: 20, consumer: "other-program", initial: false)
        let runner = try makeRunner(chip, clock)
        let checks = await runner.run()
        let failed = checks.filter { !$0.passed }
        #expect(failed.map(\.name) == ["request output B"])
        #expect(failed.first?.detail.contains("busy: already requested by 'other-program'") == true)
        #expect(!checks.contains { $0.name == "output B" }, "an output that could not be requested is not toggled")
    }

    @Test("a button that reads pressed when idle fails, saying so")
    func stuckButton() async throws {
        let clock = VirtualClock(monotonic: 0)
        let chip = SimulatedGPIO(clock: clock)
        chip.scheduleInput(offset: 7, [(0, false)])
        let checks = try await makeRunner(chip, clock).run()
        let row = checks.first { $0.name == "reset button (idle)" }
        #expect(row?.passed == false)
        #expect(row?.detail.contains("reads 0 (pressed)") == true)
    }

    @Test("interactive: a press within the timeout passes, none fails")
    func interactive() async throws {
        let clock = VirtualClock(monotonic: 0)
        let chip = SimulatedGPIO(clock: clock)
        let runner = try makeRunner(chip, clock)
        let checks = await runner.run(interactiveTimeout: 15) { _ in
            let t = clock.monotonic() + 2
            chip.scheduleInput(offset: 7, [(t, false), (t + 0.005, true), (t + 0.01, false), (t + 0.5, true)])
        }
        let row = checks.last
        #expect(row?.name == "reset button press" && row?.passed == true, "\(String(describing: row))")

        let quiet = SimulatedGPIO(clock: clock)
        let none = try await makeRunner(quiet, clock).run(interactiveTimeout: 3)
        #expect(none.last?.passed == false)
        #expect(none.last?.detail.contains("no press within 3 s") == true)
    }
}
