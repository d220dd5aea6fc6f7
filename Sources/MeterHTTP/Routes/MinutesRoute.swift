// SPDX-License-Identifier: Apache-2.0

import Hummingbird
import MeterReadings
import MeterServices
import MeterStore
import Logging

/// `GET /api/v1/minutes`: stored rows with `from <= time < to`, oldest first, as JSON or CSV, streamed a few hours
/// at a time so that a week never sits in memory.
struct MinutesQuery: Sendable, Equatable {
    enum Format: String, Sendable { case json, csv }
    var from: Int64
    var to: Int64
    var format: Format

    /// At most a week per request: 10,080 rows, ~9 MB of JSON.
    static let maximumSpan: Int64 = 7 * 86_400
    /// Rows read per database call while streaming.
    static let chunkSeconds: Int64 = 6 * 3600

    init(from: Int64, to: Int64, format: Format) { self.from = from; self.to = to; self.format = format }

    /// Reads the query; defaults: the last 24 h up to `now`, JSON. - Throws: ``APIError`` (400) naming the parameter.
    init(parameters: [String: String], now: Int64) throws(APIError) {
        // The format first, then the window: one 400 names one parameter.
        let format: Format
        if let text = parameters["format"] {
            guard let value = Format(rawValue: text) else {
                throw .badParameter("format", "'\(text.prefix(40))' is not a format: write format=json or format=csv")
            }
            format = value
        } else {
            format = .json
        }
        let window = try TimeWindowQuery(parameters: parameters, now: now, defaultSpan: 86_400, maximumSpan: Self.maximumSpan,
                                         spanName: "7 days", askFor: "ask for a week at a time")
        self.init(from: window.from, to: window.to, format: format)
    }

    /// The answer, streamed: the first chunk is read before the status is sent, so a closed database is a 503.
    func answer(store: (any ReadingStore)?) throws -> Response {
        guard let store else { throw APIError.storeClosed }
        let (from, to, format) = (from, to, format)
        let select = "SELECT \(MinuteRow.columns.joined(separator: ", ")) FROM meter_data WHERE time >= ? AND time < ? ORDER BY time"
        @Sendable func rows(_ start: Int64) throws -> [[SQLiteValue]] {
            try store.read("cannot read meter_data for GET /api/v1/minutes") { db throws(StoreError) in
                try db.query(select, [.integer(start), .integer(min(to, start + Self.chunkSeconds))])
            }
        }
        let first: [[SQLiteValue]]
        do { first = try rows(from) } catch { throw APIError(.serviceUnavailable, "the database cannot be read: \(error)") }
        let contentType = format == .json ? "application/json" : "text/csv; charset=utf-8"
        return Response(status: .ok, headers: [.contentType: contentType, .cacheControl: "no-store"], body: ResponseBody { writer in
            var chunk = first, start = from, opened = false, written = 0
            while true {
                var bytes: [UInt8] = []
                switch format {
                case .csv: bytes = LakeLayout.csv(chunk, header: !opened)
                case .json:
                    bytes.reserveCapacity(chunk.count * 900 + 1)
                    if !opened { bytes.append(UInt8(ascii: "[")) }
                    for row in chunk {
                        if written > 0 { bytes.append(UInt8(ascii: ",")) }
                        Self.appendJSON(row, to: &bytes)
                        written += 1
                    }
                }
                opened = true
                if !bytes.isEmpty { try await writer.write(ByteBuffer(bytes: bytes)) }
                start += Self.chunkSeconds
                guard start < to else { break }
                // A failure past the first chunk cannot change the status: the body ends short (invalid JSON,
                // a CSV without its last rows) and the log says why.
                chunk = try rows(start)
            }
            if format == .json { try await writer.write(ByteBuffer(bytes: [UInt8(ascii: "]")])) }
            try await writer.finish(nil)
        })
    }

    /// One row as a JSON object under the column names, in table order; NULL and non-finite numbers are `null`.
    static func appendJSON(_ row: [SQLiteValue], to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "{"))
        for (index, (name, value)) in zip(MinuteRow.columns, row).enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            bytes += name.utf8
            bytes += "\":".utf8
            switch value {
            case .integer(let v): bytes += "\(v)".utf8
            case .real(let v) where v.isFinite: bytes += "\(v)".utf8
            default: bytes += "null".utf8
            }
        }
        bytes.append(UInt8(ascii: "}"))
    }
}
