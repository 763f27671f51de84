import Foundation
import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// Services without a selector whose endpoints Kubernetes takes from EndpointSlices or Endpoints
/// written by hand (https://kubernetes.io/docs/concepts/services-networking/service/#services-without-selectors),
/// and `default/kubernetes` as a `kubectl get svc -o yaml` dump holds it. keycard does not read
/// those objects, so it cannot say where such a connection goes: its cells are not judged
/// (skipped, with the reason), where they used to be asserted dropped.
@Suite("Services with hand-written endpoints")
struct HandWrittenEndpointsTests {
    /// A scenario with a selectorless Service `x/ext-db`, `endpoints` (YAML items), a pod `x/db`
    /// and a client probing the Service.
    static func scenario(_ endpoints: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: hc-ep}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
            - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: x, labels: {app: db}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: x}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: ext-db, namespace: x}, spec: {ports: [{port: 5432}]}}
        \(endpoints)
          steps:
            - probe: {from: [x/client], to: [svc/x/ext-db]}
        """
    }

    static func serviceCells(_ text: String) throws -> [ProbeCell] {
        let timeline = try ScenarioLoader.parseTimeline(text, file: "ep.yaml")
        return timeline.cells(ofProbeStep: 1).filter { $0.to.serviceKey == ObjectKey("x", "ext-db") }
    }

    @Test func anEndpointSliceLeavesTheServiceUnjudged() throws {
        let cells = try Self.serviceCells(
            Self.scenario(
                """
                    - apiVersion: discovery.k8s.io/v1
                      kind: EndpointSlice
                      metadata: {name: ext-db-1, namespace: x, labels: {kubernetes.io/service-name: ext-db}}
                      addressType: IPv4
                      endpoints: [{addresses: [10.244.0.1]}]
                      ports: [{port: 5432}]
                """))
        let cell = try #require(cells.first)
        #expect(cells.count == 1)
        #expect(cell.unjudgedReason == "the Service's endpoints are written by hand (EndpointSlice ext-db-1), which keycard does not read")
        #expect(cell.expected == .ignored)
        #expect(cell.skipReason == cell.unjudgedReason)
        let result = cell.result()
        #expect(result.expected == .ignored)
        #expect(result.reason == cell.unjudgedReason)
    }

    /// `dns` steps whose name CoreDNS answers from hand-written EndpointSlices
    /// (plugin/kubernetes/object/endpoint.go): a headless Service's name and every endpoint name
    /// under either kind are not judged, with the probes' reason, and any expectation passes (a
    /// correct `[10.244.0.50]` had been refused against a modelled nxdomain). A ClusterIP Service's
    /// own name stays judged (its ClusterIP), as does a query policy drops.
    @Test func dnsNamesFromHandWrittenEndpointsAreNotJudged() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: hc-ep-dns}
            spec:
              lab: {dns: true}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
                - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: a, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: ext, namespace: a}, spec: {clusterIP: None, ports: [{name: pg, port: 5432}]}}
                - {apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: ext-1, namespace: a, labels: {kubernetes.io/service-name: ext}}, addressType: IPv4, endpoints: [{addresses: [10.244.0.50], hostname: primary}]}
                - {apiVersion: v1, kind: Service, metadata: {name: extc, namespace: a}, spec: {ports: [{name: pg, port: 5432}]}}
                - {apiVersion: v1, kind: Endpoints, metadata: {name: extc, namespace: a}, subsets: [{addresses: [{ip: 10.244.0.50}], ports: [{name: pg, port: 5432}]}]}
                - {apiVersion: v1, kind: Service, metadata: {name: alias, namespace: a}, spec: {type: ExternalName, externalName: ext.a.svc.cluster.local}}
              steps:
                - {dns: {from: a/client, name: ext}, expect: [10.244.0.50]}
                - dns: {from: a/client, name: primary.ext}
                - dns: {from: a/client, name: 10-244-0-50.extc.a.svc.cluster.local.}
                - dns: {from: a/client, name: alias}
                - dns: {from: a/client, name: extc}
                - apply:
                    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: a}, spec: {podSelector: {}, policyTypes: [Egress]}}
                - dns: {from: a/client, name: ext}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "ep-dns.yaml")
        let report = ModelReport.build(timeline)
        let results = report.steps.compactMap { step -> DNSResult? in
            if case .dns(let result) = step.results?.first { return result }
            return nil
        }
        #expect(results.count == 6)
        #expect(report.passed)
        let slice = "the Service's endpoints are written by hand (EndpointSlice ext-1), which keycard does not read"
        let endpoints = "the Service's endpoints are written by hand (Endpoints extc), which keycard does not read"
        #expect(results.map(\.reason) == [slice, slice, endpoints, slice, nil, nil])
        #expect(report.steps[0].skipReason == slice)
        #expect(results[4].model != .notFound && results[4].reason == nil)
        #expect(results[5].model == .blocked && results[5].reason == nil)
    }

    /// Manifests mode asks no name of a headless Service whose endpoints are written by hand:
    /// cluster DNS answers it with those addresses, which keycard does not read (it had asserted
    /// nxdomain). A selectorless Service with a ClusterIP keeps its step: its name is its ClusterIP.
    @Test func noDNSStepForAHeadlessServiceWithHandWrittenEndpoints() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-hw-dns-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let manifests = """
            apiVersion: v1
            kind: Pod
            metadata: {name: client}
            spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: extdb}
            spec: {clusterIP: None, ports: [{name: pg, port: 5432}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: extdb-1, labels: {kubernetes.io/service-name: extdb}}
            addressType: IPv4
            endpoints: [{addresses: [192.0.2.10]}]
            ports: [{name: pg, port: 5432}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: extdb2}
            spec: {ports: [{name: pg, port: 5432}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: extdb2}
            subsets: [{addresses: [{ip: 192.0.2.11}], ports: [{name: pg, port: 5432}]}]

            """
        try manifests.write(to: folder.appendingPathComponent("m.yaml"), atomically: true, encoding: .utf8)
        let timeline = try ManifestLoader.timeline([folder.path])
        let asked = timeline.scenario.steps.compactMap { step -> String? in
            if case .dns(let query) = step.action { return query.name }
            return nil
        }
        #expect(asked.contains("extdb2.default.svc.cluster.local"), "\(asked)")
        #expect(!asked.contains("extdb.default.svc.cluster.local"), "\(asked)")
    }

    /// An EndpointSlice or Endpoints object the API server refuses is refused at its field, never
    /// taken as the Service's endpoints (`ValidateEndpointSlice`, `ValidateEndpoints`).
    @Test(arguments: [
        (
            "{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: S_1, namespace: x, labels: {kubernetes.io/service-name: ext-db}}, addressType: IPv4, endpoints: [{addresses: [10.244.0.1]}]}",
            "EndpointSlice name \"S_1\""
        ),
        (
            "{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: s-1, namespace: x}, addressType: IPv9, endpoints: []}",
            "addressType: Unsupported value: \"IPv9\""
        ),
        (
            "{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: s-1, namespace: x}, addressType: IPv4, endpoints: [{addresses: [not-an-ip]}]}",
            "endpoints[0].addresses[0]: Invalid value: \"not-an-ip\": must be a valid IPv4 address"
        ),
        (
            "{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: s-1, namespace: x}, addressType: IPv4, endpoints: [{addresses: []}]}",
            "must have between 1 and 100 addresses"
        ),
        (
            "{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: s-1, namespace: x}, addressType: FQDN, ports: [{port: 5432, protocol: ICMP}]}",
            "ports[0].protocol: Unsupported value: \"ICMP\""
        ),
        (
            "{apiVersion: v1, kind: Endpoints, metadata: {name: ext-db, namespace: x}, subsets: [{addresses: [{ip: 10.244.0.999}], ports: [{port: 5432}]}]}",
            "subsets[0].addresses[0].ip: Invalid value: \"10.244.0.999\": must be a valid IP address"
        ),
        (
            "{apiVersion: v1, kind: Endpoints, metadata: {name: ext-db, namespace: x}, subsets: [{addresses: [{ip: 10.244.0.1}], ports: [{name: p}]}]}",
            "subsets[0].ports[0].port: Required value"
        ),
        (
            "{apiVersion: v1, kind: Endpoints, metadata: {name: ext-db, namespace: x}, subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{port: 5432}]}]}",
            "may not be in the loopback range"
        ),
        (
            "{apiVersion: v1, kind: Endpoints, metadata: {name: ext-db, namespace: x}, subsets: [{addresses: [{ip: 10.244.0.1}], ports: [{port: 5432}, {port: 5433}]}]}",
            "subsets[0].ports[0].name: Required value"
        ),
        (
            "{apiVersion: v1, kind: Endpoints, metadata: {name: ext-db, namespace: x}, subsets: [{ports: [{port: 5432}]}]}",
            "must specify `addresses` or `notReadyAddresses`"
        ),
        (
            "{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: s-1, namespace: x}, addressType: IPv4, ports: [{name: a, port: 1}, {name: a, port: 2}]}",
            "ports[1].name: Duplicate value: \"a\""
        ),
    ])
    func anInvalidOneIsRefused(_ object: String, _ message: String) throws {
        let error = try #require(throws: ScenarioError.self) { try Self.serviceCells(Self.scenario("    - " + object)) }
        #expect(error.message.contains(message), "\(error.message)")
        #expect(error.location.line == 10, "\(error.location)")
    }

    /// `netutils.ParseIPSloppy` takes an IPv4 octet with leading zeros: the API server stores it.
    @Test func aLeadingZeroOctetIsAnAddress() throws {
        let cells = try Self.serviceCells(
            Self.scenario(
                "    - {apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: s-1, namespace: x, labels: {kubernetes.io/service-name: ext-db}}, addressType: IPv4, endpoints: [{addresses: [010.244.0.1]}]}"
            ))
        #expect(cells.first?.unjudgedReason != nil)
    }

    @Test func anEndpointsObjectLeavesTheServiceUnjudged() throws {
        let cells = try Self.serviceCells(
            Self.scenario(
                """
                    - {apiVersion: v1, kind: Endpoints, metadata: {name: ext-db, namespace: x}, subsets: [{addresses: [{ip: 10.244.0.1}], ports: [{port: 5432}]}]}
                """))
        #expect(
            cells.map(\.unjudgedReason) == ["the Service's endpoints are written by hand (Endpoints ext-db), which keycard does not read"])
    }

    /// Without such an object (or with a slice for another Service) the Service has no endpoints
    /// in Kubernetes either: the cell stays judged, dropped with no path.
    @Test func withoutOneTheServiceHasNoEndpoints() throws {
        for endpoints in [
            "",
            """
                - apiVersion: discovery.k8s.io/v1
                  kind: EndpointSlice
                  metadata: {name: other-1, namespace: x, labels: {kubernetes.io/service-name: other}}
                  addressType: IPv4
                  endpoints: [{addresses: [10.244.0.1]}]
            """,
        ] {
            let cells = try Self.serviceCells(Self.scenario(endpoints))
            let cell = try #require(cells.first)
            #expect(cell.unjudgedReason == nil)
            #expect(cell.skipReason == nil)
            #expect(cell.verdict.hasNoPath && cell.outcome == .deny)
        }
    }

    /// `default/kubernetes` from a `kubectl get svc -o yaml` dump: its endpoint is the API server.
    @Test func theAPIServersServiceFromADumpIsUnjudged() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kc-hc-ep-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dump = """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Service
              metadata: {name: kubernetes, namespace: default, labels: {component: apiserver, provider: kubernetes}}
              spec: {clusterIP: 10.96.0.1, ports: [{name: https, port: 443, protocol: TCP, targetPort: 6443}], type: ClusterIP}
            - apiVersion: v1
              kind: Service
              metadata: {name: web, namespace: default}
              spec: {ports: [{name: http, port: 80, targetPort: 8080}], selector: {app: web}}
            - apiVersion: v1
              kind: Pod
              metadata: {name: web, namespace: default, labels: {app: web}}
              spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}
            """
        try dump.write(toFile: folder + "/dump.yaml", atomically: true, encoding: .utf8)
        let timeline = try ManifestLoader.timeline([folder])
        let cells = timeline.probes.keys.sorted().flatMap { timeline.cells(ofProbeStep: $0) }
        let api = cells.filter { $0.to.serviceKey == ObjectKey("default", "kubernetes") }
        let web = cells.filter { $0.to.serviceKey == ObjectKey("default", "web") }
        #expect(!api.isEmpty && !web.isEmpty)
        #expect(api.allSatisfy { $0.unjudgedReason?.hasPrefix("default/kubernetes is the API server's Service") == true })
        #expect(web.allSatisfy { $0.unjudgedReason == nil })
    }
    /// A Service with a selector and an EndpointSlice written by hand (labelled with its name, not
    /// managed by the EndpointSlice controller): kube-proxy and CoreDNS merge that slice's endpoints
    /// with the selected pods', so neither its connection cells nor a headless name's answer are
    /// judged (review: they were judged as if only the selected pods were endpoints). A slice the
    /// controller manages (a dump's) lists the selected pods: those stay judged.
    @Test func anUnmanagedSliceBesideASelectorLeavesTheServiceUnjudged() throws {
        func text(_ managedBy: String) -> String {
            """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: extra}
            spec:
              lab: {dns: true}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - {apiVersion: v1, kind: Pod, metadata: {name: w, namespace: x, labels: {app: w}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: cl, namespace: x}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: s, namespace: x}, spec: {selector: {app: w}, ports: [{name: web, port: 80, targetPort: 8080}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: h, namespace: x}, spec: {clusterIP: None, selector: {app: w}, ports: [{name: web, port: 80, targetPort: 8080}]}}
                - {apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: s-extra, namespace: x, labels: {kubernetes.io/service-name: s\(managedBy)}}, addressType: IPv4, ports: [{name: web, port: 8080, protocol: TCP}], endpoints: [{addresses: [192.0.2.50]}]}
                - {apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: h-extra, namespace: x, labels: {kubernetes.io/service-name: h\(managedBy)}}, addressType: IPv4, ports: [{name: web, port: 8080, protocol: TCP}], endpoints: [{addresses: [192.0.2.51]}]}
                - {apiVersion: v1, kind: Endpoints, metadata: {name: s, namespace: x}, subsets: [{addresses: [{ip: 192.0.2.52}], ports: [{name: web, port: 8080}]}]}
              steps:
                - probe: {from: [x/cl], to: [svc/x/s], ports: [TCP/80]}
                - dns: {from: x/cl, name: h}
            """
        }
        let timeline = try ScenarioLoader.parseTimeline(text(""), file: "extra.yaml")
        let cell = try #require(timeline.cells(ofProbeStep: 1).first)
        #expect(
            cell.unjudgedReason
                == "the Service's endpoints include an EndpointSlice written by hand (EndpointSlice s-extra), merged with the selected pods', which keycard does not read"
        )
        #expect(cell.expected == .ignored)
        let results = ModelReport.build(timeline).steps.compactMap { step -> DNSResult? in
            if case .dns(let result) = step.results?.first { return result }
            return nil
        }
        let dns = try #require(results.first)
        #expect(dns.reason?.contains("EndpointSlice h-extra") == true)

        let managed = try ScenarioLoader.parseTimeline(
            text(", endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io"), file: "managed.yaml")
        #expect(managed.cells(ofProbeStep: 1).allSatisfy { $0.unjudgedReason == nil })
        #expect(managed.dnsUnjudgedReason(DNSStep(from: ObjectKey("x", "cl"), name: "h", expect: nil), atStep: 2) == nil)
    }
}
