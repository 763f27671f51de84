import KeycardModel

/// The steps manifests mode plays (issue 13 point 6), all expecting the policy model:
/// 1. every workload (every replica: a workload cell passes only when all agree) and every bare
///    pod to every pod, on every container port some pod declares;
/// 2. the same sources to every Service with a ClusterIP, on each of its ports, through the real
///    ClusterIP: one cell per backend (`svc/ns/name>ns/pod`);
/// 3. with cluster DNS, one `dns` step per source pod that asks cluster DNS (by its dnsPolicy:
///    not Default or None; not on the host network, where it asks its node's resolver or, with
///    ClusterFirstWithHostNet, a ClusterIP the lab's node namespaces do not translate) and Service name (`<svc>.<ns>.svc.cluster.local`; an ExternalName Service
///    only when its CNAME leads to addresses the lab holds: one pointing outside the cluster would
///    get the lab's answer, which has no upstream, not the cluster's, and one pointing at nothing
///    asks nothing worth asking). The model judges a query on the UDP/53 flow from the pod to the
///    DNS pod, which does not depend on the name: a pod whose queries the model blocks asks one
///    name only, so a default-deny without a DNS rule costs one timeout per pod, not one per name.
/// The cluster DNS pod and Service are keycard's: neither a source nor a destination.
enum ManifestPlan {
    /// The steps over `cluster` (the cluster the resources make), numbered from 1.
    /// A headless Service whose endpoints are written by hand (`handWrittenEndpoints`, which
    /// keycard does not read) gets no `dns` step: cluster DNS answers its name with those
    /// endpoints, which keycard cannot model (its connection cells are not judged either).
    static func steps(
        _ cluster: Cluster, sources: [ProbeRef], at location: SourceLocation, dns: Bool,
        handWrittenEndpoints: [ObjectKey: HandWrittenEndpoints] = [:], dnsModel: (DNSStep) -> DNSAnswer
    ) -> (steps: [Step], warnings: [ScenarioWarning]) {
        var steps: [Step] = []
        var warnings: [ScenarioWarning] = []
        func add(_ name: String, _ action: Step.Action) {
            steps.append(Step(index: steps.count + 1, name: name, location: location, action: action))
        }
        let pods = cluster.sortedPods.filter { $0.key != ClusterDNS.podKey }
        if sources.isEmpty {
            warnings.append(ScenarioWarning(location: location, message: "no workload or pod to probe"))
            return (steps, warnings)
        }
        if pods.contains(where: { !$0.ports.isEmpty }) {
            add("every workload to every pod, as the model says", .probe(ProbeStep(from: sources, to: nil, ports: nil, expect: .model)))
        } else {
            warnings.append(
                ScenarioWarning(
                    location: location, message: "no pod declares a container port: no pod port to probe (declare containerPort)"))
        }
        let services = cluster.sortedServices.filter { $0.key != ClusterDNS.serviceKey }
        let withClusterIP = services.filter { $0.clusterIP != nil && !$0.ports.isEmpty }
        // A host-network pod connects from its node's namespace, where the lab runs no Service
        // proxy (as kube-proxy would be there): its Service cells are left out, its pod cells stay.
        let onHostNetwork = sources.filter { sourcePods([$0], cluster).contains(where: cluster.isHostNetwork) }
        let serviceSources = sources.filter { !onHostNetwork.contains($0) }
        if !withClusterIP.isEmpty, !serviceSources.isEmpty {
            let destinations = withClusterIP.map { ProbeRef.endpoint(.service($0.key)) }
            add(
                "every workload to every Service port through its ClusterIP, as the model says",
                .probe(ProbeStep(from: serviceSources, to: destinations, ports: nil, expect: .model)))
        }
        if !withClusterIP.isEmpty, !onHostNetwork.isEmpty {
            let names = onHostNetwork.map(\.description).joined(separator: ", ")
            warnings.append(
                ScenarioWarning(
                    location: location,
                    message:
                        "not probed through Services: \(names) (host network; the lab runs no Service proxy in node namespaces, so only their pod-to-pod cells are probed)"
                ))
        }
        guard dns else { return (steps, warnings) }
        let records = DNSRecords(cluster)
        let names = services.compactMap { service -> String? in
            if service.address == .headless, Timeline.unjudgedReason(service, handWrittenEndpoints: handWrittenEndpoints) != nil {
                return nil
            }
            let name = DNSRecords.serviceName(service.name, namespace: service.namespace)
            return service.kind != .externalName || !records.lookup(name).isEmpty ? name : nil
        }
        // A pod whose dnsPolicy asks another resolver (Default, None, ClusterFirst on the host
        // network), or whose queries the lab cannot carry (ClusterFirstWithHostNet on the host
        // network), has no cluster DNS step (`Timeline.clusterDNSRefusal`).
        for source in sourcePods(sources, cluster) where !cluster.isHostNetwork(source) {
            guard let pod = cluster.pods[source], Timeline.clusterDNSRefusal(pod, in: cluster) == nil else { continue }
            for name in names {
                let query = DNSStep(from: source, name: name, expect: nil)
                add("\(source) asks \(name)", .dns(query))
                if dnsModel(query) == .blocked { break }
            }
        }
        return (steps, warnings)
    }

    /// The pods `sources` stand for, in order: every replica of each workload, each bare pod.
    static func sourcePods(_ sources: [ProbeRef], _ cluster: Cluster) -> [ObjectKey] {
        sources.flatMap { ref -> [ObjectKey] in
            switch ref {
            case .workload(let key): cluster.pods(of: key).map(\.key)
            case .endpoint(.pod(let key)): cluster.pods[key] == nil ? [] : [key]
            case .endpoint: []
            }
        }
    }
}
