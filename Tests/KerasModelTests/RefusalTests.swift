// SPDX-License-Identifier: Apache-2.0

import Foundation
import KerasModel
import MeterTesting
import Testing

/// Files that must not load, and what the error says.
@Suite struct RefusalTests {
    private func refusal(_ path: String) -> KerasModelError? {
        do {
            _ = try KerasModel.load(contentsOf: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func originalNaNModelIsRefused() throws {
        let error = try #require(refusal(KerasFixtures.path("nan_model.tar")))
        #expect(error.code == .nonFiniteWeights)
        #expect(error.description.contains("the model's weights contain NaN: the training diverged"))
        #expect(error.description.contains("nan_model.tar (model.h5)"))
        #expect(error.layer?.className == "LSTM")
        #expect(error.layer?.index == 0)
        #expect(error.option == "kernel")
        #expect(error.description.contains("Fix: retrain"))
    }

    @Test func savedModelFolderIsRefused() throws {
        let error = try #require(refusal(KerasFixtures.path("saved_model")))
        #expect(error.code == .savedModel)
        #expect(error.description.contains("SavedModel"))
        #expect(error.description.contains(".save(\"model.h5\")"))
    }

    @Test func savedModelInsideATarIsRefused() throws {
        let folder = TemporaryFolder(prefix: "keras-test")
        let tar = folder.file("export.tar.gz")
        let status = try Tool.run("/bin/tar", ["czf", tar, "-C", KerasFixtures.path("saved_model"), "."])
        #expect(status == 0)
        let error = try #require(refusal(tar))
        #expect(error.code == .savedModel)
    }

    @Test(arguments: ["conv1d_k2.h5", "conv1d_k3.h5"])
    func unsupportedLayerIsNamed(_ name: String) throws {
        let error = try #require(refusal(KerasFixtures.path(name)))
        #expect(error.code == .unsupportedLayer)
        #expect(error.layer?.className == "Conv1D")
        #expect(error.layer?.index == 0)
        #expect(error.description.contains("(Conv1D)"))
        #expect(error.description.contains("are not supported"))
    }

    @Test(arguments: ["lstm_go_backwards_k2.h5", "lstm_go_backwards_k3.h5"])
    func unsupportedOptionIsNamed(_ name: String) throws {
        let error = try #require(refusal(KerasFixtures.path(name)))
        #expect(error.code == .unsupportedOption)
        #expect(error.layer?.className == "LSTM")
        #expect(error.option == "go_backwards")
        #expect(error.description.contains("go_backwards=true is not supported"))
    }

    @Test func truncatedFileIsUnreadable() throws {
        let folder = TemporaryFolder(prefix: "keras-test")
        let whole = try #require(FileManager.default.contents(atPath: KerasFixtures.path("lstm_relu_k3.h5")))
        for cut in [whole.count / 2, whole.count - 100] {
            let path = folder.file("cut-\(cut).h5")
            _ = FileManager.default.createFile(atPath: path, contents: whole.prefix(cut))
            let error = try #require(refusal(path))
            #expect(error.code == .unreadable, "\(error)")
            #expect(error.description.hasPrefix(path))
            #expect(error.description.contains("truncated or damaged") || error.description.contains("cannot be read"))
        }
    }

    @Test func truncatedArchiveIsRefused() throws {
        let folder = TemporaryFolder(prefix: "keras-test")
        let whole = try #require(FileManager.default.contents(atPath: KerasFixtures.path("sagemaker.tar.gz")))
        let path = folder.file("model.tar.gz")
        _ = FileManager.default.createFile(atPath: path, contents: whole.prefix(whole.count / 2))
        let error = try #require(refusal(path))
        #expect(error.code == .unreadable, "\(error)")
        #expect(error.description.hasPrefix("\(path): the archive is cut short"), "\(error)")
    }

    @Test func garbageAndMissingFiles() throws {
        let folder = TemporaryFolder(prefix: "keras-test")
        let text = folder.write("model.h5", "this is not a model\n")
        #expect(refusal(text)?.code == .notAModel)
        #expect(refusal(folder.file("missing.h5"))?.code == .unreadable)
        #expect(refusal(folder.path)?.code == .notAModel)
        let tar = folder.file("two.tar")
        #expect(try Tool.run("/bin/tar", ["cf", tar, "-C", KerasFixtures.folder, "lstm_relu_k2.h5", "lstm_relu_k3.h5"]) == 0)
        let two = try #require(refusal(tar))
        #expect(two.code == .notAModel)
        #expect(two.description.contains("2 models"))
    }

}
