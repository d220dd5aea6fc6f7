// SPDX-License-Identifier: Apache-2.0

import ADE9000
import ArgumentParser
import MeterReadings
import MeterConfig

extension CLEMAPEdge {
    /// `clemap-edge config …`
    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Work with the meter's config.ini.",
            subcommands: [Check.self])

        /// `clemap-edge config check`: validate a file and print what it found.
        struct Check: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Validate config.ini and print what it found.",
                discussion: "Exits 0 when the file is valid, 2 with one line per problem (file:line [section] key) when not.")

            @OptionGroup var global: GlobalOptions

            func run() async throws {
                let configuration = try global.loadConfiguration()
                print("\(configuration.source): valid")
                for line in configuration.summary() { print("  " + line) }
                for phase in Phase.allCases {
                    print("  " + EnergyConvention.describe(phase: phase, scale: configuration.scales[phase]!))
                }
            }
        }
    }
}
