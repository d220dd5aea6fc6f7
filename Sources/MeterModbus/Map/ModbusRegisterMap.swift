// SPDX-License-Identifier: Apache-2.0

public import ADE9000
import MeterReadings

/// One value of the register map: where it starts, how many registers it takes, and what it is.
public struct ModbusPoint: Sendable, Hashable {
    /// How the value is encoded (``RegisterEncoding``).
    public enum Format: Sendable, Hashable {
        case float32, float64, uint32, uint16

        /// Registers the value takes.
        public var registerCount: Int {
            switch self { case .float32, .uint32: 2; case .float64: 4; case .uint16: 1 }
        }
    }

    /// Lifetime energy quantities, as `energy_totals` keeps them.
    public enum Energy: String, Sendable, Hashable, CaseIterable {
        case whImport = "wh_imp", whExport = "wh_exp", varh, vah
    }

    /// Where the value comes from.
    public enum Source: Sendable, Hashable {
        /// A per-phase value of the newest reading: `v`, `i`, `p`, `q`, `s` or `pf`.
        case phase(Phase, String)
        /// The arithmetic sum of `p`, `q` or `s` over the three phases (CLEMAP's "sum").
        case sum(String)
        /// `n_i`, the chip's ISUMRMS.
        case neutralCurrent
        /// `freq`.
        case frequency
        /// `time` of the newest reading, whole Unix seconds.
        case readingTime
        /// Lifetime energy from the store's `energy_totals`, per phase, or the three phases' total (phase nil).
        case energy(Energy, Phase?)
        /// Output A (0) or B (1): 0 off, 1 on, 0xFFFF unknown or not fitted.
        case output(Int)
        /// A register pair CLEMAP's map leaves to a value this meter does not measure: NaN.
        case notMeasured
    }

    /// The first register (PDU address, 0-based, as CLEMAP documents it: 19000 is sent as 19000).
    public let address: UInt16
    public let format: Format
    /// The vocabulary's name (`l1_v`, `n_i`, `total_p`, `l1_wh_imp`, …).
    public let name: String
    /// SI unit, empty when none.
    public let unit: String
    public let source: Source

    public init(_ address: UInt16, _ format: Format, _ name: String, _ unit: String, _ source: Source) {
        self.address = address; self.format = format; self.name = name; self.unit = unit; self.source = source
    }

    /// The registers it covers.
    public var registers: ClosedRange<Int> { Int(address)...(Int(address) + format.registerCount - 1) }
    /// Whether its value comes from the newest reading (and so must be fresh).
    public var isLive: Bool {
        switch source { case .phase, .sum, .neutralCurrent, .frequency, .readingTime: true; default: false }
    }
}

/// The register map: CLEMAP's documented holding registers, then clemap-edge's extras, each a run of values that a
/// client may read in one request.
///
/// A read must cover whole values: it starts on a value's first register, ends on a value's last register, and every
/// register between belongs to the map. Anything else is exception 02 (ILLEGAL DATA ADDRESS). Refusing a read that
/// splits a value stops the usual off-by-one mistake (1-based "40001" addressing, or a pair read one register late)
/// from decoding into a plausible but wrong number.
///
/// | block | registers | what |
/// |---|---|---|
/// | CLEMAP | 19000–19043 | float32: V, I, neutral I, P, S, Q per phase and sums (19006–19011: NaN, not measured) |
/// | extras | 20000–20073 | float32 frequency and PF, uint32 reading time, float64 lifetime energy (Wh, varh, VAh) |
/// | outputs | 20100–20101 | uint16 output A and B (writable with `outputs_writable = true`) |
public struct ModbusRegisterMap: Sendable {
    /// Every value, in address order.
    public let points: [ModbusPoint]
    private let startingAt: [UInt16: Int]

    public init(points: [ModbusPoint]) {
        self.points = points.sorted { $0.address < $1.address }
        startingAt = Dictionary(uniqueKeysWithValues: self.points.enumerated().map { ($1.address, $0) })
    }

    /// The values covering exactly `count` registers from `start`, in order; nil when the range leaves the map, has
    /// a gap, or splits a value.
    public func points(from start: UInt16, count: Int) -> [ModbusPoint]? {
        guard count > 0 else { return nil }
        let end = Int(start) + count
        var address = Int(start), found: [ModbusPoint] = []
        while address < end {
            guard address <= Int(UInt16.max), let index = startingAt[UInt16(address)] else { return nil }
            let point = points[index]
            address += point.format.registerCount
            guard address <= end else { return nil }
            found.append(point)
        }
        return found
    }

    /// The map clemap-edge serves: CLEMAP's documented registers (docs.clemap.com, "Realtime energy data: Modbus
    /// TCP"), which follow the Janitza UMG "frequently used values" layout, then the extras.
    public static let clemapEdge: ModbusRegisterMap = {
        var points: [ModbusPoint] = []
        func perPhase(_ base: UInt16, _ quantity: String, _ unit: String) {
            for phase in Phase.allCases {
                points.append(.init(base + 2 * UInt16(phase.rawValue), .float32, "\(phase.line)_\(quantity)", unit, .phase(phase, quantity)))
            }
        }
        // CLEMAP, float32 pairs.
        perPhase(19000, "v", "V")
        // V L1-L2, L2-L3, L3-L1 in the Janitza layout; CLEMAP does not document them and this meter does not measure
        // them (they would need the voltage angles): NaN, so that one read of 19000–19043 still works.
        for (offset, name) in ["l12_v", "l23_v", "l31_v"].enumerated() {
            points.append(.init(19006 + 2 * UInt16(offset), .float32, name, "V", .notMeasured))
        }
        perPhase(19012, "i", "A")
        points.append(.init(19018, .float32, "n_i", "A", .neutralCurrent))
        perPhase(19020, "p", "W")
        points.append(.init(19026, .float32, "total_p", "W", .sum("p")))
        perPhase(19028, "s", "VA")
        points.append(.init(19034, .float32, "total_s", "VA", .sum("s")))
        perPhase(19036, "q", "var")
        points.append(.init(19042, .float32, "total_q", "var", .sum("q")))

        // Extras.
        points.append(.init(20000, .float32, "freq", "Hz", .frequency))
        perPhase(20002, "pf", "")
        points.append(.init(20008, .uint32, "time", "s", .readingTime))
        var address: UInt16 = 20010
        for energy in ModbusPoint.Energy.allCases {
            let unit = energy == .varh ? "varh" : energy == .vah ? "VAh" : "Wh"
            for phase in [Phase.a, .b, .c] as [Phase?] + [nil] {
                points.append(.init(address, .float64, "\(phase?.line ?? "total")_\(energy.rawValue)", unit, .energy(energy, phase)))
                address += 4
            }
        }
        points.append(.init(20100, .uint16, "output_a", "", .output(0)))
        points.append(.init(20101, .uint16, "output_b", "", .output(1)))
        return ModbusRegisterMap(points: points)
    }()
}
