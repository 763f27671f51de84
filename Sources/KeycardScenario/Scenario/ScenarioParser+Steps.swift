import KeycardModel
import KeycardValues

extension ScenarioParser {
    static let actions = ["probe", "apply", "delete", "label", "scan", "dns", "scale", "rotate"]

    mutating func step(_ value: YAMLValue, index: Int) throws(ScenarioError) -> Step {
        let fields = try value.fields("a step", allowed: ["name"] + Self.actions + ["expect"])
        let present = Self.actions.filter { fields.values[$0] != nil }
        guard present.count == 1, let action = present.first else {
            let found = present.isEmpty ? "none" : present.joined(separator: " and ")
            throw value.error("a step needs exactly one of \(Self.actions.joined(separator: ", ")); found \(found)")
        }
        let name = try fields["name"]?.string("step name")
        let expect = fields.values["expect"]
        if let expect, action != "probe" && action != "scan" && action != "dns" {
            throw expect.error("expect belongs to probe, scan and dns steps, not to \(action)")
        }
        let body = fields.values[action] ?? value
        let parsed: Step.Action
        switch action {
        case "probe": parsed = .probe(try probe(body, expect: expect))
        case "apply":
            if body.isNull { throw body.error("apply needs a list of objects or {file: path} entries") }
            // As delete: an empty list changes nothing (kubectl: "no objects passed to apply").
            if try body.items("apply").isEmpty { throw body.error("apply needs at least one object or {file: path} entry") }
            parsed = .apply(try objectItems(body, "apply"))
        case "delete": parsed = .delete(try deletes(body))
        case "label": parsed = .label(try label(body))
        case "dns": parsed = .dns(try dns(body, expect: expect))
        case "scale": parsed = .scale(try scale(body))
        case "rotate": parsed = .rotate(try rotate(body))
        default: parsed = .scan(try scan(body, expect: expect))
        }
        return Step(index: index, name: name, location: value.location, action: parsed)
    }

    private func probe(_ value: YAMLValue, expect: YAMLValue?) throws(ScenarioError) -> ProbeStep {
        var step = ProbeStep(from: nil, to: nil, ports: nil, expect: .model)
        if !value.isNull {
            let fields = try value.fields("probe", allowed: ["from", "to", "ports", "identity", "via", "http"])
            step.request = try meshRequest(fields)
            if let from = fields["from"] {
                step.from = try distinctList(from, "probe.from", empty: "at least one pod (omit it for every pod)") {
                    item throws(ScenarioError) in
                    let text = try item.string("a probe source")
                    guard let key = ProbeRef.parse(text), key.isSource else {
                        throw item.error(
                            "probe source \"\(text)\" must be a pod as namespace/name, a workload as namespace/kind/name, external/NAME or node/NAME"
                        )
                    }
                    return (key, text)
                }
            }
            if let to = fields["to"] {
                step.to = try distinctList(to, "probe.to", empty: "at least one destination (omit it for every one)") {
                    item throws(ScenarioError) in
                    let text = try item.string("a probe destination")
                    guard let endpoint = ProbeRef.parse(text) else {
                        throw item.error("probe destination \"\(text)\" must be namespace/name, namespace/kind/name or external/NAME")
                    }
                    return (endpoint, text)
                }
            }
            if let portsValue = fields["ports"] {
                step.ports = try distinctList(portsValue, "probe.ports", empty: "at least one port (omit it for every served port)") {
                    item throws(ScenarioError) in
                    let port = try Self.protocolPort(item)
                    return (port, port.description)
                }
            }
        }
        if let expect, !expect.isNull { step.expect = try expectation(expect) }
        return step
    }

    /// A probe's list `what` (`probe.from`): each item read by `parse`, which also says how an item
    /// is named when it is `listed twice`; an empty list is refused (`<what> must name <empty>`).
    private func distinctList<Entry: Hashable>(
        _ value: YAMLValue, _ what: String, empty: String, _ parse: (YAMLValue) throws(ScenarioError) -> (Entry, String)
    ) throws(ScenarioError) -> [Entry] {
        var entries: [Entry] = []
        // A set beside the list: 65,535 ports must not cost a quadratic search.
        var seen: Set<Entry> = []
        for item in try value.items(what) {
            let (entry, name) = try parse(item)
            if !seen.insert(entry).inserted { throw item.error("\(name) is listed twice") }
            entries.append(entry)
        }
        if entries.isEmpty { throw value.error("\(what) must name \(empty)") }
        return entries
    }

    private func expectation(_ value: YAMLValue) throws(ScenarioError) -> Expectation {
        if case .scalar = value.node {
            let text = try value.string("expect")
            guard text == "model" else {
                throw value.error("expect must be \"model\", a table per port, or {default: allow|deny|deny-mtls|deny-rbac, ...}")
            }
            return .model
        }
        let entries = try value.entries("expect")
        if entries.contains(where: { $0.key == "default" }) {
            let names = Decision.allCases.map(\.rawValue)
            let fields = try value.fields("expect", allowed: ["default"] + names)
            let defaultValue = try fields.required("default")
            let decision: Decision = try defaultValue.choice("expect.default", expected: "one of \(names.joined(separator: ", "))")
            var lists: [Decision: [Cell]] = [:]
            for listed in Decision.allCases {
                lists[listed] = try cells(fields[listed.rawValue], "expect.\(listed.rawValue)")
            }
            return .exceptions(default: decision, lists: lists)
        }
        var tables: [ProtocolPort: TruthTable] = [:]
        for (key, keyLocation, tableValue) in entries {
            guard let port = ProtocolPort.parse(key) else {
                // An allow/deny list without `default:` reads as a table key: say what is missing.
                if Decision(rawValue: key) != nil {
                    throw ScenarioError(
                        keyLocation,
                        "expect.\(key): allow/deny lists need expect.default (allow, deny, deny-mtls or deny-rbac) for the cells they do not list"
                    )
                }
                throw ScenarioError(keyLocation, "expect key \"\(key)\" must be a port like TCP/80 (or use default/allow/deny)")
            }
            // `TCP/80` and `TCP/080` name one port: two tables for it would silently drop one.
            if tables[port] != nil {
                throw ScenarioError(keyLocation, "expect has two tables for \(port) (\"\(key)\" names it again)")
            }
            tables[port] = try TruthTableParser.parse(tableValue, port: port)
        }
        return .tables(tables)
    }

    private func cells(_ value: YAMLValue?, _ what: String) throws(ScenarioError) -> [Cell] {
        var result: [Cell] = []
        for item in try value?.items(what) ?? [] {
            let fields = try item.fields("an entry of \(what)", allowed: ["from", "to", "port"])
            let fromValue = try fields.required("from")
            let fromText = try fromValue.string("from")
            guard let from = ProbeRef.parse(fromText), from.isSource else {
                throw fromValue.error(
                    "from \"\(fromText)\" must be a pod as namespace/name, a workload as namespace/kind/name, external/NAME or node/NAME")
            }
            let toValue = try fields.required("to")
            let toText = try toValue.string("to")
            guard let to = ProbeRef.parse(toText) else {
                throw toValue.error("to \"\(toText)\" must be namespace/name, namespace/kind/name or external/NAME")
            }
            let port = try Self.protocolPort(try fields.required("port"))
            result.append(Cell(from: from, to: to, port: port))
        }
        return result
    }

    private func deletes(_ value: YAMLValue) throws(ScenarioError) -> [DeleteTarget] {
        var result: [DeleteTarget] = []
        for item in try value.items("delete") {
            let fields = try item.fields("a delete entry", allowed: ["kind", "namespace", "name", "apiVersion"])
            let kindValue = try fields.required("kind")
            let kindText = try kindValue.string("kind")
            guard let kind = ObjectKind(rawValue: kindText) else {
                throw kindValue.error(
                    "kind \"\(kindText)\" must be Namespace, Pod, NetworkPolicy, Service, PeerAuthentication, AuthorizationPolicy or a workload (\(WorkloadKind.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            let name = try fields.required("name").string("name")
            var namespace: String? = nil
            if kind.isNamespaced { namespace = try fields["namespace"]?.string("namespace") ?? "default" }
            result.append(DeleteTarget(ref: ObjectRef(kind: kind, namespace: namespace, name: name), location: item.location))
        }
        if result.isEmpty { throw value.error("delete needs at least one {kind, namespace, name} entry") }
        return result
    }

    private func label(_ value: YAMLValue) throws(ScenarioError) -> LabelChange {
        let fields = try value.fields("label", allowed: ["kind", "namespace", "name", "labels"])
        let kindValue = try fields.required("kind")
        let kindText = try kindValue.string("kind")
        guard let kind = ObjectKind(rawValue: kindText), kind == .namespace || kind == .pod else {
            throw kindValue.error("label kind must be Namespace or Pod, found \(kindText)")
        }
        let name = try fields.required("name").string("name")
        var namespace: String? = nil
        if kind == .pod { namespace = try fields["namespace"]?.string("namespace") ?? "default" }
        var labels: Labels = [:]
        if let labelsValue = fields["labels"] {
            for (key, keyLocation, labelValue) in try labelsValue.entries("labels") {
                if let problem = NameRules.labelKeyProblem(key) { throw ScenarioError(keyLocation, problem) }
                let text = try labelValue.string("label \"\(key)\"")
                if let problem = NameRules.labelValueProblem(text) { throw labelValue.error(problem) }
                labels[key] = text
            }
        } else {
            throw value.error("label needs \"labels\" (the complete new set; {} removes all)")
        }
        return LabelChange(kind: kind, namespace: namespace, name: name, labels: labels, location: value.location)
    }

    private func scan(_ value: YAMLValue, expect: YAMLValue?) throws(ScenarioError) -> ScanStep {
        let fields = try value.fields("scan", allowed: ["from", "targets", "ports", "identity"])
        let fromValue = try fields.required("from")
        let fromText = try fromValue.string("scan.from")
        guard let from = ProbeRef.parse(fromText), from.isSource else {
            throw fromValue.error(
                "scan.from \"\(fromText)\" must be a pod as namespace/name, a workload as namespace/kind/name, external/NAME or node/NAME")
        }
        var targets = ScanStep.Targets.pods
        if let targetsValue = fields["targets"] {
            let text = try targetsValue.string("scan.targets")
            if text != "pods" {
                guard let cidr = CIDR.parse(text), cidr.family == .ipv4 else {
                    throw targetsValue.error("scan.targets must be \"pods\" or an IPv4 CIDR like 10.244.0.0/24, found \(text)")
                }
                guard cidr.prefixLength >= 16 else { throw targetsValue.error("scan.targets \(text) is larger than a /16") }
                targets = .cidr(cidr)
            }
        }
        let portsValue = try fields.required("ports")
        var ports: [Int] = []
        var seen: Set<Int> = []
        for item in try portsValue.items("scan.ports") {
            let port = try item.int("a scan port", in: 1...65535)
            if !seen.insert(port).inserted { throw item.error("port \(port) is listed twice") }
            ports.append(port)
        }
        if ports.isEmpty { throw portsValue.error("scan.ports must list at least one port") }
        if case .cidr(let cidr) = targets, let problem = ScanStep.sizeProblem(cidr, ports: ports.count) {
            throw (fields["targets"] ?? portsValue).error(problem)
        }
        var step = ScanStep(from: from, targets: targets, ports: ports, expectOpen: nil)
        if let identity = fields["identity"] { step.identity = try probeIdentity(identity) }
        if let expect, !expect.isNull {
            if case .scalar = expect.node, try expect.string("expect") == "model" { return step }
            let expectFields = try expect.fields("scan expect", allowed: ["open"])
            var open: [ScanEndpoint] = []
            for item in try expectFields["open"]?.items("expect.open") ?? [] {
                let text = try item.string("an open endpoint")
                guard let endpoint = ScanEndpoint.parse(text) else {
                    throw item.error("open endpoint \"\(text)\" must be namespace/pod:port, namespace/kind/name:port or ip:port")
                }
                if open.contains(endpoint) { throw item.error("\(text) is listed twice") }
                open.append(endpoint)
                step.expectOpenLocations[endpoint] = item.location
            }
            step.expectOpen = open
        }
        return step
    }

    /// `rotate: ca` or `rotate: {serviceAccount: ns/name}`.
    private func rotate(_ value: YAMLValue) throws(ScenarioError) -> RotateStep {
        if !value.isNull, let text = try? value.string("rotate") {
            guard text == "ca" else { throw value.error("rotate is `ca` or {serviceAccount: namespace/name}, not \"\(text)\"") }
            return .ca
        }
        let fields = try value.fields("rotate", allowed: ["serviceAccount"])
        let accountValue = try fields.required("serviceAccount")
        let text = try accountValue.string("rotate.serviceAccount")
        guard let key = ObjectKey.parse(text), NameRules.dns1123LabelProblem(key.namespace) == nil,
            NameRules.dns1123SubdomainProblem(key.name) == nil
        else { throw accountValue.error("rotate.serviceAccount \"\(text)\" must be namespace/name (a service account)") }
        return .serviceAccount(namespace: key.namespace, name: key.name)
    }

    /// `scale: {workload: ns/deployment/web, replicas: 3}`.
    private func scale(_ value: YAMLValue) throws(ScenarioError) -> ScaleChange {
        let fields = try value.fields("scale", allowed: ["workload", "replicas"])
        let workloadValue = try fields.required("workload")
        let text = try workloadValue.string("scale.workload")
        guard let key = WorkloadKey.parse(text) else {
            throw workloadValue.error(
                "scale.workload \"\(text)\" must be namespace/kind/name with kind one of deployment, replicaset, statefulset, replicationcontroller"
            )
        }
        guard key.kind.isScalable else {
            throw workloadValue.error(
                "a \(key.kind.rawValue) cannot be scaled: only deployment, replicaset, statefulset, replicationcontroller")
        }
        let replicasValue = try fields.required("replicas")
        let replicas = try replicasValue.int("scale.replicas (0 or more)", in: 0...Int(Int32.max))
        try ObjectDecoder.requireLabSize(replicas, replicasValue, "scale.replicas")
        return ScaleChange(workload: key, replicas: replicas, location: value.location)
    }
}
