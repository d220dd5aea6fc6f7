// SPDX-License-Identifier: Apache-2.0

/// `[MODBUS]`: the Modbus TCP server with CLEMAP's documented register map (holding registers 19000–19043) and
/// clemap-edge's extras (20000–20073, 20100–20101).
///
/// Off by default, as on CLEMAP's own device. Modbus TCP has no authentication: on a bind other than loopback any
/// machine that reaches the port can read the meter, and switch the outputs if ``outputsWritable`` is on.
public struct ModbusSettings: Sendable, Hashable {
    /// How a value of two or four registers is laid out. Within a register the bytes are always big-endian (Modbus).
    public enum WordOrder: String, Sendable, Hashable, CaseIterable {
        /// The most significant register first (`ABCD`): CLEMAP's, pymodbus's and most SCADA's default.
        case bigEndian = "big-endian"
        /// The least significant register first (`CDAB`, "word-swapped"), for clients that expect it.
        case littleEndian = "little-endian"

        /// The spellings `word_order` accepts for each.
        public static let spellings: [String: WordOrder] = [
            "big-endian": .bigEndian, "big": .bigEndian, "abcd": .bigEndian,
            "little-endian": .littleEndian, "little": .littleEndian, "word-swapped": .littleEndian, "cdab": .littleEndian,
        ]
    }

    /// `enabled`: `true` or `false`, default `false`.
    public var enabled: Bool
    /// `bind`: an IP address to listen on, default `127.0.0.1`; `0.0.0.0` or `::` for every interface (no authentication).
    public var bind: String
    /// `port`: 1…65535, default 5020 (CLEMAP's).
    public var port: Int
    /// `unit_id`: 1…247, default 1. Requests for this unit, for 0 or for 255 are answered; any other gets exception 0x0B.
    public var unitID: Int
    /// `word_order`: `big-endian` (default) or `little-endian` (`word-swapped`).
    public var wordOrder: WordOrder
    /// `max_clients`: 1…1024, default 64: connections served at once; one more is closed at once.
    public var maxClients: Int
    /// `idle_timeout_sec`: 1…3600, default 60: a connection that sends no request for this long is closed.
    public var idleTimeoutSeconds: Int
    /// `outputs_writable`: `true` or `false`, default `false`: holding registers 20100 (output A) and 20101 (output B)
    /// accept writes (0 off, 1 on). Off, every write is refused with exception 02.
    public var outputsWritable: Bool

    public init(enabled: Bool = false, bind: String = "127.0.0.1", port: Int = 5020, unitID: Int = 1,
                wordOrder: WordOrder = .bigEndian, maxClients: Int = 64, idleTimeoutSeconds: Int = 60,
                outputsWritable: Bool = false) {
        self.enabled = enabled; self.bind = bind; self.port = port; self.unitID = unitID; self.wordOrder = wordOrder
        self.maxClients = maxClients; self.idleTimeoutSeconds = idleTimeoutSeconds; self.outputsWritable = outputsWritable
    }

    /// True for `127.0.0.0/8`, `::1` and `localhost`: only this machine can connect.
    public var isLoopback: Bool { HTTPSettings.isLoopback(bind) }

    /// One line for `config check` and the start log.
    public var summary: String {
        guard enabled else { return "modbus: off" }
        let address = bind.contains(":") ? "[\(bind)]" : bind
        return "modbus: on, TCP \(address):\(port) (\(isLoopback ? "loopback only" : "reachable from the network, no authentication")), "
            + "unit \(unitID), \(wordOrder.rawValue), up to \(maxClients) clients, idle \(idleTimeoutSeconds) s, "
            + (outputsWritable ? "outputs writable (20100/20101)" : "read only")
    }
}
