import Foundation
import KeycardModel
import KeycardValues

/// Manifests mode: plain Kubernetes manifests (no `keycard/v1` Scenario) become a lab and its
/// steps, as `kubectl apply -f DIR|FILE...` would make a cluster:
/// - a folder stands for its `.yaml`, `.yml` and `.json` files (not its sub-folders, as `kubectl apply -f`
///   without `-R`), in name order; a file may hold several documents, `kind: List`, Helm output;
/// - kinds keycard does not run (CRDs, custom resources, ConfigMaps...) are skipped with one
///   summarised warning;
/// - `namespace` (`-n`) is the namespace of objects that name none; an object naming another is
///   an error, as kubectl makes it. A namespace objects use but no file declares is created, as a
///   user would with `kubectl create namespace` first;
/// - container images are not run: a container's `command` is dropped (a warning counts them) and
///   keycard serves each declared port, and each target port a Service sends, itself;
/// - cluster DNS is on (`spec.lab.dns: true`), unless `dns` is false or the manifests define
///   `kube-system/kube-dns` themselves;
/// - the steps are `ManifestPlan`'s: every workload and bare pod to every pod port, to every
///   Service port, and a DNS query per source pod and Service name, all expecting the model.
public enum ManifestLoader {
    /// `objects` with their containers' commands dropped, and how many pods or templates had some:
    /// images are not run in a lab from manifests (keycard serves their declared ports itself).
    /// A live `apply` to such a lab drops them too, so re-applying its own files changes nothing.
    public static func withoutCommands(_ objects: [LoadedObject]) -> (objects: [LoadedObject], dropped: Int) {
        var dropped = 0
        let objects = objects.map { loaded in
            var loaded = loaded
            switch loaded.object {
            case .pod(var pod) where !pod.commands.isEmpty:
                pod.commands = []
                dropped += 1
                loaded.object = .pod(pod)
            case .workload(var workload) where !workload.template.commands.isEmpty:
                workload.template.commands = []
                dropped += 1
                loaded.object = .workload(workload)
            default: break
            }
            return loaded
        }
        return (objects, dropped)
    }

    /// The paths of `paths` that are read as plain manifests, together (`isManifests`), and with
    /// them any file that holds no YAML content: kubectl reads an empty file as no object
    /// (`StreamVisitor` stops at end of input), as keycard reads one in a folder. Alone (no
    /// manifests beside it) such a file is left to the scenario loader, which refuses it: it
    /// cannot be a scenario, and kubectl refuses a command given no object.
    public static func manifestPaths(_ paths: [String]) -> [String] {
        let manifests = paths.filter(isManifests)
        guard !manifests.isEmpty else { return [] }
        return paths.filter { manifests.contains($0) || holdsNoContent($0) }
    }

    /// Whether `path` is a file that reads as only empty documents (an empty file, blank lines,
    /// comments, `---`).
    static func holdsNoContent(_ path: String) -> Bool {
        guard let text = try? ScenarioLoader.readText(path, at: SourceLocation.start(of: path)) else { return false }
        do {
            return try YAMLDocuments.firstDocument(text, file: path) == nil
        } catch {
            return false
        }
    }

    /// True when `path` is a folder, or a file whose first document is not a keycard scenario,
    /// `ScenarioLoader.isScenario` (a wrongly versioned `Scenario` is one, which the scenario
    /// parser then refuses; a scalar or a list is not one: `timeline` then says what a manifest
    /// document must be).
    public static func isManifests(_ path: String) -> Bool {
        if !ScenarioLoader.readsStandardInput(path) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return false }
            if isDirectory.boolValue { return true }
        }
        guard let text = try? ScenarioLoader.readText(path, at: SourceLocation.start(of: path)),
            let first = try? YAMLDocuments.firstDocument(text, file: path)
        else { return false }
        guard case .mapping = first.node else { return true }
        guard let entries = try? first.entries("a document") else { return false }
        let apiVersion = entries.first { $0.key == "apiVersion" }.flatMap { try? $0.value.string("apiVersion") }
        let kind = entries.first { $0.key == "kind" }.flatMap { try? $0.value.string("kind") }
        return !ScenarioLoader.isScenario(kind: kind, apiVersion: apiVersion)
    }

    /// The files `paths` stand for: each file as given, each folder's `.yaml`/`.yml`/`.json` files in
    /// name order, byte by byte as kubectl sorts them (`byteOrder`; the extensions `kubectl apply -f
    /// DIR` reads, cli-runtime's `FileExtensions`). Links are taken as kubectl's
    /// `ExpandPathsToFileVisitors` takes them, through `filepath.Walk`, which does not follow them
    /// (`os.Lstat`): a path that is a link (to a folder too) is a file, read through the link, so a
    /// link to a folder is refused when it is read, as kubectl's read fails ("is a directory"),
    /// unless the path ends in `/`; in a folder, a sub-folder is skipped (no `-R`) and a link
    /// with a manifest extension is a file, whatever it leads to. No link is followed into a
    /// folder, so a link loop cannot hang the walk.
    public static func files(_ paths: [String]) throws(ScenarioError) -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            let here = SourceLocation.start(of: path)
            if ScenarioLoader.readsStandardInput(path) {
                files.append(path)
                continue
            }
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ScenarioError(here, "no such file or folder: \(path)")
            }
            guard isDirectory.boolValue, !isLink(path) else {
                files.append(path)
                continue
            }
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: path)
            } catch {
                throw ScenarioError(here, "cannot read folder \(path): \(error.localizedDescription)")
            }
            // A sub-folder is skipped even when its name ends in .yaml (kubectl's visitor without -R);
            // a link is not followed here: it stays, and a dangling one, or one to a folder, is
            // reported at its own path when it is read.
            let yaml = names.filter { name in
                let full = (path as NSString).appendingPathComponent(name)
                let type = (try? FileManager.default.attributesOfItem(atPath: full))?[.type] as? FileAttributeType
                return [".yaml", ".yml", ".json"].contains { name.hasSuffix($0) } && type != .typeDirectory
            }.sorted(by: byteOrder)
            if yaml.isEmpty { throw ScenarioError(here, "folder \(path) holds no .yaml, .yml or .json file") }
            files += yaml.map { (path as NSString).appendingPathComponent($0) }
        }
        return files
    }

    /// Whether `path` itself is a symbolic link (`os.Lstat`: a trailing `/` follows it).
    static func isLink(_ path: String) -> Bool {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType == .typeSymbolicLink
    }

    /// kubectl's order of a folder's files: `filepath.Walk` sorts names with `sort.Strings`, byte by
    /// byte of their UTF-8; Swift's `<` on `String` compares them canonically (a decomposed `é`,
    /// `e` + U+0301, would sort after `f`, where kubectl reads it before).
    static func byteOrder(_ lhs: String, _ rhs: String) -> Bool { lhs.utf8.lexicographicallyPrecedes(rhs.utf8) }

    /// The timeline of the manifests at `paths`: resources, then `ManifestPlan`'s steps. `name`
    /// names the lab (default: from the first path); `dns: false` leaves cluster DNS out; `mesh`
    /// enrols the manifests' namespaces in the mesh (`enrol(_:in:)`); `cellLimit` says whether an
    /// implicit probe step over `ResolvedProbe.maximumCells` is refused or only warned about.
    public static func timeline(
        _ paths: [String], namespace: String? = nil, name: String? = nil, dns: Bool = true, mesh: DataPlane? = nil,
        cellLimit: CellLimit = .refuse
    ) throws(ScenarioError) -> Timeline {
        guard let firstPath = paths.first else {
            throw ScenarioError(SourceLocation.start(of: "-"), "no manifest file or folder given")
        }
        let start = SourceLocation.start(of: firstPath)
        if let namespace, let problem = NameRules.dns1123LabelProblem(namespace) {
            throw ScenarioError(start, "namespace \"\(namespace)\" \(problem)")
        }
        var decoder = ObjectDecoder()
        decoder.runsPrograms = false
        decoder.namespace = namespace
        decoder.skippedKinds = [:]
        var objects: [LoadedObject] = []
        let inputFiles = try files(paths)
        for file in inputFiles {
            // A file of a folder that cannot be read is reported at that file, not at the folder.
            let (text, replaced) = try ScenarioLoader.readTextNoting(file, at: SourceLocation.start(of: file))
            if let replaced { decoder.warnings.append(replaced) }
            for document in try YAMLDocuments.parse(text, file: file, warnings: &decoder.warnings) {
                try requireObject(document)
                objects += try decoder.decode(document)
            }
        }
        var warnings = decoder.warnings
        // The documents are applied in batches (`batches`), a repeated object updating the earlier
        // one through `ClusterChange` as a second `kubectl apply`; `objects` is each object once, in
        // the place it first appears, for what asks which objects exist.
        var applyBatches = batches(objects)
        objects = reapplied(objects, warnings: &warnings)
        if !decoder.ownedObjects.isEmpty {
            let count = decoder.ownedObjects.count
            let shown = decoder.ownedObjects.prefix(5).joined(separator: ", ") + (count > 5 ? " and \(count - 5) more" : "")
            warnings.append(
                ScenarioWarning(
                    location: start,
                    message:
                        "skipped \(count) object\(count == 1 ? " that names" : "s that name") an owner (metadata.ownerReferences, as kubectl get -o yaml prints them): the garbage collector deletes them where the owner's uid does not exist, and their controllers (if given) make their own: \(shown)"
                ))
        }
        if let skipped = decoder.skippedKinds, !skipped.isEmpty {
            let total = skipped.values.reduce(0, +)
            let kinds = skipped.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
            warnings.append(
                ScenarioWarning(
                    location: decoder.firstSkipped ?? start,
                    message: "skipped \(total) object\(total == 1 ? "" : "s") keycard does not run: \(kinds)"))
        }
        // Namespaces used but not declared are created first, as `kubectl create namespace` would.
        let declared = Set(
            objects.compactMap { loaded -> String? in
                if case .namespace(let namespace) = loaded.object { return namespace.name }
                return nil
            })
        var created: [LoadedObject] = []
        for loaded in objects {
            guard let used = loaded.object.ref.namespace, !declared.contains(used), !Timeline.builtinNamespaces.contains(used),
                !created.contains(where: { $0.object.ref.name == used })
            else { continue }
            created.append(LoadedObject(.namespace(Namespace(name: used)), at: loaded.location))
        }
        // Container images are not available in the lab: their commands are not run, and keycard
        // serves each declared port itself.
        let withCommands: Int
        (objects, withCommands) = Self.withoutCommands(objects)
        applyBatches = applyBatches.map { Self.withoutCommands($0).objects }
        if withCommands > 0 {
            warnings.append(
                ScenarioWarning(
                    location: start,
                    message:
                        "\(counted(withCommands, "pod or template", "pods or templates")) name\(withCommands == 1 ? "s" : "") container commands; images are not run in the lab: keycard serves their declared ports itself"
                ))
        }
        let enrolled = enrol([created + applyBatches[0]] + applyBatches.dropFirst(), in: mesh)
        var sources: [ProbeRef] = []
        for loaded in objects {
            switch loaded.object {
            case .workload(let workload): sources.append(.workload(workload.key))
            case .pod(let pod): sources.append(.endpoint(.pod(pod.key)))
            default: continue
            }
        }
        // Cluster DNS runs unless the manifests bring their own kube-system/kube-dns.
        let ownDNS = objects.contains { loaded in
            switch loaded.object {
            case .service(let service): service.key == ClusterDNS.serviceKey
            case .pod(let pod): pod.key == ClusterDNS.podKey
            default: false
            }
        }
        if ownDNS && dns {
            warnings.append(
                ScenarioWarning(
                    location: start,
                    message: "the manifests define \(ClusterDNS.serviceKey) or \(ClusterDNS.podKey): keycard's cluster DNS is off"))
        }
        var lab = LabSettings(podCIDR: LabSettings.defaultPodCIDR)
        if dns && !ownDNS { lab.dnsLocation = start }
        lab.serviceCIDR = try serviceCIDR(for: Array(applyBatches.joined()))
        if lab.serviceCIDR != ServiceAddresses.defaultCIDR {
            warnings.append(
                ScenarioWarning(
                    location: start,
                    message:
                        "the Services' clusterIPs lie outside \(ServiceAddresses.defaultCIDR): the lab's service CIDR is \(lab.serviceCIDR), kubeadm's and minikube's default service subnet"
                ))
        }
        var scenario = Scenario(
            file: firstPath, name: name ?? labName(for: firstPath), description: "manifests: \(paths.joined(separator: " "))",
            lab: lab, externals: [], resources: enrolled[0], probeDefaults: ProbeSettings(), steps: [], warnings: [])
        scenario.resourceUpdates = Array(enrolled.dropFirst())
        // Istio objects among the manifests make the reports carry the mesh (mesh.md 2.5).
        scenario.mentionsMesh = decoder.sawMeshObject
        // The plan needs the pods and Services the resources make: play them once without steps.
        // A refused update (`ValidatePodUpdate`, a workload's immutable selector, a Service's
        // immutable clusterIP...) is refused here, at the later document.
        let bare = try Timeline(scenario)
        // A pod the scheduler keeps Pending (its node port is taken, `NodePortsScheduler`) runs
        // nowhere: no source (its warning says so), as a workload none of whose pods runs.
        sources = sources.filter { !ManifestPlan.sourcePods([$0], bare.initial).isEmpty }
        // A bare pod a ReplicaSet adopted is one of the workload's replicas: its source stands for it.
        sources.removeAll { if case .endpoint(.pod(let key)) = $0 { bare.initial.pods[key]?.owner != nil } else { false } }
        let plan = ManifestPlan.steps(
            bare.initial, sources: sources, at: start, dns: lab.dns, handWrittenEndpoints: decoder.handWrittenEndpoints
        ) { bare.dnsModel($0, atStep: 0) }
        scenario.foreignPolicies = decoder.foreignPolicies
        scenario.handWrittenEndpoints = decoder.handWrittenEndpoints
        scenario.fromManifests = true
        scenario.inputFiles = inputFiles
        scenario.steps = plan.steps
        scenario.warnings = warnings + plan.warnings
        return try Timeline(scenario, cellLimit: cellLimit)
    }

    /// A document that is a scalar or a list is no object: refused as kubectl refuses it, saying
    /// what a document must be. kubectl decodes each document with apimachinery's
    /// `unstructuredJSONScheme.decode`, whose first step unmarshals it into a struct: a list (a
    /// file that is a JSON array `[{...}, {...}]` too, which kubectl reads as YAML, its first
    /// character not being `{`) fails there ("cannot unmarshal array into Go value of type
    /// unstructured.detector"), as does a scalar. An empty document is nothing.
    static func requireObject(_ document: YAMLValue) throws(ScenarioError) {
        let found: String
        let goType: String
        switch document.node {
        case .mapping: return
        case .scalar where document.isNull: return
        case .scalar:
            found = "a scalar"
            goType = document.tagName == .str ? "string" : document.tagName == .bool ? "bool" : "number"
        case .sequence:
            found = "a list"
            goType = "array"
        case .alias:
            found = "an alias"
            goType = "value"
        }
        throw document.error(
            "a manifest document must be a Kubernetes object, a mapping with apiVersion and kind, found \(found) (kubectl: cannot unmarshal \(goType) into Go value of type unstructured.detector); a list of objects is written as kind: List with items, or as documents separated by ---"
        )
    }

    /// Each object once, in the place its first document has, as its last document writes it: what
    /// exists, for the sources, the namespaces to create and the Service CIDR. What the cluster
    /// stores is not this: a later document configures the earlier object as a second `kubectl
    /// apply` does (`batches`, played by `Timeline` through `ClusterChange`). One warning counts them.
    static func reapplied(_ objects: [LoadedObject], warnings: inout [ScenarioWarning]) -> [LoadedObject] {
        var index: [ObjectRef: Int] = [:]
        var result: [LoadedObject] = []
        var again: [String] = []
        for loaded in objects {
            if let earlier = index[loaded.object.ref] {
                result[earlier] = loaded
                again.append("\(loaded.object.ref) at \(loaded.location)")
            } else {
                index[loaded.object.ref] = result.count
                result.append(loaded)
            }
        }
        if let first = again.first, let location = objects.first?.location {
            warnings.append(
                ScenarioWarning(
                    location: location,
                    message:
                        "\(again.count) object\(again.count == 1 ? " is" : "s are") applied again, the later document configuring the earlier (as kubectl apply): \(first)\(again.count > 1 ? ", ..." : "")"
                ))
        }
        return result
    }

    /// kubeadm's (and minikube's) default service subnet, 10.96.0.0/12 (kubeadm's
    /// `DefaultServicesSubnet`); `ServiceAddresses.defaultCIDR`, 10.96.0.0/16, is kind's.
    static let kubeadmServiceCIDR = CIDR.ipv4(IPv4(0x0A60_0000), 12)

    /// How a manifests folder gets lab settings it cannot write: a scenario that wraps its files.
    /// How to give manifests a lab setting they cannot carry. A scenario runs the containers'
    /// `command:` programs on this machine (manifests mode drops them): said, since published
    /// manifests' commands were written for their images.
    static let wrapRemedy =
        "write a scenario with spec.lab.%@ and resources: [{file: PATH}, ...] naming these files (a scenario runs their containers' commands, as root in the pods' namespaces, and a run fails on one that is no program of this machine; manifests mode drops them)"

    /// The service CIDR for manifests whose Services may pin clusterIPs (`kubectl get -o yaml`
    /// dumps do): 10.96.0.0/16 when every pinned address lies inside it (not its network or
    /// broadcast address), else kubeadm's 10.96.0.0/12 when they all lie inside that, else refused.
    /// Which addresses are free is `ClusterChange`'s to judge.
    /// - Throws: `ScenarioError` at the first clusterIP outside both, saying how to set the CIDR.
    static func serviceCIDR(for objects: [LoadedObject]) throws(ScenarioError) -> CIDR {
        let pinned = objects.compactMap { loaded -> (Service, IPv4, SourceLocation)? in
            guard case .service(let service) = loaded.object, case .ip(let ip) = service.address else { return nil }
            return (service, ip, loaded.fieldLocations[ObjectDecoder.clusterIPField] ?? loaded.location)
        }
        func firstOutside(_ cidr: CIDR) -> (Service, IPv4, SourceLocation)? {
            pinned.first { _, ip, _ in !cidr.contains(ip) || ip.value == cidr.network || ip.value == cidr.last }
        }
        guard firstOutside(ServiceAddresses.defaultCIDR) != nil else { return ServiceAddresses.defaultCIDR }
        guard let (service, ip, location) = firstOutside(kubeadmServiceCIDR) else { return kubeadmServiceCIDR }
        let verb = kubeadmServiceCIDR.contains(ip) ? "can be allocated from neither" : "is inside neither"
        let why = kubeadmServiceCIDR.contains(ip) ? " (a range's network and broadcast addresses never are)" : ""
        throw ScenarioError(
            location,
            "Service \(service.key): clusterIP \(ip) \(verb) \(ServiceAddresses.defaultCIDR) (kind's service CIDR) nor \(kubeadmServiceCIDR) (kubeadm's), the service CIDRs manifests mode chooses from\(why): to model the cluster's own (its --service-cluster-ip-range), "
                + wrapRemedy.replacingOccurrences(of: "%@", with: "serviceCIDR"))
    }

    /// The documents as `kubectl apply` sends them, one after another, cut into batches in which
    /// no object appears twice: a new batch starts at the document that repeats an object of the
    /// current one. One batch is all there is unless some object is repeated. The first batch is
    /// the scenario's resources, each later one a `Scenario.resourceUpdates` batch: the update
    /// rules of `ClusterChange` (the one home of `kubectl apply`'s rules, for apply steps and live
    /// applies too) make what the cluster stores — a NetworkPolicy's retained policyTypes, a
    /// Service's kept clusterIP and node ports, a Job's stored completions — and refuse what the
    /// API server refuses, at the later document.
    static func batches(_ objects: [LoadedObject]) -> [[LoadedObject]] {
        var result: [[LoadedObject]] = [[]]
        var current: Set<ObjectRef> = []
        for loaded in objects {
            if !current.insert(loaded.object.ref).inserted {
                result.append([])
                current = [loaded.object.ref]
            }
            result[result.count - 1].append(loaded)
        }
        return result
    }

    /// Labels every namespace the manifests' pods and workloads live in for `mesh`, as Istio's
    /// install tasks do before deploying an application (`kubectl label namespace NS
    /// istio-injection=enabled`, or `istio.io/dataplane-mode=ambient`; spec mesh.md R1, R3): a
    /// declared namespace gets the label unless it carries an injection or data-plane label of its
    /// own (an explicit opt-out stays), in every batch that declares it; one only used (`default`,
    /// say) is declared with it first, at the head of the first batch. Namespaces Istio never
    /// meshes (kube-system, ...) are left alone.
    static func enrol(_ batches: [[LoadedObject]], in mesh: DataPlane?) -> [[LoadedObject]] {
        guard let mesh, mesh != .none else { return batches }
        let own = [Pod.MeshLabel.injection, Pod.MeshLabel.dataplaneMode, Pod.MeshLabel.revision]
        func enrolled(_ namespace: Namespace) -> Namespace {
            guard !own.contains(where: { namespace.labels[$0] != nil }) else { return namespace }
            var labels = namespace.labels
            if mesh == .sidecar { labels[Pod.MeshLabel.injection] = "enabled" } else { labels[Pod.MeshLabel.dataplaneMode] = "ambient" }
            var copy = namespace
            copy.setLabels(labels)
            return copy
        }
        var declared: Set<String> = []
        var result = batches.map { batch in
            batch.map { loaded -> LoadedObject in
                guard case .namespace(let namespace) = loaded.object, !Pod.meshIgnoredNamespaces.contains(namespace.name) else {
                    return loaded
                }
                declared.insert(namespace.name)
                var copy = loaded
                copy.object = .namespace(enrolled(namespace))
                return copy
            }
        }
        var added: [LoadedObject] = []
        for loaded in batches.joined() {
            switch loaded.object {
            case .pod, .workload: break
            default: continue
            }
            guard let used = loaded.object.ref.namespace, !Pod.meshIgnoredNamespaces.contains(used), declared.insert(used).inserted
            else { continue }
            added.append(LoadedObject(.namespace(enrolled(Namespace(name: used))), at: loaded.location))
        }
        result[0].insert(contentsOf: added, at: 0)
        return result
    }

    /// The lab name for manifests at `path`: its file or folder name (a relative path such as `.`
    /// or `..` is resolved first), lower-cased, other characters than letters and digits as `-`,
    /// at most 24 characters; `manifests` when nothing is left.
    public static func labName(for path: String) -> String {
        let last = URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent
        var base = (last as NSString).deletingPathExtension.lowercased()
        base = String(base.map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "-" })
        while base.hasPrefix("-") { base.removeFirst() }
        var name = String(base.prefix(24))
        while name.hasSuffix("-") { name.removeLast() }
        return name.isEmpty ? "manifests" : name
    }
}
