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
        .library(name: "MeterReadings", targets: ["MeterReadings"]),
        .library(name: "MeterConfig", targets: ["MeterConfig"]),
        .library(name: "MeterApp", targets: ["MeterApp"]),
        .library(name: "KerasModel", targets: ["KerasModel"]),
        .library(name: "Forecast", targets: ["Forecast"]),
        .library(name: "PowerQuality", targets: ["PowerQuality"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The local HTTP API. No default traits: `FullFoundation` links libFoundation + ICU (+8 MiB resident,
        // docs/http-spike.md), `ConfigurationSupport` pulls swift-configuration; a test checks the binary for both.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Hummingbird's own dependency; named for the tests, which compare statuses and header names.
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // Hummingbird's own dependency; named for the tests, which hand requests to the router with a channel that
        // needs no socket (NIOEmbedded's `NIOAsyncTestingChannel`, as HummingbirdTesting's router framework does
        // without its AsyncHTTPClient and TLS).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
    ],
    targets: [
        // What Swift cannot import from <sys/timex.h>.
        .target(name: "CLinuxTime"),
        // The one clock protocol (monotonic + wall + synchronised + sleep) and the machine's clocks.
        .target(name: "MeterClock", dependencies: ["CLinuxTime"], swiftSettings: swiftSettings),
        // Durable file writes: atomic replace (temp, fsync, rename, fsync folder), folder creation. POSIX only.
        .target(name: "MeterFiles", swiftSettings: swiftSettings),
        // Chip facts and the driver, written against `SPITransport` and `MeterClock`. No I/O.
        .target(
            name: "ADE9000",
            dependencies: ["MeterClock", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The virtual chip. Imports only the register table of `ADE9000`, never its framing or maths.
        .target(name: "ADE9000Sim", dependencies: ["ADE9000", "MeterClock"], swiftSettings: swiftSettings),
        // The vocabulary: SI readings and minute rows under the `meter_data` column names, their JSON and text
        // forms, and the meter that turns the driver's codes into readings.
        .target(
            name: "MeterReadings",
            dependencies: ["ADE9000", "PowerQuality", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // GPIO logic without hardware: pins, LED patterns, button debounce, output state file, the simulated chip.
        .target(
            name: "MeterGPIO",
            dependencies: ["MeterClock", "MeterFiles", .product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        // config.ini: parse, validate into each module's settings, explain, rewrite atomically.
        .target(
            name: "MeterConfig",
            dependencies: ["ADE9000", "MeterReadings", "MeterGPIO", "MeterFiles", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The system libsqlite3 (Debian libsqlite3-dev), confined to one module.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The store: minute rows in SQLite (WAL, a writer and a pool of readers), per-feature migrations,
        // retention that asks the features' claims, lifetime totals.
        .target(
            name: "MeterStore",
            dependencies: ["ADE9000", "MeterReadings", "MeterFiles", "CSQLite", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Calibration from reference measurements: the steps, wiring checks, the config rewrite.
        .target(
            name: "MeterCalibration",
            dependencies: ["ADE9000", "MeterClock", "MeterReadings", "MeterConfig", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // What Swift cannot import from <linux/spi/spidev.h>: the ioctl request macros.
        .target(name: "CSpidev"),
        // libgpiod 1.6 (Debian 12) or 2.x (Debian 13) behind one shim, chosen at compile time.
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        // The system libhdf5 (Debian libhdf5-dev, serial build), confined to KerasModel.
        .systemLibrary(name: "CHDF5", providers: [.apt(["libhdf5-dev"])]),
        // The system libarchive (Debian libarchive-dev): .keras zips and SageMaker tar.gz, confined to KerasModel.
        .systemLibrary(name: "CArchive", providers: [.apt(["libarchive-dev", "libbz2-dev", "liblzma-dev", "libzstd-dev", "nettle-dev"])]),
        // Keras models (.h5 from Keras 2 and 3, .keras, model.tar.gz) read and computed without TensorFlow.
        .target(name: "KerasModel", dependencies: ["CHDF5", "CArchive"], exclude: ["README.md"], swiftSettings: swiftSettings),
        // Hardware access: Linux spidev and libgpiod.
        .target(
            name: "MeterHAL",
            dependencies: ["ADE9000", "CSpidev", "CGPIOD", "MeterGPIO", "MeterClock", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: swiftSettings
        ),
        // The long-running parts: the live hub, sampling into final rows, storage with backlog and spill,
        // board (LED, button), calibration reload, systemd notify.
        .target(
            name: "MeterServices",
            dependencies: [
                "ADE9000", "MeterClock", "MeterFiles", "MeterReadings", "MeterConfig", "MeterStore", "MeterGPIO",
                "Forecast", "KerasModel", "S3Client", "PowerQuality",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Short-horizon forecasting of the minute power: the built-in model, baselines, metrics, the backtest. Pure.
        .target(name: "Forecast", exclude: ["README.md"], swiftSettings: swiftSettings),
        // Power quality after EN 50160 and IEC 61000-4-30: the events' kinds and classes, the weekly report. Pure.
        .target(name: "PowerQuality", swiftSettings: swiftSettings),
        // The system zlib (Debian zlib1g-dev), for reading .csv.gz in the CLI.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The system libcurl (Debian libcurl4-openssl-dev) and nettle's SHA-256 (nettle-dev), confined to S3Client.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(name: "CNettle", pkgConfig: "nettle", providers: [.apt(["nettle-dev"])]),
        // A small synchronous S3 client (PUT, GET, download, HEAD, ListObjectsV2) signed by libcurl. No Foundation.
        .target(name: "S3Client", dependencies: ["CCurl", "CNettle"], swiftSettings: swiftSettings),
        // Test support: temporary folders, fixture paths (the virtual clock is `MeterClock.VirtualClock`).
        .target(name: "MeterTesting", dependencies: [.product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        // The local HTTP API (Hummingbird 2), Prometheus /metrics (swift-metrics + swift-prometheus) and the dashboard.
        // The page and the OpenAPI document are embedded in the binary: no files to install, no Bundle (Foundation).
        .target(
            name: "MeterHTTP",
            dependencies: [
                "ADE9000", "MeterClock", "MeterReadings", "MeterConfig", "MeterStore", "MeterServices", "Forecast", "PowerQuality",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("openapi.yaml"), .embedInCode("Dashboard/dashboard.html")],
            swiftSettings: swiftSettings
        ),
        // The system libmodbus (Debian libmodbus-dev), confined to MeterModbus.
        .systemLibrary(name: "CModbus", pkgConfig: "libmodbus", providers: [.apt(["libmodbus-dev"])]),
        // Modbus TCP: CLEMAP's register map served from the live hub by libmodbus, a thread per connection.
        .target(
            name: "MeterModbus",
            dependencies: [
                "ADE9000", "MeterClock", "MeterReadings", "MeterConfig", "MeterStore", "MeterServices", "CModbus",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The system libmosquitto's header (Debian libmosquitto-dev), confined to MeterMQTT, which loads the library
        // (libmosquitto1) with dlopen when [MQTT] is on. No pkgConfig: its `--libs` would link libmosquitto and OpenSSL
        // into every start (+2 MiB resident with MQTT off); the header is in /usr/include.
        .systemLibrary(name: "CMosquitto", providers: [.apt(["libmosquitto-dev"])]),
        // MQTT: the live state, every stored minute, lifetime energy, Home Assistant discovery and the outputs, through
        // libmosquitto on a thread of its own, reconnecting for ever.
        .target(
            name: "MeterMQTT",
            dependencies: [
                "ADE9000", "MeterReadings", "MeterConfig", "MeterStore", "MeterServices", "PowerQuality", "CMosquitto",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The one place that builds the service from a configuration: `run` and the tests call it.
        .target(
            name: "MeterApp",
            dependencies: [
                "ADE9000", "ADE9000Sim", "MeterClock", "MeterReadings", "MeterConfig", "MeterStore", "MeterGPIO",
                "MeterHAL", "MeterCalibration", "MeterServices", "Forecast", "S3Client", "MeterHTTP", "MeterModbus", "MeterMQTT",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "clemap-edge",
            dependencies: [
                "ADE9000", "ADE9000Sim", "MeterClock", "MeterReadings", "MeterConfig", "MeterHAL", "MeterServices",
                "MeterStore", "MeterCalibration", "MeterGPIO", "MeterApp", "KerasModel", "Forecast", "CZlib", "S3Client", "PowerQuality",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ADE9000Tests", dependencies: ["ADE9000", "MeterClock", "MeterTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ADE9000SimTests",
            dependencies: ["ADE9000", "ADE9000Sim", "MeterClock", "MeterTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeterConfigTests",
            dependencies: ["ADE9000", "MeterConfig", "MeterGPIO", "MeterReadings", "MeterTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeterReadingsTests",
            dependencies: ["ADE9000", "ADE9000Sim", "MeterClock", "MeterReadings", "MeterConfig", "MeterTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeterStoreTests",
            dependencies: ["MeterStore", "MeterReadings", "ADE9000", "MeterTesting", .product(name: "Logging", package: "swift-log")],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeterServicesTests",
            dependencies: [
                "MeterApp", "MeterServices", "MeterStore", "MeterReadings", "MeterConfig", "MeterClock", "ADE9000", "ADE9000Sim",
                "MeterTesting", "MeterFiles", "Forecast", "S3Client", "MeterGPIO", "PowerQuality",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeterCalibrationTests",
            dependencies: ["MeterCalibration", "MeterConfig", "MeterReadings", "MeterClock", "ADE9000", "ADE9000Sim", "MeterTesting",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "MeterHALTests", dependencies: ["MeterHAL", "MeterGPIO", "CSpidev", "ADE9000"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MeterGPIOTests",
            dependencies: ["MeterGPIO", "MeterConfig", "MeterClock", "MeterTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KerasModelTests",
            dependencies: ["KerasModel", "MeterTesting"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ForecastTests", dependencies: ["Forecast"], swiftSettings: swiftSettings),
        .testTarget(name: "PowerQualityTests", dependencies: ["PowerQuality"], swiftSettings: swiftSettings),
        .testTarget(
            name: "S3ClientTests",
            dependencies: ["S3Client", "MeterTesting"],
            exclude: ["moto_s3.py"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "CLITests", dependencies: ["MeterTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MeterModbusTests",
            dependencies: ["MeterModbus", "MeterMQTT", "MeterConfig", "MeterReadings", "MeterServices", "MeterClock", "ADE9000",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeterMQTTTests",
            dependencies: ["MeterMQTT", "MeterConfig", "MeterReadings", "MeterStore", "MeterServices", "ADE9000", "PowerQuality", "MeterTesting",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MeterHTTPTests",
            dependencies: ["MeterHTTP", "MeterConfig", "MeterStore", "MeterServices", "MeterReadings", "ADE9000", "MeterClock", "Forecast",
                           "PowerQuality", "MeterTesting", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "NIOEmbedded", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
    ]
)
