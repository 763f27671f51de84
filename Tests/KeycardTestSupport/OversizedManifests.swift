import Foundation

/// Manifests whose implicit all-to-all probe holds more than keycard's 1,000,000 cells: a
/// Deployment of 1,001 replicas and a bare client, two ports (1,002 sources x 2,004 destination
/// cells = 2,008,008 cells); with `denyIngress`, a policy denying ingress to every pod.
public enum OversizedManifests {
    public static func text(denyIngress: Bool) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          replicas: 1001
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client, namespace: shop, labels: {app: client}}
        spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}

        """
            + (denyIngress
                ? """
                ---
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: deny-ingress, namespace: shop}
                spec: {podSelector: {}, policyTypes: [Ingress]}

                """ : "")
    }

    /// With the deny-all policy (the graph's denied edges need it).
    public static let text = text(denyIngress: true)

    /// A fresh folder holding `text` as `name`; the caller removes it.
    public static func folder(_ text: String = text, name: String = "cluster.yaml") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-cells-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try text.write(toFile: (path as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
        return path
    }
}
