import KeycardModel
import Testing

@testable import KeycardScenario

/// Service fields the API server validates (pkg/apis/core/validation: ValidateService).
@Suite("Service validation as the API server does it")
struct ServiceValidationTests {
    private func service(_ spec: String) -> String {
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n" + spec
    }

    /// ValidatePortNumOrName: a quoted number is a string, and a port name needs a letter.
    @Test func aQuotedNumberIsNoTargetPort() throws {
        let error = try manifestRefusal(service("  selector: {app: web}\n  ports: [{port: 80, targetPort: '8080'}]\n"))
        #expect(error.message.contains("targetPort \"8080\" is neither a number from 1 to 65535 nor a valid port name"))
        #expect(error.location.line == 6)
    }

    @Test func clusterIPsMustAgreeWithClusterIP() throws {
        let mismatch = try manifestRefusal(
            service("  clusterIP: 10.96.5.5\n  clusterIPs: [10.96.5.6]\n  ports: [{port: 80}]\n"))
        #expect(mismatch.message.contains("first value \"10.96.5.6\" must match spec.clusterIP \"10.96.5.5\""))
        let alone = try manifestRefusal(service("  clusterIPs: [None]\n  ports: [{port: 80}]\n"))
        #expect(alone.message.contains("spec.clusterIPs must be empty when spec.clusterIP is not specified"))
        let agreeing = try loadManifests([
            "a.yaml": service("  clusterIP: 10.96.5.5\n  clusterIPs: [10.96.5.5]\n  ports: [{port: 80}]\n")
        ])
        #expect(agreeing.initial.services[ObjectKey("default", "web")]?.clusterIP?.description == "10.96.5.5")
    }

    @Test func sessionAffinityIsNoneOrClientIP() throws {
        let error = try manifestRefusal(service("  sessionAffinity: Foo\n  ports: [{port: 80}]\n"))
        #expect(error.message.contains("spec.sessionAffinity must be None or ClientIP"))
        _ = try loadManifests(["a.yaml": service("  sessionAffinity: ClientIP\n  ports: [{port: 80}]\n")])
    }

    @Test func aServicePortTypoIsRefusedAndASpecTypoWarned() throws {
        let error = try manifestRefusal(service("  ports: [{port: 80, targetPrt: 8080}]\n"))
        #expect(error.message.contains("unknown field \"targetPrt\" in a Service port"))
        let loaded = try loadManifests(["a.yaml": service("  selectr: {app: web}\n  ports: [{port: 80}]\n")])
        #expect(loaded.warnings.contains { $0.message.contains("unknown field \"selectr\" in Service spec") })
    }
}
