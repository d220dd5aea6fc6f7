// SPDX-License-Identifier: Apache-2.0

public import ADE9000
public import MeterConfig
public import MeterReadings

/// The board's outputs as Modbus sees them: index 0 is output A (holding register 20100), 1 is B (20101).
public struct ModbusOutputs: Sendable {
    /// Switches an output and stores its state (as `clemap-edge output`); throws when it cannot.
    public var set: @Sendable (_ index: Int, _ on: Bool) throws -> Void
    /// The output's state; nil when unknown or not fitted.
    public var state: @Sendable (_ index: Int) -> Bool?
    /// True when `output_pin_setup` fits it.
    public var fitted: @Sendable (_ index: Int) -> Bool

    public init(set: @escaping @Sendable (Int, Bool) throws -> Void, state: @escaping @Sendable (Int) -> Bool?,
                fitted: @escaping @Sendable (Int) -> Bool) {
        self.set = set; self.state = state; self.fitted = fitted
    }
}

/// Decides the answer to one request: pure apart from the value sources it is given, so every rule is tested without
/// a socket (`Tests/MeterModbusTests`).
///
/// Checks in the order of the Modbus state diagrams: unit (0B), function (01), quantity (03), address (02), then the
/// values themselves (06 before the first reading or before the lifetime energy is known, 04 for a stale reading).
public struct ModbusResponder: Sendable {
    /// Where the values come from; each is asked only when a request covers one of its registers.
    public struct Sources: Sendable {
        /// The newest reading (`hub.latest`: no bus access).
        public var latest: @Sendable () -> Reading?
        /// Now on the meter clock's monotonic scale, to age ``latest``.
        public var monotonicNow: @Sendable () -> Double
        /// Lifetime energy per phase (the store's `energy_totals`), nil until known.
        public var totals: @Sendable () -> [Phase: MinuteRow.PhaseEnergy]?
        /// Outputs A and B; nil without GPIO.
        public var outputs: ModbusOutputs?

        public init(latest: @escaping @Sendable () -> Reading?, monotonicNow: @escaping @Sendable () -> Double,
                    totals: @escaping @Sendable () -> [Phase: MinuteRow.PhaseEnergy]?, outputs: ModbusOutputs?) {
            self.latest = latest; self.monotonicNow = monotonicNow; self.totals = totals; self.outputs = outputs
        }
    }

    /// A reading older than this (meter-clock seconds; one arrives every second) means the meter stopped answering:
    /// its values are refused with 04 rather than served as if current.
    public static let staleAfterSeconds = 10.0
    /// The most registers one read may ask (Modbus: 125).
    public static let maximumReadCount = 125
    /// The most registers one write may carry (Modbus: 123).
    public static let maximumWriteCount = 123

    public let map: ModbusRegisterMap
    public let settings: ModbusSettings
    public let sources: Sources

    public init(map: ModbusRegisterMap = .clemapEdge, settings: ModbusSettings, sources: Sources) {
        self.map = map; self.settings = settings; self.sources = sources
    }

    /// Whether a request addressed to `unit` is for this server: `unit_id`, 0 or 255 (the Modbus TCP
    /// implementation guide's "not used" value; 0 was Home Assistant's and pymodbus's default before pymodbus 3.7).
    public func accepts(unit: UInt8) -> Bool {
        unit == 0 || unit == 0xFF || Int(unit) == settings.unitID
    }

    /// The answer to `request`.
    public func answer(_ request: ModbusRequest) -> ModbusAnswer {
        guard accepts(unit: request.unit) else { return .exception(.gatewayTargetFailedToRespond) }
        switch request.operation {
        case .read(_, let address, let count):
            guard (1...Self.maximumReadCount).contains(count) else { return .exception(.illegalDataValue) }
            guard let points = map.points(from: address, count: count) else { return .exception(.illegalDataAddress) }
            return read(points)
        case .writeSingle(let address, let value):
            return write(address: address, values: [value])
        case .writeMultiple(let address, let values, let byteCountMatches):
            guard byteCountMatches, (1...Self.maximumWriteCount).contains(values.count) else { return .exception(.illegalDataValue) }
            return write(address: address, values: values)
        case .other:
            return .exception(.illegalFunction)
        }
    }

    // MARK: Reading

    private func read(_ points: [ModbusPoint]) -> ModbusAnswer {
        var reading: Reading?
        if points.contains(where: \.isLive) {
            guard let latest = sources.latest() else { return .exception(.serverDeviceBusy) }
            guard sources.monotonicNow() - latest.monotonic <= Self.staleAfterSeconds else { return .exception(.serverDeviceFailure) }
            reading = latest
        }
        var totals: [Phase: MinuteRow.PhaseEnergy]?
        if points.contains(where: { if case .energy = $0.source { true } else { false } }) {
            guard let known = sources.totals() else { return .exception(.serverDeviceBusy) }
            totals = known
        }
        var registers: [UInt16] = []
        registers.reserveCapacity(points.reduce(0) { $0 + $1.format.registerCount })
        for point in points {
            registers += encode(point, reading: reading, totals: totals)
        }
        return .registers(registers)
    }

    /// One value's registers. `reading` and `totals` are present whenever the point needs them (``read(_:)``).
    func encode(_ point: ModbusPoint, reading: Reading?, totals: [Phase: MinuteRow.PhaseEnergy]?) -> [UInt16] {
        let order = settings.wordOrder
        switch point.source {
        case .readingTime:
            let time = reading?.time ?? 0
            return RegisterEncoding.uint32(time >= 0 && time < 4_294_967_296 ? UInt32(time.rounded(.down)) : 0, order)
        case .output(let index):
            guard let outputs = sources.outputs, outputs.fitted(index), let on = outputs.state(index) else { return [0xFFFF] }
            return [on ? 1 : 0]
        case .energy(let energy, let phase):
            let value = (phase.map { [$0] } ?? Phase.allCases).reduce(0.0) { sum, p in
                let e = totals?[p] ?? .zero
                return sum + (energy == .whImport ? e.whImport : energy == .whExport ? e.whExport : energy == .varh ? e.varh : e.vah)
            }
            return RegisterEncoding.float64(value, order)
        default:
            return RegisterEncoding.float32(reading.map { Self.value(point.source, in: $0) } ?? .nan, order)
        }
    }

    /// The number a reading gives a live point; NaN for what it does not hold.
    static func value(_ source: ModbusPoint.Source, in reading: Reading) -> Double {
        func quantity(_ values: Reading.PhaseValues, _ name: String) -> Double {
            switch name { case "v": values.v; case "i": values.i; case "p": values.p; case "q": values.q; case "s": values.s; case "pf": values.pf; default: .nan }
        }
        switch source {
        case .phase(let phase, let name): return quantity(reading[phase], name)
        case .sum(let name): return Phase.allCases.reduce(0) { $0 + quantity(reading[$1], name) }
        case .neutralCurrent: return reading.neutralCurrent ?? .nan
        case .frequency: return reading.freq
        default: return .nan
        }
    }

    // MARK: Writing

    /// Only outputs A and B are writable, and only with `outputs_writable = true`; 0 switches off, 1 on.
    private func write(address: UInt16, values: [UInt16]) -> ModbusAnswer {
        guard settings.outputsWritable, let points = map.points(from: address, count: values.count),
              let outputs = sources.outputs else { return .exception(.illegalDataAddress) }
        var switches: [(index: Int, on: Bool)] = []
        for (point, value) in zip(points, values) {
            guard case .output(let index) = point.source, outputs.fitted(index) else { return .exception(.illegalDataAddress) }
            guard value <= 1 else { return .exception(.illegalDataValue) }
            switches.append((index, value == 1))
        }
        do {
            for change in switches { try outputs.set(change.index, change.on) }
        } catch {
            return .exception(.serverDeviceFailure)
        }
        return .written
    }
}
