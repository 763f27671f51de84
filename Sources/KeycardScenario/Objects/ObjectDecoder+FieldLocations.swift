extension ObjectDecoder {
    /// The path under which a Service's `spec.clusterIP` location is kept (`LoadedObject.fieldLocations`).
    static let clusterIPField = "spec.clusterIP"

    /// `loaded` with the locations of its Service's `spec.clusterIP`, `spec.ports[i].nodePort`,
    /// `spec.healthCheckNodePort` and `spec.loadBalancerClass` recorded (keyed by those paths): their
    /// range, ownership and update rules are checked when applied, against the lab's ranges, the
    /// other Services and the Service's previous version. The API server
    /// reports clusterIP errors at `spec.clusterIPs`, whose first entry must equal
    /// `spec.clusterIP` (checked when decoding); keycard points at `spec.clusterIP`, which is
    /// always written when `clusterIPs` is.
    static func locatingFields(_ loaded: LoadedObject, _ value: YAMLValue) -> LoadedObject {
        var loaded = loaded
        // Decoding already succeeded, so these reads cannot fail; a failure just leaves no location.
        let spec = (try? value.entries("Service"))?.first { $0.key == "spec" }?.value
        let specEntries = (try? spec?.entries("Service spec")) ?? []
        if let clusterIP = specEntries.first(where: { $0.key == "clusterIP" })?.value {
            loaded.fieldLocations[clusterIPField] = clusterIP.location
        }
        for field in ["healthCheckNodePort", "loadBalancerClass"] {
            if let written = specEntries.first(where: { $0.key == field })?.value {
                loaded.fieldLocations["spec.\(field)"] = written.location
            }
        }
        let ports = specEntries.first { $0.key == "ports" }?.value
        for (index, port) in ((try? ports?.items("Service spec.ports")) ?? []).enumerated() {
            if let nodePort = (try? port.entries("Service port"))?.first(where: { $0.key == "nodePort" })?.value {
                loaded.fieldLocations["spec.ports[\(index)].nodePort"] = nodePort.location
            }
        }
        return loaded
    }
}

extension ObjectDecoder {
    /// The path under which the location of a pod's annotation value `name` is kept
    /// (`LoadedObject.fieldLocations`): the pod's own `metadata.annotations`, or a workload's pod
    /// template's. The sidecar injector checks some annotations when it injects a pod
    /// (`SidecarInjectorAnnotations`), which happens when the pod is created.
    static func podAnnotationField(_ name: String) -> String { "pod.metadata.annotations.\(name)" }

    /// `loaded` with the locations of its pod annotations (a Pod's, or the pod template's of a
    /// workload; a CronJob's under `spec.jobTemplate.spec`) recorded.
    /// The value at `path` of nested mappings, nil when one is missing or not a mapping.
    static func field(_ value: YAMLValue?, _ path: [String]) -> YAMLValue? {
        var current = value
        for key in path {
            guard let mapping = current, !mapping.isNull, let entries = try? mapping.entries(key) else { return nil }
            current = entries.first { $0.key == key }?.value
        }
        return current
    }

    static func locatingPodAnnotations(_ loaded: LoadedObject, _ value: YAMLValue) -> LoadedObject {
        let path: [String]
        switch loaded.object {
        case .pod: path = ["metadata", "annotations"]
        case .workload(let workload) where workload.kind == .cronJob:
            path = ["spec", "jobTemplate", "spec", "template", "metadata", "annotations"]
        case .workload: path = ["spec", "template", "metadata", "annotations"]
        default: return loaded
        }
        guard let annotations = field(value, path), !annotations.isNull, let entries = try? annotations.entries("annotations") else {
            return loaded
        }
        var loaded = loaded
        for entry in entries { loaded.fieldLocations[podAnnotationField(entry.key)] = entry.value.location }
        return loaded
    }
}

extension ObjectDecoder {
    /// The paths under which a workload's `spec.selector` and pod template labels locations are
    /// kept (`LoadedObject.fieldLocations`): an update is checked against the stored workload
    /// when applied (an immutable selector, a kept one the new template must match).
    static let selectorField = "spec.selector"
    static let templateLabelsField = "spec.template.metadata.labels"

    /// `loaded` with the locations of its workload's `spec.selector` and
    /// `spec.template.metadata.labels` recorded, when written.
    static func locatingWorkloadFields(_ loaded: LoadedObject, _ value: YAMLValue) -> LoadedObject {
        var loaded = loaded
        if let selector = field(value, ["spec", "selector"]) { loaded.fieldLocations[selectorField] = selector.location }
        if let labels = field(value, ["spec", "template", "metadata", "labels"]) {
            loaded.fieldLocations[templateLabelsField] = labels.location
        }
        return loaded
    }
}
