/// A scenario whose cluster DNS answer is too large for UDP: test data shared by the model, lint,
/// audit and kernel tests of a truncated answer's TCP retry.
public enum DNSTruncationScenario {
    /// The steps `text` takes by default: `big` from both clients, then `one` and `big`'s full
    /// name from the first.
    public static let defaultSteps = [
        "- dns: {from: a/client, name: big}", "- dns: {from: a/edns, name: big}", "- dns: {from: a/client, name: one}",
        "- dns: {from: a/client, name: big.a.svc.cluster.local.}",
    ]

    /// Lab `lab` with cluster DNS: 30 replicas behind the headless Service `a/big`, one pod behind
    /// `a/one`, clients `a/client` and `a/edns` (resolv.conf option `edns0`, both with
    /// `resolverOptions`, flow items such as `{name: timeout, value: "1"}`) whose egress allows only
    /// `ports` to the DNS pod; `extraResources` (flow items) and `steps` (list items) follow.
    public static func text(
        lab: String, ports: String, resolverOptions: [String] = [], extraResources: [String] = [], steps: [String] = defaultSteps
    ) -> String {
        func dnsConfig(_ options: [String]) -> String {
            options.isEmpty ? "" : "dnsConfig: {options: [\(options.joined(separator: ", "))]}, "
        }
        let extra = extraResources.map { "\n    - \($0)" }.joined()
        return """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: \(lab)}
            spec:
              lab: {dns: true}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
                - apiVersion: apps/v1
                  kind: Deployment
                  metadata: {name: big, namespace: a}
                  spec:
                    replicas: 30
                    selector: {matchLabels: {app: big}}
                    template: {metadata: {labels: {app: big}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: big, namespace: a}, spec: {clusterIP: None, selector: {app: big}, ports: [{port: 80}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: one, namespace: a, labels: {app: one}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: one, namespace: a}, spec: {clusterIP: None, selector: {app: one}, ports: [{port: 80}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: a, labels: {role: client}}, spec: {\(dnsConfig(resolverOptions))containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: edns, namespace: a, labels: {role: client}}, spec: {\(dnsConfig(["{name: edns0}"] + resolverOptions))containers: [{name: c, image: i}]}}
                - apiVersion: networking.k8s.io/v1
                  kind: NetworkPolicy
                  metadata: {name: dns-only, namespace: a}
                  spec:
                    podSelector: {matchLabels: {role: client}}
                    policyTypes: [Egress]
                    egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}], ports: [\(ports)]}]\(extra)
              steps:
            \(steps.map { "    " + $0 }.joined(separator: "\n"))
            """
    }
}
