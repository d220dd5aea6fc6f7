// SPDX-License-Identifier: Apache-2.0

import ArgumentParser

extension CLEMAPEdge {
    /// `clemap-edge forecast`: the short-horizon power forecast (for now only `backtest`).
    struct ForecastCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forecast",
            abstract: "Forecast the minute power: backtest the built-in model against persistence.",
            subcommands: [ForecastBacktest.self])
    }
}
