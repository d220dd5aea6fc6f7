// SPDX-License-Identifier: Apache-2.0
import ADE9000
import CSpidev
import Glibc
@testable import MeterHAL
import Testing

/// Expected values are literals from platform.md §2, never read back from the headers under test.
@Suite("spidev ABI: struct spi_ioc_transfer, ioctl numbers, mode bits")
struct SpidevLayoutTests {
    @Test("struct spi_ioc_transfer is 32 bytes with the kernel's field offsets")
    func transferLayout() {
        let layout = cspidev_transfer_layout()
        #expect(layout.size == 32)
        #expect(layout.tx_buf == 0)
        #expect(layout.rx_buf == 8)
        #expect(layout.len == 16)
        #expect(layout.speed_hz == 20)
        #expect(layout.delay_usecs == 24)
        #expect(layout.bits_per_word == 26)
        #expect(layout.cs_change == 27)
        #expect(layout.tx_nbits == 28)
        #expect(layout.rx_nbits == 29)
        #expect(layout.word_delay_usecs == 30)
    }

    @Test("Swift's import of spi_ioc_transfer agrees with C")
    func swiftLayout() {
        #expect(MemoryLayout<spi_ioc_transfer>.size == 32)
        #expect(MemoryLayout<spi_ioc_transfer>.offset(of: \.len) == 16)
        #expect(MemoryLayout<spi_ioc_transfer>.offset(of: \.speed_hz) == 20)
        #expect(MemoryLayout<spi_ioc_transfer>.offset(of: \.cs_change) == 27)
    }

    @Test("cspidev_message frames each transfer with chip select: cs_change 1, 1, …, 0")
    func transfersAsSent() {
        let tx = [UInt8](repeating: 0xAA, count: 10)
        var rx = [UInt8](repeating: 0, count: 10)
        let lengths: [UInt32] = [4, 2, 4]
        // Pre-filled with garbage: the shim must zero every field it does not set.
        var garbage = spi_ioc_transfer()
        withUnsafeMutableBytes(of: &garbage) { _ = $0.initializeMemory(as: UInt8.self, repeating: 0xFF) }
        var xfers = [spi_ioc_transfer](repeating: garbage, count: 3)
        tx.withUnsafeBufferPointer { txp in
            rx.withUnsafeMutableBufferPointer { rxp in
                cspidev_fill_transfers(&xfers, txp.baseAddress, rxp.baseAddress, lengths, 3, 7_000_000)
                let txBase = UInt64(UInt(bitPattern: txp.baseAddress))
                let rxBase = UInt64(UInt(bitPattern: rxp.baseAddress))
                #expect(xfers.map { $0.tx_buf - txBase } == [0, 4, 6])
                #expect(xfers.map { $0.rx_buf - rxBase } == [0, 4, 6])
            }
        }
        #expect(xfers.map(\.len) == [4, 2, 4])
        #expect(xfers.map(\.cs_change) == [1, 1, 0])
        #expect(xfers.map(\.speed_hz) == [7_000_000, 7_000_000, 7_000_000])
        for xfer in xfers {
            #expect(xfer.delay_usecs == 0 && xfer.bits_per_word == 0 && xfer.tx_nbits == 0 && xfer.rx_nbits == 0)
            #expect(xfer.word_delay_usecs == 0 && xfer.pad == 0)
        }
    }

    @Test("SPI_IOC_MESSAGE(n)", arguments: [
        (UInt32(1), UInt(0x4020_6b00)), (2, 0x4040_6b00), (3, 0x4060_6b00), (511, 0x7fe0_6b00),
    ])
    func messageRequest(n: UInt32, expected: UInt) {
        #expect(cspidev_ioc_message(n) == expected)
    }

    @Test("SPI_IOC_MESSAGE(n) is refused where the size field would wrap or be empty")
    func messageRequestOutOfRange() {
        #expect(cspidev_ioc_message(0) == 0)
        #expect(cspidev_ioc_message(512) == 0)
        #expect(Spidev.maxTransfersPerMessage == 511)
    }

    @Test("configuration ioctl numbers")
    func configurationRequests() {
        #expect(cspidev_ioc_wr_mode() == 0x4001_6b01)
        #expect(cspidev_ioc_rd_mode() == 0x8001_6b01)
        #expect(cspidev_ioc_wr_bits_per_word() == 0x4001_6b03)
        #expect(cspidev_ioc_wr_max_speed_hz() == 0x4004_6b04)
        #expect(cspidev_ioc_rd_max_speed_hz() == 0x8004_6b04)
        #expect(cspidev_ioc_wr_mode32() == 0x4004_6b05)
    }

    @Test("mode bits, and SPIMode raw values are SPI_MODE_0…3")
    func modeBits() {
        #expect(cspidev_spi_cpha() == 0x01)
        #expect(cspidev_spi_cpol() == 0x02)
        #expect(cspidev_spi_cs_high() == 0x04)
        #expect(cspidev_spi_lsb_first() == 0x08)
        #expect(cspidev_spi_3wire() == 0x10)
        #expect(cspidev_spi_loop() == 0x20)
        #expect(cspidev_spi_no_cs() == 0x40)
        #expect(cspidev_spi_ready() == 0x80)
        let cModes = [cspidev_spi_mode_0(), cspidev_spi_mode_1(), cspidev_spi_mode_2(), cspidev_spi_mode_3()]
        #expect(cModes == [0, 1, 2, 3])
        #expect(SPIMode.allCases.map { UInt32($0.rawValue) } == cModes)
        #expect(SPIMode.mode3.description == "SPI_MODE_3")
    }
}

@Suite("SpidevTransport error paths (any Linux, no SPI device)")
struct SpidevTransportErrorTests {
    @Test("a missing device node says how to enable SPI")
    func missingNode() {
        let path = "/dev/spidev-meterhal-test-\(getpid()).0"
        let error = #expect(throws: SPIError.self) { try SpidevTransport(path: path) }
        #expect(error?.code == .open)
        #expect(error?.errno == ENOENT)
        let text = error?.description ?? ""
        #expect(text.contains(path))
        #expect(text.contains("dtparam=spi=on"))
        #expect(text.contains("raspi-config nonint do_spi 0"))
        #expect(text.contains("--simulate"))
    }

    @Test("EACCES names the spi group (root ignores permissions, so this checks the message)")
    func accessDeniedMessage() {
        let error = SPIError.openFailed(device: "/dev/spidev0.0", errno: EACCES)
        #expect(error.code == .open)
        #expect(error.errno == EACCES)
        #expect(error.description.contains("/dev/spidev0.0"))
        #expect(error.description.contains("sudo usermod -aG spi $USER"))
        #expect(error.description.contains("log out and in again"))
    }

    @Test("a regular file opens but fails SPI_IOC_WR_MODE with ENOTTY")
    func regularFileFailsConfigure() throws {
        let file = try TemporaryFile()
        defer { file.remove() }
        let error = #expect(throws: SPIError.self) { try SpidevTransport(path: file.path) }
        #expect(error?.code == .configure)
        #expect(error?.errno == ENOTTY)
        #expect(error?.description.contains(file.path) == true)
        #expect(error?.description.contains("SPI_IOC_WR_MODE") == true)
        #expect(error?.description.contains("not a spidev device node") == true)
    }

    @Test("an out-of-range clock is refused before any I/O", arguments: [UInt32(0), 20_000_001, 30_000_000])
    func speedOutOfRange(speedHz: UInt32) {
        // The path does not exist: reaching open() would throw .open instead.
        let path = "/dev/spidev-meterhal-test-\(getpid()).0"
        let error = #expect(throws: SPIError.self) { try SpidevTransport(path: path, speedHz: speedHz) }
        #expect(error?.code == .configure)
        #expect(error?.errno == nil)
        #expect(error?.description.contains("\(speedHz) Hz") == true)
        #expect(error?.description.contains("20000000 Hz") == true)
    }

    @Test("20 MHz and 1 Hz pass validation (and then fail to open)", arguments: [UInt32(1), 20_000_000])
    func speedBoundsAccepted(speedHz: UInt32) {
        let path = "/dev/spidev-meterhal-test-\(getpid()).0"
        let error = #expect(throws: SPIError.self) { try SpidevTransport(path: path, speedHz: speedHz) }
        #expect(error?.code == .open)
    }

    @Test("SPI_IOC_MESSAGE on a non-spidev descriptor throws .transfer with ENOTTY")
    func transferOnRegularFile() throws {
        let file = try TemporaryFile()
        defer { file.remove() }
        let transport = SpidevTransport(adopting: try file.openReadWrite(), path: file.path)
        let error = #expect(throws: SPIError.self) { try transport.transfer([[0x47, 0x28, 0, 0], [1]]) }
        #expect(error?.code == .transfer)
        #expect(error?.errno == ENOTTY)
        #expect(error?.description.contains("SPI_IOC_MESSAGE(2) of 5 bytes") == true)
        #expect(error?.description.contains(file.path) == true)
    }

    @Test("a frame larger than bufsiz is refused before any frame is clocked")
    func oversizeFrameRefusedBeforeIO() throws {
        let file = try TemporaryFile()
        defer { file.remove() }
        let transport = SpidevTransport(adopting: try file.openReadWrite(), path: file.path, bufsiz: 64)
        // Had the ioctl run on this regular file, errno would be ENOTTY.
        let error = #expect(throws: SPIError.self) {
            try transport.transfer([[1, 2], [UInt8](repeating: 0, count: 65)])
        }
        #expect(error?.code == .transfer)
        #expect(error?.errno == nil)
        #expect(error?.description.contains("frame 1 is 65 bytes") == true)
        #expect(error?.description.contains("bufsiz of 64 bytes") == true)
    }

    @Test("no frames, or only empty frames, make no ioctl")
    func emptyFramesMakeNoIoctl() throws {
        let file = try TemporaryFile()
        defer { file.remove() }
        let transport = SpidevTransport(adopting: try file.openReadWrite(), path: file.path)
        #expect(try transport.transfer([]) == [])
        #expect(try transport.transfer([[], []]) == [[], []])
    }

    @Test("after close(), transfers throw .closed; closing twice is harmless")
    func closed() throws {
        let file = try TemporaryFile()
        defer { file.remove() }
        let transport = SpidevTransport(adopting: try file.openReadWrite(), path: file.path)
        transport.close()
        transport.close()
        let error = #expect(throws: SPIError.self) { try transport.transfer([[0]]) }
        #expect(error?.code == .closed)
        #expect(error?.description.contains(file.path) == true)
    }
}

@Suite("splitting frames into SPI_IOC_MESSAGE calls")
struct SpidevBatchingTests {
    @Test("frames that fit go in one message")
    func oneMessage() throws {
        #expect(try SpidevBatching.batches(frameLengths: [4, 6, 6], bufsiz: 4096) == [[0, 1, 2]])
        #expect(try SpidevBatching.batches(frameLengths: [], bufsiz: 4096) == [])
    }

    @Test("a frame that would cross bufsiz starts the next message")
    func splitAtBufsiz() throws {
        #expect(try SpidevBatching.batches(frameLengths: [4000, 96, 1], bufsiz: 4096) == [[0, 1], [2]])
        #expect(try SpidevBatching.batches(frameLengths: [4096, 4096], bufsiz: 4096) == [[0], [1]])
        #expect(try SpidevBatching.batches(frameLengths: [3, 3, 3], bufsiz: 5) == [[0], [1], [2]])
    }

    @Test("no message carries more than 511 transfers")
    func splitAtTransferCount() throws {
        // 512 six-byte frames: 3072 bytes fit bufsiz, but SPI_IOC_MESSAGE(512) would silently do nothing.
        let batches = try SpidevBatching.batches(frameLengths: Array(repeating: 6, count: 512), bufsiz: 4096)
        #expect(batches.map(\.count) == [511, 1])
        #expect(try SpidevBatching.batches(frameLengths: [1, 1, 1], bufsiz: 4096, maxTransfers: 2) == [[0, 1], [2]])
    }

    @Test("empty frames are left out")
    func emptyFramesSkipped() throws {
        #expect(try SpidevBatching.batches(frameLengths: [0, 4, 0, 6, 0], bufsiz: 4096) == [[1, 3]])
        #expect(try SpidevBatching.batches(frameLengths: [0, 0], bufsiz: 4096) == [])
    }

    @Test("a frame longer than bufsiz is reported by index, even after frames that fit")
    func oversizedFrame() {
        #expect(throws: SpidevBatching.OversizedFrame(index: 2, count: 8194)) {
            try SpidevBatching.batches(frameLengths: [4, 4, 8194, 9000], bufsiz: 4096)
        }
    }

    @Test("every message stays within both limits and frames keep their order",
          arguments: [1, 7, 64, 4096])
    func limitsHold(bufsiz: Int) throws {
        let lengths = (0..<2000).map { ($0 * 37) % bufsiz + ($0 % 5 == 0 ? 0 : 1) }.map { min($0, bufsiz) }
        let batches = try SpidevBatching.batches(frameLengths: lengths, bufsiz: bufsiz)
        for batch in batches {
            #expect(!batch.isEmpty)
            #expect(batch.count <= 511)
            #expect(batch.map { lengths[$0] }.reduce(0, +) <= bufsiz)
        }
        #expect(batches.flatMap { $0 } == lengths.indices.filter { lengths[$0] > 0 })
    }

    @Test("bufsiz comes from sysfs when readable, else 4096")
    func bufsizFromSysfs() throws {
        let good = try TemporaryFile(contents: "65536\n")
        defer { good.remove() }
        #expect(SpidevBatching.bufsiz(readingFrom: good.path) == 65536)
        let bad = try TemporaryFile(contents: "lots\n")
        defer { bad.remove() }
        #expect(SpidevBatching.bufsiz(readingFrom: bad.path) == 4096)
        #expect(SpidevBatching.bufsiz(readingFrom: "/nonexistent/meterhal/bufsiz") == 4096)
    }
}

/// A file from `mkstemp(3)`: a path that exists but is not a spidev node.
private struct TemporaryFile {
    let path: String

    init(contents: String = "") throws {
        var template = Array("/tmp/meterhal-test-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw Failure(message: "mkstemp failed, errno \(errno)") }
        defer { Glibc.close(fd) }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let bytes = Array(contents.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw Failure(message: "write failed, errno \(errno)") }
    }

    /// A new read-write descriptor, owned by the caller.
    func openReadWrite() throws -> Int32 {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(message: "open \(path) failed, errno \(errno)") }
        return fd
    }

    func remove() { unlink(path) }

    struct Failure: Error { let message: String }
}
