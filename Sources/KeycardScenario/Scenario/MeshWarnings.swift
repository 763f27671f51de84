import KeycardModel

/// The warnings of spec mesh.md 2.3 that depend on the cluster at a step: checked after the
/// resources and after every step, each said once, at the place the version of the object in
/// force at that step was written (a policy re-applied by a step is warned at that step's text).
enum MeshWarnings {
    static func collect(_ timeline: Timeline) -> [ScenarioWarning] {
        let scenario = timeline.scenario
        // Where each object in force was last written: the resources, then each step's applies.
        var locations: [ObjectRef: SourceLocation] = [:]
        for loaded in scenario.resourceBatches.joined() { locations[loaded.object.ref] = loaded.location }
        let fallback = SourceLocation.start(of: scenario.file)
        var seen: Set<String> = []
        var warnings: [ScenarioWarning] = []
        func warn(_ location: SourceLocation?, _ message: String) {
            guard seen.insert(message).inserted else { return }
            warnings.append(ScenarioWarning(location: location ?? fallback, message: message))
        }
        // R4 is judged over the whole scenario, at the first version of the object in force.
        var present: [(ref: ObjectRef, location: SourceLocation?)] = []
        var selecting: Set<ObjectRef> = []
        for (index, cluster) in ([timeline.initial] + timeline.states).enumerated() {
            if index > 0, index <= scenario.steps.count, case .apply(let objects) = scenario.steps[index - 1].action {
                for loaded in objects { locations[loaded.object.ref] = loaded.location }
            }
            check(cluster) { ref, message in warn(locations[ref], message) }
            for (ref, selects) in selection(cluster) {
                if !present.contains(where: { $0.ref == ref }) { present.append((ref, locations[ref])) }
                if selects { selecting.insert(ref) }
            }
        }
        // R4: a policy that never selects a meshed pod protects nothing.
        for (ref, location) in present where !selecting.contains(ref) {
            warn(location, "\(ref) selects no meshed pod: only the destination's proxy enforces it, so it has no effect (R4)")
        }
        return warnings
    }

    private static func check(_ cluster: Cluster, _ warn: (ObjectRef, String) -> Void) {
        let root = cluster.mesh.rootNamespace
        func paRef(_ policy: PeerAuthentication) -> ObjectRef {
            ObjectRef(kind: .peerAuthentication, namespace: policy.namespace, name: policy.name)
        }
        func apRef(_ policy: AuthorizationPolicy) -> ObjectRef {
            ObjectRef(kind: .authorizationPolicy, namespace: policy.namespace, name: policy.name)
        }
        let peerAuthentications = cluster.peerAuthentications.values.sorted { $0.key < $1.key }
        // R7: selector policies in the root namespace are ignored.
        for policy in peerAuthentications where policy.namespace == root && !(policy.selector?.matchLabels.isEmpty ?? true) {
            warn(paRef(policy), "PeerAuthentication \(policy.key) has a selector in the root namespace \(root): Istio ignores it (R7)")
        }
        // R9: one policy per mesh or namespace scope, the oldest.
        let wide = peerAuthentications.filter { $0.selector?.matchLabels.isEmpty ?? true }
        for (namespace, group) in Dictionary(grouping: wide, by: \.namespace) where group.count > 1 {
            guard let kept = Cluster.oldestPeerAuthentication(group) else { continue }
            for policy in group where policy.key != kept.key {
                let scope = namespace == root ? "mesh-wide" : "namespace-wide"
                warn(
                    paRef(policy),
                    "PeerAuthentication \(policy.key) is a second \(scope) policy: Istio keeps the oldest, \(kept.key), and ignores it (R9)"
                )
            }
        }
        let meshed = cluster.sortedPods.filter { cluster.dataPlane(of: $0.key) != .none }
        if cluster.serviceEnforcement == .preDNAT, let ambient = meshed.first(where: { cluster.dataPlane(of: $0.key) == .ambient }) {
            // The model judges what ztunnel sends (`MeshVerdict.sourceProxied`, the HBONE hop);
            // pod placement's egress chain, inside the pod, also meets the application's packet
            // before the capture. Sidecar pods get their egress split around the capture.
            warn(
                ObjectRef(kind: .pod, namespace: ambient.namespace, name: ambient.name),
                "serviceEnforcement pre-dnat with ambient pods: in pod placement the lab's egress judges the application's own connection (its original destination and port, a ClusterIP included) before the capture as well as what ztunnel sends, while the model and Istio judge what ztunnel sends only; run with --enforcement node to compare them"
            )
        }
        for pod in meshed {
            let plane = cluster.dataPlane(of: pod.key)
            let podRef = ObjectRef(kind: .pod, namespace: pod.namespace, name: pod.name)
            let captureKeys = SidecarCapture.Annotation.all.filter { pod.annotations[$0] != nil }
            if plane == .sidecar {
                for entry in pod.sidecarCapture.ignored {
                    warn(podRef, "pod \(pod.key): \(entry) is not a port (0-65535) or an IP block (CIDR): keycard ignores it")
                }
                if let warning = Self.templateWarning(pod) { warn(podRef, warning) }
                if pod.annotations[SidecarInjectorAnnotations.unchecked] != nil {
                    warn(
                        podRef,
                        "pod \(pod.key): keycard does not check \(SidecarInjectorAnnotations.unchecked) (the injector refuses a pod whose ProxyConfig fails ValidateMeshConfigProxyConfig) and it changes nothing keycard models"
                    )
                }
            } else if !captureKeys.isEmpty {
                warn(
                    podRef,
                    "pod \(pod.key) is ambient: \(captureKeys.joined(separator: ", ")) configure a sidecar's capture and have no effect on it"
                )
            }
            let workload = peerAuthentications.filter {
                $0.namespace == pod.namespace && $0.namespace != root && !($0.selector?.matchLabels.isEmpty ?? true)
                    && ($0.selector?.matches(pod.labels) ?? false)
            }
            if workload.count > 1, let kept = Cluster.oldestPeerAuthentication(workload) {
                warn(
                    paRef(workload[0]),
                    "pod \(pod.key) is selected by several workload PeerAuthentications (\(workload.map(\.key.description).joined(separator: ", "))): Istio picks the oldest, \(kept.key) (R9)"
                )
            }
            if plane == .ambient {
                let scopes = cluster.peerAuthenticationScopes(for: pod, plane: plane)
                for policy in [scopes.mesh, scopes.namespace, scopes.workload].compactMap({ $0 })
                where policy.mode == .disable || policy.portLevelMtls.values.contains(.disable) {
                    // A port DISABLE that ztunnel ignores (`Cluster.ztunnelRefusesPlaintext`).
                    let ignored =
                        policy.key == scopes.workload?.key && policy.mode != .disable
                        ? policy.portLevelMtls.filter { $0.value == .disable }.keys.sorted().filter {
                            cluster.mutualTLSMode(for: pod, port: $0, plane: plane).mode == .strict
                        } : []
                    if !ignored.isEmpty {
                        warn(
                            paRef(policy),
                            "PeerAuthentication \(policy.key) sets DISABLE on port\(ignored.count == 1 ? "" : "s") \(ignored.map(String.init).joined(separator: ", ")) of ambient pod \(pod.key) and no mode of its own under a STRICT parent: ztunnel ignores the DISABLE and keeps STRICT (istiod's convertedSelectorPeerAuthentications)"
                        )
                        continue
                    }
                    warn(
                        paRef(policy),
                        "PeerAuthentication \(policy.key) sets DISABLE for ambient pod \(pod.key): ztunnel keeps mutual TLS for meshed clients and treats it as PERMISSIVE for plaintext (R52)"
                    )
                }
                // Ports the documented semantics make STRICT that ztunnel leaves open
                // (`Cluster.ztunnelRefusesPlaintext`), among the pod's ports and the policy's entries.
                if let workload = scopes.workload {
                    let candidates = Set(pod.ports.map(\.port)).union(workload.portLevelMtls.keys).sorted()
                    let open = candidates.compactMap { port in
                        cluster.mutualTLSMode(for: pod, port: port, plane: plane).ztunnelNote.map { (port, $0) }
                    }
                    if let reason = open.first?.1 {
                        warn(
                            paRef(workload),
                            "ambient pod \(pod.key) accepts plaintext on port\(open.count == 1 ? "" : "s") \(open.map { String($0.0) }.joined(separator: ", ")), where a sidecar would require mutual TLS: \(reason)"
                        )
                    }
                }
                // `AuthorizationPolicy.ztunnelAttachesNoWorkload`: `selector: {}` binds no ambient pod.
                for policy in cluster.authorizationPolicies.values.sorted(by: { $0.key < $1.key })
                where policy.ztunnelAttachesNoWorkload && !policy.hasTargetRef && !policy.dryRun
                    && (policy.namespace == pod.namespace || policy.namespace == root)
                {
                    warn(
                        apRef(policy),
                        "AuthorizationPolicy \(policy.key) has a selector without matchLabels: istiod attaches it to no ambient workload, so ztunnel enforces it on none of the ambient pods of its scope, while sidecars apply it to every workload of it; drop the selector to make it \(policy.namespace == root ? "mesh" : "namespace")-wide on both"
                    )
                }
                for policy in AuthorizationEngine(cluster).policies(for: pod) where policy.action == .audit || policy.action == .custom {
                    warn(
                        apRef(policy),
                        "AuthorizationPolicy \(policy.key) is \(policy.action.rawValue), which ztunnel does not support: no effect on ambient pod \(pod.key) (R53)"
                    )
                }
            }
        }
    }

    /// Each mesh policy at this state, and whether it selects a meshed pod (R19; root-namespace
    /// PeerAuthentications with a selector are ignored, R7).
    private static func selection(_ cluster: Cluster) -> [(ObjectRef, Bool)] {
        let root = cluster.mesh.rootNamespace
        let meshed = cluster.sortedPods.filter { cluster.dataPlane(of: $0.key) != .none }
        func selects(_ namespace: String, _ selector: WorkloadSelector?) -> Bool {
            meshed.contains { ($0.namespace == namespace || namespace == root) && (selector?.matches($0.labels) ?? true) }
        }
        var result: [(ObjectRef, Bool)] = []
        for policy in cluster.peerAuthentications.values.sorted(by: { $0.key < $1.key })
        where !(policy.namespace == root && !(policy.selector?.matchLabels.isEmpty ?? true)) {
            result.append(
                (
                    ObjectRef(kind: .peerAuthentication, namespace: policy.namespace, name: policy.name),
                    selects(policy.namespace, policy.selector)
                ))
        }
        for policy in cluster.authorizationPolicies.values.sorted(by: { $0.key < $1.key }) where !policy.hasTargetRef {
            result.append(
                (
                    ObjectRef(kind: .authorizationPolicy, namespace: policy.namespace, name: policy.name),
                    selects(policy.namespace, policy.selector)
                ))
        }
        return result
    }

    /// What keycard makes of a sidecar pod's `inject.istio.io/templates` (`SidecarCapture`): nil
    /// for the default (`sidecar` in the list). Proxyless gRPC templates run no Envoy, so the pod is
    /// judged as uncaptured; the application's own xDS mutual TLS and authorization are not
    /// modelled. Any other list (a gateway's `gateway` router, a custom template) is not modelled
    /// either: the pod is judged as a sidecar.
    static func templateWarning(_ pod: Pod) -> String? {
        guard let templates = SidecarCapture.injectionTemplates(pod.annotations), !templates.contains("sidecar") else { return nil }
        let list = templates.joined(separator: ",")
        if SidecarCapture.isProxyless(pod.annotations) {
            return
                "pod \(pod.key): \(SidecarCapture.Annotation.injectTemplates) \(list) injects no Envoy and no capture: keycard judges its traffic as uncaptured (plaintext, no identity); proxyless gRPC's own xDS mutual TLS and authorization are not modelled"
        }
        return
            "pod \(pod.key): \(SidecarCapture.Annotation.injectTemplates) \(list) has no sidecar template: keycard does not model it and judges the pod as an Envoy sidecar"
    }
}
