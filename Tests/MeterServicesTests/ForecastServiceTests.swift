// SPDX-License-Identifier: Apache-2.0

import ADE9000Sim
import Forecast
import Foundation
import MeterApp
import MeterClock
import MeterConfig
import MeterReadings
import MeterServices
import MeterStore
import MeterTesting
import Testing

/// The forecaster inside the service built by `MeterApp`, on a virtual clock and a real SQLite file.
@Suite struct ForecastServiceTests {
    let epoch = 1_795_000_020.0 // a minute boundary

    func forecasts(_ rig: ServiceRig) throws -> [ForecastTables.Row] {
        let store = try SQLiteReadingStore(path: rig.dbPath, logger: quietLogger, features: [ForecastTables.schema])
        defer { store.close() }
        return try store.read("forecasts") { db throws(StoreError) in try ForecastTables.forecasts(issuedFrom: 0, to: .max, in: db) }
    }

    @Test func everyMinuteIssuesTheBaselinesAndScoresThemWhenTheActualsArrive() async throws {
        let rig = ServiceRig(scenario: .balanced(voltage: 230, current: 10, angle: 0), clock: VirtualClock(wall: epoch))
        try await rig.makeApp(seconds: 90 * 60).run()
        let stored = try rig.store().rows(from: 0, to: .max)
        #expect(stored.count == 90)
        let rows = try forecasts(rig)
        let persistence = rows.filter { $0.model == "persistence" }
        // One issue per stored minute, each with the five targets.
        #expect(Set(persistence.map(\.issued)) == Set(stored.map { $0.time + 60 }))
        #expect(persistence.count == 90 * ForecastTarget.all.count)
        // The value+1 issued at the end of minute k equals minute k's total and is scored with minute k+1's.
        for (row, next) in zip(stored, stored.dropFirst()) {
            let forecast = try #require(persistence.first { $0.issued == row.time + 60 && $0.horizonMinutes == 1 && $0.kind == "value" })
            let total = row.phases.reduce(0.0) { $0 + $1.p }
            #expect(abs(forecast.value - total) <= abs(total) * 1e-6)  // stored as Float32 in the history
            let actual = try #require(forecast.actual)
            #expect(abs(actual - next.phases.reduce(0.0) { $0 + $1.p }) <= abs(total) * 1e-6)
        }
        // Scores over the run: every persistence target has a skill of exactly 0 against itself.
        let store = try SQLiteReadingStore(path: rig.dbPath, logger: quietLogger, features: [ForecastTables.schema])
        defer { store.close() }
        let scores = try store.read("scores") { db throws(StoreError) in try ForecastTables.scores(from: 0, to: .max, in: db) }
        let value60 = try #require(scores[.init(model: "persistence", horizonMinutes: 60, kind: "value")])
        #expect(value60.count == 30 && value60.skill == 0)
        // The history is kept by the forecaster itself, beyond meter_data.
        let days = try store.read("history") { db throws(StoreError) in try ForecastTables.historyDays(from: 0, in: db) }
        #expect(days.days.reduce(0) { $0 + $1.watts.filter { !$0.isNaN }.count } == 90)
    }

    @Test func trainingRunsOnItsOwnThreadWithoutCostingASampleAndTheNextStartServesTheModel() async throws {
        let rig = ServiceRig(scenario: .balanced(voltage: 230, current: 10, angle: 0), clock: VirtualClock(wall: epoch))
        // 30 days of a daily pattern already stored (as a meter that ran before the forecaster was switched on).
        // The sampler's first row is the minute after `epoch` (it starts on the next boundary): the stored days end
        // just before it, so the history has no gap.
        let first = Int64(epoch) + 60 - 30 * 86_400
        do {
            let store = try SQLiteReadingStore(path: rig.dbPath, logger: quietLogger)
            var rows: [MinuteRow] = []
            for k in 0..<(30 * 1440) {
                let minuteOfDay = Double(k % 1440)
                let watts = 400 + 300 * sin(minuteOfDay / 1440 * 2 * .pi) + Double((k * 7919) % 97)
                rows.append(Self.row(time: first + Int64(k) * 60, watts: watts))
            }
            _ = try store.insert(rows)
            store.close()
        }
        try await rig.makeApp(seconds: 10 * 60) { $0.forecast.minTrainingDays = 29; $0.forecast.historyDays = 35 }.run()
        let stored = try rig.store().rows(from: Int64(epoch) + 60, to: .max)
        #expect(stored.count == 10)
        #expect(stored.allSatisfy { $0.samples == 60 && $0.flags.isEmpty }, "the sampling grid held while the model trained")
        let store = try SQLiteReadingStore(path: rig.dbPath, logger: quietLogger, features: [ForecastTables.schema])
        let events = try store.read("events") { db throws(StoreError) in try ForecastTables.events(limit: 10, in: db) }
        #expect(events.contains { $0.kind == "trained" && $0.model == "builtin" }, "\(events)")
        let model = try #require(try ForecastRestore.storedBuiltin(store, logger: quietLogger))
        #expect(model.validation.count == ForecastTarget.all.count)
        store.close()

        // The next start restores the model and issues its forecasts from the first minute.
        let later = ServiceRig(scenario: .balanced(voltage: 230, current: 10, angle: 0), clock: VirtualClock(wall: epoch + 600), folder: rig.folder)
        try await later.makeApp(seconds: 3 * 60) { $0.forecast.minTrainingDays = 29; $0.forecast.historyDays = 35 }.run()
        let secondRun = try later.store().rows(from: Int64(epoch) + 660, to: .max).map { $0.time + 60 }
        #expect(secondRun.count == 3)
        let builtin = try forecasts(later).filter { $0.model == "builtin" && secondRun.contains($0.issued) }
        #expect(Set(builtin.map(\.issued)) == Set(secondRun))
    }

    static func row(time: Int64, watts: Double) -> MinuteRow {
        let phase = Reading.PhaseValues(v: 230, i: watts / 690, p: watts / 3, q: 0, s: watts / 3, pf: 1)
        return MinuteRow(time: time, durationSeconds: 60, phases: [phase, phase, phase], freq: 50,
                         energy: Array(repeating: .zero, count: 3), samples: 60, flags: [], temperature: 40, inputB: nil)
    }
}

/// A Keras file named by `[FORECAST] model`: checked on recent history before it is served, refused with the reason
/// when it cannot serve, the one served before kept for rollback.
@Suite struct ForecastModelFileTests {
    let epoch = 1_795_000_020.0
    static let fixtures = Fixtures.repositoryRoot + "/Tests/KerasModelTests/Fixtures/"

    func events(_ rig: ServiceRig) throws -> [ForecastTables.Event] {
        let store = try SQLiteReadingStore(path: rig.dbPath, logger: quietLogger, features: [ForecastTables.schema])
        defer { store.close() }
        return try store.read("events") { db throws(StoreError) in try ForecastTables.events(limit: 20, in: db) }
    }

    func forecasts(_ rig: ServiceRig, model: String) throws -> [ForecastTables.Row] {
        let store = try SQLiteReadingStore(path: rig.dbPath, logger: quietLogger, features: [ForecastTables.schema])
        defer { store.close() }
        return try store.read("forecasts") { db throws(StoreError) in try ForecastTables.forecasts(issuedFrom: 0, to: .max, in: db) }
            .filter { $0.model == model }
    }

    @Test func aModelIsServedOnceItsCheckPassesAndThePreviousOneIsKept() async throws {
        let rig = ServiceRig(scenario: .balanced(voltage: 230, current: 10, angle: 0), clock: VirtualClock(wall: epoch))
        let model = rig.folder.file("model.h5")
        try FileManager.default.copyItem(atPath: Self.fixtures + "lstm_relu_k3.h5", toPath: model)
        try await rig.makeApp(seconds: 20 * 60) { $0.forecast.modelPath = model }.run()
        // Checked as soon as 10 consecutive minutes were held, then served every minute, on its target (value+1).
        let loaded = try #require(try events(rig).first { $0.kind == "model_loaded" })
        #expect(loaded.detail.contains("LSTM(32, relu)") && loaded.detail.contains("outputs finite"), "\(loaded.detail)")
        let keras = try forecasts(rig, model: "keras")
        #expect(keras.count >= 9 && keras.allSatisfy { $0.horizonMinutes == 1 && $0.kind == "value" && $0.value.isFinite })
        #expect(keras.dropLast().allSatisfy { $0.actual != nil }, "scored when the next minute arrived")

        // A different model replaces it at the next start; the one served before is kept beside the file.
        try FileManager.default.removeItem(atPath: model)
        try FileManager.default.copyItem(atPath: Self.fixtures + "lstm_stack_k3.h5", toPath: model)
        let later = ServiceRig(scenario: .balanced(voltage: 230, current: 10, angle: 0), clock: VirtualClock(wall: epoch + 1200), folder: rig.folder)
        try await later.makeApp(seconds: 5 * 60) { $0.forecast.modelPath = model }.run()
        let swapped = try events(later).filter { $0.kind == "model_loaded" }
        #expect(swapped.count == 2 && swapped[0].detail.contains("kept as \(model).previous"), "\(swapped)")
        #expect(FileManager.default.contentsEqual(atPath: model + ".previous", andPath: Self.fixtures + "lstm_relu_k3.h5"))
    }

    @Test func theOriginalNaNModelIsRefusedAndTheBaselinesGoOn() async throws {
        let rig = ServiceRig(scenario: .balanced(voltage: 230, current: 10, angle: 0), clock: VirtualClock(wall: epoch))
        let model = rig.folder.file("model.tar")
        try FileManager.default.copyItem(atPath: Self.fixtures + "nan_model.tar", toPath: model)
        try await rig.makeApp(seconds: 15 * 60) { $0.forecast.modelPath = model }.run()
        let rejected = try events(rig).filter { $0.kind == "model_rejected" }
        #expect(rejected.count == 1, "refused once, not again every hour or minute")
        #expect(rejected.first?.detail.contains("the model's weights contain NaN: the training diverged") == true, "\(rejected)")
        #expect(try forecasts(rig, model: "keras").isEmpty)
        #expect(try forecasts(rig, model: "persistence").count == 15 * ForecastTarget.all.count)
    }
}
