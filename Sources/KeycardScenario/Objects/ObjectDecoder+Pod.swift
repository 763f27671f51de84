import KeycardModel
import KeycardValues

extension ObjectDecoder {
    /// A v1 Pod: metadata, the containers' names, ports and commands (sidecars too: init containers
    /// with `restartPolicy: Always`), nodeName, serviceAccountName, hostNetwork, status.podIP.
    /// Validated as `ValidatePodCreate` does for these fields; the types of well-known container
    /// fields (env, resources...) are checked as the API server decodes them
    /// (`DecodedFieldType`); other Pod fields are accepted and ignored.
    mutating func pod(_ value: YAMLValue) throws(ScenarioError) -> Pod? {
        let fields = try nonNullFields(value, "Pod")
        guard let metadata = fields["metadata"] else { throw value.error("Pod needs \"metadata\"") }
        let meta = try Metadata.read(metadata, kind: "Pod", namespaced: true, at: value.location, defaultNamespace: defaultNamespace)
        var pod = Pod(namespace: meta.namespace, name: meta.name, labels: meta.labels)
        pod.annotations = meta.annotations
        // A dump's pod shutting down (`Pod.terminating`); the timestamp is checked with the metadata.
        if let deletion = try nonNullFields(metadata, "metadata")["deletionTimestamp"], !deletion.isNull,
            !(try deletion.string("metadata.deletionTimestamp")).isEmpty
        {
            pod.terminating = true
        }
        guard let specValue = fields["spec"] else { throw value.error("Pod \(meta.namespace)/\(meta.name) needs \"spec\" with containers") }
        let spec = try podSpec(specValue, into: &pod)
        pod.namesItsNode = pod.nodeName != nil
        try readNodeSelection(spec, into: &pod, owner: nil)
        if let status = fields["status"] {
            try checkPodStatus(status)
            // A dump's finished pod (a Job's): not running, as its phase says (`Pod.terminalPhase`).
            if let phase = try nonNullFields(status, "status")["phase"]?.string("status.phase"), ["Succeeded", "Failed"].contains(phase) {
                pod.terminalPhase = phase
            }
            // `podutil.IsPodReady`: the Ready condition's status must be True.
            for condition in try nonNullFields(status, "status")["conditions"]?.items("status.conditions") ?? [] {
                let fields = try nonNullFields(condition, "a condition of status.conditions")
                let type = try fields["type"]?.string("status.conditions[].type")
                let conditionStatus = try fields["status"]?.string("status.conditions[].status")
                if type == "Ready", conditionStatus != "True" { pod.notReady = true }
                // A dump of a pod the scheduler bound nowhere (PodScheduled False, phase Pending):
                // it never ran, has no address and is no endpoint (`ShouldPodBeInEndpoints` needs a
                // podIP); it stays Pending in the lab too (`NodePortsScheduler`).
                if type == "PodScheduled", conditionStatus == "False", pod.unschedulable == nil {
                    let reason = try fields["reason"]?.string("status.conditions[].reason")
                    pod.unschedulable =
                        "its dumped status says the scheduler bound it to no node (PodScheduled False\(reason.map { ", \($0)" } ?? ""))"
                }
            }
            for (key, _, field) in try status.entries("status") where key == "podIP" && !field.isNull {
                let text = try field.string("status.podIP")
                if text.isEmpty { continue }
                if let ip = IPv4(text) {
                    pod.podIP = ip
                } else if CIDR.parse(text + "/128") != nil {
                    warnings.append(
                        ScenarioWarning(
                            location: field.location,
                            message:
                                "pod \(pod.key): status.podIP \(text) is IPv6 and the lab is IPv4 only; the pod gets an IPv4 lab address"))
                } else {
                    // Status is dropped on create (`PrepareForCreate`): a value that is no address
                    // does not make the API server refuse the pod.
                    warnings.append(
                        ScenarioWarning(
                            location: field.location,
                            message: "pod \(pod.key): status.podIP \"\(text)\" is not an IP address; the pod gets a lab address"))
                }
            }
        }
        // Pod scheduling readiness: a gated pod stays Pending, unbound, with no address, until its
        // gates are removed (https://kubernetes.io/docs/concepts/scheduling-eviction/pod-scheduling-readiness/).
        if let gates = spec["schedulingGates"], !(try Self.schedulingGates(gates)).isEmpty {
            if let nodeName = spec["nodeName"], !(try nodeName.string("spec.nodeName")).isEmpty {
                throw nodeName.error("spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared")
            }
            warnings.append(
                ScenarioWarning(
                    location: gates.location,
                    message:
                        "pod \(pod.key) has schedulingGates: it is never scheduled while they stand, so it runs nowhere and is left out"))
            return nil
        }
        return pod
    }

    /// A Pod's `status` as the API server decodes it: the fields' types (`podStatusTable`; the
    /// `ip` of `podIPs` and `hostIPs` a string), refused when wrong; a field the table does not
    /// know is warned about (the schema grows: `status.podIp` for `podIP` loses the pin).
    mutating func checkPodStatus(_ status: YAMLValue) throws(ScenarioError) {
        let fields = try nonNullFields(status, "status")
        try checkFieldTypes(fields, DecodedFieldType.podStatusTable) { "status.\($0)" }
        for list in ["podIPs", "hostIPs"] {
            for item in try fields[list]?.items("status.\(list)") ?? [] {
                if let ip = try nonNullFields(item, "an entry of status.\(list)")["ip"] { _ = try ip.string("status.\(list)[].ip") }
            }
        }
        let known = Set(DecodedFieldType.podStatusTable.map(\.field) + ["extendedResourceClaimStatus", "allocatedResources", "resources"])
        try warnUnknownFields(status, "Pod status", known: known)
    }

    /// `spec.schedulingGates`: each `{name}` a qualified name, no name twice (validateSchedulingGates).
    static func schedulingGates(_ value: YAMLValue) throws(ScenarioError) -> [String] {
        var names: [String] = []
        for item in try value.items("spec.schedulingGates") {
            let fields = try item.fields("a scheduling gate", allowed: ["name"])
            let nameValue = try fields.required("name")
            let name = try nameValue.string("spec.schedulingGates[].name")
            if let problem = NameRules.labelKeyProblem(name, as: "scheduling gate name") { throw nameValue.error(problem) }
            if names.contains(name) { throw nameValue.error("spec.schedulingGates: Duplicate value: \"\(name)\"") }
            names.append(name)
        }
        return names
    }

    /// Reads a pod spec into `pod` (containers, init containers, nodeName, serviceAccountName,
    /// hostNetwork) and returns its non-null fields. Shared by Pods and the pod templates of workloads;
    /// `controllerSetsHostname`: a StatefulSet's template, whose hostname and subdomain its controller
    /// replaces (so the API server does not check them there); `path`: where the spec is in its
    /// object, as volume errors name it (`spec.template.spec`); `claims`: a StatefulSet's
    /// `volumeClaimTemplates` names (`checkPodVolumes`).
    mutating func podSpec(
        _ specValue: YAMLValue, into pod: inout Pod, controllerSetsHostname: Bool = false, template: Bool = false, path: String = "spec",
        claims: [String]? = nil
    )
        throws(ScenarioError)
        -> [String: YAMLValue]
    {
        try warnUnknownFields(specValue, "Pod spec", known: KnownFields.podSpec)
        let spec = try nonNullFields(specValue, "Pod spec")
        try checkFieldTypes(spec, DecodedFieldType.podSpecTable) { "spec.\($0)" }
        try checkTolerations(spec["tolerations"])
        // A readiness gate's condition is set by a controller the lab does not run (the API server
        // drops a created pod's status): in Kubernetes the pod stays not Ready, so no Service
        // sends to it (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-readiness-gate).
        if let gates = spec["readinessGates"], !(try gates.items("spec.readinessGates")).isEmpty {
            // validateReadinessGates: each conditionType is a qualified name.
            for (index, gate) in try gates.items("spec.readinessGates").enumerated() {
                let field = "spec.readinessGates[\(index)].conditionType"
                let fields = try nonNullFields(gate, "a readiness gate")
                let type = try fields["conditionType"]?.string(field) ?? ""
                if let problem = NameRules.labelKeyProblem(type, as: "conditionType") {
                    throw (fields["conditionType"] ?? gate).error("\(field): \(problem) (a qualified name, as a label key)")
                }
            }
            warnings.append(
                ScenarioWarning(
                    location: gates.location,
                    message:
                        "pod \(pod.key): spec.readinessGates name conditions only a controller sets; keycard runs none and treats the pod as Ready (a Service endpoint), where Kubernetes keeps it not Ready until the conditions are True"
                ))
        }
        guard let containers = spec["containers"] else { throw specValue.error("Pod spec needs \"containers\"") }
        let containerList = try containers.items("spec.containers")
        if containerList.isEmpty { throw containers.error("spec.containers must list at least one container") }
        var containerNames: Set<String> = []
        var declared: [ProtocolPort: SourceLocation] = [:]
        // Names with their protocol: a NetworkPolicyPort has one protocol (default TCP), so a name
        // two containers declare for different protocols is matched on one of them at a time.
        var podPortNames: Set<String> = []
        let initContainers = try spec["initContainers"]?.items("spec.initContainers") ?? []
        // A named targetPort resolves to the containers' ports before the sidecars' (`FindPort` in
        // pkg/api/v1/pod/util.go): sidecar ports follow the containers' in `pod.ports`.
        var sidecarPorts: [ContainerPort] = []
        // A host-network pod's hostPort defaults to its containerPort (SetDefaults_Pod) before
        // checkHostPortConflicts sees it.
        let onHostNetwork = try spec["hostNetwork"]?.bool("spec.hostNetwork") ?? false
        var hostPortKeys: Set<String> = []
        for (container, isInit) in initContainers.map({ ($0, true) }) + containerList.map({ ($0, false) }) {
            try warnUnknownFields(container, "a container", known: KnownFields.container)
            let fields = try nonNullFields(container, "a container")
            guard let nameValue = fields["name"] else { throw container.error("a container needs \"name\"") }
            let containerName = try nameValue.string("container name")
            if let problem = NameRules.dns1123LabelProblem(containerName) {
                throw nameValue.error("container name \"\(containerName)\" \(problem)")
            }
            guard containerNames.insert(containerName).inserted else {
                throw nameValue.error("container name \"\(containerName)\" is used twice in this pod")
            }
            pod.containerNames.append(containerName)
            try checkFieldTypes(fields, DecodedFieldType.containerTable) { "container \"\(containerName)\": \($0)" }
            // validateContainers: "image: Required value". The lab runs no images, and scenarios
            // written for keycard often leave it out: a warning, not a refusal.
            try checkImageWhitespace(fields["image"], containerName, pod: pod, template: template)
            if try fields["image"]?.string("image").isEmpty ?? true {
                warnings.append(
                    ScenarioWarning(
                        location: (fields["image"] ?? container).location,
                        message:
                            "pod \(pod.key): container \"\(containerName)\" has no image; the API server refuses it (image: Required value), keycard runs no images and goes on"
                    ))
            }
            // An init container runs to completion before the pod starts, unless it is a sidecar
            // (restartPolicy: Always), which runs beside the containers for the pod's whole life.
            // Every container is validated alike; only running ones serve ports and run commands.
            var running = !isInit
            // Only an init container may set it (the ContainerRestartRules alpha gate aside).
            if !isInit, let policyValue = fields["restartPolicy"] {
                throw policyValue.error(
                    "container \"\(containerName)\": restartPolicy: Forbidden: may not be set for non-init containers (a sidecar is an init container with restartPolicy: Always)"
                )
            }
            if isInit, let policyValue = fields["restartPolicy"] {
                let policy = try policyValue.string("restartPolicy")
                guard policy == "Always" else {
                    throw policyValue.error("an init container's restartPolicy must be Always (a sidecar), found \"\(policy)\"")
                }
                running = true
            }
            try checkProbesAndHooks(fields, container: containerName, plainInit: isInit && !running)
            // Port names are unique per container; the same number twice is only a warning
            // (ValidatePodCreate's validateContainerPorts; pkg/api/pod/warnings.go).
            var portNames: Set<String> = []
            for portValue in try fields["ports"]?.items("container ports") ?? [] {
                let (port, written) = try containerPort(portValue)
                // checkHostPortConflicts (ValidatePodSpec): over spec.containers, no protocol,
                // hostIP and hostPort twice.
                if !isInit, let claim = written ?? (onHostNetwork ? HostPort(port: port.port, proto: port.proto, hostIP: "") : nil) {
                    let hostIP = try nonNullFields(portValue, "a container port")["hostIP"]?.string("hostIP") ?? ""
                    let key = "\(port.proto.rawValue)/\(hostIP)/\(claim.port)"
                    guard hostPortKeys.insert(key).inserted else {
                        throw portValue.error(
                            "hostPort: Duplicate value: \"\(key)\" (another port of this pod's containers has this protocol, hostIP and hostPort)"
                        )
                    }
                    if let written { pod.hostPorts.append(written) }
                }
                if let name = port.name {
                    guard portNames.insert(name).inserted else {
                        throw portValue.error("port name \"\(name)\" is declared twice in container \"\(containerName)\"")
                    }
                    if running, !podPortNames.insert("\(port.proto.rawValue)/\(name)").inserted {
                        warnings.append(
                            ScenarioWarning(
                                location: portValue.location,
                                message:
                                    "pod \(pod.key): port name \"\(name)\" is declared by two containers for \(port.proto.rawValue); a policy naming it for \(port.proto.rawValue) matches both"
                            ))
                    }
                }
                guard running else { continue }
                let key = ProtocolPort(port.proto, port.port)
                if let first = declared[key] {
                    warnings.append(
                        ScenarioWarning(
                            location: portValue.location,
                            message:
                                "pod \(pod.key): \(key) is declared twice (first at \(first)); it is served once"))
                } else {
                    declared[key] = portValue.location
                }
                if isInit { sidecarPorts.append(port) } else { pod.ports.append(port) }
            }
            let command = try fields["command"]?.strings("command", nullIsEmpty: true) ?? []
            let args = try fields["args"]?.strings("args", nullIsEmpty: true) ?? []
            if running, !command.isEmpty {
                pod.commands.append(command + args)
                pod.environments.append(try environment(fields["env"], pod: pod.key, container: containerName))
            }
        }
        pod.ports += sidecarPorts
        try checkPodVolumes(spec, path: path, pod: pod, claims: claims)
        // Added to a running pod by `kubectl debug`; never in a create or a template
        // (ValidatePodCreate, ValidatePodTemplateSpec).
        if let ephemeral = spec["ephemeralContainers"], !(try ephemeral.items("spec.ephemeralContainers")).isEmpty {
            throw ephemeral.error("spec.ephemeralContainers: Forbidden: cannot be set on create (kubectl debug adds them to a running pod)")
        }
        if let policyValue = spec["restartPolicy"] {
            let policy = try policyValue.string("spec.restartPolicy")
            // "" is unset: SetDefaults_PodSpec makes it Always.
            guard ["", "Always", "OnFailure", "Never"].contains(policy) else {
                throw policyValue.error("spec.restartPolicy must be Always, OnFailure or Never, found \"\(policy)\"")
            }
        }
        // Defaults to false (core/v1 PodSpec); true puts the pod in its node's namespace (HostNetwork.swift).
        if let hostNetwork = spec["hostNetwork"] { pod.hostNetwork = try hostNetwork.bool("spec.hostNetwork") }
        if let links = spec["enableServiceLinks"] { pod.enableServiceLinks = try links.bool("spec.enableServiceLinks") }
        try checkPodHost(spec, hostNetwork: pod.hostNetwork, checkHostname: !controllerSetsHostname, into: &pod)
        try checkDNSPolicy(spec, into: &pod)
        // An empty nodeName is the field's zero value: unset, as the API server reads it.
        if let nodeName = spec["nodeName"], !(try nodeName.string("spec.nodeName")).isEmpty {
            let name = try nodeName.string("spec.nodeName")
            if let problem = NameRules.dns1123SubdomainProblem(name) { throw nodeName.error("spec.nodeName \"\(name)\" \(problem)") }
            pod.nodeName = name
        }
        // serviceAccount is the deprecated alias, copied when serviceAccountName is empty (core/v1
        // conversion of PodSpec). Unset, the ServiceAccount admission plugin sets "default".
        let account = try spec["serviceAccountName"]?.string("spec.serviceAccountName") ?? ""
        let deprecated = try spec["serviceAccount"]?.string("spec.serviceAccount") ?? ""
        if let name = [account, deprecated].first(where: { !$0.isEmpty }) {
            let field = account.isEmpty ? spec["serviceAccount"] : spec["serviceAccountName"]
            if let problem = NameRules.dns1123SubdomainProblem(name), let field {
                throw field.error("serviceAccountName \"\(name)\" \(problem)")
            }
            pod.serviceAccountName = name
        }
        return spec
    }

    /// `validateContainerOnlyForPod` (validation.go, from ValidatePod): an image with leading or
    /// trailing whitespace (Go's `strings.TrimSpace`: any Unicode space) is refused in a Pod,
    /// `image: Invalid value: "nginx ": must not have leading or trailing whitespace`. A pod
    /// template is not checked (ValidatePodTemplateSpec skips it), so the workload is accepted and
    /// each pod its controller makes is refused: a warning, and no pod (`Workload.podsRefused`).
    mutating func checkImageWhitespace(_ value: YAMLValue?, _ containerName: String, pod: Pod, template: Bool) throws(ScenarioError) {
        guard let value, let image = try? value.string("image"), !image.isEmpty else { return }
        guard let first = image.unicodeScalars.first, let last = image.unicodeScalars.last,
            first.properties.isWhitespace || last.properties.isWhitespace
        else { return }
        let problem =
            "container \"\(containerName)\": image: Invalid value: \(image.debugDescription): must not have leading or trailing whitespace"
        guard template else { throw value.error("pod \(pod.key): \(problem)") }
        refuseTemplatePods(pod, problem, at: value.location)
    }

    /// A template the API server accepts but each of whose pods it refuses for `problem`: a
    /// warning at `location`, and no pod (the first problem is kept in `templatePodsRefused`).
    /// `pod`: the template's pod, named after its owner.
    mutating func refuseTemplatePods(_ pod: Pod, _ problem: String, at location: SourceLocation) {
        if templatePodsRefused == nil { templatePodsRefused = problem }
        warnings.append(
            ScenarioWarning(
                location: location,
                message:
                    "\(pod.namespace)/\(pod.name): the API server accepts the template but refuses each of its pods (\(problem)), so no pod runs, and keycard runs none"
            ))
    }

    /// A mapping's fields with null values dropped (Kubernetes reads a null field as absent).
    func nonNullFields(_ value: YAMLValue, _ what: String) throws(ScenarioError) -> [String: YAMLValue] {
        var fields: [String: YAMLValue] = [:]
        for entry in try value.entries(what) where !entry.value.isNull { fields[entry.key] = entry.value }
        return fields
    }

    /// A list item's fields, unknown ones refused (strict field validation) and nulls dropped; a
    /// null item has none (a built-in type's JSON decoder makes it the zero object).
    func itemFields(_ item: YAMLValue, _ path: String, known: Set<String>) throws(ScenarioError) -> [String: YAMLValue] {
        guard !item.isNull else { return [:] }
        try item.requireKnownFields(path, known: known)
        return try nonNullFields(item, path)
    }

    /// A warning at `value`'s place in its file.
    mutating func warn(_ value: YAMLValue, _ message: String) {
        warnings.append(ScenarioWarning(location: value.location, message: message))
    }

    /// Where a finding about a whole object is reported: its `metadata.name`, or the metadata
    /// itself when the name is generated.
    func nameNode(_ metadata: YAMLValue) throws(ScenarioError) -> YAMLValue {
        try nonNullFields(metadata, "metadata")["name"] ?? metadata
    }

    /// A container port, and the node port it claims: its non-zero `hostPort` with its protocol
    /// and `hostIP` (nil without one).
    private func containerPort(_ value: YAMLValue) throws(ScenarioError) -> (ContainerPort, HostPort?) {
        try value.requireKnownFields("a container port", known: KnownFields.containerPort)
        let fields = try nonNullFields(value, "a container port")
        guard let numberValue = fields["containerPort"] else { throw value.error("a container port needs \"containerPort\"") }
        let number = try numberValue.int("containerPort", in: 1...65535)
        // hostPort 0 (or absent) means none; otherwise a port number (validateContainerPorts).
        let hostPort = try fields["hostPort"]?.int("hostPort", in: 0...65535) ?? 0
        var port = ContainerPort(port: number)
        if let protoValue = fields["protocol"] { port.proto = try Self.defaultedProtocol(protoValue) }
        port.name = try Self.optionalPortName(fields["name"], "port name", NameRules.portNameProblem)
        let hostIP = try fields["hostIP"]?.string("hostIP") ?? ""
        return (port, hostPort == 0 ? nil : HostPort(port: hostPort, proto: port.proto, hostIP: hostIP))
    }

    /// A container or Service port's `name`: optional, and an empty string is none (the API
    /// server checks a name only when it is not empty); otherwise `problem` must find nothing
    /// (an IANA service name for a container port, a DNS label for a Service port).
    static func optionalPortName(_ value: YAMLValue?, _ what: String, _ problem: (String) -> String?) throws(ScenarioError) -> String? {
        guard let value else { return nil }
        let name = try value.string(what)
        if name.isEmpty { return nil }
        if let problem = problem(name) { throw value.error("\(what) \"\(name)\" \(problem)") }
        return name
    }

    /// A container or Service port's `protocol`: empty is TCP, as `SetDefaults_ContainerPort` and
    /// `SetDefaults_Service` make it (a NetworkPolicy port's is a pointer, defaulted only when
    /// absent: there `""` is refused by `transportProtocol`).
    static func defaultedProtocol(_ value: YAMLValue) throws(ScenarioError) -> TransportProtocol {
        if try value.string("protocol").isEmpty { return .tcp }
        return try transportProtocol(value)
    }

    static func transportProtocol(_ value: YAMLValue) throws(ScenarioError) -> TransportProtocol {
        let text = try value.string("protocol")
        guard let proto = TransportProtocol(rawValue: text), proto.isKubernetes else {
            throw value.error("protocol \"\(text)\" is not one of TCP, UDP, SCTP")
        }
        return proto
    }
}
