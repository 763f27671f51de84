import KeycardModel
import KeycardValues

/// `keycard lint`: the checks of `LintRule.all` over a timeline, from the policy model alone (no
/// root, no kernel). A scenario is checked at every state its steps make (the resources, then
/// after each apply, delete, label or scale), so a mistake that a later step mends is still
/// found where it was written; each finding is reported once, for the first state it holds in.
public enum PolicyLinter {
    /// Every finding of every rule (`LintRule`) over the timeline's states, each once, located at the
    /// YAML node at fault, ordered by location.
    public static func lint(_ timeline: Timeline) -> [LintFinding] {
        let locator = SourceLocator()
        var locations: [ObjectRef: SourceLocation] = [:]
        for loaded in timeline.scenario.resourceBatches.joined() { locations[loaded.object.ref] = loaded.location }
        var seen: Set<String> = []
        var findings: [LintFinding] = []
        func check(_ cluster: Cluster, state: String) {
            var pass = LintPass(
                cluster: cluster, podCIDR: timeline.scenario.lab.podCIDR, state: state, locations: locations,
                fallback: SourceLocation.start(of: timeline.scenario.file), locator: locator)
            pass.foreignPolicies = timeline.scenario.foreignPolicies
            pass.nodeResolvConf = timeline.nodeResolvConf
            pass.runAll()
            for finding in pass.findings {
                let key = "\(finding.rule)|\(finding.location)|\(finding.message)"
                if seen.insert(key).inserted { findings.append(finding) }
            }
        }
        check(timeline.initial, state: "resources")
        for (offset, step) in timeline.scenario.steps.enumerated() {
            switch step.action {
            case .apply(let objects): for loaded in objects { locations[loaded.object.ref] = loaded.location }
            case .delete, .label, .scale: break
            case .probe, .scan, .dns, .rotate: continue
            }
            let name = step.name.map { " (\($0))" } ?? ""
            check(timeline.states[offset], state: "after step \(step.index)\(name)")
        }
        // Skipped, so in no state: each once, where it was written.
        for policy in timeline.scenario.foreignPolicies {
            let scope = policy.namespace.map { "pods of namespace \($0)" } ?? "pods of every namespace"
            findings.append(
                LintFinding(
                    rule: LintRule.named("foreign-network-policy"),
                    message:
                        "\(policy.description) (\(policy.apiVersion)) is \(policy.cni)'s network policy, which keycard skips: in a cluster running \(policy.cni) it may isolate \(scope) and allow or deny what keycard's verdicts do not show",
                    at: policy.location, object: policy.description, state: "resources"))
        }
        return findings.sorted { ($0.file, $0.line, $0.column, $0.rule) < ($1.file, $1.line, $1.column, $1.rule) }
    }
}

/// The checks over one cluster state; each adds to `findings`.
struct LintPass {
    let cluster: Cluster
    let engine: PolicyEngine
    let podCIDR: CIDR
    let state: String
    let locations: [ObjectRef: SourceLocation]
    let fallback: SourceLocation
    let locator: SourceLocator
    /// Other CNIs' policies among the input (`ForeignPolicy`): `unselected-pod` says they may select a pod.
    var foreignPolicies: [ForeignPolicy] = []
    /// The lab's nodes' resolv.conf (`Timeline.nodeResolvConf`): a Default pod's nameservers.
    var nodeResolvConf = Timeline.machineResolvConf
    private(set) var findings: [LintFinding] = []

    init(
        cluster: Cluster, podCIDR: CIDR, state: String, locations: [ObjectRef: SourceLocation], fallback: SourceLocation,
        locator: SourceLocator
    ) {
        self.cluster = cluster
        self.engine = PolicyEngine(cluster)
        self.podCIDR = podCIDR
        self.state = state
        self.locations = locations
        self.fallback = fallback
        self.locator = locator
    }

    mutating func runAll() {
        checkUnselectedPods()
        checkDefaultDeny()
        checkDNS()
        checkOneSided()
        checkPolicySelectors()
        checkPeers()
        checkShadowed()
        checkServicePorts()
        checkPolicyTypes()
        checkIPBlocks()
        checkMeshPolicies()
        checkClusterPolicyTies()
        checkClusterPolicySelectors()
        checkServiceSelectors()
    }

    /// The user's pods: keycard's own cluster DNS pod is left out.
    var pods: [Pod] { cluster.sortedPods.filter { $0.key != ClusterDNS.podKey } }

    var sortedPolicies: [NetworkPolicy] { cluster.policies.values.sorted { $0.key < $1.key } }

    static func ref(_ policy: NetworkPolicy) -> ObjectRef {
        ObjectRef(kind: .networkPolicy, namespace: policy.namespace, name: policy.name)
    }

    /// The object a pod was written as: the pod, or the workload that made it.
    func ref(_ pod: Pod) -> ObjectRef {
        if let workload = pod.owner?.workload {
            return ObjectRef(kind: .workload(workload.kind), namespace: workload.namespace, name: workload.name)
        }
        return ObjectRef(kind: .pod, namespace: pod.namespace, name: pod.name)
    }

    mutating func report(_ id: String, _ message: String, _ object: ObjectRef?, _ path: [SourcePath] = []) {
        let base = object.flatMap { locations[$0] } ?? fallback
        findings.append(
            LintFinding(
                rule: LintRule.named(id), message: message, at: locator.locate(base, path), object: object?.description, state: state))
    }

    /// `spec.ingress[i]` or `spec.egress[i]`.
    static func rulePath(_ direction: NetworkPolicy.PolicyType, _ index: Int) -> [SourcePath] {
        [.key("spec"), .key(direction == .ingress ? "ingress" : "egress"), .index(index)]
    }

    /// `ingress[0]`, as findings name a rule.
    static func ruleName(_ direction: NetworkPolicy.PolicyType, _ index: Int) -> String {
        "\(direction.rawValue.lowercased())[\(index)]"
    }
}

/// One rule of a NetworkPolicy as the lint passes group findings: the policy, the direction and
/// the rule's index in `ingress`/`egress`, ordered in that sequence.
struct LintRuleKey: Hashable, Comparable {
    var policy: ObjectKey
    var direction: NetworkPolicy.PolicyType
    var index: Int

    static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.policy, lhs.direction.rawValue, lhs.index) < (rhs.policy, rhs.direction.rawValue, rhs.index)
    }
}

extension LintRuleKey {
    /// The rule a model verdict names (its peer and port indices dropped).
    init(_ rule: RuleRef) { self.init(policy: rule.policy, direction: rule.direction, index: rule.ruleIndex) }
}
