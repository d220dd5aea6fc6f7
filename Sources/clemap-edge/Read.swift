// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ArgumentParser
import Logging
import MeterReadings
import MeterConfig

extension CLEMAPEdge {
    /// `clemap-edge read`: live readings from the meter, as a table or JSON lines.
    struct Read: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read V, I, P, Q, S, PF, THD, frequency, voltage angles and energy from the meter.",
            discussion: """
                JSON keys are the meter_data column names: time (Unix s), freq (Hz), lN_v (V), lN_i (A), lN_p (W), \
                lN_q (var), lN_s (VA), lN_pf, n_i (A, the neutral current: the vector sum of the phase currents, \
                the chip's ISUMRMS), lN_vthd and lN_ithd (voltage and current THD, % of the fundamental), lN_vfund (V) \
                and lN_ifund (A) (RMS of the fundamental alone), l2_vangle and l3_vangle (degrees by which L2's and L3's \
                voltages lag L1's: 120 and 240 in an L1-L2-L3 sequence), lN_wh (Wh), lN_varh (varh), lN_vah (VAh) \
                counted since the command started, and temp_c (°C) of the metering chip.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var source: MeterSourceOptions

        @Option(parsing: .unconditional, help: "Number of readings; 0 reads until interrupted.")
        var count = 1

        @Option(help: ArgumentHelp("Seconds between readings.", valueName: "seconds"))
        var interval = 1.0

        @Flag(help: "One JSON object per reading, one per line.")
        var json = false

        func validate() throws {
            guard count >= 0 else { throw ValidationError("--count must be 0 (until interrupted) or more") }
            guard interval.isFinite, interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1 s") }
        }

        func run() async throws {
            let configuration = try global.loadConfiguration()
            global.bootstrapLogging(configuration.logLevel)
            let logger = Logger(label: "clemap-edge.read")
            let meter = try source.makeMeter(configuration, logger: logger)
            do {
                try await meter.start()
            } catch {
                throw CLIError(description: "\(error)")
            }
            var taken = 0
            while count == 0 || taken < count {
                if taken > 0 { try await Task.sleep(for: .milliseconds(Int(interval * 1000))) }
                let reading: Reading
                do {
                    reading = try await meter.reading()
                } catch {
                    throw CLIError(description: "\(error)")
                }
                if reading.afterChipReset { printError("note: the metering chip had reset and was set up again; energy counts restart") }
                print(json ? JSONOutput.line(reading) : ReadingTable.render(reading))
                taken += 1
            }
        }
    }
}
