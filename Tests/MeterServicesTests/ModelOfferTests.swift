// SPDX-License-Identifier: Apache-2.0

import ADE9000Sim
import Forecast
import Foundation
import Logging
import MeterApp
import MeterClock
import MeterConfig
import MeterReadings
import MeterServices
import MeterStore
import MeterTesting
import Synchronization
import Testing

/// A new model file offered to the running forecaster (as the exporter hands over a SageMaker `model.tar.gz`):
/// a good one is installed and served without a minute's gap; a bad one is refused with its reason, recorded, its
/// staged file deleted, while the model before goes on forecasting every minute.
@Suite struct ModelOfferTests {
    /// 15 minutes before an hour: the hourly file watch runs during the run.
    let epoch = 1_795_002_300.0
    static let fixtures = Fixtures.repositoryRoot + "/Tests/KerasModelTests/Fixtures/"

    /// A rig whose database holds two hours of rows up to the first live minute (so a model can be checked at
    /// once), with `[FORECAST] model` = `models/model.tar.gz` holding `sagemaker.tar.gz` (value in 1 min).
    func prepare() throws -> (rig: ServiceRig, destination: String) {
        let rig = ServiceRig(scenario: .balanced(voltage: 230, current: 10, angle: 0), clock: VirtualClock(wall: epoch))
        let first = Int64(epoch) + 60 - 120 * 60
        let store = try SQLiteReadingStore(path: rig.dbPath, logger: quietLogger)
        _ = try store.insert((0..<120).map { k in ForecastServiceTests.row(time: first + Int64(k) * 60, watts: 6900 + Double(k % 7) * 10) })
        store.close()
        let destination = rig.folder.file("models/model.tar.gz")
        try FileManager.default.createDirectory(atPath: rig.folder.file("models"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixtures + "sagemaker.tar.gz", toPath: destination)
        return (rig, destination)
    }

    /// Runs the service for `minutes`; once the first model serves (when `waitForModel`), `during` offers files to it.
    func run<T: Sendable>(_ rig: ServiceRig, destination: String?, minutes: Int, waitForModel: Bool = true,
                          during: @Sendable @escaping (ForecastService) async throws -> T) async throws -> T {
        let app = try rig.makeApp(seconds: Double(minutes * 60)) { $0.forecast.modelPath = destination }
        let forecaster = try #require(app.forecast)
        async let ran: Void = app.run()
        if waitForModel {
            var waited = 0
            while forecaster.state.withLock({ $0.modelFile == nil }), waited < 20_000 {
                try await Task.sleep(for: .milliseconds(1))
                waited += 1
            }
            #expect(forecaster.state.withLock { $0.modelFile != nil }, "the model installed first was served")
        }
        let result = try await during(forecaster)
        try await ran
        return result
    }

    func stage(_ fixture: String, in rig: ServiceRig, as name: String = ".model.tar.gz.staged") throws -> String {
        let staged = rig.folder.file("models/" + name)
        try? FileManager.default.removeItem(atPath: staged)
        try FileManager.default.copyItem(atPath: fixture.hasPrefix("/") ? fixture : Self.fixtures + fixture, toPath: staged)
        return staged
    }

    func read<T: Sendable>(_ rig: ServiceRig, _ body: (StoreDatabase) throws(StoreError) -> T) throws -> T {
        let store = try SQLiteReadingStore(path: rig.dbPath, logger: quietLogger, features: [ForecastTables.schema])
        defer { store.close() }
        return try store.read("test", body)
    }

    /// What `clemap-edge forecast status` reads.
    func status(_ rig: ServiceRig, modelPath: String) throws -> ForecastReport {
        let store = try SQLiteReadingStore(path: rig.dbPath, logger: quietLogger, features: [ForecastTables.schema])
        defer { store.close() }
        return try ForecastReport.read(store, settings: ForecastSettings(modelPath: modelPath), logger: quietLogger)
    }

    func events(_ rig: ServiceRig, _ kind: String) throws -> [ForecastTables.Event] {
        try read(rig) { db throws(StoreError) in try ForecastTables.events(limit: 100, in: db) }.filter { $0.kind == kind }.reversed()
    }

    /// Every live minute from the first keras forecast on has exactly one keras forecast. - Returns: them, by issue.
    func kerasEveryMinute(_ rig: ServiceRig) throws -> [Int64: ForecastTables.Row] {
        let keras = try read(rig) { db throws(StoreError) in try ForecastTables.forecasts(issuedFrom: 0, to: .max, in: db) }.filter { $0.model == "keras" }
        let byIssue = Dictionary(grouping: keras, by: \.issued)
        #expect(byIssue.values.allSatisfy { $0.count == 1 }, "one keras forecast per issue")
        let live = try rig.store().rows(from: Int64(epoch), to: .max).map { $0.time + 60 }
        let first = try #require(byIssue.keys.min())
        let missing = live.filter { $0 >= first && byIssue[$0] == nil }
        #expect(missing.isEmpty, "minutes without a keras forecast: \(missing.map { ($0 - Int64(epoch)) / 60 })")
        // Loaded after the first row's forecasts were issued, so from the second row's (issued 3 minutes after epoch).
        #expect(first == Int64(epoch) + 180, "served from the second minute")
        return byIssue.mapValues { $0[0] }
    }

    @Test func aGoodModelIsInstalledAndServedFromTheNextMinuteWithoutAGap() async throws {
        let (rig, destination) = try prepare()
        let staged = try stage("sagemaker_scaled.tar.gz", in: rig)
        let source = "s3://models-bucket/meter-7/job-2/output/model.tar.gz"
        let verdict = try await run(rig, destination: destination, minutes: 30) { forecaster in
            await forecaster.offer(stagedFile: staged, source: source)
        }
        guard case .served(let summary) = verdict else { Issue.record("not served: \(verdict)"); return }
        #expect(summary.contains("LSTM(32, relu) → Dense(1)") && summary.contains("outputs finite"), "\(summary)")

        // Installed atomically: the new bytes in place, the replaced file kept, nothing staged or temporary left.
        #expect(FileManager.default.contentsEqual(atPath: destination, andPath: Self.fixtures + "sagemaker_scaled.tar.gz"))
        #expect(FileManager.default.contentsEqual(atPath: destination + ".previous", andPath: Self.fixtures + "sagemaker.tar.gz"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: rig.folder.file("models")).sorted() == ["model.tar.gz", "model.tar.gz.previous"])

        // Recorded once with its source; the hourly file watch (at minute 15) did not load it a second time.
        let loaded = try events(rig, "model_loaded")
        #expect(loaded.count == 2, "the first model, then the offered one: \(loaded)")
        let swap = try #require(loaded.last)
        #expect(swap.detail.hasPrefix("\(source): LSTM(32, relu)"), "\(swap.detail)")
        #expect(swap.detail.hasSuffix("installed as \(destination), the model before kept as \(destination).previous"), "\(swap.detail)")

        // Every minute has its keras forecast: the old model's (value in 1 min) up to the minute the offer was taken,
        // the new one's (mean of the next 15 min, its scaler says) from the next.
        let keras = try kerasEveryMinute(rig)
        let before = keras.values.filter { $0.issued <= swap.time }, after = keras.values.filter { $0.issued > swap.time }
        #expect(!before.isEmpty && before.allSatisfy { $0.horizonMinutes == 1 && $0.kind == "value" })
        #expect(after.count >= 10 && after.allSatisfy { $0.horizonMinutes == 15 && $0.kind == "mean" }, "\(after.count) after the swap")

        // `forecast status` shows it.
        let report = try status(rig, modelPath: destination)
        #expect(report.model_in_use?.source == source && report.model_in_use?.loaded_at == swap.time)
        #expect(report.last_refusal == nil)
    }

    struct Bad: Sendable, CustomStringConvertible {
        var file: String, reason: String
        var description: String { file }
    }

    static let bad: [Bad] = [
        Bad(file: "nan_model.tar", reason: "(model.h5): layer 0 'lstm_7' (LSTM), kernel: the model's weights contain NaN: the training diverged"),
        Bad(file: "nonfinite_outputs.tar.gz", reason: "it gave non-finite outputs on"),
        Bad(file: "bad_truncated.tar.gz", reason: ": the archive is cut short or damaged (libarchive: truncated gzip input). Fix: copy or download it again in full"),
        Bad(file: "bad_dotdot.tar.gz", reason: "(../model.h5): the archive entry is a '..' path component"),
        Bad(file: "bad_absolute.tar.gz", reason: "(/opt/ml/model/model.h5): the archive entry is an absolute path"),
        Bad(file: "bad_symlink.tar.gz", reason: "(scaler.json): the archive entry is a symbolic link (to /etc/passwd), not a file; the whole archive is refused. Fix: pack the file itself"),
        Bad(file: "bad_extra_files.tar.gz", reason: ": the archive holds files besides model.h5 and scaler.json: code/train.py, notes.txt. Fix: pack only"),
        Bad(file: "bad_layer_embedding.tar.gz", reason: "(model.h5): layer 0 'embedding' (Embedding): Embedding layers are not supported"),
    ]

    @Test func badModelsAreRefusedWithTheirReasonWhileTheOldOneForecastsEveryMinute() async throws {
        let (rig, destination) = try prepare()
        // A real model whose scaler sends its inputs beyond float32 (std 1e-39): finite weights, non-finite outputs.
        let made = rig.folder.file("nonfinite")
        try FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixtures + "lstm_relu_k3.h5", toPath: made + "/model.h5")
        _ = rig.folder.write("nonfinite/scaler.json", #"{"mean": 0, "std": 1e-39, "target_mean": 0, "target_std": 1}"#)
        let nonFinite = rig.folder.file("nonfinite_outputs.tar.gz")
        #expect(try Tool.run("/bin/tar", ["czf", nonFinite, "-C", made, "model.h5", "scaler.json"]) == 0)

        let offers = try Self.bad.map { bad in
            (bad, try stage(bad.file == "nonfinite_outputs.tar.gz" ? nonFinite : bad.file, in: rig, as: ".staged-\(bad.file)"))
        }
        let verdicts = try await run(rig, destination: destination, minutes: 40) { forecaster in
            var verdicts: [ModelOfferVerdict] = []
            for (bad, staged) in offers { verdicts.append(await forecaster.offer(stagedFile: staged, source: "s3://models-bucket/\(bad.file)")) }
            return verdicts
        }
        let rejected = try events(rig, "model_rejected")
        for ((bad, staged), verdict) in zip(offers, verdicts) {
            guard case .refused(let reason) = verdict else { Issue.record("\(bad.file): not refused: \(verdict)"); continue }
            #expect(reason.hasPrefix(staged) && reason.contains(bad.reason), "\(bad.file): \(reason)")
            #expect(reason.contains("Fix: "), "\(bad.file): says what to do: \(reason)")
            #expect(!FileManager.default.fileExists(atPath: staged), "\(bad.file): staged file deleted")
            #expect(rejected.contains { $0.detail == "s3://models-bucket/\(bad.file): \(reason)" && $0.model == "keras" }, "\(bad.file): recorded")
        }
        #expect(rejected.count == Self.bad.count)

        // The old model untouched and forecasting every minute; loaded once.
        #expect(FileManager.default.contentsEqual(atPath: destination, andPath: Self.fixtures + "sagemaker.tar.gz"))
        #expect(!FileManager.default.fileExists(atPath: destination + ".previous"))
        #expect(try events(rig, "model_loaded").count == 1)
        let keras = try kerasEveryMinute(rig)
        #expect(keras.count >= 30 && keras.values.allSatisfy { $0.horizonMinutes == 1 && $0.kind == "value" })

        // `forecast status`: the model in use, and the latest refusal with its source and reason.
        let report = try status(rig, modelPath: destination)
        #expect(report.model_in_use?.source == destination)
        #expect(report.model_in_use?.detail.contains("LSTM(32, relu)") == true)
        let last = try #require(report.last_refusal)
        #expect(last.source == "s3://models-bucket/bad_layer_embedding.tar.gz" && last.reason.contains("Embedding layers are not supported"))
        #expect(last.time == rejected.last?.time)
    }

    @Test func withoutAModelPathTheOfferIsRefusedWithWhatToSet() async throws {
        let rig = ServiceRig(scenario: .balanced(voltage: 230, current: 10, angle: 0), clock: VirtualClock(wall: epoch))
        try FileManager.default.createDirectory(atPath: rig.folder.file("models"), withIntermediateDirectories: true)
        let staged = try stage("sagemaker.tar.gz", in: rig)
        let verdict = try await run(rig, destination: nil, minutes: 3, waitForModel: false) { forecaster in
            await forecaster.offer(stagedFile: staged, source: "s3://models-bucket/model.tar.gz")
        }
        guard case .refused(let reason) = verdict else { Issue.record("not refused: \(verdict)"); return }
        #expect(reason.contains("no [FORECAST] model is set") && reason.contains("model = models/model.tar.gz"), "\(reason)")
        #expect(try events(rig, "model_rejected").count == 1)
    }

    @Test func withoutHistoryToCheckOnTheAnswerIsNotYetAndTheFileStays() async throws {
        let rig = ServiceRig(scenario: .balanced(voltage: 230, current: 10, angle: 0), clock: VirtualClock(wall: epoch))
        let destination = rig.folder.file("models/model.tar.gz")
        try FileManager.default.createDirectory(atPath: rig.folder.file("models"), withIntermediateDirectories: true)
        let staged = try stage("sagemaker.tar.gz", in: rig)
        // No model installed yet, no history: the first row holds one minute, the model needs ten.
        let verdict = try await run(rig, destination: destination, minutes: 3, waitForModel: false) { forecaster in
            await forecaster.offer(stagedFile: staged, source: "s3://models-bucket/model.tar.gz")
        }
        guard case .notYet(let reason) = verdict else { Issue.record("not notYet: \(verdict)"); return }
        #expect(reason == "no 10 consecutive minutes in the last day of history yet to check the model on; the staged file is kept: offer it again later")
        #expect(FileManager.default.fileExists(atPath: staged))
        #expect(!FileManager.default.fileExists(atPath: destination))
        #expect(try events(rig, "model_rejected").isEmpty)
    }

    /// The sampler's end finishes the rows; the forecaster then answers what it was still holding, and every offer
    /// after; a caller that gives up is answered too.
    @Test func anOfferPendingAtShutdownIsAnswered() async throws {
        let hub = LiveHub(logger: quietLogger)
        let service = ForecastService(settings: ForecastSettings(modelPath: "/nonexistent/model.tar.gz"), hub: hub,
                                      calendar: ForecastCalendar(zoneIdentifier: "UTC"), logger: quietLogger)
        let running = Task { try await service.run() }
        let pending = Task { await service.offer(stagedFile: "/nonexistent/staged", source: "test") }
        try await Task.sleep(for: .milliseconds(20))
        hub.rows.finish()
        let verdict = await pending.value
        guard case .notYet(let reason) = verdict else { Issue.record("\(verdict)"); return }
        #expect(reason.contains("the forecaster stopped before taking the model; the staged file is kept"))
        #expect(await service.offer(stagedFile: "/nonexistent/staged", source: "test") == verdict, "answered at once after the stop")
        // Outside a service group, run() then waits for a graceful shutdown that only a cancellation ends here.
        running.cancel()
        try await running.value

        let other = ForecastService(settings: ForecastSettings(modelPath: "/nonexistent/model.tar.gz"), hub: LiveHub(logger: quietLogger),
                                    calendar: ForecastCalendar(zoneIdentifier: "UTC"), logger: quietLogger)
        let cancelled = Task { await other.offer(stagedFile: "/nonexistent/staged", source: "test") }
        try await Task.sleep(for: .milliseconds(20))
        cancelled.cancel()
        guard case .notYet(let why) = await cancelled.value else { Issue.record("not notYet"); return }
        #expect(why.contains("cancelled"))
    }

}

/// The swap itself: atomic, the replaced file kept, across filesystems too; a failure leaves the destination as it was.
@Suite struct ModelInstallTests {
    static let fixtures = Fixtures.repositoryRoot + "/Tests/KerasModelTests/Fixtures/"

    @Test func theStagedFileReplacesTheDestinationAndTheOldOneIsKept() throws {
        let folder = TemporaryFolder()
        let destination = folder.file("model.tar.gz"), staged = folder.file(".model.tar.gz.staged")
        try FileManager.default.copyItem(atPath: Self.fixtures + "sagemaker_scaled.tar.gz", toPath: staged)
        #expect(try ModelUpdate.install(staged: staged, destination: destination) == nil, "nothing to keep the first time")
        #expect(FileManager.default.contentsEqual(atPath: destination, andPath: Self.fixtures + "sagemaker_scaled.tar.gz"))

        let oldInode = try #require(try FileManager.default.attributesOfItem(atPath: destination)[.systemFileNumber] as? Int)
        try FileManager.default.copyItem(atPath: Self.fixtures + "sagemaker.tar.gz", toPath: staged)
        #expect(try ModelUpdate.install(staged: staged, destination: destination) == destination + ".previous")
        #expect(FileManager.default.contentsEqual(atPath: destination, andPath: Self.fixtures + "sagemaker.tar.gz"))
        #expect(FileManager.default.contentsEqual(atPath: destination + ".previous", andPath: Self.fixtures + "sagemaker_scaled.tar.gz"))
        #expect(try FileManager.default.attributesOfItem(atPath: destination + ".previous")[.systemFileNumber] as? Int == oldInode,
                "kept by a hard link, not a copy")
        #expect(folder.names() == ["model.tar.gz", "model.tar.gz.previous"])
    }

    /// /dev/shm is a tmpfs: a rename from there is EXDEV, so the file is copied into the destination's folder first.
    @Test func aFileStagedOnAnotherFilesystemIsCopiedInAtomically() throws {
        let folder = TemporaryFolder()
        let destination = folder.file("model.tar.gz")
        try FileManager.default.copyItem(atPath: Self.fixtures + "sagemaker.tar.gz", toPath: destination)
        let elsewhere = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : folder.path
        let staged = elsewhere + "/clemap-edge-staged-\(getpid())"
        try FileManager.default.copyItem(atPath: Self.fixtures + "sagemaker_scaled.tar.gz", toPath: staged)
        defer { try? FileManager.default.removeItem(atPath: staged) }
        try ModelUpdate.install(staged: staged, destination: destination)
        #expect(FileManager.default.contentsEqual(atPath: destination, andPath: Self.fixtures + "sagemaker_scaled.tar.gz"))
        #expect(FileManager.default.contentsEqual(atPath: destination + ".previous", andPath: Self.fixtures + "sagemaker.tar.gz"))
        #expect(!FileManager.default.fileExists(atPath: staged))
        #expect(folder.names() == ["model.tar.gz", "model.tar.gz.previous"])
    }

    @Test func aFailedInstallNamesTheFilesAndTheFix() throws {
        let folder = TemporaryFolder()
        let error = try #require(throws: ModelUpdate.InstallError.self) {
            try ModelUpdate.install(staged: folder.file("missing.staged"), destination: folder.file("model.tar.gz"))
        }
        #expect(error.description.hasPrefix("cannot read the staged file \(folder.file("missing.staged")): No such file or directory. Fix: "))
        let staged = folder.write("model.staged", "x")
        let into = try #require(throws: ModelUpdate.InstallError.self) {
            try ModelUpdate.install(staged: staged, destination: folder.file("no-such-folder/model.tar.gz"))
        }
        #expect(into.description.contains("cannot rename \(staged) over \(folder.file("no-such-folder/model.tar.gz"))"), "\(into)")
        #expect(into.description.contains("Fix: let the service's user write the folder \(folder.file("no-such-folder"))"))
        #expect(FileManager.default.fileExists(atPath: staged), "the staged file stays where it was")
    }
}
