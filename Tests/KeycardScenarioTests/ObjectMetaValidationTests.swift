import Foundation
import KeycardModel
import Testing

@testable import KeycardScenario

/// What `ValidateObjectMeta` (apimachinery pkg/api/validation/objectmeta.go) and `ValidateNamespace`
/// (pkg/apis/core/validation/validation.go) refuse and accept, in manifests mode: annotation keys
/// whose case does not matter, the metadata of kinds keycard skips, a Namespace's spec.
@Suite("Object metadata: annotation keys in any case, skipped kinds' metadata, a Namespace's spec")
struct ObjectMetaValidationTests {
    static func load(_ text: String) throws -> Timeline {
        let folder = try manifestsFolder(["m.yaml": text])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try ManifestLoader.timeline([folder], dns: false)
    }

    /// The message of the error loading `text` gives, nil when it loads.
    static func refusal(_ text: String) -> String? {
        do {
            _ = try load(text)
            return nil
        } catch let error as ScenarioError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    static func pod(annotations: String, env: String = "") -> String {
        "{apiVersion: v1, kind: Pod, metadata: {name: p, annotations: \(annotations)}, spec: {containers: [{name: c, image: i\(env)}]}}"
    }

    /// `ValidateAnnotations` checks the lower-cased key, and `validateObjectFieldSelector` an
    /// annotation subscript likewise: upper case anywhere is valid, and the key is kept as written.
    @Test func annotationKeysAreValidWhateverTheirCase() throws {
        let env = ", env: [{name: FOO, valueFrom: {fieldRef: {fieldPath: \"metadata.annotations['Example.COM/Foo']\"}}}]"
        let t = try Self.load(Self.pod(annotations: "{Example.COM/Foo: x, example.com/Bar_Baz: y}", env: env))
        #expect(t.initial.pods[ObjectKey("default", "p")]?.annotations == ["Example.COM/Foo": "x", "example.com/Bar_Baz": "y"])
        // What is wrong besides case is still refused, and said with the key as written.
        let bad = Self.refusal(Self.pod(annotations: "{\"Example.COM/bad key\": x}"))
        #expect(bad?.contains("annotation key \"Example.COM/bad key\"") == true, "\(bad ?? "loaded")")
        let badPrefix = Self.refusal(Self.pod(annotations: "{Example_COM/foo: x}"))
        #expect(badPrefix?.contains("annotation key prefix \"Example_COM\"") == true, "\(badPrefix ?? "loaded")")
        let badPath = Self.refusal(
            Self.pod(
                annotations: "{}", env: ", env: [{name: FOO, valueFrom: {fieldRef: {fieldPath: \"metadata.annotations['Bad Key']\"}}}]"))
        #expect(badPath?.contains("annotation key \"Bad Key\"") == true, "\(badPath ?? "loaded")")
        // Label keys keep their rule: ValidateLabels does not lower-case them.
        let label = Self.refusal(
            "{apiVersion: v1, kind: Pod, metadata: {name: p, labels: {Example.COM/foo: x}}, spec: {containers: [{name: c, image: i}]}}")
        #expect(label?.contains("label key prefix \"Example.COM\"") == true, "\(label ?? "loaded")")
    }

    /// TotalAnnotationSizeLimitB counts the keys as written and the values: 262,144 bytes load,
    /// one more is refused.
    @Test func theAnnotationSizeLimitCountsTheKeysAsWritten() throws {
        let key = "Example.COM/Foo"
        let fits = String(repeating: "v", count: 262_144 - key.utf8.count)
        _ = try Self.load(Self.pod(annotations: "{\(key): \(fits)}"))
        let over = Self.refusal(Self.pod(annotations: "{\(key): \(fits)v}"))
        #expect(over?.contains("must have at most 262144 bytes (found 262145)") == true, "\(over ?? "loaded")")
    }
}
