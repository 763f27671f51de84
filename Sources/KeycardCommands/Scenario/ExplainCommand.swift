import ArgumentParser
import KeycardModel
import KeycardScenario
import KeycardValues

/// `keycard explain FILE --from x/a --to y/b --port TCP/80`: the verdict and why.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain the model's verdict for one connection: which policies isolate each side, which rule allows.",
        discussion:
            "Without --after-step the state after the last step is explained; --after-step 0 means after the resources. Plain manifests (files or folders) are one cluster, as for keycard model; -n and --mesh read them as there."
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "A scenario file, or plain Kubernetes manifests (files or folders) as one cluster.") var files: [String]
    @OptionGroup var manifests: ManifestOptions
    @Option(
        help:
            "Source: a pod as namespace/name, a workload as namespace/KIND/name (deployment, statefulset, daemonset, ...: its first replica), external/NAME (from outside the cluster) or node/NAME (a lab node)."
    ) var from: String
    @Option(
        help:
            "Destination: namespace/name, namespace/KIND/name (a workload's first replica), external/NAME, svc/namespace/name (each backend), or from an external svc/namespace/name@node-N (a node port) or @lb (the load balancer)."
    ) var to: String
    @Option(help: "PROTOCOL/PORT, like TCP/80.") var port: String
    @Option(help: "Explain the state after this step (0: after the resources).") var afterStep: Int?
    @Option(help: "What the source presents: mesh (default), none, spoofed=spiffe://..., stolen=spiffe://...") var identity: String?
    @Option(help: "service (default) or pod-ip (R15: a sidecar sends pod-IP calls in plaintext).") var via: String?
    @Option(help: "HTTP method of the request (HTTP ports; default GET).") var httpMethod: String?
    @Option(help: "HTTP path of the request (default /).") var httpPath: String?
    @Option(help: "HTTP Host header (default <pod>.<namespace>[:port]).") var httpHost: String?
    @Option(name: .shortAndLong, help: "table or json.") var output: OutputFormat = .table

    func validate() throws {
        guard ObjectKey.parse(from) != nil || WorkloadKey.parse(from) != nil else {
            throw ValidationError(
                "--from must be a pod as namespace/name, a workload as namespace/KIND/name (namespace/deployment/web), an external as external/NAME or a lab node as node/NAME"
            )
        }
        guard Endpoint.parse(to) != nil || WorkloadKey.parse(to) != nil else {
            throw ValidationError("--to must be namespace/name, namespace/KIND/name (a workload), external/NAME or svc/namespace/name")
        }
        guard ProtocolPort.parse(port) != nil else { throw ValidationError("--port must be like TCP/80, UDP/53 or SCTP/9") }
        _ = try meshRequest()
    }

    /// For a workload reference (`ns/deployment/web`), its first replica after `step`, named on
    /// stderr (replicas of one template differ only where a policy selects a pod's own name, as a
    /// StatefulSet's `statefulset.kubernetes.io/pod-name`); nil for anything else.
    static func replica(_ text: String, in cluster: Cluster, step: Int) throws -> ObjectKey? {
        guard let workload = WorkloadKey.parse(text) else { return nil }
        guard let first = cluster.pods(of: workload).first else {
            Console.error("\(workload) has no pod after step \(step)")
            throw Exit.invalid
        }
        Console.error("\(workload): explaining its replica \(first.key)")
        return first.key
    }

    /// The mesh request the options describe (spec mesh.md 2.4).
    func meshRequest() throws -> MeshRequest {
        var request = MeshRequest()
        switch identity {
        case nil, "mesh": break
        case "none": request.identity = .none
        case let text? where text.hasPrefix("spoofed=spiffe://"): request.identity = .spoofed(String(text.dropFirst("spoofed=".count)))
        case let text? where text.hasPrefix("stolen=spiffe://"): request.identity = .stolen(String(text.dropFirst("stolen=".count)))
        default: throw ValidationError("--identity must be mesh, none, spoofed=spiffe://... or stolen=spiffe://...")
        }
        if let via {
            guard let route = ProbeRoute(rawValue: via) else { throw ValidationError("--via must be service or pod-ip") }
            request.route = route
        }
        if let httpMethod, let reason = HTTPRequest.unsupportedMethodReason(httpMethod) {
            throw ValidationError("--http-method \(httpMethod): \(reason)")
        }
        if httpMethod != nil || httpPath != nil || httpHost != nil {
            request.http = HTTPRequest(method: httpMethod ?? "GET", path: httpPath ?? "/", host: httpHost)
        }
        return request
    }

    func run() throws {
        logging.apply()
        // One cluster state is read, never a probe step's cells: a step over the cell limit only warns.
        let timeline = try ScenarioInput.loadOne(files, manifests, for: "explain", cellLimit: .warn)
        let steps = timeline.scenario.steps.count
        let step = try ScenarioInput.step(afterStep, of: timeline)
        let cluster = timeline.cluster(afterStep: step)
        // validate() has checked all three parse.
        guard
            let source = try Self.replica(from, in: cluster, step: step).map({ ObjectKey($0.namespace, $0.name) }) ?? ObjectKey.parse(from),
            let destination = try Self.replica(to, in: cluster, step: step).map({ Endpoint.pod($0) }) ?? Endpoint.parse(to),
            let port = ProtocolPort.parse(port)
        else {
            throw Exit.invalid
        }
        guard cluster.hasSource(source) else {
            switch cluster.source(source) {
            case .external(let name): Console.error("external \(name) is not declared")
            case .node(let name): Console.error("the lab has no node \(name) (spec.lab.nodes)")
            default: Console.error("pod \(source) does not exist after step \(step)")
            }
            throw Exit.invalid
        }
        switch destination {
        case .pod(let key) where cluster.pods[key] == nil:
            Console.error("pod \(key) does not exist after step \(step)")
            throw Exit.invalid
        case .external(let name) where cluster.externals[name] == nil:
            Console.error("external \(name) is not declared")
            throw Exit.invalid
        case .exposed(let key, let entry, _) where cluster.services[key]?.servesNodePorts != true || !cluster.source(source).isExternal:
            Console.error(
                "svc/\(key)@\(entry): only externals are explained through a node port or load balancer, to a NodePort or LoadBalancer Service with node ports"
            )
            throw Exit.invalid
        case .service(let key, _) where cluster.services[key]?.clusterIP == nil:
            Console.error("Service \(key) does not exist after step \(step) or has no ClusterIP")
            throw Exit.invalid
        default: break
        }
        // A Service is explained once per backend: each is its own connection after translation.
        let targets = Timeline.aimed(destination, port, cluster, from: source)
        if targets.isEmpty {
            Console.error("Service \(destination) has no port \(port)")
            throw Exit.invalid
        }
        let request = timeline.usesMesh ? try meshRequest() : nil
        if let request {
            // The scenario parser's checks (one home, MeshSettings), against the scenario's trust domain.
            let problem: String? =
                switch request.identity {
                case .stolen(let uri): cluster.mesh.stolenIdentityProblem(uri, field: "--identity stolen=URI")
                case .spoofed(let uri): MeshSettings.spoofedIdentityProblem(uri, field: "--identity spoofed=URI")
                case .mesh, .none: nil
                }
            if let problem {
                Console.error(problem)
                throw Exit.invalid
            }
            if request.route == .podIP, destination.serviceKey != nil {
                Console.error("--via pod-ip names a pod address: probe the Service's pods, or drop --via")
                throw Exit.invalid
            }
            if request.http != nil, let problem = cluster.httpProblem(targets, port: port) {
                Console.error(problem)
                throw Exit.invalid
            }
        }
        let explanations = targets.map { target in
            let mesh = request.map { MeshEngine(cluster).evaluate(from: source, to: target, port: port, request: $0) }
            let verdict = PolicyEngine(cluster).evaluate(fromSource: source, to: target, port: port, mesh: mesh)
            var explanation = Explanation(verdict, cluster: cluster, afterStep: step, of: steps)
            if let pod = mesh?.tunnel {
                explanation.describeTunnel(
                    to: pod, asked: target, port: port, inside: cluster.meshTarget(of: target, port: port)?.port ?? port)
            }
            if case .exposed(let key, let entry, let backend) = target {
                explanation.describePath(cluster.exposedPath(key, entry, backend: backend, port: port), entry: entry)
            }
            if case .service(let key, let backend) = target {
                explanation.describeClusterIPPath(
                    cluster, from: cluster.source(source), key, backend: backend, port: port,
                    enforcement: mesh?.sourceProxied == true ? .postDNAT : cluster.serviceEnforcement)
            }
            if let mesh {
                explanation.addMesh(mesh, networkDecision: verdict.decision)
            }
            return explanation
        }
        switch output {
        case .json: if explanations.count == 1 { try Console.json(explanations[0]) } else { try Console.json(explanations) }
        case .table: Console.out(explanations.map(\.text).joined(separator: "\n"))
        }
    }
}
