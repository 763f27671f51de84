import Foundation
import KeycardTestSupport
import Testing

/// Manifests mode through the built binary, as a user with only Kubernetes manifests sees it (no
/// root): the probe cell limit stops only the commands that judge cells, diff and graph leave
/// keycard's DNS pod out, explain and rules read manifests, and a document that is no object is
/// refused for what it is.
@Suite("manifests mode on the command line")
struct ManifestsCommandsTests {
    /// The oversized manifests without a policy: lint's pairwise passes then have nothing to note
    /// (the graph's denied edges are `ManifestCellLimitTests`').
    static let oversized = OversizedManifests.text(denyIngress: false)

    /// Two pods and a policy letting the client reach the web on TCP/80 (the review's F12 files).
    static let shop = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: shop, labels: {app: web}}
        spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80, name: http}]}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client, namespace: shop, labels: {app: client}}
        spec: {containers: [{name: c, image: busybox, ports: [{containerPort: 8080}]}]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: web}}
          ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 80}]}]

        """

    /// A fresh folder with `files` (name -> text), removed after `body`.
    private func withFolder(_ files: [String: String], _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-manifests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (name, text) in files {
            try text.write(toFile: (path as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try body(path)
    }

    /// check, lint, graph and diff read the cluster (a warning says the step is over the limit);
    /// model refuses it and says what a manifests user can do instead.
    @Test func theCellLimitStopsOnlyTheCommandsThatJudgeCells() throws {
        try withFolder(["cluster.yaml": Self.oversized]) { folder in
            let warning = "= 2008008 cells; keycard judges at most 1000000 in one probe step"
            let check = try KeycardBinary.run(["check", folder])
            #expect(check.status == 0, "\(check.stderr)")
            #expect(check.stdout.contains("\(folder): ok"), "\(check.stdout)")
            #expect(
                check.stderr.contains("warning: probe \"every workload to every pod, as the model says\" has 1002 sources"),
                "\(check.stderr)")
            let lint = try KeycardBinary.run(["lint", folder, "--fail-on", "none"])
            #expect(lint.status == 0, "\(lint.stderr)")
            #expect(lint.stderr.contains(warning))
            #expect(lint.stdout.contains("[unselected-pod] Pod shop/client"), "\(lint.stdout)")
            let graph = try KeycardBinary.run(["graph", folder])
            #expect(graph.status == 0, "\(graph.stderr)")
            #expect(graph.stdout.contains("\"shop/client[Pod]\" -> \"shop/web[Deployment]\""), "\(graph.stdout)")
            let diff = try KeycardBinary.run(["diff", folder, folder])
            #expect(diff.status == 0, "\(diff.stderr)")
            // An empty diff prints nothing, as np-guard's CLI.
            #expect(diff.stdout.isEmpty, "\(diff.stdout)")
            let model = try KeycardBinary.run(["model", folder])
            #expect(model.status == 2)
            #expect(model.stderr.contains(warning), "\(model.stderr)")
            #expect(!model.stderr.contains("name from, to or ports"), "\(model.stderr)")
            #expect(model.stderr.contains("write a scenario beside them that loads them (spec.resources: - file: PATH"), "\(model.stderr)")
        }
    }

    /// The review's F12: a policy isolates the client's ingress; the diff has that one row (the
    /// DNS pod's connection to the client is closed too, and is no row), and neither the diff nor
    /// the graph names kube-system/kube-dns-0. (A client that stops serving 8080 is no row: both
    /// sides judge the port, and no policy of either side denies it.)
    @Test func diffAndGraphLeaveKeycardsDNSPodOut() throws {
        let new =
            Self.shop
            + "---\n{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: client, namespace: shop}, spec: {podSelector: {matchLabels: {app: client}}, policyTypes: [Ingress]}}\n"
        let unserved = Self.shop.replacingOccurrences(of: "ports: [{containerPort: 8080}]", with: "ports: []")
        try withFolder(["old.yaml": Self.shop, "new.yaml": new, "unserved.yaml": unserved]) { folder in
            let old = (folder as NSString).appendingPathComponent("old.yaml")
            let diff = try KeycardBinary.run(["diff", old, (folder as NSString).appendingPathComponent("new.yaml")])
            #expect(diff.status == 0, "\(diff.stderr)")
            let rows = diff.stdout.split(separator: "\n").filter { $0.hasPrefix("diff-type:") }
            // TCP 80 too: manifests mode's probe step sends every declared port to every pod, and
            // the model judges web -> client TCP/80 (allowed, then denied).
            #expect(
                rows == [
                    "diff-type: removed, source: 0.0.0.0-255.255.255.255[External], destination: shop/client[Pod], dir1: TCP 8080, dir2: No Connections",
                    "diff-type: removed, source: shop/web[Pod], destination: shop/client[Pod], dir1: TCP 80,8080, dir2: No Connections",
                ],
                "\(diff.stdout)")
            let same = try KeycardBinary.run(["diff", old, (folder as NSString).appendingPathComponent("unserved.yaml")])
            #expect(same.status == 0 && same.stdout.isEmpty, "\(same.stdout)")
            let graph = try KeycardBinary.run(["graph", old])
            #expect(graph.status == 0, "\(graph.stderr)")
            #expect(graph.stdout.contains("shop/web[Pod]") && !graph.stdout.contains("kube-dns"), "\(graph.stdout)")
        }
    }

    /// In ambient mode a Service call is tunnelled to the backend's 15008; the proxy then reaches
    /// the Service's target port inside the pod, which explain names (it had named the Service port).
    @Test func explainNamesTheTargetPortInsideAnAmbientPod() throws {
        let service =
            "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}, ports: [{port: 8000, targetPort: http}]}\n"
        try withFolder(["shop.yaml": Self.shop + service]) { folder in
            let result = try KeycardBinary.run([
                "explain", "--mesh", "ambient", folder, "--from", "shop/client", "--to", "svc/shop/web", "--port", "TCP/8000",
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("the destination's proxy reaches TCP/80 inside the pod"), "\(result.stdout)")
        }
    }

    /// The review's F13b: explain and rules take a manifests file or folder, as model does.
    @Test func explainAndRulesReadManifests() throws {
        try withFolder(["shop.yaml": Self.shop]) { folder in
            let file = (folder as NSString).appendingPathComponent("shop.yaml")
            for path in [file, folder] {
                let allowed = try KeycardBinary.run(["explain", path, "--from", "shop/client", "--to", "shop/web", "--port", "TCP/80"])
                #expect(allowed.status == 0, "\(allowed.stderr)")
                #expect(allowed.stdout.contains("ALLOW"), "\(allowed.stdout)")
                #expect(allowed.stdout.contains("shop/web"), "\(allowed.stdout)")
                let denied = try KeycardBinary.run([
                    "explain", path, "--from", "shop/web", "--to", "shop/web", "--port", "TCP/80", "-o", "json",
                ])
                #expect(denied.status == 0, "\(denied.stderr)")
                let rules = try KeycardBinary.run(["rules", path, "--pod", "shop/web"])
                #expect(rules.status == 0, "\(rules.stderr)")
                #expect(rules.stdout.contains("# pod shop/web") || rules.stdout.contains("shop/web"), "\(rules.stdout)")
                #expect(rules.stdout.contains("table inet"), "\(rules.stdout)")
            }
            // -n gives objects that name no namespace their namespace, as for model.
            let bare =
                "apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {app: a}}\nspec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}\n"
            try withFolder(["a.yaml": bare]) { other in
                let result = try KeycardBinary.run([
                    "explain", other, "-n", "team", "--from", "team/a", "--to", "team/a", "--port", "TCP/80",
                ])
                #expect(result.status == 0, "\(result.stderr)")
            }
        }
    }

    /// `--lab` names a manifests lab (folders are often all called `manifests`); a name the lab
    /// rule refuses is refused on the command line.
    @Test func labNamesTheManifestsLab() throws {
        try withFolder(["shop.yaml": Self.shop]) { folder in
            let named = try KeycardBinary.run(["model", folder, "--lab", "my-shop", "-o", "json"])
            #expect(named.status == 0, "\(named.stderr)")
            #expect(named.stdout.contains("\"scenario\" : \"my-shop\""), "\(named.stdout)")
            // check counts the user's pods, not the cluster DNS pod manifests mode adds.
            let checked = try KeycardBinary.run(["check", folder])
            #expect(checked.stdout.contains(": ok (1 step, 2 pods)"), "\(checked.stdout)")
            let refused = try KeycardBinary.run(["model", folder, "--lab=-all"])
            #expect(refused.status == 2 && refused.stderr.contains("must start with a lower-case letter or digit"), "\(refused.stderr)")
        }
        // A scenario names its own lab, namespaces and mesh: the manifests-mode options are refused
        // with it rather than ignored (up FILE --lab X had brought up another lab than X).
        let scenario = RepositoryFiles.absolute("scenarios/lateral-scan.yaml")
        for options in [["--lab", "other"], ["-n", "shop"], ["--mesh", "sidecar"]] {
            let ignored = try KeycardBinary.run(["model", scenario] + options)
            #expect(ignored.status == 2 && ignored.stderr.contains("for plain manifests only"), "\(options): \(ignored.stderr)")
        }
    }

    /// `model -o json` of several files is one JSON document, an array in the files' order, as
    /// `run -o json` writes it (it wrote one document per file, which no JSON reader takes).
    @Test func modelJSONOfSeveralFilesIsOneArray() throws {
        let files = ["scenarios/lateral-scan.yaml", "scenarios/icmp.yaml"].map(RepositoryFiles.absolute)
        let result = try KeycardBinary.run(["model", "-o", "json"] + files)
        #expect(result.status == 0 || result.status == 1, "\(result.stderr)")
        let parsed = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
        #expect(parsed?.compactMap { $0["scenario"] as? String } == ["lateral-scan", "icmp"], "\(result.stdout.prefix(300))")
        let single = try KeycardBinary.run(["model", "-o", "json", files[0]])
        #expect(try JSONSerialization.jsonObject(with: Data(single.stdout.utf8)) is [String: Any])
    }

    /// The review's F13c: a first document that is a scalar is refused as no Kubernetes object,
    /// not as "a scenario file holds one YAML document".
    @Test func aScalarFirstDocumentSaysWhatIsWrong() throws {
        try withFolder(["odd.yaml": "hello\n---\n" + Self.shop]) { folder in
            let file = (folder as NSString).appendingPathComponent("odd.yaml")
            for verb in ["check", "model", "explain"] {
                var arguments = [verb, file]
                if verb == "explain" { arguments += ["--from", "shop/client", "--to", "shop/web", "--port", "TCP/80"] }
                let result = try KeycardBinary.run(arguments)
                #expect(result.status == 2, "\(verb): \(result.stderr)")
                #expect(
                    result.stderr.contains(
                        "\(file):1:1: a manifest document must be a Kubernetes object, a mapping with apiVersion and kind, found a scalar (kubectl: cannot unmarshal string into Go value of type unstructured.detector)"
                    ), "\(verb): \(result.stderr)")
                #expect(!result.stderr.contains("a scenario file holds one YAML document"), "\(verb): \(result.stderr)")
            }
        }
    }
}
