/// A large cluster's NetworkPolicies as `kubectl get netpol -A -o yaml` prints them: a `kind: List`
/// whose items carry the metadata the API server adds (last-applied annotation, uid,
/// resourceVersion, creationTimestamp, generation; a 1.34 server writes no `status`). 53 YAML nodes
/// (keys counted) and 710 bytes per policy; no anchors or aliases. Used by the loader's size test and `keycard-bench-load`.
public enum PolicyDump {
    /// The List text with `count` policies in namespace `shop`, each allowing `app=client-<i>` into
    /// `app=web` on TCP port 1000 + i % 60000.
    public static func list(count: Int) -> String {
        var lines = ["apiVersion: v1", "items:"]
        lines.reserveCapacity(count * 32 + 4)
        for index in 0..<count {
            lines.append(contentsOf: [
                "- apiVersion: networking.k8s.io/v1",
                "  kind: NetworkPolicy",
                "  metadata:",
                "    annotations:",
                "      kubectl.kubernetes.io/last-applied-configuration: |",
                "        {\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"annotations\":{},\"name\":\"allow-\(index)\",\"namespace\":\"shop\"}}",
                "    creationTimestamp: \"2026-11-30T10:00:00Z\"",
                "    generation: 1",
                "    name: allow-\(index)",
                "    namespace: shop",
                "    resourceVersion: \"\(100_000 + index)\"",
                "    uid: 1b4e28ba-2fa1-11d2-883f-\(String(repeating: "0", count: max(0, 12 - String(index).count)))\(index)",
                "  spec:",
                "    podSelector:",
                "      matchLabels:",
                "        app: web",
                "    ingress:",
                "    - from:",
                "      - podSelector:",
                "          matchLabels:",
                "            app: client-\(index)",
                "      ports:",
                "      - port: \(1000 + index % 60000)",
                "        protocol: TCP",
                "    policyTypes:",
                "    - Ingress",
            ])
        }
        lines.append(contentsOf: ["kind: List", "metadata:", "  resourceVersion: \"\""])
        return lines.joined(separator: "\n") + "\n"
    }

    /// A scenario that loads the dump from `dumpFile` (relative to the scenario) beside namespace
    /// `shop`, pod `shop/web` (TCP/80) and `clients` client pods, with one model probe step.
    public static func scenario(dumpFile: String, clients: Int = 2) -> String {
        var lines = [
            "apiVersion: keycard/v1", "kind: Scenario", "metadata: {name: big-dump}", "spec:", "  resources:",
            "    - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}",
            "    - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: shop, labels: {app: web}}, spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}}",
        ]
        for index in 0..<clients {
            lines.append(
                "    - {apiVersion: v1, kind: Pod, metadata: {name: client-\(index), namespace: shop, labels: {app: client-\(index)}}, spec: {containers: [{name: c, image: i}]}}"
            )
        }
        lines.append(contentsOf: ["    - file: \(dumpFile)", "  steps:", "    - probe: {ports: [TCP/80, TCP/1000, TCP/1001]}"])
        return lines.joined(separator: "\n") + "\n"
    }
}
