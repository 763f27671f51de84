import Foundation
import KeycardScenario

/// One fuzz input through the scenario loader. The first byte picks the path: even, the bytes are
/// a scenario file; odd, they are a manifest named by `file:` from a fixed scenario (written to a
/// per-process folder, as the loader reads manifests from disk). Errors are the expected outcome;
/// only a crash, a trap or a hang is a finding.
enum FuzzInput {
    /// Scenario that loads `manifest.yaml` beside it and probes whatever it declared.
    static let manifestScenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: fuzz}
        spec:
          resources:
            - file: manifest.yaml
          steps:
            - probe: {}

        """

    /// Where manifest inputs are written: /dev/shm when present (memory), one folder per process.
    static let folder: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(base)/keycard-fuzz-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// Feeds `bytes` to the loader; returns true when it was accepted.
    @discardableResult
    static func run(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let selector = bytes.first else { return false }
        let body = UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
        if selector & 1 == 0 {
            let text = String(decoding: body, as: UTF8.self)
            return (try? ScenarioLoader.parseTimeline(text, file: "\(folder)/scenario.yaml")) != nil
        }
        let manifest = URL(fileURLWithPath: "\(folder)/manifest.yaml")
        guard (try? Data(body).write(to: manifest)) != nil else { return false }
        return (try? ScenarioLoader.parseTimeline(manifestScenario, file: "\(folder)/scenario.yaml")) != nil
    }
}
