// SPDX-License-Identifier: Apache-2.0
internal import CGPIOD
internal import Glibc
import MeterGPIO
import SystemPackage

/// Every C call MeterHAL makes for GPIO. Only this file imports `CGPIOD` (style.md §5); each wrapper names
/// the shim function it calls, which in turn names the libgpiod 1.6 and 2.x calls behind it (Sources/CGPIOD/shim.h).
enum Libgpiod {
    typealias Chip = UnsafeMutablePointer<cgpiod_chip>
    typealias Line = UnsafeMutablePointer<cgpiod_line>

    /// `cgpiod_api_version()`: the libgpiod major API compiled against, 1 or 2.
    static var apiVersion: Int { Int(cgpiod_api_version()) }

    /// `cgpiod_library_version()`: the linked library's version, e.g. `1.6.3`.
    static var libraryVersion: String { String(cString: cgpiod_library_version()) }

    /// `cgpiod_open_chip(path)`.
    static func openChip(path: String) -> Result<Chip, Errno> {
        if let chip = cgpiod_open_chip(path) { return .success(chip) }
        return .failure(Errno(rawValue: Glibc.errno))
    }

    /// `cgpiod_chip_name`, `cgpiod_chip_label`, `cgpiod_chip_num_lines`.
    static func identity(of chip: Chip) -> (name: String, label: String, lineCount: Int) {
        (String(cString: cgpiod_chip_name(chip)), String(cString: cgpiod_chip_label(chip)), Int(cgpiod_chip_num_lines(chip)))
    }

    /// `cgpiod_close_chip`.
    static func closeChip(_ chip: Chip) { cgpiod_close_chip(chip) }

    /// `cgpiod_request_output(chip, offset, consumer, initial)`.
    static func requestOutput(_ chip: Chip, offset: Int, consumer: String, initial: Bool) -> Result<Line, Errno> {
        if let line = cgpiod_request_output(chip, UInt32(offset), consumer, initial ? 1 : 0) { return .success(line) }
        return .failure(Errno(rawValue: Glibc.errno))
    }

    /// `cgpiod_request_input(chip, offset, consumer, bias, CGPIOD_EDGE_NONE)`.
    static func requestInput(_ chip: Chip, offset: Int, consumer: String, bias: GPIOBias) -> Result<Line, Errno> {
        let cBias: Int32 = switch bias {
        case .asIs: Int32(CGPIOD_BIAS_AS_IS)
        case .disabled: Int32(CGPIOD_BIAS_DISABLED)
        case .pullUp: Int32(CGPIOD_BIAS_PULL_UP)
        case .pullDown: Int32(CGPIOD_BIAS_PULL_DOWN)
        }
        if let line = cgpiod_request_input(chip, UInt32(offset), consumer, cBias, Int32(CGPIOD_EDGE_NONE)) {
            return .success(line)
        }
        return .failure(Errno(rawValue: Glibc.errno))
    }

    /// `cgpiod_set(line, value)`.
    static func set(_ line: Line, _ level: Bool) -> Result<Void, Errno> {
        cgpiod_set(line, level ? 1 : 0) == 0 ? .success(()) : .failure(Errno(rawValue: Glibc.errno))
    }

    /// `cgpiod_get(line)`.
    static func get(_ line: Line) -> Result<Bool, Errno> {
        let value = cgpiod_get(line)
        return value < 0 ? .failure(Errno(rawValue: Glibc.errno)) : .success(value == 1)
    }

    /// `cgpiod_release(line)`.
    static func release(_ line: Line) { cgpiod_release(line) }

    /// The `/dev/gpiochip*` nodes (symlinks included, e.g. the Pi 5's gpiochip4), by chip number:
    /// `opendir("/dev")` + `readdir`.
    static func chipPaths(in folder: String = "/dev") -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var found: [(number: Int, path: String)] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard name.hasPrefix("gpiochip"), let number = Int(name.dropFirst(8)) else { continue }
            found.append((number, folder + "/" + name))
        }
        return found.sorted { $0.number < $1.number }.map(\.path)
    }
}
