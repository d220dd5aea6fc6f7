// SPDX-License-Identifier: Apache-2.0

import Foundation
import KerasModel
import MeterTesting
import Testing

/// Archives a model handoff must refuse whole (scripts/keras-fixtures/make_update_fixtures.py): cut short, an entry
/// that would leave the folder or is no plain file, files besides the model and scaler.json, too large; each
/// refusal names the file, the entry and the fix.
@Suite struct ArchiveSafetyTests {
    private func refusal(_ path: String, limits: KerasModel.Limits = KerasModel.Limits()) -> KerasModelError? {
        do {
            _ = try KerasModel.load(contentsOf: path, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    struct Unsafe: Sendable, CustomStringConvertible {
        var file: String, entry: String, what: String, fix: String
        var description: String { file }
    }

    static let unsafe: [Unsafe] = [
        Unsafe(file: "bad_dotdot.tar.gz", entry: "../model.h5", what: "a '..' path component", fix: "pack paths relative to the model folder"),
        Unsafe(file: "bad_dotdot_inner.tar.gz", entry: "assets/../../scaler.json", what: "a '..' path component", fix: "pack paths relative to the model folder, e.g. tar czf model.tar.gz -C /opt/ml/model"),
        Unsafe(file: "bad_absolute.tar.gz", entry: "/opt/ml/model/model.h5", what: "an absolute path", fix: "pack paths relative to the model folder"),
        Unsafe(file: "bad_symlink.tar.gz", entry: "scaler.json", what: "a symbolic link (to /etc/passwd)", fix: "pack the file itself, not a link"),
        Unsafe(file: "bad_hardlink.tar.gz", entry: "scaler.json", what: "a hard link (to model.h5)", fix: "pack the file itself, not a link"),
        Unsafe(file: "bad_device.tar.gz", entry: "dev/sda", what: "a block device", fix: "pack only model.h5"),
        Unsafe(file: "bad_fifo.tar.gz", entry: "scaler.json", what: "a FIFO", fix: "pack only model.h5"),
    ]

    @Test(arguments: unsafe)
    func anEntryThatMustNotBeUnpackedRefusesTheArchive(_ fixture: Unsafe) throws {
        let path = KerasFixtures.path(fixture.file)
        let error = try #require(refusal(path))
        #expect(error.code == .unsafeArchive, "\(error)")
        #expect(error.file == "\(path) (\(fixture.entry))")
        #expect(error.description.contains("the archive entry is \(fixture.what)"), "\(error)")
        #expect(error.description.contains("the whole archive is refused. Fix: \(fixture.fix)"), "\(error)")
    }

    @Test(arguments: ["bad_truncated.tar.gz", "bad_truncated_member.tar", "bad_truncated_at_boundary.tar"])
    func anArchiveCutShortIsRefused(_ name: String) throws {
        let path = KerasFixtures.path(name)
        let error = try #require(refusal(path))
        #expect(error.code == .unreadable, "\(error)")
        #expect(error.description.hasPrefix("\(path): the archive is cut short"), "\(error)")
        #expect(error.description.contains("Fix: copy or download it again in full"), "\(error)")
    }

    /// libarchive's own reports: the gzip stream ends early, the tar ends inside a member; and ours, for a tar
    /// cut at a member boundary (scaler.json lost, which libarchive reads as a whole archive of one file).
    @Test func theReasonForACutSaysWhere() throws {
        #expect(refusal(KerasFixtures.path("bad_truncated.tar.gz"))?.detail.contains("truncated gzip input") == true)
        #expect(refusal(KerasFixtures.path("bad_truncated_member.tar"))?.detail.contains("Truncated tar archive") == true)
        #expect(refusal(KerasFixtures.path("bad_truncated_at_boundary.tar"))?.detail
            == "the archive is cut short: the tar ends without its end-of-archive blocks, after model.h5")
    }

    /// Every cut of a tar.gz is refused; every cut of a plain tar is refused up to its end-of-archive blocks (a
    /// cut among the trailing zeros loses nothing). As damaged, once the cut keeps the format's signature (gzip's
    /// first 2 bytes, tar's `ustar` at 257); before that, the bytes are no archive at all (also refused).
    @Test func everyCutIsRefusedUntilNothingIsLost() throws {
        let folder = TemporaryFolder(prefix: "keras-test")
        let gzip = try #require(FileManager.default.contents(atPath: KerasFixtures.path("sagemaker_scaled.tar.gz")))
        var cuts = Array(stride(from: 2, to: gzip.count, by: 499)) + Array((gzip.count - 24)..<gzip.count)
        for cut in cuts {
            let path = folder.file("cut.tar.gz")
            _ = FileManager.default.createFile(atPath: path, contents: gzip.prefix(cut))
            #expect(refusal(path)?.code == .unreadable, "tar.gz cut at \(cut) of \(gzip.count)")
        }
        // The same two members as a plain tar (GNU tar, ustar headers): 512 header + data padded to 512, each.
        let source = folder.file("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: KerasFixtures.path("lstm_relu_k3.h5"), toPath: source + "/model.h5")
        let scaler = Data(#"{"mean": 600, "std": 400, "target_mean": 600, "target_std": 400}"#.utf8)
        _ = FileManager.default.createFile(atPath: source + "/scaler.json", contents: scaler)
        let tar = folder.file("whole.tar")
        #expect(try Tool.run("/bin/tar", ["--format=ustar", "-cf", tar, "-C", source, "model.h5", "scaler.json"]) == 0)
        let whole = try #require(FileManager.default.contents(atPath: tar))
        #expect(refusal(tar) == nil, "the whole tar loads")
        let modelSize = try #require(FileManager.default.attributesOfItem(atPath: source + "/model.h5")[.size] as? Int)
        let membersEnd = 512 + (modelSize + 511) / 512 * 512 + 512 + (scaler.count + 511) / 512 * 512
        cuts = Array(stride(from: 512, through: membersEnd, by: 512)) + Array(stride(from: 262, to: membersEnd, by: 997))
        for cut in cuts {
            let path = folder.file("cut.tar")
            _ = FileManager.default.createFile(atPath: path, contents: whole.prefix(cut))
            #expect(refusal(path)?.code == .unreadable, "tar cut at \(cut) of \(whole.count)")
        }
        let path = folder.file("cut.tar")
        _ = FileManager.default.createFile(atPath: path, contents: whole.prefix(membersEnd + 512))
        #expect(refusal(path) == nil, "cut after the first end-of-archive block: nothing lost")
    }

    @Test func filesBesidesTheModelAndScalerAreListed() throws {
        let path = KerasFixtures.path("bad_extra_files.tar.gz")
        let error = try #require(refusal(path))
        #expect(error.code == .unexpectedEntries)
        #expect(error.description == "\(path): the archive holds files besides model.h5 and scaler.json: code/train.py, notes.txt. "
            + "Fix: pack only model.h5 (or model.keras) and optionally scaler.json, e.g. tar czf model.tar.gz model.h5 scaler.json")
    }

    @Test func folderEntriesAndALeadingDotSlashAreFine() throws {
        let folder = TemporaryFolder(prefix: "keras-test")
        let source = folder.file("opt-ml-model/sub")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: KerasFixtures.path("lstm_relu_k3.h5"), toPath: source + "/model.h5")
        let tar = folder.file("model.tar.gz")
        #expect(try Tool.run("/bin/tar", ["czf", tar, "-C", folder.file("opt-ml-model"), "."]) == 0)
        let model = try KerasModel.load(contentsOf: tar)
        #expect(model.summary.hasPrefix("LSTM(32, relu) → Dense(1)"))
    }

    @Test func aFileOrAnArchiveAboveItsLimitIsRefused() throws {
        let path = KerasFixtures.path("sagemaker.tar.gz")
        let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let file = try #require(refusal(path, limits: KerasModel.Limits(fileBytes: 10_000)))
        #expect(file.code == .tooLarge)
        #expect(file.description.hasPrefix("\(path): the file is \(size) bytes, more than the 10000 bytes a model file may be. Fix: "), "\(file)")
        let unpacked = try #require(refusal(path, limits: KerasModel.Limits(unpackedBytes: 20_000)))
        #expect(unpacked.code == .tooLarge)
        #expect(unpacked.description.contains("the archive unpacks to more than 20000 bytes (at model.h5)"), "\(unpacked)")
        #expect(KerasModel.Limits() == KerasModel.Limits(fileBytes: 64 << 20, unpackedBytes: 256 << 20))
        #expect(refusal(path) == nil)
    }

    /// A real Keras model (Embedding) packed as SageMaker packs one: refused by layer.
    @Test func aLayerKerasModelDoesNotComputeIsRefusedInsideTheArchive() throws {
        let path = KerasFixtures.path("bad_layer_embedding.tar.gz")
        let error = try #require(refusal(path))
        #expect(error.code == .unsupportedLayer)
        #expect(error.file == "\(path) (model.h5)")
        #expect(error.layer?.className == "Embedding" && error.layer?.index == 0)
        #expect(error.description.contains("Embedding layers are not supported"), "\(error)")
        #expect(error.description.contains("Fix: rebuild the model from supported layers"))
    }

}
