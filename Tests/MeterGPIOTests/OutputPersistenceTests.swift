// SPDX-License-Identifier: Apache-2.0

import Logging
import MeterConfig
import MeterGPIO
import MeterClock
import MeterTesting
import Testing

@Suite("Outputs: safe start, persistence across restart, inputs")
struct OutputPersistenceTests {
    /// One "process": a fresh simulated chip and a BoardIO over the shipped [GPIO_SERVICE], started.
    func boot(_ file: OutputStateFile?, gpio: GPIOPins? = nil) throws -> (SimulatedGPIO, BoardIO) {
        let chip = SimulatedGPIO(clock: VirtualClock(monotonic: 0))
        let board = BoardIO(configuration: try gpio ?? Fixture.gpio(), backend: chip, stateFile: file, logger: Fixture.logger)
        try board.start()
        return (chip, board)
    }

    @Test("with nothing stored, every output starts off, and so does the LED")
    func safeStart() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let (chip, _) = try boot(OutputStateFile(path: folder.path + "/outputs.state"))
        #expect(chip.transitions() == [21, 20, 25].sorted().map { SimulatedGPIO.Transition(offset: $0, level: false, time: 0) }
            .sorted { order($0.offset) < order($1.offset) })
        #expect(chip.requests[7]?.bias == .pullUp)
        #expect(chip.requests[16]?.isOutput == false)
        #expect(chip.requests[12] == nil, "input A is not fitted (input_pin_setup = b)")
        #expect(folder.listing().isEmpty, "starting does not write the state file")
    }

    /// Request order of BoardIO.start: GPIOFunction.allCases = led, output A, output B, …
    private func order(_ offset: Int) -> Int { [25: 0, 21: 1, 20: 2][offset] ?? 9 }

    @Test("an output switched on is stored and comes back on after a restart, without passing through off")
    func survivesRestart() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = OutputStateFile(path: folder.path + "/outputs.state")

        let (first, board) = try boot(file)
        try board.setOutput(.a, on: true)
        #expect(try board.readOutput(.a))
        #expect(first.transitions(offset: 21).map(\.level) == [false, true])
        board.close()
        #expect(folder.read("outputs.state") == """
            # clemap-edge output states; written by `clemap-edge output a|b on|off`, applied at start
            a=on
            b=off

            """)

        // The "restart": a new chip and board; output A is requested directly at its stored level.
        let (second, again) = try boot(file)
        #expect(second.transitions(offset: 21).map(\.level) == [true])
        #expect(second.transitions(offset: 20).map(\.level) == [false])
        #expect(try again.readOutput(.a))

        try again.setOutput(.a, on: false)
        try again.setOutput(.b, on: true)
        again.close()
        let (third, _) = try boot(file)
        #expect(third.transitions(offset: 21).map(\.level) == [false])
        #expect(third.transitions(offset: 20).map(\.level) == [true])
        #expect(folder.listing() == ["outputs.state"], "no temporary file is left behind")
    }

    @Test("an unreadable state file means the safe state, not a failed start")
    func corruptFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("outputs.state", "a=maybe\n")
        let file = OutputStateFile(path: folder.path + "/outputs.state")
        let (chip, board) = try boot(file)
        #expect(chip.transitions(offset: 21).map(\.level) == [false])
        // Switching refuses to overwrite a file it cannot read, and says which line is wrong.
        #expect(throws: GPIOError.self) { try board.setOutput(.a, on: true) }
        do { try board.setOutput(.a, on: true) } catch {
            #expect(error.code == .stateFile)
            #expect("\(error)".contains("outputs.state:1: 'a=maybe' is not 'a=on|off' or 'b=on|off'. Fix:"))
        }
    }

    @Test("a crash before the rename leaves the previous state: a stray temp file is ignored")
    func atomic() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = OutputStateFile(path: folder.path + "/outputs.state")
        try file.save(OutputStates(a: true, b: false))
        try folder.write("outputs.state.tmp.99999", "a=of")   // a half-written temp file of a crashed writer
        #expect(try file.load() == OutputStates(a: true, b: false))
        try file.save(OutputStates(a: false, b: true))
        #expect(try file.load() == OutputStates(a: false, b: true))
    }

    @Test("the state file parser accepts comments, spaces and case, and rejects anything else")
    func parse() throws {
        #expect(try OutputStateFile.parse("# x\n\n  A = ON \r\nb=off\n", path: "f") == OutputStates(a: true, b: false))
        #expect(try OutputStateFile.parse("", path: "f") == .safe)
        for bad in ["c=on", "a=1", "a", "a=on=off"] {
            #expect(throws: GPIOError.self, "\(bad)") { try OutputStateFile.parse(bad, path: "f") }
        }
    }

    @Test("the state folder is created when missing")
    func createsFolder() throws {
        let folder = try TemporaryFolder()
        defer {
            _ = folder.path
            folder.remove()
        }
        let file = OutputStateFile(path: folder.path + "/outputs.state")
        #expect(try file.load() == nil)
        try file.save(OutputStates(a: true))
        #expect(try file.load() == OutputStates(a: true, b: false))
    }

    @Test("an output that is not fitted cannot be switched; the error names output_pin_setup")
    func notFitted() throws {
        var gpio = try Fixture.gpio()
        gpio.outputPinSetup = "a"
        let (chip, board) = try boot(nil, gpio: gpio)
        #expect(chip.requests[20] == nil)
        do {
            try board.setOutput(.b, on: true)
            Issue.record("switched an output that is not fitted")
        } catch {
            #expect(error.code == .notFitted)
            #expect("\(error)" == "output B: not fitted: [GPIO_SERVICE] output_pin_setup = a. Fix: add 'b' to output_pin_setup if the board has it")
        }
    }

    @Test("readInput gives input B's level as 0/1, and default_input_value when it is not fitted")
    func readInput() throws {
        let (chip, board) = try boot(nil)
        #expect(try board.readInput() == 0)
        chip.driveInput(offset: 16, level: true)
        #expect(try board.readInput() == 1)
        #expect(try board.readInput(.a) == 0, "input A not fitted: default_input_value = 0")

        var gpio = try Fixture.gpio()
        gpio.inputPinSetup = ""
        gpio.defaultInputValue = 1
        let (_, bare) = try boot(nil, gpio: gpio)
        #expect(try bare.readInput() == 1)
    }

    @Test("a line that fails to request releases the ones already requested")
    func startRollsBack() throws {
        let chip = SimulatedGPIO(clock: VirtualClock(monotonic: 0))
        try chip.requestInput(offset: 7, consumer: "someone else", bias: .asIs)
        let board = BoardIO(configuration: try Fixture.gpio(), backend: chip, stateFile: nil, logger: Fixture.logger)
        #expect(throws: GPIOError.self) { try board.start() }
        #expect(Set(chip.requests.keys) == [7])
        #expect(!board.isRequested(.led))
    }
}
