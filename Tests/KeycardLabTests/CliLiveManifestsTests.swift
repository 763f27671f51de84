import Foundation
import KeycardTestSupport
import Testing

/// A lab built from plain manifests (a folder) is as live as one from a scenario: after
/// `keycard run DIR --keep` or `keycard up DIR` the live verbs rebuild its cluster from the
/// manifests (they had said "its scenario no longer loads: ... is a folder"). As root.
@Suite("CLI: live labs from plain manifests", .serialized)
struct CliLiveManifestsTests {
    /// A folder named `lab` (manifests name their lab after the folder) with a client, a server
    /// behind a Service, and no policy.
    private static func folder(_ lab: String) throws -> String {
        let folder = NSTemporaryDirectory() + "keycard-manifests-\(UUID().uuidString)/\(lab)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try """
        apiVersion: v1
        kind: Pod
        metadata: {name: server, namespace: shop, labels: {pod: server}}
        spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client, namespace: shop}
        spec: {containers: [{name: c, image: curl}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec: {selector: {pod: server}, ports: [{port: 8080, targetPort: 80}]}
        """.write(toFile: folder + "/app.yaml", atomically: true, encoding: .utf8)
        return folder
    }

    private static func observed(_ json: String) throws -> [String] {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let results = try #require(document["results"] as? [[String: Any]])
        return results.map { "\($0["to"] ?? "") \($0["port"] ?? "") \($0["observed"] ?? "")" }.sorted()
    }

    @Test(arguments: ["run", "up"])
    func liveVerbsWorkOnAManifestsLab(_ verb: String) throws {
        let lab = uniqueLabName("cli-man")
        let folder = try Self.folder(lab)
        defer {
            _ = try? KeycardCLI.run(["down", lab])
            try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent)
        }
        let built = try KeycardCLI.run(verb == "run" ? ["run", folder, "--keep"] : ["up", folder])
        try #require(built.code == 0, "\(built.out)\(built.err)")
        if verb == "up" {
            // status counts the ports the lab process serves, as up does: not cluster DNS's, which
            // dnsmasq serves (review of the docs as a newcomer, finding 5).
            let served = try #require(built.out.firstMatch(of: /serves (\d+) port/)?.1, "\(built.out)")
            #expect("\(try KeycardCLI.status(lab)["servedPorts"] ?? "")" == String(served))
        }

        let open = try KeycardCLI.run(["probe", lab, "--from", "shop/client", "--to", "svc/shop/web,shop/server", "-o", "json"])
        #expect(open.code == 0, "\(open.out)\(open.err)")
        #expect(try Self.observed(open.out) == ["shop/server 80 allow", "shop/server 8080 closed", "svc/shop/web>shop/server 8080 allow"])

        // As kubectl apply -f: standard input after `run`, a folder after `up`.
        let policy = CliScenario.denyIngress("shop", podLabel: "server")
        let policies = (folder as NSString).deletingLastPathComponent + "/policies"
        try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
        try policy.write(toFile: policies + "/deny.yaml", atomically: true, encoding: .utf8)
        let apply =
            verb == "run"
            ? try KeycardCLI.run(["apply", lab, "-f", "-"], stdin: policy) : try KeycardCLI.run(["apply", lab, "-f", policies])
        try #require(apply.code == 0, "\(apply.err)")
        if verb == "run" {
            let refused = try KeycardCLI.run(["apply", lab, "-f", "-"], stdin: "kind: NetworkPolicy\n")
            #expect(
                refused.code == 2 && refused.err.contains("STDIN:1"), "standard input is named STDIN, as kubectl names it: \(refused.err)")
        }
        let denied = try KeycardCLI.run(["probe", lab, "--from", "shop/client", "--to", "svc/shop/web,shop/server", "-o", "json"])
        #expect(denied.code == 0, "\(denied.out)\(denied.err)")
        #expect(try Self.observed(denied.out) == ["shop/server 80 deny", "shop/server 8080 deny", "svc/shop/web>shop/server 8080 deny"])

        // As kubectl delete -f: a manifest naming the object is enough, without its spec.
        let named = (folder as NSString).deletingLastPathComponent + "/deny-named.yaml"
        try "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-in, namespace: shop}\n".write(
            toFile: named, atomically: true, encoding: .utf8)
        let delete = try KeycardCLI.run(["delete", lab, "--filename", named])
        try #require(delete.code == 0, "\(delete.err)")
        let reopened = try KeycardCLI.run(["probe", lab, "--from", "shop/client", "--to", "shop/server", "-o", "json"])
        #expect(try Self.observed(reopened.out).contains("shop/server 80 allow"), "\(reopened.out)")
    }

    /// `apply -n NS` and `delete -n NS`, as kubectl's: objects that name no namespace go to NS
    /// (they had gone to `default`, away from every pod of the lab); one naming another namespace,
    /// or a namespace the lab lacks, is refused and nothing changes. As root, a real lab.
    @Test func applyAndDeleteTakeANamespace() throws {
        try Self.withLab("cli-ns") { lab, root in try Self.checkNamespaceFlag(lab, root) }
    }

    /// A lab of `folder(_:)` (plus the paths `before` makes in the scratch root) brought up with
    /// `keycard up`, handed to `test` with its name and the scratch root, then taken down.
    private static func withLab(
        _ prefix: String, before: (String) throws -> [String] = { _ in [] }, test: (String, String) throws -> Void
    ) throws {
        let lab = uniqueLabName(prefix)
        let folder = try Self.folder(lab)
        let root = (folder as NSString).deletingLastPathComponent
        defer {
            _ = try? KeycardCLI.run(["down", lab])
            try? FileManager.default.removeItem(atPath: root)
        }
        let built = try KeycardCLI.run(["up", folder] + (try before(root)))
        try #require(built.code == 0, "\(built.out)\(built.err)")
        try test(lab, root)
    }

    private static func checkNamespaceFlag(_ lab: String, _ root: String) throws {
        let bare = root + "/deny.yaml"
        try "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n".write(
            toFile: bare, atomically: true, encoding: .utf8)
        let applied = try KeycardCLI.run(["apply", lab, "-n", "shop", "-f", bare])
        try #require(applied.code == 0, "\(applied.err)")
        #expect(applied.out.contains("NetworkPolicy shop/deny created"), "\(applied.out)")
        let denied = try KeycardCLI.run(["probe", lab, "--from", "shop/client", "--to", "shop/server", "-o", "json"])
        #expect(try Self.observed(denied.out) == ["shop/server 80 deny"], "\(denied.out)")

        let other = root + "/other.yaml"
        try "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: default}\nspec: {podSelector: {}}\n"
            .write(toFile: other, atomically: true, encoding: .utf8)
        let mismatch = try KeycardCLI.run(["apply", lab, "-n", "shop", "-f", other])
        #expect(mismatch.code == 2 && mismatch.err.contains("does not match the namespace \"shop\""), "\(mismatch.err)")
        let missing = try KeycardCLI.run(["apply", lab, "--namespace", "nowhere", "-f", bare])
        #expect(missing.code == 2 && missing.err.contains("namespace \"nowhere\" does not exist"), "\(missing.err)")

        let deleted = try KeycardCLI.run(["delete", lab, "-n", "shop", "-f", bare])
        try #require(deleted.code == 0, "\(deleted.err)")
        let open = try KeycardCLI.run(["probe", lab, "--from", "shop/client", "--to", "shop/server", "-o", "json"])
        #expect(try Self.observed(open.out) == ["shop/server 80 allow"], "\(open.out)")
    }

    /// `keycard up DIR DIR`, as `run` takes them: the manifests of several paths are one lab
    /// (sock-shop's upstream layout is two folders, the app and its policies); the live verbs
    /// rebuild it from all of them.
    /// A lab from manifests runs no container command (images are not run); re-applying its own
    /// files, commands and all, changes nothing (it had been refused: the pod template's hash, or
    /// the bare pod's command, differed from what the lab holds).
    @Test func reapplyingManifestsWithCommandsIsUnchanged() throws {
        let commands = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: api, namespace: shop}
            spec:
              selector: {matchLabels: {app: api}}
              template:
                metadata: {labels: {app: api}}
                spec: {containers: [{name: c, image: api, command: [/app/api, --port, "8080"], ports: [{containerPort: 8080}]}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: worker, namespace: shop}
            spec: {containers: [{name: c, image: worker, command: [/app/worker], args: [--queue, jobs]}]}
            """
        var file = ""
        try Self.withLab("cli-cmds") { root in
            let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: root).first)
            file = "\(root)/\(folder)/commands.yaml"
            try commands.write(toFile: file, atomically: true, encoding: .utf8)
            return []
        } test: { lab, _ in
            let again = try KeycardCLI.run(["apply", lab, "-f", file])
            #expect(again.code == 0, "\(again.err)")
            #expect(again.out.contains("Deployment shop/api unchanged") && again.out.contains("Pod shop/worker unchanged"), "\(again.out)")
        }
    }

    @Test func upTakesSeveralManifestPaths() throws {
        try Self.withLab("cli-two") { root in
            let policies = root + "/policies"
            try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
            try CliScenario.denyIngress("shop", podLabel: "server").write(
                toFile: policies + "/deny.yaml", atomically: true, encoding: .utf8)
            return [policies]
        } test: { lab, _ in
            try Self.checkUpTakesSeveralPaths(lab)
        }
    }

    private static func checkUpTakesSeveralPaths(_ lab: String) throws {
        let denied = try KeycardCLI.run(["probe", lab, "--from", "shop/client", "--to", "shop/server", "-o", "json"])
        #expect(try Self.observed(denied.out) == ["shop/server 80 deny"], "\(denied.out)")
        let relabel = try KeycardCLI.run(["label", lab, "pod", "shop/server", "pod=other"])
        #expect(relabel.code == 0, "the live verbs reload both paths: \(relabel.err)")
        let open = try KeycardCLI.run(["probe", lab, "--from", "shop/client", "--to", "shop/server", "-o", "json"])
        #expect(try Self.observed(open.out) == ["shop/server 80 allow"], "\(open.out)")
    }

    /// `apply -f DIR` is one change: a refused file, even the last in name order, leaves the lab
    /// as it was (no policy of the folder applied, no journal entry); once fixed, the whole folder
    /// applies, one journal entry a file.
    @Test func aRefusedFileInAFolderAppliesNothing() throws {
        let lab = uniqueLabName("cli-dir")
        let folder = try Self.folder(lab)
        let policies = (folder as NSString).deletingLastPathComponent + "/policies"
        defer {
            _ = try? KeycardCLI.run(["down", lab])
            try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent)
        }
        let built = try KeycardCLI.run(["up", folder])
        try #require(built.code == 0, "\(built.out)\(built.err)")
        try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
        try CliScenario.denyIngress("shop", podLabel: "server").write(toFile: policies + "/a-deny.yaml", atomically: true, encoding: .utf8)
        let bad =
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Sideways]}\n"
        try bad.write(toFile: policies + "/b-bad.yaml", atomically: true, encoding: .utf8)

        let refused = try KeycardCLI.run(["apply", lab, "-f", policies])
        #expect(refused.code == 2)
        #expect(refused.err.contains("b-bad.yaml:4"), "\(refused.err)")
        let open = try KeycardCLI.run(["probe", lab, "--from", "shop/client", "--to", "shop/server", "-o", "json"])
        #expect(try Self.observed(open.out) == ["shop/server 80 allow"], "a-deny.yaml must not be applied alone: \(open.out)")
        let before = try KeycardCLI.run(["status", lab, "-o", "json"])
        #expect(!before.out.contains("\"liveChanges\" : 1") && !before.out.contains("\"liveChanges\" : 2"), "\(before.out)")

        try bad.replacingOccurrences(of: "[Sideways]", with: "[Egress]").write(
            toFile: policies + "/b-bad.yaml", atomically: true, encoding: .utf8)
        let applied = try KeycardCLI.run(["apply", lab, "-f", policies])
        try #require(applied.code == 0, "\(applied.err)")
        let denied = try KeycardCLI.run(["probe", lab, "--from", "shop/client", "--to", "shop/server", "-o", "json"])
        #expect(try Self.observed(denied.out) == ["shop/server 80 deny"], "\(denied.out)")
        let after = try KeycardCLI.run(["status", lab, "-o", "json"])
        #expect(after.out.contains("\"liveChanges\" : 2"), "one journal entry a file: \(after.out)")
    }

    /// `-f` repeats and splits at commas, as kubectl's (a pflag string slice): every file named
    /// is applied, not only the last one (it had been, silently), and all of them are one change:
    /// a refused file among them leaves the lab as it was, as `apply -f DIR` does. `delete` takes
    /// the same list. As root, a real lab.
    @Test func repeatedAndCommaSeparatedFilesAreOneChange() throws {
        let lab = uniqueLabName("hd-multi")
        let folder = try Self.folder(lab)
        let root = (folder as NSString).deletingLastPathComponent
        defer {
            _ = try? KeycardCLI.run(["down", lab])
            try? FileManager.default.removeItem(atPath: root)
        }
        let built = try KeycardCLI.run(["up", folder])
        try #require(built.code == 0, "\(built.out)\(built.err)")
        // deny.yaml isolates the server; allow.yaml lets the client (no `pod` label) in again.
        // Applied together the client's cell is open; the last file alone decides otherwise.
        let deny = root + "/deny.yaml"
        let allow = root + "/allow.yaml"
        let bad = root + "/bad.yaml"
        try CliScenario.denyIngress("shop", podLabel: "server").write(toFile: deny, atomically: true, encoding: .utf8)
        try """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: allow-client, namespace: shop}
        spec:
          podSelector: {matchLabels: {pod: server}}
          ingress: [{from: [{podSelector: {matchExpressions: [{key: pod, operator: DoesNotExist}]}}]}]

        """.write(toFile: allow, atomically: true, encoding: .utf8)
        try
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b, namespace: shop}\nspec: {podSelector: {}, policyTypes: [Sideways]}\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        func cells() throws -> [String] {
            let probe = try KeycardCLI.run(["probe", lab, "--from", "shop/client", "--to", "shop/server", "-o", "json"])
            return try Self.observed(probe.out)
        }
        try #require(try cells() == ["shop/server 80 allow"])

        // A refused file given last, by a second -f: nothing applies, the lab is as it was.
        let refused = try KeycardCLI.run(["apply", lab, "-f", deny, "-f", bad])
        #expect(refused.code == 2 && refused.err.contains("bad.yaml:4"), "\(refused.err)")
        #expect(try cells() == ["shop/server 80 allow"], "deny.yaml must not be applied alone")

        // A missing path among them: refused, nothing applied.
        let missing = try KeycardCLI.run(["apply", lab, "-f", deny, "-f", root + "/missing.yaml"])
        #expect(missing.code == 2 && missing.err.contains("missing.yaml"), "\(missing.err)")
        #expect(try cells() == ["shop/server 80 allow"])

        // allow, then deny by a second -f: both apply (only deny would close the cell).
        let applied = try KeycardCLI.run(["apply", lab, "-f", allow, "-f", deny])
        try #require(applied.code == 0, "\(applied.err)")
        #expect(try cells() == ["shop/server 80 allow"], "allow-client admits the client: \(applied.out)")
        let status = try KeycardCLI.run(["status", lab, "-o", "json"])
        #expect(status.out.contains("\"liveChanges\" : 2"), "one journal entry a file: \(status.out)")

        // delete, deny from standard input then allow: both go (only allow would leave deny-in).
        let twice = try KeycardCLI.run(["delete", lab, "-f", "-", "-f", "-"], stdin: "")
        #expect(twice.code == 2 && twice.err.contains("standard input cannot be used for multiple arguments"), "\(twice.err)")
        let deleted = try KeycardCLI.run(
            ["delete", lab, "-f", "-", "-f", allow], stdin: CliScenario.denyIngress("shop", podLabel: "server"))
        try #require(deleted.code == 0, "\(deleted.err)")
        #expect(try cells() == ["shop/server 80 allow"], "\(deleted.out)")

        // Comma-separated: deny,allow again applies both.
        let comma = try KeycardCLI.run(["apply", lab, "-f", deny + "," + allow])
        try #require(comma.code == 0, "\(comma.err)")
        #expect(try cells() == ["shop/server 80 allow"], "\(comma.out)")
        let onlyDeny = try KeycardCLI.run(["delete", lab, "-f", allow])
        try #require(onlyDeny.code == 0, "\(onlyDeny.err)")
        #expect(try cells() == ["shop/server 80 deny"], "deny-in came with the comma list")
    }

    /// The live verbs rebuild the lab's cluster from its manifests: after one is edited or a file
    /// is added, they refuse (the lab holds what the earlier content made) until it is undone.
    @Test func anEditedOrAddedManifestIsRefusedUntilUndone() throws {
        let lab = uniqueLabName("cli-edit")
        let folder = try Self.folder(lab)
        defer {
            _ = try? KeycardCLI.run(["down", lab])
            try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent)
        }
        let built = try KeycardCLI.run(["up", folder])
        try #require(built.code == 0, "\(built.out)\(built.err)")
        let probe = ["probe", lab, "--from", "shop/client", "--to", "shop/server", "-o", "json"]
        let original = try String(contentsOfFile: folder + "/app.yaml", encoding: .utf8)

        try original.replacingOccurrences(of: "{pod: server}}", with: "{pod: other}}").write(
            toFile: folder + "/app.yaml", atomically: true, encoding: .utf8)
        let edited = try KeycardCLI.run(probe)
        #expect(edited.code == 2 && edited.err.contains("app.yaml (edited)"), "\(edited.err)")

        try original.write(toFile: folder + "/app.yaml", atomically: true, encoding: .utf8)
        try CliScenario.denyIngress("shop", podLabel: "server").write(toFile: folder + "/deny.yaml", atomically: true, encoding: .utf8)
        let added = try KeycardCLI.run(probe)
        #expect(added.code == 2 && added.err.contains("deny.yaml (added)"), "\(added.err)")

        try FileManager.default.removeItem(atPath: folder + "/deny.yaml")
        let undone = try KeycardCLI.run(probe)
        #expect(undone.code == 0, "\(undone.err)")
        #expect(try Self.observed(undone.out) == ["shop/server 80 allow"])
    }
}
