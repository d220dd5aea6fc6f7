// SPDX-License-Identifier: Apache-2.0

import MeterReadings
import MeterConfig
import MeterTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The atomic config rewrite: a write stopped after any step leaves the old file or the new one, never a
/// mix; a missing or read-only file is refused and nothing changes.
@Suite struct ConfigWriterTests {
    static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil { text += String(cString: buffer) }
        return text
    }

    func prepared() throws -> (TemporaryFolder, INIDocument, String, String) {
        let folder = TemporaryFolder(prefix: "clemap-edge-cfg")
        let path = folder.path + "/config.ini"
        let original = try #require(Self.read(Fixtures.shippedConfig))
        let file = fopen(path, "w")!
        fputs(original, file)
        fclose(file)
        let edited = try INIDocument.load(path: path).settingValue("2070000", forKey: "calib_aigain", inSection: "METER_SERVICE")
        return (folder, edited, original, edited.render())
    }

    @Test(arguments: ConfigFileWriter.Step.allCases)
    func aWriteStoppedAfterAnyStepLeavesOldOrNew(step: ConfigFileWriter.Step) throws {
        let (folder, edited, original, new) = try prepared()
        let path = folder.path + "/config.ini"
        if step == .folderSynced {
            _ = try ConfigFileWriter.write(edited, timestamp: "T", stopAfter: nil)
        } else {
            #expect(throws: ConfigError.self) { try ConfigFileWriter.write(edited, timestamp: "T", stopAfter: step) }
        }
        let now = Self.read(path)
        #expect(now == original || now == new, "after \(step) the file is neither old nor new")
        #expect(now == (step.rawValue >= ConfigFileWriter.Step.renamed.rawValue ? new : original))
        if step.rawValue >= ConfigFileWriter.Step.backupWritten.rawValue {
            #expect(Self.read(path + ".bak-T") == original)
        }
    }

    @Test func aCompleteWriteKeepsEveryOtherLineAndABackup() throws {
        let (folder, edited, original, _) = try prepared()
        let path = folder.path + "/config.ini"
        let backup = try ConfigFileWriter.write(edited, timestamp: "20261124T000000Z")
        #expect(backup == path + ".bak-20261124T000000Z")
        let written = try #require(Self.read(path))
        let oldLines = original.split(separator: "\n", omittingEmptySubsequences: false)
        let newLines = written.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(oldLines.count == newLines.count)
        let different = zip(oldLines, newLines).filter { $0 != $1 }
        #expect(different.count == 1)
        #expect(different.first?.1 == "calib_aigain = 2070000")
        #expect(folder.names() == ["config.ini", "config.ini.bak-20261124T000000Z"]) // no temporary left
    }

    @Test func aReadOnlyFileIsRefusedAndUnchanged() throws {
        let (folder, edited, original, _) = try prepared()
        let path = folder.path + "/config.ini"
        chmod(path, 0o444)
        let error = #expect(throws: ConfigError.self) { try ConfigFileWriter.write(edited) }
        #expect(error?.description.contains("read-only") == true)
        #expect(Self.read(path) == original)
        #expect(folder.names() == ["config.ini"])
    }

    @Test func aFolderOnAReadOnlyMountIsRefusedAndUnchanged() throws {
        let (folder, edited, original, _) = try prepared()
        let path = folder.path + "/config.ini"
        // A read-only tmpfs holding the file (root may mount here; if it cannot, the test fails loudly).
        let mountpoint = folder.path + "/ro"
        mkdir(mountpoint, 0o755)
        #expect(system("mount -t tmpfs tmpfs '\(mountpoint)' && cp '\(path)' '\(mountpoint)/config.ini' && mount -o remount,ro '\(mountpoint)'") == 0,
                "mount is needed for this test")
        defer { _ = system("umount '\(mountpoint)'") }
        let onMount = try INIDocument.load(path: mountpoint + "/config.ini").settingValue("1", forKey: "calib_aigain", inSection: "METER_SERVICE")
        let error = #expect(throws: ConfigError.self) { try ConfigFileWriter.write(onMount) }
        #expect(error?.description.contains("not writable") == true)
        #expect(Self.read(mountpoint + "/config.ini") == original)
        _ = edited
    }

    @Test func aMissingFileIsRefused() throws {
        let (folder, edited, _, _) = try prepared()
        unlink(folder.path + "/config.ini")
        let error = #expect(throws: ConfigError.self) { try ConfigFileWriter.write(edited) }
        #expect(error?.description.contains(folder.path + "/config.ini") == true)
        #expect(folder.names().isEmpty)
    }
}
