// swift-tools-version:6.1
// SPDX-License-Identifier: Apache-2.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "clemap-edge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "clemap-edge", targets: ["clemap-edge"]),
        .library(name: "ADE9000", targets: ["ADE9000"]),
        .library(name: "ADE9000Sim", targets: ["ADE9000Sim"]),
        .library(name: "MeterCore", targets: ["MeterCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Chip facts and the driver, written against `SPITransport`. No I/O.
        .target(
            name: "ADE9000",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The virtual chip. Imports only the register table of `ADE9000`, never its framing or maths.
        .target(name: "ADE9000Sim", dependencies: ["ADE9000"], swiftSettings: swiftSettings),
        // config.ini, the SI reading vocabulary, and the meter built from driver + board scale.
        .target(
            name: "MeterCore",
            dependencies: ["ADE9000", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The system libsqlite3 (Debian libsqlite3-dev), confined to one module.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // Minute rows in SQLite: schema, migrations, WAL, retention, lifetime totals, read API.
        .target(
            name: "MeterStore",
            dependencies: ["MeterCore", "CSQLite", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Calibration from reference measurements: the steps, wiring checks, the config rewrite.
        .target(
            name: "MeterCalibration",
            dependencies: ["ADE9000", "MeterCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // What Swift cannot import from <sys/timex.h>.
        .target(name: "CLinuxTime"),
        // The long-running parts: sampling into interval rows, storage with an in-memory backlog, systemd notify.
        .target(
            name: "MeterServices",
            dependencies: [
                "ADE9000", "MeterCore", "MeterStore", "MeterGPIO", "CLinuxTime",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // What Swift cannot import from <linux/spi/spidev.h>: the ioctl request macros.
        .target(name: "CSpidev"),
        // libgpiod 1.6 (Debian 12) or 2.x (Debian 13) behind one shim, chosen at compile time.
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        // GPIO logic without hardware: LED patterns, button debounce, output state file, the simulated chip.
        .target(
            name: "MeterGPIO",
            dependencies: ["MeterCore", .product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        // Hardware access: Linux spidev.
        .target(
            name: "MeterHAL",
            dependencies: ["ADE9000", "CSpidev", "CGPIOD", "MeterGPIO", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MeterTesting",
            dependencies: ["ADE9000", "ADE9000Sim", "MeterCore"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "clemap-edge",
            dependencies: [
                "ADE9000", "ADE9000Sim", "MeterCore", "MeterHAL", "MeterServices", "MeterStore", "MeterCalibration", "MeterGPIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ADE9000Tests", dependencies: ["ADE9000", "MeterTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ADE9000SimTests",
            dependencies: ["ADE9000", "ADE9000Sim", "MeterTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeterCoreTests",
            dependencies: ["ADE9000", "ADE9000Sim", "MeterCore", "MeterTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeterStoreTests",
            dependencies: ["MeterStore", "MeterCore", "ADE9000", "MeterTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeterServicesTests",
            dependencies: [
                "MeterServices", "MeterStore", "MeterCore", "ADE9000", "ADE9000Sim", "MeterTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeterCalibrationTests",
            dependencies: ["MeterCalibration", "MeterCore", "ADE9000", "ADE9000Sim", "MeterTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "MeterHALTests", dependencies: ["MeterHAL", "CSpidev", "ADE9000"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MeterGPIOTests",
            dependencies: ["MeterGPIO", "MeterCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "CLITests", dependencies: ["MeterTesting"], swiftSettings: swiftSettings),
    ]
)
