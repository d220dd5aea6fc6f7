// SPDX-License-Identifier: Apache-2.0

/// Reading a selected value the way the features' tables need it: loose on type, explicit on NULL.
extension SQLiteValue {
    /// An integer (a real truncated), else 0.
    public var int: Int64 { if case .integer(let v) = self { v } else if case .real(let v) = self { Int64(v) } else { 0 } }
    /// A number, nil for NULL, text or a blob.
    public var double: Double? { if case .real(let v) = self { v } else if case .integer(let v) = self { Double(v) } else { nil } }
    /// Text, else empty.
    public var string: String { if case .text(let v) = self { v } else { "" } }
    /// Text, else nil.
    public var optionalString: String? { if case .text(let v) = self { v } else { nil } }
    public var isNull: Bool { if case .null = self { true } else { false } }
}
