/// How serious a lint finding is: SARIF 2.1.0's `level` values (§3.27.10), in rising order.
public enum LintSeverity: String, Codable, Sendable, CaseIterable, Comparable {
    case note
    case warning
    case error

    /// 0 for a note, 2 for an error.
    var rank: Int {
        switch self {
        case .note: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// One check of `keycard lint`: a stable kebab-case id, its default severity, what it finds, and
/// the names other linters give the same check (`tool:id`), where one exists.
public struct LintRule: Hashable, Sendable, Codable {
    public var id: String
    public var severity: LintSeverity
    /// One line: what the check finds.
    public var summary: String
    /// Why it matters and what to do, with the rule's source (Kubernetes docs).
    public var help: String
    /// `kube-linter:non-isolated-pod`, `polaris:missingNetworkPolicy`, `kubeaudit:...`.
    public var aliases: [String]

    /// The rule with `id`; every finding names one of `all`.
    public static func named(_ id: String) -> LintRule {
        guard let rule = all.first(where: { $0.id == id }) else { preconditionFailure("no lint rule \(id)") }
        return rule
    }

    static let policiesDoc = "https://kubernetes.io/docs/concepts/services-networking/network-policies/"

    /// Every rule, in the order the docs list them (docs/review.md).
    public static let all: [LintRule] = [
        LintRule(
            id: "unselected-pod", severity: .warning,
            summary: "a pod no NetworkPolicy selects: it accepts and opens every connection",
            help:
                "A pod is isolated only by policies that select it (\(policiesDoc)#the-two-sorts-of-pod-isolation). Select it with a default deny and allow what it needs.",
            aliases: ["kube-linter:non-isolated-pod", "polaris:missingNetworkPolicy"]),
        LintRule(
            id: "missing-default-deny-ingress", severity: .warning,
            summary: "a namespace with pods but no default-deny ingress policy",
            help:
                "A policy with an empty podSelector, policyTypes [Ingress] and no ingress rule denies by default (\(policiesDoc)#default-deny-all-ingress-traffic).",
            aliases: ["kubeaudit:MissingDefaultDenyIngressNetworkPolicy"]),
        LintRule(
            id: "missing-default-deny-egress", severity: .warning,
            summary: "a namespace with pods but no default-deny egress policy",
            help:
                "A policy with an empty podSelector, policyTypes [Egress] and no egress rule denies by default (\(policiesDoc)#default-deny-all-egress-traffic).",
            aliases: ["kubeaudit:MissingDefaultDenyEgressNetworkPolicy"]),
        LintRule(
            id: "egress-blocks-dns", severity: .error,
            summary:
                "a pod whose egress policy (NetworkPolicy or ClusterNetworkPolicy) keeps it from the nameservers its resolv.conf lists (the cluster DNS for ClusterFirst) on UDP/53, or on TCP/53 where its lookups need it",
            help:
                "Egress isolation covers DNS: with no egress rule to kube-dns on UDP (and TCP) 53 every name lookup of the pod times out. A resolver with use-vc asks over TCP/53 only, and an answer too large for UDP (512 bytes: a headless Service with about 30 endpoints) comes back truncated and is asked again over TCP/53. Add an egress rule to namespaceSelector kubernetes.io/metadata.name: kube-system, podSelector k8s-app: kube-dns, on UDP and TCP port 53. A pod with dnsPolicy Default asks its node's nameservers and one with None its dnsConfig.nameservers instead: allow those.",
            aliases: []),
        LintRule(
            id: "one-sided-allow", severity: .error,
            summary: "a rule whose every allowed connection the other side denies: it opens nothing",
            help:
                "A connection needs the source's egress and the destination's ingress to allow it (\(policiesDoc)). An ingress rule whose source is isolated for egress without a matching egress rule (or the reverse) opens nothing: add the missing half.",
            aliases: []),
        LintRule(
            id: "policy-selects-nothing", severity: .warning,
            summary:
                "a NetworkPolicy whose podSelector selects no pod of its namespace, or a ClusterNetworkPolicy whose subject selects no pod",
            help:
                "Such a policy isolates, allows and denies nothing; check its podSelector's (or subject's) labels against the pods' and their namespaces'.",
            aliases: ["kube-linter:dangling-networkpolicy"]),
        LintRule(
            id: "peer-selects-nothing", severity: .warning,
            summary: "a from/to peer (podSelector, namespaceSelector; a cluster policy's namespaces or pods) that selects no pod",
            help:
                "The peer allows (or, in a ClusterNetworkPolicy, denies or passes) nothing; check its selectors (a namespaceSelector alone matches namespace labels, and without it the podSelector looks in the policy's own namespace).",
            aliases: ["kube-linter:dangling-networkpolicypeer-podselector"]),
        LintRule(
            id: "cluster-policy-priority-tie", severity: .warning,
            summary: "two ClusterNetworkPolicies of one tier at one priority that select the same pod",
            help:
                "With equal priorities \"the implementation can apply any of the matching policies\" (ClusterNetworkPolicySpec.priority, network-policy-api): the verdict depends on the network plugin. keycard takes them by name. Give each its own priority.",
            aliases: []),
        LintRule(
            id: "shadowed-rule", severity: .note,
            summary: "a rule that allows nothing other rules do not already allow",
            help:
                "Policies are additive: every connection this rule allows (among the cluster's pods, externals and one outside address, on the ports in use) is also allowed by another rule. It can be removed, or it says something different than meant.",
            aliases: []),
        LintRule(
            id: "service-port-not-target-port", severity: .error,
            summary: "a rule port that is a Service's port, which no backend serves as targetPort",
            help:
                "NetworkPolicy judges the connection after Service translation, on the backend's target port (\(policiesDoc)): a rule on the Service port never matches. Write the targetPort (or its name).",
            aliases: []),
        LintRule(
            id: "rules-outside-policy-types", severity: .error,
            summary: "ingress or egress rules in a policy whose policyTypes omit that direction",
            help:
                "policyTypes as written decide the directions a policy governs (NetworkPolicySpec, API reference): rules of an omitted direction are ignored. Add the type or remove the rules.",
            aliases: []),
        LintRule(
            id: "ipblock-overlaps-pod-cidr", severity: .warning,
            summary: "an ipBlock that covers pod addresses",
            help:
                "ipBlock is meant for cluster-external addresses; pod IPs are ephemeral and whether ipBlock matches them is implementation-defined (\(policiesDoc)#networkpolicy-resource). Select pods with podSelector/namespaceSelector, or except the pod CIDR.",
            aliases: []),
        LintRule(
            id: "mesh-http-fields-on-tcp", severity: .error,
            summary: "an AuthorizationPolicy rule with HTTP fields on ports whose protocol is TCP",
            help:
                "Istio applies HTTP fields (methods, paths, hosts, requestPrincipals, request.* conditions) only to HTTP traffic (https://istio.io/latest/docs/reference/config/security/authorization-policy/): on a sidecar's TCP port an ALLOW rule never matches, a DENY rule ignores them; ztunnel (ambient) drops ALLOW rules that use them and keeps only the L4 fields of a DENY rule, which never matches when a from, to or when clause is left empty. Name the Service port http-* (or set appProtocol), or drop the HTTP fields.",
            aliases: []),
        LintRule(
            id: "mesh-principals-on-permissive", severity: .warning,
            summary: "an AuthorizationPolicy rule on peer identities for a port that accepts plaintext",
            help:
                "principals, namespaces and serviceAccounts come from the peer's mutual-TLS certificate: a plaintext caller (allowed by PERMISSIVE) has none, so the rule never matches it. Use STRICT where identities decide.",
            aliases: []),
        LintRule(
            id: "service-selects-nothing", severity: .warning,
            summary: "a Service whose selector matches no pod of its namespace",
            help:
                "A Service's endpoints are the pods its selector matches (https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service): with none, every connection to it is dropped, whatever the policies allow. Check the selector against the pods' (or the workload templates') labels.",
            aliases: ["kube-linter:dangling-service"]),
        LintRule(
            id: "foreign-network-policy", severity: .warning,
            summary: "a network policy of another CNI (Cilium, Calico, Antrea), which keycard does not model",
            help:
                "keycard skips CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, Calico's NetworkPolicy and GlobalNetworkPolicy and Antrea's NetworkPolicy and ClusterNetworkPolicy; in a cluster running that CNI they isolate pods and allow or deny connections besides the Kubernetes NetworkPolicies, so keycard's verdicts may differ there. Express the rules as Kubernetes NetworkPolicies (or ClusterNetworkPolicies) to have them checked.",
            aliases: []),
    ]
}
