import Foundation
import KeycardModel
import KeycardScenario
import KeycardTestSupport
import Testing

/// Size is not an attack: what real clusters produce loads; only aliases expanding beyond the
/// written text are refused.
@Suite struct InputSizeTests {
    /// A scratch folder holding `files`, removed afterwards.
    private func withFolder(_ files: [String: String], _ body: (URL) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-size-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        try body(folder)
    }

    @Test func tenThousandPolicyDumpLoadsChecksAndModels() throws {
        let dump = PolicyDump.list(count: 10_000)
        #expect(dump.utf8.count > YAMLSizes.formerLimitBytes, "the dump must be larger than the former 4 MiB limit")
        try withFolder(["dump.yaml": dump, "scenario.yaml": PolicyDump.scenario(dumpFile: "dump.yaml")]) { folder in
            let path = folder.appendingPathComponent("scenario.yaml").path
            let timeline = try ScenarioLoader.timeline(path)
            #expect(timeline.initial.policies.count == 10_000)
            #expect(timeline.initial.policies.values.allSatisfy { $0.effectivePolicyTypes == [.ingress] })
            for verb in ["check", "model"] {
                let result = try HostileCorpus.runKeycard([verb, path])
                #expect(result.status == 0, "keycard \(verb): \(result.stderr)")
            }
        }
    }

    /// A huge bad value is named, not repeated: the message keeps its start and says its length.
    @Test func aMegabyteBadLabelValueMakesAShortError() throws {
        let value = String(repeating: "x", count: 1_000_000) + "!"
        let scenario = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: big-value}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x, labels: {app: \(value)}}}
              steps:
                - probe: {ports: [TCP/80]}
            """
        try withFolder(["s.yaml": scenario]) { folder in
            #expect {
                try ScenarioLoader.timeline(folder.appendingPathComponent("s.yaml").path)
            } throws: { error in
                guard let error = error as? ScenarioError else { return false }
                return error.message.hasPrefix("label value") && error.message.count < ScenarioError.maximumLength
                    && error.message.hasSuffix("characters, cut)") && error.location.line == 6
            }
        }
    }

    @Test func ordinaryAnchorsAndMergeKeysLoad() throws {
        let scenario = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: anchors}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - &web {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x, labels: &labels {app: web}}, spec: &spec {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: x, labels: *labels}, spec: *spec}
              steps:
                - probe: {ports: [TCP/80]}
            """
        try withFolder(["s.yaml": scenario]) { folder in
            let timeline = try ScenarioLoader.timeline(folder.appendingPathComponent("s.yaml").path)
            #expect(timeline.initial.pods.count == 2)
        }
    }

    /// Merge keys as kubectl's go-yaml v2 applies them: keys in written order, a merged key
    /// replacing one written before `<<`, one written after replacing the merged one, and of a
    /// list of mappings the earlier winning (a label decides which policy selects the pod).
    @Test func mergeKeysFollowGoYAMLv2Order() throws {
        let scenario = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: merges}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - apiVersion: v1
                  kind: Pod
                  metadata:
                    name: before
                    namespace: x
                    labels:
                      app: client
                      <<: &common {app: base, role: client}
                  spec: {containers: [{name: c, image: i}]}
                - apiVersion: v1
                  kind: Pod
                  metadata:
                    name: after
                    namespace: x
                    labels:
                      <<: *common
                      app: client
                  spec: {containers: [{name: c, image: i}]}
                - apiVersion: v1
                  kind: Pod
                  metadata:
                    name: list
                    namespace: x
                    labels:
                      <<: [{app: first}, {app: second, tier: web}]
                  spec: {containers: [{name: c, image: i}]}
              steps:
                - probe: {ports: [TCP/80]}
            """
        try withFolder(["s.yaml": scenario]) { folder in
            let pods = try ScenarioLoader.timeline(folder.appendingPathComponent("s.yaml").path).initial.pods
            #expect(pods[ObjectKey("x", "before")]?.labels == ["app": "base", "role": "client"])
            #expect(pods[ObjectKey("x", "after")]?.labels == ["app": "client", "role": "client"])
            #expect(pods[ObjectKey("x", "list")]?.labels == ["app": "first", "tier": "web"])
        }
    }

    /// A bomb hidden in a large file is still a bomb: the limit grows with the written text, not
    /// with what the aliases make of it.
    @Test func aliasBombInALargeFileIsRefused() throws {
        var bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for level in 1...8 {
            bomb.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]")
        }
        let dump = PolicyDump.list(count: 2_000)
        let text = dump.replacingOccurrences(of: "kind: List\n", with: "kind: List\n" + bomb.joined(separator: "\n") + "\n")
        try withFolder(["dump.yaml": text, "scenario.yaml": PolicyDump.scenario(dumpFile: "dump.yaml")]) { folder in
            #expect {
                try ScenarioLoader.timeline(folder.appendingPathComponent("scenario.yaml").path)
            } throws: { error in
                (error as? ScenarioError)?.message.contains("aliases expand the document to more than") == true
            }
        }
    }

    /// One wide mapping aliased thousands of times (an 82 KB file, 4,000 keys × 4,000 aliases): the
    /// written nodes are counted once per collection, so the refusal comes as fast as for a small
    /// bomb (it took 41 s when every alias walked the mapping's keys again).
    @Test func aWideMappingAliasedThousandsOfTimesIsRefused() throws {
        let keys = (0..<4_000).map { "k\($0): v" }.joined(separator: ", ")
        let aliases = (0..<4_000).map { "m\($0): *b" }.joined(separator: "\n")
        let manifest = "apiVersion: v1\nkind: List\nitems: []\nbase: &b {\(keys)}\n\(aliases)\n"
        try withFolder(["dump.yaml": manifest, "scenario.yaml": PolicyDump.scenario(dumpFile: "dump.yaml")]) { folder in
            #expect {
                try ScenarioLoader.timeline(folder.appendingPathComponent("scenario.yaml").path)
            } throws: { error in
                (error as? ScenarioError)?.message.contains("aliases expand the document to more than") == true
            }
        }
    }

    /// Comments and long scalars add bytes, not nodes: padding cannot buy a bomb room to expand.
    @Test func aliasBombPaddedWithCommentsIsRefused() throws {
        // A million nodes from six lines: within a limit counted in bytes of 4 MiB, far beyond one
        // counted in written nodes.
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for level in 1...5 {
            lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]")
        }
        let padding = String(repeating: "# " + String(repeating: "p", count: 1_000) + "\n", count: 4_000)
        let manifest = padding + "apiVersion: v1\nkind: List\nitems: []\n" + lines.joined(separator: "\n") + "\n"
        try withFolder(["dump.yaml": manifest, "scenario.yaml": PolicyDump.scenario(dumpFile: "dump.yaml")]) { folder in
            #expect {
                try ScenarioLoader.timeline(folder.appendingPathComponent("scenario.yaml").path)
            } throws: { error in
                (error as? ScenarioError)?.message.contains("aliases expand the document to more than 200000 nodes") == true
            }
        }
    }
}

/// Figures the tests compare against.
enum YAMLSizes {
    /// What keycard refused before the size audit.
    static let formerLimitBytes = 4 << 20
}
