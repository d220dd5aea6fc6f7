// SPDX-License-Identifier: Apache-2.0
import ADE9000
import Foundation
import Logging
import MeterReadings
import Testing

/// A JSON payload as a dictionary (Foundation's parser: independent of the encoder under test).
func object(_ payload: [UInt8]) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
}

let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

/// A row of the pv-export-l2 kind: L2 feeds in, L3 has no load (power factor NaN: `null`).
func sampleRow(time: Int64 = 1_796_550_000) -> MinuteRow {
    MinuteRow(time: time, durationSeconds: 60.000001,
              phases: [.init(v: 233.0001, i: 2.1, p: 481.871, q: 84.965, s: 489.301, pf: 0.98481),
                       .init(v: 236, i: 18.5, p: -4365.999, q: 0.003, s: 4365.996, pf: -1),
                       .init(v: 233, i: 0, p: 0, q: 0, s: 0, pf: .nan)],
              freq: 50.0001,
              energy: [.init(whImport: 8.031183, whExport: 0, varh: 1.416, vah: 8.155),
                       .init(whImport: 0, whExport: 72.76665, varh: 0, vah: 72.7666),
                       .init(whImport: 0, whExport: 0, varh: 0, vah: 0)],
              samples: 60, flags: [.missedSamples], temperature: nil, inputB: 1)
}
