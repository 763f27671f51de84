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

    /// `ValidateObjectMeta` holds for every kind, those keycard skips too: a name is required, and
    /// name, namespace, labels and annotations are validated (a custom resource's name by
    /// `NameIsDNSSubdomain`, an RBAC object's as a path segment). Nothing else of the object is read.
    @Test(arguments: [
        ("{apiVersion: v1, kind: ConfigMap, data: {a: \"1\"}}", "ConfigMap metadata needs \"name\""),
        ("{apiVersion: v1, kind: ConfigMap, metadata: {labels: {a: b}}, data: {a: \"1\"}}", "ConfigMap metadata needs \"name\""),
        ("{apiVersion: v1, kind: ConfigMap, metadata: {name: Bad_Name}}", "ConfigMap name \"Bad_Name\" must consist of lower-case"),
        ("{apiVersion: v1, kind: ConfigMap, metadata: {name: x, labels: {a: \"b c\"}}}", "label value \"b c\""),
        ("{apiVersion: v1, kind: ConfigMap, metadata: {name: x, namespace: Bad_NS}}", "namespace \"Bad_NS\" must consist of lower-case"),
        ("{apiVersion: v1, kind: Secret, metadata: {name: x, annotations: {\"a b\": c}}}", "annotation key \"a b\""),
        ("{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, colour: red}}", "unknown field \"colour\" in metadata"),
        (
            "{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: a/b}}",
            "ClusterRole name \"a/b\" may not contain '/'"
        ),
        (
            "{apiVersion: v1, kind: List, items: [{apiVersion: v1, kind: ServiceAccount, metadata: {}}]}",
            "ServiceAccount metadata needs \"name\""
        ),
    ])
    func skippedKindsMetadataIsValidated(_ text: String, _ message: String) {
        let refusal = Self.refusal(text)
        #expect(refusal?.contains(message) == true, "\(refusal ?? "loaded")")
    }

    @Test func skippedKindsWithValidMetadataStillLoadWithTheirWarning() throws {
        let t = try Self.load(
            """
            {apiVersion: v1, kind: ConfigMap, metadata: {name: settings}, data: {a: "1"}}
            ---
            {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: "system:aggregate-to-edit", namespace: ignored_here}}
            ---
            {apiVersion: example.com/v1, kind: Widget, metadata: {generateName: w-}, spec: {anything: [1, {x: Y_Z}]}, extra: 5}
            ---
            {apiVersion: certificates.k8s.io/v1, kind: CertificateSigningRequest, metadata: {name: "Node:CSR_1"}}
            """)
        #expect(t.warnings.contains { $0.message.contains("skipped 4 objects keycard does not run") }, "\(t.warnings)")
    }

    /// NamespaceSpec has one field, `finalizers`: qualified names, a bare one standard
    /// (`validateFinalizerName`).
    @Test(arguments: [
        ("spec: 5", "must be a mapping"),
        ("spec: {finalizer: []}", "unknown field \"finalizer\" in Namespace spec"),
        ("spec: {finalizers: ['bad name!']}", "spec.finalizers[0]: Invalid value: \"bad name!\""),
        ("spec: {finalizers: kubernetes}", "spec.finalizers must be a list"),
        ("spec: {finalizers: [kubernetes, cleanup]}", "\"cleanup\": name is neither a standard finalizer name nor is it fully qualified"),
    ])
    func aNamespaceSpecIsValidated(_ spec: String, _ message: String) {
        let refusal = Self.refusal("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n\(spec)\n")
        #expect(refusal?.contains(message) == true, "\(refusal ?? "loaded")")
    }

    @Test(arguments: ["spec: null", "spec: {}", "spec: {finalizers: [kubernetes, example.com/cleanup]}"])
    func aValidNamespaceSpecLoads(_ spec: String) throws {
        let t = try Self.load("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n\(spec)\n")
        #expect(t.initial.namespaces["shop"] != nil)
    }
}
