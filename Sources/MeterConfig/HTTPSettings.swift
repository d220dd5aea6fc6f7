// SPDX-License-Identifier: Apache-2.0

/// `[HTTP]`: the local API, `/metrics` and the dashboard.
///
/// On by default, on loopback only, where reading needs no token. Anything that changes the meter (the outputs)
/// needs `token`; so does every request when `bind` is not a loopback address, which is refused without one.
public struct HTTPSettings: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    /// `enabled`: `true` or `false`, default `true`.
    public var enabled: Bool
    /// `bind`: an IP address to listen on, default `127.0.0.1`; `0.0.0.0` or `::` for every interface (needs `token`).
    public var bind: String
    /// `port`: 1…65535, default 4000 (the port the original CLEMAP container published).
    public var port: Int
    /// `token`: the bearer token for changes, and for every request on a non-loopback bind; at least
    /// ``minimumTokenLength`` characters. Never logged or printed.
    public var token: String?

    /// Shorter tokens are refused: 16 hex digits are 64 bits, the least worth guessing against.
    public static let minimumTokenLength = 16

    public init(enabled: Bool = true, bind: String = "127.0.0.1", port: Int = 4000, token: String? = nil) {
        self.enabled = enabled; self.bind = bind; self.port = port; self.token = token
    }

    /// True for `127.0.0.0/8`, `::1` and `localhost`: only this machine can connect.
    public var isLoopback: Bool { Self.isLoopback(bind) }

    public static func isLoopback(_ address: String) -> Bool {
        let a = address.lowercased()
        if a == "localhost" || a == "::1" || a == "[::1]" || a == "0:0:0:0:0:0:0:1" { return true }
        return a.hasPrefix("127.") && isIPv4(a)
    }

    /// A dotted quad of 0…255.
    public static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isASCII) && p.allSatisfy(\.isNumber) && Int(p).map { $0 <= 255 } == true
        }
    }

    /// An IPv6 literal, loosely: hex digits and colons (with one optional `::`), optionally in brackets.
    public static func isIPv6(_ text: String) -> Bool {
        var t = Substring(text)
        if t.hasPrefix("["), t.hasSuffix("]") { t = t.dropFirst().dropLast() }
        return t.contains(":") && t.count <= 45
            && t.unicodeScalars.allSatisfy { $0 == ":" || $0 == "." || ("0"..."9").contains($0) || ("a"..."f").contains($0) || ("A"..."F").contains($0) }
    }

    /// One line for `config check` and the start log; the token shows only as `set`.
    public var summary: String {
        guard enabled else { return "http: off" }
        return "http: on, http://\(bind.contains(":") ? "[\(bind)]" : bind):\(port)/ (\(isLoopback ? "loopback only" : "reachable from the network")), "
            + (token == nil ? "no token: reads only" : "token set: \(isLoopback ? "changes" : "every request") need it")
    }

    /// The settings with the token shown only as `set`: what `"\(settings)"` and `dump` print (a service's log line
    /// names the service by its description).
    public var description: String {
        "HTTPSettings(enabled: \(enabled), bind: \(bind), port: \(port), token: \(token == nil ? "none" : "set"))"
    }

    public var customMirror: Mirror { Mirror(self, children: ["settings": description]) }
}
