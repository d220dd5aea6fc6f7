// SPDX-License-Identifier: Apache-2.0

/// A coding key that is a vocabulary name (`l1_p`, `freq`, …): readings and rows encode under the
/// `meter_data` column names, in table order.
public struct ColumnKey: CodingKey, Hashable, Sendable {
    public let stringValue: String
    public init(_ name: String) { stringValue = name }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public var intValue: Int? { nil }
    public init?(intValue: Int) { nil }
}

extension KeyedEncodingContainer where Key == ColumnKey {
    /// Encodes `value`, or `null` when it is NaN or infinite (JSON has neither).
    public mutating func encode(finite value: Double, forKey key: ColumnKey) throws {
        if value.isFinite { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    /// Encodes `value`, or `null` when it is nil or not finite.
    public mutating func encode(optional value: Double?, forKey key: ColumnKey) throws {
        try encode(finite: value ?? .nan, forKey: key)
    }

    /// Encodes `value` rounded to `decimals` digits (the shortest form that reads back the same), or `null`.
    public mutating func encode(rounded value: Double, decimals: Int, forKey key: ColumnKey) throws {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        try encode(finite: abs(rounded) < 9e15 / scale ? rounded : value, forKey: key)
    }
}

extension KeyedDecodingContainer where Key == ColumnKey {
    /// A number, or NaN for `null` or a missing key.
    public func decodeReal(_ name: String) throws -> Double {
        try decodeIfPresent(Double.self, forKey: ColumnKey(name)) ?? .nan
    }
}
