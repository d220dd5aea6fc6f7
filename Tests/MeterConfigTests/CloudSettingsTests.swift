// SPDX-License-Identifier: Apache-2.0
import Foundation
import MeterConfig
import MeterTesting
import Testing

/// `[CLOUD]`: off by default, every key read, bad values refused naming the line, and the secret in no message.
@Suite struct CloudSettingsTests {
    /// The shipped file with `[CLOUD]` replaced by `lines` (none: the section removed), and `[INFO] hw_serial` set.
    func configuration(_ lines: [String]?, serial: String = "SE05000551") throws(ConfigErrors) -> MeterConfiguration {
        let shipped = (try? String(contentsOfFile: Fixtures.shippedConfig, encoding: .utf8)) ?? ""
        let text = Fixtures.config(shipped, replacingSection: "CLOUD", with: lines, serial: .some(serial))
        return try MeterConfiguration(parsing: text, source: "/etc/clemap-edge/config.ini")
    }

    @Test func theShippedFileAndAnAbsentSectionLeaveTheExporterOff() throws {
        let shipped = try MeterConfiguration.load(path: Fixtures.shippedConfig)
        #expect(shipped.cloud.enabled == false && shipped.unknownKeys.isEmpty)
        #expect(try configuration(nil).cloud.enabled == false)
        #expect(shipped.summary().contains("cloud: off"))
    }

    @Test func everyKeyIsRead() throws {
        let settings = try configuration([
            "enabled = true", "bucket = meters.example-1", "region = eu-central-2", "endpoint = https://minio.local:9000/",
            "path_style = true", "ca_file = /etc/ssl/my-ca.pem", "data_prefix = lake/", "training_key = train/all.csv",
            "model_prefix = jobs/", "poll_interval_sec = 900", "access_key_id = AKIAEXAMPLE", "secret_access_key = s3cr3t/KEY+x",
        ]).cloud
        #expect(settings == CloudSettings(enabled: true, bucket: "meters.example-1", region: "eu-central-2", endpoint: "https://minio.local:9000",
                                          pathStyle: true, caFile: "/etc/ssl/my-ca.pem", dataPrefix: "lake/", trainingKey: "train/all.csv",
                                          modelPrefix: "jobs/", pollIntervalSeconds: 900, accessKeyID: "AKIAEXAMPLE",
                                          secretAccessKey: "s3cr3t/KEY+x", device: "SE05000551"))
        #expect(try configuration(["enabled = true", "bucket = b-1", "model_prefix ="]).cloud.modelPrefix.isEmpty)
    }

    @Test func badValuesNameTheLineAndTheFixButNeverTheSecret() throws {
        do {
            _ = try configuration(["enabled = true", "bucket = My_Bucket", "endpoint = ftp://x", "data_prefix = data",
                                   "poll_interval_sec = 5", "secret_access_key = TopSecret123"])
            Issue.record("accepted")
        } catch {
            let text = error.description
            #expect(text.contains("[CLOUD] bucket") && text.contains("'My_Bucket' is not a bucket name"), "\(text)")
            #expect(text.contains("[CLOUD] endpoint") && text.contains("e.g. endpoint = https://"), "\(text)")
            #expect(text.contains("[CLOUD] data_prefix") && text.contains("end the prefix with /"), "\(text)")
            #expect(text.contains("[CLOUD] poll_interval_sec") && text.contains("60…604800"), "\(text)")
            #expect(text.contains("[CLOUD] access_key_id") && text.contains("set both, or neither"), "\(text)")
            #expect(!text.contains("TopSecret123"))
        }
    }

    @Test func anEnabledExporterNeedsABucketAndTheDevicesSerial() throws {
        do {
            _ = try configuration(["enabled = true"], serial: "")
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("[CLOUD] bucket") && error.description.contains("no bucket is named"), "\(error)")
            #expect(error.description.contains("[INFO] hw_serial") && error.description.contains("not set"), "\(error)")
        }
        // Off, the same section is accepted: nothing is exported.
        #expect(try configuration(["enabled = false"], serial: "").cloud.enabled == false)
    }

    @Test func theSummaryNamesTheStoreButNotTheSecret() throws {
        let configuration = try configuration(["enabled = true", "bucket = b-1", "access_key_id = AKIAEXAMPLE", "secret_access_key = TopSecret123"])
        let summary = configuration.summary().joined(separator: "\n")
        #expect(summary.contains("cloud: on, s3://b-1 in us-east-1") && summary.contains("device=SE05000551"))
        #expect(!summary.contains("TopSecret123"))
    }
}
