import KeycardModel
import KeycardValues

/// The checks about Istio AuthorizationPolicies that cannot match as written (spec mesh.md).
extension LintPass {
    static func ref(_ policy: AuthorizationPolicy) -> ObjectRef {
        ObjectRef(kind: .authorizationPolicy, namespace: policy.namespace, name: policy.name)
    }

    /// For each rule of each AuthorizationPolicy that applies to a meshed pod, the ports it
    /// concerns there (`ruleTargetPorts`). Both mesh checks read this one list.
    private func meshRuleTargets() -> [(policy: AuthorizationPolicy, index: Int, rule: AuthorizationPolicy.Rule, pod: Pod, ports: [Int])] {
        var targets: [(AuthorizationPolicy, Int, AuthorizationPolicy.Rule, Pod, [Int])] = []
        let authorization = AuthorizationEngine(cluster)
        for pod in pods where cluster.dataPlane(of: pod.key) != .none {
            let served = Set(cluster.servedPortsIncludingServices(of: pod.key).filter { $0.proto == .tcp }.map(\.port))
            for policy in authorization.policies(for: pod).sorted(by: { $0.key < $1.key }) {
                for (index, rule) in policy.rules.enumerated() {
                    let ports = Self.ruleTargetPorts(rule, served: served)
                    if !ports.isEmpty { targets.append((policy, index, rule, pod, ports)) }
                }
            }
        }
        return targets
    }

    /// The served ports (`served`) a rule can match on, sorted: without `to`, all of them; else those
    /// some `to` entry admits, an entry admitting its `operation.ports` (all when it names none)
    /// less its `operation.notPorts`. Source: istio/api `security/v1beta1/authorization.proto`
    /// (`Rule.to`: any entry matches; `Operation`: all its fields must match, `not_ports` being a
    /// negative match) and istio/istio `pilot/pkg/security/authz/model/model.go` `generatePermission`
    /// (`destination.port` from `ports`, negated from `notPorts`), as `AuthorizationEngine` matches.
    static func ruleTargetPorts(_ rule: AuthorizationPolicy.Rule, served: Set<Int>) -> [Int] {
        guard let to = rule.to, !to.isEmpty else { return served.sorted() }
        var ports: Set<Int> = []
        for operation in to {
            let admitted = operation.ports.isEmpty ? served : Set(operation.ports)
            ports.formUnion(admitted.subtracting(operation.notPorts))
        }
        return ports.sorted()
    }

    /// What the model does with a rule using HTTP fields on TCP ports of a pod on `plane`:
    /// sidecar, an ALLOW rule never matches (R39), a DENY, AUDIT or CUSTOM rule drops its HTTP
    /// conditions and matches more (R40, R28); ztunnel, an ALLOW rule is dropped (R49), a DENY rule
    /// keeps only its L4 fields and never matches when a clause is left empty (R50), AUDIT and
    /// CUSTOM are not enforced at all (R53).
    static func httpFieldsEffect(_ action: AuthorizationPolicy.Action, _ rule: AuthorizationPolicy.Rule, plane: DataPlane) -> String {
        switch (plane, action) {
        case (_, .allow): return "the rule never matches there"
        case (.ambient, .deny):
            return rule.leavesZtunnelAnEmptyClause
                ? "ztunnel keeps only L4 fields, which leaves a clause of the rule empty, so it never matches there: the DENY has no effect"
                : "ztunnel keeps only the L4 fields of the rule, so it matches other than written (more where an entry loses its HTTP fields)"
        case (.ambient, _): return "ztunnel does not enforce \(action.rawValue) policies, so the rule has no effect there"
        default: return "its HTTP conditions are ignored there, so it matches more than written"
        }
    }

    /// `mesh-http-fields-on-tcp` and `mesh-principals-on-permissive`, once per policy rule.
    mutating func checkMeshPolicies() {
        var reported: Set<String> = []
        for target in meshRuleTargets() {
            let rule = target.rule
            let plane = cluster.dataPlane(of: target.pod.key)
            let usesHTTP =
                (rule.to ?? []).contains(where: \.hasHTTPOnlyField) || (rule.from ?? []).contains(where: \.hasHTTPOnlyField)
                || (rule.when ?? []).contains(where: \.isHTTPOnly)
            // R37: HTTP only where the port's protocol is HTTP, and only in a sidecar (ztunnel sees TCP, R48).
            let tcpPorts = target.ports.filter { plane != .sidecar || !cluster.isHTTPPort(pod: target.pod.key, port: $0) }
            let path: [SourcePath] = [.key("spec"), .key("rules"), .index(target.index)]
            if usesHTTP, !tcpPorts.isEmpty, reported.insert("http|\(target.policy.key)|\(target.index)|\(target.pod.key)").inserted {
                let effect = Self.httpFieldsEffect(target.policy.action, rule, plane: plane)
                report(
                    "mesh-http-fields-on-tcp",
                    "rules[\(target.index)] of AuthorizationPolicy \(target.policy.key) uses HTTP fields (methods, paths, hosts, request principals or HTTP conditions) but \(target.pod.key) port\(tcpPorts.count == 1 ? "" : "s") \(tcpPorts.map(String.init).joined(separator: ", ")) \(tcpPorts.count == 1 ? "is" : "are") TCP\(plane == .ambient ? " (ambient: ztunnel sees TCP only)" : ""): \(effect)",
                    Self.ref(target.policy), path)
            }
            let identities = (rule.from ?? []).contains { !$0.principals.isEmpty || !$0.namespaces.isEmpty || !$0.serviceAccounts.isEmpty }
            guard identities else { continue }
            let modes = target.ports.map { ($0, cluster.mutualTLSMode(for: target.pod, port: $0, plane: plane).mode) }
            let permissive = modes.filter { $0.1 == .permissive || $0.1 == .disable }.map(\.0)
            let named = Set(modes.filter { permissive.contains($0.0) }.map(\.1.rawValue)).sorted().joined(separator: ", ")
            guard !permissive.isEmpty, reported.insert("mtls|\(target.policy.key)|\(target.index)|\(target.pod.key)").inserted else {
                continue
            }
            report(
                "mesh-principals-on-permissive",
                "rules[\(target.index)] of AuthorizationPolicy \(target.policy.key) matches peer identities (principals, namespaces or service accounts) but \(target.pod.key) accepts plaintext on port\(permissive.count == 1 ? "" : "s") \(permissive.map(String.init).joined(separator: ", ")) (\(named)): a plaintext caller has no identity and never matches",
                Self.ref(target.policy), path + [.key("from")])
        }
    }
}
