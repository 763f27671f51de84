import KeycardModel

extension ObjectDecoder {
    /// The labels every lab node carries, as the kubelet sets them
    /// (https://kubernetes.io/docs/reference/labels-annotations-taints/): its hostname (`node-N`,
    /// checked where the node is placed), the OS and the architecture of this machine's lab.
    static let labNodeLabels: [String: String] = Cluster.labNodeLabels

    /// `spec.nodeSelector` and required node affinity, as far as the lab's nodes can honour them.
    /// A bare pod's `kubernetes.io/hostname: node-N` places it there, as the scheduler would (a
    /// `nodeName` given too wins: it skips the scheduler); labels every lab node carries change
    /// nothing. Anything else (a label no lab node carries, required node affinity, a workload
    /// template's hostname) keycard does not schedule by: said in a warning, and the pods are
    /// placed round-robin as usual.
    mutating func readNodeSelection(_ spec: [String: YAMLValue], into pod: inout Pod, owner: String?) throws(ScenarioError) {
        let who = owner.map { "\(pod.namespace)/\($0)" } ?? "pod \(pod.key)"
        if let selectorValue = spec["nodeSelector"] {
            let selector = try selectorValue.stringMap("spec.nodeSelector", nullIsEmpty: true)
            for (key, value) in selector {
                if let problem = NameRules.labelKeyProblem(key) { throw selectorValue.error("spec.nodeSelector: \(problem)") }
                if let problem = NameRules.labelValueProblem(value) { throw selectorValue.error("spec.nodeSelector.\(key): \(problem)") }
            }
            // An OS or architecture every lab node lacks is certain to match no node: the pod
            // stays Pending (`Pod.unschedulable`), where other labels are only warned about.
            let mismatched = selector.filter { entry in Self.labNodeLabels[entry.key].map { $0 != entry.value } ?? false }
            if !mismatched.isEmpty {
                let text = mismatched.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                pod.unschedulable =
                    "spec.nodeSelector \(text) matches no lab node (they are kubernetes.io/os=linux, kubernetes.io/arch=amd64)"
            }
            var unhonoured = selector.filter { Self.labNodeLabels[$0.key] != $0.value && mismatched[$0.key] == nil }
            if let hostname = selector["kubernetes.io/hostname"], owner == nil {
                unhonoured["kubernetes.io/hostname"] = nil
                if pod.nodeName == nil { pod.nodeName = hostname }
            }
            if !unhonoured.isEmpty {
                let text = unhonoured.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                warnings.append(
                    ScenarioWarning(
                        location: selectorValue.location,
                        message:
                            "\(who): spec.nodeSelector \(text) is not honoured: lab nodes carry kubernetes.io/hostname=node-N, kubernetes.io/os=linux and kubernetes.io/arch=amd64\(owner == nil ? "" : " (a template's hostname is not honoured)"); keycard places the pods as usual"
                    ))
            }
        }
        guard let affinity = spec["affinity"], !affinity.isNull else { return }
        if pod.unschedulable == nil, let reason = try Self.unsatisfiableNodeAffinity(affinity) { pod.unschedulable = reason }
        // Pod (anti-)affinity too: a required anti-affinity on the hostname leaves replicas beyond
        // one a node Pending in Kubernetes (the scheduler's InterPodAffinity filter), where the
        // lab runs and probes them all.
        for entry in try affinity.entries("spec.affinity")
        where ["nodeAffinity", "podAffinity", "podAntiAffinity"].contains(entry.key) && !entry.value.isNull
            && !(entry.key == "nodeAffinity" && pod.unschedulable != nil)
        {
            // Only required terms can keep a pod Pending; preferred ones only rank nodes.
            let required = try entry.value.entries("spec.affinity.\(entry.key)").contains {
                $0.key == "requiredDuringSchedulingIgnoredDuringExecution" && !$0.value.isNull
            }
            let pending =
                entry.key == "nodeAffinity" || !required
                ? "" : "; in Kubernetes a pod whose required terms no node meets stays Pending, here it runs"
            warnings.append(
                ScenarioWarning(
                    location: entry.value.location,
                    message:
                        "\(who): spec.affinity.\(entry.key) is not scheduled by keycard: it places the pods as usual (nodeName, or round-robin)\(pending)"
                ))
        }
    }

    /// Why required node affinity can match no lab node, or nil: every `nodeSelectorTerms` entry
    /// (they are ORed) holds an expression on a label every lab node carries with one value
    /// (`kubernetes.io/os`, `kubernetes.io/arch` and their `beta.` forms) that fails for it (`In`
    /// without the value, `NotIn` with it, `DoesNotExist`), as the scheduler's NodeAffinity filter
    /// reads them (`nodeaffinity.GetRequiredNodeAffinity`). Anything else is not judged here.
    static func unsatisfiableNodeAffinity(_ affinity: YAMLValue) throws(ScenarioError) -> String? {
        guard let nodeAffinity = try affinity.entries("spec.affinity").first(where: { $0.key == "nodeAffinity" })?.value,
            !nodeAffinity.isNull,
            let required = try nodeAffinity.entries("spec.affinity.nodeAffinity").first(where: {
                $0.key == "requiredDuringSchedulingIgnoredDuringExecution"
            })?.value, !required.isNull,
            let terms = try required.entries("nodeAffinity.required").first(where: { $0.key == "nodeSelectorTerms" })?.value
        else { return nil }
        var failures: [String] = []
        for term in try terms.items("nodeSelectorTerms") {
            let expressions = try term.entries("a node selector term").first { $0.key == "matchExpressions" }?.value
            var failed: String?
            for expression in try expressions?.items("matchExpressions") ?? [] {
                var key = ""
                var op = ""
                var values: [String] = []
                for (field, _, value) in try expression.entries("a match expression") where !value.isNull {
                    switch field {
                    case "key": key = try value.string("key")
                    case "operator": op = try value.string("operator")
                    case "values": values = try value.items("values").map { item throws(ScenarioError) in try item.string("values") }
                    default: break
                    }
                }
                guard let lab = labNodeLabels[key] else { continue }
                let fails =
                    switch op {
                    case "In": !values.contains(lab)
                    case "NotIn": values.contains(lab)
                    case "DoesNotExist": true
                    default: false
                    }
                if fails {
                    failed = "\(key) \(op)\(values.isEmpty ? "" : " [\(values.joined(separator: ", "))]")"
                    break
                }
            }
            guard let failed else { return nil }
            failures.append(failed)
        }
        guard !failures.isEmpty else { return nil }
        return
            "required node affinity (\(failures.joined(separator: "; "))) matches no lab node (they are kubernetes.io/os=linux, kubernetes.io/arch=amd64)"
    }
}
