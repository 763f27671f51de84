import Foundation
import KeycardKernel
import Testing

/// What the destination sidecar's RBAC filter sees of a request depends on how it arrived
/// (`AuthorizationAttributes.Arrival`): the lab's proxy must tell a client sidecar's mutual TLS,
/// the client's own TLS (a stolen certificate) and an ambient client's HBONE apart as the model
/// does. Real packets through keycard's proxies; each step has an expectation, so a lab proxy that
/// judged every TLS connection as coming from a client sidecar fails the stolen and HBONE steps.
@Suite("Mesh lab: request headers as the destination sidecar sees them", .enabled(if: geteuid() == 0, "needs root"))
struct MeshHeadersLabTests {
    static func scenario(_ name: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(name)}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: prod, labels: {istio-injection: enabled}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: amb, labels: {istio.io/dataplane-mode: ambient}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: legacy}}
            - {apiVersion: v1, kind: Pod, metadata: {name: api, namespace: prod, labels: {app: api}}, spec: {serviceAccountName: api, containers: [{name: c, image: i, ports: [{containerPort: 9090, name: http}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: prod, labels: {app: web}}, spec: {serviceAccountName: web, containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: job, namespace: amb}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: legacy}, spec: {containers: [{name: c, image: i}]}}
            - apiVersion: security.istio.io/v1
              kind: AuthorizationPolicy
              metadata: {name: d, namespace: prod}
              spec:
                action: DENY
                rules:
                  - when: [{key: "request.headers[x-forwarded-client-cert]", values: ["*"]}, {key: "request.headers[x-forwarded-proto]", values: [http]}]
                  - when: [{key: "request.headers[:scheme]", values: [https]}]
                  - when: [{key: "request.headers[x-envoy-retry-on]", values: ["*"]}]
          steps:
            - name: a client sidecar's mutual TLS carries a certificate, x-forwarded-proto http
              probe: {from: [prod/web], to: [prod/api], ports: [TCP/9090]}
              expect: {default: deny-rbac}
            - name: HBONE from an ambient client carries no certificate to the connection manager
              probe: {from: [amb/job], to: [prod/api], ports: [TCP/9090]}
              expect: {default: allow}
            - name: the client's own TLS makes the scheme https
              probe: {from: [legacy/client], to: [prod/api], ports: [TCP/9090], identity: {stolen: spiffe://cluster.local/ns/prod/sa/web}}
              expect: {default: deny-rbac}
            - name: plaintext, with a control header the connection manager removes
              probe: {from: [legacy/client], to: [prod/api], ports: [TCP/9090], http: {headers: {x-envoy-retry-on: 5xx}}}
              expect: {default: allow}
        """
    }

    @Test func theLabsProxyJudgesHeadersAsTheModelDoes() throws {
        let name = uniqueLabName("hdr")
        let folder = NSTemporaryDirectory() + "keycard-\(name)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(atPath: folder)
            _ = try? KeycardCLI.run(["down", name])
        }
        try Self.scenario(name).write(toFile: "\(folder)/headers.yaml", atomically: true, encoding: .utf8)
        let result = try KeycardCLI.run(["run", "\(folder)/headers.yaml"])
        #expect(result.code == 0, "\(result.out)\n\(result.err)")
        #expect(result.out.contains("4 of 4 steps passed"), "\(result.out)")
    }
}
