// SPDX-License-Identifier: Apache-2.0

/// The compact history the forecaster owns: one `Float` a minute (watts; NaN = missing) in a ring of
/// `capacityMinutes`, addressed by Unix minute (Unix seconds / 60).
///
/// Recording is in time order; a jump forward leaves the skipped minutes missing, and minutes older than the
/// capacity are dropped. 400 days take 2.3 MB.
public struct MinuteSeries: Sendable {
    /// How many minutes are held at most.
    public let capacityMinutes: Int
    @usableFromInline var ring: [Float]
    /// The newest minute held, `nil` while empty.
    public private(set) var lastMinute: Int64?
    /// How many minutes (ending at `lastMinute`) are held, ≤ capacity.
    @usableFromInline private(set) var heldCount: Int = 0

    /// An empty history of `capacityMinutes` minutes (≥ 1).
    public init(capacityMinutes: Int) {
        precondition(capacityMinutes >= 1, "a minute series holds at least one minute")
        self.capacityMinutes = capacityMinutes
        self.ring = [Float](repeating: .nan, count: capacityMinutes)
    }

    /// The oldest minute held, `nil` while empty.
    public var firstMinute: Int64? { lastMinute.map { $0 - Int64(heldCount) + 1 } }

    @inlinable func slot(_ minute: Int64) -> Int {
        let r = Int(minute % Int64(capacityMinutes))
        return r < 0 ? r + capacityMinutes : r
    }

    /// Records the power of one minute.
    ///
    /// - Parameters:
    ///   - minute: the Unix minute. A minute after `lastMinute` extends the history (skipped minutes become
    ///     missing); a minute still held replaces its value (a late correction); an older one is ignored.
    ///   - watts: the power, `nil` (or not finite) for missing.
    public mutating func record(minute: Int64, watts: Double?) {
        let value: Float = watts.flatMap { $0.isFinite ? Float($0) : nil } ?? .nan
        guard let last = lastMinute else {
            ring[slot(minute)] = value
            lastMinute = minute
            heldCount = 1
            return
        }
        if minute <= last {
            if minute > last - Int64(heldCount) { ring[slot(minute)] = value }
            return
        }
        let step = minute - last
        if step >= Int64(capacityMinutes) {
            for i in ring.indices { ring[i] = .nan }
            heldCount = 1
        } else {
            var m = last + 1
            while m < minute { ring[slot(m)] = .nan; m += 1 }
            heldCount = min(capacityMinutes, heldCount + Int(step))
        }
        ring[slot(minute)] = value
        lastMinute = minute
    }

    /// The power of `minute`, `nil` if it is missing or not held.
    @inlinable public func value(at minute: Int64) -> Float? {
        guard let last = lastMinute, minute <= last, minute > last - Int64(heldCount) else { return nil }
        let v = ring[slot(minute)]
        return v.isNaN ? nil : v
    }

    /// The `count` minutes ending at `minute` (oldest first), or `nil` if any of them is missing or not held:
    /// a window with a gap is never handed out as consecutive.
    public func consecutiveWindow(endingAt minute: Int64, count: Int) -> [Float]? {
        guard count >= 1 else { return [] }
        var out = [Float]()
        out.reserveCapacity(count)
        var m = minute - Int64(count) + 1
        while m <= minute {
            guard let v = value(at: m) else { return nil }
            out.append(v)
            m += 1
        }
        return out
    }

    /// Raw values for day-blob persistence: `count` minutes from `from`, NaN where missing or not held.
    public func values(from: Int64, count: Int) -> [Float] {
        (0..<max(0, count)).map { value(at: from + Int64($0)) ?? .nan }
    }

    /// Restores raw values (as from `values(from:count:)`), minute by minute from `minute`, with the rules of
    /// `record(minute:watts:)`: in order, NaN = missing. Load blobs oldest first.
    public mutating func load(minute: Int64, values: [Float]) {
        for (i, v) in values.enumerated() {
            record(minute: minute + Int64(i), watts: v.isNaN ? nil : Double(v))
        }
    }
}
